//! Events: the separate excursions of a bus's level (a hit, a note, a phrase), each reduced
//! to its peak and a description of the sound at that peak.
//!
//! The sequence of window peaks is cut with a hysteresis of [`EVENT_DROP_DB`]: an event ends
//! when the level falls that far under its highest window, and the next one starts when the
//! level climbs that far over the lowest window since. A held note or a slow swell is then
//! one event however many windows it spans, so a sustained sound cannot pile up at its own
//! level, while every hit or phrase a limiter pushes against its ceiling counts once.

use crate::analysis::level_bins::{bin, BINS};

/// How far the level must fall from an event's top (and climb from the trough after it) to
/// separate two events, dB: more than the ripple of a held note, less than the dip between
/// two limited drum hits.
pub const EVENT_DROP_DB: f32 = 2.0;

/// What describes the sound at an event's peak.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Sound {
    /// Peak over the loudness around it, dB.
    pub crest_db: f64,
    /// log2 of the zero crossings per millisecond-channel around the peak (+1): where the
    /// spectrum's weight is.
    pub brightness: f64,
}

/// Per peak-level bin: events and the moments of their sound descriptors.
#[derive(Clone, Debug)]
pub(super) struct EventStats {
    /// Events that peaked in each bin.
    pub count: Vec<u32>,
    /// Sum and sum of squares of the exact peak levels (dBFS), to see spreads finer than a
    /// bin.
    pub level: Vec<f64>,
    pub level_sq: Vec<f64>,
    /// Sum and sum of squares of their crest factors (dB).
    pub crest: Vec<f64>,
    pub crest_sq: Vec<f64>,
    /// Sum and sum of squares of their brightness (log2 zero crossings per ms).
    pub bright: Vec<f64>,
    pub bright_sq: Vec<f64>,
}

impl EventStats {
    fn new() -> Self {
        Self {
            count: vec![0; BINS],
            level: vec![0.0; BINS],
            level_sq: vec![0.0; BINS],
            crest: vec![0.0; BINS],
            crest_sq: vec![0.0; BINS],
            bright: vec![0.0; BINS],
            bright_sq: vec![0.0; BINS],
        }
    }

    fn clear(&mut self) {
        self.count.fill(0);
        self.level.fill(0.0);
        self.level_sq.fill(0.0);
        self.crest.fill(0.0);
        self.crest_sq.fill(0.0);
        self.bright.fill(0.0);
        self.bright_sq.fill(0.0);
    }

    fn add(&mut self, peak: f32, s: Sound) {
        let b = bin(peak);
        self.count[b] = self.count[b].saturating_add(1);
        let level = 20.0 * (peak as f64).log10();
        self.level[b] += level;
        self.level_sq[b] += level * level;
        self.crest[b] += s.crest_db;
        self.crest_sq[b] += s.crest_db * s.crest_db;
        self.bright[b] += s.brightness;
        self.bright_sq[b] += s.brightness * s.brightness;
    }
}

/// The hysteresis tracker.
#[derive(Clone, Debug)]
pub(super) struct Events {
    rising: bool,
    /// Rising: the event's top so far and its sound; falling: the trough so far.
    level: f32,
    sound: Sound,
    drop: f32,
    /// The events ended so far.
    pub stats: EventStats,
}

impl Events {
    /// A tracker with no event yet.
    pub fn new() -> Self {
        Self {
            rising: false,
            level: 0.0,
            sound: Sound::default(),
            drop: 10f32.powf(-EVENT_DROP_DB / 20.0),
            stats: EventStats::new(),
        }
    }

    /// Forgets every event, keeping the allocation.
    pub fn clear(&mut self) {
        self.rising = false;
        self.level = 0.0;
        self.sound = Sound::default();
        self.stats.clear();
    }

    /// Adds the next window: its peak (0 for silence) and the sound at that peak.
    pub fn push(&mut self, peak: f32, sound: Sound) {
        if self.rising {
            if peak > self.level {
                self.level = peak;
                self.sound = sound;
            } else if peak < self.level * self.drop {
                self.stats.add(self.level, self.sound);
                self.rising = false;
                self.level = peak;
            }
        } else if peak < self.level {
            self.level = peak;
        } else if peak * self.drop > self.level {
            self.rising = true;
            self.level = peak;
            self.sound = sound;
        }
    }
}
