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
        // A phrase holding a line break can mark no line.
        let phrases = phrases.iter().filter(|p| !p.contains('\n'));
        Ok(MaxBoilerplateRatio {
            phrases: AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(phrases)?,
            limit,
        })
    }

    /// Non-space characters in lines that hold a boilerplate phrase. One search over the whole
    /// text, not one per line: a phrase holds no line break, so a match lies inside one line.
    pub fn boilerplate_chars(&self, text: &str) -> usize {
        let mut chars = 0;
        let mut from = 0;
        while let Some(found) = self.phrases.find(&text[from..]) {
            let at = from + found.start();
            let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
            chars += text[line_start..line_end]
                .chars()
                .filter(|c| !c.is_whitespace())
                .count();
            if line_end == text.len() {
                break;
            }
            from = line_end + 1; // the next line: this one is counted
        }
        chars
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
