//! Files and bytes bars with rate and ETA; indicatif draws them only on a terminal.
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

pub struct Progress {
    bars: MultiProgress,
    files: ProgressBar,
    bytes: ProgressBar,
}

fn bar(bars: &MultiProgress, len: u64, template: &str) -> ProgressBar {
    let bar = bars.add(ProgressBar::new(len));
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

impl Progress {
    pub fn new(files: u64, bytes: u64) -> Progress {
        let bars = MultiProgress::new();
        let files = bar(
            &bars,
            files,
            "files {bar:40} {pos}/{len} {per_sec} ETA {eta}",
        );
        let bytes = bar(
            &bars,
            bytes,
            "bytes {bar:40} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
        );
        Progress { bars, files, bytes }
    }

    pub fn advance(&self, files: u64, bytes: u64) {
        self.files.inc(files);
        self.bytes.inc(bytes);
    }

    pub fn finish(&self) {
        self.files.finish_and_clear();
        self.bytes.finish_and_clear();
        let _ = self.bars.clear();
    }
}
