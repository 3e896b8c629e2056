//! The `ebur128` crate as the loudness peer of the accuracy tests and of the evaluation on
//! real recordings.
//!
//! Its loudness range is Tech 3342's definition applied to `ebur128`'s short-term loudness
//! read every 100 ms: Tech 3342 (2016) asks for short-term values at least every 100 ms
//! (windows overlapping by at least 2.9 s), while `ebur128` takes its own LRA from one value
//! per second (the older 2 s overlap), which on programme material moves LRA by some tenths
//! of an LU by sampling alone. `ebur128`'s own figure stays available as [`LoudnessPeer::own_range`].

/// `ebur128` fed any chunks, reading its short-term loudness every 100 ms.
pub struct LoudnessPeer {
    meter: ebur128::EbuR128,
    /// Frames per 100 ms.
    step: usize,
    /// Frames fed so far.
    frames: usize,
    /// Short-term loudness every 100 ms from 3 s on.
    short_terms: Vec<f64>,
}

impl LoudnessPeer {
    /// A peer for `channels` channels at `rate` Hz.
    pub fn new(channels: usize, rate: u32) -> Self {
        let mode = ebur128::Mode::I | ebur128::Mode::LRA | ebur128::Mode::M | ebur128::Mode::S;
        Self {
            meter: ebur128::EbuR128::new(channels as u32, rate, mode).expect("meter"),
            step: (f64::from(rate) / 10.0).round() as usize,
            frames: 0,
            short_terms: Vec::new(),
        }
    }

    /// Feeds one chunk (one slice per channel, equal lengths).
    pub fn push(&mut self, planes: &[&[f32]]) {
        let n = planes.first().map_or(0, |p| p.len());
        let mut start = 0;
        while start < n {
            // Up to the next 100 ms boundary of the stream.
            let end = n.min(start + self.step - self.frames % self.step);
            let piece: Vec<&[f32]> = planes.iter().map(|p| &p[start..end]).collect();
            self.meter.add_frames_planar_f32(&piece).expect("frames");
            self.frames += end - start;
            if self.frames.is_multiple_of(self.step) && self.frames >= 30 * self.step {
                self.short_terms
                    .push(self.meter.loudness_shortterm().expect("S"));
            }
            start = end;
        }
    }

    /// Integrated loudness, LUFS (−∞ when everything is gated out).
    pub fn integrated(&self) -> f64 {
        self.meter.loudness_global().expect("I")
    }

    /// Loudness range by Tech 3342 on the 100 ms short-term values (`None` when none passes
    /// the gates).
    pub fn range(&self) -> Option<f64> {
        tech_3342_range(&self.short_terms)
    }

    /// `ebur128`'s own loudness range (one short-term value per second).
    pub fn own_range(&self) -> f64 {
        self.meter.loudness_range().expect("LRA")
    }

    /// Momentary loudness now, LUFS.
    pub fn momentary(&self) -> f64 {
        self.meter.loudness_momentary().expect("M")
    }

    /// Short-term loudness now, LUFS.
    pub fn short_term(&self) -> f64 {
        self.meter.loudness_shortterm().expect("S")
    }
}

/// Loudness range of a list of short-term values, as Tech 3342 defines it: absolute gate at
/// −70 LUFS, relative gate 20 LU below the power mean of the rest, then the spread from the
/// 10th to the 95th percentile. `None` when nothing passes the gates.
pub fn tech_3342_range(values: &[f64]) -> Option<f64> {
    let power = |v: &[f64]| v.iter().map(|l| 10f64.powf(l / 10.0)).sum::<f64>() / v.len() as f64;
    let gated: Vec<f64> = values.iter().copied().filter(|&l| l >= -70.0).collect();
    if gated.is_empty() {
        return None;
    }
    let threshold = 10.0 * power(&gated).log10() - 20.0;
    let mut kept: Vec<f64> = gated.into_iter().filter(|&l| l >= threshold).collect();
    kept.sort_by(f64::total_cmp);
    let at = |p: f64| kept[((kept.len() - 1) as f64 * p).round() as usize];
    Some(at(0.95) - at(0.10))
}
