//! AIFF and FLAC, decoded by symphonia (only its PCM and FLAC codecs are built in, so a lossy
//! stream is refused rather than decoded), as planar `f32` in chunks.

use std::io;

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
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;

/// What a stream says about its audio.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodecFormat {
    /// Integer or float samples.
    pub encoding: Encoding,
    /// Bits per sample as stored.
    pub bits: u32,
    /// Channels.
    pub channels: usize,
    /// Sample rate, Hz; `None` when the stream does not say.
    pub sample_rate: Option<u32>,
    /// Frames the header promises, when it says.
    pub frames: Option<u64>,
}

/// An AIFF or FLAC stream, decoding as it is read.
pub struct CodecStream {
    /// Its format.
    pub format: CodecFormat,
    reader: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    /// Decoded frames not taken yet, per channel.
    pending: Vec<Vec<f32>>,
    scratch: Vec<Vec<f32>>,
    ended: bool,
}

impl CodecStream {
    /// Probes `source` (an AIFF or FLAC stream from its first byte). The error is a clause
    /// saying what is wrong, for "is not a readable … file: …".
    pub fn open(source: Box<dyn MediaSource>) -> Result<Self, String> {
        let stream = MediaSourceStream::new(source, Default::default());
        let reader = symphonia::default::get_probe()
            .probe(
                &Hint::new(),
                stream,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|e| e.to_string())?;
        let track = reader
            .default_track(TrackType::Audio)
            .ok_or("it holds no audio track")?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or("it holds no audio track")?
            .clone();
        let track_id = track.id;
        let frames = track.num_frames;
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|e| {
                format!(
                    "it holds audio this checker cannot decode ({e}): stems must be \
                     uncompressed PCM or FLAC"
                )
            })?;
        let channels = params.channels.as_ref().map_or(0, |c| c.count());
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
            format: CodecFormat {
                encoding,
                bits,
                channels,
                sample_rate: params.sample_rate,
                frames,
            },
            reader,
            decoder,
            track_id,
            pending: vec![Vec::new(); channels],
            scratch: Vec::new(),
            ended: false,
        })
    }

    /// Moves up to `frames` frames into `out` (one vector per channel, replaced), returning
    /// how many; 0 once the stream is exhausted. A packet that does not decode is an
    /// `InvalidData` error; a failing source passes its own error on.
    pub fn read(&mut self, frames: usize, out: &mut [Vec<f32>]) -> io::Result<usize> {
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

    fn decode_packet(&mut self) -> io::Result<()> {
        let packet = match self.reader.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => {
                self.ended = true;
                return Ok(());
            }
            Err(DecodeError::IoError(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                self.ended = true;
                return Ok(());
            }
            Err(DecodeError::IoError(e)) => return Err(e),
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
        };
        if packet.track_id != self.track_id {
            return Ok(());
        }
        let buf = self
            .decoder
            .decode(&packet)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        buf.copy_to_vecs_planar::<f32>(&mut self.scratch);
        let n = buf.frames();
        for (c, p) in self.pending.iter_mut().enumerate() {
            let src = self
                .scratch
                .get(c)
                .map_or(&[][..], |s| &s[..n.min(s.len())]);
            p.extend_from_slice(src);
        }
        Ok(())
    }
}
