//! Everything measured on one channel of a bus: sample peak, true peak, clips, true-peak overs,
//! flat tops, non-finite samples and DC.

use super::events::EventLog;
use super::simd::Kernel;
use super::true_peak::{PeakSink, TruePeakDetector};

/// A sample at or above this magnitude is a clip (full scale).
pub const FULL_SCALE: f32 = 1.0;
/// Identical consecutive samples that make a flat top.
pub const FLAT_TOP_MIN_RUN: u32 = 3;
/// A flat top must sit within this ratio of the channel's sample peak (0.1 dB).
const FLAT_TOP_NEAR_PEAK: f32 = 0.988_553_1;
/// …and above −60 dBFS, so that quiet constant stretches (digital near-silence) do not count.
const FLAT_TOP_FLOOR: f32 = 0.001;

/// The readings of one channel, plain values (linear levels).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ChannelReadings {
    /// Highest |sample| since reset.
    pub sample_peak: f32,
    /// Decaying sample peak for a moving bar.
    pub sample_peak_display: f32,
    /// Highest true peak since reset; never below `sample_peak`.
    pub true_peak: f32,
    /// Decaying true peak for a moving bar.
    pub true_peak_display: f32,
    /// Samples at or above full scale.
    pub clips: EventLog,
    /// Inter-sample peaks above the true-peak ceiling.
    pub true_peak_overs: EventLog,
    /// Runs of ≥ 3 identical samples at the channel's peak level.
    pub flat_tops: EventLog,
    /// NaN or infinite samples seen (they are metered as silence).
    pub non_finite: u64,
    /// Mean sample value since reset.
    pub dc_offset: f32,
}

/// Collects the detector's refined peaks into the held true peak and the overs.
#[derive(Clone, Copy, Debug, Default)]
struct TruePeakHold {
    hold: f32,
    ceiling: f32,
    overs: EventLog,
    /// Transport position minus sample index for the block in progress.
    pos_offset: Option<i64>,
}

impl PeakSink for TruePeakHold {
    #[inline]
    fn gate(&self) -> f32 {
        // Peaks under the hold cannot raise it; peaks over the ceiling must all be counted.
        self.hold.min(self.ceiling)
    }

    #[inline]
    fn peak(&mut self, at: i64, value: f32) {
        if value > self.hold {
            self.hold = value;
        }
        if value > self.ceiling {
            self.overs.record(self.pos_offset.map(|o| at + o));
        }
    }

    fn peaks(&mut self, value: f32, count: u64, first_at: i64, last_at: i64) {
        if count == 0 {
            return;
        }
        if value > self.hold {
            self.hold = value;
        }
        if value > self.ceiling {
            let pos = |at: i64| self.pos_offset.map(|o| at + o);
            self.overs.record_run(count, pos(first_at), pos(last_at));
        }
    }
}

/// Meter state of one channel. Allocates only in [`ChannelMeter::new`].
#[derive(Clone, Debug)]
pub struct ChannelMeter {
    detector: TruePeakDetector,
    tp: TruePeakHold,
    sample_peak: f32,
    sample_peak_display: f32,
    true_peak_display: f32,
    clips: EventLog,
    flat_tops: EventLog,
    run_value: f32,
    run_len: u32,
    non_finite: u64,
    sum: f64,
    count: u64,
    /// Loudest peak of the latest block (2x-oversampled and sample peak), for the timeline.
    last_block_peak: f32,
}

impl ChannelMeter {
    /// A meter whose true-peak overs are counted above `ceiling` (linear).
    pub fn new(ceiling: f32) -> Self {
        Self {
            detector: TruePeakDetector::new(),
            tp: TruePeakHold {
                ceiling,
                ..Default::default()
            },
            sample_peak: 0.0,
            sample_peak_display: 0.0,
            true_peak_display: 0.0,
            clips: EventLog::default(),
            flat_tops: EventLog::default(),
            run_value: 0.0,
            run_len: 0,
            non_finite: 0,
            sum: 0.0,
            count: 0,
            last_block_peak: 0.0,
        }
    }

    /// Changes the true-peak ceiling (linear) for the overs counted from now on.
    pub fn set_ceiling(&mut self, ceiling: f32) {
        self.tp.ceiling = ceiling;
    }

    /// Clears every reading; the filter history stays, so no false edge appears. Allocates
    /// nothing (it runs on the audio thread).
    pub fn reset(&mut self) {
        self.tp = TruePeakHold {
            ceiling: self.tp.ceiling,
            ..Default::default()
        };
        self.sample_peak = 0.0;
        self.sample_peak_display = 0.0;
        self.true_peak_display = 0.0;
        self.clips = EventLog::default();
        self.flat_tops = EventLog::default();
        self.run_value = 0.0;
        self.run_len = 0;
        self.non_finite = 0;
        self.sum = 0.0;
        self.count = 0;
    }

    /// Clears readings and the filter history (a new stream, e.g. after reactivation).
    pub fn restart(&mut self) {
        self.reset();
        self.detector.clear();
    }

    /// Loudest peak of the latest block, linear.
    pub fn last_block_peak(&self) -> f32 {
        self.last_block_peak
    }

    /// Index of the next sample this channel will see (counted since the last restart).
    pub fn next_index(&self) -> i64 {
        self.detector.next_index()
    }

    /// Meters one block. `pos_offset` maps this channel's sample index (see
    /// [`ChannelMeter::next_index`]) to transport samples; `decay` is the display decay factor
    /// for this block's length.
    pub fn process(&mut self, x: &[f32], pos_offset: Option<i64>, decay: f32) {
        let block_max = match fast_stats(self.detector.kernel(), x, self.run_value, self.run_len) {
            Some(stats) => {
                // No clip, no NaN/Inf and no loud run of three: levels and DC only.
                self.sample_peak = self.sample_peak.max(stats.max);
                self.sum += stats.sum;
                self.count += x.len() as u64;
                self.run_value = stats.last;
                self.run_len = stats.last_run;
                stats.max
            }
            None => self.sample_by_sample(x, pos_offset),
        };
        self.tp.pos_offset = pos_offset;
        self.detector.process(x, &mut self.tp);
        let coarse = self.detector.take_coarse_max();
        self.last_block_peak = coarse.max(block_max);
        self.sample_peak_display = (self.sample_peak_display * decay).max(block_max);
        self.true_peak_display = (self.true_peak_display * decay).max(coarse).max(block_max);
    }

    /// The exact per-sample path for blocks with events: clips, flat tops, NaN/Inf. Returns
    /// the block's largest |sample|.
    fn sample_by_sample(&mut self, x: &[f32], pos_offset: Option<i64>) -> f32 {
        let start = self.detector.next_index();
        // Signed: a flat top's first sample may lie in an earlier block (negative k).
        let pos = |k: i64| pos_offset.map(|o| o + start + k);
        let mut block_max = 0.0f32;
        for (k, &raw) in x.iter().enumerate() {
            let v = if raw.is_finite() {
                raw
            } else {
                self.non_finite += 1;
                0.0
            };
            let a = v.abs();
            if a > block_max {
                block_max = a;
                if a > self.sample_peak {
                    self.sample_peak = a;
                }
            }
            if a >= FULL_SCALE {
                self.clips.record(pos(k as i64));
            }
            if v == self.run_value {
                self.run_len += 1;
                if self.run_len == FLAT_TOP_MIN_RUN
                    && a >= FLAT_TOP_FLOOR
                    && a >= self.sample_peak * FLAT_TOP_NEAR_PEAK
                {
                    self.flat_tops
                        .record(pos(k as i64 + 1 - FLAT_TOP_MIN_RUN as i64));
                }
            } else {
                self.run_value = v;
                self.run_len = 1;
            }
            self.sum += v as f64;
        }
        self.count += x.len() as u64;
        block_max
    }

    /// The current readings.
    pub fn readings(&self) -> ChannelReadings {
        ChannelReadings {
            sample_peak: self.sample_peak,
            sample_peak_display: self.sample_peak_display,
            true_peak: self.tp.hold.max(self.sample_peak),
            true_peak_display: self.true_peak_display,
            clips: self.clips,
            true_peak_overs: self.tp.overs,
            flat_tops: self.flat_tops,
            non_finite: self.non_finite,
            dc_offset: if self.count > 0 {
                (self.sum / self.count as f64) as f32
            } else {
                0.0
            },
        }
    }
}

/// Level and sum of a block that needs no per-sample look, and the run it ends with.
struct FastStats {
    max: f32,
    sum: f64,
    /// The last sample, and how many equal samples end the block (at most 3, which is all the
    /// flat-top rule needs to know).
    last: f32,
    last_run: u32,
}

/// Lanes for the vectorised block statistics.
const LANES: usize = 8;

/// The block's largest |sample| and sum, or `None` when the block holds anything the exact
/// path must see: a sample at or over full scale, NaN/Inf, or three equal samples in a row loud
/// enough for a flat top (also counting the run `prev` × `prev_run` that ended the previous
/// block). Two equal neighbours alone are common in loud tones and need no look. Blocks under
/// three samples always take the exact path. Written branch-free over fixed lanes so that it
/// vectorises.
/// Compiled for AVX2 when `kernel` (the channel's true-peak kernel) is.
fn fast_stats(kernel: Kernel, x: &[f32], prev: f32, prev_run: u32) -> Option<FastStats> {
    #[cfg(target_arch = "x86_64")]
    if kernel.is_avx2() {
        // SAFETY: the AVX2 kernel exists only on a CPU with AVX2 and FMA.
        return unsafe { fast_stats_avx2(x, prev, prev_run) };
    }
    fast_stats_lanes(x, prev, prev_run)
}

/// [`fast_stats_lanes`] compiled for AVX2: the same lanes and sums in wider vectors (Rust
/// never fuses or reorders float operations, so the result is identical).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fast_stats_avx2(x: &[f32], prev: f32, prev_run: u32) -> Option<FastStats> {
    fast_stats_lanes(x, prev, prev_run)
}

/// The body of [`fast_stats`].
#[inline(always)]
fn fast_stats_lanes(x: &[f32], prev: f32, prev_run: u32) -> Option<FastStats> {
    let n = x.len();
    if n < FLAT_TOP_MIN_RUN as usize {
        return None;
    }
    let loud_prev = prev.abs() >= FLAT_TOP_FLOOR;
    if loud_prev & (x[0] == prev) & ((prev_run >= 2) | (x[1] == prev)) {
        return None;
    }
    let mut max = [0.0f32; LANES];
    let mut sum = [0.0f64; LANES];
    let mut suspicious = [false; LANES];
    let mut chunks = x.chunks_exact(LANES);
    for c in &mut chunks {
        for k in 0..LANES {
            let a = c[k].abs();
            max[k] = if a > max[k] { a } else { max[k] };
            sum[k] += c[k] as f64;
            // At or over full scale, or NaN (which fails every comparison).
            suspicious[k] |= (a >= FULL_SCALE) | a.is_nan();
        }
    }
    let mut tail_bad = false;
    let mut tail_max = 0.0f32;
    let mut tail_sum = 0.0f64;
    for &v in chunks.remainder() {
        let a = v.abs();
        tail_max = tail_max.max(a);
        tail_sum += v as f64;
        tail_bad |= (a >= FULL_SCALE) | a.is_nan();
    }
    let mut triples = false;
    for ((a, b), c) in x.iter().zip(&x[1..]).zip(&x[2..]) {
        triples |= (a == b) & (b == c) & (a.abs() >= FLAT_TOP_FLOOR);
    }
    if triples || tail_bad || suspicious.iter().any(|&b| b) {
        return None;
    }
    // The run the block ends with, capped at 3: a longer run can start no new flat top.
    let last = x[n - 1];
    let mut last_run = 1;
    if x[n - 2] == last {
        last_run = 2;
        if x[n - 3] == last {
            last_run = 3;
        }
    }
    Some(FastStats {
        max: max.iter().fold(tail_max, |m, &v| m.max(v)),
        sum: sum.iter().sum::<f64>() + tail_sum,
        last,
        last_run,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_and_flat_tops_are_counted_with_positions() {
        let mut m = ChannelMeter::new(0.891);
        let mut x = vec![0.0f32; 64];
        for (i, v) in x.iter_mut().enumerate() {
            *v = (i as f32 * 0.3).sin() * 0.5;
        }
        x[20..25].fill(1.0); // a clipped run of five samples at full scale
        m.process(&x, Some(1000), 1.0);
        m.process(&[0.0; 64], Some(1000), 1.0);
        let r = m.readings();
        assert_eq!(r.clips.count, 5);
        assert_eq!(r.clips.first, Some(1020));
        assert_eq!(r.clips.last, Some(1024));
        assert_eq!(r.flat_tops.count, 1);
        assert_eq!(r.flat_tops.first, Some(1020));
        assert!(r.true_peak_overs.count >= 1);
        assert!(r.true_peak >= 1.0);
    }

    #[test]
    fn a_flat_top_across_blocks_is_placed_at_its_first_sample() {
        let mut m = ChannelMeter::new(1.0);
        m.process(&[0.1, 0.2, 0.9, 0.9], Some(500), 1.0);
        m.process(&[0.9, 0.3], Some(500), 1.0);
        let r = m.readings();
        assert_eq!(r.flat_tops.count, 1);
        assert_eq!(r.flat_tops.first, Some(502));
    }

    #[test]
    fn a_quiet_constant_stretch_is_not_a_flat_top() {
        let mut m = ChannelMeter::new(1.0);
        m.process(&[0.5, -0.5, 0.0005, 0.0005, 0.0005, 0.0005], None, 1.0);
        assert_eq!(m.readings().flat_tops.count, 0);
    }

    #[test]
    fn non_finite_samples_are_counted_and_do_not_poison_the_levels() {
        let mut m = ChannelMeter::new(1.0);
        m.process(
            &[0.25, f32::NAN, f32::INFINITY, -0.5, f32::NEG_INFINITY],
            None,
            1.0,
        );
        m.process(&[0.0; 64], None, 1.0);
        let r = m.readings();
        assert_eq!(r.non_finite, 3);
        assert_eq!(r.sample_peak, 0.5);
        assert!(r.true_peak.is_finite() && r.true_peak >= 0.5 && r.true_peak < 0.8);
        assert!(r.dc_offset.is_finite());
    }

    #[test]
    fn flat_tops_are_found_whatever_the_block_size_and_pairs_are_not_flat_tops() {
        // A loud tone with pairs of equal samples, then a run of three at the peak, split
        // across blocks in every way.
        let mut x: Vec<f32> = (0..64).map(|i| [0.5f32, 0.5, -0.25, -0.9][i % 4]).collect();
        x[40..43].fill(0.9);
        for size in [1, 2, 3, 5, 7, 64] {
            let mut m = ChannelMeter::new(1.0);
            for block in x.chunks(size) {
                m.process(block, Some(0), 1.0);
            }
            let r = m.readings();
            assert_eq!(r.flat_tops.count, 1, "blocks of {size}");
            assert_eq!(r.flat_tops.first, Some(40), "blocks of {size}");
        }
    }

    #[test]
    fn reset_clears_readings() {
        let mut m = ChannelMeter::new(1.0);
        m.process(&[1.0, 1.0, 1.0, 0.0], None, 1.0);
        m.reset();
        m.process(&[0.0; 32], None, 1.0);
        let r = m.readings();
        assert_eq!((r.clips.count, r.flat_tops.count), (0, 0));
        assert!(r.sample_peak == 0.0);
    }
}
