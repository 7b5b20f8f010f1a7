//! Office documents. OOXML (docx, pptx, xlsx) is a zip of XML parts read with `zip` and
//! quick-xml; legacy OLE2 files go to catdoc/catppt (Word, PowerPoint) or calamine (Excel).
pub mod docx;
pub mod legacy;
pub mod pptx;
mod unescape;
pub mod xlsx;

use crate::document::{Document, Outcome};
use anyhow::{bail, Context, Result};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::collections::HashMap;
use std::io::{Cursor, Read};

type Zip<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

/// One XML part is never larger than this unpacked (a guard against zip bombs).
const MAX_PART_BYTES: u64 = 1 << 30;

fn open_zip(bytes: &[u8]) -> Result<Zip<'_>> {
    zip::ZipArchive::new(Cursor::new(bytes)).context("not a readable zip (OOXML) file")
}

/// A part's text, or `None` when the package has no such part.
fn read_part(zip: &mut Zip, name: &str) -> Result<Option<String>> {
    let mut entry = match zip.by_name(name) {
        Ok(entry) => entry,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot open part {name}")),
    };
    if entry.size() > MAX_PART_BYTES {
        bail!("part {name} unpacks to {} bytes: too large", entry.size());
    }
    let mut text = String::new();
    entry
        .by_ref()
        .take(MAX_PART_BYTES)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read part {name}"))?;
    Ok(Some(text))
}

/// A relationships part: id → target resolved against the folder of the part that owns it.
fn relationships(zip: &mut Zip, owner: &str) -> Result<HashMap<String, String>> {
    let (folder, file) = owner.rsplit_once('/').unwrap_or(("", owner));
    let rels_name = if folder.is_empty() {
        format!("_rels/{file}.rels")
    } else {
        format!("{folder}/_rels/{file}.rels")
    };
    let mut map = HashMap::new();
    let Some(xml) = read_part(zip, &rels_name)? else {
        return Ok(map);
    };
    let mut reader = Reader::from_str(&xml);
    loop {
        match reader.read_event()? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"Relationship" => {
                if let (Some(id), Some(target)) = (attribute(&e, b"Id"), attribute(&e, b"Target")) {
                    map.insert(id, resolve(folder, &target));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(map)
}

/// A relationship target as a zip entry name: absolute (`/xl/…`) or relative to `folder`.
pub(super) fn resolve(folder: &str, target: &str) -> String {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        folder.split('/').filter(|p| !p.is_empty()).collect()
    };
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    parts.join("/")
}

/// An attribute by its full name, unescaped.
fn attribute(element: &BytesStart, name: &[u8]) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// The relationship id (`r:id`, whatever the prefix) of an element.
fn relationship_id(element: &BytesStart) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.prefix().is_some() && a.key.local_name().as_ref() == b"id")
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// The text of a WordprocessingML or DrawingML part: one line per paragraph, table rows as
/// lines with cells separated by a space. Left out: field instructions (`instrText`), the
/// results of table-of-contents and page-reference fields (a copy of the headings with page
/// numbers), and the legacy copy of drawings (`mc:Fallback`, which repeats text boxes).
fn markup_text(xml: &str) -> Result<String> {
    let mut reader = Reader::from_str(xml);
    let mut out = String::new();
    let mut in_text = false;
    let mut skipping = 0usize;
    let mut table_depth = 0usize;
    let mut fields = Fields::default();
    loop {
        match reader.read_event()? {
            Event::Start(e) => match e.local_name().as_ref() {
                b"instrText" => {
                    skipping += 1;
                    fields.in_instruction = true;
                }
                b"Fallback" | b"delText" => skipping += 1,
                b"t" => in_text = true,
                b"tbl" => table_depth += 1,
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                b"instrText" => {
                    skipping = skipping.saturating_sub(1);
                    fields.in_instruction = false;
                }
                b"Fallback" | b"delText" => skipping = skipping.saturating_sub(1),
                b"t" => in_text = false,
                b"p" if table_depth > 0 => separate(&mut out, ' '),
                b"p" => end_paragraph(&mut out),
                b"tc" => separate(&mut out, ' '),
                b"tr" => end_line(&mut out),
                b"tbl" => {
                    table_depth = table_depth.saturating_sub(1);
                    end_line(&mut out);
                }
                _ => {}
            },
            Event::Empty(e) if e.local_name().as_ref() == b"fldChar" => {
                fields.mark(attribute_by_local_name(&e, b"fldCharType").as_deref())
            }
            Event::Empty(e) if skipping == 0 => match e.local_name().as_ref() {
                b"tab" => separate(&mut out, ' '),
                b"br" | b"cr" if table_depth > 0 => separate(&mut out, ' '),
                b"br" | b"cr" => end_line(&mut out),
                b"p" if table_depth == 0 => end_paragraph(&mut out),
                _ => {}
            },
            Event::Text(t) if fields.in_instruction => {
                fields.instruction(&t.unescape().unwrap_or_default())
            }
            Event::Text(t) if in_text && skipping == 0 && !fields.hides_result() => {
                unescape::push_unescaped(&mut out, &t)
            }
            Event::CData(t) if in_text && skipping == 0 && !fields.hides_result() => {
                out.push_str(&String::from_utf8_lossy(&t))
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out.trim_end().to_string())
}

/// Open complex fields (`fldChar` begin … separate … end), innermost last: (instruction,
/// showing result).
#[derive(Default)]
struct Fields {
    open: Vec<(String, bool)>,
    in_instruction: bool,
}

impl Fields {
    fn mark(&mut self, kind: Option<&str>) {
        match kind {
            Some("begin") => self.open.push((String::new(), false)),
            Some("separate") => {
                if let Some(field) = self.open.last_mut() {
                    field.1 = true;
                }
            }
            Some("end") => {
                self.open.pop();
            }
            _ => {}
        }
    }

    fn instruction(&mut self, text: &str) {
        if let Some(field) = self.open.last_mut() {
            field.0.push_str(text);
        }
    }

    /// Inside the shown result of a TOC or PAGEREF field.
    fn hides_result(&self) -> bool {
        self.open.iter().any(|(instruction, showing)| {
            let name = instruction.split_whitespace().next().unwrap_or("");
            *showing && (name.eq_ignore_ascii_case("TOC") || name.eq_ignore_ascii_case("PAGEREF"))
        })
    }
}

fn attribute_by_local_name(element: &BytesStart, name: &[u8]) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// A separator between cells or tabbed runs: never at a line start, never doubled.
fn separate(out: &mut String, separator: char) {
    if !out.is_empty() && !out.ends_with(['\n', ' ', separator]) {
        out.push(separator);
    }
}

fn end_line(out: &mut String) {
    while out.ends_with(' ') {
        out.pop();
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

/// Paragraph end; empty paragraphs make at most one blank line.
fn end_paragraph(out: &mut String) {
    while out.ends_with(' ') {
        out.pop();
    }
    if !out.is_empty() && !out.ends_with("\n\n") {
        out.push('\n');
    }
}

/// Groups spreadsheet rows into documents of at most `rows_per_doc` rows, one row per line,
/// never splitting a row; each sheet starts a new document.
struct RowChunker<'a> {
    source: &'a str,
    rows_per_doc: usize,
    outcomes: Vec<Outcome>,
    sheet: String,
    text: String,
    rows: usize,
    first_row: u64,
}

impl<'a> RowChunker<'a> {
    fn new(source: &'a str, rows_per_doc: usize) -> Self {
        RowChunker {
            source,
            rows_per_doc: rows_per_doc.max(1),
            outcomes: Vec::new(),
            sheet: String::new(),
            text: String::new(),
            rows: 0,
            first_row: 0,
        }
    }

    fn start_sheet(&mut self, name: &str) {
        self.flush();
        self.sheet = name.to_string();
    }

    /// One row; cells are trimmed, empty ones dropped, line breaks inside a cell become spaces.
    fn push_row(&mut self, row_number: u64, cells: &[String]) {
        let mut line = String::new();
        for cell in cells {
            let cell = cell.split_whitespace().collect::<Vec<_>>().join(" ");
            if cell.is_empty() {
                continue;
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&cell);
        }
        if line.is_empty() {
            return;
        }
        if self.rows == 0 {
            self.first_row = row_number;
        }
        self.text.push_str(&line);
        self.text.push('\n');
        self.rows += 1;
        if self.rows >= self.rows_per_doc {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.rows == 0 {
            return;
        }
        let record = self.outcomes.len() as u64 + 1;
        let mut doc = Document::new(self.source, Some(record), std::mem::take(&mut self.text));
        doc.set_meta("sheet", self.sheet.as_str());
        doc.set_meta("first_row", self.first_row);
        doc.set_meta("rows", self.rows);
        self.outcomes.push(Outcome::Kept(doc));
        self.rows = 0;
    }

    fn finish(mut self) -> Vec<Outcome> {
        self.flush();
        self.outcomes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_resolve_against_the_owner_folder() {
        assert_eq!(
            resolve("xl", "worksheets/sheet1.xml"),
            "xl/worksheets/sheet1.xml"
        );
        assert_eq!(resolve("xl", "/xl/worksheets/s.xml"), "xl/worksheets/s.xml");
        assert_eq!(resolve("ppt/slides", "../media/a.png"), "ppt/media/a.png");
    }

    #[test]
    fn paragraphs_tables_and_field_codes() {
        let xml = r#"<w:document xmlns:w="w" xmlns:mc="mc"><w:body>
            <w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> TOC \o "1-3" </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>第一章 6</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>
            <w:p><w:r><w:t>中医</w:t></w:r><w:r><w:instrText> HYPERLINK \l _Toc1 </w:instrText></w:r><w:r><w:t xml:space="preserve">十二官 &amp; 脏腑</w:t></w:r></w:p>
            <w:p/><w:p/><w:p/>
            <w:tbl><w:tr><w:tc><w:p><w:r><w:t>药物</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>剂量</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
            <w:p><mc:AlternateContent><mc:Choice><w:t>文本框</w:t></mc:Choice><mc:Fallback><w:t>文本框</w:t></mc:Fallback></mc:AlternateContent></w:p>
            </w:body></w:document>"#;
        assert_eq!(
            markup_text(xml).unwrap(),
            "中医十二官 & 脏腑\n\n药物 剂量\n文本框"
        );
    }
}
