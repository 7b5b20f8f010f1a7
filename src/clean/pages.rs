//! Page furniture: what the printer put on every page and the reader skips. With page breaks
//! (PDF), a line at a page's top or bottom that recurs on many pages once digits are ignored
//! (`· 644 · 中国疼痛医学杂志 … 2025, 31 (9)`) is a running header or footer; lone page numbers
//! in those zones go too. Anywhere, page counters (`第 3 页/共 12 页`, `- 12 -`, `· 3 ·`), journal
//! banners (`临床精神医学杂志 2022 年第 32 卷增刊`) and table-of-contents leader lines
//! (`一、前言 ……… 1`) are removed. Records `pages`, `empty_pages` and `furniture_lines` in meta,
//! and turns page breaks into line breaks (the line joiner decides whether a sentence goes on).
use super::char_table::lines;
use super::{count_in_meta, Meta, Step};
use crate::document::PAGE_BREAK;
use memchr::memmem::Finder;
use regex::Regex;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

pub struct Pages {
    pub remove_furniture: bool,
    /// A zone line recurring on this share of the pages (and on at least 3) is furniture.
    pub min_page_share: f64,
}

/// Lines looked at for running headers and footers, at each end of a page.
const ZONE_LINES: usize = 3;
/// Longer lines are prose, never a banner or counter.
const MAX_FURNITURE_CHARS: usize = 160;

/// A lone page number, possibly decorated: `12`, `- 12 -`, `· 3 ·`, `iv`. Only in page zones.
static PAGE_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[-—–·•・.\s\[(（]*(\d{1,4}|[ivxlcIVXLC]{1,6})[-—–·•・.\s\])）]*$").unwrap()
});

/// Page numbers that say so, anywhere: `第 3 页`, `第3页/共12页`, `Page 3 of 12`, `- 12 -`.
static PAGE_COUNTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)^(
            第\s*\d{1,4}\s*页(\s*[/,，、]?\s*共\s*\d{1,4}\s*页)?
          | 共\s*\d{1,4}\s*页\s*[/,，、]?\s*第\s*\d{1,4}\s*页
          | (?i:page)\s*\d{1,4}(\s*(?i:of)\s*\d{1,4})?
          | [-—–·•・]\s*\d{1,4}\s*[-—–·•・]
        )$",
    )
    .unwrap()
});

/// A journal's running banner: its name, then year with volume/issue, as a line of its own
/// (`临床精神医学杂志 2022 年第 32 卷增刊`, `484 中华疼痛学杂志2024 年 8 月第 20 卷第 4 期 …`,
/// `Chin J Painol, August 2024, Vol.20, No.4`). Reference-list lines (`[J]`, `[7] …`) are not.
static JOURNAL_BANNER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)^[-—–·•・\d\s]{0,10}
          (
            \p{Han}{2,20}(杂志|学报)[^。，；\[]{0,40}?(19|20)\d{2}\s*(年[^。，；]{0,20}(卷|期|增刊)|,\s*\d+\s*[(（]\d+[)）]|,\s*Vol)
          | [A-Z][A-Za-z.\ ]{2,60},?\s*([A-Z][a-z]+\s+)?(19|20)\d{2}\s*,\s*Vol\.?\s*\d+\s*,?\s*No\.?\s*\d+
          )",
    )
    .unwrap()
});

/// A table-of-contents line: leader dots or ellipses then a page number.
static TOC_LEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:[.．·•…⋯_]\s?){3,}\s*\d{1,4}\s*$").unwrap());

impl Step for Pages {
    fn apply(&self, text: String, meta: &mut Meta) -> String {
        if memchr::memchr(PAGE_BREAK as u8, text.as_bytes()).is_none() {
            // Furniture is rare outside PDFs: text without any keeps its allocation.
            let journals = JournalWords::of(&text);
            if !self.remove_furniture
                || !lines(&text).any(|line| is_furniture_anywhere(line.trim(), &journals))
            {
                return text;
            }
            let mut removed = 0;
            let kept: Vec<&str> = lines(&text)
                .filter(|line| {
                    let furniture = is_furniture_anywhere(line.trim(), &journals);
                    removed += furniture as usize;
                    !furniture
                })
                .collect();
            count_in_meta(meta, "furniture_lines", removed);
            return kept.join("\n");
        }
        let mut pages: Vec<&str> = text.split(PAGE_BREAK).collect();
        // pdftotext ends every page with a form feed: the part after the last one is no page.
        if pages.len() > 1 && pages.last().is_some_and(|p| p.trim().is_empty()) {
            pages.pop();
        }
        let empty_pages: Vec<usize> = (0..pages.len())
            .filter(|&i| pages[i].trim().is_empty())
            .map(|i| i + 1)
            .collect();
        meta.insert("pages".into(), pages.len().into());
        meta.insert("empty_pages".into(), empty_pages.into());

        // Blank lines (paragraph breaks) stay in the output but do not count towards zones.
        let pages: Vec<Vec<&str>> = pages
            .iter()
            .map(|p| p.trim_end().split('\n').collect())
            .collect();
        let running = if self.remove_furniture {
            self.running_lines(&pages)
        } else {
            HashSet::new()
        };
        let journals = JournalWords::of(&text);
        let mut out = String::with_capacity(text.len());
        let mut removed = 0;
        for lines in &pages {
            if lines.iter().all(|l| l.trim().is_empty()) {
                continue;
            }
            let zones = Zones::of(lines);
            for (i, line) in lines.iter().enumerate() {
                let trimmed = line.trim();
                let in_zone = zones.contains(i);
                let furniture = self.remove_furniture
                    && (is_furniture_anywhere(trimmed, &journals)
                        || (in_zone
                            && (PAGE_NUMBER.is_match(trimmed)
                                || running.contains(&signature(trimmed)))));
                if furniture {
                    removed += 1;
                } else {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        count_in_meta(meta, "furniture_lines", removed);
        out
    }
}

impl Pages {
    /// Signatures of zone lines that recur on enough pages.
    fn running_lines(&self, pages: &[Vec<&str>]) -> HashSet<String> {
        let with_text = pages
            .iter()
            .filter(|p| p.iter().any(|l| !l.trim().is_empty()))
            .count();
        let needed = ((self.min_page_share * with_text as f64).ceil() as usize).max(3);
        let mut pages_with: HashMap<String, usize> = HashMap::new();
        for lines in pages {
            let zones = Zones::of(lines);
            let zone: HashSet<String> = lines
                .iter()
                .enumerate()
                .filter(|&(i, _)| zones.contains(i))
                .map(|(_, l)| l.trim())
                .filter(|l| !l.is_empty() && l.chars().count() <= MAX_FURNITURE_CHARS)
                .map(signature)
                .collect();
            for s in zone {
                *pages_with.entry(s).or_default() += 1;
            }
        }
        pages_with
            .into_iter()
            .filter(|&(_, n)| n >= needed)
            .map(|(s, _)| s)
            .collect()
    }
}

/// The first and last ZONE_LINES non-blank lines of a page, by line index.
struct Zones {
    top_end: usize,
    bottom_start: usize,
}

impl Zones {
    fn of(lines: &[&str]) -> Zones {
        let nonblank: Vec<usize> = (0..lines.len())
            .filter(|&i| !lines[i].trim().is_empty())
            .collect();
        let Some(&last) = nonblank.last() else {
            return Zones {
                top_end: 0,
                bottom_start: usize::MAX,
            };
        };
        Zones {
            top_end: nonblank.get(ZONE_LINES).copied().unwrap_or(last + 1),
            bottom_start: nonblank[nonblank.len().saturating_sub(ZONE_LINES)],
        }
    }

    fn contains(&self, i: usize) -> bool {
        i < self.top_end || i >= self.bottom_start
    }
}

/// What a journal banner names: 杂志 or 学报, or Vol. A vectorised search each: one for several
/// words looks for their first bytes, which are those of most Chinese characters.
static JOURNAL_WORDS: LazyLock<[Finder<'static>; 3]> =
    LazyLock::new(|| ["杂志", "学报", "Vol"].map(Finder::new));

/// Where a text names a journal, found by one search of the whole text rather than three per
/// line.
struct JournalWords {
    starts: Vec<usize>,
    text_start: usize,
}

impl JournalWords {
    fn of(text: &str) -> JournalWords {
        let mut starts: Vec<usize> = JOURNAL_WORDS
            .iter()
            .flat_map(|word| word.find_iter(text.as_bytes()))
            .collect();
        starts.sort_unstable();
        JournalWords {
            starts,
            text_start: text.as_ptr() as usize,
        }
    }

    /// Whether `line`, a slice of the text, names a journal (the words hold no line break or
    /// space, so one that starts in the line ends in it).
    fn in_line(&self, line: &str) -> bool {
        let start = line.as_ptr() as usize - self.text_start;
        let first_after = self.starts.partition_point(|&p| p < start);
        self.starts
            .get(first_after)
            .is_some_and(|&p| p < start + line.len())
    }
}

/// `journals`: where the document (of which `line` is a slice) names a journal.
fn is_furniture_anywhere(line: &str, journals: &JournalWords) -> bool {
    // Cheap test first: every pattern ends in a digit, 页 or a decoration, or names a journal.
    let ends_like_furniture = line.chars().next_back().is_some_and(|c| {
        c.is_ascii_digit() || matches!(c, '页' | '-' | '—' | '–' | '·' | '•' | '・')
    });
    let names_journal = || journals.in_line(line);
    (ends_like_furniture || names_journal())
        && line.chars().count() <= MAX_FURNITURE_CHARS
        && (PAGE_COUNTER.is_match(line)
            || JOURNAL_BANNER.is_match(line)
            || TOC_LEADER.is_match(line))
}

/// A line with its numbers and spacing ignored: page 643's header matches page 645's.
fn signature(line: &str) -> String {
    let mut s = String::with_capacity(line.len());
    for c in line.chars().filter(|c| !c.is_whitespace()) {
        if c.is_ascii_digit() {
            if !s.ends_with('#') {
                s.push('#');
            }
        } else {
            s.extend(c.to_lowercase());
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(s: &str) -> (String, Meta) {
        let mut meta = Meta::new();
        let out = Pages {
            remove_furniture: true,
            min_page_share: 0.3,
        }
        .apply(s.to_string(), &mut meta);
        (out, meta)
    }

    #[test]
    fn running_headers_and_page_numbers_go_across_pages() {
        let mut text = String::new();
        for (page, stem) in ["甲", "乙", "丙", "丁", "戊", "己"].iter().enumerate() {
            let body: String = (1..=5).map(|k| format!("{stem}段{k}，\n")).collect();
            text += &format!(
                "· {} ·\n中国疼痛医学杂志 2025, 31 (9)\n{body}{page}\n\x0c",
                641 + page
            );
        }
        text += "\n\x0c";
        let (out, meta) = clean(&text);
        assert!(!out.contains('·') && !out.contains("杂志"), "{out}");
        assert!(
            out.starts_with("甲段1，\n甲段2，\n甲段3，\n甲段4，\n甲段5，\n乙段1"),
            "{out}"
        );
        assert_eq!(meta["pages"], 7);
        assert_eq!(meta["empty_pages"], serde_json::json!([7]));
    }

    #[test]
    fn counters_banners_and_toc_lines_go_without_pages() {
        let text = "一、前言 ......................................... 1\n正文第一行\n第 3 页/共 12 页\n- 12 -\n临床精神医学杂志 2022 年第 32 卷增刊\n[7] 规范[J]. 临床肿瘤学杂志 , 2018, 23(10):937-944.\n本杂志此期刊登了\n12";
        assert_eq!(
            clean(text).0,
            "正文第一行\n[7] 规范[J]. 临床肿瘤学杂志 , 2018, 23(10):937-944.\n本杂志此期刊登了\n12"
        );
        assert!(JOURNAL_BANNER
            .is_match("484 中华疼痛学杂志2024 年 8 月第 20 卷第 4 期 Chin J Painol, August 2024, Vol.20, No.4"));
        assert!(JOURNAL_BANNER.is_match("Chin J Painol, August 2024, Vol.20, No.4"));
    }
}
