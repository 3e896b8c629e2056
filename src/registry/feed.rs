//! The master's analysis feed: gathers the master's and every stem's audio from their taps by
//! transport position and pushes it into a [`SessionAnalysis`], off the audio thread.
//!
//! Called by the master's analysis thread, a few times a second while the host plays in real
//! time and every millisecond or so in an offline render. For the master's audio at positions
//! `[p, p + n)` it reads every stem's tap for the same positions.
//!
//! **Real time** (nobody may wait): the feed trails the master's newest audio by
//! [`LiveFeed::trail`] frames, so stems that the host runs on other threads, or after the
//! master, have written their part before it is read; a stem that has not produced a chunk
//! by then is missing for it, and audio overwritten before the feed came to it (a host running
//! far faster than real time) is lost. Both are counted ([`Coverage`]), never compared wrongly.
//!
//! **Offline** (the host renders offline: it said so, or, where its mode does not reach the
//! plugin, it runs more than a second ahead of the wall clock, see [`Pace`]): the feed asks
//! every tap of the pass to keep what it has not read ([`super::pressure`]), and reads a chunk
//! only once every stem has produced it. The writers wait for the feed; the feed waits for no
//! one: a stem that has not moved for [`STALL`] while the feed needs it is taken as stalled
//! (not processed any more) and left out, counted, until it moves again. So every wait ends,
//! whatever order or threads the host runs the instances in.
//!
//! When the master stops advancing (the transport stopped) the rest is read at once and the
//! pass is finished. A pass starts when the master plays a position before the end of what was
//! analysed (the same rule as the meters' pass, restarts a little early continue it in the
//! taps themselves); a jump forward keeps the pass and marks a discontinuity. The stems of a
//! pass are those live when it starts; a stem removed during the pass counts as silent from
//! then on (its audio no longer reaches the master).

use super::pace::Pace;
use super::{AudioTap, Entry, Registry, Role};
use crate::analysis::coverage::{Coverage, HostRender, RenderMode};
use crate::analysis::session::{SessionAnalysis, SessionFigures};
use crate::analysis::SumCheckConfig;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Frames read per push.
const CHUNK: usize = 2048;

/// Offline: a stem the feed needs that has not moved for this long is taken as stalled.
/// Long enough that a thread the OS did not schedule for a while on a loaded machine is not
/// taken for a stem no longer processed (0.5 s was not, with every instance on its own
/// thread and the 2 cores shared with other builds), and shorter than the writers'
/// [`super::pressure::WAIT_LIMIT`], so a master held while the analysis waits for a stalled
/// stem is released before it gives up waiting.
pub const STALL: Duration = Duration::from_millis(1500);

/// The master's tap not advancing for this long means nothing plays.
const IDLE_AFTER: Duration = Duration::from_millis(100);

/// One stem of the current pass.
#[derive(Clone)]
pub struct PassStem {
    /// Registry slot.
    pub slot: usize,
    /// The owner's claim generation.
    pub generation: u64,
    tap: Arc<AudioTap>,
    /// The owner released its slot: silent from then on.
    removed: bool,
    /// The tap's run and end as last seen, and when the end last moved.
    run: u64,
    end: i64,
    moved: Instant,
    /// It has written since the pass began (until then its range may be its previous run's).
    fresh: bool,
    /// Offline: not moving while needed; left out until it moves.
    stalled: bool,
}

struct Pass {
    analysis: SessionAnalysis,
    stems: Vec<PassStem>,
    run: u64,
    /// Next master position to analyse.
    cursor: i64,
    /// Master end seen at the previous poll (to tell a stopped transport).
    last_end: i64,
    /// What was read, lost and left out, and why.
    coverage: Coverage,
    finished: bool,
    /// Some of it was read offline (the report names the pass offline even when it is made
    /// after the host went back to real time).
    offline: bool,
}

/// The live sum-check of one master (see the module docs).
pub struct LiveFeed {
    registry: &'static Registry,
    master: Arc<AudioTap>,
    own_slot: Option<usize>,
    pass: Option<Pass>,
    trail: i64,
    entries: Vec<Entry>,
    master_buf: Vec<Vec<f32>>,
    stem_bufs: Vec<Vec<Vec<f32>>>,
    /// Per stem: its audio for the chunk being read is whole (or it is gone: silence).
    present: Vec<bool>,
    /// What the host said about its render mode.
    host: HostRender,
    pace: Pace,
    /// Holds are published on the taps of the pass (offline).
    holding: bool,
    /// Offline with no pass yet: every live stem's tap, held from its next audio on.
    preheld: Vec<Arc<AudioTap>>,
}

impl LiveFeed {
    /// A feed for the master whose tap is `master`, seeing the stems of `registry`.
    pub fn new(
        registry: &'static Registry,
        master: Arc<AudioTap>,
        own_slot: Option<usize>,
    ) -> Self {
        let rate = master.sample_rate();
        let channels = master.channels();
        Self {
            registry,
            trail: ((f64::from(rate) * 0.1) as i64).max(2048),
            master,
            own_slot,
            pass: None,
            entries: Vec::with_capacity(registry.capacity()),
            master_buf: vec![vec![0.0; CHUNK]; channels],
            stem_bufs: Vec::new(),
            present: Vec::new(),
            host: HostRender::Realtime,
            pace: Pace::new(rate),
            holding: false,
            preheld: Vec::new(),
        }
    }

    /// Frames the feed stays behind the master's newest audio while it advances (real time).
    pub fn trail(&self) -> i64 {
        self.trail
    }

    /// The master tap this feed reads.
    pub fn master_tap(&self) -> &Arc<AudioTap> {
        &self.master
    }

    /// What the host says about its render mode (the master's activation tells).
    pub fn set_host_render(&mut self, host: HostRender) {
        self.host = host;
    }

    /// How the feed runs the pass now: offline when the host said so, or, when the host's
    /// mode is unknown, while it runs free of the wall clock.
    pub fn render_mode(&self) -> RenderMode {
        match self.host {
            HostRender::Offline => RenderMode::Offline,
            HostRender::Unknown if self.pace.free_running() => RenderMode::Offline,
            _ => RenderMode::Realtime,
        }
    }

    /// Whether the owner should poll again soon: an offline pass is running (writers may be
    /// waiting), or the host's mode is unknown and it runs ahead of the clock (it may be
    /// starting a render, and its writers wait on the feed's holds until it decides).
    pub fn wants_fast_polls(&self, now: Instant) -> bool {
        let playing = self.pace.advanced_recently(now, IDLE_AFTER);
        let unfinished = self.pass.as_ref().is_some_and(|p| !p.finished);
        match self.render_mode() {
            RenderMode::Offline => playing || unfinished,
            RenderMode::Realtime => self.host == HostRender::Unknown && self.pace.ahead(),
        }
    }

    /// Forgets the pass (a manual reset): the next audio starts a new one.
    pub fn reset(&mut self) {
        self.release_holds();
        self.pass = None;
    }

    /// The current pass's stems (slot and generation), in analysis order.
    pub fn stems(&self) -> &[PassStem] {
        self.pass.as_ref().map_or(&[], |p| &p.stems)
    }

    /// The figures of the current pass, if one has started.
    pub fn figures(&self) -> Option<SessionFigures> {
        self.pass.as_ref().map(|p| {
            let mut f = p.analysis.figures();
            f.sum.skipped_frames += p.coverage.lost;
            f
        })
    }

    /// How the current pass has been covered so far, if one has started. What the master has
    /// written past what was read is pending, from the master's tap as it is now: the
    /// report thread may look after the master wrote on but before the next poll.
    pub fn coverage(&self) -> Option<Coverage> {
        self.pass.as_ref().map(|p| {
            let pending = match self.master.range() {
                Some(r) if r.run == p.run => (r.end - p.cursor).max(0) as u64,
                _ => 0,
            };
            Coverage {
                render_mode: if p.offline {
                    RenderMode::Offline
                } else {
                    self.render_mode()
                },
                inferred: self.host == HostRender::Unknown,
                speed: self.pace.speed(),
                pending,
                ..p.coverage.clone()
            }
        })
    }

    /// Whether the current pass has been read to the master's end and finished.
    pub fn is_finished(&self) -> bool {
        self.pass.as_ref().is_some_and(|p| self.read_to_the_end(p))
    }

    /// Whether there is nothing left to analyse: no pass yet, or the pass read to its end.
    pub fn is_settled(&self) -> bool {
        self.pass.as_ref().is_none_or(|p| self.read_to_the_end(p))
    }

    /// The pass was finished at the last poll and the master has written nothing of its run
    /// since: the finished mark alone is as old as that poll, and a master whose thread had
    /// paused may have written on (and stopped) before anyone reads it.
    fn read_to_the_end(&self, p: &Pass) -> bool {
        p.finished
            && self
                .master
                .range()
                .is_none_or(|r| r.run != p.run || r.end <= p.cursor)
    }

    /// Reads what the taps hold now and analyses it. Returns the number of master frames
    /// analysed.
    pub fn poll(&mut self) -> u64 {
        self.poll_at(Instant::now())
    }

    /// [`poll`](Self::poll) with the wall-clock time given (stall and speed are timed by it).
    pub fn poll_at(&mut self, now: Instant) -> u64 {
        let Some(range) = self.master.range() else {
            return 0;
        };
        // Offline, a feed far behind is holding the host back: not the host slowing down.
        let backlog = self.pass.as_ref().map_or(0, |p| range.end - p.cursor);
        let held_back = self.holding && backlog > self.master.capacity() as i64 / 2;
        self.pace.observe(now, range, held_back);
        let offline = self.render_mode() == RenderMode::Offline;
        // The host's mode is unknown and it runs ahead of the clock: it may be starting a
        // render, so nothing is let go until that is known.
        let unsure = self.host == HostRender::Unknown && self.pace.ahead();
        if range.run == 0 {
            // Nothing played yet: hold from the first audio on when it may be a render.
            if offline || self.host == HostRender::Unknown {
                self.prehold();
            }
            return 0;
        }
        self.follow_run(range);
        let mut analysed = 0;
        let idle = !self.pace.advanced_recently(now, IDLE_AFTER);
        if let Some(pass) = &mut self.pass {
            let advancing = range.end != pass.last_end;
            pass.last_end = range.end;
            if range.end > pass.cursor {
                // The master wrote past what was read (it had only paused): the pass is not
                // read to its end, even if no chunk can be read yet (a stem is behind).
                pass.finished = false;
            }
            let target = if advancing && !offline {
                range.end - self.trail
            } else {
                range.end
            };
            pass.offline |= offline;
            while self.pass.as_ref().is_some_and(|p| p.cursor < target) {
                let n = self.step(target, offline, now);
                if offline || unsure {
                    self.publish_holds();
                }
                if n == 0 {
                    break;
                }
                analysed += n;
            }
            if let Some(pass) = &mut self.pass {
                if !advancing && pass.cursor >= range.end && !pass.finished {
                    pass.analysis.finish();
                    pass.finished = true;
                }
            }
        }
        if offline || (unsure && !idle) {
            self.publish_holds();
        } else if self.host == HostRender::Unknown && idle {
            // The host's mode is unknown and nothing plays: hold every tap from its next
            // audio on, so that the start of a render is kept until the feed has seen how
            // fast it runs (playing in real time, the feed looks long before a ring fills,
            // and lets go).
            self.prehold();
        } else {
            self.release_holds();
        }
        analysed
    }

    /// Offline: asks the master's and every stem's tap to keep what the feed has not read.
    fn publish_holds(&mut self) {
        let Some(pass) = &self.pass else { return };
        self.master.pressure().hold(pass.run, pass.cursor);
        for stem in &pass.stems {
            if stem.run != 0 {
                stem.tap.pressure().hold(stem.run, pass.cursor);
            }
        }
        self.holding = true;
    }

    /// Before a pass (offline), or while nothing plays (when the host's mode is unknown): holds
    /// the master's and every live stem's tap from their next audio on, so the start of a
    /// render is kept until the feed reads it.
    fn prehold(&mut self) {
        self.registry.read_into(&mut self.entries);
        self.preheld.clear();
        let rate = self.master.sample_rate();
        for e in &self.entries {
            if Some(e.slot) == self.own_slot || e.reading.role() != Role::Stem {
                continue;
            }
            if let Some(tap) = self.registry.tap(e.slot, e.generation) {
                if tap.sample_rate() == rate {
                    self.preheld.push(tap);
                }
            }
        }
        for tap in self.preheld.iter().chain(std::iter::once(&self.master)) {
            // Keep whatever is written from now on, in this run or a later one.
            let r = tap.range().unwrap_or_default();
            tap.pressure().hold(r.run, r.end);
        }
        self.holding = true;
    }

    /// Lets every tap of the pass overwrite freely again.
    fn release_holds(&mut self) {
        if !std::mem::take(&mut self.holding) {
            return;
        }
        self.master.pressure().release();
        for stem in self.pass.iter().flat_map(|p| &p.stems) {
            stem.tap.pressure().release();
        }
        for tap in self.preheld.drain(..) {
            tap.pressure().release();
        }
    }

    /// Starts, continues or breaks the pass when the master's run changes.
    fn follow_run(&mut self, range: super::TapRange) {
        match &mut self.pass {
            Some(pass) if pass.run == range.run => {}
            Some(pass) if range.start >= pass.cursor => {
                // Playback went on from where it was (a stop and start), or jumped forward.
                pass.run = range.run;
                if range.start > pass.cursor {
                    pass.analysis.discontinuity();
                    // A jump forward skips nothing; a run whose beginning was overwritten
                    // before this look lost its first frames.
                    let lost = (range.start - range.first.max(pass.cursor)).max(0) as u64;
                    pass.coverage.lost += lost;
                    pass.coverage.outran += lost;
                    pass.coverage.frames += lost;
                    pass.cursor = range.start;
                }
            }
            _ => {
                // Offline, or maybe a render starting (the host's mode unknown, running ahead
                // of the clock): the holds move to the new pass.
                let offline = self.render_mode() == RenderMode::Offline
                    || (self.host == HostRender::Unknown && self.pace.ahead());
                let before: Vec<Arc<AudioTap>> = self
                    .pass
                    .iter()
                    .flat_map(|p| p.stems.iter().map(|s| s.tap.clone()))
                    .chain(self.preheld.drain(..))
                    .collect();
                self.start_pass(range);
                if offline {
                    // The new pass's holds replace the old ones without a gap.
                    self.publish_holds();
                }
                let kept = |t: &Arc<AudioTap>| {
                    offline && self.stems().iter().any(|s| Arc::ptr_eq(&s.tap, t))
                };
                for tap in before.iter().filter(|t| !kept(t)) {
                    tap.pressure().release();
                }
                if !offline {
                    self.release_holds();
                }
            }
        }
    }

    fn start_pass(&mut self, range: super::TapRange) {
        let rate = self.master.sample_rate();
        self.registry.read_into(&mut self.entries);
        let now = Instant::now();
        let mut stems = Vec::new();
        for e in &self.entries {
            if Some(e.slot) == self.own_slot || e.reading.role() != Role::Stem {
                continue;
            }
            let Some(tap) = self.registry.tap(e.slot, e.generation) else {
                continue;
            };
            // A stem at another rate cannot be compared by position (the report flags it).
            if tap.sample_rate() != rate {
                continue;
            }
            let seen = tap.range().unwrap_or_default();
            stems.push(PassStem {
                slot: e.slot,
                generation: e.generation,
                tap,
                removed: false,
                run: seen.run,
                end: seen.end,
                moved: now,
                fresh: false,
                stalled: false,
            });
        }
        let channels: Vec<usize> = stems.iter().map(|s| s.tap.channels()).collect();
        self.stem_bufs = channels
            .iter()
            .map(|&c| vec![vec![0.0; CHUNK]; c])
            .collect();
        let config = SumCheckConfig::new(self.master.channels(), rate);
        let lost = (range.start - range.first).max(0) as u64;
        self.pace.restart();
        self.pass = Some(Pass {
            analysis: SessionAnalysis::new(config, &channels),
            stems,
            run: range.run,
            cursor: range.start,
            last_end: i64::MIN,
            coverage: Coverage {
                frames: lost,
                lost,
                outran: lost,
                stem_unseen: vec![0; channels.len()],
                ..Coverage::default()
            },
            finished: false,
            offline: false,
        });
    }

    /// Offline: how many frames from `pos` every stem the feed waits for has produced (up to
    /// `want`); 0 when one of them has produced none yet and is not stalled.
    fn produced(stems: &mut [PassStem], pos: i64, want: usize, now: Instant) -> usize {
        let mut ready = want;
        for stem in stems.iter_mut().filter(|s| !s.removed) {
            let r = stem.tap.range().unwrap_or_default();
            if (r.run, r.end) != (stem.run, stem.end) {
                (stem.run, stem.end, stem.moved) = (r.run, r.end, now);
                stem.fresh = true;
                stem.stalled = false;
            }
            if stem.fresh && r.run != 0 && r.start > pos {
                // Its audio for `pos` is gone or was never there: waiting cannot bring it.
                continue;
            }
            // Not moved since the pass began and without `pos`: it is still in the run it
            // played before this pass (its new run would be held from its start, so could not
            // have overwritten `pos`), and has produced nothing of this pass yet: wait for it.
            let earlier_run = !stem.fresh && r.run != 0 && r.start > pos;
            if r.run != 0 && r.end > pos && !earlier_run {
                ready = ready.min((r.end - pos) as usize);
                continue;
            }
            if !stem.stalled && now.saturating_duration_since(stem.moved) < STALL {
                return 0;
            }
            stem.stalled = true;
        }
        ready
    }

    /// Analyses one chunk up to `target`; returns its length (0: nothing readable).
    fn step(&mut self, target: i64, offline: bool, now: Instant) -> u64 {
        let Some(pass) = &mut self.pass else {
            return 0;
        };
        let pos = pass.cursor;
        let mut want = ((target - pos) as usize).min(CHUNK);
        if offline {
            want = Self::produced(&mut pass.stems, pos, want, now);
            if want == 0 {
                return 0;
            }
        }
        let mut outs: Vec<&mut [f32]> = self.master_buf.iter_mut().map(|b| &mut b[..]).collect();
        let valid = self.master.read(pos, want, &mut outs);
        if valid.is_empty() || valid.start > pos {
            // The master's own audio is gone (the feed fell more than a ring behind) or not
            // there: skip to what the ring holds, as a jump.
            let Some(now) = self.master.range() else {
                return 0;
            };
            if now.run != pass.run || now.start <= pos {
                return 0;
            }
            pass.analysis.discontinuity();
            let lost = (now.start - pos) as u64;
            pass.coverage.lost += lost;
            pass.coverage.outran += lost;
            pass.coverage.frames += lost;
            pass.cursor = now.start;
            return 0;
        }
        let len = (valid.end - pos) as usize;
        pass.finished = false;
        self.present.clear();
        let (mut missing, mut overwritten) = (false, false);
        for (i, (stem, bufs)) in pass
            .stems
            .iter_mut()
            .zip(self.stem_bufs.iter_mut())
            .enumerate()
        {
            if !stem.removed && !self.registry.is_live(stem.slot, stem.generation) {
                stem.removed = true;
            }
            let mut outs: Vec<&mut [f32]> = bufs.iter_mut().map(|b| &mut b[..]).collect();
            let got = stem.tap.read(pos, len, &mut outs);
            let whole = got.start == pos && got.end == pos + len as i64;
            if !whole && stem.removed {
                // What it wrote before it went is kept; after that it is silence.
                let (lo, hi) = if got.is_empty() {
                    (0, 0)
                } else {
                    ((got.start - pos) as usize, (got.end - pos) as usize)
                };
                for b in bufs.iter_mut() {
                    b[..lo].fill(0.0);
                    b[hi.max(lo)..len].fill(0.0);
                }
            }
            let present = whole || stem.removed;
            if !present {
                missing = true;
                pass.coverage.stem_unseen[i] += len as u64;
                // Overwritten before it was read, rather than not produced (a stem still in
                // the run it played before this pass has produced nothing of it).
                let r = stem.tap.range().unwrap_or_default();
                let start = if got.is_empty() { r.start } else { got.start };
                let earlier_run = !stem.fresh && (r.run, r.end) == (stem.run, stem.end);
                overwritten |= r.run != 0 && start > pos && r.first <= pos && !earlier_run;
            }
            self.present.push(present);
        }
        pass.coverage.frames += len as u64;
        if missing {
            pass.coverage.partial += len as u64;
            if overwritten {
                pass.coverage.outran += len as u64;
            }
        }
        let master: Vec<&[f32]> = self.master_buf.iter().map(|b| &b[..len]).collect();
        let stem_chans: Vec<Vec<&[f32]>> = self
            .stem_bufs
            .iter()
            .map(|bufs| bufs.iter().map(|b| &b[..len]).collect())
            .collect();
        let stems: Vec<Option<&[&[f32]]>> = stem_chans
            .iter()
            .zip(&self.present)
            .map(|(c, &present)| present.then_some(&c[..]))
            .collect();
        pass.analysis.push(&master, &stems);
        pass.cursor = pos + len as i64;
        len as u64
    }
}

impl Drop for LiveFeed {
    fn drop(&mut self) {
        // No writer may keep waiting for a feed that is gone.
        self.release_holds();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{NameSource, SlotHandle, SlotReading, TapWriter};
    use crate::test_signal::noise;
    use std::time::{Duration, Instant};

    const RATE: f32 = 8_000.0;

    fn leaked(capacity: usize) -> &'static Registry {
        Box::leak(Box::new(Registry::new(capacity)))
    }

    /// A mono instance in `reg` with its tap published, as `activate` leaves it.
    fn instance(reg: &'static Registry, name: &str, role: Role) -> (SlotHandle, TapWriter) {
        let h = reg.claim(name, NameSource::Label).unwrap();
        h.publish(&SlotReading::new(Default::default(), role));
        let tap = Arc::new(AudioTap::new(1, RATE));
        h.set_tap(Some(tap.clone()));
        (h, TapWriter::new(tap))
    }

    /// Like [`instance`], with a tap of only `frames` frames, its writer waiting for readers.
    fn small(
        reg: &'static Registry,
        name: &str,
        role: Role,
        frames: usize,
    ) -> (SlotHandle, TapWriter) {
        let h = reg.claim(name, NameSource::Label).unwrap();
        h.publish(&SlotReading::new(Default::default(), role));
        let tap = Arc::new(AudioTap::with_capacity(1, RATE, frames));
        h.set_tap(Some(tap.clone()));
        let mut w = TapWriter::new(tap);
        w.set_waiting(true);
        (h, w)
    }

    /// Plays `mix` on the master and `stems` on theirs from another thread, flat out, master
    /// first in each block of 256; stem `stop.0` stops being processed at position `stop.1`.
    /// Polls `feed` offline until the pass is read to its end. Returns the writers.
    fn render_offline(
        feed: &mut LiveFeed,
        mut master: TapWriter,
        mut stems: Vec<TapWriter>,
        mix: Vec<f32>,
        parts: Vec<Vec<f32>>,
        stop: (usize, usize),
    ) -> (TapWriter, Vec<TapWriter>) {
        use std::sync::atomic::{AtomicBool, Ordering};
        if feed.host == HostRender::Realtime {
            feed.set_host_render(HostRender::Offline);
        }
        // Before the render, as a master's analysis thread does while the host is idle.
        feed.poll();
        let done = Arc::new(AtomicBool::new(false));
        let host = {
            let done = done.clone();
            std::thread::spawn(move || {
                for pos in (0..mix.len()).step_by(256) {
                    let r = pos..(pos + 256).min(mix.len());
                    master.write(pos as i64, &[&mix[r.clone()]]);
                    for (i, (w, s)) in stems.iter_mut().zip(&parts).enumerate() {
                        if i != stop.0 || pos < stop.1 {
                            w.write(pos as i64, &[&s[r.clone()]]);
                        }
                    }
                }
                done.store(true, Ordering::Release);
                (master, stems)
            })
        };
        let started = Instant::now();
        loop {
            feed.poll();
            if done.load(Ordering::Acquire) && feed.is_finished() {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the render did not end: a wait that never ends"
            );
            std::thread::sleep(Duration::from_micros(200));
        }
        host.join().unwrap()
    }

    #[test]
    fn offline_the_writers_wait_for_the_feed_and_every_frame_is_compared() {
        let reg = leaked(8);
        let (_m, master) = small(reg, "Master", Role::Master, 1024);
        let stems_in: Vec<_> = (0..3)
            .map(|i| small(reg, &format!("0{i}_S"), Role::Stem, 1024))
            .collect();
        let n = 60_000;
        let parts: Vec<Vec<f32>> = (0..3).map(|i| noise(n, i + 11)).collect();
        let mix: Vec<f32> = (0..n).map(|k| parts.iter().map(|s| s[k]).sum()).collect();
        let mut feed = LiveFeed::new(reg, master.tap().clone(), Some(_m.index()));
        let (handles, writers): (Vec<_>, Vec<_>) = stems_in.into_iter().unzip();
        let (master, writers) =
            render_offline(&mut feed, master, writers, mix, parts, (usize::MAX, 0));
        let f = feed.figures().unwrap();
        let c = feed.coverage().unwrap();
        assert_eq!(c.render_mode, RenderMode::Offline);
        assert_eq!(
            (c.frames, c.lost, c.partial, c.unchecked()),
            (n as u64, 0, 0, 0),
            "{c:?}"
        );
        assert_eq!(f.sum.skipped_frames, 0);
        assert!(f.sum.null_depth_db.unwrap() < -100.0, "{f:?}");
        let waits: u64 = std::iter::once(&master)
            .chain(&writers)
            .map(|w| w.wait_counts().0)
            .sum();
        assert!(waits > 0, "rings of 1024 frames made the host wait");
        assert!(
            writers.iter().all(|w| w.wait_counts().1 == 0),
            "no bound hit"
        );
        drop(feed);
        assert!(
            master.tap().pressure().current().unwrap().active == 0,
            "a dropped feed lets go"
        );
        drop(handles);
    }

    #[test]
    fn offline_a_stem_that_stops_is_left_out_after_a_bounded_wait_and_counted() {
        let reg = leaked(8);
        let (_m, master) = small(reg, "Master", Role::Master, 1024);
        let stems_in: Vec<_> = (0..3)
            .map(|i| small(reg, &format!("0{i}_S"), Role::Stem, 1024))
            .collect();
        let n = 40_000;
        let parts: Vec<Vec<f32>> = (0..3).map(|i| noise(n, i + 21)).collect();
        // The stopped stem's audio still reaches the master (a track whose insert is no
        // longer processed): the master is compared only while every stem is there.
        let mix: Vec<f32> = (0..n).map(|k| parts.iter().map(|s| s[k]).sum()).collect();
        let mut feed = LiveFeed::new(reg, master.tap().clone(), Some(_m.index()));
        let (handles, writers) = stems_in.into_iter().unzip::<_, _, Vec<_>, Vec<_>>();
        let started = Instant::now();
        render_offline(&mut feed, master, writers, mix, parts, (2, 20_480));
        let waited = started.elapsed();
        let c = feed.coverage().unwrap();
        assert_eq!(c.lost, 0, "{c:?}");
        assert_eq!(c.partial, (n - 20_480) as u64, "{c:?}");
        assert_eq!(c.stem_unseen, vec![0, 0, (n - 20_480) as u64]);
        assert_eq!(c.outran, 0);
        assert_eq!(c.reason(), Some(crate::analysis::Unchecked::Missing));
        assert!(waited >= STALL, "waited {waited:?} for the stalled stem");
        let f = feed.figures().unwrap();
        assert!(f.sum.null_depth_db.unwrap() < -100.0, "{f:?}");
        drop(handles);
    }

    #[test]
    fn a_host_of_unknown_mode_running_flat_out_is_found_rendering_and_loses_nothing() {
        let reg = leaked(8);
        // Rings of 2.5 s, as the plugin's.
        let (_m, master) = small(reg, "Master", Role::Master, 20_000);
        let stems_in: Vec<_> = (0..2)
            .map(|i| small(reg, &format!("0{i}_S"), Role::Stem, 20_000))
            .collect();
        let n = 200_000;
        let parts: Vec<Vec<f32>> = (0..2).map(|i| noise(n, i + 31)).collect();
        let mix: Vec<f32> = (0..n).map(|k| parts.iter().map(|s| s[k]).sum()).collect();
        let mut feed = LiveFeed::new(reg, master.tap().clone(), Some(_m.index()));
        feed.set_host_render(HostRender::Unknown);
        let (handles, writers): (Vec<_>, Vec<_>) = stems_in.into_iter().unzip();
        render_offline(&mut feed, master, writers, mix, parts, (usize::MAX, 0));
        let c = feed.coverage().unwrap();
        assert_eq!(c.render_mode, RenderMode::Offline, "{c:?}");
        assert!(c.inferred);
        assert_eq!((c.frames, c.unchecked()), (n as u64, 0), "{c:?}");
        drop(handles);
    }

    #[test]
    fn a_host_of_unknown_mode_playing_in_real_time_is_never_held() {
        let reg = leaked(4);
        let (_m, mut master) = small(reg, "Master", Role::Master, 4096);
        let (_s, mut stem) = small(reg, "01_S", Role::Stem, 4096);
        let mut feed = LiveFeed::new(reg, master.tap().clone(), Some(_m.index()));
        feed.set_host_render(HostRender::Unknown);
        feed.poll();
        // 1.5 s at 8 kHz in blocks of 80 (10 ms), in real time, polled every 40 ms.
        let x = noise(12_000, 9);
        let started = Instant::now();
        for (k, pos) in (0..12_000).step_by(80).enumerate() {
            master.write(pos as i64, &[&x[pos..pos + 80]]);
            stem.write(pos as i64, &[&x[pos..pos + 80]]);
            if k % 4 == 0 {
                feed.poll();
            }
            let due = Duration::from_millis(10 * (k as u64 + 1));
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        assert_eq!(feed.render_mode(), RenderMode::Realtime);
        assert_eq!(master.wait_counts(), (0, 0));
        assert_eq!(stem.wait_counts(), (0, 0));
        let hold = master.tap().pressure().current().unwrap();
        assert_eq!(hold.active, 0, "playing in real time: no hold");
        feed.poll();
        feed.poll();
        let c = feed.coverage().unwrap();
        assert_eq!(c.unchecked(), 0, "{c:?}");
        assert_eq!(c.render_mode, RenderMode::Realtime);
    }

    #[test]
    fn real_time_audio_overwritten_before_it_was_read_is_counted_as_outran() {
        let reg = leaked(4);
        let mut master = instance(reg, "Master", Role::Master);
        let (_s, mut stem) = instance(reg, "01_S", Role::Stem);
        let cap = master.1.tap().capacity();
        let n = cap * 3;
        let x = noise(n, 5);
        let mut feed = feed_of(reg, &master);
        master.1.write(0, &[&x[..256]]);
        stem.write(0, &[&x[..256]]);
        feed.poll();
        for pos in (256..n).step_by(256) {
            master.1.write(pos as i64, &[&x[pos..pos + 256]]);
            stem.write(pos as i64, &[&x[pos..pos + 256]]);
        }
        feed.poll();
        feed.poll();
        let c = feed.coverage().unwrap();
        assert_eq!(c.render_mode, RenderMode::Realtime);
        assert_eq!(c.frames, n as u64, "{c:?}");
        assert!(c.lost >= (n - cap) as u64 - 256, "{c:?}");
        assert_eq!(c.outran, c.lost);
        assert_eq!(c.reason(), Some(crate::analysis::Unchecked::Outran));
        assert_eq!(c.unchecked(), c.lost);
    }

    /// The feed of the master instance `master`.
    fn feed_of(reg: &'static Registry, master: &(SlotHandle, TapWriter)) -> LiveFeed {
        LiveFeed::new(reg, master.1.tap().clone(), Some(master.0.index()))
    }

    #[test]
    fn stems_run_after_the_master_still_sum() {
        let reg = leaked(8);
        let mut master = instance(reg, "Master", Role::Master);
        let mut stems_in: Vec<_> = (0..3)
            .map(|i| instance(reg, &format!("0{i}_S"), Role::Stem))
            .collect();
        let stems: Vec<Vec<f32>> = (0..3).map(|i| noise(24_000, i + 1)).collect();
        let mix: Vec<f32> = (0..24_000)
            .map(|k| stems.iter().map(|s| s[k]).sum())
            .collect();
        let mut feed = feed_of(reg, &master);
        // Blocks of 100: the master is processed first, the stems after it, and the feed
        // polls every 1000 frames.
        for pos in (0..24_000).step_by(100) {
            let r = pos..pos + 100;
            master.1.write(pos as i64, &[&mix[r.clone()]]);
            if pos % 1000 == 0 {
                feed.poll();
            }
            for ((_, w), s) in stems_in.iter_mut().zip(&stems) {
                w.write(pos as i64, &[&s[r.clone()]]);
            }
        }
        feed.poll();
        feed.poll(); // the master stopped advancing: read to the end and finish
        assert!(feed.is_finished());
        let f = feed.figures().unwrap();
        assert_eq!(f.frames, 24_000);
        assert_eq!(f.sum.stems.len(), 3);
        assert!(f.sum.null_depth_db.unwrap() < -100.0, "{f:?}");
        assert!(f.sum.stems.iter().all(|s| s.missing_chunks == 0));
        assert_eq!(f.sum.skipped_frames, 0);
    }

    #[test]
    fn a_stem_removed_while_the_master_reads_counts_as_silent_from_then_on() {
        let reg = leaked(4);
        let mut master = instance(reg, "Master", Role::Master);
        let (a, b) = (noise(24_000, 7), noise(24_000, 8));
        let (_keep, mut wa) = instance(reg, "01_A", Role::Stem);
        let mut b_stem = Some(instance(reg, "02_B", Role::Stem));
        let mut feed = feed_of(reg, &master);
        for pos in (0..24_000).step_by(200) {
            let r = pos..pos + 200;
            // B's instance is removed half-way (slot released, tap withdrawn and left to the
            // epoch collector while the feed may hold it); its audio stops reaching the
            // master too.
            if pos == 12_000 {
                b_stem = None;
            }
            wa.write(pos as i64, &[&a[r.clone()]]);
            let mut m: Vec<f32> = a[r.clone()].to_vec();
            if let Some((_, w)) = &mut b_stem {
                w.write(pos as i64, &[&b[r.clone()]]);
                m.iter_mut().zip(&b[r.clone()]).for_each(|(m, v)| *m += v);
            }
            master.1.write(pos as i64, &[&m]);
            if pos % 2_000 == 0 {
                feed.poll();
            }
        }
        feed.poll();
        feed.poll();
        let f = feed.figures().unwrap();
        assert_eq!(feed.stems().len(), 2, "both stems were in the pass");
        assert_eq!(f.sum.skipped_frames, 0, "{f:?}");
        assert!(f.sum.null_depth_db.unwrap() < -100.0, "{f:?}");
    }

    #[test]
    fn a_pass_read_to_a_pause_is_not_settled_once_the_master_moves_on() {
        // Offline, the feed catches up with a master that paused (its thread was not
        // scheduled), then the master writes on while a stem has not yet: the pass is not
        // read to its end, so a report must not be written as if it were, and what is left
        // counts as pending.
        let reg = leaked(8);
        let (m, mut master) = instance(reg, "Master", Role::Master);
        let (_s, mut stem) = instance(reg, "01_S", Role::Stem);
        let mut feed = LiveFeed::new(reg, master.tap().clone(), Some(m.index()));
        feed.set_host_render(HostRender::Offline);
        feed.poll();
        let x = noise(2048, 5);
        master.write(0, &[&x[..1024]]);
        stem.write(0, &[&x[..1024]]);
        feed.poll();
        feed.poll();
        assert!(feed.is_settled(), "read to the paused master's end");
        master.write(1024, &[&x[1024..]]);
        // Before the next poll (the report thread may look then): not settled, and pending.
        assert!(
            !feed.is_settled(),
            "the master wrote on since the last poll"
        );
        assert_eq!(feed.coverage().unwrap().pending, 1024);
        feed.poll();
        assert!(
            !feed.is_settled(),
            "the master wrote on and the stem has not: not read to the end"
        );
        let c = feed.coverage().unwrap();
        assert_eq!((c.frames, c.pending), (1024, 1024), "{c:?}");
        stem.write(1024, &[&x[1024..]]);
        feed.poll();
        feed.poll();
        assert!(feed.is_settled());
        let c = feed.coverage().unwrap();
        assert_eq!((c.frames, c.pending, c.unchecked()), (2048, 0, 0), "{c:?}");
    }
}
