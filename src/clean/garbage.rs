//! Garbage that no reader wants and no tokenizer should learn: GBK↔UTF-8 round-trip mojibake
//! (锟斤拷 is U+FFFD's UTF-8 bytes read as GBK), MSVC's fill bytes read as GBK (烫烫烫 = 0xCC,
//! 屯屯屯 = 0xCD), U+FFFD left by decoders, private-use code points (GBK user-defined glyphs and
//! PDF fonts' private glyphs: no shared meaning) and long runs of symbols (separator rules,
//! ★★★★★). Removed characters are counted in `meta.garbage_chars`: the `garbled` filter uses it.
use super::{count_in_meta, is_cjk, is_cjk_punctuation, Meta, Step};

pub struct Garbage {
    /// Symbol runs longer than this are removed.
    pub max_symbol_run: usize,
}

/// Repeated three or more times, these characters are uninitialised memory, never text.
const FILL_CHARACTERS: &[char] = &['烫', '屯'];

impl Step for Garbage {
    fn apply(&self, text: String, meta: &mut Meta) -> String {
        if text.is_ascii() || !text.chars().any(starts_garbage) {
            return self.symbol_runs(text, meta);
        }
        let chars: Vec<char> = text.chars().collect();
        let mut out = String::with_capacity(text.len());
        let mut removed = 0;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '锟' && chars.get(i + 1) == Some(&'斤') && chars.get(i + 2) == Some(&'拷') {
                removed += 3;
                i += 3;
                continue;
            }
            if FILL_CHARACTERS.contains(&c) {
                let run = chars[i..].iter().take_while(|&&d| d == c).count();
                if run >= 3 {
                    removed += run;
                    i += run;
                    continue;
                }
            }
            if is_private_use(c) || c == '\u{FFFD}' || c == '\u{FFFE}' || c == '\u{FFFF}' {
                removed += 1;
            } else {
                out.push(c);
            }
            i += 1;
        }
        count_in_meta(meta, "garbage_chars", removed);
        self.symbol_runs(out, meta)
    }
}

impl Garbage {
    /// Removes runs of more than `max_symbol_run` symbols (spaces inside the run included).
    fn symbol_runs(&self, text: String, meta: &mut Meta) -> String {
        let mut out = String::with_capacity(text.len());
        let mut run_start: Option<usize> = None; // byte offset in `text`
        let mut run_symbols = 0;
        let mut removed = 0;
        for (at, c) in text.char_indices() {
            if is_symbol(c) {
                run_start.get_or_insert(at);
                run_symbols += 1;
                continue;
            }
            if c == ' ' && run_start.is_some() {
                continue;
            }
            if let Some(start) = run_start.take() {
                removed += self.flush(&text[start..at], run_symbols, &mut out);
                run_symbols = 0;
            }
            out.push(c);
        }
        if let Some(start) = run_start {
            removed += self.flush(&text[start..], run_symbols, &mut out);
        }
        count_in_meta(meta, "garbage_chars", removed);
        out
    }

    /// Keeps a short run, drops a long one (keeping one space so words do not touch).
    fn flush(&self, run: &str, symbols: usize, out: &mut String) -> usize {
        if symbols <= self.max_symbol_run {
            out.push_str(run);
            0
        } else {
            if run.ends_with(' ') {
                out.push(' ');
            }
            symbols
        }
    }
}

/// A character the first pass would remove or look at.
fn starts_garbage(c: char) -> bool {
    c == '锟'
        || FILL_CHARACTERS.contains(&c)
        || is_private_use(c)
        || matches!(c, '\u{FFFD}' | '\u{FFFE}' | '\u{FFFF}')
}

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
        let mut meta = Meta::new();
        let out = Garbage { max_symbol_run: 6 }.apply(s.to_string(), &mut meta);
        let removed = meta
            .get("garbage_chars")
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        (out, removed)
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
