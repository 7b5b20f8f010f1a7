//! The whole flow on one screen:
//!   walk → extract (extract → clean → filter, parallel per file, saved per batch)
//!        → exact dedup (in input order) → publish docs + BERT text → manifest.
//! Each phase reads what the one before wrote under the output folder and is marked done
//! only when complete, so `--resume` restarts at the first unfinished phase (and inside
//! `extract`, at the first unsaved batch).
use crate::config::Config;
use crate::document::Failure;
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
use crate::walk::{self, Input};
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Instant;

pub struct RunOptions {
    pub threads: usize,
    pub resume: bool,
}

pub fn run(config: &Config, options: &RunOptions) -> Result<Summary> {
    let started = Instant::now();
    let config_json = serde_json::to_string_pretty(config)?;
    let run = RunDir::open(&config.output.dir, options.resume, &config_json)?;
    crate::logging::init(Some(&run.root.join("medcorpus.log")));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .build()?;
    let work = run.work.clone();
    let mut seconds = BTreeMap::new();
    let mut timed = |phase: &str, since: Instant| {
        seconds.insert(phase.to_string(), since.elapsed().as_secs_f64());
        tracing::info!(
            phase,
            seconds = since.elapsed().as_secs_f64(),
            "phase finished"
        );
    };

    let t = Instant::now();
    run.phase("walk", &["work/walk"], || {
        let found =
            pool.install(|| walk::discover(&config.input.paths, config.input.follow_symlinks));
        save_list(&work.join("walk"), "inputs", &found.inputs)?;
        save_list(&work.join("walk"), "failures", &found.failures)
    })?;
    let inputs: Vec<Input> = load_list(&work.join("walk"), "inputs")?;
    timed("walk", t);

    let t = Instant::now();
    run.phase("extract", &[], || {
        batches::run(&Stages::new(config)?, &inputs, &work.join("extract"), &pool)
    })?;
    timed("extract", t);

    let t = Instant::now();
    let ingest: IngestStats = run.phase("exact-dedup", &["work/ingest", "errors.jsonl"], || {
        let mut collector =
            Collector::open(&config.dedup, config.output.shard_bytes, &work, &run.root)?;
        for failure in load_list::<Failure>(&work.join("walk"), "failures")? {
            collector.failure(&failure, "special")?;
        }
        for outcomes in batches::read_all(&work.join("extract"), batches::plan(&inputs).len()) {
            collector.take(outcomes?)?;
        }
        collector.finish(inputs.len() as u64, inputs.iter().map(|i| i.size).sum())
    })?;
    timed("exact-dedup", t);

    let t = Instant::now();
    let (publish, reject_samples): (PublishStats, Samples) =
        run.phase("publish", &["docs", "bert", "rejects"], || {
            let docs = list_shards(&work.join("ingest"), "docs")?;
            let bert = &config.bert;
            let stats = shard::publish(
                read_jsonl_zst(&docs),
                &run.root,
                config.output.shard_bytes,
                bert,
            )?;
            Ok((stats, publish_rejects(&run, config)?))
        })?;
    timed("publish", t);
    let phases = BTreeMap::new();

    let files = manifest::list_outputs(&run.root)?;
    let summary = Summary {
        ingest,
        publish,
        seconds: started.elapsed().as_secs_f64(),
    };
    manifest::write(
        &run.root,
        &Manifest {
            medcorpus_version: env!("CARGO_PKG_VERSION"),
            config: &serde_json::from_str(&config_json)?,
            ingest: &summary.ingest,
            publish: &summary.publish,
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

/// A few rejected samples per reason, for the report.
type Samples = BTreeMap<String, Vec<String>>;
const SAMPLES_PER_REASON: usize = 3;

/// Every phase's rejects, in phase order, as `rejects/part-*.jsonl.zst`.
fn publish_rejects(run: &RunDir, config: &Config) -> Result<Samples> {
    let shards = list_shards(&run.work.join("ingest"), "rejects")?;
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
    pub publish: PublishStats,
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
        for (reason, n) in &i.rejected {
            t += &format!("rejected {reason:<18} {n:>7}\n");
        }
        for (stage, n) in &i.errors {
            t += &format!("errors in {stage:<17} {n:>7}   (see errors.jsonl)\n");
        }
        t
    }
}
