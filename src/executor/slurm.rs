//! The Slurm executor: writes sbatch scripts into `OUTPUT/slurm/` and submits, each job after the
//! one before has succeeded (`--dependency=afterok`): the extraction as a job array
//! (`medcorpus task OUTPUT extract --task $SLURM_ARRAY_TASK_ID --tasks N`), exact dedup as a job
//! array over key shares, then the remaining global phases as one job; and returns. Tasks share
//! nothing but the output folder on a shared filesystem: each reads the saved settings and input
//! list and writes its own files, so the result is byte-identical to a local run whatever the
//! number of tasks. `--resume` submits only the tasks whose output is not saved.
use crate::config::Config;
use crate::dedup::exact;
use crate::ingest::batches;
use crate::pipeline;
use crate::run_dir::{write_atomic, RunDir};
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
    /// Array task ids for the extraction job.
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
    let extract_tasks: Vec<usize> = (0..n)
        .filter(|t| extract_missing.iter().any(|c| c.partition % n == *t))
        .collect();
    let exact_dir = run.work.join("exact");
    let exact_tasks = if extract_tasks.is_empty() {
        exact::missing_tasks(&exact_dir, n)
    } else {
        // New chunks mean new keys: every share is resolved again.
        match std::fs::remove_dir_all(&exact_dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
        (0..n).collect()
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
    // Each job runs after the one before it has succeeded; the finish job comes last.
    let mut jobs = Vec::new();
    for (phase, tasks) in [("extract", extract_tasks), ("exact-dedup", exact_tasks)] {
        if tasks.is_empty() {
            continue;
        }
        let array = tasks
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let body = format!(
            "{}#SBATCH --array={array}\nexec {} task {} {phase} --task \"$SLURM_ARRAY_TASK_ID\" --tasks {n} {threads}\n",
            // Resolving a share of the keys is one sequential pass.
            header(
                phase,
                &format!("{phase}-%A_%a.log"),
                if phase == "exact-dedup" { 1 } else { options.cpus_per_task },
            ),
            exe.display(),
            root.display(),
        );
        jobs.push((phase, tasks, body));
    }
    let finish_body = format!(
        "{}exec {} task {} finish --tasks {n} {threads}\n",
        header("finish", "finish-%j.log", options.cpus_per_task),
        exe.display(),
        root.display()
    );
    jobs.push(("finish", Vec::new(), finish_body));
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

/// A task of a submitted run: `extract` or `exact-dedup` (one array task), or `finish`.
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
        ("finish", None) => {
            let by = pipeline::ExactDedupBy::Tasks(tasks);
            let summary = pipeline::finish(&run, &config, &inputs, by, &pool)?;
            eprint!("{}", summary.table());
            Ok(())
        }
        (other, _) => bail!("`{other}` is not a task phase (extract or exact-dedup --task T --tasks N, finish --tasks N)"),
    }
}
