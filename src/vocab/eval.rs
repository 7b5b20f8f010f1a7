//! How well a vocabulary fits a text, beside a baseline: [UNK] rate, tokens per character,
//! character coverage, lexicon terms tokenised without [UNK], and the characters lost to [UNK].
//! Used by `medcorpus vocab eval` and by the `vocab` phase on its held-out split.
use super::UNK;
use crate::document::Document;
use crate::shard::writer::read_jsonl_zst_file;
use ahash::{AHashMap, AHashSet};
use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tokenizers::Tokenizer;

const BATCH_BYTES: usize = 8 << 20;
const TOP_UNK_CHARS: usize = 30;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Figures {
    /// Tokens without [CLS]/[SEP].
    pub tokens: u64,
    pub unk_tokens: u64,
    /// Characters other than whitespace.
    pub chars: u64,
    pub unk_rate: f64,
    pub tokens_per_char: f64,
    /// Share of characters not swallowed by an [UNK] token.
    pub char_coverage: f64,
    pub distinct_chars: u64,
    pub distinct_chars_lost: u64,
    pub lexicon_terms: u64,
    /// Share of lexicon terms tokenised without [UNK].
    pub lexicon_terms_without_unk: f64,
    /// The characters most often inside an [UNK] token, with their counts.
    pub top_unk_chars: Vec<(String, u64)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    pub lines: u64,
    pub ours: Figures,
    pub baseline: Option<Figures>,
}

/// Terms whose tokenisation is checked: the first field of each lexicon line.
pub struct Lexicon {
    terms: Vec<String>,
}

impl Lexicon {
    pub fn load(paths: &[PathBuf]) -> Result<Lexicon> {
        let mut terms = AHashSet::new();
        for path in paths {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read lexicon {}", path.display()))?;
            for line in text.lines() {
                if let Some(term) = line.split_whitespace().next() {
                    terms.insert(term.to_string());
                }
            }
        }
        let mut terms: Vec<String> = terms.into_iter().collect();
        terms.sort();
        Ok(Lexicon { terms })
    }
}

#[derive(Default)]
struct Tally {
    tokens: u64,
    unk_tokens: u64,
    chars: u64,
    lost_chars: u64,
    seen: AHashSet<char>,
    lost: AHashMap<char, u64>,
}

impl Tally {
    fn add_line(&mut self, tokenizer: &Tokenizer, unk: Option<u32>, line: &str) -> Result<()> {
        let encoding = tokenizer
            .encode(line, false)
            .map_err(|e| anyhow::anyhow!("tokenising failed: {e}"))?;
        let text_chars = line.chars().filter(|c| !c.is_whitespace());
        for c in text_chars {
            self.chars += 1;
            self.seen.insert(c);
        }
        self.tokens += encoding.get_ids().len() as u64;
        for (id, &(start, end)) in encoding.get_ids().iter().zip(encoding.get_offsets()) {
            if Some(*id) != unk {
                continue;
            }
            self.unk_tokens += 1;
            for c in line.get(start..end).unwrap_or("").chars() {
                if !c.is_whitespace() {
                    self.lost_chars += 1;
                    *self.lost.entry(c).or_default() += 1;
                }
            }
        }
        Ok(())
    }

    fn merge(mut self, other: Tally) -> Tally {
        self.tokens += other.tokens;
        self.unk_tokens += other.unk_tokens;
        self.chars += other.chars;
        self.lost_chars += other.lost_chars;
        self.seen.extend(other.seen);
        for (c, n) in other.lost {
            *self.lost.entry(c).or_default() += n;
        }
        self
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

struct Evaluator<'a> {
    tokenizer: &'a Tokenizer,
    unk: Option<u32>,
    tally: Tally,
}

impl<'a> Evaluator<'a> {
    fn new(tokenizer: &'a Tokenizer) -> Self {
        Evaluator {
            tokenizer,
            unk: tokenizer.token_to_id(UNK),
            tally: Tally::default(),
        }
    }

    fn add_batch(&mut self, lines: &[&str]) -> Result<()> {
        let tally = lines
            .par_iter()
            .try_fold(Tally::default, |mut tally, line| {
                tally.add_line(self.tokenizer, self.unk, line)?;
                Ok::<_, anyhow::Error>(tally)
            })
            .try_reduce(Tally::default, |a, b| Ok(a.merge(b)))?;
        self.tally = std::mem::take(&mut self.tally).merge(tally);
        Ok(())
    }

    fn finish(self, lexicon: &Lexicon) -> Figures {
        let t = self.tally;
        let terms_ok = lexicon
            .terms
            .par_iter()
            .filter(|term| {
                self.tokenizer
                    .encode(term.as_str(), false)
                    .is_ok_and(|e| !e.get_ids().iter().any(|id| Some(*id) == self.unk))
            })
            .count() as u64;
        let mut lost: Vec<(char, u64)> = t.lost.into_iter().collect();
        lost.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Figures {
            tokens: t.tokens,
            unk_tokens: t.unk_tokens,
            chars: t.chars,
            unk_rate: ratio(t.unk_tokens, t.tokens),
            tokens_per_char: ratio(t.tokens, t.chars),
            char_coverage: 1.0 - ratio(t.lost_chars, t.chars),
            distinct_chars: t.seen.len() as u64,
            distinct_chars_lost: lost.len() as u64,
            lexicon_terms: lexicon.terms.len() as u64,
            lexicon_terms_without_unk: ratio(terms_ok, lexicon.terms.len() as u64),
            top_unk_chars: lost
                .into_iter()
                .take(TOP_UNK_CHARS)
                .map(|(c, n)| (c.to_string(), n))
                .collect(),
        }
    }
}

/// Evaluates `ours` (and `baseline`) on every line of `texts`, in batches, on `pool`.
pub fn compare(
    ours: &Tokenizer,
    baseline: Option<&Tokenizer>,
    lexicon: &Lexicon,
    texts: impl Iterator<Item = Result<String>>,
    pool: &rayon::ThreadPool,
) -> Result<Comparison> {
    let mut mine = Evaluator::new(ours);
    let mut theirs = baseline.map(Evaluator::new);
    let mut lines = 0;
    let mut batch: Vec<String> = Vec::new();
    let mut batch_bytes = 0;
    let mut flush = |batch: &mut Vec<String>| -> Result<()> {
        let lines: Vec<&str> = batch.iter().flat_map(|t| t.split('\n')).collect();
        pool.install(|| mine.add_batch(&lines))?;
        if let Some(theirs) = theirs.as_mut() {
            pool.install(|| theirs.add_batch(&lines))?;
        }
        batch.clear();
        Ok(())
    };
    for text in texts {
        let text = text?;
        lines += text.split('\n').count() as u64;
        batch_bytes += text.len();
        batch.push(text);
        if batch_bytes >= BATCH_BYTES {
            flush(&mut batch)?;
            batch_bytes = 0;
        }
    }
    flush(&mut batch)?;
    Ok(Comparison {
        lines,
        ours: pool.install(|| mine.finish(lexicon)),
        baseline: theirs.map(|t| pool.install(|| t.finish(lexicon))),
    })
}

/// Texts of evaluation files: medcorpus document shards (`.jsonl.zst`) give their documents'
/// text; any other file is read as UTF-8 text (invalid bytes replaced).
pub fn read_texts(paths: &[PathBuf]) -> impl Iterator<Item = Result<String>> + '_ {
    paths
        .iter()
        .flat_map(|path| -> Box<dyn Iterator<Item = Result<String>>> {
            if path.to_string_lossy().ends_with(".jsonl.zst") {
                Box::new(read_jsonl_zst_file::<Document>(path.clone()).map(|d| d.map(|d| d.text)))
            } else {
                Box::new(std::iter::once(read_lossy(path)))
            }
        })
}

fn read_lossy(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// One row of the table: how a figure is shown.
type Cell = Box<dyn Fn(&Figures) -> String>;

/// The side-by-side table `medcorpus vocab eval` prints.
pub fn table(c: &Comparison, ours_name: &str, baseline_name: &str) -> String {
    let pct = |x: f64| format!("{:.4}%", x * 100.0);
    let rows: Vec<(&str, Cell)> = vec![
        ("tokens", Box::new(|f| f.tokens.to_string())),
        ("[UNK] tokens", Box::new(|f| f.unk_tokens.to_string())),
        ("[UNK] rate", Box::new(move |f| pct(f.unk_rate))),
        (
            "tokens per char",
            Box::new(|f| format!("{:.4}", f.tokens_per_char)),
        ),
        ("char coverage", Box::new(move |f| pct(f.char_coverage))),
        (
            "distinct chars lost",
            Box::new(|f| format!("{} of {}", f.distinct_chars_lost, f.distinct_chars)),
        ),
        (
            "lexicon terms w/o [UNK]",
            Box::new(move |f| {
                format!(
                    "{} of {}",
                    pct(f.lexicon_terms_without_unk),
                    f.lexicon_terms
                )
            }),
        ),
    ];
    let mut out = format!("{} lines, {} characters\n", c.lines, c.ours.chars);
    out += &format!("{:<24} {:>22} {:>22}\n", "", ours_name, baseline_name);
    for (name, cell) in &rows {
        let theirs = c.baseline.as_ref().map(cell).unwrap_or_default();
        out += &format!("{name:<24} {:>22} {theirs:>22}\n", cell(&c.ours));
    }
    let top = |f: &Figures| {
        f.top_unk_chars
            .iter()
            .take(15)
            .map(|(c, n)| format!("{c}×{n}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    out += &format!("top [UNK] chars, {ours_name}: {}\n", top(&c.ours));
    if let Some(b) = &c.baseline {
        out += &format!("top [UNK] chars, {baseline_name}: {}\n", top(b));
    }
    out
}
