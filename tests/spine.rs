//! Issue 2: the one-command pipeline on real text formats from ../shared/corpus/text.
mod common;
use common::*;

#[test]
fn gbk_books_csv_and_bom_files_become_documents() {
    let run = Run::new();
    run.add(
        &shared("corpus/text/books/TCM-Ancient-Books/000-神农本草经.txt"),
        "books/000.txt",
    );
    run.add(
        &shared("corpus/text/books/TCM-Ancient-Books/100-桂林古本伤寒杂病论.txt"),
        "books/100.txt",
    );
    run.add(
        &shared("corpus/text/dialogue/样例_内科5000-6000.csv"),
        "dialogue/内科.csv",
    );
    run.add(
        &shared("corpus/text/exam/CMB-Clin_CMB-test-qa.json"),
        "exam/cmb.json",
    );
    assert_ok(&run.run("", &[]));
    let docs = run.docs();
    let book = docs
        .iter()
        .find(|d| d["source"] == "books/100.txt")
        .expect("GB18030 book kept");
    assert_eq!(book["meta"]["encoding"], "gb18030");
    assert!(
        book["text"].as_str().unwrap().contains("芎䓖"),
        "FE 7B decodes to 䓖 under GB18030"
    );
    let shennong = docs
        .iter()
        .find(|d| d["source"] == "books/000.txt")
        .unwrap();
    assert!(
        !shennong["text"].as_str().unwrap().contains('\r'),
        "CR and CRLF normalised"
    );
    let csv_rows = docs
        .iter()
        .filter(|d| d["source"] == "dialogue/内科.csv")
        .count();
    assert!(
        csv_rows > 7000,
        "one document per CSV record, got {csv_rows}"
    );
    let cases = docs
        .iter()
        .filter(|d| d["source"] == "exam/cmb.json")
        .count();
    assert_eq!(cases, 74, "74 clinical cases in CMB-Clin");
}

#[test]
fn invalid_gbk_bytes_are_replaced_and_counted() {
    let run = Run::new();
    run.add(
        &shared("corpus/text/misc/203-婴童类萃_invalid-gbk.txt"),
        "203.txt",
    );
    assert_ok(&run.run("", &[]));
    let docs = run.docs();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["meta"]["encoding"], "gb18030");
    assert_eq!(
        docs[0]["meta"]["replacements"], 2,
        "two byte sequences no decoder accepts"
    );
}

#[test]
fn bom_big5_and_utf16_copies_of_real_files_decode() {
    let run = Run::new();
    // A UTF-8 BOM in front of the Yidu-S4K JSON lines (the training part ships with one).
    let yidu = std::fs::read(shared(
        "corpus/text/yidu/subtask1_test_set_with_answer.json",
    ))
    .unwrap();
    run.write(
        "yidu-bom.jsonl",
        &[b"\xef\xbb\xbf".as_slice(), &yidu].concat(),
    );
    // Big5 and UTF-16 LE copies of the first 200 lines of MedQA Taiwan (traditional Chinese).
    let taiwan =
        std::fs::read_to_string(shared("corpus/text/exam/MedQA/Taiwan_dev.jsonl")).unwrap();
    let taiwan: String = taiwan.lines().take(200).map(|l| format!("{l}\n")).collect();
    let (big5, _, _) = encoding_rs::BIG5.encode(&taiwan);
    run.write("taiwan-big5.jsonl", &big5);
    let utf16: Vec<u8> = taiwan
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    run.write(
        "taiwan-utf16.jsonl",
        &[b"\xff\xfe".as_slice(), &utf16].concat(),
    );
    assert_ok(&run.run(
        "[dedup]\ndocuments = false\nparagraph_min_chars = 0\n[near_dedup]\nenabled = false\n[filter]\nmin_cjk_ratio = 0.0\n[clean]\ntraditional_to_simplified = true\n",
        &[],
    ));
    let docs = run.docs();
    let by = |src: &str| {
        docs.iter()
            .filter(|d| d["source"] == src)
            .collect::<Vec<_>>()
    };
    let yidu_docs = by("yidu-bom.jsonl");
    assert_eq!(
        yidu_docs.len(),
        379,
        "every Yidu record, the first one despite the BOM"
    );
    assert_eq!(yidu_docs[0]["meta"]["encoding"], "utf-8-bom");
    for (name, encoding) in [
        ("taiwan-big5.jsonl", "Big5"),
        ("taiwan-utf16.jsonl", "utf-16le-bom"),
    ] {
        let records = by(name);
        assert_eq!(records.len(), 200, "{name}: every record");
        assert_eq!(records[0]["meta"]["encoding"], encoding);
        // Traditional → simplified: 醫 → 医, 術 → 术.
        let text = records
            .iter()
            .map(|d| d["text"].as_str().unwrap())
            .collect::<String>();
        assert!(
            text.contains("矫正手术") && !text.contains("矯正手術"),
            "{name} converted to simplified"
        );
    }
}

#[test]
fn planted_duplicates_keep_the_first_copy_in_path_order() {
    let run = Run::new();
    let book = shared("corpus/text/books/TCM-Ancient-Books/429-内经知要.txt");
    run.add(&book, "a/内经知要.txt");
    run.add(&book, "b/copy-of-内经知要.txt");
    // Re-wrapped copy: line breaks differ, the text does not.
    let text = encoding_rs::GB18030
        .decode(&std::fs::read(&book).unwrap())
        .0
        .replace('\n', "\r\n");
    run.write("c/rewrapped.txt", text.as_bytes());
    assert_ok(&run.run("", &[]));
    let docs = run.docs();
    assert!(docs.iter().any(|d| d["source"] == "a/内经知要.txt"));
    let rejects = run.rejects();
    let dup_sources: Vec<&str> = rejects
        .iter()
        .filter(|r| r["reason"] == "exact-duplicate")
        .map(|r| r["source"].as_str().unwrap())
        .collect();
    assert_eq!(
        dup_sources,
        vec!["b/copy-of-内经知要.txt", "c/rewrapped.txt"]
    );
    assert_eq!(run.manifest()["ingest"]["rejected"]["exact-duplicate"], 2);
}

#[test]
fn every_input_ends_in_docs_rejects_or_errors() {
    let run = Run::new();
    let out = run.out();
    let pipeline = run.pipeline(&format!(
        "[input]\npaths = [{:?}]\n",
        shared("corpus/text/misc")
    ));
    assert_ok(&medcorpus().args(["run"]).arg(&pipeline).output().unwrap());
    let mut accounted: Vec<String> = Vec::new();
    for v in run
        .docs()
        .iter()
        .chain(run.rejects().iter())
        .chain(run.errors().iter())
    {
        let source = v["source"].as_str().unwrap();
        accounted.push(
            source
                .split('#')
                .next()
                .unwrap()
                .split("!/")
                .next()
                .unwrap()
                .to_string(),
        );
    }
    let mut inputs = Vec::new();
    let root = shared("corpus/text/misc");
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path)
            } else {
                inputs.push(
                    path.strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                )
            }
        }
    }
    for input in &inputs {
        assert!(
            accounted.contains(input),
            "{input} is in none of docs, rejects, errors ({out:?})"
        );
    }
    let errors = run.errors();
    let nul = errors
        .iter()
        .find(|e| {
            e["source"]
                .as_str()
                .unwrap()
                .ends_with(".baiduyun.downloading")
        })
        .unwrap();
    assert!(nul["error"].as_str().unwrap().contains("partial download"));
}

#[test]
fn output_is_identical_with_one_or_two_threads() {
    let a = Run::new();
    let b = Run::new();
    let extra = format!(
        "[input]\npaths = [{:?}, {:?}]\n",
        shared("corpus/text/ruijin"),
        shared("corpus/text/exam")
    );
    assert_ok(
        &medcorpus()
            .arg("run")
            .arg(a.pipeline(&extra))
            .args(["--threads", "1"])
            .output()
            .unwrap(),
    );
    assert_ok(
        &medcorpus()
            .arg("run")
            .arg(b.pipeline(&extra))
            .args(["--threads", "2"])
            .output()
            .unwrap(),
    );
    assert_eq!(
        a.manifest()["files"],
        b.manifest()["files"],
        "same files, sizes and sha256"
    );
    assert!(a.manifest()["files"].as_array().unwrap().len() >= 4);
}

#[test]
fn bad_pipeline_files_fail_in_one_line_naming_file_and_key() {
    let run = Run::new();
    for (extra, key) in [
        ("[filter]\nmin_chras = 3\n", "min_chras"),
        ("[bert]\nvalid_fraction = 2.0\n", "valid_fraction"),
    ] {
        let pipeline = run.pipeline(extra);
        let output = medcorpus().arg("check").arg(&pipeline).output().unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains("pipeline.toml") && stderr.contains(key),
            "{stderr}"
        );
    }
    let good = run.pipeline("");
    assert!(medcorpus()
        .arg("check")
        .arg(&good)
        .output()
        .unwrap()
        .status
        .success());
}

#[test]
fn a_finished_output_folder_is_not_overwritten_without_resume() {
    let run = Run::new();
    run.add(&shared("corpus/text/ruijin/round1_train2/0.txt"), "0.txt");
    assert_ok(&run.run("", &[]));
    let again = run.run("", &[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--resume"));
    assert_ok(&run.run("", &["--resume"]));
}

#[test]
fn extract_prints_the_text_of_one_file() {
    let output = medcorpus()
        .args(["extract", "--json"])
        .arg(shared(
            "corpus/text/books/TCM-Ancient-Books/437-黄帝内经素问.txt",
        ))
        .output()
        .unwrap();
    assert_ok(&output);
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["meta"]["encoding"], "gb18030");
    assert!(doc["text"].as_str().unwrap().contains("黄帝"));
}
