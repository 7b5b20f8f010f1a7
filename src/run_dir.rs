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
        let result = phase()?;
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
