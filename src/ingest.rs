//! The per-document phase: extract → clean → filter in parallel over files, then exact dedup
//! in input order on one thread, so the result never depends on the thread count. Files go in
//! batches bounded by count and bytes: memory stays bounded whatever the corpus size.
use crate::clean::Cleaner;
use crate::dedup::exact::ExactDedup;
use crate::document::{Failure, Outcome, Reject, Verdict};
use crate::extract::{self, Extraction};
use crate::filter::Filter;
use crate::shard::writer::{AtomicFile, ShardWriter};
use crate::walk::Input;
use crate::Config;
use anyhow::Result;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::mpsc;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct FormatCounts {
    pub files: u64,
    pub docs: u64,
    pub rejects: u64,
    pub errors: u64,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct IngestStats {
    pub files: u64,
    pub bytes_in: u64,
    pub extracted: u64,
    pub kept: u64,
    pub rejected: BTreeMap<String, u64>,
    pub errors: BTreeMap<String, u64>,
    pub by_format: BTreeMap<String, FormatCounts>,
}

/// Per-document stages, built once and shared by all threads.
pub struct Stages {
    pub extract: crate::extract::ExtractConfig,
    pub cleaner: Cleaner,
    pub filter: Filter,
}

impl Stages {
    pub fn new(config: &Config) -> Result<Stages> {
        Ok(Stages {
            extract: config.extract.clone(),
            cleaner: Cleaner::new(&config.clean)?,
            filter: Filter::new(&config.filter)?,
        })
    }

    /// One input through extract → clean → filter.
    pub fn process(&self, input: &Input) -> Extraction {
        let extraction = extract::extract_file(input, &self.extract);
        let outcomes = extraction
            .outcomes
            .into_iter()
            .map(|outcome| match outcome {
                Outcome::Kept(doc) => match self.filter.check(self.cleaner.clean(doc)) {
                    Verdict::Keep(doc) => Outcome::Kept(doc),
                    Verdict::Drop(reject) => Outcome::Rejected(reject),
                },
                other => other,
            })
            .collect();
        Extraction {
            format: extraction.format,
            outcomes,
        }
    }
}

const BATCH_BYTES: u64 = 256 << 20;

pub fn run(
    config: &Config,
    inputs: &[Input],
    walk_failures: &[Failure],
    work: &Path,
    out: &Path,
    pool: &rayon::ThreadPool,
) -> Result<IngestStats> {
    let stages = Stages::new(config)?;
    let mut sink = Sink::open(config, work, out)?;
    for failure in walk_failures {
        sink.failure(failure, "walk")?;
    }
    let progress = Progress::new(inputs);
    let batch_files = pool.current_num_threads() * 8;
    std::thread::scope(|scope| -> Result<IngestStats> {
        let (tx, rx) = mpsc::sync_channel::<Vec<Extraction>>(2);
        let writer = scope.spawn(move || -> Result<Sink> {
            for batch in rx {
                for extraction in batch {
                    sink.take(extraction)?;
                }
            }
            Ok(sink)
        });
        for batch in batches(inputs, batch_files) {
            let results: Vec<Extraction> = pool.install(|| {
                batch
                    .par_iter()
                    .map(|input| {
                        let extraction = stages.process(input);
                        progress.advance(input.size);
                        extraction
                    })
                    .collect()
            });
            if tx.send(results).is_err() {
                break; // the writer failed; its error is returned below
            }
        }
        drop(tx);
        let sink = writer
            .join()
            .map_err(|_| anyhow::anyhow!("writer thread panicked"))??;
        progress.finish();
        sink.finish(inputs)
    })
}

/// Consecutive runs of inputs, at most `max_files` files and about BATCH_BYTES bytes each.
fn batches(inputs: &[Input], max_files: usize) -> impl Iterator<Item = &[Input]> {
    let mut rest = inputs;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut bytes = 0;
        let mut n = 0;
        while n < rest.len() && n < max_files && (n == 0 || bytes + rest[n].size <= BATCH_BYTES) {
            bytes += rest[n].size;
            n += 1;
        }
        let (batch, tail) = rest.split_at(n);
        rest = tail;
        Some(batch)
    })
}

/// The single writer: dedup in order, then kept docs, rejects and errors to their files.
struct Sink {
    dedup: ExactDedup,
    docs: ShardWriter,
    rejects: ShardWriter,
    errors: AtomicFile,
    stats: IngestStats,
}

impl Sink {
    fn open(config: &Config, work: &Path, out: &Path) -> Result<Sink> {
        Ok(Sink {
            dedup: ExactDedup::new(&config.dedup),
            docs: ShardWriter::new(
                &work.join("ingest"),
                "docs",
                true,
                config.output.shard_bytes,
            )?,
            rejects: ShardWriter::new(
                &work.join("ingest"),
                "rejects",
                true,
                config.output.shard_bytes,
            )?,
            errors: AtomicFile::create(&out.join("errors.jsonl"))?,
            stats: IngestStats::default(),
        })
    }

    fn take(&mut self, extraction: Extraction) -> Result<()> {
        let counts = self
            .stats
            .by_format
            .entry(extraction.format.to_string())
            .or_default();
        counts.files += 1;
        for outcome in extraction.outcomes {
            match outcome {
                Outcome::Kept(doc) => {
                    self.stats.extracted += 1;
                    match self.dedup.check(doc) {
                        Verdict::Keep(doc) => {
                            self.docs.write_json(&doc)?;
                            self.stats.kept += 1;
                            self.count(extraction.format, |c| c.docs += 1);
                        }
                        Verdict::Drop(reject) => self.reject(&reject, extraction.format)?,
                    }
                }
                Outcome::Rejected(reject) => {
                    self.stats.extracted += 1;
                    self.reject(&reject, extraction.format)?
                }
                Outcome::Failed(failure) => self.failure(&failure, extraction.format)?,
            }
        }
        Ok(())
    }

    fn count(&mut self, format: &str, f: impl FnOnce(&mut FormatCounts)) {
        f(self.stats.by_format.entry(format.to_string()).or_default());
    }

    fn reject(&mut self, reject: &Reject, format: &str) -> Result<()> {
        *self
            .stats
            .rejected
            .entry(reject.reason.clone())
            .or_default() += 1;
        self.count(format, |c| c.rejects += 1);
        self.rejects.write_json(reject)
    }

    fn failure(&mut self, failure: &Failure, format: &str) -> Result<()> {
        *self.stats.errors.entry(failure.stage.clone()).or_default() += 1;
        self.count(format, |c| c.errors += 1);
        let mut line = serde_json::to_vec(failure)?;
        line.push(b'\n');
        self.errors.write_all(&line)?;
        Ok(())
    }

    fn finish(mut self, inputs: &[Input]) -> Result<IngestStats> {
        self.stats.files = inputs.len() as u64;
        self.stats.bytes_in = inputs.iter().map(|i| i.size).sum();
        self.docs.finish()?;
        self.rejects.finish()?;
        self.errors.finish()?;
        Ok(self.stats)
    }
}

/// Files and bytes bars with rate and ETA; drawn only on a terminal.
struct Progress {
    bars: MultiProgress,
    files: ProgressBar,
    bytes: ProgressBar,
}

impl Progress {
    fn new(inputs: &[Input]) -> Progress {
        let bars = MultiProgress::new();
        let files = bars.add(ProgressBar::new(inputs.len() as u64));
        files.set_style(
            ProgressStyle::with_template("files {bar:40} {pos}/{len} {per_sec} ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let bytes = bars.add(ProgressBar::new(inputs.iter().map(|i| i.size).sum()));
        bytes.set_style(
            ProgressStyle::with_template(
                "bytes {bar:40} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Progress { bars, files, bytes }
    }

    fn advance(&self, bytes: u64) {
        self.files.inc(1);
        self.bytes.inc(bytes);
    }

    fn finish(&self) {
        self.files.finish_and_clear();
        self.bytes.finish_and_clear();
        let _ = self.bars.clear();
    }
}
