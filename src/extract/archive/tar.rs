//! Tar, plain or inside gzip/zstd/bzip2: one pass over the stream, members in order. The
//! caller meters the stream, so skipped data counts against the limits as well.
use super::{decode_name, Flow, Walk};
use std::io::Read;
use tar::EntryType;

pub fn walk<R: Read>(walk: &mut Walk, stream: R) {
    walk.sequential = true;
    let mut archive = tar::Archive::new(stream);
    let entries = match archive.entries() {
        Ok(entries) => entries,
        Err(e) => return walk.fail_archive(format!("cannot read tar: {e}")),
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                if let Some(hit) = walk.meter.take_hit() {
                    walk.stop_archive(hit.limit);
                } else if !walk.budget.exhausted() {
                    walk.fail_archive(format!("tar broken; the rest is not read: {e}"));
                }
                return;
            }
        };
        let kind = entry.header().entry_type();
        let name = decode_name(&entry.path_bytes());
        if kind == EntryType::XGlobalHeader {
            // pax metadata for the entries that follow, not an entry itself
            if walk.read_through(&name, entry) == Flow::Stop {
                return;
            }
            continue;
        }
        if walk.enter(&name) == Flow::Stop {
            return;
        }
        let flow = match kind {
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                let size = entry.size();
                walk.member(&name, entry, Some(size))
            }
            EntryType::Directory => {
                walk.directory(&name);
                walk.read_through(&name, entry)
            }
            other => {
                let detail = match entry.link_name_bytes() {
                    Some(target) => format!("{other:?} to {}", decode_name(&target)),
                    None => format!("{other:?}"),
                };
                walk.reject(&name, "archive-link-or-special", Some(detail));
                walk.read_through(&name, entry)
            }
        };
        if flow == Flow::Stop {
            return;
        }
    }
}
