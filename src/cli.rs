//! Command-line options (clap) turned into a Config and a call into the library.
use crate::config::Config;
use crate::pipeline::{self, RunOptions};
use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "medcorpus",
    version,
    about = "Turns Chinese medical documents into a BERT pretraining corpus"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a pipeline file.
    Run {
        pipeline: PathBuf,
        /// Input folder (repeatable); replaces the pipeline file's `input.paths`.
        #[arg(long)]
        input: Vec<PathBuf>,
        /// Output folder; replaces the pipeline file's `output.dir`.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Continue an interrupted run in its output folder.
        #[arg(long)]
        resume: bool,
    },
    /// Validate a pipeline file without running it.
    Check { pipeline: PathBuf },
    /// Print the text medcorpus extracts from one file.
    Extract {
        file: PathBuf,
        /// One JSON document per line (id, source, text, meta).
        #[arg(long)]
        json: bool,
    },
    /// Show a file's text before and after cleaning, and what each filter rule measures.
    CleanPreview {
        file: PathBuf,
        /// Take [extract], [clean] and [filter] from this pipeline file (default: built-in).
        #[arg(long)]
        pipeline: Option<PathBuf>,
        /// Documents shown in full (records of a JSON-lines file are documents).
        #[arg(long, default_value_t = 3)]
        docs: usize,
        /// Cleaned lines shown per document (0: all).
        #[arg(long, default_value_t = 80)]
        lines: usize,
        /// Print one tab-separated line of rule measures per document instead of the text.
        #[arg(long)]
        measures: bool,
    },
}

pub fn main() -> Result<ExitCode> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::WARN)
        .with_target(false)
        .init();
    match cli.command {
        Command::Run {
            pipeline,
            input,
            output,
            threads,
            resume,
        } => {
            let mut config = Config::load(&pipeline)?;
            if !input.is_empty() {
                config.input.paths = input;
            }
            if let Some(output) = output {
                config.output.dir = output;
            }
            let threads = threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let summary = pipeline::run(&config, &RunOptions { threads, resume })?;
            eprint!("{}", summary.table());
            eprintln!("output: {}", config.output.dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { pipeline } => {
            Config::load(&pipeline)?;
            println!("{}: ok", pipeline.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Extract { file, json } => extract_one(&file, json),
        Command::CleanPreview {
            file,
            pipeline,
            docs,
            lines,
            measures,
        } => {
            let (extract, clean, filter) = match pipeline {
                Some(path) => {
                    let config = Config::load(&path)?;
                    (config.extract, config.clean, config.filter)
                }
                None => Default::default(),
            };
            let options = crate::clean::preview::PreviewOptions {
                show_docs: docs,
                max_lines: lines,
                measures,
            };
            print!(
                "{}",
                crate::clean::preview::preview(&file, &extract, &clean, &filter, &options)?
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn extract_one(file: &std::path::Path, json: bool) -> Result<ExitCode> {
    use crate::document::Outcome;
    let size = std::fs::metadata(file)?.len();
    let source = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let input = crate::walk::Input {
        path: file.to_path_buf(),
        source,
        size,
    };
    let extraction = crate::extract::extract_file(&input, &Default::default());
    let mut failed = false;
    for outcome in extraction.outcomes {
        match outcome {
            Outcome::Kept(doc) if json => println!("{}", serde_json::to_string(&doc)?),
            Outcome::Kept(doc) => println!("{}", doc.text),
            Outcome::Rejected(r) => eprintln!("{}: rejected: {}", r.source, r.reason),
            Outcome::Failed(f) => {
                eprintln!("{}: {}", f.source, f.error);
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}
