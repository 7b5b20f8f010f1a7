//! Inputs the fuzzers (fuzz/) once crashed on, replayed through the same library calls as
//! their fuzz target; each must now pass without a panic.
use medcorpus::clean::{CleanConfig, Cleaner};
use medcorpus::document::Document;
use std::path::Path;

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(target);
    let mut found: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            (path.display().to_string(), std::fs::read(&path).unwrap())
        })
        .collect();
    found.sort();
    found
}

#[test]
fn clean_text_regressions_clean_without_panicking() {
    let cleaner = Cleaner::new(&CleanConfig::default()).unwrap();
    let cases = inputs("clean_text");
    assert!(!cases.is_empty());
    for (name, bytes) in cases {
        // The fuzz target feeds valid UTF-8 only (libFuzzer's &str).
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let doc = cleaner.clean(Document::new(&name, None, text));
        assert!(
            !doc.text.contains('\u{c}'),
            "{name}: page breaks are resolved"
        );
    }
}
