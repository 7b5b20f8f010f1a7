//! docx (and WPS .wps/.doc files that are really OOXML): body paragraphs and tables, then
//! footnotes and endnotes. Headers and footers are page furniture and are left out.
use super::{markup_text, open_zip, read_part};
use crate::document::{Document, Outcome};
use anyhow::{bail, Result};

pub fn extract(source: &str, bytes: &[u8]) -> Result<Vec<Outcome>> {
    let mut zip = open_zip(bytes)?;
    let Some(body) = read_part(&mut zip, "word/document.xml")? else {
        bail!("no word/document.xml: not a Word document");
    };
    let mut text = markup_text(&body)?;
    for part in ["word/footnotes.xml", "word/endnotes.xml"] {
        if let Some(notes) = read_part(&mut zip, part)? {
            let notes = markup_text(&notes)?;
            if !notes.is_empty() {
                text.push_str("\n\n");
                text.push_str(&notes);
            }
        }
    }
    let mut doc = Document::new(source, None, text);
    doc.set_meta("bytes", bytes.len());
    Ok(vec![Outcome::Kept(doc)])
}
