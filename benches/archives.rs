//! Archive extraction throughput: the real text corpus (../shared/corpus/text) packed as zip,
//! tar, tar.gz, tar.zst, tar.bz2 and solid 7z, a solid 7z of 4,048 small GBK files, and the
//! real archives in ../shared/corpus/archives, each extracted in process by `extract_bytes`
//! (decompression + sniffing + decoding of every member). Baseline: the same text files
//! extracted unpacked. Run: `cargo bench --bench archives`.
use medcorpus::extract::{extract_bytes, ExtractConfig};
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

const SHARED: &str = "../shared/corpus";
const RUNS: usize = 5;

fn main() {
    let files = text_files();
    let raw: u64 = files.iter().map(|(_, b)| b.len() as u64).sum();
    let config = ExtractConfig::default();
    println!(
        "{} text files, {:.1} MB; median CPU time of {RUNS} runs, one thread",
        files.len(),
        mb(raw)
    );
    println!(
        "{:<34} {:>9} {:>9} {:>8} {:>11} {:>12}",
        "input", "packed MB", "text MB", "CPU s", "packed MB/s", "unpacked MB/s"
    );
    let baseline = median(|| {
        for (name, bytes) in &files {
            extract_bytes(name, bytes, &config);
        }
    });
    row("unpacked files (baseline)", raw, raw, baseline);

    let tar = tar_of(&files);
    let cases: Vec<(&str, Vec<u8>, u64)> = vec![
        ("text.zip (deflate)", zip_of(&files), raw),
        ("text.tar", tar.clone(), raw),
        ("text.tar.gz", gzip(&tar), raw),
        ("text.tar.zst", zstd::encode_all(&tar[..], 3).unwrap(), raw),
        ("text.tar.bz2", bzip2(&tar), raw),
        ("text.7z (LZMA2, solid)", sevenz_of(&files), raw),
    ];
    let (mails, records) = gbk_mails();
    let mails_unpacked = records.iter().map(|(_, b)| b.len() as u64).sum();
    let mails_baseline = median(|| {
        for (name, bytes) in &records {
            extract_bytes(name, bytes, &config);
        }
    });
    row(
        "4048 GBK mails unpacked",
        mails_unpacked,
        mails_unpacked,
        mails_baseline,
    );
    let mut cases = cases;
    cases.push(("4048 GBK mails.7z (solid)", mails, mails_unpacked));
    for (name, bytes, unpacked) in &cases {
        let time = median(|| {
            extract_bytes(name, bytes, &config);
        });
        row(name, bytes.len() as u64, *unpacked, time);
    }
    for real in [
        "archives/JMCE_CNER__数据.zip",
        "archives/Inverse-Kinematics__论文.7z",
        "archives/text-duplication__数据.rar",
    ] {
        let bytes = std::fs::read(Path::new(SHARED).join(real)).unwrap();
        let time = median(|| {
            extract_bytes(real, &bytes, &config);
        });
        row(real, bytes.len() as u64, 0, time);
    }
}

fn row(name: &str, packed: u64, unpacked: u64, time: Duration) {
    let seconds = time.as_secs_f64();
    let unpacked_rate = match unpacked {
        0 => "-".to_string(),
        n => format!("{:.1}", mb(n) / seconds),
    };
    println!(
        "{name:<34} {:>9.2} {:>9} {seconds:>8.3} {:>11.1} {unpacked_rate:>12}",
        mb(packed),
        if unpacked == 0 {
            "-".to_string()
        } else {
            format!("{:.2}", mb(unpacked))
        },
        mb(packed) / seconds,
    );
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// Median CPU time of this thread: the machine is shared, so wall time would measure the
/// neighbours too.
fn median(mut run: impl FnMut()) -> Duration {
    run(); // warm-up
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = thread_cpu_time();
            run();
            thread_cpu_time() - start
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}

fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

fn text_files() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(SHARED).join("text");
    let mut paths = Vec::new();
    collect(&root, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn zip_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        zip.start_file(name.as_str(), options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn tar_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, name, &bytes[..]).unwrap();
    }
    tar.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn bzip2(bytes: &[u8]) -> Vec<u8> {
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    bz.write_all(bytes).unwrap();
    bz.finish().unwrap()
}

fn sevenz_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut writer = sevenz_rust2::ArchiveWriter::new(Cursor::new(Vec::new())).unwrap();
    let entries = files
        .iter()
        .map(|(name, _)| sevenz_rust2::ArchiveEntry::new_file(name))
        .collect();
    let readers = files
        .iter()
        .map(|(_, bytes)| sevenz_rust2::SourceReader::new(bytes.as_slice()))
        .collect();
    writer.push_archive_entries(entries, readers).unwrap();
    writer.finish().unwrap().into_inner()
}

/// dialogue/IM_内科.txt cut at its blank lines: one GBK question/answer record per file.
fn gbk_mails() -> (Vec<u8>, Vec<(String, Vec<u8>)>) {
    let text = std::fs::read(Path::new(SHARED).join("text/dialogue/IM_内科.txt")).unwrap();
    let mut records: Vec<(String, Vec<u8>)> = Vec::new();
    let mut current = Vec::new();
    for line in text.split(|&b| b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            if !current.is_empty() {
                let name = format!("问诊/{:05}.txt", records.len());
                records.push((name, std::mem::take(&mut current)));
            }
        } else {
            current.extend_from_slice(line);
            current.push(b'\n');
        }
    }
    (sevenz_of(&records), records)
}
