//! The session's musical facts over a pass: tempo, time signature and bar position at the
//! pass's start and end, as the host reports them. Plain values in, a plain value out, no
//! allocation: it runs on the audio thread next to the meter.
//!
//! Nothing is guessed: a host that sends no tempo leaves the tempo empty, a host that sends no
//! musical position leaves the bar positions empty.

/// What the host says about the song's musical time for one block (framework-free). Every
/// field is `None` when the host does not send it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MusicalState {
    /// Tempo, beats (quarter notes) per minute.
    pub tempo: Option<f64>,
    /// Time signature as (numerator, denominator).
    pub time_sig: Option<(u32, u32)>,
    /// Position of the block's first sample, quarter notes from the song start.
    pub pos_beats: Option<f64>,
    /// Where the bar holding the block's first sample begins, quarter notes.
    pub bar_start_beats: Option<f64>,
    /// Number of that bar, 0 for the song's first bar.
    pub bar_number: Option<i32>,
}

impl MusicalState {
    /// The state with every value checked: a tempo must be finite and positive, a signature
    /// non-zero, positions finite. Anything else counts as not sent.
    pub fn sanitized(self) -> Self {
        let finite = |v: Option<f64>| v.filter(|v| v.is_finite());
        Self {
            tempo: self.tempo.filter(|t| t.is_finite() && *t > 0.0),
            time_sig: self.time_sig.filter(|&(n, d)| n > 0 && d > 0),
            pos_beats: finite(self.pos_beats),
            bar_start_beats: finite(self.bar_start_beats),
            bar_number: self.bar_number,
        }
    }
}

/// Flag bit of [`MusicalPoint::flags`]: `tempo` holds a value.
pub const HAS_TEMPO: u32 = 1;
/// Flag bit: `sig_num` / `sig_den` hold a value.
pub const HAS_TIME_SIG: u32 = 2;
/// Flag bit: `beats` holds a value.
pub const HAS_BEATS: u32 = 4;
/// Flag bit: `bar_start_beats` and `bar_number` hold a value.
pub const HAS_BAR: u32 = 8;

/// The musical time at one point of the pass, as plain data (it travels through a sequence
/// lock word by word).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct MusicalPoint {
    /// Tempo, quarter notes per minute (with [`HAS_TEMPO`]).
    pub tempo: f64,
    /// Position, quarter notes from the song start (with [`HAS_BEATS`]).
    pub beats: f64,
    /// Start of the bar the position falls in, quarter notes (with [`HAS_BAR`]).
    pub bar_start_beats: f64,
    /// Number of that bar, 0 for the first (with [`HAS_BAR`]).
    pub bar_number: i32,
    /// Time signature numerator (with [`HAS_TIME_SIG`]).
    pub sig_num: u32,
    /// Time signature denominator (with [`HAS_TIME_SIG`]).
    pub sig_den: u32,
    /// `HAS_*` bits.
    pub flags: u32,
}

impl MusicalPoint {
    /// The tempo, if the host sent one.
    pub fn tempo(&self) -> Option<f64> {
        (self.flags & HAS_TEMPO != 0).then_some(self.tempo)
    }

    /// The time signature, if the host sent one.
    pub fn time_sig(&self) -> Option<(u32, u32)> {
        (self.flags & HAS_TIME_SIG != 0).then_some((self.sig_num, self.sig_den))
    }

    /// Bar and beat, both counted from 1 as DAWs show them (bar 1 is the song's first bar;
    /// the beat is in units of the signature's denominator and may have a fraction). Needs the
    /// position, the bar and the signature; `None` otherwise.
    pub fn bar_beat(&self) -> Option<(i64, f64)> {
        let (num, den) = self.time_sig()?;
        if self.flags & (HAS_BEATS | HAS_BAR) != HAS_BEATS | HAS_BAR {
            return None;
        }
        let bar_len = f64::from(num) * 4.0 / f64::from(den);
        let into_bar = self.beats - self.bar_start_beats;
        // A position past the bar's end (the end of a block that crossed a bar line) carries
        // into the following bars; one before the bar's start goes back. A position a rounding
        // error short of a bar line is on it.
        let whole = (into_bar / bar_len + 1e-9).floor();
        let bar = i64::from(self.bar_number) + whole as i64 + 1;
        let beat = (into_bar - whole * bar_len).max(0.0) * f64::from(den) / 4.0 + 1.0;
        Some((bar, beat))
    }

    fn from_state(m: &MusicalState) -> Self {
        let mut p = Self::default();
        if let Some(t) = m.tempo {
            p.tempo = t;
            p.flags |= HAS_TEMPO;
        }
        if let Some((n, d)) = m.time_sig {
            (p.sig_num, p.sig_den) = (n, d);
            p.flags |= HAS_TIME_SIG;
        }
        if let Some(b) = m.pos_beats {
            p.beats = b;
            p.flags |= HAS_BEATS;
            if let (Some(start), Some(n)) = (m.bar_start_beats, m.bar_number) {
                (p.bar_start_beats, p.bar_number) = (start, n);
                p.flags |= HAS_BAR;
            }
        }
        p
    }
}

/// Flag bit of [`SessionFacts::flags`]: the tempo changed during the pass (or came or went).
pub const TEMPO_CHANGED: u32 = 1;
/// Flag bit: the time signature changed during the pass (or came or went).
pub const TIME_SIG_CHANGED: u32 = 2;
/// Flag bit: the facts hold a pass (`start` and `end` are set).
pub const HAS_PASS: u32 = 4;

/// The musical facts of one pass, as plain data.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct SessionFacts {
    /// The musical time at the pass's first sample.
    pub start: MusicalPoint,
    /// The musical time one past the pass's last sample.
    pub end: MusicalPoint,
    /// Lowest tempo seen during the pass (with [`HAS_TEMPO`] on `start` or `end`).
    pub tempo_min: f64,
    /// Highest tempo seen during the pass.
    pub tempo_max: f64,
    /// `TEMPO_CHANGED`, `TIME_SIG_CHANGED`, `HAS_PASS` bits.
    pub flags: u32,
    /// Keeps the size a multiple of eight bytes.
    pub reserved: u32,
}

impl SessionFacts {
    /// Whether the facts hold a pass.
    pub fn has_pass(&self) -> bool {
        self.flags & HAS_PASS != 0
    }

    /// Whether the tempo changed during the pass.
    pub fn tempo_changed(&self) -> bool {
        self.flags & TEMPO_CHANGED != 0
    }

    /// Whether the time signature changed during the pass.
    pub fn time_sig_changed(&self) -> bool {
        self.flags & TIME_SIG_CHANGED != 0
    }
}

/// Follows the musical time through a pass. The meter tells it, block by block, whether the
/// block starts a new pass and whether it extends the pass's end.
#[derive(Clone, Copy, Debug, Default)]
pub struct SessionTracker {
    facts: SessionFacts,
}

impl SessionTracker {
    /// The facts so far.
    pub fn facts(&self) -> SessionFacts {
        self.facts
    }

    /// Forgets the pass (a reset or a new pass).
    pub fn clear(&mut self) {
        self.facts = SessionFacts::default();
    }

    /// One played block of `len` frames at `sample_rate`. `extends_end`: the block's end is
    /// the pass's new end (a replayed restart that stays inside the pass does not move it).
    /// The first block after a [`clear`](Self::clear) sets the start.
    pub fn on_played_block(
        &mut self,
        music: MusicalState,
        len: usize,
        sample_rate: f32,
        extends_end: bool,
    ) {
        let m = music.sanitized();
        let here = MusicalPoint::from_state(&m);
        let f = &mut self.facts;
        if !f.has_pass() {
            f.start = here;
            f.end = here;
            f.tempo_min = m.tempo.unwrap_or(0.0);
            f.tempo_max = f.tempo_min;
            f.flags = HAS_PASS;
        }
        let start = f.start;
        if start.tempo() != m.tempo {
            f.flags |= TEMPO_CHANGED;
        }
        if start.time_sig() != m.time_sig {
            f.flags |= TIME_SIG_CHANGED;
        }
        if let Some(t) = m.tempo {
            f.tempo_min = f.tempo_min.min(t);
            f.tempo_max = f.tempo_max.max(t);
        }
        if extends_end {
            let mut end = here;
            // The end is one past the block: the block's length in quarter notes at its tempo.
            match (m.tempo, m.pos_beats) {
                (Some(tempo), Some(_)) if sample_rate > 0.0 => {
                    end.beats += len as f64 / f64::from(sample_rate) * tempo / 60.0;
                }
                _ => end.flags &= !(HAS_BEATS | HAS_BAR),
            }
            f.end = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn four_four(tempo: f64, pos_beats: f64) -> MusicalState {
        MusicalState {
            tempo: Some(tempo),
            time_sig: Some((4, 4)),
            pos_beats: Some(pos_beats),
            bar_start_beats: Some((pos_beats / 4.0).floor() * 4.0),
            bar_number: Some((pos_beats / 4.0).floor() as i32),
        }
    }

    #[test]
    fn start_and_end_follow_the_pass_in_bars_and_beats() {
        let mut t = SessionTracker::default();
        // 120 bpm at 48 kHz: a quarter note is 24 000 frames. Start at bar 2, beat 1.
        let mut beats = 4.0;
        for _ in 0..10 {
            t.on_played_block(four_four(120.0, beats), 12_000, 48_000.0, true);
            beats += 0.5;
        }
        let f = t.facts();
        assert_eq!(f.start.bar_beat(), Some((2, 1.0)));
        assert_eq!(f.start.tempo(), Some(120.0));
        assert_eq!(f.start.time_sig(), Some((4, 4)));
        // Ten half-beats later: beat 9 from the start = bar 3, beat 2.
        let (bar, beat) = f.end.bar_beat().unwrap();
        assert_eq!(bar, 3);
        assert!((beat - 2.0).abs() < 1e-9, "{beat}");
        assert!(!f.tempo_changed() && !f.time_sig_changed());
    }

    #[test]
    fn a_tempo_change_is_flagged_with_its_range() {
        let mut t = SessionTracker::default();
        t.on_played_block(four_four(120.0, 0.0), 512, 48_000.0, true);
        t.on_played_block(four_four(90.0, 0.1), 512, 48_000.0, true);
        let f = t.facts();
        assert!(f.tempo_changed());
        assert_eq!((f.tempo_min, f.tempo_max), (90.0, 120.0));
        assert_eq!(f.start.tempo(), Some(120.0));
        assert_eq!(f.end.tempo(), Some(90.0));
        // A new signature.
        let mut m = four_four(90.0, 0.2);
        m.time_sig = Some((6, 8));
        t.on_played_block(m, 512, 48_000.0, true);
        assert!(t.facts().time_sig_changed());
        t.clear();
        assert!(!t.facts().has_pass());
    }

    #[test]
    fn a_host_without_tempo_gives_nothing_musical() {
        let mut t = SessionTracker::default();
        t.on_played_block(MusicalState::default(), 512, 48_000.0, true);
        let f = t.facts();
        assert!(f.has_pass());
        assert_eq!(f.start.tempo(), None);
        assert_eq!(f.start.time_sig(), None);
        assert_eq!(f.start.bar_beat(), None);
        assert_eq!(f.end.bar_beat(), None);
        // Nonsense counts as not sent.
        let mut u = SessionTracker::default();
        u.on_played_block(
            MusicalState {
                tempo: Some(f64::NAN),
                time_sig: Some((0, 4)),
                pos_beats: Some(f64::INFINITY),
                ..MusicalState::default()
            },
            512,
            48_000.0,
            true,
        );
        assert_eq!(u.facts().start.flags, 0);
    }

    #[test]
    fn bars_carry_across_bar_lines_and_other_signatures() {
        // 6/8: a bar is three quarter notes, beats are eighths.
        let p = MusicalPoint::from_state(&MusicalState {
            tempo: Some(100.0),
            time_sig: Some((6, 8)),
            pos_beats: Some(7.5),
            bar_start_beats: Some(3.0),
            bar_number: Some(1),
        });
        // 4.5 quarters into bar 2 (number 1) = 1.5 quarters into bar 3 = eighth 4.
        assert_eq!(p.bar_beat(), Some((3, 4.0)));
        // Pre-roll: before the bar's start goes back a bar.
        let q = MusicalPoint::from_state(&MusicalState {
            tempo: Some(120.0),
            time_sig: Some((4, 4)),
            pos_beats: Some(-1.0),
            bar_start_beats: Some(0.0),
            bar_number: Some(0),
        });
        assert_eq!(q.bar_beat(), Some((0, 4.0)));
    }

    #[test]
    fn a_replayed_block_keeps_the_end() {
        let mut t = SessionTracker::default();
        t.on_played_block(four_four(120.0, 0.0), 24_000, 48_000.0, true);
        let end = t.facts().end;
        t.on_played_block(four_four(120.0, 0.25), 6_000, 48_000.0, false);
        assert_eq!(t.facts().end, end);
    }
}
