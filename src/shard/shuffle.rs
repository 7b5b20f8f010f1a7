//! Seeded, deterministic shuffling of documents (or anything with a document id) with bounded
//! memory (a two-pass external
//! shuffle): pass 1 scatters every document into one of N bucket files chosen by
//! `xxh3(id, seed) % N`; pass 2 loads one bucket at a time and orders it by `xxh3(id, seed + 1)`
//! (input position breaks ties). Every document can land anywhere in the output, the order
//! depends only on the seed and the documents (not on thread timing), and memory holds one
//! bucket: about total size / N.
use anyhow::{Context, Result};
use serde::{de::DeserializeOwned, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Shuffles `docs` through `buckets` JSON-lines files under `work_dir` (removed when read).
/// Uncompressed on purpose: hundreds of buckets may be open at once, and a zstd encoder each
/// would cost about a megabyte, a buffered file 64 KB.
pub fn shuffle<T: Serialize + DeserializeOwned>(
    docs: impl Iterator<Item = Result<T>>,
    work_dir: &Path,
    buckets: usize,
    seed: u64,
    id_of: fn(&T) -> &str,
) -> Result<impl Iterator<Item = Result<T>>> {
    let buckets = buckets.max(1);
    std::fs::create_dir_all(work_dir)
        .with_context(|| format!("cannot create {}", work_dir.display()))?;
    let paths: Vec<PathBuf> = (0..buckets)
        .map(|i| work_dir.join(format!("bucket-{i:05}.jsonl")))
        .collect();
    let mut writers = paths
        .iter()
        .map(|p| {
            let file = File::create(p).with_context(|| format!("cannot write {}", p.display()))?;
            Ok(BufWriter::with_capacity(1 << 16, file))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut line = Vec::new();
    for doc in docs {
        let doc = doc?;
        let bucket = xxh3_64_with_seed(id_of(&doc).as_bytes(), seed) % buckets as u64;
        line.clear();
        serde_json::to_writer(&mut line, &doc)?;
        line.push(b'\n');
        writers[bucket as usize].write_all(&line)?;
    }
    for mut writer in writers {
        writer.flush()?;
    }
    Ok(paths.into_iter().flat_map(move |path| {
        let ordered = read_bucket(&path, seed, id_of);
        let _ = std::fs::remove_file(&path);
        match ordered {
            Ok(docs) => docs.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        }
    }))
}

fn read_bucket<T: DeserializeOwned>(
    path: &Path,
    seed: u64,
    id_of: fn(&T) -> &str,
) -> Result<Vec<T>> {
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut docs = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let doc: T = serde_json::from_str(&line?)
            .with_context(|| format!("bad record in {}", path.display()))?;
        let key = xxh3_64_with_seed(id_of(&doc).as_bytes(), seed.wrapping_add(1));
        docs.push((key, i, doc));
    }
    docs.sort_unstable_by_key(|(key, i, _)| (*key, *i));
    Ok(docs.into_iter().map(|(_, _, d)| d).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Document;

    fn docs(n: usize) -> Vec<Document> {
        (0..n)
            .map(|i| Document::new(&format!("f{i}.txt"), None, format!("text {i}")))
            .collect()
    }

    fn ids(seed: u64, buckets: usize) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        shuffle(
            docs(200).into_iter().map(Ok),
            dir.path(),
            buckets,
            seed,
            |d| &d.id,
        )
        .unwrap()
        .map(|d| d.unwrap().id)
        .collect()
    }

    #[test]
    fn seeded_permutation() {
        let a = ids(7, 4);
        assert_eq!(a, ids(7, 4), "same seed, same order");
        assert_ne!(a, ids(8, 4), "another seed, another order");
        let mut sorted = a.clone();
        sorted.sort();
        let mut input: Vec<String> = docs(200).into_iter().map(|d| d.id).collect();
        input.sort();
        assert_eq!(sorted, input, "a permutation: nothing lost or doubled");
        let original: Vec<String> = docs(200).into_iter().map(|d| d.id).collect();
        assert_ne!(a, original);
    }
}
