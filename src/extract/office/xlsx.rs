//! xlsx: every sheet in workbook order, each row a line, rows grouped into documents of
//! `extract.sheet_rows_per_doc` (exam banks keep one question per row, so a question is never
//! split). Cells are shared strings, inline strings (openpyxl-style writers use only these),
//! numbers or booleans; formulas are skipped. Sheets are streamed: a sheet of any size is read
//! without holding its XML in memory.
use super::unescape::push_unescaped;
use super::{attribute, open_zip, read_part, relationship_id, relationships, RowChunker, Zip};
use crate::document::Outcome;
use crate::extract::ExtractConfig;
use anyhow::{bail, Context, Result};
use quick_xml::events::Event;
use quick_xml::Reader;
use std::io::BufReader;

pub fn extract(source: &str, bytes: &[u8], config: &ExtractConfig) -> Result<Vec<Outcome>> {
    let mut zip = open_zip(bytes)?;
    let sheets = sheet_parts(&mut zip)?;
    if sheets.is_empty() {
        bail!("no worksheets found: not an Excel workbook");
    }
    let shared = shared_strings(&mut zip)?;
    let mut chunker = RowChunker::new(source, config.sheet_rows_per_doc);
    for (name, part) in &sheets {
        chunker.start_sheet(name);
        read_sheet(&mut zip, part, &shared, &mut chunker)
            .with_context(|| format!("sheet {name:?}"))?;
    }
    Ok(chunker.finish())
}

/// (sheet name, part name) in workbook order.
fn sheet_parts(zip: &mut Zip) -> Result<Vec<(String, String)>> {
    let workbook = "xl/workbook.xml";
    let targets = relationships(zip, workbook)?;
    let Some(xml) = read_part(zip, workbook)? else {
        bail!("no xl/workbook.xml");
    };
    let mut sheets = Vec::new();
    let mut reader = Reader::from_str(&xml);
    loop {
        match reader.read_event()? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"sheet" => {
                let name = attribute(&e, b"name").unwrap_or_default();
                if let Some(part) = relationship_id(&e).and_then(|id| targets.get(&id)) {
                    sheets.push((name, part.clone()));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(sheets)
}

/// The shared-string table (absent in workbooks that use inline strings only). Phonetic
/// guides (`rPh`) are not part of the text.
fn shared_strings(zip: &mut Zip) -> Result<Vec<String>> {
    let Some(xml) = read_part(zip, "xl/sharedStrings.xml")? else {
        return Ok(Vec::new());
    };
    let mut strings = Vec::new();
    let mut reader = Reader::from_str(&xml);
    let mut current = String::new();
    let mut in_text = false;
    let mut in_phonetic = false;
    loop {
        match reader.read_event()? {
            Event::Start(e) => match e.local_name().as_ref() {
                b"si" => current.clear(),
                b"t" => in_text = true,
                b"rPh" => in_phonetic = true,
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                b"si" => strings.push(std::mem::take(&mut current)),
                b"t" => in_text = false,
                b"rPh" => in_phonetic = false,
                _ => {}
            },
            Event::Empty(e) if e.local_name().as_ref() == b"si" => strings.push(String::new()),
            Event::Text(t) if in_text && !in_phonetic => push_unescaped(&mut current, &t),
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(strings)
}

#[derive(PartialEq)]
enum CellType {
    Shared,
    Inline,
    Boolean,
    Error,
    Other,
}

fn read_sheet(
    zip: &mut Zip,
    part: &str,
    shared: &[String],
    chunker: &mut RowChunker,
) -> Result<()> {
    let entry = zip
        .by_name(part)
        .with_context(|| format!("missing part {part}"))?;
    let mut reader = Reader::from_reader(BufReader::new(entry));
    let mut buffer = Vec::new();
    let mut cells: Vec<String> = Vec::new();
    let mut row_number = 0u64;
    let mut cell_type = CellType::Other;
    let mut value = String::new();
    let mut in_value = false;
    let mut in_phonetic = false;
    loop {
        match reader.read_event_into(&mut buffer)? {
            Event::Start(e) => match e.local_name().as_ref() {
                b"row" => {
                    cells.clear();
                    row_number = attribute(&e, b"r")
                        .and_then(|r| r.parse().ok())
                        .unwrap_or(row_number + 1);
                }
                b"c" => {
                    value.clear();
                    cell_type = match attribute(&e, b"t").as_deref() {
                        Some("s") => CellType::Shared,
                        Some("inlineStr") => CellType::Inline,
                        Some("b") => CellType::Boolean,
                        Some("e") => CellType::Error,
                        _ => CellType::Other,
                    };
                }
                b"v" | b"t" => in_value = true,
                b"rPh" => in_phonetic = true,
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                b"v" | b"t" => in_value = false,
                b"rPh" => in_phonetic = false,
                b"c" => cells.push(cell_text(&cell_type, &value, shared)),
                b"row" => chunker.push_row(row_number, &cells),
                _ => {}
            },
            Event::Empty(e) if e.local_name().as_ref() == b"row" => {
                row_number = attribute(&e, b"r")
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(row_number + 1);
            }
            Event::Text(t) if in_value && !in_phonetic => push_unescaped(&mut value, &t),
            Event::Eof => break,
            _ => {}
        }
        buffer.clear();
    }
    Ok(())
}

fn cell_text(cell_type: &CellType, value: &str, shared: &[String]) -> String {
    match cell_type {
        CellType::Shared => value
            .trim()
            .parse::<usize>()
            .ok()
            .and_then(|i| shared.get(i))
            .cloned()
            .unwrap_or_default(),
        CellType::Boolean => match value.trim() {
            "1" => "TRUE".into(),
            _ => "FALSE".into(),
        },
        CellType::Error => String::new(),
        CellType::Inline | CellType::Other => value.to_string(),
    }
}
