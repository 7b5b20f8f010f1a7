//! Cleaning: a sequence of small text → text steps, built once from `[clean]`. Order matters:
//! characters are normalised first, pages lose their running headers (and become lines) before
//! garbage goes, spaces between Chinese go before lines are joined across wraps and pages.
pub mod broken_tokens;
pub mod char_table;
pub mod convert;
pub mod garbage;
pub mod layout;
pub mod pages;
pub mod preview;
pub mod spacing;
pub mod unicode;
pub mod whitespace;
pub mod wordless;

use crate::config::check_range;
use crate::document::Document;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CleanConfig {
    /// NFKC for compatibility characters (Kangxi radicals, full-width letters and digits, ㎝),
    /// keeping Chinese punctuation full-width.
    pub nfkc: bool,
    /// Remove mojibake (锟斤拷, 烫烫烫), U+FFFD, private-use characters and long symbol runs.
    pub remove_garbage: bool,
    /// Symbol runs longer than this are garbage (separator rules, ★★★★, ~~~~).
    pub max_symbol_run: usize,
    /// Glue numbers, units and Latin words that extraction broke one character per line.
    pub join_broken_tokens: bool,
    /// Remove runs of three or more lines without a word (chart tick labels, number grids).
    pub remove_wordless_runs: bool,
    /// Traditional → simplified Chinese with OpenCC's dictionaries.
    pub traditional_to_simplified: bool,
    /// Folder holding OpenCC's TSPhrases.txt and TSCharacters.txt.
    pub opencc_dir: PathBuf,
    /// Remove running headers/footers, page numbers, journal banners and TOC leader lines.
    pub remove_page_furniture: bool,
    /// A line at a page's top or bottom that recurs (digits aside) on at least this share of
    /// the pages is a running header or footer.
    pub furniture_min_page_share: f64,
    /// Remove spaces that extraction put between Chinese characters.
    pub remove_cjk_spaces: bool,
    /// Join lines that a page break or hard wrap split in mid-sentence.
    pub join_lines: bool,
}

impl Default for CleanConfig {
    fn default() -> Self {
        CleanConfig {
            nfkc: true,
            remove_garbage: true,
            max_symbol_run: 6,
            join_broken_tokens: true,
            remove_wordless_runs: true,
            traditional_to_simplified: false,
            opencc_dir: PathBuf::from("configs/opencc"),
            remove_page_furniture: true,
            furniture_min_page_share: 0.3,
            remove_cjk_spaces: true,
            join_lines: true,
        }
    }
}

impl CleanConfig {
    pub fn validate(&self) -> Result<()> {
        check_range("clean.max_symbol_run", self.max_symbol_run, 2, 10_000)?;
        check_range(
            "clean.furniture_min_page_share",
            self.furniture_min_page_share,
            0.0,
            1.0,
        )
    }
}

/// What a step may record about the document (page counts, characters removed).
pub type Meta = Map<String, Value>;

pub trait Step: Send + Sync {
    fn apply(&self, text: String, meta: &mut Meta) -> String;
}

pub struct Cleaner {
    steps: Vec<Box<dyn Step>>,
}

impl Cleaner {
    pub fn new(config: &CleanConfig) -> Result<Cleaner> {
        let mut steps: Vec<Box<dyn Step>> = vec![
            Box::new(unicode::Characters { nfkc: config.nfkc }),
            // Always runs: it records the page count and turns page breaks into line breaks.
            // Before garbage removal, which would take the leader dots out of TOC lines.
            Box::new(pages::Pages {
                remove_furniture: config.remove_page_furniture,
                min_page_share: config.furniture_min_page_share,
            }),
        ];
        if config.remove_garbage {
            steps.push(Box::new(garbage::Garbage {
                max_symbol_run: config.max_symbol_run,
            }));
        }
        if config.join_broken_tokens {
            steps.push(Box::new(broken_tokens::BrokenTokens));
        }
        if config.remove_wordless_runs {
            steps.push(Box::new(wordless::WordlessRuns));
        }
        if config.traditional_to_simplified {
            steps.push(Box::new(convert::TraditionalToSimplified::load(
                &config.opencc_dir,
            )?));
        }
        if config.remove_cjk_spaces {
            steps.push(Box::new(spacing::CjkSpaces));
        }
        if config.join_lines {
            steps.push(Box::new(layout::JoinLines));
        }
        steps.push(Box::new(whitespace::Collapse));
        Ok(Cleaner { steps })
    }

    pub fn clean(&self, mut doc: Document) -> Document {
        let before = doc.text.chars().count();
        for step in &self.steps {
            doc.text = step.apply(std::mem::take(&mut doc.text), &mut doc.meta);
        }
        doc.set_meta("chars_extracted", before);
        doc
    }
}

/// A step applied to `text`, and the count it recorded under `counter` (0 when none).
#[cfg(test)]
fn applied(step: &dyn Step, text: &str, counter: &str) -> (String, u64) {
    let mut meta = Meta::new();
    let out = step.apply(text.to_string(), &mut meta);
    let count = meta.get(counter).and_then(|v| v.as_u64()).unwrap_or(0);
    (out, count)
}

/// CJK ideographs (unified, extensions A–F, compatibility), as BERT's tokenizer counts them.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0x2A700..=0x2EBEF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

/// Full-width punctuation Chinese text writes next to ideographs (，。、；：？！ quotes, brackets).
pub fn is_cjk_punctuation(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x303F | 0xFF01..=0xFF0F | 0xFF1A..=0xFF20 | 0xFF3B..=0xFF40 | 0xFF5B..=0xFF65 | 0x2018..=0x201F | 0x2026 | 0x2014 | 0xFE30..=0xFE4F)
}

/// Ideograph or Chinese punctuation: characters between which Chinese never puts a space.
pub fn is_cjk_text(c: char) -> bool {
    is_cjk(c) || is_cjk_punctuation(c)
}

/// Width on the page: ideographs and full-width forms take two columns, the rest one.
pub fn display_width(line: &str) -> usize {
    let bytes = line.as_bytes();
    let mut width = 0;
    let mut at = 0;
    // ASCII and most ideographs (U+4E00–U+9FFF) need no decoding.
    while let Some(&lead) = bytes.get(at) {
        match lead {
            0x00..=0x7F => {
                width += 1;
                at += 1;
            }
            _ if char_table::starts_common_ideograph(&bytes[at..]) => {
                width += 2;
                at += 3;
            }
            _ => {
                let Some(c) = line[at..].chars().next() else {
                    break;
                };
                width += if is_wide(c) { 2 } else { 1 };
                at += c.len_utf8();
            }
        }
    }
    width
}

fn is_wide(c: char) -> bool {
    is_cjk_text(c) || matches!(c as u32, 0xAC00..=0xD7AF | 0x3040..=0x30FF | 0xFF00..=0xFFEF)
}

/// Adds `n` to a counter in meta.
pub fn count_in_meta(meta: &mut Meta, key: &str, n: usize) {
    if n > 0 {
        let old = meta.get(key).and_then(|v| v.as_u64()).unwrap_or(0);
        meta.insert(key.to_string(), (old + n as u64).into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_width_agrees_with_is_wide_for_every_character() {
        let every: String = (0..=0x10FFFFu32).filter_map(char::from_u32).collect();
        let expected: usize = every.chars().map(|c| 1 + is_wide(c) as usize).sum();
        assert_eq!(display_width(&every), expected);
        assert_eq!(display_width("a中，é"), 6);
    }
}
