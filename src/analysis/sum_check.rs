//! The sum-check accumulator: push aligned chunks of master and stems, read figures.
//!
//! # Design
//!
//! Frames are numbered from the first pushed one. Every pushed frame goes into a fixed
//! [`History`]; the fit consumes frames from it in blocks of 256, trailing the newest frame
//! by [`SumCheck::latency`] (one estimation window plus `max_lag`). The trail is what lets
//! each stem's offset be estimated *before* any of its audio enters the fit: when the
//! first frame a stem carries signal in (above −100 dBFS) is about to be consumed, the
//! history still holds a whole window from that frame on, and the offset is estimated
//! there ([`align`](super::align)), then fixed for the rest of the pass. So a stem that
//! enters after two minutes of silence gets a window of its own audio, and the gain fit and
//! the null depth are computed at the detected offsets from the first frame on.
//!
//! Memory is fixed at construction (history ≈ (window + 2·max_lag + 4352) frames of every
//! channel of the master and every stem, plus FFT buffers); work per pushed frame is bounded
//! (one Gram update, O(stems² · channels)), and an offset estimate costs a few real FFTs of
//! the window length per stem, once per stem per pass.
//!
//! Figures cover the frames consumed so far; [`SumCheck::finish`] consumes the rest at the
//! end of a pass (pushing may continue afterwards).

use super::align::{Aligner, Placement};
use super::config::{Layout, SumCheckConfig};
use super::figures::{gain_db, ratio_db, solve, StemFit, SumFigures, INVERTED_BELOW};
use super::history::History;
use super::master_processing::MasterProcessing;
use super::normal_equations::NormalEquations;
use super::stem_channel;

/// A stem's first frame above this sample magnitude (−100 dBFS) is where its signal starts:
/// below dither, so a stem's noise floor does not start its estimate early.
const SIGNAL_THRESHOLD: f32 = 1e-5;

/// What is known about one stem beyond its samples.
#[derive(Clone, Copy, Debug, Default)]
struct StemState {
    /// Offset fixed: estimated from a window of this stem's signal.
    locked: bool,
    /// First frame with signal.
    first_signal: Option<u64>,
    missing_chunks: u64,
}

/// The sum-check of one master against its stems. Allocates everything in [`SumCheck::new`];
/// `push` never allocates, so it can run on any thread that owns it.
pub struct SumCheck {
    layout: Layout,
    stem_channels: Vec<usize>,
    history: History,
    sums: NormalEquations,
    aligner: Aligner,
    stems: Vec<StemState>,
    placements: Vec<Placement>,
    /// Next frame the fit consumes.
    cursor: u64,
    compared: u64,
    skipped: u64,
    /// Frames inserted at jumps, not yet consumed (not frames of the pass: never counted as
    /// skipped), oldest first.
    gaps: Gaps,
    ok: Vec<bool>,
    read: Vec<f32>,
    x: Vec<f64>,
    m: Vec<f64>,
    todo: Vec<usize>,
    /// Processing on the master, judged against the stems summed at unity at their offsets
    /// (a fader or a flipped stem is a constant ratio, which the detector does not count as
    /// processing; a fitted sum would absorb part of a gentle limiter into the gains).
    processing: MasterProcessing,
    /// Per channel, the master and its prediction for the block being consumed.
    block_master: Vec<f32>,
    block_prediction: Vec<f32>,
}

impl SumCheck {
    /// A sum-check for stems of the given channel counts (1 = mono: it feeds every master
    /// channel; otherwise stem channel c feeds master channel c, the last one feeding any
    /// further master channels).
    pub fn new(config: SumCheckConfig, stem_channels: &[usize]) -> Self {
        let layout = config.layout();
        let stem_channels: Vec<usize> = stem_channels.iter().map(|&c| c.clamp(1, 64)).collect();
        let n = stem_channels.len();
        Self {
            history: History::new(layout.history, layout.channels, &stem_channels),
            sums: NormalEquations::new(layout.channels, n, layout.block),
            aligner: Aligner::new(&layout),
            stems: vec![StemState::default(); n],
            placements: vec![Placement::default(); n],
            cursor: 0,
            compared: 0,
            skipped: 0,
            gaps: Gaps::default(),
            ok: vec![false; layout.block],
            read: vec![0.0; layout.block],
            x: vec![0.0; n * layout.block],
            m: vec![0.0; layout.block],
            todo: Vec::with_capacity(n),
            processing: MasterProcessing::new(layout.channels, config.sample_rate),
            block_master: vec![0.0; layout.channels * layout.block],
            block_prediction: vec![0.0; layout.channels * layout.block],
            stem_channels,
            layout,
        }
    }

    /// Number of stems.
    pub fn stem_count(&self) -> usize {
        self.stems.len()
    }

    /// Frames by which [`figures`](Self::figures) trail the newest pushed frame until
    /// [`finish`](Self::finish) is called.
    pub fn latency(&self) -> usize {
        self.layout.trailing()
    }

    /// Adds the next chunk: the master's channels and every stem's, all the same length and
    /// for the same transport positions, following the previous chunk without a gap (see
    /// [`discontinuity`](Self::discontinuity)). `None`, a wrong channel count or a short
    /// slice marks that stem missing for the chunk: counted in
    /// [`StemFit::missing_chunks`], and the frames it would feed are left out of every
    /// figure (the master still holds that stem's audio, so comparing them would be wrong).
    /// Any chunk length works; the figures do not depend on how the audio was chunked.
    pub fn push(&mut self, master: &[&[f32]], stems: &[Option<&[&[f32]]>]) {
        let n = master.first().map_or(0, |c| c.len());
        if n == 0 {
            return;
        }
        let master = (master.len() >= self.layout.channels
            && master[..self.layout.channels].iter().all(|c| c.len() >= n))
        .then_some(master);
        let start = self.history.end();
        for (i, state) in self.stems.iter_mut().enumerate() {
            match checked(stems, i, self.stem_channels[i], n) {
                None => state.missing_chunks += 1,
                Some(chans) if state.first_signal.is_none() => {
                    state.first_signal = chans
                        .iter()
                        .filter_map(|c| c[..n].iter().position(|v| v.abs() > SIGNAL_THRESHOLD))
                        .min()
                        .map(|p| start + p as u64);
                }
                Some(_) => {}
            }
        }
        let mut offset = 0;
        while offset < n {
            let len = (n - offset).min(self.layout.piece);
            let stem_channels = &self.stem_channels;
            self.history.write(len, offset, master, |i| {
                checked(stems, i, stem_channels[i], n)
            });
            offset += len;
            self.consume(self.trailing_limit(), false);
        }
    }

    /// Marks a break in the transport (a loop jump, a relocation): `max_lag` unusable frames
    /// are inserted so that no frame is compared with audio from the other side of the jump.
    /// Offsets already found are kept.
    pub fn discontinuity(&mut self) {
        let start = self.history.end();
        self.gaps.push(start, start + self.layout.max_lag as u64);
        let mut left = self.layout.max_lag;
        while left > 0 {
            let len = left.min(self.layout.piece);
            self.history.write(len, 0, None, |_| None);
            left -= len;
            self.consume(self.trailing_limit(), false);
        }
    }

    /// Ends the pass: estimates the offset of any stem with signal that has none yet (from
    /// what is left, however short) and consumes every frame whose stem audio is all there
    /// (a stem found early needs audio after the newest frame for the last few frames;
    /// those stay pending). Pushing may go on afterwards.
    pub fn finish(&mut self) {
        let end = self.history.end();
        if self.cursor < end {
            let window_end = end.min(self.cursor + self.layout.window as u64);
            self.align(self.cursor, window_end, true);
        }
        let ahead = self
            .stems
            .iter()
            .zip(&self.placements)
            .filter(|(s, _)| s.locked)
            .map(|(_, p)| (-p.lag).max(0) as u64)
            .max()
            .unwrap_or(0);
        self.consume(end.saturating_sub(ahead), true);
    }

    /// Forgets the pass, keeping the allocation.
    pub fn reset(&mut self) {
        self.history.clear();
        self.sums.clear();
        self.stems.fill(StemState::default());
        self.placements.fill(Placement::default());
        self.cursor = 0;
        self.compared = 0;
        self.skipped = 0;
        self.gaps = Gaps::default();
        self.processing.reset();
    }

    /// The figures over every frame consumed so far. Solves one small linear system per
    /// master channel (stems³/6 operations): cheap for tens of stems, not for every block.
    pub fn figures(&self) -> SumFigures {
        let n = self.stems.len();
        let solved = solve(&self.sums.channels, n);
        let stems = (0..n)
            .map(|i| {
                let gains = &solved.gains[i];
                StemFit {
                    gain_db: gains.iter().map(|g| g.map(gain_db)).collect(),
                    polarity_inverted: gains.iter().flatten().any(|&g| g < INVERTED_BELOW),
                    offset_samples: self.stems[i].locked.then_some(self.placements[i].lag),
                    missing_chunks: self.stems[i].missing_chunks,
                }
            })
            .collect();
        SumFigures {
            null_depth_db: ratio_db(solved.residual, solved.master),
            null_depth_fitted_db: ratio_db(solved.fitted, solved.master),
            unaccounted_db: ratio_db(solved.fitted, solved.master),
            cancellation_db: ratio_db(solved.sum, solved.parts),
            compared_frames: self.compared,
            skipped_frames: self.skipped,
            stems,
            master_processing: self.processing.result(),
        }
    }

    /// Frames before this one may be consumed during a pass.
    fn trailing_limit(&self) -> u64 {
        self.history
            .end()
            .saturating_sub(self.layout.trailing() as u64)
    }

    /// Consumes whole blocks up to `limit` (and a last partial one when `partial`). Blocks
    /// start at fixed multiples of the block length during a pass, so the sums are added in
    /// the same order whatever the chunk sizes were.
    fn consume(&mut self, limit: u64, partial: bool) {
        while self.cursor < limit {
            let len = (limit - self.cursor).min(self.layout.block as u64) as usize;
            if len < self.layout.block && !partial {
                break;
            }
            let reach = self.cursor + (len + self.layout.max_lag) as u64;
            let due = self
                .stems
                .iter()
                .any(|s| !s.locked && s.first_signal.is_some_and(|f| f < reach));
            if due {
                let end = (self.cursor + self.layout.window as u64).min(self.history.end());
                self.align(self.cursor, end, partial);
                // A stem that shows signal only after the window: estimated later, at its
                // own first block.
            }
            self.accumulate(self.cursor, len);
            self.cursor += len as u64;
        }
    }

    /// Estimates offsets from master frames `from..end` for every unlocked stem with
    /// signal there, and locks those whose signal starts early enough in the window to
    /// trust (all of them when `last`, or when their audio is about to be consumed).
    fn align(&mut self, from: u64, end: u64, last: bool) {
        let reach = from + (self.layout.block + self.layout.max_lag) as u64;
        let trusted = from + self.layout.window as u64 / 2;
        self.todo.clear();
        self.todo.extend(
            self.stems
                .iter()
                .enumerate()
                .filter(|(_, s)| !s.locked && s.first_signal.is_some_and(|f| f < end))
                .map(|(i, _)| i),
        );
        if self.todo.is_empty() {
            return;
        }
        // Unlocked stems without signal in the window are consumed at lag 0 and unity:
        // place them there for the others' residual too. Those being estimated start from
        // their previous provisional estimate, if any.
        for (i, (s, p)) in self.stems.iter().zip(&mut self.placements).enumerate() {
            if !s.locked && !self.todo.contains(&i) {
                *p = Placement::default();
            }
        }
        self.aligner.estimate(
            &self.history,
            &self.stem_channels,
            from as i64,
            (end - from) as usize,
            &mut self.placements,
            &self.todo,
        );
        for &i in &self.todo {
            let first = self.stems[i].first_signal.unwrap_or(u64::MAX);
            if last || first < trusted || first < reach {
                self.stems[i].locked = true;
            }
        }
    }

    /// Adds frames `from..from + len` to the sums, each stem read at its offset.
    fn accumulate(&mut self, from: u64, len: usize) {
        let n = self.stems.len();
        let from = from as i64;
        let ok = &mut self.ok[..len];
        ok.fill(true);
        self.history.and_master_ok(from, ok);
        for (i, (s, p)) in self.stems.iter().zip(&self.placements).enumerate() {
            self.history.and_stem_ok(i, from - read_lag(s, p), ok);
        }
        let used = ok.iter().filter(|&&o| o).count();
        let gap = self.gaps.take(from as u64, len as u64);
        self.compared += used as u64;
        self.skipped += (len - used) as u64 - gap;
        if used == 0 {
            return;
        }
        for ch in 0..self.layout.channels {
            let read = &mut self.read[..len];
            self.history.read_master(ch, from, read);
            for ((m, &r), &o) in self.m[..len].iter_mut().zip(read.iter()).zip(ok.iter()) {
                *m = if o { r as f64 } else { 0.0 };
            }
            for i in 0..n {
                let lag = read_lag(&self.stems[i], &self.placements[i]);
                let read = &mut self.read[..len];
                self.history.read_stem(
                    i,
                    stem_channel(self.stem_channels[i], ch),
                    from - lag,
                    read,
                );
                let x = &mut self.x[i * len..(i + 1) * len];
                for ((x, &r), &o) in x.iter_mut().zip(read.iter()).zip(ok.iter()) {
                    *x = if o { r as f64 } else { 0.0 };
                }
            }
            self.sums.add_block(ch, &self.x[..n * len], &self.m[..len]);
            predict(
                &mut self.block_master[ch * len..(ch + 1) * len],
                &mut self.block_prediction[ch * len..(ch + 1) * len],
                &self.m[..len],
                &self.x[..n * len],
            );
        }
        self.feed_processing(len);
    }

    /// Passes the block to the master-processing detector.
    fn feed_processing(&mut self, len: usize) {
        const MAX_CHANNELS: usize = 8;
        let channels = self.layout.channels.min(MAX_CHANNELS);
        let mut master: [&[f32]; MAX_CHANNELS] = [&[]; MAX_CHANNELS];
        let mut prediction: [&[f32]; MAX_CHANNELS] = [&[]; MAX_CHANNELS];
        for ch in 0..channels {
            master[ch] = &self.block_master[ch * len..(ch + 1) * len];
            prediction[ch] = &self.block_prediction[ch * len..(ch + 1) * len];
        }
        self.processing
            .push(&master[..channels], &prediction[..channels]);
    }
}

/// Keeps one channel of the block just read, the master and the stems (`x`, one run of the
/// block's length per stem, at their offsets) summed at unity, for the master-processing
/// detector.
fn predict(master: &mut [f32], prediction: &mut [f32], m: &[f64], x: &[f64]) {
    let len = master.len();
    for (dst, &v) in master.iter_mut().zip(m) {
        *dst = v as f32;
    }
    prediction.fill(0.0);
    for stem in x.chunks_exact(len) {
        for (p, &v) in prediction.iter_mut().zip(stem) {
            *p += v as f32;
        }
    }
}

/// The offset a stem is read at: its estimate once locked, 0 before (its audio is below the
/// signal threshold until then, so where it is read makes no difference).
fn read_lag(state: &StemState, placement: &Placement) -> i64 {
    if state.locked {
        placement.lag
    } else {
        0
    }
}

/// Stem `i`'s channels for a chunk of `n` frames, if present and well-formed.
fn checked<'a, 'b: 'a>(
    stems: &[Option<&'a [&'b [f32]]>],
    i: usize,
    channels: usize,
    n: usize,
) -> Option<&'a [&'b [f32]]> {
    stems
        .get(i)
        .copied()
        .flatten()
        .filter(|c| c.len() == channels && c.iter().all(|s| s.len() >= n))
}

/// The gap frames inserted at jumps that are not consumed yet, as frame ranges. Fixed size:
/// more jumps than it holds within one trailing window merge into the newest range.
#[derive(Clone, Copy, Debug, Default)]
struct Gaps {
    ranges: [(u64, u64); 8],
    len: usize,
}

impl Gaps {
    fn push(&mut self, start: u64, end: u64) {
        if self.len == self.ranges.len() {
            self.ranges[self.len - 1].1 = end;
        } else {
            self.ranges[self.len] = (start, end);
            self.len += 1;
        }
    }

    /// How many frames of `[from, from + len)` are gap frames; forgets ranges consumed.
    fn take(&mut self, from: u64, len: u64) -> u64 {
        let to = from + len;
        let mut n = 0;
        for &(a, b) in &self.ranges[..self.len] {
            n += b.min(to).saturating_sub(a.max(from));
        }
        let done = self.ranges[..self.len]
            .iter()
            .take_while(|&&(_, b)| b <= to)
            .count();
        self.ranges.copy_within(done..self.len, 0);
        self.len -= done;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_signal::noise;

    /// A small configuration so tests run in a blink: 64-frame lags, a quarter second.
    fn small(channels: usize) -> SumCheckConfig {
        SumCheckConfig {
            channels,
            sample_rate: 8_000.0,
            max_lag: 64,
            lag_window_seconds: 0.25,
        }
    }

    #[test]
    fn is_send() {
        fn send<T: Send>() {}
        send::<SumCheck>();
    }

    #[test]
    fn non_finite_master_samples_are_skipped_not_poisoning() {
        let (a, b) = (noise(8_000, 1), noise(8_000, 2));
        let mut m: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
        m[3_000] = f32::NAN;
        m[5_000] = f32::INFINITY;
        let mut check = SumCheck::new(small(1), &[1, 1]);
        check.push(&[&m], &[Some(&[&a]), Some(&[&b])]);
        check.finish();
        let f = check.figures();
        assert_eq!(f.skipped_frames, 2);
        assert_eq!(f.compared_frames, 7_998);
        assert!(f.null_depth_db.unwrap() < -120.0, "{f:?}");
        assert!(f.stems.iter().all(|s| s.offset_samples == Some(0)));
    }

    #[test]
    fn a_stem_that_does_not_reach_the_master_is_not_called_inverted() {
        let (a, b) = (noise(8_000, 3), noise(8_000, 4));
        let mut check = SumCheck::new(small(1), &[1, 1]);
        check.push(&[&a], &[Some(&[&a]), Some(&[&b])]);
        check.finish();
        let f = check.figures();
        assert!(!f.stems[1].polarity_inverted, "{f:?}");
        assert!(f.stems[1].gain_db[0].unwrap() < -30.0, "{f:?}");
        assert!(f.stems[0].gain_db[0].unwrap().abs() < 0.01, "{f:?}");
    }

    #[test]
    fn reset_starts_a_new_pass() {
        let a = noise(8_000, 5);
        let mut check = SumCheck::new(small(1), &[1]);
        check.push(&[&a], &[None]);
        check.finish();
        assert_eq!(check.figures().stems[0].missing_chunks, 1);
        check.reset();
        check.push(&[&a], &[Some(&[&a])]);
        check.finish();
        let f = check.figures();
        assert_eq!((f.stems[0].missing_chunks, f.compared_frames), (0, 8_000));
    }
}
