//! The Slurm executor: writes sbatch scripts into `OUTPUT/slurm/` and submits, each job after the
//! one before has succeeded (`--dependency=afterok`), job arrays of N tasks
//! (`medcorpus task OUTPUT PHASE --task $SLURM_ARRAY_TASK_ID --tasks N`) and single jobs:
//! extraction (array over partitions of the inputs), exact dedup (array over shares of the
//! keys), near-dedup signing (array over partitions), LSH (array over shares of the band keys),
//! near-dedup decisions (job), word counts (array over partitions), the vocabulary (job),
//! publish's preparation of the documents (array over partitions), and the finish job, which
//! writes the shards, the manifest and the report; and returns. Tasks share
//! nothing but the output folder on a shared filesystem: each reads the saved settings and input
//! list and writes its own files, so the result is byte-identical to a local run whatever the
//! number of tasks. `--resume` submits only the tasks whose output is not saved.
use crate::config::Config;
use crate::dedup::{exact, lsh, near, sign};
use crate::ingest::batches;
use crate::pipeline;
use crate::run_dir::{write_atomic, RunDir};
use crate::shard::prepared;
use crate::vocab::{self, VocabMode};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct SlurmOptions {
    pub tasks: usize,
    pub cpus_per_task: usize,
    pub partition: Option<String>,
    pub time: Option<String>,
    pub mem: Option<String>,
    /// Extra sbatch arguments, passed as they are (e.g. `--hold`, `--account=x`).
    pub extra: Vec<String>,
    pub dry_run: bool,
    pub resume: bool,
}

/// Jobs submitted for a run, newest last; `medcorpus status` reads it.
#[derive(Default, Serialize, Deserialize)]
pub struct Submissions {
    pub jobs: Vec<Job>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Job {
    pub phase: String,
    pub id: String,
    /// Array task ids (empty for the finish job).
    pub tasks: Vec<usize>,
}

pub fn submissions_path(root: &Path) -> PathBuf {
    root.join("state").join("slurm.json")
}

pub fn load_submissions(root: &Path) -> Submissions {
    std::fs::read(submissions_path(root))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

pub fn submit(config: &Config, options: &SlurmOptions) -> Result<()> {
    if options.tasks == 0 || options.tasks > batches::PARTITIONS {
        bail!("--tasks must be between 1 and {}", batches::PARTITIONS);
    }
    let (run, pool) = pipeline::start(
        config,
        &pipeline::RunOptions {
            threads: options.cpus_per_task,
            resume: options.resume,
        },
    )?;
    let inputs = pipeline::walk(&run, config, &pool)?;
    if run.is_finished() {
        println!("{}: this run is already finished", run.root.display());
        return Ok(());
    }
    let chunks = batches::plan(&inputs);
    let n = options.tasks;
    let extract_missing = batches::missing(&chunks, &run.work.join("extract"));
    let extract_tasks = owners(extract_missing.iter().map(|c| c.partition), n);
    // A phase whose input changed is redone whole; otherwise only its unfinished tasks.
    let exact_tasks = tasks_to_run(
        &run.work.join("exact"),
        !extract_tasks.is_empty(),
        exact::missing_tasks(&run.work.join("exact"), n),
        n,
    )?;
    let near = config.near_dedup.enabled;
    let partitions = batches::partitions(&chunks);
    let sign_dir = run.root.join(near::SIGN_DIR);
    let sign_tasks = tasks_to_run(
        &sign_dir,
        !exact_tasks.is_empty(),
        owners(sign::missing(&sign_dir, partitions.iter().copied()), n),
        n,
    )?;
    let lsh_dir = run.root.join(near::LSH_DIR);
    let lsh_tasks = tasks_to_run(
        &lsh_dir,
        !sign_tasks.is_empty(),
        lsh::missing_tasks(&lsh_dir, n),
        n,
    )?;
    let (sign_tasks, lsh_tasks) = match near {
        true => (sign_tasks, lsh_tasks),
        false => (Vec::new(), Vec::new()),
    };
    // The decisions, one job: again when anything before changed.
    let decide = !exact_tasks.is_empty() || !lsh_tasks.is_empty() || !run.is_done("near-dedup");
    if decide {
        run.forget("near-dedup")?;
    }
    let vocab_on = config.vocab.mode != VocabMode::Off;
    let vocab_tasks = match config.vocab.mode {
        VocabMode::Off => Vec::new(),
        _ => tasks_to_run(
            &run.root.join(vocab::COUNTS_DIR),
            decide,
            owners(
                vocab::missing_counts(&run.root, partitions.iter().copied()),
                n,
            ),
            n,
        )?,
    };

    let root = std::fs::canonicalize(&run.root)?;
    let scripts = root.join("slurm");
    std::fs::create_dir_all(&scripts)?;
    let exe = std::env::current_exe().context("cannot find the medcorpus binary")?;
    let cwd = std::env::current_dir()?;
    let header = |name: &str, log: &str, cpus: usize| -> String {
        let mut s = format!(
            "#!/bin/bash\n#SBATCH --job-name=medcorpus-{name}\n#SBATCH --chdir={}\n#SBATCH --output={}/{log}\n#SBATCH --cpus-per-task={}\n",
            cwd.display(),
            scripts.display(),
            cpus
        );
        for (flag, value) in [
            ("partition", &options.partition),
            ("time", &options.time),
            ("mem", &options.mem),
        ] {
            if let Some(v) = value {
                s += &format!("#SBATCH --{flag}={v}\n");
            }
        }
        s
    };
    let threads = "--threads \"${SLURM_CPUS_PER_TASK:-1}\"";
    // The vocabulary, one job: again when its counts changed.
    let build_vocab = vocab_on && (!vocab_tasks.is_empty() || !run.is_done("vocab"));
    if build_vocab {
        run.forget("vocab")?;
    }
    let prepare_tasks = tasks_to_run(
        &run.root.join(prepared::DIR),
        decide || build_vocab,
        owners(prepared::missing(&run.root, partitions.iter().copied()), n),
        n,
    )?;
    // Each job runs after the one before it has succeeded: arrays (with the tasks to run, and
    // CPUs per task) and single jobs (no tasks); the finish job comes last.
    let cpus = options.cpus_per_task;
    let planned: [(&str, Option<Vec<usize>>, usize); 9] = [
        ("extract", Some(extract_tasks), cpus),
        // Resolving a share of the keys is one sequential pass.
        ("exact-dedup", Some(exact_tasks), 1),
        ("near-sign", Some(sign_tasks), cpus),
        ("near-lsh", Some(lsh_tasks), cpus),
        ("near-dedup", None, 1),
        ("vocab-count", Some(vocab_tasks), cpus),
        ("vocab", None, cpus),
        ("publish-prepare", Some(prepare_tasks), cpus),
        ("finish", None, cpus),
    ];
    let mut jobs = Vec::new();
    for (phase, tasks, cpus) in planned {
        let body = match &tasks {
            Some(tasks) if tasks.is_empty() => continue,
            None if phase == "near-dedup" && !decide => continue,
            None if phase == "vocab" && !build_vocab => continue,
            Some(tasks) => {
                let array = tasks
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(",");
                format!(
                    "{}#SBATCH --array={array}\nexec {} task {} {phase} --task \"$SLURM_ARRAY_TASK_ID\" --tasks {n} {threads}\n",
                    header(phase, &format!("{phase}-%A_%a.log"), cpus),
                    exe.display(),
                    root.display(),
                )
            }
            None => format!(
                "{}exec {} task {} {phase} --tasks {n} {threads}\n",
                header(phase, &format!("{phase}-%j.log"), cpus),
                exe.display(),
                root.display()
            ),
        };
        jobs.push((phase, tasks.unwrap_or_default(), body));
    }
    for (phase, _, body) in &jobs {
        let script = scripts.join(format!("{phase}.sbatch"));
        write_atomic(&script, body.as_bytes())?;
        if options.dry_run {
            println!("# {}\n{body}", script.display());
        }
    }
    if options.dry_run {
        println!("dry run: nothing submitted; submit the scripts in this order with sbatch, each with --dependency=afterok:<the job before>");
        return Ok(());
    }

    let mut submissions = load_submissions(&root);
    cancel_stale(&submissions);
    let mut dependency: Option<String> = None;
    for (phase, tasks, _) in jobs {
        let script = scripts.join(format!("{phase}.sbatch"));
        let id = sbatch(&script, dependency.as_deref(), &options.extra)?;
        match tasks.is_empty() {
            true => println!("submitted {phase}: job {id}"),
            false => println!("submitted {phase}: job {id}, array tasks {tasks:?}"),
        }
        submissions.jobs.push(Job {
            phase: phase.into(),
            id: id.clone(),
            tasks,
        });
        dependency = Some(id);
    }
    write_atomic(
        &submissions_path(&root),
        &serde_json::to_vec_pretty(&submissions)?,
    )?;
    println!("follow it with: medcorpus status {}", run.root.display());
    Ok(())
}

/// The tasks of `tasks` that own any of `partitions` (task t owns partition p when p mod tasks
/// = t, in every phase over partitions).
fn owners(partitions: impl IntoIterator<Item = usize>, tasks: usize) -> Vec<usize> {
    let mut owners: Vec<usize> = partitions.into_iter().map(|p| p % tasks).collect();
    owners.sort_unstable();
    owners.dedup();
    owners
}

/// The tasks of a phase to submit: all of them, its earlier results removed, when the phase
/// before it ran again (`redo`); otherwise the `missing` ones.
fn tasks_to_run(dir: &Path, redo: bool, missing: Vec<usize>, tasks: usize) -> Result<Vec<usize>> {
    if !redo {
        return Ok(missing);
    }
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok((0..tasks).collect()),
    }
}

/// A finish job from an earlier submission waits forever on a failed dependency: cancel it.
fn cancel_stale(submissions: &Submissions) {
    let ids: Vec<&str> = submissions.jobs.iter().map(|j| j.id.as_str()).collect();
    if !ids.is_empty() {
        let _ = Command::new("scancel").args(ids).status();
    }
}

fn sbatch(script: &Path, after: Option<&str>, extra: &[String]) -> Result<String> {
    let mut command = Command::new("sbatch");
    command.arg("--parsable");
    if let Some(id) = after {
        command.arg(format!("--dependency=afterok:{id}"));
    }
    command.args(extra).arg(script);
    let output = command
        .output()
        .context("cannot run sbatch: is Slurm installed here?")?;
    if !output.status.success() {
        bail!(
            "sbatch {} failed: {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    // --parsable prints "jobid" or "jobid;cluster".
    Ok(stdout.trim().split(';').next().unwrap_or("").to_string())
}

/// A task of a submitted run: one array task of `extract`, `exact-dedup`, `near-sign`,
/// `near-lsh`, `vocab-count` or `publish-prepare`, or the single job `near-dedup`, `vocab` or
/// `finish`.
pub fn run_task(
    root: &Path,
    phase: &str,
    task: Option<usize>,
    tasks: usize,
    threads: usize,
) -> Result<()> {
    let (run, config_json) = RunDir::attach(root)?;
    crate::logging::init(Some(&root.join("medcorpus.log")));
    let config: Config = serde_json::from_str(&config_json).context("unreadable saved settings")?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let inputs = pipeline::walk(&run, &config, &pool)?;
    match (phase, task) {
        ("extract", Some(task)) => {
            pipeline::extract(&run, &config, &inputs, Some((task, tasks)), &pool)
        }
        ("exact-dedup", Some(task)) => {
            let chunks = batches::plan(&inputs);
            pipeline::exact_dedup(&run, &config, &chunks, task, tasks)
        }
        ("near-sign", Some(task)) => {
            let chunks = batches::plan(&inputs);
            pipeline::near_sign(&run, &config, &chunks, task, tasks, &pool)
        }
        ("near-dedup", None) => {
            let partitions = batches::partitions(&batches::plan(&inputs));
            pipeline::near_decide(&run, &config, &partitions, tasks).map(|_| ())
        }
        ("vocab", None) => {
            let chunks = batches::plan(&inputs);
            pipeline::vocab_phase(&run, &config, &chunks, false, &pool).map(|_| ())
        }
        ("publish-prepare", Some(task)) => {
            let chunks = batches::plan(&inputs);
            pipeline::publish_prepare(&run, &config, &chunks, task, tasks, &pool)
        }
        ("vocab-count", Some(task)) => {
            let chunks = batches::plan(&inputs);
            pipeline::vocab_count(&run, &config, &chunks, task, tasks, &pool)
        }
        ("near-lsh", Some(task)) => {
            let partitions = batches::partitions(&batches::plan(&inputs));
            near::lsh(&config, &run.root, &partitions, task, tasks)
        }
        ("finish", None) => {
            let by = pipeline::ArraysDoneBy::Tasks(tasks);
            let summary = pipeline::finish(&run, &config, &inputs, by, &pool)?;
            eprint!("{}", summary.table());
            Ok(())
        }
        (other, _) => bail!("`{other}` is not a task phase (extract, exact-dedup, near-sign, near-lsh, vocab-count or publish-prepare --task T --tasks N; near-dedup, vocab or finish --tasks N)"),
    }
}
