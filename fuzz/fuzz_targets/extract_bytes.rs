//! Any bytes, under any of the names the corpus uses, go through sniffing and every in-process
//! extractor (text, JSON, CSV, HTML, Office XML, EPUB, archives) without panicking. The first
//! byte picks the file name, so one corpus reaches every extractor.
#![no_main]
use libfuzzer_sys::fuzz_target;
use medcorpus::extract::{extract_bytes, ExtractConfig};

const NAMES: &[&str] = &[
    "a.txt", "a.md", "a.csv", "a.tsv", "a.json", "a.jsonl", "a.html", "a.docx", "a.xlsx", "a.pptx",
    "a.epub", "a.zip", "a.7z", "a.tar", "a.gz", "a.zst", "a.bz2", "a.rar", "a.pdf", "a",
];

fuzz_target!(|data: &[u8]| {
    let Some((&first, bytes)) = data.split_first() else { return };
    let name = NAMES[first as usize % NAMES.len()];
    let config = ExtractConfig::default();
    let _ = extract_bytes(name, bytes, &config);
});
