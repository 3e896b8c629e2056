//! The report's `session` object: what the host told the master about tempo, signature, bars,
//! the pass's start and end, and its name for the master's track. Nothing is guessed: what the
//! host did not send is `null`.

use super::delivery_model::{SessionPoint, SessionReport};
use super::model::Pass;
use super::units::round;
use crate::dsp::session_facts::{MusicalPoint, SessionFacts};

/// The session facts of the pass `pass` at `sample_rate`. `facts` are the master's musical
/// facts (absent when its meters never ran), `track_name` the host's name for its track.
pub fn session_report(
    facts: Option<&SessionFacts>,
    track_name: &str,
    pass: &Pass,
    sample_rate: Option<u32>,
) -> SessionReport {
    let facts = facts.filter(|f| f.has_pass() && pass.played());
    let rate = sample_rate.map_or(0.0, f64::from);
    let point = |samples: Option<i64>, m: Option<&MusicalPoint>| {
        let samples = samples?;
        let bar_beat = m.and_then(MusicalPoint::bar_beat);
        Some(SessionPoint {
            samples,
            seconds: seconds(samples, rate)?,
            time: fmt_clock(samples, rate)?,
            bar: bar_beat.map(|(bar, _)| bar),
            beat: bar_beat.map(|(_, beat)| round(beat, 3)),
        })
    };
    let (start, end) = (facts.map(|f| &f.start), facts.map(|f| &f.end));
    let tempo = |p: Option<&MusicalPoint>| p.and_then(MusicalPoint::tempo).map(|t| round(t, 3));
    let sig = |p: Option<&MusicalPoint>| {
        p.and_then(MusicalPoint::time_sig)
            .map(|(n, d)| format!("{n}/{d}"))
    };
    let any_tempo = tempo(start).is_some() || tempo(end).is_some();
    let any_sig = sig(start).is_some() || sig(end).is_some();
    let length = match (pass.start_samples, pass.end_samples) {
        (Some(s), Some(e)) if pass.played() => Some(e - s),
        _ => None,
    };
    SessionReport {
        host_track_name: Some(track_name.trim())
            .filter(|n| !n.is_empty())
            .map(str::to_owned),
        sample_rate,
        tempo_bpm: tempo(start),
        tempo_end_bpm: tempo(end),
        tempo_min_bpm: facts.filter(|_| any_tempo).map(|f| round(f.tempo_min, 3)),
        tempo_max_bpm: facts.filter(|_| any_tempo).map(|f| round(f.tempo_max, 3)),
        tempo_changed: facts.filter(|_| any_tempo).map(|f| f.tempo_changed()),
        time_signature: sig(start),
        time_signature_end: sig(end),
        time_signature_changed: facts.filter(|_| any_sig).map(|f| f.time_sig_changed()),
        start: point(pass.start_samples.filter(|_| pass.played()), start),
        end: point(pass.end_samples.filter(|_| pass.played()), end),
        length_samples: length,
        length_seconds: length.and_then(|l| seconds(l, rate)),
        length: length.and_then(|l| fmt_clock(l, rate)),
    }
}

fn seconds(samples: i64, rate: f64) -> Option<f64> {
    (rate > 0.0).then(|| round(samples as f64 / rate, 3))
}

/// A position or length as `m:ss.mmm` (`-0:01.000` in pre-roll); `None` without a rate.
pub fn fmt_clock(samples: i64, rate: f64) -> Option<String> {
    if rate <= 0.0 {
        return None;
    }
    let ms = (samples.unsigned_abs() as f64 / rate * 1000.0).round() as u64;
    let sign = if samples < 0 && ms > 0 { "-" } else { "" };
    Some(format!(
        "{sign}{}:{:02}.{:03}",
        ms / 60_000,
        ms / 1000 % 60,
        ms % 1000
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::session_facts::{MusicalState, SessionTracker};

    fn pass(start: i64, end: i64) -> Pass {
        Pass {
            start_samples: Some(start),
            end_samples: Some(end),
            complete: start <= 0,
            ..Pass::default()
        }
    }

    #[test]
    fn facts_from_a_host_with_tempo_and_bars() {
        let mut t = SessionTracker::default();
        // Pre-roll of one 4/4 bar at 120 bpm (2 s at 48 kHz), then 10 s.
        let music = |beats: f64| MusicalState {
            tempo: Some(120.0),
            time_sig: Some((4, 4)),
            pos_beats: Some(beats),
            bar_start_beats: Some((beats / 4.0).floor() * 4.0),
            bar_number: Some((beats / 4.0).floor() as i32),
        };
        let mut pos = -96_000i64;
        while pos < 480_000 {
            t.on_played_block(music(pos as f64 / 24_000.0), 4800, 48_000.0, true);
            pos += 4800;
        }
        let s = session_report(
            Some(&t.facts()),
            " Main ",
            &pass(-96_000, 480_000),
            Some(48_000),
        );
        assert_eq!(s.host_track_name.as_deref(), Some("Main"));
        assert_eq!(s.tempo_bpm, Some(120.0));
        assert_eq!(s.tempo_changed, Some(false));
        assert_eq!(s.time_signature.as_deref(), Some("4/4"));
        let start = s.start.unwrap();
        assert_eq!((start.bar, start.beat), (Some(0), Some(1.0)));
        assert_eq!(start.time, "-0:02.000");
        let end = s.end.unwrap();
        // 10 s at 120 bpm = 20 beats = 5 bars after bar 1: bar 6, beat 1.
        assert_eq!((end.bar, end.beat), (Some(6), Some(1.0)));
        assert_eq!(s.length.as_deref(), Some("0:12.000"));
        assert_eq!(s.length_seconds, Some(12.0));
    }

    #[test]
    fn a_host_without_tempo_gives_null_never_a_guess() {
        let mut t = SessionTracker::default();
        t.on_played_block(MusicalState::default(), 480, 48_000.0, true);
        let s = session_report(Some(&t.facts()), "", &pass(0, 480), Some(48_000));
        assert_eq!(s.tempo_bpm, None);
        assert_eq!(s.tempo_changed, None);
        assert_eq!(s.time_signature, None);
        assert_eq!(s.host_track_name, None);
        let start = s.start.unwrap();
        assert_eq!((start.bar, start.beat), (None, None));
        assert_eq!(start.samples, 0);
        // Nothing played: no points at all.
        let none = session_report(None, "", &Pass::default(), None);
        assert_eq!(none.start, None);
        assert_eq!(none.length, None);
    }

    #[test]
    fn clock_times() {
        assert_eq!(fmt_clock(0, 48_000.0).as_deref(), Some("0:00.000"));
        assert_eq!(fmt_clock(-10, 48_000.0).as_deref(), Some("0:00.000"));
        assert_eq!(fmt_clock(3_000_000, 48_000.0).as_deref(), Some("1:02.500"));
        assert_eq!(fmt_clock(1, 0.0), None);
    }
}
