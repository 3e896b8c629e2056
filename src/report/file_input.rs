//! What the command-line checker knows about each exported file, beyond what the meters read:
//! its format, its length, where its signal starts and ends, its BWF start time, and a digest
//! of its audio. The plugin has no files and leaves
//! [`ReportInput::files`](super::ReportInput::files) empty.

use super::file_mix::MixChoice;

/// How a file stores its samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Integer PCM.
    Int,
    /// IEEE floating point.
    Float,
}

impl Encoding {
    /// The JSON word (`int`, `float`).
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Int => "int",
            Encoding::Float => "float",
        }
    }
}

/// One decoded file, as the file rules see it.
#[derive(Clone, Debug, PartialEq)]
pub struct FileFacts {
    /// The stem's name in the report (the file name without its extension).
    pub name: String,
    /// The file as given on the command line or found in the folder.
    pub path: String,
    /// Container: `WAV`, `RF64`, `BW64`, `W64`, `AIFF` or `FLAC`.
    pub container: String,
    /// Integer or floating-point samples.
    pub encoding: Encoding,
    /// Bits per sample as stored.
    pub bits: u32,
    /// Channels in the file.
    pub channels: u32,
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// Length in frames (samples per channel).
    pub frames: u64,
    /// First frame with a sample above the silence threshold; `None` when there is none.
    pub first_signal: Option<u64>,
    /// Last frame with a sample above the silence threshold; `None` when there is none.
    pub last_signal: Option<u64>,
    /// Digest of the decoded audio, for finding duplicates; `None` for digital silence.
    pub digest: Option<u64>,
    /// A stereo file whose two channels are identical.
    pub dual_mono: bool,
    /// The BWF time reference (`bext` chunk): where the file starts in the session, samples
    /// since midnight at the file's rate; `None` when the file carries none.
    pub time_reference: Option<u64>,
}

/// Thresholds of the file rules (command-line options, same units).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FileSettings {
    /// A sample at or below this level counts as silence for pre-roll and tail, dBFS.
    pub silence_dbfs: f32,
    /// Silence expected before the first signal of the package, seconds.
    pub preroll_min_s: f32,
    /// Shortest tail after a stem's last signal, seconds.
    pub tail_min_s: f32,
    /// Longest tail after the package's last signal before it is worth a note, seconds.
    pub tail_max_s: f32,
}

impl Default for FileSettings {
    /// Silence at −80 dBFS (above 16-bit dither), pre-roll ≥ 1 s, tail 2–4 s.
    fn default() -> Self {
        Self {
            silence_dbfs: -80.0,
            preroll_min_s: 1.0,
            tail_min_s: 2.0,
            tail_max_s: 4.0,
        }
    }
}

/// Every file of a delivery: the stems, in the order of [`ReportInput::stems`](super::ReportInput::stems),
/// and the reference mix when one was given.
#[derive(Clone, Debug, PartialEq)]
pub struct FilesInput {
    /// Thresholds of the file rules.
    pub settings: FileSettings,
    /// One entry per stem file.
    pub stems: Vec<FileFacts>,
    /// The reference mix, when given or found among the files.
    pub mix: Option<FileFacts>,
    /// How the mix was chosen (given, found among the files, or none), and the files that
    /// looked like a mix; `None` when nothing was looked at.
    pub mix_choice: Option<MixChoice>,
}
