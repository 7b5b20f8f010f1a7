//! Issue 3: the default pipeline over all of ../shared/corpus (every format of the user's pile)
//! finishes, and every input file is accounted for in docs, rejects or errors.jsonl. Prints the
//! per-format table the README shows.
mod common;
use common::*;
use std::collections::BTreeSet;
use std::path::Path;

fn files_under(root: &Path, dir: &Path, found: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(root, &path, found);
        } else {
            found.insert(
                path.strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
}

#[test]
fn every_file_of_the_real_corpus_is_accounted_for() {
    let run = Run::new();
    let corpus = shared("corpus");
    assert_ok(&run.run(&format!("[input]\npaths = [{corpus:?}]\n"), &[]));
    let mut inputs = BTreeSet::new();
    files_under(&corpus, &corpus, &mut inputs);
    let mut accounted = BTreeSet::new();
    for record in run.docs().iter().chain(&run.rejects()).chain(&run.errors()) {
        let source = record["source"].as_str().unwrap();
        // An archive member or a record is accounted to the file that holds it.
        let file = source
            .split("!/")
            .next()
            .unwrap()
            .split('#')
            .next()
            .unwrap();
        accounted.insert(file.to_string());
    }
    let missing: Vec<&String> = inputs.difference(&accounted).collect();
    assert!(
        missing.is_empty(),
        "in none of docs, rejects, errors: {missing:?}"
    );

    let manifest = run.manifest();
    let by_format = manifest["ingest"]["by_format"].as_object().unwrap();
    let total: u64 = by_format
        .values()
        .map(|c| c["files"].as_u64().unwrap())
        .sum();
    assert_eq!(
        total as usize,
        inputs.len(),
        "every file counted once in the format table"
    );
    println!("| format | files | documents kept | rejected | errors |\n|---|---|---|---|---|");
    for (format, c) in by_format {
        println!(
            "| {format} | {} | {} | {} | {} |",
            c["files"], c["docs"], c["rejects"], c["errors"]
        );
    }
    for format in [
        "pdf", "docx", "xlsx", "zip", "rar", "7z", "epub", "html", "csv", "jsonl",
    ] {
        assert!(
            by_format[format]["docs"].as_u64().unwrap() > 0,
            "{format} gives documents"
        );
    }
}
