//! RAR (RAR4 and RAR5) through the UnRAR library (`unrar` crate, cargo feature `rar`; UnRAR's
//! own licence: free to use for reading RAR, not for writing a RAR compressor). The library
//! opens files only, so a RAR found inside another archive is written to a temporary file.
//! Members come out whole into memory; the library stops at the size a header declares, so
//! declared sizes are checked against the limits before anything is read.
use super::{clean_name, Flow, Walk};
use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;
use unrar::error::UnrarError;
use unrar::{Archive, CursorBeforeHeader, OpenArchive, Process};

type Cursor = OpenArchive<Process, CursorBeforeHeader>;

pub fn walk(walk: &mut Walk, bytes: &[u8], path: Option<&Path>) -> Result<()> {
    let spilled;
    let path = match path {
        Some(path) => path,
        None => {
            spilled = spill(bytes)?;
            spilled.path()
        }
    };
    let mut cursor = open(path).map_err(|e| anyhow::anyhow!("cannot open RAR: {e}"))?;
    // Entries handled so far: after a member that cannot be read the library's handle is
    // gone, so the archive is opened again and that many entries skipped.
    let mut done = 0usize;
    loop {
        let header = match cursor.read_header() {
            Ok(Some(header)) => header,
            Ok(None) => return Ok(()),
            Err(e) => {
                walk.fail_archive(format!("RAR broken; the rest is not read: {e}"));
                return Ok(());
            }
        };
        done += 1;
        let entry = header.entry();
        let name = clean_name(&entry.filename.to_string_lossy());
        if walk.enter(&name) == Flow::Stop {
            return Ok(());
        }
        let size = entry.unpacked_size;
        let skip_reason = if entry.is_directory() {
            walk.directory(&name);
            Some(false)
        } else if entry.is_encrypted() {
            walk.fail(&name, "encrypted entry (password-protected RAR): not read");
            Some(false)
        } else if size > walk.limits().max_member_bytes {
            let limit = super::Limit::MemberBytes.describe(walk.limits());
            walk.fail(&name, format!("member of {size} bytes: {limit}"));
            Some(true)
        } else {
            None
        };
        if let Some(oversize) = skip_reason {
            // Skipping in a solid archive still decompresses the member.
            if oversize && header.is_solid() && walk.charge(&name, size) == Flow::Stop {
                return Ok(());
            }
            cursor = match header.skip() {
                Ok(next) => next,
                Err(e) => reopen(path, done, e)?,
            };
            continue;
        }
        if walk.charge(&name, size) == Flow::Stop {
            return Ok(());
        }
        cursor = match header.read() {
            Ok((data, next)) => {
                if walk.extract_member(&name, &data) == Flow::Stop {
                    return Ok(());
                }
                next
            }
            Err(e) => {
                walk.fail(&name, format!("cannot read RAR member: {e}"));
                reopen(path, done, e)?
            }
        };
    }
}

fn open(path: &Path) -> Result<Cursor, UnrarError> {
    Archive::new(path).open_for_processing()
}

/// Opens the archive again past the first `done` entries, after the library gave up on one.
fn reopen(path: &Path, done: usize, cause: UnrarError) -> Result<Cursor> {
    let mut cursor = open(path).map_err(|e| anyhow::anyhow!("cannot reopen RAR: {e}"))?;
    for _ in 0..done {
        let skipped = match cursor.read_header() {
            Ok(Some(header)) => header.skip().ok(),
            _ => None,
        };
        cursor = match skipped {
            Some(next) => next,
            None => anyhow::bail!("RAR unreadable past a damaged entry ({cause})"),
        };
    }
    Ok(cursor)
}

fn spill(bytes: &[u8]) -> Result<tempfile::NamedTempFile> {
    let mut file = tempfile::Builder::new()
        .prefix("medcorpus-")
        .suffix(".rar")
        .tempfile()
        .context("cannot create a temporary file for a RAR inside an archive")?;
    file.write_all(bytes)
        .and_then(|()| file.flush())
        .context("cannot write a temporary file for a RAR inside an archive")?;
    Ok(file)
}
