//! MinHash signatures on disk: fixed-size little-endian records in shards of a fixed number of
//! units, so the clustering reads them in one sequential pass and verification reads any one by
//! position, and memory never holds more than one shard's write buffer.
use anyhow::{bail, Context, Result};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Units per shard: 65,536 × 128 permutations × 4 bytes = 32 MiB shards.
const SHARD_UNITS: u64 = 1 << 16;

pub struct SignatureWriter {
    dir: PathBuf,
    num_perm: usize,
    written: u64,
    current: Option<BufWriter<File>>,
    buf: Vec<u8>,
}

impl SignatureWriter {
    pub fn new(dir: &Path, num_perm: usize) -> Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(SignatureWriter {
            dir: dir.to_path_buf(),
            num_perm,
            written: 0,
            current: None,
            buf: Vec::with_capacity(num_perm * 4),
        })
    }

    /// Appends one signature; returns its unit number.
    pub fn push(&mut self, signature: &[u32]) -> Result<u32> {
        if signature.len() != self.num_perm {
            bail!(
                "signature of {} values, expected {}",
                signature.len(),
                self.num_perm
            );
        }
        let gid = u32::try_from(self.written)
            .context("more than 4 billion units: raise near_dedup.unit_chars")?;
        if self.written.is_multiple_of(SHARD_UNITS) {
            self.close()?;
            let path = shard_path(&self.dir, self.written / SHARD_UNITS);
            let file =
                File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
            self.current = Some(BufWriter::with_capacity(1 << 20, file));
        }
        self.buf.clear();
        for v in signature {
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
        if let Some(out) = self.current.as_mut() {
            out.write_all(&self.buf)?;
        }
        self.written += 1;
        Ok(gid)
    }

    fn close(&mut self) -> Result<()> {
        if let Some(out) = self.current.take() {
            out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<SignatureStore> {
        self.close()?;
        SignatureStore::open(&self.dir, self.num_perm, self.written)
    }
}

fn shard_path(dir: &Path, index: u64) -> PathBuf {
    dir.join(format!("signatures-{index:05}.bin"))
}

pub struct SignatureStore {
    shards: Vec<File>,
    paths: Vec<PathBuf>,
    num_perm: usize,
    len: u64,
}

impl SignatureStore {
    pub fn open(dir: &Path, num_perm: usize, len: u64) -> Result<Self> {
        let paths: Vec<PathBuf> = (0..len.div_ceil(SHARD_UNITS))
            .map(|i| shard_path(dir, i))
            .collect();
        let shards = paths
            .iter()
            .map(|p| File::open(p).with_context(|| format!("cannot read {}", p.display())))
            .collect::<Result<_>>()?;
        Ok(SignatureStore {
            shards,
            paths,
            num_perm,
            len,
        })
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn num_perm(&self) -> usize {
        self.num_perm
    }

    /// Reads signature `gid` into `out`.
    pub fn read(&self, gid: u32, out: &mut Vec<u32>) -> Result<()> {
        let gid = gid as u64;
        let shard = self
            .shards
            .get((gid / SHARD_UNITS) as usize)
            .context("signature number out of range")?;
        let record_bytes = self.num_perm * 4;
        let mut bytes = vec![0u8; record_bytes];
        shard.read_exact_at(&mut bytes, (gid % SHARD_UNITS) * record_bytes as u64)?;
        decode(&bytes, out);
        Ok(())
    }

    /// Every signature in unit order, read sequentially.
    pub fn for_each(&self, mut f: impl FnMut(u32, &[u32]) -> Result<()>) -> Result<()> {
        let mut bytes = vec![0u8; self.num_perm * 4];
        let mut signature = Vec::with_capacity(self.num_perm);
        let mut gid = 0u64;
        for path in &self.paths {
            let mut reader = BufReader::with_capacity(1 << 20, File::open(path)?);
            let end = (gid + SHARD_UNITS).min(self.len);
            while gid < end {
                reader
                    .read_exact(&mut bytes)
                    .with_context(|| format!("truncated {}", path.display()))?;
                decode(&bytes, &mut signature);
                f(gid as u32, &signature)?;
                gid += 1;
            }
        }
        Ok(())
    }
}

fn decode(bytes: &[u8], out: &mut Vec<u32>) {
    out.clear();
    out.extend(
        bytes
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
    );
}
