//! OCR for what extraction could not read, when `[ocr] mode` is on: PDFs without a text layer
//! (rejected `scanned-no-text` by the extractor), blank pages inside PDFs (image pages and
//! pages whose garbled text the extractor blanked), pages that are mostly picture with a
//! heading for text, scanned books whose hidden OCR layer is poor, image files, and with
//! `mode = "always"` every PDF page. It runs here in the parent, after the extraction worker,
//! whose limits are sized for parsers, not for the minutes OCR takes per book; the OCR module
//! bounds each page and the number of OCR processes itself. Archive members are not OCR'd (no
//! file to render).
use super::ocr_layer;
use crate::document::{Document, Failure, Outcome, Reject, PAGE_BREAK};
use crate::extract::Extraction;
use crate::ocr::{self, OcrConfig, OcrMode, PageOcr};
use crate::walk::Input;
use anyhow::{Context, Result};
use std::path::Path;
use std::process::Command;

pub fn recover(
    extraction: Extraction,
    input: &Input,
    config: &OcrConfig,
    cache: &Path,
) -> Extraction {
    if config.mode == OcrMode::Off {
        return extraction;
    }
    let format = extraction.format;
    let outcomes = extraction
        .outcomes
        .into_iter()
        .map(|outcome| {
            let result = match outcome {
                Outcome::Rejected(r)
                    if r.reason == "scanned-no-text" && r.source == input.source =>
                {
                    pages_of_pdf(&input.path).and_then(|n| {
                        ocr_pdf(input, None, &(1..=n).collect::<Vec<_>>(), config, cache)
                    })
                }
                Outcome::Kept(doc) if format == "pdf" && doc.source == input.source => {
                    redo_pages(doc, input, config, cache)
                }
                Outcome::Failed(f) if format == "image" && f.source == input.source => {
                    ocr::ocr_image_file(&input.path, config, Some(cache))
                        .map(|pages| assemble(input, None, &pages, config, "image"))
                }
                other => Ok(other),
            };
            result.unwrap_or_else(|e| {
                Outcome::Failed(Failure::new(&input.source, "ocr", format!("{e:#}")))
            })
        })
        .collect();
    Extraction { format, outcomes }
}

/// A page whose images cover at least this share of its area...
const IMAGE_PAGE_SHARE: f64 = 0.3;
/// ...while its text layer holds fewer characters than this is mostly picture, and is read by
/// OCR (`ocr.image_pages`). A page of body text holds 500–1,500 characters; below 200 the layer
/// is a heading, a caption or a page number, and the content is in the picture.
const IMAGE_PAGE_MAX_CHARS: usize = 200;

/// A PDF that has text: OCR its blank pages, the pages that are mostly picture and the scanned
/// pages of a poor OCR layer (all pages with `mode = "always"`) and put the recognised text in
/// their place.
fn redo_pages(doc: Document, input: &Input, config: &OcrConfig, cache: &Path) -> Result<Outcome> {
    let count = pages_of_pdf(&input.path)?;
    let texts: Vec<&str> = doc.text.split(PAGE_BREAK).collect();
    let chars = |p: u32| {
        texts
            .get(p as usize - 1)
            .map_or(0, |t| t.chars().filter(|c| !c.is_whitespace()).count())
    };
    let mut pages: Vec<u32> = (1..=count)
        .filter(|&p| config.mode == OcrMode::Always || chars(p) == 0)
        .collect();
    if config.mode == OcrMode::MissingText && config.image_pages {
        let few: Vec<u32> = (1..=count)
            .filter(|&p| (1..IMAGE_PAGE_MAX_CHARS).contains(&chars(p)))
            .collect();
        pages.extend(mostly_picture(input, &few, config));
    }
    let layer = if config.mode == OcrMode::MissingText
        && config.replace_poor_layers
        && texts.len() == count as usize
    {
        // A check that cannot run leaves the layer as it is: the text is still read.
        ocr_layer::check(input, &texts, config, cache).unwrap_or_else(|e| {
            tracing::warn!("{}: its OCR layer cannot be checked: {e:#}", input.source);
            None
        })
    } else {
        None
    };
    pages.extend(layer.iter().flat_map(|check| check.pages.iter().copied()));
    pages.sort_unstable();
    pages.dedup();
    let mut outcome = if pages.is_empty() {
        Outcome::Kept(doc)
    } else {
        ocr_pdf(input, Some(&doc), &pages, config, cache)?
    };
    if let (Outcome::Kept(doc), Some(check)) = (&mut outcome, layer) {
        doc.set_meta("ocr_layer_disagreement", check.disagreement);
        doc.set_meta("ocr_layer_replaced", !check.pages.is_empty());
    }
    Ok(outcome)
}

/// Those of `pages` whose images cover at least [`IMAGE_PAGE_SHARE`] of the page. A PDF whose
/// images cannot be listed keeps its text layer: the page is still read, just not by OCR.
fn mostly_picture(input: &Input, pages: &[u32], config: &OcrConfig) -> Vec<u32> {
    let (Some(&first), Some(&last)) = (pages.first(), pages.last()) else {
        return Vec::new();
    };
    match ocr::image_shares(&input.path, first, last, config) {
        Ok(shares) => shares
            .into_iter()
            .filter(|&(page, share)| share >= IMAGE_PAGE_SHARE && pages.contains(&page))
            .map(|(page, _)| page)
            .collect(),
        Err(e) => {
            tracing::warn!(
                "{}: cannot list its images, so no picture page is OCR'd: {e:#}",
                input.source
            );
            Vec::new()
        }
    }
}

fn ocr_pdf(
    input: &Input,
    base: Option<&Document>,
    pages: &[u32],
    config: &OcrConfig,
    cache: &Path,
) -> Result<Outcome> {
    let results = ocr::ocr_pdf_pages(&input.path, pages, config, Some(cache))?;
    Ok(assemble(input, base, &results, config, "pdf"))
}

/// The document with recognised pages in place; pages below the confidence threshold stay
/// blank, and a document with no readable page at all is rejected `ocr-low-confidence`.
fn assemble(
    input: &Input,
    base: Option<&Document>,
    results: &[PageOcr],
    config: &OcrConfig,
    format: &str,
) -> Outcome {
    let mut texts: Vec<String> = match base {
        Some(doc) => doc.text.split(PAGE_BREAK).map(String::from).collect(),
        None => Vec::new(),
    };
    let (mut used, mut confidence, mut low, mut failed) = (0usize, 0f32, Vec::new(), Vec::new());
    for page in results {
        let slot = page.page as usize - 1;
        if texts.len() <= slot {
            texts.resize(slot + 1, String::new());
        }
        if let Some(error) = &page.error {
            failed.push(format!("page {}: {error}", page.page));
        } else if page.low_confidence {
            low.push(page);
        } else {
            texts[slot] = page.text.clone();
            used += 1;
            confidence += page.confidence;
        }
    }
    let mut doc = base
        .cloned()
        .unwrap_or_else(|| Document::new(&input.source, None, String::new()));
    let has_text = texts.iter().any(|t| !t.trim().is_empty());
    if used == 0 && !has_text {
        if let Some(page) = low.first() {
            let mut sample = doc.clone();
            sample.text = page.text.clone();
            let detail = format!(
                "{} pages below ocr.min_confidence {} (first: {:.3})",
                low.len(),
                config.min_confidence,
                page.confidence
            );
            return Outcome::Rejected(Reject::of(&sample, ocr::LOW_CONFIDENCE, Some(detail)));
        }
        return Outcome::Failed(Failure::new(&input.source, "ocr", failed.join("; ")));
    }
    doc.text = texts.join(&PAGE_BREAK.to_string());
    doc.meta.entry("format").or_insert_with(|| format.into());
    doc.set_meta("pages", texts.len());
    doc.set_meta("ocr_pages", used);
    if let Some(page) = results.first() {
        doc.set_meta("ocr_engine", page.engine.clone());
        if let Some(dpi) = page.dpi {
            doc.set_meta("ocr_dpi", dpi);
        }
    }
    if used > 0 {
        let mean = f64::from(confidence) / used as f64;
        doc.set_meta("ocr_confidence", (mean * 1000.0).round() / 1000.0);
    }
    if !low.is_empty() {
        doc.set_meta(
            "ocr_pages_low_confidence",
            low.iter().map(|p| p.page).collect::<Vec<_>>(),
        );
    }
    if !failed.is_empty() {
        doc.set_meta("ocr_pages_failed", failed.len());
    }
    Outcome::Kept(doc)
}

/// Page count from poppler's pdfinfo ("Pages:          3").
fn pages_of_pdf(path: &Path) -> Result<u32> {
    let output = Command::new("pdfinfo")
        .arg(path)
        .output()
        .context("cannot run pdfinfo (poppler-utils)")?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:").and_then(|n| n.trim().parse().ok()))
        .context("pdfinfo gives no page count")
}
