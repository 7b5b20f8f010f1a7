//! Tokenisation throughput of the publish phase on one core, on real text from ../shared:
//! MB of UTF-8 text per second for (1) WordPiece ids alone and (2) everything publish computes
//! per document (sentence split, ids, jieba segmentation, whole-word marks).
//! Run: `cargo bench --bench tokenize` (single-threaded; the phase scales over cores with rayon).
//! Rates are per CPU-second of this thread, so a busy shared machine does not deflate them.
use medcorpus::document::Document;
use medcorpus::shard::prepare::{prepare, Encoder};
use medcorpus::shard::tokenize::TokenizeConfig;
use medcorpus::shard::{sentences, BertConfig};
use std::path::Path;

fn tokenizers_crate_reference() -> anyhow::Result<tokenizers::Tokenizer> {
    use tokenizers::models::wordpiece::WordPiece;
    let vocab = std::fs::read_to_string("configs/vocab/bert-base-chinese-vocab.txt")?;
    let mut map = ahash::AHashMap::new();
    for (id, token) in vocab.split('\n').enumerate() {
        map.insert(token.to_string(), id as u32);
    }
    let model = WordPiece::builder()
        .vocab(map)
        .unk_token("[UNK]".into())
        .continuing_subword_prefix("##".into())
        .build()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut tokenizer = tokenizers::Tokenizer::new(model);
    tokenizer.with_normalizer(Some(
        tokenizers::normalizers::bert::BertNormalizer::default(),
    ));
    tokenizer.with_pre_tokenizer(Some(tokenizers::pre_tokenizers::bert::BertPreTokenizer));
    Ok(tokenizer)
}

/// CPU seconds this thread has used.
fn thread_cpu_seconds() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

const INPUTS: &[&str] = &[
    "../shared/corpus/text/yidu/subtask1_training_part1.txt",
    "../shared/corpus/text/books/TCM-Ancient-Books/429-内经知要.txt",
    "../shared/corpus/text/books/TCM-Ancient-Books/437-黄帝内经素问.txt",
    "../shared/corpus/text/chinaxiv/md/ChinaXiv-201812.00129V1.md",
    "../shared/corpus/text/chinaxiv/md/ChinaXiv-202002.00085V1.md",
];

fn main() -> anyhow::Result<()> {
    let docs: Vec<Document> = INPUTS
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p)?;
            // The books are GB18030; the rest UTF-8.
            let text = match String::from_utf8(bytes.clone()) {
                Ok(t) => t,
                Err(_) => encoding_rs::GB18030.decode(&bytes).0.into_owned(),
            };
            Ok(Document::new(p, None, text))
        })
        .collect::<anyhow::Result<_>>()?;
    let mb = docs.iter().map(|d| d.text.len()).sum::<usize>() as f64 / 1e6;
    let bert = BertConfig::default();
    let encoder = Encoder::from_config(&TokenizeConfig::default(), Path::new("."))?
        .ok_or_else(|| anyhow::anyhow!("no vocabulary"))?;
    let lines: Vec<&str> = docs
        .iter()
        .flat_map(|d| sentences::split(&d.text, bert.max_sentence_chars))
        .collect();
    println!(
        "input: {} files, {mb:.2} MB of UTF-8 text, {} sentences",
        docs.len(),
        lines.len()
    );

    let rounds = 3;
    let started = thread_cpu_seconds();
    let mut tokens = 0;
    for _ in 0..rounds {
        for line in &lines {
            tokens += encoder.tokenizer.encode(line).ids.len();
        }
    }
    let seconds = thread_cpu_seconds() - started;
    println!(
        "wordpiece ids only:            {:6.1} MB/s per core  ({:.1} M tokens/s)",
        mb * rounds as f64 / seconds,
        tokens as f64 / seconds / 1e6
    );

    // The same tokenisation by the `tokenizers` crate (the engine of HF BertTokenizerFast), for
    // comparison: the fast path above must give the same ids (tests in shard/tokenize.rs).
    let reference = tokenizers_crate_reference()?;
    let started = thread_cpu_seconds();
    for line in &lines {
        let encoding = reference
            .encode(*line, false)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        std::hint::black_box(encoding.get_ids());
    }
    let seconds = thread_cpu_seconds() - started;
    println!(
        "tokenizers crate, for comparison: {:6.1} MB/s per core",
        mb / seconds
    );

    let without_wwm = TokenizeConfig {
        whole_word_mask: false,
        ..TokenizeConfig::default()
    };
    let ids_only = Encoder::from_config(&without_wwm, Path::new("."))?
        .ok_or_else(|| anyhow::anyhow!("no vocabulary"))?;
    for (label, encoder) in [
        ("sentence split + ids:         ", &ids_only),
        ("split + ids + jieba + wwm:    ", &encoder),
    ] {
        let started = thread_cpu_seconds();
        for _ in 0..rounds {
            for doc in &docs {
                prepare(doc.clone(), &bert, Some(encoder))?;
            }
        }
        let seconds = thread_cpu_seconds() - started;
        println!("{label} {:6.1} MB/s per core", mb * rounds as f64 / seconds);
    }
    Ok(())
}
