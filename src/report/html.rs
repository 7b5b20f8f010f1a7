//! `report.html` (self-contained, opens offline: inline SVG charts drawn with plotters, no
//! scripts or external files) and `report.json` (the same figures for programs).
use super::charts::{bar_chart, Bar};
use crate::ingest::IngestStats;
use crate::run_dir::write_atomic;
use crate::shard::PublishStats;
use anyhow::Result;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

#[derive(Serialize)]
pub struct Report<'a> {
    pub medcorpus_version: &'static str,
    pub seconds: f64,
    pub phase_seconds: &'a BTreeMap<String, f64>,
    pub peak_rss_mb: f64,
    pub ingest: &'a IngestStats,
    pub publish: &'a PublishStats,
    /// A few rejected samples per reason.
    pub reject_samples: &'a BTreeMap<String, Vec<String>>,
    /// Statistics of optional phases (near-duplicates, vocabulary, tokens), by phase name.
    pub phases: &'a BTreeMap<String, serde_json::Value>,
}

pub fn write(root: &Path, report: &Report) -> Result<()> {
    write_atomic(
        &root.join("report.json"),
        &serde_json::to_vec_pretty(report)?,
    )?;
    write_atomic(&root.join("report.html"), render(report)?.as_bytes())
}

fn render(r: &Report) -> Result<String> {
    let i = r.ingest;
    let mb = i.bytes_in as f64 / 1e6;
    let mut h = String::from(concat!(
        "<!DOCTYPE html><html lang=\"zh\"><head><meta charset=\"utf-8\"><title>medcorpus report</title>",
        "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}",
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}",
        "td:first-child,th:first-child{text-align:left}.sample{text-align:left;max-width:600px;font-size:90%}",
        ".cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:1px solid #ccc;border-radius:6px;padding:.6em 1em}",
        ".card b{display:block;font-size:150%}</style></head><body>"
    ));
    writeln!(
        h,
        "<h1>medcorpus run report</h1><p>medcorpus {} · {:.1} s · peak memory {:.0} MB</p>",
        r.medcorpus_version, r.seconds, r.peak_rss_mb
    )?;
    h += "<div class=\"cards\">";
    for (label, value) in [
        ("input files", i.files.to_string()),
        ("input", format!("{mb:.1} MB")),
        ("documents kept", r.publish.docs.to_string()),
        ("characters kept", r.publish.chars.to_string()),
        ("rejected", i.rejected.values().sum::<u64>().to_string()),
        ("errors", i.errors.values().sum::<u64>().to_string()),
        (
            "throughput",
            format!("{:.1} MB/s", mb / r.seconds.max(1e-9)),
        ),
    ] {
        write!(h, "<div class=\"card\">{label}<b>{value}</b></div>")?;
    }
    h += "</div><h2>Funnel</h2>";
    let funnel = [
        ("input files", i.files),
        ("documents extracted", i.extracted),
        ("kept after filters and dedup", i.kept),
        ("published", r.publish.docs),
    ];
    h += &bar_chart(&funnel.map(|(l, v)| Bar::new(l, v)))?;
    h += "<h2>Rejected documents by reason</h2>";
    let reasons: Vec<Bar> = i
        .rejected
        .iter()
        .map(|(reason, n)| Bar::new(reason, *n))
        .collect();
    h += &bar_chart(&reasons)?;
    h += "<table><tr><th>reason</th><th>documents</th><th>samples</th></tr>";
    for (reason, n) in &i.rejected {
        let samples = r
            .reject_samples
            .get(reason)
            .map(|s| s.iter().map(|t| escape(t)).collect::<Vec<_>>().join("<hr>"))
            .unwrap_or_default();
        write!(
            h,
            "<tr><td>{}</td><td>{n}</td><td class=\"sample\">{samples}</td></tr>",
            escape(reason)
        )?;
    }
    h += "</table><h2>Inputs by format</h2><table><tr><th>format</th><th>files</th><th>documents kept</th><th>rejected</th><th>errors</th><th>pages read by OCR</th></tr>";
    for (format, c) in &i.by_format {
        write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(format),
            c.files,
            c.docs,
            c.rejects,
            c.errors,
            c.ocr_pages
        )?;
    }
    h += "</table><p>Errors by stage: ";
    h += &i
        .errors
        .iter()
        .map(|(stage, n)| format!("{} {n}", escape(stage)))
        .collect::<Vec<_>>()
        .join(", ");
    h += " (details in <code>errors.jsonl</code>)</p><h2>Document length (characters)</h2>";
    let lengths: Vec<Bar> = r
        .publish
        .length_histogram
        .iter()
        .enumerate()
        .map(|(k, n)| Bar::new(&format!("{}–{}", 1u64 << k, (1u64 << (k + 1)) - 1), *n))
        .collect();
    h += &bar_chart(&lengths)?;
    write!(
        h,
        "<h2>BERT text</h2><table><tr><th>split</th><th>documents</th><th>sentences</th></tr><tr><td>train</td><td>{}</td><td>{}</td></tr><tr><td>valid</td><td>{}</td><td>{}</td></tr></table>",
        r.publish.train_docs, r.publish.train_sentences, r.publish.valid_docs, r.publish.valid_sentences
    )?;
    h += "<h2>Time per phase</h2>";
    let phases: Vec<Bar> = r
        .phase_seconds
        .iter()
        .map(|(p, s)| Bar::new(&format!("{p} ({s:.1} s)"), (s * 1000.0) as u64))
        .collect();
    h += &bar_chart(&phases)?;
    for (phase, stats) in r.phases {
        write!(
            h,
            "<h2>{}</h2><pre>{}</pre>",
            escape(phase),
            escape(&serde_json::to_string_pretty(stats)?)
        )?;
    }
    h += "</body></html>\n";
    Ok(h)
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
