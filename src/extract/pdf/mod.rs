//! PDF: text per page through an engine, pages kept apart by PAGE_BREAK. No engine reports
//! image-only pages or fonts without a Unicode map, so the text is judged here: no text layer ⇒
//! `scanned-no-text`; garbled text ⇒ the other engine; still garbled ⇒ `garbled`. Engines:
//! poppler's pdftotext (child process, bounded; the default) and the pdf-extract crate.
mod in_process;
mod poppler;
pub mod quality;

use super::tool::{self, Limits};
use super::ExtractConfig;
use crate::document::{Document, Outcome, Reject, PAGE_BREAK};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::{Once, OnceLock};

/// Which engine reads a PDF first (`extract.pdf_engine`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EngineChoice {
    /// Poppler when `pdftotext` is installed, else pdf-extract (with one warning).
    #[default]
    Auto,
    Poppler,
    PdfExtract,
}

/// What an engine reads from one PDF.
pub struct PdfInput<'a> {
    pub bytes: &'a [u8],
    /// The file on disk, when there is one (archive members have none).
    pub path: Option<&'a Path>,
    pub limits: Limits,
}

pub struct EngineText {
    pub pages: Vec<String>,
    /// Pages the engine could not read (left empty in `pages`).
    pub pages_failed: usize,
}

#[derive(Debug)]
pub enum EngineError {
    /// The document needs a user password: no engine can read it.
    NeedsPassword,
    /// Killed on a time, memory or output limit: not retried in process, where nothing bounds it.
    Stopped(String),
    Failed(String),
}

pub trait PdfEngine: Sync {
    fn name(&self) -> &'static str;
    fn pages(&self, input: &PdfInput) -> Result<EngineText, EngineError>;
}

static POPPLER: poppler::Poppler = poppler::Poppler;
static PDF_EXTRACT: in_process::PdfExtract = in_process::PdfExtract;

fn poppler_installed() -> bool {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    *INSTALLED.get_or_init(|| tool::on_path(poppler::PROGRAM))
}

/// Checks the choice against what is installed; warns once when `auto` falls back.
pub fn check_engine(choice: EngineChoice) -> Result<()> {
    if choice == EngineChoice::Poppler && !poppler_installed() {
        bail!(
            "key `extract.pdf_engine`: \"poppler\" needs `pdftotext`, which is not on PATH \
             (Debian/Ubuntu: apt-get install poppler-utils poppler-data)"
        );
    }
    engines(choice);
    Ok(())
}

/// Engines in the order they are tried.
fn engines(choice: EngineChoice) -> Vec<&'static dyn PdfEngine> {
    static WARNING: Once = Once::new();
    let poppler = poppler_installed();
    match choice {
        EngineChoice::Auto | EngineChoice::Poppler if poppler => vec![&POPPLER, &PDF_EXTRACT],
        EngineChoice::PdfExtract if poppler => vec![&PDF_EXTRACT, &POPPLER],
        _ => {
            if choice == EngineChoice::Auto {
                WARNING.call_once(|| {
                    tracing::warn!(
                        "pdftotext not found: PDFs are read with pdf-extract, which is slower and \
                         fails on many Chinese journal PDFs; install poppler \
                         (apt-get install poppler-utils poppler-data)"
                    )
                });
            }
            vec![&PDF_EXTRACT]
        }
    }
}

pub fn extract(
    source: &str,
    bytes: &[u8],
    path: Option<&Path>,
    config: &ExtractConfig,
) -> Result<Vec<Outcome>> {
    let input = PdfInput {
        bytes,
        path,
        limits: config.tool_limits(),
    };
    let mut problems = Vec::new();
    let mut first_garbled: Option<(&dyn PdfEngine, EngineText, quality::Assessment)> = None;
    for engine in engines(config.pdf_engine) {
        let text = match engine.pages(&input) {
            Ok(text) => text,
            Err(EngineError::NeedsPassword) => {
                bail!("encrypted PDF that needs a password to open: not read")
            }
            Err(EngineError::Stopped(e)) => {
                problems.push(format!("{}: {e}", engine.name()));
                break;
            }
            Err(EngineError::Failed(e)) => {
                problems.push(format!("{}: {e}", engine.name()));
                continue;
            }
        };
        let assessment = quality::assess(&text.pages, config.pdf_garbled_share);
        if !assessment.has_text() {
            let mut doc = Document::new(source, None, String::new());
            describe(&mut doc, engine, &text, &assessment);
            let detail = format!(
                "{} pages, none with a text layer (needs OCR)",
                assessment.pages
            );
            return Ok(vec![Outcome::Rejected(Reject::of(
                &doc,
                "scanned-no-text",
                Some(detail),
            ))]);
        }
        // An engine that drops the unmapped glyphs instead of garbling them recovers little:
        // that is not a reading of the document either.
        let garbled_chars = first_garbled.as_ref().map_or(0, |(_, _, g)| g.total.chars);
        if assessment.total.chars * 2 < garbled_chars {
            problems.push(format!(
                "{}: only {} characters where the garbled text had {garbled_chars}",
                engine.name(),
                assessment.total.chars,
            ));
            continue;
        }
        if assessment.is_garbled(config.pdf_garbled_share) {
            problems.push(format!(
                "{}: {:.0}% implausible characters",
                engine.name(),
                100.0 * assessment.total.share()
            ));
            first_garbled.get_or_insert((engine, text, assessment));
            continue;
        }
        return Ok(vec![Outcome::Kept(document(
            source,
            engine,
            text,
            &assessment,
        ))]);
    }
    if let Some((engine, text, assessment)) = first_garbled {
        // The reject's sample shows the garbled text itself.
        let mut doc = Document::new(source, None, text.pages.concat());
        describe(&mut doc, engine, &text, &assessment);
        let detail = format!(
            "fonts without a Unicode map? {} of {} pages garbled ({})",
            assessment.garbled_pages.len(),
            assessment.pages,
            problems.join("; ")
        );
        return Ok(vec![Outcome::Rejected(Reject::of(
            &doc,
            "garbled",
            Some(detail),
        ))]);
    }
    bail!("no PDF engine could read the file: {}", problems.join("; "))
}

/// The kept document: pages joined by PAGE_BREAK, garbled pages left empty.
fn document(
    source: &str,
    engine: &dyn PdfEngine,
    mut text: EngineText,
    assessment: &quality::Assessment,
) -> Document {
    for &index in &assessment.garbled_pages {
        if let Some(page) = text.pages.get_mut(index) {
            page.clear();
        }
    }
    let mut joined = String::with_capacity(text.pages.iter().map(String::len).sum());
    for (index, page) in text.pages.iter().enumerate() {
        if index > 0 {
            joined.push(PAGE_BREAK);
        }
        // A form feed inside a page would read as a page break downstream.
        joined.extend(page.chars().map(|c| if c == PAGE_BREAK { '\n' } else { c }));
    }
    let mut doc = Document::new(source, None, joined);
    describe(&mut doc, engine, &text, assessment);
    doc
}

fn describe(
    doc: &mut Document,
    engine: &dyn PdfEngine,
    text: &EngineText,
    assessment: &quality::Assessment,
) {
    doc.set_meta("engine", engine.name());
    doc.set_meta("pages", assessment.pages);
    doc.set_meta("pages_without_text", assessment.pages_without_text);
    if !assessment.garbled_pages.is_empty() {
        doc.set_meta("pages_garbled", assessment.garbled_pages.len());
    }
    if text.pages_failed > 0 {
        doc.set_meta("pages_failed", text.pages_failed);
    }
}
