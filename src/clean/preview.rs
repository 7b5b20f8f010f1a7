//! `medcorpus clean-preview FILE`: a file's text before and after cleaning, interleaved like a
//! diff (`-` extracted lines, `+` the cleaned line they became), then every filter rule's
//! measure against its limit, so a user can see what cleaning does and tune thresholds.
use super::{CleanConfig, Cleaner};
use crate::document::{Document, Outcome};
use crate::extract::ExtractConfig;
use crate::filter::{describe, Filter, FilterConfig};
use anyhow::Result;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

pub struct PreviewOptions {
    /// Documents shown in full (a JSON-lines file holds thousands); all are counted.
    pub show_docs: usize,
    /// Lines of cleaned text shown per document (0: all).
    pub max_lines: usize,
    /// Instead of the text, one tab-separated line per document with every rule's measure.
    pub measures: bool,
}

pub fn preview(
    file: &Path,
    extract: &ExtractConfig,
    clean: &CleanConfig,
    filter: &FilterConfig,
    options: &PreviewOptions,
) -> Result<String> {
    let cleaner = Cleaner::new(clean)?;
    let rules = Filter::new(filter)?;
    let input = crate::walk::Input {
        path: file.to_path_buf(),
        source: file.display().to_string(),
        size: std::fs::metadata(file)?.len(),
    };
    let extraction = crate::extract::extract_file(&input, extract);
    let mut out = String::new();
    let mut shown = 0;
    let mut docs = 0;
    let mut drops: BTreeMap<String, usize> = BTreeMap::new();
    for outcome in extraction.outcomes {
        let doc = match outcome {
            Outcome::Kept(doc) => doc,
            Outcome::Rejected(r) => {
                *drops.entry(r.reason).or_default() += 1;
                continue;
            }
            Outcome::Failed(f) => {
                writeln!(out, "failed in {}: {}", f.stage, f.error)?;
                continue;
            }
        };
        docs += 1;
        let before = doc.text.clone();
        let cleaned = cleaner.clean(doc);
        let judgements = rules.judge(&cleaned);
        let failed = judgements.iter().find(|j| j.measure.fails());
        if let Some(j) = failed {
            *drops.entry(j.reason.to_string()).or_default() += 1;
        }
        if options.measures {
            write_measures(&mut out, &cleaned, &judgements, failed.map(|j| j.reason))?;
            continue;
        }
        if shown < options.show_docs {
            shown += 1;
            write_document(&mut out, &before, &cleaned, options)?;
            writeln!(out, "filters:")?;
            for j in &judgements {
                let mark = if j.measure.fails() { "DROP" } else { "ok" };
                writeln!(
                    out,
                    "  {mark:<4}  {:<18} {}",
                    j.reason,
                    describe(j.what, &j.measure)
                )?;
            }
            match failed {
                Some(j) => writeln!(out, "verdict: dropped, reason `{}`\n", j.reason)?,
                None => writeln!(out, "verdict: kept\n")?,
            }
        }
    }
    if options.measures {
        return Ok(out);
    }
    writeln!(
        out,
        "{docs} document(s) from {} ({}); {} would be kept",
        file.display(),
        extraction.format,
        docs - drops.values().sum::<usize>().min(docs)
    )?;
    for (reason, n) in &drops {
        writeln!(out, "  dropped `{reason}`: {n}")?;
    }
    Ok(out)
}

/// `source  record  verdict  reason=value …`: for measuring rules over a whole corpus.
fn write_measures(
    out: &mut String,
    doc: &Document,
    judgements: &[crate::filter::Judgement],
    dropped: Option<&str>,
) -> Result<()> {
    let record = doc
        .meta
        .get("record")
        .map(|r| r.to_string())
        .unwrap_or_default();
    write!(
        out,
        "{}\t{record}\t{}",
        doc.source,
        dropped.unwrap_or("kept")
    )?;
    for j in judgements {
        write!(out, "\t{}={:.4}", j.reason, j.measure.value)?;
    }
    writeln!(out)?;
    Ok(())
}

fn write_document(
    out: &mut String,
    before: &str,
    doc: &Document,
    options: &PreviewOptions,
) -> Result<()> {
    let record = doc
        .meta
        .get("record")
        .map(|r| format!(" record {r}"))
        .unwrap_or_default();
    writeln!(out, "=== {}{record}", doc.source)?;
    let notes: Vec<String> = [
        "pages",
        "empty_pages",
        "furniture_lines",
        "garbage_chars",
        "chars_extracted",
    ]
    .iter()
    .filter_map(|k| doc.meta.get(*k).map(|v| format!("{k}={v}")))
    .collect();
    writeln!(
        out,
        "{} chars after cleaning; {}",
        doc.text.chars().count(),
        notes.join(" ")
    )?;
    let before_lines: Vec<&str> = before.split(['\n', crate::document::PAGE_BREAK]).collect();
    let mut cursor = 0;
    for (n, line) in doc.text.split('\n').enumerate() {
        if options.max_lines > 0 && n >= options.max_lines {
            writeln!(out, "… (more lines; --lines 0 shows all)")?;
            return Ok(());
        }
        let end = source_end(&before_lines, cursor, line);
        for old in &before_lines[cursor..end] {
            writeln!(out, "- {old}")?;
        }
        writeln!(out, "+ {line}")?;
        cursor = end;
    }
    for old in &before_lines[cursor..] {
        writeln!(out, "- {old}")?;
    }
    Ok(())
}

/// Where, in the extracted lines from `cursor` on, the cleaned `line` ends: the first line
/// holding its last few characters (spaces ignored). Lines that vanished (headers, page
/// numbers) are shown with the cleaned line after them.
fn source_end(before: &[&str], cursor: usize, line: &str) -> usize {
    let tail: String = {
        let chars: Vec<char> = line.chars().filter(|c| !c.is_whitespace()).collect();
        chars[chars.len().saturating_sub(4)..].iter().collect()
    };
    if tail.is_empty() {
        return (cursor + 1).min(before.len());
    }
    // Only look a little ahead: a short tail may also occur much later.
    let window = before.len().min(cursor + 200);
    for (i, old) in before[cursor..window].iter().enumerate() {
        let squeezed: String = old.chars().filter(|c| !c.is_whitespace()).collect();
        if squeezed.contains(&tail) {
            return cursor + i + 1;
        }
    }
    cursor
}
