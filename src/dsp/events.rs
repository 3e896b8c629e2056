//! Counting events (clips, overs, flat tops) with the transport position of the first and last.

/// A count of events and where the first and last happened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventLog {
    /// How many events since the last reset.
    pub count: u64,
    /// Transport position (samples) of the first event, if the host reported one.
    pub first: Option<i64>,
    /// Transport position (samples) of the latest event, if the host reported one.
    pub last: Option<i64>,
}

impl EventLog {
    /// Records one event at `pos`.
    #[inline]
    pub fn record(&mut self, pos: Option<i64>) {
        if self.count == 0 {
            self.first = pos;
        }
        self.count += 1;
        self.last = pos;
    }

    /// Records `count` events, the first at `first` and the last at `last` (in order).
    pub fn record_run(&mut self, count: u64, first: Option<i64>, last: Option<i64>) {
        if count == 0 {
            return;
        }
        if self.count == 0 {
            self.first = first;
        }
        self.count += count;
        self.last = last;
    }

    /// Folds another channel's log into this one (earliest first, latest last).
    pub fn merge(&mut self, other: &EventLog) {
        if other.count == 0 {
            return;
        }
        self.first = match (self.first, other.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last = match (self.last, other.last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.count += other.count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_and_last_follow_the_events() {
        let mut log = EventLog::default();
        log.record(Some(10));
        log.record(None);
        log.record(Some(30));
        assert_eq!(
            log,
            EventLog {
                count: 3,
                first: Some(10),
                last: Some(30)
            }
        );
        let mut run = EventLog::default();
        run.record_run(0, Some(1), Some(2));
        assert_eq!(run, EventLog::default());
        run.record_run(3, Some(40), Some(44));
        run.record_run(2, Some(50), Some(51));
        assert_eq!((run.count, run.first, run.last), (5, Some(40), Some(51)));
        let mut other = EventLog::default();
        other.record(Some(5));
        log.merge(&other);
        assert_eq!(
            log,
            EventLog {
                count: 4,
                first: Some(5),
                last: Some(30)
            }
        );
    }
}
