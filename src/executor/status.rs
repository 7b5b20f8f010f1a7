//! `medcorpus status OUTDIR`: what is finished, read from the output folder itself (phase
//! markers, saved chunks), and what Slurm says of the jobs still known to it (squeue/sacct).
use super::slurm::load_submissions;
use crate::config::Config;
use crate::dedup::{exact, lsh, near, sign};
use crate::ingest::batches;
use crate::run_dir::RunDir;
use crate::shard::prepared;
use crate::shard::writer::{list_shards, read_jsonl_zst};
use crate::vocab;
use crate::walk::Input;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;
use std::process::Command;

pub fn report(root: &Path) -> Result<String> {
    let (run, config_json) = RunDir::attach(root)?;
    let config: Config = serde_json::from_str(&config_json).context("unreadable saved settings")?;
    let mut out = format!("run {} (input {:?})\n", root.display(), config.input.paths);
    let inputs: Vec<Input> =
        read_jsonl_zst(list_shards(&run.work.join("walk"), "inputs")?).collect::<Result<_>>()?;
    let walked = run.is_done("walk");
    writeln!(
        out,
        "walk         {}",
        if walked {
            format!("finished: {} files", inputs.len())
        } else {
            "not finished".into()
        }
    )?;
    let chunks = batches::plan(&inputs);
    let missing = batches::missing(&chunks, &run.work.join("extract"));
    writeln!(
        out,
        "extract      {} of {} chunks saved",
        chunks.len() - missing.len(),
        chunks.len()
    )?;
    let submissions = load_submissions(root);
    let tasks = tasks_of(root).unwrap_or(1);
    let sign_dir = run.root.join(near::SIGN_DIR);
    let partitions = batches::partitions(&chunks);
    // What each array task has left to save, or None when it is done.
    let unsaved = |phase: &str, task: usize| -> Option<String> {
        let left = match phase {
            "extract" => missing
                .iter()
                .filter(|c| c.partition % tasks == task)
                .count(),
            "exact-dedup" => exact::missing_tasks(&run.work.join("exact"), tasks)
                .contains(&task)
                .into(),
            "near-sign" => sign::missing(
                &sign_dir,
                near::partitions_of_task(&partitions, task, tasks),
            )
            .len(),
            "vocab-count" => vocab::missing_counts(
                &run.root,
                near::partitions_of_task(&partitions, task, tasks),
            )
            .len(),
            "publish-prepare" => prepared::missing(
                &run.root,
                near::partitions_of_task(&partitions, task, tasks),
            )
            .len(),
            _ => lsh::missing_tasks(&run.root.join(near::LSH_DIR), tasks)
                .contains(&task)
                .into(),
        };
        let what = match phase {
            "extract" => "chunks unsaved",
            "exact-dedup" => "keys not resolved",
            "near-sign" => "partitions unsigned",
            "vocab-count" => "partitions not counted",
            "publish-prepare" => "partitions not prepared",
            _ => "edges not saved",
        };
        (left > 0).then(|| format!("{left} {what}"))
    };
    let off = |phase: &str| match phase {
        "near-sign" | "near-lsh" | "near-dedup" => !config.near_dedup.enabled,
        "vocab" => config.vocab.mode == crate::vocab::VocabMode::Off,
        _ => false,
    };
    let arrays = [
        "extract",
        "exact-dedup",
        "near-sign",
        "near-lsh",
        "vocab-count",
        "publish-prepare",
    ];
    for phase in [
        "exact-dedup",
        "near-sign",
        "near-lsh",
        "near-dedup",
        "vocab",
        "publish",
    ] {
        let done_as_array = !submissions.jobs.is_empty()
            && arrays.contains(&phase)
            && (0..tasks).all(|t| unsaved(phase, t).is_none());
        let state = if off(phase) {
            "off"
        } else if run.is_done(phase) || done_as_array {
            "finished"
        } else {
            "not finished"
        };
        writeln!(out, "{phase:<12} {state}")?;
    }
    let queue = slurm_states(
        &submissions
            .jobs
            .iter()
            .map(|j| j.id.clone())
            .collect::<Vec<_>>(),
    );
    for phase in arrays {
        let Some(job) = submissions.jobs.iter().rev().find(|j| j.phase == phase) else {
            continue;
        };
        writeln!(out, "{phase} job {}:", job.id)?;
        for &task in &job.tasks {
            let state = match unsaved(phase, task) {
                None => "finished".to_string(),
                Some(what) => queue
                    .get(&format!("{}_{task}", job.id))
                    .cloned()
                    .unwrap_or_else(|| format!("failed or cancelled ({what}): run --resume")),
            };
            writeln!(out, "  task {task:<4} job {}_{task}: {state}", job.id)?;
        }
    }
    // The single jobs, each done once its phase marker (or, for finish, the report) exists.
    for (phase, done) in [
        ("near-dedup", run.is_done("near-dedup")),
        ("vocab", run.is_done("vocab")),
        ("finish", run.is_finished()),
    ] {
        let Some(job) = submissions.jobs.iter().rev().find(|j| j.phase == phase) else {
            continue;
        };
        let state = if done {
            "finished".to_string()
        } else {
            queue
                .get(&job.id)
                .cloned()
                .unwrap_or_else(|| "not running: run --resume".into())
        };
        writeln!(out, "{phase} job {}: {state}", job.id)?;
    }
    Ok(out)
}

/// The task count of the latest submission, from its finish script.
fn tasks_of(root: &Path) -> Option<usize> {
    let script = std::fs::read_to_string(root.join("slurm").join("finish.sbatch")).ok()?;
    let after = script.split("--tasks ").nth(1)?;
    after.split_whitespace().next()?.parse().ok()
}

/// Job (and array task) id → state, for jobs Slurm still knows.
fn slurm_states(ids: &[String]) -> BTreeMap<String, String> {
    let mut states = BTreeMap::new();
    if ids.is_empty() {
        return states;
    }
    let joined = ids.join(",");
    if let Ok(output) = Command::new("squeue")
        .args(["-h", "-r", "-j", &joined, "-o", "%i %T %r"])
        .output()
    {
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let mut fields = line.splitn(2, ' ');
            if let (Some(id), Some(state)) = (fields.next(), fields.next()) {
                states.insert(id.to_string(), state.to_lowercase());
            }
        }
    }
    if let Ok(output) = Command::new("sacct")
        .args(["-n", "-P", "-X", "-j", &joined, "-o", "JobID,State"])
        .output()
    {
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            if let Some((id, state)) = line.split_once('|') {
                states
                    .entry(id.to_string())
                    .or_insert_with(|| state.to_lowercase());
            }
        }
    }
    states
}
