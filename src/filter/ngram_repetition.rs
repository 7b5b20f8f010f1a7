//! `repetitive`: spam and generated filler repeat the same phrases over and over. The share of
//! characters that sit in a character n-gram already seen earlier in the document measures it
//! (Gopher's duplicate n-gram fraction, by characters since Chinese has no spaces).
use super::{Bound, Measure, Rule, Stats};
use crate::document::Document;

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
    // Code point + 1 of each non-space character; u32 halves the memory u64 would take, and
    // the exact capacity spares the copies of a growing vector.
    let mut chars: Vec<u32> = Vec::with_capacity(text.chars().count());
    chars.extend(
        text.chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c as u32 + 1),
    );
    if chars.len() < n {
        return 0;
    }
    let top = (1..n).fold(1u64, |p, _| p.wrapping_mul(BASE)); // BASE^(n-1)
    let mut hash = chars[..n]
        .iter()
        .fold(0u64, |h, &c| h.wrapping_mul(BASE).wrapping_add(c as u64));
    let mut seen = SeenHashes::with_capacity(chars.len() - n + 1);
    let mut covered_until = 0; // characters before this index are already counted
    let mut repeated = 0;
    for start in 0..=chars.len() - n {
        if start > 0 {
            hash = hash
                .wrapping_sub((chars[start - 1] as u64).wrapping_mul(top))
                .wrapping_mul(BASE)
                .wrapping_add(chars[start + n - 1] as u64);
        }
        if !seen.insert(mix(hash)) {
            let from = start.max(covered_until);
            repeated += start + n - from;
            covered_until = start + n;
        }
    }
    repeated
}

/// Spreads a polynomial hash over all 64 bits (MurmurHash3's finaliser): the set indexes by
/// the low bits.
fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ceb9fe1a85ec53);
    h ^ (h >> 33)
}

/// A set of finished 64-bit hashes, sized once for every n-gram of the document: open
/// addressing with linear probing on the low bits. One insert per character made the general
/// hash set (hashing again, probing groups) this rule's largest cost.
struct SeenHashes {
    /// Zero marks an empty slot; the hash 0 itself is kept in `has_zero`.
    slots: Vec<u64>,
    mask: usize,
    has_zero: bool,
}

impl SeenHashes {
    fn with_capacity(n: usize) -> SeenHashes {
        // At most two thirds full: probe sequences stay short.
        let size = (n + n / 2 + 1).next_power_of_two();
        SeenHashes {
            slots: vec![0; size],
            mask: size - 1,
            has_zero: false,
        }
    }

    /// Adds `hash`; false when it was there already.
    fn insert(&mut self, hash: u64) -> bool {
        if hash == 0 {
            return !std::mem::replace(&mut self.has_zero, true);
        }
        let mut slot = hash as usize & self.mask;
        loop {
            match self.slots[slot] {
                0 => {
                    self.slots[slot] = hash;
                    return true;
                }
                stored if stored == hash => return false,
                _ => slot = (slot + 1) & self.mask,
            }
        }
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

    #[test]
    fn seen_hashes_is_a_set_zero_included() {
        let mut seen = SeenHashes::with_capacity(3);
        let size = seen.slots.len() as u64;
        for hash in [0, 5, 5 + size, 5 + 2 * size] {
            assert!(seen.insert(hash), "{hash}");
            assert!(!seen.insert(hash), "{hash}");
        }
    }
}
