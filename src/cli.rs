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
    /// Vocabulary tools.
    Vocab {
        #[command(subcommand)]
        command: VocabCommand,
    },
}

#[derive(Subcommand)]
enum VocabCommand {
    /// Compare a vocabulary with a baseline on texts: [UNK] rate, tokens per character,
    /// character coverage, lexicon terms without [UNK], top [UNK] characters.
    Eval {
        /// A `vocab/` folder, a tokenizer.json or a BERT vocab.txt.
        #[arg(long)]
        vocab: PathBuf,
        /// The vocabulary to compare with (same forms), e.g. bert-base-chinese's vocab.txt.
        #[arg(long)]
        baseline: Option<PathBuf>,
        /// Lexicon whose terms are checked (repeatable; `word [frequency]` lines).
        #[arg(long, default_value = "configs/lexicons/THUOCL_medical.txt")]
        lexicon: Vec<PathBuf>,
        /// Print the figures as JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// UTF-8 text files, or medcorpus document shards (`docs/part-*.jsonl.zst`).
        #[arg(required = true)]
        texts: Vec<PathBuf>,
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
        Command::Vocab {
            command:
                VocabCommand::Eval {
                    vocab,
                    baseline,
                    lexicon,
                    json,
                    texts,
                },
        } => vocab_eval(&vocab, baseline.as_deref(), &lexicon, json, &texts),
    }
}

fn vocab_eval(
    vocab: &std::path::Path,
    baseline: Option<&std::path::Path>,
    lexicon: &[PathBuf],
    json: bool,
    texts: &[PathBuf],
) -> Result<ExitCode> {
    use crate::vocab::{eval, export};
    let ours = export::load(vocab)?;
    let theirs = baseline.map(export::load).transpose()?;
    let lexicon = eval::Lexicon::load(lexicon)?;
    let pool = rayon::ThreadPoolBuilder::new().build()?;
    let texts = eval::read_texts(texts);
    let comparison = eval::compare(&ours, theirs.as_ref(), &lexicon, texts, &pool)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&comparison)?);
    } else {
        let name = |p: &std::path::Path| p.display().to_string();
        print!(
            "{}",
            eval::table(
                &comparison,
                &name(vocab),
                &baseline.map(name).unwrap_or_default()
            )
        );
    }
    Ok(ExitCode::SUCCESS)
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
