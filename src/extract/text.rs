//! Plain text and Markdown: decode, normalise newlines, and drop Markdown markup that is not text.
use super::decode::{decode, normalize_newlines};
use super::sniff::Format;
use crate::document::Document;

pub fn extract(source: &str, bytes: &[u8], format: Format) -> Document {
    let decoded = decode(bytes);
    let mut text = normalize_newlines(decoded.text);
    if format == Format::Markdown {
        text = strip_markdown(&text);
    }
    let mut doc = Document::new(source, None, text);
    doc.set_meta("encoding", decoded.encoding);
    doc.set_meta("replacements", decoded.replacements);
    doc.set_meta("bytes", bytes.len());
    doc
}

/// Keeps the words of a Markdown file: images go, heading and quote markers go, HTML tables
/// (MinerU writes them inline) become one line per row with cells separated by spaces.
fn strip_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with("![") {
            continue;
        }
        let line = line
            .trim_start_matches('#')
            .trim_start_matches('>')
            .trim_start();
        if line.contains('<') {
            out.push_str(&strip_tags(line));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

fn strip_tags(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let tag = rest[open + 1..open + close]
            .trim_start_matches('/')
            .to_ascii_lowercase();
        let name = tag
            .split(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .unwrap_or("");
        match name {
            "tr" | "br" | "p" | "div" | "table" => {
                out.truncate(out.trim_end_matches(' ').len());
                if !out.ends_with('\n') && !out.is_empty() {
                    out.push('\n')
                }
            }
            "td" | "th" if !out.ends_with([' ', '\n']) && !out.is_empty() => out.push(' '),
            _ => {}
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_tables_become_rows() {
        let md = "# 标题\n![](images/a.jpg)\n<html><body><table><tr><td>药物</td><td>剂量</td></tr><tr><td>二甲双胍</td><td>500mg</td></tr></table></body></html>\n";
        assert_eq!(strip_markdown(md), "标题\n药物 剂量\n二甲双胍 500mg\n");
    }
}
