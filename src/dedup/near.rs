//! The `near-dedup` phase, between ingest and publish: MinHash signatures of every document's
//! units (in parallel, written in document order), LSH clustering on disk partitions, then one
//! decision per affected document: dropped (reject `near-duplicate`, naming the kept document)
//! or trimmed of its duplicate passages. Publish applies the decisions while streaming the
//! ingest shards, matching them by position and id.
use super::cluster::{self, Action, ClusterStats, Decision, Doc, UnionFind, Unit};
use super::lsh::{self, LshParams, LshStats};
use super::minhash::{estimated_jaccard, MinHasher, ShingleKind, Tokenizer};
use super::signatures::{SignatureStore, SignatureWriter};
use super::units::{self, UnitSpan};
use crate::config::check_range;
use crate::document::{Document, Reject};
use crate::segment::Segmenter;
use crate::shard::writer::{list_shards, ShardWriter};
use crate::Config;
use anyhow::{bail, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

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
    pub threads: usize,
    pub signature_seconds: f64,
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

/// One line of `work/near_dedup/decisions-*.jsonl.zst`, in document order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// Position of the document in the ingest shards.
    pub seq: u32,
    pub id: String,
    pub action: Action,
    pub kept: Vec<String>,
    /// Trim: byte ranges of the text to cut out.
    #[serde(default)]
    pub removed: Vec<[u32; 2]>,
    #[serde(default)]
    pub removed_chars: u64,
}

const DIR: &str = "near_dedup";
const EXAMPLES: usize = 5;
const SAMPLE_CHARS: usize = 80;
/// Documents signed per parallel batch (also bounded by BATCH_BYTES).
const BATCH_DOCS: usize = 4096;
const BATCH_BYTES: usize = 64 << 20;

/// Decision shards for publish (none when the phase is off).
pub fn decision_shards(work: &Path) -> Result<Vec<PathBuf>> {
    list_shards(&work.join(DIR), "decisions")
}

/// Reject shards for `rejects/`.
pub fn reject_shards(work: &Path) -> Result<Vec<PathBuf>> {
    list_shards(&work.join(DIR), "rejects")
}

/// The documents to deduplicate, afresh at each call (they are read three times).
pub type DocumentSource<'a> =
    dyn Fn() -> Result<Box<dyn Iterator<Item = Result<Document>> + 'a>> + 'a;

pub fn run(
    config: &Config,
    work: &Path,
    documents: &DocumentSource,
    pool: &rayon::ThreadPool,
) -> Result<NearDedupStats> {
    let settings = &config.near_dedup;
    let dir = work.join(DIR);
    std::fs::create_dir_all(&dir)?;
    if !settings.enabled {
        return Ok(NearDedupStats::default());
    }
    let (bands, rows) = settings.bands_rows();
    let mut stats = NearDedupStats {
        enabled: true,
        bands,
        rows,
        threads: pool.current_num_threads(),
        ..Default::default()
    };

    let started = Instant::now();
    let (docs, units, store, unit_chars) =
        sign_all(settings, documents()?, &dir, pool, &mut stats)?;
    stats.signature_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let params = LshParams {
        bands,
        rows,
        verify: settings.verify.then_some(settings.threshold),
        short: (
            settings.short_unit_chars.min(u32::MAX as usize) as u32,
            settings.short_threshold,
        ),
        partitions: LshParams::partitions_for(store.len(), bands, settings.memory_mb << 20),
    };
    let len = store.len() as u32;
    let mut uf = UnionFind::new(len);
    stats.lsh = pool.install(|| lsh::cluster(&store, &unit_chars, &params, &dir, &mut uf))?;
    let (cluster_stats, sizes) = cluster::cluster_stats(&mut uf, len);
    stats.clusters = cluster_stats;
    let decisions = cluster::decide(
        &docs,
        &units,
        &mut uf,
        &sizes,
        settings.drop_share,
        settings.trim_partial,
    );
    drop((uf, sizes, units, unit_chars));
    stats.clustering_seconds = started.elapsed().as_secs_f64();

    write_decisions(config, documents, &decisions, &store, &dir, &mut stats)?;
    for gid_shard in list_shards(&dir, "signatures")? {
        std::fs::remove_file(gid_shard)?; // intermediate only; can be large
    }
    Ok(stats)
}

/// What signing gives clustering: the documents, their units, the signatures on disk and each
/// signed unit's length.
type SignedCorpus = (Vec<Doc>, Vec<Unit>, SignatureStore, Vec<u32>);

/// Signs every document's units in parallel batches, writing signatures in document order.
fn sign_all(
    settings: &NearDedupConfig,
    documents: impl Iterator<Item = Result<Document>>,
    dir: &Path,
    pool: &rayon::ThreadPool,
    stats: &mut NearDedupStats,
) -> Result<SignedCorpus> {
    let segmenter = match settings.shingle {
        ShingleKind::Word => Some(Segmenter::new(&settings.lexicons)?),
        ShingleKind::Char => None,
    };
    let tokenizer = Tokenizer::new(settings.shingle, segmenter.as_ref());
    let hasher = MinHasher::new(settings.num_perm, settings.ngram, settings.seed);
    let mut writer = SignatureWriter::new(dir, settings.num_perm)?;
    let mut docs = Vec::new();
    let mut units = Vec::new();
    let mut unit_chars = Vec::new();
    let mut batch: Vec<String> = Vec::new();
    let mut batch_bytes = 0;
    let mut text_bytes = 0u64;
    let mut flush = |batch: &mut Vec<String>| -> Result<()> {
        let signed: Vec<Signed> = pool.install(|| {
            batch
                .par_iter()
                .map(|text| sign(text, settings, &tokenizer, &hasher))
                .collect()
        });
        for doc in signed {
            text_bytes += doc.text_bytes as u64;
            let first = units.len() as u32;
            let mut chars = 0u64;
            let doc_chars = doc.units.iter().map(|(span, _)| span.chars).sum::<usize>();
            let whole = doc.whole.map(|s| writer.push(&s)).transpose()?;
            if whole.is_some() {
                unit_chars.push(clamp(doc_chars));
            }
            for (span, signature) in doc.units {
                let gid = signature.map(|s| writer.push(&s)).transpose()?;
                if gid.is_some() {
                    unit_chars.push(clamp(span.chars));
                }
                chars += span.chars as u64;
                units.push(Unit {
                    bytes: clamp(span.bytes.start)..clamp(span.bytes.end),
                    chars: span.chars.min(u32::MAX as usize) as u32,
                    gid,
                });
            }
            docs.push(Doc {
                units: first..units.len() as u32,
                chars,
                whole,
            });
        }
        batch.clear();
        Ok(())
    };
    for doc in documents {
        let text = doc?.text;
        batch_bytes += text.len();
        batch.push(text);
        if batch.len() >= BATCH_DOCS || batch_bytes >= BATCH_BYTES {
            flush(&mut batch)?;
            batch_bytes = 0;
        }
    }
    flush(&mut batch)?;
    stats.documents = docs.len() as u64;
    stats.units = units.len() as u64;
    stats.text_mb = text_bytes as f64 / 1e6;
    let store = writer.finish()?;
    stats.signed_units = store.len();
    Ok((docs, units, store, unit_chars))
}

fn clamp(offset: usize) -> u32 {
    offset.min(u32::MAX as usize) as u32
}

/// A document's units, with a signature for those long enough to compare, and the signature of
/// the whole text when there are several.
struct Signed {
    units: Vec<(UnitSpan, Option<Vec<u32>>)>,
    whole: Option<Vec<u32>>,
    text_bytes: usize,
}

fn sign(
    text: &str,
    settings: &NearDedupConfig,
    tokenizer: &Tokenizer,
    hasher: &MinHasher,
) -> Signed {
    let tokens = tokenizer.tokens(text);
    let units: Vec<(UnitSpan, Option<Vec<u32>>)> =
        units::split(&tokens, text.len(), settings.unit_chars)
            .into_iter()
            .map(|span| {
                let signature = (span.chars >= settings.min_unit_chars).then(|| {
                    let mut signature = Vec::new();
                    hasher.signature(&tokens[span.tokens.clone()], &mut signature);
                    signature
                });
                (span, signature)
            })
            .collect();
    // MinHash of a union is the element-wise minimum: the whole text costs no extra hashing
    // (only shingles spanning a unit boundary are missing).
    let signed: Vec<&Vec<u32>> = units.iter().filter_map(|(_, s)| s.as_ref()).collect();
    let whole = match signed.split_first() {
        Some((first, rest)) if !rest.is_empty() => {
            Some(rest.iter().fold((*first).clone(), |mut acc, s| {
                acc.iter_mut()
                    .zip(s.iter())
                    .for_each(|(a, b)| *a = (*a).min(*b));
                acc
            }))
        }
        _ => None,
    };
    Signed {
        units,
        whole,
        text_bytes: text.len(),
    }
}

/// Who a kept document is, for reject details and examples.
struct KeptInfo {
    id: String,
    source: String,
    sample: String,
}

fn short_sample(text: &str) -> String {
    text.chars().take(SAMPLE_CHARS).collect()
}

/// Two passes over the documents: first the kept documents' names, then the decision and
/// reject records of the affected ones.
fn write_decisions(
    config: &Config,
    documents: &DocumentSource,
    decisions: &[Decision],
    store: &SignatureStore,
    dir: &Path,
    stats: &mut NearDedupStats,
) -> Result<()> {
    let mut kept: HashMap<u32, Option<KeptInfo>> = decisions
        .iter()
        .flat_map(|d| d.kept.iter().map(|&k| (k, None)))
        .collect();
    for (seq, doc) in documents()?.enumerate() {
        if let Some(slot) = kept.get_mut(&(seq as u32)) {
            let doc = doc?;
            *slot = Some(KeptInfo {
                sample: short_sample(&doc.text),
                id: doc.id,
                source: doc.source,
            });
        }
    }
    let name = |seq: &u32| kept.get(seq).and_then(|k| k.as_ref());
    let mut records = ShardWriter::new(dir, "decisions", true, config.output.shard_bytes)?;
    let mut rejects = ShardWriter::new(dir, "rejects", true, config.output.shard_bytes)?;
    let mut pending = decisions.iter().peekable();
    let (mut left, mut right) = (Vec::new(), Vec::new());
    for (seq, doc) in documents()?.enumerate() {
        let Some(decision) = pending.next_if(|d| d.seq as usize == seq) else {
            continue;
        };
        let doc = doc?;
        let kept_names: Vec<&KeptInfo> = decision.kept.iter().filter_map(name).collect();
        let Some(first_kept) = kept_names.first() else {
            bail!("no kept document recorded for {}", doc.source);
        };
        let share = decision.duplicate_chars as f64 / decision.chars.max(1) as f64;
        records.write_json(&DecisionRecord {
            seq: decision.seq,
            id: doc.id.clone(),
            action: decision.action.clone(),
            kept: kept_names.iter().map(|k| k.id.clone()).collect(),
            removed: decision.removed.iter().map(|r| [r.start, r.end]).collect(),
            removed_chars: decision.duplicate_chars,
        })?;
        match decision.action {
            Action::Drop => {
                stats.dropped_docs += 1;
                let detail = format!(
                    "kept {} ({}); {:.0}% of the text is in near-duplicate passages",
                    first_kept.id,
                    first_kept.source,
                    share * 100.0
                );
                rejects.write_json(&Reject::of(&doc, "near-duplicate", Some(detail)))?;
            }
            Action::Trim => {
                stats.trimmed_docs += 1;
                stats.trimmed_chars += decision.duplicate_chars;
            }
        }
        if stats.examples.len() < EXAMPLES {
            store.read(decision.example.0, &mut left)?;
            store.read(decision.example.1, &mut right)?;
            stats.examples.push(ExamplePair {
                action: decision.action.clone(),
                id: doc.id.clone(),
                source: doc.source.clone(),
                kept_id: first_kept.id.clone(),
                kept_source: first_kept.source.clone(),
                duplicate_share: share,
                unit_jaccard: estimated_jaccard(&left, &right),
                sample: short_sample(&doc.text),
                kept_sample: first_kept.sample.clone(),
            });
        }
    }
    records.finish()?;
    rejects.finish()?;
    Ok(())
}

/// The kept documents for publish: dropped ones skipped, trimmed ones cut, in order.
pub fn apply(
    docs: impl Iterator<Item = Result<Document>>,
    decisions: impl Iterator<Item = Result<DecisionRecord>>,
) -> impl Iterator<Item = Result<Document>> {
    let mut decisions = decisions.peekable();
    docs.enumerate().filter_map(move |(seq, doc)| {
        let doc = match doc {
            Ok(doc) => doc,
            Err(e) => return Some(Err(e)),
        };
        let decision = match decisions.next_if(|d| match d {
            Ok(d) => d.seq as usize <= seq,
            Err(_) => true,
        }) {
            None => return Some(Ok(doc)),
            Some(Err(e)) => return Some(Err(e)),
            Some(Ok(d)) => d,
        };
        if decision.seq as usize != seq || decision.id != doc.id {
            return Some(Err(anyhow::anyhow!(
                "near-dedup decisions do not match the ingest documents at {} ({}): rerun without --resume",
                seq,
                doc.source
            )));
        }
        match decision.action {
            Action::Drop => None,
            Action::Trim => Some(Ok(trim(doc, &decision))),
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
