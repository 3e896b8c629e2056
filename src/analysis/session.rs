//! One pass of a whole session: the sum-check, the stem sum's true peak, and limiter / clipper
//! detection of the master and of every stem, all fed from the same aligned chunks.
//!
//! The plugin's master feeds it from the registry's audio taps (off the audio thread); an
//! offline checker feeds it from files. Either way the figures are the same.

use super::dynamics::{DynamicsDetector, DynamicsResult};
use super::{SumCheck, SumCheckConfig, SumFigures};
use crate::dsp::true_peak::{MaxPeak, TruePeakDetector};

/// Everything a pass measured about the session, for the report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionFigures {
    /// The sum-check (null depth, gains, offsets, unaccounted, cancellation, master-bus
    /// processing).
    pub sum: SumFigures,
    /// True peak of the stems summed at unity, as they are (dBTP); `None` for silence.
    pub sum_true_peak_dbtp: Option<f32>,
    /// Limiter / clipper verdict of the master's own signal.
    pub master_dynamics: DynamicsResult,
    /// Limiter / clipper verdict of each stem, in the order given to [`SessionAnalysis::new`].
    pub stem_dynamics: Vec<DynamicsResult>,
    /// Frames of master audio pushed.
    pub frames: u64,
}

/// The analysis of one pass. Allocates in [`new`](Self::new) only.
pub struct SessionAnalysis {
    sum: SumCheck,
    master_dynamics: DynamicsDetector,
    stem_dynamics: Vec<DynamicsDetector>,
    stem_channels: Vec<usize>,
    sum_true_peak: Vec<TruePeakDetector>,
    sum_peak: MaxPeak,
    scratch: Vec<f32>,
    frames: u64,
}

/// Frames the stem sum is built in at a time.
const SCRATCH: usize = 1024;

impl SessionAnalysis {
    /// A pass over a master of `config.channels` channels and stems of `stem_channels`.
    pub fn new(config: SumCheckConfig, stem_channels: &[usize]) -> Self {
        let channels = config.channels.max(1);
        Self {
            sum: SumCheck::new(config, stem_channels),
            master_dynamics: DynamicsDetector::new(channels, config.sample_rate),
            stem_dynamics: stem_channels
                .iter()
                .map(|&c| DynamicsDetector::new(c.max(1), config.sample_rate))
                .collect(),
            stem_channels: stem_channels.to_vec(),
            sum_true_peak: (0..channels).map(|_| TruePeakDetector::new()).collect(),
            sum_peak: MaxPeak::default(),
            scratch: vec![0.0; SCRATCH],
            frames: 0,
        }
    }

    /// Number of stems.
    pub fn stem_count(&self) -> usize {
        self.stem_dynamics.len()
    }

    /// Adds the next chunk, as [`SumCheck::push`]: the master's channels and every stem's (or
    /// `None` where a stem is missing), all for the same transport positions.
    pub fn push(&mut self, master: &[&[f32]], stems: &[Option<&[&[f32]]>]) {
        let n = master.first().map_or(0, |c| c.len());
        if n == 0 {
            return;
        }
        self.frames += n as u64;
        self.sum.push(master, stems);
        self.master_dynamics.push(master);
        for (det, stem) in self.stem_dynamics.iter_mut().zip(stems) {
            if let Some(chans) = stem {
                det.push(chans);
            }
        }
        self.push_sum(stems, n);
    }

    /// The unity sum of the stems present, by position, through a true-peak meter.
    fn push_sum(&mut self, stems: &[Option<&[&[f32]]>], n: usize) {
        for (ch, det) in self.sum_true_peak.iter_mut().enumerate() {
            let mut at = 0;
            while at < n {
                let len = (n - at).min(SCRATCH);
                let sum = &mut self.scratch[..len];
                sum.fill(0.0);
                for (stem, &channels) in stems.iter().zip(&self.stem_channels) {
                    let Some(chans) = stem else { continue };
                    let Some(src) = chans.get(ch.min(channels.saturating_sub(1))) else {
                        continue;
                    };
                    if src.len() < n {
                        continue;
                    }
                    for (s, &v) in sum.iter_mut().zip(&src[at..at + len]) {
                        *s += v;
                    }
                }
                det.process(sum, &mut self.sum_peak);
                at += len;
            }
        }
    }

    /// Marks a jump in the transport (see [`SumCheck::discontinuity`]).
    pub fn discontinuity(&mut self) {
        self.sum.discontinuity();
    }

    /// Ends the pass (see [`SumCheck::finish`]); pushing may go on afterwards.
    pub fn finish(&mut self) {
        self.sum.finish();
    }

    /// Forgets the pass, keeping the allocation.
    pub fn reset(&mut self) {
        self.sum.reset();
        self.master_dynamics.reset();
        self.stem_dynamics
            .iter_mut()
            .for_each(DynamicsDetector::reset);
        self.sum_true_peak
            .iter_mut()
            .for_each(TruePeakDetector::clear);
        self.sum_peak = MaxPeak::default();
        self.frames = 0;
    }

    /// The figures so far.
    pub fn figures(&self) -> SessionFigures {
        let peak = self.sum_peak.max;
        SessionFigures {
            sum: self.sum.figures(),
            sum_true_peak_dbtp: (peak > 0.0).then(|| 20.0 * peak.log10()),
            master_dynamics: self.master_dynamics.result(),
            stem_dynamics: self.stem_dynamics.iter().map(|d| d.result()).collect(),
            frames: self.frames,
        }
    }
}
