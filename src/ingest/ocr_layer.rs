//! Scanned books with a hidden OCR layer. Most scanned Chinese books carry the text of whatever
//! OCR the scanner ran, invisible under the page image; often a poor one (tesseract's chi_sim
//! reads 倦怠 as 倦念 and puts a space between characters). With `ocr.replace_poor_layers`, a
//! PDF whose first pages are scans with text is checked: two of its scanned pages are read by
//! the engine, and when the layer's characters differ from the engine's by more than
//! [`MAX_DISAGREEMENT`], every scanned page is read again. A good layer (a commercial OCR's, or
//! a born-digital page drawn over a background picture) is kept, at the cost of two pages.
use crate::ocr::{self, OcrConfig};
use crate::walk::Input;
use anyhow::Result;
use std::collections::HashMap;
use std::path::Path;

/// An image covering this share of a page makes it a scan: text on it is an OCR layer.
const SCAN_SHARE: f64 = 0.8;
/// Pages looked at to tell a scanned book: its first ones.
const PROBE_PAGES: u32 = 3;
/// Scanned pages read to judge the layer.
const SAMPLE_PAGES: usize = 2;
/// On the three scanned textbook pages of ../shared, faster-paddle differs from the book's own
/// born-digital layer in 4.9% of the characters (2.6–14% a page: the layer has its own faults)
/// and from a tesseract chi_sim layer of the same pages in 14.9% (12–17% a page).
const MAX_DISAGREEMENT: f64 = 0.1;

/// What the check found: the scanned pages to read again (none when the layer is good) and how
/// much the layer disagreed with the engine on the sampled pages.
pub struct LayerCheck {
    pub pages: Vec<u32>,
    pub disagreement: f64,
}

/// Checks the layer of a PDF whose page texts are `texts`; `None` when it is no scanned book.
pub fn check(
    input: &Input,
    texts: &[&str],
    config: &OcrConfig,
    cache: &Path,
) -> Result<Option<LayerCheck>> {
    let count = texts.len() as u32;
    let has_text = |page: u32| texts[page as usize - 1].chars().any(|c| !c.is_whitespace());
    let scanned_with_text = |shares: Vec<(u32, f64)>| -> Vec<u32> {
        shares
            .into_iter()
            .filter(|&(page, share)| share >= SCAN_SHARE && page <= count && has_text(page))
            .map(|(page, _)| page)
            .collect()
    };
    let probe = ocr::image_shares(&input.path, 1, count.min(PROBE_PAGES), config)?;
    if scanned_with_text(probe).is_empty() {
        return Ok(None);
    }
    let scanned = scanned_with_text(ocr::image_shares(&input.path, 1, count, config)?);
    let sample: Vec<u32> = (1..=SAMPLE_PAGES)
        .map(|k| scanned[k * scanned.len() / (SAMPLE_PAGES + 1)])
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    // Cached: pages read here are not read again if the whole layer is replaced.
    let read = ocr::ocr_pdf_pages(&input.path, &sample, config, Some(cache))?;
    let (different, total) = read
        .iter()
        .filter(|page| page.error.is_none() && !page.low_confidence)
        .map(|page| difference(texts[page.page as usize - 1], &page.text))
        .fold((0, 0), |(d, t), (page_d, page_t)| (d + page_d, t + page_t));
    if total == 0 {
        return Ok(None);
    }
    // Pooled over the sample: a short page (a figure and its caption) weighs what it holds.
    let share = different as f64 / total as f64;
    Ok(Some(LayerCheck {
        pages: if share > MAX_DISAGREEMENT {
            scanned
        } else {
            Vec::new()
        },
        disagreement: (share * 1000.0).round() / 1000.0,
    }))
}

/// How many characters two readings of a page do not have in common, whitespace aside and in
/// any order (a layer's reading order may differ from the engine's without either being
/// wrong), out of the longer reading's count.
fn difference(layer: &str, engine: &str) -> (usize, usize) {
    let counts = |text: &str| {
        let mut counts: HashMap<char, usize> = HashMap::new();
        for c in text.chars().filter(|c| !c.is_whitespace()) {
            *counts.entry(c).or_default() += 1;
        }
        counts
    };
    let (a, b) = (counts(layer), counts(engine));
    let total = a.values().sum::<usize>().max(b.values().sum());
    let common: usize = a
        .iter()
        .map(|(c, n)| (*n).min(b.get(c).copied().unwrap_or(0)))
        .sum();
    (total - common, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn difference_counts_misread_and_missing_characters_in_any_order() {
        assert_eq!(difference("证候 分析", "证候分析"), (0, 4));
        assert_eq!(difference("乙甲", "甲乙"), (0, 2));
        assert_eq!(difference("倦念乏力", "倦怠乏力"), (1, 4));
        assert_eq!(difference("", "甲乙"), (2, 2));
        assert_eq!(difference(" ", ""), (0, 0));
    }
}
