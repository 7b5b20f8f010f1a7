//! Runs of lines without a word: a chart's tick labels (a growth chart read by OCR gives
//! "105 -105", "9 9", "4 4" line after line), grids of numbers whose row and column names were
//! lost, rows of check boxes. They teach a language model nothing. A run of at least
//! [`MIN_RUN`] such lines goes; a lone one (a page number, a year, a dose on a line of its own)
//! stays with the text around it. Removed lines are counted in `meta.wordless_lines`.
use super::{count_in_meta, Meta, Step};

pub struct WordlessRuns;

/// Fewer wordless lines in a row than this are part of the text.
const MIN_RUN: usize = 3;

/// Wordless lines in a row: from the first one's start to the last one's end (its line break
/// included); blank lines inside do not end the run.
struct Run {
    start: usize,
    end: usize,
    lines: usize,
}

impl Step for WordlessRuns {
    fn apply(&self, text: String, meta: &mut Meta) -> String {
        let mut out: Option<String> = None; // built from the first long run on
        let mut copied_until = 0;
        let mut removed = 0;
        let mut run: Option<Run> = None;
        let mut close = |run: Option<Run>, out: &mut Option<String>| {
            if let Some(run) = run.filter(|r| r.lines >= MIN_RUN) {
                let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
                out.push_str(&text[copied_until..run.start]);
                copied_until = run.end;
                removed += run.lines;
            }
        };
        let mut at = 0;
        let breaks = memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1);
        for end in breaks.chain([text.len()]) {
            if end == at {
                continue; // the text ends with a line break
            }
            let line = &text[at..end];
            if has_word(line) {
                close(run.take(), &mut out);
            } else if !line.trim().is_empty() {
                let run = run.get_or_insert(Run {
                    start: at,
                    end,
                    lines: 0,
                });
                run.end = end;
                run.lines += 1;
            }
            at = end;
        }
        close(run.take(), &mut out);
        let Some(mut out) = out else {
            return text;
        };
        out.push_str(&text[copied_until..]);
        count_in_meta(meta, "wordless_lines", removed);
        out
    }
}

/// A letter or a Chinese character anywhere in the line. Told from the first bytes on most
/// lines: E4–E9 lead the common ideographs, so only other characters are looked up.
fn has_word(line: &str) -> bool {
    let Some(at) = line
        .bytes()
        .position(|b| b.is_ascii_alphabetic() || b >= 0x80)
    else {
        return false;
    };
    let lead = line.as_bytes()[at];
    lead < 0x80 || (0xE4..=0xE9).contains(&lead) || line[at..].chars().any(char::is_alphabetic)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(s: &str) -> (String, u64) {
        crate::clean::applied(&WordlessRuns, s, "wordless_lines")
    }

    #[test]
    fn runs_of_three_wordless_lines_go_and_shorter_ones_stay() {
        let chart = "百分位标准曲线图\n105 -105\n100\n\n95\n身长(cm)\n9 9\n8 8\n7 7\n体重(kg)";
        assert_eq!(
            clean(chart),
            ("百分位标准曲线图\n身长(cm)\n体重(kg)".to_string(), 6)
        );
        let text = "第一段。\n12\n第二段，剂量\n0.5 mg\n2010\n一日三次。";
        assert_eq!(clean(text), (text.to_string(), 0));
        assert_eq!(clean("1\n2\n3"), (String::new(), 3));
        assert_eq!(clean("正文\n□ □\n□\n---\n"), ("正文\n".to_string(), 3));
    }
}
