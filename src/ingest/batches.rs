//! The parallel, resumable half of ingestion. Inputs are spread over a fixed number of
//! partitions by a hash of their source path (adding a file moves no other file), and each
//! partition is cut into chunks of at most 64 files / 256 MB, in source order. A chunk's
//! outcomes go to `work/extract/pNNN/cNNNNN.outcomes` (see framed.rs) and its kept documents' exact-dedup
//! keys to `cNNNNN.keys` beside it, each written under a temporary name and renamed when
//! complete, the outcomes last: a run (or a Slurm array task) skips chunks whose outcomes file
//! exists, and a half-written chunk never has its final name. Nothing here depends on the
//! thread count or on which task read which partition.
use super::framed;
use super::progress::Progress;
use super::Stages;
use crate::dedup::exact::{self, DocumentKeys};
use crate::document::{Failure, Outcome};
use crate::extract::{self, Extraction};
use crate::shard::writer::AtomicFile;
use crate::walk::Input;
use anyhow::{bail, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BinaryHeap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

/// Upper bound on parallel tasks (Slurm array size) as well as the unit of the hash split.
pub const PARTITIONS: usize = 256;
const CHUNK_FILES: usize = 64;
const CHUNK_BYTES: u64 = 256 << 20;

/// One record of a saved chunk: one outcome of an input, in order (`input` is the input's index
/// in the sorted input list). An input that gave nothing has one record without an outcome, so
/// it is still counted. One outcome per record keeps a file of a million records from becoming
/// one record of its whole size, in memory twice over.
#[derive(Deserialize)]
pub struct SavedOutcome {
    pub input: usize,
    pub format: String,
    pub outcome: Option<Outcome>,
}

/// `SavedOutcome` as written, borrowing.
#[derive(Serialize)]
pub struct SavedOutcomeRef<'a> {
    pub input: usize,
    pub format: &'a str,
    pub outcome: Option<&'a Outcome>,
}

/// Set by Ctrl-C: the chunks in hand finish, then the run stops with a resume hint.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

#[derive(Debug, thiserror::Error)]
#[error("interrupted: finished work is saved; run the same command with --resume to continue")]
pub struct Interrupted;

/// One unit of work: some inputs of one partition, in source order.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub partition: usize,
    pub index: usize,
    pub inputs: Vec<usize>,
}

impl Chunk {
    pub fn path(&self, dir: &Path) -> PathBuf {
        dir.join(format!("p{:03}", self.partition))
            .join(format!("c{:05}.outcomes", self.index))
    }

    fn keys_path(&self, dir: &Path) -> PathBuf {
        dir.join(format!("p{:03}", self.partition))
            .join(format!("c{:05}.keys", self.index))
    }
}

pub fn partition_of(source: &str) -> usize {
    (xxhash_rust::xxh3::xxh3_64(source.as_bytes()) % PARTITIONS as u64) as usize
}

/// Every chunk, partition by partition. `inputs` must be sorted by source.
pub fn plan(inputs: &[Input]) -> Vec<Chunk> {
    let mut by_partition: Vec<Vec<usize>> = vec![Vec::new(); PARTITIONS];
    for (index, input) in inputs.iter().enumerate() {
        by_partition[partition_of(&input.source)].push(index);
    }
    let mut chunks = Vec::new();
    for (partition, members) in by_partition.into_iter().enumerate() {
        let mut current = Chunk {
            partition,
            index: 0,
            inputs: Vec::new(),
        };
        let mut bytes = 0;
        for index in members {
            let size = inputs[index].size;
            let full = current.inputs.len() >= CHUNK_FILES
                || (!current.inputs.is_empty() && bytes + size > CHUNK_BYTES);
            if full {
                let next = Chunk {
                    partition,
                    index: current.index + 1,
                    inputs: Vec::new(),
                };
                chunks.push(std::mem::replace(&mut current, next));
                bytes = 0;
            }
            bytes += size;
            current.inputs.push(index);
        }
        if !current.inputs.is_empty() {
            chunks.push(current);
        }
    }
    chunks
}

/// The partitions that hold any input, in order: the only ones later phases visit.
pub fn partitions(chunks: &[Chunk]) -> Vec<usize> {
    let mut partitions: Vec<usize> = chunks.iter().map(|c| c.partition).collect();
    partitions.dedup();
    partitions
}

/// The chunks of one partition: a run of `plan`'s list, which goes partition by partition.
pub fn of_partition(chunks: &[Chunk], partition: usize) -> &[Chunk] {
    let start = chunks.partition_point(|c| c.partition < partition);
    let len = chunks[start..]
        .iter()
        .take_while(|c| c.partition == partition)
        .count();
    &chunks[start..start + len]
}

/// The chunks a task owns when `tasks` tasks share the work (all of them for a local run).
pub fn chunks_of_task(chunks: &[Chunk], task: usize, tasks: usize) -> Vec<&Chunk> {
    chunks
        .iter()
        .filter(|c| c.partition % tasks == task)
        .collect()
}

/// Extracts the given chunks that are not saved yet. Chunks are processed in waves of about
/// 8 files per thread, so small partitions still keep every core busy.
pub fn run(
    stages: &Stages,
    inputs: &[Input],
    chunks: &[&Chunk],
    dir: &Path,
    pool: &rayon::ThreadPool,
) -> Result<()> {
    let size_of = |chunk: &Chunk| chunk.inputs.iter().map(|&i| inputs[i].size).sum::<u64>();
    let progress = Progress::new(
        chunks.iter().map(|c| c.inputs.len() as u64).sum(),
        chunks.iter().map(|c| size_of(c)).sum(),
    );
    let (done, todo): (Vec<&Chunk>, Vec<&Chunk>) =
        chunks.iter().partition(|c| c.path(dir).exists());
    for chunk in done {
        progress.advance(chunk.inputs.len() as u64, size_of(chunk));
    }
    // Chunks holding a big record file are written as their records are read, one at a time.
    let (streamed, todo): (Vec<&Chunk>, Vec<&Chunk>) = todo.into_iter().partition(|c| {
        c.inputs
            .iter()
            .any(|&i| stages.streams(&inputs[i]).is_some())
    });
    for chunk in streamed {
        if INTERRUPTED.load(Ordering::Relaxed) {
            break;
        }
        save_streaming(dir, chunk, inputs, stages, pool)?;
        progress.advance(chunk.inputs.len() as u64, size_of(chunk));
    }
    let wave_files = pool.current_num_threads() * 8;
    std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = mpsc::sync_channel::<(&Chunk, Vec<Extraction>)>(2);
        let writer = scope.spawn(move || -> Result<()> {
            for (chunk, results) in rx {
                save(dir, chunk, results, &stages.dedup)?;
            }
            Ok(())
        });
        let mut rest = todo.as_slice();
        while !rest.is_empty() && !INTERRUPTED.load(Ordering::Relaxed) {
            let (mut n, mut files, mut bytes) = (0, 0, 0);
            while n < rest.len() && (n == 0 || (files < wave_files && bytes < CHUNK_BYTES)) {
                files += rest[n].inputs.len();
                bytes += size_of(rest[n]);
                n += 1;
            }
            let (wave, tail) = rest.split_at(n);
            rest = tail;
            let jobs: Vec<(usize, usize)> = wave
                .iter()
                .enumerate()
                .flat_map(|(w, c)| c.inputs.iter().map(move |&i| (w, i)))
                .collect();
            let mut results: Vec<(usize, Extraction)> = pool.install(|| {
                jobs.par_iter()
                    .map(|&(w, i)| {
                        let extraction = stages.process(&inputs[i]);
                        progress.advance(1, inputs[i].size);
                        (w, extraction)
                    })
                    .collect()
            });
            for (w, chunk) in wave.iter().enumerate().rev() {
                let split = results
                    .iter()
                    .position(|(owner, _)| *owner == w)
                    .unwrap_or(results.len());
                let mine = results
                    .split_off(split)
                    .into_iter()
                    .map(|(_, e)| e)
                    .collect();
                if tx.send((chunk, mine)).is_err() {
                    break; // the writer failed; its error is returned below
                }
            }
        }
        drop(tx);
        writer
            .join()
            .map_err(|_| anyhow::anyhow!("chunk writer thread panicked"))?
    })?;
    progress.finish();
    if INTERRUPTED.load(Ordering::Relaxed) {
        bail!(Interrupted);
    }
    Ok(())
}

fn save(
    dir: &Path,
    chunk: &Chunk,
    results: Vec<Extraction>,
    dedup: &crate::dedup::DedupConfig,
) -> Result<()> {
    let mut writer = ChunkWriter::create(&chunk.path(dir), dedup)?;
    for (&input, extraction) in chunk.inputs.iter().zip(&results) {
        writer.extraction(input, extraction)?;
    }
    writer.finish(&chunk.keys_path(dir))
}

/// A chunk with a big record file: the other inputs are read in parallel as usual, the record
/// file record by record (`Stages::stream`), everything written in input order as it comes.
fn save_streaming(
    dir: &Path,
    chunk: &Chunk,
    inputs: &[Input],
    stages: &Stages,
    pool: &rayon::ThreadPool,
) -> Result<()> {
    /// How one input of the chunk is read.
    enum Reading {
        Whole(Extraction),
        Streamed(extract::sniff::Format),
    }
    let readings: Vec<Reading> = pool.install(|| {
        chunk
            .inputs
            .par_iter()
            .map(|&i| match stages.streams(&inputs[i]) {
                Some(format) => Reading::Streamed(format),
                None => Reading::Whole(stages.process(&inputs[i])),
            })
            .collect()
    });
    let mut writer = ChunkWriter::create(&chunk.path(dir), &stages.dedup)?;
    for (&input, reading) in chunk.inputs.iter().zip(readings) {
        let format = match reading {
            Reading::Whole(extraction) => {
                writer.extraction(input, &extraction)?;
                continue;
            }
            Reading::Streamed(format) => format,
        };
        let source = &inputs[input].source;
        let bytes = match extract::read_input(&inputs[input]) {
            Ok(bytes) => bytes,
            Err(e) => {
                let failure = Outcome::Failed(Failure::new(source, "read", e));
                writer.write(input, "unreadable", 0, Some(&failure))?;
                continue;
            }
        };
        tracing::info!("{source}: read record by record");
        let mut written = 0;
        stages.stream(source, &bytes, format, pool, &mut |outcome| {
            writer.write(input, format.name(), written, Some(&outcome))?;
            written += 1;
            Ok(())
        })?;
        if written == 0 {
            writer.write(input, format.name(), 0, None)?;
        }
    }
    writer.finish(&chunk.keys_path(dir))
}

/// Writes one chunk: outcomes as they come, then the exact-dedup keys of its kept documents,
/// then the outcomes file under its final name, which marks the chunk done.
struct ChunkWriter<'a> {
    file: AtomicFile,
    keys: Vec<DocumentKeys>,
    buffer: Vec<u8>,
    dedup: &'a crate::dedup::DedupConfig,
}

impl<'a> ChunkWriter<'a> {
    fn create(path: &Path, dedup: &'a crate::dedup::DedupConfig) -> Result<Self> {
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder)?;
        }
        Ok(ChunkWriter {
            // Uncompressed: chunks are read once, and compressing them cost more CPU than any
            // other step of saving (zstd -1 on Chinese text runs at about 230 MB/s).
            file: AtomicFile::create(path)?,
            keys: Vec::new(),
            buffer: Vec::new(),
            dedup,
        })
    }

    /// All outcomes of one input; an input that gave none still gets a record, to be counted.
    fn extraction(&mut self, input: usize, extraction: &Extraction) -> Result<()> {
        if extraction.outcomes.is_empty() {
            return self.write(input, extraction.format, 0, None);
        }
        for (index, outcome) in extraction.outcomes.iter().enumerate() {
            self.write(input, extraction.format, index, Some(outcome))?;
        }
        Ok(())
    }

    /// The `index`th outcome of `input`.
    fn write(
        &mut self,
        input: usize,
        format: &str,
        index: usize,
        outcome: Option<&Outcome>,
    ) -> Result<()> {
        if let Some(Outcome::Kept(doc)) = outcome {
            let at = (input as u32, index as u32);
            self.keys.push(DocumentKeys::of(doc, at, self.dedup));
        }
        let record = SavedOutcomeRef {
            input,
            format,
            outcome,
        };
        framed::write(&mut self.file, &record, &mut self.buffer)
    }

    fn finish(self, keys_path: &Path) -> Result<()> {
        exact::write_keys(keys_path, &self.keys)?;
        self.file.finish()?;
        Ok(())
    }
}

/// Chunks not saved yet (an unfinished extraction, e.g. a cancelled Slurm task).
pub fn missing<'a>(chunks: &'a [Chunk], dir: &Path) -> Vec<&'a Chunk> {
    chunks.iter().filter(|c| !c.path(dir).exists()).collect()
}

/// Every input's outcomes in input order: a k-way merge of the partitions, each read lazily.
pub fn read_in_order(
    chunks: &[Chunk],
    dir: PathBuf,
) -> impl Iterator<Item = Result<SavedOutcome>> + '_ {
    merge_partitions(
        chunks,
        move |c| framed::read(&c.path(&dir)),
        |o: &SavedOutcome| o.input,
    )
}

/// One chunk's outcomes, in input order.
pub fn read_chunk(chunk: &Chunk, dir: &Path) -> Box<dyn Iterator<Item = Result<SavedOutcome>>> {
    framed::read(&chunk.path(dir))
}

/// Every kept document's exact-dedup keys in input order.
pub fn keys_in_order(
    chunks: &[Chunk],
    dir: PathBuf,
) -> impl Iterator<Item = Result<DocumentKeys>> + '_ {
    merge_partitions(
        chunks,
        move |c| Box::new(exact::read_keys(&c.keys_path(&dir))),
        |k: &DocumentKeys| k.at.0 as usize,
    )
}

/// A k-way merge by input index of the partitions' records, each partition read lazily, one
/// chunk file open at a time.
fn merge_partitions<'a, T: 'a>(
    chunks: &'a [Chunk],
    open: impl Fn(&Chunk) -> Box<dyn Iterator<Item = Result<T>>> + Clone + 'a,
    input_of: fn(&T) -> usize,
) -> impl Iterator<Item = Result<T>> + 'a {
    let mut streams: Vec<Box<dyn Iterator<Item = Result<T>> + 'a>> = Vec::new();
    let mut start = 0;
    while start < chunks.len() {
        let partition = chunks[start].partition;
        let end = start
            + chunks[start..]
                .iter()
                .take_while(|c| c.partition == partition)
                .count();
        let open = open.clone();
        streams.push(Box::new(chunks[start..end].iter().flat_map(open)));
        start = end;
    }
    merge_in_input_order(streams, input_of)
}

/// A k-way merge of streams each in input order (an input's records all in one stream, as
/// an input belongs to one partition) into one stream in input order.
pub fn merge_in_input_order<'a, T: 'a>(
    mut streams: Vec<Box<dyn Iterator<Item = Result<T>> + 'a>>,
    input_of: fn(&T) -> usize,
) -> impl Iterator<Item = Result<T>> + 'a {
    let mut heap = BinaryHeap::new();
    let mut pending_error = None;
    for (stream, source) in streams.iter_mut().enumerate() {
        match source.next() {
            Some(Ok(first)) => heap.push(Head(input_of(&first), stream, first)),
            Some(Err(e)) => pending_error = Some(e),
            None => {}
        }
    }
    let mut pending_error = pending_error.map(Err);
    std::iter::from_fn(move || {
        if let Some(error) = pending_error.take() {
            return Some(error);
        }
        let Head(_, stream, next) = heap.pop()?;
        match streams[stream].next() {
            Some(Ok(following)) => heap.push(Head(input_of(&following), stream, following)),
            Some(Err(e)) => pending_error = Some(Err(e)),
            None => {}
        }
        Some(Ok(next))
    })
}

/// Min-heap order on the input index (then the stream, so ties cannot arise between partitions).
struct Head<T>(usize, usize, T);

impl<T> PartialEq for Head<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.0, self.1) == (other.0, other.1)
    }
}
impl<T> Eq for Head<T> {}
impl<T> PartialOrd for Head<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Head<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (other.0, other.1).cmp(&(self.0, self.1))
    }
}
