//! `bad-encoding`: the decoder had to replace many bytes (`meta.replacements`): the encoding
//! guess was wrong or the file is damaged, and the text that came out is not to be trusted.
use super::{Bound, Measure, Rule, Stats};
use crate::document::Document;

pub struct MaxReplacementRatio(pub f64);

impl Rule for MaxReplacementRatio {
    fn reason(&self) -> &'static str {
        "bad-encoding"
    }
    fn what(&self) -> &'static str {
        "replaced-character ratio"
    }
    fn measure(&self, doc: &Document, stats: &Stats) -> Measure {
        let replaced = doc
            .meta
            .get("replacements")
            .and_then(|v| v.as_u64())
            .unwrap_or(0) as usize;
        Measure {
            value: stats.ratio(replaced),
            limit: self.0,
            bound: Bound::Max,
        }
    }
}
