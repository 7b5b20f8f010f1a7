//! The output folder: refuses to overwrite a finished or foreign run, records the resolved
//! config, and marks each phase done only after its outputs are complete, so `--resume`
//! skips finished phases and redoes an interrupted one from a clean slate.
use crate::shard::writer::AtomicFile;
use anyhow::{bail, Context, Result};
use serde::{de::DeserializeOwned, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct RunDir {
    pub root: PathBuf,
    /// Intermediate files between phases.
    pub work: PathBuf,
    state: PathBuf,
    resume: bool,
}

impl RunDir {
    pub fn open(root: &Path, resume: bool, config_json: &str) -> Result<RunDir> {
        let non_empty = std::fs::read_dir(root)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false);
        if non_empty && !resume {
            bail!("output folder {} is not empty: pass --resume to continue the run in it, or choose another folder", root.display());
        }
        let state = root.join("state");
        std::fs::create_dir_all(&state)
            .with_context(|| format!("cannot create output folder {}", root.display()))?;
        let config_path = state.join("config.json");
        if resume {
            if let Ok(previous) = std::fs::read_to_string(&config_path) {
                if previous != config_json {
                    bail!("the pipeline settings differ from the run in {}: resume needs the same pipeline file and options", root.display());
                }
            }
        }
        write_atomic(&config_path, config_json.as_bytes())?;
        let work = root.join("work");
        std::fs::create_dir_all(&work)?;
        Ok(RunDir {
            root: root.to_path_buf(),
            work,
            state,
            resume,
        })
    }

    /// An existing run folder, for a Slurm task: its settings are the ones saved at submission.
    pub fn attach(root: &Path) -> Result<(RunDir, String)> {
        let state = root.join("state");
        let config_json =
            std::fs::read_to_string(state.join("config.json")).with_context(|| {
                format!(
                    "{} holds no medcorpus run (no state/config.json)",
                    root.display()
                )
            })?;
        let run = RunDir {
            root: root.to_path_buf(),
            work: root.join("work"),
            state,
            resume: true,
        };
        Ok((run, config_json))
    }

    /// The whole run is finished once its report exists: it is written (atomically) last.
    pub fn is_finished(&self) -> bool {
        self.root.join("report.json").exists()
    }

    /// Marks `phase` as not done, so that it runs again (its input changed).
    pub fn forget(&self, phase: &str) -> Result<()> {
        match std::fs::remove_file(self.state.join(format!("{phase}.done.json"))) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    pub fn is_done(&self, phase: &str) -> bool {
        self.state.join(format!("{phase}.done.json")).exists()
    }

    /// Time spent in a phase (or a task of one), kept for the report.
    pub fn record_seconds(&self, name: &str, seconds: f64) -> Result<()> {
        write_atomic(
            &self.state.join(format!("{name}.seconds")),
            format!("{seconds:.3}").as_bytes(),
        )
    }

    /// Seconds per phase (and per task) recorded by every process of this run.
    pub fn seconds(&self) -> std::collections::BTreeMap<String, f64> {
        let mut seconds = std::collections::BTreeMap::new();
        for entry in std::fs::read_dir(&self.state)
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(phase) = name.strip_suffix(".seconds") {
                if let Some(s) = std::fs::read_to_string(entry.path())
                    .ok()
                    .and_then(|t| t.trim().parse().ok())
                {
                    seconds.insert(phase.to_string(), s);
                }
            }
        }
        seconds
    }

    /// Runs `phase` unless a resumed run finished it before; `outputs` (relative to the root)
    /// are cleared first, so an interrupted attempt leaves nothing behind.
    pub fn phase<T: Serialize + DeserializeOwned>(
        &self,
        name: &str,
        outputs: &[&str],
        phase: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        let marker = self.state.join(format!("{name}.done.json"));
        if self.resume {
            if let Ok(bytes) = std::fs::read(&marker) {
                tracing::info!(phase = name, "finished in an earlier run: skipped");
                return serde_json::from_slice(&bytes)
                    .with_context(|| format!("corrupt phase marker {}", marker.display()));
            }
        }
        for output in outputs {
            let path = self.root.join(output);
            let result = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            match result {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(e).with_context(|| format!("cannot clear {}", path.display()))
                }
                _ => {}
            }
        }
        let started = std::time::Instant::now();
        let result = phase()?;
        self.record_seconds(name, started.elapsed().as_secs_f64())?;
        write_atomic(&marker, &serde_json::to_vec_pretty(&result)?)?;
        Ok(result)
    }
}

pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes)?;
    file.finish()?;
    Ok(())
}
