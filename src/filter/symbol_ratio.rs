//! `too-many-digits` and `too-many-symbols`: number tables, annotation files (brat `.ann`:
//! `T1\tDisease 1845 1850\t…`), formulas and ASCII art are characters but not language.
use super::{Bound, Measure, Rule, Stats};
use crate::document::Document;

pub struct MaxDigitRatio(pub f64);
pub struct MaxSymbolRatio(pub f64);

impl Rule for MaxDigitRatio {
    fn reason(&self) -> &'static str {
        "too-many-digits"
    }
    fn what(&self) -> &'static str {
        "digit ratio"
    }
    fn measure(&self, _: &Document, stats: &Stats) -> Measure {
        Measure {
            value: stats.ratio(stats.digits),
            limit: self.0,
            bound: Bound::Max,
        }
    }
}

impl Rule for MaxSymbolRatio {
    fn reason(&self) -> &'static str {
        "too-many-symbols"
    }
    fn what(&self) -> &'static str {
        "symbol ratio"
    }
    fn measure(&self, _: &Document, stats: &Stats) -> Measure {
        Measure {
            value: stats.ratio(stats.symbols),
            limit: self.0,
            bound: Bound::Max,
        }
    }
}
