//! What the master concluded about each stem, posted where the stems' own editors can read
//! it: a stem's editor shows its limiter verdict, gain, offset, polarity and findings from the
//! master's analysis, where the engineer is working on that bus.
//!
//! One process-wide board, written by a master's report thread about every 40 ms and read by
//! stem editors when they paint. Neither is an audio thread, so a mutex around an `Arc` is
//! enough: the lock is held only to swap or clone the pointer.

use crate::report::{Finding, Report, StemReport, Verdict};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A posting older than this is from a master that stopped (removed, or no longer Master).
pub const STALE_AFTER: Duration = Duration::from_secs(2);

/// The master's conclusions about one stem.
#[derive(Clone, Debug, PartialEq)]
pub struct StemConclusion {
    /// The stem's registry slot and claim generation (a reused slot is another stem).
    pub slot: usize,
    /// See `slot`.
    pub generation: u64,
    /// The stem's row of the master's report.
    pub stem: StemReport,
    /// The findings about this stem.
    pub findings: Vec<Finding>,
}

/// One master's posting.
#[derive(Clone, Debug)]
pub struct Posting {
    /// The master's display name.
    pub master: String,
    /// The session's verdict, `None` before a pass was played.
    pub verdict: Option<Verdict>,
    /// Per stem.
    pub stems: Vec<StemConclusion>,
    /// When it was posted.
    pub at: Instant,
    /// The posting master's registry slot (so it can withdraw only its own posting).
    pub master_slot: Option<usize>,
}

/// The process-wide board.
static BOARD: Mutex<Option<Arc<Posting>>> = Mutex::new(None);

fn board() -> std::sync::MutexGuard<'static, Option<Arc<Posting>>> {
    // A poisoned lock still holds a whole pointer.
    BOARD.lock().unwrap_or_else(|p| p.into_inner())
}

/// Posts `report` (built by the master in `master_slot`); `generation_of` gives each stem
/// slot's claim generation as the master read it.
pub fn post(
    report: &Report,
    master_slot: Option<usize>,
    generation_of: impl Fn(usize) -> Option<u64>,
) {
    let stems = report
        .stems
        .iter()
        .filter_map(|stem| {
            let slot = stem.slot?;
            Some(StemConclusion {
                slot,
                generation: generation_of(slot)?,
                stem: stem.clone(),
                findings: report
                    .findings
                    .iter()
                    .filter(|f| f.stem.as_deref() == Some(stem.name.as_str()))
                    .cloned()
                    .collect(),
            })
        })
        .collect();
    *board() = Some(Arc::new(Posting {
        master: report.master.name.clone(),
        verdict: report.pass.played().then_some(report.verdict),
        stems,
        at: Instant::now(),
        master_slot,
    }));
}

/// Withdraws the posting of the master in `master_slot` (it stopped being the master).
pub fn withdraw(master_slot: Option<usize>) {
    let mut b = board();
    if b.as_ref().is_some_and(|p| p.master_slot == master_slot) {
        *b = None;
    }
}

/// What a master concluded about the stem in `slot` of `generation`: the posting's master
/// name and verdict, and the stem's conclusion if it was analysed. `None` without a current
/// posting.
pub fn read(slot: usize, generation: u64) -> Option<(Arc<Posting>, Option<StemConclusion>)> {
    let posting = board().clone()?;
    if posting.at.elapsed() > STALE_AFTER {
        return None;
    }
    let mine = posting
        .stems
        .iter()
        .find(|c| c.slot == slot && c.generation == generation)
        .cloned();
    Some((posting, mine))
}
