//! The extracted documents read back in input order for the phases after extraction, with the
//! exact-dedup verdicts applied. Publish also passes a `Ledger`, which takes everything that is
//! not a kept document: rejects (extraction's and exact-dedup's) into `rejects/`, failures into
//! `errors.jsonl`, and the counts per format and per reason. A partition's task on Slurm passes
//! a `DeferredLedger` instead, which saves what it is told for the finish step to replay in
//! input order (`Ledger::replay`).
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

    /// Replays the entries partitions' deferred ledgers saved, merged in input order.
    pub fn replay(&mut self, entries: impl Iterator<Item = Result<SavedOutcome>>) -> Result<()> {
        for entry in entries {
            let entry = entry?;
            match &entry.outcome {
                None => self.input(&entry.format),
                Some(outcome) => self.record(outcome, &entry.format)?,
            }
        }
        Ok(())
    }

    fn count(&mut self, format: &str, f: impl FnOnce(&mut FormatCounts)) {
        f(self.stats.by_format.entry(format.to_string()).or_default());
    }

    /// An input, counted once whatever it gave.
    fn input(&mut self, format: &str) {
        self.count(format, |c| c.files += 1);
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

/// What the documents stream tells of every input and outcome: a `Ledger`, or a
/// `DeferredLedger` saving it for later.
pub trait Recorder {
    fn input(&mut self, input: usize, format: &str) -> Result<()>;
    fn outcome(&mut self, input: usize, outcome: &Outcome, format: &str) -> Result<()>;
}

impl Recorder for Ledger {
    fn input(&mut self, _: usize, format: &str) -> Result<()> {
        Ledger::input(self, format);
        Ok(())
    }
    fn outcome(&mut self, _: usize, outcome: &Outcome, format: &str) -> Result<()> {
        self.record(outcome, format)
    }
}

/// A ledger saved as records (`SavedOutcome`, kept documents without their text) in input
/// order, for `Ledger::replay`.
pub struct DeferredLedger {
    out: AtomicFile,
    buffer: Vec<u8>,
}

impl DeferredLedger {
    pub fn create(path: &Path) -> Result<DeferredLedger> {
        Ok(DeferredLedger {
            out: AtomicFile::create(path)?,
            buffer: Vec::new(),
        })
    }

    pub fn finish(self) -> Result<()> {
        self.out.finish()?;
        Ok(())
    }

    fn save(&mut self, input: usize, format: &str, outcome: Option<&Outcome>) -> Result<()> {
        super::framed::write(
            &mut self.out,
            &super::batches::SavedOutcomeRef {
                input,
                format,
                outcome,
            },
            &mut self.buffer,
        )
    }
}

impl Recorder for DeferredLedger {
    fn input(&mut self, input: usize, format: &str) -> Result<()> {
        self.save(input, format, None)
    }
    fn outcome(&mut self, input: usize, outcome: &Outcome, format: &str) -> Result<()> {
        match outcome {
            // The ledger counts kept documents (and their OCR pages): the text stays out.
            Outcome::Kept(doc) => {
                let counted = Document {
                    id: doc.id.clone(),
                    source: doc.source.clone(),
                    text: String::new(),
                    meta: doc.meta.clone(),
                };
                self.save(input, format, Some(&Outcome::Kept(counted)))
            }
            other => self.save(input, format, Some(other)),
        }
    }
}

/// The kept documents in input order, after exact dedup, each with its position. With a
/// recorder, everything else goes to it as it passes.
pub fn kept_documents<'a>(
    outcomes: impl Iterator<Item = Result<SavedOutcome>> + 'a,
    resolver: Resolver,
    ledger: Option<&'a mut dyn Recorder>,
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
    ledger: Option<&'a mut dyn Recorder>,
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
                    ledger.input(input, &format)?;
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
                ledger.outcome(input, &outcome, &format)?;
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
