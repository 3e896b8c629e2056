//! The report's `files` section (written by the command-line checker only; absent from the
//! plugin's reports): what each delivered file is, as stored.

use serde::{Deserialize, Serialize};

use super::file_input::{FileFacts, FilesInput};
use super::file_mix::MixReport;
use super::units::round;

/// The files of a delivery and the thresholds their rules used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FilesReport {
    /// Level at or below which a sample counts as silence, dBFS.
    pub silence_threshold_dbfs: f64,
    /// Pre-roll expected before the package's first signal, seconds.
    pub preroll_min_s: f64,
    /// Shortest tail expected after each stem's last signal, seconds.
    pub tail_min_s: f64,
    /// Longest tail expected after the package's last signal, seconds.
    pub tail_max_s: f64,
    /// One entry per stem, in the order of `stems`.
    pub stems: Vec<FileReport>,
    /// The reference mix, when one was given or found among the files.
    pub mix: Option<FileReport>,
    /// How the mix was chosen, and the files that looked like one.
    pub mix_detection: Option<MixReport>,
}

/// One file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileReport {
    /// The stem's name in the report.
    pub name: String,
    /// The file as given.
    pub file: String,
    /// `WAV`, `RF64`, `BW64`, `W64`, `AIFF` or `FLAC`.
    pub container: String,
    /// `int` or `float`.
    pub encoding: String,
    /// Bits per sample.
    pub bit_depth: u32,
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// Channels.
    pub channels: u32,
    /// Length in samples per channel.
    pub length_samples: u64,
    /// Length in seconds.
    pub duration_s: f64,
    /// Silence before the first signal, seconds; `null` when the file is silent.
    pub leading_silence_s: Option<f64>,
    /// Silence after the last signal, seconds; `null` when the file is silent.
    pub tail_s: Option<f64>,
    /// Stereo with two identical channels.
    pub dual_mono: bool,
    /// BWF time reference (`bext`): where the file starts in the session, samples since
    /// midnight; `null` when the file carries none.
    pub time_reference_samples: Option<u64>,
    /// The same in seconds since midnight.
    pub time_reference_s: Option<f64>,
}

impl FilesReport {
    /// The section for these files.
    pub fn new(files: &FilesInput) -> Self {
        let s = &files.settings;
        let db = |v: f32| round(f64::from(v), 2);
        Self {
            silence_threshold_dbfs: db(s.silence_dbfs),
            preroll_min_s: db(s.preroll_min_s),
            tail_min_s: db(s.tail_min_s),
            tail_max_s: db(s.tail_max_s),
            stems: files.stems.iter().map(FileReport::new).collect(),
            mix: files.mix.as_ref().map(FileReport::new),
            mix_detection: files.mix_choice.as_ref().map(|c| c.report()),
        }
    }
}

impl FileReport {
    /// One file's entry.
    pub fn new(f: &FileFacts) -> Self {
        let rate = f64::from(f.sample_rate.max(1));
        let secs = |frames: u64| round(frames as f64 / rate, 3);
        Self {
            name: f.name.clone(),
            file: f.path.clone(),
            container: f.container.clone(),
            encoding: f.encoding.as_str().into(),
            bit_depth: f.bits,
            sample_rate: f.sample_rate,
            channels: f.channels,
            length_samples: f.frames,
            duration_s: secs(f.frames),
            leading_silence_s: f.first_signal.map(secs),
            tail_s: f.last_signal.map(|l| secs(tail_frames(f.frames, l))),
            dual_mono: f.dual_mono,
            time_reference_samples: f.time_reference,
            time_reference_s: f.time_reference.map(|t| round(t as f64 / rate, 6)),
        }
    }
}

/// Frames after the last signal frame `last` in a file of `frames`.
pub(crate) fn tail_frames(frames: u64, last: u64) -> u64 {
    frames.saturating_sub(last + 1)
}
