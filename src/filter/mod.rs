//! Quality filters: each rule measures one thing about a cleaned document and drops it when the
//! measure crosses its limit, naming the reason. Rules know nothing of each other; `[filter]`
//! (optionally on top of a preset file, see `preset.rs`) decides which run and where the limits are.
pub mod boilerplate;
pub mod cjk_ratio;
pub mod duplicate_lines;
pub mod garbled;
pub mod line_length;
pub mod min_length;
pub mod ngram_repetition;
pub mod preset;
pub mod replacement;
pub mod symbol_ratio;

use crate::clean::char_table::{starts_common_ideograph, BmpTable};
use crate::clean::{is_cjk, is_cjk_punctuation};
use crate::config::check_range;
use crate::document::{Document, Reject, Verdict};
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::LazyLock;

/// Every limit; a rule whose limit cannot be crossed (0 for a minimum, 1 for a maximum ratio)
/// does not run. Built-in defaults drop only what is certainly not text; the tuned values for
/// Chinese medical text live in `configs/filters/medical.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "preset::FilterKeys")]
pub struct FilterConfig {
    /// The preset file the values came from, if any (keys in `[filter]` override it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<PathBuf>,
    /// Fewer non-space characters than this: `too-short`.
    pub min_chars: usize,
    /// Share of CJK ideographs among non-space characters below this: `not-chinese`.
    pub min_cjk_ratio: f64,
    /// Share of characters the decoder had to replace above this: `bad-encoding`.
    pub max_replacement_ratio: f64,
    /// Share of characters that are garbage (removed by cleaning, or characters no Chinese or
    /// Western text uses) above this: `garbled`.
    pub max_garbage_ratio: f64,
    /// Share of digits above this: `too-many-digits`.
    pub max_digit_ratio: f64,
    /// Share of symbols (not letters, digits, ideographs or prose punctuation) above this:
    /// `too-many-symbols`.
    pub max_symbol_ratio: f64,
    /// Share of characters in lines that repeat an earlier line above this: `repeated-lines`.
    pub max_duplicate_line_ratio: f64,
    /// Share of characters covered by character n-grams seen earlier in the document above
    /// this: `repetitive`.
    pub max_ngram_repetition: f64,
    /// The n of `max_ngram_repetition`.
    pub ngram_chars: usize,
    /// Mean characters per non-empty line below this: `short-lines`.
    pub min_mean_line_chars: f64,
    /// Phrases that mark a line as boilerplate (copyright, QR codes, ads).
    pub boilerplate_phrases: Vec<String>,
    /// Share of characters in boilerplate lines above this: `boilerplate`.
    pub max_boilerplate_ratio: f64,
}

impl Default for FilterConfig {
    fn default() -> Self {
        FilterConfig {
            preset: None,
            min_chars: 10,
            min_cjk_ratio: 0.2,
            max_replacement_ratio: 0.01,
            max_garbage_ratio: 0.25,
            max_digit_ratio: 1.0,
            max_symbol_ratio: 1.0,
            max_duplicate_line_ratio: 1.0,
            max_ngram_repetition: 1.0,
            ngram_chars: 10,
            min_mean_line_chars: 0.0,
            boilerplate_phrases: Vec::new(),
            max_boilerplate_ratio: 1.0,
        }
    }
}

impl FilterConfig {
    pub fn validate(&self) -> Result<()> {
        for (key, value) in [
            ("filter.min_cjk_ratio", self.min_cjk_ratio),
            ("filter.max_replacement_ratio", self.max_replacement_ratio),
            ("filter.max_garbage_ratio", self.max_garbage_ratio),
            ("filter.max_digit_ratio", self.max_digit_ratio),
            ("filter.max_symbol_ratio", self.max_symbol_ratio),
            (
                "filter.max_duplicate_line_ratio",
                self.max_duplicate_line_ratio,
            ),
            ("filter.max_ngram_repetition", self.max_ngram_repetition),
            ("filter.max_boilerplate_ratio", self.max_boilerplate_ratio),
        ] {
            check_range(key, value, 0.0, 1.0)?;
        }
        check_range("filter.ngram_chars", self.ngram_chars, 2, 100)?;
        check_range(
            "filter.min_mean_line_chars",
            self.min_mean_line_chars,
            0.0,
            1e6,
        )
    }
}

/// Character counts the rules read, computed once per document.
#[derive(Debug, Default)]
pub struct Stats {
    /// Non-whitespace characters.
    pub chars: usize,
    pub cjk: usize,
    pub digits: usize,
    pub symbols: usize,
    /// Characters no Chinese or Western text uses: see `garbled::is_unexpected`.
    pub unexpected: usize,
    /// Non-empty lines.
    pub lines: usize,
}

impl Stats {
    pub fn of(text: &str) -> Stats {
        let mut stats = Stats::default();
        let mut line_empty = true;
        let mut previous_latin1 = false;
        let bytes = text.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            // Most characters are common ideographs, told from their first bytes.
            if starts_common_ideograph(&bytes[at..]) {
                stats.chars += 1;
                stats.cjk += 1;
                line_empty = false;
                previous_latin1 = false;
                at += 3;
                continue;
            }
            let Some(c) = text[at..].chars().next() else {
                break;
            };
            at += c.len_utf8();
            if c == '\n' {
                stats.lines += !line_empty as usize;
                line_empty = true;
                continue;
            }
            let class = STATS_CLASSES.get(c).unwrap_or_else(|| stats_class(c));
            if class & WHITESPACE != 0 {
                continue;
            }
            line_empty = false;
            stats.chars += 1;
            stats.cjk += (class & CJK != 0) as usize;
            stats.digits += (class & DIGIT != 0) as usize;
            stats.symbols += (class & SYMBOL != 0) as usize;
            let latin1 = class & LATIN1_HIGH != 0;
            if class & UNEXPECTED != 0 || (latin1 && previous_latin1) {
                stats.unexpected += 1;
            }
            previous_latin1 = latin1;
        }
        stats.lines += !line_empty as usize;
        stats
    }

    pub fn ratio(&self, n: usize) -> f64 {
        n as f64 / self.chars.max(1) as f64
    }
}

/// What `Stats` counts a character as, bit by bit.
const WHITESPACE: u8 = 1;
const CJK: u8 = 2;
const DIGIT: u8 = 4;
const SYMBOL: u8 = 8;
const UNEXPECTED: u8 = 16;
const LATIN1_HIGH: u8 = 32;

fn stats_class(c: char) -> u8 {
    if c.is_whitespace() {
        return WHITESPACE;
    }
    let kind = if is_cjk(c) {
        CJK
    } else if c.is_ascii_digit() {
        DIGIT
    } else if !c.is_alphanumeric() && !is_prose_punctuation(c) {
        SYMBOL
    } else {
        0
    };
    kind | (garbled::is_unexpected(c) as u8 * UNEXPECTED)
        | (garbled::is_latin1_high(c) as u8 * LATIN1_HIGH)
}

static STATS_CLASSES: LazyLock<BmpTable> = LazyLock::new(|| BmpTable::new(stats_class));

/// Punctuation that ordinary sentences use: not counted as symbols.
fn is_prose_punctuation(c: char) -> bool {
    is_cjk_punctuation(c)
        || matches!(
            c,
            ',' | '.' | ';' | ':' | '?' | '!' | '(' | ')' | '"' | '\'' | '-' | '%' | '·'
        )
}

/// Which way a limit points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    Min,
    Max,
}

/// A rule's measure of one document, with its limit.
#[derive(Debug, Clone)]
pub struct Measure {
    pub value: f64,
    pub limit: f64,
    pub bound: Bound,
}

impl Measure {
    pub fn fails(&self) -> bool {
        match self.bound {
            Bound::Min => self.value < self.limit,
            Bound::Max => self.value > self.limit,
        }
    }
}

pub trait Rule: Send + Sync {
    /// The reject reason, e.g. `too-short`.
    fn reason(&self) -> &'static str;
    /// What is measured, for details and previews, e.g. `CJK ratio`.
    fn what(&self) -> &'static str;
    fn measure(&self, doc: &Document, stats: &Stats) -> Measure;
}

pub struct Filter {
    rules: Vec<Box<dyn Rule>>,
}

/// One rule's verdict on one document, for `clean-preview`.
pub struct Judgement {
    pub reason: &'static str,
    pub what: &'static str,
    pub measure: Measure,
}

impl Filter {
    pub fn new(config: &FilterConfig) -> Result<Filter> {
        let mut rules: Vec<Box<dyn Rule>> = vec![
            Box::new(min_length::MinChars(config.min_chars)),
            Box::new(replacement::MaxReplacementRatio(
                config.max_replacement_ratio,
            )),
            Box::new(garbled::MaxGarbageRatio(config.max_garbage_ratio)),
            Box::new(cjk_ratio::MinCjkRatio(config.min_cjk_ratio)),
        ];
        if config.max_digit_ratio < 1.0 {
            rules.push(Box::new(symbol_ratio::MaxDigitRatio(
                config.max_digit_ratio,
            )));
        }
        if config.max_symbol_ratio < 1.0 {
            rules.push(Box::new(symbol_ratio::MaxSymbolRatio(
                config.max_symbol_ratio,
            )));
        }
        if config.min_mean_line_chars > 0.0 {
            rules.push(Box::new(line_length::MinMeanLineChars(
                config.min_mean_line_chars,
            )));
        }
        if config.max_duplicate_line_ratio < 1.0 {
            rules.push(Box::new(duplicate_lines::MaxDuplicateLineRatio(
                config.max_duplicate_line_ratio,
            )));
        }
        if config.max_ngram_repetition < 1.0 {
            rules.push(Box::new(ngram_repetition::MaxNgramRepetition {
                limit: config.max_ngram_repetition,
                n: config.ngram_chars,
            }));
        }
        if config.max_boilerplate_ratio < 1.0 && !config.boilerplate_phrases.is_empty() {
            rules.push(Box::new(boilerplate::MaxBoilerplateRatio::new(
                &config.boilerplate_phrases,
                config.max_boilerplate_ratio,
            )?));
        }
        Ok(Filter { rules })
    }

    /// The first failing rule drops the document.
    pub fn check(&self, doc: Document) -> Verdict {
        let stats = Stats::of(&doc.text);
        for rule in &self.rules {
            let measure = rule.measure(&doc, &stats);
            if measure.fails() {
                let detail = describe(rule.what(), &measure);
                return Verdict::Drop(Reject::of(&doc, rule.reason(), Some(detail)));
            }
        }
        Verdict::Keep(doc)
    }

    /// Every rule's measure, failing or not.
    pub fn judge(&self, doc: &Document) -> Vec<Judgement> {
        let stats = Stats::of(&doc.text);
        self.rules
            .iter()
            .map(|rule| Judgement {
                reason: rule.reason(),
                what: rule.what(),
                measure: rule.measure(doc, &stats),
            })
            .collect()
    }
}

/// `CJK ratio 0.123 < 0.2`
pub fn describe(what: &str, m: &Measure) -> String {
    let op = match (m.bound, m.fails()) {
        (Bound::Min, true) => "<",
        (Bound::Min, false) => ">=",
        (Bound::Max, true) => ">",
        (Bound::Max, false) => "<=",
    };
    format!("{what} {} {op} {}", round(m.value), m.limit)
}

fn round(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v}")
    } else {
        format!("{v:.3}")
    }
}
