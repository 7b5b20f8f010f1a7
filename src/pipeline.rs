//! The whole flow on one screen:
//!   walk → extract (extract → clean → filter, parallel per file, saved per chunk with the
//!          documents' exact-dedup keys)
//!        → exact dedup (over the keys alone, in input order)
//!        → near dedup: MinHash signatures per partition → LSH by band key → decisions
//!        → vocabulary → publish docs + BERT text + Megatron tokens and whole-word masks,
//!          rejects and errors → manifest and report.
//! Phases after extraction read the extracted documents back in input order (or one
//! partition's, for signing) with the exact-dedup verdicts applied (`documents`).
//! Each phase reads what the one before wrote under the output folder and is marked done
//! only when complete, so `--resume` restarts at the first unfinished phase (and inside
//! `extract`, at the first unsaved chunk). The local executor runs every phase here; the Slurm
//! executor (executor/slurm.rs) runs extraction, exact dedup, signing and LSH as arrays of
//! tasks, and `finish` after them.
use crate::config::Config;
use crate::dedup::exact::{self, Resolver};
use crate::dedup::near::{self, NearDedupStats};
use crate::document::Failure;
use crate::document::Reject;
use crate::ingest::batches;
use crate::ingest::stream::{self, DeferredLedger, Ledger, Recorder, Samples};
use crate::ingest::{IngestStats, Stages};
use crate::report::{
    self,
    manifest::{self, Manifest},
};
use crate::run_dir::RunDir;
use crate::shard::writer::{list_shards, read_jsonl_zst, ShardWriter};
use crate::shard::{self, prepared, PublishStats};
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
    finish(&run, config, &inputs, ArraysDoneBy::ThisProcess, &pool)
}

/// Who ran the phases that split into tasks (exact dedup, near-dedup signing and LSH, word
/// counts): the finish step itself (local executor), or arrays of tasks before it (Slurm).
pub enum ArraysDoneBy {
    ThisProcess,
    Tasks(usize),
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
    done_by: ArraysDoneBy,
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

    let partitions = batches::partitions(&chunks);
    // The phases that split into tasks: here, each as one task; on Slurm, arrays that ran
    // before this step, whose results are checked.
    let local = matches!(done_by, ArraysDoneBy::ThisProcess);
    let tasks = match done_by {
        ArraysDoneBy::ThisProcess => {
            run.phase("exact-dedup", &["work/exact"], || {
                exact_dedup(run, config, &chunks, 0, 1)
            })?;
            run.phase("near-sign", &[near::SIGN_DIR], || {
                near_sign(run, config, &chunks, 0, 1, pool)
            })?;
            run.phase("near-lsh", &[near::LSH_DIR], || {
                near::lsh(config, &run.root, &partitions, 0, 1)
            })?;
            1
        }
        ArraysDoneBy::Tasks(tasks) => {
            let missing = exact::missing_tasks(&work.join("exact"), tasks);
            if !missing.is_empty() {
                bail!("exact-dedup tasks {missing:?} of {tasks} are not finished: run again with --resume");
            }
            tasks
        }
    };
    let near_dedup = near_decide(run, config, &partitions, tasks)?;

    let vocab = vocab_phase(run, config, &chunks, local, pool)?;

    let (publish, ingest, reject_samples): (PublishStats, IngestStats, Samples) =
        run.phase("publish", &manifest::PUBLISHED, || {
            let mut ledger = Ledger::open(
                &run.root,
                config.output.shard_bytes,
                config.output.zstd_level,
            )?;
            for failure in load_list::<Failure>(&work.join("walk"), "failures")? {
                ledger.failure(&failure, "special")?;
            }
            let encoder = shard::prepare::Encoder::from_config(&config.tokenize, &run.root)?;
            let bytes_in = inputs.iter().map(|i| i.size).sum::<u64>();
            // A shuffle bucket per `output.shard_bytes` of input holds no more text than that,
            // so the shuffle's memory stays near one shard.
            let buckets = (bytes_in / config.output.shard_bytes.max(1) + 1).min(4096) as usize;
            let options = shard::PublishOptions {
                docs_shard_bytes: config.output.shard_bytes,
                docs_zstd_level: config.output.zstd_level,
                bert: &config.bert,
                encoder: encoder.as_ref(),
                mlm: &config.mlm,
                batch_documents: config.tokenize.batch_documents,
            };
            let stats = if local {
                // Documents are prepared while they are written.
                let kept = kept_documents(run, config, &chunks, Some(&mut ledger))?
                    .map(|doc| doc.map(|(_, doc)| ((), doc)));
                let ordered = shard::ordered(kept, buckets, &work, &config.bert, |(_, d)| &d.id)?;
                let prepared = shard::prepared_in_batches(
                    ordered,
                    &config.bert,
                    encoder.as_ref(),
                    config.tokenize.batch_documents,
                    pool,
                )
                .map(|p| p.map(|(_, p)| p));
                shard::publish(prepared, &run.root, &options, pool)?
            } else {
                // The partitions' tasks prepared them (`publish_prepare`).
                let missing = prepared::missing(&run.root, partitions.iter().copied());
                if !missing.is_empty() {
                    bail!("partitions {missing:?} are not prepared: run again with --resume");
                }
                ledger.replay(prepared::ledger_entries(&run.root, &partitions))?;
                let saved = prepared::read(&run.root, &partitions);
                let ordered = shard::ordered(saved, buckets, &work, &config.bert, |p| &p.doc.id)?;
                shard::publish(ordered, &run.root, &options, pool)?
            };
            for reject in read_jsonl_zst::<Reject>(near::reject_shards(&run.root)?) {
                ledger.reject(&reject?)?;
            }
            let (ingest, samples) = ledger.finish(inputs.len() as u64, bytes_in)?;
            Ok((stats, ingest, samples))
        })?;
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
    read_jsonl_zst(list_shards(dir, prefix)?).collect()
}

/// The documents after exact dedup, in input order with their positions; with a ledger, the
/// rest goes to it.
fn documents<'a>(
    run: &'a RunDir,
    config: &Config,
    chunks: &'a [batches::Chunk],
    ledger: Option<&'a mut dyn Recorder>,
) -> Result<near::PositionedDocuments<'a>> {
    let resolver = Resolver::open(&config.dedup, &run.work.join("exact"))?;
    let outcomes = batches::read_in_order(chunks, run.work.join("extract"));
    Ok(Box::new(stream::kept_documents(outcomes, resolver, ledger)))
}

/// The documents after exact and near dedup: what the vocabulary and publish read.
fn kept_documents<'a>(
    run: &'a RunDir,
    config: &Config,
    chunks: &'a [batches::Chunk],
    ledger: Option<&'a mut dyn Recorder>,
) -> Result<near::PositionedDocuments<'a>> {
    let decisions = read_jsonl_zst(near::decision_shards(&run.root)?);
    let documents = documents(run, config, chunks, ledger)?;
    Ok(Box::new(near::apply(documents, decisions)))
}

/// Exact dedup, task `task` of `tasks` (one locally; an array on Slurm): the duplicates among
/// the keys of its share, from the keys every extraction chunk saved.
pub fn exact_dedup(
    run: &RunDir,
    config: &Config,
    chunks: &[batches::Chunk],
    task: usize,
    tasks: usize,
) -> Result<()> {
    let keys = batches::keys_in_order(chunks, run.work.join("extract"));
    exact::resolve(keys, &config.dedup, task, tasks, &run.work.join("exact"))
}

/// One partition's documents after exact dedup, streamed from that partition's chunks alone,
/// and the partition's inputs (sorted); with a ledger, the rest goes to it.
fn partition_documents<'a>(
    run: &'a RunDir,
    config: &Config,
    chunks: &[batches::Chunk],
    partition: usize,
    ledger: Option<&'a mut dyn Recorder>,
) -> Result<(Vec<usize>, near::PositionedDocuments<'a>)> {
    let mine: Vec<batches::Chunk> = chunks
        .iter()
        .filter(|c| c.partition == partition)
        .cloned()
        .collect();
    let inputs: Vec<usize> = mine.iter().flat_map(|c| c.inputs.iter().copied()).collect();
    let resolver =
        Resolver::open(&config.dedup, &run.work.join("exact"))?.only_inputs(inputs.iter().copied());
    let dir = run.work.join("extract");
    let outcomes = mine
        .into_iter()
        .flat_map(move |chunk| batches::read_chunk(&chunk, &dir));
    let documents = stream::kept_documents(outcomes, resolver, ledger);
    Ok((inputs, Box::new(documents)))
}

/// One partition's documents after exact and near dedup.
fn partition_kept_documents<'a>(
    run: &'a RunDir,
    config: &Config,
    chunks: &[batches::Chunk],
    partition: usize,
    ledger: Option<&'a mut dyn Recorder>,
) -> Result<near::PositionedDocuments<'a>> {
    let (inputs, documents) = partition_documents(run, config, chunks, partition, ledger)?;
    let decisions = read_jsonl_zst::<near::DecisionRecord>(near::decision_shards(&run.root)?)
        .filter(move |d| {
            d.as_ref()
                .map_or(true, |d| inputs.binary_search(&(d.at.0 as usize)).is_ok())
        });
    Ok(Box::new(near::apply(documents, decisions)))
}

/// Near-dedup signing, task `task` of `tasks`: each of its partitions' documents.
pub fn near_sign(
    run: &RunDir,
    config: &Config,
    chunks: &[batches::Chunk],
    task: usize,
    tasks: usize,
    pool: &rayon::ThreadPool,
) -> Result<()> {
    let documents_of = |partition: usize| {
        partition_documents(run, config, chunks, partition, None).map(|(_, documents)| documents)
    };
    let partitions = batches::partitions(chunks);
    near::sign(
        config,
        &run.root,
        &partitions,
        task,
        tasks,
        &documents_of,
        pool,
    )
}

/// Near-dedup decisions from the signatures of `partitions` and the edges of `lsh_tasks` tasks
/// (in the finish step locally; a job of its own on Slurm, before the word counts need them).
pub fn near_decide(
    run: &RunDir,
    config: &Config,
    partitions: &[usize],
    lsh_tasks: usize,
) -> Result<NearDedupStats> {
    run.phase("near-dedup", &[near::DECIDED_DIR], || {
        near::decide(config, &run.root, partitions, lsh_tasks)
    })
}

/// Word counts for the vocabulary, task `task` of `tasks`: each of its partitions' documents
/// after exact and near dedup.
pub fn vocab_count(
    run: &RunDir,
    config: &Config,
    chunks: &[batches::Chunk],
    task: usize,
    tasks: usize,
    pool: &rayon::ThreadPool,
) -> Result<()> {
    let documents_of = |partition: usize| -> Result<vocab::PartitionDocuments<'_>> {
        let documents = partition_kept_documents(run, config, chunks, partition, None)?;
        Ok(Box::new(documents.map(|d| d.map(|(_, doc)| doc))))
    };
    let partitions = batches::partitions(chunks);
    let mine: Vec<usize> = near::partitions_of_task(&partitions, task, tasks).collect();
    vocab::count_partitions(
        &config.vocab,
        &config.bert,
        &run.root,
        &mine,
        &documents_of,
        pool,
    )
}

/// The vocabulary (None when off), from the word counts of every partition; `local` counts
/// them here, otherwise the `vocab-count` array did.
pub fn vocab_phase(
    run: &RunDir,
    config: &Config,
    chunks: &[batches::Chunk],
    local: bool,
    pool: &rayon::ThreadPool,
) -> Result<Option<VocabReport>> {
    if config.vocab.mode == VocabMode::Off {
        return Ok(None);
    }
    let outputs: &[&str] = match local {
        true => &["vocab", vocab::COUNTS_DIR],
        false => &["vocab"],
    };
    let partitions = batches::partitions(chunks);
    let report = run.phase("vocab", outputs, || {
        if local {
            vocab_count(run, config, chunks, 0, 1, pool)?;
        }
        vocab::build_phase(&config.vocab, &run.root, &partitions, pool)
    })?;
    Ok(Some(report))
}

/// Publish's per-document work for a Slurm run, task `task` of `tasks`: each of its partitions'
/// kept documents prepared and saved, with what the ledger is to record of them.
pub fn publish_prepare(
    run: &RunDir,
    config: &Config,
    chunks: &[batches::Chunk],
    task: usize,
    tasks: usize,
    pool: &rayon::ThreadPool,
) -> Result<()> {
    let encoder = shard::prepare::Encoder::from_config(&config.tokenize, &run.root)?;
    std::fs::create_dir_all(run.root.join(prepared::DIR))?;
    let partitions = batches::partitions(chunks);
    let mine = prepared::missing(
        &run.root,
        near::partitions_of_task(&partitions, task, tasks),
    );
    for partition in mine {
        let mut ledger = DeferredLedger::create(&prepared::ledger_path(&run.root, partition))?;
        let documents =
            partition_kept_documents(run, config, chunks, partition, Some(&mut ledger))?;
        let ready = shard::prepared_in_batches(
            documents,
            &config.bert,
            encoder.as_ref(),
            config.tokenize.batch_documents,
            pool,
        );
        let saved = prepared::write(&run.root, partition, ready)?;
        ledger.finish()?;
        saved.finish()?;
    }
    Ok(())
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
