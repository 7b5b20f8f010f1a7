//! Single-stream compression: gzip, zstd, bzip2. The stream is a tar (recognised by its
//! decompressed header, whatever the file is called) or one member, named after the file
//! without its suffix: `notes.txt.gz!/notes.txt`.
use super::super::sniff::{self, Format};
use super::{Flow, Walk};
use anyhow::{Context, Result};
use std::io::{Cursor, Read};

pub fn walk(walk: &mut Walk, format: Format, bytes: &[u8]) -> Result<()> {
    let decoder: Box<dyn Read + '_> = match format {
        Format::Gzip => Box::new(flate2::read::MultiGzDecoder::new(bytes)),
        Format::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(bytes)),
        _ => Box::new(zstd::stream::read::Decoder::with_buffer(bytes)?),
    };
    let mut stream = walk.meter(decoder, None);
    let mut head = Vec::with_capacity(sniff::TAR_HEADER_LEN);
    (&mut stream)
        .take(sniff::TAR_HEADER_LEN as u64)
        .read_to_end(&mut head)
        .with_context(|| format!("cannot decompress {}", format.name()))?;
    let stream = Cursor::new(head).chain(stream);
    let is_tar = sniff::is_tar(stream.get_ref().0.get_ref());
    if is_tar {
        super::tar::walk(walk, stream);
        return Ok(());
    }
    let name = member_name(walk.source);
    if walk.enter(&name) == Flow::Continue {
        walk.member(&name, stream, None);
    }
    Ok(())
}

/// The archive's file name without its compression suffix; `.tgz` and the like name a tar.
fn member_name(source: &str) -> String {
    let base = source.rsplit(['/', '!']).next().unwrap_or(source);
    let lower = base.to_ascii_lowercase();
    let suffixes = [
        (".tgz", ".tar"),
        (".tbz2", ".tar"),
        (".tbz", ".tar"),
        (".tzst", ".tar"),
        (".gz", ""),
        (".gzip", ""),
        (".zst", ""),
        (".zstd", ""),
        (".bz2", ""),
        (".bz", ""),
    ];
    for (suffix, replacement) in suffixes {
        if lower.ends_with(suffix) && lower.len() > suffix.len() {
            return format!("{}{replacement}", &base[..base.len() - suffix.len()]);
        }
    }
    base.to_string()
}

#[cfg(test)]
mod tests {
    use super::member_name;

    #[test]
    fn member_is_named_after_the_file_without_its_suffix() {
        assert_eq!(member_name("dir/病历.txt.gz"), "病历.txt");
        assert_eq!(member_name("a.zip!/b.TGZ"), "b.tar");
        assert_eq!(member_name("notes.zst"), "notes");
        assert_eq!(member_name("blob"), "blob");
    }
}
