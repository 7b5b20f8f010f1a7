//! MOBI (Mobipocket / Kindle, as calibre writes them): the text records of the Palm database,
//! trailing record entries removed, PalmDOC-decompressed, then the book's HTML through the HTML
//! extractor. HUFF/CDIC-compressed and DRM-protected books are reported as unsupported.
//! (The `mobi` crate was measured first: it strips trailing entries by a fixed size and leaves
//! replacement characters at every record boundary of a real calibre book.)
use super::html;
use crate::document::{Document, Outcome};
use anyhow::{bail, Context, Result};

pub fn extract(source: &str, bytes: &[u8]) -> Result<Vec<Outcome>> {
    let records = records(bytes)?;
    let header = *records.first().context("no records")?;
    let compression = be16(header, 0)?;
    let text_length = be32(header, 4)? as usize;
    let text_records = be16(header, 8)? as usize;
    if be16(header, 12)? != 0 {
        bail!("unsupported: DRM-protected MOBI");
    }
    let is_mobi = header.get(16..20) == Some(b"MOBI".as_slice());
    let mobi_header_length = if is_mobi { be32(header, 20)? } else { 0 };
    let utf8 = !is_mobi || be32(header, 28)? == 65001;
    // Which trailing entries each text record carries (MOBI header ≥ 0xE4 bytes).
    let extra_flags = if mobi_header_length >= 0xE4 {
        be16(header, 0xF2)?
    } else {
        0
    };
    let mut raw = Vec::with_capacity(text_length);
    for index in 1..=text_records {
        let record = *records
            .get(index)
            .with_context(|| format!("text record {index} is missing"))?;
        let record = &record[..record.len() - trailing_size(record, extra_flags)];
        match compression {
            1 => raw.extend_from_slice(record),
            2 => palmdoc_decompress(record, &mut raw),
            17480 => bail!("unsupported: HUFF/CDIC-compressed MOBI"),
            other => bail!("unknown MOBI compression {other}"),
        }
    }
    raw.truncate(text_length);
    let markup = if utf8 {
        String::from_utf8_lossy(&raw).into_owned()
    } else {
        encoding_rs::WINDOWS_1252.decode(&raw).0.into_owned()
    };
    let mut doc = Document::new(source, None, html::to_text(&markup));
    doc.set_meta("bytes", bytes.len());
    Ok(vec![Outcome::Kept(doc)])
}

/// The records of a Palm database: offsets listed after the 78-byte header.
fn records(bytes: &[u8]) -> Result<Vec<&[u8]>> {
    let count = be16(bytes, 76)? as usize;
    let mut offsets = Vec::with_capacity(count + 1);
    for index in 0..count {
        offsets.push(be32(bytes, 78 + 8 * index)? as usize);
    }
    offsets.push(bytes.len());
    offsets
        .windows(2)
        .map(|pair| {
            bytes
                .get(pair[0]..pair[1])
                .context("record offsets out of order or past the end of the file")
        })
        .collect()
}

/// Bytes at the end of a text record that are not text: one backward-encoded entry per flag
/// bit above bit 0, then (bit 0) the multibyte-character overlap.
fn trailing_size(record: &[u8], flags: u16) -> usize {
    let mut size = record.len();
    let mut entries = flags >> 1;
    while entries != 0 {
        if entries & 1 != 0 {
            let mut entry = 0usize;
            for &byte in &record[size.saturating_sub(4)..size] {
                if byte & 0x80 != 0 {
                    entry = 0;
                }
                entry = (entry << 7) | (byte & 0x7F) as usize;
            }
            size = size.saturating_sub(entry);
        }
        entries >>= 1;
    }
    if flags & 1 != 0 && size > 0 {
        size = size.saturating_sub((record[size - 1] & 0x3) as usize + 1);
    }
    record.len() - size
}

/// PalmDOC LZ77: literals, literal runs, back-references and space-prefixed characters.
fn palmdoc_decompress(input: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < input.len() {
        let byte = input[i];
        i += 1;
        match byte {
            0x01..=0x08 => {
                let end = (i + byte as usize).min(input.len());
                out.extend_from_slice(&input[i..end]);
                i = end;
            }
            0x80..=0xBF => {
                let Some(&next) = input.get(i) else { break };
                i += 1;
                let pair = ((byte as usize) << 8) | next as usize;
                let distance = (pair >> 3) & 0x7FF;
                let length = (pair & 7) + 3;
                if distance == 0 || distance > out.len() {
                    continue; // a corrupt reference: skip it rather than invent text
                }
                let start = out.len() - distance;
                for k in 0..length {
                    out.push(out[start + k]);
                }
            }
            0xC0..=0xFF => {
                out.push(b' ');
                out.push(byte ^ 0x80);
            }
            _ => out.push(byte),
        }
    }
}

fn be16(bytes: &[u8], at: usize) -> Result<u16> {
    let b = bytes.get(at..at + 2).context("MOBI header cut short")?;
    Ok(u16::from_be_bytes([b[0], b[1]]))
}

fn be32(bytes: &[u8], at: usize) -> Result<u32> {
    let b = bytes.get(at..at + 4).context("MOBI header cut short")?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palmdoc_back_references_and_spaces() {
        let mut out = Vec::new();
        // "abc", then copy distance 3 length 3, then " d" (0xE4 = ' ' + 'd').
        palmdoc_decompress(&[b'a', b'b', b'c', 0x80, 0x18, 0xE4], &mut out);
        assert_eq!(out, b"abcabc d");
    }

    #[test]
    fn trailing_entries_are_measured_backwards() {
        // Text, one trailing entry of 3 bytes (size byte 0x83 last), multibyte overlap of 1.
        let record = [b'x', b'y', 0x00, 0xAA, 0xBB, 0x83];
        assert_eq!(trailing_size(&record, 0b10), 3);
        assert_eq!(trailing_size(&record, 0b11), 4);
    }
}
