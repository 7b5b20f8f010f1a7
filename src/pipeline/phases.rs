//! The phases behind `pipeline::finish` and the Slurm tasks: each over all partitions (one task,
//! locally) or over task t of n's share, and the document streams they read.
use crate::config::Config;
use crate::dedup::exact::{self, Resolver};
use crate::dedup::near::{self, NearDedupStats};
use crate::document::{Failure, Reject};
use crate::ingest::batches;
use crate::ingest::stream::{self, DeferredLedger, Ledger, Recorder, Samples};
use crate::ingest::IngestStats;
use crate::run_dir::RunDir;
use crate::shard::writer::{list_shards, read_jsonl_zst, ShardWriter};
use crate::shard::{self, prepared, PublishStats};
use crate::vocab::{self, VocabMode, VocabReport};
use crate::walk::Input;
use anyhow::{bail, Result};
use serde::Serialize;

pub(super) fn save_list<T: Serialize>(
    dir: &std::path::Path,
    prefix: &str,
    items: &[T],
) -> Result<()> {
    let mut writer = ShardWriter::new(dir, prefix, true, u64::MAX)?.intermediate();
    for item in items {
        writer.write_json(item)?;
    }
    writer.finish()?;
    Ok(())
}

pub(super) fn load_list<T: serde::de::DeserializeOwned + 'static>(
    dir: &std::path::Path,
    prefix: &str,
) -> Result<Vec<T>> {
    read_jsonl_zst(list_shards(dir, prefix)?).collect()
}

/// The documents of `chunks` (every partition's, or one partition's) in input order with their
/// positions, after exact dedup and, once its decisions exist (`near_applied`), near dedup; with
/// a ledger, the rest goes to it.
fn documents<'a>(
    run: &'a RunDir,
    config: &Config,
    chunks: &'a [batches::Chunk],
    near_applied: bool,
    ledger: Option<&'a mut dyn Recorder>,
) -> Result<near::PositionedDocuments<'a>> {
    let mut inputs: Vec<usize> = chunks
        .iter()
        .flat_map(|c| c.inputs.iter().copied())
        .collect();
    inputs.sort_unstable();
    let resolver =
        Resolver::open(&config.dedup, &run.work.join("exact"))?.only_inputs(inputs.iter().copied());
    let outcomes = batches::read_in_order(chunks, run.work.join("extract"));
    let documents = stream::kept_documents(outcomes, resolver, ledger);
    if !near_applied {
        return Ok(Box::new(documents));
    }
    // The decisions are the whole corpus's: those of other partitions' inputs are passed over.
    let decisions = read_jsonl_zst::<near::DecisionRecord>(near::decision_shards(&run.root)?)
        .filter(move |d| {
            d.as_ref()
                .map_or(true, |d| inputs.binary_search(&(d.at.0 as usize)).is_ok())
        });
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
        documents(
            run,
            config,
            batches::of_partition(chunks, partition),
            false,
            None,
        )
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
        let documents = documents(
            run,
            config,
            batches::of_partition(chunks, partition),
            true,
            None,
        )?;
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
        let mine = batches::of_partition(chunks, partition);
        let documents = documents(run, config, mine, true, Some(&mut ledger))?;
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

/// Publish: documents, BERT text, Megatron datasets and masks, rejects and `errors.jsonl`; the
/// documents prepared while they are written (`local`), or by the `publish-prepare` array.
pub(super) fn publish_phase(
    run: &RunDir,
    config: &Config,
    inputs: &[Input],
    chunks: &[batches::Chunk],
    local: bool,
    pool: &rayon::ThreadPool,
) -> Result<(PublishStats, IngestStats, Samples)> {
    let mut ledger = Ledger::open(
        &run.root,
        config.output.shard_bytes,
        config.output.zstd_level,
    )?;
    for failure in load_list::<Failure>(&run.work.join("walk"), "failures")? {
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
        let kept = documents(run, config, chunks, true, Some(&mut ledger))?
            .map(|doc| doc.map(|(_, doc)| ((), doc)));
        let ordered = shard::ordered(kept, buckets, &run.work, &config.bert, |(_, d)| &d.id)?;
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
        let partitions = batches::partitions(chunks);
        let missing = prepared::missing(&run.root, partitions.iter().copied());
        if !missing.is_empty() {
            bail!("partitions {missing:?} are not prepared: run again with --resume");
        }
        ledger.replay(prepared::ledger_entries(&run.root, &partitions))?;
        let saved = prepared::read(&run.root, &partitions);
        let ordered = shard::ordered(saved, buckets, &run.work, &config.bert, |p| &p.doc.id)?;
        shard::publish(ordered, &run.root, &options, pool)?
    };
    for reject in read_jsonl_zst::<Reject>(near::reject_shards(&run.root)?) {
        ledger.reject(&reject?)?;
    }
    let (ingest, samples) = ledger.finish(inputs.len() as u64, bytes_in)?;
    Ok((stats, ingest, samples))
}
