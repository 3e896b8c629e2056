//! RF64 and BW64 (EBU Tech 3306, ITU-R BS.2088): WAV past 4 GB. The header's 32-bit sizes read
//! `0xFFFFFFFF`, and the real 64-bit sizes sit in a `ds64` chunk right after `WAVE`: the whole
//! file's, the `data` chunk's, the sample count, and a table for any other chunk that needs one.

/// A 32-bit chunk size that means "see the `ds64` chunk".
pub const SIZE_IN_DS64: u32 = 0xFFFF_FFFF;

/// The sizes a `ds64` chunk gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ds64 {
    /// Size of the whole RF64 form (the file less 8 bytes).
    pub riff_size: u64,
    /// Size of the `data` chunk's body, bytes.
    pub data_size: u64,
    /// Frames in the file, as its writer counted them (not used: the data size is the truth a
    /// reader can check).
    pub sample_count: u64,
    /// Sizes of other chunks too big for 32 bits.
    pub table: Vec<([u8; 4], u64)>,
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(v)
}

impl Ds64 {
    /// Reads a `ds64` chunk's body.
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        if body.len() < 28 {
            return Err(format!(
                "its ds64 chunk is {} bytes where its 64-bit sizes take 28 at least",
                body.len()
            ));
        }
        let entries = u32::from_le_bytes([body[24], body[25], body[26], body[27]]) as usize;
        let table = body[28..]
            .chunks_exact(12)
            .take(entries)
            .map(|e| ([e[0], e[1], e[2], e[3]], u64_at(e, 4)))
            .collect();
        Ok(Self {
            riff_size: u64_at(body, 0),
            data_size: u64_at(body, 8),
            sample_count: u64_at(body, 16),
            table,
        })
    }

    /// The 64-bit size of chunk `id`, for a chunk whose 32-bit size is [`SIZE_IN_DS64`].
    pub fn size_of(&self, id: &[u8; 4]) -> Option<u64> {
        if id == b"data" {
            return Some(self.data_size);
        }
        self.table.iter().find(|(i, _)| i == id).map(|&(_, s)| s)
    }

    /// A `ds64` body for these sizes.
    #[cfg(test)]
    pub(crate) fn body(riff_size: u64, data_size: u64, sample_count: u64) -> Vec<u8> {
        let mut b = Vec::with_capacity(28);
        b.extend_from_slice(&riff_size.to_le_bytes());
        b.extend_from_slice(&data_size.to_le_bytes());
        b.extend_from_slice(&sample_count.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_past_four_gigabytes_are_read_whole() {
        let data = 5u64 << 30;
        let mut body = Ds64::body(data + 100, data, data / 6);
        body[24] = 1;
        body.extend_from_slice(b"iXML");
        body.extend_from_slice(&(1u64 << 33).to_le_bytes());
        let d = Ds64::parse(&body).unwrap();
        assert_eq!((d.data_size, d.sample_count), (data, data / 6));
        assert_eq!(d.size_of(b"data"), Some(data));
        assert_eq!(d.size_of(b"iXML"), Some(1 << 33));
        assert_eq!(d.size_of(b"LIST"), None);
        assert!(Ds64::parse(&body[..20])
            .unwrap_err()
            .contains("28 at least"));
    }
}
