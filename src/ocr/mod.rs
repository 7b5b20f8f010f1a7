//! OCR: text for pages that have none (scans, photographed exam papers) or only a garbled one.
//! Pages become grey images (pdftoppm, or the image file itself), an engine behind [`OcrEngine`]
//! reads them as a child process, and results are cached by image hash so a resumed run never
//! repeats OCR work. Engines and defaults were chosen by measured character error rate
//! (benches/ocr_eval.py).
mod cache;
mod layout;
mod process;
mod render;
mod tesseract;
mod worker;

use crate::config::check_range;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use layout::join_cjk_spaces;
pub use render::image_shares;
pub use worker::stop_idle_workers;

/// Reject reason for a page whose mean confidence is below `ocr.min_confidence`.
pub const LOW_CONFIDENCE: &str = "ocr-low-confidence";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OcrMode {
    Off,
    /// Only pages without a usable text layer.
    MissingText,
    /// Every page, replacing the text layer (for PDFs whose hidden OCR layer is poor).
    Always,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EngineKind {
    /// PaddleOCR PP-OCRv6 tiny models on ONNX Runtime, from the `faster-paddle` wheel, in a
    /// Python worker: the fastest, and as accurate as the others on print (benches/ocr_eval.py).
    FasterPaddle,
    /// PaddleOCR PP-OCRv6 small models on ONNX Runtime, from the `rapidocr` wheel, in a Python
    /// worker: about five times slower than `faster-paddle`.
    Rapidocr,
    /// Tesseract 5 with Debian's chi_sim model, one CLI process per page.
    Tesseract,
}

impl EngineKind {
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::FasterPaddle => "faster-paddle",
            EngineKind::Rapidocr => "rapidocr",
            EngineKind::Tesseract => "tesseract",
        }
    }

    /// Why the engine cannot run here (a missing program, model or Python package), if it can't.
    pub fn unavailable(self, config: &OcrConfig) -> Option<String> {
        match self {
            EngineKind::FasterPaddle => worker::unavailable(worker::Backend::FasterPaddle, config),
            EngineKind::Rapidocr => worker::unavailable(worker::Backend::Rapidocr, config),
            EngineKind::Tesseract => tesseract::unavailable(config),
        }
    }

    fn start(self, config: &OcrConfig) -> Box<dyn OcrEngine> {
        match self {
            EngineKind::FasterPaddle => {
                Box::new(worker::PpOcr::new(worker::Backend::FasterPaddle, config))
            }
            EngineKind::Rapidocr => Box::new(worker::PpOcr::new(worker::Backend::Rapidocr, config)),
            EngineKind::Tesseract => Box::new(tesseract::Tesseract::new(config)),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OcrConfig {
    pub mode: OcrMode,
    pub engine: EngineKind,
    /// Rendering resolution of PDF pages. 150 reads journal pages as well as 200 or 300 with
    /// the PP-OCR engines (benches/ocr_eval.py). Scanned pages are never rendered above the
    /// resolution of their own image: upscaling adds pixels, not information.
    pub dpi: u32,
    /// A page still being recognised after this long is given up (its process is killed).
    pub page_timeout_secs: u64,
    /// At most this many OCR processes run at once in the whole program.
    pub max_processes: usize,
    /// Pages whose mean character confidence (0–1) is below this are rejected as
    /// `ocr-low-confidence` instead of emitting garbage. The PP-OCR engines score correct
    /// pages about 0.98; tesseract's scale runs lower (about 0.85 on clean pages): lower this for tesseract.
    pub min_confidence: f32,
    /// With `missing-text`, also read the pages that are mostly picture: guidelines and
    /// textbooks paste tables, key-point boxes and flowcharts as images, leaving a heading in
    /// the text layer (see `ingest::ocr` for the rule).
    pub image_pages: bool,
    /// With `missing-text`, check the hidden OCR layer of scanned books against the engine on
    /// two pages, and read every scanned page again when the layer is poor (`ingest::ocr_layer`).
    pub replace_poor_layers: bool,
    /// Tesseract page segmentation mode (`--psm`).
    pub tesseract_psm: u32,
    /// The Python interpreter that has the engine's PyPI packages (`faster-paddle`, or
    /// `rapidocr` and `onnxruntime`).
    pub python: String,
}

impl Default for OcrConfig {
    fn default() -> Self {
        OcrConfig {
            mode: OcrMode::Off,
            engine: EngineKind::FasterPaddle,
            dpi: 150,
            page_timeout_secs: 120,
            max_processes: 2,
            min_confidence: 0.8,
            image_pages: true,
            replace_poor_layers: true,
            tesseract_psm: 3,
            python: "python3".into(),
        }
    }
}

impl OcrConfig {
    pub fn validate(&self) -> Result<()> {
        check_range("ocr.dpi", self.dpi, 50, 1200)?;
        check_range("ocr.page_timeout_secs", self.page_timeout_secs, 1, 86_400)?;
        check_range("ocr.max_processes", self.max_processes, 1, 1024)?;
        check_range("ocr.tesseract_psm", self.tesseract_psm, 1, 13)?;
        if !(0.0..=1.0).contains(&self.min_confidence) {
            anyhow::bail!(
                "ocr.min_confidence must be between 0 and 1, got {}",
                self.min_confidence
            );
        }
        Ok(())
    }

    fn page_timeout(&self) -> Duration {
        Duration::from_secs(self.page_timeout_secs)
    }
}

/// What OCR made of one page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageOcr {
    /// 1-based page number (PDF page, or frame of a multi-page TIFF).
    pub page: u32,
    pub text: String,
    /// Mean recognition confidence per character, 0–1 (0 for a page with no text).
    pub confidence: f32,
    pub engine: String,
    /// Rendering resolution; `None` for image files, which are read as they are.
    pub dpi: Option<u32>,
    /// Text found, but less sure than `ocr.min_confidence`: reject as [`LOW_CONFIDENCE`].
    pub low_confidence: bool,
    /// The page could not be recognised (engine error, time limit); `text` is empty.
    pub error: Option<String>,
}

/// What an engine reads off one page image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recognised {
    pub text: String,
    pub confidence: f32,
}

/// One OCR engine. An instance may keep a worker process between pages; it is used by one thread.
trait OcrEngine {
    /// Identifies the engine and every setting that changes its output (the cache key's salt).
    fn fingerprint(&self) -> String;
    fn recognise(&mut self, image: &Path, timeout: Duration) -> Result<Recognised>;
}

/// OCR of the given 1-based pages of a PDF. `cache_dir` keeps results by page-image hash.
pub fn ocr_pdf_pages(
    path: &Path,
    pages: &[u32],
    config: &OcrConfig,
    cache_dir: Option<&Path>,
) -> Result<Vec<PageOcr>> {
    let scratch = tempfile::tempdir()?;
    let mut session = Session::new(config, cache_dir);
    let mut results = Vec::with_capacity(pages.len());
    for &page in pages {
        let rendered = render::pdf_page(path, page, config.dpi, scratch.path(), config);
        results.push(match rendered {
            Ok((image, dpi)) => session.page(page, &image, Some(dpi)),
            Err(e) => session.failed(page, Some(config.dpi), format!("{e:#}")),
        });
    }
    Ok(results)
}

/// OCR of an image file: jpg, png, or tif (every frame of a multi-page tif).
pub fn ocr_image_file(
    path: &Path,
    config: &OcrConfig,
    cache_dir: Option<&Path>,
) -> Result<Vec<PageOcr>> {
    let scratch = tempfile::tempdir()?;
    let images: Vec<PathBuf> = render::image_pages(path, scratch.path(), config)?;
    let mut session = Session::new(config, cache_dir);
    Ok(images
        .iter()
        .zip(1..)
        .map(|(image, page)| session.page(page, image, None))
        .collect())
}

/// One call's engine (started on the first cache miss) and cache.
struct Session<'a> {
    config: &'a OcrConfig,
    cache: Option<cache::Cache>,
    engine: Option<Box<dyn OcrEngine>>,
}

impl<'a> Session<'a> {
    fn new(config: &'a OcrConfig, cache_dir: Option<&Path>) -> Self {
        Session {
            config,
            cache: cache_dir.map(cache::Cache::new),
            engine: None,
        }
    }

    fn page(&mut self, page: u32, image: &Path, dpi: Option<u32>) -> PageOcr {
        match self.recognise(image) {
            Ok(found) => {
                let low = !found.text.is_empty() && found.confidence < self.config.min_confidence;
                PageOcr {
                    page,
                    text: found.text,
                    confidence: found.confidence,
                    engine: self.config.engine.name().into(),
                    dpi,
                    low_confidence: low,
                    error: None,
                }
            }
            Err(e) => self.failed(page, dpi, format!("{e:#}")),
        }
    }

    fn failed(&self, page: u32, dpi: Option<u32>, error: String) -> PageOcr {
        PageOcr {
            page,
            text: String::new(),
            confidence: 0.0,
            engine: self.config.engine.name().into(),
            dpi,
            low_confidence: false,
            error: Some(error),
        }
    }

    fn recognise(&mut self, image: &Path) -> Result<Recognised> {
        let bytes = std::fs::read(image)?;
        let config = self.config;
        let engine = self
            .engine
            .get_or_insert_with(|| config.engine.start(config));
        let key = cache::key(&engine.fingerprint(), &bytes);
        if let Some(hit) = self.cache.as_ref().and_then(|c| c.get(&key)) {
            return Ok(hit);
        }
        let found = {
            let _slot = process::Slot::acquire(config.max_processes);
            engine.recognise(image, config.page_timeout())?
        };
        if let Some(cache) = &self.cache {
            cache.put(&key, &found)?;
        }
        Ok(found)
    }
}
