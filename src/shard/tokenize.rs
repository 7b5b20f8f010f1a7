//! WordPiece tokenisation exactly like HF `BertTokenizerFast` on a bert-base-chinese style
//! vocabulary (BertNormalizer with lowercasing and CJK spacing, BertPreTokenizer, `##` WordPiece),
//! without special tokens: the ids the Megatron shards hold. Checked against the `tokenizers`
//! crate (the engine under `BertTokenizerFast`) on real text, and against Python's golden file.
use ahash::AHashMap;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use unicode_categories::UnicodeCategories;
use unicode_normalization::char::decompose_canonical;

/// bert-base-chinese's vocabulary, shipped in configs/vocab (Apache-2.0).
const BERT_BASE_CHINESE: &str = include_str!("../../configs/vocab/bert-base-chinese-vocab.txt");
/// THUOCL's medical lexicon, shipped in configs/lexicons (MIT).
const THUOCL_MEDICAL: &str = include_str!("../../configs/lexicons/THUOCL_medical.txt");

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenizeConfig {
    /// `"bert-base-chinese"` (built in), `"run"` (this run's own `<output>/vocab/vocab.txt`, made
    /// by the vocab phase), `"none"` (no tokenised outputs), or the path of a `vocab.txt`.
    pub vocab: String,
    /// Word lists for jieba (whole-word masking): `"THUOCL_medical"` (built in) or paths.
    pub lexicons: Vec<String>,
    /// Write `megatron/{train,valid}_text_sentence.{bin,idx}`.
    pub megatron: bool,
    /// Write the whole-word-mask word starts (`megatron/*_wordstart.*`) and `wwm/*.ref.txt`.
    pub whole_word_mask: bool,
    /// Documents tokenised together in parallel; bounds the memory of the publish phase.
    pub batch_documents: usize,
}

impl Default for TokenizeConfig {
    fn default() -> Self {
        TokenizeConfig {
            vocab: "bert-base-chinese".into(),
            lexicons: vec!["THUOCL_medical".into()],
            megatron: true,
            whole_word_mask: true,
            batch_documents: 512,
        }
    }
}

impl TokenizeConfig {
    pub fn validate(&self) -> Result<()> {
        crate::config::check_range(
            "tokenize.batch_documents",
            self.batch_documents,
            1,
            1_000_000,
        )?;
        if self.vocab.trim().is_empty() {
            bail!("key `tokenize.vocab`: give \"bert-base-chinese\", \"run\", \"none\" or a path");
        }
        Ok(())
    }

    pub fn enabled(&self) -> bool {
        self.vocab != "none"
    }

    /// The vocabulary text this run tokenises with; `run_root` resolves `"run"`.
    pub fn vocab_text(&self, run_root: &Path) -> Result<String> {
        match self.vocab.as_str() {
            "bert-base-chinese" => Ok(BERT_BASE_CHINESE.to_string()),
            other => {
                let path = if other == "run" {
                    run_root.join("vocab").join("vocab.txt")
                } else {
                    PathBuf::from(other)
                };
                std::fs::read_to_string(&path).with_context(|| {
                    format!("key `tokenize.vocab`: cannot read {}", path.display())
                })
            }
        }
    }

    /// Each lexicon's text (built-in names resolved).
    pub fn lexicon_texts(&self) -> Result<Vec<String>> {
        self.lexicons
            .iter()
            .map(|name| match name.as_str() {
                "THUOCL_medical" => Ok(THUOCL_MEDICAL.to_string()),
                path => std::fs::read_to_string(path)
                    .with_context(|| format!("key `tokenize.lexicons`: cannot read {path}")),
            })
            .collect()
    }
}

/// One sentence's tokens: ids and byte spans in the sentence.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Tokens {
    pub ids: Vec<u32>,
    pub offsets: Vec<(usize, usize)>,
}

/// BERT's uncased WordPiece tokeniser, the same function as the `tokenizers` crate's
/// BertNormalizer(clean_text, handle_chinese_chars, strip_accents = lowercase = true) +
/// BertPreTokenizer + WordPiece(`##`, [UNK], 100 characters) — `tests` below check it against that
/// crate on real text — but one pass over the characters with no per-character bookkeeping
/// structures, which makes it about ten times faster: the crate tracks alignments for every
/// normalisation step.
pub struct WordPieceTokenizer {
    vocab: AHashMap<String, u32>,
    /// Ids of one-character tokens, by code point, for the Basic Multilingual Plane.
    single_chars: Vec<u32>,
    vocab_size: usize,
    unk_id: u32,
}

const NO_ID: u32 = u32::MAX;
const MAX_WORD_CHARS: usize = 100;

impl WordPieceTokenizer {
    /// From the text of a `vocab.txt`: one token per line, the line number is the id. Lines are
    /// split on `\n` only: bert-base-chinese has U+2028 inside a token line.
    pub fn from_vocab_text(text: &str) -> Result<WordPieceTokenizer> {
        let lines: Vec<&str> = text
            .strip_suffix('\n')
            .unwrap_or(text)
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .collect();
        let mut vocab = AHashMap::with_capacity(lines.len());
        let mut single_chars = vec![NO_ID; 0x10000];
        for (id, token) in lines.iter().enumerate() {
            vocab.insert(token.to_string(), id as u32);
            let mut chars = token.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                if let Some(slot) = single_chars.get_mut(c as usize) {
                    *slot = id as u32;
                }
            }
        }
        let Some(&unk_id) = vocab.get("[UNK]") else {
            bail!("the vocabulary has no [UNK] token");
        };
        Ok(WordPieceTokenizer {
            vocab,
            single_chars,
            vocab_size: lines.len(),
            unk_id,
        })
    }

    /// Number of ids (lines of vocab.txt): decides the Megatron token width.
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    pub fn unk_id(&self) -> u32 {
        self.unk_id
    }

    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.vocab.get(token).copied()
    }

    pub fn encode(&self, sentence: &str) -> Tokens {
        let mut out = Tokens::default();
        let mut word = Word::default();
        for (start, c) in sentence.char_indices() {
            let origin = (start, start + c.len_utf8());
            if c.is_ascii() {
                match c {
                    '\t' | '\n' | '\r' | ' ' => self.flush(&mut word, &mut out),
                    '\0'..='\x1f' | '\x7f' => {} // control characters are removed
                    _ => self.push_normalized(c.to_ascii_lowercase(), origin, &mut word, &mut out),
                }
            } else if matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF) {
                // Common CJK ideographs: no decomposition, no case: a word of their own.
                self.flush(&mut word, &mut out);
                word.push(c, origin);
                self.flush(&mut word, &mut out);
            } else {
                self.push_general(c, origin, &mut word, &mut out);
            }
        }
        self.flush(&mut word, &mut out);
        out
    }

    /// BertNormalizer's steps for any character, then the pre-tokenizer's split rules.
    fn push_general(&self, c: char, origin: (usize, usize), word: &mut Word, out: &mut Tokens) {
        if c == '\0' || c == '\u{fffd}' || (c.is_other() && !matches!(c, '\t' | '\n' | '\r')) {
            return;
        }
        if c.is_whitespace() {
            self.flush(word, out);
            return;
        }
        let chinese = is_bert_chinese_char(c);
        if chinese {
            self.flush(word, out);
        }
        decompose_canonical(c, |d| {
            if d.is_mark_nonspacing() {
                return;
            }
            for l in d.to_lowercase() {
                self.push_normalized(l, origin, word, out);
            }
        });
        if chinese {
            self.flush(word, out);
        }
    }

    /// BertPreTokenizer: whitespace separates words, punctuation is a word of its own.
    fn push_normalized(&self, c: char, origin: (usize, usize), word: &mut Word, out: &mut Tokens) {
        if c.is_whitespace() {
            self.flush(word, out);
        } else if c.is_ascii_punctuation() || c.is_punctuation() {
            self.flush(word, out);
            word.push(c, origin);
            self.flush(word, out);
        } else {
            word.push(c, origin);
        }
    }

    /// WordPiece on the word so far: greedy longest match, `##` for later pieces, and the whole
    /// word as one [UNK] if some part matches nothing or it is longer than 100 characters.
    fn flush(&self, word: &mut Word, out: &mut Tokens) {
        let n = word.origins.len();
        if n == 0 {
            return;
        }
        let span = (word.origins[0].0, word.origins[n - 1].1);
        if n == 1 {
            let c = word.text.chars().next().unwrap_or(' ');
            let id = match self.single_chars.get(c as usize) {
                Some(&id) => id,
                None => self.vocab.get(word.text.as_str()).copied().unwrap_or(NO_ID),
            };
            out.ids.push(if id == NO_ID { self.unk_id } else { id });
            out.offsets.push(span);
            word.clear();
            return;
        }
        let first_piece = out.ids.len();
        let mut ok = n <= MAX_WORD_CHARS;
        let mut start = 0;
        while ok && start < n {
            let mut end = n;
            let mut found = None;
            while end > start {
                let piece = &word.text[word.starts[start]..word.byte_end(end)];
                let id = if start == 0 {
                    self.vocab.get(piece).copied()
                } else {
                    word.key.clear();
                    word.key.push_str("##");
                    word.key.push_str(piece);
                    self.vocab.get(word.key.as_str()).copied()
                };
                if let Some(id) = id {
                    found = Some(id);
                    break;
                }
                end -= 1;
            }
            match found {
                Some(id) => {
                    out.ids.push(id);
                    out.offsets
                        .push((word.origins[start].0, word.origins[end - 1].1));
                    start = end;
                }
                None => ok = false,
            }
        }
        if !ok {
            out.ids.truncate(first_piece);
            out.offsets.truncate(first_piece);
            out.ids.push(self.unk_id);
            out.offsets.push(span);
        }
        word.clear();
    }
}

/// The `tokenizers` crate's CJK ranges (0x2B920 where Google's BERT has 0x2B820).
fn is_bert_chinese_char(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF
        | 0x3400..=0x4DBF
        | 0x20000..=0x2A6DF
        | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F
        | 0x2B920..=0x2CEAF
        | 0xF900..=0xFAFF
        | 0x2F800..=0x2FA1F)
}

/// The normalised word being built, with each character's span in the original sentence.
#[derive(Default)]
struct Word {
    text: String,
    /// Byte start of each character in `text`.
    starts: Vec<usize>,
    origins: Vec<(usize, usize)>,
    /// Scratch for `##` lookups.
    key: String,
}

impl Word {
    fn push(&mut self, c: char, origin: (usize, usize)) {
        self.starts.push(self.text.len());
        self.text.push(c);
        self.origins.push(origin);
    }

    /// Byte end of the first `chars` characters.
    fn byte_end(&self, chars: usize) -> usize {
        self.starts.get(chars).copied().unwrap_or(self.text.len())
    }

    fn clear(&mut self) {
        self.text.clear();
        self.starts.clear();
        self.origins.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The golden file holds Python transformers' ids (with [CLS]/[SEP]) for 15 sentences.
    #[test]
    fn matches_python_golden_tokenisation() {
        let tokenizer = WordPieceTokenizer::from_vocab_text(BERT_BASE_CHINESE).unwrap();
        assert_eq!(tokenizer.vocab_size(), 21128);
        let golden = std::fs::read_to_string(
            "../shared/lexicons/hf-reference/bert-base-chinese-golden.jsonl",
        )
        .unwrap();
        let mut checked = 0;
        for line in golden.lines() {
            let record: serde_json::Value = serde_json::from_str(line).unwrap();
            let ids: Vec<u32> = record["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as u32)
                .collect();
            let tokens = tokenizer.encode(record["text"].as_str().unwrap());
            assert_eq!(tokens.ids, ids[1..ids.len() - 1], "{}", record["text"]);
            checked += 1;
        }
        assert_eq!(checked, 15);
    }

    #[test]
    fn run_vocab_is_the_output_folders() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("vocab")).unwrap();
        std::fs::write(dir.path().join("vocab/vocab.txt"), "[PAD]\n[UNK]\n甲\n").unwrap();
        let config = TokenizeConfig {
            vocab: "run".into(),
            ..TokenizeConfig::default()
        };
        let text = config.vocab_text(dir.path()).unwrap();
        let tokenizer = WordPieceTokenizer::from_vocab_text(&text).unwrap();
        assert_eq!(tokenizer.vocab_size(), 3);
        assert_eq!(tokenizer.encode("甲乙").ids, vec![2, 1]);
        let missing = config.vocab_text(&dir.path().join("nothing")).unwrap_err();
        assert!(missing.to_string().contains("tokenize.vocab"), "{missing}");
    }

    /// The `tokenizers` crate configured like bert-base-chinese's tokenizer.json.
    fn reference(vocab_text: &str) -> tokenizers::Tokenizer {
        use tokenizers::models::wordpiece::WordPiece;
        let mut vocab = AHashMap::new();
        for (id, token) in vocab_text.split('\n').enumerate() {
            vocab.insert(token.to_string(), id as u32);
        }
        let model = WordPiece::builder()
            .vocab(vocab)
            .unk_token("[UNK]".into())
            .continuing_subword_prefix("##".into())
            .max_input_chars_per_word(100)
            .build()
            .unwrap();
        let mut tokenizer = tokenizers::Tokenizer::new(model);
        tokenizer.with_normalizer(Some(tokenizers::normalizers::bert::BertNormalizer::new(
            true, true, None, true,
        )));
        tokenizer.with_pre_tokenizer(Some(tokenizers::pre_tokenizers::bert::BertPreTokenizer));
        tokenizer
    }

    /// Same ids and byte offsets as the `tokenizers` crate, sentence by sentence, on real files
    /// of every kind here and on the hard cases of Unicode.
    #[test]
    fn same_as_tokenizers_crate() {
        let fast = WordPieceTokenizer::from_vocab_text(BERT_BASE_CHINESE).unwrap();
        let slow = reference(BERT_BASE_CHINESE);
        let mut sentences: Vec<String> = [
            "Ünïcödé ÀÉÎÕÜ ﬁne Straße İstanbul ΣΊΣΥΦΟΣ ﬀ",
            "豈更車 (U+F900 compatibility ideographs) 𠀀𪜀 한국어 カタカナ ｈｅｌｌｏ　ＷＯＲＬＤ",
            "zero\u{200b}width\u{feff}joiner\u{0}nul\u{fffd}bad\x07bell\u{85}nel\u{a0}nbsp",
            "e\u{301}\u{327}combining   10㎝ 5㎎ HbA1c mmHg Ⅱ Ⅵ 😀 #hash ##x “引号”…——",
            &"a".repeat(101),
            &format!("{}b", "x".repeat(99)),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for path in [
            "../shared/corpus/text/yidu/subtask1_training_part1.txt",
            "../shared/corpus/text/chinaxiv/md/ChinaXiv-201812.00129V1.md",
            "../shared/corpus/text/exam/CMB-Clin_CMB-test-qa.json",
        ] {
            let text = std::fs::read_to_string(path).unwrap();
            sentences.extend(
                text.lines()
                    .map(|l| l.chars().take(2000).collect::<String>()),
            );
        }
        let gbk = std::fs::read("../shared/corpus/text/books/TCM-Ancient-Books/000-神农本草经.txt")
            .unwrap();
        let (book, _, _) = encoding_rs::GB18030.decode(&gbk);
        sentences.extend(book.lines().map(str::to_string));
        for s in &sentences {
            let expected = slow.encode(s.as_str(), false).unwrap();
            let ours = fast.encode(s);
            assert_eq!(ours.ids, expected.get_ids(), "{s:?}");
            assert_eq!(ours.offsets, expected.get_offsets(), "{s:?}");
        }
        assert!(sentences.len() > 3000);
    }
}
