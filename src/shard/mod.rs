//! Output shards: the kept documents as `docs/part-*.jsonl.zst`, and Google-BERT pretraining
//! text (`bert/{train,valid}-*.txt`: one sentence per line, a blank line between documents).
pub mod sentences;
pub mod writer;

use crate::config::check_range;
use crate::document::Document;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::path::Path;
use writer::ShardWriter;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BertConfig {
    /// Share of documents in the validation split, chosen by a hash of the document id.
    pub valid_fraction: f64,
    /// Longer sentences are cut (after ；，、 where possible).
    pub max_sentence_chars: usize,
    /// A text shard rolls over after this many bytes.
    pub shard_bytes: u64,
}

impl Default for BertConfig {
    fn default() -> Self {
        BertConfig {
            valid_fraction: 0.01,
            max_sentence_chars: 256,
            shard_bytes: 256 << 20,
        }
    }
}

impl BertConfig {
    pub fn validate(&self) -> Result<()> {
        check_range("bert.valid_fraction", self.valid_fraction, 0.0, 0.5)?;
        check_range(
            "bert.max_sentence_chars",
            self.max_sentence_chars,
            16,
            100_000,
        )?;
        check_range("bert.shard_bytes", self.shard_bytes, 4096, u64::MAX)
    }

    /// Deterministic split: the same document lands in the same split in every run.
    pub fn is_valid(&self, doc_id: &str) -> bool {
        let bucket = xxhash_rust::xxh3::xxh3_64_with_seed(doc_id.as_bytes(), 0x5EED) % 1_000_000;
        (bucket as f64) < self.valid_fraction * 1_000_000.0
    }
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct PublishStats {
    pub docs: u64,
    pub chars: u64,
    pub train_docs: u64,
    pub valid_docs: u64,
    pub train_sentences: u64,
    pub valid_sentences: u64,
    /// Documents by length in characters: bucket k counts lengths in [2^k, 2^(k+1)).
    pub length_histogram: Vec<u64>,
}

impl PublishStats {
    fn count_length(&mut self, chars: usize) {
        let bucket = (usize::BITS - chars.max(1).leading_zeros() - 1) as usize;
        if self.length_histogram.len() <= bucket {
            self.length_histogram.resize(bucket + 1, 0);
        }
        self.length_histogram[bucket] += 1;
    }
}

/// Writes docs and BERT text from the kept documents, in their order.
pub fn publish(
    docs: impl Iterator<Item = Result<Document>>,
    out: &Path,
    docs_shard_bytes: u64,
    config: &BertConfig,
) -> Result<PublishStats> {
    let mut doc_shards = ShardWriter::new(&out.join("docs"), "part", true, docs_shard_bytes)?;
    let mut train = ShardWriter::new(&out.join("bert"), "train", false, config.shard_bytes)?;
    let mut valid = ShardWriter::new(&out.join("bert"), "valid", false, config.shard_bytes)?;
    let mut stats = PublishStats::default();
    let mut block = String::new();
    for doc in docs {
        let doc = doc?;
        doc_shards.write_json(&doc)?;
        stats.docs += 1;
        let chars = doc.text.chars().count();
        stats.chars += chars as u64;
        stats.count_length(chars);
        let sentences = sentences::split(&doc.text, config.max_sentence_chars);
        if sentences.is_empty() {
            continue;
        }
        block.clear();
        for s in &sentences {
            block.push_str(s);
            block.push('\n');
        }
        block.push('\n');
        if config.is_valid(&doc.id) {
            valid.write_record(block.as_bytes())?;
            stats.valid_docs += 1;
            stats.valid_sentences += sentences.len() as u64;
        } else {
            train.write_record(block.as_bytes())?;
            stats.train_docs += 1;
            stats.train_sentences += sentences.len() as u64;
        }
    }
    doc_shards.finish()?;
    train.finish()?;
    valid.finish()?;
    Ok(stats)
}
