//! Risky parsers run in a child process: this same binary, started as `medcorpus
//! extract-worker`, reads one file and prints its outcomes as JSON. The parent bounds it with a
//! time limit (killed on overrun) and an address-space limit (setrlimit before exec), so a
//! parser that panics, aborts, loops or eats memory costs only its own file.
use super::{extract_file, ExtractConfig, Extraction};
use crate::config::check_range;
use crate::document::{Failure, Outcome};
use crate::walk::Input;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IsolationConfig {
    /// Formats (as `meta.format` names them) read in a worker process. PDF and legacy Office
    /// parsers are the ones known to panic, hang or balloon on damaged files.
    pub formats: Vec<String>,
    /// A worker still running after this long is killed and its file is an error.
    pub timeout_secs: u64,
    /// Address-space limit of a worker, in MiB.
    pub memory_mb: u64,
}

impl Default for IsolationConfig {
    fn default() -> Self {
        IsolationConfig {
            formats: ["pdf", "ole2", "mobi", "chm"].map(String::from).to_vec(),
            timeout_secs: 300,
            memory_mb: 4096,
        }
    }
}

impl IsolationConfig {
    pub fn validate(&self) -> Result<()> {
        check_range("isolation.timeout_secs", self.timeout_secs, 1, 86_400)?;
        check_range("isolation.memory_mb", self.memory_mb, 64, 1 << 20)
    }
}

/// What the worker prints: the extraction of its one file.
#[derive(Serialize, Deserialize)]
struct Reply {
    format: String,
    outcomes: Vec<Outcome>,
}

/// What the parent sends the worker on stdin.
#[derive(Serialize, Deserialize)]
struct Job {
    input: Input,
    config: ExtractConfig,
}

/// The worker's side: one job from stdin, its outcomes to stdout.
pub fn worker_main() -> Result<()> {
    let mut request = Vec::new();
    std::io::stdin().read_to_end(&mut request)?;
    let job: Job = serde_json::from_slice(&request).context("bad worker request")?;
    let run = std::panic::AssertUnwindSafe(|| extract_file(&job.input, &job.config));
    let extraction = std::panic::catch_unwind(run).unwrap_or_else(|panic| Extraction {
        format: "unknown",
        outcomes: vec![Outcome::Failed(Failure::new(
            &job.input.source,
            "extract",
            format!(
                "the parser panicked: {}",
                crate::cli::panic_message(&*panic)
            ),
        ))],
    });
    let reply = Reply {
        format: extraction.format.to_string(),
        outcomes: extraction.outcomes,
    };
    std::io::stdout()
        .lock()
        .write_all(&serde_json::to_vec(&reply)?)?;
    Ok(())
}

pub fn extract_in_worker(
    input: &Input,
    config: &ExtractConfig,
    limits: &IsolationConfig,
    format: &'static str,
) -> Extraction {
    match run_worker(input, config, limits) {
        Ok(reply) => Extraction {
            format: leak_format(&reply.format, format),
            outcomes: reply.outcomes,
        },
        Err(e) => Extraction {
            format,
            outcomes: vec![Outcome::Failed(Failure::new(
                &input.source,
                "extract",
                format!("{e:#}"),
            ))],
        },
    }
}

/// Format names are a small fixed set; keep the static one the parent already sniffed.
fn leak_format(reported: &str, sniffed: &'static str) -> &'static str {
    if reported == sniffed {
        sniffed
    } else {
        match reported {
            "empty" => "empty",
            "partial" => "partial",
            "too-large" => "too-large",
            "unreadable" => "unreadable",
            _ => sniffed,
        }
    }
}

fn run_worker(input: &Input, config: &ExtractConfig, limits: &IsolationConfig) -> Result<Reply> {
    let exe = std::env::current_exe().context("cannot find the medcorpus binary for a worker")?;
    let mut command = Command::new(exe);
    command
        .arg("extract-worker")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    super::tool::limit_memory(&mut command, limits.memory_mb << 20);
    let mut child = command
        .spawn()
        .context("cannot start an extraction worker")?;
    let request = serde_json::to_vec(&Job {
        input: input.clone(),
        config: config.clone(),
    })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(&request)
            .context("cannot send the job to the worker")?;
    }
    let mut stdout = child.stdout.take().context("worker has no stdout")?;
    let reader = std::thread::spawn(move || {
        let mut reply = Vec::new();
        stdout.read_to_end(&mut reply).map(|_| reply)
    });
    let timeout = Duration::from_secs(limits.timeout_secs);
    let Some(status) = super::tool::wait_or_kill(&mut child, timeout)? else {
        anyhow::bail!(
            "extraction took longer than {} s (isolation.timeout_secs): killed",
            limits.timeout_secs
        );
    };
    let reply = reader
        .join()
        .map_err(|_| anyhow::anyhow!("worker reader panicked"))??;
    if !status.success() {
        match status.signal() {
            Some(signal) => anyhow::bail!("extraction worker died with signal {signal} (crash, or over isolation.memory_mb = {} MiB)", limits.memory_mb),
            None => anyhow::bail!("extraction worker failed ({status}), possibly out of memory (isolation.memory_mb = {} MiB)", limits.memory_mb),
        }
    }
    serde_json::from_slice(&reply).context("unreadable worker reply")
}
