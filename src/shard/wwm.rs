//! Whole-word masking for Chinese. BERT tokenises Chinese character by character, so masking
//! whole words needs the word boundaries from a segmenter (jieba with the medical lexicons):
//! - word starts: one flag per token, 1 when the token begins a word, 0 when it continues the
//!   word before (a later character of a jieba word, or a `##` WordPiece continuation);
//! - HF `chinese_ref` (transformers' run_mlm_wwm.py / `DataCollatorForWholeWordMask`): the
//!   positions, counting [CLS] as 0, of the tokens that are non-initial characters of
//!   multi-character Chinese words.
use super::tokenize::Tokens;

/// CJK ideographs as BERT and HF's run_chinese_ref.py define them.
pub fn is_chinese_char(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF
        | 0x3400..=0x4DBF
        | 0x20000..=0x2A6DF
        | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F
        | 0x2B820..=0x2CEAF
        | 0xF900..=0xFAFF
        | 0x2F800..=0x2FA1F)
}

/// A segmenter word as a byte span of the sentence.
struct Word {
    start: usize,
    end: usize,
    /// Two or more characters, all Chinese: the words chinese_ref joins.
    chinese_compound: bool,
}

/// Byte spans of the words, which tile the sentence in order (jieba's output).
fn spans(words: &[&str]) -> Vec<Word> {
    let mut start = 0;
    words
        .iter()
        .map(|w| {
            let word = Word {
                start,
                end: start + w.len(),
                chinese_compound: w.chars().nth(1).is_some() && w.chars().all(is_chinese_char),
            };
            start = word.end;
            word
        })
        .collect()
}

/// Whole-word annotations of one tokenised sentence.
pub struct WordMarks {
    pub word_starts: Vec<u32>,
    pub chinese_ref: Vec<u32>,
}

/// `words` is the segmentation of `sentence`; `is_continuation[id]` is true for `##` pieces.
pub fn mark_words(
    sentence: &str,
    tokens: &Tokens,
    words: &[&str],
    is_continuation: &[bool],
) -> WordMarks {
    let words = spans(words);
    let mut word_starts = Vec::with_capacity(tokens.ids.len());
    let mut chinese_ref = Vec::new();
    let mut w = 0;
    for (i, (&id, &(start, end))) in tokens.ids.iter().zip(&tokens.offsets).enumerate() {
        while w < words.len() && words[w].end <= start {
            w += 1;
        }
        let Some(word) = words.get(w).filter(|word| word.start <= start) else {
            word_starts.push(1);
            continue;
        };
        let continuation = is_continuation.get(id as usize).copied().unwrap_or(false);
        let at_word_start = start == word.start;
        word_starts.push(u32::from(at_word_start && !continuation));
        let one_chinese_char = sentence
            .get(start..end)
            .and_then(|s| {
                let mut chars = s.chars();
                chars.next().filter(|_| chars.next().is_none())
            })
            .is_some_and(is_chinese_char);
        if word.chinese_compound && !at_word_start && one_chinese_char {
            chinese_ref.push(i as u32 + 1);
        }
    }
    WordMarks {
        word_starts,
        chinese_ref,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shard::tokenize::WordPieceTokenizer;

    #[test]
    fn chinese_words_and_wordpieces() {
        let vocab = include_str!("../../configs/vocab/bert-base-chinese-vocab.txt");
        let tokenizer = WordPieceTokenizer::from_vocab_text(vocab).unwrap();
        let continuation: Vec<bool> = vocab.split('\n').map(|t| t.starts_with("##")).collect();
        let sentence = "口服二甲双胍，HbA1c 7%";
        let tokens = tokenizer.encode(sentence);
        // 口 服 二 甲 双 胍 ， h ##ba ##1 ##c 7 %
        let words = ["口服", "二甲双胍", "，", "HbA1c", " ", "7", "%"];
        let marks = mark_words(sentence, &tokens, &words, &continuation);
        assert_eq!(
            marks.word_starts,
            vec![1, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1]
        );
        assert_eq!(marks.chinese_ref, vec![2, 4, 5, 6]);
    }
}
