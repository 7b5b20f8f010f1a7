//! Tesseract engine: the `tesseract` CLI with Debian's chi_sim model, one process per page. Its
//! TSV output gives the words, their line structure and their confidences in one run.
use super::layout::join_cjk_spaces;
use super::{process, OcrConfig, OcrEngine, Recognised};
use anyhow::Result;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const LANGUAGE: &str = "chi_sim";

pub fn unavailable(config: &OcrConfig) -> Option<String> {
    let listed = process::run_ok(
        Command::new("tesseract").arg("--list-langs"),
        config.page_timeout(),
    );
    match listed {
        Err(e) => Some(format!(
            "tesseract needs the Debian packages tesseract-ocr and tesseract-ocr-chi-sim: {e:#}"
        )),
        Ok(output) => {
            let langs = String::from_utf8_lossy(&output.stdout);
            (!langs.lines().any(|lang| lang.trim() == LANGUAGE))
                .then(|| "tesseract has no chi_sim model (Debian: tesseract-ocr-chi-sim)".into())
        }
    }
}

pub struct Tesseract {
    psm: u32,
}

impl Tesseract {
    pub fn new(config: &OcrConfig) -> Self {
        Tesseract {
            psm: config.tesseract_psm,
        }
    }
}

impl OcrEngine for Tesseract {
    fn fingerprint(&self) -> String {
        format!("tesseract {LANGUAGE} psm {}", self.psm)
    }

    fn recognise(&mut self, image: &Path, timeout: Duration) -> Result<Recognised> {
        let output = process::run_ok(
            Command::new("tesseract")
                .arg(image)
                .args([
                    "stdout",
                    "-l",
                    LANGUAGE,
                    "--psm",
                    &self.psm.to_string(),
                    "tsv",
                ])
                // Tesseract's OpenMP threads spin-wait: on busy cores one thread per process is
                // several times faster in CPU time, and concurrency comes from parallel pages.
                .env("OMP_THREAD_LIMIT", "1"),
            timeout,
        )?;
        Ok(parse_tsv(&String::from_utf8_lossy(&output.stdout)))
    }
}

/// Columns: level page_num block_num par_num line_num word_num left top width height conf text.
/// Level 5 rows are words; a change of (page, block, paragraph, line) starts a new line.
fn parse_tsv(tsv: &str) -> Recognised {
    let mut lines: Vec<String> = Vec::new();
    let mut current_line: Option<[&str; 4]> = None;
    let (mut weighted, mut chars) = (0.0f64, 0usize);
    for row in tsv.lines().skip(1) {
        let columns: Vec<&str> = row.split('\t').collect();
        if columns.len() < 12 || columns[0] != "5" {
            continue;
        }
        let word = columns[11].trim();
        if word.is_empty() {
            continue;
        }
        let line_id = [columns[1], columns[2], columns[3], columns[4]];
        match (&mut lines.last_mut(), current_line == Some(line_id)) {
            (Some(line), true) => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
        current_line = Some(line_id);
        if let Ok(confidence) = columns[10].trim().parse::<f64>() {
            if confidence >= 0.0 {
                let n = word.chars().count();
                weighted += confidence / 100.0 * n as f64;
                chars += n;
            }
        }
    }
    Recognised {
        text: join_cjk_spaces(&lines.join("\n")),
        confidence: if chars == 0 {
            0.0
        } else {
            (weighted / chars as f64) as f32
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_lines_and_mean_confidence_from_tsv() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
            1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t\n\
            5\t1\t1\t1\t1\t1\t0\t0\t10\t10\t90\t舌质\n\
            5\t1\t1\t1\t1\t2\t0\t0\t10\t10\t60\t淡\n\
            5\t1\t1\t1\t2\t1\t0\t0\t10\t10\t90\tVol.\n\
            5\t1\t1\t1\t2\t2\t0\t0\t10\t10\t90\t50\n";
        let found = parse_tsv(tsv);
        assert_eq!(found.text, "舌质淡\nVol. 50");
        assert!((found.confidence - (0.9 * 2.0 + 0.6 + 0.9 * 6.0) / 9.0).abs() < 1e-6);
    }
}
