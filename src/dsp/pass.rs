//! The played range of a pass, and when a new pass starts.

/// What the host says about its transport for one block (framework-free).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TransportState {
    /// Whether the transport is playing.
    pub playing: bool,
    /// Position of the block's first sample, in samples, when the host reports one.
    pub pos_samples: Option<i64>,
}

/// The range played since the last reset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PassRange {
    /// Transport position where playback of this pass began.
    pub start: Option<i64>,
    /// One past the last played sample.
    pub end: Option<i64>,
    /// Playback skipped forward over material during the pass.
    pub jumped: bool,
}

/// How one block relates to the pass (see [`PassTracker::on_block`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockStart {
    /// The block begins a new pass: the meters must be reset before they see it.
    pub new_pass: bool,
    /// Frames at the block's start that replay positions the pass has already covered (a
    /// restart a little before where the pass stopped): meter only what follows them.
    pub replayed: usize,
}

/// Follows the transport to keep the [`PassRange`] and to spot a new pass.
#[derive(Clone, Copy, Debug, Default)]
pub struct PassTracker {
    range: PassRange,
    /// Where the next block would start if playback goes on without a jump.
    expected_next: Option<i64>,
    /// A block starting at most this many frames before the pass's end (and after its start)
    /// continues the pass instead of starting a new one.
    resume_tolerance: i64,
}

impl PassTracker {
    /// A tracker that takes a restart up to `resume_tolerance` frames before where the pass
    /// stopped as the pass going on (DAWs restart a block, or their latency, early).
    pub fn with_resume_tolerance(resume_tolerance: usize) -> Self {
        Self {
            resume_tolerance: resume_tolerance as i64,
            ..Self::default()
        }
    }

    /// Changes the resume tolerance, keeping the pass.
    pub fn set_resume_tolerance(&mut self, frames: usize) {
        self.resume_tolerance = frames as i64;
    }

    /// The range so far.
    pub fn range(&self) -> PassRange {
        self.range
    }

    /// Forgets the range (a manual reset); the next played block starts a new one.
    pub fn clear(&mut self) {
        *self = Self {
            resume_tolerance: self.resume_tolerance,
            ..Self::default()
        };
    }

    /// Takes one block of `len` samples into account. A block that starts (or jumps) to a
    /// position before the end of the range already played begins a new pass, unless it starts
    /// within the resume tolerance of that end and after the pass's start: then the pass goes
    /// on, and the block's first frames replay what was already covered.
    pub fn on_block(&mut self, transport: TransportState, len: usize) -> BlockStart {
        let (true, Some(pos)) = (transport.playing, transport.pos_samples) else {
            self.expected_next = None;
            return BlockStart::default();
        };
        let mut out = BlockStart::default();
        if self.expected_next != Some(pos) {
            match (self.range.start, self.range.end) {
                (Some(start), Some(end))
                    if pos < end && pos > start && end - pos <= self.resume_tolerance => {}
                (_, Some(end)) if pos < end => out.new_pass = true,
                (_, Some(end)) if pos > end => self.range.jumped = true,
                _ => {}
            }
        }
        // Inside the pass (a resumed restart, block after block until it reaches the end):
        // those frames were metered already.
        if let (false, Some(end)) = (out.new_pass, self.range.end) {
            out.replayed = ((end - pos).max(0) as usize).min(len);
        }
        if out.new_pass {
            self.range = PassRange::default();
        }
        let end = pos + len as i64;
        self.range.start.get_or_insert(pos);
        self.range.end = Some(self.range.end.map_or(end, |e| e.max(end)));
        self.expected_next = Some(end);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn play(pos: i64) -> TransportState {
        TransportState {
            playing: true,
            pos_samples: Some(pos),
        }
    }

    #[test]
    fn continuous_playback_extends_one_pass() {
        let mut t = PassTracker::default();
        assert!(!t.on_block(play(0), 100).new_pass);
        assert!(!t.on_block(play(100), 100).new_pass);
        assert!(!t.on_block(TransportState::default(), 100).new_pass);
        assert_eq!(
            t.on_block(play(200), 100),
            BlockStart::default(),
            "resuming where it stopped continues the pass"
        );
        assert_eq!(
            t.range(),
            PassRange {
                start: Some(0),
                end: Some(300),
                jumped: false
            }
        );
    }

    #[test]
    fn playing_again_from_earlier_starts_a_new_pass() {
        let mut t = PassTracker::default();
        t.on_block(play(0), 100);
        t.on_block(play(100), 100);
        t.on_block(TransportState::default(), 100);
        assert!(t.on_block(play(50), 100).new_pass);
        assert_eq!(
            t.range(),
            PassRange {
                start: Some(50),
                end: Some(150),
                jumped: false
            }
        );
    }

    #[test]
    fn a_forward_jump_is_remembered() {
        let mut t = PassTracker::default();
        t.on_block(play(0), 100);
        assert!(!t.on_block(play(1000), 100).new_pass);
        assert!(t.range().jumped);
    }

    #[test]
    fn a_restart_within_the_tolerance_continues_the_pass() {
        let mut t = PassTracker::with_resume_tolerance(1024);
        for pos in (0..4096).step_by(512) {
            t.on_block(play(pos), 512);
        }
        t.on_block(TransportState::default(), 512);
        // A DAW with latency restarts a block early: the replayed part is not metered again.
        assert_eq!(
            t.on_block(play(4096 - 1024), 512),
            BlockStart {
                new_pass: false,
                replayed: 512
            }
        );
        assert_eq!(
            t.on_block(play(4096 - 512), 512),
            BlockStart {
                new_pass: false,
                replayed: 512
            }
        );
        assert_eq!(t.on_block(play(4096), 512), BlockStart::default());
        // Straddling the end: only the first part is a replay.
        t.on_block(TransportState::default(), 512);
        assert_eq!(t.on_block(play(4608 - 100), 512).replayed, 100);
        assert_eq!(
            t.range(),
            PassRange {
                start: Some(0),
                end: Some(5020),
                jumped: false
            }
        );
        // Further back than the tolerance, or from the pass's start: a new pass.
        let mut u = t;
        assert!(u.on_block(play(5020 - 1025), 512).new_pass);
        let mut v = t;
        assert!(
            v.on_block(play(0), 512).new_pass,
            "replaying from the start"
        );
        // A manual reset keeps the tolerance.
        t.clear();
        t.on_block(play(0), 512);
        assert_eq!(t.on_block(play(256), 512).replayed, 256);
    }
}
