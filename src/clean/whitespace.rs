//! Whitespace: runs of spaces become one, lines are trimmed, and more than one blank line
//! becomes one (a paragraph break). Page breaks are kept for layout-aware steps.
use super::{Meta, Step};

pub struct Collapse;

impl Step for Collapse {
    fn apply(&self, text: String, _: &mut Meta) -> String {
        let mut out = String::with_capacity(text.len());
        let mut blank_lines = 0;
        for line in text.split('\n') {
            let start = out.len();
            let mut pending_space = false;
            for c in line.chars() {
                if c.is_whitespace() && c != crate::document::PAGE_BREAK {
                    pending_space = out.len() > start;
                } else {
                    if pending_space {
                        out.push(' ');
                        pending_space = false;
                    }
                    out.push(c);
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
