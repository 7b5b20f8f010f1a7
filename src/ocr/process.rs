//! Child processes for OCR: a program-wide bound on how many run at once, and running one
//! command to completion under a time limit (killed on overrun).
use anyhow::{Context, Result};
use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

static RUNNING: Mutex<usize> = Mutex::new(0);
static FREED: Condvar = Condvar::new();

/// A permit to run one OCR process; released on drop.
pub struct Slot;

impl Slot {
    /// Waits until fewer than `max` OCR processes run. The bound is the caller's configuration,
    /// so every caller in one program should pass the same value.
    pub fn acquire(max: usize) -> Slot {
        let mut running = RUNNING
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        while *running >= max.max(1) {
            running = FREED
                .wait(running)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        *running += 1;
        Slot
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut running = RUNNING
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *running = running.saturating_sub(1);
        FREED.notify_one();
    }
}

/// Runs `command` (stdin closed, stdout and stderr captured) and kills it after `timeout`.
pub fn run(command: &mut Command, timeout: Duration) -> Result<Output> {
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {program}"))?;
    let mut stdout = child.stdout.take().context("no stdout")?;
    let mut stderr = child.stderr.take().context("no stderr")?;
    // Both pipes are drained while the child runs, so a chatty child never blocks on a full pipe.
    let out = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        stdout.read_to_end(&mut bytes).map(|_| bytes)
    });
    let err = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        stderr.read_to_end(&mut bytes).map(|_| bytes)
    });
    let Some(status) = crate::extract::tool::wait_or_kill(&mut child, timeout)? else {
        anyhow::bail!("{program} took longer than {} s: killed", timeout.as_secs());
    };
    let joined = |handle: std::thread::JoinHandle<std::io::Result<Vec<u8>>>| {
        handle
            .join()
            .map_err(|_| anyhow::anyhow!("pipe reader panicked"))?
            .map_err(anyhow::Error::from)
    };
    Ok(Output {
        status,
        stdout: joined(out)?,
        stderr: joined(err)?,
    })
}

/// Like [`run`], but a non-zero exit is an error quoting the end of stderr.
pub fn run_ok(command: &mut Command, timeout: Duration) -> Result<Output> {
    let program = command.get_program().to_string_lossy().into_owned();
    let output = run(command, timeout)?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: String = stderr.trim().chars().rev().take(300).collect();
        anyhow::bail!(
            "{program} failed ({}): {}",
            output.status,
            tail.chars().rev().collect::<String>()
        );
    }
    Ok(output)
}
