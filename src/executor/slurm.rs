//! The Slurm executor: writes sbatch scripts into `OUTPUT/slurm/`, submits the extraction as a
//! job array (`medcorpus task OUTPUT extract --task $SLURM_ARRAY_TASK_ID`) and the global phases
//! as one job depending on it (`--dependency=afterok`), and returns. Tasks share nothing but
//! the output folder on a shared filesystem: each reads the saved settings and input list and
//! writes its own chunks, so the result is byte-identical to a local run whatever the number
//! of tasks. `--resume` submits only the tasks that still have unsaved chunks.
use crate::config::Config;
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
    let extract_dir = run.work.join("extract");
    let missing = batches::missing(&chunks, &extract_dir);
    let tasks: Vec<usize> = (0..options.tasks)
        .filter(|t| missing.iter().any(|c| c.partition % options.tasks == *t))
        .collect();

    let root = std::fs::canonicalize(&run.root)?;
    let scripts = root.join("slurm");
    std::fs::create_dir_all(&scripts)?;
    let exe = std::env::current_exe().context("cannot find the medcorpus binary")?;
    let cwd = std::env::current_dir()?;
    let header = |name: &str, log: &str| -> String {
        let mut s = format!(
            "#!/bin/bash\n#SBATCH --job-name=medcorpus-{name}\n#SBATCH --chdir={}\n#SBATCH --output={}/{log}\n#SBATCH --cpus-per-task={}\n",
            cwd.display(),
            scripts.display(),
            options.cpus_per_task
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
    let extract_script = scripts.join("extract.sbatch");
    let array = tasks
        .iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let extract_body = format!(
        "{}#SBATCH --array={array}\nexec {} task {} extract --task \"$SLURM_ARRAY_TASK_ID\" --tasks {} --threads \"${{SLURM_CPUS_PER_TASK:-1}}\"\n",
        header("extract", "extract-%A_%a.log"),
        exe.display(),
        root.display(),
        options.tasks
    );
    let finish_script = scripts.join("finish.sbatch");
    let finish_body = format!(
        "{}exec {} task {} finish --threads \"${{SLURM_CPUS_PER_TASK:-1}}\"\n",
        header("finish", "finish-%j.log"),
        exe.display(),
        root.display()
    );
    write_atomic(&extract_script, extract_body.as_bytes())?;
    write_atomic(&finish_script, finish_body.as_bytes())?;
    if options.dry_run {
        if !tasks.is_empty() {
            println!("# {}\n{extract_body}", extract_script.display());
        }
        println!("# {}\n{finish_body}", finish_script.display());
        println!("dry run: nothing submitted; submit with sbatch (finish.sbatch with --dependency=afterok:<extract job>)");
        return Ok(());
    }

    let mut submissions = load_submissions(&root);
    cancel_stale(&submissions);
    let mut dependency = None;
    if !tasks.is_empty() {
        let id = sbatch(&extract_script, None, &options.extra)?;
        println!("submitted extraction: job {id}, array tasks {array}");
        submissions.jobs.push(Job {
            phase: "extract".into(),
            id: id.clone(),
            tasks,
        });
        dependency = Some(id);
    }
    let id = sbatch(&finish_script, dependency.as_deref(), &options.extra)?;
    println!("submitted finish: job {id}");
    submissions.jobs.push(Job {
        phase: "finish".into(),
        id,
        tasks: Vec::new(),
    });
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

/// A task of a submitted run: `extract` (one array task) or `finish` (the global phases).
pub fn run_task(
    root: &Path,
    phase: &str,
    task: Option<(usize, usize)>,
    threads: usize,
) -> Result<()> {
    let (run, config_json) = RunDir::attach(root)?;
    crate::logging::init(Some(&root.join("medcorpus.log")));
    let config: Config = serde_json::from_str(&config_json).context("unreadable saved settings")?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let inputs = pipeline::walk(&run, &config, &pool)?;
    match phase {
        "extract" => pipeline::extract(&run, &config, &inputs, task, &pool),
        "finish" => {
            let summary = pipeline::finish(&run, &config, &inputs, &pool)?;
            eprint!("{}", summary.table());
            Ok(())
        }
        other => bail!("unknown task phase `{other}` (extract or finish)"),
    }
}
