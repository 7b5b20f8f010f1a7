//! Planted near-copies of real text, the edits that separate copies of one text in the wild:
//! punctuation width, OCR confusions, hard wraps, running headers, dropped paragraphs, appended
//! boilerplate. Deterministic, so the measured recall is reproducible.
#![allow(dead_code)]

/// Full-width Chinese punctuation swapped for ASCII and back, as when a text is re-typed.
pub fn punctuation_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '，' => ',',
            '。' => '.',
            '：' => ':',
            '；' => ';',
            '（' => '(',
            '）' => ')',
            '！' => '!',
            '？' => '?',
            ',' => '，',
            ':' => '：',
            '(' => '（',
            ')' => '）',
            other => other,
        })
        .collect()
}

/// Pairs of characters OCR engines confuse in Chinese print.
const CONFUSABLE: &[(char, char)] = &[
    ('己', '已'),
    ('未', '末'),
    ('日', '曰'),
    ('人', '入'),
    ('土', '士'),
    ('大', '太'),
    ('千', '干'),
    ('力', '刀'),
    ('见', '贝'),
    ('王', '玉'),
    ('本', '木'),
    ('天', '夫'),
    ('自', '白'),
    ('间', '问'),
    ('析', '折'),
    ('治', '冶'),
    ('疗', '疔'),
    ('准', '淮'),
    ('和', '利'),
    ('者', '着'),
];

/// Every `every`-th ideograph swapped for a look-alike (or the next code point when it has none).
pub fn ocr_substitutions(text: &str, every: usize) -> String {
    let mut n = 0;
    text.chars()
        .map(|c| {
            if !('\u{4E00}'..='\u{9FFF}').contains(&c) {
                return c;
            }
            n += 1;
            if n % every != 0 {
                return c;
            }
            CONFUSABLE
                .iter()
                .find_map(|&(a, b)| (a == c).then_some(b).or((b == c).then_some(a)))
                .unwrap_or_else(|| char::from_u32(c as u32 + 1).unwrap_or(c))
        })
        .collect()
}

/// Lines longer than `width` characters broken every `width` characters, as a PDF text layer
/// or a fixed-width printout does.
pub fn hard_wrap(text: &str, width: usize) -> String {
    text.lines()
        .map(|line| {
            let chars: Vec<char> = line.chars().collect();
            chars
                .chunks(width)
                .map(|part| part.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A running page header and page number every `every` lines.
pub fn running_headers(text: &str, every: usize) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i % every == 0 {
            out += &format!("中华内分泌代谢杂志 2019年 第35卷 · {} ·\n", 100 + i / every);
        }
        out += line;
        out.push('\n');
    }
    out
}

/// Every `every`-th non-empty line left out.
pub fn drop_paragraphs(text: &str, every: usize) -> String {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .filter(|(i, _)| i % every != every - 1)
        .map(|(_, l)| l)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A download site's disclaimer and copyright notice appended.
pub fn append_boilerplate(text: &str) -> String {
    format!(
        "{text}\n本文档由医学资料共享平台整理上传，仅供学习交流使用，请勿用于商业用途。\
         如有侵权请联系管理员删除。更多医学指南、考试真题与教材资源，请访问本站首页或关注\
         官方公众号获取最新更新。版权所有，转载请注明出处。\n"
    )
}

/// All of the above at once: the hardest copy.
pub fn combined(text: &str) -> String {
    append_boilerplate(&running_headers(
        &hard_wrap(&punctuation_width(&ocr_substitutions(text, 60)), 37),
        25,
    ))
}
