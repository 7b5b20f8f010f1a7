//! Whitespace: runs of spaces become one, lines are trimmed, and more than one blank line
//! becomes one (a paragraph break). Page breaks are kept for layout-aware steps.
use super::char_table::{lines, SPACE_LEADS};
use super::{Meta, Step};

pub struct Collapse;

impl Step for Collapse {
    fn apply(&self, text: String, _: &mut Meta) -> String {
        // One more byte: the last line's '\n' is written before it is popped.
        let mut out = String::with_capacity(text.len() + 1);
        let mut blank_lines = 0;
        for line in lines(&text) {
            let start = out.len();
            if is_collapsed(line) {
                out.push_str(line);
            } else {
                let mut pending_space = false;
                for c in line.chars() {
                    if is_space(c) {
                        pending_space = out.len() > start;
                    } else {
                        if pending_space {
                            out.push(' ');
                            pending_space = false;
                        }
                        out.push(c);
                    }
                }
            }
            if out.len() == start {
                blank_lines += 1;
                if blank_lines > 1 || start == 0 {
                    continue;
                }
            } else {
                blank_lines = 0;
            }
            out.push('\n');
        }
        while out.ends_with('\n') {
            out.pop();
        }
        out
    }
}

/// Whitespace this step collapses; page breaks are kept for layout-aware steps.
fn is_space(c: char) -> bool {
    c.is_whitespace() && c != crate::document::PAGE_BREAK
}

/// Already as this step writes it: no space at either end, no space but single ASCII spaces
/// between words. Most lines are, and are copied whole.
fn is_collapsed(line: &str) -> bool {
    let bytes = line.as_bytes();
    let mut after_space = true; // the line start counts as one: no leading space
    let mut at = 0;
    loop {
        // Characters that cannot be spaces (most of them) are stepped over whole.
        let stop = SPACE_LEADS.next(bytes, at);
        if stop > at {
            after_space = false;
        }
        let Some(c) = line.get(stop..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        at = stop + c.len_utf8();
        if c == ' ' {
            if after_space {
                return false;
            }
            after_space = true;
        } else if is_space(c) {
            return false;
        } else {
            after_space = false;
        }
    }
    line.is_empty() || !after_space
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_and_blank_lines_collapse() {
        assert_eq!(
            Collapse.apply(
                "\n\n  a  b \u{3000}c \n\n\n\nd\n\n".into(),
                &mut Meta::new()
            ),
            "a b c\n\nd"
        );
    }
}
