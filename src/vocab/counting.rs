//! Word counts of a corpus of any size, in one parallel pass with bounded memory: texts are read
//! in batches, each line is normalised and pre-tokenised exactly as the BERT tokenizer will do
//! (so the counts are what WordPiece sees), and the counts of all batches are merged. Training
//! and extension then work from the counts alone; no corpus text is kept.
use crate::segment::Segmenter;
use ahash::AHashMap;
use anyhow::{Context, Result};
use compact_str::CompactString;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::{
    NormalizedString, Normalizer, OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer,
};

/// Texts are handed to the workers in batches of about this many bytes.
const BATCH_BYTES: usize = 32 << 20;
/// WordPiece turns longer words into one [UNK]: they teach the vocabulary nothing.
pub const MAX_WORD_CHARS: usize = 100;

pub type Counts = AHashMap<CompactString, u64>;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct CountStats {
    pub documents: u64,
    pub bytes: u64,
    /// Word occurrences after BERT pre-tokenisation (a Chinese character is a word).
    pub words: u64,
    pub distinct_words: u64,
    /// Words longer than WordPiece's 100-character limit, left out.
    pub overlong_words: u64,
    /// Memory bound reached: words seen at most this often were dropped (0 = exact counts).
    pub pruned_below: u64,
    /// Multi-character jieba words counted for the whole-word option.
    pub jieba_words: u64,
}

pub struct WordCounts {
    pub words: Counts,
    /// Multi-character, all-CJK jieba words (empty unless a segmenter was given).
    pub words_jieba: Counts,
    pub stats: CountStats,
}

/// `WordCounts` as saved by one partition's count: sorted, so the file is the same every run.
#[derive(Serialize, Deserialize)]
struct SavedCounts {
    words: Vec<(String, u64)>,
    words_jieba: Vec<(String, u64)>,
    stats: CountStats,
}

fn sorted(counts: &Counts) -> Vec<(String, u64)> {
    let mut list: Vec<(String, u64)> = counts.iter().map(|(w, &n)| (w.to_string(), n)).collect();
    list.sort_unstable();
    list
}

impl WordCounts {
    pub fn save(&self, path: &Path) -> Result<()> {
        let saved = SavedCounts {
            words: sorted(&self.words),
            words_jieba: sorted(&self.words_jieba),
            stats: self.stats.clone(),
        };
        crate::run_dir::write_atomic(path, &rmp_serde::to_vec_named(&saved)?)
    }

    pub fn load(path: &Path) -> Result<WordCounts> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let saved: SavedCounts = rmp_serde::from_slice(&bytes)
            .with_context(|| format!("corrupt word counts {}", path.display()))?;
        let counts = |list: Vec<(String, u64)>| -> Counts {
            list.into_iter()
                .map(|(w, n)| (CompactString::from(w), n))
                .collect()
        };
        Ok(WordCounts {
            words: counts(saved.words),
            words_jieba: counts(saved.words_jieba),
            stats: saved.stats,
        })
    }

    /// The counts of several parts (the corpus's partitions), merged in the order given and
    /// kept within `max_distinct` words as the counting of one part is, so the result depends
    /// only on the parts and their order.
    pub fn merge(
        parts: impl Iterator<Item = Result<WordCounts>>,
        max_distinct: usize,
    ) -> Result<WordCounts> {
        let mut total = WordCounts {
            words: Counts::default(),
            words_jieba: Counts::default(),
            stats: CountStats::default(),
        };
        let (mut pruned_below, mut pruned_jieba_below) = (0, 0);
        for part in parts {
            let part = part?;
            merge_counts(&mut total.words, part.words);
            merge_counts(&mut total.words_jieba, part.words_jieba);
            pruned_below = prune(&mut total.words, max_distinct, pruned_below);
            pruned_jieba_below = prune(&mut total.words_jieba, max_distinct, pruned_jieba_below);
            let (sum, add) = (&mut total.stats, part.stats);
            sum.documents += add.documents;
            sum.bytes += add.bytes;
            sum.words += add.words;
            sum.overlong_words += add.overlong_words;
            sum.jieba_words += add.jieba_words;
            sum.pruned_below = sum.pruned_below.max(add.pruned_below);
        }
        let stats = &mut total.stats;
        stats.pruned_below = stats.pruned_below.max(pruned_below.max(pruned_jieba_below));
        stats.distinct_words = total.words.len() as u64;
        Ok(total)
    }
}

/// The normaliser and pre-tokeniser of the exported tokenizer.
pub struct Counter {
    normalizer: BertNormalizer,
    max_distinct: usize,
}

#[derive(Default)]
struct Tally {
    words: Counts,
    /// Chinese characters, counted apart (cheaper than a string key); each is a word.
    chinese: AHashMap<char, u64>,
    /// The text between Chinese characters, counted raw and normalised once per batch.
    segments: Counts,
    jieba: Counts,
    occurrences: u64,
    overlong: u64,
    jieba_occurrences: u64,
}

impl Tally {
    /// Merges the smaller tally into the larger one.
    fn merge(self, other: Tally) -> Tally {
        let (mut big, small) = if self.words.len() >= other.words.len() {
            (self, other)
        } else {
            (other, self)
        };
        merge_counts(&mut big.words, small.words);
        for (c, n) in small.chinese {
            *big.chinese.entry(c).or_default() += n;
        }
        merge_counts(&mut big.segments, small.segments);
        merge_counts(&mut big.jieba, small.jieba);
        big.occurrences += small.occurrences;
        big.overlong += small.overlong;
        big.jieba_occurrences += small.jieba_occurrences;
        big
    }
}

fn merge_counts(into: &mut Counts, from: Counts) {
    for (word, n) in from {
        *into.entry(word).or_default() += n;
    }
}

/// Keeps at most half of `max` words by dropping the rarest; returns the count at or below
/// which words were dropped.
fn prune(counts: &mut Counts, max: usize, mut below: u64) -> u64 {
    if counts.len() <= max {
        return below;
    }
    below = below.max(1);
    loop {
        counts.retain(|_, n| *n > below);
        if counts.len() <= max / 2 {
            return below;
        }
        below *= 2;
    }
}

impl Counter {
    pub fn new(lowercase: bool, max_distinct: usize) -> Counter {
        Counter {
            normalizer: BertNormalizer::new(true, true, None, lowercase),
            max_distinct,
        }
    }

    /// The words BERT's normaliser and pre-tokeniser make of one line.
    pub fn words(&self, line: &str, mut each: impl FnMut(&str)) -> Result<()> {
        let mut normalized = NormalizedString::from(line);
        self.normalizer
            .normalize(&mut normalized)
            .map_err(|e| anyhow::anyhow!("normaliser: {e}"))?;
        let mut pre = PreTokenizedString::from(normalized);
        BertPreTokenizer
            .pre_tokenize(&mut pre)
            .map_err(|e| anyhow::anyhow!("pre-tokeniser: {e}"))?;
        for (word, _, _) in pre.get_splits(OffsetReferential::Original, OffsetType::Byte) {
            each(word);
        }
        Ok(())
    }

    fn count_line(&self, tally: &mut Tally, line: &str, segmenter: Option<&Segmenter>) {
        // Most of a Chinese text is unified ideographs, which the normaliser leaves unchanged
        // and isolates: each is a word by itself, so only the text between them needs the
        // (much slower) normaliser, and that text repeats (，。、 numbers, units), so each
        // distinct piece is normalised once. Same words as normalising the whole line.
        let mut rest = 0;
        for (at, c) in line.char_indices() {
            if is_plain_chinese(c) {
                add_segment(tally, &line[rest..at]);
                tally.occurrences += 1;
                *tally.chinese.entry(c).or_default() += 1;
                rest = at + c.len_utf8();
            }
        }
        add_segment(tally, &line[rest..]);
        if let Some(segmenter) = segmenter {
            for word in segmenter.cut(line) {
                if crate::vocab::words::is_whole_word_candidate(word) {
                    tally.jieba_occurrences += 1;
                    *tally.jieba.entry(CompactString::from(word)).or_default() += 1;
                }
            }
        }
    }

    /// Adds the words of `text`, seen `n` times.
    fn count_words(&self, tally: &mut Tally, text: &str, n: u64) {
        // The normaliser works on any UTF-8: an error cannot come from the text. Skip if it does.
        let _ = self.words(text, |word| {
            if word.chars().count() > MAX_WORD_CHARS {
                tally.overlong += n;
            } else {
                tally.occurrences += n;
                *tally.words.entry(CompactString::from(word)).or_default() += n;
            }
        });
    }

    /// Turns a batch's raw segments into words.
    fn expand_segments(&self, tally: &mut Tally) {
        let segments = std::mem::take(&mut tally.segments);
        let words = segments
            .par_iter()
            .fold(Tally::default, |mut words, (segment, n)| {
                self.count_words(&mut words, segment, *n);
                words
            })
            .reduce(Tally::default, Tally::merge);
        *tally = std::mem::take(tally).merge(words);
    }

    /// Counts the words of `texts` on `pool`'s threads while this thread reads the next batch.
    pub fn count(
        &self,
        texts: impl Iterator<Item = Result<String>>,
        segmenter: Option<&Segmenter>,
        pool: &rayon::ThreadPool,
    ) -> Result<WordCounts> {
        let (send, receive) = std::sync::mpsc::sync_channel::<Vec<String>>(1);
        std::thread::scope(|scope| {
            let worker = scope.spawn(move || {
                let mut total = Tally::default();
                let mut pruned_below = 0;
                let mut pruned_jieba_below = 0;
                for batch in receive {
                    let tally = pool.install(|| {
                        let mut tally = batch
                            .par_iter()
                            .flat_map_iter(|text| text.split('\n'))
                            .fold(Tally::default, |mut tally, line| {
                                self.count_line(&mut tally, line, segmenter);
                                tally
                            })
                            .reduce(Tally::default, Tally::merge);
                        self.expand_segments(&mut tally);
                        tally
                    });
                    total = total.merge(tally);
                    pruned_below = prune(&mut total.words, self.max_distinct, pruned_below);
                    pruned_jieba_below =
                        prune(&mut total.jieba, self.max_distinct, pruned_jieba_below);
                }
                let mut buf = [0; 4];
                for (c, n) in std::mem::take(&mut total.chinese) {
                    *total
                        .words
                        .entry(CompactString::from(&*c.encode_utf8(&mut buf)))
                        .or_default() += n;
                }
                (total, pruned_below.max(pruned_jieba_below))
            });
            let mut stats = CountStats::default();
            let mut batch = Vec::new();
            let mut batch_bytes = 0;
            let mut read_error = None;
            for text in texts {
                let text = match text {
                    Ok(text) => text,
                    Err(e) => {
                        read_error = Some(e);
                        break;
                    }
                };
                stats.documents += 1;
                stats.bytes += text.len() as u64;
                batch_bytes += text.len();
                batch.push(text);
                if batch_bytes >= BATCH_BYTES {
                    if send.send(std::mem::take(&mut batch)).is_err() {
                        break;
                    }
                    batch_bytes = 0;
                }
            }
            if !batch.is_empty() {
                let _ = send.send(batch);
            }
            drop(send);
            let (total, pruned_below) = worker.join().map_err(|p| {
                anyhow::anyhow!("counting failed: {}", crate::cli::panic_message(&*p))
            })?;
            if let Some(e) = read_error {
                return Err(e);
            }
            stats.words = total.occurrences;
            stats.distinct_words = total.words.len() as u64;
            stats.overlong_words = total.overlong;
            stats.pruned_below = pruned_below;
            stats.jieba_words = total.jieba_occurrences;
            Ok(WordCounts {
                words: total.words,
                words_jieba: total.jieba,
                stats,
            })
        })
    }
}

fn add_segment(tally: &mut Tally, segment: &str) {
    if !segment.is_empty() {
        *tally
            .segments
            .entry(CompactString::from(segment))
            .or_default() += 1;
    }
}

/// A Chinese character (BERT's ranges) without a canonical decomposition: the compatibility
/// ideographs (U+F900–FAFF, U+2F800–2FA1F) decompose under NFD, so they go the slow way.
fn is_plain_chinese(c: char) -> bool {
    crate::vocab::words::is_chinese_char(c)
        && !matches!(c as u32, 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

/// Occurrences of each character, from word counts.
pub fn character_counts(words: &Counts) -> AHashMap<char, u64> {
    let mut chars = AHashMap::new();
    for (word, n) in words {
        for c in word.chars() {
            *chars.entry(c).or_default() += n;
        }
    }
    chars
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path for Chinese characters gives the same words as normalising whole lines.
    #[test]
    fn counts_equal_whole_line_normalisation_on_real_text() {
        let bytes = std::fs::read("../shared/corpus/text/exam/CMB-Clin_CMB-test-qa.json").unwrap();
        let mut text = String::from_utf8(bytes).unwrap();
        text.push_str("\n中\u{301}文 ＣＴ ｍｍＨｇ 豈\u{F900}更 Ⅱ型 10㎝ Café HbA1c≤7%\u{2028}x");
        for lowercase in [true, false] {
            let counter = Counter::new(lowercase, 1 << 20);
            let mut expected = Counts::new();
            for line in text.split('\n') {
                counter
                    .words(line, |w| *expected.entry(w.into()).or_default() += 1)
                    .unwrap();
            }
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .unwrap();
            let counted = counter
                .count(std::iter::once(Ok(text.clone())), None, &pool)
                .unwrap();
            assert_eq!(counted.words, expected);
        }
    }

    /// Partitions counted apart, saved, loaded and merged give the counts of the whole.
    #[test]
    fn merged_partition_counts_equal_counting_everything() {
        let bytes = std::fs::read("../shared/corpus/text/exam/CMB-Clin_CMB-test-qa.json").unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.split('\n').collect();
        let (first, second) = lines.split_at(lines.len() / 2);
        let counter = Counter::new(true, 1 << 20);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let count = |texts: Vec<String>| counter.count(texts.into_iter().map(Ok), None, &pool);
        let whole = count(vec![first.join("\n"), second.join("\n")]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for (i, part) in [first, second].into_iter().enumerate() {
            let path = dir.path().join(format!("p{i}.counts"));
            count(vec![part.join("\n")]).unwrap().save(&path).unwrap();
            paths.push(path);
        }
        let merged = WordCounts::merge(paths.iter().map(|p| WordCounts::load(p)), 1 << 20).unwrap();
        assert_eq!(merged.words, whole.words);
        assert_eq!(merged.stats.documents, 2);
        assert_eq!(merged.stats.words, whole.stats.words);
        assert_eq!(merged.stats.distinct_words, whole.stats.distinct_words);
    }
}
