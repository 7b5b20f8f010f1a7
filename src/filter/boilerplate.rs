//! `boilerplate`: pages that are mostly copyright notices, "扫描二维码关注", download prompts
//! and ads. A line holding a configured phrase is boilerplate; the document is dropped when such
//! lines make up too much of it (one copyright line under a long article does not drop it).
use super::{Bound, Measure, Rule, Stats};
use crate::document::Document;
use aho_corasick::AhoCorasick;
use anyhow::Result;

pub struct MaxBoilerplateRatio {
    phrases: AhoCorasick,
    limit: f64,
}

impl MaxBoilerplateRatio {
    pub fn new(phrases: &[String], limit: f64) -> Result<Self> {
        Ok(MaxBoilerplateRatio {
            phrases: AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(phrases)?,
            limit,
        })
    }

    /// Non-space characters in lines that hold a boilerplate phrase.
    pub fn boilerplate_chars(&self, text: &str) -> usize {
        text.split('\n')
            .filter(|line| self.phrases.is_match(line))
            .map(|line| line.chars().filter(|c| !c.is_whitespace()).count())
            .sum()
    }
}

impl Rule for MaxBoilerplateRatio {
    fn reason(&self) -> &'static str {
        "boilerplate"
    }
    fn what(&self) -> &'static str {
        "boilerplate-line character ratio"
    }
    fn measure(&self, doc: &Document, stats: &Stats) -> Measure {
        Measure {
            value: stats.ratio(self.boilerplate_chars(&doc.text)),
            limit: self.limit,
            bound: Bound::Max,
        }
    }
}
