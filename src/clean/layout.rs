//! Line joining: text from page layouts arrives hard-wrapped every 20–60 columns, broken at
//! page ends, and (pdftotext -raw on some typesetters) at almost every 、，；. A line break is
//! kept where a reader sees one — after a sentence end, before a list item or heading, after a
//! short line (heading, table row, paragraph end) — and removed where the sentence goes on.
//! Whether a document is hard-wrapped at all is learned from its own line widths, so the same
//! rule serves PDF text, text-layer .txt files and paragraph-per-line books.
use super::{display_width, is_cjk_text, Meta, Step};
use regex::Regex;
use std::sync::LazyLock;

pub struct JoinLines;

/// A line at least this share of the wrap width was cut by the wrap, not by the author.
const FULL_LINE: f64 = 0.75;
/// A document is hard-wrapped when this share of its lines are within the wrap band.
const WRAPPED_SHARE: f64 = 0.28;
/// Fewer lines than this say nothing about wrapping.
const MIN_LINES_FOR_WRAP: usize = 6;

/// Ends a sentence (closing quotes and brackets after it are skipped first).
const SENTENCE_ENDS: &[char] = &['。', '！', '？', '!', '?', '…', '｡'];
/// Says the sentence goes on.
const CONTINUES: &[char] = &[
    '，', '、', '；', ',', ';', '（', '(', '“', '《', '〔', '［', '[',
];
/// Closes what the line before opened: never starts a line of its own.
const CLOSERS: &[char] = &[
    '。', '，', '、', '；', '：', '！', '？', '）', '》', '”', '’', '」', '』', '】', '〕', '］',
    ')', ',', ';', ':', '.', '%', '％',
];
const TRAILING_CLOSERS: &[char] = &['”', '’', '」', '』', '）', ')', '】', '》', '〕', '"', '\''];

/// A line that starts a list item or a numbered heading.
static ITEM_START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)^(
            [(（]?[一二三四五六七八九十]{1,3}[)）、.．]
          | [(（]\d{1,3}[)）]
          | \d{1,3}[、.．)）]\s*[^\d\s.．]
          | [①-⑳⑴-⒇❶-❿]
          | [•●■◆▪□○◇★☆►▶➢✓√]
          | [-–—]\s
          | 第[一二三四五六七八九十百千\d]{1,4}[章节篇部条款卷回]
          | [A-Ha-h][.．、)）]\s*\S
          | 【
          | (?i:(table|figure|fig\.)\s*\d)
          | (表|图)\s*\d
        )",
    )
    .unwrap()
});

/// A heading: numbered with Chinese numerals or 第…章, and without sentence punctuation.
static HEADING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^([(（]?[一二三四五六七八九十]{1,3}[)）、.．]|第[一二三四五六七八九十百千\d]{1,4}[章节篇部条])[^，。；,;]*$",
    )
    .unwrap()
});

impl Step for JoinLines {
    fn apply(&self, text: String, _: &mut Meta) -> String {
        let lines: Vec<&str> = text.split('\n').collect();
        if lines.len() < 2 {
            return text;
        }
        let widths: Vec<usize> = lines.iter().map(|l| display_width(l.trim())).collect();
        let wrap = wrap_width(&printed_widths(&lines, &widths));
        let mut out = String::with_capacity(text.len());
        // Width already on the printed line: pdftotext puts a superscript reference on its own
        // line, so `效果 [1]` + `。近年来，随着国际疾病分` was one printed line; -raw breaks
        // some typesetters' lines after every ，、； (`最新数据显示，` + `恶性肿瘤晚`).
        let mut carried = 0;
        for (i, line) in lines.iter().enumerate() {
            let line = line.trim_end();
            let Some(next) = lines.get(i + 1) else {
                out.push_str(line);
                break;
            };
            let line = if i == 0 { line } else { line.trim_start() };
            let width = carried + widths[i];
            carried = 0;
            if line.is_empty() || next.trim().is_empty() || !goes_on(line, width, next, wrap) {
                out.push_str(line);
                out.push('\n');
                continue;
            }
            let next = next.trim_start();
            let short = wrap.is_some_and(|wrap| (width as f64) < FULL_LINE * wrap as f64);
            if next.starts_with(CLOSERS) || (short && line.ends_with(CONTINUES)) {
                carried = width;
            }
            out.push_str(line);
            join(&mut out, next);
        }
        out
    }
}

/// Writes the glue between `out` (ending with a line) and the next line's start.
fn join(out: &mut String, next: &str) {
    let mut tail = out.chars().rev();
    let (Some(left), before) = (tail.next(), tail.next()) else {
        return;
    };
    let Some(right) = next.chars().next() else {
        return;
    };
    if left == '-' && before.is_some_and(|c| c.is_ascii_alphabetic()) {
        // "Organiza-" + "tion" is one word; "apo-" + "CIII" keeps its hyphen.
        if right.is_ascii_lowercase() {
            out.pop();
        }
        return;
    }
    // Latin words and sentences wrap at spaces; Chinese, and Chinese using ASCII commas, not.
    let word_end = left.is_ascii_alphanumeric()
        || (",.;:!?)]".contains(left) && !before.is_some_and(is_cjk_text));
    let word_start = right.is_ascii_alphanumeric() || right == '(' || right == '[';
    if word_end && word_start {
        out.push(' ');
    }
}

/// Whether the sentence on `line` (`width` columns on the page) continues on `next`.
fn goes_on(line: &str, width: usize, next: &str, wrap: Option<usize>) -> bool {
    let next_trimmed = next.trim_start();
    if next_trimmed.starts_with(CLOSERS) {
        return true;
    }
    // An indented line starts a paragraph.
    if next.starts_with("  ") || next.starts_with('\u{3000}') {
        return false;
    }
    if ITEM_START.is_match(next_trimmed) {
        return false;
    }
    if opens_more_than_closes(line) {
        return true;
    }
    if HEADING.is_match(line) {
        return false;
    }
    let last = line
        .trim_end_matches(TRAILING_CLOSERS)
        .chars()
        .next_back()
        .unwrap_or(' ');
    if SENTENCE_ENDS.contains(&last) || (last == '.' && ends_english_sentence(line)) {
        return false;
    }
    if line.ends_with(CONTINUES) || line.ends_with('-') {
        return true;
    }
    match wrap {
        Some(wrap) => width as f64 >= FULL_LINE * wrap as f64,
        None => false,
    }
}

/// An unclosed bracket: `(European Society for Medical` goes on.
fn opens_more_than_closes(line: &str) -> bool {
    // Most lines open no bracket: two byte searches instead of decoding every character.
    if memchr::memchr(b'(', line.as_bytes()).is_none() && !line.contains('（') {
        return false;
    }
    let mut depth = 0i32;
    for c in line.chars() {
        match c {
            '(' | '（' => depth += 1,
            ')' | '）' => depth -= 1,
            _ => {}
        }
    }
    depth > 0
}

/// `pain.` ends a sentence; `2.`, `et al.`, `Fig.` and `J.` do not.
fn ends_english_sentence(line: &str) -> bool {
    // Everything before the final character, whatever its width (found by fuzzing: a line
    // ending in a multi-byte character reached here).
    let Some((last, _)) = line.char_indices().next_back() else {
        return false;
    };
    let word = line[..last]
        .rsplit(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("");
    word.chars().count() > 3 && word.chars().all(|c| c.is_alphabetic())
}

/// Widths of printed lines: a line ending in ，、； or followed by a line starting with closing
/// punctuation continues on the same printed line.
fn printed_widths(lines: &[&str], widths: &[usize]) -> Vec<usize> {
    let mut printed = Vec::with_capacity(lines.len());
    let mut carried = 0;
    for (i, line) in lines.iter().enumerate() {
        let width = carried + widths[i];
        let line = line.trim();
        let next_closes = lines
            .get(i + 1)
            .is_some_and(|n| n.trim_start().starts_with(CLOSERS));
        if !line.is_empty() && (line.ends_with(CONTINUES) || next_closes) {
            carried = width;
        } else {
            printed.push(width);
            carried = 0;
        }
    }
    printed
}

/// The width the text was wrapped at, if it was: a high percentile of line widths, provided
/// enough lines sit near it (paragraph-per-line text has widths all over the place).
fn wrap_width(line_widths: &[usize]) -> Option<usize> {
    let mut widths: Vec<usize> = line_widths.iter().copied().filter(|&w| w >= 8).collect();
    if widths.len() < MIN_LINES_FOR_WRAP {
        return None;
    }
    widths.sort_unstable();
    let typical = widths[widths.len() * 3 / 4];
    let low = FULL_LINE * typical as f64;
    let high = 1.15 * typical as f64;
    let in_band = widths
        .iter()
        .filter(|&&w| w as f64 >= low && w as f64 <= high)
        .count();
    (in_band as f64 >= WRAPPED_SHARE * widths.len() as f64).then_some(typical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn join_lines(s: &str) -> String {
        JoinLines.apply(s.to_string(), &mut Meta::new())
    }

    #[test]
    fn wrapped_chinese_joins_but_paragraphs_headings_and_items_stay() {
        let text = "一、前言\n\
            目前,2型糖尿病及其并发症已经成为危害公众\n\
            健康的主要疾病之一,控制血糖是延缓糖尿病进展及\n\
            其并发症发生的重要措施之一。虽然HBA1C是评价血\n\
            糖控制水平的公认指标,但应该控制的理想水平即目\n\
            标值究竟是多少还存在争议。\n\
            (1)空腹和餐后 TG 水平升高,即使在空腹血糖和\n\
            TG 水平控制正常后往往还存在餐后高 TG 血症;\n\
            (2)HDL-C 水平降低\n\
            表 1 两组患者的基线资料\n\
            组别 例数 年龄";
        assert_eq!(
            join_lines(text),
            "一、前言\n\
            目前,2型糖尿病及其并发症已经成为危害公众健康的主要疾病之一,控制血糖是延缓糖尿病进展及其并发症发生的重要措施之一。虽然HBA1C是评价血糖控制水平的公认指标,但应该控制的理想水平即目标值究竟是多少还存在争议。\n\
            (1)空腹和餐后 TG 水平升高,即使在空腹血糖和TG 水平控制正常后往往还存在餐后高 TG 血症;\n\
            (2)HDL-C 水平降低\n\
            表 1 两组患者的基线资料\n\
            组别 例数 年龄"
        );
    }

    #[test]
    fn english_dehyphenates_and_punctuation_rejoins() {
        assert_eq!(
            join_lines("1986 年世界卫生组织 (World Health Organiza-\ntion, WHO) 提出\n质量和效果 [1]\n。\n(European Society for Medical\nOncology) non-\nHDL"),
            "1986 年世界卫生组织 (World Health Organization, WHO) 提出\n质量和效果 [1]。\n(European Society for Medical Oncology) non-HDL"
        );
    }

    #[test]
    fn short_lines_ending_in_commas_join_without_a_wrap() {
        assert_eq!(
            join_lines("南京医科大学第二附属医院疼痛科，\n南京市 210011；\n空军军医大学"),
            "南京医科大学第二附属医院疼痛科，南京市 210011；空军军医大学"
        );
    }
}
