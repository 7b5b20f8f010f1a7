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
        let mut out = String::with_capacity(text.len());
        let mut pending = String::new(); // a run of spaces not yet written
        let mut previous: Option<char> = None;
        let mut before_previous: Option<char> = None;
        for c in text.chars() {
            if c == ' ' || c == '\u{3000}' {
                pending.push(c);
                continue;
            }
            if !pending.is_empty() {
                let after_chinese = previous.is_some_and(is_cjk_text);
                // ASCII punctuation used as Chinese punctuation (`舌质淡 , 苔薄白` in OCR text).
                let after_chinese_punctuation = previous.is_some_and(is_sentence_punctuation)
                    && before_previous.is_some_and(is_cjk_text);
                let remove = (after_chinese && (is_cjk_text(c) || is_sentence_punctuation(c)))
                    || (after_chinese_punctuation && is_cjk_text(c));
                if !remove {
                    out.push_str(&pending);
                }
                pending.clear();
            }
            out.push(c);
            before_previous = previous;
            previous = Some(c);
        }
        out.push_str(&pending);
        out
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
