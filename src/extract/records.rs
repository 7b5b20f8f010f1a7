//! Record formats: JSON, JSON lines, CSV, TSV. Each record becomes one document, numbered by
//! its record index so ids are stable; a record that cannot be parsed is a failure of its own
//! and the rest of the file is still read.
use super::decode::{decode, decode_borrowed, normalize_newlines};
use super::sniff::Format;
use super::ExtractConfig;
use crate::document::{Document, Failure, Outcome};
use anyhow::{Context, Result};
use std::borrow::Cow;
use tree::Json;

mod tree;

pub fn extract(
    source: &str,
    bytes: &[u8],
    format: Format,
    config: &ExtractConfig,
) -> Result<Vec<Outcome>> {
    let decoded = decode(bytes);
    let text = normalize_newlines(decoded.text);
    let outcomes = match format {
        Format::Json => json_document(source, &text, config)?,
        _ => each_record(source, &text, format, config).collect(),
    };
    Ok(outcomes
        .into_iter()
        .map(|outcome| with_encoding(outcome, decoded.encoding, decoded.replacements))
        .collect())
}

/// One outcome per record of a JSON-lines, CSV or TSV file or a JSON array, read as they are
/// asked for: a file of millions of records is never held as documents all at once (ingest
/// streams big ones). Other JSON documents are read whole.
/// `emit` gets each in order; it stops the reading by returning an error.
pub fn stream(
    source: &str,
    bytes: &[u8],
    format: Format,
    config: &ExtractConfig,
    emit: &mut dyn FnMut(Outcome) -> Result<()>,
) -> Result<()> {
    let (text, encoding, replacements) = decode_borrowed(bytes);
    let text = match text {
        Cow::Borrowed(text) if text.contains('\r') => Cow::Owned(normalize_newlines(text.into())),
        Cow::Owned(text) => Cow::Owned(normalize_newlines(text)),
        borrowed => borrowed,
    };
    let records: Box<dyn Iterator<Item = Outcome>> = match format {
        Format::Json => match array_records(source, &text, config) {
            Some(records) => Box::new(records),
            None => Box::new(json_document(source, &text, config)?.into_iter()),
        },
        _ => each_record(source, &text, format, config),
    };
    for outcome in records {
        emit(with_encoding(outcome, encoding, replacements))?;
    }
    Ok(())
}

fn with_encoding(mut outcome: Outcome, encoding: &'static str, replacements: usize) -> Outcome {
    if let Outcome::Kept(doc) = &mut outcome {
        doc.set_meta("encoding", encoding);
        doc.set_meta("replacements", replacements);
    }
    outcome
}

/// The records of a file holding one per line (JSON lines) or row (CSV, TSV).
fn each_record<'a>(
    source: &'a str,
    text: &'a str,
    format: Format,
    config: &'a ExtractConfig,
) -> Box<dyn Iterator<Item = Outcome> + 'a> {
    match format {
        Format::Jsonl => Box::new(json_lines(source, text, config)),
        Format::Tsv => Box::new(delimited(source, text, b'\t', config)),
        _ => Box::new(delimited(source, text, b',', config)),
    }
}

fn json_lines<'a>(
    source: &'a str,
    text: &'a str,
    config: &'a ExtractConfig,
) -> impl Iterator<Item = Outcome> + 'a {
    text.lines().enumerate().filter_map(move |(index, line)| {
        let line = line.trim();
        if line.is_empty() {
            return None;
        }
        let record = index as u64 + 1;
        let mut rewritten = String::new();
        Some(match parse_json(line, &mut rewritten) {
            Ok(value) => Outcome::Kept(Document::new(
                source,
                Some(record),
                record_text(&value, config),
            )),
            Err(e) => Outcome::Failed(Failure::new(
                &format!("{source}#{record}"),
                "extract",
                format!("invalid JSON on line {record}: {e}"),
            )),
        })
    })
}

/// The elements of a JSON document that is one array, each parsed alone, numbered as
/// `json_document` numbers them; `None` when the document is something else, or a MinerU
/// content list (one paper: `json_document` makes it one document).
fn array_records<'a>(
    source: &'a str,
    text: &'a str,
    config: &'a ExtractConfig,
) -> Option<impl Iterator<Item = Outcome> + 'a> {
    let body = text.trim_start().strip_prefix('[')?;
    let mut elements = ArrayElements {
        text: body,
        at: 0,
        finished: false,
    }
    .peekable();
    if let Some(Ok(first)) = elements.peek() {
        let mut rewritten = String::new();
        let block = parse_json(first, &mut rewritten).ok()?;
        if block.get("type").is_some() && block.get("page_idx").is_some() {
            return None;
        }
    }
    Some(elements.enumerate().map(move |(index, element)| {
        let record = index as u64 + 1;
        let mut rewritten = String::new();
        match element.map(|element| parse_json(element, &mut rewritten)) {
            Ok(Ok(value)) => Outcome::Kept(Document::new(
                source,
                Some(record),
                record_text(&value, config),
            )),
            Ok(Err(e)) => Outcome::Failed(Failure::new(
                &format!("{source}#{record}"),
                "extract",
                format!("invalid JSON in element {record}: {e}"),
            )),
            Err(e) => Outcome::Failed(Failure::new(&format!("{source}#{record}"), "extract", e)),
        }
    }))
}

/// The texts of a JSON array's elements, from just after its `[`: one scan that follows
/// strings and nesting, so a file of a million records is never one tree in memory.
struct ArrayElements<'a> {
    text: &'a str,
    at: usize,
    finished: bool,
}

impl<'a> Iterator for ArrayElements<'a> {
    type Item = Result<&'a str, &'static str>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let bytes = self.text.as_bytes();
        let start = self.at + (bytes.len() - self.at - self.text[self.at..].trim_start().len());
        if bytes.get(start) == Some(&b']') {
            self.finished = true;
            return None;
        }
        let (mut at, mut depth) = (start, 0usize);
        while at < bytes.len() {
            match bytes[at] {
                b'"' => {
                    at = string_end(bytes, at + 1);
                    continue;
                }
                b'[' | b'{' => depth += 1,
                b']' | b'}' if depth > 0 => depth -= 1,
                b']' | b',' if depth == 0 => break,
                _ => {}
            }
            at += 1;
        }
        if at >= bytes.len() {
            self.finished = true;
            return Some(Err("the JSON array is not closed"));
        }
        self.finished = bytes[at] == b']';
        self.at = at + 1;
        Some(Ok(self.text[start..at].trim_end()))
    }
}

/// Strict JSON, or else JSON as Python's `json.dump` writes it by default: bare `NaN`,
/// `Infinity` and `-Infinity` (pandas exports are full of them) read as null. Strict JSON
/// never holds those words outside strings, so a text that does is rewritten (into
/// `rewritten`, which the tree borrows from) before its one parse; if that fails too, the
/// error reported is the strict parser's.
fn parse_json<'a>(text: &'a str, rewritten: &'a mut String) -> serde_json::Result<Json<'a>> {
    let Some(nulled) = python_literals_to_null(text) else {
        return serde_json::from_str(text);
    };
    *rewritten = nulled;
    serde_json::from_str(rewritten).or_else(|_| serde_json::from_str(text))
}

/// The text with every bare `NaN`, `Infinity` and `-Infinity` outside strings replaced by
/// `null`, or `None` when it has none.
fn python_literals_to_null(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let (mut copied, mut at) = (0, 0);
    while let Some(offset) = memchr::memchr3(b'"', b'N', b'I', &bytes[at..]) {
        let found = at + offset;
        let (start, end) = if bytes[found] == b'"' {
            at = string_end(bytes, found + 1);
            continue;
        } else if bytes[found..].starts_with(b"NaN") {
            (found, found + 3)
        } else if bytes[found..].starts_with(b"Infinity") {
            let minus = found > 0 && bytes[found - 1] == b'-';
            (found - usize::from(minus), found + 8)
        } else {
            at = found + 1;
            continue;
        };
        let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
        out.push_str(&text[copied..start]);
        out.push_str("null");
        (copied, at) = (end, end);
    }
    let mut out = out?;
    out.push_str(&text[copied..]);
    Some(out)
}

/// The index after the closing quote of the string whose content starts at `from` (the end
/// of the text when it is unterminated). A backslash escapes the byte after it.
fn string_end(bytes: &[u8], mut from: usize) -> usize {
    while let Some(offset) = memchr::memchr2(b'"', b'\\', &bytes[from.min(bytes.len())..]) {
        let found = from + offset;
        if bytes[found] == b'"' {
            return found + 1;
        }
        from = found + 2;
    }
    bytes.len()
}

fn json_document(source: &str, text: &str, config: &ExtractConfig) -> Result<Vec<Outcome>> {
    let mut rewritten = String::new();
    let value = parse_json(text, &mut rewritten).context("invalid JSON")?;
    if let Some(pages) = content_list_text(&value) {
        return Ok(vec![Outcome::Kept(Document::new(source, None, pages))]);
    }
    let records: &[Json] = match &value {
        Json::Array(items) => items,
        Json::Object(map) if !has_text_field(&value, config) => {
            match single_array_of_objects(map) {
                Some(items) => items,
                None => std::slice::from_ref(&value),
            }
        }
        _ => std::slice::from_ref(&value),
    };
    Ok(records
        .iter()
        .enumerate()
        .map(|(i, record)| {
            Outcome::Kept(Document::new(
                source,
                Some(i as u64 + 1),
                record_text(record, config),
            ))
        })
        .collect())
}

fn has_text_field(value: &Json, config: &ExtractConfig) -> bool {
    config
        .json_text_fields
        .iter()
        .any(|f| value.get(f).and_then(Json::as_str).is_some())
}

/// `{"data": [{…}, {…}]}`: the records are the one array of objects.
fn single_array_of_objects<'t, 'a>(map: &'t [(Cow<'a, str>, Json<'a>)]) -> Option<&'t [Json<'a>]> {
    let mut arrays = map.iter().filter_map(|(_, v)| match v {
        Json::Array(items) if items.first().is_some_and(Json::is_object) => Some(items.as_slice()),
        _ => None,
    });
    let first = arrays.next()?;
    arrays.next().is_none().then_some(first)
}

/// MinerU's content_list.json: blocks `{type, text, page_idx}` of one paper. Its text blocks
/// make one document, with a page break wherever `page_idx` changes.
fn content_list_text(value: &Json) -> Option<String> {
    let blocks = value.as_array()?;
    let is_content_list = !blocks.is_empty()
        && blocks
            .iter()
            .all(|b| b.get("type").is_some() && b.get("page_idx").is_some());
    if !is_content_list {
        return None;
    }
    let mut text = String::new();
    let mut page = blocks[0].get("page_idx").and_then(Json::as_u64);
    for block in blocks {
        let block_page = block.get("page_idx").and_then(Json::as_u64);
        if block_page != page {
            text.push(crate::document::PAGE_BREAK);
            page = block_page;
        }
        if block.get("type").and_then(Json::as_str) == Some("text") {
            if let Some(t) = block.get("text").and_then(Json::as_str) {
                text.push_str(t.trim());
                text.push('\n');
            }
        }
    }
    Some(text)
}

/// The configured text field of a record, or else every string in it that reads as prose.
fn record_text(value: &Json, config: &ExtractConfig) -> String {
    for field in &config.json_text_fields {
        if let Some(text) = value.get(field).and_then(Json::as_str) {
            return text.to_string();
        }
    }
    let mut parts = Vec::new();
    collect_prose(value, None, &mut parts);
    parts.join("\n")
}

fn collect_prose(value: &Json, key: Option<&str>, parts: &mut Vec<String>) {
    match value {
        Json::String(s) => match key.and_then(option_letter) {
            // Exam options keep their letter, whatever they hold: "A. 醛固酮增多症定性", "B. IgG".
            Some(letter) if !s.trim().is_empty() => parts.push(format!("{letter}. {}", s.trim())),
            None if is_prose(s) && !is_label(s, key) => parts.push(s.trim().to_string()),
            _ => {}
        },
        Json::Array(items) => items.iter().for_each(|v| collect_prose(v, key, parts)),
        Json::Object(map) => map
            .iter()
            .for_each(|(k, v)| collect_prose(v, Some(k), parts)),
        _ => {}
    }
}

/// A short value under a key that is not a question or answer is a tag or an entity label
/// (`"surgery": "无"`, `"department": "内科"`), not text.
fn is_label(s: &str, key: Option<&str>) -> bool {
    const TEXT_KEYS: &[&str] = &[
        "question", "answer", "text", "content", "问题", "答案", "解析",
    ];
    let textual = key.is_some_and(|k| {
        let k = k.to_lowercase();
        TEXT_KEYS.iter().any(|t| k.contains(t))
    });
    !textual && s.trim().chars().count() < 5
}

/// The letter of an exam option key: `A`, `opa` (MedMCQA style), `option_b`.
fn option_letter(key: &str) -> Option<char> {
    let lower = key.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("option_")
        .or_else(|| lower.strip_prefix("op"))
        .unwrap_or(&lower);
    let mut chars = rest.chars();
    match (chars.next(), chars.next()) {
        (Some(c @ 'a'..='h'), None) if key.len() == 1 || rest.len() < lower.len() => {
            Some(c.to_ascii_uppercase())
        }
        _ => None,
    }
}

/// Chinese text, or words separated by spaces; not ids, codes, tags or numbers.
fn is_prose(s: &str) -> bool {
    s.chars().any(crate::clean::is_cjk)
        || (s.trim().contains(' ') && s.chars().any(char::is_alphabetic))
}

fn delimited<'a>(
    source: &'a str,
    text: &'a str,
    delimiter: u8,
    config: &'a ExtractConfig,
) -> impl Iterator<Item = Outcome> + 'a {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let keep: Option<Vec<usize>> = match reader.headers() {
        Ok(headers) if !config.csv_columns.is_empty() => Some(
            headers
                .iter()
                .enumerate()
                .filter(|(_, h)| config.csv_columns.iter().any(|c| c == h.trim()))
                .map(|(i, _)| i)
                .collect(),
        ),
        _ => None,
    };
    reader.into_records().enumerate().map(move |(index, row)| {
        let record = index as u64 + 1;
        match row {
            Ok(row) => {
                let fields: Vec<&str> = match &keep {
                    Some(columns) => columns.iter().filter_map(|&i| row.get(i)).collect(),
                    None => row.iter().collect(),
                };
                let text = fields
                    .iter()
                    .map(|f| f.trim())
                    .filter(|f| !f.is_empty())
                    .collect::<Vec<_>>()
                    .join("\n");
                Outcome::Kept(Document::new(source, Some(record), text))
            }
            Err(e) => Outcome::Failed(Failure::new(&format!("{source}#{record}"), "extract", e)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_literals_become_null_but_not_inside_strings() {
        let text =
            r#"{"a": NaN, "b": "NaN \" Infinity \\", "c": -Infinity, "d": [Infinity,NaNaN]}"#;
        assert_eq!(
            python_literals_to_null(text).unwrap(),
            r#"{"a": null, "b": "NaN \" Infinity \\", "c": null, "d": [null,nullaN]}"#
        );
        assert_eq!(python_literals_to_null(r#"{"a": "NaN", "b": 1}"#), None);
        assert_eq!(python_literals_to_null(r#"{"a": "unterminated NaN"#), None);
    }

    #[test]
    fn array_elements_are_found_by_one_scan() {
        fn elements(text: &str) -> Vec<Result<&str, &'static str>> {
            ArrayElements {
                text: text.trim_start().strip_prefix('[').unwrap(),
                at: 0,
                finished: false,
            }
            .collect()
        }
        assert_eq!(
            elements(r#"[{"q": "a, [b]", "o": {"A": [1, 2]}}, "x\",]" , 3 ]"#),
            [
                Ok(r#"{"q": "a, [b]", "o": {"A": [1, 2]}}"#),
                Ok(r#""x\",]""#),
                Ok("3")
            ]
        );
        assert_eq!(elements("[ ]"), Vec::<Result<&str, &str>>::new());
        assert_eq!(elements("[]"), Vec::<Result<&str, &str>>::new());
        assert_eq!(
            elements(r#"[1, {"a": 2"#),
            [Ok("1"), Err("the JSON array is not closed")]
        );
    }

    #[test]
    fn unparsable_text_reports_the_strict_error() {
        let mut rewritten = String::new();
        let strict = serde_json::from_str::<serde_json::Value>(r#"{"a": NaN, "b": }"#).unwrap_err();
        let error = parse_json(r#"{"a": NaN, "b": }"#, &mut rewritten)
            .err()
            .unwrap();
        assert_eq!(error.to_string(), strict.to_string());
        let value = parse_json(r#"{"a": NaN, "b": "NaN"}"#, &mut rewritten).unwrap();
        assert!(matches!(value.get("a"), Some(Json::Other)));
        assert_eq!(value.get("b").and_then(Json::as_str), Some("NaN"));
    }

    #[test]
    fn exam_record_without_text_field_keeps_question_and_options() {
        let value: Json = serde_json::from_str(
            r#"{"id":"413f38dc","question":"小剂量地塞米松抑制试验适用于","options":{"A":"醛固酮增多症定性","B":"motor evoked potentials"},"answer_idx":"A","meta_info":"taiwanese_test_Q"}"#,
        )
        .unwrap();
        let text = record_text(&value, &ExtractConfig::default());
        assert_eq!(
            text,
            "小剂量地塞米松抑制试验适用于\nA. 醛固酮增多症定性\nB. motor evoked potentials"
        );
    }
}
