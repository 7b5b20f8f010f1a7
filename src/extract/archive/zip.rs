//! Zip: entries in central-directory order. Names are UTF-8 when the archive says so (flag bit
//! 11 or an Info-ZIP Unicode path field) and otherwise decoded from their raw bytes, which on
//! Chinese Windows are GBK. Encrypted entries are errors of their own; the rest is still read.
//! A zip without its central directory (cut short) is read from its local headers.
use super::{clean_name, decode_name, Flow, Walk};
use anyhow::{bail, Result};
use std::io::Cursor;
use zip::read::read_zipfile_from_stream;
use zip::result::ZipError;
use zip::{HasZipMetadata, ZipArchive};

pub fn walk(walk: &mut Walk, bytes: &[u8]) -> Result<()> {
    match ZipArchive::new(Cursor::new(bytes)) {
        Ok(archive) => by_central_directory(walk, archive),
        Err(cause) => by_local_headers(walk, bytes, cause),
    }
}

fn by_central_directory(walk: &mut Walk, mut archive: ZipArchive<Cursor<&[u8]>>) -> Result<()> {
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index).map(|entry| Entry::of(&entry));
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let name = archive.name_for_index(index).map(clean_name);
                let name = name.unwrap_or_else(|| format!("#{index}"));
                if walk.enter(&name) == Flow::Stop {
                    return Ok(());
                }
                walk.fail(&name, format!("cannot read zip entry: {e}"));
                continue;
            }
        };
        if walk.enter(&entry.name) == Flow::Stop {
            return Ok(());
        }
        if entry.is_dir {
            walk.directory(&entry.name);
            continue;
        }
        if entry.encrypted {
            walk.fail(
                &entry.name,
                "encrypted entry (password-protected zip): not read",
            );
            continue;
        }
        let flow = match archive.by_index(index) {
            Ok(file) if file.is_symlink() => {
                walk.reject(
                    &entry.name,
                    "archive-link-or-special",
                    Some("symlink".into()),
                );
                Flow::Continue
            }
            Ok(file) => {
                let reader = walk.meter(file, Some(entry.compressed_size));
                walk.member(&entry.name, reader, Some(entry.size))
            }
            Err(e) => {
                walk.fail(&entry.name, format!("cannot read zip entry: {e}"));
                Flow::Continue
            }
        };
        if flow == Flow::Stop {
            return Ok(());
        }
    }
    Ok(())
}

/// A zip cut short (an interrupted download) has lost its central directory, which is at the
/// end; the entries before the cut are still there, one local header after another.
fn by_local_headers(walk: &mut Walk, bytes: &[u8], cause: ZipError) -> Result<()> {
    let mut stream = bytes;
    loop {
        let file = match read_zipfile_from_stream(&mut stream) {
            Ok(Some(file)) => file,
            Ok(None) => break,
            Err(_) if walk.entries == 0 => bail!("cannot read zip: {cause}"),
            Err(e) => bail!("zip damaged ({cause}); read up to the damage: {e}"),
        };
        let entry = Entry::of(&file);
        if walk.enter(&entry.name) == Flow::Stop {
            return Ok(());
        }
        if entry.is_dir {
            walk.directory(&entry.name);
            continue;
        }
        let reader = walk.meter(file, Some(entry.compressed_size));
        if walk.member(&entry.name, reader, Some(entry.size)) == Flow::Stop {
            return Ok(());
        }
    }
    bail!("zip central directory unreadable ({cause}); entries read from their local headers")
}

/// What the walk needs from an entry's header, taken before its data is opened.
struct Entry {
    name: String,
    is_dir: bool,
    encrypted: bool,
    size: u64,
    compressed_size: u64,
}

impl Entry {
    fn of<R: std::io::Read>(file: &zip::read::ZipFile<'_, R>) -> Entry {
        let name = if file.get_metadata().is_utf8 {
            clean_name(file.name())
        } else {
            decode_name(file.name_raw())
        };
        Entry {
            name,
            is_dir: file.is_dir(),
            encrypted: file.encrypted(),
            size: file.size(),
            compressed_size: file.compressed_size(),
        }
    }
}
