//! MinHash signatures on disk, one file per input partition: fixed-size little-endian records,
//! each a header naming the unit (its document's position in input order, its place in the
//! document, its length) and the signature, so LSH reads a file in one sequential pass and
//! verification reads any record by its number. Memory never holds more than a write buffer.
use super::exact::Position;
use crate::shard::writer::AtomicFile;
use anyhow::{bail, Context, Result};
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Bytes before the signature: position (2 × u32), place in the document, characters.
const HEADER_BYTES: usize = 16;

/// Where a signed unit sits, in the order every task agrees on: its document's position, then
/// its place among the document's signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnitOrder {
    pub at: Position,
    pub place: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct Header {
    pub order: UnitOrder,
    /// Characters of the unit (the short-unit rule of verification needs them).
    pub chars: u32,
}

pub struct SignatureWriter {
    out: AtomicFile,
    num_perm: usize,
    written: u64,
    buf: Vec<u8>,
}

impl SignatureWriter {
    pub fn create(path: &Path, num_perm: usize) -> Result<Self> {
        Ok(SignatureWriter {
            out: AtomicFile::create(path)?,
            num_perm,
            written: 0,
            buf: Vec::with_capacity(HEADER_BYTES + num_perm * 4),
        })
    }

    /// Appends one signature; returns its record number in this file.
    pub fn push(&mut self, header: Header, signature: &[u32]) -> Result<u32> {
        if signature.len() != self.num_perm {
            bail!(
                "signature of {} values, expected {}",
                signature.len(),
                self.num_perm
            );
        }
        let number = u32::try_from(self.written)
            .context("more than 4 billion units in one partition: raise near_dedup.unit_chars")?;
        self.buf.clear();
        for word in [
            header.order.at.0,
            header.order.at.1,
            header.order.place,
            header.chars,
        ]
        .iter()
        .chain(signature)
        {
            self.buf.extend_from_slice(&word.to_le_bytes());
        }
        self.out.write_all(&self.buf)?;
        self.written += 1;
        Ok(number)
    }

    pub fn finish(self) -> Result<()> {
        self.out.finish()?;
        Ok(())
    }
}

pub struct SignatureFile {
    file: File,
    path: std::path::PathBuf,
    num_perm: usize,
    len: u64,
}

impl SignatureFile {
    pub fn open(path: &Path, num_perm: usize) -> Result<Self> {
        let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        let bytes = file.metadata()?.len();
        let record = record_bytes(num_perm) as u64;
        if bytes % record != 0 {
            bail!("{}: truncated signature file", path.display());
        }
        Ok(SignatureFile {
            file,
            path: path.to_path_buf(),
            num_perm,
            len: bytes / record,
        })
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reads record `number`'s signature into `out`.
    pub fn read(&self, number: u32, out: &mut Vec<u32>) -> Result<Header> {
        let record = record_bytes(self.num_perm);
        let mut bytes = vec![0u8; record];
        self.file
            .read_exact_at(&mut bytes, number as u64 * record as u64)
            .with_context(|| format!("reading {}", self.path.display()))?;
        Ok(decode(&bytes, out))
    }

    /// Every record in order, read sequentially.
    pub fn for_each(&self, mut f: impl FnMut(u32, Header, &[u32]) -> Result<()>) -> Result<()> {
        let mut bytes = vec![0u8; record_bytes(self.num_perm)];
        let mut signature = Vec::with_capacity(self.num_perm);
        let mut reader = BufReader::with_capacity(1 << 20, File::open(&self.path)?);
        for number in 0..self.len {
            reader
                .read_exact(&mut bytes)
                .with_context(|| format!("truncated {}", self.path.display()))?;
            let header = decode(&bytes, &mut signature);
            f(number as u32, header, &signature)?;
        }
        Ok(())
    }
}

fn record_bytes(num_perm: usize) -> usize {
    HEADER_BYTES + num_perm * 4
}

fn decode(bytes: &[u8], out: &mut Vec<u32>) -> Header {
    let mut words = bytes
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let mut next = || words.next().unwrap_or_default();
    let header = Header {
        order: UnitOrder {
            at: (next(), next()),
            place: next(),
        },
        chars: next(),
    };
    out.clear();
    out.extend(words);
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_in_order_and_by_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p000.sig");
        let mut writer = SignatureWriter::create(&path, 3).unwrap();
        for i in 0..4u32 {
            let header = Header {
                order: UnitOrder {
                    at: (i, 1),
                    place: i * 2,
                },
                chars: 100 + i,
            };
            assert_eq!(writer.push(header, &[i, i + 1, i + 2]).unwrap(), i);
        }
        assert!(writer
            .push(
                Header {
                    order: UnitOrder {
                        at: (0, 0),
                        place: 0
                    },
                    chars: 0
                },
                &[1]
            )
            .is_err());
        writer.finish().unwrap();
        let file = SignatureFile::open(&path, 3).unwrap();
        assert_eq!(file.len(), 4);
        let mut out = Vec::new();
        let header = file.read(2, &mut out).unwrap();
        assert_eq!(
            (header.order.at, header.order.place, header.chars),
            ((2, 1), 4, 102)
        );
        assert_eq!(out, vec![2, 3, 4]);
        let mut seen = Vec::new();
        file.for_each(|n, h, s| {
            seen.push((n, h.chars, s.to_vec()));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen.len(), 4);
        assert_eq!(seen[3], (3, 103, vec![3, 4, 5]));
    }
}
