//! Logs: warnings on the terminal; with a run folder, everything from INFO up in
//! `medcorpus.log` there too, for the morning after.
use std::path::Path;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;

pub fn init(log_file: Option<&Path>) {
    let terminal = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_filter(LevelFilter::WARN);
    let file = log_file
        .and_then(|path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .ok()
        })
        .map(|file| {
            tracing_subscriber::fmt::layer()
                .with_writer(std::sync::Mutex::new(file))
                .with_ansi(false)
                .with_target(false)
                .with_filter(LevelFilter::INFO)
        });
    // A second init (tests calling the library twice) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(terminal)
        .with(file)
        .try_init();
}
