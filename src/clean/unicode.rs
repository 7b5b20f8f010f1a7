//! Character-level normalisation: NFKC for compatibility forms, except the full-width Chinese
//! punctuation that NFKC would turn into ASCII; control, zero-width and bidi characters removed.
use super::Step;
use crate::document::PAGE_BREAK;
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

pub struct Characters {
    pub nfkc: bool,
}

impl Step for Characters {
    fn apply(&self, text: String) -> String {
        // Characters are copied straight to `out`; a segment holding any character that NFKC
        // might change is normalised in place when the segment ends (at a kept or replaced
        // character, or the end). Most Chinese text never needs it.
        let mut out = String::with_capacity(text.len());
        let mut segment = Segment {
            start: 0,
            dirty: false,
        };
        for c in text.chars() {
            match classify(c) {
                Class::Plain => {
                    segment.dirty |= !nfkc_stable(c);
                    out.push(c)
                }
                Class::Keep => {
                    self.end_segment(&mut segment, &mut out);
                    out.push(c);
                    segment.start = out.len();
                }
                Class::Drop => {}
                Class::Replace(r) => {
                    self.end_segment(&mut segment, &mut out);
                    out.push(r);
                    segment.start = out.len();
                }
            }
        }
        self.end_segment(&mut segment, &mut out);
        out
    }
}

struct Segment {
    start: usize,
    dirty: bool,
}

impl Characters {
    fn end_segment(&self, segment: &mut Segment, out: &mut String) {
        let tail = &out[segment.start..];
        if self.nfkc && segment.dirty && is_nfkc_quick(tail.chars()) != IsNormalized::Yes {
            let normalised: String = tail.nfkc().collect();
            out.truncate(segment.start);
            out.push_str(&normalised);
        }
        segment.start = out.len();
        segment.dirty = false;
    }
}

/// Characters NFKC leaves alone whatever follows them: ASCII other than letters (a letter may
/// take a combining accent), CJK ideographs and CJK punctuation.
fn nfkc_stable(c: char) -> bool {
    matches!(c as u32, 0x20..=0x40 | 0x5B..=0x60 | 0x7B..=0x7E | 0x4E00..=0x9FFF | 0x3001..=0x3011)
}

enum Class {
    Plain,
    /// Kept as it is, never NFKC'd.
    Keep,
    Drop,
    Replace(char),
}

fn classify(c: char) -> Class {
    match c as u32 {
        0x20..=0x7E | 0x4E00..=0x9FFF | 0x3001..=0x3002 => Class::Plain,
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
        _ => Class::Plain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(s: &str) -> String {
        Characters { nfkc: true }.apply(s.to_string())
    }

    #[test]
    fn compatibility_forms_fold_but_chinese_punctuation_stays() {
        assert_eq!(
            clean("⼼脏（ＡＢＣ１２３）：10㎝，“好”！"),
            "心脏（ABC123）：10cm，“好”！"
        );
        assert_eq!(clean("a\u{200b}b\u{feff}c\u{7}d\te"), "abcd e");
        assert_eq!(clean("①……"), "①……");
    }
}
