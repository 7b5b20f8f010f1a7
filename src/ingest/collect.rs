//! The ordered half of ingestion: every input's outcomes in input order through exact dedup,
//! into the ingested documents (`work/ingest/docs-*`), rejects and `errors.jsonl`.
use super::batches::InputOutcomes;
use super::{FormatCounts, IngestStats};
use crate::dedup::exact::ExactDedup;
use crate::dedup::DedupConfig;
use crate::document::{Failure, Outcome, Reject, Verdict};
use crate::shard::writer::{AtomicFile, ShardWriter};
use anyhow::Result;
use std::io::Write;
use std::path::Path;

pub struct Collector {
    dedup: ExactDedup,
    docs: ShardWriter,
    rejects: ShardWriter,
    errors: AtomicFile,
    stats: IngestStats,
}

impl Collector {
    pub fn open(
        dedup: &DedupConfig,
        shard_bytes: u64,
        work: &Path,
        out: &Path,
    ) -> Result<Collector> {
        let ingest = work.join("ingest");
        Ok(Collector {
            dedup: ExactDedup::new(dedup),
            docs: ShardWriter::new(&ingest, "docs", true, shard_bytes)?.intermediate(),
            rejects: ShardWriter::new(&ingest, "rejects", true, shard_bytes)?.intermediate(),
            errors: AtomicFile::create(&out.join("errors.jsonl"))?,
            stats: IngestStats::default(),
        })
    }

    pub fn take(&mut self, input: InputOutcomes) -> Result<()> {
        let format = input.format.as_str();
        self.count(format, |c| c.files += 1);
        for outcome in input.outcomes {
            match outcome {
                Outcome::Kept(doc) => {
                    self.stats.extracted += 1;
                    match self.dedup.check(doc) {
                        Verdict::Keep(doc) => {
                            self.docs.write_json(&doc)?;
                            self.stats.kept += 1;
                            let ocr_pages = doc
                                .meta
                                .get("ocr_pages")
                                .and_then(|v| v.as_u64())
                                .unwrap_or(0);
                            self.count(format, |c| {
                                c.docs += 1;
                                c.ocr_pages += ocr_pages
                            });
                        }
                        Verdict::Drop(reject) => self.reject(&reject, format)?,
                    }
                }
                Outcome::Rejected(reject) => {
                    self.stats.extracted += 1;
                    self.reject(&reject, format)?
                }
                Outcome::Failed(failure) => self.failure(&failure, format)?,
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

    pub fn failure(&mut self, failure: &Failure, format: &str) -> Result<()> {
        *self.stats.errors.entry(failure.stage.clone()).or_default() += 1;
        self.count(format, |c| c.errors += 1);
        let mut line = serde_json::to_vec(failure)?;
        line.push(b'\n');
        self.errors.write_all(&line)?;
        Ok(())
    }

    pub fn finish(mut self, files: u64, bytes_in: u64) -> Result<IngestStats> {
        self.stats.files = files;
        self.stats.bytes_in = bytes_in;
        self.docs.finish()?;
        self.rejects.finish()?;
        self.errors.finish()?;
        Ok(self.stats)
    }
}
