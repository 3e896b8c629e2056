//! A fixed-length history of the master's and every stem's recent audio, indexed by frame
//! number since the start, with a per-frame flag saying whether the frame can be compared.
//!
//! Frames that were never written (before the start, not yet pushed, already overwritten),
//! chunks where a stem was missing and frames holding a non-finite sample read back as
//! silence and are flagged unusable, so a reader never needs to know why.

/// The recent audio of one bus: channels of samples and a flag per frame.
struct Bus {
    channels: Vec<Vec<f32>>,
    ok: Vec<bool>,
}

impl Bus {
    fn new(channels: usize, len: usize) -> Self {
        Self {
            channels: vec![vec![0.0; len]; channels],
            ok: vec![false; len],
        }
    }

    fn clear(&mut self) {
        self.channels.iter_mut().for_each(|c| c.fill(0.0));
        self.ok.fill(false);
    }
}

/// Ring buffer of the master and the stems, all sharing one frame clock.
pub(super) struct History {
    len: usize,
    /// Frames written so far: the next frame's number.
    end: u64,
    master: Bus,
    stems: Vec<Bus>,
}

impl History {
    /// Allocates `len` frames for a master of `channels` channels and stems of the given
    /// channel counts.
    pub fn new(len: usize, channels: usize, stem_channels: &[usize]) -> Self {
        Self {
            len,
            end: 0,
            master: Bus::new(channels, len),
            stems: stem_channels.iter().map(|&c| Bus::new(c, len)).collect(),
        }
    }

    /// Forgets everything, keeping the allocation.
    pub fn clear(&mut self) {
        self.end = 0;
        self.master.clear();
        self.stems.iter_mut().for_each(Bus::clear);
    }

    /// The next frame's number: how many frames were written.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// Writes the next `n` frames, taken from sample `offset` on of the master's channels
    /// (`None`: unusable, e.g. a gap) and of each stem's (`stem(i)`, `None`: missing). Slices
    /// must hold `offset + n` samples; the caller checks. `n` must not exceed the history.
    pub fn write<'a, 'b: 'a>(
        &mut self,
        n: usize,
        offset: usize,
        master: Option<&[&[f32]]>,
        stem: impl Fn(usize) -> Option<&'a [&'b [f32]]>,
    ) {
        debug_assert!(n <= self.len);
        let start = (self.end % self.len as u64) as usize;
        write_bus(&mut self.master, start, offset, n, master);
        for (i, bus) in self.stems.iter_mut().enumerate() {
            write_bus(bus, start, offset, n, stem(i));
        }
        self.end += n as u64;
    }

    /// Copies master channel `ch` for frames `from..from + out.len()` into `out`.
    pub fn read_master(&self, ch: usize, from: i64, out: &mut [f32]) {
        self.read(&self.master.channels[ch], from, out);
    }

    /// Copies channel `ch` of stem `stem` for frames `from..from + out.len()` into `out`.
    pub fn read_stem(&self, stem: usize, ch: usize, from: i64, out: &mut [f32]) {
        self.read(&self.stems[stem].channels[ch], from, out);
    }

    /// Clears `ok[j]` where master frame `from + j` is unusable.
    pub fn and_master_ok(&self, from: i64, ok: &mut [bool]) {
        self.and_ok(&self.master.ok, from, ok);
    }

    /// Clears `ok[j]` where frame `from + j` of stem `stem` is unusable.
    pub fn and_stem_ok(&self, stem: usize, from: i64, ok: &mut [bool]) {
        self.and_ok(&self.stems[stem].ok, from, ok);
    }

    /// The part of `from..from + n` still held, as offsets into that range.
    fn held(&self, from: i64, n: usize) -> (usize, usize) {
        let oldest = self.end.saturating_sub(self.len as u64) as i64;
        let lo = (oldest - from).clamp(0, n as i64) as usize;
        let hi = (self.end as i64 - from).clamp(lo as i64, n as i64) as usize;
        (lo, hi)
    }

    /// Calls `f(range in out, first ring slot)` for the held part, split where the ring wraps.
    fn spans(&self, from: i64, n: usize, mut f: impl FnMut(usize, usize, usize)) {
        let (lo, hi) = self.held(from, n);
        let mut j = lo;
        while j < hi {
            let slot = ((from + j as i64) as u64 % self.len as u64) as usize;
            let run = (hi - j).min(self.len - slot);
            f(j, j + run, slot);
            j += run;
        }
    }

    fn read(&self, ring: &[f32], from: i64, out: &mut [f32]) {
        let (lo, hi) = self.held(from, out.len());
        out[..lo].fill(0.0);
        out[hi..].fill(0.0);
        self.spans(from, out.len(), |a, b, slot| {
            out[a..b].copy_from_slice(&ring[slot..slot + (b - a)]);
        });
    }

    fn and_ok(&self, ring: &[bool], from: i64, ok: &mut [bool]) {
        let (lo, hi) = self.held(from, ok.len());
        ok[..lo].fill(false);
        ok[hi..].fill(false);
        self.spans(from, ok.len(), |a, b, slot| {
            for (o, &r) in ok[a..b].iter_mut().zip(&ring[slot..slot + (b - a)]) {
                *o &= r;
            }
        });
    }
}

/// Writes `n` frames of one bus, from sample `offset` of `data`, at ring slot `start`,
/// wrapping. Non-finite samples are stored as silence and make their frame unusable, so
/// they cannot poison the sums.
fn write_bus(bus: &mut Bus, start: usize, offset: usize, n: usize, data: Option<&[&[f32]]>) {
    let len = bus.ok.len();
    let first = n.min(len - start);
    let runs = [(start, offset, first), (0, offset + first, n - first)];
    for (slot, src, run) in runs {
        let ok = &mut bus.ok[slot..slot + run];
        ok.fill(data.is_some());
        for (ch, ring) in bus.channels.iter_mut().enumerate() {
            let dst = &mut ring[slot..slot + run];
            match data {
                Some(chans) => {
                    for ((d, &s), o) in dst
                        .iter_mut()
                        .zip(&chans[ch][src..src + run])
                        .zip(ok.iter_mut())
                    {
                        if s.is_finite() {
                            *d = s;
                        } else {
                            *d = 0.0;
                            *o = false;
                        }
                    }
                }
                None => dst.fill(0.0),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrap_and_unwritten_frames_are_silent_and_unusable() {
        let mut h = History::new(8, 1, &[1]);
        let data: Vec<f32> = (1..=6).map(|v| v as f32).collect();
        let stem: &[&[f32]] = &[&data];
        h.write(6, 0, Some(&[&data]), |_| Some(stem));
        h.write(4, 0, Some(&[&data]), |_| None);
        h.write(2, 4, Some(&[&data]), |_| None);
        // Frames 4..12 are held; the stem is missing for 6..12.
        let mut out = [9.0f32; 10];
        h.read_master(0, 3, &mut out);
        assert_eq!(out, [0.0, 5.0, 6.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 0.0]);
        let mut ok = [true; 10];
        h.and_stem_ok(0, 3, &mut ok);
        assert_eq!(
            ok,
            [false, true, true, false, false, false, false, false, false, false]
        );
        let mut ok = [true; 3];
        h.and_master_ok(-2, &mut ok);
        assert_eq!(ok, [false; 3]);
    }

    #[test]
    fn non_finite_samples_are_silent_and_unusable() {
        let mut h = History::new(4, 2, &[]);
        let (l, r) = ([1.0, f32::NAN, 3.0], [1.0, 2.0, f32::INFINITY]);
        h.write(3, 0, Some(&[&l, &r]), |_| None);
        let mut out = [0.0f32; 3];
        h.read_master(1, 0, &mut out);
        assert_eq!(out, [1.0, 2.0, 0.0]);
        let mut ok = [true; 3];
        h.and_master_ok(0, &mut ok);
        assert_eq!(ok, [true, false, false]);
    }
}
