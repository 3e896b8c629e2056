//! Back-pressure on an audio tap, for offline renders: the tap's reader (the master's
//! analysis) says how far it has read, and may ask the writer to wait rather than overwrite
//! audio it has not read yet.
//!
//! # Protocol
//!
//! The reader publishes a [`Hold`] through a sequence lock (its shared-writer path, since two
//! misconfigured masters could both read one tap): the tap's run it refers to, the position
//! up to which it has read everything it needs, and whether it asks for back-pressure at all;
//! a hold also covers every later run from its start (a new pass begins before the reader
//! has looked at it). Before a block overwrites held positions the reader has not read, a
//! writer that may wait ([`Backoff`]) waits until the reader has read them, the reader lets
//! go, or a bound expires. Nothing else is shared: the writer never blocks the
//! reader, and the reader never waits for the writer (it only polls), so a wait always ends.
//!
//! A bound that expires is remembered ([`Backoff`]): the writer does not wait again until
//! the reader has moved, so a reader that stopped (a master removed or no longer processed)
//! costs one bounded wait, not one per block. What the writer then overwrites is counted by
//! the reader as audio it could not read.

pub use crate::analysis::coverage::WAIT_LIMIT;
use crate::sync::seqlock::SeqLock;
use std::time::{Duration, Instant};

/// What a tap's reader publishes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Hold {
    /// The tap run this refers to (a writer in another run ignores it).
    pub run: u64,
    /// Every position of that run before this one has been read (or is no longer needed).
    pub consumed: i64,
    /// 1: the reader asks the writer to wait instead of overwriting unread audio (of `run`
    /// from `consumed` on, and of any later run).
    pub active: u32,
    /// Keeps the size a multiple of eight bytes.
    pub reserved: u32,
}

impl Hold {
    /// Whether a writer in `run`, about to overwrite every position before `needed`, would
    /// overwrite audio this hold keeps.
    pub fn keeps(&self, run: u64, needed: i64) -> bool {
        self.active != 0 && (run > self.run || (run == self.run && self.consumed < needed))
    }
}

/// The reader's side, held by the tap.
pub struct Pressure {
    hold: SeqLock<Hold>,
}

impl Default for Pressure {
    fn default() -> Self {
        Self {
            hold: SeqLock::new(Hold::default()),
        }
    }
}

impl Pressure {
    /// Reader: asks the writer to keep every position of run `run` from `consumed` on, and
    /// every position of any later run, until it has been read. From an owner's audio thread
    /// only when it may wait (an offline render): the write may retry while a reader writes.
    pub fn hold(&self, run: u64, consumed: i64) {
        self.hold.write_shared(Hold {
            run,
            consumed,
            active: 1,
            reserved: 0,
        });
    }

    /// Reader: lets go; the writer overwrites freely again.
    pub fn release(&self) {
        self.hold.write_shared(Hold::default());
    }

    /// The current hold (`None` only if a reader was mid-update for a long time).
    pub fn current(&self) -> Option<Hold> {
        self.hold.read()
    }
}

/// The writer's side: whether it may wait at all, and the memory of a bound that expired.
#[derive(Clone, Copy, Debug, Default)]
pub struct Backoff {
    /// The writer may wait (its instance renders offline). Off: it never waits.
    pub enabled: bool,
    /// The hold a wait gave up on: no new wait until the reader has moved past it.
    gave_up_on: Option<Hold>,
    /// Waits that ended because the reader read what was needed.
    pub waits: u64,
    /// Waits that hit [`WAIT_LIMIT`].
    pub timeouts: u64,
}

impl Backoff {
    /// A writer that waits when `enabled`.
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            ..Self::default()
        }
    }

    /// Waits, bounded, until `pressure` no longer holds positions of `run` before `needed`
    /// (the writer is about to overwrite everything before it). Returns at once when waiting
    /// is off, nothing is held, or a previous wait gave up on the same hold. Reads a clock and
    /// sleeps only when it has to wait, which only an offline render allows.
    pub fn wait_for(&mut self, pressure: &Pressure, run: u64, needed: i64, limit: Duration) {
        if !self.enabled {
            return;
        }
        let blocks = |h: &Hold| h.keeps(run, needed);
        let Some(mut hold) = pressure.current().filter(blocks) else {
            return;
        };
        if self.gave_up_on == Some(hold) {
            return;
        }
        self.gave_up_on = None;
        let mut started = Instant::now();
        let mut spins = 0u32;
        loop {
            // A short spin first (the reader usually moves within microseconds of a poll),
            // then sleeps that leave the core to the reader.
            if spins < 64 {
                spins += 1;
                std::hint::spin_loop();
            } else {
                std::thread::sleep(Duration::from_micros(100));
            }
            match pressure.current() {
                Some(h) if blocks(&h) => {
                    if h != hold {
                        // The reader moved: the bound starts again for the rest of the wait.
                        hold = h;
                        started = Instant::now();
                    } else if started.elapsed() >= limit {
                        self.timeouts += 1;
                        self.gave_up_on = Some(h);
                        return;
                    }
                }
                _ => {
                    self.waits += 1;
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_writer_waits_for_the_reader_and_only_while_asked() {
        let p = Arc::new(Pressure::default());
        let mut off = Backoff::new(false);
        p.hold(1, 0);
        let t = Instant::now();
        off.wait_for(&p, 1, 100, WAIT_LIMIT);
        assert!(t.elapsed() < Duration::from_millis(500), "waiting is off");

        let mut w = Backoff::new(true);
        w.wait_for(&p, 0, 100, WAIT_LIMIT);
        assert_eq!((w.waits, w.timeouts), (0, 0), "an earlier run is not held");
        assert!(Hold {
            run: 1,
            consumed: 0,
            active: 1,
            reserved: 0
        }
        .keeps(2, i64::MIN + 1));
        w.wait_for(&p, 1, 0, WAIT_LIMIT);
        assert_eq!(
            (w.waits, w.timeouts),
            (0, 0),
            "nothing unread is overwritten"
        );

        let reader = {
            let p = p.clone();
            std::thread::spawn(move || {
                for consumed in (0..=100).step_by(10) {
                    std::thread::sleep(Duration::from_millis(5));
                    p.hold(1, consumed);
                }
            })
        };
        w.wait_for(&p, 1, 100, WAIT_LIMIT);
        reader.join().unwrap();
        assert_eq!((w.waits, w.timeouts), (1, 0));
        assert_eq!(p.current().unwrap().consumed, 100);
    }

    #[test]
    fn a_reader_that_stops_costs_one_bounded_wait() {
        let p = Pressure::default();
        p.hold(3, 50);
        let mut w = Backoff::new(true);
        let limit = Duration::from_millis(30);
        let t = Instant::now();
        w.wait_for(&p, 3, 100, limit);
        assert!(t.elapsed() >= limit);
        assert_eq!(w.timeouts, 1);
        let t = Instant::now();
        for _ in 0..100 {
            w.wait_for(&p, 3, 200, limit);
        }
        assert!(
            t.elapsed() < limit * 10,
            "no new wait until the reader moves"
        );
        assert_eq!(w.timeouts, 1);
        // It moves, then stops again: one more bounded wait.
        p.hold(3, 60);
        w.wait_for(&p, 3, 200, limit);
        assert_eq!(w.timeouts, 2);
        p.release();
        w.wait_for(&p, 3, 300, limit);
        assert_eq!(w.timeouts, 2, "a reader that let go holds nothing");
    }
}
