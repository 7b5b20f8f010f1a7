//! Character-level normalisation: NFKC for compatibility forms, except the full-width Chinese
//! punctuation that NFKC would turn into ASCII; control, zero-width and bidi characters removed.
use super::char_table::starts_common_ideograph;
use super::{Meta, Step};
use crate::document::PAGE_BREAK;
use unicode_normalization::char::{canonical_combining_class, is_combining_mark};
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

pub struct Characters {
    pub nfkc: bool,
}

impl Step for Characters {
    fn apply(&self, text: String, _: &mut Meta) -> String {
        let mut at = verbatim_prefix(&text);
        if at == text.len() {
            return text;
        }
        let mut out = String::with_capacity(text.len());
        out.push_str(&text[..at]);
        let mut run = String::new();
        while let Some(c) = text[at..].chars().next() {
            if run.is_empty() {
                // Stretches this step leaves alone are copied whole, not char by char.
                let verbatim = verbatim_prefix(&text[at..]);
                if verbatim > 0 {
                    out.push_str(&text[at..at + verbatim]);
                    at += verbatim;
                    continue;
                }
            }
            at += c.len_utf8();
            match classify(c) {
                // ASCII and CJK ideographs are NFKC-stable and never compose with what precedes
                // them: written directly, so only the rare rest pays for the NFKC check.
                Class::Stable => {
                    self.flush(&mut run, &mut out);
                    out.push(c)
                }
                Class::Plain => {
                    if run.is_empty() && is_combining_mark(c) {
                        // Composes with the character before it (e + ◌́ → é).
                        if let Some(base) = out.pop() {
                            run.push(base);
                        }
                    }
                    run.push(c)
                }
                Class::Keep => {
                    self.flush(&mut run, &mut out);
                    out.push(c)
                }
                Class::Drop => {}
                Class::Replace(r) => {
                    self.flush(&mut run, &mut out);
                    out.push(r)
                }
            }
        }
        self.flush(&mut run, &mut out);
        out
    }
}

/// Length in bytes of the longest start of `text` that `apply` writes out unchanged: stable and
/// kept characters, and between them ordinary characters that are NFKC-stable on their own and
/// never compose (a run of ordinary characters is normalised as a whole, so those at the end,
/// which a later character could join, are left to the character-by-character path).
fn verbatim_prefix(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut end = 0;
    let mut at = 0;
    while let Some(&lead) = bytes.get(at) {
        // Printable ASCII, line breaks and common ideographs (told from their first bytes) are
        // stable or kept.
        let length = match VERBATIM_LENGTH[lead as usize] {
            0 if starts_common_ideograph(&bytes[at..]) => 3,
            length => usize::from(length),
        };
        if length > 0 {
            at += length;
            end = at;
            continue;
        }
        let Some(c) = text[at..].chars().next() else {
            break;
        };
        at += c.len_utf8();
        match classify(c) {
            Class::Stable | Class::Keep => end = at,
            Class::Replace(r) if r == c => end = at,
            Class::Plain if is_inert(c) => {}
            _ => return end,
        }
    }
    text.len()
}

/// Per first byte: the length of the character it begins when that character is always written
/// out unchanged (printable ASCII, '\n', U+5000–U+9FFF), else 0.
static VERBATIM_LENGTH: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b {
            0x20..=0x7E | 0x0A => 1,
            0xE5..=0xE9 => 3,
            _ => 0,
        };
        b += 1;
    }
    table
};

/// NFKC leaves it alone, and it neither composes with the character before it nor reorders.
fn is_inert(c: char) -> bool {
    canonical_combining_class(c) == 0
        && !is_combining_mark(c)
        && is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes
}

impl Characters {
    /// NFKC a run of ordinary characters; most runs are already normal and are copied as they are.
    fn flush(&self, run: &mut String, out: &mut String) {
        if run.is_empty() {
            return;
        }
        if !self.nfkc || is_nfkc_quick(run.chars()) == IsNormalized::Yes {
            out.push_str(run);
        } else {
            out.extend(run.nfkc());
        }
        run.clear();
    }
}

enum Class {
    /// NFKC leaves it alone whatever surrounds it.
    Stable,
    Plain,
    /// Kept as it is, never NFKC'd.
    Keep,
    Drop,
    Replace(char),
}

#[inline]
fn classify(c: char) -> Class {
    match c as u32 {
        0x20..=0x7E | 0x4E00..=0x9FFF | 0x3001..=0x3002 => Class::Stable,
        0x0A => Class::Keep,
        0x09 => Class::Replace(' '),
        0x0C => Class::Replace(PAGE_BREAK),
        0x2028 | 0x2029 | 0x0B | 0x85 => Class::Replace('\n'),
        0x00..=0x1F | 0x7F..=0x9F => Class::Drop,
        // Soft hyphen, zero-width space/joiners, bidi marks and embeddings, word joiner, BOM.
        0xAD | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0xFEFF => Class::Drop,
        // Full-width punctuation ，：；！？（）［］｛｝ etc. and ellipses stay as Chinese text writes them.
        0xFF01..=0xFF0F | 0xFF1A..=0xFF20 | 0xFF3B..=0xFF40 | 0xFF5B..=0xFF60 | 0x2025..=0x2026 => {
            Class::Keep
        }
        // Circled and parenthesised numbers are list markers: ① must not become 1.
        0x2460..=0x24FF | 0x3251..=0x325F | 0x32B1..=0x32BF => Class::Keep,
        // Spacing accents (¨ ´ ¯ ¸ ˘ ˙ ˚ ˛ ˜ ˝ ‾): NFKC makes them a space plus a combining
        // mark, which splits words; OCR text uses them for stray marks.
        0xA8 | 0xAF | 0xB4 | 0xB8 | 0x2D8..=0x2DD | 0x384 | 0x385 | 0x203E | 0xFFE3 => Class::Keep,
        _ => Class::Plain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(s: &str) -> String {
        Characters { nfkc: true }.apply(s.to_string(), &mut Meta::new())
    }

    #[test]
    fn compatibility_forms_fold_but_chinese_punctuation_stays() {
        assert_eq!(
            clean("⼼脏（ＡＢＣ１２３）：10㎝，“好”！"),
            "心脏（ABC123）：10cm，“好”！"
        );
        assert_eq!(clean("a\u{200b}b\u{feff}c\u{7}d\te"), "abcd e");
        assert_eq!(clean("①……"), "①……");
        assert_eq!(clean("作用¨引"), "作用¨引");
        assert_eq!(clean("cafe\u{301} ⽉"), "café 月");
    }
}
