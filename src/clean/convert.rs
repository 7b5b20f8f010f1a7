//! Traditional → simplified Chinese with OpenCC's data (phrases first, longest match, then
//! characters), the dictionaries OpenCC itself uses for its t2s conversion.
use super::{Meta, Step};
use anyhow::{Context, Result};
use std::collections::{HashMap, HashSet};
use std::path::Path;

pub struct TraditionalToSimplified {
    phrases: HashMap<String, String>,
    characters: HashMap<char, char>,
    /// First characters of all phrases: most characters start none, and skip the phrase search.
    phrase_starts: HashSet<char>,
    longest_phrase: usize,
}

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
        let longest_phrase = phrases.keys().map(|k| k.chars().count()).max().unwrap_or(0);
        let phrase_starts = phrases.keys().filter_map(|k| k.chars().next()).collect();
        Ok(TraditionalToSimplified {
            phrases,
            characters,
            phrase_starts,
            longest_phrase,
        })
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
        let chars: Vec<char> = text.chars().collect();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        let mut key = String::new();
        'outer: while i < chars.len() {
            if self.phrase_starts.contains(&chars[i]) {
                for len in (2..=self.longest_phrase.min(chars.len() - i)).rev() {
                    key.clear();
                    key.extend(&chars[i..i + len]);
                    if let Some(simplified) = self.phrases.get(&key) {
                        out.push_str(simplified);
                        i += len;
                        continue 'outer;
                    }
                }
            }
            out.push(*self.characters.get(&chars[i]).unwrap_or(&chars[i]));
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
    }
}
