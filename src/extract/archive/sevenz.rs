//! 7z: block by block (a solid block is one LZMA/LZMA2 stream holding many members, read in
//! order). A block that breaks costs only its own remaining members; the next block is read.
use super::{Flow, Walk};
use anyhow::{anyhow, bail, Context, Result};
use sevenz_rust2::{Archive, BlockDecoder, Password};
use std::io::Cursor;

/// Signature (6) + version (2) + start-header CRC (4), then the next header's offset and size.
const START_HEADER_END: usize = 32;

pub fn walk(walk: &mut Walk, bytes: &[u8]) -> Result<()> {
    check_next_header(bytes)?;
    walk.sequential = true;
    let mut source = Cursor::new(bytes);
    let password = Password::empty();
    let archive = Archive::read(&mut source, &password).map_err(|e| anyhow!(describe(e)))?;
    let mut stopped = false;
    for block_index in 0..archive.blocks.len() {
        // One thread per block: files are already read in parallel, one per core.
        let decoder = BlockDecoder::new(1, block_index, &archive, &password, &mut source);
        let members = decoder.entry_count();
        let mut seen = 0;
        let result = decoder.for_each_entries(&mut |entry, reader| {
            seen += 1;
            let name = super::clean_name(entry.name());
            let flow = if walk.enter(&name) == Flow::Stop {
                Flow::Stop
            } else if entry.is_directory() {
                walk.directory(&name);
                Flow::Continue
            } else {
                let reader = walk.meter(reader, None);
                walk.member(&name, reader, Some(entry.size()))
            };
            stopped = flow == Flow::Stop;
            Ok(!stopped)
        });
        if stopped {
            return Ok(());
        }
        if let Err(e) = result {
            let lost = members.saturating_sub(seen);
            walk.fail_archive(format!(
                "7z block {block_index} unreadable ({}); {lost} of its members not read",
                describe(e)
            ));
        }
    }
    // Entries without data (folders, empty files) belong to no block.
    for (file_index, entry) in archive.files.iter().enumerate() {
        if archive.stream_map.file_block_index[file_index].is_some() {
            continue;
        }
        let name = super::clean_name(entry.name());
        if walk.enter(&name) == Flow::Stop {
            return Ok(());
        }
        if entry.is_directory() {
            walk.directory(&name);
        } else if entry.is_anti_item() {
            walk.reject(&name, "archive-deletion-marker", None);
        } else if walk.extract_member(&name, &[]) == Flow::Stop {
            return Ok(());
        }
    }
    Ok(())
}

/// The header sizes come from the file; the reader allocates what they say, so they must fit
/// inside the file before it is trusted with them.
fn check_next_header(bytes: &[u8]) -> Result<()> {
    let field = |at: usize| -> Result<u64> {
        let raw = bytes.get(at..at + 8).context("truncated 7z start header")?;
        let mut le = [0u8; 8];
        le.copy_from_slice(raw);
        Ok(u64::from_le_bytes(le))
    };
    let (offset, size) = (field(12)?, field(20)?);
    let end = (START_HEADER_END as u64)
        .checked_add(offset)
        .and_then(|v| v.checked_add(size));
    if end.is_none_or(|end| end > bytes.len() as u64) {
        bail!(
            "truncated or damaged 7z: its header lies beyond the end of the file ({} bytes)",
            bytes.len()
        );
    }
    Ok(())
}

fn describe(e: sevenz_rust2::Error) -> String {
    match e {
        sevenz_rust2::Error::PasswordRequired | sevenz_rust2::Error::MaybeBadPassword(_) => {
            "encrypted 7z (password required): not read".to_string()
        }
        other => format!("7z: {other}"),
    }
}
