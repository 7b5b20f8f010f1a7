//! Poppler's `pdftotext -raw -enc UTF-8` as a child process. `-raw` keeps the content-stream
//! order, which is column-correct on journal pages and does not scramble the hidden OCR layer of
//! scanned books as the default layout mode does. Pages come back separated by form feeds.
use super::{EngineError, EngineText, PdfEngine, PdfInput};
use crate::extract::tool::{self, InputFile, ToolError};
use std::ffi::OsStr;

pub struct Poppler;

pub const PROGRAM: &str = "pdftotext";

impl PdfEngine for Poppler {
    fn name(&self) -> &'static str {
        "poppler"
    }

    fn pages(&self, input: &PdfInput) -> Result<EngineText, EngineError> {
        let file = InputFile::new(input.bytes, input.path, ".pdf")
            .map_err(|e| EngineError::Failed(format!("cannot write a temporary file: {e}")))?;
        let args = [
            OsStr::new("-raw"),
            OsStr::new("-enc"),
            OsStr::new("UTF-8"),
            file.path().as_os_str(),
            OsStr::new("-"),
        ];
        let output = tool::run(PROGRAM, &args, input.limits).map_err(classify)?;
        Ok(EngineText {
            pages: split_pages(&String::from_utf8_lossy(&output.stdout)),
            pages_failed: 0,
        })
    }
}

fn classify(error: ToolError) -> EngineError {
    match &error {
        ToolError::Failed { stderr, .. } if stderr.contains("Incorrect password") => {
            EngineError::NeedsPassword
        }
        ToolError::TimedOut { .. } | ToolError::TooMuchOutput { .. } => {
            EngineError::Stopped(error.to_string())
        }
        // Killed by a signal (the memory limit makes allocation fail and the tool abort).
        ToolError::Failed { status, .. } if status.contains("signal") => {
            EngineError::Stopped(error.to_string())
        }
        _ => EngineError::Failed(error.to_string()),
    }
}

/// pdftotext ends every page, the last one included, with a form feed.
fn split_pages(text: &str) -> Vec<String> {
    let mut pages: Vec<String> = text.split('\x0c').map(str::to_string).collect();
    if pages.last().is_some_and(|last| last.trim().is_empty()) {
        pages.pop();
    }
    pages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_split_on_form_feeds() {
        assert_eq!(split_pages("a\n\x0cb\n\x0c"), vec!["a\n", "b\n"]);
        assert_eq!(split_pages("\x0c\x0c"), vec!["", ""]);
        assert!(split_pages("").is_empty());
    }
}
