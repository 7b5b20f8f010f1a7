//! Filter presets: `[filter] preset = "configs/filters/medical.toml"` takes every limit from a
//! file of the same keys, and keys written in `[filter]` override it. The merge happens while
//! the pipeline file is read, so the run's manifest records the limits actually used.
use super::FilterConfig;
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// `[filter]` as written: every key optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterKeys {
    pub preset: Option<PathBuf>,
    pub min_chars: Option<usize>,
    pub min_cjk_ratio: Option<f64>,
    pub max_replacement_ratio: Option<f64>,
    pub max_garbage_ratio: Option<f64>,
    pub max_digit_ratio: Option<f64>,
    pub max_symbol_ratio: Option<f64>,
    pub max_duplicate_line_ratio: Option<f64>,
    pub max_ngram_repetition: Option<f64>,
    pub ngram_chars: Option<usize>,
    pub min_mean_line_chars: Option<f64>,
    pub boilerplate_phrases: Option<Vec<String>>,
    pub max_boilerplate_ratio: Option<f64>,
}

impl TryFrom<FilterKeys> for FilterConfig {
    type Error = String;

    fn try_from(keys: FilterKeys) -> std::result::Result<Self, String> {
        let base = match &keys.preset {
            Some(path) => load(path).map_err(|e| format!("{e:#}"))?,
            None => FilterKeys::default(),
        };
        Ok(keys.over(base).resolve())
    }
}

/// Reads a preset file (relative paths from the current directory, as for every path in a
/// pipeline file).
fn load(path: &Path) -> Result<FilterKeys> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("filter preset {}: cannot read", path.display()))?;
    let keys: FilterKeys =
        toml::from_str(&text).with_context(|| format!("filter preset {}", path.display()))?;
    if keys.preset.is_some() {
        bail!(
            "filter preset {}: a preset cannot name another preset",
            path.display()
        );
    }
    Ok(FilterKeys {
        preset: Some(path.to_path_buf()),
        ..keys
    })
}

impl FilterKeys {
    /// These keys where set, `base` elsewhere.
    fn over(self, base: FilterKeys) -> FilterKeys {
        FilterKeys {
            preset: self.preset.or(base.preset),
            min_chars: self.min_chars.or(base.min_chars),
            min_cjk_ratio: self.min_cjk_ratio.or(base.min_cjk_ratio),
            max_replacement_ratio: self.max_replacement_ratio.or(base.max_replacement_ratio),
            max_garbage_ratio: self.max_garbage_ratio.or(base.max_garbage_ratio),
            max_digit_ratio: self.max_digit_ratio.or(base.max_digit_ratio),
            max_symbol_ratio: self.max_symbol_ratio.or(base.max_symbol_ratio),
            max_duplicate_line_ratio: self
                .max_duplicate_line_ratio
                .or(base.max_duplicate_line_ratio),
            max_ngram_repetition: self.max_ngram_repetition.or(base.max_ngram_repetition),
            ngram_chars: self.ngram_chars.or(base.ngram_chars),
            min_mean_line_chars: self.min_mean_line_chars.or(base.min_mean_line_chars),
            boilerplate_phrases: self.boilerplate_phrases.or(base.boilerplate_phrases),
            max_boilerplate_ratio: self.max_boilerplate_ratio.or(base.max_boilerplate_ratio),
        }
    }

    /// Built-in defaults for keys set nowhere.
    fn resolve(self) -> FilterConfig {
        let d = FilterConfig::default();
        FilterConfig {
            preset: self.preset,
            min_chars: self.min_chars.unwrap_or(d.min_chars),
            min_cjk_ratio: self.min_cjk_ratio.unwrap_or(d.min_cjk_ratio),
            max_replacement_ratio: self
                .max_replacement_ratio
                .unwrap_or(d.max_replacement_ratio),
            max_garbage_ratio: self.max_garbage_ratio.unwrap_or(d.max_garbage_ratio),
            max_digit_ratio: self.max_digit_ratio.unwrap_or(d.max_digit_ratio),
            max_symbol_ratio: self.max_symbol_ratio.unwrap_or(d.max_symbol_ratio),
            max_duplicate_line_ratio: self
                .max_duplicate_line_ratio
                .unwrap_or(d.max_duplicate_line_ratio),
            max_ngram_repetition: self.max_ngram_repetition.unwrap_or(d.max_ngram_repetition),
            ngram_chars: self.ngram_chars.unwrap_or(d.ngram_chars),
            min_mean_line_chars: self.min_mean_line_chars.unwrap_or(d.min_mean_line_chars),
            boilerplate_phrases: self.boilerplate_phrases.unwrap_or(d.boilerplate_phrases),
            max_boilerplate_ratio: self
                .max_boilerplate_ratio
                .unwrap_or(d.max_boilerplate_ratio),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_keys_override_the_preset() {
        let dir = tempfile::tempdir().unwrap();
        let preset = dir.path().join("p.toml");
        std::fs::write(&preset, "min_chars = 30\nmax_digit_ratio = 0.3\n").unwrap();
        let toml = format!("preset = {:?}\nmin_chars = 5\n", preset);
        let config: FilterConfig = toml::from_str(&toml).unwrap();
        assert_eq!(config.min_chars, 5);
        assert_eq!(config.max_digit_ratio, 0.3);
        assert_eq!(config.min_cjk_ratio, FilterConfig::default().min_cjk_ratio);
        let bad = toml::from_str::<FilterConfig>("preset = \"/nonexistent.toml\"");
        assert!(bad.unwrap_err().to_string().contains("cannot read"));
    }
}
