//! Connected components of near-duplicate units (union–find), and the per-document decision:
//! which document keeps each shared passage, which documents are dropped, which are trimmed.
//!
//! The rule, deterministic and independent of thread count: documents are visited longest first
//! (normalised characters), ties by input order. A unit whose cluster already has a unit in a
//! visited, kept document is a duplicate. A document whose whole-text signature is such a
//! duplicate is dropped whole; so is one whose duplicate units hold at least
//! `drop_share` of its characters is dropped whole, naming the kept document holding most of
//! them; otherwise its duplicate units are cut out (when trimming is on) and its other
//! clustered units become the kept copies of their clusters.
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

pub struct UnionFind {
    parent: Vec<u32>,
}

impl UnionFind {
    pub fn new(len: u32) -> Self {
        UnionFind {
            parent: (0..len).collect(),
        }
    }

    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grandparent = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grandparent;
            x = grandparent;
        }
        x
    }

    /// Joins two sets; the smaller unit number becomes the root, so roots do not depend on the
    /// order of unions.
    pub fn union(&mut self, a: u32, b: u32) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        let (root, child) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[child as usize] = root;
        true
    }
}

/// A unit of a document; `gid` is its signature number, `None` for units too short to sign.
#[derive(Debug, Clone)]
pub struct Unit {
    pub bytes: Range<u32>,
    pub chars: u32,
    pub gid: Option<u32>,
}

/// A document's units, as a range into the unit table, and the signature number of the whole
/// document when it has more than one unit.
#[derive(Debug, Clone)]
pub struct Doc {
    pub units: Range<u32>,
    pub chars: u64,
    pub whole: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Drop,
    Trim,
}

#[derive(Debug, Clone)]
pub struct Decision {
    pub seq: u32,
    pub action: Action,
    /// The kept documents holding this one's duplicate units, most characters first.
    pub kept: Vec<u32>,
    pub duplicate_chars: u64,
    pub chars: u64,
    /// Byte ranges cut out (trim only), in order and merged.
    pub removed: Vec<Range<u32>>,
    /// One duplicate unit and the kept unit of its cluster, for examples.
    pub example: (u32, u32),
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct ClusterStats {
    /// Clusters of two or more units.
    pub clusters: u64,
    pub clustered_units: u64,
    pub largest_cluster: u64,
    /// Clusters by size: "2", "3-4", "5-8", "9-16", "17-64", "65+".
    pub cluster_sizes: BTreeMap<String, u64>,
}

fn size_bucket(size: u32) -> &'static str {
    match size {
        0..=2 => "2",
        3..=4 => "3-4",
        5..=8 => "5-8",
        9..=16 => "9-16",
        17..=64 => "17-64",
        _ => "65+",
    }
}

pub fn cluster_stats(uf: &mut UnionFind, len: u32) -> (ClusterStats, Vec<u32>) {
    let mut sizes = vec![0u32; len as usize];
    for gid in 0..len {
        let root = uf.find(gid);
        sizes[root as usize] += 1;
    }
    let mut stats = ClusterStats::default();
    for &size in sizes.iter().filter(|s| **s >= 2) {
        stats.clusters += 1;
        stats.clustered_units += size as u64;
        stats.largest_cluster = stats.largest_cluster.max(size as u64);
        *stats
            .cluster_sizes
            .entry(size_bucket(size).to_string())
            .or_default() += 1;
    }
    (stats, sizes)
}

/// The decisions, in document order. `sizes[root]` is the size of each cluster.
pub fn decide(
    docs: &[Doc],
    units: &[Unit],
    uf: &mut UnionFind,
    sizes: &[u32],
    drop_share: f64,
    trim: bool,
) -> Vec<Decision> {
    let mut order: Vec<u32> = (0..docs.len() as u32).collect();
    order.sort_by_key(|&seq| (std::cmp::Reverse(docs[seq as usize].chars), seq));
    // Cluster root → (document, unit) holding the kept copy.
    let mut kept_copy: HashMap<u32, (u32, u32)> = HashMap::new();
    let mut decisions = Vec::new();
    for seq in order {
        let doc = &docs[seq as usize];
        let whole = doc.whole.map(|gid| (uf.find(gid), gid));
        let whole = whole.filter(|(root, _)| sizes[*root as usize] >= 2);
        if let Some((root, gid)) = whole {
            if let Some(&(kept_doc, kept_gid)) = kept_copy.get(&root) {
                decisions.push(Decision {
                    seq,
                    action: Action::Drop,
                    kept: vec![kept_doc],
                    duplicate_chars: doc.chars,
                    chars: doc.chars,
                    removed: Vec::new(),
                    example: (gid, kept_gid),
                });
                continue;
            }
        }
        let mut duplicate_chars = 0u64;
        let mut by_kept: BTreeMap<u32, u64> = BTreeMap::new();
        let mut fresh = Vec::new();
        let mut duplicates = Vec::new();
        let mut example = None;
        for index in doc.units.clone() {
            let unit = &units[index as usize];
            let Some(gid) = unit.gid else { continue };
            let root = uf.find(gid);
            if sizes[root as usize] < 2 {
                continue;
            }
            match kept_copy.get(&root) {
                Some(&(kept_doc, kept_gid)) => {
                    duplicate_chars += unit.chars as u64;
                    *by_kept.entry(kept_doc).or_default() += unit.chars as u64;
                    duplicates.push(index);
                    example.get_or_insert((gid, kept_gid));
                }
                None => fresh.push((root, gid)),
            }
        }
        let total = doc.chars.max(1);
        let mut kept: Vec<(u32, u64)> = by_kept.into_iter().collect();
        kept.sort_by_key(|&(doc, chars)| (std::cmp::Reverse(chars), doc));
        let kept: Vec<u32> = kept.into_iter().map(|(doc, _)| doc).collect();
        if duplicate_chars > 0 && duplicate_chars as f64 >= drop_share * total as f64 {
            decisions.push(Decision {
                seq,
                action: Action::Drop,
                kept,
                duplicate_chars,
                chars: doc.chars,
                removed: Vec::new(),
                example: example.unwrap_or_default(),
            });
            continue;
        }
        for (root, gid) in fresh.into_iter().chain(whole) {
            kept_copy.entry(root).or_insert((seq, gid));
        }
        if duplicate_chars > 0 && trim {
            decisions.push(Decision {
                seq,
                action: Action::Trim,
                kept,
                duplicate_chars,
                chars: doc.chars,
                removed: merged(duplicates.iter().map(|&i| units[i as usize].bytes.clone())),
                example: example.unwrap_or_default(),
            });
        }
    }
    decisions.sort_by_key(|d| d.seq);
    decisions
}

fn merged(ranges: impl Iterator<Item = Range<u32>>) -> Vec<Range<u32>> {
    let mut out: Vec<Range<u32>> = Vec::new();
    for r in ranges {
        match out.last_mut() {
            Some(last) if last.end == r.start => last.end = r.end,
            _ => out.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(start: u32, chars: u32, gid: u32) -> Unit {
        Unit {
            bytes: start..start + chars * 3,
            chars,
            gid: Some(gid),
        }
    }

    #[test]
    fn longest_document_keeps_shared_passages() {
        // doc 0: a chapter (units 0,1); doc 1: the book holding it (units 2,3,4);
        // doc 2: a paper sharing one of the book's units among three of its own.
        let units = vec![
            unit(0, 1000, 0),
            unit(3000, 1000, 1),
            unit(0, 1000, 2),
            unit(3000, 1000, 3),
            unit(6000, 1000, 4),
            unit(0, 1000, 5),
            unit(3000, 1000, 6),
            unit(6000, 1000, 7),
            unit(9000, 1000, 8),
        ];
        let docs = vec![
            Doc {
                units: 0..2,
                chars: 2000,
                whole: None,
            },
            Doc {
                units: 2..5,
                chars: 3000,
                whole: None,
            },
            Doc {
                units: 5..9,
                chars: 4000,
                whole: None,
            },
        ];
        let mut uf = UnionFind::new(9);
        uf.union(0, 3);
        uf.union(1, 4);
        uf.union(2, 8);
        let (stats, sizes) = cluster_stats(&mut uf, 9);
        assert_eq!(stats.clusters, 3);
        let decisions = decide(&docs, &units, &mut uf, &sizes, 0.5, true);
        assert_eq!(decisions.len(), 2);
        // The book is trimmed of the unit the longer paper keeps...
        assert_eq!(decisions[0].seq, 0);
        assert_eq!(decisions[0].action, Action::Drop);
        assert_eq!(decisions[0].kept, vec![1]);
        assert_eq!(decisions[1].seq, 1);
        assert_eq!(decisions[1].action, Action::Trim);
        assert_eq!(decisions[1].removed, vec![0..3000]);
    }
}
