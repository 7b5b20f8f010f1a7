//! Issue 6: a medical WordPiece vocabulary trained, extended and filled from real text, better
//! than bert-base-chinese on held-out clinical text, and loaded by HF `transformers` with the
//! same token ids medcorpus gives.
//!
//! The `transformers` checks need Python with transformers==5.24.0 (`.ci/run` installs it in
//! target/pyenv and sets MEDCORPUS_PYTHON); without it they fail, they do not skip.
mod common;
use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const BASE: &str = "configs/vocab/bert-base-chinese-vocab.txt";

fn text(rel: &str) -> PathBuf {
    shared(&format!("corpus/text/{rel}"))
}

fn run_on(inputs: &[PathBuf], vocab: &str) -> Run {
    let run = Run::new();
    let paths: Vec<String> = inputs.iter().map(|p| format!("{p:?}")).collect();
    let extra = format!("[input]\npaths = [{}]\n{vocab}", paths.join(", "));
    assert_ok(&run.run(&extra, &[]));
    run
}

/// Trained once for the tests here on books, dialogue and exam banks; yidu EMR and the Ruijin
/// guideline texts are held out.
fn trained() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        run_on(
            &[text("books"), text("dialogue"), text("exam")],
            "[vocab]\nmode = \"train\"\n",
        )
    })
}

/// The held-out clinical text as medcorpus documents (no vocabulary made).
fn held_out() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| run_on(&[text("yidu"), text("ruijin")], ""))
}

fn doc_shards(run: &Run) -> Vec<PathBuf> {
    let mut shards: Vec<PathBuf> = std::fs::read_dir(run.out().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    shards.sort();
    shards
}

fn vocab_lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.strip_suffix('\n')
        .unwrap()
        .split('\n')
        .map(String::from)
        .collect()
}

#[test]
fn trained_vocab_has_a_tenth_of_the_unk_rate_of_bert_base_chinese_on_held_out_emr() {
    let run = trained();
    let output = medcorpus()
        .args(["vocab", "eval", "--json", "--vocab"])
        .arg(run.out().join("vocab"))
        .args(["--baseline", BASE])
        .args(doc_shards(held_out()))
        .output()
        .unwrap();
    assert_ok(&output);
    let figures: Value = serde_json::from_slice(&output.stdout).unwrap();
    let (ours, base) = (&figures["ours"], &figures["baseline"]);
    let rate = |f: &Value| f["unk_rate"].as_f64().unwrap();
    let per_char = |f: &Value| f["tokens_per_char"].as_f64().unwrap();
    assert!(ours["chars"].as_u64().unwrap() > 500_000, "{figures}");
    assert!(rate(base) > 0.0, "{figures}");
    assert!(rate(ours) <= rate(base) / 10.0, "[UNK] rate: {figures}");
    assert!(
        per_char(ours) <= per_char(base),
        "tokens per char: {figures}"
    );
    let lost_by_base: Vec<&str> = base["top_unk_chars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_str().unwrap())
        .collect();
    assert!(lost_by_base.contains(&"“"), "{lost_by_base:?}");

    // The phase's own report: sizes, counts, and ours vs the base on its validation split.
    let report: Value =
        serde_json::from_slice(&std::fs::read(run.out().join("vocab/vocab-report.json")).unwrap())
            .unwrap();
    let size = report["size"].as_u64().unwrap();
    assert!((15_000..=21_128).contains(&size), "{report}");
    assert_eq!(
        vocab_lines(&run.out().join("vocab/vocab.txt")).len() as u64,
        size
    );
    assert!(report["counting"]["words"].as_u64().unwrap() > 1_000_000);
    let held = &report["held_out"];
    assert!(rate(&held["ours"]) <= rate(&held["baseline"]), "{held}");
    let manifest = run.manifest();
    let files: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    for name in [
        "vocab.txt",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
    ] {
        assert!(
            files.contains(&format!("vocab/{name}").as_str()),
            "{files:?}"
        );
    }
    assert_eq!(manifest["vocab"]["size"], size);
}

fn python() -> String {
    std::env::var("MEDCORPUS_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Token ids from HF transformers: (AutoTokenizer, BertTokenizerFast(vocab=vocab.txt)).
fn hf_ids(dir: &Path, sentences: &[String]) -> (Vec<Vec<u32>>, Vec<Vec<u32>>) {
    use std::io::Write;
    let mut child = std::process::Command::new(python())
        .arg("tests/python/hf_tokenize.py")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {} ({e}): run .ci/run, or set MEDCORPUS_PYTHON to a Python with transformers==5.24.0", python()));
    let request = json!({"dir": dir, "sentences": sentences});
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "Python transformers failed (run .ci/run, or set MEDCORPUS_PYTHON to a Python with transformers==5.24.0):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    let ids = |key: &str| serde_json::from_value(answer[key].clone()).unwrap();
    (ids("auto"), ids("vocab_txt"))
}

fn medcorpus_ids(dir: &Path, sentences: &[String]) -> Vec<Vec<u32>> {
    let tokenizer = medcorpus::vocab::export::load(dir).unwrap();
    sentences
        .iter()
        .map(|s| {
            tokenizer
                .encode(s.as_str(), true)
                .unwrap()
                .get_ids()
                .to_vec()
        })
        .collect()
}

fn golden() -> Vec<Value> {
    std::fs::read_to_string(shared(
        "lexicons/hf-reference/bert-base-chinese-golden.jsonl",
    ))
    .unwrap()
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect()
}

/// Real sentences: the golden file's, and the first held-out EMR and guideline sentences.
fn real_sentences() -> Vec<String> {
    let mut sentences: Vec<String> = golden()
        .iter()
        .map(|g| g["text"].as_str().unwrap().to_string())
        .collect();
    for doc in held_out().docs().iter().step_by(40) {
        let text = doc["text"].as_str().unwrap();
        sentences.extend(
            text.split(['。', '\n'])
                .filter(|s| s.chars().count() > 10)
                .take(3)
                .map(String::from),
        );
    }
    assert!(sentences.len() > 60, "{}", sentences.len());
    sentences
}

#[test]
fn transformers_loads_the_trained_folder_with_the_same_ids() {
    let dir = trained().out().join("vocab");
    let sentences = real_sentences();
    let ours = medcorpus_ids(&dir, &sentences);
    let (auto, from_vocab) = hf_ids(&dir, &sentences);
    for (i, sentence) in sentences.iter().enumerate() {
        assert_eq!(ours[i], auto[i], "AutoTokenizer on {sentence}");
        assert_eq!(
            ours[i], from_vocab[i],
            "BertTokenizerFast(vocab=) on {sentence}"
        );
    }
}

#[test]
fn bert_base_chinese_vocab_tokenises_as_the_hf_golden_file() {
    let tokenizer = medcorpus::vocab::export::load(Path::new(BASE)).unwrap();
    for g in golden() {
        let encoding = tokenizer.encode(g["text"].as_str().unwrap(), true).unwrap();
        let ids: Vec<u32> = serde_json::from_value(g["ids"].clone()).unwrap();
        assert_eq!(encoding.get_ids(), ids, "{}", g["text"]);
    }
}

/// A small real corpus for the extension modes: dialogue and clinical exam cases.
fn small_corpus() -> Vec<PathBuf> {
    vec![
        text("dialogue/IM_内科.txt"),
        text("exam/CMB-Clin_CMB-test-qa.json"),
    ]
}

#[test]
fn extend_keeps_every_base_id_and_appends_missing_characters_and_whole_words() {
    let run = run_on(
        &small_corpus(),
        "[vocab]\nmode = \"extend\"\nadd = 300\nwords = 100\n",
    );
    let dir = run.out().join("vocab");
    let base = vocab_lines(Path::new(BASE));
    let vocab = vocab_lines(&dir.join("vocab.txt"));
    assert_eq!(&vocab[..base.len()], &base[..], "every base id unchanged");
    let added = &vocab[base.len()..];
    assert!(added.len() > 100 && added.len() <= 400, "{}", added.len());
    for missing in ["“", "”"] {
        assert!(
            added.iter().any(|t| t == missing),
            "{missing} not added: {added:?}"
        );
    }
    let words: Vec<&String> = added
        .iter()
        .filter(|t| {
            t.chars().count() > 1 && t.chars().all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
        })
        .collect();
    assert!(words.len() >= 50, "whole words: {words:?}");

    // Whole words reach transformers through tokenizer.json (AutoTokenizer).
    let mut sentences = real_sentences();
    sentences.extend(words.iter().take(20).map(|w| format!("患者{w}，“复查”")));
    let ours = medcorpus_ids(&dir, &sentences);
    let (auto, _) = hf_ids(&dir, &sentences);
    assert_eq!(ours, auto);
    let word_id = vocab.iter().position(|t| t == words[0]).unwrap() as u32;
    assert!(ours.iter().any(|ids| ids.contains(&word_id)));
}

#[test]
fn fill_unused_keeps_the_size_and_changes_only_unused_slots() {
    let run = run_on(&small_corpus(), "[vocab]\nmode = \"fill-unused\"\n");
    let base = vocab_lines(Path::new(BASE));
    let vocab = vocab_lines(&run.out().join("vocab/vocab.txt"));
    assert_eq!(vocab.len(), base.len());
    let mut changed = 0;
    for (old, new) in base.iter().zip(&vocab) {
        if old != new {
            assert!(old.starts_with("[unused"), "{old} replaced by {new}");
            changed += 1;
        }
    }
    assert_eq!(changed, 99, "all 99 unused slots filled from a 2 MB corpus");
    assert!(
        vocab[1..100].iter().any(|t| t == "“"),
        "{:?}",
        &vocab[1..100]
    );
}
