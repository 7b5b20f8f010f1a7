//! Reading order for engines that return loose text lines with boxes (PP-OCR sorts them top to
//! bottom, which interleaves the two columns of a journal page): recursive XY-cut, splitting at
//! the gutters between columns of running text first and otherwise at the widest horizontal gap
//! (so full-width titles come before the columns under them, and tables are read row by row),
//! after undoing the page's skew (a scan tilted by 1° closes a journal's column gutter). Also
//! removes the spaces tesseract puts between Chinese characters.
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
/// Columns of running text have lines at least this many line heights long (in median: a line
/// height is about a Chinese character's width, and even a sidebar holds 15 a line); narrower
/// columns are a table's (a risk factor's name beside its description), read row by row where
/// rows are apart.
const TEXT_COLUMN_WIDTH: f32 = 8.0;
/// A gutter between columns of text is narrow beside their lines (a journal's is one or two
/// characters against twenty); a gap half as wide as the lines beside it parts table cells.
const MAX_GUTTER_SHARE: f32 = 0.5;
/// A band of at most this many line heights at the top or bottom of the page, apart from the rest
/// by at least `MARGIN_GAP` line heights, is page furniture read on its own (running headers sit
/// about two line heights above the text; lines of text, half of one apart).
const MARGIN_BAND_HEIGHT: f32 = 2.5;
const MARGIN_GAP: f32 = 1.0;
/// ... and by at least this many times the usual space between lines (widely spaced lines, as
/// in vertical text, are not a header and its text).
const MARGIN_SPACING: f32 = 2.0;
/// A gutter may be crossed by one box in this many (at least `MIN_CROSSERS`), each a line reaching
/// at most `MAX_OVERHANG` line heights past it (enough for a line that took in a speck, never a
/// title across both columns) or a speck in the gutter reaching `SPECK_OVERHANG` past its edges.
const BOXES_PER_CROSSER: usize = 20;
const MIN_CROSSERS: usize = 2;
const MAX_OVERHANG: f32 = 2.0;
const SPECK_OVERHANG: f32 = 1.0;
/// Only the middle of each box counts for vertical gaps: detector boxes are padded, so adjacent
/// lines' boxes overlap.
const CORE_HEIGHT: f32 = 0.6;

/// A detected line's corners, clockwise from its top left, in pixels (y downwards).
pub type Quad = [[f32; 2]; 4];

/// Skew angles tried, in radians: ±3° in steps of 0.1° (a scan tilted more than that is rare,
/// and a step moves a line's end by 3 px across a 200 dpi page).
const SKEW_STEPS: i32 = 30;
const SKEW_STEP: f32 = 0.1 * std::f32::consts::PI / 180.0;
/// Line ends fall into bins this many line heights wide when measuring their alignment.
const EDGE_BIN: f32 = 0.25;

/// The lines in reading order as text: boxes on one row joined by spaces, rows by newlines.
/// Vertical text (characters stacked in columns, read right to left) is turned a quarter turn
/// first, so that its columns become rows read top to bottom.
pub fn reading_order(lines: Vec<(Quad, String)>) -> String {
    let lines = if is_vertical(&lines) {
        lines
            .into_iter()
            .map(|(corners, text)| (quarter_turn(corners), text))
            .collect()
    } else {
        lines
    };
    let skew = page_skew(&lines);
    let (sin, cos) = (-skew).sin_cos();
    let boxes = lines
        .into_iter()
        .map(|(corners, text)| {
            let turned = corners.map(|[x, y]| [x * cos - y * sin, x * sin + y * cos]);
            let xs = turned.map(|[x, _]| x);
            let ys = turned.map(|[_, y]| y);
            let mut line = TextBox {
                x0: xs.into_iter().fold(f32::INFINITY, f32::min),
                y0: ys.into_iter().fold(f32::INFINITY, f32::min),
                x1: xs.into_iter().fold(f32::NEG_INFINITY, f32::max),
                y1: ys.into_iter().fold(f32::NEG_INFINITY, f32::max),
                text,
            };
            if is_upright_rectangle(&corners) {
                // An engine that reports only the upright bounding box of a tilted line makes it
                // taller by its length times the tilt, and turning that box back adds as much
                // again; taken back, so rows keep their gaps.
                let excess = 2.0 * (corners[1][0] - corners[0][0]).abs() * skew.sin().abs();
                let shrink = excess.min(line.height() / 2.0) / 2.0;
                line.y0 += shrink;
                line.y1 -= shrink;
            }
            line
        })
        .collect();
    boxes_in_order(boxes)
}

/// Whether most of the text (by characters, in lines of two or more) stands in lines taller than
/// wide: a horizontal line of n characters is about n times wider than tall, a vertical one
/// about n times taller than wide.
fn is_vertical(lines: &[(Quad, String)]) -> bool {
    let (mut vertical, mut horizontal) = (0usize, 0usize);
    for ([tl, tr, _, bl], text) in lines {
        let chars = text.chars().filter(|c| !c.is_whitespace()).count();
        if chars < 2 {
            continue;
        }
        let width = (tr[0] - tl[0]).hypot(tr[1] - tl[1]);
        let height = (bl[0] - tl[0]).hypot(bl[1] - tl[1]);
        if height > width {
            vertical += chars;
        } else {
            horizontal += chars;
        }
    }
    vertical > horizontal
}

/// Maps a vertical line to a horizontal one: (x, y) → (y, −x), so the rightmost column comes
/// out on top and each column's top on the left; the corners are renamed to stay clockwise from
/// the new top left.
fn quarter_turn(corners: Quad) -> Quad {
    let [tl, tr, br, bl] = corners.map(|[x, y]| [y, -x]);
    [tr, br, bl, tl]
}

fn is_upright_rectangle([a, b, c, d]: &Quad) -> bool {
    a[1] == b[1] && c[1] == d[1] && a[0] == d[0] && b[0] == c[0]
}

/// The page's skew (radians, y downwards): the rotation that best lines up the left and right
/// ends of the lines. Text columns are justified or at least flush left, so at the right angle
/// their line ends pile up in a few narrow vertical bands; tilted, they smear across many.
/// Works from each line's mid-left and mid-right points, so it needs no tilted boxes (some
/// engines report upright bounding boxes only). 0 when no angle does better than 0.
fn page_skew(lines: &[(Quad, String)]) -> f32 {
    if lines.len() < 3 {
        return 0.0;
    }
    let mut heights: Vec<f32> = lines
        .iter()
        .map(|(q, _)| ((q[3][1] + q[2][1]) - (q[0][1] + q[1][1])).abs() / 2.0)
        .collect();
    heights.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
    let bin = (heights[heights.len() / 2] * EDGE_BIN).max(1.0);
    let ends: Vec<[[f32; 2]; 2]> = lines
        .iter()
        .map(|([tl, tr, br, bl], _)| {
            [
                [(tl[0] + bl[0]) / 2.0, (tl[1] + bl[1]) / 2.0],
                [(tr[0] + br[0]) / 2.0, (tr[1] + br[1]) / 2.0],
            ]
        })
        .collect();
    let alignment = |angle: f32| -> u64 {
        let (sin, cos) = (-angle).sin_cos();
        let mut counts = std::collections::HashMap::new();
        for (side, points) in [0u8, 1].iter().zip([0usize, 1]) {
            for end in &ends {
                let [x, y] = end[points];
                let turned = x * cos - y * sin;
                *counts
                    .entry((*side, (turned / bin).floor() as i64))
                    .or_insert(0u64) += 1;
            }
        }
        counts.values().map(|n| n * n).sum()
    };
    let mut best = (0.0, alignment(0.0));
    for step in (-SKEW_STEPS..=SKEW_STEPS).filter(|&s| s != 0) {
        let angle = step as f32 * SKEW_STEP;
        let score = alignment(angle);
        if score > best.1 {
            best = (angle, score);
        }
    }
    best.0
}

fn boxes_in_order(boxes: Vec<TextBox>) -> String {
    let mut ordered = Vec::with_capacity(boxes.len());
    let line_height = median_height(&boxes);
    cut(boxes, line_height, &[], &mut ordered);
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

/// Recursive XY-cut. `table_gaps` are the x ranges of gaps that an enclosing region found to part
/// table cells rather than columns of text: a fragment of that table (a few rows with long cells)
/// is not judged again on its own.
fn cut(
    mut boxes: Vec<TextBox>,
    line_height: f32,
    table_gaps: &[(f32, f32)],
    out: &mut Vec<TextBox>,
) {
    if boxes.len() <= 1 {
        out.extend(boxes);
        return;
    }
    if let Some((first, second)) = split_margin_band(&boxes, line_height) {
        cut(first, line_height, table_gaps, out);
        cut(second, line_height, table_gaps, out);
        return;
    }
    let column_gap = widest_gap(&boxes, |b| (b.x0, b.x1));
    let row_gap = widest_gap(&boxes, |b| {
        let margin = b.height() * (1.0 - CORE_HEIGHT) / 2.0;
        (b.y0 + margin, b.y1 - margin)
    });
    let is_gutter = |at: f32, width: f32| {
        let (start, end) = (at - width / 2.0, at + width / 2.0);
        !table_gaps.iter().any(|&(s, e)| s < end && start < e)
            && text_columns_beside(&boxes, at, width, line_height)
    };
    let mut table_gaps = table_gaps.to_vec();
    let split = match (column_gap, row_gap) {
        (Some((at, width)), _)
            if width >= COLUMN_GAP * line_height && (row_gap.is_none() || is_gutter(at, width)) =>
        {
            Some((at, true))
        }
        _ => match (
            crossed_gutter(&boxes, line_height, is_gutter),
            column_gap,
            row_gap,
        ) {
            (Some(at), _, _) => Some((at, true)),
            (None, column_gap, Some((at, _))) => {
                if let Some((gap_at, width)) =
                    column_gap.filter(|&(_, width)| width >= COLUMN_GAP * line_height)
                {
                    table_gaps.push((gap_at - width / 2.0, gap_at + width / 2.0));
                }
                Some((at, false))
            }
            (None, Some((at, _)), None) => Some((at, true)),
            (None, None, None) => None,
        },
    };
    match split {
        Some((at, vertical)) => {
            let (first, second): (Vec<TextBox>, Vec<TextBox>) = boxes.into_iter().partition(|b| {
                if vertical {
                    (b.x0 + b.x1) / 2.0 <= at
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
            cut(first, line_height, &table_gaps, out);
            cut(second, line_height, &table_gaps, out);
        }
        None => {
            sort_rows(&mut boxes);
            out.extend(boxes);
        }
    }
}

/// Whether the boxes on both sides of a vertical gap at `at`, `gap` wide, are columns of running
/// text (lines of many characters, with a gutter narrow beside them) rather than the cells of a
/// table or the options of an exam question, which a reader reads row by row.
fn text_columns_beside(boxes: &[TextBox], at: f32, gap: f32, line_height: f32) -> bool {
    let median_width = |left: bool| {
        let mut widths: Vec<f32> = boxes
            .iter()
            .filter(|b| ((b.x0 + b.x1) / 2.0 <= at) == left)
            .map(|b| b.x1 - b.x0)
            .collect();
        widths.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
        widths.get(widths.len() / 2).copied().unwrap_or(0.0)
    };
    let narrower = median_width(true).min(median_width(false));
    narrower >= TEXT_COLUMN_WIDTH * line_height && gap <= MAX_GUTTER_SHARE * narrower
}

/// A thin band of rows at the top or bottom of the boxes, apart from the rest by more than a
/// blank line and by much more than lines are apart: a running header, page number or printer's
/// slug. It is cut off first, so that its pieces are not read with the columns they happen to
/// stand over (the page number over the left column, the journal's name over the right one).
/// Returns (first, second) in reading order.
fn split_margin_band(boxes: &[TextBox], line_height: f32) -> Option<(Vec<TextBox>, Vec<TextBox>)> {
    let mut spacing = None;
    let mut apart = |gap: f32| {
        gap >= MARGIN_GAP * line_height
            && gap >= MARGIN_SPACING * *spacing.get_or_insert_with(|| line_spacing(boxes))
    };
    if let Some(below) = band_limit(boxes.iter().map(|b| (b.y0, b.y1)), line_height, &mut apart) {
        return Some(boxes.iter().cloned().partition(|b| b.y0 < below));
    }
    // The bottom band is the top band of the page turned upside down.
    let above = band_limit(
        boxes.iter().map(|b| (-b.y1, -b.y0)),
        line_height,
        &mut apart,
    )?;
    let (band, rest): (Vec<TextBox>, Vec<TextBox>) =
        boxes.iter().cloned().partition(|b| -b.y1 < above);
    Some((rest, band))
}

/// Where the spans (start, end) at the low end of an axis stop being a margin band: the start of
/// the first span after a gap that is `apart`, if everything before it lies within
/// `MARGIN_BAND_HEIGHT` line heights.
fn band_limit(
    spans: impl Iterator<Item = (f32, f32)>,
    line_height: f32,
    apart: &mut impl FnMut(f32) -> bool,
) -> Option<f32> {
    let mut spans: Vec<(f32, f32)> = spans.collect();
    spans.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
    let (top, mut reach) = *spans.first()?;
    for &(start, end) in &spans[1..] {
        if start > reach {
            return apart(start - reach).then_some(start);
        }
        reach = reach.max(end);
        if reach - top > MARGIN_BAND_HEIGHT * line_height {
            return None;
        }
    }
    None
}

/// How far apart lines are: the median distance from a box to the nearest box below it that
/// shares some of its width.
fn line_spacing(boxes: &[TextBox]) -> f32 {
    let mut gaps: Vec<f32> = boxes
        .iter()
        .filter_map(|upper| {
            boxes
                .iter()
                .filter(|lower| {
                    lower.y0 > upper.y0 && lower.x0.max(upper.x0) < lower.x1.min(upper.x1)
                })
                .map(|lower| lower.y0 - upper.y1)
                .min_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal))
        })
        .collect();
    gaps.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
    gaps.get(gaps.len() / 2).copied().unwrap_or(0.0).max(0.0)
}

/// A gutter between two columns of text that a few boxes cross, each only a little past it: a
/// line whose box took in a speck or watermark beside it. Returns the cut's position. Candidates
/// are the stretches of the x axis that at most a few boxes cover; there, the boxes crossing the
/// middle must each lie mostly on one side, and without them the gap must be a gutter.
fn crossed_gutter(
    boxes: &[TextBox],
    line_height: f32,
    is_gutter: impl Fn(f32, f32) -> bool,
) -> Option<f32> {
    let tolerated = (boxes.len() / BOXES_PER_CROSSER).max(MIN_CROSSERS);
    let limit = tolerated as i32;
    let mut events: Vec<(f32, i32)> = boxes.iter().flat_map(|b| [(b.x0, 1), (b.x1, -1)]).collect();
    // At equal positions an end comes before a start: boxes that touch do not overlap.
    events.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
    let (mut covered, mut run_start, mut best) = (0, None, None::<(f32, f32)>);
    for (x, step) in events {
        let before = covered;
        covered += step;
        if before > limit && covered <= limit {
            run_start = Some(x);
        } else if before <= limit && covered > limit {
            if let Some(found) = run_start.take().and_then(|start| {
                gutter_at((start + x) / 2.0, boxes, tolerated, line_height, &is_gutter)
            }) {
                if best.is_none_or(|(_, width)| found.1 > width) {
                    best = Some(found);
                }
            }
        }
    }
    best.map(|(at, _)| at)
}

/// The gutter through `through`, if the boxes crossing it are few and each either a line of text
/// reaching at most `MAX_OVERHANG` line heights past it on its shorter side, or a speck (a piece
/// of watermark read as a character) within the gutter give or take `SPECK_OVERHANG` line
/// heights, and the others leave a gap between columns of text: its middle and width. A table
/// cell straddling the gutter is neither.
fn gutter_at(
    through: f32,
    boxes: &[TextBox],
    tolerated: usize,
    line_height: f32,
    is_gutter: impl Fn(f32, f32) -> bool,
) -> Option<(f32, f32)> {
    let (mut crossers, mut left_edge, mut right_edge) =
        (Vec::new(), f32::NEG_INFINITY, f32::INFINITY);
    for b in boxes {
        if b.x0 < through && b.x1 > through {
            crossers.push(b);
        } else if b.x1 <= through {
            left_edge = left_edge.max(b.x1);
        } else {
            right_edge = right_edge.min(b.x0);
        }
    }
    let overgrown_line = |b: &TextBox| {
        b.x1 - b.x0 >= TEXT_COLUMN_WIDTH * line_height
            && (through - b.x0).min(b.x1 - through) <= MAX_OVERHANG * line_height
    };
    let speck = |b: &TextBox| {
        b.x0 >= left_edge - SPECK_OVERHANG * line_height
            && b.x1 <= right_edge + SPECK_OVERHANG * line_height
    };
    let width = right_edge - left_edge;
    let at = (left_edge + right_edge) / 2.0;
    (crossers.len() <= tolerated
        && crossers.iter().all(|b| overgrown_line(b) || speck(b))
        && width.is_finite()
        && width >= COLUMN_GAP * line_height
        && is_gutter(at, width))
    .then_some((at, width))
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

    /// What an engine that reports upright bounding boxes only gives for the same lines.
    fn upright(lines: Vec<(Quad, String)>) -> Vec<(Quad, String)> {
        lines
            .into_iter()
            .map(|(quad, text)| {
                let xs = quad.map(|[x, _]| x);
                let ys = quad.map(|[_, y]| y);
                let (x0, x1) = (
                    xs.iter().copied().fold(f32::MAX, f32::min),
                    xs.iter().copied().fold(f32::MIN, f32::max),
                );
                let (y0, y1) = (
                    ys.iter().copied().fold(f32::MAX, f32::min),
                    ys.iter().copied().fold(f32::MIN, f32::max),
                );
                ([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], text)
            })
            .collect()
    }

    #[test]
    fn reads_two_columns_under_a_title_column_by_column() {
        // Padded boxes: consecutive lines overlap by 4 px, as detector boxes do.
        let mut lines = vec![line(100.0, 0.0, 900.0, "标题")];
        let mut expected = vec!["标题".to_string()];
        for (column, x0, x1) in [("左", 100.0, 480.0), ("右", 520.0, 900.0)] {
            for row in 0..30 {
                let text = format!("{column}{row}");
                lines.push(line(x0, 80.0 + 26.0 * row as f32, x1, &text));
                expected.push(text);
            }
        }
        let expected = expected.join("\n");
        assert_eq!(reading_order(lines.clone()), expected);
        // Tilted by 2.5°, the 40 px gutter shifts by 34 px down the columns and no longer
        // separates them in page coordinates; deskewed, it does again, whether the engine
        // reports tilted boxes or only their upright bounding boxes.
        let tilted = rotated(lines, 2.5);
        assert_eq!(reading_order(tilted.clone()), expected);
        assert_eq!(reading_order(upright(tilted)), expected);
    }

    /// Two columns of 30 lines each (left x 100–480, right x 520–900), 26 px apart from y 80.
    fn two_columns() -> (Vec<(Quad, String)>, Vec<String>) {
        let (mut lines, mut expected) = (Vec::new(), Vec::new());
        for (column, x0, x1) in [("左", 100.0, 480.0), ("右", 520.0, 900.0)] {
            for row in 0..30 {
                let text = format!("{column}{row}");
                lines.push(line(x0, 80.0 + 26.0 * row as f32, x1, &text));
                expected.push(text);
            }
        }
        (lines, expected)
    }

    #[test]
    fn reads_a_running_header_and_footer_apart_from_the_columns_they_stand_over() {
        // The page number stands over the left column and the journal's name over the right
        // one, the printer's slug and date under them: the gutter runs through both bands.
        let (mut lines, columns) = two_columns();
        lines.push(line(100.0, 0.0, 160.0, "·8·"));
        lines.push(line(600.0, 0.0, 900.0, "中国疼痛医学杂志2024"));
        lines.push(line(100.0, 900.0, 300.0, "疼痛1期.indd 8"));
        lines.push(line(700.0, 900.0, 900.0, "2024/1/17 10:16"));
        let mut expected = vec!["·8· 中国疼痛医学杂志2024".to_string()];
        expected.extend(columns);
        expected.push("疼痛1期.indd 8 2024/1/17 10:16".into());
        assert_eq!(reading_order(lines), expected.join("\n"));
    }

    #[test]
    fn reads_columns_apart_when_a_line_reaches_across_the_gutter() {
        // A speck beside one line made its box reach past the gutter into the right column.
        let (mut lines, expected) = two_columns();
        lines[7].0[1][0] = 540.0;
        lines[7].0[2][0] = 540.0;
        assert_eq!(reading_order(lines), expected.join("\n"));
    }

    #[test]
    fn reads_columns_apart_when_a_speck_stands_in_the_gutter() {
        // A piece of watermark between the columns, read as a character.
        let (mut lines, expected) = two_columns();
        lines.push(line(470.0, 300.0, 530.0, "斑"));
        let text = reading_order(lines);
        let without_speck: Vec<&str> = text
            .lines()
            .map(|row| row.trim_end_matches("斑").trim())
            .filter(|row| !row.is_empty())
            .collect();
        assert_eq!(without_speck, expected);
    }

    #[test]
    fn reads_a_table_row_by_row_even_where_a_few_rows_have_long_cells() {
        // A risk factor beside its description. Most names are short, so the gap after them
        // parts table cells; the last rows alone, with long names, would pass for two columns.
        let rows: [(&str, f32, &[(&str, f32)], f32); 5] = [
            ("年龄", 80.0, &[("发病率与年龄呈正相关", 300.0)], 0.0),
            ("性别", 80.0, &[("女性较男性更易发生", 280.0)], 50.0),
            ("前驱期疼痛", 150.0, &[("皮疹出现前疼痛明显", 480.0)], 100.0),
            (
                "疱疹期疼痛和皮损",
                250.0,
                &[
                    ("疼痛程度越严重越易发生", 900.0),
                    ("水疱越多越易发生", 780.0),
                ],
                170.0,
            ),
            (
                "特殊部位的疱疹",
                240.0,
                &[("三叉神经分布区者易发生", 620.0)],
                260.0,
            ),
        ];
        let mut lines = Vec::new();
        for (name, width, description, y) in rows {
            // A name beside two lines of description stands between them.
            let name_y = y + 13.0 * (description.len() - 1) as f32;
            lines.push(line(0.0, name_y, width, name));
            for (n, (text, width)) in description.iter().enumerate() {
                lines.push(line(330.0, y + 26.0 * n as f32, 330.0 + width, text));
            }
        }
        assert_eq!(
            reading_order(lines),
            "年龄发病率与年龄呈正相关\n性别女性较男性更易发生\n前驱期疼痛皮疹出现前疼痛明显\n\
             疱疹期疼痛和皮损疼痛程度越严重越易发生\n水疱越多越易发生\n\
             特殊部位的疱疹三叉神经分布区者易发生"
        );
    }

    #[test]
    fn reads_vertical_text_right_to_left_in_columns_top_to_bottom() {
        let column = |x0: f32, y0: f32, y1: f32, text: &str| -> (Quad, String) {
            let x1 = x0 + 30.0;
            ([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], text.into())
        };
        let lines = vec![
            column(400.0, 0.0, 300.0, "第三列上"),
            column(500.0, 0.0, 300.0, "第二列上"),
            column(600.0, 0.0, 300.0, "第一列上"),
            column(600.0, 340.0, 640.0, "第一列下"),
            column(500.0, 340.0, 640.0, "第二列下"),
            column(400.0, 340.0, 640.0, "第三列下"),
        ];
        assert_eq!(
            reading_order(lines),
            "第一列上\n第二列上\n第三列上\n第一列下\n第二列下\n第三列下"
        );
    }

    #[test]
    fn reads_the_options_of_an_exam_question_row_by_row() {
        // Options of ten characters, far apart: long enough to pass for lines of text, but the
        // gap between them is as wide as they are.
        let lines = vec![
            line(
                0.0,
                0.0,
                900.0,
                "3.下列除哪项之外，均是区别风寒感冒和风热感冒的主要依据",
            ),
            line(40.0, 50.0, 340.0, "A.恶寒发热的轻重"),
            line(640.0, 50.0, 880.0, "B.口渴与不渴"),
            line(40.0, 100.0, 300.0, "C.咽喉痛与不痛"),
            line(640.0, 100.0, 900.0, "D.脉象数与不数"),
            line(40.0, 150.0, 360.0, "E.头痛、身痛的有无"),
            line(0.0, 200.0, 330.0, "4.感冒的治疗原则是"),
        ];
        assert_eq!(
            reading_order(lines),
            "3.下列除哪项之外，均是区别风寒感冒和风热感冒的主要依据\nA.恶寒发热的轻重 B.口渴与不渴\n\
             C.咽喉痛与不痛 D.脉象数与不数\nE.头痛、身痛的有无\n4.感冒的治疗原则是"
        );
    }

    #[test]
    fn reads_a_table_row_by_row() {
        let mut lines = Vec::new();
        let mut expected = Vec::new();
        for row in 0..4 {
            let y = 40.0 * row as f32;
            let cells = [(0.0, 90.0), (150.0, 260.0), (320.0, 400.0)];
            let texts: Vec<String> = (0..3).map(|c| format!("格{row}{c}")).collect();
            for (&(x0, x1), text) in cells.iter().zip(&texts) {
                lines.push(line(x0, y, x1, text));
            }
            expected.push(texts.join(" "));
        }
        assert_eq!(reading_order(lines), expected.join("\n"));
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
