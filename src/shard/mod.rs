//! Output shards: the kept documents as `docs/part-*.jsonl.zst`, Google-BERT pretraining text
//! (`bert/{train,valid}-*.txt`: one sentence per line, a blank line between documents), and from
//! the same sentences in the same order, tokenised with the vocabulary: Megatron-LM datasets
//! (`megatron/{train,valid}_text_sentence.{bin,idx}`, one sequence per sentence, one document per
//! document) and whole-word-mask references (`megatron/*_wordstart.*`, `wwm/*.ref.txt`).
mod json;
pub mod megatron;
pub mod mlm;
pub mod prepare;
pub mod prepared;
pub mod sentences;
pub mod shuffle;
pub mod stats;
pub mod tokenize;
pub mod writer;
pub mod wwm;

use crate::config::check_range;
use crate::document::Document;
use anyhow::{bail, Result};
use megatron::{DType, IndexedDatasetWriter};
use mlm::{Instance, MlmConfig, Specials};
use prepare::{prepare, Encoder, PreparedDocument};
use rayon::prelude::*;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use stats::{PerShard, ShardCounts, TokenStats};
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
    /// If set, a text shard rolls over after this many tokens instead (needs a vocabulary).
    pub shard_tokens: Option<u64>,
    /// Publish documents in a seeded random order (see shard/shuffle.rs) instead of input order.
    pub shuffle: bool,
    pub shuffle_seed: u64,
}

impl Default for BertConfig {
    fn default() -> Self {
        BertConfig {
            valid_fraction: 0.01,
            max_sentence_chars: 256,
            shard_bytes: 256 << 20,
            shard_tokens: None,
            shuffle: false,
            shuffle_seed: 0,
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
        if let Some(tokens) = self.shard_tokens {
            check_range("bert.shard_tokens", tokens, 1000, u64::MAX)?;
        }
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
    #[serde(default)]
    pub length_histogram: Vec<u64>,
    /// Documents with exactly one sentence (Megatron's BERT samples need two).
    #[serde(default)]
    pub train_single_sentence_docs: u64,
    #[serde(default)]
    pub valid_single_sentence_docs: u64,
    /// None when `tokenize.vocab = "none"`.
    #[serde(default)]
    pub tokens: Option<TokenStats>,
    /// Every shard written, by path relative to the output folder, with what it holds.
    #[serde(default)]
    pub shards: Vec<(String, ShardCounts)>,
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

/// The documents (or prepared documents) to publish: in input order, or shuffled
/// (`bert.shuffle`). Preparing is per document, so shuffling before or after it gives the same.
pub fn ordered<'a, T: Serialize + DeserializeOwned + 'a>(
    docs: impl Iterator<Item = Result<T>> + 'a,
    buckets: usize,
    work: &Path,
    config: &BertConfig,
    id_of: fn(&T) -> &str,
) -> Result<Box<dyn Iterator<Item = Result<T>> + 'a>> {
    if !config.shuffle {
        return Ok(Box::new(docs));
    }
    Ok(Box::new(shuffle::shuffle(
        docs,
        &work.join("shuffle"),
        buckets,
        config.shuffle_seed,
        id_of,
    )?))
}

/// Documents prepared in parallel batches of `batch_documents` on `pool`, in order, each with
/// what came with it (its position, or nothing).
pub fn prepared_in_batches<'a, K: Send + 'a>(
    docs: impl Iterator<Item = Result<(K, Document)>> + 'a,
    config: &'a BertConfig,
    encoder: Option<&'a Encoder>,
    batch_documents: usize,
    pool: &'a rayon::ThreadPool,
) -> impl Iterator<Item = Result<(K, PreparedDocument)>> + 'a {
    let mut docs = docs.peekable();
    let mut ready = std::collections::VecDeque::new();
    std::iter::from_fn(move || {
        if ready.is_empty() && docs.peek().is_some() {
            let batch: Result<Vec<(K, Document)>> =
                docs.by_ref().take(batch_documents.max(1)).collect();
            let prepared = batch.and_then(|batch| {
                pool.install(|| {
                    batch
                        .into_par_iter()
                        .map(|(with, doc)| Ok((with, prepare(doc, config, encoder)?)))
                        .collect::<Result<Vec<_>>>()
                })
            });
            match prepared {
                Ok(prepared) => ready.extend(prepared.into_iter().map(Ok)),
                Err(e) => ready.push_back(Err(e)),
            }
        }
        ready.pop_front()
    })
}

/// What the publish phase writes, from the config.
pub struct PublishOptions<'a> {
    pub docs_shard_bytes: u64,
    pub docs_zstd_level: i32,
    pub bert: &'a BertConfig,
    /// None: no tokenised outputs.
    pub encoder: Option<&'a Encoder>,
    pub mlm: &'a MlmConfig,
    pub batch_documents: usize,
}

/// Writes docs, BERT text and (with an encoder) the tokenised outputs from the prepared
/// documents, in their order.
pub fn publish(
    docs: impl Iterator<Item = Result<PreparedDocument>>,
    out: &Path,
    options: &PublishOptions,
    pool: &rayon::ThreadPool,
) -> Result<PublishStats> {
    let PublishOptions {
        docs_shard_bytes,
        docs_zstd_level,
        bert: config,
        encoder,
        mlm: mlm_config,
        batch_documents,
    } = *options;
    if config.shard_tokens.is_some() && encoder.is_none() {
        bail!("key `bert.shard_tokens`: needs a vocabulary (`tokenize.vocab` is \"none\")");
    }
    let specials = match (mlm_config.enabled, encoder) {
        (false, _) => None,
        (true, Some(encoder)) => Some(Specials::of(encoder)?),
        (true, None) => {
            bail!("key `mlm.enabled`: needs a vocabulary (`tokenize.vocab` is \"none\")")
        }
    };
    let docs_writer = ShardWriter::new(&out.join("docs"), "part", true, docs_shard_bytes)?
        .with_level(docs_zstd_level);
    let mut outputs = Outputs::create(out, docs_writer, config, encoder, specials.is_some())?;
    let mut batch = Vec::with_capacity(batch_documents);
    let mut docs = docs.peekable();
    while docs.peek().is_some() {
        batch.clear();
        for doc in docs.by_ref().take(batch_documents.max(1)) {
            batch.push(doc?);
        }
        let prepared = std::mem::take(&mut batch);
        let mut instances: Vec<Vec<Instance>> = match &specials {
            Some(specials) => pool.install(|| {
                (0..prepared.len())
                    .into_par_iter()
                    .map(|i| mlm::instances(&prepared, i, mlm_config, specials))
                    .collect()
            }),
            None => Vec::new(),
        };
        for (i, doc) in prepared.into_iter().enumerate() {
            let doc_instances = instances.get_mut(i).map(std::mem::take).unwrap_or_default();
            outputs.write(doc, &doc_instances)?;
        }
    }
    outputs.finish(out)
}

/// Every shard writer of the publish phase, and the counts so far.
struct Outputs<'a> {
    config: &'a BertConfig,
    docs: ShardWriter,
    docs_counts: PerShard,
    /// A document's JSON line, reused so it grows to the longest once.
    line: Vec<u8>,
    /// train, valid
    splits: [Split; 2],
    unk_id: Option<u32>,
    stats: PublishStats,
}

/// The outputs of one split.
struct Split {
    text: ShardWriter,
    text_counts: PerShard,
    refs: Option<ShardWriter>,
    mlm: Option<ShardWriter>,
    mlm_counts: PerShard,
    megatron: Option<IndexedDatasetWriter>,
    word_starts: Option<IndexedDatasetWriter>,
    counts: ShardCounts,
}

impl Split {
    fn create(
        out: &Path,
        name: &str,
        config: &BertConfig,
        encoder: Option<&Encoder>,
        with_mlm: bool,
    ) -> Result<Split> {
        let text_limit = config.shard_tokens.unwrap_or(config.shard_bytes);
        let megatron = encoder.filter(|e| e.megatron);
        let prefix = out.join("megatron").join(format!("{name}_text_sentence"));
        let dtype = encoder.map(|e| DType::for_vocab(e.tokenizer.vocab_size()));
        Ok(Split {
            text: ShardWriter::new(&out.join("bert"), name, false, text_limit)?,
            text_counts: PerShard::default(),
            refs: match encoder.filter(|e| e.whole_word_mask()) {
                Some(_) => Some(
                    ShardWriter::new(&out.join("wwm"), name, false, u64::MAX)?
                        .with_extension("ref.txt"),
                ),
                None => None,
            },
            mlm: match with_mlm {
                true => Some(ShardWriter::new(
                    &out.join("mlm"),
                    name,
                    true,
                    config.shard_bytes,
                )?),
                false => None,
            },
            mlm_counts: PerShard::default(),
            megatron: match (megatron, dtype) {
                (Some(_), Some(dtype)) => Some(IndexedDatasetWriter::create(&prefix, dtype)?),
                _ => None,
            },
            word_starts: match megatron.filter(|e| e.whole_word_mask()) {
                Some(_) => Some(IndexedDatasetWriter::create(
                    &prefix.with_file_name(format!("{name}_text_sentence_wordstart")),
                    DType::U8,
                )?),
                None => None,
            },
            counts: ShardCounts::default(),
        })
    }
}

impl<'a> Outputs<'a> {
    fn create(
        out: &Path,
        docs: ShardWriter,
        config: &'a BertConfig,
        encoder: Option<&Encoder>,
        with_mlm: bool,
    ) -> Result<Outputs<'a>> {
        Ok(Outputs {
            config,
            docs,
            docs_counts: PerShard::default(),
            line: Vec::new(),
            splits: [
                Split::create(out, "train", config, encoder, with_mlm)?,
                Split::create(out, "valid", config, encoder, with_mlm)?,
            ],
            unk_id: encoder.map(|e| e.tokenizer.unk_id()),
            stats: PublishStats {
                tokens: encoder.map(|e| TokenStats::new(e.tokenizer.vocab_size())),
                ..PublishStats::default()
            },
        })
    }

    fn write(&mut self, prepared: PreparedDocument, instances: &[Instance]) -> Result<()> {
        let PreparedDocument {
            doc,
            valid,
            sentences,
        } = prepared;
        let stats = &mut self.stats;
        let n_sentences = sentences.len() as u64;
        let n_tokens: u64 = sentences.iter().map(|s| s.ids.len() as u64).sum();
        self.line.clear();
        json::push_document(&doc, &mut self.line)?;
        let shard = self
            .docs
            .write_record_sized(&self.line, self.line.len() as u64)?;
        self.docs_counts.add(shard, n_sentences, n_tokens);
        stats.docs += 1;
        let chars = doc.text.chars().count();
        stats.chars += chars as u64;
        stats.count_length(chars);
        if sentences.is_empty() {
            return Ok(());
        }
        let split = &mut self.splits[usize::from(valid)];
        // Sentences are slices of the text: with their line breaks they fit in this.
        let mut block = String::with_capacity(doc.text.len() + sentences.len() + 1);
        let mut refs = String::new();
        for s in &sentences {
            // Prepared documents may come back from disk (a Slurm run): never trust a span.
            let Some(text) = doc.text.get(s.span.clone()) else {
                bail!(
                    "{}: a prepared sentence lies outside its text: rerun without --resume",
                    doc.source
                );
            };
            block.push_str(text);
            block.push('\n');
            if let Some(megatron) = &mut split.megatron {
                megatron.add_sequence(&s.ids)?;
            }
            if let Some(word_starts) = &mut split.word_starts {
                word_starts.add_sequence(&s.word_starts)?;
            }
            if split.refs.is_some() {
                refs.push_str(&serde_json::to_string(&s.chinese_ref)?);
                refs.push('\n');
            }
            if let Some(tokens) = &mut stats.tokens {
                tokens.add_sentence(s.ids.len() as u64, valid);
                tokens.unk_tokens +=
                    s.ids.iter().filter(|&&id| Some(id) == self.unk_id).count() as u64;
            }
        }
        block.push('\n');
        let size = match self.config.shard_tokens {
            Some(_) => n_tokens,
            None => block.len() as u64,
        };
        let shard = split.text.write_record_sized(block.as_bytes(), size)?;
        split.text_counts.add(shard, n_sentences, n_tokens);
        if let Some(ref_writer) = &mut split.refs {
            ref_writer.write_record_into(shard, refs.as_bytes())?;
        }
        if let Some(mlm) = &mut split.mlm {
            for instance in instances {
                let shard = mlm.write_json_numbered(instance)?;
                split
                    .mlm_counts
                    .add(shard, 1, instance.input_ids.len() as u64);
            }
        }
        if let Some(megatron) = &mut split.megatron {
            megatron.end_document()?;
        }
        if let Some(word_starts) = &mut split.word_starts {
            word_starts.end_document()?;
        }
        split.counts.add(n_sentences, n_tokens);
        let (docs, sents, single) = if valid {
            (
                &mut stats.valid_docs,
                &mut stats.valid_sentences,
                &mut stats.valid_single_sentence_docs,
            )
        } else {
            (
                &mut stats.train_docs,
                &mut stats.train_sentences,
                &mut stats.train_single_sentence_docs,
            )
        };
        *docs += 1;
        *sents += n_sentences;
        *single += u64::from(n_sentences == 1);
        Ok(())
    }

    fn finish(self, out: &Path) -> Result<PublishStats> {
        let mut stats = self.stats;
        let docs_files = self.docs.finish()?;
        stats
            .shards
            .extend(self.docs_counts.named(out, &docs_files));
        for split in self.splits {
            let text_files = split.text.finish()?;
            if let Some(refs) = split.refs {
                let ref_files = refs.finish()?;
                let named = split.text_counts.clone().named(out, &ref_files);
                stats.shards.extend(named);
            }
            stats
                .shards
                .extend(split.text_counts.named(out, &text_files));
            if let Some(mlm) = split.mlm {
                let files = mlm.finish()?;
                stats.shards.extend(split.mlm_counts.named(out, &files));
            }
            for dataset in [split.megatron, split.word_starts].into_iter().flatten() {
                for file in dataset.finish()? {
                    stats
                        .shards
                        .push((stats::relative(out, &file), split.counts.clone()));
                }
            }
        }
        stats.shards.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(stats)
    }
}
