//! Exact deduplication, in three steps so that the global step reads 16-byte keys, never texts,
//! and splits into tasks by key hash (Slurm array tasks, or one task locally):
//! - `DocumentKeys::of`: during extraction, each kept document's key and its long paragraphs'
//!   keys, saved beside the chunk (ingest/batches.rs).
//! - `resolve`: over every document's keys in input order, task t of n takes the keys whose
//!   hash falls in its share and records each document whose key an earlier document had, and
//!   each long paragraph an earlier document had (kept or not).
//! - `Resolver`: while documents stream to the later phases, drops duplicate documents and those
//!   mostly made of seen paragraphs, and cuts the seen paragraphs from the rest.
//!
//! Keys are xxh3-128 of the text without whitespace, so re-wrapped copies match; the first copy
//! in sorted source order is kept, whatever the thread or task count. Memory: one 16-byte key
//! per distinct document and per distinct long paragraph, divided among the tasks.
use super::DedupConfig;
use crate::clean::char_table::{lines, SPACE_LEADS};
use crate::document::{Document, Reject, Verdict};
use crate::shard::writer::AtomicFile;
use anyhow::{bail, Context, Result};
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{BufReader, Read, Write};
use std::iter::Peekable;
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::xxh3_128;

/// Where a document sits in input order: its input's index and its place among that input's
/// outcomes.
pub type Position = (u32, u32);

/// `line` of a seen-record that marks the whole document.
const WHOLE_DOCUMENT: u32 = u32::MAX;

/// Calls `run` with each maximal run of non-whitespace in `text`, in order, and returns the
/// number of non-whitespace characters: one pass for both the key and the length.
fn non_space_runs(text: &str, mut run: impl FnMut(&[u8])) -> usize {
    let bytes = text.as_bytes();
    let (mut start, mut chars, mut i) = (0, 0, 0);
    while let Some(&b) = bytes.get(i) {
        let step = match SPACE_LEADS.step(b) {
            0 => match text.get(i..).and_then(|rest| rest.chars().next()) {
                Some(c) if c.is_whitespace() => {
                    run(&bytes[start..i]);
                    i += c.len_utf8();
                    start = i;
                    continue;
                }
                Some(c) => c.len_utf8(),
                None => 1,
            },
            step => step,
        };
        chars += 1;
        i += step;
    }
    run(&bytes[start..]);
    chars
}

fn non_space_chars(line: &str) -> usize {
    non_space_runs(line, |_| {})
}

/// One kept document's keys, as saved by extraction.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentKeys {
    pub at: Position,
    pub document: u128,
    /// (line number, key) of each line of at least `paragraph_min_chars` characters.
    pub paragraphs: Vec<(u32, u128)>,
}

impl DocumentKeys {
    pub fn of(doc: &Document, at: Position, config: &DedupConfig) -> DocumentKeys {
        let mut paragraphs = Vec::new();
        // '\n' is whitespace, so the lines' runs in order are the document's runs: one pass
        // gathers them, and each key is then hashed in one call (cheaper than streaming).
        let mut joined = Vec::with_capacity(doc.text.len());
        for (line_number, line) in lines(&doc.text).enumerate() {
            let begin = joined.len();
            let chars = non_space_runs(line, |run| joined.extend_from_slice(run));
            if config.paragraph_min_chars > 0 && chars >= config.paragraph_min_chars {
                paragraphs.push((line_number as u32, xxh3_128(&joined[begin..])));
            }
        }
        DocumentKeys {
            at,
            document: xxh3_128(&joined),
            paragraphs,
        }
    }

    /// Little-endian: input, outcome, document key, paragraph count, then (line, key) pairs.
    pub fn write_to(&self, out: &mut impl Write) -> Result<()> {
        out.write_all(&self.at.0.to_le_bytes())?;
        out.write_all(&self.at.1.to_le_bytes())?;
        out.write_all(&self.document.to_le_bytes())?;
        out.write_all(&(self.paragraphs.len() as u32).to_le_bytes())?;
        for (line, key) in &self.paragraphs {
            out.write_all(&line.to_le_bytes())?;
            out.write_all(&key.to_le_bytes())?;
        }
        Ok(())
    }

    /// The next record, or None at the end of the file.
    pub fn read_from(input: &mut impl Read) -> Result<Option<DocumentKeys>> {
        let mut first = [0u8; 4];
        match input.read_exact(&mut first) {
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            other => other?,
        }
        let at = (u32::from_le_bytes(first), read_u32(input)?);
        let document = read_u128(input)?;
        let count = read_u32(input)?;
        let mut paragraphs = Vec::with_capacity(count.min(1 << 16) as usize);
        for _ in 0..count {
            paragraphs.push((read_u32(input)?, read_u128(input)?));
        }
        Ok(Some(DocumentKeys {
            at,
            document,
            paragraphs,
        }))
    }
}

fn read_u32(input: &mut impl Read) -> Result<u32> {
    let mut bytes = [0u8; 4];
    input.read_exact(&mut bytes)?;
    Ok(u32::from_le_bytes(bytes))
}

fn read_u128(input: &mut impl Read) -> Result<u128> {
    let mut bytes = [0u8; 16];
    input.read_exact(&mut bytes)?;
    Ok(u128::from_le_bytes(bytes))
}

/// Keys are already uniform hashes: their low 64 bits index the table as they are.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(word);
        }
    }
    fn write_u128(&mut self, key: u128) {
        self.0 = key as u64;
    }
}

type KeySet = HashSet<u128, BuildHasherDefault<KeyHasher>>;

/// The task that owns `key` when `tasks` tasks share the keys.
fn owner(key: u128, tasks: usize) -> usize {
    ((key >> 64) as u64 % tasks as u64) as usize
}

/// The file where task `task` of `tasks` records what it found seen before.
pub fn seen_path(dir: &Path, task: usize, tasks: usize) -> PathBuf {
    dir.join(format!("seen-{task:03}-of-{tasks:03}.bin"))
}

/// Task `task` of `tasks`: reads every document's keys in input order and writes, in the same
/// order, a (input, outcome, line) record for each key of its share seen in an earlier document
/// (`line` = WHOLE_DOCUMENT for the document key).
pub fn resolve(
    keys: impl Iterator<Item = Result<DocumentKeys>>,
    config: &DedupConfig,
    task: usize,
    tasks: usize,
    dir: &Path,
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut out = AtomicFile::create(&seen_path(dir, task, tasks))?;
    let (mut documents, mut paragraphs) = (KeySet::default(), KeySet::default());
    let mut new_keys = Vec::new();
    let record = |out: &mut AtomicFile, at: Position, line: u32| -> Result<()> {
        out.write_all(&at.0.to_le_bytes())?;
        out.write_all(&at.1.to_le_bytes())?;
        out.write_all(&line.to_le_bytes())?;
        Ok(())
    };
    for doc in keys {
        let doc = doc?;
        if config.documents && owner(doc.document, tasks) == task && !documents.insert(doc.document)
        {
            record(&mut out, doc.at, WHOLE_DOCUMENT)?;
        }
        // A paragraph repeated inside one document is not a duplicate: keys count as seen only
        // once their document is done.
        new_keys.clear();
        for &(line, key) in &doc.paragraphs {
            if owner(key, tasks) != task {
                continue;
            }
            if paragraphs.contains(&key) {
                record(&mut out, doc.at, line)?;
            } else {
                new_keys.push(key);
            }
        }
        paragraphs.extend(new_keys.iter().copied());
    }
    out.finish()?;
    Ok(())
}

/// The tasks of `tasks` whose results are not saved under `dir`.
pub fn missing_tasks(dir: &Path, tasks: usize) -> Vec<usize> {
    (0..tasks)
        .filter(|&task| !seen_path(dir, task, tasks).exists())
        .collect()
}

/// How many tasks wrote seen-records under `dir`, from the `-of-NNN` in their names.
fn task_count(dir: &Path) -> Result<usize> {
    let mut counts = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if let Some(count) = name
            .strip_prefix("seen-")
            .and_then(|n| n.strip_suffix(".bin"))
            .and_then(|n| n.split_once("-of-"))
            .and_then(|(_, count)| count.parse::<usize>().ok())
        {
            counts.insert(count);
        }
    }
    match (counts.len(), counts.first()) {
        (1, Some(&count)) => Ok(count),
        _ => bail!(
            "{}: exact-dedup results are missing or mixed: rerun without --resume",
            dir.display()
        ),
    }
}

/// One task's seen-records, read in order.
struct SeenReader {
    input: BufReader<std::fs::File>,
    path: PathBuf,
}

impl Iterator for SeenReader {
    type Item = Result<(Position, u32)>;
    fn next(&mut self) -> Option<Self::Item> {
        let mut bytes = [0u8; 12];
        match self.input.read_exact(&mut bytes) {
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => None,
            Err(e) => Some(Err(
                anyhow::Error::from(e).context(format!("reading {}", self.path.display()))
            )),
            Ok(()) => {
                let word = |i: usize| {
                    u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]])
                };
                Some(Ok(((word(0), word(4)), word(8))))
            }
        }
    }
}

/// Applies the seen-records of all tasks to documents streamed in input order.
pub struct Resolver {
    config: DedupConfig,
    tasks: Vec<Peekable<SeenReader>>,
    /// When set, only these inputs (sorted) are streamed: records of others are passed over.
    only: Option<Vec<u32>>,
}

impl Resolver {
    /// Opens the seen-records of every task under `dir`.
    pub fn open(config: &DedupConfig, dir: &Path) -> Result<Resolver> {
        let tasks = task_count(dir)?;
        let tasks = (0..tasks)
            .map(|task| {
                let path = seen_path(dir, task, tasks);
                let file = std::fs::File::open(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                Ok(SeenReader {
                    input: BufReader::with_capacity(1 << 16, file),
                    path,
                }
                .peekable())
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Resolver {
            config: config.clone(),
            tasks,
            only: None,
        })
    }

    /// For a stream of some inputs only (one partition's): the others' records are skipped.
    pub fn only_inputs(mut self, inputs: impl Iterator<Item = usize>) -> Resolver {
        let mut only: Vec<u32> = inputs.map(|i| i as u32).collect();
        only.sort_unstable();
        self.only = Some(only);
        self
    }

    /// The verdict on the document at `at`; every call must come in input order.
    pub fn judge(&mut self, at: Position, mut doc: Document) -> Result<Verdict> {
        let mut seen_lines = Vec::new();
        let mut whole = false;
        let streamed = |input: u32| {
            self.only
                .as_ref()
                .is_none_or(|only| only.binary_search(&input).is_ok())
        };
        for task in &mut self.tasks {
            while let Some(record) = task.next_if(|r| r.as_ref().map_or(true, |(p, _)| *p <= at)) {
                let (position, line) = record?;
                if position < at && !streamed(position.0) {
                    continue;
                }
                if position < at {
                    bail!("exact-dedup records do not match the extracted documents: rerun without --resume");
                }
                match line {
                    WHOLE_DOCUMENT => whole = true,
                    line => seen_lines.push(line as usize),
                }
            }
        }
        if whole {
            return Ok(Verdict::Drop(Reject::of(&doc, "exact-duplicate", None)));
        }
        if seen_lines.is_empty() {
            return Ok(Verdict::Keep(doc));
        }
        seen_lines.sort_unstable();
        let (mut removed_chars, mut total_chars) = (0, 0);
        for (index, line) in lines(&doc.text).enumerate() {
            let chars = non_space_chars(line);
            total_chars += chars;
            if seen_lines.binary_search(&index).is_ok() {
                removed_chars += chars;
            }
        }
        let share = removed_chars as f64 / total_chars.max(1) as f64;
        if share > self.config.max_duplicate_share {
            let detail = format!(
                "{} paragraphs, {:.0}% of the text, seen earlier",
                seen_lines.len(),
                share * 100.0
            );
            return Ok(Verdict::Drop(Reject::of(
                &doc,
                "duplicate-paragraphs",
                Some(detail),
            )));
        }
        doc.text = doc
            .text
            .split('\n')
            .enumerate()
            .filter(|(index, _)| seen_lines.binary_search(index).is_err())
            .map(|(_, line)| line)
            .collect::<Vec<_>>()
            .join("\n");
        doc.set_meta("duplicate_paragraphs_removed", seen_lines.len());
        Ok(Verdict::Keep(doc))
    }
}

/// Writes documents' keys to `path` (used by extraction for each chunk).
pub fn write_keys(path: &Path, keys: &[DocumentKeys]) -> Result<()> {
    let mut out = AtomicFile::create(path)?;
    for doc in keys {
        doc.write_to(&mut out)?;
    }
    out.finish()?;
    Ok(())
}

/// Reads a keys file written by `write_keys`.
pub fn read_keys(path: &Path) -> impl Iterator<Item = Result<DocumentKeys>> {
    let opened = std::fs::File::open(path)
        .with_context(|| format!("cannot read {}", path.display()))
        .map(|f| BufReader::with_capacity(1 << 16, f));
    let path = path.to_path_buf();
    let mut input = Some(opened);
    std::iter::from_fn(move || match input.take()? {
        Err(e) => Some(Err(e)),
        Ok(mut reader) => match DocumentKeys::read_from(&mut reader) {
            Ok(Some(keys)) => {
                input = Some(Ok(reader));
                Some(Ok(keys))
            }
            Ok(None) => None,
            Err(e) => Some(Err(
                e.context(format!("corrupt keys file {}", path.display()))
            )),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use xxhash_rust::xxh3::Xxh3;

    /// A text's key, streamed a run at a time (`DocumentKeys::of` hashes the joined runs in one
    /// call: the two must agree).
    fn key(text: &str) -> u128 {
        let mut hasher = Xxh3::new();
        non_space_runs(text, |run| hasher.update(run));
        hasher.digest128()
    }

    fn text_of(v: Verdict) -> Result<String, String> {
        match v {
            Verdict::Keep(d) => Ok(d.text),
            Verdict::Drop(r) => Err(r.reason),
        }
    }

    /// The three steps over `docs`, with `tasks` resolve tasks.
    fn dedup(docs: &[Document], tasks: usize) -> Vec<Result<String, String>> {
        let config = DedupConfig {
            paragraph_min_chars: 10,
            ..Default::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let keys: Vec<DocumentKeys> = docs
            .iter()
            .enumerate()
            .map(|(i, d)| DocumentKeys::of(d, (i as u32, 0), &config))
            .collect();
        let path = dir.path().join("keys.bin");
        write_keys(&path, &keys).unwrap();
        assert_eq!(
            read_keys(&path).map(|k| k.unwrap()).collect::<Vec<_>>(),
            keys
        );
        for task in 0..tasks {
            resolve(read_keys(&path), &config, task, tasks, dir.path()).unwrap();
        }
        let mut resolver = Resolver::open(&config, dir.path()).unwrap();
        docs.iter()
            .enumerate()
            .map(|(i, d)| text_of(resolver.judge((i as u32, 0), d.clone()).unwrap()))
            .collect()
    }

    #[test]
    fn first_copy_wins_and_long_repeated_paragraphs_go_whatever_the_task_count() {
        let para = "糖尿病患者应定期监测血糖并记录结果以便调整治疗方案";
        let own = "第二篇独有的段落内容在这里出现并且很长很长很长很长很长很长很长很长很长";
        let a = Document::new(
            "a.txt",
            None,
            format!("{para}\n第一篇独有的段落内容在这里出现并且很长很长很长很长"),
        );
        let b = Document::new("b.txt", None, format!("{para}\n{own}"));
        let mostly_seen = Document::new("c.txt", None, format!("{para}\n{para}\n短句"));
        let docs = [a.clone(), b, a, mostly_seen];
        for tasks in [1, 3] {
            assert_eq!(
                dedup(&docs, tasks),
                vec![
                    Ok(docs[0].text.clone()),
                    Ok(own.to_string()),
                    Err("exact-duplicate".to_string()),
                    Err("duplicate-paragraphs".to_string()),
                ]
            );
        }
    }

    #[test]
    fn keys_ignore_every_kind_of_whitespace() {
        let spaced = "糖尿病 患者\u{3000}应定期\u{a0}监测\t血糖\u{2028}并记录 ";
        assert_eq!(key(spaced), key("糖尿病患者应定期监测血糖并记录"));
        assert_eq!(non_space_chars(spaced), 15);
        let doc = Document::new("a.txt", None, format!("{spaced}\n 第二行"));
        let keys = DocumentKeys::of(&doc, (0, 0), &DedupConfig::default());
        assert_eq!(keys.document, key(&doc.text));
        assert_eq!(keys.document, key("糖尿病患者应定期监测血糖并记录第二行"));
    }

    #[test]
    fn a_paragraph_repeated_inside_one_document_stays() {
        let para = "糖尿病患者应定期监测血糖并记录结果以便调整治疗方案";
        let doc = Document::new("a.txt", None, format!("{para}\n{para}"));
        assert_eq!(dedup(std::slice::from_ref(&doc), 1), vec![Ok(doc.text)]);
    }
}
