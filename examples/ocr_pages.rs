//! OCR driver for benches/ocr_eval.py: runs the library's OCR on image files or PDF pages and
//! prints one JSON line per page (file, page, text, confidence, engine, dpi, error).
//! Usage: ocr_pages ENGINE PSM DPI (IMAGE | PDF:PAGE)...
use anyhow::{Context, Result};
use medcorpus::ocr::{ocr_image_file, ocr_pdf_pages, OcrConfig};
use std::path::Path;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [engine, psm, dpi, inputs @ ..] = args.as_slice() else {
        anyhow::bail!("usage: ocr_pages ENGINE PSM DPI (IMAGE | PDF:PAGE)...");
    };
    let config = OcrConfig {
        engine: serde_json::from_value(serde_json::Value::String(engine.clone()))
            .context("ENGINE is faster-paddle, rapidocr or tesseract")?,
        tesseract_psm: psm.parse()?,
        dpi: dpi.parse()?,
        max_processes: 1,
        ..OcrConfig::default()
    };
    config.validate()?;
    if let Some(why) = config.engine.unavailable(&config) {
        anyhow::bail!(why);
    }
    for input in inputs {
        let pages = match input.rsplit_once(".pdf:") {
            Some((pdf, page)) => {
                let pdf = format!("{pdf}.pdf");
                ocr_pdf_pages(Path::new(&pdf), &[page.parse()?], &config, None)?
            }
            None => ocr_image_file(Path::new(input), &config, None)?,
        };
        for page in pages {
            let mut line = serde_json::to_value(&page)?;
            line["file"] = input.clone().into();
            println!("{line}");
        }
    }
    // Waited for, so that the caller's rusage of its children counts the workers' CPU time.
    medcorpus::ocr::stop_idle_workers();
    Ok(())
}
