//! A WordPiece vocabulary made from the user's own corpus, and the proof that it is better:
//! train one from scratch, extend a base vocab (ids unchanged), or fill its [unusedN] slots;
//! optionally add frequent whole medical words; export for HF `transformers`; evaluate.
pub mod counting;
pub mod eval;
pub mod export;
pub mod extend;
pub mod fill_unused;
pub mod train;
pub mod words;

use crate::config::check_range;
use crate::document::Document;

use crate::ingest::framed;
use crate::shard::writer::AtomicFile;
use crate::shard::BertConfig;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const PAD: &str = "[PAD]";
pub const UNK: &str = "[UNK]";
pub const CLS: &str = "[CLS]";
pub const SEP: &str = "[SEP]";
pub const MASK: &str = "[MASK]";
pub const SPECIAL_TOKENS: [&str; 5] = [PAD, UNK, CLS, SEP, MASK];
/// WordPiece's prefix for a piece that continues a word.
pub const CONTINUATION: &str = "##";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VocabMode {
    /// No vocabulary is made.
    Off,
    /// A new WordPiece vocabulary of `size` tokens, trained on the corpus.
    Train,
    /// The base vocabulary, ids unchanged, with up to `add` missing tokens appended.
    Extend,
    /// The base vocabulary with its `[unusedN]` slots given to missing tokens (size unchanged).
    FillUnused,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VocabConfig {
    pub mode: VocabMode,
    /// Tokens in a trained vocabulary (train mode), whole words included.
    pub size: usize,
    /// A subword (and, in extend/fill-unused, a missing character) must occur this often.
    pub min_frequency: u64,
    /// The vocabulary to extend or fill, and the baseline of the report (BERT `vocab.txt`).
    pub base: PathBuf,
    /// Extend mode: at most this many tokens (characters, then subwords) are appended.
    pub add: usize,
    /// Train mode: every character token of `base` (`c`, and `##c` for non-Chinese characters)
    /// is kept, so the new vocabulary never covers fewer characters than the base one, whatever
    /// the corpus lacks.
    pub base_chars: bool,
    /// Lowercase (and strip accents) before WordPiece, as bert-base-chinese does.
    pub lowercase: bool,
    /// Whole words (WoBERT-style): this many frequent multi-character jieba words; 0 = none.
    pub words: usize,
    /// Medical lexicons (lines of `word [frequency]`): jieba dictionaries for `words`, and the
    /// terms whose tokenisation without [UNK] the report checks.
    pub lexicons: Vec<PathBuf>,
    /// Counting keeps at most this many distinct words in memory; beyond it the rarest are
    /// dropped (lossy counting, reported as `pruned_below`).
    pub max_distinct_words: usize,
}

impl Default for VocabConfig {
    fn default() -> Self {
        VocabConfig {
            mode: VocabMode::Off,
            size: 21128,
            min_frequency: 2,
            base: PathBuf::from("configs/vocab/bert-base-chinese-vocab.txt"),
            add: 1000,
            base_chars: true,
            lowercase: true,
            words: 0,
            lexicons: vec![PathBuf::from("configs/lexicons/THUOCL_medical.txt")],
            max_distinct_words: 4_000_000,
        }
    }
}

impl VocabConfig {
    pub fn validate(&self) -> Result<()> {
        if self.mode == VocabMode::Off {
            return Ok(());
        }
        check_range("vocab.size", self.size, 100, 1_000_000)?;
        check_range("vocab.min_frequency", self.min_frequency, 1, u64::MAX)?;
        check_range("vocab.add", self.add, 0, 1_000_000)?;
        check_range("vocab.words", self.words, 0, 1_000_000)?;
        check_range(
            "vocab.max_distinct_words",
            self.max_distinct_words,
            10_000,
            usize::MAX,
        )?;
        if self.mode == VocabMode::Train && self.words >= self.size / 2 {
            bail!(
                "key `vocab.words`: {} whole words leave too little room in a vocabulary of {}",
                self.words,
                self.size
            );
        }
        if (self.mode != VocabMode::Train || self.base_chars) && !self.base.is_file() {
            bail!("key `vocab.base`: {} is not a file", self.base.display());
        }
        for lexicon in &self.lexicons {
            if !lexicon.is_file() {
                bail!("key `vocab.lexicons`: {} is not a file", lexicon.display());
            }
        }
        Ok(())
    }
}

/// A BERT `vocab.txt`: one token per `\n`-terminated line. Split on `\n` only: bert-base-chinese
/// has U+2028 tokens that other line splitters break, shifting every later id.
pub fn read_vocab_txt(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read vocabulary {}", path.display()))?;
    let text = text.strip_suffix('\n').unwrap_or(&text);
    let tokens: Vec<String> = text
        .split('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t).to_string())
        .collect();
    for special in SPECIAL_TOKENS {
        if !tokens.iter().any(|t| t == special) {
            bail!("vocabulary {} has no {special} token", path.display());
        }
    }
    Ok(tokens)
}

/// What the `vocab` phase did, written to `vocab/vocab-report.json`.
#[derive(Debug, Serialize, Deserialize)]
pub struct VocabReport {
    pub mode: VocabMode,
    pub size: usize,
    pub counting: counting::CountStats,
    /// Tokens that are not in the base vocabulary, in id order (extend/fill-unused: all of them;
    /// train: the first 200).
    pub new_tokens: Vec<String>,
    pub whole_words: usize,
    /// On the validation split (documents the vocabulary was not made from), ours vs the base.
    pub held_out: Option<eval::Comparison>,
}

/// Where the per-partition counts and held-out texts go, under the output folder.
pub const COUNTS_DIR: &str = "work/vocab_counts";

fn counts_path(dir: &Path, partition: usize) -> PathBuf {
    dir.join(format!("p{partition:03}.counts"))
}

fn held_out_path(dir: &Path, partition: usize) -> PathBuf {
    dir.join(format!("p{partition:03}.heldout"))
}

/// The partitions of `partitions` whose counts are not saved yet.
pub fn missing_counts(root: &Path, partitions: impl Iterator<Item = usize>) -> Vec<usize> {
    let dir = root.join(COUNTS_DIR);
    partitions
        .filter(|&p| !counts_path(&dir, p).exists())
        .collect()
}

/// One partition's kept documents, in input order.
pub type PartitionDocuments<'a> = Box<dyn Iterator<Item = Result<Document>> + 'a>;

/// The phase's first step, per partition (a Slurm array task takes a share of them): counts the
/// words of the partition's training split and keeps its validation texts for the evaluation,
/// under `COUNTS_DIR`.
pub fn count_partitions<'a>(
    config: &VocabConfig,
    bert: &BertConfig,
    root: &Path,
    partitions: &[usize],
    documents_of: &dyn Fn(usize) -> Result<PartitionDocuments<'a>>,
    pool: &rayon::ThreadPool,
) -> Result<()> {
    let dir = root.join(COUNTS_DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let segmenter = if config.words > 0 {
        Some(crate::segment::Segmenter::new(&config.lexicons)?)
    } else {
        None
    };
    let counter = counting::Counter::new(config.lowercase, config.max_distinct_words);
    for partition in missing_counts(root, partitions.iter().copied()) {
        let mut held_out = AtomicFile::create(&held_out_path(&dir, partition))?;
        let mut buffer = Vec::new();
        let train_texts = documents_of(partition)?.filter_map(|d| match d {
            Ok(d) if bert.is_valid(&d.id) => framed::write(&mut held_out, &d.text, &mut buffer)
                .err()
                .map(Err),
            Ok(d) => Some(Ok(d.text)),
            Err(e) => Some(Err(e)),
        });
        let counts = counter.count(train_texts, segmenter.as_ref(), pool)?;
        held_out.finish()?;
        counts.save(&counts_path(&dir, partition))?;
    }
    Ok(())
}

/// The phase's second step, once every partition is counted: merges the counts in partition
/// order, builds the vocabulary, writes it under `out` with its report, and evaluates it on the
/// validation texts.
pub fn build_phase(
    config: &VocabConfig,
    root: &Path,
    partitions: &[usize],
    pool: &rayon::ThreadPool,
) -> Result<VocabReport> {
    let missing = missing_counts(root, partitions.iter().copied());
    if !missing.is_empty() {
        bail!(
            "{} of {} partitions have no word counts: run again with --resume",
            missing.len(),
            partitions.len()
        );
    }
    let dir = root.join(COUNTS_DIR);
    let counts = counting::WordCounts::merge(
        partitions
            .iter()
            .map(|&p| counting::WordCounts::load(&counts_path(&dir, p))),
        config.max_distinct_words,
    )?;
    let held_out_texts = partitions
        .iter()
        .flat_map(|&p| framed::read::<String>(&held_out_path(&dir, p)));
    build(config, counts, held_out_texts, root, pool)
}

fn build(
    config: &VocabConfig,
    counts: counting::WordCounts,
    held_out_texts: impl Iterator<Item = Result<String>>,
    out: &Path,
    pool: &rayon::ThreadPool,
) -> Result<VocabReport> {
    let base = match config.mode {
        VocabMode::Train if !config.base_chars => None,
        _ => Some(read_vocab_txt(&config.base)?),
    };
    let whole_words = words::select(&counts.words_jieba, config.words, config.min_frequency);
    let tokens = pool.install(|| make_tokens(config, &counts, base.as_deref(), &whole_words))?;

    let dir = out.join("vocab");
    std::fs::create_dir_all(&dir)?;
    let whole_words_in_vocab: Vec<&str> = whole_words
        .iter()
        .map(String::as_str)
        .filter(|w| tokens.iter().any(|t| t == w))
        .collect();
    let tokenizer = export::write_dir(&dir, &tokens, &whole_words_in_vocab, config.lowercase)?;

    let held_out = match &base {
        Some(base_tokens) => {
            let baseline = export::bert_tokenizer(base_tokens, &[], config.lowercase)?;
            let lexicon = eval::Lexicon::load(&config.lexicons)?;
            let comparison =
                eval::compare(&tokenizer, Some(&baseline), &lexicon, held_out_texts, pool)?;
            (comparison.ours.tokens > 0).then_some(comparison)
        }
        None => None,
    };

    let new_tokens: Vec<String> = match &base {
        Some(base_tokens) => {
            let known: std::collections::HashSet<&str> =
                base_tokens.iter().map(String::as_str).collect();
            let new = tokens.iter().filter(|t| !known.contains(t.as_str()));
            let limit = if config.mode == VocabMode::Train {
                200
            } else {
                usize::MAX
            };
            new.take(limit).cloned().collect()
        }
        None => Vec::new(),
    };
    let report = VocabReport {
        mode: config.mode,
        size: tokens.len(),
        counting: counts.stats,
        new_tokens,
        whole_words: whole_words_in_vocab.len(),
        held_out,
    };
    crate::run_dir::write_atomic(
        &dir.join("vocab-report.json"),
        &serde_json::to_vec_pretty(&report)?,
    )?;
    Ok(report)
}

/// The vocabulary, in id order, for the configured mode.
fn make_tokens(
    config: &VocabConfig,
    counts: &counting::WordCounts,
    base: Option<&[String]>,
    whole_words: &[String],
) -> Result<Vec<String>> {
    match (config.mode, base) {
        (VocabMode::Train, _) => {
            // The base's characters, word-initial and (as `##c`) inside words, are kept.
            let alphabet = base.map(train::single_characters).unwrap_or_default();
            let continuations = base.map(train::continuation_characters).unwrap_or_default();
            let room = config
                .size
                .saturating_sub(whole_words.len() + continuations.len());
            let mut tokens = train::train(&counts.words, room, config.min_frequency, alphabet)?;
            words::append_new(&mut tokens, &continuations);
            words::append_new(&mut tokens, whole_words);
            Ok(tokens)
        }
        (VocabMode::Extend, Some(base)) => Ok(extend::extend(
            base,
            counts,
            config.add,
            config.min_frequency,
            whole_words,
        )?),
        (VocabMode::FillUnused, Some(base)) => Ok(fill_unused::fill_unused(
            base,
            counts,
            config.min_frequency,
            whole_words,
        )?),
        (VocabMode::Off, _) | (_, None) => {
            bail!("no vocabulary to build in mode {:?}", config.mode)
        }
    }
}
