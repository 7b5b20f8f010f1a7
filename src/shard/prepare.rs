//! One document made ready for every output shard: its split, its sentences (BERT text lines),
//! and per sentence the WordPiece ids and whole-word annotations. Pure and per document, so
//! the publish phase runs it in parallel and writes the results in order.
use super::tokenize::{TokenizeConfig, WordPieceTokenizer};
use super::wwm;
use super::{sentences, BertConfig};
use crate::document::Document;
use crate::segment::Segmenter;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::path::Path;

/// Tokeniser and segmenter for the tokenised outputs.
pub struct Encoder {
    pub tokenizer: WordPieceTokenizer,
    /// None when whole-word masking is off.
    segmenter: Option<Segmenter>,
    /// `is_continuation[id]`: the token is a `##` WordPiece piece.
    is_continuation: Vec<bool>,
    pub megatron: bool,
}

impl Encoder {
    /// None when `tokenize.vocab = "none"`.
    pub fn from_config(config: &TokenizeConfig, run_root: &Path) -> Result<Option<Encoder>> {
        if !config.enabled() {
            return Ok(None);
        }
        let vocab = config.vocab_text(run_root)?;
        let tokenizer = WordPieceTokenizer::from_vocab_text(&vocab)?;
        let is_continuation = vocab.split('\n').map(|t| t.starts_with("##")).collect();
        let segmenter = if config.whole_word_mask {
            Some(Segmenter::from_lexicon_texts(&config.lexicon_texts()?))
        } else {
            None
        };
        Ok(Some(Encoder {
            tokenizer,
            segmenter,
            is_continuation,
            megatron: config.megatron,
        }))
    }

    pub fn whole_word_mask(&self) -> bool {
        self.segmenter.is_some()
    }
}

#[derive(Serialize, Deserialize)]
pub struct Sentence {
    /// Where the sentence is in the document's text.
    pub span: Range<usize>,
    /// Empty when no tokenised output is asked for.
    pub ids: Vec<u32>,
    pub word_starts: Vec<u32>,
    pub chinese_ref: Vec<u32>,
}

#[derive(Serialize, Deserialize)]
pub struct PreparedDocument {
    pub doc: Document,
    pub valid: bool,
    pub sentences: Vec<Sentence>,
}

pub fn prepare(
    doc: Document,
    config: &BertConfig,
    encoder: Option<&Encoder>,
) -> Result<PreparedDocument> {
    let split = sentences::split(&doc.text, config.max_sentence_chars);
    let mut out = Vec::with_capacity(split.len());
    for text in split {
        // Sentences are slices of the text.
        let start = text.as_ptr() as usize - doc.text.as_ptr() as usize;
        let mut sentence = Sentence {
            span: start..start + text.len(),
            ids: Vec::new(),
            word_starts: Vec::new(),
            chinese_ref: Vec::new(),
        };
        if let Some(encoder) = encoder {
            let tokens = encoder.tokenizer.encode(text);
            if tokens.ids.is_empty() {
                // Nothing BERT can read (control characters only): dropped from every output
                // so text lines and token sequences stay one to one.
                continue;
            }
            if let Some(segmenter) = &encoder.segmenter {
                let words = segmenter.cut(text);
                let marks = wwm::mark_words(text, &tokens, &words, &encoder.is_continuation);
                sentence.word_starts = marks.word_starts;
                sentence.chinese_ref = marks.chinese_ref;
            }
            sentence.ids = tokens.ids;
        }
        out.push(sentence);
    }
    Ok(PreparedDocument {
        valid: config.is_valid(&doc.id),
        doc,
        sentences: out,
    })
}
