//! The parallel, resumable half of ingestion. Inputs are cut into batches by a rule that does
//! not depend on the thread count; each batch's outcomes go to `batch-NNNNN.jsonl.zst`, written
//! under a temporary name and renamed when complete. A resumed run skips batches whose file
//! exists: a half-written batch never has its final name.
use super::progress::Progress;
use super::Stages;
use crate::document::Outcome;
use crate::extract::Extraction;
use crate::shard::writer::{read_jsonl_zst, ShardWriter};
use crate::walk::Input;
use anyhow::{bail, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

const BATCH_FILES: usize = 64;
const BATCH_BYTES: u64 = 256 << 20;

/// What one input gave, as saved between phases.
#[derive(Serialize, Deserialize)]
pub struct InputOutcomes {
    pub format: String,
    pub outcomes: Vec<Outcome>,
}

/// Set by Ctrl-C: the current batch finishes, then the run stops with a resume hint.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

#[derive(Debug, thiserror::Error)]
#[error("interrupted: finished work is saved; run the same command with --resume to continue")]
pub struct Interrupted;

/// Consecutive runs of at most BATCH_FILES files and about BATCH_BYTES bytes.
pub fn plan(inputs: &[Input]) -> Vec<Range<usize>> {
    let mut batches = Vec::new();
    let mut start = 0;
    while start < inputs.len() {
        let mut end = start;
        let mut bytes = 0;
        while end < inputs.len()
            && end - start < BATCH_FILES
            && (end == start || bytes + inputs[end].size <= BATCH_BYTES)
        {
            bytes += inputs[end].size;
            end += 1;
        }
        batches.push(start..end);
        start = end;
    }
    batches
}

fn batch_prefix(index: usize) -> String {
    format!("batch-{index:05}")
}

fn batch_file(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("{}-00000.jsonl.zst", batch_prefix(index)))
}

pub fn run(stages: &Stages, inputs: &[Input], dir: &Path, pool: &rayon::ThreadPool) -> Result<()> {
    let plan = plan(inputs);
    let progress = Progress::new(inputs.len() as u64, inputs.iter().map(|i| i.size).sum());
    let todo: Vec<(usize, &Range<usize>)> = plan
        .iter()
        .enumerate()
        .filter(|(index, range)| {
            let done = batch_file(dir, *index).exists();
            if done {
                progress.advance(
                    range.len() as u64,
                    inputs[(*range).clone()].iter().map(|i| i.size).sum(),
                );
            }
            !done
        })
        .collect();
    std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = mpsc::sync_channel::<(usize, Vec<Extraction>)>(1);
        let writer = scope.spawn(move || -> Result<()> {
            for (index, results) in rx {
                save(dir, index, results)?;
            }
            Ok(())
        });
        for (index, range) in todo {
            if INTERRUPTED.load(Ordering::Relaxed) {
                break;
            }
            let batch = &inputs[range.clone()];
            let results: Vec<Extraction> = pool.install(|| {
                batch
                    .par_iter()
                    .map(|input| {
                        let extraction = stages.process(input);
                        progress.advance(1, input.size);
                        extraction
                    })
                    .collect()
            });
            if tx.send((index, results)).is_err() {
                break; // the writer failed; its error is returned below
            }
        }
        drop(tx);
        writer
            .join()
            .map_err(|_| anyhow::anyhow!("batch writer thread panicked"))?
    })?;
    progress.finish();
    if INTERRUPTED.load(Ordering::Relaxed) {
        bail!(Interrupted);
    }
    Ok(())
}

fn save(dir: &Path, index: usize, results: Vec<Extraction>) -> Result<()> {
    let mut writer = ShardWriter::new(dir, &batch_prefix(index), true, u64::MAX)?.intermediate();
    for extraction in results {
        writer.write_json(&InputOutcomes {
            format: extraction.format.to_string(),
            outcomes: extraction.outcomes,
        })?;
    }
    writer.finish()?;
    Ok(())
}

/// Every input's outcomes, in input order.
pub fn read_all(dir: &Path, batches: usize) -> impl Iterator<Item = Result<InputOutcomes>> + '_ {
    (0..batches).flat_map(move |index| {
        read_jsonl_zst::<InputOutcomes>(&[batch_file(dir, index)]).collect::<Vec<_>>()
    })
}
