//! A WAV-family file read front to back, never seeking, so it streams from a file or from
//! inside a zip archive alike: RIFF WAV (and Broadcast Wave), RF64 and BW64 with their `ds64`
//! sizes, and Wave64 with its GUID chunks and 64-bit sizes. The header is walked up to the
//! `data` chunk; the samples are decoded as they are asked for; the chunks after the data are
//! walked at the end, for a `bext` chunk written after the audio.

use std::io::{self, BufRead, BufReader, Read};

use crate::bext;
use crate::pcm::{decode, parse_fmt, PcmFormat};
use crate::rf64::{Ds64, SIZE_IN_DS64};
use crate::wave64;

/// The largest `fmt ` chunk believed (the biggest real one, WAVE_FORMAT_EXTENSIBLE, is 40
/// bytes).
const FMT_MAX: u64 = 64 * 1024;

/// Bytes buffered from the source.
const BUFFER: usize = 256 * 1024;

/// Which of the three layouts the file uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// `RIFF`: four-letter ids, 32-bit sizes, even padding.
    Riff,
    /// `RF64`/`BW64`: as RIFF, with 32-bit sizes of `0xFFFFFFFF` given in `ds64`.
    Rf64,
    /// Wave64: GUID ids, 64-bit sizes counting the header, padding to 8 bytes.
    Wave64,
}

/// What a chunk is, as far as this reader cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Fmt,
    Data,
    Bext,
    Ds64,
    Other,
}

/// One chunk header: its kind, the size of its body, and the padding after the body.
#[derive(Clone, Copy, Debug)]
struct Chunk {
    kind: Kind,
    /// Body size in bytes; `None` for a RIFF `data` chunk of unknown length (`0xFFFFFFFF`,
    /// written by programs streaming to a pipe).
    size: Option<u64>,
    pad: u64,
}

/// An open WAV-family stream.
pub struct WavStream<R: Read> {
    reader: BufReader<R>,
    layout: Layout,
    /// `WAV`, `RF64`, `BW64` or `W64`.
    pub container: &'static str,
    /// How the samples are stored.
    pub format: PcmFormat,
    /// Size of the audio in bytes, when the header says.
    data_size: Option<u64>,
    /// Audio bytes not read yet, when known.
    remaining: Option<u64>,
    /// The padding after the data chunk.
    data_pad: u64,
    ds64: Option<Ds64>,
    /// The BWF time reference, once a `bext` chunk has been seen.
    time_reference: Option<u64>,
    /// The file ended inside the audio.
    ended_early: bool,
    bytes: Vec<u8>,
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Skips `n` bytes; returns how many there were.
fn skip(r: &mut impl BufRead, n: u64) -> io::Result<u64> {
    io::copy(&mut r.take(n), &mut io::sink())
}

fn corrupt(why: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.into())
}

impl<R: Read> WavStream<R> {
    /// Reads the header of a WAV, RF64, BW64 or Wave64 stream up to its audio. The error is a
    /// sentence about the file, without its name.
    pub fn open(source: R) -> Result<Self, String> {
        let mut reader = BufReader::with_capacity(BUFFER, source);
        let mut head = [0u8; 12];
        let got = read_full(&mut reader, &mut head).map_err(|e| format!("cannot be read: {e}"))?;
        if got < 12 {
            return Err("it ends inside its header".into());
        }
        let (layout, container) = match &head[..4] {
            b"RIFF" if &head[8..] == b"WAVE" => (Layout::Riff, "WAV"),
            b"RF64" if &head[8..] == b"WAVE" => (Layout::Rf64, "RF64"),
            b"BW64" if &head[8..] == b"WAVE" => (Layout::Rf64, "BW64"),
            _ if wave64::is_wave64(&head) => (Layout::Wave64, "W64"),
            _ => return Err("its header is not that of WAV, RF64 or Wave64".into()),
        };
        if layout == Layout::Wave64 {
            // The rest of the `riff` GUID, the file's size, and the `wave` GUID.
            let mut rest = [0u8; 28];
            let got =
                read_full(&mut reader, &mut rest).map_err(|e| format!("cannot be read: {e}"))?;
            if got < 28 || rest[..4] != wave64::RIFF[12..] || rest[12..] != wave64::WAVE {
                return Err("its Wave64 header holds no `wave` form".into());
            }
        }
        let mut stream = Self {
            reader,
            layout,
            container,
            format: PcmFormat {
                encoding: stemcheck_engine::report::Encoding::Int,
                bytes: 0,
                valid_bits: 0,
                channels: 0,
                sample_rate: 0,
            },
            data_size: None,
            remaining: None,
            data_pad: 0,
            ds64: None,
            time_reference: None,
            ended_early: false,
            bytes: Vec::new(),
        };
        stream.walk_header().map_err(|e| match e.kind() {
            io::ErrorKind::InvalidData => e.to_string(),
            _ => format!("cannot be read: {e}"),
        })?;
        Ok(stream)
    }

    /// Walks the chunks before the audio: `ds64` first in RF64, `fmt `, `bext` wherever it is.
    fn walk_header(&mut self) -> io::Result<()> {
        let mut format = None;
        let mut first = true;
        loop {
            let Some(chunk) = self.next_chunk()? else {
                return Err(corrupt(if format.is_some() {
                    "it holds no audio (no data chunk)"
                } else {
                    "it ends inside its header (no format chunk and no audio)"
                }));
            };
            if self.layout == Layout::Rf64 && first && chunk.kind != Kind::Ds64 {
                return Err(corrupt(format!(
                    "it has no ds64 chunk after its {} header, where the 64-bit sizes must \
                     be",
                    self.container
                )));
            }
            first = false;
            match chunk.kind {
                Kind::Ds64 => {
                    let body = self.body(chunk, 4096, "ds64")?;
                    self.ds64 = Some(Ds64::parse(&body).map_err(corrupt)?);
                }
                Kind::Fmt => {
                    let body = self.body(chunk, FMT_MAX, "format")?;
                    format = Some(parse_fmt(&body).map_err(corrupt)?);
                }
                Kind::Bext => {
                    let body = self.body(chunk, bext::NEEDED as u64, "bext")?;
                    self.time_reference = bext::time_reference(&body);
                }
                Kind::Data => {
                    let Some(f) = format else {
                        return Err(corrupt("its audio comes before its format chunk"));
                    };
                    self.format = f;
                    self.data_size = chunk.size;
                    self.remaining = chunk.size;
                    self.data_pad = chunk.pad;
                    return Ok(());
                }
                Kind::Other => self.skip_chunk(chunk)?,
            }
        }
    }

    /// The next chunk header, or `None` at the end of the stream.
    fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        let header = if self.layout == Layout::Wave64 { 24 } else { 8 };
        let mut h = [0u8; 24];
        let got = read_full(&mut self.reader, &mut h[..header])?;
        if got == 0 {
            return Ok(None);
        }
        if got < header {
            return Err(corrupt("it ends inside a chunk header"));
        }
        if self.layout == Layout::Wave64 {
            let guid: [u8; 16] = h[..16].try_into().expect("16 bytes");
            let size = u64::from_le_bytes(h[16..24].try_into().expect("8 bytes"));
            if size < wave64::HEADER {
                return Err(corrupt(format!(
                    "a chunk claims {size} bytes, less than its own header"
                )));
            }
            let kind = match guid {
                wave64::FMT => Kind::Fmt,
                wave64::DATA => Kind::Data,
                wave64::BEXT => Kind::Bext,
                _ => Kind::Other,
            };
            return Ok(Some(Chunk {
                kind,
                size: Some(size - wave64::HEADER),
                pad: wave64::padding(size),
            }));
        }
        let id: [u8; 4] = h[..4].try_into().expect("4 bytes");
        let size32 = u32::from_le_bytes(h[4..8].try_into().expect("4 bytes"));
        let kind = match &id {
            b"fmt " => Kind::Fmt,
            b"data" => Kind::Data,
            b"bext" => Kind::Bext,
            b"ds64" => Kind::Ds64,
            _ => Kind::Other,
        };
        let size = match (self.layout, size32) {
            (Layout::Rf64, SIZE_IN_DS64) => {
                let from_ds64 = self.ds64.as_ref().and_then(|d| d.size_of(&id));
                Some(from_ds64.ok_or_else(|| {
                    corrupt(format!(
                        "the size of its {} chunk is in no ds64 table",
                        String::from_utf8_lossy(&id)
                    ))
                })?)
            }
            (Layout::Riff, SIZE_IN_DS64) if kind == Kind::Data => None,
            _ => Some(u64::from(size32)),
        };
        Ok(Some(Chunk {
            kind,
            size,
            pad: size.map_or(0, |s| s % 2),
        }))
    }

    /// Reads up to `keep` bytes of a chunk's body and skips the rest and its padding.
    fn body(&mut self, chunk: Chunk, keep: u64, what: &str) -> io::Result<Vec<u8>> {
        let size = chunk.size.unwrap_or(0);
        let mut body = vec![0u8; size.min(keep) as usize];
        let got = read_full(&mut self.reader, &mut body)?;
        if got < body.len() {
            return Err(corrupt(format!("it ends inside its {what} chunk")));
        }
        skip(&mut self.reader, size - body.len() as u64 + chunk.pad)?;
        Ok(body)
    }

    fn skip_chunk(&mut self, chunk: Chunk) -> io::Result<()> {
        let want = chunk.size.unwrap_or(0) + chunk.pad;
        if skip(&mut self.reader, want)? < chunk.size.unwrap_or(0) {
            return Err(corrupt("it ends inside a chunk before its audio"));
        }
        Ok(())
    }

    /// Frames the header promises, when it says.
    pub fn frames(&self) -> Option<u64> {
        self.data_size.map(|d| d / self.format.block_align() as u64)
    }

    /// The BWF time reference (samples since midnight), when a `bext` chunk has been read:
    /// before the audio once the stream is open, after it once [`WavStream::finish`] ran.
    pub fn time_reference(&self) -> Option<u64> {
        self.time_reference
    }

    /// Decodes up to `frames` frames into `out` (one vector per channel, cleared first);
    /// returns how many, 0 once the audio is exhausted (or the file ended inside it).
    pub fn read(&mut self, frames: usize, out: &mut [Vec<f32>]) -> io::Result<usize> {
        for o in out.iter_mut() {
            o.clear();
        }
        let align = self.format.block_align();
        let mut want = frames * align;
        if let Some(left) = self.remaining {
            want = want.min((left / align as u64 * align as u64) as usize);
        }
        if want == 0 || self.ended_early {
            return Ok(0);
        }
        self.bytes.resize(want, 0);
        let got = read_full(&mut self.reader, &mut self.bytes)?;
        if got < want {
            self.ended_early = true;
        }
        if let Some(left) = self.remaining.as_mut() {
            *left -= got as u64;
        }
        decode(&self.format, &self.bytes[..got], out);
        Ok(got / align)
    }

    /// After the audio: skips the rest of the data chunk and walks the chunks that follow,
    /// for a `bext` chunk written after the audio. Whatever is damaged there is ignored: the
    /// audio has been read whole.
    pub fn finish(&mut self) {
        if self.ended_early || self.remaining.is_none() {
            return;
        }
        let rest = self.remaining.take().unwrap_or(0) + self.data_pad;
        if skip(&mut self.reader, rest).map_or(true, |n| n < rest) {
            return;
        }
        while let Ok(Some(chunk)) = self.next_chunk() {
            let done = if chunk.kind == Kind::Bext && self.time_reference.is_none() {
                self.body(chunk, bext::NEEDED as u64, "bext")
                    .map(|b| self.time_reference = bext::time_reference(&b))
            } else {
                self.skip_chunk(chunk)
            };
            if done.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stemcheck_engine::report::Encoding;

    fn fmt_body(channels: u16, bits: u16, tag: u16) -> Vec<u8> {
        let bytes = bits / 8;
        let mut b = Vec::new();
        b.extend_from_slice(&tag.to_le_bytes());
        b.extend_from_slice(&channels.to_le_bytes());
        b.extend_from_slice(&48_000u32.to_le_bytes());
        b.extend_from_slice(&(48_000 * u32::from(bytes * channels)).to_le_bytes());
        b.extend_from_slice(&(bytes * channels).to_le_bytes());
        b.extend_from_slice(&bits.to_le_bytes());
        b
    }

    fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut c = id.to_vec();
        c.extend_from_slice(&(body.len() as u32).to_le_bytes());
        c.extend_from_slice(body);
        if body.len() % 2 == 1 {
            c.push(0);
        }
        c
    }

    fn w64_chunk(guid: &wave64::Guid, body: &[u8]) -> Vec<u8> {
        let mut c = guid.to_vec();
        c.extend_from_slice(&(body.len() as u64 + 24).to_le_bytes());
        c.extend_from_slice(body);
        c.resize(c.len().next_multiple_of(8), 0);
        c
    }

    fn samples(n: i16) -> Vec<u8> {
        (0..n).flat_map(|i| (i * 100).to_le_bytes()).collect()
    }

    #[test]
    fn a_riff_file_with_a_bext_after_the_audio_gives_it_at_the_end() {
        let mut f = b"RIFF\0\0\0\0WAVE".to_vec();
        f.extend(chunk(b"fmt ", &fmt_body(1, 16, 1)));
        f.extend(chunk(b"LIST", b"odd"));
        f.extend(chunk(b"data", &samples(5)[..9]));
        f.extend(chunk(b"bext", &bext::body(48_000 * 3600)));
        let mut s = WavStream::open(&f[..]).unwrap();
        assert_eq!(
            (s.container, s.frames(), s.time_reference()),
            ("WAV", Some(4), None)
        );
        let mut out = vec![Vec::new()];
        assert_eq!(s.read(100, &mut out).unwrap(), 4);
        assert_eq!(out[0][3], 300.0 / 32_768.0);
        assert_eq!(s.read(100, &mut out).unwrap(), 0);
        s.finish();
        assert_eq!(s.time_reference(), Some(172_800_000));
    }

    #[test]
    fn rf64_sizes_come_from_ds64_past_four_gigabytes() {
        // A header that promises 5 GiB of stereo 16-bit audio, followed by only 3 frames.
        let data = 5u64 << 30;
        let mut f = b"RF64\xff\xff\xff\xffWAVE".to_vec();
        f.extend(chunk(b"ds64", &Ds64::body(data + 200, data, data / 4)));
        f.extend(chunk(b"fmt ", &fmt_body(2, 16, 1)));
        f.extend(chunk(b"bext", &bext::body(7)));
        f.extend_from_slice(b"data\xff\xff\xff\xff");
        f.extend(samples(6));
        let mut s = WavStream::open(&f[..]).unwrap();
        assert_eq!(s.container, "RF64");
        assert_eq!(s.frames(), Some(data / 4));
        // More bytes of audio than a 32-bit size can say.
        assert!(s.frames().unwrap() * 4 > u64::from(u32::MAX));
        assert_eq!(s.time_reference(), Some(7));
        let mut out = vec![Vec::new(), Vec::new()];
        assert_eq!(s.read(8192, &mut out).unwrap(), 3);
        assert_eq!(s.read(8192, &mut out).unwrap(), 0);
        // BW64 is the same layout under another name; a missing ds64 is refused.
        f[..4].copy_from_slice(b"BW64");
        assert_eq!(WavStream::open(&f[..]).unwrap().container, "BW64");
        let mut no_ds64 = b"RF64\xff\xff\xff\xffWAVE".to_vec();
        no_ds64.extend(chunk(b"fmt ", &fmt_body(2, 16, 1)));
        let e = WavStream::open(&no_ds64[..]).err().unwrap();
        assert!(e.contains("no ds64 chunk"), "{e}");
    }

    #[test]
    fn wave64_chunks_are_walked_by_guid_with_64_bit_sizes() {
        let mut f = wave64::RIFF.to_vec();
        f.extend_from_slice(&0u64.to_le_bytes());
        f.extend_from_slice(&wave64::WAVE);
        f.extend(w64_chunk(&wave64::FMT, &fmt_body(1, 32, 3)));
        f.extend(w64_chunk(&wave64::id(b"junk"), &[1, 2, 3]));
        f.extend(w64_chunk(&wave64::BEXT, &bext::body(1 << 40)));
        let audio: Vec<u8> = [0.5f32, -0.25]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        f.extend(w64_chunk(&wave64::DATA, &audio));
        let mut s = WavStream::open(&f[..]).unwrap();
        assert_eq!(s.container, "W64");
        assert_eq!(s.format.encoding, Encoding::Float);
        assert_eq!((s.frames(), s.time_reference()), (Some(2), Some(1 << 40)));
        let mut out = vec![Vec::new()];
        assert_eq!(s.read(10, &mut out).unwrap(), 2);
        assert_eq!(out[0], [0.5, -0.25]);
        // A Wave64 header that claims 6 GiB of audio reads its size whole.
        let mut big = wave64::RIFF.to_vec();
        big.extend_from_slice(&0u64.to_le_bytes());
        big.extend_from_slice(&wave64::WAVE);
        big.extend(w64_chunk(&wave64::FMT, &fmt_body(2, 24, 1)));
        big.extend_from_slice(&wave64::DATA);
        big.extend_from_slice(&((6u64 << 30) + 24).to_le_bytes());
        assert_eq!(
            WavStream::open(&big[..]).unwrap().frames(),
            Some((6u64 << 30) / 6)
        );
    }

    #[test]
    fn broken_headers_are_named() {
        let mut f = b"RIFF\0\0\0\0WAVE".to_vec();
        f.extend(chunk(b"data", &[0; 4]));
        let e = WavStream::open(&f[..]).err().unwrap();
        assert!(e.contains("before its format chunk"), "{e}");
        let mut f = b"RIFF\0\0\0\0WAVE".to_vec();
        f.extend(chunk(b"fmt ", &fmt_body(1, 16, 1)));
        let e = WavStream::open(&f[..]).err().unwrap();
        assert!(e.contains("no data chunk"), "{e}");
        let e = WavStream::open(&b"RIFF\0\0"[..]).err().unwrap();
        assert!(e.contains("ends inside its header"), "{e}");
    }
}
