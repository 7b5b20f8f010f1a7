//! Page and Office formats end to end: the real binary on the real PDFs, Office files, ebooks
//! and saved web pages in ../shared/corpus, through `medcorpus extract` and `medcorpus run`.
mod common;
use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Output;

/// `medcorpus extract --json FILE` (with `env` overrides): documents and stderr.
fn extract_with_env(file: &Path, env: &[(&str, &str)]) -> (Vec<Value>, String, Output) {
    let mut command = medcorpus();
    command.arg("extract").arg("--json").arg(file);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("run medcorpus extract");
    let docs = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON document per line"))
        .collect();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (docs, stderr, output)
}

fn extract(file: &Path) -> (Vec<Value>, String) {
    let (docs, stderr, _) = extract_with_env(file, &[]);
    (docs, stderr)
}

fn only_doc(file: &Path) -> Value {
    let (mut docs, stderr) = extract(file);
    assert_eq!(docs.len(), 1, "{}: {stderr}", file.display());
    docs.remove(0)
}

fn text(doc: &Value) -> &str {
    doc["text"].as_str().unwrap()
}

#[test]
fn pdf_pages_are_kept_apart_and_read_by_poppler() {
    let doc = only_doc(&shared(
        "corpus/pdf/zh_consensus_pca_cancer_pain_2023_cjco_acrobat.pdf",
    ));
    assert_eq!(doc["meta"]["format"], "pdf");
    assert_eq!(doc["meta"]["engine"], "poppler");
    assert_eq!(doc["meta"]["pages"], 7);
    assert_eq!(doc["meta"]["pages_without_text"], 0);
    assert_eq!(text(&doc).matches('\x0c').count(), 6);
    assert!(text(&doc).contains("患者自控镇痛"));
}

#[test]
fn kangxi_radicals_pass_extraction_and_are_normalised_by_cleaning() {
    let pdf = shared("corpus/pdf/nonmed_zh_linear_algebra_xdvipdfmx_kangxi.pdf");
    let doc = only_doc(&pdf);
    // Not mistaken for garbled text: the radicals are ordinary characters in this font.
    assert_eq!(doc["meta"]["pages"], 3);
    let radicals = text(&doc)
        .chars()
        .filter(|c| ('\u{2F00}'..='\u{2FDF}').contains(c))
        .count();
    assert!(radicals > 100, "{radicals} Kangxi radicals");

    let run = Run::new();
    run.add(&pdf, "kangxi.pdf");
    assert_ok(&run.run("", &[]));
    let docs = run.docs();
    assert_eq!(docs.len(), 1, "rejects: {:?}", run.rejects());
    let cleaned = text(&docs[0]);
    assert!(!cleaned
        .chars()
        .any(|c| ('\u{2F00}'..='\u{2FDF}').contains(&c)));
    assert!(cleaned.contains("2019 年 10 月 1 日") || cleaned.contains("2019年10月1日"));
}

#[test]
fn scanned_garbled_and_broken_pdfs_are_accounted_for() {
    let run = Run::new();
    run.add(
        &shared("corpus/pdf/zh_textbook_tcm_scanned_imageonly.pdf"),
        "scan.pdf",
    );
    run.add(
        &shared("corpus/pdf/zh_consensus_opioid_ae_tcm_2019_no_tounicode.pdf"),
        "no_tounicode.pdf",
    );
    let good = shared("corpus/pdf/zh_consensus_opioid_ae_tcm_2019_cjco_adultpdf.pdf");
    run.add(&good, "good.pdf");
    // A download cut off at 40%: no trailer, no cross-reference table.
    let bytes = std::fs::read(&good).unwrap();
    run.write("truncated.pdf", &bytes[..bytes.len() * 2 / 5]);
    assert_ok(&run.run("", &[]));

    let docs = run.docs();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["source"], "good.pdf");
    assert!(text(&docs[0]).contains("阿片类药物"));

    let rejects = run.rejects();
    let reason = |source: &str| {
        rejects
            .iter()
            .find(|r| r["source"] == source)
            .unwrap_or_else(|| panic!("no reject for {source}: {rejects:?}"))
    };
    let scan = reason("scan.pdf");
    assert_eq!(scan["reason"], "scanned-no-text");
    assert!(scan["detail"].as_str().unwrap().starts_with("3 pages"));
    let garbled = reason("no_tounicode.pdf");
    assert_eq!(garbled["reason"], "garbled");
    // Both engines were tried before giving up.
    let detail = garbled["detail"].as_str().unwrap();
    assert!(
        detail.contains("poppler") && detail.contains("pdf-extract"),
        "{detail}"
    );

    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["source"], "truncated.pdf");
    assert!(errors[0]["error"]
        .as_str()
        .unwrap()
        .contains("no PDF engine could read the file"));
}

#[test]
fn no_good_pdf_is_rejected_as_garbled() {
    let run = Run::new();
    for entry in std::fs::read_dir(shared("corpus/pdf")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".pdf") {
            run.add(&path, &name);
        }
    }
    assert_ok(&run.run("[filter]\nmin_cjk_ratio = 0.0\n", &[]));
    let mut garbled: Vec<String> = run
        .rejects()
        .iter()
        .filter(|r| r["reason"] == "garbled")
        .map(|r| r["source"].as_str().unwrap().to_string())
        .collect();
    garbled.sort();
    assert_eq!(
        garbled,
        vec!["zh_consensus_opioid_ae_tcm_2019_no_tounicode.pdf"]
    );
    assert!(run.errors().is_empty(), "{:?}", run.errors());
}

#[test]
fn encrypted_pdfs_are_read_when_allowed_and_errors_otherwise() {
    // Owner password only (AES, RC4; "copy: no" flags): the text is extractable.
    for name in [
        "en_quiz_biochemistry2_2008_distiller_aes.pdf",
        "zh_guideline_cancer_pain_tcm_draft_word_aes.pdf",
        "zh_guideline_neuropathic_pain_2024_cjpainol_founder_enc.pdf",
    ] {
        let doc = only_doc(&shared(&format!("corpus/pdf/{name}")));
        assert!(text(&doc).len() > 1000, "{name}");
    }
    // A user password, made here from a real PDF with lopdf (through pdf-extract's re-export).
    use pdf_extract::{EncryptionState, EncryptionVersion, Permissions};
    let mut pdf = pdf_extract::Document::load(shared(
        "corpus/pdf/zh_consensus_fibromyalgia_2023_sowise.pdf",
    ))
    .unwrap();
    let state = EncryptionState::try_from(EncryptionVersion::V1 {
        document: &pdf,
        owner_password: "owner",
        user_password: "reader",
        permissions: Permissions::all(),
    })
    .unwrap();
    pdf.encrypt(&state).unwrap();
    let run = Run::new();
    let mut bytes = Vec::new();
    pdf.save_to(&mut bytes).unwrap();
    run.write("locked.pdf", &bytes);
    assert_ok(&run.run("", &[]));
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0]["error"]
        .as_str()
        .unwrap()
        .contains("needs a password"));
}

#[test]
fn without_poppler_pdfs_fall_back_to_pdf_extract_with_one_warning() {
    let empty_path = tempfile::tempdir().unwrap();
    let (docs, stderr, output) = extract_with_env(
        &shared("corpus/pdf/zh_consensus_fibromyalgia_2023_sowise.pdf"),
        &[("PATH", empty_path.path().to_str().unwrap())],
    );
    assert!(output.status.success(), "{stderr}");
    assert_eq!(docs[0]["meta"]["engine"], "pdf-extract");
    assert_eq!(stderr.matches("pdftotext not found").count(), 1, "{stderr}");
    assert!(text(&docs[0]).contains("纤维肌痛"));

    // A legacy Word file needs catdoc: without it, a clear `unsupported` error.
    let (docs, stderr, output) = extract_with_env(
        &shared("corpus/office/document__硕士知识总结.doc"),
        &[("PATH", empty_path.path().to_str().unwrap())],
    );
    assert!(docs.is_empty() && !output.status.success());
    assert!(
        stderr.contains("unsupported") && stderr.contains("catdoc"),
        "{stderr}"
    );
}

#[test]
fn html_saved_as_pdf_is_read_as_html() {
    let run = Run::new();
    run.add(
        &shared("corpus/text/misc/html/莆田系医院都有哪些内幕？.html"),
        "saved_page.pdf",
    );
    let (docs, stderr) = extract(&run.input().join("saved_page.pdf"));
    assert_eq!(docs.len(), 1, "{stderr}");
    assert_eq!(docs[0]["meta"]["format"], "html");
    assert!(text(&docs[0]).contains("莆田系医院都有哪些内幕"));
}

#[test]
fn html_keeps_text_and_drops_scripts_styles_and_entities() {
    let doc = only_doc(&shared(
        "corpus/text/misc/html/良醫健康網_商周良醫_index.html",
    ));
    let body = text(&doc);
    assert!(body.contains("兒女包攬家務，卻被長輩問「希望我趕快死對吧？」"));
    for markup in [
        "<script",
        "function(",
        "&hellip;",
        "&mdash;",
        "{display",
        "<div",
    ] {
        assert!(!body.contains(markup), "{markup} left in the text");
    }
    let doc = only_doc(&shared(
        "corpus/text/misc/html/莆田系医院都有哪些内幕？.html",
    ));
    assert!(
        !text(&doc).contains("#bd_snap"),
        "inline CSS left in the text"
    );
}

#[test]
fn docx_paragraphs_without_field_codes() {
    let doc = only_doc(&shared("corpus/office/document__中医.docx"));
    assert_eq!(doc["meta"]["format"], "docx");
    assert!(text(&doc).starts_with("中医\n十二官"));
    assert!(text(&doc).contains("肝：开窍于目，其充在筋，其华在爪，喜条达\n"));

    let doc = only_doc(&shared("corpus/office/hanchengwang__道德经.docx"));
    let body = text(&doc);
    for code in ["TOC \\o", "HYPERLINK", "PAGEREF", "_Toc"] {
        assert!(!body.contains(code), "field code {code} in the text");
    }
    assert!(body.contains("道可道也，非恒道也。"));
    // The table of contents (a field result: headings with page numbers) is left out.
    assert!(!body.contains("第一章 6"));
    // 1451 empty paragraphs make no runs of blank lines.
    assert!(!body.contains("\n\n\n"));
}

#[test]
fn pptx_slides_in_order() {
    let doc = only_doc(&shared("corpus/office/document__前端技术分享.pptx"));
    assert_eq!(doc["meta"]["slides"], 12);
    let body = text(&doc);
    assert!(body.starts_with("前端技术分享"));
    let html5 = body.find("新的Doctype声明").unwrap();
    let css3 = body.find("边框，如圆角、阴影").unwrap();
    assert!(html5 < css3);
}

#[test]
fn xlsx_rows_are_lines_and_questions_stay_whole() {
    // Inline strings only, one 14 MB sheet of 6,812 rows.
    let (docs, stderr) = extract(&shared("corpus/text/exam/cmexam/val.xlsx"));
    assert!(stderr.is_empty(), "{stderr}");
    let rows: u64 = docs
        .iter()
        .map(|d| d["meta"]["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(rows, 6812);
    assert_eq!(docs.len(), 35); // 200 rows per document by default
    for doc in &docs {
        assert_eq!(
            text(doc).lines().count() as u64,
            doc["meta"]["rows"].as_u64().unwrap()
        );
    }
    let question = docs
        .iter()
        .flat_map(|d| text(d).lines())
        .find(|line| line.starts_with("上消化道出血可单纯表现为呕血或黑便"))
        .unwrap();
    // Question, options, answer and explanation on one line.
    assert!(question.contains("D 在胃内停留时间") && question.contains("（C对）"));

    // Shared strings, eight sheets.
    let (docs, _) = extract(&shared("corpus/office/yikao___中药方剂.xlsx"));
    let sheets: std::collections::BTreeSet<&str> = docs
        .iter()
        .map(|d| d["meta"]["sheet"].as_str().unwrap())
        .collect();
    assert_eq!(sheets.len(), 8, "{sheets:?}");
    assert!(text(&docs[0]).contains("开窍 麝香"));
}

#[test]
fn legacy_word_and_excel_files() {
    let doc = only_doc(&shared("corpus/office/document__硕士知识总结.doc"));
    assert_eq!(doc["meta"]["converter"], "catdoc");
    assert!(text(&doc).starts_with("硕士知识总结"));

    // catdoc's xls2csv loses this workbook's text; calamine reads all nine sheets.
    let (docs, stderr) = extract(&shared("corpus/office/TK__题库.xls"));
    assert_eq!(docs.len(), 9, "{stderr}");
    assert_eq!(docs[0]["meta"]["sheet"], "ASP.NET初级");
    assert!(text(&docs[0]).contains(
        "1 ( )命名空间中的类和接口用于创建Web 应用程序的页面。（选一项） System.Drawing System.IO System.Web.UI System.Web.Service C"
    ));
}

#[test]
fn epub_chapters_in_spine_order_and_chm_unsupported() {
    let doc = only_doc(&shared("corpus/ebook/epub_books__水浒传.epub"));
    let body = text(&doc);
    assert!(doc["meta"]["chapters"].as_u64().unwrap() > 100);
    let first = body.find("第一回").unwrap();
    let second = body.find("第二回").unwrap();
    let last = body.find("第一百二十回").unwrap_or(body.len());
    assert!(first < second && second < last);
    assert!(!body.contains("<p") && !body.contains("&nbsp;"));

    let chm = Run::new();
    chm.add(&shared("corpus/ebook/Lottery__README.chm"), "help.chm");
    assert_ok(&chm.run("", &[]));
    let errors = chm.errors();
    assert_eq!(errors.len(), 1);
    assert!(errors[0]["error"]
        .as_str()
        .unwrap()
        .starts_with("unsupported:"));
}

#[test]
fn mobi_text_records_read_without_boundary_damage() {
    let doc = only_doc(&shared("corpus/ebook/hanchengwang__孙子兵法-孙武.mobi"));
    let body = text(&doc);
    assert!(body.contains("凡此五者，将莫不闻，知之者胜，不知之者不胜。"));
    // Text records are 4 KiB: a wrongly stripped record end leaves U+FFFD or control bytes.
    assert!(!body.contains('\u{FFFD}'));
    assert!(!body
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t'));
    assert!(body.len() > 200_000);
}

#[test]
fn pdf_engine_key_is_checked_against_what_is_installed() {
    let run = Run::new();
    let pipeline = run.pipeline("[extract]\npdf_engine = \"poppler\"\n");
    let empty_path = tempfile::tempdir().unwrap();
    let output = medcorpus()
        .arg("check")
        .arg(&pipeline)
        .env("PATH", empty_path.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("extract.pdf_engine") && stderr.contains("poppler-utils"),
        "{stderr}"
    );
    let pipeline = run.pipeline("[extract]\npdf_engine = \"mupdf\"\n");
    let output = medcorpus().arg("check").arg(&pipeline).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("pdf_engine"),
        "{stderr}"
    );
}
