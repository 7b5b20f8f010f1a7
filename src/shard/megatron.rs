//! Megatron-LM indexed datasets (`PREFIX.bin` + `PREFIX.idx`, the MMIDIDX version-1 layout of
//! megatron/core/datasets/indexed_dataset.py), so `IndexedDataset(PREFIX)` loads our output.
//!
//! `.bin`: every sequence's elements back to back, little-endian, in the index's dtype.
//! `.idx`: `MMIDIDX\0\0`, u64 version 1, u8 dtype code, u64 sequence count, u64 document-index
//! count; then int32 sequence lengths, int64 byte offsets of each sequence in `.bin`, and int64
//! document indices: 0 followed by the sequence count after each document.
//! Lengths and document ends are spilled to temporary files while writing, so memory stays flat
//! however many sentences the corpus has.
use super::writer::AtomicFile;
use anyhow::{bail, Context, Result};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 9] = b"MMIDIDX\x00\x00";

/// Element types, with Megatron's numeric codes (its `DType` enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    U8,
    U16,
    I32,
}

impl DType {
    pub fn code(self) -> u8 {
        match self {
            DType::U8 => 1,
            DType::I32 => 4,
            DType::U16 => 8,
        }
    }

    pub fn size(self) -> u64 {
        match self {
            DType::U8 => 1,
            DType::U16 => 2,
            DType::I32 => 4,
        }
    }

    /// Megatron's `DType.optimal_dtype`: uint16 below 65,500 ids, else int32.
    pub fn for_vocab(vocab_size: usize) -> DType {
        if vocab_size < 65_500 {
            DType::U16
        } else {
            DType::I32
        }
    }
}

pub struct IndexedDatasetWriter {
    prefix: PathBuf,
    dtype: DType,
    bin: AtomicFile,
    lengths: Spill,
    document_ends: Spill,
    sequences: u64,
    documents: u64,
    elements: u64,
    sequences_in_document: u64,
}

impl IndexedDatasetWriter {
    /// Writes `prefix.bin` and `prefix.idx` (both appear only when `finish` succeeds).
    pub fn create(prefix: &Path, dtype: DType) -> Result<IndexedDatasetWriter> {
        if let Some(dir) = prefix.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        Ok(IndexedDatasetWriter {
            prefix: prefix.to_path_buf(),
            dtype,
            bin: AtomicFile::create(&with_suffix(prefix, ".bin"))?,
            lengths: Spill::create(&with_suffix(prefix, ".lengths.tmp"))?,
            document_ends: Spill::create(&with_suffix(prefix, ".documents.tmp"))?,
            sequences: 0,
            documents: 0,
            elements: 0,
            sequences_in_document: 0,
        })
    }

    /// Appends one sequence (a sentence) to the current document.
    pub fn add_sequence(&mut self, ids: &[u32]) -> Result<()> {
        let mut bytes = Vec::with_capacity(ids.len() * self.dtype.size() as usize);
        for &id in ids {
            match self.dtype {
                DType::U8 => bytes.push(u8::try_from(id).context("id too large for uint8")?),
                DType::U16 => bytes.extend_from_slice(
                    &u16::try_from(id)
                        .context("id too large for uint16")?
                        .to_le_bytes(),
                ),
                DType::I32 => bytes.extend_from_slice(
                    &i32::try_from(id)
                        .context("id too large for int32")?
                        .to_le_bytes(),
                ),
            }
        }
        let length = i32::try_from(ids.len()).context("sequence longer than 2^31 tokens")?;
        self.bin.write_all(&bytes)?;
        self.lengths.write_all(&length.to_le_bytes())?;
        self.sequences += 1;
        self.elements += ids.len() as u64;
        self.sequences_in_document += 1;
        Ok(())
    }

    /// Closes the current document; a document without sequences is not recorded.
    pub fn end_document(&mut self) -> Result<()> {
        if self.sequences_in_document == 0 {
            return Ok(());
        }
        self.document_ends
            .write_all(&(self.sequences as i64).to_le_bytes())?;
        self.documents += 1;
        self.sequences_in_document = 0;
        Ok(())
    }

    pub fn sequences(&self) -> u64 {
        self.sequences
    }

    /// Writes the index; returns the `.bin` and `.idx` paths.
    pub fn finish(mut self) -> Result<[PathBuf; 2]> {
        if self.sequences_in_document != 0 {
            self.end_document()?;
        }
        let bin = self.bin.finish()?;
        let lengths_path = self.lengths.finish()?;
        let documents_path = self.document_ends.finish()?;
        let mut idx = AtomicFile::create(&with_suffix(&self.prefix, ".idx"))?;
        idx.write_all(MAGIC)?;
        idx.write_all(&1u64.to_le_bytes())?;
        idx.write_all(&[self.dtype.code()])?;
        idx.write_all(&self.sequences.to_le_bytes())?;
        idx.write_all(&(self.documents + 1).to_le_bytes())?;
        std::io::copy(&mut BufReader::new(File::open(&lengths_path)?), &mut idx)?;
        // Byte offsets: the running sum of the lengths read back from the spill file.
        let mut lengths = BufReader::new(File::open(&lengths_path)?);
        let mut pointer = 0i64;
        let mut length = [0u8; 4];
        for _ in 0..self.sequences {
            lengths.read_exact(&mut length)?;
            idx.write_all(&pointer.to_le_bytes())?;
            pointer += i32::from_le_bytes(length) as i64 * self.dtype.size() as i64;
        }
        if pointer as u64 != self.elements * self.dtype.size() {
            bail!("index of {} does not match its data", bin.display());
        }
        idx.write_all(&0i64.to_le_bytes())?;
        std::io::copy(&mut BufReader::new(File::open(&documents_path)?), &mut idx)?;
        let idx = idx.finish()?;
        std::fs::remove_file(&lengths_path)?;
        std::fs::remove_file(&documents_path)?;
        Ok([bin, idx])
    }
}

/// A temporary file of fixed-width records.
struct Spill {
    path: PathBuf,
    file: BufWriter<File>,
}

impl Spill {
    fn create(path: &Path) -> Result<Spill> {
        let file =
            File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(Spill {
            path: path.to_path_buf(),
            file: BufWriter::with_capacity(1 << 16, file),
        })
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        self.file.write_all(bytes)?;
        Ok(())
    }

    fn finish(mut self) -> Result<PathBuf> {
        self.file.flush()?;
        Ok(self.path)
    }
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_layout_matches_megatron() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("t_text_sentence");
        let mut w = IndexedDatasetWriter::create(&prefix, DType::U16).unwrap();
        w.add_sequence(&[101, 7]).unwrap();
        w.add_sequence(&[5]).unwrap();
        w.end_document().unwrap();
        w.end_document().unwrap(); // empty: ignored
        w.add_sequence(&[65_000, 1, 2]).unwrap();
        w.finish().unwrap();
        let bin = std::fs::read(with_suffix(&prefix, ".bin")).unwrap();
        assert_eq!(bin, [101, 0, 7, 0, 5, 0, 0xE8, 0xFD, 1, 0, 2, 0]);
        let idx = std::fs::read(with_suffix(&prefix, ".idx")).unwrap();
        let mut expected = b"MMIDIDX\x00\x00".to_vec();
        expected.extend(1u64.to_le_bytes());
        expected.push(8);
        expected.extend(3u64.to_le_bytes());
        expected.extend(3u64.to_le_bytes());
        for n in [2i32, 1, 3] {
            expected.extend(n.to_le_bytes());
        }
        for p in [0i64, 4, 6] {
            expected.extend(p.to_le_bytes());
        }
        for d in [0i64, 2, 3] {
            expected.extend(d.to_le_bytes());
        }
        assert_eq!(idx, expected);
        assert!(!with_suffix(&prefix, ".lengths.tmp").exists());
    }

    #[test]
    fn wide_vocabularies_use_int32() {
        assert_eq!(DType::for_vocab(21_128), DType::U16);
        assert_eq!(DType::for_vocab(65_500), DType::I32);
    }
}
