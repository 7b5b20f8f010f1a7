//! Near dedup, three phases between exact dedup and the vocabulary:
//! 1. `near-sign` (sign.rs): MinHash signatures of every document's units, one input
//!    partition at a time;
//! 2. `near-lsh` (lsh.rs): LSH buckets by band key, as tasks over shares of the keys, giving
//!    the edges between near-duplicate units;
//! 3. `near-dedup` (decisions.rs): the clusters those edges make, and one decision per affected
//!    document: dropped (reject `near-duplicate`, naming the kept document) or trimmed of its
//!    duplicate passages.
//!
//! The first two run as Slurm job arrays or, locally, as one task; the result is the same.
//! Later phases apply the decisions while streaming the documents, matching them by position
//! and id (`apply`).
use super::cluster::{Action, ClusterStats};
use super::exact::Position;
use super::lsh::{self, LshParams, LshStats};
use super::minhash::ShingleKind;
use super::signatures::SignatureFile;
use super::{decisions, sign};
use crate::config::check_range;
use crate::document::Document;
use crate::ingest::batches::PARTITIONS;
use crate::shard::writer::list_shards;
use crate::Config;
use anyhow::{bail, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NearDedupConfig {
    pub enabled: bool,
    /// `char`: n consecutive characters; `word`: n consecutive jieba words.
    pub shingle: ShingleKind,
    /// n, the shingle length in characters or words.
    pub ngram: usize,
    /// MinHash permutations per signature.
    pub num_perm: usize,
    /// Units whose estimated Jaccard similarity reaches this are near-duplicates.
    pub threshold: f64,
    /// LSH bands × rows (≤ num_perm); 0 and 0 derive them from `threshold` (18 × 7 for the
    /// defaults: a pair at Jaccard 0.7 becomes a candidate with probability 0.79, at 0.8 with 0.99).
    pub bands: usize,
    pub rows: usize,
    /// Check each LSH candidate pair's estimated Jaccard against `threshold` before joining.
    pub verify: bool,
    /// Documents are cut into units at every chapter/section heading, and stretches without
    /// headings into units of about this many characters (letters, digits, ideographs; at least
    /// half, at most four times) at content-defined sentence ends, so a book can match its
    /// chapters published elsewhere. Each document with several units also gets a whole-text
    /// signature, so copies are found even when their units do not line up.
    pub unit_chars: usize,
    /// Units with fewer characters are not compared (too little text to judge).
    pub min_unit_chars: usize,
    /// Units shorter than this need `short_threshold` instead (with `verify`): in an exam
    /// question of 100 characters, one changed word makes a different question.
    pub short_unit_chars: usize,
    pub short_threshold: f64,
    /// A document is dropped whole once this share of its characters is duplicated elsewhere.
    pub drop_share: f64,
    /// Below `drop_share`, cut the duplicated passages out of the document (else keep it whole).
    pub trim_partial: bool,
    /// Memory for LSH buckets: more units than fit are processed in hash-space partitions.
    pub memory_mb: u64,
    /// Seed of the MinHash permutations.
    pub seed: u64,
    /// User dictionaries for `shingle = "word"`.
    pub lexicons: Vec<PathBuf>,
}

impl Default for NearDedupConfig {
    fn default() -> Self {
        NearDedupConfig {
            enabled: true,
            shingle: ShingleKind::Char,
            ngram: 4,
            num_perm: 128,
            threshold: 0.7,
            bands: 0,
            rows: 0,
            verify: true,
            unit_chars: 2000,
            min_unit_chars: 30,
            short_unit_chars: 300,
            short_threshold: 0.95,
            drop_share: 0.5,
            trim_partial: true,
            memory_mb: 512,
            seed: 0x6d65_6463_6f72,
            lexicons: vec![PathBuf::from("configs/lexicons/THUOCL_medical.txt")],
        }
    }
}

impl NearDedupConfig {
    pub fn validate(&self) -> Result<()> {
        check_range("near_dedup.ngram", self.ngram, 1, 32)?;
        check_range("near_dedup.num_perm", self.num_perm, 8, 1024)?;
        check_range("near_dedup.threshold", self.threshold, 0.1, 1.0)?;
        check_range("near_dedup.unit_chars", self.unit_chars, 200, 10_000_000)?;
        check_range("near_dedup.drop_share", self.drop_share, 0.0, 1.0)?;
        check_range("near_dedup.short_threshold", self.short_threshold, 0.1, 1.0)?;
        check_range("near_dedup.memory_mb", self.memory_mb, 16, 1 << 30)?;
        if (self.bands == 0) != (self.rows == 0) {
            bail!("keys `near_dedup.bands` and `near_dedup.rows`: set both, or neither to derive them from the threshold");
        }
        if self.bands * self.rows > self.num_perm {
            bail!(
                "keys `near_dedup.bands` × `near_dedup.rows`: {} × {} exceeds num_perm {}",
                self.bands,
                self.rows,
                self.num_perm
            );
        }
        Ok(())
    }

    pub fn bands_rows(&self) -> (usize, usize) {
        if self.bands > 0 {
            (self.bands, self.rows)
        } else {
            // Verified candidates cost a comparison, missed ones a duplicate: favour recall.
            let false_negative_weight = if self.verify { 0.8 } else { 0.5 };
            lsh::bands_for_threshold(self.threshold, self.num_perm, false_negative_weight)
        }
    }
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct NearDedupStats {
    pub enabled: bool,
    pub bands: usize,
    pub rows: usize,
    pub documents: u64,
    pub units: u64,
    /// Units long enough to compare.
    pub signed_units: u64,
    pub text_mb: f64,
    pub clustering_seconds: f64,
    pub lsh: LshStats,
    pub clusters: ClusterStats,
    pub dropped_docs: u64,
    pub trimmed_docs: u64,
    /// Characters cut out of trimmed documents.
    pub trimmed_chars: u64,
    pub examples: Vec<ExamplePair>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExamplePair {
    pub action: Action,
    pub id: String,
    pub source: String,
    pub kept_id: String,
    pub kept_source: String,
    /// Share of the document's characters in units duplicated in kept documents.
    pub duplicate_share: f64,
    /// Estimated Jaccard of one duplicate unit and the kept unit of its cluster.
    pub unit_jaccard: f64,
    pub sample: String,
    pub kept_sample: String,
}

/// One line of `work/near_dedup/decided/decisions-*.jsonl.zst`, in document order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// Position of the document in input order (input, outcome).
    pub at: Position,
    pub id: String,
    pub action: Action,
    pub kept: Vec<String>,
    /// Trim: byte ranges of the text to cut out.
    #[serde(default)]
    pub removed: Vec<[u32; 2]>,
    #[serde(default)]
    pub removed_chars: u64,
}

/// Where each phase writes, under the work folder; each phase clears its own folder.
pub const SIGN_DIR: &str = "work/near_dedup/sign";
pub const LSH_DIR: &str = "work/near_dedup/lsh";
pub const DECIDED_DIR: &str = "work/near_dedup/decided";

/// Decision shards for publish (none when the phase is off).
pub fn decision_shards(root: &Path) -> Result<Vec<PathBuf>> {
    list_shards(&root.join(DECIDED_DIR), "decisions")
}

/// Reject shards for `rejects/`.
pub fn reject_shards(root: &Path) -> Result<Vec<PathBuf>> {
    list_shards(&root.join(DECIDED_DIR), "rejects")
}

/// The partitions (of those holding inputs) task `task` of `tasks` signs: all for one task.
pub fn partitions_of_task(
    partitions: &[usize],
    task: usize,
    tasks: usize,
) -> impl Iterator<Item = usize> + '_ {
    partitions
        .iter()
        .copied()
        .filter(move |p| p % tasks == task)
}

/// Documents in input order (the whole corpus's, or one partition's), each with its position.
pub type PositionedDocuments<'a> = Box<dyn Iterator<Item = Result<(Position, Document)>> + 'a>;

/// Phase 1, task `task` of `tasks`: signs its partitions, in parallel.
pub fn sign<'a>(
    config: &Config,
    root: &Path,
    partitions: &[usize],
    task: usize,
    tasks: usize,
    documents_of: &(dyn Fn(usize) -> Result<PositionedDocuments<'a>> + Sync),
    pool: &rayon::ThreadPool,
) -> Result<()> {
    let settings = &config.near_dedup;
    let dir = root.join(SIGN_DIR);
    std::fs::create_dir_all(&dir)?;
    if !settings.enabled {
        return Ok(());
    }
    let segmenter = sign::segmenter(settings)?;
    let partitions = sign::missing(&dir, partitions_of_task(partitions, task, tasks));
    pool.install(|| {
        partitions.par_iter().try_for_each(|&partition| {
            sign::sign_partition(
                settings,
                documents_of(partition)?,
                segmenter.as_ref(),
                &dir,
                partition,
                pool,
            )
        })
    })
}

/// Phase 2, task `task` of `tasks`: the edges of its share of the band keys.
pub fn lsh(
    config: &Config,
    root: &Path,
    partitions: &[usize],
    task: usize,
    tasks: usize,
) -> Result<()> {
    let settings = &config.near_dedup;
    let dir = root.join(LSH_DIR);
    std::fs::create_dir_all(&dir)?;
    if !settings.enabled {
        return Ok(());
    }
    let signatures = open_signatures(config, root, partitions)?;
    let (bands, rows) = settings.bands_rows();
    let params = LshParams {
        bands,
        rows,
        verify: settings.verify.then_some(settings.threshold),
        short: (
            settings.short_unit_chars.min(u32::MAX as usize) as u32,
            settings.short_threshold,
        ),
        memory_bytes: settings.memory_mb << 20,
    };
    lsh::run_task(&signatures, &params, &dir, task, tasks)
}

/// The signature file of every partition holding inputs, indexed by partition number; all
/// must be signed.
fn open_signatures(
    config: &Config,
    root: &Path,
    partitions: &[usize],
) -> Result<Vec<Option<SignatureFile>>> {
    let dir = root.join(SIGN_DIR);
    check_signed(&dir, partitions)?;
    let mut files: Vec<Option<SignatureFile>> = (0..PARTITIONS).map(|_| None).collect();
    for &p in partitions {
        files[p] = Some(SignatureFile::open(
            &sign::sig_path(&dir, p),
            config.near_dedup.num_perm,
        )?);
    }
    Ok(files)
}

fn check_signed(dir: &Path, partitions: &[usize]) -> Result<()> {
    let unsigned = sign::missing(dir, partitions.iter().copied()).len();
    if unsigned > 0 {
        bail!(
            "{unsigned} of {} partitions are not signed for near dedup: run again with --resume",
            partitions.len()
        );
    }
    Ok(())
}

/// Phase 3: the decisions, from the edges of `lsh_tasks` tasks.
pub fn decide(
    config: &Config,
    root: &Path,
    partitions: &[usize],
    lsh_tasks: usize,
) -> Result<NearDedupStats> {
    let dir = root.join(DECIDED_DIR);
    std::fs::create_dir_all(&dir)?;
    if !config.near_dedup.enabled {
        return Ok(NearDedupStats::default());
    }
    check_signed(&root.join(SIGN_DIR), partitions)?;
    let missing = lsh::missing_tasks(&root.join(LSH_DIR), lsh_tasks);
    if !missing.is_empty() {
        bail!(
            "near-lsh tasks {missing:?} of {lsh_tasks} are not finished: run again with --resume"
        );
    }
    decisions::run(config, root, partitions, lsh_tasks)
}

/// The kept documents for publish: dropped ones skipped, trimmed ones cut, in order.
pub fn apply(
    docs: impl Iterator<Item = Result<(Position, Document)>>,
    decisions: impl Iterator<Item = Result<DecisionRecord>>,
) -> impl Iterator<Item = Result<(Position, Document)>> {
    let mut decisions = decisions.peekable();
    docs.filter_map(move |doc| {
        let (at, doc) = match doc {
            Ok(doc) => doc,
            Err(e) => return Some(Err(e)),
        };
        let decision = match decisions.next_if(|d| match d {
            Ok(d) => d.at <= at,
            Err(_) => true,
        }) {
            None => return Some(Ok((at, doc))),
            Some(Err(e)) => return Some(Err(e)),
            Some(Ok(d)) => d,
        };
        if decision.at != at || decision.id != doc.id {
            return Some(Err(anyhow::anyhow!(
                "near-dedup decisions do not match the extracted documents at {} ({}): rerun without --resume",
                at.0,
                doc.source
            )));
        }
        match decision.action {
            Action::Drop => None,
            Action::Trim => Some(Ok((at, trim(doc, &decision)))),
        }
    })
}

fn trim(mut doc: Document, decision: &DecisionRecord) -> Document {
    let mut kept = Vec::new();
    let mut at = 0usize;
    for &[start, end] in &decision.removed {
        let (start, end) = (start as usize, end as usize);
        if start < at || end > doc.text.len() {
            continue;
        }
        if !doc.text.is_char_boundary(start) || !doc.text.is_char_boundary(end) {
            continue;
        }
        kept.push(doc.text[at..start].trim());
        at = end;
    }
    kept.push(doc.text[at..].trim());
    let text = kept
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    doc.text = text;
    doc.set_meta("near_duplicate_chars_removed", decision.removed_chars);
    doc.set_meta("near_duplicate_of", decision.kept.clone());
    doc
}
