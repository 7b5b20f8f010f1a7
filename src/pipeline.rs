//! The whole flow on one screen:
//!   walk → extract (extract → clean → filter, parallel per file, saved per chunk)
//!        → exact dedup (in input order) → near dedup (MinHash LSH) → vocabulary
//!        → publish docs + BERT text + Megatron tokens and whole-word masks → manifest and report.
//! Each phase reads what the one before wrote under the output folder and is marked done
//! only when complete, so `--resume` restarts at the first unfinished phase (and inside
//! `extract`, at the first unsaved chunk). The local executor runs every phase here; the Slurm
//! executor (executor/slurm.rs) runs `extract` as an array of tasks and `finish` after them.
use crate::config::Config;
use crate::dedup::near::{self, NearDedupStats};
use crate::document::{Document, Failure};
use crate::ingest::batches;
use crate::ingest::collect::Collector;
use crate::ingest::{IngestStats, Stages};
use crate::report::{
    self,
    manifest::{self, Manifest},
};
use crate::run_dir::RunDir;
use crate::shard::writer::{list_shards, read_jsonl_zst, ShardWriter};
use crate::shard::{self, PublishStats};
use crate::vocab::{self, VocabMode, VocabReport};
use crate::walk::{self, Input};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Instant;

pub struct RunOptions {
    pub threads: usize,
    pub resume: bool,
}

/// The local executor: every phase in this process.
pub fn run(config: &Config, options: &RunOptions) -> Result<Summary> {
    let (run, pool) = start(config, options)?;
    let inputs = walk(&run, config, &pool)?;
    run.phase("extract", &[], || {
        extract(&run, config, &inputs, None, &pool)
    })?;
    finish(&run, config, &inputs, &pool)
}

/// Opens (or, with `resume`, reopens) the output folder, its log, and the thread pool.
pub fn start(config: &Config, options: &RunOptions) -> Result<(RunDir, rayon::ThreadPool)> {
    let run = RunDir::open(&config.output.dir, options.resume, &config_json(config)?)?;
    crate::logging::init(Some(&run.root.join("medcorpus.log")));
    Ok((
        run,
        rayon::ThreadPoolBuilder::new()
            .num_threads(options.threads)
            .build()?,
    ))
}

pub fn config_json(config: &Config) -> Result<String> {
    Ok(serde_json::to_string_pretty(config)?)
}

/// Lists the inputs once; every later phase and task reads this list, never the disk again.
pub fn walk(run: &RunDir, config: &Config, pool: &rayon::ThreadPool) -> Result<Vec<Input>> {
    let dir = run.work.join("walk");
    run.phase("walk", &["work/walk"], || {
        let found =
            pool.install(|| walk::discover(&config.input.paths, config.input.follow_symlinks));
        save_list(&dir, "inputs", &found.inputs)?;
        save_list(&dir, "failures", &found.failures)
    })?;
    load_list(&dir, "inputs")
}

/// Extracts every chunk, or with `task = Some((t, n))` the chunks of task t of n.
pub fn extract(
    run: &RunDir,
    config: &Config,
    inputs: &[Input],
    task: Option<(usize, usize)>,
    pool: &rayon::ThreadPool,
) -> Result<()> {
    let started = Instant::now();
    let chunks = batches::plan(inputs);
    let (t, n) = task.unwrap_or((0, 1));
    let mine = batches::chunks_of_task(&chunks, t, n);
    batches::run(
        &Stages::new(config, &run.work.join("ocr-cache"))?,
        inputs,
        &mine,
        &run.work.join("extract"),
        pool,
    )?;
    if task.is_some() {
        run.record_seconds(
            &format!("extract-task-{t}"),
            started.elapsed().as_secs_f64(),
        )?;
    }
    Ok(())
}

/// The global phases, once every chunk is extracted.
pub fn finish(
    run: &RunDir,
    config: &Config,
    inputs: &[Input],
    pool: &rayon::ThreadPool,
) -> Result<Summary> {
    let work = run.work.clone();
    let chunks = batches::plan(inputs);
    let missing = batches::missing(&chunks, &work.join("extract")).len();
    if missing > 0 {
        bail!(
            "{missing} of {} extraction chunks are not finished: run again with --resume",
            chunks.len()
        );
    }

    let ingest: IngestStats = run.phase("exact-dedup", &["work/ingest", "errors.jsonl"], || {
        let mut collector =
            Collector::open(&config.dedup, config.output.shard_bytes, &work, &run.root)?;
        for failure in load_list::<Failure>(&work.join("walk"), "failures")? {
            collector.failure(&failure, "special")?;
        }
        for outcomes in batches::read_in_order(&chunks, &work.join("extract")) {
            collector.take(outcomes?)?;
        }
        collector.finish(inputs.len() as u64, inputs.iter().map(|i| i.size).sum())
    })?;

    let near_dedup: NearDedupStats = run.phase("near-dedup", &["work/near_dedup"], || {
        near::run(config, &work, pool)
    })?;

    let kept_documents = || -> Result<Box<dyn Iterator<Item = Result<Document>>>> {
        let docs = list_shards(&work.join("ingest"), "docs")?;
        let decisions = near::decision_shards(&work)?;
        let docs = read_jsonl_zst_file_list(docs);
        Ok(Box::new(near::apply(
            docs,
            read_jsonl_zst_file_list(decisions),
        )))
    };
    let vocab: Option<VocabReport> = match config.vocab.mode {
        VocabMode::Off => None,
        _ => Some(run.phase("vocab", &["vocab"], || {
            vocab::run_phase(&config.vocab, &config.bert, kept_documents, &run.root, pool)
        })?),
    };

    let (publish, reject_samples): (PublishStats, Samples) = run.phase(
        "publish",
        &["docs", "bert", "megatron", "wwm", "mlm", "rejects"],
        || {
            let docs = list_shards(&work.join("ingest"), "docs")?;
            let encoder = shard::prepare::Encoder::from_config(&config.tokenize, &run.root)?;
            let ordered = shard::ordered_documents(kept_documents()?, &docs, &work, &config.bert)?;
            let options = shard::PublishOptions {
                docs_shard_bytes: config.output.shard_bytes,
                bert: &config.bert,
                encoder: encoder.as_ref(),
                mlm: &config.mlm,
                batch_documents: config.tokenize.batch_documents,
            };
            let stats = shard::publish(ordered, &run.root, &options, pool)?;
            Ok((stats, publish_rejects(run, config)?))
        },
    )?;
    let mut phases = BTreeMap::new();
    phases.insert(
        "near-duplicates".to_string(),
        serde_json::to_value(&near_dedup)?,
    );

    let seconds = run.seconds();
    let summary = Summary {
        ingest,
        near_dedup,
        publish,
        vocab,
        seconds: seconds.values().sum(),
    };
    let files = manifest::list_outputs(&run.root, &summary.publish.shards)?;
    manifest::write(
        &run.root,
        &Manifest {
            medcorpus_version: env!("CARGO_PKG_VERSION"),
            config: &serde_json::to_value(config)?,
            ingest: &summary.ingest,
            near_dedup: &summary.near_dedup,
            publish: &summary.publish,
            vocab: summary.vocab.as_ref(),
            bytes_in: summary.ingest.bytes_in,
            bytes_out: files.iter().map(|f| f.bytes).sum(),
            seconds: summary.seconds,
            phase_seconds: seconds.clone(),
            peak_rss_mb: report::peak_rss_mb(),
            files,
        },
    )?;
    report::html::write(
        &run.root,
        &report::html::Report {
            medcorpus_version: env!("CARGO_PKG_VERSION"),
            seconds: summary.seconds,
            phase_seconds: &seconds,
            peak_rss_mb: report::peak_rss_mb(),
            ingest: &summary.ingest,
            publish: &summary.publish,
            reject_samples: &reject_samples,
            phases: &phases,
        },
    )?;
    Ok(summary)
}

fn save_list<T: Serialize>(dir: &std::path::Path, prefix: &str, items: &[T]) -> Result<()> {
    let mut writer = ShardWriter::new(dir, prefix, true, u64::MAX)?.intermediate();
    for item in items {
        writer.write_json(item)?;
    }
    writer.finish()?;
    Ok(())
}

fn load_list<T: serde::de::DeserializeOwned + 'static>(
    dir: &std::path::Path,
    prefix: &str,
) -> Result<Vec<T>> {
    read_jsonl_zst(&list_shards(dir, prefix)?).collect()
}

/// Reads `.jsonl.zst` files in order, owning the list.
fn read_jsonl_zst_file_list<T: serde::de::DeserializeOwned + 'static>(
    paths: Vec<std::path::PathBuf>,
) -> impl Iterator<Item = Result<T>> {
    paths
        .into_iter()
        .flat_map(crate::shard::writer::read_jsonl_zst_file)
}

/// A few rejected samples per reason, for the report.
type Samples = BTreeMap<String, Vec<String>>;
const SAMPLES_PER_REASON: usize = 3;

/// Every phase's rejects, in phase order, as `rejects/part-*.jsonl.zst`.
fn publish_rejects(run: &RunDir, config: &Config) -> Result<Samples> {
    let mut shards = list_shards(&run.work.join("ingest"), "rejects")?;
    shards.extend(near::reject_shards(&run.work)?);
    let mut out = ShardWriter::new(
        &run.root.join("rejects"),
        "part",
        true,
        config.output.shard_bytes,
    )?;
    let mut samples = Samples::new();
    for reject in read_jsonl_zst::<crate::document::Reject>(&shards) {
        let reject = reject?;
        let kept = samples.entry(reject.reason.clone()).or_default();
        if kept.len() < SAMPLES_PER_REASON {
            kept.push(format!("{}: {}", reject.source, reject.sample));
        }
        out.write_json(&reject)?;
    }
    out.finish()?;
    Ok(samples)
}

#[derive(Serialize, Deserialize)]
pub struct Summary {
    pub ingest: IngestStats,
    pub near_dedup: NearDedupStats,
    pub publish: PublishStats,
    pub vocab: Option<VocabReport>,
    pub seconds: f64,
}

impl Summary {
    /// The table printed at the end of a run.
    pub fn table(&self) -> String {
        let i = &self.ingest;
        let mb = i.bytes_in as f64 / 1e6;
        let mut t = format!(
            "files {:>10}   input {:>10.1} MB   {:.1} s   {:.1} MB/s\n",
            i.files,
            mb,
            self.seconds,
            mb / self.seconds.max(1e-9)
        );
        t += &format!("documents extracted {:>10}\n", i.extracted);
        t += &format!(
            "documents kept      {:>10}   ({} train, {} valid)\n",
            self.publish.docs, self.publish.train_docs, self.publish.valid_docs
        );
        if let Some(tokens) = &self.publish.tokens {
            t += &format!(
                "tokens              {:>10}   ({} train, {} valid)\n",
                tokens.train_tokens + tokens.valid_tokens,
                tokens.train_tokens,
                tokens.valid_tokens
            );
        }
        for (reason, n) in &i.rejected {
            t += &format!("rejected {reason:<18} {n:>7}\n");
        }
        let n = &self.near_dedup;
        if n.dropped_docs + n.trimmed_docs > 0 {
            t += &format!("rejected {:<18} {:>7}\n", "near-duplicate", n.dropped_docs);
            t += &format!(
                "trimmed  {:<18} {:>7}   ({} chars cut)\n",
                "near-duplicate", n.trimmed_docs, n.trimmed_chars
            );
        }
        for (stage, n) in &i.errors {
            t += &format!("errors in {stage:<17} {n:>7}   (see errors.jsonl)\n");
        }
        if let Some(v) = &self.vocab {
            t += &format!("vocabulary {:?}     {:>10} tokens", v.mode, v.size);
            if let Some(h) = &v.held_out {
                t += &format!("   held-out [UNK] rate {:.4}%", h.ours.unk_rate * 100.0);
                if let Some(b) = &h.baseline {
                    t += &format!(" (base {:.4}%)", b.unk_rate * 100.0);
                }
            }
            t += "\n";
        }
        t
    }
}
