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
