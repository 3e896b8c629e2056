//! What kind of file this is, from its first bytes: the lossless containers the checker reads,
//! and the lossy ones it refuses with a reason (a lossy stem cannot be checked for clipping,
//! true peak or a null: the codec has already changed every sample).

/// What the first bytes say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// RIFF/RF64/BW64 WAVE.
    Wav,
    /// Sony Wave64.
    Wave64,
    /// AIFF or AIFF-C.
    Aiff,
    /// Native FLAC.
    Flac,
    /// A lossy format, named.
    Lossy(&'static str),
    /// A lossless format the checker does not decode, named.
    Unsupported(&'static str),
    /// An archive or a compressed file, named.
    Archive(&'static str),
    /// Nothing recognised.
    Unknown,
}

/// Extensions of audio files, lossless or not, that a folder scan picks up. Anything else in
/// a folder (read-mes, session files, artwork) is left alone.
pub const AUDIO_EXTENSIONS: &[&str] = &[
    "wav", "wave", "bwf", "rf64", "bw64", "w64", "aif", "aiff", "aifc", "flac", "mp3", "mp2",
    "m4a", "mp4", "aac", "ogg", "oga", "opus", "wma", "wv", "ape", "caf", "alac",
];

/// Extensions of archives and compressed files: inside a zip archive they are refused, since
/// stems could hide in them.
pub const ARCHIVE_EXTENSIONS: &[&str] = &[
    "zip", "7z", "rar", "tar", "gz", "tgz", "bz2", "tbz2", "xz", "txz", "zst", "zipx", "cab",
    "dmg", "iso", "sit", "sitx", "lzh", "arj",
];

/// Bytes of a file's start that [`sniff`] looks at.
pub const HEAD: usize = 16;

/// Classifies a file from its first [`HEAD`] bytes (fewer if the file is shorter).
pub fn sniff(head: &[u8]) -> Kind {
    let at = |i: usize, tag: &[u8]| head.get(i..i + tag.len()) == Some(tag);
    if (at(0, b"RIFF") || at(0, b"RF64") || at(0, b"BW64")) && at(8, b"WAVE") {
        Kind::Wav
    } else if crate::wave64::is_wave64(head) {
        Kind::Wave64
    } else if at(0, b"PK\x03\x04") || at(0, b"PK\x05\x06") || at(0, b"PK\x07\x08") {
        Kind::Archive("a zip archive")
    } else if at(0, b"7z\xBC\xAF\x27\x1C") {
        Kind::Archive("a 7-Zip archive")
    } else if at(0, b"Rar!\x1A\x07") {
        Kind::Archive("a RAR archive")
    } else if at(0, &[0x1F, 0x8B]) {
        Kind::Archive("a gzip file")
    } else if at(0, b"BZh") && head.get(3).is_some_and(|d| (b'1'..=b'9').contains(d)) {
        Kind::Archive("a bzip2 file")
    } else if at(0, &[0xFD, b'7', b'z', b'X', b'Z', 0]) {
        Kind::Archive("an xz file")
    } else if at(0, &[0x28, 0xB5, 0x2F, 0xFD]) {
        Kind::Archive("a zstd file")
    } else if at(0, b"FORM") && (at(8, b"AIFF") || at(8, b"AIFC")) {
        Kind::Aiff
    } else if at(0, b"fLaC") {
        Kind::Flac
    } else if at(0, b"ID3") || is_mpeg_frame(head) {
        Kind::Lossy("MP3 (MPEG audio)")
    } else if at(0, b"OggS") {
        Kind::Lossy("Ogg (Vorbis or Opus)")
    } else if at(4, b"ftyp") {
        Kind::Lossy("MP4/M4A (AAC)")
    } else if head.len() >= 2 && head[0] == 0xFF && head[1] & 0xF6 == 0xF0 {
        Kind::Lossy("AAC (ADTS)")
    } else if at(0, &[0x30, 0x26, 0xB2, 0x75]) {
        Kind::Lossy("WMA (ASF)")
    } else if at(0, b"wvpk") {
        Kind::Unsupported("WavPack")
    } else if at(0, b"MAC ") {
        Kind::Unsupported("Monkey's Audio")
    } else if at(0, b"caff") {
        Kind::Unsupported("Core Audio (CAF)")
    } else {
        Kind::Unknown
    }
}

/// An MPEG audio frame header: 11 sync bits, a valid layer.
fn is_mpeg_frame(head: &[u8]) -> bool {
    head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0 && head[1] & 0x06 != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_are_told_apart() {
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), Kind::Wav);
        assert_eq!(sniff(b"RF64\xff\xff\xff\xffWAVE"), Kind::Wav);
        assert_eq!(sniff(b"FORM\0\0\0\0AIFC"), Kind::Aiff);
        assert_eq!(sniff(b"fLaC\0\0\0\x22"), Kind::Flac);
        assert_eq!(
            sniff(b"ID3\x04\0\0\0\0\0\0"),
            Kind::Lossy("MP3 (MPEG audio)")
        );
        assert_eq!(
            sniff(&[0xFF, 0xFB, 0x90, 0x00]),
            Kind::Lossy("MP3 (MPEG audio)")
        );
        assert_eq!(sniff(b"OggS\0\x02"), Kind::Lossy("Ogg (Vorbis or Opus)"));
        assert_eq!(sniff(b"\0\0\0\x20ftypM4A "), Kind::Lossy("MP4/M4A (AAC)"));
        assert_eq!(sniff(&[0xFF, 0xF1, 0x50, 0x80]), Kind::Lossy("AAC (ADTS)"));
        assert_eq!(sniff(b"wvpk"), Kind::Unsupported("WavPack"));
        assert_eq!(sniff(b"RIFF\0\0\0\0AVI "), Kind::Unknown);
        assert_eq!(sniff(&crate::wave64::RIFF), Kind::Wave64);
        assert_eq!(sniff(b"PK\x03\x04\x14\0"), Kind::Archive("a zip archive"));
        assert_eq!(
            sniff(b"7z\xBC\xAF\x27\x1C\0"),
            Kind::Archive("a 7-Zip archive")
        );
        assert_eq!(sniff(b""), Kind::Unknown);
    }
}
