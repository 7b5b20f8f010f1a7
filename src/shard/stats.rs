//! Counts for the report and manifest: tokens per split, sentence lengths, single-sentence
//! documents (Megatron's BERT dataset needs two sentences per document), and per-shard counts.
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct TokenStats {
    pub vocab_size: u64,
    pub train_tokens: u64,
    pub valid_tokens: u64,
    pub unk_tokens: u64,
    /// Sentences per length range in tokens, shortest range first.
    pub sentence_length_histogram: Vec<LengthBucket>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LengthBucket {
    /// Inclusive token range, e.g. "17-32"; the last is "513+".
    pub tokens: String,
    pub sentences: u64,
}

/// Upper bounds of the histogram's ranges; longer sentences go in the last, open range.
const LENGTH_BOUNDS: [u64; 8] = [4, 8, 16, 32, 64, 128, 256, 512];

impl TokenStats {
    pub fn new(vocab_size: usize) -> TokenStats {
        let mut lower = 1;
        let mut histogram: Vec<LengthBucket> = LENGTH_BOUNDS
            .iter()
            .map(|&upper| {
                let bucket = LengthBucket {
                    tokens: format!("{lower}-{upper}"),
                    sentences: 0,
                };
                lower = upper + 1;
                bucket
            })
            .collect();
        histogram.push(LengthBucket {
            tokens: format!("{lower}+"),
            sentences: 0,
        });
        TokenStats {
            vocab_size: vocab_size as u64,
            sentence_length_histogram: histogram,
            ..TokenStats::default()
        }
    }

    pub fn add_sentence(&mut self, tokens: u64, valid: bool) {
        if valid {
            self.valid_tokens += tokens;
        } else {
            self.train_tokens += tokens;
        }
        let bucket = LENGTH_BOUNDS
            .iter()
            .position(|&upper| tokens <= upper)
            .unwrap_or(LENGTH_BOUNDS.len());
        if let Some(b) = self.sentence_length_histogram.get_mut(bucket) {
            b.sentences += 1;
        }
    }
}

/// What one output file holds.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShardCounts {
    pub documents: u64,
    pub sentences: u64,
    /// Zero when no tokenised output is written.
    pub tokens: u64,
}

impl ShardCounts {
    pub fn add(&mut self, sentences: u64, tokens: u64) {
        self.documents += 1;
        self.sentences += sentences;
        self.tokens += tokens;
    }
}

/// Counts per shard number of one `ShardWriter`.
#[derive(Default, Clone)]
pub struct PerShard(Vec<ShardCounts>);

impl PerShard {
    pub fn add(&mut self, shard: usize, sentences: u64, tokens: u64) {
        if self.0.len() <= shard {
            self.0.resize(shard + 1, ShardCounts::default());
        }
        self.0[shard].add(sentences, tokens);
    }

    /// Pairs the counts with the shard files (in shard-number order).
    pub fn named(
        self,
        root: &std::path::Path,
        files: &[std::path::PathBuf],
    ) -> Vec<(String, ShardCounts)> {
        files
            .iter()
            .enumerate()
            .map(|(i, path)| {
                (
                    relative(root, path),
                    self.0.get(i).cloned().unwrap_or_default(),
                )
            })
            .collect()
    }
}

pub fn relative(root: &std::path::Path, path: &std::path::Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}
