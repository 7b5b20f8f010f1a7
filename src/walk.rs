//! Discovery: every regular file under the input folders, as a sorted, deterministic list.
//! Directories are read in parallel; only paths and sizes are held, never contents.
//! Special files (fifos, sockets, devices), unreadable folders and symlink loops become
//! failures, so nothing under an input folder is skipped without a trace.
use crate::document::Failure;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    #[serde(with = "path_bytes")]
    pub path: PathBuf,
    /// Path relative to its input folder (prefixed by the folder's name when there are several).
    pub source: String,
    pub size: u64,
}

#[derive(Default)]
pub struct Discovery {
    pub inputs: Vec<Input>,
    pub failures: Vec<Failure>,
}

pub fn discover(roots: &[PathBuf], follow_symlinks: bool) -> Discovery {
    let found = Mutex::new(Discovery::default());
    let visited = Mutex::new(HashSet::new());
    for root in roots {
        let prefix = if roots.len() > 1 {
            root_name(root)
        } else {
            String::new()
        };
        let walker = Walker {
            follow_symlinks,
            found: &found,
            visited: &visited,
        };
        match fs::metadata(root) {
            Ok(meta) if meta.is_dir() => walker.visit_dir(root, &prefix),
            Ok(meta) if meta.is_file() => {
                let name = root_name(root);
                walker.push_file(root, join(&prefix, &name), meta.len())
            }
            Ok(_) => walker.fail(&root.display().to_string(), "not a file or folder"),
            Err(e) => walker.fail(&root.display().to_string(), e),
        }
    }
    let mut found = found.into_inner().unwrap_or_else(|p| p.into_inner());
    found.inputs.sort_by(|a, b| a.source.cmp(&b.source));
    found.failures.sort_by(|a, b| a.source.cmp(&b.source));
    found
}

fn root_name(root: &Path) -> String {
    root.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| root.display().to_string())
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}/{name}")
    }
}

struct Walker<'a> {
    follow_symlinks: bool,
    found: &'a Mutex<Discovery>,
    /// (device, inode) of every folder entered, so a symlink cycle is entered once.
    visited: &'a Mutex<HashSet<(u64, u64)>>,
}

impl Walker<'_> {
    fn fail(&self, source: &str, error: impl std::fmt::Display) {
        let mut found = self.found.lock().unwrap_or_else(|p| p.into_inner());
        found.failures.push(Failure::new(source, "walk", error));
    }

    fn push_file(&self, path: &Path, source: String, size: u64) {
        let mut found = self.found.lock().unwrap_or_else(|p| p.into_inner());
        found.inputs.push(Input {
            path: path.to_path_buf(),
            source,
            size,
        });
    }

    fn first_visit(&self, meta: &fs::Metadata) -> bool {
        let mut visited = self.visited.lock().unwrap_or_else(|p| p.into_inner());
        visited.insert((meta.dev(), meta.ino()))
    }

    fn visit_dir(&self, dir: &Path, rel: &str) {
        match fs::metadata(dir) {
            Ok(meta) if !self.first_visit(&meta) => {
                return self.fail(
                    rel,
                    "folder already visited (symlink loop or second link): skipped",
                )
            }
            Err(e) => return self.fail(rel, e),
            Ok(_) => {}
        }
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => return self.fail(rel, format!("cannot read folder: {e}")),
        };
        let mut subdirs = Vec::new();
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    self.fail(rel, format!("cannot read folder entry: {e}"));
                    continue;
                }
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            let source = join(rel, &name);
            let path = entry.path();
            let file_type = match entry.file_type() {
                Ok(t) => t,
                Err(e) => {
                    self.fail(&source, e);
                    continue;
                }
            };
            if file_type.is_symlink() {
                self.visit_symlink(&path, source, &mut subdirs);
            } else if file_type.is_dir() {
                subdirs.push((path, source));
            } else if file_type.is_file() {
                match entry.metadata() {
                    Ok(meta) => self.push_file(&path, source, meta.len()),
                    Err(e) => self.fail(&source, e),
                }
            } else {
                self.fail(&source, special_kind(&file_type));
            }
        }
        subdirs
            .par_iter()
            .for_each(|(path, source)| self.visit_dir(path, source));
    }

    fn visit_symlink(&self, path: &Path, source: String, subdirs: &mut Vec<(PathBuf, String)>) {
        match fs::metadata(path) {
            Ok(meta) if meta.is_file() => self.push_file(path, source, meta.len()),
            Ok(meta) if meta.is_dir() && self.follow_symlinks => {
                subdirs.push((path.to_path_buf(), source))
            }
            Ok(meta) if meta.is_dir() => self.fail(
                &source,
                "symlink to a folder not followed (set input.follow_symlinks)",
            ),
            Ok(meta) => self.fail(&source, special_kind(&meta.file_type())),
            Err(e) => self.fail(&source, format!("broken or looping symlink: {e}")),
        }
    }
}

fn special_kind(t: &fs::FileType) -> &'static str {
    if t.is_fifo() {
        "fifo: skipped (never read, it could block)"
    } else if t.is_socket() {
        "socket: skipped"
    } else if t.is_block_device() || t.is_char_device() {
        "device file: skipped"
    } else {
        "not a regular file: skipped"
    }
}

/// Paths as their raw bytes, so file names that are not valid UTF-8 survive a round trip.
mod path_bytes {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    use std::path::{Path, PathBuf};

    pub fn serialize<S: Serializer>(path: &Path, s: S) -> Result<S::Ok, S::Error> {
        match path.to_str() {
            Some(text) => s.serialize_str(text),
            None => s.serialize_bytes(path.as_os_str().as_bytes()),
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Text(String),
        Bytes(Vec<u8>),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
        Ok(match Repr::deserialize(d)? {
            Repr::Text(text) => PathBuf::from(text),
            Repr::Bytes(bytes) => PathBuf::from(std::ffi::OsString::from_vec(bytes)),
        })
    }
}
