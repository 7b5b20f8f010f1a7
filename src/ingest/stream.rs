//! The extracted documents read back in input order for the phases after extraction, with the
//! exact-dedup verdicts applied. Publish also passes a `Ledger`, which takes everything that is
//! not a kept document: rejects (extraction's and exact-dedup's) into `rejects/`, failures into
//! `errors.jsonl`, and the counts per format and per reason.
use super::batches::SavedOutcome;
use super::{FormatCounts, IngestStats};
use crate::dedup::exact::{Position, Resolver};
use crate::document::{Document, Failure, Outcome, Reject, Verdict};
use crate::shard::writer::{AtomicFile, ShardWriter};
use anyhow::Result;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// A few rejected samples per reason, for the report.
pub type Samples = BTreeMap<String, Vec<String>>;
const SAMPLES_PER_REASON: usize = 3;

pub struct Ledger {
    rejects: ShardWriter,
    errors: AtomicFile,
    stats: IngestStats,
    samples: Samples,
}

impl Ledger {
    /// Rejects go to `out/rejects/part-*`, failures to `out/errors.jsonl`.
    pub fn open(out: &Path, shard_bytes: u64, zstd_level: i32) -> Result<Ledger> {
        Ok(Ledger {
            rejects: ShardWriter::new(&out.join("rejects"), "part", true, shard_bytes)?
                .with_level(zstd_level),
            errors: AtomicFile::create(&out.join("errors.jsonl"))?,
            stats: IngestStats::default(),
            samples: Samples::new(),
        })
    }

    fn count(&mut self, format: &str, f: impl FnOnce(&mut FormatCounts)) {
        f(self.stats.by_format.entry(format.to_string()).or_default());
    }

    /// One extracted item's end after exact dedup.
    fn record(&mut self, outcome: &Outcome, format: &str) -> Result<()> {
        match outcome {
            Outcome::Kept(doc) => {
                self.stats.extracted += 1;
                self.kept(doc, format);
                Ok(())
            }
            Outcome::Rejected(reject) => {
                self.stats.extracted += 1;
                self.rejected(reject, format)
            }
            Outcome::Failed(failure) => self.failure(failure, format),
        }
    }

    fn kept(&mut self, doc: &Document, format: &str) {
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

    fn rejected(&mut self, reject: &Reject, format: &str) -> Result<()> {
        *self
            .stats
            .rejected
            .entry(reject.reason.clone())
            .or_default() += 1;
        self.count(format, |c| c.rejects += 1);
        self.reject(reject)
    }

    /// A reject of a later phase (near dedup): into `rejects/`, counted by that phase.
    pub fn reject(&mut self, reject: &Reject) -> Result<()> {
        let samples = self.samples.entry(reject.reason.clone()).or_default();
        if samples.len() < SAMPLES_PER_REASON {
            samples.push(format!("{}: {}", reject.source, reject.sample));
        }
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

    pub fn finish(mut self, files: u64, bytes_in: u64) -> Result<(IngestStats, Samples)> {
        self.stats.files = files;
        self.stats.bytes_in = bytes_in;
        self.rejects.finish()?;
        self.errors.finish()?;
        Ok((self.stats, self.samples))
    }
}

/// The kept documents in input order, after exact dedup, each with its position. With a
/// ledger, everything else goes to it as it passes.
pub fn kept_documents<'a>(
    outcomes: impl Iterator<Item = Result<SavedOutcome>> + 'a,
    resolver: Resolver,
    ledger: Option<&'a mut Ledger>,
) -> impl Iterator<Item = Result<(Position, Document)>> + 'a {
    KeptDocuments {
        outcomes: Box::new(outcomes),
        input: None,
        index: 0,
        resolver,
        ledger,
    }
}

struct KeptDocuments<'a> {
    outcomes: Box<dyn Iterator<Item = Result<SavedOutcome>> + 'a>,
    /// The input of the last outcome read, and the number of the next outcome of that input.
    input: Option<usize>,
    index: u32,
    resolver: Resolver,
    ledger: Option<&'a mut Ledger>,
}

impl KeptDocuments<'_> {
    fn next_result(&mut self) -> Result<Option<(Position, Document)>> {
        for saved in self.outcomes.by_ref() {
            let SavedOutcome {
                input,
                format,
                outcome,
            } = saved?;
            if self.input != Some(input) {
                self.input = Some(input);
                self.index = 0;
                if let Some(ledger) = self.ledger.as_deref_mut() {
                    ledger.count(&format, |c| c.files += 1);
                }
            }
            let Some(outcome) = outcome else {
                continue;
            };
            let at = (input as u32, self.index);
            self.index += 1;
            let outcome = match outcome {
                Outcome::Kept(doc) => match self.resolver.judge(at, doc)? {
                    Verdict::Keep(doc) => Outcome::Kept(doc),
                    Verdict::Drop(reject) => Outcome::Rejected(reject),
                },
                other => other,
            };
            if let Some(ledger) = self.ledger.as_deref_mut() {
                ledger.record(&outcome, &format)?;
            }
            if let Outcome::Kept(doc) = outcome {
                return Ok(Some((at, doc)));
            }
        }
        Ok(None)
    }
}

impl Iterator for KeptDocuments<'_> {
    type Item = Result<(Position, Document)>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_result().transpose()
    }
}
