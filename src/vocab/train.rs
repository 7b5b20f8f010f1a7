//! WordPiece training from word counts with the `tokenizers` crate. Its WordPiece trainer is the
//! BPE trainer with a `##` prefix; it only accepts raw text, so the BPE trainer is driven with
//! the counts directly. No alphabet limit: every character seen (and every character of the base
//! vocabulary, if asked) is a token, so rare clinical characters such as 腘 never become [UNK].
use super::counting::Counts;
use super::{CONTINUATION, SPECIAL_TOKENS};
use anyhow::{anyhow, Result};
use std::collections::HashSet;
use tokenizers::models::bpe::{BpeTrainer, BPE};
use tokenizers::AddedToken;

/// Trains a vocabulary of about `size` tokens (more if the alphabet alone is larger), in id
/// order: the special tokens, the characters, then `##` pieces and merged subwords.
pub fn train(
    counts: &Counts,
    size: usize,
    min_frequency: u64,
    initial_alphabet: HashSet<char>,
) -> Result<Vec<String>> {
    let trainer = BpeTrainer::builder()
        .vocab_size(size)
        .min_frequency(min_frequency)
        .show_progress(false)
        .special_tokens(
            SPECIAL_TOKENS
                .iter()
                .map(|t| AddedToken::from(*t, true))
                .collect(),
        )
        .initial_alphabet(initial_alphabet)
        .continuing_subword_prefix(CONTINUATION.to_string())
        .build();
    let mut bpe = BPE::default();
    trainer
        .do_train(&in_fixed_order(counts), &mut bpe)
        .map_err(|e| anyhow!("WordPiece training failed: {e}"))?;
    let mut vocab: Vec<(String, u32)> = bpe.get_vocab().into_iter().collect();
    vocab.sort_by_key(|(_, id)| *id);
    Ok(vocab.into_iter().map(|(token, _)| token).collect())
}

/// The `##c` pieces of a vocabulary that can occur: a Chinese character is always a word of its
/// own, so its `##` form is dead weight.
pub fn continuation_characters(tokens: &[String]) -> Vec<String> {
    tokens
        .iter()
        .filter(|t| {
            let mut chars = t.strip_prefix(CONTINUATION).unwrap_or("").chars();
            matches!((chars.next(), chars.next()), (Some(c), None) if !c.is_whitespace() && !super::words::is_chinese_char(c))
        })
        .cloned()
        .collect()
}

/// `trained` cut to make room for the `pieces` it lacks, which are then appended: `target`
/// tokens in all (or the characters alone, if more). A trained vocabulary cut after any merge
/// is still complete, as each merge only uses tokens before it.
pub fn with_pieces(mut trained: Vec<String>, pieces: &[String], target: usize) -> Vec<String> {
    let wanted: ahash::AHashSet<&str> = pieces.iter().map(String::as_str).collect();
    let alphabet = trained
        .iter()
        .take_while(|t| {
            SPECIAL_TOKENS.contains(&t.as_str())
                || t.strip_prefix(CONTINUATION).unwrap_or(t).chars().count() == 1
        })
        .count();
    let (mut kept, mut present) = (0, 0);
    for token in &trained {
        let now_present = present + usize::from(wanted.contains(token.as_str()));
        if kept >= alphabet && kept + 1 + wanted.len() - now_present > target {
            break;
        }
        present = now_present;
        kept += 1;
    }
    trained.truncate(kept);
    super::words::append_new(&mut trained, pieces);
    trained
}

/// The trainer numbers subwords in the order it meets words, and breaks ties between equally
/// frequent pairs by those numbers: a map filled in sorted order with fixed hash seeds makes
/// that order, and so the vocabulary, the same in every run.
fn in_fixed_order(counts: &Counts) -> Counts {
    let mut words: Vec<_> = counts.iter().collect();
    words.sort_unstable();
    let mut fixed = Counts::with_capacity_and_hasher(
        words.len(),
        ahash::RandomState::with_seeds(0x6d65, 0x6463, 0x6f72, 0x7075),
    );
    fixed.extend(words.into_iter().map(|(w, n)| (w.clone(), *n)));
    fixed
}

/// The one-character tokens of a vocabulary (not `##` pieces, not special tokens).
pub fn single_characters(tokens: &[String]) -> HashSet<char> {
    tokens
        .iter()
        .filter_map(|t| {
            let mut chars = t.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if !c.is_whitespace() => Some(c),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trains_specials_first_and_keeps_rare_characters() {
        let mut counts = Counts::new();
        for (word, n) in [
            ("腘", 1),
            ("mmhg", 50),
            ("mg", 80),
            ("患", 30),
            ("hba1c", 20),
        ] {
            counts.insert(word.into(), n);
        }
        let vocab = train(&counts, 60, 2, HashSet::from(['髌'])).unwrap();
        assert_eq!(&vocab[..5], &SPECIAL_TOKENS.map(String::from));
        for token in ["腘", "髌", "患", "##g"] {
            assert!(
                vocab.iter().any(|t| t == token),
                "{token} missing: {vocab:?}"
            );
        }
    }
}
