//! `too-short`: almost nothing left to learn from. Exam questions run from about 15 characters,
//! so the limit sits below them and drops empty or near-empty records.
use super::{Bound, Measure, Rule, Stats};
use crate::document::Document;

pub struct MinChars(pub usize);

impl Rule for MinChars {
    fn reason(&self) -> &'static str {
        "too-short"
    }
    fn what(&self) -> &'static str {
        "characters"
    }
    fn measure(&self, _: &Document, stats: &Stats) -> Measure {
        Measure {
            value: stats.chars as f64,
            limit: self.0 as f64,
            bound: Bound::Min,
        }
    }
}
