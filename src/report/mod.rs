//! What a run leaves for people and programs: `manifest.json` and the end-of-run summary.
pub mod manifest;
