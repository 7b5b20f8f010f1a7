//! OCR results on disk, keyed by the xxh3 hash of the page image, the engine's settings and the
//! reading-order code, so a resumed (or repeated) run renders pages again but never repeats OCR
//! work, and never reuses a page read in an older order.
use super::Recognised;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::Xxh3;

pub struct Cache {
    dir: PathBuf,
}

/// The reading-order code's own text: cached pages hold text already put in reading order, so
/// a change to that code must not reuse them.
const READING_ORDER: &str = include_str!("layout.rs");

pub fn key(engine_fingerprint: &str, image: &[u8]) -> String {
    let mut hasher = Xxh3::new();
    hasher.update(engine_fingerprint.as_bytes());
    hasher.update(&[0]);
    hasher.update(READING_ORDER.as_bytes());
    hasher.update(&[0]);
    hasher.update(image);
    format!("{:032x}", hasher.digest128())
}

impl Cache {
    pub fn new(dir: &Path) -> Self {
        Cache {
            dir: dir.to_path_buf(),
        }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2]).join(format!("{key}.json"))
    }

    /// A damaged entry counts as a miss: the page is simply recognised again.
    pub fn get(&self, key: &str) -> Option<Recognised> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Written to a temporary name and renamed, so a killed run never leaves half an entry.
    pub fn put(&self, key: &str, found: &Recognised) -> Result<()> {
        let path = self.path(key);
        let folder = path.parent().context("cache entry has no folder")?;
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create OCR cache folder {}", folder.display()))?;
        let mut temporary = tempfile::NamedTempFile::new_in(folder)?;
        serde_json::to_writer(&mut temporary, found)?;
        temporary
            .persist(&path)
            .with_context(|| format!("cannot write OCR cache entry {}", path.display()))?;
        Ok(())
    }
}
