//! The `pdf-extract` crate, in process: no external tool needed, but slower than poppler and
//! unable to read some real files (AdultPDF and CNKI trailers, predefined CJK CMaps). It is the
//! fallback engine; its panics are caught and each page is read on its own, so one bad page does
//! not silently end the document as the crate's own page loop does.
use super::{EngineError, EngineText, PdfEngine, PdfInput};
use pdf_extract::{Document, OutputError, PlainTextOutput};

pub struct PdfExtract;

impl PdfEngine for PdfExtract {
    fn name(&self) -> &'static str {
        "pdf-extract"
    }

    fn pages(&self, input: &PdfInput) -> Result<EngineText, EngineError> {
        let bytes = input.bytes;
        std::panic::catch_unwind(|| read_pages(bytes)).unwrap_or_else(|panic| {
            Err(EngineError::Failed(format!(
                "pdf-extract panicked: {}",
                crate::cli::panic_message(&*panic)
            )))
        })
    }
}

fn read_pages(bytes: &[u8]) -> Result<EngineText, EngineError> {
    let mut doc = Document::load_mem(bytes)
        .map_err(|e| EngineError::Failed(format!("pdf-extract cannot load the file: {e}")))?;
    if doc.is_encrypted() && doc.decrypt("").is_err() {
        return Err(EngineError::NeedsPassword);
    }
    let page_numbers: Vec<u32> = doc.get_pages().into_keys().collect();
    let mut pages = Vec::with_capacity(page_numbers.len());
    let mut failed = Vec::new();
    for number in page_numbers {
        match page_text(&doc, number) {
            Ok(text) => pages.push(text),
            Err(e) => {
                failed.push(format!("page {number}: {e}"));
                pages.push(String::new());
            }
        }
    }
    if !pages.is_empty() && failed.len() == pages.len() {
        return Err(EngineError::Failed(format!(
            "pdf-extract read no page: {}",
            failed[0]
        )));
    }
    Ok(EngineText {
        pages,
        pages_failed: failed.len(),
    })
}

fn page_text(doc: &Document, number: u32) -> Result<String, OutputError> {
    let mut text = String::new();
    pdf_extract::output_doc_page(doc, &mut PlainTextOutput::new(&mut text), number)?;
    Ok(text)
}
