//! Text → tokens → n-gram shingles → MinHash signature. Tokens are the letters, digits and
//! ideographs of the text (lower-cased, full-width folded) or jieba words made of them, so copies
//! differing only in punctuation, punctuation width, spacing or line wrapping give equal shingles.
use crate::document::PAGE_BREAK;
use crate::segment::Segmenter;
use serde::{Deserialize, Serialize};

/// What one shingle is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShingleKind {
    /// n consecutive characters.
    Char,
    /// n consecutive jieba words.
    Word,
}

/// One token of the normalised text, with where it sits in the original.
#[derive(Debug, Clone, Copy)]
pub struct Token {
    pub hash: u64,
    /// Byte offset of the token's first character in the original text.
    pub start: u32,
    /// Characters in the token (1 for character tokens).
    pub chars: u32,
    /// A sentence terminator or page break follows this token: a good place to cut a unit.
    pub sentence_end: bool,
    /// First token of a heading line (Markdown heading, 第N章/节/篇…): units start here.
    pub heading: bool,
}

pub struct Tokenizer<'a> {
    kind: ShingleKind,
    segmenter: Option<&'a Segmenter>,
}

impl<'a> Tokenizer<'a> {
    /// `segmenter` is needed for word tokens only.
    pub fn new(kind: ShingleKind, segmenter: Option<&'a Segmenter>) -> Self {
        Tokenizer { kind, segmenter }
    }

    pub fn tokens(&self, text: &str) -> Vec<Token> {
        let mut tokens: Vec<Token> = Vec::new();
        // Byte offset of the current line while no token has been seen on it.
        let mut line_begin = Some(0usize);
        let push = |tokens: &mut Vec<Token>, hash, start: usize, chars, heading| {
            tokens.push(Token {
                hash,
                start: start.min(u32::MAX as usize) as u32,
                chars,
                sentence_end: false,
                heading,
            });
        };
        let on_separator = |tokens: &mut Vec<Token>, c: char| {
            if is_sentence_end(c) {
                if let Some(last) = tokens.last_mut() {
                    last.sentence_end = true;
                }
            }
        };
        match (self.kind, self.segmenter) {
            (ShingleKind::Word, Some(segmenter)) => {
                let mut offset = 0;
                for word in segmenter.cut(text) {
                    let start = offset;
                    offset += word.len();
                    let mut hash = 0u64;
                    let mut chars = 0;
                    for c in word.chars() {
                        if let Some(folded) = fold(c) {
                            hash = mix(hash ^ folded as u64);
                            chars += 1;
                        } else {
                            on_separator(&mut tokens, c);
                        }
                    }
                    if word.contains('\n') || word.contains(PAGE_BREAK) {
                        line_begin = Some(offset);
                        continue;
                    }
                    if chars > 0 {
                        let heading = line_begin.is_some_and(|b| is_heading(&text[b..]));
                        push(&mut tokens, hash, start, chars, heading);
                        line_begin = None;
                    }
                }
            }
            _ => {
                for (start, c) in text.char_indices() {
                    if c == '\n' || c == PAGE_BREAK {
                        on_separator(&mut tokens, c);
                        line_begin = Some(start + c.len_utf8());
                        continue;
                    }
                    match fold(c) {
                        Some(folded) => {
                            let heading = line_begin.is_some_and(|b| is_heading(&text[b..]));
                            push(&mut tokens, folded as u64, start, 1, heading);
                            line_begin = None;
                        }
                        None => on_separator(&mut tokens, c),
                    }
                }
            }
        }
        tokens
    }
}

/// Letters, digits and ideographs, lower-cased and with full-width forms folded to ASCII;
/// `None` for punctuation, symbols and spaces, which do not take part in shingles.
fn fold(c: char) -> Option<char> {
    let c = match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    };
    if !c.is_alphanumeric() {
        return None;
    }
    Some(if c.is_ascii() {
        c.to_ascii_lowercase()
    } else {
        c.to_lowercase().next().unwrap_or(c)
    })
}

fn is_sentence_end(c: char) -> bool {
    matches!(
        c,
        '。' | '！' | '？' | '；' | '!' | '?' | ';' | '\n' | PAGE_BREAK
    )
}

/// A line that opens a chapter or section: Markdown `#`, `第…章/节/篇/卷/部分/回`, a bracketed
/// label (`<篇名>`, `【病因】`), `Chapter N`.
/// Cutting units there lets a chapter published on its own line up with the book holding it.
fn is_heading(line: &str) -> bool {
    let line = line.split('\n').next().unwrap_or("").trim_start();
    if line.chars().count() > 40 {
        return false;
    }
    if line.starts_with(['#', '<', '【', '〈']) && !line.starts_with("<!") {
        return true;
    }
    if let Some(rest) = line.strip_prefix('第') {
        let number: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || "一二三四五六七八九十百零〇两".contains(*c))
            .collect();
        let after = rest[number.len()..].chars().next();
        return !number.is_empty()
            && matches!(after, Some('章' | '节' | '篇' | '卷' | '部' | '回'));
    }
    let lower = line.to_ascii_lowercase();
    lower.starts_with("chapter ") || lower.starts_with("part ")
}

/// splitmix64's finaliser: a fast, well-mixed 64-bit hash step.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One-permutation MinHash with optimal densification (Shrivastava, ICML 2017): each shingle is
/// hashed once and lands in one of `num_perm` bins, each bin keeps its minimum, and an empty bin
/// borrows the value of the first non-empty bin on its own fixed probe sequence. Same estimator
/// as classic MinHash (share of equal positions) at O(1) per shingle instead of O(num_perm).
pub struct MinHasher {
    ngram: usize,
    bins: usize,
    seed: u64,
}

impl MinHasher {
    pub fn new(num_perm: usize, ngram: usize, seed: u64) -> Self {
        MinHasher {
            ngram: ngram.max(1),
            bins: num_perm.max(1),
            seed,
        }
    }

    pub fn num_perm(&self) -> usize {
        self.bins
    }

    /// The shingle hashes of a run of tokens: each window of `ngram` tokens, or the whole run
    /// when it is shorter than that.
    pub fn shingles<'t>(&self, tokens: &'t [Token]) -> impl Iterator<Item = u64> + 't {
        let width = self.ngram.min(tokens.len().max(1));
        let seed = self.seed;
        tokens.windows(width).map(move |window| {
            let mut h = seed;
            for t in window {
                h = mix(h ^ t.hash);
            }
            h
        })
    }

    /// The signature of a run of tokens; all `u32::MAX` when there are none.
    pub fn signature(&self, tokens: &[Token], out: &mut Vec<u32>) {
        out.clear();
        out.resize(self.bins, u32::MAX);
        let bins = self.bins as u64;
        for h in self.shingles(tokens) {
            let bin = ((h >> 32) * bins) >> 32;
            let slot = &mut out[bin as usize];
            *slot = (*slot).min(h as u32);
        }
        if out.iter().all(|v| *v == u32::MAX) {
            return;
        }
        let filled = out.clone();
        for (i, slot) in out.iter_mut().enumerate() {
            if filled[i] != u32::MAX {
                continue;
            }
            // An empty bin takes the value of the first filled bin of its own probe sequence;
            // some bin is filled, so the sequence ends.
            let borrowed = (0u64..)
                .map(|attempt| {
                    let probe = mix(self.seed ^ ((i as u64) << 32) ^ attempt);
                    filled[(((probe >> 32) * bins) >> 32) as usize]
                })
                .find(|&value| value != u32::MAX);
            if let Some(value) = borrowed {
                *slot = value;
            }
        }
    }
}

/// Share of equal positions: an unbiased estimate of the Jaccard similarity of the shingle sets.
pub fn estimated_jaccard(a: &[u32], b: &[u32]) -> f64 {
    let equal = a.iter().zip(b).filter(|(x, y)| x == y).count();
    equal as f64 / a.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signature(text: &str) -> Vec<u32> {
        let tokens = Tokenizer::new(ShingleKind::Char, None).tokens(text);
        let mut sig = Vec::new();
        MinHasher::new(128, 5, 7).signature(&tokens, &mut sig);
        sig
    }

    #[test]
    fn punctuation_width_and_wrapping_do_not_change_the_signature() {
        let a = "糖尿病患者应定期监测血糖，并记录结果（每日2次）。\n胰岛素治疗需个体化。";
        let b = "糖尿病患者应定期监测血糖,并记录\n结果(每日２次).  胰岛素治疗需个体化.";
        assert_eq!(signature(a), signature(b));
    }

    #[test]
    fn estimate_tracks_true_similarity() {
        let base: String = "二甲双胍是2型糖尿病患者控制高血糖的一线用药和药物联合中的基本用药"
            .repeat(3)
            .chars()
            .enumerate()
            .map(|(i, c)| if i % 50 == 49 { '甲' } else { c })
            .collect();
        let other = "高血压患者应限制钠盐摄入，增加钾摄入，控制体重，戒烟限酒，适当运动";
        assert!(estimated_jaccard(&signature(&base), &signature(&base)) == 1.0);
        assert!(estimated_jaccard(&signature(&base), &signature(other)) < 0.1);
    }

    #[test]
    fn headings_and_sentence_ends_are_marked() {
        let tokens =
            Tokenizer::new(ShingleKind::Char, None).tokens("前言。\n第二章 糖尿病\n<篇名>正文");
        assert!(tokens[1].sentence_end);
        assert!(tokens[2].heading && !tokens[5].heading);
        assert!(tokens[8].heading, "a bracketed label heads its line");
    }
}
