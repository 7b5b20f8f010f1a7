//! Filling a base vocabulary's `[unusedN]` slots with missing tokens: the model's size and every
//! other id stay the same, so a checkpoint loads without resizing its embeddings.
use super::counting::WordCounts;
use super::extend::{missing_characters, missing_subwords};
use ahash::AHashSet;
use anyhow::Result;

fn is_unused_slot(token: &str) -> bool {
    token
        .strip_prefix("[unused")
        .and_then(|rest| rest.strip_suffix(']'))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The base vocabulary with its unused slots, in id order, given to missing characters, then
/// whole words, then subwords.
pub fn fill_unused(
    base: &[String],
    counts: &WordCounts,
    min_frequency: u64,
    whole_words: &[String],
) -> Result<Vec<String>> {
    let slots: Vec<usize> = (0..base.len())
        .filter(|&i| is_unused_slot(&base[i]))
        .collect();
    let mut candidates = missing_characters(base, &counts.words, min_frequency)?;
    candidates.extend(whole_words.iter().cloned());
    if candidates.len() < slots.len() {
        let room = slots.len() - candidates.len();
        candidates.extend(missing_subwords(base, &counts.words, room, min_frequency)?);
    }
    let known: AHashSet<&str> = base.iter().map(String::as_str).collect();
    let mut seen = AHashSet::new();
    let fresh = candidates
        .into_iter()
        .filter(|t| !known.contains(t.as_str()) && seen.insert(t.clone()));
    let mut tokens = base.to_vec();
    for (slot, token) in slots.into_iter().zip(fresh) {
        tokens[slot] = token;
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_unused_slots_only() {
        assert!(is_unused_slot("[unused1]"));
        assert!(is_unused_slot("[unused99]"));
        assert!(!is_unused_slot("[unused]"));
        assert!(!is_unused_slot("[UNK]"));
        assert!(!is_unused_slot("unused1"));
    }
}
