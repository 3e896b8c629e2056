//! An instance's recent audio, tagged with transport positions, for the master to read.
//!
//! Each instance owns one [`AudioTap`]: a ring of the last ≥ 2.5 s of its input, indexed by
//! transport sample position, allocated in `activate` (never on the audio thread). The audio
//! thread is the only writer ([`TapWriter`]); any number of readers copy ranges out of it
//! ([`AudioTap::read`]) without ever delaying the writer.
//!
//! # Protocol
//!
//! The ring holds the positions `[start, end)` of the current *run* (a stretch of playback
//! without a jump). That range, with the run number, is published through a single-writer
//! sequence lock. For each block at position `p` of `n` frames the writer:
//!
//! 1. starts a new run if `p` does not follow `end` (a jump, or playback restarted);
//! 2. publishes the range with `start` raised past the positions it is about to overwrite
//!    (`p + n − capacity`), *before* overwriting them, then a Release fence;
//! 3. stores the samples (Relaxed atomics: plain stores on every platform we ship);
//! 4. publishes `end = p + n` (the sequence lock's final store is Release, so a reader that
//!    sees the new `end` sees the samples).
//!
//! A reader reads the range (`r1`), copies the frames it wants inside `r1`, issues an Acquire
//! fence and reads the range again (`r2`). If a copied sample came from a store of step 3 of
//! a later block, the writer's Release fence (step 2) and the reader's Acquire fence make
//! that block's raised `start` visible in `r2`; so keeping only the frames inside both
//! ranges (same run, `≥ r2.start`, `< r1.end`) keeps exactly the frames that were not being
//! overwritten. Everything else is reported missing, never torn.
//!
//! In an offline render the writer may also wait, bounded, for the reader before step 2
//! (back-pressure, see [`super::pressure`]); a block that restarts a little before the end of
//! the run keeps only the positions that follow it, so the run (and the master's pass) goes on.

use super::pressure::{Backoff, Pressure, WAIT_LIMIT};
use super::table::READ_PATIENCE;
use crate::sync::seqlock::SeqLock;
use std::sync::atomic::{fence, AtomicU32, Ordering};
use std::time::Instant;

/// Seconds of audio a tap keeps at least (the ring is rounded up to a power of two frames).
pub const TAP_SECONDS: f64 = 2.5;

/// The positions a tap holds, as published to readers.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct TapRange {
    /// Counts runs (stretches of playback without a jump); 0 = nothing written yet.
    pub run: u64,
    /// Where the run began (its oldest positions may no longer be held).
    pub first: i64,
    /// First position held.
    pub start: i64,
    /// One past the last position held.
    pub end: i64,
}

impl TapRange {
    /// Number of frames held.
    pub fn len(&self) -> u64 {
        (self.end - self.start).max(0) as u64
    }

    /// Whether no frame is held.
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// The shared part of a tap: the ring and its published range.
pub struct AudioTap {
    channels: usize,
    sample_rate: f32,
    mask: u64,
    /// Planar: channel `c`'s frame at ring index `i` is `samples[c * capacity + i]`. f32 bits
    /// in atomics, so concurrent reads of a slot being written are defined (and detected).
    samples: Box<[AtomicU32]>,
    range: SeqLock<TapRange>,
    /// The reader's hold on unread audio (offline renders).
    pressure: Pressure,
}

impl AudioTap {
    /// A tap of `channels` channels holding at least [`TAP_SECONDS`] at `sample_rate`.
    /// Allocates: call it outside the audio thread.
    pub fn new(channels: usize, sample_rate: f32) -> Self {
        let frames = (f64::from(sample_rate.max(1.0)) * TAP_SECONDS).ceil() as usize;
        Self::with_capacity(channels, sample_rate, frames)
    }

    /// A tap of at least `frames` frames (rounded up to a power of two).
    pub fn with_capacity(channels: usize, sample_rate: f32, frames: usize) -> Self {
        let capacity = frames.max(16).next_power_of_two();
        let channels = channels.max(1);
        Self {
            channels,
            sample_rate,
            mask: capacity as u64 - 1,
            samples: (0..channels * capacity)
                .map(|_| AtomicU32::new(0))
                .collect(),
            range: SeqLock::new(TapRange::default()),
            pressure: Pressure::default(),
        }
    }

    /// The reader's side of back-pressure on this tap.
    pub fn pressure(&self) -> &Pressure {
        &self.pressure
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The sample rate the owner runs at.
    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    /// Frames the ring holds.
    pub fn capacity(&self) -> usize {
        self.mask as usize + 1
    }

    /// The range currently held (`None` only if the writer was mid-update for longer than
    /// [`READ_PATIENCE`]). Off the audio thread only: it waits out a writer preempted in the
    /// middle of publishing, which would otherwise make frames that are there look missing.
    pub fn range(&self) -> Option<TapRange> {
        self.range
            .read()
            .or_else(|| self.range.read_until(Instant::now() + READ_PATIENCE))
    }

    fn index(&self, pos: i64) -> usize {
        // Two's complement wrap: negative positions (a pre-roll) index the ring like any other.
        (pos as u64 & self.mask) as usize
    }

    /// Copies positions `[pos, pos + len)` of every channel into `out` (one slice per channel,
    /// each at least `len` long; extra slices are left alone) and returns which part is valid:
    /// the frames `[valid.start, valid.end)` (as positions) hold this tap's audio of run
    /// `valid.run`; the others were not written, already overwritten, or of another run, and
    /// hold unspecified values. Never blocks the writer; does not allocate.
    pub fn read(&self, pos: i64, len: usize, out: &mut [&mut [f32]]) -> TapRange {
        let empty = TapRange {
            run: 0,
            first: pos,
            start: pos,
            end: pos,
        };
        let Some(r1) = self.range() else {
            return empty;
        };
        let want_end = pos + len as i64;
        let lo = pos.max(r1.start);
        let hi = want_end.min(r1.end);
        if r1.run == 0 || hi <= lo {
            return empty;
        }
        for (c, dst) in out.iter_mut().enumerate().take(self.channels) {
            let base = c * self.capacity();
            for p in lo..hi {
                let bits = self.samples[base + self.index(p)].load(Ordering::Relaxed);
                dst[(p - pos) as usize] = f32::from_bits(bits);
            }
        }
        // Pairs with the writer's Release fence after it raised `start`: if any load above saw
        // a sample of a later block, the range read below sees that block's raised `start`.
        fence(Ordering::Acquire);
        let Some(r2) = self.range() else {
            return empty;
        };
        let lo = lo.max(r2.start);
        if r2.run != r1.run || hi <= lo {
            return empty;
        }
        TapRange {
            run: r1.run,
            first: r1.first,
            start: lo,
            end: hi,
        }
    }
}

/// The owner's writing end of a tap (audio thread only).
pub struct TapWriter {
    tap: std::sync::Arc<AudioTap>,
    /// The range as last published (only this writer changes it).
    range: TapRange,
    /// A block starting at most this many frames before the run's end (and after its first
    /// position) continues the run.
    resume_tolerance: i64,
    /// Frames of the ring a waiting writer keeps free of unread audio (see
    /// [`TapWriter::set_slack`]).
    slack: i64,
    /// Whether and how this writer waits for the reader.
    backoff: Backoff,
}

impl TapWriter {
    /// The writer of `tap`. There must be only one per tap.
    pub fn new(tap: std::sync::Arc<AudioTap>) -> Self {
        let range = tap.range().unwrap_or_default();
        Self {
            tap,
            range,
            resume_tolerance: 0,
            slack: 0,
            backoff: Backoff::default(),
        }
    }

    /// The tap being written.
    pub fn tap(&self) -> &std::sync::Arc<AudioTap> {
        &self.tap
    }

    /// A block up to `frames` before the end of the run (after its first position) continues
    /// the run: the positions already written are not written again.
    pub fn set_resume_tolerance(&mut self, frames: usize) {
        self.resume_tolerance = frames as i64;
    }

    /// A waiting writer waits once the reader's unread audio would fill all but `frames` of
    /// the ring, not only when it would be overwritten. Other taps written a block or a few
    /// ahead of this one (stems a host runs before the master) then still hold what the
    /// reader needs when it first looks, before it has asked them to hold anything. Capped
    /// at a quarter of the ring.
    pub fn set_slack(&mut self, frames: usize) {
        self.slack = (frames as i64).min(self.tap.capacity() as i64 / 4);
    }

    /// Whether this writer waits, bounded, for a reader that holds unread audio (only an
    /// offline render may wait).
    pub fn set_waiting(&mut self, enabled: bool) {
        self.backoff.enabled = enabled;
    }

    /// How the writer's waits went so far: (waits that ended because the reader read,
    /// waits that hit the bound).
    pub fn wait_counts(&self) -> (u64, u64) {
        (self.backoff.waits, self.backoff.timeouts)
    }

    /// When waiting is on and no reader holds the tap: holds it from its current end on, in
    /// this run or a later one, until a reader takes over (a master's own tap, before its
    /// analysis has looked at it). Audio thread; only a writer that may wait calls it, since
    /// the hold is a compare-and-swap write that may retry.
    pub fn hold_until_read(&mut self) {
        if !self.backoff.enabled {
            return;
        }
        let pressure = &self.tap.pressure;
        if pressure.current().is_some_and(|h| h.active == 0) {
            pressure.hold(self.range.run, self.range.end);
        }
    }

    /// Ends the current run: the next block starts a new one even if it follows on.
    pub fn break_run(&mut self) {
        self.range.end = i64::MIN;
    }

    /// Appends one block played at transport position `pos`. Audio thread: no allocation;
    /// wait-free unless waiting is on and the reader holds audio this block would overwrite
    /// (then a bounded wait). Channels beyond the tap's are ignored; missing ones are written
    /// as silence.
    pub fn write(&mut self, pos: i64, channels: &[&[f32]]) {
        let n = channels.first().map_or(0, |c| c.len()) as i64;
        if n == 0 {
            return;
        }
        let tap = &*self.tap;
        let capacity = tap.capacity() as i64;
        // A restart a little before the end replays positions already written.
        let r = &self.range;
        let replayed =
            if r.run != 0 && pos < r.end && pos > r.first && r.end - pos <= self.resume_tolerance {
                (r.end - pos).min(n)
            } else {
                0
            };
        // Only the last `capacity` frames of a huge block can be kept.
        let skip = replayed.max(n - capacity);
        if skip >= n {
            return;
        }
        let (first, n) = (pos + skip, n - skip);
        if self.range.run == 0 || self.range.end != first {
            self.range = TapRange {
                run: self.range.run + 1,
                first,
                start: first,
                end: first,
            };
        }
        let start = self.range.start.max(first + n - capacity);
        // Offline: let the reader read what this block is about to overwrite, or would leave
        // less than the slack free of.
        let keep_free = self.range.start.max(first + n - (capacity - self.slack));
        if keep_free > self.range.start {
            self.backoff
                .wait_for(&tap.pressure, self.range.run, keep_free, WAIT_LIMIT);
        }
        self.range.start = start;
        tap.range.write(self.range);
        // The overwrites below must not become visible before the raised `start` above (see
        // the module comment: it pairs with the reader's Acquire fence).
        fence(Ordering::Release);
        for c in 0..tap.channels {
            let src = channels.get(c).copied();
            let base = c * tap.capacity();
            for i in 0..n {
                let v = src.map_or(0.0, |s| s[(skip + i) as usize]);
                tap.samples[base + tap.index(first + i)].store(v.to_bits(), Ordering::Relaxed);
            }
        }
        self.range.end = first + n;
        // The sequence lock's final Release store publishes the samples with the new end.
        tap.range.write(self.range);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn block(pos: i64, n: usize) -> Vec<f32> {
        (0..n).map(|i| (pos + i as i64) as f32).collect()
    }

    fn read(tap: &AudioTap, pos: i64, len: usize) -> (TapRange, Vec<f32>) {
        let mut a = vec![f32::NAN; len];
        let mut b = vec![f32::NAN; len];
        let r = tap.read(pos, len, &mut [&mut a, &mut b]);
        (r, a)
    }

    #[test]
    fn reads_back_by_position() {
        let tap = Arc::new(AudioTap::with_capacity(2, 48_000.0, 1000));
        assert_eq!(tap.capacity(), 1024);
        let mut w = TapWriter::new(tap.clone());
        for pos in (-300..2000).step_by(100) {
            let b = block(pos, 100);
            w.write(pos, &[&b, &b]);
        }
        let (r, a) = read(&tap, 1500, 200);
        assert_eq!((r.start, r.end), (1500, 1700));
        assert_eq!(a, block(1500, 200));
        // Older than the ring: missing.
        let (r, _) = read(&tap, 0, 100);
        assert!(r.is_empty());
        // Partly written: only the written part is valid.
        let (r, a) = read(&tap, 1950, 100);
        assert_eq!((r.start, r.end), (1950, 2000));
        assert_eq!(a[..50], block(1950, 50)[..]);
    }

    #[test]
    fn a_jump_starts_a_new_run() {
        let tap = Arc::new(AudioTap::with_capacity(1, 48_000.0, 1024));
        let mut w = TapWriter::new(tap.clone());
        let b = block(0, 64);
        w.write(0, &[&b]);
        let run = tap.range().unwrap().run;
        let b = block(5000, 64);
        w.write(5000, &[&b]);
        let r = tap.range().unwrap();
        assert_eq!((r.run, r.start, r.end), (run + 1, 5000, 5064));
        assert!(read(&tap, 0, 64).0.is_empty(), "the old run is gone");
        w.break_run();
        let b = block(5064, 64);
        w.write(5064, &[&b]);
        assert_eq!(tap.range().unwrap().run, run + 2);
    }

    #[test]
    fn a_block_longer_than_the_ring_keeps_its_end() {
        let tap = Arc::new(AudioTap::with_capacity(1, 48_000.0, 16));
        let mut w = TapWriter::new(tap.clone());
        let b = block(100, 40);
        w.write(100, &[&b]);
        let r = tap.range().unwrap();
        assert_eq!((r.start, r.end), (124, 140));
        let (r, a) = read(&tap, 124, 16);
        assert_eq!((r.start, r.end), (124, 140));
        assert_eq!(a, block(124, 16));
    }

    #[test]
    fn readers_never_see_torn_or_foreign_frames() {
        // The writer races far ahead of a slow reader; every frame a reader keeps must carry
        // its own position as its value.
        let tap = Arc::new(AudioTap::with_capacity(2, 48_000.0, 256));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let (tap, stop) = (tap.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut w = TapWriter::new(tap);
                let mut pos = 0i64;
                let mut b = vec![0.0f32; 37];
                while !stop.load(Ordering::Relaxed) {
                    for (i, v) in b.iter_mut().enumerate() {
                        *v = ((pos + i as i64) % 1_000_000) as f32;
                    }
                    w.write(pos, &[&b, &b]);
                    pos += 37;
                }
            })
        };
        let mut kept = 0u64;
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
        while std::time::Instant::now() < deadline {
            let Some(r) = tap.range() else { continue };
            let want = r.end - 200;
            let (valid, a) = read(&tap, want, 200);
            for p in valid.start..valid.end {
                assert_eq!(
                    a[(p - want) as usize],
                    (p % 1_000_000) as f32,
                    "torn at {p}"
                );
                kept += 1;
            }
        }
        stop.store(true, Ordering::Relaxed);
        writer.join().unwrap();
        assert!(kept > 0, "the reader kept some frames");
    }

    #[test]
    fn a_restart_a_little_early_continues_the_run() {
        let tap = Arc::new(AudioTap::with_capacity(1, 48_000.0, 1024));
        let mut w = TapWriter::new(tap.clone());
        w.set_resume_tolerance(256);
        for pos in (0..640).step_by(64) {
            w.write(pos, &[&block(pos, 64)]);
        }
        let run = tap.range().unwrap().run;
        // Restarted 128 frames early, then 32 early with a block reaching past the end.
        w.write(512, &[&block(512, 64)]);
        w.write(576, &[&block(576, 64)]);
        w.write(608, &[&block(608, 64)]);
        let r = tap.range().unwrap();
        assert_eq!((r.run, r.first, r.end), (run, 0, 672));
        assert_eq!(read(&tap, 0, 672).1, block(0, 672));
        // Further back than the tolerance, or from the run's first position: a new run.
        w.write(672 - 257, &[&block(415, 64)]);
        assert_eq!(tap.range().unwrap().run, run + 1);
        let first = tap.range().unwrap().first;
        w.write(first, &[&block(first, 64)]);
        assert_eq!(tap.range().unwrap().run, run + 2);
    }

    #[test]
    fn an_offline_writer_waits_for_its_reader_and_loses_nothing() {
        let tap = Arc::new(AudioTap::with_capacity(1, 48_000.0, 256));
        let mut w = TapWriter::new(tap.clone());
        w.set_waiting(true);
        let total = 20_000i64;
        // The first run is run 1: held from its start before the writer begins.
        tap.pressure().hold(1, 0);
        let reader = {
            let tap = tap.clone();
            std::thread::spawn(move || {
                let mut next = 0i64;
                let mut buf = vec![0.0f32; 100];
                let mut bad = 0;
                while next < total {
                    let Some(r) = tap.range() else { continue };
                    if r.run != 0 {
                        tap.pressure().hold(r.run, next);
                    }
                    let len = ((r.end - next).max(0) as usize).min(100);
                    if len == 0 {
                        std::thread::sleep(std::time::Duration::from_micros(50));
                        continue;
                    }
                    let got = tap.read(next, len, &mut [&mut buf]);
                    assert_eq!(got.start, next, "audio was overwritten before it was read");
                    for (i, v) in buf[..len].iter().enumerate() {
                        bad += usize::from(*v != (next + i as i64) as f32);
                    }
                    next += len as i64;
                    tap.pressure().hold(r.run, next);
                }
                tap.pressure().release();
                bad
            })
        };
        let mut pos = 0;
        while pos < total {
            w.write(pos, &[&block(pos, 37)]);
            pos += 37;
        }
        assert_eq!(reader.join().unwrap(), 0);
        let (waits, timeouts) = w.wait_counts();
        assert_eq!(timeouts, 0);
        assert!(waits > 0, "a ring of 256 frames made the writer wait");
    }

    #[test]
    fn a_waiting_writer_keeps_its_slack_free_of_unread_audio() {
        // Held from the start, no reader yet: the writer must stop while a quarter of its
        // 1024-frame ring is still free, so a tap written a block ahead of it has not wrapped.
        let tap = Arc::new(AudioTap::with_capacity(1, 48_000.0, 1024));
        let mut w = TapWriter::new(tap.clone());
        w.set_waiting(true);
        w.set_slack(256);
        tap.pressure().hold(1, 0);
        for pos in (0..768).step_by(64) {
            w.write(pos, &[&block(pos, 64)]);
        }
        assert_eq!(
            w.wait_counts(),
            (0, 0),
            "768 unread frames fit beside the slack"
        );
        let reader = {
            let tap = tap.clone();
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(50));
                tap.pressure().hold(1, 64);
            })
        };
        // 832 unread frames would leave less than the slack free: it waits for the reader.
        w.write(768, &[&block(768, 64)]);
        reader.join().unwrap();
        assert_eq!(w.wait_counts(), (1, 0));
        assert_eq!(tap.range().unwrap().start, 0, "nothing was overwritten");
    }
}
