//! Cleaning throughput in MB/s on one core: every text file under ../shared/corpus/text
//! (or the folders given as arguments) is extracted once, then the medical-bert cleaning
//! steps and filters run over all documents, single-threaded, three times; the best run counts.
//! Times are the thread's CPU time, so a busy machine (other processes on the cores) does not
//! make the figure lower: MB per CPU-second is MB/s per core.
//!   cargo bench --bench clean [-- FOLDER…]
use medcorpus::clean::Cleaner;
use medcorpus::config::Config;
use medcorpus::document::{Document, Outcome};
use medcorpus::filter::Filter;
use std::path::{Path, PathBuf};

fn main() -> anyhow::Result<()> {
    let folders: Vec<PathBuf> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .collect();
    let folders = if folders.is_empty() {
        vec![PathBuf::from("../shared/corpus/text")]
    } else {
        folders
    };
    let config = Config::load(Path::new("pipelines/medical-bert.toml"))?;
    let found = medcorpus::walk::discover(&folders, false);
    let docs: Vec<Document> = found
        .inputs
        .iter()
        .flat_map(|input| medcorpus::extract::extract_file(input, &config.extract).outcomes)
        .filter_map(|o| match o {
            Outcome::Kept(doc) => Some(doc),
            _ => None,
        })
        .collect();
    let bytes: usize = docs.iter().map(|d| d.text.len()).sum();
    let cleaner = Cleaner::new(&config.clean)?;
    let filter = Filter::new(&config.filter)?;
    println!(
        "{} documents, {:.1} MB of extracted text",
        docs.len(),
        bytes as f64 / 1e6
    );
    let (mut best_clean, mut best_filter) = (f64::MAX, f64::MAX);
    for _ in 0..3 {
        let batch = docs.clone();
        let started = cpu_seconds();
        let cleaned: Vec<Document> = batch.into_iter().map(|d| cleaner.clean(d)).collect();
        best_clean = best_clean.min(cpu_seconds() - started);
        let started = cpu_seconds();
        let kept = cleaned
            .into_iter()
            .filter(|d| {
                matches!(
                    filter.check(d.clone()),
                    medcorpus::document::Verdict::Keep(_)
                )
            })
            .count();
        best_filter = best_filter.min(cpu_seconds() - started);
        std::hint::black_box(kept);
    }
    let mb = bytes as f64 / 1e6;
    println!(
        "clean:  {:.3} s  {:.1} MB/s per core",
        best_clean,
        mb / best_clean
    );
    println!(
        "filter: {:.3} s  {:.1} MB/s per core",
        best_filter,
        mb / best_filter
    );
    println!(
        "both:   {:.1} MB/s per core",
        mb / (best_clean + best_filter)
    );
    Ok(())
}

/// CPU time this thread has used, in seconds.
fn cpu_seconds() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}
