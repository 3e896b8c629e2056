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
    /// The pass had ended, and the analysis had not read them yet (it was still catching up
    /// when the report was made).
    Pending,
}

impl Unchecked {
    /// The report's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Unchecked::Outran => "outran",
            Unchecked::Missing => "missing",
            Unchecked::Pending => "pending",
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
    /// Frames the master played that the analysis has not read yet (it trails the newest
    /// audio while the pass plays).
    pub pending: u64,
    /// The pass has ended (the transport stopped): frames still pending count as unchecked.
    pub ended: bool,
}

impl Coverage {
    /// Frames still pending that count as unchecked (once the pass has ended).
    fn late(&self) -> u64 {
        if self.ended {
            self.pending
        } else {
            0
        }
    }

    /// Frames of the pass: read, lost, or (once it has ended) still pending.
    pub fn pass_frames(&self) -> u64 {
        self.frames + self.late()
    }

    /// Frames the sum-check could not compare.
    pub fn sum_unchecked(&self) -> u64 {
        self.lost + self.partial + self.late()
    }

    /// Frames the detection of the bus with the least coverage did not see.
    pub fn detection_unchecked(&self) -> u64 {
        self.lost + self.stem_unseen.iter().copied().max().unwrap_or(0) + self.late()
    }

    /// Frames unchecked by the sum-check or by some bus's detection, whichever is more.
    pub fn unchecked(&self) -> u64 {
        self.sum_unchecked().max(self.detection_unchecked())
    }

    /// `unchecked` as a fraction of the pass (0 when nothing was played).
    pub fn unchecked_fraction(&self) -> f64 {
        match self.pass_frames() {
            0 => 0.0,
            n => self.unchecked() as f64 / n as f64,
        }
    }

    /// The main reason for unchecked frames, if any.
    pub fn reason(&self) -> Option<Unchecked> {
        let missing = self
            .partial
            .max(self.detection_unchecked() - self.lost - self.late());
        let late = self.late();
        let outran = self.outran;
        let other = (self.lost + missing).saturating_sub(outran);
        match (outran, other, late) {
            (0, 0, 0) => None,
            _ if late >= outran && late >= other => Some(Unchecked::Pending),
            _ if outran >= other => Some(Unchecked::Outran),
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
        // Frames not read yet count only once the pass has ended.
        let behind = Coverage {
            frames: 1000,
            pending: 500,
            stem_unseen: vec![0],
            ..Default::default()
        };
        assert_eq!((behind.unchecked(), behind.reason()), (0, None));
        let ended = Coverage {
            ended: true,
            ..behind
        };
        assert_eq!(ended.pass_frames(), 1500);
        assert_eq!(ended.unchecked(), 500);
        assert_eq!(ended.reason(), Some(Unchecked::Pending));
    }
}
