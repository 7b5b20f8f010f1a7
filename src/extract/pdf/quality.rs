//! Is extracted PDF text real text? Fonts without a Unicode map make every engine print glyph
//! ids as if they were code points: a spread over CJK Ext-A, rare Han, other scripts, combining
//! marks, control and private-use characters, or Latin-1 soup. No engine reports this, so the
//! text itself is scored: the share of characters that real Chinese or English text almost never
//! has. Real pages score near 0 (at most 0.05 on the PDFs measured), garbled ones near 0.5.
use std::sync::OnceLock;
use unicode_normalization::UnicodeNormalization;

/// Pages with fewer non-blank characters than this are counted as having no text.
pub const MIN_PAGE_CHARS: usize = 10;

/// Pages with fewer characters than this are too short to be judged garbled on their own.
const MIN_JUDGED_CHARS: usize = 20;

#[derive(Debug, Clone, Copy, Default)]
pub struct Score {
    /// Non-whitespace characters.
    pub chars: usize,
    /// Characters real text almost never contains.
    pub suspicious: usize,
}

impl Score {
    pub fn share(&self) -> f64 {
        self.suspicious as f64 / self.chars.max(1) as f64
    }

    fn add(&mut self, other: Score) {
        self.chars += other.chars;
        self.suspicious += other.suspicious;
    }
}

/// A document's pages judged together.
#[derive(Debug, Clone)]
pub struct Assessment {
    pub pages: usize,
    pub pages_without_text: usize,
    /// Indices of pages judged garbled.
    pub garbled_pages: Vec<usize>,
    pub total: Score,
    /// Characters on garbled pages.
    garbled_chars: usize,
}

impl Assessment {
    pub fn has_text(&self) -> bool {
        self.pages_without_text < self.pages
    }

    /// Garbled when garbled pages hold most of the text (or, for documents too short to judge
    /// page by page, when the whole text scores over the limit).
    pub fn is_garbled(&self, max_share: f64) -> bool {
        if self.total.chars < MIN_JUDGED_CHARS {
            return false;
        }
        if self.garbled_pages.is_empty() {
            return self.total.share() > max_share;
        }
        self.garbled_chars * 2 > self.total.chars
    }
}

pub fn assess(pages: &[String], max_share: f64) -> Assessment {
    let mut assessment = Assessment {
        pages: pages.len(),
        pages_without_text: 0,
        garbled_pages: Vec::new(),
        total: Score::default(),
        garbled_chars: 0,
    };
    for (index, page) in pages.iter().enumerate() {
        let score = score(page);
        if score.chars < MIN_PAGE_CHARS {
            assessment.pages_without_text += 1;
        }
        if score.chars >= MIN_JUDGED_CHARS && score.share() > max_share {
            assessment.garbled_pages.push(index);
            assessment.garbled_chars += score.chars;
        }
        assessment.total.add(score);
    }
    assessment
}

pub fn score(text: &str) -> Score {
    let mut score = Score::default();
    let mut latin_letters = 0usize;
    let mut accented_letters = 0usize;
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        score.chars += 1;
        // Kangxi radicals stand for ordinary Han characters in many CJK fonts; NFKC maps them.
        let c = if ('\u{2F00}'..='\u{2FDF}').contains(&c) {
            std::iter::once(c).nfkc().next().unwrap_or(c)
        } else {
            c
        };
        if c.is_ascii_alphabetic() {
            latin_letters += 1;
        } else if ('\u{C0}'..='\u{24F}').contains(&c) && c.is_alphabetic() {
            latin_letters += 1;
            accented_letters += 1;
        }
        if !expected_block(c) || (is_han(c) && !common_han(c)) {
            score.suspicious += 1;
        }
    }
    // Accented letters are a minority in every Latin-script language; beyond a quarter of the
    // letters they are code-page soup.
    score.suspicious += accented_letters.saturating_sub(latin_letters / 4);
    score
}

/// Blocks that real Chinese, English and medical text is written in: ASCII, Latin-1 and
/// Latin Extended, Greek, Cyrillic, punctuation, symbols and math, CJK symbols and radicals,
/// kana, Hangul, unified Han (the URO), compatibility and full-width forms.
fn expected_block(c: char) -> bool {
    matches!(c as u32,
        0x20..=0x7E
        | 0xA0..=0x24F
        | 0x370..=0x4FF
        | 0x2000..=0x2BFF
        | 0x2E80..=0x2FDF
        | 0x3000..=0x33FF
        | 0x4E00..=0x9FFF
        | 0xAC00..=0xD7AF
        | 0xF900..=0xFAFF
        | 0xFE10..=0xFE6F
        | 0xFF00..=0xFFEF)
}

fn is_han(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

/// Han characters in GB2312 or Big5: the simplified and traditional characters of ordinary
/// text, medicine included. Glyph ids read as code points land outside them about one time in five.
fn common_han(c: char) -> bool {
    static COMMON: OnceLock<Vec<bool>> = OnceLock::new();
    let table = COMMON.get_or_init(|| {
        (0x4E00..=0x9FFFu32)
            .map(|u| char::from_u32(u).is_some_and(in_gb2312_or_big5))
            .collect()
    });
    table
        .get((c as u32).wrapping_sub(0x4E00) as usize)
        .copied()
        .unwrap_or(false)
}

fn in_gb2312_or_big5(c: char) -> bool {
    let mut utf8 = [0u8; 4];
    let s = c.encode_utf8(&mut utf8);
    // GBK is a superset of GB2312, whose Han rows are B0–F7 with trail bytes A1–FE.
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(s);
    if !unmappable && gbk.len() == 2 && (0xB0..=0xF7).contains(&gbk[0]) && gbk[1] >= 0xA1 {
        return true;
    }
    let (_, _, unmappable) = encoding_rs::BIG5.encode(s);
    !unmappable
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_text_scores_low() {
        let zh = "阿片类药物不良反应中医诊疗专家共识，便秘是最常见的不良反应。";
        assert_eq!(score(zh).suspicious, 0);
        let tw = "醫學院學生在臨床實習時應該注意病人的隱私";
        assert_eq!(score(tw).suspicious, 0);
        let en = "Chronic postsurgical pain (CPSP) affects 10% of patients; café naïve.";
        assert_eq!(score(en).suspicious, 0);
        // Kangxi radicals from a TeX font: ⼀ (U+2F00) is 一.
        assert_eq!(score("第⼀章 ⽅程").suspicious, 0);
    }

    #[test]
    fn glyph_ids_score_high() {
        let soup = "䐀䔀䠀\u{1}\u{2}ʦʧ̀́ԱԲ\u{E001}乲乳";
        assert!(score(soup).share() > 0.5);
        let latin1 = "ÄÅÇÉÑÖÜáàâäãåçéèêë ÌÍÎÏ";
        assert!(score(latin1).share() > 0.5);
    }

    #[test]
    fn garbled_pages_must_hold_most_of_the_text() {
        let good = "正常的中文文本，足够长，可以判断是否乱码。".repeat(3);
        let bad = "䐀䔀䠀ʦʧԱԲ\u{E001}䐀䔀䠀ʦʧԱԲ\u{E001}䐀䔀䠀ʦʧԱԲ".to_string();
        let mostly_good = assess(&[good.clone(), good.clone(), bad.clone()], 0.1);
        assert_eq!(mostly_good.garbled_pages, vec![2]);
        assert!(!mostly_good.is_garbled(0.1));
        assert!(assess(&[bad.clone(), bad], 0.1).is_garbled(0.1));
        let blank = assess(&[String::new(), " 3 ".into()], 0.1);
        assert!(!blank.has_text());
    }
}
