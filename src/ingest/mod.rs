//! The per-document phases. `extract` runs extract → clean → filter in parallel over files and
//! saves each batch's outcomes (and its documents' exact-dedup keys) atomically, so an
//! interrupted run resumes at the first unsaved batch. Later phases read the batches back in
//! input order (`stream`), so the result never depends on the thread count or on where a run
//! was interrupted.
pub mod batches;
pub mod framed;
pub mod ocr;
mod ocr_layer;
mod progress;
pub mod stream;

use crate::clean::Cleaner;
use crate::document::{Outcome, Verdict};
use crate::extract::isolate::{self, IsolationConfig};
use crate::extract::{self, Extraction};
use crate::filter::Filter;
use crate::walk::Input;
use crate::Config;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct FormatCounts {
    pub files: u64,
    pub docs: u64,
    pub rejects: u64,
    pub errors: u64,
    /// Pages read by OCR in the documents kept.
    #[serde(default)]
    pub ocr_pages: u64,
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

/// The OCR settings, turned off with one warning when the chosen engine is not installed.
pub fn usable_ocr(config: &crate::ocr::OcrConfig) -> crate::ocr::OcrConfig {
    let mut ocr = config.clone();
    if ocr.mode != crate::ocr::OcrMode::Off {
        if let Some(why) = ocr.engine.unavailable(&ocr) {
            tracing::warn!("OCR is off for this run: {why}");
            ocr.mode = crate::ocr::OcrMode::Off;
        }
    }
    ocr
}

/// Per-document stages, built once and shared by all threads.
pub struct Stages {
    pub extract: crate::extract::ExtractConfig,
    pub ocr: crate::ocr::OcrConfig,
    /// OCR results by page-image hash, so a resumed run never repeats OCR work.
    pub ocr_cache: std::path::PathBuf,
    pub isolation: IsolationConfig,
    pub cleaner: Cleaner,
    pub filter: Filter,
    /// For the exact-dedup keys saved with each batch.
    pub dedup: crate::dedup::DedupConfig,
}

/// The OCR workers kept between documents end with the stages that used them.
impl Drop for Stages {
    fn drop(&mut self) {
        crate::ocr::stop_idle_workers();
    }
}

impl Stages {
    pub fn new(config: &Config, ocr_cache: &std::path::Path) -> Result<Stages> {
        Ok(Stages {
            extract: config.extract.clone(),
            ocr: usable_ocr(&config.ocr),
            ocr_cache: ocr_cache.to_path_buf(),
            isolation: config.isolation.clone(),
            cleaner: Cleaner::new(&config.clean)?,
            filter: Filter::new(&config.filter)?,
            dedup: config.dedup.clone(),
        })
    }

    /// One input through extract → clean → filter. A panic in any stage costs only this input.
    pub fn process(&self, input: &Input) -> Extraction {
        let run = std::panic::AssertUnwindSafe(|| self.process_unguarded(input));
        std::panic::catch_unwind(run).unwrap_or_else(|panic| Extraction {
            format: "unknown",
            outcomes: vec![Outcome::Failed(crate::document::Failure::new(
                &input.source,
                "extract",
                format!(
                    "internal error while reading this file: {}",
                    crate::cli::panic_message(&*panic)
                ),
            ))],
        })
    }

    fn process_unguarded(&self, input: &Input) -> Extraction {
        let isolated = extract::sniff_file(input)
            .filter(|f| self.isolation.formats.iter().any(|n| n == f.name()));
        let extraction = match isolated {
            Some(format) => {
                isolate::extract_in_worker(input, &self.extract, &self.isolation, format.name())
            }
            None => extract::extract_file(input, &self.extract),
        };
        let extraction = ocr::recover(extraction, input, &self.ocr, &self.ocr_cache);
        let outcomes = extraction
            .outcomes
            .into_iter()
            .map(|outcome| self.refine(outcome))
            .collect();
        Extraction {
            format: extraction.format,
            outcomes,
        }
    }

    /// An extracted document through clean → filter; other outcomes as they are.
    fn refine(&self, outcome: Outcome) -> Outcome {
        match outcome {
            Outcome::Kept(doc) => match self.filter.check(self.cleaner.clean(doc)) {
                Verdict::Keep(doc) => Outcome::Kept(doc),
                Verdict::Drop(reject) => Outcome::Rejected(reject),
            },
            other => other,
        }
    }

    /// The record format of an input read by [`Stages::stream`] rather than [`Stages::process`].
    pub fn streams(&self, input: &Input) -> Option<extract::sniff::Format> {
        extract::streamed_records(input, &self.extract)
            .filter(|f| !self.isolation.formats.iter().any(|n| n == f.name()))
    }

    /// A big record file's bytes through extract → clean → filter, records cleaned in parallel
    /// batches of [`STREAM_BATCH`] and handed to `emit` in order: memory holds one batch, not
    /// the file. A record whose cleaning panics becomes an error of its own; the errors
    /// returned are `emit`'s.
    pub fn stream(
        &self,
        source: &str,
        bytes: &[u8],
        format: extract::sniff::Format,
        pool: &rayon::ThreadPool,
        emit: &mut dyn FnMut(Outcome) -> Result<()>,
    ) -> Result<()> {
        use rayon::prelude::*;
        let mut batch = Vec::with_capacity(STREAM_BATCH);
        let mut flush = |batch: &mut Vec<Outcome>| -> Result<()> {
            let refined: Vec<Outcome> = pool.install(|| {
                std::mem::take(batch)
                    .into_par_iter()
                    .map(|outcome| self.refine_guarded(outcome))
                    .collect()
            });
            refined.into_iter().try_for_each(&mut *emit)
        };
        extract::stream_records(source, bytes, format, &self.extract, &mut |outcome| {
            batch.push(outcome);
            if batch.len() < STREAM_BATCH {
                return Ok(());
            }
            flush(&mut batch)
        })?;
        flush(&mut batch)
    }

    fn refine_guarded(&self, outcome: Outcome) -> Outcome {
        let source = match &outcome {
            Outcome::Kept(doc) => match doc.meta.get("record") {
                Some(record) => format!("{}#{record}", doc.source),
                None => doc.source.clone(),
            },
            _ => return outcome,
        };
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.refine(outcome)))
            .unwrap_or_else(|panic| {
                Outcome::Failed(crate::document::Failure::new(
                    &source,
                    "clean",
                    format!(
                        "internal error while cleaning this record: {}",
                        crate::cli::panic_message(&*panic)
                    ),
                ))
            })
    }
}

/// Records cleaned together when a big record file is streamed.
const STREAM_BATCH: usize = 4096;
