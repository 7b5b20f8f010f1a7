//! Issue 11: the same pipeline as Slurm job arrays, byte-identical to a local run. Needs a
//! running Slurm cluster: .ci/run starts a one-node one (scripts/slurm-local-cluster.sh).
mod common;
use common::*;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn submissions(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("state/slurm.json")).unwrap()).unwrap()
}

fn status(out: &Path) -> String {
    String::from_utf8_lossy(&medcorpus().arg("status").arg(out).output().unwrap().stdout)
        .into_owned()
}

fn wait_until(out: &Path, what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "timed out waiting for {what}:\n{}",
            status(out)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn submit(run: &Run, extra: &str, args: &[&str]) {
    let output = run.run(
        extra,
        &[
            &["--executor", "slurm", "--tasks", "4", "--threads", "1"],
            args,
        ]
        .concat(),
    );
    assert_ok(&output);
}

fn local_reference(extra: &str) -> serde_json::Value {
    let local = Run::new();
    assert_ok(&local.run(extra, &[]));
    local.manifest()["files"].clone()
}

#[test]
fn slurm_runs_equal_local_runs_on_the_demo_and_the_text_corpus() {
    // The text corpus also trains a vocabulary (word counts are an array too), and publishes
    // shuffled documents prepared by an array.
    for (input, vocab) in [
        ("samples/demo".to_string(), ""),
        (
            shared("corpus/text").display().to_string(),
            "[vocab]\nmode = \"train\"\nsize = 8000\n[tokenize]\nvocab = \"run\"\n[bert]\nshuffle = true\n",
        ),
    ] {
        let extra = format!("[input]\npaths = [{input:?}]\n{vocab}");
        let run = Run::new();
        submit(&run, &extra, &[]);
        wait_until(&run.out(), "the finish job", || {
            run.out().join("report.json").exists()
        });
        assert_eq!(
            run.manifest()["files"],
            local_reference(&extra),
            "{input}: every artefact identical"
        );
        assert!(
            status(&run.out()).contains("finish job"),
            "{}",
            status(&run.out())
        );
    }
}

#[test]
fn a_cancelled_array_task_is_resubmitted_by_resume() {
    let extra = format!("[input]\npaths = [{:?}]\n", shared("corpus/text"));
    let run = Run::new();
    // Held at submission, so task 1 is cancelled before it can run.
    submit(&run, &extra, &["--slurm-arg=--hold"]);
    let jobs = submissions(&run.out())["jobs"].as_array().unwrap().clone();
    let phases: Vec<&str> = jobs.iter().map(|j| j["phase"].as_str().unwrap()).collect();
    assert_eq!(
        phases,
        [
            "extract",
            "exact-dedup",
            "near-sign",
            "near-lsh",
            "near-dedup",
            "publish-prepare",
            "finish"
        ]
    );
    let ids: Vec<String> = jobs
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_string())
        .collect();
    let extract = ids[0].clone();
    assert!(Command::new("scancel")
        .arg(format!("{extract}_1"))
        .status()
        .unwrap()
        .success());
    assert!(Command::new("scontrol")
        .arg("release")
        .args(&ids)
        .status()
        .unwrap()
        .success());
    wait_until(&run.out(), "the other tasks", || {
        let s = status(&run.out());
        ["task 0", "task 2", "task 3"]
            .iter()
            .all(|t| s.lines().any(|l| l.contains(t) && l.contains("finished")))
    });
    assert!(
        !run.out().join("report.json").exists(),
        "finish must not run without task 1"
    );
    assert!(
        status(&run.out()).contains("failed or cancelled"),
        "{}",
        status(&run.out())
    );

    submit(&run, &extra, &["--resume"]);
    let resubmitted = submissions(&run.out())["jobs"].as_array().unwrap().clone();
    let again: Vec<(&str, &serde_json::Value)> = resubmitted[7..]
        .iter()
        .map(|j| (j["phase"].as_str().unwrap(), &j["tasks"]))
        .collect();
    let all = serde_json::json!([0, 1, 2, 3]);
    assert_eq!(
        again,
        [
            // Only the cancelled extraction task runs again...
            ("extract", &serde_json::json!([1])),
            // ...and every phase after it, over the new documents.
            ("exact-dedup", &all),
            ("near-sign", &all),
            ("near-lsh", &all),
            ("near-dedup", &serde_json::json!([])),
            ("publish-prepare", &all),
            ("finish", &serde_json::json!([])),
        ]
    );
    wait_until(&run.out(), "the resumed run", || {
        run.out().join("report.json").exists()
    });
    assert_eq!(run.manifest()["files"], local_reference(&extra));
}
