//! Extraction: one input file (or archive member) → documents, each carrying its format and
//! encoding in `meta`. One format, one module; this file only reads, sniffs and dispatches.
pub mod archive;
pub mod decode;
pub mod ebook;
pub mod html;
pub mod isolate;
pub mod mobi;
pub mod office;
pub mod pdf;
pub mod records;
pub mod sniff;
pub mod text;
pub mod tool;

use crate::config::check_range;
use crate::document::{Document, Failure, Outcome, Reject};
use crate::walk::Input;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use sniff::Format;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExtractConfig {
    /// JSON / JSON-lines fields holding a record's text, in order of preference. A record with
    /// none of them contributes every string value that contains Chinese (exam banks: question,
    /// options, answer, explanation).
    pub json_text_fields: Vec<String>,
    /// CSV/TSV columns to keep, by header name; empty keeps every column.
    pub csv_columns: Vec<String>,
    /// Larger files are reported as errors instead of read.
    pub max_file_bytes: u64,
    /// `[extract.archive]`: nesting depth, total bytes, ratio, entry and member limits.
    pub archive: archive::limits::ArchiveLimits,
    /// PDF engine tried first: "auto" (poppler when `pdftotext` is installed, else pdf-extract),
    /// "poppler" or "pdf-extract". The other one is tried when the first fails or gives garbled text.
    pub pdf_engine: pdf::EngineChoice,
    /// A PDF page with a larger share of implausible characters (glyph ids from fonts without a
    /// Unicode map) is garbled; a PDF whose garbled pages hold most of its text is rejected.
    pub pdf_garbled_share: f64,
    /// Time limit for one run of an external converter (pdftotext, catdoc, catppt).
    pub tool_timeout_secs: u64,
    /// Memory (address-space) limit for one external converter, in MiB.
    pub tool_memory_mb: u64,
    /// Spreadsheet rows per document (xlsx, xls): a row is a line and never split.
    pub sheet_rows_per_doc: usize,
    /// JSON-lines, CSV and TSV files at least this big are read record by record and written
    /// as they are read, never held whole as documents (a 272 MB file held whole peaked at
    /// 966 MB).
    pub stream_records_min_bytes: u64,
}

impl Default for ExtractConfig {
    fn default() -> Self {
        ExtractConfig {
            json_text_fields: ["text", "originalText", "content", "body"]
                .map(String::from)
                .to_vec(),
            csv_columns: Vec::new(),
            max_file_bytes: 4 << 30,
            archive: Default::default(),
            pdf_engine: pdf::EngineChoice::Auto,
            pdf_garbled_share: 0.1,
            tool_timeout_secs: 120,
            tool_memory_mb: 2048,
            sheet_rows_per_doc: 200,
            stream_records_min_bytes: 64 << 20,
        }
    }
}

impl ExtractConfig {
    pub fn validate(&self) -> Result<()> {
        check_range("extract.max_file_bytes", self.max_file_bytes, 1, u64::MAX)?;
        self.archive.validate()?;
        check_range(
            "extract.pdf_garbled_share",
            self.pdf_garbled_share,
            0.0,
            1.0,
        )?;
        check_range(
            "extract.tool_timeout_secs",
            self.tool_timeout_secs,
            1,
            86_400,
        )?;
        check_range("extract.tool_memory_mb", self.tool_memory_mb, 64, 1 << 20)?;
        check_range(
            "extract.sheet_rows_per_doc",
            self.sheet_rows_per_doc,
            1,
            1 << 20,
        )?;
        pdf::check_engine(self.pdf_engine)
    }

    pub fn tool_limits(&self) -> tool::Limits {
        tool::Limits {
            timeout: std::time::Duration::from_secs(self.tool_timeout_secs),
            memory_bytes: self.tool_memory_mb << 20,
        }
    }
}

/// Files are memory-mapped above this size, read into memory below it.
const MMAP_THRESHOLD: u64 = 16 << 20;

/// What one input gave: its format (for per-format counts) and its outcomes.
pub struct Extraction {
    pub format: &'static str,
    pub outcomes: Vec<Outcome>,
}

impl Extraction {
    fn failed(
        format: &'static str,
        source: &str,
        stage: &str,
        error: impl std::fmt::Display,
    ) -> Self {
        Extraction {
            format,
            outcomes: vec![Outcome::Failed(Failure::new(source, stage, error))],
        }
    }
}

pub fn extract_file(input: &Input, config: &ExtractConfig) -> Extraction {
    if let Some(reason) = unreadable_by_name(&input.source) {
        return Extraction::failed("partial", &input.source, "extract", reason);
    }
    if input.size > config.max_file_bytes {
        let error = format!(
            "file of {} bytes exceeds extract.max_file_bytes ({})",
            input.size, config.max_file_bytes
        );
        return Extraction::failed("too-large", &input.source, "extract", error);
    }
    match read(input) {
        Ok(bytes) => {
            let budget = archive::limits::Budget::new(&config.archive, input.size);
            let scope = archive::Scope::top(&budget, Some(&input.path));
            extract_with(&input.source, &bytes, config, &scope)
        }
        Err(e) => Extraction::failed("unreadable", &input.source, "read", e),
    }
}

fn read(input: &Input) -> std::io::Result<Bytes> {
    if input.size < MMAP_THRESHOLD {
        return std::fs::read(&input.path).map(Bytes::Owned);
    }
    let file = std::fs::File::open(&input.path)?;
    // SAFETY: the map is read-only and dropped before the file is closed; a file truncated by
    // another process while mapped is the one risk, accepted for read-only corpus folders.
    let map = unsafe { memmap2::Mmap::map(&file)? };
    Ok(Bytes::Mapped(map))
}

enum Bytes {
    Owned(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Mapped(m) => m,
        }
    }
}

/// The record format (JSON, JSON lines, CSV, TSV) of an input big enough to be streamed
/// (`extract.stream_records_min_bytes`), if it is one.
pub fn streamed_records(input: &Input, config: &ExtractConfig) -> Option<Format> {
    if input.size < config.stream_records_min_bytes
        || input.size > config.max_file_bytes
        || unreadable_by_name(&input.source).is_some()
    {
        return None;
    }
    sniff_file(input)
        .filter(|f| matches!(f, Format::Json | Format::Jsonl | Format::Csv | Format::Tsv))
}

/// The bytes of an input, memory-mapped when it is big.
pub fn read_input(input: &Input) -> std::io::Result<impl std::ops::Deref<Target = [u8]>> {
    read(input)
}

/// The records of a record file's bytes (see [`streamed_records`]) one outcome at a time into
/// `emit`; its errors are `emit`'s.
pub fn stream_records(
    source: &str,
    bytes: &[u8],
    format: Format,
    config: &ExtractConfig,
    emit: &mut dyn FnMut(Outcome) -> Result<()>,
) -> Result<()> {
    records::stream(source, bytes, format, config, &mut |mut outcome| {
        if let Outcome::Kept(doc) = &mut outcome {
            doc.set_meta("format", format.name());
        }
        emit(outcome)
    })
}

/// The format of a file on disk, from its first bytes (None when it cannot be read).
pub fn sniff_file(input: &Input) -> Option<Format> {
    use std::io::Read;
    let mut head = Vec::with_capacity(8192);
    let file = std::fs::File::open(&input.path).ok()?;
    file.take(8192).read_to_end(&mut head).ok()?;
    Some(sniff::sniff(&input.source, &head))
}

/// Names that say the file is not a finished document.
fn unreadable_by_name(source: &str) -> Option<&'static str> {
    let base = source
        .rsplit(['/', '!'])
        .next()
        .unwrap_or(source)
        .to_lowercase();
    if base.starts_with("~$") {
        Some("Office lock file (~$…): not a document")
    } else if base.contains(".baiduyun.downloading") || base.ends_with(".downloading") {
        Some("partial download (.baiduyun.downloading): not read")
    } else if [".crdownload", ".part", ".partial", ".!ut", ".td"]
        .iter()
        .any(|e| base.ends_with(e))
    {
        Some("partial download: not read")
    } else {
        None
    }
}

/// Extracts one file's bytes.
pub fn extract_bytes(source: &str, bytes: &[u8], config: &ExtractConfig) -> Extraction {
    let budget = archive::limits::Budget::new(&config.archive, bytes.len() as u64);
    extract_with(source, bytes, config, &archive::Scope::top(&budget, None))
}

/// Extracts a file or archive member; archives call this again for their members.
fn extract_with(
    source: &str,
    bytes: &[u8],
    config: &ExtractConfig,
    scope: &archive::Scope,
) -> Extraction {
    if bytes.is_empty() {
        let empty = Document::new(source, None, String::new());
        return Extraction {
            format: "empty",
            outcomes: vec![Outcome::Rejected(Reject::of(&empty, "empty-file", None))],
        };
    }
    let format = sniff::sniff(source, &bytes[..bytes.len().min(8192)]);
    // Tar pads small members with NULs: a tar is never a NUL-filled download.
    if format != Format::Tar && mostly_nul(bytes) {
        let error = "file is mostly NUL bytes (an unfinished or pre-allocated download)";
        return Extraction::failed("partial", source, "extract", error);
    }
    let result = match format {
        Format::Text | Format::Markdown => {
            Ok(vec![Outcome::Kept(text::extract(source, bytes, format))])
        }
        Format::Json | Format::Jsonl | Format::Csv | Format::Tsv => {
            records::extract(source, bytes, format, config)
        }
        f if archive::is_archive(f) => archive::extract(f, source, bytes, config, scope),
        Format::Pdf => pdf::extract(source, bytes, scope.path, config),
        Format::Html => Ok(html::extract(source, bytes)),
        Format::Docx => office::docx::extract(source, bytes),
        Format::Pptx => office::pptx::extract(source, bytes),
        Format::Xlsx => office::xlsx::extract(source, bytes, config),
        Format::Ole2 => office::legacy::extract(source, bytes, scope.path, config),
        Format::Epub => ebook::epub(source, bytes),
        Format::Mobi => mobi::extract(source, bytes),
        Format::Chm => Err(ebook::unsupported(format)),
        other => Err(anyhow::anyhow!("unsupported format: {}", other.name())),
    };
    match result {
        Ok(mut outcomes) => {
            for outcome in &mut outcomes {
                if let Outcome::Kept(doc) = outcome {
                    doc.meta
                        .entry("format")
                        .or_insert_with(|| format.name().into());
                }
            }
            Extraction {
                format: format.name(),
                outcomes,
            }
        }
        Err(e) => Extraction::failed(format.name(), source, "extract", format!("{e:#}")),
    }
}

fn mostly_nul(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(1 << 20)];
    let nuls = sample.iter().filter(|&&b| b == 0).count();
    nuls * 10 > sample.len() * 9
}
