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
    #[serde(with = "text_bytes")]
    pub text: String,
    #[serde(default)]
    pub meta: Map<String, Value>,
}

/// `text` is saved as bytes in binary formats (the chunks between phases) and read back with
/// one SIMD UTF-8 check: serde's string path checks with `str::from_utf8`, which costs several
/// instructions per byte of Chinese text. Human-readable formats (JSON) see a string.
mod text_bytes {
    use serde::de::{Deserializer, Error, Visitor};
    use serde::{Deserialize, Serializer};

    pub fn serialize<S: Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(text)
        } else {
            serializer.serialize_bytes(text.as_bytes())
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
        if deserializer.is_human_readable() {
            String::deserialize(deserializer)
        } else {
            deserializer.deserialize_bytes(Text)
        }
    }

    struct Text;

    impl Visitor<'_> for Text {
        type Value = String;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("UTF-8 text as a string or bytes")
        }

        fn visit_str<E: Error>(self, text: &str) -> Result<String, E> {
            Ok(text.to_string())
        }

        fn visit_bytes<E: Error>(self, bytes: &[u8]) -> Result<String, E> {
            match simdutf8::basic::from_utf8(bytes) {
                Ok(text) => Ok(text.to_string()),
                Err(_) => Err(E::custom("document text is not UTF-8")),
            }
        }
    }
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
