//! One audio file opened for streaming, from disk or from inside a zip archive: its format as
//! stored, and its samples as planar `f32` in chunks, so a session of long stems never has to
//! fit in memory at once. WAV, RF64, BW64 and Wave64 are read by [`WavStream`]; AIFF and FLAC
//! by symphonia ([`CodecStream`]).

use std::fs::File;
use std::io::{self, Cursor, Read, Seek};
use std::path::{Path, PathBuf};

use stemcheck_engine::report::Encoding;
use symphonia::core::io::{MediaSource, ReadOnlySource};

use crate::codec_stream::CodecStream;
use crate::problem::{InputProblem, StreamProblem};
use crate::sniff::{sniff, Kind, HEAD};
use crate::wav_stream::WavStream;

/// Sample rates the checker accepts, Hz. Outside them a header is taken as corrupt.
pub const RATES: std::ops::RangeInclusive<u32> = 8_000..=768_000;

/// A stream of bytes from its first one: a file, or an entry of an archive.
pub type ByteStream = Box<dyn Read + Send + Sync>;

/// A file's format as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceInfo {
    /// The file (for an archive's entry: the archive's path joined with the entry's name).
    pub path: PathBuf,
    /// `WAV`, `RF64`, `BW64`, `W64`, `AIFF` or `FLAC`.
    pub container: &'static str,
    /// Integer or float samples.
    pub encoding: Encoding,
    /// Bits per sample as stored.
    pub bits: u32,
    /// Channels (1 or 2).
    pub channels: usize,
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// Frames the header promises, when it says.
    pub frames: Option<u64>,
    /// The BWF time reference (`bext`), samples since midnight; a `bext` chunk after the
    /// audio is found once the file has been read to its end.
    pub time_reference: Option<u64>,
}

/// How the samples are decoded.
enum Decoder {
    Wav(Box<WavStream<ByteStream>>),
    Codec(Box<CodecStream>),
}

/// A check to run once the decoder is done with a stream (an archive's entry: read it to its
/// end and verify its checksum).
pub type Tail = Box<dyn FnMut() -> io::Result<()>>;

/// An open file, decoding as it is read.
pub struct Source {
    /// Its format.
    pub info: SourceInfo,
    decoder: Decoder,
    tail: Option<Tail>,
    decoded: u64,
    ended: bool,
}

/// The sentence for a lossy or unsupported kind, or the container's name.
fn container_of(kind: Kind) -> Result<&'static str, String> {
    match kind {
        Kind::Wav => Ok("WAV"),
        Kind::Wave64 => Ok("Wave64"),
        Kind::Aiff => Ok("AIFF"),
        Kind::Flac => Ok("FLAC"),
        Kind::Lossy(what) => Err(format!(
            "is {what}, a lossy format: its samples are not the mix's any more, so peaks, \
             clipping and the sum cannot be checked. Export the stems as WAV, AIFF or FLAC \
             (24-bit or 32-bit float)."
        )),
        Kind::Unsupported(what) => Err(format!(
            "is {what}, which this checker does not read: convert it to WAV, AIFF or FLAC."
        )),
        Kind::Archive(what) => Err(format!(
            "is {what}, which this checker does not open here: unpack it and check the stems \
             inside"
        )),
        Kind::Unknown => Err(
            "is not a WAV, AIFF or FLAC file, nor RF64 or Wave64 (its header is not one of theirs)"
                .into(),
        ),
    }
}

/// Reads up to [`HEAD`] bytes.
fn read_head(r: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut head = vec![0u8; HEAD];
    let mut got = 0;
    while got < head.len() {
        match r.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(got);
    Ok(head)
}

impl Source {
    /// Opens the file at `path`, refusing missing, unreadable, lossy, corrupt and
    /// multichannel files with the reason.
    pub fn open(path: &Path) -> Result<Self, InputProblem> {
        let problem = |reason: String| InputProblem::new(path, reason);
        let mut file = File::open(path).map_err(|e| problem(format!("cannot open it: {e}")))?;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(problem("is a folder, not an audio file".into()));
        }
        let head = read_head(&mut file).map_err(|e| problem(format!("cannot read it: {e}")))?;
        file.rewind()
            .map_err(|e| problem(format!("cannot read it: {e}")))?;
        // A file on disk goes to symphonia as itself, seekable.
        Self::from_stream(path, &head, file, |f| Box::new(f))
    }

    /// Opens an audio stream that cannot seek (an archive's entry), named `path` in messages;
    /// `tail` runs once the audio has been read.
    pub fn open_stream(
        path: &Path,
        mut stream: ByteStream,
        mut tail: Option<Tail>,
    ) -> Result<Self, InputProblem> {
        let head = match read_head(&mut stream) {
            Ok(h) => h,
            Err(e) => {
                let e = tail.as_mut().and_then(|t| t().err()).unwrap_or(e);
                return Err(read_problem(path, 0, &e));
            }
        };
        let whole: ByteStream = Box::new(Cursor::new(head.clone()).chain(stream));
        let mut source =
            Self::from_stream(path, &head, whole, |s| Box::new(ReadOnlySource::new(s))).map_err(
                |p| match tail.as_mut().and_then(|t| t().err()) {
                    // A header cut short by a failing archive entry is the archive's fault.
                    Some(e) => read_problem(path, 0, &e),
                    None => p,
                },
            )?;
        source.tail = tail;
        Ok(source)
    }

    /// Opens `stream` (from its first byte, which `head` starts) with the decoder its first
    /// bytes call for; `media` makes symphonia's source of it.
    fn from_stream<S: Read + Send + Sync + 'static>(
        path: &Path,
        head: &[u8],
        stream: S,
        media: impl FnOnce(S) -> Box<dyn MediaSource>,
    ) -> Result<Self, InputProblem> {
        let problem = |reason: String| InputProblem::new(path, reason);
        if head.is_empty() {
            return Err(problem("is empty (0 bytes)".into()));
        }
        let kind = sniff(head);
        let name = container_of(kind).map_err(problem)?;
        let unreadable = |why: String| problem(format!("is not a readable {name} file: {why}"));
        let (info, decoder) = match kind {
            Kind::Wav | Kind::Wave64 => {
                let wav = WavStream::open(Box::new(stream) as ByteStream).map_err(unreadable)?;
                let f = wav.format;
                let info = SourceInfo {
                    path: path.to_path_buf(),
                    container: wav.container,
                    encoding: f.encoding,
                    bits: f.valid_bits,
                    channels: f.channels,
                    sample_rate: f.sample_rate,
                    frames: wav.frames(),
                    time_reference: wav.time_reference(),
                };
                (info, Decoder::Wav(Box::new(wav)))
            }
            _ => {
                let codec = CodecStream::open(media(stream)).map_err(unreadable)?;
                let f = codec.format;
                let sample_rate = f
                    .sample_rate
                    .ok_or_else(|| problem("does not say its sample rate".into()))?;
                let info = SourceInfo {
                    path: path.to_path_buf(),
                    container: name,
                    encoding: f.encoding,
                    bits: f.bits,
                    channels: f.channels,
                    sample_rate,
                    frames: f.frames,
                    time_reference: None,
                };
                (info, Decoder::Codec(Box::new(codec)))
            }
        };
        if !RATES.contains(&info.sample_rate) {
            return Err(problem(format!(
                "says its sample rate is {} Hz, which no stem has (expected {} to {} Hz): the \
                 header is corrupt",
                info.sample_rate,
                RATES.start(),
                RATES.end()
            )));
        }
        if !(1..=2).contains(&info.channels) {
            return Err(problem(format!(
                "has {} channels: Stemcheck checks mono and stereo stems only",
                info.channels
            )));
        }
        Ok(Self {
            info,
            decoder,
            tail: None,
            decoded: 0,
            ended: false,
        })
    }

    /// Frames decoded so far.
    pub fn decoded(&self) -> u64 {
        self.decoded
    }

    /// Moves up to `frames` frames into `out` (one vector per channel, replaced), returning
    /// how many; 0 once the file is exhausted. A file that ends before its header says, or
    /// holds a packet that does not decode, is corrupt.
    pub fn read(&mut self, frames: usize, out: &mut [Vec<f32>]) -> Result<usize, InputProblem> {
        if self.ended {
            out.iter_mut().for_each(Vec::clear);
            return Ok(0);
        }
        let got = match &mut self.decoder {
            Decoder::Wav(w) => w.read(frames, out),
            Decoder::Codec(c) => c.read(frames, out),
        };
        let got = match got {
            Ok(n) => n,
            Err(e) => {
                // An archive's own failure explains a decoding error it caused.
                let e = self.tail.as_mut().and_then(|t| t().err()).unwrap_or(e);
                return Err(read_problem(&self.info.path, self.decoded, &e));
            }
        };
        self.decoded += got as u64;
        if got == 0 {
            self.end()?;
        }
        Ok(got)
    }

    /// End of the stream: it must hold what the header promised. A `bext` chunk after the
    /// audio is read now.
    fn end(&mut self) -> Result<(), InputProblem> {
        self.ended = true;
        if let Decoder::Wav(w) = &mut self.decoder {
            w.finish();
            self.info.time_reference = w.time_reference();
        }
        if let Some(tail) = self.tail.as_mut() {
            tail().map_err(|e| read_problem(&self.info.path, self.decoded, &e))?;
        }
        match self.info.frames {
            Some(promised) if self.decoded < promised => Err(InputProblem::new(
                &self.info.path,
                format!(
                    "is truncated: its header promises {promised} samples per channel but the \
                     file holds only {}",
                    self.decoded
                ),
            )),
            _ => Ok(()),
        }
    }
}

/// The problem for a read that failed after `decoded` frames: an archive's own sentence as it
/// is, anything else as corruption.
fn read_problem(path: &Path, decoded: u64, e: &io::Error) -> InputProblem {
    match e.get_ref().and_then(|i| i.downcast_ref::<StreamProblem>()) {
        Some(p) => InputProblem::new(path, p.0.clone()),
        None if e.kind() == io::ErrorKind::InvalidData => {
            InputProblem::new(path, format!("is corrupt after {decoded} samples: {e}"))
        }
        None => InputProblem::new(path, format!("cannot be read after {decoded} samples: {e}")),
    }
}
