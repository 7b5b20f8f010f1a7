//! The whole flow on one screen:
//!   walk → [extract → clean → filter] (parallel per file) → exact dedup (in order)
//!        → near dedup (MinHash LSH) → publish docs + BERT text → manifest.
//! Each phase reads what the one before wrote under the output folder and is marked done
//! only when complete, so `--resume` restarts at the first unfinished phase.
use crate::config::Config;
use crate::dedup::near::{self, NearDedupStats};
use crate::ingest::{self, IngestStats};
use crate::report::manifest::{self, Manifest};
use crate::run_dir::RunDir;
use crate::shard::writer::{list_shards, read_jsonl_zst, ShardWriter};
use crate::shard::{self, PublishStats};
use crate::walk;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::time::Instant;

pub struct RunOptions {
    pub threads: usize,
    pub resume: bool,
}

#[derive(Serialize, Deserialize)]
struct Published {
    stats: PublishStats,
    rejects: u64,
}

pub fn run(config: &Config, options: &RunOptions) -> Result<Summary> {
    let started = Instant::now();
    let config_json = serde_json::to_string_pretty(config)?;
    let run = RunDir::open(&config.output.dir, options.resume, &config_json)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .build()?;
    let work = run.work.clone();

    let ingest: IngestStats = run.phase("ingest", &["work/ingest", "errors.jsonl"], || {
        let found =
            pool.install(|| walk::discover(&config.input.paths, config.input.follow_symlinks));
        ingest::run(
            config,
            &found.inputs,
            &found.failures,
            &work,
            &run.root,
            &pool,
        )
    })?;

    let near_dedup: NearDedupStats = run.phase("near-dedup", &["work/near_dedup"], || {
        near::run(config, &work, &pool)
    })?;

    let published: Published = run.phase("publish", &["docs", "bert", "rejects"], || {
        let docs = list_shards(&work.join("ingest"), "docs")?;
        let decisions = near::decision_shards(&work)?;
        let (stats, _) = shard::publish(
            near::apply(read_jsonl_zst(&docs), read_jsonl_zst(&decisions)),
            &run.root,
            config.output.shard_bytes,
            &config.bert,
        )?;
        let rejects = publish_rejects(&run, config)?;
        Ok(Published { stats, rejects })
    })?;

    let files = manifest::list_outputs(&run.root)?;
    let summary = Summary {
        ingest,
        near_dedup,
        publish: published.stats,
        seconds: started.elapsed().as_secs_f64(),
    };
    manifest::write(
        &run.root,
        &Manifest {
            medcorpus_version: env!("CARGO_PKG_VERSION"),
            config: &serde_json::from_str(&config_json)?,
            ingest: &summary.ingest,
            near_dedup: &summary.near_dedup,
            publish: &summary.publish,
            bytes_in: summary.ingest.bytes_in,
            bytes_out: files.iter().map(|f| f.bytes).sum(),
            seconds: summary.seconds,
            files,
        },
    )?;
    Ok(summary)
}

/// Every phase's rejects, in phase order, as `rejects/part-*.jsonl.zst`.
fn publish_rejects(run: &RunDir, config: &Config) -> Result<u64> {
    let mut shards = list_shards(&run.work.join("ingest"), "rejects")?;
    shards.extend(near::reject_shards(&run.work)?);
    let mut out = ShardWriter::new(
        &run.root.join("rejects"),
        "part",
        true,
        config.output.shard_bytes,
    )?;
    let mut n = 0;
    for reject in read_jsonl_zst::<serde_json::Value>(&shards) {
        out.write_json(&reject?)?;
        n += 1;
    }
    out.finish()?;
    Ok(n)
}

pub struct Summary {
    pub ingest: IngestStats,
    pub near_dedup: NearDedupStats,
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
        t
    }
}
