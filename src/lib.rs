//! medcorpus: a raw pile of Chinese medical documents → a BERT pretraining corpus.
pub mod clean;
pub mod cli;
pub mod config;
pub mod dedup;
pub mod document;
pub mod executor;
pub mod extract;
pub mod filter;
pub mod ingest;
pub mod logging;
pub mod ocr;
pub mod pipeline;
pub mod report;
pub mod run_dir;
pub mod segment;
pub mod shard;
pub mod vocab;
pub mod walk;

pub use config::Config;
