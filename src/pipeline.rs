//! The whole flow on one screen:
//!   walk → [extract → clean → filter] (parallel per file) → exact dedup (in order)
//!        → publish docs + BERT text → vocabulary → manifest.
//! Each phase reads what the one before wrote under the output folder and is marked done
//! only when complete, so `--resume` restarts at the first unfinished phase.
use crate::config::Config;
use crate::ingest::{self, IngestStats};
use crate::report::manifest::{self, Manifest};
use crate::run_dir::RunDir;
use crate::shard::writer::{list_shards, read_jsonl_zst, ShardWriter};
use crate::shard::{self, PublishStats};
use crate::vocab::{self, VocabMode, VocabReport};
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

    let published: Published = run.phase("publish", &["docs", "bert", "rejects"], || {
        let docs = list_shards(&work.join("ingest"), "docs")?;
        let (stats, _) = shard::publish(
            read_jsonl_zst(&docs),
            &run.root,
            config.output.shard_bytes,
            &config.bert,
        )?;
        let rejects = publish_rejects(&run, config)?;
        Ok(Published { stats, rejects })
    })?;

    let vocab: Option<VocabReport> = match config.vocab.mode {
        VocabMode::Off => None,
        _ => Some(run.phase("vocab", &["vocab"], || {
            vocab::run_phase(
                &config.vocab,
                &config.bert,
                &work.join("ingest"),
                &run.root,
                &pool,
            )
        })?),
    };

    let files = manifest::list_outputs(&run.root)?;
    let summary = Summary {
        ingest,
        publish: published.stats,
        vocab,
        seconds: started.elapsed().as_secs_f64(),
    };
    manifest::write(
        &run.root,
        &Manifest {
            medcorpus_version: env!("CARGO_PKG_VERSION"),
            config: &serde_json::from_str(&config_json)?,
            ingest: &summary.ingest,
            publish: &summary.publish,
            vocab: summary.vocab.as_ref(),
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
        for (reason, n) in &i.rejected {
            t += &format!("rejected {reason:<18} {n:>7}\n");
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
