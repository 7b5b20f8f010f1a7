//! Splits a document into units, the things MinHash compares, so a 300-page book can match its
//! own chapters published elsewhere. Cuts are content-defined: every chapter or section heading,
//! and in a long stretch without headings the first sentence end after a rolling hash of the
//! recent tokens fires, so the same passage is cut at the same places whatever precedes it and
//! a chapter on its own lines up with the book's units. Text without headings shorter than half
//! the target size is a single unit.
use super::minhash::{mix, Token};
use std::ops::Range;

/// A heading always starts a new unit, except within this many characters of the previous
/// heading: back-to-back headings ("第一章" then "第一节") should not each make a unit.
const HEADING_MIN_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq)]
pub struct UnitSpan {
    pub tokens: Range<usize>,
    /// Bytes of the original text the unit covers; the units of a document tile its text.
    pub bytes: Range<usize>,
    pub chars: usize,
}

/// Units of about `target_chars` normalised characters: at least half that (unless a heading or
/// the end of the text comes first), at most four times that.
pub fn split(tokens: &[Token], text_len: usize, target_chars: usize) -> Vec<UnitSpan> {
    let min = (target_chars / 2).max(1);
    let max = target_chars.saturating_mul(4).max(min);
    // Fire with probability chars/min per token: about `min` characters to a cut after `min`.
    let per_char = (u32::MAX as u64) / min as u64;
    let mut cuts = vec![0usize];
    let (mut chars, mut rolling, mut pending) = (0usize, 0u64, false);
    let mut since_heading = usize::MAX;
    for (i, token) in tokens.iter().enumerate() {
        if token.heading {
            if i > 0 && since_heading >= HEADING_MIN_CHARS {
                cuts.push(i);
                chars = 0;
                pending = false;
            }
            since_heading = 0;
        } else if chars >= max {
            cuts.push(i);
            chars = 0;
            pending = false;
        }
        since_heading = since_heading.saturating_add(token.chars as usize);
        chars += token.chars as usize;
        rolling = (rolling << 1).wrapping_add(mix(token.hash));
        if chars >= min && (rolling >> 32) < per_char.saturating_mul(token.chars as u64) {
            pending = true;
        }
        if pending && token.sentence_end && i + 1 < tokens.len() {
            cuts.push(i + 1);
            chars = 0;
            pending = false;
        }
    }
    cuts.push(tokens.len());
    let byte_at = |cut: usize, first: bool| {
        if first {
            0
        } else if cut >= tokens.len() {
            text_len
        } else {
            tokens[cut].start as usize
        }
    };
    cuts.windows(2)
        .filter(|w| w[1] > w[0])
        .enumerate()
        .map(|(n, w)| UnitSpan {
            tokens: w[0]..w[1],
            bytes: byte_at(w[0], n == 0)..byte_at(w[1], false),
            chars: tokens[w[0]..w[1]].iter().map(|t| t.chars as usize).sum(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::minhash::{ShingleKind, Tokenizer};

    fn sentences(n: usize, seed: u64) -> String {
        let alphabet: Vec<char> = "糖尿病患者血压治疗药物胰岛素检查诊断临床指南研究方法结果"
            .chars()
            .collect();
        let mut state = seed;
        let mut text = String::new();
        for _ in 0..n {
            for _ in 0..20 {
                state = mix(state);
                text.push(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            text.push('。');
        }
        text
    }

    fn unit_texts(text: &str, target: usize) -> Vec<String> {
        let tokens = Tokenizer::new(ShingleKind::Char, None).tokens(text);
        split(&tokens, text.len(), target)
            .into_iter()
            .map(|u| text[u.bytes].to_string())
            .collect()
    }

    #[test]
    fn units_tile_the_text_within_size_bounds() {
        let text = sentences(500, 1);
        let units = unit_texts(&text, 1000);
        assert_eq!(units.concat(), text);
        assert!(units.len() > 3, "{}", units.len());
        for unit in &units[..units.len() - 1] {
            let chars = unit.chars().filter(|c| *c != '。').count();
            assert!((500..=4000).contains(&chars), "{chars}");
        }
    }

    #[test]
    fn a_chapter_alone_lines_up_with_the_book_holding_it() {
        let chapter = format!("第三章 并发症\n{}", sentences(300, 2));
        let book = format!(
            "{}\n{chapter}\n第四章 预防\n{}",
            sentences(300, 3),
            sentences(300, 4)
        );
        let in_book = unit_texts(&book, 1000);
        let alone = unit_texts(&chapter, 1000);
        let shared = alone
            .iter()
            .filter(|u| in_book.iter().any(|b| b.trim_end() == u.trim_end()))
            .count();
        assert!(shared + 1 >= alone.len(), "{shared} of {}", alone.len());
    }
}
