//! Near dedup, step 2 of 3 (`near-lsh`): locality-sensitive hashing over the saved MinHash
//! signatures, as task t of n (a Slurm array, or one task locally). Each band of each signature
//! gives a key; a task takes the keys whose hash falls in its share, spills them to P files by
//! key so that one file at a time fits in memory, sorts each and scans the buckets of equal
//! keys. In a bucket sorted by document order, each unit is checked against at most
//! CHECKS_PER_UNIT members before it and joined to the first that passes (estimated Jaccard at
//! least the threshold: LSH also pairs dissimilar units now and then). A join depends on the
//! bucket alone, so the edges, and the clusters they make, are the same whatever the number of
//! tasks. Edges go to `edges-TTT-of-NNN.bin`, the task's counts to `lsh-TTT-of-NNN.json`
//! (written last: the task is done once it exists).
use super::minhash::estimated_jaccard;
use super::signatures::{SignatureFile, UnitOrder};
use crate::run_dir::write_atomic;
use crate::shard::writer::AtomicFile;
use anyhow::{Context, Result};
use rayon::slice::ParallelSliceMut;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// One bucket entry on disk: band key, unit order (3 × u32), partition and record number.
const RECORD_BYTES: u64 = 28;
/// The same entry in memory, with padding.
const MEMORY_BYTES: u64 = 32;
/// A unit is checked against at most this many earlier members of a bucket.
const CHECKS_PER_UNIT: usize = 3;
/// Checked pairs remembered at most (about 40 bytes each).
const VERIFIED_CACHE: usize = 1 << 22;

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
    /// Memory for one spill file's records, sorted in place.
    pub memory_bytes: u64,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct LshStats {
    /// Spill files, summed over tasks.
    pub partitions: usize,
    /// Pairs of bucket members compared (or joined, without verification).
    pub candidate_pairs: u64,
    pub joined_pairs: u64,
    /// Candidates whose estimated Jaccard fell below the threshold: LSH collisions cut.
    pub rejected_pairs: u64,
}

impl LshStats {
    pub fn add(&mut self, other: &LshStats) {
        self.partitions += other.partitions;
        self.candidate_pairs += other.candidate_pairs;
        self.joined_pairs += other.joined_pairs;
        self.rejected_pairs += other.rejected_pairs;
    }
}

/// A signed unit, by its partition's signature file and its record number there.
pub type UnitRef = (u32, u32);

/// One entry of a bucket; sorting puts equal keys together in document order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    key: u64,
    order: UnitOrder,
    unit: UnitRef,
}

pub fn edges_path(dir: &Path, task: usize, tasks: usize) -> PathBuf {
    dir.join(format!("edges-{task:03}-of-{tasks:03}.bin"))
}

fn stats_path(dir: &Path, task: usize, tasks: usize) -> PathBuf {
    dir.join(format!("lsh-{task:03}-of-{tasks:03}.json"))
}

/// The tasks of `tasks` whose results are not saved under `dir`.
pub fn missing_tasks(dir: &Path, tasks: usize) -> Vec<usize> {
    (0..tasks)
        .filter(|&task| !stats_path(dir, task, tasks).exists())
        .collect()
}

fn owner(key: u64, tasks: usize) -> usize {
    ((key >> 32) % tasks as u64) as usize
}

/// Task `task` of `tasks` over the signature files `signatures` (indexed by partition; None
/// for partitions without inputs).
pub fn run_task(
    signatures: &[Option<SignatureFile>],
    params: &LshParams,
    dir: &Path,
    task: usize,
    tasks: usize,
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let units: u64 = signatures.iter().flatten().map(SignatureFile::len).sum();
    let share = (units * params.bands as u64 * MEMORY_BYTES).div_ceil(tasks as u64);
    let spills = (share.div_ceil(params.memory_bytes.max(1)) as usize).max(1);
    let spill_dir = dir.join(format!("spill-{task:03}"));
    let paths = spill(signatures, params, &spill_dir, spills, task, tasks)?;
    let mut stats = LshStats {
        partitions: spills,
        ..Default::default()
    };
    let mut edges = AtomicFile::create(&edges_path(dir, task, tasks))?;
    let (mut left, mut right) = (Vec::new(), Vec::new());
    // Near copies meet in many bands: each pair's check is remembered (a bounded cache of a
    // pure function, so it changes nothing but the time).
    let mut verified: HashMap<(UnitRef, UnitRef), bool> = HashMap::new();
    for path in paths {
        let mut entries = read_spill(&path)?;
        std::fs::remove_file(&path).ok();
        entries.par_sort_unstable();
        for bucket in entries.chunk_by(|a, b| a.key == b.key) {
            for i in 1..bucket.len() {
                let unit = bucket[i].unit;
                let mut unit_chars = None;
                for j in (0..i).rev().take(CHECKS_PER_UNIT) {
                    let other = bucket[j].unit;
                    stats.candidate_pairs += 1;
                    if let Some(threshold) = params.verify {
                        let similar = match verified.get(&(unit, other)) {
                            Some(&similar) => similar,
                            None => {
                                let a = match unit_chars {
                                    Some(chars) => chars,
                                    None => *unit_chars.insert(read(signatures, unit, &mut left)?),
                                };
                                let b = read(signatures, other, &mut right)?;
                                let threshold = if a.min(b) < params.short.0 {
                                    threshold.max(params.short.1)
                                } else {
                                    threshold
                                };
                                let similar = estimated_jaccard(&left, &right) >= threshold;
                                if verified.len() >= VERIFIED_CACHE {
                                    verified.clear();
                                }
                                verified.insert((unit, other), similar);
                                similar
                            }
                        };
                        if !similar {
                            stats.rejected_pairs += 1;
                            continue;
                        }
                    }
                    for word in [unit.0, unit.1, other.0, other.1] {
                        edges.write_all(&word.to_le_bytes())?;
                    }
                    stats.joined_pairs += 1;
                    break;
                }
            }
        }
    }
    std::fs::remove_dir_all(&spill_dir).ok();
    edges.finish()?;
    write_atomic(
        &stats_path(dir, task, tasks),
        &serde_json::to_vec_pretty(&stats)?,
    )
}

/// Reads one unit's signature into `out`; returns its characters.
fn read(signatures: &[Option<SignatureFile>], unit: UnitRef, out: &mut Vec<u32>) -> Result<u32> {
    let Some(Some(file)) = signatures.get(unit.0 as usize) else {
        anyhow::bail!("no signatures for partition {}", unit.0);
    };
    Ok(file.read(unit.1, out)?.chars)
}

/// The counts of every task, summed; `edge` is called with every task's edges, which are the
/// same whatever the number of tasks.
pub fn read_results(
    dir: &Path,
    tasks: usize,
    mut edge: impl FnMut(UnitRef, UnitRef),
) -> Result<LshStats> {
    let mut stats = LshStats::default();
    for task in 0..tasks {
        let path = stats_path(dir, task, tasks);
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        stats.add(&serde_json::from_slice(&bytes)?);
        let path = edges_path(dir, task, tasks);
        let file = File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut record = [0u8; 16];
        loop {
            match reader.read_exact(&mut record) {
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                other => other.with_context(|| format!("reading {}", path.display()))?,
            }
            let word = |i: usize| {
                u32::from_le_bytes([record[i], record[i + 1], record[i + 2], record[i + 3]])
            };
            edge((word(0), word(4)), (word(8), word(12)));
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

/// Writes this task's share of every band key to `spills` files by key.
fn spill(
    signatures: &[Option<SignatureFile>],
    params: &LshParams,
    dir: &Path,
    spills: usize,
    task: usize,
    tasks: usize,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let paths: Vec<PathBuf> = (0..spills)
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
    for (partition, file) in signatures.iter().enumerate() {
        let Some(file) = file else { continue };
        file.for_each(|number, header, signature| {
            for band in 0..params.bands {
                let values = &signature[band * params.rows..(band + 1) * params.rows];
                let key = band_key(band, values);
                if owner(key, tasks) != task {
                    continue;
                }
                let out = &mut writers[(key % spills as u64) as usize];
                out.write_all(&key.to_le_bytes())?;
                let order = header.order;
                for word in [
                    order.at.0,
                    order.at.1,
                    order.place,
                    partition as u32,
                    number,
                ] {
                    out.write_all(&word.to_le_bytes())?;
                }
            }
            Ok(())
        })?;
    }
    for w in writers {
        w.into_inner().map_err(|e| e.into_error())?;
    }
    Ok(paths)
}

fn read_spill(path: &Path) -> Result<Vec<Entry>> {
    let len = std::fs::metadata(path)?.len();
    let mut entries = Vec::with_capacity((len / RECORD_BYTES) as usize);
    let mut reader = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut record = [0u8; RECORD_BYTES as usize];
    for _ in 0..len / RECORD_BYTES {
        reader.read_exact(&mut record)?;
        let word =
            |i: usize| u32::from_le_bytes([record[i], record[i + 1], record[i + 2], record[i + 3]]);
        entries.push(Entry {
            key: u64::from_le_bytes([
                record[0], record[1], record[2], record[3], record[4], record[5], record[6],
                record[7],
            ]),
            order: UnitOrder {
                at: (word(8), word(12)),
                place: word(16),
            },
            unit: (word(20), word(24)),
        });
    }
    Ok(entries)
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
