//! Test helpers: run the real binary on a pipeline written into a temporary folder, and read
//! back the output contract.
#![allow(dead_code)]
pub mod planted;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const SHARED: &str = "../shared";

pub fn shared(rel: &str) -> PathBuf {
    Path::new(SHARED).join(rel)
}

pub fn medcorpus() -> Command {
    Command::new(env!("CARGO_BIN_EXE_medcorpus"))
}

/// A temporary folder holding `pipeline.toml`, `in/` and `out/`.
pub struct Run {
    pub dir: tempfile::TempDir,
}

impl Run {
    pub fn new() -> Run {
        Run {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }
    pub fn input(&self) -> PathBuf {
        self.dir.path().join("in")
    }
    pub fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }
    /// Copies a file from ../shared (or anywhere) into `in/` under `name`.
    pub fn add(&self, from: &Path, name: &str) -> PathBuf {
        let to = self.input().join(name);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, &to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
        to
    }
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let to = self.input().join(name);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(&to, bytes).unwrap();
        to
    }
    /// Writes a pipeline reading `in/` (unless `extra` sets [input]) into `out/`, then runs it.
    pub fn run(&self, extra: &str, args: &[&str]) -> Output {
        let pipeline = self.pipeline(extra);
        let output = medcorpus()
            .arg("run")
            .arg(&pipeline)
            .args(args)
            .output()
            .expect("run medcorpus");
        output
    }
    pub fn pipeline(&self, extra: &str) -> PathBuf {
        let path = self.dir.path().join("pipeline.toml");
        let mut text = String::new();
        if !extra.contains("[input]") {
            text += &format!("[input]\npaths = [{:?}]\n", self.input());
        }
        if !extra.contains("[output]") {
            text += &format!("[output]\ndir = {:?}\n", self.out());
        }
        text += extra;
        std::fs::write(&path, text).unwrap();
        path
    }
    pub fn docs(&self) -> Vec<serde_json::Value> {
        read_jsonl_zst_dir(&self.out().join("docs"))
    }
    pub fn rejects(&self) -> Vec<serde_json::Value> {
        read_jsonl_zst_dir(&self.out().join("rejects"))
    }
    pub fn errors(&self) -> Vec<serde_json::Value> {
        read_jsonl(&self.out().join("errors.jsonl"))
    }
    pub fn manifest(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.out().join("manifest.json")).unwrap()).unwrap()
    }
}

pub fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "medcorpus failed: {}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

pub fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub fn read_jsonl_zst_dir(dir: &Path) -> Vec<serde_json::Value> {
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(d) => d
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".jsonl.zst"))
            .collect(),
        Err(_) => return Vec::new(),
    };
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        let reader =
            std::io::BufReader::new(zstd::Decoder::new(std::fs::File::open(&p).unwrap()).unwrap());
        for line in reader.lines() {
            out.push(serde_json::from_str(&line.unwrap()).unwrap());
        }
    }
    out
}

/// Every `*.txt` file under a folder, concatenated in name order.
pub fn read_text_dir(dir: &Path, prefix: &str) -> String {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    paths.retain(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix));
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}
