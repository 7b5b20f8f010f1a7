//! Near dedup, step 3 of 3 (`near-dedup`): reads every partition's unit table in input order,
//! numbers the signed units in that order, joins the units of every LSH edge, and decides with
//! `cluster::decide` which documents are dropped or trimmed. The decision records and the
//! rejects are written from the partitions' name tables: no text is read, so this step stays
//! small whatever the corpus (memory: about 20 bytes per unit and 40 per document).
use super::cluster::{self, Action, Decision, Doc, UnionFind, Unit};
use super::exact::Position;
use super::minhash::estimated_jaccard;
use super::near::{DecisionRecord, ExamplePair, NearDedupStats, DECIDED_DIR, LSH_DIR, SIGN_DIR};
use super::sign::{self, DocName, SignedDoc};
use super::signatures::SignatureFile;
use crate::document::Reject;
use crate::ingest::batches::{merge_in_input_order, PARTITIONS};
use crate::ingest::framed;
use crate::shard::writer::ShardWriter;
use crate::Config;
use anyhow::{bail, Result};
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

const EXAMPLES: usize = 5;
const SAMPLE_CHARS: usize = 80;

/// The corpus as clustering sees it, in input order.
struct Corpus {
    positions: Vec<Position>,
    docs: Vec<Doc>,
    units: Vec<Unit>,
    /// For each partition, the global number of each of its signature records (increasing).
    numbers: Vec<Vec<u32>>,
    text_bytes: u64,
}

impl Corpus {
    fn load(sign_dir: &Path, partitions: &[usize]) -> Result<Corpus> {
        let tables = partitions
            .iter()
            .map(|&p| framed::read::<SignedDoc>(&sign::units_path(sign_dir, p)))
            .collect();
        let mut corpus = Corpus {
            positions: Vec::new(),
            docs: Vec::new(),
            units: Vec::new(),
            numbers: vec![Vec::new(); PARTITIONS],
            text_bytes: 0,
        };
        let mut next = 0u32;
        let mut number = |partition: &mut Vec<u32>| -> Result<u32> {
            let n = next;
            next = next.checked_add(1).ok_or_else(|| {
                anyhow::anyhow!("more than 4 billion units: raise near_dedup.unit_chars")
            })?;
            partition.push(n);
            Ok(n)
        };
        for doc in merge_in_input_order(tables, |d: &SignedDoc| d.at.0 as usize) {
            let doc = doc?;
            let Some(partition) = corpus.numbers.get_mut(doc.partition as usize) else {
                bail!("near-dedup unit table names partition {}", doc.partition);
            };
            let whole = if doc.whole {
                Some(number(partition)?)
            } else {
                None
            };
            let first = corpus.units.len() as u32;
            for unit in &doc.units {
                let gid = if unit.signed {
                    Some(number(partition)?)
                } else {
                    None
                };
                corpus.units.push(Unit {
                    bytes: unit.bytes[0]..unit.bytes[1],
                    chars: unit.chars,
                    gid,
                });
            }
            corpus.docs.push(Doc {
                units: first..corpus.units.len() as u32,
                chars: doc.chars,
                whole,
            });
            corpus.positions.push(doc.at);
            corpus.text_bytes += doc.text_bytes;
        }
        Ok(corpus)
    }

    fn signed_units(&self) -> u32 {
        self.numbers.iter().map(|n| n.len() as u32).sum()
    }

    /// The global number of signature record `number` of `partition`.
    fn gid(&self, (partition, number): (u32, u32)) -> Option<u32> {
        self.numbers
            .get(partition as usize)?
            .get(number as usize)
            .copied()
    }

    /// The partition and record holding signature `gid`.
    fn record(&self, gid: u32) -> Option<(usize, u32)> {
        self.numbers.iter().enumerate().find_map(|(p, numbers)| {
            numbers
                .binary_search(&gid)
                .ok()
                .map(|number| (p, number as u32))
        })
    }
}

pub fn run(
    config: &Config,
    root: &Path,
    partitions: &[usize],
    lsh_tasks: usize,
) -> Result<NearDedupStats> {
    let settings = &config.near_dedup;
    let started = Instant::now();
    let sign_dir = root.join(SIGN_DIR);
    let corpus = Corpus::load(&sign_dir, partitions)?;
    let len = corpus.signed_units();
    let mut uf = UnionFind::new(len);
    let mut unknown = 0u64;
    let lsh = super::lsh::read_results(&root.join(LSH_DIR), lsh_tasks, |a, b| {
        match (corpus.gid(a), corpus.gid(b)) {
            (Some(a), Some(b)) => {
                uf.union(a, b);
            }
            _ => unknown += 1,
        }
    })?;
    if unknown > 0 {
        bail!("{unknown} near-dedup edges name units that were not signed: rerun without --resume");
    }
    let (bands, rows) = settings.bands_rows();
    let (clusters, sizes) = cluster::cluster_stats(&mut uf, len);
    let decisions = cluster::decide(
        &corpus.docs,
        &corpus.units,
        &mut uf,
        &sizes,
        settings.drop_share,
        settings.trim_partial,
    );
    let mut stats = NearDedupStats {
        enabled: true,
        bands,
        rows,
        documents: corpus.docs.len() as u64,
        units: corpus.units.len() as u64,
        signed_units: len as u64,
        text_mb: corpus.text_bytes as f64 / 1e6,
        lsh,
        clusters,
        ..Default::default()
    };
    drop((uf, sizes));
    write(config, root, partitions, &corpus, &decisions, &mut stats)?;
    stats.clustering_seconds = started.elapsed().as_secs_f64();
    Ok(stats)
}

/// Every partition's name table, in input order.
fn names<'a>(
    sign_dir: &'a Path,
    partitions: &'a [usize],
) -> impl Iterator<Item = Result<DocName>> + 'a {
    let tables = partitions
        .iter()
        .map(|&p| framed::read::<DocName>(&sign::names_path(sign_dir, p)))
        .collect();
    merge_in_input_order(tables, |d: &DocName| d.at.0 as usize)
}

fn short_sample(sample: &str) -> String {
    sample.chars().take(SAMPLE_CHARS).collect()
}

/// Two passes over the names: first the kept documents', then the decision and reject records
/// of the affected ones.
fn write(
    config: &Config,
    root: &Path,
    partitions: &[usize],
    corpus: &Corpus,
    decisions: &[Decision],
    stats: &mut NearDedupStats,
) -> Result<()> {
    let sign_dir = root.join(SIGN_DIR);
    let mut kept: HashMap<u32, Option<DocName>> = decisions
        .iter()
        .flat_map(|d| d.kept.iter().map(|&k| (k, None)))
        .collect();
    for (seq, name) in names(&sign_dir, partitions).enumerate() {
        if let Some(slot) = kept.get_mut(&(seq as u32)) {
            *slot = Some(name?);
        }
    }
    let name_of = |seq: &u32| kept.get(seq).and_then(|k| k.as_ref());
    let dir = root.join(DECIDED_DIR);
    let mut records = ShardWriter::new(&dir, "decisions", true, config.output.shard_bytes)?;
    let mut rejects = ShardWriter::new(&dir, "rejects", true, config.output.shard_bytes)?;
    let mut pending = decisions.iter().peekable();
    for (seq, name) in names(&sign_dir, partitions).enumerate() {
        let Some(decision) = pending.next_if(|d| d.seq as usize == seq) else {
            continue;
        };
        let name = name?;
        if corpus.positions.get(seq) != Some(&name.at) {
            bail!(
                "near-dedup tables of {} do not match: rerun without --resume",
                name.source
            );
        }
        let kept_names: Vec<&DocName> = decision.kept.iter().filter_map(name_of).collect();
        let Some(first_kept) = kept_names.first() else {
            bail!("no kept document recorded for {}", name.source);
        };
        let share = decision.duplicate_chars as f64 / decision.chars.max(1) as f64;
        records.write_json(&DecisionRecord {
            at: name.at,
            id: name.id.clone(),
            action: decision.action.clone(),
            kept: kept_names.iter().map(|k| k.id.clone()).collect(),
            removed: decision.removed.iter().map(|r| [r.start, r.end]).collect(),
            removed_chars: decision.duplicate_chars,
        })?;
        match decision.action {
            Action::Drop => {
                stats.dropped_docs += 1;
                rejects.write_json(&Reject {
                    id: name.id.clone(),
                    source: name.source.clone(),
                    reason: "near-duplicate".to_string(),
                    detail: Some(format!(
                        "kept {} ({}); {:.0}% of the text is in near-duplicate passages",
                        first_kept.id,
                        first_kept.source,
                        share * 100.0
                    )),
                    sample: name.sample.clone(),
                })?;
            }
            Action::Trim => {
                stats.trimmed_docs += 1;
                stats.trimmed_chars += decision.duplicate_chars;
            }
        }
        if stats.examples.len() < EXAMPLES {
            stats.examples.push(ExamplePair {
                action: decision.action.clone(),
                id: name.id.clone(),
                source: name.source.clone(),
                kept_id: first_kept.id.clone(),
                kept_source: first_kept.source.clone(),
                duplicate_share: share,
                unit_jaccard: example_jaccard(config, &sign_dir, corpus, decision.example)?,
                sample: short_sample(&name.sample),
                kept_sample: short_sample(&first_kept.sample),
            });
        }
    }
    records.finish()?;
    rejects.finish()?;
    Ok(())
}

/// Estimated Jaccard of an example's two units, read back from their signature files.
fn example_jaccard(
    config: &Config,
    sign_dir: &Path,
    corpus: &Corpus,
    (a, b): (u32, u32),
) -> Result<f64> {
    let read = |gid: u32| -> Result<Vec<u32>> {
        let Some((partition, number)) = corpus.record(gid) else {
            bail!("near-dedup example names an unknown unit {gid}");
        };
        let file = SignatureFile::open(
            &sign::sig_path(sign_dir, partition),
            config.near_dedup.num_perm,
        )?;
        let mut signature = Vec::new();
        file.read(number, &mut signature)?;
        Ok(signature)
    };
    Ok(estimated_jaccard(&read(a)?, &read(b)?))
}
