//! Session audio for the host tests: stems that sound like parts, a brickwall limiter, and the
//! master's input as a mixer makes it (stems through their fader and delay, plus tracks routed
//! around the stems).

/// The sample rate of the host tests' sessions.
pub const RATE: f64 = 48_000.0;

/// Two channels of audio.
pub type Stereo = [Vec<f32>; 2];

/// A deterministic xorshift generator.
pub struct Rng(pub u32);

impl Rng {
    /// The next value, in 0..=1.
    pub fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0 as f32 / u32::MAX as f32
    }
}

/// A stem of `frames` frames that sounds like a part: decaying notes (harmonic, or noise bursts
/// for percussion) at varying velocities and pitches, panned, peaking at `peak_db`.
pub fn part(seed: u32, percussive: bool, peak_db: f32, frames: usize) -> Stereo {
    let mut rng = Rng(seed.wrapping_mul(2_654_435_761) | 1);
    let mut out = [vec![0.0f32; frames], vec![0.0f32; frames]];
    let pan = 0.3 + 0.4 * rng.next();
    let step = 6_000 + (rng.next() * 12_000.0) as usize;
    let mut at = (rng.next() * 3_000.0) as usize;
    while at < frames {
        let velocity = 0.2 + 0.8 * rng.next();
        let freq = 55.0 * 2f32.powf(rng.next() * 4.0);
        let decay = 1.0 / (RATE as f32 * (0.05 + 0.3 * rng.next()));
        for k in 0..(frames - at).min(step * 2) {
            let env = velocity * (-(k as f32) * decay).exp();
            let t = k as f32 / RATE as f32;
            let v = if percussive {
                env * (rng.next() - 0.5)
            } else {
                let w = std::f32::consts::TAU * freq * t;
                env * (w.sin() + 0.5 * (2.0 * w).sin() + 0.25 * (3.0 * w).sin())
            };
            out[0][at + k] += v * (1.0 - pan);
            out[1][at + k] += v * pan;
        }
        at += step;
    }
    let peak = out.iter().flatten().fold(0.0f32, |m, v| m.max(v.abs()));
    let gain = 10f32.powf(peak_db / 20.0) / peak;
    out.iter_mut().flatten().for_each(|v| *v *= gain);
    out
}

/// A look-ahead brickwall limiter, stereo-linked: drives `x` by `drive_db` and holds every
/// sample at or below `ceiling` (linear), recovering in about 50 ms.
pub fn limit(x: &Stereo, drive_db: f32, ceiling: f32) -> Stereo {
    let drive = 10f32.powf(drive_db / 20.0);
    let n = x[0].len();
    let need: Vec<f32> = (0..n)
        .map(|i| {
            let peak = x[0][i].abs().max(x[1][i].abs()) * drive;
            if peak > ceiling {
                ceiling / peak
            } else {
                1.0
            }
        })
        .collect();
    let look = 48;
    let release = 1.0 / (0.05 * RATE as f32);
    let mut g = 1.0f32;
    let mut out = [vec![0.0; n], vec![0.0; n]];
    for i in 0..n {
        let ahead = need[i..(i + look).min(n)]
            .iter()
            .fold(1.0f32, |m, &v| m.min(v));
        g = (g + (1.0 - g) * release).min(ahead);
        for ch in 0..2 {
            out[ch][i] = x[ch][i] * drive * g;
        }
    }
    out
}

/// The largest magnitude of either channel.
pub fn peak(x: &Stereo) -> f32 {
    x.iter().flatten().fold(0.0f32, |m, v| m.max(v.abs()))
}

/// `count` stems of `frames` frames, scaled together so that their sum peaks at −5 dBFS (in
/// the −6…−3 dBFS window) while each stays below the window.
pub fn stems(count: usize, frames: usize) -> Vec<Stereo> {
    let mut stems: Vec<Stereo> = (0..count)
        .map(|i| {
            part(
                i as u32 + 1,
                i % 8 == 0 || i % 8 == 6,
                -16.0 + (i % 4) as f32 * 1.5,
                frames,
            )
        })
        .collect();
    let gain = 10f32.powf(-5.0 / 20.0) / peak(&mix(&stems, &vec![UNITY; count], None));
    stems
        .iter_mut()
        .flatten()
        .flatten()
        .for_each(|v| *v *= gain);
    stems
}

/// How each stem reaches the master.
#[derive(Clone, Copy)]
pub struct Route {
    /// Linear gain (a fader; negative: inverted).
    pub gain: f32,
    /// Samples late.
    pub delay: i64,
}

/// Unity gain, in time.
pub const UNITY: Route = Route {
    gain: 1.0,
    delay: 0,
};

/// The master's input: every stem through its route, plus `extra`, summed in f32 in stem
/// order as a mixer adds.
pub fn mix(stems: &[Stereo], routes: &[Route], extra: Option<&Stereo>) -> Stereo {
    let frames = stems.first().map_or(0, |s| s[0].len());
    let mut out = [vec![0.0f32; frames], vec![0.0f32; frames]];
    for (s, r) in stems.iter().zip(routes) {
        for (o, src) in out.iter_mut().zip(s) {
            for (i, v) in o.iter_mut().enumerate() {
                let j = i as i64 - r.delay;
                if (0..frames as i64).contains(&j) {
                    *v += src[j as usize] * r.gain;
                }
            }
        }
    }
    if let Some(e) = extra {
        for (o, src) in out.iter_mut().zip(e) {
            for (v, &x) in o.iter_mut().zip(src) {
                *v += x;
            }
        }
    }
    out
}
