//! The master's analysis feed: gathers the master's and every stem's audio from their taps by
//! transport position and pushes it into a [`SessionAnalysis`], off the audio thread.
//!
//! Called a few times a second by the master's analysis thread. For the master's audio at
//! positions `[p, p + n)` it reads every stem's tap for the same positions; a stem that has
//! not produced those positions (yet, or any more) is missing for that chunk, and the chunk is
//! counted against it and left out of the comparison. The feed trails the master's newest
//! audio by [`LiveFeed::trail`] frames, so stems that the host runs on other threads, or after
//! the master, have written their part before it is read; when the master stops advancing
//! (the transport stopped) the rest is read at once and the pass is finished.
//!
//! A pass starts when the master plays a position before the end of what was analysed (the
//! same rule as the meters' pass); a jump forward keeps the pass and marks a discontinuity.
//! The stems of a pass are those live when it starts; a stem removed during the pass counts
//! as silent from then on (its audio no longer reaches the master).

use super::{AudioTap, Entry, Registry, Role};
use crate::analysis::session::{SessionAnalysis, SessionFigures};
use crate::analysis::SumCheckConfig;
use std::sync::Arc;

/// Frames read per push.
const CHUNK: usize = 2048;

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
}

struct Pass {
    analysis: SessionAnalysis,
    stems: Vec<PassStem>,
    run: u64,
    /// Next master position to analyse.
    cursor: i64,
    /// Master end seen at the previous poll (to tell a stopped transport).
    last_end: i64,
    /// Master frames of the pass overwritten in its tap before the feed could read them (the
    /// host ran far faster than real time): counted as skipped.
    lost: u64,
    finished: bool,
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
        }
    }

    /// Frames the feed stays behind the master's newest audio while it advances.
    pub fn trail(&self) -> i64 {
        self.trail
    }

    /// The master tap this feed reads.
    pub fn master_tap(&self) -> &Arc<AudioTap> {
        &self.master
    }

    /// Forgets the pass (a manual reset): the next audio starts a new one.
    pub fn reset(&mut self) {
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
            f.sum.skipped_frames += p.lost;
            f
        })
    }

    /// Whether the current pass has been read to the master's end and finished.
    pub fn is_finished(&self) -> bool {
        self.pass.as_ref().is_some_and(|p| p.finished)
    }

    /// Whether there is nothing left to analyse: no pass yet, or the pass read to its end.
    pub fn is_settled(&self) -> bool {
        self.pass.as_ref().is_none_or(|p| p.finished)
    }

    /// Reads what the taps hold now and analyses it. Returns the number of master frames
    /// analysed.
    pub fn poll(&mut self) -> u64 {
        let Some(range) = self.master.range() else {
            return 0;
        };
        if range.run == 0 {
            return 0;
        }
        self.follow_run(range);
        let Some(pass) = &mut self.pass else {
            return 0;
        };
        let advancing = range.end != pass.last_end;
        pass.last_end = range.end;
        let target = if advancing {
            range.end - self.trail
        } else {
            range.end
        };
        let mut analysed = 0;
        while self.pass.as_ref().is_some_and(|p| p.cursor < target) {
            let n = self.step(target);
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
        analysed
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
                    pass.lost += (range.start - range.first.max(pass.cursor)).max(0) as u64;
                    pass.cursor = range.start;
                }
            }
            _ => self.start_pass(range),
        }
    }

    fn start_pass(&mut self, range: super::TapRange) {
        let rate = self.master.sample_rate();
        self.registry.read_into(&mut self.entries);
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
            stems.push(PassStem {
                slot: e.slot,
                generation: e.generation,
                tap,
                removed: false,
            });
        }
        let channels: Vec<usize> = stems.iter().map(|s| s.tap.channels()).collect();
        self.stem_bufs = channels
            .iter()
            .map(|&c| vec![vec![0.0; CHUNK]; c])
            .collect();
        let config = SumCheckConfig::new(self.master.channels(), rate);
        self.pass = Some(Pass {
            analysis: SessionAnalysis::new(config, &channels),
            stems,
            run: range.run,
            cursor: range.start,
            last_end: i64::MIN,
            lost: (range.start - range.first).max(0) as u64,
            finished: false,
        });
    }

    /// Analyses one chunk up to `target`; returns its length (0: nothing readable).
    fn step(&mut self, target: i64) -> u64 {
        let Some(pass) = &mut self.pass else {
            return 0;
        };
        let pos = pass.cursor;
        let want = ((target - pos) as usize).min(CHUNK);
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
            pass.lost += (now.start - pos) as u64;
            pass.cursor = now.start;
            return 0;
        }
        let len = (valid.end - pos) as usize;
        pass.finished = false;
        self.present.clear();
        for (stem, bufs) in pass.stems.iter_mut().zip(self.stem_bufs.iter_mut()) {
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
            self.present.push(whole || stem.removed);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{NameSource, SlotHandle, SlotReading, TapWriter};
    use crate::test_signal::noise;

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
}
