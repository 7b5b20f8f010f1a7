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

/// Characters covered by an n-gram (of non-space characters) that occurred before. N-grams are
/// hashed with a rolling polynomial hash: O(1) per position, whatever n is.
fn repeated_chars(text: &str, n: usize) -> usize {
    const BASE: u64 = 0x100000001B3;
    let chars: Vec<u64> = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c as u64 + 1)
        .collect();
    if chars.len() < n {
        return 0;
    }
    let top = (1..n).fold(1u64, |p, _| p.wrapping_mul(BASE)); // BASE^(n-1)
    let mut hash = chars[..n]
        .iter()
        .fold(0u64, |h, &c| h.wrapping_mul(BASE).wrapping_add(c));
    let mut seen: HashSet<u64, BuildHasherDefault<AlreadyHashed>> =
        HashSet::with_capacity_and_hasher(chars.len(), Default::default());
    let mut covered_until = 0; // characters before this index are already counted
    let mut repeated = 0;
    for start in 0..=chars.len() - n {
        if start > 0 {
            hash = hash
                .wrapping_sub(chars[start - 1].wrapping_mul(top))
                .wrapping_mul(BASE)
                .wrapping_add(chars[start + n - 1]);
        }
        if !seen.insert(mix(hash)) {
            let from = start.max(covered_until);
            repeated += start + n - from;
            covered_until = start + n;
        }
    }
    repeated
}

/// Spreads a polynomial hash over all 64 bits (MurmurHash3's finaliser): the hash table
/// indexes by the low bits and tags by the high ones.
fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ceb9fe1a85ec53);
    h ^ (h >> 33)
}

/// The set holds finished hashes: hashing them again (SipHash) would double the rule's cost.
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
