//! Pipeline files: TOML → one typed struct per stage, validated once before anything runs.
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub input: InputConfig,
    pub output: OutputConfig,
    #[serde(default)]
    pub extract: crate::extract::ExtractConfig,
    #[serde(default)]
    pub isolation: crate::extract::isolate::IsolationConfig,
    #[serde(default)]
    pub ocr: crate::ocr::OcrConfig,
    #[serde(default)]
    pub clean: crate::clean::CleanConfig,
    #[serde(default)]
    pub filter: crate::filter::FilterConfig,
    #[serde(default)]
    pub dedup: crate::dedup::DedupConfig,
    #[serde(default)]
    pub bert: crate::shard::BertConfig,
    #[serde(default)]
    pub tokenize: crate::shard::tokenize::TokenizeConfig,
    #[serde(default)]
    pub mlm: crate::shard::mlm::MlmConfig,
    #[serde(default)]
    pub near_dedup: crate::dedup::near::NearDedupConfig,
    #[serde(default)]
    pub vocab: crate::vocab::VocabConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputConfig {
    /// Folders (or single files) to read. Every relative path in a pipeline file is relative to the
    /// current directory, as in a shell command.
    pub paths: Vec<PathBuf>,
    /// Follow symbolic links to folders (loops are detected and reported).
    #[serde(default)]
    pub follow_symlinks: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    pub dir: PathBuf,
    /// A docs/rejects shard rolls over after this many uncompressed bytes.
    #[serde(default = "default_shard_bytes")]
    pub shard_bytes: u64,
    /// zstd level of docs/ and rejects/. Level 1 compresses Chinese JSON lines at about 230 MB/s,
    /// level 3 at 125 MB/s for 21% smaller files (zstd -b, 25 MB of docs): speed first.
    #[serde(default = "default_zstd_level")]
    pub zstd_level: i32,
}

fn default_shard_bytes() -> u64 {
    256 << 20
}

fn default_zstd_level() -> i32 {
    1
}

/// A problem in a pipeline file, said in one line: file, line, key and reason.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub message: String,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config> {
        let file = path.display().to_string();
        let source = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: file.clone(),
            message: format!("cannot read: {e}"),
        })?;
        let config: Config = toml::from_str(&source).map_err(|e| ConfigError {
            file: file.clone(),
            message: describe_toml_error(&source, &e),
        })?;
        config.validate().map_err(|e| ConfigError {
            file,
            message: e.to_string(),
        })?;
        Ok(config)
    }

    fn validate(&self) -> Result<()> {
        if self.input.paths.is_empty() {
            bail!("key `input.paths`: at least one input folder is needed");
        }
        if self.output.shard_bytes < 4096 {
            bail!("key `output.shard_bytes`: must be at least 4096");
        }
        check_range("output.zstd_level", self.output.zstd_level, -7, 19)?;
        self.extract.validate()?;
        self.isolation.validate()?;
        self.ocr.validate()?;
        self.clean.validate()?;
        self.filter.validate()?;
        self.dedup.validate()?;
        self.bert.validate()?;
        self.tokenize.validate()?;
        self.mlm.validate()?;
        self.near_dedup.validate()?;
        self.vocab.validate()?;
        Ok(())
    }
}

/// toml's own message spans several lines; fold it to "line N: key `k`: reason".
fn describe_toml_error(source: &str, err: &toml::de::Error) -> String {
    let reason = err.message().trim().replace('\n', " ");
    match err.span() {
        Some(span) => {
            let line = source[..span.start.min(source.len())].matches('\n').count() + 1;
            let line_text = source.lines().nth(line - 1).unwrap_or("").trim();
            match line_text.split_once('=') {
                Some((key, _)) => format!("line {line}: key `{}`: {reason}", key.trim()),
                None if line_text.is_empty() => format!("line {line}: {reason}"),
                None => format!("line {line}: {reason} (at `{line_text}`)"),
            }
        }
        None => reason,
    }
}

/// Checks a value in range, naming the key in the error.
pub fn check_range<T: PartialOrd + std::fmt::Display>(
    key: &str,
    value: T,
    lo: T,
    hi: T,
) -> Result<()> {
    if value < lo || value > hi {
        bail!("key `{key}`: {value} is out of range ({lo} to {hi})");
    }
    Ok(())
}
