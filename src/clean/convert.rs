//! Traditional → simplified Chinese with OpenCC's data (phrases first, longest match, then
//! characters), the dictionaries OpenCC itself uses for its t2s conversion. Most of a Chinese
//! medical corpus is simplified already: a text without one character that any rule would
//! change is passed through after a single scan.
use super::{Meta, Step};
use anyhow::{Context, Result};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::HashMap;
use std::path::Path;

pub struct TraditionalToSimplified {
    phrases: FxHashMap<String, String>,
    characters: FxHashMap<char, char>,
    /// For each character that starts a phrase, the phrase lengths (in characters) starting
    /// with it, longest first: most characters start none and skip the phrase search.
    phrase_lengths: FxHashMap<char, Vec<usize>>,
    /// A text holding none of these is left as it is: traditional characters, and one
    /// character of every phrase that changes although none of its characters would.
    triggers: FxHashSet<char>,
    /// TRIGGER and PHRASE_START bits for the Basic Multilingual Plane, looked up per character.
    bmp_flags: Box<[u8]>,
}

const TRIGGER: u8 = 1;
const PHRASE_START: u8 = 2;

impl TraditionalToSimplified {
    pub fn load(dir: &Path) -> Result<Self> {
        let phrases = read_dictionary(&dir.join("TSPhrases.txt"))?;
        let characters = read_dictionary(&dir.join("TSCharacters.txt"))?
            .into_iter()
            .filter_map(|(k, v)| {
                let mut key = k.chars();
                match (key.next(), key.next(), v.chars().next()) {
                    (Some(from), None, Some(to)) => Some((from, to)),
                    _ => None,
                }
            })
            .collect();
        let characters: FxHashMap<char, char> = characters;
        let phrases: FxHashMap<String, String> = phrases.into_iter().collect();
        let mut triggers: FxHashSet<char> = characters
            .iter()
            .filter(|(from, to)| from != to)
            .map(|(&from, _)| from)
            .collect();
        let phrase_triggers: Vec<char> = phrases
            .iter()
            .filter(|(k, v)| k != v && !k.chars().any(|c| triggers.contains(&c)))
            .filter_map(|(k, _)| k.chars().next())
            .collect();
        triggers.extend(phrase_triggers);
        let mut phrase_lengths: FxHashMap<char, Vec<usize>> = FxHashMap::default();
        for key in phrases.keys() {
            if let Some(first) = key.chars().next() {
                let lengths = phrase_lengths.entry(first).or_default();
                let len = key.chars().count();
                if !lengths.contains(&len) {
                    lengths.push(len);
                }
            }
        }
        for lengths in phrase_lengths.values_mut() {
            lengths.sort_unstable_by(|a, b| b.cmp(a));
        }
        let mut bmp_flags = vec![0u8; 0x10000].into_boxed_slice();
        for &c in &triggers {
            if let Some(flag) = bmp_flags.get_mut(c as usize) {
                *flag |= TRIGGER;
            }
        }
        for &c in phrase_lengths.keys() {
            if let Some(flag) = bmp_flags.get_mut(c as usize) {
                *flag |= PHRASE_START;
            }
        }
        Ok(TraditionalToSimplified {
            phrases,
            characters,
            phrase_lengths,
            triggers,
            bmp_flags,
        })
    }

    /// Inlined: called twice per character, the call cost as much as the lookup (measured).
    #[inline]
    fn flags(&self, c: char) -> u8 {
        match self.bmp_flags.get(c as usize) {
            Some(&flags) => flags,
            None => {
                (self.triggers.contains(&c) as u8 * TRIGGER)
                    | (self.phrase_lengths.contains_key(&c) as u8 * PHRASE_START)
            }
        }
    }
}

/// OpenCC dictionary lines: `key<TAB>value [alternatives…]`; the first value is the default.
fn read_dictionary(path: &Path) -> Result<HashMap<String, String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read OpenCC dictionary {}", path.display()))?;
    Ok(text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (key, values) = l.split_once('\t')?;
            Some((key.to_string(), values.split(' ').next()?.to_string()))
        })
        .collect())
}

impl Step for TraditionalToSimplified {
    fn apply(&self, text: String, _: &mut Meta) -> String {
        if text.is_ascii() {
            return text;
        }
        let chars: Vec<char> = text.chars().collect();
        // For each position, the nearest trigger at or after it: a phrase can only change
        // the text if one lies inside it.
        let mut next_trigger = vec![usize::MAX; chars.len() + 1];
        for i in (0..chars.len()).rev() {
            next_trigger[i] = if self.flags(chars[i]) & TRIGGER != 0 {
                i
            } else {
                next_trigger[i + 1]
            };
        }
        if next_trigger[0] == usize::MAX {
            return text;
        }
        let mut out = String::with_capacity(text.len());
        let mut key = String::new();
        let mut i = 0;
        'outer: while i < chars.len() {
            let c = chars[i];
            let flags = self.flags(c);
            if flags & PHRASE_START != 0 {
                if let Some(lengths) = self.phrase_lengths.get(&c) {
                    for &len in lengths {
                        if i + len > chars.len() || next_trigger[i] >= i + len {
                            continue;
                        }
                        key.clear();
                        key.extend(&chars[i..i + len]);
                        if let Some(simplified) = self.phrases.get(&key) {
                            out.push_str(simplified);
                            i += len;
                            continue 'outer;
                        }
                    }
                }
            }
            if flags & TRIGGER != 0 {
                out.push(*self.characters.get(&c).unwrap_or(&c));
            } else {
                out.push(c);
            }
            i += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_with_the_shipped_dictionaries() {
        let t2s = TraditionalToSimplified::load(Path::new("configs/opencc")).unwrap();
        assert_eq!(
            t2s.apply("醫學院學生：人體站立時，肺的體積".into(), &mut Meta::new()),
            "医学院学生：人体站立时，肺的体积"
        );
        let simplified = "糖尿病患者应当定期监测血糖，著名的一干二净";
        assert_eq!(t2s.apply(simplified.into(), &mut Meta::new()), simplified);
    }
}
