//! Command-line options (clap) turned into a Config and a call into the library.
use crate::config::Config;
use crate::executor::slurm::SlurmOptions;
use crate::ingest::batches::{Interrupted, INTERRUPTED};
use crate::pipeline::{self, RunOptions};
use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;

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
        /// `local` (every phase in this process) or `slurm` (submit job arrays and return).
        #[arg(long, default_value = "local")]
        executor: Executor,
        /// Slurm: array tasks for the extraction (each takes every N-th hash partition).
        #[arg(long, default_value_t = 8)]
        tasks: usize,
        #[arg(long)]
        slurm_partition: Option<String>,
        /// Slurm: time limit per task, e.g. 04:00:00.
        #[arg(long)]
        slurm_time: Option<String>,
        /// Slurm: memory per task, e.g. 16G.
        #[arg(long)]
        slurm_mem: Option<String>,
        /// Slurm: another sbatch argument, passed as it is (repeatable).
        #[arg(long, allow_hyphen_values = true)]
        slurm_arg: Vec<String>,
        /// Slurm: write and print the sbatch scripts without submitting them.
        #[arg(long)]
        dry_run: bool,
    },
    /// Show what is finished in a run folder, and the state of its Slurm jobs.
    Status { output: PathBuf },
    /// Internal: one task of a run submitted to Slurm.
    #[command(hide = true)]
    Task {
        output: PathBuf,
        /// An array phase (`extract`, `exact-dedup`, `near-sign`, `near-lsh`, `vocab-count`,
        /// `publish-prepare`, with `--task`) or a single job (`near-dedup`, `vocab`, `finish`).
        phase: String,
        #[arg(long)]
        task: Option<usize>,
        #[arg(long, default_value_t = 1)]
        tasks: usize,
        #[arg(long, default_value_t = 1)]
        threads: usize,
    },
    /// Validate a pipeline file without running it.
    Check { pipeline: PathBuf },
    /// Internal: extract one file sent on stdin, in an isolated worker process.
    #[command(hide = true)]
    ExtractWorker,
    /// Print the text medcorpus extracts from one file.
    Extract {
        file: PathBuf,
        /// One JSON document per line (id, source, text, meta).
        #[arg(long)]
        json: bool,
        /// OCR what has no text layer (scanned PDFs, blank pages, images), as `[ocr] mode =
        /// "missing-text"` does in a run.
        #[arg(long)]
        ocr: bool,
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

#[derive(Clone, Copy, clap::ValueEnum)]
enum Executor {
    Local,
    Slurm,
}

pub fn main() -> Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            pipeline,
            input,
            output,
            threads,
            resume,
            executor,
            tasks,
            slurm_partition,
            slurm_time,
            slurm_mem,
            slurm_arg,
            dry_run,
        } => {
            let mut config = Config::load(&pipeline)?;
            if !input.is_empty() {
                config.input.paths = input;
            }
            if let Some(output) = output {
                config.output.dir = output;
            }
            if let Executor::Slurm = executor {
                let options = SlurmOptions {
                    tasks,
                    cpus_per_task: threads.unwrap_or(4),
                    partition: slurm_partition,
                    time: slurm_time,
                    mem: slurm_mem,
                    extra: slurm_arg,
                    dry_run,
                    resume,
                };
                crate::executor::slurm::submit(&config, &options)?;
                return Ok(ExitCode::SUCCESS);
            }
            let threads = threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            stop_cleanly_on_ctrl_c();
            let summary = match pipeline::run(&config, &RunOptions { threads, resume }) {
                Err(e) if e.is::<Interrupted>() => {
                    eprintln!("medcorpus: {e}");
                    return Ok(ExitCode::from(130));
                }
                other => other?,
            };
            eprint!("{}", summary.table());
            eprintln!("output: {}", config.output.dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { pipeline } => {
            crate::logging::init(None);
            Config::load(&pipeline)?;
            println!("{}: ok", pipeline.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { output } => {
            print!("{}", crate::executor::status::report(&output)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Task {
            output,
            phase,
            task,
            tasks,
            threads,
        } => {
            crate::executor::slurm::run_task(&output, &phase, task, tasks, threads)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::ExtractWorker => {
            crate::extract::isolate::worker_main()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Extract { file, json, ocr } => {
            crate::logging::init(None);
            extract_one(&file, json, ocr)
        }
        Command::CleanPreview {
            file,
            pipeline,
            docs,
            lines,
            measures,
        } => {
            crate::logging::init(None);
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

/// First Ctrl-C: finish the batch in hand, save it, and stop. Second: stop now (saved batches
/// and finished phases are kept either way).
fn stop_cleanly_on_ctrl_c() {
    let _ = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\nmedcorpus: stopping after the current batch (Ctrl-C again to stop now)");
    });
}

fn extract_one(file: &std::path::Path, json: bool, ocr: bool) -> Result<ExitCode> {
    use crate::document::Outcome;
    use std::io::Write;
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
    let mut extraction = crate::extract::extract_file(&input, &Default::default());
    if ocr {
        let config = crate::ocr::OcrConfig {
            mode: crate::ocr::OcrMode::MissingText,
            ..Default::default()
        };
        let cache = tempfile::tempdir()?;
        let usable = crate::ingest::usable_ocr(&config);
        extraction = crate::ingest::ocr::recover(extraction, &input, &usable, cache.path());
    }
    let mut failed = false;
    let mut stdout = std::io::stdout().lock();
    for outcome in extraction.outcomes {
        let printed = match outcome {
            Outcome::Kept(doc) if json => writeln!(stdout, "{}", serde_json::to_string(&doc)?),
            Outcome::Kept(doc) => writeln!(stdout, "{}", doc.text),
            Outcome::Rejected(r) => {
                match r.detail {
                    Some(detail) => eprintln!("{}: rejected: {} ({detail})", r.source, r.reason),
                    None => eprintln!("{}: rejected: {}", r.source, r.reason),
                }
                Ok(())
            }
            Outcome::Failed(f) => {
                failed = true;
                eprintln!("{}: {}", f.source, f.error);
                Ok(())
            }
        };
        // A closed pipe (`| head`) is the reader saying it has enough.
        if let Err(e) = printed {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(ExitCode::SUCCESS);
            }
            return Err(e.into());
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
