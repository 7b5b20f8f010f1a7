//! PP-OCR engines: PaddleOCR's detection and recognition models on ONNX Runtime, as shipped inside
//! the `faster-paddle` or `rapidocr` wheel, driven by scripts/ocr_worker.py in long-lived Python
//! workers (starting Python and loading the models costs more than a page). Idle workers are kept
//! for the next document, so a pile of one-page images does not start one per file. Their loose
//! text lines are put in reading order here (layout.rs).
use super::layout::{reading_order, Quad};
use super::{process, OcrConfig, OcrEngine, Recognised};
use anyhow::{Context, Result};
use serde::Deserialize;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Mutex;
use std::time::Duration;

const WORKER_SCRIPT: &str = include_str!("../../scripts/ocr_worker.py");
/// Starting Python and loading the models, before the first page.
const STARTUP_ALLOWANCE: Duration = Duration::from_secs(60);
/// Lines recognised with less confidence are left out of the text, as PaddleOCR's own pipeline
/// does (its `drop_score`): they are marks, watermarks and specks read as a character or two,
/// and their boxes would otherwise bridge the gutter between two columns.
const DROP_SCORE: f32 = 0.5;

/// Which wheel's models the worker runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PP-OCRv6 tiny from `faster-paddle`.
    FasterPaddle,
    /// PP-OCRv6 small from `rapidocr`.
    Rapidocr,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::FasterPaddle => "faster-paddle",
            Backend::Rapidocr => "rapidocr",
        }
    }

    /// The Python modules the backend imports.
    fn modules(self) -> &'static str {
        match self {
            Backend::FasterPaddle => "faster_paddle",
            Backend::Rapidocr => "rapidocr, onnxruntime",
        }
    }

    fn packages(self) -> &'static str {
        match self {
            Backend::FasterPaddle => "faster-paddle",
            Backend::Rapidocr => "rapidocr and onnxruntime",
        }
    }
}

pub fn unavailable(backend: Backend, config: &OcrConfig) -> Option<String> {
    let probe = process::run_ok(
        Command::new(&config.python).args(["-c", &format!("import {}", backend.modules())]),
        STARTUP_ALLOWANCE,
    );
    probe.err().map(|e| {
        format!(
            "{} needs {} with the PyPI packages {}: {e:#}",
            backend.name(),
            config.python,
            backend.packages()
        )
    })
}

/// Started workers not in use, by interpreter and backend; a [`PpOcr`] returns its worker here
/// when dropped. At most `ocr.max_processes` of them work at once (process::Slot); at most one
/// exists per thread that OCRs documents.
static IDLE: Mutex<Vec<(String, Backend, Worker)>> = Mutex::new(Vec::new());

/// Ends the idle workers (they end by themselves when this program exits; this waits for them,
/// so their CPU time is accounted to this program).
pub fn stop_idle_workers() {
    let idle = std::mem::take(&mut *IDLE.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
    drop(idle);
}

pub struct PpOcr {
    python: String,
    backend: Backend,
    worker: Option<Worker>,
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    replies: Receiver<String>,
    first_page: bool,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PpOcr {
    fn drop(&mut self) {
        if let Some(worker) = self.worker.take() {
            let mut idle = IDLE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            idle.push((self.python.clone(), self.backend, worker));
        }
    }
}

#[derive(Deserialize)]
struct Reply {
    #[serde(default)]
    lines: Vec<Line>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct Line {
    #[serde(rename = "box")]
    corners: Quad,
    text: String,
    score: f32,
}

impl PpOcr {
    pub fn new(backend: Backend, config: &OcrConfig) -> Self {
        PpOcr {
            python: config.python.clone(),
            backend,
            worker: None,
        }
    }

    /// An idle worker of this interpreter and backend, or a new one.
    fn worker(&self) -> Result<Worker> {
        let mut idle = IDLE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(at) = idle
            .iter()
            .position(|(python, backend, _)| *python == self.python && *backend == self.backend)
        {
            return Ok(idle.swap_remove(at).2);
        }
        drop(idle);
        self.start()
    }

    fn start(&self) -> Result<Worker> {
        let mut child = Command::new(&self.python)
            .args(["-c", WORKER_SCRIPT, self.backend.name()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", self.python))?;
        let stdin = child.stdin.take().context("worker has no stdin")?;
        let stdout = child.stdout.take().context("worker has no stdout")?;
        let (send, replies) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Worker {
            child,
            stdin,
            replies,
            first_page: true,
        })
    }

    fn ask(&mut self, image: &Path, timeout: Duration) -> Result<Reply> {
        if self.worker.is_none() {
            self.worker = Some(self.worker()?);
        }
        let name = self.backend.name();
        let worker = self.worker.as_mut().context("no OCR worker")?;
        let allowance = if worker.first_page {
            timeout + STARTUP_ALLOWANCE
        } else {
            timeout
        };
        worker.first_page = false;
        let path = image
            .to_str()
            .context("page image path is not UTF-8")?
            .replace('\n', "");
        let sent = writeln!(worker.stdin, "{path}").and_then(|_| worker.stdin.flush());
        let answer = match sent {
            Ok(()) => worker.replies.recv_timeout(allowance),
            Err(_) => Err(RecvTimeoutError::Disconnected),
        };
        match answer {
            Ok(line) => serde_json::from_str(&line).context("unreadable OCR worker reply"),
            Err(RecvTimeoutError::Timeout) => {
                self.worker = None; // killed on drop; the next page starts a fresh worker
                anyhow::bail!("{name} took longer than {} s: killed", timeout.as_secs())
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.worker = None;
                anyhow::bail!("the {name} worker died (crash or out of memory)")
            }
        }
    }
}

impl OcrEngine for PpOcr {
    fn fingerprint(&self) -> String {
        format!("{}\n{WORKER_SCRIPT}", self.backend.name())
    }

    fn recognise(&mut self, image: &Path, timeout: Duration) -> Result<Recognised> {
        let reply = self.ask(image, timeout)?;
        if let Some(error) = reply.error {
            if error.starts_with("cannot start") {
                self.worker = None;
            }
            anyhow::bail!("{}: {error}", self.backend.name());
        }
        let (mut weighted, mut chars) = (0.0f64, 0usize);
        // The page's confidence counts every line, so a page of specks still reads as doubtful.
        let lines = reply
            .lines
            .into_iter()
            .filter_map(|line| {
                let n = line.text.chars().filter(|c| !c.is_whitespace()).count();
                weighted += line.score as f64 * n as f64;
                chars += n;
                (line.score >= DROP_SCORE).then_some((line.corners, line.text))
            })
            .collect();
        Ok(Recognised {
            text: reading_order(lines),
            confidence: if chars == 0 {
                0.0
            } else {
                (weighted / chars as f64) as f32
            },
        })
    }
}
