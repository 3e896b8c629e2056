//! How much of a pass the session analysis saw, how the host ran it, and why anything was
//! left out: what the report needs to say whether the whole pass was checked.

use std::time::Duration;

/// Longest an instance's audio thread waits, in one stretch, for a master's analysis that does
/// not move, in an offline render; what it then overwrites is counted as unchecked.
pub const WAIT_LIMIT: Duration = Duration::from_secs(2);

/// How the host runs the pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RenderMode {
    /// Bound to an audio device, or at least not declared offline: no one may wait.
    #[default]
    Realtime,
    /// An offline render: the analysis may hold the host back, so it sees every frame.
    Offline,
}

impl RenderMode {
    /// The report's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            RenderMode::Realtime => "realtime",
            RenderMode::Offline => "offline",
        }
    }
}

/// What the host said about offline rendering, as far as it reached the plugin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HostRender {
    /// Declared real time.
    #[default]
    Realtime,
    /// Declared offline (CLAP `render` set to offline).
    Offline,
    /// Not known: the plugin API's wrapper does not pass the host's mode on reliably (VST3
    /// through nice-plug), so the mode is inferred from how fast the host runs.
    Unknown,
}

/// Why frames of the pass went unchecked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unchecked {
    /// The host ran ahead of the analysis, which found the audio overwritten.
    Outran,
    /// A stem had not produced those positions (not processed, stalled, or late).
    Missing,
}

impl Unchecked {
    /// The report's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Unchecked::Outran => "outran",
            Unchecked::Missing => "missing",
        }
    }
}

/// How the master's analysis covered its pass. Frames are per channel; "unchecked" frames are
/// frames of the pass an analysis never saw, never frames it has not reached yet.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Coverage {
    /// How the pass was run.
    pub render_mode: RenderMode,
    /// The host did not say (VST3): Stemcheck inferred `render_mode` from the host's speed.
    pub inferred: bool,
    /// Audio seconds per wall-clock second while the pass advanced; `None` until measured.
    pub speed: Option<f32>,
    /// Frames of the pass the analysis had to cover: read, or lost.
    pub frames: u64,
    /// Frames of the master never read (overwritten before the analysis came to them): no
    /// analysis saw them.
    pub lost: u64,
    /// Frames read while some stem's audio for them was missing: the sum-check left them out.
    pub partial: u64,
    /// Of `lost` and `partial`, the frames lost because the host ran ahead (audio
    /// overwritten); the rest were missing because a stem had not produced them.
    pub outran: u64,
    /// Per stem (in the analysis's order): frames read without that stem's audio, which its
    /// limiter / clipper detection did not see (on top of `lost`).
    pub stem_unseen: Vec<u64>,
}

impl Coverage {
    /// Frames the sum-check could not compare.
    pub fn sum_unchecked(&self) -> u64 {
        self.lost + self.partial
    }

    /// Frames the detection of the bus with the least coverage did not see.
    pub fn detection_unchecked(&self) -> u64 {
        self.lost + self.stem_unseen.iter().copied().max().unwrap_or(0)
    }

    /// Frames unchecked by the sum-check or by some bus's detection, whichever is more.
    pub fn unchecked(&self) -> u64 {
        self.sum_unchecked().max(self.detection_unchecked())
    }

    /// `unchecked` as a fraction of the pass (0 when nothing was played).
    pub fn unchecked_fraction(&self) -> f64 {
        if self.frames == 0 {
            0.0
        } else {
            self.unchecked() as f64 / self.frames as f64
        }
    }

    /// The main reason for unchecked frames, if any.
    pub fn reason(&self) -> Option<Unchecked> {
        let unchecked = self.lost + self.partial.max(self.detection_unchecked() - self.lost);
        match unchecked {
            0 => None,
            _ if self.outran * 2 >= unchecked => Some(Unchecked::Outran),
            _ => Some(Unchecked::Missing),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_of_the_sum_check_and_detection_counts() {
        let c = Coverage {
            frames: 1000,
            lost: 10,
            partial: 30,
            outran: 10,
            stem_unseen: vec![0, 30, 5],
            ..Default::default()
        };
        assert_eq!(c.sum_unchecked(), 40);
        assert_eq!(c.detection_unchecked(), 40);
        assert_eq!(c.unchecked(), 40);
        assert!((c.unchecked_fraction() - 0.04).abs() < 1e-12);
        assert_eq!(c.reason(), Some(Unchecked::Missing));
        let outran = Coverage {
            outran: 40,
            ..c.clone()
        };
        assert_eq!(outran.reason(), Some(Unchecked::Outran));
        assert_eq!(Coverage::default().reason(), None);
        assert_eq!(Coverage::default().unchecked_fraction(), 0.0);
    }
}
