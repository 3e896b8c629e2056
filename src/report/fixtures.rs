//! Crafted readings for the report's tests: a clean session and helpers to spoil it.

use std::time::{Duration, UNIX_EPOCH};

use super::file_input::{Encoding, FileFacts};
use super::input::{BusInput, ReportInput, Thresholds};
use crate::dsp::level::from_db;
use crate::dsp::loudness::LoudnessReadings;
use crate::dsp::snapshot::{EventSnapshot, MeterSnapshot, FLAG_HAS_CORRELATION, NO_POSITION};

/// Samples in the crafted pass: 200 s at 48 kHz.
pub const PASS_END: i64 = 9_600_000;

/// A stereo 48 kHz bus that played the whole pass with its true peak at `tp_db` on the left
/// channel (the right 0.3 dB lower, sample peaks 0.2 dB under the true peaks), its integrated
/// loudness 10 LU under that true peak, its loudest 400 ms 4 LU and 3 s 6 LU under it, and a
/// loudness range of 6 LU.
pub fn reading(tp_db: f32) -> MeterSnapshot {
    let tp = [from_db(tp_db), from_db(tp_db - 0.3)];
    MeterSnapshot {
        clips: no_events(),
        true_peak_overs: no_events(),
        flat_tops: no_events(),
        pass_start: 0,
        pass_end: PASS_END,
        position: PASS_END,
        blocks: 1000,
        sample_rate: 48_000.0,
        channels: 2,
        sample_peak: [tp[0] * from_db(-0.2), tp[1] * from_db(-0.2)],
        sample_peak_display: tp,
        true_peak: tp,
        true_peak_display: tp,
        dc_offset: [0.0001, -0.0002],
        correlation: 0.97,
        correlation_recent: 0.9,
        flags: FLAG_HAS_CORRELATION,
        loudness: LoudnessReadings {
            momentary: Some(tp_db - 12.0),
            short_term: Some(tp_db - 11.0),
            max_momentary: Some(tp_db - 4.0),
            max_short_term: Some(tp_db - 6.0),
            integrated: Some(tp_db - 10.0),
            range: Some(6.0),
            seconds: 200.0,
        }
        .into(),
        ..Default::default()
    }
}

/// No events, no positions.
pub fn no_events() -> EventSnapshot {
    EventSnapshot {
        count: 0,
        first: NO_POSITION,
        last: NO_POSITION,
    }
}

/// `count` events between two positions.
pub fn events(count: u64, first: i64, last: i64) -> EventSnapshot {
    EventSnapshot { count, first, last }
}

/// A live bus.
pub fn bus(name: &str, slot: usize, tp_db: f32) -> BusInput {
    BusInput::new(name.into(), Some(slot), true, reading(tp_db))
}

/// A bus that stayed digitally silent for the whole pass.
pub fn silent(name: &str, slot: usize) -> BusInput {
    let mut b = bus(name, slot, -20.0);
    b.reading.sample_peak = [0.0; 2];
    b.reading.true_peak = [0.0; 2];
    b.reading.sample_peak_display = [0.0; 2];
    b.reading.true_peak_display = [0.0; 2];
    b.reading.dc_offset = [0.0; 2];
    b.reading.flags = 0;
    b.reading.loudness = LoudnessReadings {
        seconds: 200.0,
        ..Default::default()
    }
    .into();
    b
}

/// A clean session: stems below the window, the master in it, no events, a complete pass.
/// Created at 2026-01-31T12:00:00Z.
pub fn clean() -> ReportInput {
    ReportInput {
        plugin_version: "0.1.0".into(),
        created: UNIX_EPOCH + Duration::from_secs(1_769_860_800),
        thresholds: Thresholds::default(),
        master: bus("Master", 0, -4.0),
        stems: vec![
            bus("03_Keys", 3, -12.0),
            bus("01_Kick", 1, -8.0),
            bus("02_Bass", 2, -9.5),
        ],
        sum: None,
        files: None,
        coverage: None,
        delivery: Default::default(),
    }
}

/// A clean 24-bit stereo stem file at 48 kHz: 10 s, signal from 1 s to 7 s, a digest made
/// from its name (so different names never read as duplicates).
pub fn file_facts(name: &str) -> FileFacts {
    FileFacts {
        name: name.into(),
        path: format!("{name}.wav"),
        container: "WAV".into(),
        encoding: Encoding::Int,
        bits: 24,
        channels: 2,
        sample_rate: 48_000,
        frames: 48_000 * 10,
        first_signal: Some(48_000),
        last_signal: Some(48_000 * 7),
        digest: Some(name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })),
        dual_mono: false,
        time_reference: None,
    }
}
