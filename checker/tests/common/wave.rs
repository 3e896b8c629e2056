//! WAV-family files built byte by byte from their specifications, independently of the
//! checker's reader: RIFF WAV (with or without a Broadcast Wave `bext` chunk), RF64 and BW64
//! (EBU Tech 3306: `ds64` sizes) and Sony Wave64 (GUID chunks, 64-bit sizes).

#![allow(dead_code)]

use stemcheck_checker::demo::to_int;

/// The container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `RIFF`/`WAVE`.
    Riff,
    /// `RF64`/`WAVE` with `ds64`.
    Rf64,
    /// `BW64`/`WAVE` with `ds64`.
    Bw64,
    /// Sony Wave64.
    Wave64,
}

/// The sample format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sample {
    /// Signed integer (8 is unsigned, as WAV stores it) of this many bits.
    Int(u16),
    /// IEEE float of 32 or 64 bits.
    Float(u16),
}

/// Where a `bext` chunk goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bext {
    /// None.
    None,
    /// Before the audio, with this time reference.
    Before(u64),
    /// After the audio, with this time reference.
    After(u64),
}

/// Interleaved sample bytes.
pub fn samples(channels: &[Vec<f64>], sample: Sample) -> Vec<u8> {
    let n = channels[0].len();
    let mut out = Vec::with_capacity(n * channels.len() * 8);
    for i in 0..n {
        for c in channels {
            let v = c[i];
            match sample {
                Sample::Int(8) => out.push((to_int(v, 8) + 128) as u8),
                Sample::Int(16) => out.extend_from_slice(&(to_int(v, 16) as i16).to_le_bytes()),
                Sample::Int(24) => out.extend_from_slice(&to_int(v, 24).to_le_bytes()[..3]),
                Sample::Int(_) => out.extend_from_slice(&to_int(v, 32).to_le_bytes()),
                Sample::Float(32) => out.extend_from_slice(&(v as f32).to_le_bytes()),
                Sample::Float(_) => out.extend_from_slice(&v.to_le_bytes()),
            }
        }
    }
    out
}

/// A `fmt ` chunk body (plain PCM or IEEE float).
pub fn fmt_body(channels: usize, rate: u32, sample: Sample) -> Vec<u8> {
    let (tag, bits) = match sample {
        Sample::Int(b) => (1u16, b),
        Sample::Float(b) => (3u16, b),
    };
    let align = u16::try_from(channels).unwrap() * bits / 8;
    let mut b = Vec::new();
    b.extend_from_slice(&tag.to_le_bytes());
    b.extend_from_slice(&(channels as u16).to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
    b.extend_from_slice(&align.to_le_bytes());
    b.extend_from_slice(&bits.to_le_bytes());
    b
}

/// A `bext` chunk body (EBU Tech 3285 version 1, no coding history): TimeReferenceLow at byte
/// 338, TimeReferenceHigh at 342.
pub fn bext_body(time_reference: u64) -> Vec<u8> {
    let mut b = vec![0u8; 602];
    b[..11].copy_from_slice(b"test stem\0\0");
    b[338..342].copy_from_slice(&((time_reference & 0xFFFF_FFFF) as u32).to_le_bytes());
    b[342..346].copy_from_slice(&((time_reference >> 32) as u32).to_le_bytes());
    b[346..348].copy_from_slice(&1u16.to_le_bytes());
    b
}

fn riff_chunk(out: &mut Vec<u8>, id: &[u8; 4], size: u32, body: &[u8]) {
    out.extend_from_slice(id);
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(body);
    if body.len() % 2 == 1 {
        out.push(0);
    }
}

/// The GUID Wave64 gives a four-letter chunk id.
pub fn w64_guid(id: &[u8; 4]) -> [u8; 16] {
    let mut g = [0u8; 16];
    g[..4].copy_from_slice(id);
    g[4..].copy_from_slice(&[
        0xF3, 0xAC, 0xD3, 0x11, 0x8C, 0xD1, 0x00, 0xC0, 0x4F, 0x8E, 0xDB, 0x8A,
    ]);
    g
}

/// Wave64's `riff` GUID {66666972-912E-11CF-A5D6-28DB04C10000}.
pub const W64_RIFF: [u8; 16] = [
    0x72, 0x69, 0x66, 0x66, 0x2E, 0x91, 0xCF, 0x11, 0xA5, 0xD6, 0x28, 0xDB, 0x04, 0xC1, 0x00, 0x00,
];

fn w64_chunk(out: &mut Vec<u8>, id: &[u8; 4], body: &[u8]) {
    out.extend_from_slice(&w64_guid(id));
    out.extend_from_slice(&(body.len() as u64 + 24).to_le_bytes());
    out.extend_from_slice(body);
    while !out.len().is_multiple_of(8) {
        out.push(0);
    }
}

/// A whole file: `channels` in `layout` and `sample`, with a `bext` chunk where asked.
pub fn file(
    channels: &[Vec<f64>],
    rate: u32,
    layout: Layout,
    sample: Sample,
    bext: Bext,
) -> Vec<u8> {
    let data = samples(channels, sample);
    let fmt = fmt_body(channels.len(), rate, sample);
    let (before, after) = match bext {
        Bext::None => (None, None),
        Bext::Before(t) => (Some(bext_body(t)), None),
        Bext::After(t) => (None, Some(bext_body(t))),
    };
    let mut out = Vec::new();
    match layout {
        Layout::Wave64 => {
            out.extend_from_slice(&W64_RIFF);
            out.extend_from_slice(&0u64.to_le_bytes());
            out.extend_from_slice(&w64_guid(b"wave"));
            w64_chunk(&mut out, b"fmt ", &fmt);
            if let Some(b) = &before {
                w64_chunk(&mut out, b"bext", b);
            }
            w64_chunk(&mut out, b"data", &data);
            if let Some(b) = &after {
                w64_chunk(&mut out, b"bext", b);
            }
            let total = out.len() as u64;
            out[16..24].copy_from_slice(&total.to_le_bytes());
        }
        Layout::Riff => {
            out.extend_from_slice(b"RIFF\0\0\0\0WAVE");
            riff_chunk(&mut out, b"fmt ", fmt.len() as u32, &fmt);
            if let Some(b) = &before {
                riff_chunk(&mut out, b"bext", b.len() as u32, b);
            }
            riff_chunk(&mut out, b"data", data.len() as u32, &data);
            if let Some(b) = &after {
                riff_chunk(&mut out, b"bext", b.len() as u32, b);
            }
            let size = (out.len() - 8) as u32;
            out[4..8].copy_from_slice(&size.to_le_bytes());
        }
        Layout::Rf64 | Layout::Bw64 => {
            let frames = channels[0].len() as u64;
            out.extend_from_slice(if layout == Layout::Rf64 {
                b"RF64"
            } else {
                b"BW64"
            });
            out.extend_from_slice(&u32::MAX.to_le_bytes());
            out.extend_from_slice(b"WAVE");
            // ds64: RIFF size, data size, sample count, no table (patched below).
            let ds64_at = out.len() + 8;
            riff_chunk(&mut out, b"ds64", 28, &[0u8; 28]);
            riff_chunk(&mut out, b"fmt ", fmt.len() as u32, &fmt);
            if let Some(b) = &before {
                riff_chunk(&mut out, b"bext", b.len() as u32, b);
            }
            riff_chunk(&mut out, b"data", u32::MAX, &data);
            if let Some(b) = &after {
                riff_chunk(&mut out, b"bext", b.len() as u32, b);
            }
            let riff_size = (out.len() - 8) as u64;
            out[ds64_at..ds64_at + 8].copy_from_slice(&riff_size.to_le_bytes());
            out[ds64_at + 8..ds64_at + 16].copy_from_slice(&(data.len() as u64).to_le_bytes());
            out[ds64_at + 16..ds64_at + 24].copy_from_slice(&frames.to_le_bytes());
        }
    }
    out
}

/// An RF64 header (ds64, fmt, data) that promises `data_size` bytes of audio, with no audio
/// after it: the caller appends what the file really holds.
pub fn rf64_header(channels: usize, rate: u32, sample: Sample, data_size: u64) -> Vec<u8> {
    let fmt = fmt_body(channels, rate, sample);
    let align = fmt[12] as u64;
    let mut out = b"RF64\xff\xff\xff\xffWAVE".to_vec();
    let mut ds64 = Vec::new();
    ds64.extend_from_slice(&(data_size + 4 + 36 + 24 + 8).to_le_bytes());
    ds64.extend_from_slice(&data_size.to_le_bytes());
    ds64.extend_from_slice(&(data_size / align).to_le_bytes());
    ds64.extend_from_slice(&0u32.to_le_bytes());
    riff_chunk(&mut out, b"ds64", 28, &ds64);
    riff_chunk(&mut out, b"fmt ", fmt.len() as u32, &fmt);
    out.extend_from_slice(b"data");
    out.extend_from_slice(&u32::MAX.to_le_bytes());
    out
}
