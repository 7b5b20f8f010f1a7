//! Garbage that no reader wants and no tokenizer should learn: GBK↔UTF-8 round-trip mojibake
//! (锟斤拷 is U+FFFD's UTF-8 bytes read as GBK), MSVC's fill bytes read as GBK (烫烫烫 = 0xCC,
//! 屯屯屯 = 0xCD), U+FFFD left by decoders, private-use code points (GBK user-defined glyphs and
//! PDF fonts' private glyphs: no shared meaning) and long runs of symbols (separator rules,
//! ★★★★★). Removed characters are counted in `meta.garbage_chars`: the `garbled` filter uses it.
use super::char_table::{starts_common_ideograph, BmpTable};
use super::{count_in_meta, is_cjk, is_cjk_punctuation, Meta, Step};
use memchr::memmem::Finder;
use std::ops::Range;
use std::sync::LazyLock;

pub struct Garbage {
    /// Symbol runs longer than this are removed.
    pub max_symbol_run: usize,
}

impl Step for Garbage {
    fn apply(&self, text: String, meta: &mut Meta) -> String {
        let text = remove_garbage_characters(text, meta);
        self.symbol_runs(text, meta)
    }
}

/// Removes mojibake, fill runs, private-use characters and non-characters. They are found by
/// byte search (SIMD), not by decoding every character: most documents have none and keep
/// their allocation.
fn remove_garbage_characters(text: String, meta: &mut Meta) -> String {
    let mut finder = GarbageFinder::default();
    let Some(first) = finder.next(&text, 0) else {
        return text;
    };
    let mut out = String::with_capacity(text.len());
    let mut copied_until = 0;
    let mut removed = 0;
    let mut found = Some(first);
    while let Some(garbage) = found {
        out.push_str(&text[copied_until..garbage.start]);
        removed += text[garbage.clone()].chars().count();
        copied_until = garbage.end;
        found = finder.next(&text, garbage.end);
    }
    out.push_str(&text[copied_until..]);
    count_in_meta(meta, "garbage_chars", removed);
    out
}

/// The kinds of garbage, each searched on its own.
const GARBAGE_KINDS: usize = 5;

/// Finds garbage left to right, remembering each kind's next match so that a frequent kind
/// does not make the search for a rare one start over at every match.
#[derive(Default)]
struct GarbageFinder {
    /// Per kind: the next match at or after `searched_from`, `None` when there is none.
    next: [Option<Range<usize>>; GARBAGE_KINDS],
    searched_from: [Option<usize>; GARBAGE_KINDS],
}

impl GarbageFinder {
    /// The first garbage at or after byte `from`.
    fn next(&mut self, text: &str, from: usize) -> Option<Range<usize>> {
        for kind in 0..GARBAGE_KINDS {
            let stale = match (&self.next[kind], self.searched_from[kind]) {
                (_, None) => true,
                (Some(found), _) => found.start < from,
                (None, Some(_)) => false, // none left
            };
            if stale {
                self.next[kind] = find_garbage(kind, text, from);
                self.searched_from[kind] = Some(from);
            }
        }
        self.next.iter().flatten().min_by_key(|r| r.start).cloned()
    }
}

fn find_garbage(kind: usize, text: &str, from: usize) -> Option<Range<usize>> {
    match kind {
        0 => find_bytes(&MOJIBAKE, text, from).map(|at| at..at + MOJIBAKE.needle().len()),
        1 => find_fill_run(&FILL_CC, text, from, '烫'),
        2 => find_fill_run(&FILL_CD, text, from, '屯'),
        // Private-use and non-characters start with one of these bytes: EE/EF for U+E000–U+FFFF
        // (EF also starts the common full-width forms, which are checked and passed over),
        // F3/F4 for planes 15 and 16.
        3 => find_lone_garbage(text, from, |b| memchr::memchr3(0xEE, 0xEF, 0xF3, b)),
        _ => find_lone_garbage(text, from, |b| memchr::memchr(0xF4, b)),
    }
}

/// Searchers built once: building one costs more than searching most documents.
static MOJIBAKE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("锟斤拷"));
/// Three fill characters (0xCC and 0xCD bytes read as GBK): the shortest run that is garbage.
static FILL_CC: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("烫烫烫"));
static FILL_CD: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("屯屯屯"));

fn find_bytes(finder: &Finder, text: &str, from: usize) -> Option<usize> {
    finder.find(&text.as_bytes()[from..]).map(|at| from + at)
}

/// A run of at least three `fill` characters.
fn find_fill_run(three: &Finder, text: &str, from: usize, fill: char) -> Option<Range<usize>> {
    let start = find_bytes(three, text, from)?;
    let mut end = start + three.needle().len();
    while text[end..].starts_with(fill) {
        end += fill.len_utf8();
    }
    Some(start..end)
}

/// A private-use character or non-character, found by `candidate` (the offset of a byte that
/// may start one).
fn find_lone_garbage(
    text: &str,
    from: usize,
    candidate: impl Fn(&[u8]) -> Option<usize>,
) -> Option<Range<usize>> {
    let mut at = from;
    loop {
        at += candidate(&text.as_bytes()[at..])?;
        // The candidate bytes are lead bytes, so `at` starts a character.
        let c = text[at..].chars().next()?;
        if is_lone_garbage(c) {
            return Some(at..at + c.len_utf8());
        }
        at += 1;
    }
}

fn is_lone_garbage(c: char) -> bool {
    is_private_use(c) || matches!(c, '\u{FFFD}' | '\u{FFFE}' | '\u{FFFF}')
}

impl Garbage {
    /// Removes runs of more than `max_symbol_run` symbols (spaces inside the run included).
    /// Text without such a run (nearly all of it) is returned as it is, without a copy.
    fn symbol_runs(&self, text: String, meta: &mut Meta) -> String {
        let mut out: Option<String> = None; // built from the first long run on
        let mut copied_until = 0; // bytes of `text` before this are in `out`
        let mut run_start: Option<usize> = None; // byte offset in `text`
        let mut run_symbols = 0;
        let mut removed = 0;
        let bytes = text.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            // Most characters are common ideographs, told from their first bytes: no symbol.
            let (symbol, space, len) = if starts_common_ideograph(&bytes[at..]) {
                (false, false, 3)
            } else {
                let Some(c) = text[at..].chars().next() else {
                    break;
                };
                let symbol = SYMBOLS.get(c).map_or_else(|| is_symbol(c), |s| s != 0);
                (symbol, c == ' ', c.len_utf8())
            };
            if symbol {
                run_start.get_or_insert(at);
                run_symbols += 1;
            } else if !(space && run_start.is_some()) {
                if let Some(start) = run_start.take() {
                    if run_symbols > self.max_symbol_run {
                        removed += run_symbols;
                        let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
                        drop_run(&text, copied_until, start..at, out);
                        copied_until = at;
                    }
                    run_symbols = 0;
                }
            }
            at += len;
        }
        if let Some(start) = run_start {
            if run_symbols > self.max_symbol_run {
                removed += run_symbols;
                let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
                drop_run(&text, copied_until, start..text.len(), out);
                copied_until = text.len();
            }
        }
        count_in_meta(meta, "garbage_chars", removed);
        match out {
            Some(mut out) => {
                out.push_str(&text[copied_until..]);
                out
            }
            None => text,
        }
    }
}

/// Copies the text before a long symbol run and drops the run, keeping one space so words do
/// not touch.
fn drop_run(text: &str, copied_until: usize, run: std::ops::Range<usize>, out: &mut String) {
    out.push_str(&text[copied_until..run.start]);
    if text[run].ends_with(' ') {
        out.push(' ');
    }
}

/// `is_symbol` of every BMP character.
static SYMBOLS: LazyLock<BmpTable> = LazyLock::new(|| BmpTable::new(|c| is_symbol(c) as u8));

/// Punctuation and symbols that carry no text: not letters, digits, ideographs or whitespace.
/// The Chinese ellipsis and dashes count too: `………………` is a leader, not prose.
fn is_symbol(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric() || c.is_ascii_whitespace());
    }
    is_cjk_punctuation(c) || !(is_cjk(c) || c.is_whitespace() || c.is_alphanumeric())
}

pub fn is_private_use(c: char) -> bool {
    matches!(c as u32, 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(s: &str) -> (String, u64) {
        crate::clean::applied(&Garbage { max_symbol_run: 6 }, s, "garbage_chars")
    }

    #[test]
    fn mojibake_private_use_and_symbol_runs_go() {
        assert_eq!(clean("锟斤拷锟斤拷糖尿病").0, "糖尿病");
        assert_eq!(clean("烫烫烫烫烫屯屯屯患者，烫伤").0, "患者，烫伤");
        assert_eq!(clean("中风诊\u{E010}》\u{FFFD}").0, "中风诊》");
        assert_eq!(clean("结语\n★★★★★★★★★★\n正文").0, "结语\n\n正文");
        assert_eq!(clean("== == == == 分隔").0, " 分隔");
        assert_eq!(clean("“……”（1）").0, "“……”（1）");
        assert_eq!(clean("a ------------ b"), ("a  b".to_string(), 12));
    }
}
