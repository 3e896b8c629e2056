//! How fast the host advances a tap against the wall clock: the pass's speed for the report,
//! and, for hosts whose render mode does not reach the plugin, whether the host runs free of
//! any audio device (an offline render).

use super::TapRange;
use std::time::{Duration, Instant};

/// Audio ahead of the wall clock, in seconds, from which a host that did not say how it runs
/// is taken to render offline. A host playing to a device stays within a block or two of the
/// clock (render-ahead schemes such as anticipative processing within a fraction of a second);
/// only a render free of any device gets a second ahead.
pub const FREE_RUN_LEAD_SECONDS: f64 = 1.0;
/// Below this lead the host is taken to run in real time again.
const REAL_TIME_LEAD_SECONDS: f64 = 0.25;
/// The lead counts up to this much, so a host back in real time is seen within two seconds.
const MAX_LEAD_SECONDS: f64 = 2.0;
/// No advance for this long ends a stretch of playback (a stop): the time stopped is not
/// counted in the speed.
const PAUSE: Duration = Duration::from_millis(250);

/// Follows one tap's progress over wall-clock time.
#[derive(Clone, Debug)]
pub struct Pace {
    rate: f64,
    last: Option<(Instant, TapRange)>,
    /// Audio seconds advanced, and wall seconds they took, in the stretches of playback that
    /// ended since the last restart.
    audio: f64,
    wall: f64,
    /// The current stretch: its first and latest advance, and the audio seconds advanced
    /// after its first one.
    stretch: Option<(Instant, Instant, f64)>,
    /// Audio seconds the host got ahead of the wall clock (never below zero).
    lead: f64,
    free_running: bool,
    /// When the tap was last seen to have advanced.
    advanced_at: Option<Instant>,
}

impl Pace {
    /// A pace meter for a tap at `sample_rate`.
    pub fn new(sample_rate: f32) -> Self {
        Self {
            rate: f64::from(sample_rate.max(1.0)),
            last: None,
            audio: 0.0,
            wall: 0.0,
            stretch: None,
            lead: 0.0,
            free_running: false,
            advanced_at: None,
        }
    }

    /// Takes the tap's range as seen at `now` into account. `held_back`: the reader is far
    /// behind the tap (offline, the host may be waiting for it), so a slow stretch is not
    /// taken as the host slowing down.
    pub fn observe(&mut self, now: Instant, range: TapRange, held_back: bool) {
        let Some((then, before)) = self.last.replace((now, range)) else {
            return;
        };
        let dt = now.saturating_duration_since(then).as_secs_f64();
        // Frames written since: within the run, or the new run's frames so far.
        let advanced = if range.run == before.run {
            range.end - before.end
        } else {
            range.end - range.first
        }
        .max(0) as f64
            / self.rate;
        if advanced > 0.0 {
            match &mut self.stretch {
                Some((_, latest, audio)) if now.saturating_duration_since(*latest) <= PAUSE => {
                    *audio += advanced;
                    *latest = now;
                }
                _ => {
                    self.close_stretch();
                    // Its first advance is not timed (it began before `then`, or after).
                    self.stretch = Some((now, now, 0.0));
                }
            }
            self.advanced_at = Some(now);
        }
        let drain = if held_back { 0.0 } else { dt };
        self.lead = (self.lead + advanced - drain).clamp(0.0, MAX_LEAD_SECONDS);
        if self.lead > FREE_RUN_LEAD_SECONDS {
            self.free_running = true;
        } else if self.lead < REAL_TIME_LEAD_SECONDS {
            self.free_running = false;
        }
    }

    fn close_stretch(&mut self) {
        if let Some((first, latest, audio)) = self.stretch.take() {
            self.audio += audio;
            self.wall += latest.saturating_duration_since(first).as_secs_f64();
        }
    }

    /// Starts measuring the speed again (a new pass); the lead is kept.
    pub fn restart(&mut self) {
        self.audio = 0.0;
        self.wall = 0.0;
        self.stretch = None;
    }

    /// Audio seconds per wall-clock second while the tap advanced (stops left out), since
    /// the last restart; `None` until some advance was timed.
    pub fn speed(&self) -> Option<f32> {
        let (mut audio, mut wall) = (self.audio, self.wall);
        if let Some((first, latest, a)) = self.stretch {
            audio += a;
            wall += latest.saturating_duration_since(first).as_secs_f64();
        }
        (wall > 0.0 && audio > 0.0).then(|| (audio / wall) as f32)
    }

    /// The host has got more than [`FREE_RUN_LEAD_SECONDS`] ahead of the wall clock (and not
    /// fallen back near it since).
    pub fn free_running(&self) -> bool {
        self.free_running
    }

    /// The host is ahead of the wall clock by more than real-time playback ever gets (it may
    /// be starting a render, not yet [`free_running`](Self::free_running)).
    pub fn ahead(&self) -> bool {
        self.lead > REAL_TIME_LEAD_SECONDS
    }

    /// Whether the tap was seen to advance within `within` before `now`.
    pub fn advanced_recently(&self, now: Instant, within: Duration) -> bool {
        self.advanced_at
            .is_some_and(|t| now.saturating_duration_since(t) <= within)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(run: u64, end: i64) -> TapRange {
        TapRange {
            run,
            first: 0,
            start: 0,
            end,
        }
    }

    #[test]
    fn real_time_playback_is_not_a_free_run_and_a_render_is() {
        let t0 = Instant::now();
        let ms = |m: u64| t0 + Duration::from_millis(m);
        let mut p = Pace::new(48_000.0);
        // Real time in 1024-frame blocks, observed every 40 ms for 10 s, with a late render-
        // ahead burst of 0.2 s.
        for k in 0..250u64 {
            let frames = (k * 40 * 48) as i64 / 1024 * 1024 + if k > 200 { 9600 } else { 0 };
            p.observe(ms(k * 40), range(1, frames), false);
            assert!(!p.free_running(), "at {k}");
        }
        let s = p.speed().unwrap();
        assert!((0.9..1.2).contains(&s), "speed {s}");
        // Polled every millisecond, 1024-frame blocks every 21.3 ms, with a 3 s stop between
        // two seconds of playback: still real time.
        let mut r = Pace::new(48_000.0);
        let mut end = 0i64;
        for t in (0..2_000u64).chain(5_000..7_000) {
            if t % 64 < 3 && (t * 48) as i64 >= end + 1024 {
                end += 1024;
            }
            r.observe(ms(t), range(3, end), false);
        }
        let s = r.speed().unwrap();
        assert!((0.95..1.05).contains(&s), "speed {s}");
        // An export: 60 times real time, observed every 2 ms.
        let mut q = Pace::new(48_000.0);
        let mut free_after = None;
        for k in 0..100u64 {
            q.observe(ms(k * 2), range(2, (k * 2 * 48 * 60) as i64), false);
            if q.free_running() && free_after.is_none() {
                free_after = Some(k * 2);
            }
        }
        let after = free_after.expect("a render is found");
        assert!(after <= 20, "found after {after} ms");
        assert!((q.speed().unwrap() - 60.0).abs() < 1.0);
        // Held back by a slow reader: still a render. Stopped: within two seconds the host
        // counts as real time again.
        let end = (99 * 2 * 48 * 60) as i64;
        for k in 100..2000u64 {
            q.observe(ms(k * 2), range(2, end), true);
        }
        assert!(q.free_running());
        for k in 2000..3000u64 {
            q.observe(ms(k * 2), range(2, end), false);
        }
        assert!(!q.free_running());
    }
}
