//! Whole words (WoBERT-style): frequent multi-character jieba words from the medical lexicons
//! become single tokens. BERT's normaliser isolates every Chinese character, so the exported
//! tokenizer matches these words before WordPiece (longest first, as HF added tokens), and any
//! `transformers` loader of `tokenizer.json` tokenises them the same way.
use super::counting::Counts;

/// Words longer than this are rare as units and would crowd the vocabulary with phrases.
const MAX_WORD_CHARS: usize = 8;

/// BERT's "Chinese character" ranges: the normaliser puts spaces around these, so each is a
/// word of its own and never continues one.
pub use crate::shard::wwm::is_chinese_char;

/// A word worth a whole-word token: 2 to 8 Chinese characters.
pub fn is_whole_word_candidate(word: &str) -> bool {
    let n = word.chars().count();
    (2..=MAX_WORD_CHARS).contains(&n) && word.chars().all(is_chinese_char)
}

/// The `n` most frequent words seen at least `min_frequency` times.
pub fn select(counts: &Counts, n: usize, min_frequency: u64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    let mut ranked: Vec<(&str, u64)> = counts
        .iter()
        .filter(|(_, c)| **c >= min_frequency)
        .map(|(w, c)| (w.as_str(), *c))
        .collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    ranked
        .into_iter()
        .take(n)
        .map(|(w, _)| w.to_string())
        .collect()
}

/// Appends each of `new` that `tokens` lacks, keeping every existing id.
pub fn append_new(tokens: &mut Vec<String>, new: &[String]) {
    let mut known: ahash::AHashSet<String> = tokens.iter().cloned().collect();
    for token in new {
        if known.insert(token.clone()) {
            tokens.push(token.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_short_chinese_words() {
        assert!(is_whole_word_candidate("二甲双胍"));
        assert!(!is_whole_word_candidate("胍"));
        assert!(!is_whole_word_candidate("CT检查"));
    }
}
