//! One pass over every file at once, as a DAW would play the imported stems: each file streams
//! through its own meter and file stats on this thread, while the session analysis (sum-check,
//! limiter detection, stem-sum true peak) runs on a second thread, fed the same positions.

use std::collections::HashMap;
use std::sync::mpsc::sync_channel;

use stemcheck_engine::analysis::session::{SessionAnalysis, SessionFigures};
use stemcheck_engine::analysis::SumCheckConfig;
use stemcheck_engine::dsp::bus_meter::{BusMeter, MeterSettings};
use stemcheck_engine::dsp::pass::TransportState;
use stemcheck_engine::dsp::snapshot::MeterSnapshot;

use crate::problem::InputProblem;
use crate::source::Source;
use crate::stats::FileStats;

/// Frames read from every file at a time.
pub const CHUNK: usize = 8192;

/// Chunks in flight to the analysis thread: enough to keep both cores busy, few enough to
/// bound memory (4 chunks of 9 stereo files is about 2.4 MB).
const IN_FLIGHT: usize = 4;

/// What one pass measured.
pub struct Scan {
    /// The session's sample rate: the mix's, or the stems' most common one.
    pub session_hz: u32,
    /// The master's meter: the mix, or the stems summed at unity when there is no mix.
    pub master: MeterSnapshot,
    /// Every stem's meter, in the order given.
    pub stems: Vec<MeterSnapshot>,
    /// Every stem file's facts, in the order given.
    pub stem_stats: Vec<FileStats>,
    /// The mix file's facts.
    pub mix_stats: Option<FileStats>,
    /// The session analysis; its stems are those of [`Scan::analysed`], in that order.
    pub figures: SessionFigures,
    /// Indices (into the stems given) of the stems at the session rate, which the session
    /// analysis compared; stems at another rate are metered but left out, as in the plugin.
    pub analysed: Vec<usize>,
}

/// The session's rate: the mix's if there is one, otherwise the rate most stems share (ties
/// go to the higher rate).
pub fn session_rate(stems: &[Source], mix: Option<&Source>) -> u32 {
    if let Some(m) = mix {
        return m.info.sample_rate;
    }
    let mut counts: HashMap<u32, usize> = HashMap::new();
    for s in stems {
        *counts.entry(s.info.sample_rate).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)))
        .map_or(48_000, |(rate, _)| rate)
}

/// One chunk of the session for the analysis thread: every analysed stem and the master,
/// padded with silence to the same length (a file that has ended plays silence, as it would
/// in a DAW).
struct Chunk {
    master: Vec<Vec<f32>>,
    stems: Vec<Vec<Vec<f32>>>,
}

/// Streams every file once, for a session at `session_hz` (see [`session_rate`]). `progress`
/// is told how many session frames each step covered.
pub fn scan(
    stems: &mut [Source],
    mut mix: Option<&mut Source>,
    session_hz: u32,
    settings: MeterSettings,
    silence_dbfs: f32,
    progress: &dyn Fn(u64),
) -> Result<Scan, InputProblem> {
    let analysed: Vec<usize> = (0..stems.len())
        .filter(|&i| stems[i].info.sample_rate == session_hz)
        .collect();
    let master_channels = match &mix {
        Some(m) => m.info.channels,
        None => analysed
            .iter()
            .map(|&i| stems[i].info.channels)
            .max()
            .unwrap_or(2),
    };
    let stem_channels: Vec<usize> = analysed.iter().map(|&i| stems[i].info.channels).collect();
    let rate = session_hz as f32;
    let mut analysis =
        SessionAnalysis::new(SumCheckConfig::new(master_channels, rate), &stem_channels);

    let mut meters: Vec<BusMeter> = stems
        .iter()
        .map(|s| BusMeter::new(s.info.channels, s.info.sample_rate as f32, settings))
        .collect();
    let mut master_meter = BusMeter::new(master_channels, rate, settings);
    let mut stats: Vec<FileStats> = stems.iter().map(|_| FileStats::new(silence_dbfs)).collect();
    let mut mix_stats = mix.as_ref().map(|_| FileStats::new(silence_dbfs));
    let mut bufs: Vec<Vec<Vec<f32>>> = stems
        .iter()
        .map(|s| vec![Vec::new(); s.info.channels])
        .collect();
    let mut mix_buf: Vec<Vec<f32>> = vec![Vec::new(); master_channels];
    let in_session: Vec<bool> = (0..stems.len()).map(|i| analysed.contains(&i)).collect();

    let (tx, rx) = sync_channel::<Chunk>(IN_FLIGHT);
    let figures = std::thread::scope(|scope| {
        let worker = scope.spawn(move || {
            for chunk in rx {
                let master: Vec<&[f32]> = chunk.master.iter().map(Vec::as_slice).collect();
                let stems: Vec<Vec<&[f32]>> = chunk
                    .stems
                    .iter()
                    .map(|s| s.iter().map(Vec::as_slice).collect())
                    .collect();
                let refs: Vec<Option<&[&[f32]]>> =
                    stems.iter().map(|s| Some(s.as_slice())).collect();
                analysis.push(&master, &refs);
            }
            analysis.finish();
            analysis.figures()
        });
        let read = (|| {
            let mut position = 0i64;
            loop {
                let mut session_frames = 0;
                let mut any = false;
                for (i, src) in stems.iter_mut().enumerate() {
                    let got = src.read(CHUNK, &mut bufs[i])?;
                    any |= got > 0;
                    if got > 0 {
                        let at = stats[i].frames() as i64;
                        stats[i].push(&bufs[i]);
                        meters[i].process(&bufs[i], playing(at));
                    }
                    if in_session[i] {
                        session_frames = session_frames.max(got);
                    }
                }
                if let (Some(m), Some(st)) = (mix.as_deref_mut(), mix_stats.as_mut()) {
                    let got = m.read(CHUNK, &mut mix_buf)?;
                    any |= got > 0;
                    if got > 0 {
                        st.push(&mix_buf);
                    }
                    session_frames = session_frames.max(got);
                }
                if !any {
                    return Ok(());
                }
                if session_frames == 0 {
                    continue;
                }
                let n = session_frames;
                let chunk_stems: Vec<Vec<Vec<f32>>> =
                    analysed.iter().map(|&i| padded(&bufs[i], n)).collect();
                let master = if mix_stats.is_some() {
                    padded(&mix_buf, n)
                } else {
                    unity_sum(&chunk_stems, master_channels, n)
                };
                master_meter.process(&master, playing(position));
                position += n as i64;
                progress(n as u64);
                if tx
                    .send(Chunk {
                        master,
                        stems: chunk_stems,
                    })
                    .is_err()
                {
                    return Ok(());
                }
            }
        })();
        drop(tx);
        let figures = worker.join().expect("the analysis thread does not panic");
        read.map(|()| figures)
    })?;

    Ok(Scan {
        session_hz,
        master: master_meter.snapshot(),
        stems: meters.iter().map(BusMeter::snapshot).collect(),
        stem_stats: stats,
        mix_stats,
        figures,
        analysed,
    })
}

/// The transport of a pass playing from position `at`.
fn playing(at: i64) -> TransportState {
    TransportState {
        playing: true,
        pos_samples: Some(at),
    }
}

/// `channels` extended with silence to `n` frames.
fn padded(channels: &[Vec<f32>], n: usize) -> Vec<Vec<f32>> {
    channels
        .iter()
        .map(|c| {
            let mut v = Vec::with_capacity(n);
            v.extend_from_slice(&c[..c.len().min(n)]);
            v.resize(n, 0.0);
            v
        })
        .collect()
}

/// The stems summed at unity, a mono stem feeding every channel (as the session analysis sums
/// them).
fn unity_sum(stems: &[Vec<Vec<f32>>], channels: usize, n: usize) -> Vec<Vec<f32>> {
    (0..channels)
        .map(|ch| {
            let mut sum = vec![0.0f32; n];
            for stem in stems {
                let src = &stem[ch.min(stem.len() - 1)];
                for (s, v) in sum.iter_mut().zip(src) {
                    *s += v;
                }
            }
            sum
        })
        .collect()
}
