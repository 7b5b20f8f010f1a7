//! Shard writers: numbered files that roll over at a size, each written to a temporary name and
//! renamed when complete, so a half-written shard is never taken for a finished one.
use anyhow::{Context, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A file written under `NAME.tmp` and moved to `NAME` only by `finish`.
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    file: BufWriter<File>,
}

impl AtomicFile {
    pub fn create(path: &Path) -> Result<AtomicFile> {
        let tmp = path.with_extension(format!(
            "{}.tmp",
            path.extension().and_then(|e| e.to_str()).unwrap_or("")
        ));
        let file = File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            tmp,
            file: BufWriter::with_capacity(1 << 20, file),
        })
    }

    pub fn finish(self) -> Result<PathBuf> {
        let file = self.file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&self.tmp, &self.path)
            .with_context(|| format!("cannot rename to {}", self.path.display()))?;
        Ok(self.path)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

enum Sink {
    Plain(AtomicFile),
    Zstd(zstd::Encoder<'static, AtomicFile>),
}

/// `dir/{prefix}-NNNNN.{ext}`, a new file after `max_bytes` uncompressed bytes.
pub struct ShardWriter {
    dir: PathBuf,
    prefix: String,
    compressed: bool,
    zstd_level: i32,
    max_bytes: u64,
    index: usize,
    bytes_in_shard: u64,
    current: Option<Sink>,
    finished: Vec<PathBuf>,
    extension: Option<String>,
}

impl ShardWriter {
    pub fn new(dir: &Path, prefix: &str, compressed: bool, max_bytes: u64) -> Result<ShardWriter> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(ShardWriter {
            dir: dir.to_path_buf(),
            prefix: prefix.to_string(),
            compressed,
            zstd_level: 3,
            max_bytes,
            index: 0,
            bytes_in_shard: 0,
            current: None,
            finished: Vec::new(),
            extension: None,
        })
    }

    /// Intermediate files, read once by the next phase, trade size for speed.
    pub fn intermediate(self) -> Self {
        self.with_level(1)
    }

    pub fn with_level(mut self, zstd_level: i32) -> Self {
        self.zstd_level = zstd_level;
        self
    }

    /// Writes one record; a record is never split across shards.
    pub fn write_record(&mut self, record: &[u8]) -> Result<()> {
        self.write_record_sized(record, record.len() as u64)?;
        Ok(())
    }

    /// Writes one record that counts `size` units (bytes, tokens…) against `max_bytes`;
    /// returns the number of the shard it went to.
    pub fn write_record_sized(&mut self, record: &[u8], size: u64) -> Result<usize> {
        if self.bytes_in_shard >= self.max_bytes {
            self.close_current()?;
        }
        if self.current.is_none() {
            self.open_next()?;
        }
        self.write_current(record)?;
        self.bytes_in_shard += size;
        Ok(self.index - 1)
    }

    /// Writes into shard number `shard`, opening shards up to it: keeps a companion file per
    /// shard of another writer (same numbers), whatever its own size.
    pub fn write_record_into(&mut self, shard: usize, record: &[u8]) -> Result<()> {
        while self.current.is_none() || self.index <= shard {
            self.close_current()?;
            self.open_next()?;
        }
        self.write_current(record)
    }

    fn write_current(&mut self, record: &[u8]) -> Result<()> {
        let sink = self.current.as_mut().context("no open shard")?;
        match sink {
            Sink::Plain(f) => f.write_all(record)?,
            Sink::Zstd(z) => z.write_all(record)?,
        }
        Ok(())
    }

    /// Names shards `{prefix}-NNNNN.{extension}` instead of `.txt` / `.jsonl.zst`.
    pub fn with_extension(mut self, extension: &str) -> ShardWriter {
        self.extension = Some(extension.to_string());
        self
    }

    pub fn write_json<T: serde::Serialize>(&mut self, value: &T) -> Result<()> {
        self.write_json_numbered(value)?;
        Ok(())
    }

    /// Writes one JSON line; returns the number of the shard it went to.
    pub fn write_json_numbered<T: serde::Serialize>(&mut self, value: &T) -> Result<usize> {
        let mut line = serde_json::to_vec(value)?;
        line.push(b'\n');
        self.write_record_sized(&line, line.len() as u64)
    }

    fn open_next(&mut self) -> Result<()> {
        let ext = match &self.extension {
            Some(ext) => ext.as_str(),
            None if self.compressed => "jsonl.zst",
            None => "txt",
        };
        let path = self
            .dir
            .join(format!("{}-{:05}.{ext}", self.prefix, self.index));
        let file = AtomicFile::create(&path)?;
        self.current = Some(if self.compressed {
            Sink::Zstd(zstd::Encoder::new(file, self.zstd_level)?)
        } else {
            Sink::Plain(file)
        });
        self.index += 1;
        self.bytes_in_shard = 0;
        Ok(())
    }

    fn close_current(&mut self) -> Result<()> {
        let finished = match self.current.take() {
            Some(Sink::Plain(f)) => f.finish()?,
            Some(Sink::Zstd(z)) => z.finish()?.finish()?,
            None => return Ok(()),
        };
        self.finished.push(finished);
        Ok(())
    }

    /// Closes the last shard and returns every shard written.
    pub fn finish(mut self) -> Result<Vec<PathBuf>> {
        self.close_current()?;
        Ok(self.finished)
    }
}

/// Reads the JSON lines of `.jsonl.zst` shards in order.
pub fn read_jsonl_zst<T: serde::de::DeserializeOwned + 'static>(
    paths: Vec<PathBuf>,
) -> impl Iterator<Item = Result<T>> {
    paths.into_iter().flat_map(read_jsonl_zst_file)
}

/// Reads one `.jsonl.zst` file lazily, a line at a time.
pub fn read_jsonl_zst_file<T: serde::de::DeserializeOwned + 'static>(
    path: PathBuf,
) -> Box<dyn Iterator<Item = Result<T>>> {
    use std::io::BufRead;
    match File::open(&path).and_then(zstd::Decoder::new) {
        Ok(reader) => {
            let mut reader = std::io::BufReader::with_capacity(1 << 16, reader);
            // Bytes, not `lines()`: serde_json checks the UTF-8 of the strings it reads, so a
            // line is validated once, and one buffer serves every line.
            let mut line = Vec::new();
            Box::new(std::iter::from_fn(move || {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) => None,
                    Ok(_) => Some(
                        serde_json::from_slice(&line)
                            .with_context(|| format!("bad record in {}", path.display())),
                    ),
                    Err(e) => Some(
                        Err(anyhow::Error::from(e))
                            .with_context(|| format!("reading {}", path.display())),
                    ),
                }
            }))
        }
        Err(e) => Box::new(std::iter::once(Err(
            anyhow::Error::from(e).context(format!("opening {}", path.display()))
        ))),
    }
}

/// Shards in a folder with the given prefix, in name order.
pub fn list_shards(dir: &Path, prefix: &str) -> Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                name.starts_with(prefix) && !name.ends_with(".tmp")
            })
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
    };
    paths.sort();
    Ok(paths)
}
