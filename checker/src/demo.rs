//! A small, clean stem set and its mix, synthesised: drums, bass, keys and a voice over a few
//! bars at 120 BPM, with one bar of pre-roll and a 2.5 s tail, written as 24-bit WAV. The
//! demo checks it; the tests bend it (shift, invert, clip, truncate…) to make each rule fire.

use std::f64::consts::TAU;
use std::fs;
use std::path::{Path, PathBuf};

/// Silence before the first note: one bar at 120 BPM, seconds.
pub const PREROLL_S: f64 = 2.0;
/// Silence after the last signal, seconds.
pub const TAIL_S: f64 = 2.5;
/// Sample peak of the mix, dBFS (inside the default −6…−3 window).
const MIX_PEAK_DBFS: f64 = -4.5;

/// One synthesised stem: its name and its channels.
#[derive(Clone, Debug)]
pub struct Stem {
    /// File name without extension, e.g. `01_Drums`.
    pub name: String,
    /// Samples per channel, full scale ±1.
    pub channels: Vec<Vec<f64>>,
}

/// A repeatable noise source (xorshift64*), so the demo is the same on every machine.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let v = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        v as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

/// The four demo stems at `rate` Hz, `seconds` long (at least 6), levelled so that their
/// unity sum peaks at −4.5 dBFS.
pub fn stems(rate: u32, seconds: f64) -> Vec<Stem> {
    let seconds = seconds.max(6.0);
    let n = (seconds * f64::from(rate)).round() as usize;
    let sr = f64::from(rate);
    let start = PREROLL_S;
    let end = seconds - TAIL_S;
    // Gate: silent before the first note, a cosine fade over the last second to exact zero.
    let gate = |t: f64| {
        if t < start || t >= end {
            0.0
        } else if t > end - 1.0 {
            let x = (end - t).clamp(0.0, 1.0);
            (x * std::f64::consts::FRAC_PI_2).sin().powi(2)
        } else {
            1.0
        }
    };
    let beat = 0.5;
    let roots = [55.0, 43.65, 49.0, 41.2];
    let chord = |bar: usize| -> [f64; 3] {
        let r = roots[bar % 4] * 4.0;
        [r, r * 1.26, r * 1.498]
    };
    let mut noise = Noise(0x5EED_CAFE_F00D_u64);
    let mut drums = vec![vec![0.0; n]; 2];
    let mut bass = vec![vec![0.0; n]; 2];
    let mut keys = vec![vec![0.0; n]; 2];
    let mut vox = vec![vec![0.0; n]; 2];
    let mut phase = 0.0;
    for i in 0..n {
        let t = i as f64 / sr;
        let g = gate(t);
        if g == 0.0 {
            continue;
        }
        let song = t - start;
        let in_beat = song % beat;
        let bar = (song / 2.0) as usize;
        // Kick on every beat: a falling sine; hats on the off-beats: decaying noise.
        let kick_f = 50.0 + 70.0 * (-in_beat / 0.03).exp();
        let kick = (TAU * kick_f * in_beat).sin() * (-in_beat / 0.12).exp();
        let off = (song + beat / 2.0) % beat;
        let hat = noise.next() * (-off / 0.02).exp() * 0.3;
        drums[0][i] = g * (kick + hat * 0.8);
        drums[1][i] = g * (kick + hat * 1.2);
        // Bass: the bar's root with its octave, plucked on every beat at a changing velocity,
        // a slow chorus on the right channel.
        let f = roots[bar % 4];
        let velocity = [1.0, 0.55, 0.8, 0.45][(song / beat) as usize % 4];
        let env = velocity * (-in_beat / 0.25).exp();
        let b = (TAU * f * song).sin() + 0.3 * (TAU * 2.0 * f * song).sin();
        bass[0][i] = g * env * b;
        bass[1][i] = g * env * (b + 0.05 * (TAU * 2.0 * f * song + 0.3 * song).sin());
        // Keys: a triad, slightly detuned left and right.
        let c = chord(bar);
        let swell = 1.0 - (-(song % 2.0) / 0.2).exp();
        keys[0][i] = g * swell * c.iter().map(|&f| (TAU * f * song).sin()).sum::<f64>();
        keys[1][i] = g
            * swell
            * c.iter()
                .map(|&f| (TAU * f * 1.002 * song).sin())
                .sum::<f64>();
        // Voice: a melody with vibrato and a few harmonics, its echo on the right.
        let note = [220.0, 246.9, 261.6, 293.7][(song / 1.0) as usize % 4];
        phase += TAU * note * (1.0 + 0.004 * (TAU * 5.5 * song).sin()) / sr;
        let v = phase.sin() + 0.4 * (2.0 * phase).sin() + 0.2 * (3.0 * phase).sin();
        vox[0][i] = g * v;
        let echo = i.saturating_sub((0.125 * sr) as usize);
        vox[1][i] = g * (0.8 * v + 0.3 * vox[0][echo]);
    }
    let mut out = vec![
        Stem {
            name: "01_Drums".into(),
            channels: drums,
        },
        Stem {
            name: "02_Bass".into(),
            channels: bass,
        },
        Stem {
            name: "03_Keys".into(),
            channels: keys,
        },
        Stem {
            name: "04_Vox".into(),
            channels: vox,
        },
    ];
    for s in &mut out {
        let g = 10f64.powf(-10.0 / 20.0) / peak(&s.channels);
        scale(&mut s.channels, g);
    }
    let g = 10f64.powf(MIX_PEAK_DBFS / 20.0) / peak(&mix_of(&out));
    for s in &mut out {
        scale(&mut s.channels, g);
    }
    out
}

fn peak(channels: &[Vec<f64>]) -> f64 {
    channels
        .iter()
        .flatten()
        .fold(0.0, |m: f64, v| m.max(v.abs()))
        .max(1e-12)
}

fn scale(channels: &mut [Vec<f64>], g: f64) {
    channels.iter_mut().flatten().for_each(|v| *v *= g);
}

/// The stems summed at unity, each rounded to 24 bits first, as they will be read back.
pub fn mix_of(stems: &[Stem]) -> Vec<Vec<f64>> {
    let n = stems.first().map_or(0, |s| s.channels[0].len());
    let mut mix = vec![vec![0.0; n]; 2];
    for s in stems {
        for (ch, m) in mix.iter_mut().enumerate() {
            let src = &s.channels[ch.min(s.channels.len() - 1)];
            for (m, &v) in m.iter_mut().zip(src) {
                *m += quantise_24(v);
            }
        }
    }
    mix
}

/// A sample as a 24-bit file stores it, read back.
pub fn quantise_24(v: f64) -> f64 {
    to_int(v, 24) as f64 / f64::from(1u32 << 23)
}

/// A sample as a signed `bits`-bit integer, rounded and clamped.
pub fn to_int(v: f64, bits: u32) -> i32 {
    let full = f64::from(1u32 << (bits - 1));
    (v * full).round().clamp(-full, full - 1.0) as i32
}

/// How a WAV file stores its samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WavFormat {
    /// Signed integer of this many bits (8, 16, 24 or 32).
    Int(u16),
    /// 32-bit float.
    Float32,
}

/// Writes `channels` as a WAV file.
pub fn write_wav(
    path: &Path,
    channels: &[Vec<f64>],
    rate: u32,
    format: WavFormat,
) -> Result<(), String> {
    let (bits, sample_format) = match format {
        WavFormat::Int(b) => (b, hound::SampleFormat::Int),
        WavFormat::Float32 => (32, hound::SampleFormat::Float),
    };
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format,
    };
    let fail = |e: hound::Error| format!("cannot write {}: {e}", path.display());
    let mut w = hound::WavWriter::create(path, spec).map_err(fail)?;
    let n = channels.first().map_or(0, Vec::len);
    for i in 0..n {
        for c in channels {
            match format {
                WavFormat::Int(b) => w.write_sample(to_int(c[i], u32::from(b))),
                WavFormat::Float32 => w.write_sample(c[i] as f32),
            }
            .map_err(fail)?;
        }
    }
    w.finalize().map_err(fail)
}

/// Writes the demo set into `folder`: four 24-bit stems and `Mix.wav`. Returns the mix's path.
pub fn write_demo(folder: &Path) -> Result<PathBuf, String> {
    fs::create_dir_all(folder).map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    let rate = 48_000;
    let set = stems(rate, 12.0);
    for s in &set {
        let path = folder.join(format!("{}.wav", s.name));
        write_wav(&path, &s.channels, rate, WavFormat::Int(24))?;
    }
    let mix = folder.join("Mix.wav");
    write_wav(&mix, &mix_of(&set), rate, WavFormat::Int(24))?;
    Ok(mix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_has_its_preroll_tail_and_levels() {
        let rate = 8_000;
        let set = stems(rate, 12.0);
        let sr = f64::from(rate);
        for s in &set {
            let first = s.channels[0].iter().position(|v| v.abs() > 1e-4).unwrap();
            assert!((first as f64 / sr - PREROLL_S).abs() < 0.01, "{}", s.name);
            let last = s.channels[0].iter().rposition(|v| v.abs() > 1e-4).unwrap();
            let tail = (s.channels[0].len() - 1 - last) as f64 / sr;
            assert!((TAIL_S..TAIL_S + 0.2).contains(&tail), "{}: {tail}", s.name);
            let db = 20.0 * peak(&s.channels).log10();
            assert!(db < -6.0, "{} peaks at {db:.2} dBFS", s.name);
        }
        let mix_db = 20.0 * peak(&mix_of(&set)).log10();
        assert!((mix_db - MIX_PEAK_DBFS).abs() < 0.01, "{mix_db}");
    }
}
