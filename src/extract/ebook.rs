//! Ebooks. EPUB: the chapters the OPF spine lists, in spine order, each XHTML chapter turned
//! into text by the HTML extractor (paragraph breaks kept). CHM is not read and says so.
use super::html;
use super::sniff::Format;
use crate::document::{Document, Outcome};
use anyhow::{anyhow, bail, Context, Result};
use quick_xml::events::Event;
use quick_xml::Reader;
use std::collections::HashMap;
use std::io::{Cursor, Read};

/// One chapter is never larger than this unpacked (a guard against zip bombs).
const MAX_CHAPTER_BYTES: u64 = 256 << 20;

pub fn unsupported(format: Format) -> anyhow::Error {
    anyhow!(
        "unsupported: {} ebooks are not read (convert to EPUB first, e.g. calibre's ebook-convert)",
        format.name().to_uppercase()
    )
}

pub fn epub(source: &str, bytes: &[u8]) -> Result<Vec<Outcome>> {
    let mut zip =
        zip::ZipArchive::new(Cursor::new(bytes)).context("not a readable zip (EPUB) file")?;
    let container = read_entry(&mut zip, "META-INF/container.xml")?
        .context("no META-INF/container.xml: not an EPUB")?;
    let opf_path = rootfile(&container)?;
    let opf = read_entry(&mut zip, &opf_path)?
        .with_context(|| format!("package file {opf_path} is missing"))?;
    let folder = opf_path.rsplit_once('/').map_or("", |(folder, _)| folder);
    let chapters = spine(&opf, folder)?;
    let mut text = String::new();
    let mut read = 0;
    for chapter in &chapters {
        let Some(xhtml) = read_entry(&mut zip, chapter)? else {
            continue;
        };
        let chapter_text = html::to_text(&xhtml);
        if chapter_text.trim().is_empty() {
            continue;
        }
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(chapter_text.trim_end());
        text.push('\n');
        read += 1;
    }
    let mut doc = Document::new(source, None, text);
    doc.set_meta("chapters", read);
    doc.set_meta("bytes", bytes.len());
    Ok(vec![Outcome::Kept(doc)])
}

fn read_entry(zip: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str) -> Result<Option<String>> {
    let mut entry = match zip.by_name(name) {
        Ok(entry) => entry,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot open {name}")),
    };
    let mut raw = Vec::new();
    entry
        .by_ref()
        .take(MAX_CHAPTER_BYTES)
        .read_to_end(&mut raw)
        .with_context(|| format!("cannot read {name}"))?;
    Ok(Some(String::from_utf8_lossy(&raw).into_owned()))
}

/// The OPF path from `<rootfile full-path="…">`.
fn rootfile(container: &str) -> Result<String> {
    let mut reader = Reader::from_str(container);
    loop {
        match reader.read_event()? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"rootfile" => {
                if let Some(path) = e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.as_ref() == b"full-path")
                {
                    return Ok(path.unescape_value()?.into_owned());
                }
            }
            Event::Eof => bail!("container.xml names no rootfile"),
            _ => {}
        }
    }
}

/// Chapter entry names in spine order: manifest id → href, resolved against the OPF folder.
fn spine(opf: &str, folder: &str) -> Result<Vec<String>> {
    let mut manifest = HashMap::new();
    let mut order = Vec::new();
    let mut reader = Reader::from_str(opf);
    loop {
        match reader.read_event()? {
            Event::Start(e) | Event::Empty(e) => {
                let get = |key: &[u8]| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == key)
                        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
                };
                match e.local_name().as_ref() {
                    b"item" => {
                        if let (Some(id), Some(href)) = (get(b"id"), get(b"href")) {
                            manifest.insert(id, href);
                        }
                    }
                    b"itemref" => order.extend(get(b"idref")),
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(order
        .iter()
        .filter_map(|id| manifest.get(id))
        .map(|href| entry_name(folder, href))
        .collect())
}

/// An href as a zip entry name: fragment dropped, percent-escapes decoded, `..` resolved.
fn entry_name(folder: &str, href: &str) -> String {
    let href = href.split('#').next().unwrap_or(href);
    super::office::resolve(folder, &percent_decode(href))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_become_entry_names() {
        assert_eq!(
            entry_name("OEBPS", "text/ch%201.xhtml#p3"),
            "OEBPS/text/ch 1.xhtml"
        );
        assert_eq!(entry_name("", "../a.html"), "a.html");
    }
}
