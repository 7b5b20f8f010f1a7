//! Line joining: text from page layouts arrives hard-wrapped every 20–60 columns, broken at
//! page ends, and (pdftotext -raw on some typesetters) at almost every 、，；. A line break is
//! kept where a reader sees one — after a sentence end, before a list item or heading, after a
//! short line (heading, table row, paragraph end) — and removed where the sentence goes on.
//! Whether a document is hard-wrapped at all is learned from its own line widths, so the same
//! rule serves PDF text, text-layer .txt files and paragraph-per-line books.
use super::{display_width, is_cjk_text, Meta, Step};
use memchr::memmem;
use regex::Regex;
use std::cell::OnceCell;
use std::ops::Range;
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
    fn apply(&self, mut text: String, _: &mut Meta) -> String {
        let lines = split_lines(&text);
        if lines.len() < 2 {
            return text;
        }
        let measure = Measure::new(&lines);
        let brackets = Brackets::of(&text);
        let mut out = Output::new(&text);
        // First line of the printed line `lines[i]` ends: pdftotext puts a superscript
        // reference on its own line, so `效果 [1]` + `。近年来，随着国际疾病分` was one printed
        // line; -raw breaks some typesetters' lines after every ，、； (`最新数据显示，` +
        // `恶性肿瘤晚`).
        let mut printed_from = 0;
        for (i, line) in lines.iter().enumerate() {
            let line = line.trim_end();
            let Some(next) = lines.get(i + 1) else {
                out.push(line);
                break;
            };
            let line = if i == 0 { line } else { line.trim_start() };
            let first = std::mem::replace(&mut printed_from, i + 1);
            let fills_wrap = || measure.fills_wrap(first, i);
            let opens_more = || brackets.opens_more_than_closes(&text, line);
            if line.is_empty()
                || next.trim().is_empty()
                || !goes_on(line, next, opens_more, fills_wrap)
            {
                out.push(line);
                out.push_text("\n");
                continue;
            }
            let next = next.trim_start();
            if next.starts_with(CLOSERS)
                || (line.ends_with(CONTINUES) && fills_wrap() == Some(false))
            {
                printed_from = first;
            }
            out.push(line);
            let (left, before) = out.last_two_chars();
            match glue(left, before, next) {
                Glue::None => {}
                Glue::Space => out.push_text(" "),
                Glue::DropHyphen => out.pop(),
            }
        }
        match out.finish() {
            Joined::Prefix(len) => {
                text.truncate(len);
                text
            }
            Joined::Edited(joined) => joined,
        }
    }
}

/// The lines of `text`, split at '\n' as `str::split` does, with a vectorised search.
fn split_lines(text: &str) -> Vec<&str> {
    let breaks = memchr::memchr_iter(b'\n', text.as_bytes());
    let mut lines = Vec::with_capacity(breaks.clone().count() + 1);
    let mut start = 0;
    for end in breaks {
        lines.push(&text[start..end]);
        start = end + 1;
    }
    lines.push(&text[start..]);
    lines
}

/// Where `part`, a slice of `text`, starts in it.
fn offset_in(text: &str, part: &str) -> usize {
    let offset = part.as_ptr() as usize - text.as_ptr() as usize;
    debug_assert!(offset + part.len() <= text.len());
    offset
}

/// The joined text: what was copied, then a run of the input that follows it unchanged.
/// Unchanged text is one run and needs no copy; changed text is copied a run at a time.
struct Output<'a> {
    input: &'a str,
    /// `None` while the run starts at the input's start.
    copied: Option<String>,
    run: Range<usize>,
}

enum Joined {
    /// The input's first bytes, unchanged.
    Prefix(usize),
    Edited(String),
}

impl<'a> Output<'a> {
    fn new(input: &'a str) -> Self {
        Output {
            input,
            copied: None,
            run: 0..0,
        }
    }

    /// Appends `piece`, a slice of the input.
    fn push(&mut self, piece: &'a str) {
        let start = offset_in(self.input, piece);
        if start != self.run.end {
            self.flush();
            self.run = start..start;
        }
        self.run.end += piece.len();
    }

    /// Appends text of its own (a line break, a space), as part of the run where the input
    /// goes on with the same text.
    fn push_text(&mut self, text: &str) {
        if self.input.as_bytes()[self.run.end..].starts_with(text.as_bytes()) {
            self.run.end += text.len();
        } else {
            self.flush();
            self.copied().push_str(text);
        }
    }

    fn pop(&mut self) {
        match self.input[self.run.clone()].chars().next_back() {
            Some(last) => self.run.end -= last.len_utf8(),
            None => {
                self.copied().pop();
            }
        }
    }

    /// The last character and the one before.
    fn last_two_chars(&self) -> (Option<char>, Option<char>) {
        let copied = self.copied.as_deref().unwrap_or_default();
        let mut backwards = self.input[self.run.clone()]
            .chars()
            .rev()
            .chain(copied.chars().rev());
        (backwards.next(), backwards.next())
    }

    fn copied(&mut self) -> &mut String {
        let capacity = self.input.len();
        self.copied
            .get_or_insert_with(|| String::with_capacity(capacity))
    }

    fn flush(&mut self) {
        let end = self.run.end;
        let run = std::mem::replace(&mut self.run, end..end);
        let input = self.input;
        self.copied().push_str(&input[run]);
    }

    fn finish(mut self) -> Joined {
        if self.copied.is_none() {
            return Joined::Prefix(self.run.end);
        }
        self.flush();
        Joined::Edited(self.copied.unwrap_or_default())
    }
}

/// What goes between a line and the next one joined to it.
enum Glue {
    None,
    Space,
    /// The line's final hyphen goes: the word was split.
    DropHyphen,
}

/// The glue between a line ending in `before` `left` and the next line.
fn glue(left: Option<char>, before: Option<char>, next: &str) -> Glue {
    let (Some(left), Some(right)) = (left, next.chars().next()) else {
        return Glue::None;
    };
    if left == '-' && before.is_some_and(|c| c.is_ascii_alphabetic()) {
        // "Organiza-" + "tion" is one word; "apo-" + "CIII" keeps its hyphen.
        return if right.is_ascii_lowercase() {
            Glue::DropHyphen
        } else {
            Glue::None
        };
    }
    // Latin words and sentences wrap at spaces; Chinese, and Chinese using ASCII commas, not.
    let word_end = left.is_ascii_alphanumeric()
        || (",.;:!?)]".contains(left) && !before.is_some_and(is_cjk_text));
    let word_start = right.is_ascii_alphanumeric() || right == '(' || right == '[';
    if word_end && word_start {
        Glue::Space
    } else {
        Glue::None
    }
}

/// Whether the sentence on `line` continues on `next`. The costlier questions come as
/// closures, asked only when the answer depends on them: whether `line` opens more brackets
/// than it closes, and whether its printed line fills the wrap width (`None`: the text is not
/// hard-wrapped), which measures the whole text the first time.
fn goes_on(
    line: &str,
    next: &str,
    opens_more_than_closes: impl FnOnce() -> bool,
    fills_wrap: impl FnOnce() -> Option<bool>,
) -> bool {
    let next_trimmed = next.trim_start();
    if next_trimmed.starts_with(CLOSERS) {
        return true;
    }
    // An indented line starts a paragraph.
    if next.starts_with("  ") || next.starts_with('\u{3000}') {
        return false;
    }
    // A list item or heading on the next line ends the sentence whatever `line` says, but
    // that takes a regex: it is asked only when the answer would otherwise be yes.
    match line_end(line, opens_more_than_closes) {
        LineEnd::Stops => false,
        LineEnd::GoesOn => !ITEM_START.is_match(next_trimmed),
        LineEnd::GoesOnIfWrapped => {
            !ITEM_START.is_match(next_trimmed) && fills_wrap() == Some(true)
        }
    }
}

/// What the end of a line says about its sentence.
enum LineEnd {
    Stops,
    GoesOn,
    /// Neither: the sentence goes on where the wrap cut the line.
    GoesOnIfWrapped,
}

fn line_end(line: &str, opens_more_than_closes: impl FnOnce() -> bool) -> LineEnd {
    // An unclosed bracket goes on whatever the line ends with.
    if opens_more_than_closes() {
        return LineEnd::GoesOn;
    }
    // A sentence end is told from the last characters; a heading takes a regex.
    if ends_sentence(line) || HEADING.is_match(line) {
        return LineEnd::Stops;
    }
    if line.ends_with(CONTINUES) || line.ends_with('-') {
        return LineEnd::GoesOn;
    }
    LineEnd::GoesOnIfWrapped
}

fn ends_sentence(line: &str) -> bool {
    let last = line
        .trim_end_matches(TRAILING_CLOSERS)
        .chars()
        .next_back()
        .unwrap_or(' ');
    SENTENCE_ENDS.contains(&last) || (last == '.' && ends_english_sentence(line))
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

/// Where the text opens and closes brackets, found once for the whole text by vectorised
/// searches: a line's balance is then two counts, with no decoding of its characters.
struct Brackets {
    opens: Vec<usize>,
    closes: Vec<usize>,
}

static FULL_WIDTH_OPEN: LazyLock<memmem::Finder> = LazyLock::new(|| memmem::Finder::new("（"));
static FULL_WIDTH_CLOSE: LazyLock<memmem::Finder> = LazyLock::new(|| memmem::Finder::new("）"));

impl Brackets {
    fn of(text: &str) -> Self {
        let positions = |ascii: u8, full_width: &memmem::Finder| {
            let bytes = text.as_bytes();
            let mut at: Vec<usize> = memchr::memchr_iter(ascii, bytes).collect();
            at.extend(full_width.find_iter(bytes));
            at.sort_unstable();
            at
        };
        Brackets {
            opens: positions(b'(', &FULL_WIDTH_OPEN),
            closes: positions(b')', &FULL_WIDTH_CLOSE),
        }
    }

    /// An unclosed bracket in `line`, a slice of `text`: `(European Society for Medical`.
    fn opens_more_than_closes(&self, text: &str, line: &str) -> bool {
        let start = offset_in(text, line);
        let within = |at: &[usize]| {
            at.partition_point(|&p| p < start + line.len()) - at.partition_point(|&p| p < start)
        };
        let opens = within(&self.opens);
        opens > 0 && opens > within(&self.closes)
    }
}

/// Line widths and the wrap width, measured the first time a line's end leaves the decision
/// to them: every character of every line is looked at then, and many texts never need it.
struct Measure<'a> {
    lines: &'a [&'a str],
    measured: OnceCell<Measured>,
}

struct Measured {
    /// `widths_before[i]`: the width of lines `..i` together, so that a printed line's width
    /// is one subtraction.
    widths_before: Vec<usize>,
    wrap: Option<usize>,
}

impl<'a> Measure<'a> {
    fn new(lines: &'a [&'a str]) -> Self {
        Measure {
            lines,
            measured: OnceCell::new(),
        }
    }

    /// Whether the printed line made of lines `first..=last` fills the wrap width; `None` when
    /// the text is not hard-wrapped.
    fn fills_wrap(&self, first: usize, last: usize) -> Option<bool> {
        let measured = self.measured.get_or_init(|| Measured::of(self.lines));
        let wrap = measured.wrap?;
        let width = measured.widths_before[last + 1] - measured.widths_before[first];
        Some(width as f64 >= FULL_LINE * wrap as f64)
    }
}

impl Measured {
    fn of(lines: &[&str]) -> Self {
        // Fewer lines make fewer printed lines, too few to learn a wrap from.
        if lines.len() < MIN_LINES_FOR_WRAP {
            return Measured {
                widths_before: Vec::new(),
                wrap: None,
            };
        }
        let mut widths_before = Vec::with_capacity(lines.len() + 1);
        let mut printed_widths = Vec::with_capacity(lines.len());
        let (mut total, mut printed_from) = (0, 0);
        widths_before.push(total);
        for (i, line) in lines.iter().enumerate() {
            let line = line.trim();
            total += display_width(line);
            widths_before.push(total);
            // A line ending in ，、； or followed by a line starting with closing punctuation
            // goes on on the same printed line.
            let next_closes = lines
                .get(i + 1)
                .is_some_and(|n| n.trim_start().starts_with(CLOSERS));
            if line.is_empty() || !(line.ends_with(CONTINUES) || next_closes) {
                printed_widths.push(total - widths_before[printed_from]);
                printed_from = i + 1;
            }
        }
        Measured {
            widths_before,
            wrap: wrap_width(&printed_widths),
        }
    }
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
