//! `manifest.json`: version, resolved config, counts per stage and reason, bytes, and every
//! output file with its size and sha256.
use crate::dedup::near::NearDedupStats;
use crate::ingest::IngestStats;
use crate::run_dir::write_atomic;
use crate::shard::stats::ShardCounts;
use crate::shard::PublishStats;
use anyhow::Result;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::Path;

#[derive(Serialize)]
pub struct OutputFile {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
    /// Documents, sentences and tokens in a published shard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<ShardCounts>,
}

#[derive(Serialize)]
pub struct Manifest<'a> {
    pub medcorpus_version: &'static str,
    pub config: &'a serde_json::Value,
    pub ingest: &'a IngestStats,
    pub near_dedup: &'a NearDedupStats,
    pub publish: &'a PublishStats,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vocab: Option<&'a crate::vocab::VocabReport>,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub seconds: f64,
    pub phase_seconds: std::collections::BTreeMap<String, f64>,
    pub peak_rss_mb: f64,
    pub files: Vec<OutputFile>,
}

/// What the publish phase writes, relative to the output folder.
pub const PUBLISHED: [&str; 7] = [
    "docs",
    "bert",
    "megatron",
    "wwm",
    "mlm",
    "rejects",
    "errors.jsonl",
];

/// Every file under the output folder except intermediates, in path order, with the counts
/// the publish phase recorded for its shards.
pub fn list_outputs(root: &Path, counts: &[(String, ShardCounts)]) -> Result<Vec<OutputFile>> {
    let mut files = Vec::new();
    for top in PUBLISHED.iter().chain(&["vocab"]) {
        collect(root, &root.join(top), &mut files)?;
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let counts: std::collections::HashMap<&str, &ShardCounts> =
        counts.iter().map(|(path, c)| (path.as_str(), c)).collect();
    for file in &mut files {
        file.counts = counts.get(file.path.as_str()).map(|&c| c.clone());
    }
    Ok(files)
}

fn collect(root: &Path, path: &Path, files: &mut Vec<OutputFile>) -> Result<()> {
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            collect(root, &entry?.path(), files)?;
        }
    } else if path.is_file() {
        let mut hasher = Sha256::new();
        let mut file = std::fs::File::open(path)?;
        let bytes = std::io::copy(&mut file, &mut hasher)?;
        let rel = path
            .strip_prefix(root)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned();
        files.push(OutputFile {
            path: rel,
            bytes,
            sha256: hex::encode(hasher.finalize()),
            counts: None,
        });
    }
    Ok(())
}

pub fn write(root: &Path, manifest: &Manifest) -> Result<()> {
    write_atomic(
        &root.join("manifest.json"),
        &serde_json::to_vec_pretty(manifest)?,
    )
}
