//! Sony Wave64 (`.w64`, written by REAPER, Sound Forge and others for files past 4 GB): WAV's
//! chunks, named by 16-byte GUIDs instead of four letters, with 64-bit sizes that count the
//! 24-byte chunk header, each chunk padded to a multiple of 8 bytes.

/// A GUID as stored in the file (its first three fields little-endian).
pub type Guid = [u8; 16];

/// `riff` {66666972-912E-11CF-A5D6-28DB04C10000}: the file's first 16 bytes.
pub const RIFF: Guid = [
    0x72, 0x69, 0x66, 0x66, 0x2E, 0x91, 0xCF, 0x11, 0xA5, 0xD6, 0x28, 0xDB, 0x04, 0xC1, 0x00, 0x00,
];

/// The GUID Wave64 gives a four-letter WAV chunk id: the id, then a fixed tail
/// ({xxxxxxxx-ACF3-11D3-8CD1-00C04F8EDB8A}).
pub const fn id(fourcc: &[u8; 4]) -> Guid {
    [
        fourcc[0], fourcc[1], fourcc[2], fourcc[3], 0xF3, 0xAC, 0xD3, 0x11, 0x8C, 0xD1, 0x00, 0xC0,
        0x4F, 0x8E, 0xDB, 0x8A,
    ]
}

/// `wave`: the form type after the file's size.
pub const WAVE: Guid = id(b"wave");
/// `fmt `.
pub const FMT: Guid = id(b"fmt ");
/// `data`.
pub const DATA: Guid = id(b"data");
/// `bext` (Broadcast Wave).
pub const BEXT: Guid = id(b"bext");

/// A chunk header's size: the GUID and the 64-bit size.
pub const HEADER: u64 = 24;

/// Bytes of padding after a chunk of `size` bytes (header included).
pub fn padding(size: u64) -> u64 {
    size.next_multiple_of(8) - size
}

/// Whether `head` starts a Wave64 file.
pub fn is_wave64(head: &[u8]) -> bool {
    head.get(..12) == Some(&RIFF[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_and_padding_follow_the_layout() {
        // {20746D66-ACF3-11D3-8CD1-00C04F8EDB8A} stored little-endian.
        assert_eq!(FMT[..8], [0x66, 0x6D, 0x74, 0x20, 0xF3, 0xAC, 0xD3, 0x11]);
        assert_eq!((padding(24 + 16), padding(24 + 17), padding(24)), (0, 7, 0));
        assert!(is_wave64(&RIFF) && !is_wave64(b"RIFF\0\0\0\0WAVEfmt "));
    }
}
