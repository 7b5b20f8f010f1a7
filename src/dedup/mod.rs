//! Deduplication. Exact: whole documents and long paragraphs, by xxh3-128 of normalised text.
//! Near: MinHash LSH over units of documents, a phase of its own after ingest (`near`).
pub mod cluster;
pub mod decisions;
pub mod exact;
pub mod lsh;
pub mod minhash;
pub mod near;
pub mod sign;
pub mod signatures;
pub mod units;

use anyhow::Result;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DedupConfig {
    /// Drop a document whose normalised text equals an earlier one's (`exact-duplicate`).
    pub documents: bool,
    /// Drop paragraphs of at least this many characters already seen in an earlier document;
    /// 0 turns paragraph dedup off. Short lines (headings, "A. 是") repeat legitimately.
    pub paragraph_min_chars: usize,
    /// A document losing more than this share of its characters to duplicate paragraphs is
    /// dropped whole (`duplicate-paragraphs`) rather than left as fragments.
    pub max_duplicate_share: f64,
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            documents: true,
            paragraph_min_chars: 30,
            max_duplicate_share: 0.5,
        }
    }
}

impl DedupConfig {
    pub fn validate(&self) -> Result<()> {
        crate::config::check_range(
            "dedup.max_duplicate_share",
            self.max_duplicate_share,
            0.0,
            1.0,
        )
    }
}
