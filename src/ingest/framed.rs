//! The saved chunks' record format: each record is a little-endian u32 length and that many
//! bytes of MessagePack (fields by name). Strings are stored as they are, so saving costs no
//! escaping and reading one check of UTF-8, where JSON lines cost both twice over (callgrind
//! on the `benches/text_path.sh` spine).
use anyhow::{bail, Context, Result};
use serde::{de::DeserializeOwned, Serialize};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// Appends one record to `out`; `buffer` is reused between records.
pub fn write<T: Serialize>(out: &mut impl Write, value: &T, buffer: &mut Vec<u8>) -> Result<()> {
    buffer.clear();
    rmp_serde::encode::write_named(buffer, value)?;
    let Ok(length) = u32::try_from(buffer.len()) else {
        bail!("a record of {} bytes is too large to save", buffer.len());
    };
    out.write_all(&length.to_le_bytes())?;
    out.write_all(buffer)?;
    Ok(())
}

/// The records of one file, read lazily.
pub fn read<T: DeserializeOwned + 'static>(path: &Path) -> Box<dyn Iterator<Item = Result<T>>> {
    match std::fs::File::open(path) {
        Ok(file) => records(BufReader::with_capacity(1 << 16, file), path),
        Err(e) => Box::new(std::iter::once(Err(
            anyhow::Error::from(e).context(format!("cannot read {}", path.display()))
        ))),
    }
}

/// The records of one zstd-compressed file, read lazily.
pub fn read_zst<T: DeserializeOwned + 'static>(path: &Path) -> Box<dyn Iterator<Item = Result<T>>> {
    match std::fs::File::open(path).and_then(zstd::Decoder::new) {
        Ok(decoder) => records(decoder, path),
        Err(e) => Box::new(std::iter::once(Err(
            anyhow::Error::from(e).context(format!("cannot read {}", path.display()))
        ))),
    }
}

fn records<T: DeserializeOwned + 'static>(
    input: impl Read + 'static,
    path: &Path,
) -> Box<dyn Iterator<Item = Result<T>>> {
    Box::new(Records {
        input,
        path: path.to_path_buf(),
        buffer: Vec::new(),
        failed: false,
        _type: std::marker::PhantomData,
    })
}

struct Records<T, R> {
    input: R,
    path: PathBuf,
    buffer: Vec<u8>,
    failed: bool,
    _type: std::marker::PhantomData<T>,
}

impl<T: DeserializeOwned, R: Read> Records<T, R> {
    fn next_record(&mut self) -> Result<Option<T>> {
        let mut length = [0u8; 4];
        match self.input.read_exact(&mut length) {
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            other => other?,
        }
        self.buffer.resize(u32::from_le_bytes(length) as usize, 0);
        self.input.read_exact(&mut self.buffer)?;
        Ok(Some(rmp_serde::from_slice(&self.buffer)?))
    }
}

impl<T: DeserializeOwned, R: Read> Iterator for Records<T, R> {
    type Item = Result<T>;
    fn next(&mut self) -> Option<Result<T>> {
        if self.failed {
            return None;
        }
        let record = self.next_record().transpose()?;
        if record.is_err() {
            // A truncated or corrupt file: report it once, not once per remaining byte.
            self.failed = true;
        }
        Some(record.with_context(|| format!("corrupt record in {}", self.path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Document, Outcome, Reject};

    #[test]
    fn outcomes_survive_the_round_trip() {
        let mut doc = Document::new("a.csv", Some(3), "糖尿病\n\"引号\"\\".to_string());
        doc.set_meta("replacements", 2);
        doc.set_meta("ratio", 0.25);
        doc.set_meta("of", vec!["x", "y"]);
        let reject = Reject::of(&doc, "too-short", None);
        let outcomes = vec![Outcome::Kept(doc), Outcome::Rejected(reject)];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records");
        let mut file = std::fs::File::create(&path).unwrap();
        let mut buffer = Vec::new();
        for outcome in &outcomes {
            write(&mut file, outcome, &mut buffer).unwrap();
        }
        drop(file);
        let back: Vec<Outcome> = read(&path).map(|r| r.unwrap()).collect();
        assert_eq!(
            serde_json::to_string(&back).unwrap(),
            serde_json::to_string(&outcomes).unwrap()
        );
    }

    #[test]
    fn texts_saved_as_strings_still_read() {
        let doc = Document::new("a.txt", None, "糖尿病".to_string());
        let as_strings = serde_json::to_value(Outcome::Kept(doc.clone())).unwrap();
        let bytes = rmp_serde::to_vec_named(&as_strings).unwrap();
        match rmp_serde::from_slice(&bytes).unwrap() {
            Outcome::Kept(back) => assert_eq!(back, doc),
            _ => panic!("not a kept document"),
        }
    }

    #[test]
    fn a_truncated_file_is_one_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records");
        std::fs::write(&path, [200, 0, 0, 0, 1, 2]).unwrap();
        let read: Vec<Result<Outcome>> = read(&path).collect();
        assert_eq!(read.len(), 1);
        assert!(read[0].is_err());
    }
}
