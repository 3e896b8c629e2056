//! Every bus's loudness in the evaluation against the `ebur128` crate on the same audio: the
//! integrated loudness within 0.05 LU and the loudness range within 0.1 LU (Tech 3342, from
//! short-term loudness every 100 ms, see `tests/common/loudness_peer.rs`), and no reading
//! where the peer has none.

use crate::loudness_peer::LoudnessPeer;
use stemcheck::dsp::snapshot::{LoudnessSnapshot, LOUDNESS_INTEGRATED, LOUDNESS_RANGE};

/// Largest difference in integrated loudness, LU.
const INTEGRATED_TOLERANCE: f64 = 0.05;
/// Largest difference in loudness range, LU.
const RANGE_TOLERANCE: f64 = 0.1;

/// One bus's loudness, Stemcheck's and the peer's (`None`: no reading, all gated out).
#[derive(Clone, Debug)]
pub struct BusLoudness {
    /// The bus ("master" or the stem's name).
    pub bus: String,
    /// Integrated loudness, LUFS: Stemcheck's and the peer's.
    pub integrated: [Option<f64>; 2],
    /// Loudness range, LU: Stemcheck's and the peer's.
    pub range: [Option<f64>; 2],
}

impl BusLoudness {
    /// Stemcheck's readings of one bus beside the peer's of the same audio.
    pub fn new(bus: &str, ours: &LoudnessSnapshot, peer: &LoudnessPeer) -> Self {
        let valid = |flag: u32, v: f32| (ours.valid & flag != 0).then_some(f64::from(v));
        let peer_i = peer.integrated();
        Self {
            bus: bus.to_owned(),
            integrated: [
                valid(LOUDNESS_INTEGRATED, ours.integrated_lufs),
                peer_i.is_finite().then_some(peer_i),
            ],
            range: [valid(LOUDNESS_RANGE, ours.lra_lu), peer.range()],
        }
    }
}

/// The worst difference of one figure over the buses, and where.
#[derive(Default)]
struct Worst {
    compared: usize,
    worst: f64,
    at: String,
    /// Buses where one side has a reading and the other none.
    one_sided: Vec<String>,
}

impl Worst {
    fn add(&mut self, pair: [Option<f64>; 2], at: impl Fn() -> String) {
        match pair {
            [Some(a), Some(b)] => {
                self.compared += 1;
                if (a - b).abs() > self.worst {
                    self.worst = (a - b).abs();
                    self.at = at();
                }
            }
            [None, None] => {}
            [a, b] => self.one_sided.push(format!("{} ({a:?} vs {b:?})", at())),
        }
    }

    fn check(&self, what: &str, tolerance: f64, missed: &mut Vec<String>) {
        println!(
            "  {what}: {} buses compared, worst difference {:.4} LU ({}), {} with a reading on \
             one side only",
            self.compared,
            self.worst,
            self.at,
            self.one_sided.len()
        );
        if self.worst > tolerance {
            missed.push(format!(
                "{what} differs from ebur128 by {:.4} LU at {} (at most {tolerance})",
                self.worst, self.at
            ));
        }
        if let Some(first) = self.one_sided.first() {
            missed.push(format!(
                "{what}: {} buses with a reading on one side only, e.g. {first}",
                self.one_sided.len()
            ));
        }
    }
}

/// Prints how every session's buses compare with the peer, and lists a missed target.
pub fn print_and_check<'a>(
    sessions: impl Iterator<Item = (&'a str, &'a [BusLoudness])>,
    missed: &mut Vec<String>,
) {
    let (mut integrated, mut range) = (Worst::default(), Worst::default());
    for (session, buses) in sessions {
        for b in buses {
            let at = || format!("{session} {}", b.bus);
            integrated.add(b.integrated, at);
            range.add(b.range, at);
        }
    }
    println!("Loudness against the ebur128 crate, every bus of every session:");
    integrated.check("integrated loudness", INTEGRATED_TOLERANCE, missed);
    range.check("loudness range", RANGE_TOLERANCE, missed);
}
