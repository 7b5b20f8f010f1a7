//! `short-lines`: word lists, label dumps and table debris have lines of a few characters;
//! after layout repair, prose has paragraph-long lines and exam items sentence-long ones.
use super::{Bound, Measure, Rule, Stats};
use crate::document::Document;

pub struct MinMeanLineChars(pub f64);

impl Rule for MinMeanLineChars {
    fn reason(&self) -> &'static str {
        "short-lines"
    }
    fn what(&self) -> &'static str {
        "mean line characters"
    }
    fn measure(&self, _: &Document, stats: &Stats) -> Measure {
        Measure {
            value: stats.chars as f64 / stats.lines.max(1) as f64,
            limit: self.0,
            bound: Bound::Min,
        }
    }
}
