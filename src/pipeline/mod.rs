//! The whole flow on one screen:
//!   walk → extract (extract → clean → filter, parallel per file, saved per chunk with the
//!          documents' exact-dedup keys)
//!        → exact dedup (over the keys alone, in input order)
//!        → near dedup: MinHash signatures per partition → LSH by band key → decisions
//!        → vocabulary: word counts per partition, merged → training
//!        → publish docs + BERT text + Megatron tokens and whole-word masks, rejects and
//!          errors → manifest and report (summary.rs).
//! Phases after extraction read the extracted documents back in input order, or one
//! partition's, with the exact-dedup verdicts applied (phases.rs). Each phase reads what the
//! one before wrote under the output folder and is marked done only when complete, so
//! `--resume` restarts at the first unfinished phase (and inside `extract`, at the first
//! unsaved chunk). The local executor runs every phase here, each as one task; the Slurm
//! executor (executor/slurm.rs) runs the same phase functions as job arrays and single jobs,
//! and `finish` after them.
mod phases;
mod summary;

pub use phases::{exact_dedup, near_decide, near_sign, publish_prepare, vocab_count, vocab_phase};
pub use summary::Summary;

use crate::config::Config;
use crate::dedup::{exact, near};
use crate::ingest::{batches, Stages};
use crate::report::manifest;
use crate::run_dir::RunDir;
use crate::walk::{self, Input};
use anyhow::{bail, Result};
use phases::{load_list, publish_phase, save_list};
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

    let (publish, ingest, reject_samples) = run.phase("publish", &manifest::PUBLISHED, || {
        publish_phase(run, config, inputs, &chunks, local, pool)
    })?;
    let summary = Summary {
        ingest,
        near_dedup,
        publish,
        vocab,
        seconds: run.seconds().values().sum(),
    };
    summary.write_reports(run, config, &reject_samples)?;
    Ok(summary)
}
