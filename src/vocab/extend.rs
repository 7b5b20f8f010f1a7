//! Extension of a base vocabulary (bert-base-chinese) for continued pretraining: every base id
//! is kept, and the most useful missing tokens are appended — first the characters that make
//! words [UNK] under the base vocabulary, then frequent subwords the base lacks.
use super::counting::{Counts, WordCounts};
use super::{words, CONTINUATION, UNK};
use ahash::{AHashMap, AHashSet};
use anyhow::{anyhow, Result};
use rayon::prelude::*;
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::Model;

/// The base vocabulary followed by up to `add` missing characters and subwords, then the
/// whole words the base lacks.
pub fn extend(
    base: &[String],
    counts: &WordCounts,
    add: usize,
    min_frequency: u64,
    whole_words: &[String],
) -> Result<Vec<String>> {
    let mut tokens = base.to_vec();
    let chars = missing_characters(base, &counts.words, min_frequency)?;
    let subwords = missing_subwords(
        base,
        &counts.words,
        add.saturating_sub(chars.len()),
        min_frequency,
    )?;
    words::append_new(
        &mut tokens,
        &chars
            .into_iter()
            .chain(subwords)
            .take(add)
            .collect::<Vec<_>>(),
    );
    words::append_new(&mut tokens, whole_words);
    Ok(tokens)
}

/// Pieces (`c` at a word's start, `##c` inside it) whose absence makes a word [UNK] under
/// `base`, most frequent first. With all of them added, no counted word is [UNK].
pub fn missing_characters(
    base: &[String],
    counts: &Counts,
    min_frequency: u64,
) -> Result<Vec<String>> {
    let known: AHashSet<&str> = base.iter().map(String::as_str).collect();
    let model = wordpiece(base)?;
    let missing = counts
        .par_iter()
        .filter(|(word, _)| {
            model
                .tokenize(word)
                .map_or(true, |pieces| pieces.iter().any(|p| p.value == UNK))
        })
        .fold(AHashMap::<String, u64>::new, |mut missing, (word, n)| {
            for (i, c) in word.chars().enumerate() {
                let piece = if i == 0 {
                    c.to_string()
                } else {
                    format!("{CONTINUATION}{c}")
                };
                if !known.contains(piece.as_str()) {
                    *missing.entry(piece).or_default() += n;
                }
            }
            missing
        })
        .reduce(AHashMap::new, |mut a, b| {
            for (piece, n) in b {
                *a.entry(piece).or_default() += n;
            }
            a
        });
    Ok(most_frequent(missing, min_frequency))
}

/// Subwords the base lacks, most used first: the words are tokenised with a vocabulary trained
/// on the counts (the base's size, its characters kept), and each new subword is ranked by how
/// often that tokenisation uses it.
pub fn missing_subwords(
    base: &[String],
    counts: &Counts,
    limit: usize,
    min_frequency: u64,
) -> Result<Vec<String>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let known: AHashSet<&str> = base.iter().map(String::as_str).collect();
    let trained = super::train::train(
        counts,
        base.len(),
        min_frequency,
        super::train::single_characters(base),
    )?;
    let model = wordpiece(&trained)?;
    let used = counts
        .par_iter()
        .fold(AHashMap::<String, u64>::new, |mut used, (word, n)| {
            for piece in model.tokenize(word).unwrap_or_default() {
                if is_subword(&piece.value) && !known.contains(piece.value.as_str()) {
                    *used.entry(piece.value).or_default() += n;
                }
            }
            used
        })
        .reduce(AHashMap::new, |mut a, b| {
            for (piece, n) in b {
                *a.entry(piece).or_default() += n;
            }
            a
        });
    let mut ranked = most_frequent(used, min_frequency);
    ranked.truncate(limit);
    Ok(ranked)
}

/// More than one character, `##` aside: single characters are ranked by `missing_characters`.
fn is_subword(token: &str) -> bool {
    let piece = token.strip_prefix(CONTINUATION).unwrap_or(token);
    piece.chars().count() > 1 && !super::SPECIAL_TOKENS.contains(&token)
}

fn most_frequent(counts: AHashMap<String, u64>, min_frequency: u64) -> Vec<String> {
    let mut ranked: Vec<(String, u64)> = counts
        .into_iter()
        .filter(|(_, n)| *n >= min_frequency)
        .collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked.into_iter().map(|(t, _)| t).collect()
}

/// A WordPiece model of `tokens`, to tokenise counted words.
fn wordpiece(tokens: &[String]) -> Result<WordPiece> {
    let mut vocab = AHashMap::with_capacity(tokens.len());
    for (id, token) in tokens.iter().enumerate() {
        vocab.entry(token.clone()).or_insert(id as u32);
    }
    WordPiece::builder()
        .vocab(vocab)
        .unk_token(UNK.into())
        .continuing_subword_prefix(CONTINUATION.into())
        .max_input_chars_per_word(super::counting::MAX_WORD_CHARS)
        .build()
        .map_err(|e| anyhow!("bad vocabulary: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_pieces_are_what_makes_words_unknown() {
        let base: Vec<String> = [
            "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "患", "者", "1", "##0",
        ]
        .map(String::from)
        .to_vec();
        let mut counts = Counts::new();
        counts.insert("腘".into(), 5);
        counts.insert("10㎝".into(), 3);
        counts.insert("患".into(), 9);
        counts.insert("肟".into(), 1);
        let missing = missing_characters(&base, &counts, 2).unwrap();
        assert_eq!(missing, ["腘", "##㎝"]);
    }
}
