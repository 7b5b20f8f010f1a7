//! Issue 7: pretraining-ready shards. The Megatron datasets are read back by an independent
//! Python reader written from Megatron-LM's MMIDIDX layout and compared with HF
//! `BertTokenizerFast` on the BERT text lines; HF `datasets` loads the docs shards.
//! Needs Python with the packages `.ci/run` installs (python from $MEDCORPUS_PYTHON or python3).
mod common;
use common::*;
use std::process::Command;

fn python() -> Command {
    Command::new(std::env::var("MEDCORPUS_PYTHON").unwrap_or_else(|_| "python3".into()))
}

/// Real medical text of several kinds: EMR JSON lines, a GBK classic, a mixed Chinese/English
/// paper in markdown (formulas, Latin names, numbers with units).
fn add_inputs(run: &Run) {
    run.add(
        &shared("corpus/text/yidu/subtask1_training_part1.txt"),
        "yidu/part1.txt",
    );
    run.add(
        &shared("corpus/text/books/TCM-Ancient-Books/000-神农本草经.txt"),
        "books/000.txt",
    );
    run.add(
        &shared("corpus/text/chinaxiv/md/ChinaXiv-202002.00085V1.md"),
        "papers/00085.md",
    );
}

#[test]
fn megatron_ids_equal_hf_tokenizer_and_datasets_loads_docs() {
    let run = Run::new();
    add_inputs(&run);
    // Small text shards so the chinese_ref files must follow several shard boundaries; static
    // masked-LM instances on.
    assert_ok(&run.run(
        "[bert]\nvalid_fraction = 0.2\nshard_bytes = 65536\n[mlm]\nenabled = true\ndupe_factor = 1\n",
        &[],
    ));
    let check = python()
        .arg("tests/python/check_megatron.py")
        .arg(run.out())
        .arg("configs/vocab/bert-base-chinese-vocab.txt")
        .output()
        .expect("run python3 (install the packages listed in .ci/run)");
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "independent check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let summary: serde_json::Value = serde_json::from_str(stdout.trim().lines().last().unwrap())
        .unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let manifest = run.manifest();
    let publish = &manifest["publish"];
    assert_eq!(summary["docs_rows"], publish["docs"]);
    assert_eq!(
        summary["train"]["tokens"],
        publish["tokens"]["train_tokens"]
    );
    assert_eq!(
        summary["valid"]["tokens"],
        publish["tokens"]["valid_tokens"]
    );
    assert_eq!(summary["train"]["sequences"], publish["train_sentences"]);
    assert!(summary["train"]["text_shards"].as_u64().unwrap() >= 3);
    assert!(summary["train"]["ref_positions"].as_u64().unwrap() > 1000);
    assert!(
        summary["mlm_instances"].as_u64().unwrap_or(0) > 100,
        "{summary}"
    );
    let files = manifest["files"].as_array().unwrap();
    let bin = files
        .iter()
        .find(|f| f["path"] == "megatron/train_text_sentence.bin")
        .expect("bin in manifest");
    assert_eq!(bin["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(bin["counts"]["tokens"], publish["tokens"]["train_tokens"]);
    assert_eq!(
        bin["bytes"].as_u64().unwrap(),
        2 * bin["counts"]["tokens"].as_u64().unwrap(),
        "uint16 ids for a 21,128-token vocabulary"
    );
    for f in files {
        let path = f["path"].as_str().unwrap();
        if path.starts_with("bert/") || path.starts_with("docs/") || path.starts_with("wwm/") {
            assert!(f["counts"]["documents"].as_u64().unwrap() > 0, "{path}");
        }
    }
    let histogram = publish["tokens"]["sentence_length_histogram"]
        .as_array()
        .unwrap();
    let counted: u64 = histogram
        .iter()
        .map(|b| b["sentences"].as_u64().unwrap())
        .sum();
    assert_eq!(
        counted,
        publish["train_sentences"].as_u64().unwrap() + publish["valid_sentences"].as_u64().unwrap()
    );
}

fn sorted_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    lines.sort_unstable();
    lines
}

#[test]
fn seeded_shuffle_and_token_sized_shards() {
    let plain = Run::new();
    add_inputs(&plain);
    assert_ok(&plain.run("[tokenize]\nwhole_word_mask = false\n", &[]));
    let shuffled = |seed: u64| {
        let run = Run::new();
        add_inputs(&run);
        let extra = format!(
            "[bert]\nshuffle = true\nshuffle_seed = {seed}\nshard_tokens = 20000\n[tokenize]\nwhole_word_mask = false\n"
        );
        assert_ok(&run.run(&extra, &[]));
        let text = read_text_dir(&run.out().join("bert"), "train");
        (run, text)
    };
    let original = read_text_dir(&plain.out().join("bert"), "train");
    let (run_a, a) = shuffled(1);
    let (_, a_again) = shuffled(1);
    let (_, b) = shuffled(2);
    assert_eq!(a, a_again, "same seed, same bytes");
    assert_ne!(a, b, "another seed, another order");
    assert_ne!(a, original, "shuffled");
    assert_eq!(sorted_lines(&a), sorted_lines(&original), "same sentences");
    assert_eq!(sorted_lines(&b), sorted_lines(&original));

    let manifest = run_a.manifest();
    let text_shards: Vec<u64> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"].as_str().unwrap().starts_with("bert/train-"))
        .map(|f| f["counts"]["tokens"].as_u64().unwrap())
        .collect();
    assert!(text_shards.len() >= 3, "{text_shards:?}");
    for tokens in &text_shards[..text_shards.len() - 1] {
        assert!(*tokens >= 20000, "a shard closed early: {text_shards:?}");
    }
    assert!(!run_a.out().join("wwm").exists(), "whole_word_mask = false");
    assert!(!run_a.out().join("work/shuffle/bucket-00000.jsonl").exists());
}
