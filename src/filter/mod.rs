//! Quality filters: each rule looks at one cleaned document and either passes it or names the
//! reason to drop it. Rules know nothing of each other; `[filter]` decides which run.
use crate::clean::is_cjk;
use crate::config::check_range;
use crate::document::{Document, Reject, Verdict};
use anyhow::Result;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilterConfig {
    /// Fewer non-space characters than this: `too-short`. Exam questions run from ~15 characters,
    /// so the default keeps them and drops empty or near-empty records.
    pub min_chars: usize,
    /// Share of CJK ideographs among non-space characters below this: `not-chinese`.
    pub min_cjk_ratio: f64,
    /// Share of characters the decoder had to replace above this: `bad-encoding`.
    pub max_replacement_ratio: f64,
}

impl Default for FilterConfig {
    fn default() -> Self {
        FilterConfig {
            min_chars: 10,
            min_cjk_ratio: 0.2,
            max_replacement_ratio: 0.01,
        }
    }
}

impl FilterConfig {
    pub fn validate(&self) -> Result<()> {
        check_range("filter.min_cjk_ratio", self.min_cjk_ratio, 0.0, 1.0)?;
        check_range(
            "filter.max_replacement_ratio",
            self.max_replacement_ratio,
            0.0,
            1.0,
        )
    }
}

/// Character counts every rule reads, computed once per document.
pub struct Stats {
    pub chars: usize,
    pub cjk: usize,
}

impl Stats {
    pub fn of(text: &str) -> Stats {
        let mut stats = Stats { chars: 0, cjk: 0 };
        for c in text.chars().filter(|c| !c.is_whitespace()) {
            stats.chars += 1;
            stats.cjk += is_cjk(c) as usize;
        }
        stats
    }
}

pub trait Rule: Send + Sync {
    /// `Some((reason, detail))` to drop the document.
    fn check(&self, doc: &Document, stats: &Stats) -> Option<(&'static str, String)>;
}

struct MinChars(usize);
struct MinCjkRatio(f64);
struct MaxReplacementRatio(f64);

impl Rule for MinChars {
    fn check(&self, _: &Document, stats: &Stats) -> Option<(&'static str, String)> {
        (stats.chars < self.0).then(|| {
            (
                "too-short",
                format!("{} characters < {}", stats.chars, self.0),
            )
        })
    }
}

impl Rule for MinCjkRatio {
    fn check(&self, _: &Document, stats: &Stats) -> Option<(&'static str, String)> {
        let ratio = stats.cjk as f64 / stats.chars.max(1) as f64;
        (ratio < self.0).then(|| ("not-chinese", format!("CJK ratio {ratio:.3} < {}", self.0)))
    }
}

impl Rule for MaxReplacementRatio {
    fn check(&self, doc: &Document, stats: &Stats) -> Option<(&'static str, String)> {
        let replaced = doc
            .meta
            .get("replacements")
            .and_then(|v| v.as_u64())
            .unwrap_or(0) as f64;
        let ratio = replaced / stats.chars.max(1) as f64;
        (ratio > self.0).then(|| {
            (
                "bad-encoding",
                format!(
                    "{replaced} replaced characters, ratio {ratio:.4} > {}",
                    self.0
                ),
            )
        })
    }
}

pub struct Filter {
    rules: Vec<Box<dyn Rule>>,
}

impl Filter {
    pub fn new(config: &FilterConfig) -> Filter {
        Filter {
            rules: vec![
                Box::new(MinChars(config.min_chars)),
                Box::new(MaxReplacementRatio(config.max_replacement_ratio)),
                Box::new(MinCjkRatio(config.min_cjk_ratio)),
            ],
        }
    }

    pub fn check(&self, doc: Document) -> Verdict {
        let stats = Stats::of(&doc.text);
        for rule in &self.rules {
            if let Some((reason, detail)) = rule.check(&doc, &stats) {
                return Verdict::Drop(Reject::of(&doc, reason, Some(detail)));
            }
        }
        Verdict::Keep(doc)
    }
}
