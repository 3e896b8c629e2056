//! One audio file opened for streaming: its format as stored, and its samples as planar `f32`
//! in chunks, so a session of long stems never has to fit in memory at once.

use std::fs::File;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use stemcheck_engine::report::Encoding;
use symphonia::core::audio::sample::SampleFormat;
use symphonia::core::codecs::audio::well_known::{
    CODEC_ID_PCM_F32BE, CODEC_ID_PCM_F32BE_PLANAR, CODEC_ID_PCM_F32LE, CODEC_ID_PCM_F32LE_PLANAR,
    CODEC_ID_PCM_F64BE, CODEC_ID_PCM_F64BE_PLANAR, CODEC_ID_PCM_F64LE, CODEC_ID_PCM_F64LE_PLANAR,
};
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as DecodeError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::problem::InputProblem;
use crate::sniff::{sniff, Kind};

/// Sample rates the checker accepts, Hz. Outside them a header is taken as corrupt.
pub const RATES: std::ops::RangeInclusive<u32> = 8_000..=768_000;

/// A file's format as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceInfo {
    /// The file.
    pub path: PathBuf,
    /// `WAV`, `AIFF` or `FLAC`.
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
}

/// An open file, decoding as it is read.
pub struct Source {
    /// Its format.
    pub info: SourceInfo,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    /// Decoded frames not taken yet, per channel.
    pending: Vec<Vec<f32>>,
    scratch: Vec<Vec<f32>>,
    decoded: u64,
    ended: bool,
}

impl Source {
    /// Opens `path`, refusing missing, unreadable, lossy, corrupt and multichannel files with
    /// the reason.
    pub fn open(path: &Path) -> Result<Self, InputProblem> {
        let problem = |reason: String| InputProblem::new(path, reason);
        let mut file = File::open(path).map_err(|e| problem(format!("cannot open it: {e}")))?;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(problem("is a folder, not an audio file".into()));
        }
        let mut head = [0u8; 12];
        let mut got = 0;
        while got < head.len() {
            match file.read(&mut head[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) => return Err(problem(format!("cannot read it: {e}"))),
            }
        }
        if got == 0 {
            return Err(problem("is empty (0 bytes)".into()));
        }
        let container = match sniff(&head[..got]) {
            Kind::Wav => "WAV",
            Kind::Aiff => "AIFF",
            Kind::Flac => "FLAC",
            Kind::Lossy(what) => {
                return Err(problem(format!(
                    "is {what}, a lossy format: its samples are not the mix's any more, so \
                     peaks, clipping and the sum cannot be checked. Export the stems as WAV, \
                     AIFF or FLAC (24-bit or 32-bit float)."
                )))
            }
            Kind::Unsupported(what) => {
                return Err(problem(format!(
                    "is {what}, which this checker does not read: convert it to WAV, AIFF or \
                     FLAC."
                )))
            }
            Kind::Unknown => {
                return Err(problem(
                    "is not a WAV, AIFF or FLAC file (its header is not one of theirs)".into(),
                ))
            }
        };
        file.rewind()
            .map_err(|e| problem(format!("cannot read it: {e}")))?;
        let stream = MediaSourceStream::new(Box::new(file), Default::default());
        let format = symphonia::default::get_probe()
            .probe(
                &Hint::new(),
                stream,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|e| problem(format!("is not a readable {container} file: {e}")))?;
        Self::from_reader(path, container, format)
    }

    fn from_reader(
        path: &Path,
        container: &'static str,
        format: Box<dyn FormatReader>,
    ) -> Result<Self, InputProblem> {
        let problem = |reason: String| InputProblem::new(path, reason);
        let track = format
            .default_track(TrackType::Audio)
            .ok_or_else(|| problem(format!("holds no audio track ({container})")))?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| problem(format!("holds no audio track ({container})")))?
            .clone();
        let track_id = track.id;
        let frames = track.num_frames;
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|e| {
                problem(format!(
                    "holds audio this checker cannot decode ({e}): stems must be \
                     uncompressed PCM or FLAC"
                ))
            })?;
        let sample_rate = params
            .sample_rate
            .ok_or_else(|| problem("does not say its sample rate".into()))?;
        if !RATES.contains(&sample_rate) {
            return Err(problem(format!(
                "says its sample rate is {sample_rate} Hz, which no stem has (expected {} to \
                 {} Hz): the header is corrupt",
                RATES.start(),
                RATES.end()
            )));
        }
        let channels = params.channels.as_ref().map_or(0, |c| c.count());
        if !(1..=2).contains(&channels) {
            return Err(problem(format!(
                "has {channels} channels: Stemcheck checks mono and stereo stems only"
            )));
        }
        // Containers do not always fill in the sample format (WAV float does not): the codec
        // id says it too.
        let sample_format = match params.codec {
            CODEC_ID_PCM_F32LE
            | CODEC_ID_PCM_F32BE
            | CODEC_ID_PCM_F32LE_PLANAR
            | CODEC_ID_PCM_F32BE_PLANAR => Some(SampleFormat::F32),
            CODEC_ID_PCM_F64LE
            | CODEC_ID_PCM_F64BE
            | CODEC_ID_PCM_F64LE_PLANAR
            | CODEC_ID_PCM_F64BE_PLANAR => Some(SampleFormat::F64),
            _ => params.sample_format,
        };
        let (encoding, format_bits) = match sample_format {
            Some(SampleFormat::F32) => (Encoding::Float, 32),
            Some(SampleFormat::F64) => (Encoding::Float, 64),
            Some(SampleFormat::U8 | SampleFormat::S8) => (Encoding::Int, 8),
            Some(SampleFormat::U16 | SampleFormat::S16) => (Encoding::Int, 16),
            Some(SampleFormat::U24 | SampleFormat::S24) => (Encoding::Int, 24),
            Some(SampleFormat::U32 | SampleFormat::S32) | None => (Encoding::Int, 32),
        };
        let bits = match encoding {
            Encoding::Float => format_bits,
            Encoding::Int => params
                .bits_per_coded_sample
                .or(params.bits_per_sample)
                .unwrap_or(format_bits),
        };
        Ok(Self {
            info: SourceInfo {
                path: path.to_path_buf(),
                container,
                encoding,
                bits,
                channels,
                sample_rate,
                frames,
            },
            format,
            decoder,
            track_id,
            pending: vec![Vec::new(); channels],
            scratch: Vec::new(),
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
        while !self.ended && self.pending[0].len() < frames {
            self.decode_packet()?;
        }
        let n = self.pending[0].len().min(frames);
        for (o, p) in out.iter_mut().zip(&mut self.pending) {
            o.clear();
            o.extend_from_slice(&p[..n]);
            p.drain(..n);
        }
        Ok(n)
    }

    fn decode_packet(&mut self) -> Result<(), InputProblem> {
        let path = self.info.path.clone();
        let corrupt = |what: String| InputProblem::new(&path, what);
        let packet = match self.format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => return self.end(),
            Err(DecodeError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return self.end()
            }
            Err(e) => {
                return Err(corrupt(format!(
                    "is corrupt after {} samples: {e}",
                    self.decoded
                )))
            }
        };
        if packet.track_id != self.track_id {
            return Ok(());
        }
        let buf = self
            .decoder
            .decode(&packet)
            .map_err(|e| corrupt(format!("is corrupt after {} samples: {e}", self.decoded)))?;
        buf.copy_to_vecs_planar::<f32>(&mut self.scratch);
        let n = buf.frames();
        for (c, p) in self.pending.iter_mut().enumerate() {
            let src = self
                .scratch
                .get(c)
                .map_or(&[][..], |s| &s[..n.min(s.len())]);
            p.extend_from_slice(src);
        }
        self.decoded += n as u64;
        Ok(())
    }

    /// End of the stream: it must hold what the header promised.
    fn end(&mut self) -> Result<(), InputProblem> {
        self.ended = true;
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
