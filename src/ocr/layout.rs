//! Reading order for engines that return loose text lines with boxes (RapidOCR sorts them top to
//! bottom, which interleaves the two columns of a journal page): recursive XY-cut, splitting at
//! column gutters first and then at the widest horizontal gap, after undoing the page's skew
//! (a scan tilted by 1° closes a journal's column gutter). Also removes the spaces tesseract puts
//! between Chinese characters.
use std::cmp::Ordering;

/// One recognised text line and its axis-aligned box (pixels, y downwards).
#[derive(Debug, Clone, PartialEq)]
pub struct TextBox {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
    pub text: String,
}

impl TextBox {
    fn height(&self) -> f32 {
        (self.y1 - self.y0).max(1.0)
    }
    fn y_centre(&self) -> f32 {
        (self.y0 + self.y1) / 2.0
    }
}

/// A gutter at least this many line heights wide separates columns.
const COLUMN_GAP: f32 = 1.0;
/// Only the middle of each box counts for vertical gaps: detector boxes are padded, so adjacent
/// lines' boxes overlap.
const CORE_HEIGHT: f32 = 0.6;

/// A detected line's corners, clockwise from its top left, in pixels (y downwards).
pub type Quad = [[f32; 2]; 4];

/// Lines as long as this many heights give the page's skew reliably.
const SKEW_MIN_ASPECT: f32 = 4.0;

/// The lines in reading order as text: boxes on one row joined by spaces, rows by newlines.
pub fn reading_order(lines: Vec<(Quad, String)>) -> String {
    let skew = page_skew(&lines);
    let (sin, cos) = (-skew).sin_cos();
    let boxes = lines
        .into_iter()
        .map(|(corners, text)| {
            let turned = corners.map(|[x, y]| [x * cos - y * sin, x * sin + y * cos]);
            let xs = turned.map(|[x, _]| x);
            let ys = turned.map(|[_, y]| y);
            TextBox {
                x0: xs.into_iter().fold(f32::INFINITY, f32::min),
                y0: ys.into_iter().fold(f32::INFINITY, f32::min),
                x1: xs.into_iter().fold(f32::NEG_INFINITY, f32::max),
                y1: ys.into_iter().fold(f32::NEG_INFINITY, f32::max),
                text,
            }
        })
        .collect();
    boxes_in_order(boxes)
}

/// The median slope (radians) of the top edges of long horizontal lines; 0 without any.
fn page_skew(lines: &[(Quad, String)]) -> f32 {
    let mut angles: Vec<f32> = lines
        .iter()
        .filter_map(|([top_left, top_right, _, bottom_left], _)| {
            let (dx, dy) = (top_right[0] - top_left[0], top_right[1] - top_left[1]);
            let height = ((bottom_left[0] - top_left[0]).powi(2)
                + (bottom_left[1] - top_left[1]).powi(2))
            .sqrt();
            (dx > SKEW_MIN_ASPECT * height.max(1.0)).then(|| dy.atan2(dx))
        })
        .collect();
    angles.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
    angles.get(angles.len() / 2).copied().unwrap_or(0.0)
}

fn boxes_in_order(boxes: Vec<TextBox>) -> String {
    let mut ordered = Vec::with_capacity(boxes.len());
    let line_height = median_height(&boxes);
    cut(boxes, line_height, &mut ordered);
    let mut text = String::new();
    let mut previous: Option<&TextBox> = None;
    for line in &ordered {
        if let Some(before) = previous {
            let same_row = (line.y_centre() - before.y_centre()).abs() < before.height() / 2.0
                && line.x0 >= before.x1 - before.height() / 2.0;
            text.push(if same_row { ' ' } else { '\n' });
        }
        text.push_str(line.text.trim());
        previous = Some(line);
    }
    join_cjk_spaces(&text)
}

fn median_height(boxes: &[TextBox]) -> f32 {
    let mut heights: Vec<f32> = boxes.iter().map(TextBox::height).collect();
    heights.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
    heights.get(heights.len() / 2).copied().unwrap_or(1.0)
}

fn cut(mut boxes: Vec<TextBox>, line_height: f32, out: &mut Vec<TextBox>) {
    if boxes.len() <= 1 {
        out.extend(boxes);
        return;
    }
    let column_gap = widest_gap(&boxes, |b| (b.x0, b.x1));
    let row_gap = widest_gap(&boxes, |b| {
        let margin = b.height() * (1.0 - CORE_HEIGHT) / 2.0;
        (b.y0 + margin, b.y1 - margin)
    });
    let split = match (column_gap, row_gap) {
        (Some((at, width)), _) if width >= COLUMN_GAP * line_height => Some((at, true)),
        (_, Some((at, _))) => Some((at, false)),
        (Some((at, _)), None) => Some((at, true)),
        (None, None) => None,
    };
    match split {
        Some((at, vertical)) => {
            let (first, second): (Vec<TextBox>, Vec<TextBox>) = boxes.into_iter().partition(|b| {
                if vertical {
                    b.x1 <= at
                } else {
                    b.y_centre() <= at
                }
            });
            // A cut always separates boxes; guard against float ties all the same.
            if first.is_empty() || second.is_empty() {
                let mut all = first;
                all.extend(second);
                sort_rows(&mut all);
                out.extend(all);
                return;
            }
            cut(first, line_height, out);
            cut(second, line_height, out);
        }
        None => {
            sort_rows(&mut boxes);
            out.extend(boxes);
        }
    }
}

fn sort_rows(boxes: &mut [TextBox]) {
    boxes.sort_by(|a, b| {
        (a.y_centre(), a.x0)
            .partial_cmp(&(b.y_centre(), b.x0))
            .unwrap_or(Ordering::Equal)
    });
}

/// The widest empty band in the projection of the boxes on one axis: its middle and width.
fn widest_gap(boxes: &[TextBox], span: impl Fn(&TextBox) -> (f32, f32)) -> Option<(f32, f32)> {
    let mut spans: Vec<(f32, f32)> = boxes.iter().map(span).collect();
    spans.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
    let mut reach = spans.first()?.1;
    let mut widest: Option<(f32, f32)> = None;
    for &(start, end) in &spans[1..] {
        if start > reach {
            let width = start - reach;
            if widest.is_none_or(|(_, w)| width > w) {
                widest = Some(((start + reach) / 2.0, width));
            }
        }
        reach = reach.max(end);
    }
    widest
}

/// Chinese script is written without spaces; tesseract emits one between every two characters
/// and around the halfwidth punctuation it reads in Chinese text. Removes spaces between two CJK
/// characters, and between a CJK character and punctuation; keeps them next to words and digits.
pub fn join_cjk_spaces(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut joined = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == ' ' {
            let run_end = chars[i..]
                .iter()
                .position(|&s| s != ' ')
                .map_or(chars.len(), |n| i + n);
            let before = joined.chars().next_back();
            let after = chars.get(run_end).copied();
            let joins = match (before, after) {
                (Some(before), Some(after)) => {
                    (is_cjk(before) && (is_cjk(after) || is_punctuation(after)))
                        || (is_punctuation(before) && is_cjk(after))
                }
                _ => false,
            };
            if !joins {
                joined.extend(&chars[i..run_end]);
            }
            i = run_end;
        } else {
            joined.push(c);
            i += 1;
        }
    }
    joined
}

fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() || ('\u{2018}'..='\u{201F}').contains(&c)
}

fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{2E80}'..='\u{2FDF}'     // radicals
        | '\u{3000}'..='\u{303F}'   // CJK punctuation
        | '\u{3400}'..='\u{4DBF}'   // extension A
        | '\u{4E00}'..='\u{9FFF}'   // unified ideographs
        | '\u{F900}'..='\u{FAFF}'   // compatibility ideographs
        | '\u{FF01}'..='\u{FF60}'   // fullwidth forms
        | '\u{20000}'..='\u{3134F}' // extensions B–G
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(x0: f32, y0: f32, x1: f32, text: &str) -> (Quad, String) {
        let y1 = y0 + 30.0;
        ([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], text.into())
    }

    fn rotated(lines: Vec<(Quad, String)>, degrees: f32) -> Vec<(Quad, String)> {
        let (sin, cos) = degrees.to_radians().sin_cos();
        lines
            .into_iter()
            .map(|(quad, text)| {
                (
                    quad.map(|[x, y]| [x * cos - y * sin, x * sin + y * cos]),
                    text,
                )
            })
            .collect()
    }

    #[test]
    fn reads_two_columns_under_a_title_column_by_column() {
        // Padded boxes: consecutive lines overlap by 4 px, as detector boxes do.
        let mut lines = vec![line(100.0, 0.0, 900.0, "标题")];
        let mut expected = vec!["标题".to_string()];
        for (column, x0, x1) in [("左", 100.0, 480.0), ("右", 540.0, 900.0)] {
            for row in 0..30 {
                let text = format!("{column}{row}");
                lines.push(line(x0, 80.0 + 26.0 * row as f32, x1, &text));
                expected.push(text);
            }
        }
        let expected = expected.join("\n");
        assert_eq!(reading_order(lines.clone()), expected);
        // Tilted by 5°, the 60 px gutter shifts by 70 px down the page and no longer separates
        // the columns in page coordinates; deskewed, it does again.
        assert_eq!(reading_order(rotated(lines, 5.0)), expected);
    }

    #[test]
    fn joins_pieces_of_one_row_with_a_space_unless_both_sides_are_chinese() {
        let header = vec![
            line(300.0, 0.0, 400.0, "Vol. 50"),
            line(0.0, 0.0, 200.0, "中国肿瘤临床"),
        ];
        assert_eq!(reading_order(header), "中国肿瘤临床 Vol. 50");
        let cells = vec![
            line(260.0, 0.0, 400.0, "研究类型"),
            line(0.0, 0.0, 200.0, "具体描述"),
        ];
        assert_eq!(reading_order(cells), "具体描述研究类型");
    }

    #[test]
    fn removes_spaces_between_chinese_only() {
        assert_eq!(
            join_cjk_spaces(
                "得 , 倦 念 。 舌 质 淡 ， 苔 薄 白 Chin J Clin 2023 年 第 50 卷 ( 2 ) 阴 虚"
            ),
            "得,倦念。舌质淡，苔薄白 Chin J Clin 2023 年第 50 卷( 2 )阴虚"
        );
    }
}
