//! Exact deduplication, run in input order so the copy kept is always the first one in sorted
//! source order, whatever the thread count. Keys are xxh3-128 of the text without whitespace,
//! so re-wrapped copies of a text match. Memory: one 16-byte key per distinct document and per
//! distinct long paragraph.
use super::DedupConfig;
use crate::document::{Document, Reject, Verdict};
use std::collections::HashSet;
use xxhash_rust::xxh3::Xxh3;

pub struct ExactDedup {
    config: DedupConfig,
    documents: HashSet<u128>,
    paragraphs: HashSet<u128>,
}

fn key(text: &str) -> u128 {
    let mut hasher = Xxh3::new();
    for part in text.split(char::is_whitespace) {
        hasher.update(part.as_bytes());
    }
    hasher.digest128()
}

impl ExactDedup {
    pub fn new(config: &DedupConfig) -> Self {
        ExactDedup {
            config: config.clone(),
            documents: HashSet::new(),
            paragraphs: HashSet::new(),
        }
    }

    pub fn check(&mut self, mut doc: Document) -> Verdict {
        if self.config.documents && !self.documents.insert(key(&doc.text)) {
            return Verdict::Drop(Reject::of(&doc, "exact-duplicate", None));
        }
        if self.config.paragraph_min_chars == 0 {
            return Verdict::Keep(doc);
        }
        let mut new_keys = Vec::new();
        let mut duplicate_lines = Vec::new();
        let (mut removed_chars, mut total_chars) = (0, 0);
        for (index, line) in doc.text.split('\n').enumerate() {
            let chars = line.chars().filter(|c| !c.is_whitespace()).count();
            total_chars += chars;
            if chars >= self.config.paragraph_min_chars {
                let k = key(line);
                if self.paragraphs.contains(&k) {
                    removed_chars += chars;
                    duplicate_lines.push(index);
                } else {
                    new_keys.push(k);
                }
            }
        }
        let removed_paragraphs = duplicate_lines.len();
        // Paragraphs count as seen once their document is decided, kept or not.
        self.paragraphs.extend(new_keys);
        if removed_paragraphs == 0 {
            return Verdict::Keep(doc);
        }
        let share = removed_chars as f64 / total_chars.max(1) as f64;
        if share > self.config.max_duplicate_share {
            let detail = format!(
                "{removed_paragraphs} paragraphs, {:.0}% of the text, seen earlier",
                share * 100.0
            );
            return Verdict::Drop(Reject::of(&doc, "duplicate-paragraphs", Some(detail)));
        }
        doc.text = doc
            .text
            .split('\n')
            .enumerate()
            .filter(|(index, _)| duplicate_lines.binary_search(index).is_err())
            .map(|(_, line)| line)
            .collect::<Vec<_>>()
            .join("\n");
        doc.set_meta("duplicate_paragraphs_removed", removed_paragraphs);
        Verdict::Keep(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(v: Verdict) -> Result<String, String> {
        match v {
            Verdict::Keep(d) => Ok(d.text),
            Verdict::Drop(r) => Err(r.reason),
        }
    }

    #[test]
    fn first_copy_wins_and_long_repeated_paragraphs_go() {
        let mut dedup = ExactDedup::new(&DedupConfig {
            paragraph_min_chars: 10,
            ..Default::default()
        });
        let para = "糖尿病患者应定期监测血糖并记录结果以便调整治疗方案";
        let a = Document::new(
            "a.txt",
            None,
            format!("{para}\n第一篇独有的段落内容在这里出现并且很长很长很长很长"),
        );
        let b = Document::new(
            "b.txt",
            None,
            format!(
                "{para}\n第二篇独有的段落内容在这里出现并且很长很长很长很长很长很长很长很长很长"
            ),
        );
        assert!(text_of(dedup.check(a.clone())).is_ok());
        assert_eq!(
            text_of(dedup.check(b)).unwrap(),
            "第二篇独有的段落内容在这里出现并且很长很长很长很长很长很长很长很长很长"
        );
        assert_eq!(text_of(dedup.check(a)).unwrap_err(), "exact-duplicate");
    }
}
