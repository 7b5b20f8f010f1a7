//! Chinese sentence splitting for BERT text: a sentence ends after 。！？!? or …… (with any
//! closing quotes and brackets that follow), and at every line break. A '.' ends a sentence
//! only between English words ("pain. The"), never in 2.5mg or "1." list markers. Sentences
//! longer than the cap are cut after ；，, or spaces near the cap, or at the cap itself.

use crate::clean::char_table::Stops;

const ENDS: &[char] = &['。', '！', '？', '!', '?', '｡'];
const CLOSERS: &[char] = &['”', '’', '」', '』', '）', ')', '】', '》', '〕', '"', '\''];
const SOFT_BREAKS: &[char] = &['；', ';', '，', ',', '、', ' '];
/// Every character Python's `str.splitlines` breaks at (HF scripts read BERT text with it), so a
/// sentence is one line for every reader; '\x0c' is also `PAGE_BREAK`.
const LINE_BREAKS: &[char] = &[
    '\n', '\r', '\x0b', '\x0c', '\x1c', '\x1d', '\x1e', '\u{85}', '\u{2028}', '\u{2029}',
];

/// Bytes that can begin a line break, and bytes that can begin a sentence end (。！？!?｡….):
/// only at these is a character decoded.
static LINE_BREAK_LEADS: Stops = Stops::new(b"\n\r\x0b\x0c\x1c\x1d\x1e\xc2\xe2");
static SENTENCE_END_LEADS: Stops = Stops::new(b"!?.\xe2\xe3\xef");

pub fn split(text: &str, max_chars: usize) -> Vec<&str> {
    let mut sentences = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = LINE_BREAK_LEADS.next(bytes, 0);
    while let Some(c) = text.get(i..).and_then(|rest| rest.chars().next()) {
        if LINE_BREAKS.contains(&c) {
            split_line(text[start..i].trim(), max_chars, &mut sentences);
            start = i + c.len_utf8();
        }
        i = LINE_BREAK_LEADS.next(bytes, i + c.len_utf8());
    }
    split_line(text[start..].trim(), max_chars, &mut sentences);
    sentences
}

/// Works on byte offsets into `line`, so sentences are slices of it, never copies.
fn split_line<'a>(line: &'a str, max_chars: usize, out: &mut Vec<&'a str>) {
    let bytes = line.as_bytes();
    let mut start = 0;
    let mut i = 0;
    loop {
        i = SENTENCE_END_LEADS.next(bytes, i);
        let Some(c) = line[i..].chars().next() else {
            break;
        };
        let after = i + c.len_utf8();
        let ends = ENDS.contains(&c)
            || (c == '…' && line[after..].starts_with('…'))
            || (c == '.' && english_full_stop(line.as_bytes(), i));
        if !ends {
            i = after;
            continue;
        }
        let closing: usize = line[after..]
            .chars()
            .take_while(|&next| ENDS.contains(&next) || next == '…' || CLOSERS.contains(&next))
            .map(char::len_utf8)
            .sum();
        let end = after + closing;
        push_capped(&line[start..end], max_chars, out);
        start = end;
        i = end;
    }
    push_capped(&line[start..], max_chars, out);
}

/// "pain. The" ends a sentence; "2.5", "1. 糖尿病", "e.g. x", "Fig. 3" do not. `i` is the
/// offset of the '.'; ASCII bytes never occur inside a multi-byte character, so bytes will do.
fn english_full_stop(line: &[u8], i: usize) -> bool {
    let before_word = line[..i]
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    before_word >= 3
        && line.get(i + 1) == Some(&b' ')
        && line.get(i + 2).is_some_and(|b| b.is_ascii_uppercase())
}

fn push_capped<'a>(sentence: &'a str, max_chars: usize, out: &mut Vec<&'a str>) {
    // No more bytes than the cap means no more characters.
    if sentence.len() <= max_chars {
        return push_trimmed(sentence, out);
    }
    let mut rest = sentence;
    let mut left = rest.chars().count();
    while left > max_chars {
        // Byte offsets of the first max_chars + 1 characters.
        let offsets: Vec<usize> = rest
            .char_indices()
            .map(|(o, _)| o)
            .take(max_chars + 1)
            .collect();
        // Cut after the last soft break in the second half of the window, else at the cap.
        let half = max_chars / 2;
        let cut_chars = (half..max_chars)
            .rev()
            .find(|&k| rest[offsets[k]..].starts_with(SOFT_BREAKS))
            .map_or(max_chars, |k| k + 1);
        push_trimmed(&rest[..offsets[cut_chars]], out);
        rest = &rest[offsets[cut_chars]..];
        left -= cut_chars;
    }
    push_trimmed(rest, out);
}

fn push_trimmed<'a>(sentence: &'a str, out: &mut Vec<&'a str>) {
    let sentence = sentence.trim();
    if !sentence.is_empty() {
        out.push(sentence);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_chinese_sentences_and_keeps_closers() {
        assert_eq!(
            split("患者说：“我头痛。”医生问：“多久了？”每日2.5mg……随访。", 100),
            vec![
                "患者说：“我头痛。”",
                "医生问：“多久了？”",
                "每日2.5mg……",
                "随访。"
            ]
        );
    }

    #[test]
    fn list_markers_decimals_and_english() {
        assert_eq!(
            split("1. 糖尿病的诊断标准 2.5 mmol/L", 100),
            vec!["1. 糖尿病的诊断标准 2.5 mmol/L"]
        );
        assert_eq!(
            split("Chronic pain. The patient was stable.", 100),
            vec!["Chronic pain.", "The patient was stable."]
        );
    }

    #[test]
    fn characters_of_every_width_are_stepped_over() {
        assert_eq!(
            split("𠀀病。é好！\u{85}ab?中", 100),
            vec!["𠀀病。", "é好！", "ab?", "中"]
        );
    }

    #[test]
    fn unicode_line_separators_end_lines() {
        assert_eq!(
            split("第一行\u{2028}第二行\r第三行\x0c第四行", 100),
            vec!["第一行", "第二行", "第三行", "第四行"]
        );
    }

    #[test]
    fn long_sentences_are_capped_at_soft_breaks() {
        let s = "甲乙丙丁戊，己庚辛壬癸，子丑寅卯辰";
        assert_eq!(
            split(s, 8),
            vec!["甲乙丙丁戊，", "己庚辛壬癸，", "子丑寅卯辰"]
        );
    }
}
