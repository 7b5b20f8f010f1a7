//! What a run leaves for people and programs: `manifest.json`, `report.html` / `report.json`.
mod charts;
pub mod html;
pub mod manifest;

/// Peak resident memory of this process so far, in MB (Linux reports ru_maxrss in KiB).
pub fn peak_rss_mb() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; a failure leaves it zeroed.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    usage.ru_maxrss as f64 / 1024.0
}
