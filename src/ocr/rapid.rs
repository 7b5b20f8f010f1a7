//! RapidOCR engine: PaddleOCR's PP-OCRv6 detection and recognition models on ONNX Runtime, as
//! shipped inside the `rapidocr` wheel, driven by scripts/ocr_rapid.py in a long-lived Python
//! worker (model loading costs more than a page). Its loose text lines are put in reading order
//! here (layout.rs).
use super::layout::{reading_order, Quad};
use super::{process, OcrConfig, OcrEngine, Recognised};
use anyhow::{Context, Result};
use serde::Deserialize;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

const WORKER_SCRIPT: &str = include_str!("../../scripts/ocr_rapid.py");
/// Starting Python and loading the models, before the first page.
const STARTUP_ALLOWANCE: Duration = Duration::from_secs(60);

pub fn unavailable(config: &OcrConfig) -> Option<String> {
    let probe = process::run_ok(
        Command::new(&config.python).args(["-c", "import rapidocr, onnxruntime"]),
        STARTUP_ALLOWANCE,
    );
    probe.err().map(|e| {
        format!(
            "rapidocr needs {} with the PyPI packages rapidocr and onnxruntime: {e:#}",
            config.python
        )
    })
}

pub struct Rapid {
    python: String,
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

impl Rapid {
    pub fn new(config: &OcrConfig) -> Self {
        Rapid {
            python: config.python.clone(),
            worker: None,
        }
    }

    fn start(&self) -> Result<Worker> {
        let mut child = Command::new(&self.python)
            .args(["-c", WORKER_SCRIPT])
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
            self.worker = Some(self.start()?);
        }
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
                anyhow::bail!("rapidocr took longer than {} s: killed", timeout.as_secs())
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.worker = None;
                anyhow::bail!("the rapidocr worker died (crash or out of memory)")
            }
        }
    }
}

impl OcrEngine for Rapid {
    fn fingerprint(&self) -> String {
        format!("rapidocr PP-OCRv6 small\n{WORKER_SCRIPT}")
    }

    fn recognise(&mut self, image: &Path, timeout: Duration) -> Result<Recognised> {
        let reply = self.ask(image, timeout)?;
        if let Some(error) = reply.error {
            if error.starts_with("cannot start") {
                self.worker = None;
            }
            anyhow::bail!("rapidocr: {error}");
        }
        let (mut weighted, mut chars) = (0.0f64, 0usize);
        let lines = reply
            .lines
            .into_iter()
            .map(|line| {
                let n = line.text.chars().filter(|c| !c.is_whitespace()).count();
                weighted += line.score as f64 * n as f64;
                chars += n;
                (line.corners, line.text)
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
