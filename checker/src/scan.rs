//! One pass over every file at once, as a DAW would play the imported stems: each file streams
//! through its own meter and file stats on this thread, while the session analysis (sum-check,
//! limiter detection, stem-sum true peak) runs on a second thread, fed the same positions.
//!
//! Before anything is metered, the start of the pass is held in memory while
//! [`mix_detect`](crate::mix_detect) finds which file is the mix (and which files to keep out
//! of the sum); then the held steps and the rest of the files go through the same path, so
//! the files are decoded once.

use std::collections::HashMap;
use std::sync::mpsc::sync_channel;

use stemcheck_engine::analysis::session::{SessionAnalysis, SessionFigures};
use stemcheck_engine::analysis::SumCheckConfig;
use stemcheck_engine::dsp::bus_meter::{BusMeter, MeterSettings};
use stemcheck_engine::dsp::pass::TransportState;
use stemcheck_engine::dsp::snapshot::MeterSnapshot;

use crate::mix_detect::{Detection, Detector};
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
    /// Every stem's meter, in the order of [`Detection::stems`].
    pub stems: Vec<MeterSnapshot>,
    /// Every stem file's facts, in the same order.
    pub stem_stats: Vec<FileStats>,
    /// The mix file's facts.
    pub mix_stats: Option<FileStats>,
    /// The session analysis; its stems are those of [`Scan::analysed`], in that order.
    pub figures: SessionFigures,
    /// Indices (into [`Scan::stem_files`]) of the stems at the session rate, which the session
    /// analysis compared; stems at another rate are metered but left out, as in the plugin.
    pub analysed: Vec<usize>,
    /// The stems (indices into the files scanned), in the order given.
    pub stem_files: Vec<usize>,
    /// Which file is the mix and which were set aside.
    pub detection: Detection,
}

/// One read of every file: its audio (one vector per channel) and the frames it holds.
#[derive(Clone, Debug, Default)]
pub struct Step {
    /// Per file, its channels (empty once the file is not read any more).
    pub audio: Vec<Vec<Vec<f32>>>,
    /// Per file, frames read.
    pub got: Vec<usize>,
}

/// The session's rate: the mix's if there is one, otherwise the rate most files share (ties
/// go to the higher rate).
pub fn session_rate(files: &[Source], mix: Option<usize>) -> u32 {
    if let Some(m) = mix {
        return files[m].info.sample_rate;
    }
    let mut counts: HashMap<u32, usize> = HashMap::new();
    for s in files {
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

/// How the pass treats the files.
pub struct PassSettings {
    /// The meters' settings.
    pub meter: MeterSettings,
    /// Level at or below which a sample is silence, dBFS.
    pub silence_dbfs: f32,
    /// Null depth within which a file equals the sum of others, dB.
    pub null_tolerance_db: f32,
}

/// Reads the next `CHUNK` frames of every file in `live`; `None` once they are all exhausted.
fn read_step(files: &mut [Source], live: &[bool]) -> Result<Option<Step>, InputProblem> {
    let mut step = Step {
        audio: files.iter().map(|_| Vec::new()).collect(),
        got: vec![0; files.len()],
    };
    let mut any = false;
    for (i, src) in files.iter_mut().enumerate() {
        if !live[i] {
            continue;
        }
        let mut buf = vec![Vec::new(); src.info.channels];
        let got = src.read(CHUNK, &mut buf)?;
        any |= got > 0;
        step.audio[i] = buf;
        step.got[i] = got;
    }
    Ok(any.then_some(step))
}

/// Streams every file once, for a session at `session_hz` (see [`session_rate`]). `given_mix`
/// is the mix named on the command line (an index into `files`); otherwise the mix is looked
/// for among the files. `by_name` says which files are named like a mix. `progress` is told
/// how many session frames each step covered.
pub fn scan(
    files: &mut [Source],
    given_mix: Option<usize>,
    by_name: &[bool],
    session_hz: u32,
    settings: &PassSettings,
    progress: &dyn Fn(u64),
) -> Result<Scan, InputProblem> {
    // The start of the pass, held while the mix is looked for.
    let compared: Vec<usize> = (0..files.len())
        .filter(|&i| files[i].info.sample_rate == session_hz)
        .collect();
    let mut held = Vec::new();
    let detection = if compared.iter().filter(|&&i| Some(i) != given_mix).count() >= 3 {
        let mut detector = Detector::new(compared, files.len(), session_hz, settings.silence_dbfs);
        let all = vec![true; files.len()];
        while !detector.enough() {
            match read_step(files, &all)? {
                Some(step) => {
                    detector.observe(&step);
                    held.push(step);
                }
                None => break,
            }
        }
        detector.decide(
            &held,
            by_name,
            given_mix,
            f64::from(settings.null_tolerance_db),
        )
    } else {
        Detection::given(given_mix)
    };
    let mix = detection.mix;
    let stem_files: Vec<usize> = (0..files.len())
        .filter(|&i| Some(i) != mix && !detection.set_aside.contains(&i))
        .collect();
    let mut live = vec![false; files.len()];
    for &i in stem_files.iter().chain(&mix) {
        live[i] = true;
    }

    let analysed: Vec<usize> = (0..stem_files.len())
        .filter(|&k| files[stem_files[k]].info.sample_rate == session_hz)
        .collect();
    let master_channels = match mix {
        Some(m) => files[m].info.channels,
        None => analysed
            .iter()
            .map(|&k| files[stem_files[k]].info.channels)
            .max()
            .unwrap_or(2),
    };
    let stem_channels: Vec<usize> = analysed
        .iter()
        .map(|&k| files[stem_files[k]].info.channels)
        .collect();
    let rate = session_hz as f32;
    let mut analysis =
        SessionAnalysis::new(SumCheckConfig::new(master_channels, rate), &stem_channels);
    let meter = settings.meter;
    let mut meters: Vec<BusMeter> = stem_files
        .iter()
        .map(|&i| {
            BusMeter::new(
                files[i].info.channels,
                files[i].info.sample_rate as f32,
                meter,
            )
        })
        .collect();
    let mut master_meter = BusMeter::new(master_channels, rate, meter);
    let mut stats: Vec<FileStats> = stem_files
        .iter()
        .map(|_| FileStats::new(settings.silence_dbfs))
        .collect();
    let mut mix_stats = mix.map(|_| FileStats::new(settings.silence_dbfs));
    let in_session: Vec<bool> = (0..stem_files.len())
        .map(|k| analysed.contains(&k))
        .collect();

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
        let mut position = 0i64;
        // One step of the pass through the meters, the stats and the analysis; false once the
        // analysis is gone.
        let mut play = |step: &Step| -> bool {
            let mut session_frames = 0;
            for (k, &i) in stem_files.iter().enumerate() {
                let got = step.got[i];
                if got > 0 {
                    let at = stats[k].frames() as i64;
                    stats[k].push(&step.audio[i]);
                    meters[k].process(&step.audio[i], playing(at));
                }
                if in_session[k] {
                    session_frames = session_frames.max(got);
                }
            }
            if let (Some(m), Some(st)) = (mix, mix_stats.as_mut()) {
                let got = step.got[m];
                if got > 0 {
                    st.push(&step.audio[m]);
                }
                session_frames = session_frames.max(got);
            }
            if session_frames == 0 {
                return true;
            }
            let n = session_frames;
            let chunk_stems: Vec<Vec<Vec<f32>>> = analysed
                .iter()
                .map(|&k| padded(&step.audio[stem_files[k]], n))
                .collect();
            let master = match mix {
                Some(m) => padded(&step.audio[m], n),
                None => unity_sum(&chunk_stems, master_channels, n),
            };
            master_meter.process(&master, playing(position));
            position += n as i64;
            progress(n as u64);
            tx.send(Chunk {
                master,
                stems: chunk_stems,
            })
            .is_ok()
        };
        let read = (|| {
            for step in held.drain(..) {
                if !play(&step) {
                    return Ok(());
                }
            }
            while let Some(step) = read_step(files, &live)? {
                if !play(&step) {
                    return Ok(());
                }
            }
            Ok(())
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
        stem_files,
        detection,
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
                let Some(src) = stem.get(ch.min(stem.len().saturating_sub(1))) else {
                    continue;
                };
                for (s, v) in sum.iter_mut().zip(src) {
                    *s += v;
                }
            }
            sum
        })
        .collect()
}
