//! Legacy OLE2 Office files. Word and PowerPoint go to catdoc / catppt (Debian package
//! `catdoc`) as bounded child processes; Excel is read in process by calamine, because
//! catdoc's xls2csv loses the text of real Unicode (codepage 1200) workbooks. Which program
//! depends on the streams the file holds, then on its extension.
use super::RowChunker;
use crate::document::{Document, Outcome};
use crate::extract::sniff::extension;
use crate::extract::tool::{self, InputFile, ToolError};
use crate::extract::ExtractConfig;
use anyhow::{anyhow, bail, Result};
use calamine::{Data, Reader};
use std::ffi::OsStr;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Word,
    Excel,
    PowerPoint,
}

pub fn extract(
    source: &str,
    bytes: &[u8],
    path: Option<&Path>,
    config: &ExtractConfig,
) -> Result<Vec<Outcome>> {
    let Some(kind) = kind(source, bytes) else {
        bail!("unsupported: OLE2 compound file that is not a Word, Excel or PowerPoint document");
    };
    match kind {
        Kind::Excel => excel(source, bytes, config),
        Kind::Word => convert(source, bytes, path, config, "catdoc", ".doc"),
        Kind::PowerPoint => convert(source, bytes, path, config, "catppt", ".ppt"),
    }
}

fn kind(source: &str, bytes: &[u8]) -> Option<Kind> {
    // Stream names are UTF-16LE in the compound file's directory.
    let has_stream = |name: &str| {
        let needle: Vec<u8> = name.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        bytes.windows(needle.len()).any(|w| w == needle.as_slice())
    };
    if has_stream("WordDocument") {
        return Some(Kind::Word);
    }
    if has_stream("Workbook") || has_stream("Book") {
        return Some(Kind::Excel);
    }
    if has_stream("PowerPoint Document") {
        return Some(Kind::PowerPoint);
    }
    match extension(source).as_str() {
        "doc" | "dot" | "wps" => Some(Kind::Word),
        "xls" | "xlt" | "et" => Some(Kind::Excel),
        "ppt" | "pps" | "pot" | "dps" => Some(Kind::PowerPoint),
        _ => None,
    }
}

fn convert(
    source: &str,
    bytes: &[u8],
    path: Option<&Path>,
    config: &ExtractConfig,
    program: &str,
    suffix: &str,
) -> Result<Vec<Outcome>> {
    let file = InputFile::new(bytes, path, suffix)?;
    let args = [
        OsStr::new("-d"),
        OsStr::new("utf-8"),
        OsStr::new("-w"),
        file.path().as_os_str(),
    ];
    // catppt has no -w (no line wrapping to turn off).
    let args: Vec<&OsStr> = if program == "catppt" {
        args.into_iter().filter(|a| *a != "-w").collect()
    } else {
        args.to_vec()
    };
    let output = tool::run(program, &args, config.tool_limits()).map_err(|e| match e {
        ToolError::NotInstalled(_) => anyhow!(
            "unsupported: legacy Office files need `{program}`, which is not installed \
             (Debian/Ubuntu: apt-get install catdoc)"
        ),
        other => anyhow!(other),
    })?;
    let text = String::from_utf8_lossy(&output.stdout).replace('\x0c', "\n");
    let mut doc = Document::new(source, None, text);
    doc.set_meta("converter", program);
    doc.set_meta("bytes", bytes.len());
    Ok(vec![Outcome::Kept(doc)])
}

fn excel(source: &str, bytes: &[u8], config: &ExtractConfig) -> Result<Vec<Outcome>> {
    std::panic::catch_unwind(|| read_workbook(source, bytes, config)).unwrap_or_else(|panic| {
        Err(anyhow!(
            "calamine panicked on the workbook: {}",
            crate::cli::panic_message(&*panic)
        ))
    })
}

fn read_workbook(source: &str, bytes: &[u8], config: &ExtractConfig) -> Result<Vec<Outcome>> {
    let mut workbook = calamine::Xls::new(std::io::Cursor::new(bytes))
        .map_err(|e| anyhow!("not a readable .xls workbook: {e}"))?;
    let mut chunker = RowChunker::new(source, config.sheet_rows_per_doc);
    for name in workbook.sheet_names() {
        let range = workbook
            .worksheet_range(&name)
            .map_err(|e| anyhow!("sheet {name:?}: {e}"))?;
        chunker.start_sheet(&name);
        let first_row = range.start().map_or(0, |(row, _)| row as u64);
        for (index, row) in range.rows().enumerate() {
            let cells: Vec<String> = row
                .iter()
                .map(|cell| match cell {
                    Data::Empty | Data::Error(_) => String::new(),
                    other => other.to_string(),
                })
                .collect();
            chunker.push_row(first_row + index as u64 + 1, &cells);
        }
    }
    Ok(chunker.finish())
}
