//! Near-dedup benchmark: `cargo run --release --example near_dedup_bench -- signatures` measures
//! shingle/signature throughput on ../shared text and compares char and jieba-word shingles;
//! `-- cluster N` clusters N synthetic signatures (10% planted near-copies) and prints the time
//! and peak RSS.
use anyhow::{Context, Result};
use medcorpus::dedup::cluster::{cluster_stats, UnionFind};
use medcorpus::dedup::lsh::{self, LshParams};
use medcorpus::dedup::minhash::{estimated_jaccard, mix, MinHasher, ShingleKind, Tokenizer};
use medcorpus::dedup::signatures::{Header, SignatureFile, SignatureWriter, UnitOrder};
use medcorpus::segment::Segmenter;
use std::time::Instant;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("cluster") => cluster(args.get(2).context("cluster N")?.parse()?),
        _ => signatures(),
    }
}

fn read(rel: &str) -> Result<String> {
    let bytes = std::fs::read(format!("../shared/corpus/text/{rel}"))?;
    Ok(match String::from_utf8(bytes.clone()) {
        Ok(text) => text,
        Err(_) => encoding_rs::GB18030.decode(&bytes).0.into_owned(),
    })
}

fn ocr(text: &str, every: usize) -> String {
    let mut n = 0;
    text.chars()
        .map(|c| {
            if !('\u{4E00}'..='\u{9FFF}').contains(&c) {
                return c;
            }
            n += 1;
            if n % every == 0 {
                char::from_u32(c as u32 + 1).unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

fn signatures() -> Result<()> {
    let corpus: Vec<String> = [
        "books/TCM-Ancient-Books/013-本草纲目.txt",
        "books/TCM-Ancient-Books/437-黄帝内经素问.txt",
        "chinaxiv/md/ChinaXiv-201812.00129V1.md",
        "yidu/subtask1_test_set_with_answer.json",
    ]
    .iter()
    .map(|r| read(r))
    .collect::<Result<_>>()?;
    let bytes: usize = corpus.iter().map(|t| t.len()).sum();
    let segmenter = Segmenter::new(&["configs/lexicons/THUOCL_medical.txt"])?;
    let pairs: Vec<(String, String, &str)> = vec![
        (
            read("ruijin/round1_train1/0.txt")?,
            read("ruijin/round1_train2/0.txt")?,
            "ruijin 0 train1/train2",
        ),
        (
            read("ruijin/round1_train1/9.txt")?,
            read("ruijin/round1_train2/9.txt")?,
            "ruijin 9 train1/train2",
        ),
        (
            read("ruijin/round1_train2/25.txt")?,
            ocr(&read("ruijin/round1_train2/25.txt")?, 40),
            "ruijin 25 vs OCR 1/40",
        ),
        (
            read("ruijin/round1_train2/25.txt")?,
            ocr(&read("ruijin/round1_train2/25.txt")?, 20),
            "ruijin 25 vs OCR 1/20",
        ),
        (
            read("chinaxiv/md/ChinaXiv-202207.00063V1.md")?,
            read("chinaxiv/json/ChinaXiv-202207.00063V1.json")?,
            "chinaxiv md/json",
        ),
    ];
    let distinct: Vec<String> = ["0", "1", "2", "3", "8", "9", "10", "11", "12", "13"]
        .iter()
        .map(|n| read(&format!("ruijin/round1_train2/{n}.txt")))
        .collect::<Result<_>>()?;
    println!(
        "| shingles | MB/s (1 core) | near pairs: estimated Jaccard | highest distinct pair |"
    );
    println!("|---|---|---|---|");
    for (kind, ngram) in [
        (ShingleKind::Char, 3),
        (ShingleKind::Char, 4),
        (ShingleKind::Char, 5),
        (ShingleKind::Char, 7),
        (ShingleKind::Word, 1),
        (ShingleKind::Word, 2),
        (ShingleKind::Word, 3),
    ] {
        let tokenizer = Tokenizer::new(kind, Some(&segmenter));
        let hasher = MinHasher::new(128, ngram, 7);
        let mut sig = Vec::new();
        let started = Instant::now();
        for text in &corpus {
            let tokens = tokenizer.tokens(text);
            hasher.signature(&tokens, &mut sig);
        }
        let mbps = bytes as f64 / 1e6 / started.elapsed().as_secs_f64();
        let sign = |t: &str| {
            let mut s = Vec::new();
            hasher.signature(&tokenizer.tokens(t), &mut s);
            s
        };
        let near: Vec<String> = pairs
            .iter()
            .map(|(a, b, _)| format!("{:.2}", estimated_jaccard(&sign(a), &sign(b))))
            .collect();
        let sigs: Vec<Vec<u32>> = distinct.iter().map(|t| sign(t)).collect();
        let mut worst: f64 = 0.0;
        for i in 0..sigs.len() {
            for j in i + 1..sigs.len() {
                worst = worst.max(estimated_jaccard(&sigs[i], &sigs[j]));
            }
        }
        println!(
            "| {kind:?} {ngram} | {mbps:.1} | {} | {worst:.2} |",
            near.join(" / ")
        );
    }
    println!(
        "near pairs: {}",
        pairs.iter().map(|p| p.2).collect::<Vec<_>>().join(" / ")
    );
    Ok(())
}

fn peak_rss_mb() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    usage.ru_maxrss as f64 / 1024.0
}

/// N synthetic 128-value signatures: 90% random, 10% copies of an earlier one with 10% of
/// the values changed (estimated Jaccard about 0.9).
fn cluster(n: u32) -> Result<()> {
    let dir = tempfile_dir()?;
    let num_perm = 128;
    let started = Instant::now();
    let path = dir.join("p000.sig");
    let mut writer = SignatureWriter::create(&path, num_perm)?;
    let mut state = 42u64;
    let mut next = || {
        state = mix(state);
        state
    };
    let mut recent: Vec<Vec<u32>> = Vec::new();
    for i in 0..n {
        let sig: Vec<u32> = if i % 10 == 9 && !recent.is_empty() {
            let base = &recent[(next() % recent.len() as u64) as usize];
            base.iter()
                .map(|v| if next() % 10 == 0 { next() as u32 } else { *v })
                .collect()
        } else {
            (0..num_perm).map(|_| next() as u32).collect()
        };
        if recent.len() < 1000 {
            recent.push(sig.clone());
        } else {
            let slot = (next() % 1000) as usize;
            recent[slot] = sig.clone();
        }
        let header = Header {
            order: UnitOrder {
                at: (i, 0),
                place: 0,
            },
            chars: 1000,
        };
        writer.push(header, &sig)?;
    }
    writer.finish()?;
    let signatures = [Some(SignatureFile::open(&path, num_perm)?)];
    let written = started.elapsed().as_secs_f64();
    let rss_before = peak_rss_mb();
    let started = Instant::now();
    let (bands, rows) = lsh::bands_for_threshold(0.7, num_perm, 0.8);
    let memory_mb: u64 = std::env::var("MEMORY_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512);
    let params = LshParams {
        bands,
        rows,
        verify: Some(0.7),
        short: (0, 0.9),
        memory_bytes: memory_mb << 20,
    };
    lsh::run_task(&signatures, &params, &dir, 0, 1)?;
    let mut uf = UnionFind::new(n);
    // One partition: a unit's record number is its number.
    let stats = lsh::read_results(&dir, 1, |a, b| {
        uf.union(a.1, b.1);
    })?;
    let (clusters, _) = cluster_stats(&mut uf, n);
    println!(
        "{n} signatures: written in {written:.1} s; clustered in {:.1} s ({} partitions, memory_mb {memory_mb}); \
         peak RSS {:.0} MB (before clustering {rss_before:.0} MB); {} clusters, {} clustered units, {} candidate pairs, {} rejected",
        started.elapsed().as_secs_f64(),
        stats.partitions,
        peak_rss_mb(),
        clusters.clusters,
        clusters.clustered_units,
        stats.candidate_pairs,
        stats.rejected_pairs
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("near_dedup_bench_{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
