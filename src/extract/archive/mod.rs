//! Archives: zip, 7z, RAR, tar and single-stream gzip/zstd/bzip2 (tar inside them included).
//! Each member is read into memory, within limits, and handed back to `extract_with`, so
//! nested archives and every document format inside archives need nothing special; members
//! are named `outer.zip!/inner.7z!/dir/file.txt`. Nothing is unpacked to disk (RAR members
//! excepted: the UnRAR library reads only files). Every entry ends up somewhere: folders and
//! links as rejects, unreadable or over-limit members as failures.
mod compressed;
pub mod limits;
#[cfg(feature = "rar")]
mod rar;
mod sevenz;
mod tar;
mod zip;

use super::sniff::Format;
use super::{extract_with, ExtractConfig};
use crate::document::{Document, Failure, Outcome, Reject};
use anyhow::{anyhow, bail, Result};
use limits::{ArchiveMeter, Budget, Hit, Limit, Metered};
use std::io::{self, Read};
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::rc::Rc;

/// Where one file or member sits: the budget of its outermost archive, how many archives
/// enclose it, and its path on disk when it is an input file (RAR needs one).
pub struct Scope<'a> {
    pub budget: &'a Budget<'a>,
    pub depth: u32,
    pub path: Option<&'a Path>,
}

impl<'a> Scope<'a> {
    pub fn top(budget: &'a Budget<'a>, path: Option<&'a Path>) -> Self {
        Scope {
            budget,
            depth: 0,
            path,
        }
    }
}

pub fn is_archive(format: Format) -> bool {
    matches!(
        format,
        Format::Zip
            | Format::SevenZ
            | Format::Rar
            | Format::Tar
            | Format::Gzip
            | Format::Zstd
            | Format::Bzip2
    )
}

/// Reads every entry of an archive. An archive nested too deep is an error; one that cannot be
/// opened, or breaks part-way, keeps what was read and adds an error saying where it broke.
pub fn extract(
    format: Format,
    source: &str,
    bytes: &[u8],
    config: &ExtractConfig,
    scope: &Scope,
) -> Result<Vec<Outcome>> {
    let limits = scope.budget.limits;
    if scope.depth >= limits.max_depth {
        bail!(
            "archive nested {} levels deep: {}; not opened",
            scope.depth + 1,
            Limit::Depth.describe(limits)
        );
    }
    let mut walk = Walk::new(source, bytes.len() as u64, config, scope);
    // Archive readers parse hostile bytes: a panic costs this archive's remaining entries,
    // never the run, and the entries read before it are kept.
    let read = panic::catch_unwind(AssertUnwindSafe(|| match format {
        Format::Zip => zip::walk(&mut walk, bytes),
        Format::SevenZ => sevenz::walk(&mut walk, bytes),
        Format::Tar => {
            let stream = walk.meter(bytes, None);
            tar::walk(&mut walk, stream);
            Ok(())
        }
        Format::Gzip | Format::Zstd | Format::Bzip2 => compressed::walk(&mut walk, format, bytes),
        Format::Rar => rar_walk(&mut walk, bytes, scope.path),
        other => Err(anyhow!("{} is not an archive", other.name())),
    }));
    match read {
        Ok(Ok(())) => {}
        Ok(Err(e)) => walk.fail_archive(format!("{e:#}")),
        Err(panic) => walk.fail_archive(format!(
            "the {} reader panicked: {}",
            format.name(),
            crate::cli::panic_message(&*panic)
        )),
    }
    Ok(walk.finish())
}

#[cfg(feature = "rar")]
fn rar_walk(walk: &mut Walk, bytes: &[u8], path: Option<&Path>) -> Result<()> {
    rar::walk(walk, bytes, path)
}

#[cfg(not(feature = "rar"))]
fn rar_walk(_: &mut Walk, _: &[u8], _: Option<&Path>) -> Result<()> {
    bail!("RAR support was not built in (cargo feature `rar`)")
}

/// Whether a walk goes on after an entry.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

/// One archive being read: its entries' outcomes, its meter, and what its members share.
pub struct Walk<'a> {
    source: &'a str,
    config: &'a ExtractConfig,
    budget: &'a Budget<'a>,
    depth: u32,
    meter: Rc<ArchiveMeter>,
    /// Members come one after another from one stream (tar, 7z blocks): a member cut short
    /// must still be read through for the next one to start in the right place.
    sequential: bool,
    outcomes: Vec<Outcome>,
    entries: u64,
}

impl<'a> Walk<'a> {
    fn new(source: &'a str, compressed: u64, config: &'a ExtractConfig, scope: &Scope<'a>) -> Self {
        Walk {
            source,
            config,
            budget: scope.budget,
            depth: scope.depth,
            meter: ArchiveMeter::new(compressed),
            sequential: false,
            outcomes: Vec::new(),
            entries: 0,
        }
    }

    fn limits(&self) -> &'a limits::ArchiveLimits {
        self.budget.limits
    }

    /// A decompressed stream or member reader, counted against this archive's limits.
    fn meter<R: Read>(&self, inner: R, member_compressed: Option<u64>) -> Metered<'a, R> {
        Metered::new(inner, self.budget, self.meter.clone(), member_compressed)
    }

    fn member_source(&self, name: &str) -> String {
        format!("{}!/{}", self.source, name)
    }

    /// Counts one entry; past the entry limit the walk stops with an error.
    fn enter(&mut self, name: &str) -> Flow {
        if self.budget.exhausted() {
            return Flow::Stop;
        }
        self.entries += 1;
        match self.budget.count_entry() {
            Ok(()) => Flow::Continue,
            Err(limit) => self.stop_at(name, limit),
        }
    }

    fn reject(&mut self, name: &str, reason: &str, detail: Option<String>) {
        let doc = Document::new(&self.member_source(name), None, String::new());
        self.outcomes
            .push(Outcome::Rejected(Reject::of(&doc, reason, detail)));
    }

    fn directory(&mut self, name: &str) {
        self.reject(name, "archive-directory", None);
    }

    fn fail(&mut self, name: &str, error: impl std::fmt::Display) {
        let source = self.member_source(name);
        self.outcomes
            .push(Outcome::Failed(Failure::new(&source, "extract", error)));
    }

    /// An error about the archive itself rather than one member (it broke part-way).
    fn fail_archive(&mut self, error: impl std::fmt::Display) {
        let error = match self.entries {
            0 => error.to_string(),
            n => format!("{error} (after {n} entries)"),
        };
        self.outcomes
            .push(Outcome::Failed(Failure::new(self.source, "extract", error)));
    }

    fn stop_at(&mut self, name: &str, limit: Limit) -> Flow {
        let error = format!(
            "{}: this and the remaining entries were not read",
            limit.describe(self.limits())
        );
        self.fail(name, error);
        Flow::Stop
    }

    /// Counts output the library produces out of sight (RAR), by the sizes headers declare.
    #[cfg(feature = "rar")]
    fn charge(&mut self, name: &str, bytes: u64) -> Flow {
        match limits::charge(self.budget, &self.meter, bytes) {
            Ok(()) => Flow::Continue,
            Err(limit) => self.stop_at(name, limit),
        }
    }

    /// A shared limit hit between entries: the archive ends here.
    fn stop_archive(&mut self, limit: Limit) {
        let error = format!(
            "{}: the remaining entries were not read",
            limit.describe(self.limits())
        );
        self.fail_archive(error);
    }

    /// Reacts to a limit hit while reading `name`: a member's own ratio costs the member,
    /// anything else ends the walk.
    fn limit_hit(&mut self, name: &str, hit: Hit) -> Flow {
        if hit.member_only {
            let error = format!("{}: member not read", hit.limit.describe(self.limits()));
            self.fail(name, error);
            Flow::Continue
        } else {
            self.stop_at(name, hit.limit)
        }
    }

    /// Reads one member (`declared` = the size its header states) and extracts it.
    fn member<R: Read>(&mut self, name: &str, mut reader: R, declared: Option<u64>) -> Flow {
        if self.budget.exhausted() {
            return Flow::Stop;
        }
        let max = self.limits().max_member_bytes;
        if let Some(size) = declared.filter(|&size| size > max) {
            let limit = Limit::MemberBytes.describe(self.limits());
            self.fail(name, format!("member of {size} bytes: {limit}"));
            return self.read_through(name, reader);
        }
        // Headers may lie: preallocate modestly and let the data decide.
        let capacity = declared.unwrap_or(0).min(64 << 20) as usize;
        let mut bytes = Vec::with_capacity(capacity);
        if let Err(e) = (&mut reader).take(max + 1).read_to_end(&mut bytes) {
            return match self.meter.take_hit() {
                Some(hit) => self.limit_hit(name, hit),
                None => {
                    self.fail(name, format!("cannot read member: {e}"));
                    Flow::Continue
                }
            };
        }
        if bytes.len() as u64 > max {
            let limit = Limit::MemberBytes.describe(self.limits());
            self.fail(name, format!("member: {limit}"));
            return self.read_through(name, reader);
        }
        drop(reader);
        self.extract_member(name, &bytes)
    }

    /// Extracts a member already in memory (RAR hands over whole members).
    fn extract_member(&mut self, name: &str, bytes: &[u8]) -> Flow {
        let source = self.member_source(name);
        let scope = Scope {
            budget: self.budget,
            depth: self.depth + 1,
            path: None,
        };
        let extraction = extract_with(&source, bytes, self.config, &scope);
        self.outcomes.extend(extraction.outcomes);
        if self.budget.exhausted() {
            Flow::Stop
        } else {
            Flow::Continue
        }
    }

    /// Skips the rest of an entry's data; in a stream it still has to be decompressed, and that
    /// work counts against the limits too.
    fn read_through<R: Read>(&mut self, name: &str, mut reader: R) -> Flow {
        if !self.sequential {
            return Flow::Continue;
        }
        match io::copy(&mut reader, &mut io::sink()) {
            Ok(_) => Flow::Continue,
            Err(e) => match self.meter.take_hit() {
                Some(hit) => {
                    let hit = Hit {
                        member_only: false,
                        ..hit
                    };
                    self.limit_hit(name, hit)
                }
                None => {
                    self.fail(name, format!("cannot read member: {e}"));
                    Flow::Continue
                }
            },
        }
    }

    /// The outcomes; an archive without a single entry is itself accounted as a reject.
    fn finish(mut self) -> Vec<Outcome> {
        if self.outcomes.is_empty() {
            let doc = Document::new(self.source, None, String::new());
            self.outcomes
                .push(Outcome::Rejected(Reject::of(&doc, "empty-archive", None)));
        }
        self.outcomes
    }
}

/// An entry name as a `/`-separated relative path. Names not flagged as UTF-8 are decoded as
/// UTF-8 when they are valid UTF-8 (macOS and Linux tools write UTF-8 without the flag; GBK
/// Chinese names are almost never valid UTF-8) and as GB18030 otherwise (Chinese Windows).
pub fn decode_name(raw: &[u8]) -> String {
    let name = match std::str::from_utf8(raw) {
        Ok(name) => name.to_string(),
        Err(_) => encoding_rs::GB18030
            .decode_without_bom_handling(raw)
            .0
            .into_owned(),
    };
    clean_name(&name)
}

/// Backslashes (Windows archivers) become slashes; leading `/` and `./` and trailing `/` go.
pub fn clean_name(name: &str) -> String {
    let name = name.replace('\\', "/");
    let mut name = name.as_str();
    loop {
        if let Some(rest) = name.strip_prefix("./") {
            name = rest;
        } else if let Some(rest) = name.strip_prefix('/') {
            name = rest;
        } else {
            break;
        }
    }
    name.trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_decode_as_utf8_or_gb18030() {
        let gbk = encoding_rs::GBK.encode("数据/实验数据.txt").0;
        assert_eq!(decode_name(&gbk), "数据/实验数据.txt");
        assert_eq!(
            decode_name("论文/逆运动学.docx".as_bytes()),
            "论文/逆运动学.docx"
        );
        assert_eq!(decode_name(b"./a\\b.txt"), "a/b.txt");
        assert_eq!(decode_name(b"dir/"), "dir");
    }
}
