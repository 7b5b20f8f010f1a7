//! Locality-sensitive hashing over MinHash signatures, memory-bounded: each unit's band keys go
//! to one of P partition files by key, then each partition alone is loaded, sorted and scanned
//! for buckets of equal keys. Members of a bucket are joined in the union–find, after an optional
//! check that their estimated Jaccard reaches the threshold (LSH also pairs dissimilar units now
//! and then). Partitions are processed in order and buckets in key order: deterministic.
use super::cluster::UnionFind;
use super::minhash::estimated_jaccard;
use super::signatures::SignatureStore;
use anyhow::{Context, Result};
use rayon::slice::ParallelSliceMut;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// One bucket entry on disk: band key (8 bytes) and unit number (4 bytes).
const RECORD_BYTES: u64 = 12;
/// The same entry in memory, `(u64, u32)` with padding.
const MEMORY_BYTES: u64 = 16;
/// A unit is checked against at most this many earlier members of a bucket.
const CHECKS_PER_UNIT: usize = 3;

/// Bands × rows minimising the weighted false-positive plus false-negative area of the LSH
/// S-curve around `threshold`, the usual way to derive them from a threshold. With verification
/// a false positive costs one comparison and a false negative a missed duplicate, so callers
/// that verify weight false negatives higher.
pub fn bands_for_threshold(
    threshold: f64,
    num_perm: usize,
    false_negative_weight: f64,
) -> (usize, usize) {
    let mut best = (1, num_perm, f64::MAX);
    for bands in 1..=num_perm {
        for rows in 1..=num_perm / bands {
            let p = |s: f64| 1.0 - (1.0 - s.powi(rows as i32)).powi(bands as i32);
            let false_positive = integrate(p, 0.0, threshold);
            let false_negative = integrate(|s| 1.0 - p(s), threshold, 1.0);
            let error = (1.0 - false_negative_weight) * false_positive
                + false_negative_weight * false_negative;
            if error < best.2 {
                best = (bands, rows, error);
            }
        }
    }
    (best.0, best.1)
}

fn integrate(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    const STEPS: usize = 200;
    let h = (b - a) / STEPS as f64;
    (0..STEPS).map(|i| f(a + (i as f64 + 0.5) * h) * h).sum()
}

pub struct LshParams {
    pub bands: usize,
    pub rows: usize,
    /// Join bucket members only when their estimated Jaccard reaches this.
    pub verify: Option<f64>,
    /// Pairs with a unit shorter than `.0` characters need estimated Jaccard `.1` (when
    /// verifying): in short texts one changed word is a different exam question.
    pub short: (u32, f64),
    pub partitions: usize,
}

impl LshParams {
    /// Partitions so that one partition's records, sorted in place, fit in `memory_bytes`.
    pub fn partitions_for(units: u64, bands: usize, memory_bytes: u64) -> usize {
        let records = units * bands as u64 * MEMORY_BYTES;
        (records.div_ceil(memory_bytes.max(1)) as usize).max(1)
    }
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct LshStats {
    pub partitions: usize,
    /// Pairs of bucket members compared (or joined, without verification).
    pub candidate_pairs: u64,
    pub joined_pairs: u64,
    /// Candidates whose estimated Jaccard fell below the threshold: LSH collisions cut.
    pub rejected_pairs: u64,
}

/// `unit_chars[gid]` is the length of each signed unit.
pub fn cluster(
    store: &SignatureStore,
    unit_chars: &[u32],
    params: &LshParams,
    dir: &Path,
    uf: &mut UnionFind,
) -> Result<LshStats> {
    let partitions = params.partitions.max(1);
    let paths = write_partitions(store, params, dir, partitions)?;
    let mut stats = LshStats {
        partitions,
        ..Default::default()
    };
    let mut left = Vec::new();
    let mut right = Vec::new();
    for path in paths {
        let mut records = read_partition(&path)?;
        std::fs::remove_file(&path).ok();
        records.par_sort_unstable();
        for bucket in records.chunk_by(|a, b| a.0 == b.0) {
            for i in 1..bucket.len() {
                let unit = bucket[i].1;
                for j in (0..i).rev().take(CHECKS_PER_UNIT) {
                    let other = bucket[j].1;
                    if uf.find(unit) == uf.find(other) {
                        break;
                    }
                    stats.candidate_pairs += 1;
                    if let Some(threshold) = params.verify {
                        store.read(unit, &mut left)?;
                        store.read(other, &mut right)?;
                        let shortest = unit_chars[unit as usize].min(unit_chars[other as usize]);
                        let threshold = if shortest < params.short.0 {
                            threshold.max(params.short.1)
                        } else {
                            threshold
                        };
                        if estimated_jaccard(&left, &right) < threshold {
                            stats.rejected_pairs += 1;
                            continue;
                        }
                    }
                    uf.union(unit, other);
                    stats.joined_pairs += 1;
                    break;
                }
            }
        }
    }
    Ok(stats)
}

fn band_key(band: usize, values: &[u32]) -> u64 {
    let mut bytes = Vec::with_capacity(values.len() * 4);
    for v in values {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    xxhash_rust::xxh3::xxh3_64_with_seed(&bytes, band as u64)
}

fn write_partitions(
    store: &SignatureStore,
    params: &LshParams,
    dir: &Path,
    partitions: usize,
) -> Result<Vec<PathBuf>> {
    let paths: Vec<PathBuf> = (0..partitions)
        .map(|p| dir.join(format!("buckets-{p:05}.bin")))
        .collect();
    let mut writers = paths
        .iter()
        .map(|p| {
            File::create(p)
                .map(|f| BufWriter::with_capacity(64 << 10, f))
                .with_context(|| format!("cannot write {}", p.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    store.for_each(|gid, signature| {
        for band in 0..params.bands {
            let values = &signature[band * params.rows..(band + 1) * params.rows];
            let key = band_key(band, values);
            let out = &mut writers[(key % partitions as u64) as usize];
            out.write_all(&key.to_le_bytes())?;
            out.write_all(&gid.to_le_bytes())?;
        }
        Ok(())
    })?;
    for w in writers {
        w.into_inner().map_err(|e| e.into_error())?;
    }
    Ok(paths)
}

fn read_partition(path: &Path) -> Result<Vec<(u64, u32)>> {
    let len = std::fs::metadata(path)?.len();
    let mut records = Vec::with_capacity((len / RECORD_BYTES) as usize);
    let mut reader = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut record = [0u8; RECORD_BYTES as usize];
    for _ in 0..len / RECORD_BYTES {
        reader.read_exact(&mut record)?;
        let key = u64::from_le_bytes(record[..8].try_into()?);
        let gid = u32::from_le_bytes(record[8..].try_into()?);
        records.push((key, gid));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_bands_put_the_s_curve_near_the_threshold() {
        let (bands, rows) = bands_for_threshold(0.8, 128, 0.5);
        assert!(bands * rows <= 128);
        let midpoint = (1.0 / bands as f64).powf(1.0 / rows as f64);
        assert!(
            (0.6..0.85).contains(&midpoint),
            "{bands}x{rows}: {midpoint}"
        );
    }
}
