//! Issue 8: a night's run survives kill -9 and hostile files.
mod common;
use common::*;
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

fn artefacts(run: &Run) -> serde_json::Value {
    run.manifest()["files"].clone()
}

#[test]
fn kill_9_then_resume_gives_the_same_artefacts() {
    let extra = format!("[input]\npaths = [{:?}]\n", shared("corpus/text"));
    let reference = Run::new();
    assert_ok(
        &medcorpus()
            .arg("run")
            .arg(reference.pipeline(&extra))
            .output()
            .unwrap(),
    );
    // Kill at several points of the run; each resume must still end identical.
    for delay_ms in [150, 400, 900] {
        let killed = Run::new();
        let pipeline = killed.pipeline(&extra);
        let mut child = medcorpus()
            .arg("run")
            .arg(&pipeline)
            .args(["--threads", "1"])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        let resumed = medcorpus()
            .arg("run")
            .arg(&pipeline)
            .arg("--resume")
            .output()
            .unwrap();
        assert_ok(&resumed);
        assert_eq!(
            artefacts(&killed),
            artefacts(&reference),
            "killed after {delay_ms} ms"
        );
        assert!(
            walk(&killed.out()).iter().all(|p| !p.ends_with(".tmp")),
            "no temporary file is left behind"
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path.to_string_lossy().into_owned());
        }
    }
    found
}

#[test]
fn hostile_files_cost_only_themselves() {
    let run = Run::new();
    run.add(
        &shared("corpus/text/books/TCM-Ancient-Books/429-内经知要.txt"),
        "good/内经知要.txt",
    );
    run.add(
        &shared("corpus/text/misc/html/莆田系医院都有哪些内幕？.html"),
        "html-named.pdf",
    );
    run.write(
        "random.pdf",
        &(0..50_000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect::<Vec<_>>(),
    );
    run.write("nul-filled.txt", &vec![0u8; 200_000]);
    // A 100 MB single line of real Chinese text (another book, newlines removed, repeated).
    let other = shared("corpus/text/books/TCM-Ancient-Books/013-本草纲目.txt");
    let book = encoding_rs::GB18030
        .decode(&std::fs::read(other).unwrap())
        .0
        .replace(['\n', '\r'], "");
    let line: String = book.repeat(100_000_000 / book.len() + 1);
    run.write("one-line.txt", line.as_bytes());
    // A file name that is not UTF-8 (GBK bytes of 病历.txt).
    let name = std::ffi::OsStr::from_bytes(b"\xb2\xa1\xc0\xfa.txt");
    std::fs::write(
        run.input().join(name),
        "患者男性，六十五岁，因胸痛三小时入院。".repeat(3),
    )
    .unwrap();
    let fifo = run.input().join("queue.fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    std::os::unix::fs::symlink(run.input(), run.input().join("loop")).unwrap();

    let output = run.run(
        "[input]\nfollow_symlinks = true\npaths = [\"IN\"]\n"
            .replace("IN", run.input().to_str().unwrap())
            .as_str(),
        &[],
    );
    assert_ok(&output);
    let errors = run.errors();
    let error_for = |needle: &str| {
        errors
            .iter()
            .find(|e| e["source"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("no error for {needle}: {errors:?}"))
    };
    assert!(error_for("queue.fifo")["error"]
        .as_str()
        .unwrap()
        .contains("fifo"));
    assert!(error_for("loop")["error"]
        .as_str()
        .unwrap()
        .contains("visited"));
    assert!(error_for("nul-filled.txt")["error"]
        .as_str()
        .unwrap()
        .contains("NUL"));
    error_for("random.pdf");
    let docs = run.docs();
    let sources: Vec<&str> = docs.iter().map(|d| d["source"].as_str().unwrap()).collect();
    assert!(
        sources.contains(&"good/内经知要.txt"),
        "the good file beside them is kept: {sources:?}"
    );
    assert!(sources.contains(&"one-line.txt"));
    assert!(
        sources.iter().any(|s| s.contains('\u{FFFD}')),
        "the non-UTF-8 name is kept, lossily shown"
    );
    let html = docs
        .iter()
        .chain(run.rejects().iter())
        .chain(errors.iter())
        .any(|d| d["source"] == "html-named.pdf");
    assert!(html, "HTML saved as .pdf is accounted for");
    let peak_mb = run.manifest()["peak_rss_mb"].as_f64().unwrap();
    eprintln!("peak RSS with a 100 MB one-line file: {peak_mb:.0} MB");
    assert!(peak_mb < 2048.0, "memory stays bounded: {peak_mb} MB");
}

#[test]
fn a_worker_over_its_memory_limit_costs_only_its_file() {
    let run = Run::new();
    run.add(
        &shared("corpus/text/ruijin/round1_train2/0.txt"),
        "small.txt",
    );
    // 60 MB of real text: decoding and cleaning it needs far more than the 128 MiB allowed.
    let text = std::fs::read_to_string(shared("corpus/text/ruijin/round1_train2/25.txt")).unwrap();
    run.write("huge.txt", text.repeat(60_000_000 / text.len()).as_bytes());
    let output = run.run("[isolation]\nformats = [\"text\"]\nmemory_mb = 128\n", &[]);
    assert_ok(&output);
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["source"], "huge.txt");
    assert!(
        errors[0]["error"].as_str().unwrap().contains("memory"),
        "{errors:?}"
    );
    let docs = run.docs();
    assert_eq!(docs.len(), 1);
    assert_eq!(
        docs[0]["source"], "small.txt",
        "the file beside it, read in its own worker, is kept"
    );
}

/// Record files from `extract.stream_records_min_bytes` (64 MiB) up are read record by record
/// and written as they are read, so a multi-gigabyte JSON-lines dump never sits in memory as
/// documents. Streaming every record file of the text corpus (JSON lines, JSON arrays, a MinerU
/// content list that stays one document, a GBK CSV) gives the same artefacts as reading them
/// whole.
#[test]
fn streamed_record_files_give_the_same_artefacts() {
    let input = format!("[input]\npaths = [{:?}]\n", shared("corpus/text"));
    let whole = Run::new();
    assert_ok(
        &medcorpus()
            .arg("run")
            .arg(whole.pipeline(&input))
            .output()
            .unwrap(),
    );
    let streamed = Run::new();
    let pipeline = streamed.pipeline(&format!("{input}[extract]\nstream_records_min_bytes = 1\n"));
    assert_ok(&medcorpus().arg("run").arg(pipeline).output().unwrap());
    let log = std::fs::read_to_string(streamed.out().join("medcorpus.log")).unwrap();
    for file in [
        "Mainland_dev.jsonl",
        "CNMLEQA-3k.json",
        "样例_内科5000-6000.csv",
    ] {
        assert!(
            log.contains(&format!("{file}: read record by record")),
            "{file} streamed"
        );
    }
    assert_eq!(artefacts(&streamed), artefacts(&whole));
}
