//! `repeated-lines`: navigation menus, templated pages and scraped lists repeat whole lines;
//! the share of characters in lines already seen earlier in the document measures it.
use super::{Bound, Measure, Rule, Stats};
use crate::document::Document;
use std::collections::HashSet;

pub struct MaxDuplicateLineRatio(pub f64);

impl Rule for MaxDuplicateLineRatio {
    fn reason(&self) -> &'static str {
        "repeated-lines"
    }
    fn what(&self) -> &'static str {
        "duplicate-line character ratio"
    }
    fn measure(&self, doc: &Document, stats: &Stats) -> Measure {
        let mut seen = HashSet::new();
        let mut repeated = 0;
        for line in doc
            .text
            .split('\n')
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            if !seen.insert(xxhash_rust::xxh3::xxh3_64(line.as_bytes())) {
                repeated += line.chars().filter(|c| !c.is_whitespace()).count();
            }
        }
        Measure {
            value: stats.ratio(repeated),
            limit: self.0,
            bound: Bound::Max,
        }
    }
}
