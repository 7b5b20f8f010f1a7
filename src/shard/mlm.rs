//! Static masked-LM instances, like Google BERT's create_pretraining_data.py: documents are cut
//! into `[CLS] A [SEP] B [SEP]` pairs of up to `max_seq_length` tokens (shorter with
//! `short_seq_prob`), B is the true continuation or, for next-sentence prediction, half the time
//! a random span of another document (sentence-order prediction instead swaps A and B), and
//! `masked_lm_prob` of the tokens, whole words at a time (jieba words when whole-word masking is
//! on), are replaced 80% by [MASK], 10% by a random token and 10% kept.
//! Randomness comes from a ChaCha8 generator seeded by (seed, document id, duplicate round), so
//! the output does not depend on threads; the random document is drawn from the same batch of
//! `tokenize.batch_documents` documents, which bounds memory (Google's script loads everything).
use super::prepare::{Encoder, PreparedDocument};
use crate::config::check_range;
use anyhow::{bail, Result};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MlmConfig {
    /// Write `mlm/{train,valid}-*.jsonl.zst`.
    pub enabled: bool,
    pub max_seq_length: usize,
    pub short_seq_prob: f64,
    pub masked_lm_prob: f64,
    pub max_predictions_per_seq: usize,
    /// Passes over the data, each with different masks.
    pub dupe_factor: usize,
    /// "nsp" (next-sentence prediction, BERT) or "sop" (sentence-order prediction, ALBERT).
    pub pair_task: String,
    pub seed: u64,
}

impl Default for MlmConfig {
    /// Google's defaults.
    fn default() -> Self {
        MlmConfig {
            enabled: false,
            max_seq_length: 128,
            short_seq_prob: 0.1,
            masked_lm_prob: 0.15,
            max_predictions_per_seq: 20,
            dupe_factor: 10,
            pair_task: "nsp".into(),
            seed: 12345,
        }
    }
}

impl MlmConfig {
    pub fn validate(&self) -> Result<()> {
        check_range("mlm.max_seq_length", self.max_seq_length, 8, 100_000)?;
        check_range("mlm.short_seq_prob", self.short_seq_prob, 0.0, 1.0)?;
        check_range("mlm.masked_lm_prob", self.masked_lm_prob, 0.0, 1.0)?;
        check_range(
            "mlm.max_predictions_per_seq",
            self.max_predictions_per_seq,
            1,
            100_000,
        )?;
        check_range("mlm.dupe_factor", self.dupe_factor, 1, 1000)?;
        if !matches!(self.pair_task.as_str(), "nsp" | "sop") {
            bail!(
                "key `mlm.pair_task`: \"nsp\" or \"sop\", not {:?}",
                self.pair_task
            );
        }
        Ok(())
    }
}

/// One line of `mlm/*.jsonl.zst` (Google's feature names, unpadded).
#[derive(Debug, Serialize, Deserialize)]
pub struct Instance {
    /// `[CLS] A [SEP] B [SEP]` after masking.
    pub input_ids: Vec<u32>,
    /// 0 for [CLS], A and its [SEP]; 1 for B and the last [SEP].
    pub segment_ids: Vec<u8>,
    /// Ascending positions of the masked tokens, and their original ids.
    pub masked_lm_positions: Vec<u32>,
    pub masked_lm_ids: Vec<u32>,
    /// 1 when B is a random document (nsp) or A and B are swapped (sop).
    pub next_sentence_labels: u8,
}

/// Ids of the special tokens instances need.
pub struct Specials {
    cls: u32,
    sep: u32,
    mask: u32,
    vocab_size: u32,
}

impl Specials {
    pub fn of(encoder: &Encoder) -> Result<Specials> {
        let id = |t: &str| {
            encoder
                .tokenizer
                .token_id(t)
                .ok_or_else(|| anyhow::anyhow!("`mlm.enabled` needs {t} in the vocabulary"))
        };
        Ok(Specials {
            cls: id("[CLS]")?,
            sep: id("[SEP]")?,
            mask: id("[MASK]")?,
            vocab_size: encoder.tokenizer.vocab_size() as u32,
        })
    }
}

/// A sentence as (ids, word-start flags).
type Segment<'a> = (&'a [u32], &'a [u32]);

fn segments(doc: &PreparedDocument) -> Vec<Segment<'_>> {
    doc.sentences
        .iter()
        .map(|s| (s.ids.as_slice(), s.word_starts.as_slice()))
        .collect()
}

/// Instances of document `index` of the batch, every duplicate round.
pub fn instances(
    batch: &[PreparedDocument],
    index: usize,
    config: &MlmConfig,
    specials: &Specials,
) -> Vec<Instance> {
    let doc = &batch[index];
    let mut out = Vec::new();
    for round in 0..config.dupe_factor as u64 {
        let seed = xxhash_rust::xxh3::xxh3_64_with_seed(doc.doc.id.as_bytes(), config.seed)
            .wrapping_add(round);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        from_document(batch, index, config, specials, &mut rng, &mut out);
    }
    out
}

fn from_document(
    batch: &[PreparedDocument],
    index: usize,
    config: &MlmConfig,
    specials: &Specials,
    rng: &mut ChaCha8Rng,
    out: &mut Vec<Instance>,
) {
    let document = segments(&batch[index]);
    let max_tokens = config.max_seq_length.saturating_sub(3).max(2);
    let target = if rng.random_bool(config.short_seq_prob) {
        rng.random_range(2..=max_tokens)
    } else {
        max_tokens
    };
    let mut chunk: Vec<Segment> = Vec::new();
    let mut length = 0;
    let mut i = 0;
    while i < document.len() {
        chunk.push(document[i]);
        length += document[i].0.len();
        if i == document.len() - 1 || length >= target {
            let a_end = if chunk.len() >= 2 {
                rng.random_range(1..chunk.len())
            } else {
                1
            };
            let mut a = concat(&chunk[..a_end]);
            let mut b = (Vec::new(), Vec::new());
            let mut label = 0;
            let random_next =
                chunk.len() == 1 || (config.pair_task == "nsp" && rng.random_bool(0.5));
            let other = if random_next {
                random_other(batch, index, rng)
            } else {
                None
            };
            if let Some(other) = other {
                label = 1;
                let other = segments(&batch[other]);
                let start = rng.random_range(0..other.len());
                for segment in &other[start..] {
                    extend(&mut b, segment);
                    if b.0.len() >= target.saturating_sub(a.0.len()) {
                        break;
                    }
                }
                // The unused segments of this chunk start the next one.
                i -= chunk.len() - a_end;
            } else if chunk.len() >= 2 {
                b = concat(&chunk[a_end..]);
                if config.pair_task == "sop" && rng.random_bool(0.5) {
                    std::mem::swap(&mut a, &mut b);
                    label = 1;
                }
            }
            truncate_pair(&mut a, &mut b, max_tokens, rng);
            if !a.0.is_empty() && !b.0.is_empty() {
                out.push(masked(a, b, label, config, specials, rng));
            }
            chunk.clear();
            length = 0;
        }
        i += 1;
    }
}

type Span = (Vec<u32>, Vec<u32>);

fn concat(chunk: &[Segment]) -> Span {
    let mut span = (Vec::new(), Vec::new());
    for segment in chunk {
        extend(&mut span, segment);
    }
    span
}

/// Appends a segment; without word starts (whole-word masking off) every token starts a word.
fn extend(span: &mut Span, (ids, starts): &Segment) {
    span.0.extend_from_slice(ids);
    if starts.len() == ids.len() {
        span.1.extend_from_slice(starts);
    } else {
        span.1.extend(std::iter::repeat_n(1, ids.len()));
    }
}

/// Another document of the batch in the same split (valid text never leaks into train), with
/// at least one sentence; None if there is none.
fn random_other(batch: &[PreparedDocument], index: usize, rng: &mut ChaCha8Rng) -> Option<usize> {
    let valid = batch[index].valid;
    let others: Vec<usize> = (0..batch.len())
        .filter(|&j| j != index && batch[j].valid == valid && !batch[j].sentences.is_empty())
        .collect();
    if others.is_empty() {
        return None;
    }
    Some(others[rng.random_range(0..others.len())])
}

/// Drops tokens from the front or back (at random) of the longer side until both fit.
fn truncate_pair(a: &mut Span, b: &mut Span, max_tokens: usize, rng: &mut ChaCha8Rng) {
    while a.0.len() + b.0.len() > max_tokens {
        let longer = if a.0.len() > b.0.len() {
            &mut *a
        } else {
            &mut *b
        };
        if rng.random_bool(0.5) {
            longer.0.remove(0);
            longer.1.remove(0);
        } else {
            longer.0.pop();
            longer.1.pop();
        }
    }
}

fn masked(
    a: Span,
    b: Span,
    label: u8,
    config: &MlmConfig,
    specials: &Specials,
    rng: &mut ChaCha8Rng,
) -> Instance {
    let mut ids = vec![specials.cls];
    let mut starts = vec![1];
    ids.extend(&a.0);
    starts.extend(&a.1);
    ids.push(specials.sep);
    starts.push(1);
    let b_start = ids.len();
    ids.extend(&b.0);
    starts.extend(&b.1);
    ids.push(specials.sep);
    starts.push(1);
    let segment_ids = (0..ids.len()).map(|i| u8::from(i >= b_start)).collect();

    // Candidate words: a word-start token and the tokens that continue it (without word
    // starts, every token is a word).
    let mut words: Vec<Vec<usize>> = Vec::new();
    for (i, (&id, &start)) in ids.iter().zip(&starts).enumerate().skip(1) {
        if id == specials.sep {
            continue;
        }
        match words.last_mut() {
            Some(word) if start == 0 && word.last() == Some(&(i - 1)) => word.push(i),
            _ => words.push(vec![i]),
        }
    }
    words.shuffle(rng);
    let wanted = ((ids.len() as f64 * config.masked_lm_prob).round() as usize)
        .max(1)
        .min(config.max_predictions_per_seq);
    let mut positions = Vec::new();
    for word in words {
        if positions.len() >= wanted {
            break;
        }
        if positions.len() + word.len() > wanted {
            continue;
        }
        positions.extend(word);
    }
    positions.sort_unstable();
    let original = ids.clone();
    for &p in &positions {
        ids[p] = if rng.random_bool(0.8) {
            specials.mask
        } else if rng.random_bool(0.5) {
            original[p]
        } else {
            rng.random_range(0..specials.vocab_size)
        };
    }
    Instance {
        masked_lm_ids: positions.iter().map(|&p| original[p]).collect(),
        masked_lm_positions: positions.iter().map(|&p| p as u32).collect(),
        input_ids: ids,
        segment_ids,
        next_sentence_labels: label,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Document;
    use crate::shard::prepare::prepare;
    use crate::shard::tokenize::TokenizeConfig;
    use crate::shard::BertConfig;

    #[test]
    fn deterministic_pairs_within_the_length_and_mask_budget() {
        let encoder = Encoder::from_config(&TokenizeConfig::default(), std::path::Path::new("."))
            .unwrap()
            .unwrap();
        let specials = Specials::of(&encoder).unwrap();
        let text = "患者口服二甲双胍后出现低血糖。随访三个月，血糖控制良好。糖化血红蛋白7.2%。\
                    建议继续当前治疗方案。定期复查肝肾功能。";
        let batch: Vec<PreparedDocument> = (0..4)
            .map(|i| {
                let doc = Document::new(&format!("d{i}.txt"), None, text.repeat(3));
                prepare(doc, &BertConfig::default(), Some(&encoder)).unwrap()
            })
            .collect();
        let config = MlmConfig {
            max_seq_length: 32,
            dupe_factor: 2,
            ..MlmConfig::default()
        };
        let first = instances(&batch, 0, &config, &specials);
        let again = instances(&batch, 0, &config, &specials);
        assert!(first.len() > 2);
        for (x, y) in first.iter().zip(&again) {
            assert_eq!(x.input_ids, y.input_ids, "same seed, same instance");
        }
        for instance in &first {
            assert!(instance.input_ids.len() <= 32);
            assert_eq!(instance.input_ids[0], specials.cls);
            let wanted = ((instance.input_ids.len() as f64 * 0.15).round() as usize).max(1);
            assert!(instance.masked_lm_positions.len() <= wanted);
            assert!(!instance.masked_lm_positions.is_empty());
        }
    }
}
