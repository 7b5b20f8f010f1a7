//! HTML, XHTML and saved web pages (also EPUB chapters): the readable text, one line per
//! heading, paragraph, list item and table row. Scripts, styles, navigation and other page
//! chrome are dropped. html5ever's tokenizer does the hard parts (entities, raw-text elements,
//! broken markup); the charset comes from a BOM, valid UTF-8, the page's meta tag, or detection.
use super::decode::{decode, normalize_newlines};
use crate::document::{Document, Outcome};
use encoding_rs::Encoding;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use std::cell::RefCell;

pub fn extract(source: &str, bytes: &[u8]) -> Vec<Outcome> {
    let (html, encoding) = decode_html(bytes);
    let mut doc = Document::new(source, None, to_text(&html));
    doc.set_meta("encoding", encoding);
    doc.set_meta("bytes", bytes.len());
    vec![Outcome::Kept(doc)]
}

/// BOM, then strict UTF-8, then the charset the page declares, then the general decoder.
fn decode_html(bytes: &[u8]) -> (String, &'static str) {
    if Encoding::for_bom(bytes).is_none() {
        if let Ok(text) = std::str::from_utf8(bytes) {
            return (text.to_string(), "utf-8");
        }
        if let Some(encoding) = declared_charset(bytes) {
            let (text, _, _) = encoding.decode(bytes);
            return (text.into_owned(), encoding.name());
        }
    }
    let decoded = decode(bytes);
    (decoded.text, decoded.encoding)
}

/// `<meta charset="gbk">` or `<meta http-equiv="Content-Type" content="text/html; charset=gb2312">`
/// in the first KiBs.
fn declared_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_ascii_lowercase();
    let at = head.find("charset")?;
    let value = head[at + "charset".len()..]
        .trim_start_matches([' ', '='])
        .trim_start_matches(['"', '\'']);
    let end = value
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(value.len());
    Encoding::for_label(&value.as_bytes()[..end])
}

/// The text of an HTML or XHTML page.
pub fn to_text(html: &str) -> String {
    let sink = TextSink::default();
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let text = tokenizer.sink.state.into_inner().text;
    normalize_newlines(text)
}

/// Elements whose content is not the page's text.
const SKIPPED: &[&str] = &[
    "head", "script", "style", "noscript", "template", "nav", "aside", "footer", "svg", "math",
    "iframe", "object", "select", "button",
];

/// Elements that end a line.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "dt",
    "dd",
    "tr",
    "table",
    "ul",
    "ol",
    "dl",
    "section",
    "article",
    "header",
    "main",
    "blockquote",
    "pre",
    "figcaption",
    "address",
    "caption",
    "form",
    "fieldset",
    "body",
    "title",
];

#[derive(Default)]
struct TextSink {
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    text: String,
    /// Open skipped elements, innermost last.
    skipping: Vec<String>,
    /// Inside `<pre>`: whitespace is kept.
    preformatted: usize,
    /// Whitespace seen since the last character, written only between words.
    pending_space: bool,
}

impl State {
    fn tag(&mut self, tag: &Tag) -> TokenSinkResult<()> {
        let name: &str = &tag.name;
        let is_start = tag.kind == TagKind::StartTag;
        if is_start && name == "body" {
            // `</head>` may be omitted.
            self.skipping.retain(|open| open != "head");
        }
        if SKIPPED.contains(&name) {
            if is_start && !tag.self_closing {
                self.skipping.push(name.to_string());
            } else if !is_start {
                if let Some(at) = self.skipping.iter().rposition(|open| open == name) {
                    self.skipping.truncate(at);
                }
            }
        } else if BLOCKS.contains(&name) {
            self.end_line();
            if name == "pre" {
                self.preformatted = match tag.kind {
                    TagKind::StartTag => self.preformatted + 1,
                    TagKind::EndTag => self.preformatted.saturating_sub(1),
                };
            }
        } else if matches!(name, "td" | "th") && is_start {
            // Cells are always apart, even two Chinese ones.
            self.pending_space = false;
            if !self.at_line_start() && !self.text.ends_with(' ') {
                self.text.push(' ');
            }
        }
        if is_start && !tag.self_closing {
            return match name {
                "script" => TokenSinkResult::RawData(RawKind::ScriptData),
                "style" | "xmp" | "iframe" | "noembed" | "noframes" => {
                    TokenSinkResult::RawData(RawKind::Rawtext)
                }
                "title" | "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
                "plaintext" => TokenSinkResult::Plaintext,
                _ => TokenSinkResult::Continue,
            };
        }
        TokenSinkResult::Continue
    }

    fn characters(&mut self, chars: &str) {
        if !self.skipping.is_empty() {
            return;
        }
        if self.preformatted > 0 {
            self.text.push_str(chars);
            return;
        }
        for c in chars.chars() {
            if c.is_whitespace() && c != '\u{3000}' {
                self.pending_space = true;
                continue;
            }
            if std::mem::take(&mut self.pending_space)
                && !self.at_line_start()
                && !(self.text.chars().next_back().is_some_and(is_cjk) && is_cjk(c))
            {
                self.text.push(' ');
            }
            self.text.push(c);
        }
    }

    fn at_line_start(&self) -> bool {
        self.text.is_empty() || self.text.ends_with('\n')
    }

    fn end_line(&mut self) {
        self.pending_space = false;
        if !self.at_line_start() {
            self.text.push('\n');
        }
    }
}

/// Source line breaks between two Chinese characters are layout, not spaces.
fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x2E80..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

impl TokenSink for TextSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut state = self.state.borrow_mut();
        match token {
            Token::TagToken(tag) => state.tag(&tag),
            Token::CharacterTokens(chars) => {
                state.characters(&chars);
                TokenSinkResult::Continue
            }
            _ => TokenSinkResult::Continue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_text_and_drops_chrome() {
        let html = "<!DOCTYPE html><html><head><title>标题</title><style>p{color:red}</style>\
            <script>var a = '<p>no</p>';</script></head><body><nav>首页 | 登录</nav>\
            <h1>高血压</h1><p>患者&nbsp;应当\n限盐&hellip;</p><table><tr><td>药物</td><td>剂量</td></tr>\
            <tr><td>氨氯地平</td><td>5&#160;mg</td></tr></table><p>Blood  pressure<br>is high</p>\
            <footer>版权所有</footer></body></html>";
        assert_eq!(
            to_text(html),
            "高血压\n患者应当限盐…\n药物 剂量\n氨氯地平 5 mg\nBlood pressure\nis high\n"
        );
    }

    #[test]
    fn declared_charset_is_used_for_non_utf8_pages() {
        let (gbk, _, _) = encoding_rs::GBK.encode(
            "<html><head><meta charset=\"gb2312\"></head><body><p>中医内科学</p></body></html>",
        );
        let (html, encoding) = decode_html(&gbk);
        assert_eq!(encoding, "GBK");
        assert_eq!(to_text(&html), "中医内科学\n");
    }
}
