//! Format detection by content (magic bytes) first, the file name second.
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Text,
    Markdown,
    Csv,
    Tsv,
    Json,
    Jsonl,
    Html,
    Pdf,
    Zip,
    Docx,
    Xlsx,
    Pptx,
    Epub,
    SevenZ,
    Rar,
    Tar,
    Gzip,
    Zstd,
    Bzip2,
    /// Legacy Office (OLE2 compound file): .doc, .xls, .ppt.
    Ole2,
    Mobi,
    Chm,
    Image,
    /// Recognised as not worth reading: executables, media, fonts, unknown binaries.
    Binary,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Markdown => "markdown",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Html => "html",
            Format::Pdf => "pdf",
            Format::Zip => "zip",
            Format::Docx => "docx",
            Format::Xlsx => "xlsx",
            Format::Pptx => "pptx",
            Format::Epub => "epub",
            Format::SevenZ => "7z",
            Format::Rar => "rar",
            Format::Tar => "tar",
            Format::Gzip => "gzip",
            Format::Zstd => "zstd",
            Format::Bzip2 => "bzip2",
            Format::Ole2 => "ole2",
            Format::Mobi => "mobi",
            Format::Chm => "chm",
            Format::Image => "image",
            Format::Binary => "binary",
        }
    }
}

/// Lower-case extension of the last path component ("" when none).
pub fn extension(name: &str) -> String {
    let base = name.rsplit(['/', '!']).next().unwrap_or(name);
    match base.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_ascii_lowercase(),
        _ => String::new(),
    }
}

pub fn sniff(name: &str, head: &[u8]) -> Format {
    let ext = extension(name);
    if let Some(format) = by_magic(head, &ext) {
        return format;
    }
    if looks_binary(head) {
        return Format::Binary;
    }
    by_text_extension(&ext, head)
}

fn by_magic(head: &[u8], ext: &str) -> Option<Format> {
    let starts = |magic: &[u8]| head.starts_with(magic);
    // First: a tar's first member (a PDF, say) starts 512 bytes in, within the PDF window below.
    if is_tar(head) {
        return Some(Format::Tar);
    }
    // A PDF header may follow some junk bytes; readers accept it within the first KiB.
    if head.len() >= 5
        && head[..head.len().min(1024)]
            .windows(5)
            .any(|w| w == b"%PDF-")
    {
        return Some(Format::Pdf);
    }
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        return Some(match ext {
            "docx" | "docm" | "dotx" | "wps" | "doc" => Format::Docx,
            "xlsx" | "xlsm" | "xltx" | "et" | "xls" => Format::Xlsx,
            "pptx" | "pptm" | "ppsx" | "dps" | "ppt" => Format::Pptx,
            "epub" => Format::Epub,
            _ => zip_kind_by_entries(head),
        });
    }
    if starts(b"Rar!\x1a\x07") {
        return Some(Format::Rar);
    }
    if starts(b"7z\xbc\xaf\x27\x1c") {
        return Some(Format::SevenZ);
    }
    if starts(b"\x1f\x8b") {
        return Some(Format::Gzip);
    }
    if starts(b"\x28\xb5\x2f\xfd") {
        return Some(Format::Zstd);
    }
    if starts(b"BZh") && head.len() > 3 && head[3].is_ascii_digit() {
        return Some(Format::Bzip2);
    }
    if starts(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") {
        return Some(Format::Ole2);
    }
    if starts(b"ITSF") {
        return Some(Format::Chm);
    }
    if head.len() >= 68 && (&head[60..68] == b"BOOKMOBI" || &head[60..68] == b"TEXtREAd") {
        return Some(Format::Mobi);
    }
    if starts(b"\x89PNG")
        || starts(b"\xff\xd8\xff")
        || starts(b"II*\0")
        || starts(b"MM\0*")
        || starts(b"GIF8")
    {
        return Some(Format::Image);
    }
    if starts(b"BM") && matches!(ext, "bmp") {
        return Some(Format::Image);
    }
    None
}

pub const TAR_HEADER_LEN: usize = 512;

/// A tar header block: a name, and a checksum that matches (ustar, GNU and old v7 tars alike;
/// old tars summed signed bytes).
pub fn is_tar(head: &[u8]) -> bool {
    let Some(block) = head.get(..TAR_HEADER_LEN) else {
        return false;
    };
    if block[0] == 0 {
        return false;
    }
    let field = &block[148..156];
    let digits: String = field
        .iter()
        .map(|&b| b as char)
        .skip_while(|c| *c == ' ')
        .take_while(|c| c.is_digit(8))
        .collect();
    let Ok(stored) = i64::from_str_radix(&digits, 8) else {
        return false;
    };
    let (mut unsigned, mut signed) = (0i64, 0i64);
    for (i, &b) in block.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += b as i64;
        signed += b as i8 as i64;
    }
    stored == unsigned || stored == signed
}

/// An OOXML zip names its main part in the first entries; otherwise it is a plain archive.
fn zip_kind_by_entries(head: &[u8]) -> Format {
    let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    if has(b"word/") {
        Format::Docx
    } else if has(b"xl/") {
        Format::Xlsx
    } else if has(b"ppt/") {
        Format::Pptx
    } else if has(b"application/epub+zip") {
        Format::Epub
    } else {
        Format::Zip
    }
}

/// NUL bytes outside UTF-16 text, or many control bytes, mean the file is not text.
fn looks_binary(head: &[u8]) -> bool {
    if head.is_empty() || super::decode::utf16_bom_or_guess(head).is_some() {
        return false;
    }
    let controls = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c | 0x1a | 0x1b))
        .count();
    let nuls = head.iter().filter(|&&b| b == 0).count();
    // A text file with some NULs is a damaged text file, not a binary: the decoder handles it.
    controls * 10 > head.len() && nuls * 2 < head.len()
}

fn by_text_extension(ext: &str, head: &[u8]) -> Format {
    match ext {
        "md" | "markdown" => Format::Markdown,
        "csv" => Format::Csv,
        "tsv" => Format::Tsv,
        "jsonl" | "ndjson" => Format::Jsonl,
        "json" => json_kind(head),
        "html" | "htm" | "xhtml" | "mht" | "shtml" => Format::Html,
        _ => {
            let start = skip_bom_and_space(head);
            if looks_like_html(start) {
                Format::Html
            } else if start.starts_with(b"{") {
                json_kind(head)
            } else {
                Format::Text
            }
        }
    }
}

/// Markup that opens with a doctype or `<html>`, in any case, possibly after comments (saved
/// pages often start with `<!-- saved from url=… -->`; some are named `.pdf` or `.txt`).
fn looks_like_html(start: &[u8]) -> bool {
    if !start.starts_with(b"<") {
        return false;
    }
    let head = start[..start.len().min(1024)].to_ascii_lowercase();
    let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    has(b"<!doctype html") || has(b"<html")
}

/// `.json` files are often JSON lines: one object per line.
fn json_kind(head: &[u8]) -> Format {
    let start = skip_bom_and_space(head);
    let first_line = start.split(|&b| b == b'\n').next().unwrap_or(b"");
    let trimmed = first_line.trim_ascii_end();
    if start.starts_with(b"{")
        && trimmed.ends_with(b"}")
        && serde_json::from_slice::<serde::de::IgnoredAny>(trimmed).is_ok()
    {
        Format::Jsonl
    } else {
        Format::Json
    }
}

fn skip_bom_and_space(head: &[u8]) -> &[u8] {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    &head[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_wins_over_extension() {
        assert_eq!(sniff("a.txt", b"%PDF-1.4\n"), Format::Pdf);
        assert_eq!(sniff("a.pdf", b"<!DOCTYPE html><html>"), Format::Html);
        assert_eq!(
            sniff("a.pdf", b"\n<!--STATUS OK-->\n<!DOCTYPE HTML>"),
            Format::Html
        );
        assert_eq!(
            sniff("x.doc", b"PK\x03\x04....word/document.xml"),
            Format::Docx
        );
        assert_eq!(sniff("x.bin", b"7z\xbc\xaf\x27\x1c\0\x04"), Format::SevenZ);
    }

    #[test]
    fn tar_headers_are_recognised_by_checksum() {
        let mut header = tar::Header::new_old();
        header.set_path("方剂/麻黄汤.txt").unwrap();
        header.set_size(3);
        header.set_cksum();
        assert!(is_tar(header.as_bytes()));
        let mut damaged = header.as_bytes().to_vec();
        damaged[0] ^= 1;
        assert!(!is_tar(&damaged));
        assert_eq!(sniff("x", header.as_bytes()), Format::Tar);
    }

    #[test]
    fn json_lines_are_told_from_json() {
        assert_eq!(sniff("a.json", b"{\"a\": 1}\n{\"a\": 2}\n"), Format::Jsonl);
        assert_eq!(sniff("a.json", b"[\n  {\"a\": 1}\n]"), Format::Json);
        assert_eq!(sniff("a.json", b"{\n  \"a\": 1\n}"), Format::Json);
    }

    #[test]
    fn extension_of_archive_member() {
        assert_eq!(extension("a.zip!/dir/B.TXT"), "txt");
        assert_eq!(extension(".bashrc"), "");
    }
}
