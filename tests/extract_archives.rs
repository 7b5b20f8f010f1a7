//! Issue 3 (archives) and issue 8 (archive limits): the real binary on the real archives in
//! ../shared/corpus/archives, and on archives built here from real text in ../shared/corpus/text.
mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{Cursor, Write};

const BOOK: &str = "corpus/text/books/TCM-Ancient-Books/429-内经知要.txt";
const GB18030_BOOK: &str = "corpus/text/books/TCM-Ancient-Books/100-桂林古本伤寒杂病论.txt";
const DIALOGUE: &str = "corpus/text/dialogue/IM_内科.txt";

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(shared(rel)).unwrap()
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, bytes) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, name, *bytes).unwrap();
    }
    tar.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn bzip2(bytes: &[u8]) -> Vec<u8> {
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    bz.write_all(bytes).unwrap();
    bz.finish().unwrap()
}

fn sources(values: &[Value]) -> BTreeSet<String> {
    values
        .iter()
        .map(|v| v["source"].as_str().unwrap().to_string())
        .collect()
}

fn doc_text<'a>(docs: &'a [Value], source: &str) -> &'a str {
    docs.iter()
        .find(|d| d["source"] == source)
        .unwrap_or_else(|| panic!("no document from {source}"))["text"]
        .as_str()
        .unwrap()
}

fn errors_naming(run: &Run, needle: &str) -> Vec<Value> {
    run.errors()
        .into_iter()
        .filter(|e| e["error"].as_str().unwrap().contains(needle))
        .collect()
}

#[test]
fn zip_names_in_gbk_without_the_utf8_flag_are_decoded() {
    let run = Run::new();
    run.add(&shared("corpus/archives/xmu-1024__数据.zip"), "xmu.zip");
    run.add(&shared("corpus/archives/JMCE_CNER__数据.zip"), "cner.zip");
    assert_ok(&run.run("", &[]));
    let docs = sources(&run.docs());
    for name in [
        "中国国际大学生创新大赛.csv",
        "中美青年创客大赛.csv",
        "全国大学生数学建模竞赛.csv",
        "福建省“互联网+”大学生创新创业大赛.csv",
        "美国大学生数学建模竞赛MCM和美国大学生交叉学科数学建模竞赛ICM.csv",
    ] {
        let source = format!("xmu.zip!/{name}");
        assert!(docs.contains(&source), "{source} missing from {docs:?}");
    }
    assert!(docs.contains("cner.zip!/数据/Experimental datasets.txt"));
    assert!(run.errors().is_empty(), "{:?}", run.errors());
}

#[test]
fn encrypted_zip_entries_are_each_an_error() {
    let run = Run::new();
    run.add(
        &shared("corpus/archives/Car-NER__英语单词.zip"),
        "words.zip",
    );
    assert_ok(&run.run("", &[]));
    let encrypted = errors_naming(&run, "encrypted");
    let names = sources(&encrypted);
    assert_eq!(names.len(), 6, "{names:?}");
    assert!(names.contains("words.zip!/英语单词/所有真题.txt"));
    let rejects = run.rejects();
    assert!(rejects
        .iter()
        .any(|r| r["source"] == "words.zip!/英语单词" && r["reason"] == "archive-directory"));
}

/// The RAR5 as a file and inside a zip (the UnRAR library then reads a temporary copy).
#[cfg(feature = "rar")]
#[test]
fn rar5_members_are_all_accounted_for() {
    let rar = read("corpus/archives/text-duplication__数据.rar");
    let run = Run::new();
    run.write("数据.rar", &rar);
    run.write("备份.zip", &zip_of(&[("备份/数据.rar", &rar)]));
    assert_ok(&run.run(
        "[dedup]\ndocuments = false\nparagraph_min_chars = 0\n[near_dedup]\nenabled = false\n",
        &[],
    ));
    let (docs, rejects, errors) = (run.docs(), run.rejects(), run.errors());
    for prefix in ["数据.rar!/", "备份.zip!/备份/数据.rar!/"] {
        let mut members = sources(&docs);
        members.extend(sources(&rejects));
        members.extend(sources(&errors));
        let directories: BTreeSet<_> = rejects
            .iter()
            .filter(|r| r["reason"] == "archive-directory")
            .map(|r| r["source"].as_str().unwrap().to_string())
            .collect();
        let files: Vec<&String> = members
            .iter()
            .filter(|s| s.starts_with(prefix) && !directories.contains(*s))
            .filter(|s| !s[prefix.len()..].contains('!'))
            .collect();
        assert_eq!(files.len(), 75, "75 files in the RAR5: {files:?}");
        // The code listings (.txt) are read as text: kept or filtered, never an error.
        let texts: Vec<_> = files.iter().filter(|s| s.ends_with(".txt")).collect();
        assert_eq!(
            texts.len(),
            60,
            "20 code listings in each of c++/, java/, python/"
        );
        for source in texts {
            assert!(
                !errors.iter().any(|e| e["source"] == **source),
                "{source} failed"
            );
        }
    }
}

#[test]
fn solid_7z_with_folders_text_and_a_nested_docx() {
    let run = Run::new();
    run.add(
        &shared("corpus/archives/Inverse-Kinematics__论文.7z"),
        "论文.7z",
    );
    assert_ok(&run.run("", &[]));
    let docs = run.docs();
    let essay = doc_text(&docs, "论文.7z!/论文/二元对立机制.txt");
    assert!(essay.contains("二元对立机制"), "{essay}");
    let rejects = run.rejects();
    assert!(rejects
        .iter()
        .any(|r| r["source"] == "论文.7z!/论文" && r["reason"] == "archive-directory"));
    // The docx and the EMF picture are handed on like any file: accounted whatever the outcome.
    let mut accounted = sources(&docs);
    accounted.extend(sources(&rejects));
    accounted.extend(sources(&run.errors()));
    assert!(
        accounted.contains("论文.7z!/论文/逆运动学.docx"),
        "{accounted:?}"
    );
    assert!(accounted.contains("论文.7z!/论文/论文图片/机械臂实物图.emf"));
}

/// A 7z of 4,048 small GBK files: the question/answer records of dialogue/IM_内科.txt, one per
/// file, as a mail or chat export would be, packed solid with LZMA2.
#[test]
fn solid_7z_of_thousands_of_small_gbk_files() {
    let records: Vec<Vec<u8>> = split_records(&read(DIALOGUE));
    assert!(records.len() > 4000);
    let mut writer = sevenz_rust2::ArchiveWriter::new(Cursor::new(Vec::new())).unwrap();
    let entries = (0..records.len())
        .map(|i| sevenz_rust2::ArchiveEntry::new_file(&format!("问诊/{i:05}.txt")))
        .collect();
    let readers = records
        .iter()
        .map(|r| sevenz_rust2::SourceReader::new(r.as_slice()))
        .collect();
    writer.push_archive_entries(entries, readers).unwrap();
    let archive = writer.finish().unwrap().into_inner();

    let run = Run::new();
    run.write("mail.7z", &archive);
    assert_ok(&run.run("", &[]));
    let docs = run.docs();
    let mut accounted = sources(&docs);
    accounted.extend(sources(&run.rejects()));
    assert_eq!(
        accounted.len(),
        records.len(),
        "every file kept or rejected"
    );
    assert!(run.errors().is_empty());
    let first = doc_text(&docs, "mail.7z!/问诊/00000.txt");
    assert!(first.starts_with("高血压患者能吃党参吗"), "{first}");
    let gbk = docs
        .iter()
        .filter(|d| d["meta"]["encoding"] == "gb18030")
        .count();
    assert!(
        gbk * 10 > docs.len() * 9,
        "decoded as GBK/GB18030: {gbk} of {}",
        docs.len()
    );
}

fn split_records(bytes: &[u8]) -> Vec<Vec<u8>> {
    let text = bytes.split(|&b| b == b'\n');
    let mut records = Vec::new();
    let mut current = Vec::new();
    for line in text {
        if line.iter().all(u8::is_ascii_whitespace) {
            if !current.is_empty() {
                records.push(std::mem::take(&mut current));
            }
        } else {
            current.extend_from_slice(line);
            current.push(b'\n');
        }
    }
    if !current.is_empty() {
        records.push(current);
    }
    records
}

/// tar, tar.gz, tar.zst, tar.bz2 and single-file .gz/.zst/.bz2 of two GBK TCM books
/// (books/429-内经知要.txt and the GB18030 books/100-桂林古本伤寒杂病论.txt).
#[test]
fn tar_and_compressed_streams() {
    let book = read(BOOK);
    let gb18030 = read(GB18030_BOOK);
    let tar = tar_of(&[
        ("books/内经知要.txt", &book),
        ("books/伤寒杂病论.txt", &gb18030),
    ]);
    let run = Run::new();
    run.write("plain.tar", &tar);
    run.write("books.tar.gz", &gzip(&tar));
    run.write("books.tar.zst", &zstd::encode_all(&tar[..], 3).unwrap());
    run.write("books.tar.bz2", &bzip2(&tar));
    run.write("内经知要.txt.gz", &gzip(&book));
    run.write(
        "伤寒杂病论.txt.zst",
        &zstd::encode_all(&gb18030[..], 3).unwrap(),
    );
    run.write("内经知要.txt.bz2", &bzip2(&book));
    // Exact dedup would keep one copy of each book: turn it off to see every container read.
    assert_ok(&run.run(
        "[dedup]\ndocuments = false\nparagraph_min_chars = 0\n[near_dedup]\nenabled = false\n",
        &[],
    ));
    let docs = run.docs();
    for container in [
        "plain.tar",
        "books.tar.gz",
        "books.tar.zst",
        "books.tar.bz2",
    ] {
        let text = doc_text(&docs, &format!("{container}!/books/伤寒杂病论.txt"));
        assert!(text.contains("芎䓖"), "{container}: GB18030 FE 7B decoded");
        doc_text(&docs, &format!("{container}!/books/内经知要.txt"));
    }
    doc_text(&docs, "内经知要.txt.gz!/内经知要.txt");
    doc_text(&docs, "内经知要.txt.bz2!/内经知要.txt");
    assert!(doc_text(&docs, "伤寒杂病论.txt.zst!/伤寒杂病论.txt").contains("芎䓖"));
    assert!(run.errors().is_empty(), "{:?}", run.errors());
}

/// A zip written with UTF-8 names (flag bit 11 set) holding a zip and a tar.gz, from
/// books/429-内经知要.txt and dialogue/IM_内科.txt.
#[test]
fn nested_archives_and_utf8_flagged_names() {
    let book = read(BOOK);
    let dialogue = read(DIALOGUE);
    let inner = zip_of(&[("内科/问诊.txt", &dialogue)]);
    let tgz = gzip(&tar_of(&[("医经/内经知要.txt", &book)]));
    let outer = zip_of(&[
        ("资料/内层.zip", &inner),
        ("资料/医经.tar.gz", &tgz),
        ("资料/空文件.txt", b""),
    ]);
    let flags = u16::from_le_bytes([outer[6], outer[7]]);
    assert_ne!(
        flags & 0x800,
        0,
        "the zip writer sets bit 11 for UTF-8 names"
    );
    let run = Run::new();
    run.write("外层.zip", &outer);
    assert_ok(&run.run("", &[]));
    let docs = run.docs();
    doc_text(&docs, "外层.zip!/资料/内层.zip!/内科/问诊.txt");
    doc_text(&docs, "外层.zip!/资料/医经.tar.gz!/医经/内经知要.txt");
    assert!(run
        .rejects()
        .iter()
        .any(|r| r["source"] == "外层.zip!/资料/空文件.txt" && r["reason"] == "empty-file"));
}

/// A member of 1 GiB of zeros deflated to about 1 MiB, beside a real book: the bomb stops at
/// the ratio limit, the book is kept.
#[test]
fn zip_bomb_stops_at_the_ratio_limit() {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .large_file(false);
    zip.start_file("book.txt", options).unwrap();
    zip.write_all(&read(BOOK)).unwrap();
    zip.start_file("zeros.txt", options).unwrap();
    let block = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        zip.write_all(&block).unwrap();
    }
    let bomb = zip.finish().unwrap().into_inner();
    eprintln!("zip bomb: {} bytes", bomb.len());
    assert!(bomb.len() < 2 << 20);
    let run = Run::new();
    run.write("bomb.zip", &bomb);
    let started = std::time::Instant::now();
    assert_ok(&run.run("", &[]));
    eprintln!("zip bomb: {:?}", started.elapsed());
    let ratio = errors_naming(&run, "extract.archive.max_ratio");
    assert_eq!(sources(&ratio), ["bomb.zip!/zeros.txt".to_string()].into());
    doc_text(&run.docs(), "bomb.zip!/book.txt");
}

/// 30 zips, each inside the next, around dialogue/IM_内科.txt.
#[test]
fn deeply_nested_zip_stops_at_the_depth_limit() {
    let mut archive = zip_of(&[("问诊.txt", &read(DIALOGUE))]);
    for level in (1..30).rev() {
        archive = zip_of(&[(&format!("level{level}.zip"), &archive)]);
    }
    let run = Run::new();
    run.write("deep.zip", &archive);
    assert_ok(&run.run("", &[]));
    let depth = errors_naming(&run, "extract.archive.max_depth (8)");
    assert_eq!(depth.len(), 1, "{:?}", run.errors());
    let source = depth[0]["source"].as_str().unwrap();
    assert_eq!(source.matches(".zip").count(), 9, "{source}");
    assert!(run.docs().is_empty());
}

/// Twelve copies of books/429-内经知要.txt: with room for five, five are kept and the limit
/// is named once.
#[test]
fn total_bytes_and_entry_limits_keep_what_was_read_before() {
    let book = read(BOOK);
    let names: Vec<String> = (0..12).map(|i| format!("副本{i:02}.txt")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &book[..])).collect();
    let archive = zip_of(&entries);
    let limits = format!(
        "[dedup]\ndocuments = false\nparagraph_min_chars = 0\n[near_dedup]\nenabled = false\n[extract.archive]\nmax_total_bytes = {}\n",
        book.len() * 5 + 10
    );
    let run = Run::new();
    run.write("copies.zip", &archive);
    assert_ok(&run.run(&limits, &[]));
    assert_eq!(run.docs().len(), 5);
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["source"], "copies.zip!/副本05.txt");
    assert!(errors[0]["error"]
        .as_str()
        .unwrap()
        .contains("extract.archive.max_total_bytes"));

    let run = Run::new();
    run.write("copies.zip", &archive);
    let limits =
        "[dedup]\ndocuments = false\nparagraph_min_chars = 0\n[near_dedup]\nenabled = false\n[extract.archive]\nmax_entries = 3\n";
    assert_ok(&run.run(limits, &[]));
    assert_eq!(run.docs().len(), 3);
    assert_eq!(sources(&errors_naming(&run, "max_entries (3)")).len(), 1);
}

#[test]
fn damaged_archives_are_errors_and_the_run_goes_on() {
    let archive = std::fs::read(shared("corpus/archives/Inverse-Kinematics__论文.7z")).unwrap();
    let tgz = gzip(&tar_of(&[("a/内经知要.txt", &read(BOOK))]));
    let run = Run::new();
    run.write("truncated.7z", &archive[..archive.len() / 2]);
    run.write("truncated.tar.gz", &tgz[..tgz.len() / 2]);
    run.write(
        "random.zip",
        b"PK\x03\x04 this is not really a zip file at all",
    );
    // An interrupted download: ten records of dialogue/IM_内科.txt, the last 40% cut off.
    let records = split_records(&read(DIALOGUE));
    let names: Vec<String> = (0..10).map(|i| format!("问诊{i}.txt")).collect();
    let entries: Vec<(&str, &[u8])> = names
        .iter()
        .zip(&records)
        .map(|(n, r)| (n.as_str(), r.as_slice()))
        .collect();
    let cut = zip_of(&entries);
    run.write("cut.zip", &cut[..cut.len() * 6 / 10]);
    run.add(&shared(BOOK), "book.txt");
    assert_ok(&run.run("", &[]));
    let failed = sources(&run.errors());
    for name in ["truncated.7z", "random.zip"] {
        assert!(failed.contains(name), "{name} not in {failed:?}");
    }
    assert!(failed.iter().any(|s| s.starts_with("truncated.tar.gz")));
    let docs = run.docs();
    doc_text(&docs, "book.txt");
    let kept = docs
        .iter()
        .filter(|d| d["source"].as_str().unwrap().starts_with("cut.zip!/"))
        .count();
    assert!(
        (3..10).contains(&kept),
        "entries before the cut are kept: {kept}"
    );
    assert!(failed.contains("cut.zip"));
}

/// 42.zip-style fan-out: 16 zips in each of 5 levels around 16 MiB of zeros (16 TiB nominal,
/// 25 KB on disk). Every level looks harmless alone; the ratio over the whole tree stops it.
#[test]
fn fan_out_bomb_stops_at_the_ratio_of_the_whole_tree() {
    let mut archive = zip_of(&[("0.txt", &vec![0u8; 16 << 20])]);
    for _ in 0..5 {
        let names: Vec<String> = (0..16).map(|i| format!("{i}.zip")).collect();
        let entries: Vec<(&str, &[u8])> =
            names.iter().map(|n| (n.as_str(), &archive[..])).collect();
        archive = zip_of(&entries);
    }
    assert!(archive.len() < 1 << 20);
    let run = Run::new();
    run.write("fanout.zip", &archive);
    run.add(&shared(BOOK), "book.txt");
    assert_ok(&run.run("", &[]));
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "one error for the whole tree: {errors:?}");
    assert!(errors[0]["error"]
        .as_str()
        .unwrap()
        .contains("extract.archive.max_ratio"));
    doc_text(&run.docs(), "book.txt");
}
