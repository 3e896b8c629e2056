//! The sample format of a WAV-family file (its `fmt ` chunk) and the conversion of its
//! interleaved little-endian samples to planar `f32`, with the same scaling symphonia uses for
//! AIFF and FLAC, so the same audio decodes to the same numbers whatever its container.

use stemcheck_engine::report::Encoding;

/// `WAVE_FORMAT_PCM`.
const FORMAT_PCM: u16 = 0x0001;
/// `WAVE_FORMAT_IEEE_FLOAT`.
const FORMAT_FLOAT: u16 = 0x0003;
/// `WAVE_FORMAT_EXTENSIBLE`: the real format is the sub-format GUID's first two bytes.
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;
/// The tail shared by every `KSDATAFORMAT_SUBTYPE_*` GUID after its format tag.
const SUBTYPE_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];

/// How the samples of a WAV-family file are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PcmFormat {
    /// Integer or float.
    pub encoding: Encoding,
    /// Bytes per sample in the file (1, 2, 3 or 4 for integers; 4 or 8 for floats).
    pub bytes: usize,
    /// Bits that carry the signal (`wValidBitsPerSample` of an extensible header, else the
    /// container's bits).
    pub valid_bits: u32,
    /// Channels.
    pub channels: usize,
    /// Sample rate, Hz.
    pub sample_rate: u32,
}

impl PcmFormat {
    /// Bytes per frame (one sample of every channel).
    pub fn block_align(&self) -> usize {
        self.bytes * self.channels
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Reads a `fmt ` chunk's body. Anything but integer PCM of 8–32 bits or float of 32/64 bits
/// is refused with the reason (compressed formats such as A-law, ADPCM or MPEG in a WAV
/// wrapper cannot be checked sample for sample).
pub fn parse_fmt(body: &[u8]) -> Result<PcmFormat, String> {
    if body.len() < 16 {
        return Err(format!(
            "its format chunk is {} bytes, too short to describe the audio (16 at least)",
            body.len()
        ));
    }
    let mut tag = u16_at(body, 0);
    let channels = usize::from(u16_at(body, 2));
    let sample_rate = u32_at(body, 4);
    let block_align = usize::from(u16_at(body, 12));
    let bits = u32::from(u16_at(body, 14));
    let mut valid_bits = bits;
    if tag == FORMAT_EXTENSIBLE {
        if body.len() < 40 {
            return Err("its extensible format chunk lacks the sub-format".into());
        }
        let valid = u32::from(u16_at(body, 18));
        if valid != 0 {
            valid_bits = valid;
        }
        if body[26..40] != SUBTYPE_TAIL {
            return Err(
                "its audio is in a format this checker cannot decode (an unknown sub-format): \
                 stems must be uncompressed PCM or FLAC"
                    .into(),
            );
        }
        tag = u16_at(body, 24);
    }
    let encoding = match tag {
        FORMAT_PCM => Encoding::Int,
        FORMAT_FLOAT => Encoding::Float,
        other => {
            return Err(format!(
                "its audio is in a format this checker cannot decode (WAV format tag \
                 0x{other:04X}, not PCM or IEEE float): stems must be uncompressed PCM or FLAC"
            ))
        }
    };
    if channels == 0 {
        return Err("it says it has 0 channels".into());
    }
    let bytes = match (encoding, bits) {
        (Encoding::Int, 1..=32) => bits.div_ceil(8) as usize,
        (Encoding::Float, 32) => 4,
        (Encoding::Float, 64) => 8,
        (Encoding::Int, _) => {
            return Err(format!(
                "it says its samples are {bits}-bit integers (WAV holds 8 to 32 bits)"
            ))
        }
        (Encoding::Float, _) => {
            return Err(format!(
                "it says its samples are {bits}-bit floats (only 32 and 64 exist)"
            ))
        }
    };
    if block_align != bytes * channels {
        return Err(format!(
            "it says a frame is {block_align} bytes where {channels} channel(s) of \
             {bits}-bit samples take {}",
            bytes * channels
        ));
    }
    Ok(PcmFormat {
        encoding,
        bytes,
        valid_bits: valid_bits.min(bits),
        channels,
        sample_rate,
    })
}

/// Appends the whole frames of `data` (interleaved, little-endian) to `out`, one vector per
/// channel. Integers are scaled by their container's full scale (a sample of −2^(n−1) reads
/// −1.0), exactly as symphonia scales AIFF and FLAC samples.
pub fn decode(format: &PcmFormat, data: &[u8], out: &mut [Vec<f32>]) {
    let frames = data.len() / format.block_align();
    for o in out.iter_mut() {
        o.reserve(frames);
    }
    let data = &data[..frames * format.block_align()];
    match (format.encoding, format.bytes) {
        (Encoding::Int, 1) => each(data, 1, out, |b| (f32::from(b[0]) / 128.0) - 1.0),
        (Encoding::Int, 2) => each(data, 2, out, |b| {
            f32::from(i16::from_le_bytes([b[0], b[1]])) / 32_768.0
        }),
        (Encoding::Int, 3) => each(data, 3, out, |b| {
            // The 24-bit sample in the top of an i32, shifted back down with its sign.
            (i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as f32 / 8_388_608.0
        }),
        (Encoding::Int, _) => each(data, 4, out, |b| {
            (f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])) / 2_147_483_648.0) as f32
        }),
        (Encoding::Float, 4) => each(data, 4, out, |b| {
            f32::from_le_bytes([b[0], b[1], b[2], b[3]])
        }),
        (Encoding::Float, _) => each(data, 8, out, |b| {
            f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32
        }),
    }
}

/// Runs `f` on every `bytes`-wide sample of the interleaved `data`, appending each result to
/// its channel.
#[inline(always)]
fn each(data: &[u8], bytes: usize, out: &mut [Vec<f32>], f: impl Fn(&[u8]) -> f32) {
    let channels = out.len();
    if channels == 2 {
        let (left, right) = out.split_at_mut(1);
        let (left, right) = (&mut left[0], &mut right[0]);
        for frame in data.chunks_exact(2 * bytes) {
            left.push(f(&frame[..bytes]));
            right.push(f(&frame[bytes..]));
        }
    } else {
        for frame in data.chunks_exact(channels * bytes) {
            for (o, s) in out.iter_mut().zip(frame.chunks_exact(bytes)) {
                o.push(f(s));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(tag: u16, channels: u16, bits: u16) -> Vec<u8> {
        let bytes = bits.div_ceil(8);
        let mut b = Vec::new();
        b.extend_from_slice(&tag.to_le_bytes());
        b.extend_from_slice(&channels.to_le_bytes());
        b.extend_from_slice(&48_000u32.to_le_bytes());
        b.extend_from_slice(&(48_000 * u32::from(bytes * channels)).to_le_bytes());
        b.extend_from_slice(&(bytes * channels).to_le_bytes());
        b.extend_from_slice(&bits.to_le_bytes());
        b
    }

    #[test]
    fn integer_and_float_formats_are_read_and_others_refused() {
        let f = parse_fmt(&fmt(1, 2, 24)).unwrap();
        assert_eq!(
            (f.encoding, f.bytes, f.channels, f.block_align()),
            (Encoding::Int, 3, 2, 6)
        );
        let f = parse_fmt(&fmt(3, 1, 64)).unwrap();
        assert_eq!((f.encoding, f.bytes), (Encoding::Float, 8));
        let alaw = parse_fmt(&fmt(6, 1, 8)).unwrap_err();
        assert!(alaw.contains("0x0006"), "{alaw}");
        let mut wrong_align = fmt(1, 2, 16);
        wrong_align[12] = 3;
        assert!(parse_fmt(&wrong_align)
            .unwrap_err()
            .contains("a frame is 3 bytes"));
        assert!(parse_fmt(&fmt(3, 2, 24)).unwrap_err().contains("floats"));
        assert!(parse_fmt(&[0; 10]).unwrap_err().contains("too short"));
    }

    #[test]
    fn an_extensible_header_gives_its_sub_format_and_valid_bits() {
        let mut b = fmt(0xFFFE, 2, 32);
        b.extend_from_slice(&22u16.to_le_bytes());
        b.extend_from_slice(&24u16.to_le_bytes());
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&SUBTYPE_TAIL);
        let f = parse_fmt(&b).unwrap();
        assert_eq!((f.encoding, f.bytes, f.valid_bits), (Encoding::Int, 4, 24));
        b[24] = 3;
        assert_eq!(parse_fmt(&b).unwrap().encoding, Encoding::Float);
        b[30] = 0x11;
        assert!(parse_fmt(&b).unwrap_err().contains("sub-format"));
    }

    #[test]
    fn samples_scale_like_symphonia_and_only_whole_frames_are_taken() {
        let f = parse_fmt(&fmt(1, 2, 24)).unwrap();
        // Left: full-scale negative, right: +1 LSB; then half a frame that is left out.
        let data = [0x00, 0x00, 0x80, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0x7F];
        let mut out = vec![Vec::new(), Vec::new()];
        decode(&f, &data, &mut out);
        assert_eq!(out, [vec![-1.0], vec![1.0 / 8_388_608.0]]);
        let f = parse_fmt(&fmt(1, 1, 8)).unwrap();
        let mut out = vec![Vec::new()];
        decode(&f, &[0, 128, 255], &mut out);
        assert_eq!(out[0], [-1.0, 0.0, 127.0 / 128.0]);
        let f = parse_fmt(&fmt(1, 1, 32)).unwrap();
        let mut out = vec![Vec::new()];
        decode(&f, &i32::MIN.to_le_bytes(), &mut out);
        assert_eq!(out[0], [-1.0]);
    }
}
