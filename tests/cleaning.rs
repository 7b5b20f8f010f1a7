//! Cleaning and quality filters on real text: the Ruijin guideline text layers, CNKI and TeX
//! PDFs (through `pdftotext -raw`, whose form feeds reach the cleaner as page breaks), a PDF
//! without ToUnicode maps, a mis-decoded GBK book, the exam banks and dialogue.
mod common;
use common::*;
use regex::Regex;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

const MEDICAL: &str = "[filter]\npreset = \"configs/filters/medical.toml\"\n";

/// `pdftotext -raw -enc UTF-8 pdf` into the run's input folder, as the PDF extractor will.
fn add_pdf_text(run: &Run, pdf: &str, name: &str) {
    let to = run.input().join(name);
    std::fs::create_dir_all(run.input()).unwrap();
    let status = Command::new("pdftotext")
        .args(["-raw", "-enc", "UTF-8"])
        .arg(shared(pdf))
        .arg(&to)
        .status()
        .expect("pdftotext (poppler-utils) is needed");
    assert!(status.success());
}

fn text_of(doc: &Value) -> &str {
    doc["text"].as_str().unwrap()
}

fn by_source(docs: &[Value]) -> HashMap<String, &Value> {
    docs.iter()
        .map(|d| (d["source"].as_str().unwrap().to_string(), d))
        .collect()
}

#[test]
fn ruijin_text_layers_become_paragraphs_without_spaces_between_chinese() {
    let run = Run::new();
    let files = ["127_1", "127_10", "128_20_1", "128_20_2"];
    for f in files {
        run.add(
            &shared(&format!("corpus/text/ruijin/round1_test_a/{f}.txt")),
            &format!("{f}.txt"),
        );
    }
    for f in ["0", "16", "25", "123_3_1"] {
        run.add(
            &shared(&format!("corpus/text/ruijin/round1_train2/{f}.txt")),
            &format!("{f}.txt"),
        );
    }
    assert_ok(&run.run("", &[]));
    let docs = run.docs();
    assert_eq!(docs.len(), 8, "every guideline is kept");
    let cjk_space_cjk = Regex::new(r"\p{Han}[ \u{3000}]+\p{Han}").unwrap();
    for doc in &docs {
        let text = text_of(doc);
        assert!(
            !cjk_space_cjk.is_match(text),
            "{}: {:?}",
            doc["source"],
            cjk_space_cjk.find(text).map(|m| m.as_str())
        );
        // The files are wrapped every 20-46 characters (mean line 17-30 with headings and
        // table rows); joined, paragraphs run to hundreds.
        let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        let chars: usize = lines.iter().map(|l| l.chars().count()).sum();
        let mean = chars / lines.len();
        assert!(mean >= 45, "{}: mean line {mean} chars", doc["source"]);
    }
    // A sentence wrapped mid-word in 0.txt reads whole.
    let docs = by_source(&docs);
    assert!(text_of(docs["0.txt"]).contains("已经成为危害公众健康的主要疾病之一"));
    // Letter-spaced title in 127_1.txt: `我国 是 糖 尿 病 大 国`.
    assert!(text_of(docs["127_1.txt"]).contains("我国是糖尿病大国"));
}

#[test]
fn cnki_running_headers_and_page_numbers_are_gone() {
    let run = Run::new();
    add_pdf_text(
        &run,
        "corpus/pdf/zh_consensus_cancer_pain_mgmt_2025_cjpm_cnki.pdf",
        "cnki.txt",
    );
    assert_ok(&run.run("", &[]));
    let docs = run.docs();
    assert_eq!(docs.len(), 1);
    let doc = &docs[0];
    let text = text_of(doc);
    // Every page carries `· 643 ·` and the journal banner, alone or on one line.
    assert!(!text.contains("Chinese Journal of Pain Medicine"), "{text}");
    let page_number = Regex::new(r"(?m)^· ?\d+ ?·").unwrap();
    assert!(!page_number.is_match(text));
    assert_eq!(doc["meta"]["pages"], 15);
    assert_eq!(doc["meta"]["empty_pages"], serde_json::json!([]));
    // The reference mark pdftotext puts on its own line is joined back: `效果 [1]。`
    assert!(text.contains("严重影响病人的生活质量和抗肿瘤治疗效果 [1]。"));
    // De-hyphenated across the wrap: `Organiza-` + `tion`.
    assert!(text.contains("(World Health Organization, WHO)"));
    assert!(!text.contains('\x0c'), "page breaks end with cleaning");
}

#[test]
fn kangxi_radicals_read_as_ordinary_ideographs() {
    let run = Run::new();
    add_pdf_text(
        &run,
        "corpus/pdf/nonmed_zh_linear_algebra_xdvipdfmx_kangxi.pdf",
        "kangxi.txt",
    );
    assert_ok(&run.run("", &[]));
    let docs = run.docs();
    assert_eq!(docs.len(), 1);
    let text = text_of(&docs[0]);
    assert!(
        !text.chars().any(|c| ('\u{2F00}'..='\u{2FDF}').contains(&c)),
        "no Kangxi radicals left"
    );
    assert!(text.contains("2019 年 10 月 1 日"));
    assert!(text.contains("平面中的三角形"));
}

#[test]
fn garbage_text_is_rejected_as_garbled() {
    let run = Run::new();
    // Fonts without ToUnicode maps: Extension-A, Cherokee, Syriac… soup.
    add_pdf_text(
        &run,
        "corpus/pdf/zh_consensus_opioid_ae_tcm_2019_no_tounicode.pdf",
        "no_tounicode.txt",
    );
    // Invalid GBK the decoder reads as windows-1252: `ÆªÃû£º`.
    run.add(
        &shared("corpus/text/misc/203-婴童类萃_invalid-gbk.txt"),
        "invalid-gbk.txt",
    );
    // Mojibake and private-use glyphs around a little real text.
    let mut junk = "锟斤拷".repeat(300) + &"\u{E010}".repeat(200);
    junk += "糖尿病患者应当定期监测血糖。";
    run.write("mojibake.txt", junk.as_bytes());
    // The same PDF with its Unicode maps is fine.
    add_pdf_text(
        &run,
        "corpus/pdf/zh_consensus_opioid_ae_tcm_2019_cjco_adultpdf.pdf",
        "adultpdf.txt",
    );
    assert_ok(&run.run(MEDICAL, &[]));
    let reasons: HashMap<String, String> = run
        .rejects()
        .iter()
        .map(|r| {
            (
                r["source"].as_str().unwrap().to_string(),
                r["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for f in ["no_tounicode.txt", "mojibake.txt"] {
        assert_eq!(reasons.get(f).map(String::as_str), Some("garbled"), "{f}");
    }
    // Two bad byte sequences in a GBK book are replaced, not a reason to drop the book.
    let docs = run.docs();
    let sources: Vec<&str> = docs.iter().map(|d| d["source"].as_str().unwrap()).collect();
    assert_eq!(sources, vec!["adultpdf.txt", "invalid-gbk.txt"]);
    assert_eq!(run.manifest()["ingest"]["rejected"]["garbled"], 2);
}

#[test]
fn exam_banks_and_dialogue_survive_the_medical_filters_annotations_do_not() {
    let run = Run::new();
    let keep = [
        "exam/CNMLEQA-3k.json",
        "exam/CMB-Clin_CMB-test-qa.json",
        "exam/MedQA/Mainland_dev.jsonl",
        "exam/PromptCBLUE_toy/dev.json",
        "dialogue/样例_内科5000-6000.csv",
    ];
    for f in keep {
        run.add(&shared(&format!("corpus/text/{f}")), f);
    }
    for f in ["0", "1", "12", "123_10"] {
        run.add(
            &shared(&format!("corpus/text/ruijin/round1_train2/{f}.ann")),
            &format!("ann/{f}.ann"),
        );
    }
    for f in 0..10 {
        run.add(
            &shared(&format!(
                "corpus/text/misc/tcm_drug_instructions_wanchuang/{f}.ann"
            )),
            &format!("ann/w{f}.ann"),
        );
    }
    assert_ok(&run.run(MEDICAL, &[]));
    let mut filtered: HashMap<String, usize> = HashMap::new();
    for r in run.rejects() {
        let reason = r["reason"].as_str().unwrap();
        if reason.contains("duplicate") {
            continue; // dedup, not quality
        }
        let source = r["source"].as_str().unwrap();
        let group = if source.starts_with("ann/") {
            "ann"
        } else {
            source
        };
        *filtered.entry(group.to_string()).or_default() += 1;
    }
    // One wanchuang file (3.ann: CJK ratio 0.201, digits 0.266) sits just inside both limits.
    assert!(
        filtered.get("ann").copied().unwrap_or(0) >= 13,
        "{filtered:?}"
    );
    let manifest = run.manifest();
    let records = [
        ("exam/CNMLEQA-3k.json", 2949),
        ("exam/CMB-Clin_CMB-test-qa.json", 74),
        ("exam/MedQA/Mainland_dev.jsonl", 3425),
        ("exam/PromptCBLUE_toy/dev.json", 80),
        ("dialogue/样例_内科5000-6000.csv", 7645),
    ];
    for (file, n) in records {
        let dropped = filtered.get(file).copied().unwrap_or(0);
        // Fewer than 0.5% of real questions and answers may go (dosage arithmetic).
        assert!(dropped * 200 < n, "{file}: {dropped} of {n} filtered");
    }
    assert!(manifest["config"]["filter"]["preset"]
        .as_str()
        .unwrap()
        .ends_with("medical.toml"));
}

#[test]
fn clean_preview_shows_before_after_and_each_rule() {
    let output = medcorpus()
        .args(["clean-preview", "--pipeline", "pipelines/medical-bert.toml"])
        .arg(shared("corpus/text/ruijin/round1_train2/0.txt"))
        .output()
        .unwrap();
    assert_ok(&output);
    let out = String::from_utf8(output.stdout).unwrap();
    assert!(out.contains("\n- 目前,2型糖尿病及其并发症已经成为危害公众\n- 健康的主要疾病之一"));
    assert!(out.contains("\n+ ") && out.contains("已经成为危害公众健康的主要疾病之一"));
    assert!(out.contains("not-chinese") && out.contains("verdict: kept"));
    let ann = medcorpus()
        .args(["clean-preview", "--pipeline", "pipelines/medical-bert.toml"])
        .arg(shared("corpus/text/ruijin/round1_train2/0.ann"))
        .output()
        .unwrap();
    let out = String::from_utf8(ann.stdout).unwrap();
    assert!(
        out.contains("verdict: dropped, reason `not-chinese`"),
        "{out}"
    );
}

#[test]
fn medical_pipeline_is_valid() {
    assert!(Path::new("pipelines/medical-bert.toml").exists());
    assert_ok(
        &medcorpus()
            .args(["check", "pipelines/medical-bert.toml"])
            .output()
            .unwrap(),
    );
}
