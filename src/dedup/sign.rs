//! Near dedup, step 1 of 3 (`near-sign`), one input partition at a time (a Slurm array task
//! takes its share of the partitions; a local run takes them all): MinHash signatures of each
//! document's units, in parallel batches, saved in document order under
//! `work/near_dedup/sign/`:
//! - `pNNN.sig`: the signatures (signatures.rs), each naming its document's position;
//! - `pNNN.names`: each document's position, id, source and text sample, for decisions and
//!   rejects, so the later steps never read a text;
//! - `pNNN.units`: each document's position, length and unit table, written last: a partition
//!   is signed once this file exists.
//!
//! Nothing here depends on which task signed which partition.
use super::minhash::{MinHasher, ShingleKind, Tokenizer};
use super::near::NearDedupConfig;
use super::signatures::{Header, SignatureWriter, UnitOrder};
use super::units::{self, UnitSpan};
use crate::dedup::exact::Position;
use crate::document::{sample, Document};
use crate::ingest::framed;
use crate::segment::Segmenter;
use crate::shard::writer::AtomicFile;
use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Documents signed per parallel batch (also bounded by BATCH_BYTES).
const BATCH_DOCS: usize = 4096;
const BATCH_BYTES: usize = 64 << 20;

/// One document's units, as clustering and decisions need them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedDoc {
    pub at: Position,
    /// The partition whose signature file holds this document's signatures.
    pub partition: u32,
    /// Normalised characters of all units.
    pub chars: u64,
    pub text_bytes: u64,
    /// A whole-text signature was saved (documents of several signed units).
    pub whole: bool,
    pub units: Vec<SavedUnit>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedUnit {
    /// Byte range of the text the unit covers.
    pub bytes: [u32; 2],
    pub chars: u32,
    /// Long enough to compare: a signature was saved.
    pub signed: bool,
}

/// Who a document is, for decision records, rejects and examples.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocName {
    pub at: Position,
    pub id: String,
    pub source: String,
    /// The reject sample (`document::sample`).
    pub sample: String,
}

pub fn sig_path(dir: &Path, partition: usize) -> PathBuf {
    dir.join(format!("p{partition:03}.sig"))
}

pub fn names_path(dir: &Path, partition: usize) -> PathBuf {
    dir.join(format!("p{partition:03}.names"))
}

pub fn units_path(dir: &Path, partition: usize) -> PathBuf {
    dir.join(format!("p{partition:03}.units"))
}

/// The partitions of `partitions` not signed yet.
pub fn missing(dir: &Path, partitions: impl Iterator<Item = usize>) -> Vec<usize> {
    partitions
        .filter(|&p| !units_path(dir, p).exists())
        .collect()
}

/// Signs one partition's documents (in input order) into `dir`.
pub fn sign_partition(
    settings: &NearDedupConfig,
    documents: impl Iterator<Item = Result<(Position, Document)>>,
    segmenter: Option<&Segmenter>,
    dir: &Path,
    partition: usize,
    pool: &rayon::ThreadPool,
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tokenizer = Tokenizer::new(settings.shingle, segmenter);
    let hasher = MinHasher::new(settings.num_perm, settings.ngram, settings.seed);
    let mut signatures = SignatureWriter::create(&sig_path(dir, partition), settings.num_perm)?;
    let mut names = AtomicFile::create(&names_path(dir, partition))?;
    let mut units = AtomicFile::create(&units_path(dir, partition))?;
    let mut buffer = Vec::new();
    let mut batch: Vec<(Position, Document)> = Vec::new();
    let mut batch_bytes = 0;
    let mut flush = |batch: &mut Vec<(Position, Document)>| -> Result<()> {
        let signed: Vec<Signed> = pool.install(|| {
            batch
                .par_iter()
                .map(|(_, doc)| sign(&doc.text, settings, &tokenizer, &hasher))
                .collect()
        });
        for ((at, doc), signed) in batch.drain(..).zip(signed) {
            let mut place = 0;
            let mut push = |chars: usize, signature: &[u32]| -> Result<()> {
                let order = UnitOrder { at, place };
                place += 1;
                signatures.push(
                    Header {
                        order,
                        chars: clamp(chars),
                    },
                    signature,
                )?;
                Ok(())
            };
            let chars = signed
                .units
                .iter()
                .map(|(span, _)| span.chars)
                .sum::<usize>();
            if let Some(whole) = &signed.whole {
                push(chars, whole)?;
            }
            for (span, signature) in &signed.units {
                if let Some(signature) = signature {
                    push(span.chars, signature)?;
                }
            }
            let record = SignedDoc {
                at,
                partition: partition as u32,
                chars: chars as u64,
                text_bytes: doc.text.len() as u64,
                whole: signed.whole.is_some(),
                units: signed
                    .units
                    .iter()
                    .map(|(span, signature)| SavedUnit {
                        bytes: [clamp(span.bytes.start), clamp(span.bytes.end)],
                        chars: clamp(span.chars),
                        signed: signature.is_some(),
                    })
                    .collect(),
            };
            framed::write(&mut units, &record, &mut buffer)?;
            let name = DocName {
                at,
                sample: sample(&doc.text),
                id: doc.id,
                source: doc.source,
            };
            framed::write(&mut names, &name, &mut buffer)?;
        }
        Ok(())
    };
    for doc in documents {
        let doc = doc?;
        batch_bytes += doc.1.text.len();
        batch.push(doc);
        if batch.len() >= BATCH_DOCS || batch_bytes >= BATCH_BYTES {
            flush(&mut batch)?;
            batch_bytes = 0;
        }
    }
    flush(&mut batch)?;
    signatures.finish()?;
    names.finish()?;
    units.finish()?;
    Ok(())
}

/// The segmenter word shingles need (None for character shingles).
pub fn segmenter(settings: &NearDedupConfig) -> Result<Option<Segmenter>> {
    match settings.shingle {
        ShingleKind::Word => Ok(Some(Segmenter::new(&settings.lexicons)?)),
        ShingleKind::Char => Ok(None),
    }
}

fn clamp(n: usize) -> u32 {
    n.min(u32::MAX as usize) as u32
}

/// A document's units, with a signature for those long enough to compare, and the signature of
/// the whole text when there are several.
struct Signed {
    units: Vec<(UnitSpan, Option<Vec<u32>>)>,
    whole: Option<Vec<u32>>,
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
    Signed { units, whole }
}
