#![allow(dead_code)]

//! Writers for the formats the demo's WAV writer does not cover: 64-bit float WAV, AIFF and
//! FLAC, so the tests read every format the checker claims from a real file.

use std::fs;
use std::path::Path;

use flacenc::component::BitRepr;
use flacenc::error::Verify;
use stemcheck_checker::demo::to_int;

fn interleave<T: Copy>(channels: &[Vec<f64>], f: impl Fn(f64) -> T) -> Vec<T> {
    let n = channels[0].len();
    (0..n)
        .flat_map(|i| channels.iter().map(move |c| c[i]))
        .map(f)
        .collect()
}

/// A WAVE_FORMAT_IEEE_FLOAT file of 64-bit samples.
pub fn wav_f64(path: &Path, channels: &[Vec<f64>], rate: u32) {
    let data: Vec<u8> = interleave(channels, |v| v)
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let ch = channels.len() as u16;
    let mut f = Vec::new();
    f.extend_from_slice(b"RIFF");
    f.extend_from_slice(&(4 + 8 + 16 + 8 + data.len() as u32).to_le_bytes());
    f.extend_from_slice(b"WAVEfmt ");
    f.extend_from_slice(&16u32.to_le_bytes());
    f.extend_from_slice(&3u16.to_le_bytes());
    f.extend_from_slice(&ch.to_le_bytes());
    f.extend_from_slice(&rate.to_le_bytes());
    f.extend_from_slice(&(rate * 8 * u32::from(ch)).to_le_bytes());
    f.extend_from_slice(&(8 * ch).to_le_bytes());
    f.extend_from_slice(&64u16.to_le_bytes());
    f.extend_from_slice(b"data");
    f.extend_from_slice(&(data.len() as u32).to_le_bytes());
    f.extend_from_slice(&data);
    fs::write(path, f).unwrap();
}

/// An 80-bit IEEE extended number, as AIFF stores its sample rate.
fn extended(rate: u32) -> [u8; 10] {
    let mut out = [0u8; 10];
    let exp = 31 - rate.leading_zeros();
    let e = (16383 + exp) as u16;
    out[..2].copy_from_slice(&e.to_be_bytes());
    let mantissa = u64::from(rate) << (63 - exp);
    out[2..].copy_from_slice(&mantissa.to_be_bytes());
    out
}

/// A big-endian 24-bit integer AIFF file.
pub fn aiff_24(path: &Path, channels: &[Vec<f64>], rate: u32) {
    let data: Vec<u8> = interleave(channels, |v| to_int(v, 24))
        .iter()
        .flat_map(|v| v.to_be_bytes()[1..].to_vec())
        .collect();
    let frames = channels[0].len() as u32;
    let mut comm = Vec::new();
    comm.extend_from_slice(&(channels.len() as u16).to_be_bytes());
    comm.extend_from_slice(&frames.to_be_bytes());
    comm.extend_from_slice(&24u16.to_be_bytes());
    comm.extend_from_slice(&extended(rate));
    let mut f = Vec::new();
    f.extend_from_slice(b"FORM");
    let size = 4 + (8 + comm.len()) + (8 + 8 + data.len());
    f.extend_from_slice(&(size as u32).to_be_bytes());
    f.extend_from_slice(b"AIFFCOMM");
    f.extend_from_slice(&(comm.len() as u32).to_be_bytes());
    f.extend_from_slice(&comm);
    f.extend_from_slice(b"SSND");
    f.extend_from_slice(&((8 + data.len()) as u32).to_be_bytes());
    f.extend_from_slice(&[0u8; 8]);
    f.extend_from_slice(&data);
    fs::write(path, f).unwrap();
}

/// A 24-bit FLAC file.
pub fn flac_24(path: &Path, channels: &[Vec<f64>], rate: u32) {
    let samples = interleave(channels, |v| to_int(v, 24));
    let config = flacenc::config::Encoder::default()
        .into_verified()
        .expect("default config");
    let source =
        flacenc::source::MemSource::from_samples(&samples, channels.len(), 24, rate as usize);
    let stream =
        flacenc::encode_with_fixed_block_size(&config, source, config.block_size).expect("encodes");
    let mut sink = flacenc::bitsink::ByteSink::new();
    stream.write(&mut sink).expect("writes");
    fs::write(path, sink.as_slice()).unwrap();
}
