//! Extraction throughput and PDF engine fidelity on the real files in ../shared/corpus:
//! PDF pages per second for each engine, the median character-bigram F1 of pdf-extract against
//! poppler's text on the Chinese PDFs, and MB/s for Office, EPUB and HTML files.
//! Run: `cargo bench --bench extract` (one thread, files read from memory).
use medcorpus::document::{Outcome, PAGE_BREAK};
use medcorpus::extract::pdf::EngineChoice;
use medcorpus::extract::{extract_bytes, ExtractConfig};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const CORPUS: &str = "../shared/corpus";

fn main() {
    // Engine panics are caught and reported as failures; the default hook would print each.
    std::panic::set_hook(Box::new(|_| {}));
    pdf_engines();
    office_and_ebooks();
}

struct EngineRun {
    /// Per file: text when this engine read it itself (not the fallback), and its pages.
    texts: HashMap<PathBuf, String>,
    pages: u64,
    time: Duration,
    rejected: Vec<String>,
    failed: Vec<String>,
}

fn run_engine(files: &[PathBuf], choice: EngineChoice, name: &str) -> EngineRun {
    let config = ExtractConfig {
        pdf_engine: choice,
        ..ExtractConfig::default()
    };
    let mut run = EngineRun {
        texts: HashMap::new(),
        pages: 0,
        time: Duration::ZERO,
        rejected: Vec::new(),
        failed: Vec::new(),
    };
    for file in files {
        let bytes = std::fs::read(file).expect("read PDF");
        let source = file.file_name().unwrap().to_string_lossy().to_string();
        let started = Instant::now();
        let extraction = extract_bytes(&source, &bytes, &config);
        let elapsed = started.elapsed();
        match extraction.outcomes.first() {
            Some(Outcome::Kept(doc)) if doc.meta["engine"] == name => {
                run.time += elapsed;
                run.pages += doc.meta["pages"].as_u64().unwrap_or(0);
                run.texts.insert(file.clone(), doc.text.clone());
            }
            // Scanned or garbled: a verdict on the file, not an engine failure.
            Some(Outcome::Rejected(reject)) => run.rejected.push(reject.reason.clone()),
            _ => run.failed.push(source),
        }
    }
    run
}

fn pdf_engines() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new(CORPUS).join("pdf"))
        .expect("../shared/corpus/pdf")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
        .collect();
    files.sort();
    let poppler = run_engine(&files, EngineChoice::Poppler, "poppler");
    let pdf_extract = run_engine(&files, EngineChoice::PdfExtract, "pdf-extract");
    println!(
        "PDF engines on {} files of {CORPUS}/pdf (one thread):",
        files.len()
    );
    for (name, run) in [("poppler", &poppler), ("pdf-extract", &pdf_extract)] {
        println!(
            "  {name:<12} read {:>2} files, {:>4} pages in {:>6.2} s = {:>6.1} pages/s; rejected {:?}; failed (other engine used): {:?}",
            run.texts.len(),
            run.pages,
            run.time.as_secs_f64(),
            run.pages as f64 / run.time.as_secs_f64().max(1e-9),
            run.rejected,
            run.failed
        );
    }
    let mut scores = Vec::new();
    for file in files.iter().filter(|f| {
        f.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("zh_"))
    }) {
        if let (Some(reference), Some(text)) =
            (poppler.texts.get(file), pdf_extract.texts.get(file))
        {
            let f1 = bigram_f1(reference, text);
            println!(
                "  bigram F1 {f1:.3}  {}",
                file.file_name().unwrap().to_string_lossy()
            );
            scores.push(f1);
        }
    }
    scores.sort_by(|a, b| a.total_cmp(b));
    if !scores.is_empty() {
        println!(
            "  pdf-extract vs poppler on Chinese PDFs both read: median bigram F1 {:.3} over {} files",
            scores[scores.len() / 2],
            scores.len()
        );
    }
}

/// F1 of the multisets of character bigrams, whitespace and page breaks ignored.
fn bigram_f1(reference: &str, text: &str) -> f64 {
    fn bigrams(s: &str) -> HashMap<(char, char), i64> {
        let chars: Vec<char> = s
            .chars()
            .filter(|c| !c.is_whitespace() && *c != PAGE_BREAK)
            .collect();
        let mut counts = HashMap::new();
        for pair in chars.windows(2) {
            *counts.entry((pair[0], pair[1])).or_insert(0) += 1;
        }
        counts
    }
    let (a, b) = (bigrams(reference), bigrams(text));
    let total_a: i64 = a.values().sum();
    let total_b: i64 = b.values().sum();
    let overlap: i64 = a
        .iter()
        .map(|(k, &n)| n.min(b.get(k).copied().unwrap_or(0)))
        .sum();
    if total_a + total_b == 0 {
        return 1.0;
    }
    2.0 * overlap as f64 / (total_a + total_b) as f64
}

fn office_and_ebooks() {
    let config = ExtractConfig::default();
    let groups: &[(&str, &[&str])] = &[
        (
            "docx",
            &[
                "office/document__中医.docx",
                "office/hanchengwang__道德经.docx",
            ],
        ),
        ("pptx", &["office/document__前端技术分享.pptx"]),
        (
            "xlsx",
            &["office/yikao___中药方剂.xlsx", "text/exam/cmexam/val.xlsx"],
        ),
        ("xls (calamine)", &["office/TK__题库.xls"]),
        ("doc (catdoc)", &["office/document__硕士知识总结.doc"]),
        ("epub", &["ebook/epub_books__水浒传.epub"]),
        ("mobi", &["ebook/hanchengwang__孙子兵法-孙武.mobi"]),
        (
            "html",
            &[
                "text/misc/html/莆田系医院都有哪些内幕？.html",
                "text/misc/html/福建莆田私人医院的历史是怎么样的？.html",
                "text/misc/html/良醫健康網_商周良醫_index.html",
            ],
        ),
    ];
    println!("Office, EPUB and HTML (one thread, best of 5 runs):");
    for (format, names) in groups {
        let inputs: Vec<(String, Vec<u8>)> = names
            .iter()
            .map(|name| {
                let bytes = std::fs::read(Path::new(CORPUS).join(name)).expect("corpus file");
                (name.to_string(), bytes)
            })
            .collect();
        let bytes: usize = inputs.iter().map(|(_, b)| b.len()).sum();
        let mut best = Duration::MAX;
        let mut chars = 0;
        for _ in 0..5 {
            let started = Instant::now();
            chars = 0;
            for (name, data) in &inputs {
                for outcome in extract_bytes(name, data, &config).outcomes {
                    if let Outcome::Kept(doc) = outcome {
                        chars += doc.text.chars().count();
                    }
                }
            }
            best = best.min(started.elapsed());
        }
        println!(
            "  {format:<15} {:>6.2} MB in {:>7.1} ms = {:>6.1} MB/s ({chars} characters out)",
            bytes as f64 / 1e6,
            best.as_secs_f64() * 1e3,
            bytes as f64 / 1e6 / best.as_secs_f64()
        );
    }
}
