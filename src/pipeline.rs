//! The whole flow on one screen:
//!   walk → [extract → clean → filter] (parallel per file) → exact dedup (in order)
//!        → publish docs + BERT text + Megatron tokens → manifest.
//! Each phase reads what the one before wrote under the output folder and is marked done
//! only when complete, so `--resume` restarts at the first unfinished phase.
use crate::config::Config;
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

    let published: Published = run.phase(
        "publish",
        &["docs", "bert", "megatron", "wwm", "mlm", "rejects"],
        || {
            let docs = list_shards(&work.join("ingest"), "docs")?;
            let encoder = shard::prepare::Encoder::from_config(&config.tokenize, &run.root)?;
            let ordered = shard::ordered_documents(&docs, &work, &config.bert)?;
            let options = shard::PublishOptions {
                docs_shard_bytes: config.output.shard_bytes,
                bert: &config.bert,
                encoder: encoder.as_ref(),
                mlm: &config.mlm,
                batch_documents: config.tokenize.batch_documents,
            };
            let stats = shard::publish(ordered, &run.root, &options, &pool)?;
            let rejects = publish_rejects(&run, config)?;
            Ok(Published { stats, rejects })
        },
    )?;

    let files = manifest::list_outputs(&run.root, &published.stats.shards)?;
    let summary = Summary {
        ingest,
        publish: published.stats,
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
            files,
        },
    )?;
    Ok(summary)
}

/// Every phase's rejects, in phase order, as `rejects/part-*.jsonl.zst`.
fn publish_rejects(run: &RunDir, config: &Config) -> Result<u64> {
    let shards = list_shards(&run.work.join("ingest"), "rejects")?;
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
        for (stage, n) in &i.errors {
            t += &format!("errors in {stage:<17} {n:>7}   (see errors.jsonl)\n");
        }
        t
    }
}
