//! Cleaning: a sequence of small text → text steps, built once from `[clean]`.
pub mod convert;
pub mod unicode;
pub mod whitespace;

use crate::document::Document;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CleanConfig {
    /// NFKC for compatibility characters (Kangxi radicals, full-width letters and digits, ㎝),
    /// keeping Chinese punctuation full-width.
    pub nfkc: bool,
    /// Traditional → simplified Chinese with OpenCC's dictionaries.
    pub traditional_to_simplified: bool,
    /// Folder holding OpenCC's TSPhrases.txt and TSCharacters.txt.
    pub opencc_dir: PathBuf,
}

impl Default for CleanConfig {
    fn default() -> Self {
        CleanConfig {
            nfkc: true,
            traditional_to_simplified: false,
            opencc_dir: PathBuf::from("configs/opencc"),
        }
    }
}

impl CleanConfig {
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }
}

pub trait Step: Send + Sync {
    fn apply(&self, text: String) -> String;
}

pub struct Cleaner {
    steps: Vec<Box<dyn Step>>,
}

impl Cleaner {
    pub fn new(config: &CleanConfig) -> Result<Cleaner> {
        let mut steps: Vec<Box<dyn Step>> =
            vec![Box::new(unicode::Characters { nfkc: config.nfkc })];
        if config.traditional_to_simplified {
            steps.push(Box::new(convert::TraditionalToSimplified::load(
                &config.opencc_dir,
            )?));
        }
        steps.push(Box::new(whitespace::Collapse));
        Ok(Cleaner { steps })
    }

    pub fn clean(&self, mut doc: Document) -> Document {
        let before = doc.text.chars().count();
        for step in &self.steps {
            doc.text = step.apply(std::mem::take(&mut doc.text));
        }
        doc.set_meta("chars_extracted", before);
        doc
    }
}

/// CJK ideographs (unified, extensions A–F, compatibility), as BERT's tokenizer counts them.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0x2A700..=0x2EBEF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}
