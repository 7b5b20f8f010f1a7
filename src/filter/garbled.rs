//! `garbled`: text that only looks like text. PDFs whose fonts lack a Unicode map extract as
//! a soup of rare ideographs (CJK Extension A), Cherokee, Mongolian, Syriac and control
//! characters; bytes decoded with the wrong legacy code page give runs of Latin-1 characters
//! (`ÆªÃû£º`). Measured on the test corpus: a font without ToUnicode gives 60% such
//! characters, every real document under 2.1% (the highest, a TeX handout's math symbols).
use super::{Bound, Measure, Rule, Stats};
use crate::document::Document;

pub struct MaxGarbageRatio(pub f64);

impl Rule for MaxGarbageRatio {
    fn reason(&self) -> &'static str {
        "garbled"
    }
    fn what(&self) -> &'static str {
        "garbage ratio"
    }
    fn measure(&self, doc: &Document, stats: &Stats) -> Measure {
        // Characters the cleaner already removed as garbage count against the document too.
        let removed = doc
            .meta
            .get("garbage_chars")
            .and_then(|v| v.as_u64())
            .unwrap_or(0) as usize;
        let total = (stats.chars + removed).max(1);
        Measure {
            value: (stats.unexpected + removed) as f64 / total as f64,
            limit: self.0,
            bound: Bound::Max,
        }
    }
}

/// Outside the scripts and symbol blocks Chinese medical text (and the Western text it quotes)
/// uses. CJK Extension A counts: real text uses a handful of its characters (䓖), garbage many.
pub fn is_unexpected(c: char) -> bool {
    let code = c as u32;
    if code < 0x80 || (0x4E00..=0x9FFF).contains(&code) {
        return false;
    }
    !matches!(code,
        0xA0..=0x24F            // Latin-1 and Latin Extended (names, accents)
        | 0x370..=0x3FF         // Greek (α, β, μ)
        | 0x400..=0x4FF         // Cyrillic (Russian names in references)
        | 0x2000..=0x2BFF       // punctuation, super/subscripts, letterlike, arrows, math, shapes
        | 0x2E80..=0x2FDF       // CJK and Kangxi radicals (left when NFKC is off)
        | 0x3000..=0x303F       // CJK punctuation
        | 0x3040..=0x30FF       // kana (Japanese names and terms)
        | 0x3200..=0x33FF       // enclosed CJK, ㎎ ㎝
        | 0xF900..=0xFAFF       // CJK compatibility ideographs
        | 0xFE30..=0xFE4F       // vertical-form punctuation
        | 0xFF00..=0xFFEF       // full-width forms
        | 0x1D400..=0x1D7FF     // mathematical letters
        | 0x1F300..=0x1FAFF     // emoji (web text)
        | 0x20000..=0x2FA1F     // CJK extensions B–F (rare characters in classics)
    )
}

/// U+0080–U+00FF: one in a word is French, German or a unit (°, ±, µ); several in a row are
/// legacy bytes decoded as Latin-1 (GBK read as windows-1252 gives `ÆªÃû£º`).
pub fn is_latin1_high(c: char) -> bool {
    matches!(c as u32, 0x80..=0xFF)
}
