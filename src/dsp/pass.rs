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

/// Follows the transport to keep the [`PassRange`] and to spot a new pass.
#[derive(Clone, Copy, Debug, Default)]
pub struct PassTracker {
    range: PassRange,
    /// Where the next block would start if playback goes on without a jump.
    expected_next: Option<i64>,
}

impl PassTracker {
    /// The range so far.
    pub fn range(&self) -> PassRange {
        self.range
    }

    /// Forgets the range (a manual reset); the next played block starts a new one.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Takes one block of `len` samples into account. Returns true when this block begins a
    /// new pass: playback started (or jumped) to a position before the end of the range
    /// already played, so the meters must be reset before they see it.
    pub fn on_block(&mut self, transport: TransportState, len: usize) -> bool {
        let (true, Some(pos)) = (transport.playing, transport.pos_samples) else {
            self.expected_next = None;
            return false;
        };
        let mut new_pass = false;
        if self.expected_next != Some(pos) {
            match self.range.end {
                Some(end) if pos < end => new_pass = true,
                Some(end) if pos > end => self.range.jumped = true,
                _ => {}
            }
        }
        if new_pass {
            self.range = PassRange::default();
        }
        let end = pos + len as i64;
        self.range.start.get_or_insert(pos);
        self.range.end = Some(self.range.end.map_or(end, |e| e.max(end)));
        self.expected_next = Some(end);
        new_pass
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
        assert!(!t.on_block(play(0), 100));
        assert!(!t.on_block(play(100), 100));
        assert!(!t.on_block(TransportState::default(), 100));
        assert!(
            !t.on_block(play(200), 100),
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
        assert!(t.on_block(play(50), 100));
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
        assert!(!t.on_block(play(1000), 100));
        assert!(t.range().jumped);
    }
}
