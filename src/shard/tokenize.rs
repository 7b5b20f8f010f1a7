//! WordPiece tokenisation exactly like HF `BertTokenizerFast` on a bert-base-chinese style
//! vocabulary (BertNormalizer with lowercasing and CJK spacing, BertPreTokenizer, `##` WordPiece),
//! built on the `tokenizers` crate, without special tokens: the ids the Megatron shards hold.
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
// The map type `tokenizers` takes for a vocabulary.
use ahash::AHashMap;
use std::path::{Path, PathBuf};
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::Tokenizer;

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

pub struct WordPieceTokenizer {
    tokenizer: Tokenizer,
    vocab_size: usize,
    unk_id: u32,
}

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
        for (id, token) in lines.iter().enumerate() {
            vocab.insert(token.to_string(), id as u32);
        }
        let Some(&unk_id) = vocab.get("[UNK]") else {
            bail!("the vocabulary has no [UNK] token");
        };
        let model = WordPiece::builder()
            .vocab(vocab)
            .unk_token("[UNK]".into())
            .continuing_subword_prefix("##".into())
            .max_input_chars_per_word(100)
            .build()
            .map_err(|e| anyhow::anyhow!("cannot build WordPiece: {e}"))?;
        let mut tokenizer = Tokenizer::new(model);
        tokenizer.with_normalizer(Some(BertNormalizer::new(true, true, None, true)));
        tokenizer.with_pre_tokenizer(Some(BertPreTokenizer));
        Ok(WordPieceTokenizer {
            tokenizer,
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

    pub fn encode(&self, sentence: &str) -> Result<Tokens> {
        let encoding = self
            .tokenizer
            .encode(sentence, false)
            .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?;
        Ok(Tokens {
            ids: encoding.get_ids().to_vec(),
            offsets: encoding.get_offsets().to_vec(),
        })
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
            let tokens = tokenizer.encode(record["text"].as_str().unwrap()).unwrap();
            assert_eq!(tokens.ids, ids[1..ids.len() - 1], "{}", record["text"]);
            checked += 1;
        }
        assert_eq!(checked, 15);
    }
}
