//! Spaces between Chinese characters: Chinese puts none, so one there was put by extraction
//! (letter-spaced titles `我国 是 糖 尿 病 大 国`, OCR layers, `抑制 剂`, `。 两者`), nor next to
//! the ASCII punctuation Chinese text uses as its own (`舌质淡 , 苔薄白`). Spaces
//! between Chinese and Latin letters or digits (`2 型糖尿病`, `T2DM 患者`) are the author's and stay.
use super::{is_cjk_text, Meta, Step};

pub struct CjkSpaces;

impl Step for CjkSpaces {
    fn apply(&self, text: String, _: &mut Meta) -> String {
        if text.is_ascii() {
            return text;
        }
        let mut out: Option<String> = None; // built from the first removed run on
        let mut copied_until = 0; // bytes of `text` before this are in `out`
        let mut from = 0;
        while let Some(run) = next_space_run(&text, from) {
            from = run.end;
            // Spaces at the very end stay.
            let Some(next) = text[run.end..].chars().next() else {
                break;
            };
            // The two characters before the run, spaces skipped.
            let mut before = text[..run.start].chars().rev().filter(|&c| !is_space(c));
            let (previous, before_previous) = (before.next(), before.next());
            let after_chinese = previous.is_some_and(is_cjk_text);
            // ASCII punctuation used as Chinese punctuation (`舌质淡 , 苔薄白` in OCR text).
            let after_chinese_punctuation = previous.is_some_and(is_sentence_punctuation)
                && before_previous.is_some_and(is_cjk_text);
            let remove = (after_chinese && (is_cjk_text(next) || is_sentence_punctuation(next)))
                || (after_chinese_punctuation && is_cjk_text(next));
            if remove {
                let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
                out.push_str(&text[copied_until..run.start]);
                copied_until = run.end;
            }
        }
        match out {
            Some(mut out) => {
                out.push_str(&text[copied_until..]);
                out
            }
            None => text,
        }
    }
}

/// The spaces this step looks at: ASCII and ideographic (full-width).
fn is_space(c: char) -> bool {
    c == ' ' || c == '\u{3000}'
}

const IDEOGRAPHIC_SPACE: &[u8] = "\u{3000}".as_bytes();

/// The byte range of the next run of spaces at or after `from`.
fn next_space_run(text: &str, from: usize) -> Option<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let mut at = from;
    // Candidates are ' ' and the first byte of U+3000 (which also starts 。、《》 and kana).
    let start = loop {
        at += memchr::memchr2(b' ', IDEOGRAPHIC_SPACE[0], &bytes[at..])?;
        if bytes[at] == b' ' || bytes[at..].starts_with(IDEOGRAPHIC_SPACE) {
            break at;
        }
        at += 1;
    };
    let mut end = start;
    loop {
        if bytes.get(end) == Some(&b' ') {
            end += 1;
        } else if bytes[end..].starts_with(IDEOGRAPHIC_SPACE) {
            end += IDEOGRAPHIC_SPACE.len();
        } else {
            return Some(start..end);
        }
    }
}

fn is_sentence_punctuation(c: char) -> bool {
    matches!(c, ',' | '.' | ';' | ':' | '!' | '?')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_between_chinese_go_others_stay() {
        let clean = |s: &str| CjkSpaces.apply(s.into(), &mut Meta::new());
        assert_eq!(
            clean("我国 是 糖 尿 病 大 国, 成 人"),
            "我国是糖尿病大国,成人"
        );
        assert_eq!(
            clean("SGLT一2抑制 剂。 两者\u{3000}共同"),
            "SGLT一2抑制剂。两者共同"
        );
        assert_eq!(
            clean("中国 2 型 T2DM 患者\n病 人"),
            "中国 2 型 T2DM 患者\n病人"
        );
        assert_eq!(
            clean("舌 质 淡 , 苔 薄 白 . 头痛 pain. The end , 2018"),
            "舌质淡,苔薄白.头痛 pain. The end , 2018"
        );
    }
}
