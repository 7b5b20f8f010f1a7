//! `repetitive`: spam and generated filler repeat the same phrases over and over. The share of
//! characters that sit in a character n-gram already seen earlier in the document measures it
//! (Gopher's duplicate n-gram fraction, by characters since Chinese has no spaces).
use super::{Bound, Measure, Rule, Stats};
use crate::document::Document;
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

pub struct MaxNgramRepetition {
    pub limit: f64,
    pub n: usize,
}

impl Rule for MaxNgramRepetition {
    fn reason(&self) -> &'static str {
        "repetitive"
    }
    fn what(&self) -> &'static str {
        "repeated n-gram character ratio"
    }
    fn measure(&self, doc: &Document, stats: &Stats) -> Measure {
        Measure {
            value: stats.ratio(repeated_chars(&doc.text, self.n)),
            limit: self.limit,
            bound: Bound::Max,
        }
    }
}

/// Characters covered by an n-gram (of non-space characters) that occurred before.
fn repeated_chars(text: &str, n: usize) -> usize {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    if chars.len() < n {
        return 0;
    }
    let mut seen: HashSet<u64, BuildHasherDefault<AlreadyHashed>> =
        HashSet::with_capacity_and_hasher(chars.len(), Default::default());
    let mut covered_until = 0; // characters before this index are already counted
    let mut repeated = 0;
    let mut bytes = Vec::with_capacity(n * 4);
    for start in 0..=chars.len() - n {
        bytes.clear();
        for c in &chars[start..start + n] {
            let mut buf = [0; 4];
            bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        if !seen.insert(xxhash_rust::xxh3::xxh3_64(&bytes)) {
            let from = start.max(covered_until);
            repeated += start + n - from;
            covered_until = start + n;
        }
    }
    repeated
}

/// The set holds xxh3 hashes already: hashing them again (SipHash) doubled the rule's cost.
#[derive(Default)]
struct AlreadyHashed(u64);

impl Hasher for AlreadyHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | b as u64;
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_characters_in_repeated_ngrams() {
        assert_eq!(repeated_chars("abcdefgh", 3), 0);
        assert_eq!(repeated_chars("abcabcabc", 3), 6);
        assert_eq!(repeated_chars("点击关注点击关注点击关注", 4), 8);
    }
}
