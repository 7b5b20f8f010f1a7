//! The one record that flows through every stage, and the verdicts stages give.
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Page breaks inside `text` for page-based formats (PDF): pdftotext's form feed.
pub const PAGE_BREAK: char = '\x0c';

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Document {
    /// Stable id: a hash of `source` (and the record number for multi-record files).
    pub id: String,
    /// Path relative to the input folder; archive members are `outer.zip!/dir/member.txt`.
    pub source: String,
    pub text: String,
    #[serde(default)]
    pub meta: Map<String, Value>,
}

impl Document {
    /// `record` numbers documents inside one file (JSON lines, CSV rows); `None` for whole files.
    pub fn new(source: &str, record: Option<u64>, text: String) -> Self {
        let key = match record {
            Some(n) => format!("{source}#{n}"),
            None => source.to_string(),
        };
        let mut meta = Map::new();
        if let Some(n) = record {
            meta.insert("record".into(), n.into());
        }
        Document {
            id: format!("{:016x}", xxhash_rust::xxh3::xxh3_64(key.as_bytes())),
            source: source.to_string(),
            text,
            meta,
        }
    }

    pub fn set_meta(&mut self, key: &str, value: impl Into<Value>) {
        self.meta.insert(key.to_string(), value.into());
    }
}

/// A document a stage dropped, with the reason (counted per reason in the manifest).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reject {
    pub id: String,
    pub source: String,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub detail: Option<String>,
    pub sample: String,
}

impl Reject {
    pub fn of(doc: &Document, reason: &str, detail: Option<String>) -> Self {
        Reject {
            id: doc.id.clone(),
            source: doc.source.clone(),
            reason: reason.to_string(),
            detail,
            sample: sample(&doc.text),
        }
    }
}

/// An input that could not be read, decoded or parsed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failure {
    pub source: String,
    pub stage: String,
    pub error: String,
}

impl Failure {
    pub fn new(source: &str, stage: &str, error: impl std::fmt::Display) -> Self {
        Failure {
            source: source.to_string(),
            stage: stage.to_string(),
            error: error.to_string(),
        }
    }
}

/// Where one extracted item ended up after the per-document stages.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Outcome {
    Kept(Document),
    Rejected(Reject),
    Failed(Failure),
}

/// What a per-document stage decides.
pub enum Verdict {
    Keep(Document),
    Drop(Reject),
}

/// The first 200 characters, for rejects and reports.
pub fn sample(text: &str) -> String {
    text.chars().take(200).collect()
}
