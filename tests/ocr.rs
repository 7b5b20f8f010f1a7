//! OCR on real scanned pages: the image-only textbook scan (pages 14–16 of the TCM textbook
//! excerpt rendered at 200 dpi, JPEG) through every engine, a multi-page TIFF made from it, the
//! result cache and failure paths. Needs tesseract-ocr, tesseract-ocr-chi-sim, libtiff-tools and
//! the PyPI packages faster-paddle, rapidocr + onnxruntime (.ci/run installs them).
use medcorpus::ocr::{ocr_image_file, ocr_pdf_pages, EngineKind, OcrConfig, PageOcr};
use std::path::{Path, PathBuf};
use std::process::Command;

fn scan() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/pdf/zh_textbook_tcm_scanned_imageonly.pdf")
}

fn config(engine: EngineKind) -> OcrConfig {
    let config = OcrConfig {
        engine,
        ..OcrConfig::default()
    };
    if let Some(why) = engine.unavailable(&config) {
        panic!("{why}");
    }
    config
}

/// Phrases of page 14 of the textbook (its own text layer), as a reader would check a scan.
fn assert_reads_page_14(page: &PageOcr) {
    assert_eq!(page.error, None);
    for phrase in ["证候分析", "益气解表", "参苏饮", "脉浮而无力", "风寒表"] {
        assert!(
            page.text.contains(phrase),
            "{phrase} missing from {}",
            page.text
        );
    }
    assert!(
        !page.text.contains("证 候"),
        "spaces between Chinese characters"
    );
    assert!(page.confidence > 0.8, "confidence {}", page.confidence);
    assert!(!page.low_confidence);
}

#[test]
fn rapidocr_reads_a_scanned_textbook_page() {
    let pages = ocr_pdf_pages(&scan(), &[1], &config(EngineKind::Rapidocr), None).unwrap();
    assert_reads_page_14(&pages[0]);
    assert_eq!(pages[0].engine, "rapidocr");
}

#[test]
fn faster_paddle_reads_a_scanned_textbook_page_and_caches_it() {
    let cache = tempfile::tempdir().unwrap();
    let config = config(EngineKind::FasterPaddle);
    let pages = ocr_pdf_pages(&scan(), &[1], &config, Some(cache.path())).unwrap();
    assert_eq!(pages.len(), 1);
    assert_reads_page_14(&pages[0]);
    assert_eq!(pages[0].engine, "faster-paddle");
    // The scan's image is 1654 px wide on a page declared at 96 ppi: rendered at its own pixels.
    assert_eq!(pages[0].dpi, Some(96));

    // A resumed run finds the page in the cache: no engine runs (this one could not start).
    let broken = OcrConfig {
        python: "/nonexistent/python3".into(),
        ..config.clone()
    };
    let again = ocr_pdf_pages(&scan(), &[1], &broken, Some(cache.path())).unwrap();
    assert_eq!(again, pages);
    let uncached = ocr_pdf_pages(&scan(), &[1], &broken, None).unwrap();
    assert!(uncached[0].error.is_some(), "{uncached:?}");
}

/// A two-column journal page (with its running header across both columns), rendered at the
/// default 150 dpi: each column is read top to bottom, the left one before the right, so
/// sentences run on across line ends and across the column break.
#[test]
fn faster_paddle_reads_a_two_column_journal_page_column_by_column() {
    let journal = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/pdf/zh_consensus_fibromyalgia_2023_sowise.pdf");
    let pages = ocr_pdf_pages(&journal, &[2], &config(EngineKind::FasterPaddle), None).unwrap();
    assert_eq!(pages[0].error, None);
    let text = pages[0].text.replace('\n', "");
    for sentence in [
        // the left column's second and third lines
        "目前有一些公认度较高的与发病机制有关的假说",
        // the left column's last line, then the right column's first
        "因此询问身体其他部位是否存在疼痛很重要",
    ] {
        assert!(
            text.contains(sentence),
            "{sentence} not in {}",
            pages[0].text
        );
    }
}

#[test]
fn tesseract_reads_a_scanned_textbook_page_without_spaces_between_characters() {
    let config = config(EngineKind::Tesseract);
    let cache = tempfile::tempdir().unwrap();
    let pages = ocr_pdf_pages(&scan(), &[1], &config, Some(cache.path())).unwrap();
    assert_eq!(pages[0].engine, "tesseract");
    assert_eq!(pages[0].error, None);
    // Tesseract misreads more (see benches/ocr_eval.py); these it gets.
    for phrase in ["证候分析", "参苏饮", "风寒之邪乘虚犯表"] {
        assert!(pages[0].text.contains(phrase), "{}", pages[0].text);
    }
    assert!(!pages[0].text.contains("证 候") && !pages[0].text.contains(" , "));
    let unsure = OcrConfig {
        min_confidence: 0.999,
        ..config
    };
    // The threshold applies to cached results too: no second OCR run needed.
    let rejected = ocr_pdf_pages(&scan(), &[1], &unsure, Some(cache.path())).unwrap();
    assert!(rejected[0].low_confidence, "{rejected:?}");
}

#[test]
fn every_frame_of_a_multipage_tiff_is_a_page() {
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("frame");
    let rendered = Command::new("pdftoppm")
        .args(["-r", "96", "-gray", "-tiff", "-f", "2", "-l", "3"])
        .arg(scan())
        .arg(&frames)
        .status()
        .unwrap();
    assert!(rendered.success());
    let multipage = dir.path().join("scan.tif");
    let joined = Command::new("tiffcp")
        .arg(dir.path().join("frame-2.tif"))
        .arg(dir.path().join("frame-3.tif"))
        .arg(&multipage)
        .status()
        .unwrap();
    assert!(joined.success());
    let pages = ocr_image_file(&multipage, &config(EngineKind::Tesseract), None).unwrap();
    assert_eq!(pages.iter().map(|p| p.page).collect::<Vec<_>>(), [1, 2]);
    for page in &pages {
        assert_eq!(page.error, None);
        assert_eq!(page.dpi, None);
        let chinese = page
            .text
            .chars()
            .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
            .count();
        assert!(chinese > 150, "page {}: {}", page.page, page.text);
    }
}

#[test]
fn a_file_that_is_no_pdf_gives_a_page_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake.pdf");
    std::fs::write(&fake, b"%PDF-1.4 truncated").unwrap();
    let pages = ocr_pdf_pages(&fake, &[1, 2], &config(EngineKind::Tesseract), None).unwrap();
    assert_eq!(pages.len(), 2);
    assert!(pages.iter().all(|p| p.error.is_some() && p.text.is_empty()));
}

/// The pipeline with `[ocr] mode = "missing-text"`: the scan is read instead of rejected
/// `scanned-no-text`, the PDF with a text layer beside it is not OCR'd, and the report counts
/// the OCR'd pages.
#[test]
fn a_scanned_pdf_in_a_run_becomes_a_document() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(scan(), input.join("scan.pdf")).unwrap();
    let with_text = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/pdf/zh_textbook_tcm_internal_medicine_excerpt_distiller.pdf");
    std::fs::copy(with_text, input.join("text.pdf")).unwrap();
    let pipeline = dir.path().join("p.toml");
    let out = dir.path().join("out");
    std::fs::write(
        &pipeline,
        format!(
            "[input]\npaths = [{input:?}]\n[output]\ndir = {out:?}\n[ocr]\nmode = \"missing-text\"\n[near_dedup]\nenabled = false\n[dedup]\nparagraph_min_chars = 0\n"
        ),
    )
    .unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_medcorpus"))
        .arg("run")
        .arg(&pipeline)
        .status()
        .unwrap();
    assert!(status.success());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["ingest"]["by_format"]["pdf"]["docs"], 2,
        "{manifest}"
    );
    assert_eq!(manifest["ingest"]["by_format"]["pdf"]["ocr_pages"], 3);
    assert!(manifest["ingest"]["rejected"]
        .get("scanned-no-text")
        .is_none());
    let bert = std::fs::read_to_string(out.join("bert/train-00000.txt")).unwrap_or_default()
        + &std::fs::read_to_string(out.join("bert/valid-00000.txt")).unwrap_or_default();
    assert!(
        bert.matches("参苏饮").count() >= 2,
        "the scan's text is in the corpus"
    );
}

/// `missing-text` also reads the pages that are mostly picture: this guideline pastes its key
/// points and a drug table as images under a one-line heading (pages 4, 7, 9 and 10). Pages
/// with their text in the layer keep it as it is.
#[test]
fn pages_that_are_mostly_picture_are_read_by_ocr() {
    let pdf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/pdf/zh_guideline_hypertension_primary_2025_wps_images.pdf");
    let extract = |ocr: bool| -> serde_json::Value {
        let mut command = Command::new(env!("CARGO_BIN_EXE_medcorpus"));
        command.args(["extract", "--json"]).arg(&pdf);
        if ocr {
            command.arg("--ocr");
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let (plain, read) = (extract(false), extract(true));
    assert_eq!(read["meta"]["ocr_pages"], 4, "{}", read["meta"]);
    let pages = |doc: &serde_json::Value| -> Vec<String> {
        doc["text"]
            .as_str()
            .unwrap()
            .split('\u{c}')
            .map(String::from)
            .collect()
    };
    let (before, after) = (pages(&plain), pages(&read));
    assert!(
        !before[9].contains("慢性肾脏病"),
        "page 10's layer is only headings"
    );
    for phrase in ["慢性肾脏病", "糖尿病患者的降压目标", "难治性高血压"] {
        assert!(
            after[9].contains(phrase),
            "{phrase} missing from page 10: {}",
            after[9]
        );
    }
    assert!(
        !before[6].contains("左心室肥厚"),
        "page 7's drug table is a picture"
    );
    assert!(after[6].contains("左心室肥厚"), "{}", after[6]);
    for untouched in [0, 4, 7, 15] {
        assert_eq!(
            after[untouched],
            before[untouched],
            "page {}",
            untouched + 1
        );
    }
}

/// A scanned book whose hidden OCR layer is tesseract's (倦念 for 倦怠, spaces between
/// characters) is read again; the check's figure is in the meta.
#[test]
fn a_poor_hidden_ocr_layer_is_replaced() {
    let pdf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/pdf/zh_textbook_tcm_scanned_ocrlayer.pdf");
    let output = Command::new(env!("CARGO_BIN_EXE_medcorpus"))
        .args(["extract", "--json", "--ocr"])
        .arg(&pdf)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["meta"]["ocr_layer_replaced"], true, "{}", doc["meta"]);
    assert_eq!(doc["meta"]["ocr_pages"], 3);
    let disagreement = doc["meta"]["ocr_layer_disagreement"].as_f64().unwrap();
    assert!(disagreement > 0.1, "{disagreement}");
    let text = doc["text"].as_str().unwrap();
    assert!(text.contains("倦怠") && !text.contains("倦念"), "{text}");
    assert!(text.contains("证候分析"), "{text}");
}
