//! Issue 5: near-duplicate removal on real documents from ../shared/corpus/text, with planted
//! near-copies built here from real files (see common/planted.rs for the edits).
mod common;
use common::planted::*;
use common::*;
use std::collections::{BTreeMap, HashMap};

/// Exact paragraph dedup off, so near-dedup alone is measured on copies that share paragraphs.
const NO_PARAGRAPH_DEDUP: &str = "[dedup]\nparagraph_min_chars = 0";

fn read_gbk(rel: &str) -> String {
    let bytes = std::fs::read(shared(rel)).unwrap();
    let (text, _, malformed) = encoding_rs::GBK.decode(&bytes);
    assert!(!malformed, "{rel}");
    text.into_owned()
}

fn read_utf8(rel: &str) -> String {
    std::fs::read_to_string(shared(rel)).unwrap()
}

fn near_rejects(run: &Run) -> Vec<serde_json::Value> {
    run.rejects()
        .into_iter()
        .filter(|r| r["reason"] == "near-duplicate")
        .collect()
}

/// Jaccard similarity of the character 3-gram sets of the letters, digits and ideographs of a
/// sample and the start of another text of the same length.
fn char_jaccard(sample: &str, other: &str) -> f64 {
    let grams = |text: &str, limit: usize| {
        let chars: Vec<char> = text
            .chars()
            .take(limit)
            .filter(|c| c.is_alphanumeric())
            .collect();
        chars
            .windows(3)
            .map(|w| w.iter().collect::<String>())
            .collect::<std::collections::HashSet<_>>()
    };
    let limit = sample.chars().count();
    let (a, b) = (grams(sample, limit), grams(other, limit));
    a.intersection(&b).count() as f64 / a.union(&b).count().max(1) as f64
}

/// Source of the kept document named in a reject's detail ("kept <id> (<source>); …").
fn kept_source(reject: &serde_json::Value) -> String {
    let detail = reject["detail"].as_str().unwrap();
    let open = detail.find(" (").unwrap();
    let close = detail.find("); ").unwrap();
    detail[open + 2..close].to_string()
}

#[test]
fn ocr_fix_reissues_and_mineru_json_are_found_in_real_data() {
    let run = Run::new();
    for name in ["0", "6", "9", "10"] {
        let rel = format!("corpus/text/ruijin/round1_train1/{name}.txt");
        run.add(&shared(&rel), &format!("ruijin/train1/{name}.txt"));
    }
    for entry in std::fs::read_dir(shared("corpus/text/ruijin/round1_train2")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().unwrap() == "txt" {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            run.add(&path, &format!("ruijin/train2/{name}"));
        }
    }
    for kind in ["md", "json"] {
        for entry in std::fs::read_dir(shared(&format!("corpus/text/chinaxiv/{kind}"))).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            run.add(&path, &format!("chinaxiv/{kind}/{name}"));
        }
    }
    assert_ok(&run.run(NO_PARAGRAPH_DEDUP, &["--threads", "1"]));
    let mut pairs: Vec<(String, String)> = near_rejects(&run)
        .iter()
        .map(|r| {
            let dropped = r["source"].as_str().unwrap().to_string();
            (dropped, kept_source(r))
        })
        .collect();
    pairs.sort();
    let stem = |s: &str| {
        let file = s.rsplit('/').next().unwrap();
        file.split('.').next().unwrap().to_string()
    };
    for (dropped, kept) in &pairs {
        assert_eq!(stem(dropped), stem(kept), "{dropped} kept {kept}");
    }
    assert_eq!(
        pairs.len(),
        6,
        "train1 0/9/10 vs train2, 3 MinerU JSON vs their Markdown: {pairs:?}"
    );
    let manifest = run.manifest();
    let stats = &manifest["near_dedup"];
    assert_eq!(stats["dropped_docs"], 6);
    assert!(stats["clusters"]["clusters"].as_u64().unwrap() >= 6);
    assert!(!stats["examples"].as_array().unwrap().is_empty());

    // The same run on two threads decides the same.
    let again = Run::new();
    std::fs::rename(run.input(), again.input()).unwrap();
    assert_ok(&again.run(NO_PARAGRAPH_DEDUP, &["--threads", "2"]));
    assert_eq!(again.rejects(), run.rejects());
    assert_eq!(again.docs(), run.docs());
}

/// One real text and its planted copies.
struct Family {
    name: &'static str,
    members: Vec<String>,
}

#[test]
fn planted_copies_are_removed_and_distinct_documents_kept() {
    let run = Run::new();
    let originals: Vec<(&str, String)> = vec![
        ("r25", read_utf8("corpus/text/ruijin/round1_train2/25.txt")),
        ("r16", read_utf8("corpus/text/ruijin/round1_train2/16.txt")),
        ("r24", read_utf8("corpus/text/ruijin/round1_train2/24.txt")),
        ("r20", read_utf8("corpus/text/ruijin/round1_train2/20.txt")),
        (
            "r123_10",
            read_utf8("corpus/text/ruijin/round1_train2/123_10.txt"),
        ),
        (
            "x180",
            read_utf8("corpus/text/chinaxiv/md/ChinaXiv-202207.00180V1.md"),
        ),
        (
            "x037",
            read_utf8("corpus/text/chinaxiv/md/ChinaXiv-202209.00037V1.md"),
        ),
        (
            "b429",
            read_gbk("corpus/text/books/TCM-Ancient-Books/429-内经知要.txt"),
        ),
    ];
    let variants: Vec<(&str, fn(&str) -> String)> = vec![
        ("punct", punctuation_width),
        ("ocr", |t| ocr_substitutions(t, 40)),
        ("wrap", |t| hard_wrap(t, 33)),
        ("headers", |t| running_headers(t, 20)),
        ("dropped", |t| drop_paragraphs(t, 10)),
        ("boilerplate", append_boilerplate),
        ("combined", combined),
    ];
    let mut families = Vec::new();
    for (name, text) in &originals {
        let mut members = vec![format!("planted/{name}/original.txt")];
        run.write(&members[0], text.as_bytes());
        for (variant, edit) in &variants {
            let path = format!("planted/{name}/{variant}.txt");
            run.write(&path, edit(text).as_bytes());
            members.push(path);
        }
        // Re-typed with OCR slips and saved as GB18030, as Chinese Windows tools do.
        let path = format!("planted/{name}/gb18030.txt");
        let retyped = punctuation_width(&ocr_substitutions(text, 45));
        let (bytes, _, unmappable) = encoding_rs::GB18030.encode(&retyped);
        assert!(!unmappable);
        run.write(&path, &bytes);
        members.push(path);
        families.push(Family { name, members });
    }
    // Distinct documents: other guideline text layers, exam questions (short, templated),
    // drug leaflets (one template, different drugs), clinical cases.
    for name in [
        "0", "1", "2", "3", "8", "11", "12", "13", "14", "17", "18", "19",
    ] {
        let rel = format!("corpus/text/ruijin/round1_train2/{name}.txt");
        run.add(&shared(&rel), &format!("distinct/ruijin/{name}.txt"));
    }
    for n in 0..10 {
        let rel = format!("corpus/text/misc/tcm_drug_instructions_wanchuang/{n}.txt");
        run.add(&shared(&rel), &format!("distinct/leaflets/{n}.txt"));
    }
    run.add(
        &shared("corpus/text/exam/MedQA/Mainland_dev.jsonl"),
        "distinct/medqa.jsonl",
    );
    run.add(
        &shared("corpus/text/exam/CMB-Clin_CMB-test-qa.json"),
        "distinct/cmb.json",
    );
    assert_ok(&run.run(NO_PARAGRAPH_DEDUP, &[]));

    let family_of: HashMap<&str, &str> = families
        .iter()
        .flat_map(|f| f.members.iter().map(move |m| (m.as_str(), f.name)))
        .collect();
    let rejects = near_rejects(&run);
    let docs = run.docs();
    let text_of: HashMap<&str, &str> = docs
        .iter()
        .map(|d| (d["id"].as_str().unwrap(), d["text"].as_str().unwrap()))
        .collect();
    let (mut correct, mut retyped_questions) = (0, 0);
    let mut wrong = Vec::new();
    for reject in &rejects {
        let dropped = reject["source"].as_str().unwrap();
        let kept = kept_source(reject);
        match (family_of.get(dropped), family_of.get(kept.as_str())) {
            (Some(a), Some(b)) if a == b => correct += 1,
            // MedQA holds the same question typed twice (renumbered, one character or
            // punctuation changed): real near-duplicates, checked by true shingle overlap.
            _ if dropped == "distinct/medqa.jsonl" && kept == dropped => {
                let detail = reject["detail"].as_str().unwrap();
                let kept_id = detail.split_whitespace().nth(1).unwrap();
                let similarity = char_jaccard(reject["sample"].as_str().unwrap(), text_of[kept_id]);
                assert!(similarity > 0.6, "{similarity}: {reject}");
                retyped_questions += 1;
            }
            _ => wrong.push(format!("{dropped} (kept {kept})")),
        }
    }
    // Copies that differ from the original only in line breaks are exact duplicates already.
    let exact: usize = run
        .rejects()
        .iter()
        .filter(|r| r["reason"] == "exact-duplicate")
        .filter(|r| family_of.contains_key(r["source"].as_str().unwrap()))
        .count();
    let expected: usize = families.iter().map(|f| f.members.len() - 1).sum::<usize>() - exact;
    let recall = correct as f64 / expected as f64;
    let precision = correct as f64 / (rejects.len() - retyped_questions).max(1) as f64;
    let mut missed: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for doc in &docs {
        let source = doc["source"].as_str().unwrap();
        if let Some(family) = family_of.get(source) {
            missed.entry(family).or_default().push(source);
        }
    }
    missed.retain(|_, kept| kept.len() > 1);
    eprintln!(
        "planted near-copies: {correct}/{expected} removed (recall {recall:.3}; {exact} more \
         were exact duplicates), {} near-duplicate rejects in all (precision {precision:.3} \
         excluding {retyped_questions} re-typed MedQA questions); \
         families with more than one survivor: {missed:?}",
        rejects.len()
    );
    assert!(wrong.is_empty(), "distinct documents removed: {wrong:?}");
    assert!(recall >= 0.95, "recall {recall}: {missed:?}");
    for family in &families {
        assert!(
            docs.iter()
                .any(|d| family.members.iter().any(|m| d["source"] == *m.as_str())),
            "family {} lost entirely",
            family.name
        );
    }
    let distinct = docs
        .iter()
        .filter(|d| d["source"].as_str().unwrap().starts_with("distinct/"))
        .count();
    assert!(distinct > 3400, "{distinct} distinct documents kept");
}

#[test]
fn a_chapter_alone_is_dropped_for_its_book_and_a_shared_chapter_is_cut_out() {
    let run = Run::new();
    let book = read_gbk("corpus/text/books/TCM-Ancient-Books/437-黄帝内经素问.txt");
    let sections: Vec<&str> = book.split("<篇名>").collect();
    let chapter: String = sections[8..14]
        .iter()
        .map(|s| format!("<篇名>{s}"))
        .collect();
    run.write("book.txt", book.as_bytes());
    // Re-typed as a chapter of a study guide: OCR slips, ASCII punctuation, new line breaks.
    run.write(
        "guide/chapter.txt",
        hard_wrap(&punctuation_width(&ocr_substitutions(&chapter, 50)), 30).as_bytes(),
    );
    // A paper quoting the whole chapter in an appendix, re-typeset: only the appendix is a
    // duplicate.
    let paper = read_utf8("corpus/text/chinaxiv/md/ChinaXiv-202002.00085V1.md");
    let quoted_from = "附录 原文节选";
    run.write(
        "paper.txt",
        format!(
            "{paper}\n\n# {quoted_from}\n{}",
            hard_wrap(&ocr_substitutions(&chapter, 45), 28)
        )
        .as_bytes(),
    );
    assert_ok(&run.run("", &[]));
    let rejects = near_rejects(&run);
    assert_eq!(
        rejects.len(),
        1,
        "{rejects:?} {:#}",
        run.manifest()["near_dedup"]
    );
    assert_eq!(rejects[0]["source"], "guide/chapter.txt");
    assert_eq!(kept_source(&rejects[0]), "book.txt");
    let docs = run.docs();
    let text = |source: &str| {
        docs.iter()
            .find(|d| d["source"] == source)
            .unwrap_or_else(|| panic!("{source} kept"))["text"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(text("book.txt").contains("四气调神大论"));
    let trimmed = text("paper.txt");
    let paper_doc = docs.iter().find(|d| d["source"] == "paper.txt").unwrap();
    assert!(
        paper_doc["meta"]["near_duplicate_chars_removed"]
            .as_u64()
            .unwrap_or(0)
            > 3000,
        "{:#}",
        run.manifest()["near_dedup"]
    );
    assert!(trimmed.contains("尿蛋白质组"), "the paper itself stays");
    let middle_of_chapter: String = sections[11].chars().skip(20).take(30).collect();
    assert!(
        !trimmed.contains(&middle_of_chapter),
        "the quoted chapter is cut"
    );
}

/// Near-copies packed in archives are found like loose ones: an OCR-slipped copy of a Ruijin
/// guideline inside a zip, and a copy with full-width/half-width punctuation swapped inside a
/// tar.gz inside that zip, beside the original file.
#[test]
fn near_copies_inside_archives_are_found() {
    let original = read_utf8("corpus/text/ruijin/round1_train2/25.txt");
    let inner_tar = {
        let mut tar = tar::Builder::new(Vec::new());
        let copy = punctuation_width(&original);
        let mut header = tar::Header::new_gnu();
        header.set_size(copy.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, "指南/标点副本.txt", copy.as_bytes())
            .unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, &tar.into_inner().unwrap()).unwrap();
        gz.finish().unwrap()
    };
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("下载/OCR副本.txt", options).unwrap();
    std::io::Write::write_all(&mut zip, ocr_substitutions(&original, 40).as_bytes()).unwrap();
    zip.start_file("下载/副本.tar.gz", options).unwrap();
    std::io::Write::write_all(&mut zip, &inner_tar).unwrap();
    let zip = zip.finish().unwrap().into_inner();

    let run = Run::new();
    run.write("a/25.txt", original.as_bytes());
    run.write("b/网盘.zip", &zip);
    assert_ok(&run.run(NO_PARAGRAPH_DEDUP, &[]));
    let mut dropped: Vec<String> = near_rejects(&run)
        .iter()
        .map(|r| r["source"].as_str().unwrap().to_string())
        .collect();
    dropped.sort();
    assert_eq!(
        dropped,
        vec![
            "b/网盘.zip!/下载/OCR副本.txt",
            "b/网盘.zip!/下载/副本.tar.gz!/指南/标点副本.txt"
        ]
    );
    let kept: Vec<String> = run
        .docs()
        .iter()
        .map(|d| d["source"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kept, vec!["a/25.txt"]);
}
