//! Archive limits: the `[extract.archive]` keys, the budget an outermost archive and everything
//! nested in it share, and a reader that meters decompressed bytes against both. Zip bombs
//! (one member of zeros, 42.zip-style fan-out, 30-level nesting) stop at a limit after bounded
//! work instead of exhausting memory or time.
use crate::config::check_range;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArchiveLimits {
    /// Archives nested deeper than this are errors; an archive file in the input folder is level 1.
    pub max_depth: u32,
    /// Uncompressed bytes read from an outermost archive and everything nested in it.
    pub max_total_bytes: u64,
    /// Uncompressed bytes per compressed byte: per member (zip), per archive, and for all levels
    /// of an outermost archive together; checked past 1 MiB (small files may compress very well).
    pub max_ratio: u64,
    /// Entries (files, folders, links) in an outermost archive and everything nested in it.
    pub max_entries: u64,
    /// Largest member read (members are held in memory while they are extracted).
    pub max_member_bytes: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_depth: 8,
            max_total_bytes: 16 << 30,
            max_ratio: 200,
            max_entries: 100_000,
            max_member_bytes: 1 << 30,
        }
    }
}

impl ArchiveLimits {
    pub fn validate(&self) -> Result<()> {
        check_range("extract.archive.max_depth", self.max_depth, 1, 1000)?;
        check_range(
            "extract.archive.max_total_bytes",
            self.max_total_bytes,
            1,
            u64::MAX,
        )?;
        check_range("extract.archive.max_ratio", self.max_ratio, 1, u64::MAX)?;
        check_range("extract.archive.max_entries", self.max_entries, 1, u64::MAX)?;
        check_range(
            "extract.archive.max_member_bytes",
            self.max_member_bytes,
            1,
            usize::MAX as u64,
        )
    }
}

/// Output allowed before the ratio is checked.
const RATIO_GRACE_BYTES: u64 = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Depth,
    TotalBytes,
    Ratio,
    Entries,
    MemberBytes,
}

impl Limit {
    /// "limit extract.archive.max_ratio (200) exceeded", naming the key to raise.
    pub fn describe(self, limits: &ArchiveLimits) -> String {
        let (key, value) = match self {
            Limit::Depth => ("max_depth", limits.max_depth as u64),
            Limit::TotalBytes => ("max_total_bytes", limits.max_total_bytes),
            Limit::Ratio => ("max_ratio", limits.max_ratio),
            Limit::Entries => ("max_entries", limits.max_entries),
            Limit::MemberBytes => ("max_member_bytes", limits.max_member_bytes),
        };
        format!("limit extract.archive.{key} ({value}) exceeded")
    }
}

/// A limit hit while reading: a member's own ratio costs only that member; anything else ends
/// the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub limit: Limit,
    pub member_only: bool,
}

/// Shared by an outermost archive and everything nested in it, so nesting cannot multiply the
/// allowance. Per input file, on one thread: plain cells suffice.
pub struct Budget<'a> {
    pub limits: &'a ArchiveLimits,
    /// Size of the outermost file: nested archives multiply, so everything decompressed from
    /// it, at every level, is held to the ratio against this as well.
    outer_compressed: u64,
    bytes: Cell<u64>,
    entries: Cell<u64>,
    exhausted: Cell<bool>,
}

impl<'a> Budget<'a> {
    pub fn new(limits: &'a ArchiveLimits, outer_compressed: u64) -> Self {
        Budget {
            limits,
            outer_compressed,
            bytes: Cell::new(0),
            entries: Cell::new(0),
            exhausted: Cell::new(false),
        }
    }

    /// True once a shared limit was hit: every enclosing archive stops too, silently, since the
    /// archive that hit it already wrote the error.
    pub fn exhausted(&self) -> bool {
        self.exhausted.get()
    }

    pub fn count_entry(&self) -> Result<(), Limit> {
        let entries = self.entries.get() + 1;
        self.entries.set(entries);
        if entries > self.limits.max_entries {
            self.exhausted.set(true);
            return Err(Limit::Entries);
        }
        Ok(())
    }

    fn charge(&self, bytes: u64) -> Result<(), Limit> {
        let total = self.bytes.get().saturating_add(bytes);
        self.bytes.set(total);
        if total > self.limits.max_total_bytes {
            self.exhausted.set(true);
            return Err(Limit::TotalBytes);
        }
        if self.over_ratio(total, self.outer_compressed) {
            self.exhausted.set(true);
            return Err(Limit::Ratio);
        }
        Ok(())
    }

    fn over_ratio(&self, produced: u64, compressed: u64) -> bool {
        produced > compressed.saturating_mul(self.limits.max_ratio) + RATIO_GRACE_BYTES
    }
}

/// Decompressed bytes one archive has given so far, against its own compressed size.
pub struct ArchiveMeter {
    compressed: u64,
    produced: Cell<u64>,
    hit: Cell<Option<Hit>>,
}

impl ArchiveMeter {
    pub fn new(compressed: u64) -> Rc<Self> {
        Rc::new(ArchiveMeter {
            compressed,
            produced: Cell::new(0),
            hit: Cell::new(None),
        })
    }

    /// The limit that made the last read fail, if any (cleared by reading it).
    pub fn take_hit(&self) -> Option<Hit> {
        self.hit.take()
    }
}

/// Counts `bytes` of an archive's output against the budget and the archive's ratio.
pub fn charge(budget: &Budget, archive: &ArchiveMeter, bytes: u64) -> Result<(), Limit> {
    budget.charge(bytes)?;
    let produced = archive.produced.get().saturating_add(bytes);
    archive.produced.set(produced);
    if budget.over_ratio(produced, archive.compressed) {
        return Err(Limit::Ratio);
    }
    Ok(())
}

/// Counts every byte a decompressor gives against the budget, the archive's ratio and, when
/// the format tells a member's compressed size, the member's ratio. A read past a limit fails;
/// the limit is left in the archive meter for the walk to report.
pub struct Metered<'b, R> {
    inner: R,
    budget: &'b Budget<'b>,
    archive: Rc<ArchiveMeter>,
    member_compressed: Option<u64>,
    member_produced: u64,
}

impl<'b, R: Read> Metered<'b, R> {
    pub fn new(
        inner: R,
        budget: &'b Budget<'b>,
        archive: Rc<ArchiveMeter>,
        member_compressed: Option<u64>,
    ) -> Self {
        Metered {
            inner,
            budget,
            archive,
            member_compressed,
            member_produced: 0,
        }
    }

    fn check(&mut self, n: u64) -> Result<(), Hit> {
        charge(self.budget, &self.archive, n).map_err(|limit| Hit {
            limit,
            member_only: false,
        })?;
        self.member_produced += n;
        if let Some(compressed) = self.member_compressed {
            if self.budget.over_ratio(self.member_produced, compressed) {
                return Err(Hit {
                    limit: Limit::Ratio,
                    member_only: true,
                });
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Err(hit) = self.check(n as u64) {
            self.archive.hit.set(Some(hit));
            return Err(io::Error::other(hit.limit.describe(self.budget.limits)));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_past_its_ratio_fails_and_says_which_limit() {
        let limits = ArchiveLimits {
            max_ratio: 10,
            ..ArchiveLimits::default()
        };
        let budget = Budget::new(&limits, u64::MAX / 100);
        let meter = ArchiveMeter::new(u64::MAX / 100);
        let zeros = io::repeat(0).take(4 << 20);
        let mut reader = Metered::new(zeros, &budget, meter.clone(), Some(1000));
        let err = io::copy(&mut reader, &mut io::sink()).unwrap_err();
        assert!(err.to_string().contains("extract.archive.max_ratio (10)"));
        let hit = meter.take_hit().unwrap();
        assert!(hit.member_only);
        assert!(
            !budget.exhausted(),
            "a member's ratio costs only that member"
        );
    }

    #[test]
    fn the_total_is_shared_and_sticky() {
        let limits = ArchiveLimits {
            max_total_bytes: 1000,
            ..ArchiveLimits::default()
        };
        let budget = Budget::new(&limits, 1 << 30);
        let meter = ArchiveMeter::new(1 << 30);
        let mut reader = Metered::new(io::repeat(1).take(5000), &budget, meter.clone(), None);
        assert!(io::copy(&mut reader, &mut io::sink()).is_err());
        assert_eq!(meter.take_hit().unwrap().limit, Limit::TotalBytes);
        assert!(budget.exhausted());
    }
}
