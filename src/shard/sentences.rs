//! Chinese sentence splitting for BERT text: a sentence ends after 。！？!? or …… (with any
//! closing quotes and brackets that follow), and at every line break. A '.' ends a sentence
//! only between English words ("pain. The"), never in 2.5mg or "1." list markers. Sentences
//! longer than the cap are cut after ；，, or spaces near the cap, or at the cap itself.

const ENDS: &[char] = &['。', '！', '？', '!', '?', '｡'];
const CLOSERS: &[char] = &['”', '’', '」', '』', '）', ')', '】', '》', '〕', '"', '\''];
const SOFT_BREAKS: &[char] = &['；', ';', '，', ',', '、', ' '];
/// Every character Python's `str.splitlines` breaks at (HF scripts read BERT text with it), so a
/// sentence is one line for every reader; '\x0c' is also `PAGE_BREAK`.
const LINE_BREAKS: &[char] = &[
    '\n', '\r', '\x0b', '\x0c', '\x1c', '\x1d', '\x1e', '\u{85}', '\u{2028}', '\u{2029}',
];

pub fn split(text: &str, max_chars: usize) -> Vec<String> {
    let mut sentences = Vec::new();
    for line in text.split(LINE_BREAKS) {
        split_line(line.trim(), max_chars, &mut sentences);
    }
    sentences
}

fn split_line(line: &str, max_chars: usize, out: &mut Vec<String>) {
    let chars: Vec<char> = line.chars().collect();
    let mut start = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let ends = ENDS.contains(&c)
            || (c == '…' && chars.get(i + 1) == Some(&'…'))
            || (c == '.' && english_full_stop(&chars, i));
        if ends {
            let mut end = i + 1;
            while end < chars.len()
                && (ENDS.contains(&chars[end])
                    || chars[end] == '…'
                    || CLOSERS.contains(&chars[end]))
            {
                end += 1;
            }
            push_capped(&chars[start..end], max_chars, out);
            start = end;
            i = end;
        } else {
            i += 1;
        }
    }
    push_capped(&chars[start..], max_chars, out);
}

/// "pain. The" ends a sentence; "2.5", "1. 糖尿病", "e.g. x", "Fig. 3" do not.
fn english_full_stop(chars: &[char], i: usize) -> bool {
    let before_word = chars[..i]
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    before_word >= 3
        && chars.get(i + 1) == Some(&' ')
        && chars.get(i + 2).is_some_and(|c| c.is_ascii_uppercase())
}

fn push_capped(sentence: &[char], max_chars: usize, out: &mut Vec<String>) {
    let mut rest = sentence;
    while rest.len() > max_chars {
        // Cut after the last soft break in the second half of the window, else at the cap.
        let cut = rest[max_chars / 2..max_chars]
            .iter()
            .rposition(|c| SOFT_BREAKS.contains(c))
            .map(|p| max_chars / 2 + p + 1)
            .unwrap_or(max_chars);
        push_trimmed(&rest[..cut], out);
        rest = &rest[cut..];
    }
    push_trimmed(rest, out);
}

fn push_trimmed(chars: &[char], out: &mut Vec<String>) {
    let s: String = chars.iter().collect();
    let s = s.trim();
    if !s.is_empty() {
        out.push(s.to_string());
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
