//! `not-chinese`: a Chinese corpus wants Chinese text; English papers, code and number tables
//! have few ideographs among their characters.
use super::{Bound, Measure, Rule, Stats};
use crate::document::Document;

pub struct MinCjkRatio(pub f64);

impl Rule for MinCjkRatio {
    fn reason(&self) -> &'static str {
        "not-chinese"
    }
    fn what(&self) -> &'static str {
        "CJK ratio"
    }
    fn measure(&self, _: &Document, stats: &Stats) -> Measure {
        Measure {
            value: stats.ratio(stats.cjk),
            limit: self.0,
            bound: Bound::Min,
        }
    }
}
