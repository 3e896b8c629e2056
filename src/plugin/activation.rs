//! What an instance publishes when its meters are off, and how host callbacks are kept from
//! unwinding into the host.
//!
//! A host may activate at any sample rate (validators try 1 Hz to 1 MHz), bypass the instance,
//! or call back in an order the plugin did not expect. The instance never refuses an
//! activation: outside the metered rates ([`crate::dsp::rates`]) it passes audio through
//! untouched and publishes [`FLAG_UNMETERED`]; under the host's bypass it publishes
//! [`FLAG_BYPASSED`] with the readings it held. Both keep the heartbeat going, so the master
//! shows such a stem as unmetered or bypassed, not as stale.

use crate::dsp::bus_meter::{BusMeter, MeterSettings};
use crate::dsp::pass::TransportState;
use crate::dsp::rates::{is_metered_rate, MAX_METERED_RATE, MIN_METERED_RATE};
use crate::dsp::snapshot::{
    MeterSnapshot, FLAG_BYPASSED, FLAG_PLAYING, FLAG_UNMETERED, NO_POSITION,
};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Why the latest block was not metered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeterState {
    /// Metered normally.
    Metering,
    /// The host bypasses the instance: the readings hold.
    Bypassed,
    /// No meter runs (a sample rate outside the metered range, or the meters stopped after an
    /// internal error): the readings stay empty.
    Unmetered,
}

impl MeterState {
    /// The snapshot flag of this state (0 when metering).
    pub fn flag(self) -> u32 {
        match self {
            MeterState::Metering => 0,
            MeterState::Bypassed => FLAG_BYPASSED,
            MeterState::Unmetered => FLAG_UNMETERED,
        }
    }
}

/// The readings of an instance that has measured nothing, at `rate` Hz with `channels`
/// channels: what an unmetered instance publishes. Allocates (a throwaway meter), so it is made
/// in `activate`, never in `process`.
pub fn blank_snapshot(rate: f32, channels: usize) -> MeterSnapshot {
    // A fresh meter's snapshot is "nothing measured" for every field, whatever fields later
    // builds add; only the rate is this activation's.
    let mut s = BusMeter::new(channels.clamp(1, 2), 48_000.0, MeterSettings::default()).snapshot();
    s.sample_rate = if rate.is_finite() && rate > 0.0 {
        rate
    } else {
        0.0
    };
    s.channels = channels.min(2) as u32;
    s
}

/// Counts published blocks across every state, so the heartbeat keeps beating while the meters
/// are off, and stamps each published snapshot with the state.
#[derive(Clone, Copy, Debug, Default)]
pub struct Heartbeat {
    blocks: u64,
}

impl Heartbeat {
    /// `snapshot` as the next published block in `state`, for a block of `len` frames played
    /// with `transport`. Real-time safe.
    pub fn stamp(
        &mut self,
        mut snapshot: MeterSnapshot,
        state: MeterState,
        transport: TransportState,
        len: usize,
    ) -> MeterSnapshot {
        self.blocks = self.blocks.wrapping_add(1);
        snapshot.blocks = self.blocks;
        if state != MeterState::Metering {
            // The meter did not see this block: the transport comes from the host directly.
            snapshot.flags &= !(FLAG_PLAYING | FLAG_BYPASSED | FLAG_UNMETERED);
            snapshot.flags |= state.flag();
            if transport.playing {
                snapshot.flags |= FLAG_PLAYING;
            }
            snapshot.position = match transport.pos_samples {
                Some(p) if transport.playing => p.saturating_add(len as i64),
                Some(p) => p,
                None => NO_POSITION,
            };
        }
        snapshot
    }
}

/// Whether an activation at `rate` Hz with `channels` channels gets a meter.
pub fn meters_at(rate: f32, channels: usize) -> bool {
    is_metered_rate(rate) && (1..=2).contains(&channels)
}

/// The sentence the editor shows when the meters are off; `None` while metering.
pub fn status_line(snapshot: &MeterSnapshot) -> Option<String> {
    if snapshot.is_unmetered() {
        let rate = snapshot.sample_rate;
        Some(if is_metered_rate(rate) {
            "Not metering: the meters stopped after an internal error. Audio passes through \
             untouched."
                .to_owned()
        } else {
            format!(
                "Not metering at {rate} Hz (Stemcheck meters {MIN_METERED_RATE}–{MAX_METERED_RATE} \
                 Hz). Audio passes through untouched."
            )
        })
    } else if snapshot.is_bypassed() {
        Some("Bypassed: audio passes through untouched; the readings are from before.".to_owned())
    } else {
        None
    }
}

/// Runs `f`, stopping a panic from unwinding further (into nice-plug's `extern "C"` callbacks,
/// where it would abort the host). `None` when `f` panicked. The caller discards whatever
/// state `f` may have left half-changed.
pub fn contain<T>(f: impl FnOnce() -> T) -> Option<T> {
    // AssertUnwindSafe: every caller treats a panic as the end of the state it was changing
    // (the meters are switched off, the activation falls back to pass-through).
    catch_unwind(AssertUnwindSafe(f)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::snapshot::FLAG_HAS_CORRELATION;

    fn transport(playing: bool, pos: Option<i64>) -> TransportState {
        TransportState {
            playing,
            pos_samples: pos,
        }
    }

    #[test]
    fn a_blank_snapshot_has_measured_nothing() {
        let s = blank_snapshot(1_234.567_8, 2);
        assert_eq!(s.sample_rate, 1_234.567_8);
        assert_eq!(s.channels, 2);
        assert!(s.is_silent());
        assert_eq!(
            s.clips.count + s.true_peak_overs.count + s.flat_tops.count,
            0
        );
        assert_eq!((s.pass_start, s.pass_end), (NO_POSITION, NO_POSITION));
        assert_eq!(s.clips.first, NO_POSITION);
        assert_eq!(blank_snapshot(f32::NAN, 1).sample_rate, 0.0);
        assert_eq!(blank_snapshot(-5.0, 1).sample_rate, 0.0);
        assert_eq!(blank_snapshot(1e6, 7).channels, 2);
    }

    #[test]
    fn the_heartbeat_beats_in_every_state_and_marks_it() {
        let mut beat = Heartbeat::default();
        let mut held = blank_snapshot(48_000.0, 2);
        held.sample_peak = [0.5, 0.25];
        held.flags = FLAG_HAS_CORRELATION;
        held.position = 77;
        let a = beat.stamp(held, MeterState::Metering, transport(true, Some(0)), 64);
        assert_eq!(
            (a.blocks, a.flags, a.position),
            (1, FLAG_HAS_CORRELATION, 77)
        );
        let b = beat.stamp(held, MeterState::Bypassed, transport(true, Some(64)), 64);
        assert_eq!(b.blocks, 2);
        assert!(b.is_bypassed() && !b.is_unmetered() && !b.is_metering());
        assert_eq!(b.flags & FLAG_PLAYING, FLAG_PLAYING);
        assert_eq!(
            b.position, 128,
            "the transport, not the meter's last position"
        );
        assert_eq!(
            b.sample_peak,
            [0.5, 0.25],
            "a bypassed bus holds its readings"
        );
        let c = beat.stamp(
            blank_snapshot(1e6, 1),
            MeterState::Unmetered,
            transport(false, None),
            64,
        );
        assert_eq!(c.blocks, 3);
        assert!(c.is_unmetered() && !c.is_bypassed());
        assert_eq!(c.flags & FLAG_PLAYING, 0);
        assert_eq!(c.position, NO_POSITION);
    }

    #[test]
    fn the_editor_line_names_the_state() {
        let mut beat = Heartbeat::default();
        let t = transport(false, None);
        let odd = beat.stamp(blank_snapshot(1_234.5, 2), MeterState::Unmetered, t, 1);
        let line = status_line(&odd).unwrap();
        assert!(
            line.contains("1234.5 Hz") && line.contains("untouched"),
            "{line}"
        );
        let broken = beat.stamp(blank_snapshot(48_000.0, 2), MeterState::Unmetered, t, 1);
        assert!(status_line(&broken).unwrap().contains("internal error"));
        let by = beat.stamp(blank_snapshot(48_000.0, 2), MeterState::Bypassed, t, 1);
        assert!(status_line(&by).unwrap().starts_with("Bypassed"));
        let on = beat.stamp(blank_snapshot(48_000.0, 2), MeterState::Metering, t, 1);
        assert_eq!(status_line(&on), None);
    }

    #[test]
    fn meters_only_within_the_range_and_for_mono_or_stereo() {
        assert!(meters_at(48_000.0, 2) && meters_at(8_000.0, 1));
        assert!(!meters_at(1_234.567_8, 2) && !meters_at(1e6, 2) && !meters_at(48_000.0, 3));
        assert!(!meters_at(48_000.0, 0));
    }

    #[test]
    fn a_contained_panic_returns_none() {
        assert_eq!(contain(|| 7), Some(7));
        assert_eq!(
            contain(|| -> i32 { panic!("inside a host callback") }),
            None
        );
    }
}
