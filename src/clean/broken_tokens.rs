//! Numbers, units and Latin words broken one character per line. PDFs written through WPS and
//! Foxit draw half-width characters in fonts with a vertical CMap, and poppler then puts every
//! digit and letter on a line of its own: "收缩压≥1\n4\n0\nm\nm\nH\ng\n和（或）". The pieces are
//! glued back to each other, to the line whose end they continue, and to the line that carries
//! the token's last piece: "收缩压≥140mmHg和（或）".
use super::{count_in_meta, is_cjk, Meta, Step};

pub struct BrokenTokens;

/// Pieces continue a token after a line ending in a letter or digit; elsewhere, a run of at
/// least this many pieces is a broken token when its last piece is on the line after, or when
/// it mixes digits with units, signs or separators (`≥1`,`3`,`5`,`/`,`8`,`5`,`m`,`m`,`H`,`g`).
/// A column of single letters is more often a table's grades or an answer key, a column of
/// digits a form's numbered boxes.
const MIN_FREE_RUN: usize = 3;

impl Step for BrokenTokens {
    fn apply(&self, text: String, meta: &mut Meta) -> String {
        if !has_piece(&text) {
            return text;
        }
        let lines: Vec<&str> = text.split('\n').collect();
        let mut glue = vec![false; lines.len()]; // glue[i]: line i joins the one before
        let mut i = 1;
        while i < lines.len() {
            let run = lines[i..].iter().take_while(|l| is_piece(l)).count();
            let after_token = lines[i - 1].ends_with(|c: char| c.is_ascii_alphanumeric());
            let next = i + run;
            let continued = lines.get(next).is_some_and(|l| continues_token(l));
            // Digits with a unit, sign or separator among them: a measurement, not box numbers.
            let measurement = || {
                let chars = || lines[i..next].iter().flat_map(|l| l.trim().chars());
                chars().any(|c| c.is_ascii_digit()) && chars().any(|c| !c.is_ascii_digit())
            };
            if (run >= MIN_FREE_RUN && (continued || measurement())) || (run >= 1 && after_token) {
                glue[i + 1..next].iter_mut().for_each(|g| *g = true);
                glue[i] = after_token;
                if continued {
                    glue[next] = true;
                }
                i = next + 1;
            } else {
                i += run.max(1); // a run judged whole, never in parts
            }
        }
        let glued = glue.iter().filter(|&&g| g).count();
        if glued == 0 {
            return text;
        }
        let mut out = String::with_capacity(text.len());
        for (i, (line, &glue)) in lines.iter().zip(&glue).enumerate() {
            if i > 0 && !glue {
                out.push('\n');
            }
            out.push_str(if glue { line.trim() } else { line });
        }
        count_in_meta(meta, "broken_tokens_joined", glued);
        out
    }
}

/// One or two characters of a number, unit or Latin word.
fn is_piece(line: &str) -> bool {
    let piece = line.trim();
    // At most two characters of at most three bytes: most lines are told by their length.
    piece.len() <= 6 && (1..=2).contains(&piece.chars().count()) && piece.chars().all(is_token_char)
}

/// Whether any line after the first is a piece: one pass over the line breaks, looking closer
/// only at lines short enough to be one (at most 12 bytes with the space around it).
fn has_piece(text: &str) -> bool {
    let mut start = None; // of the current line, from the second line on
    for end in memchr::memchr_iter(b'\n', text.as_bytes()).chain([text.len()]) {
        if let Some(start) = start.filter(|&start| end - start <= 12) {
            if is_piece(&text[start..end]) {
                return true;
            }
        }
        start = Some(end + 1);
    }
    false
}

/// The line that ends a broken token starts with its last character.
fn continues_token(line: &str) -> bool {
    line.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '%')
}

fn is_token_char(c: char) -> bool {
    (c.is_ascii_graphic() || matches!(c, '≥' | '≤' | '±' | '×' | '°' | 'μ' | '‰')) && !is_cjk(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(s: &str) -> (String, u64) {
        crate::clean::applied(&BrokenTokens, s, "broken_tokens_joined")
    }

    #[test]
    fn characters_one_per_line_are_glued_back_into_their_token() {
        assert_eq!(
            clean("收缩压≥1\n4\n0\nm\nm\nH\ng\n和（或）舒张压").0,
            "收缩压≥140mmHg\n和（或）舒张压"
        );
        assert_eq!(
            clean("诊断标准：≥1\n3\n0\n/\n8\n0\nm\nm\nH\ng,白天").0,
            "诊断标准：≥130/80mmHg,白天"
        );
        assert_eq!(
            clean("平均值。\n1\n0\n-2\n0%：\n杓型").0,
            "平均值。\n10-20%：\n杓型"
        );
        assert_eq!(
            clean("白天\n≥1\n3\n5\n/\n8\n5\nm\nm\nH\ng\n,\n夜间").0,
            "白天\n≥135/85mmHg,\n夜间"
        );
        assert_eq!(
            clean("防治工作，2\n0\n0\n9\n年高血压").0,
            "防治工作，2009\n年高血压"
        );
    }

    #[test]
    fn short_lines_that_are_not_a_broken_token_stay() {
        for text in [
            "至少 1\n个血压读数",
            "选项\nA\nB\n正文",
            "推荐\nA\nA\nC\n证据",
            "不服药\n1\n2\n3\n4\n非免疫",
            "疗效\n↓\n↓\n↓\n体重",
            "第一章\n\n1\n\n总论",
            "\n开头空行\nx\ny",
        ] {
            assert_eq!(clean(text), (text.to_string(), 0), "{text:?}");
        }
    }
}
