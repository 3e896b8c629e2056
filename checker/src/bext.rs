//! The Broadcast Wave `bext` chunk (EBU Tech 3285): only its time reference, the position in
//! the session where the file starts, in samples since midnight. Pro Tools and other DAWs place
//! an imported file there.

/// Offset of `TimeReferenceLow` in the chunk: after Description (256 bytes), Originator (32),
/// OriginatorReference (32), OriginationDate (10) and OriginationTime (8).
const TIME_REFERENCE_AT: usize = 338;

/// The time reference of a `bext` chunk's body, in samples since midnight; `None` when the
/// chunk is too short to hold one (a damaged chunk says nothing, rather than a wrong start).
pub fn time_reference(body: &[u8]) -> Option<u64> {
    let b = body.get(TIME_REFERENCE_AT..TIME_REFERENCE_AT + 8)?;
    let low = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let high = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    Some(u64::from(high) << 32 | u64::from(low))
}

/// Bytes of a `bext` chunk that hold everything up to and including the time reference.
pub const NEEDED: usize = TIME_REFERENCE_AT + 8;

/// A minimal `bext` body (version 1, no coding history) with `time_reference`.
#[cfg(test)]
pub(crate) fn body(time_reference: u64) -> Vec<u8> {
    let mut b = vec![0u8; 602];
    b[TIME_REFERENCE_AT..TIME_REFERENCE_AT + 4]
        .copy_from_slice(&(time_reference as u32).to_le_bytes());
    b[TIME_REFERENCE_AT + 4..TIME_REFERENCE_AT + 8]
        .copy_from_slice(&((time_reference >> 32) as u32).to_le_bytes());
    b[346..348].copy_from_slice(&1u16.to_le_bytes());
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_halves_of_the_time_reference_are_read() {
        // One hour past midnight at 48 kHz, and a value past 2^32.
        for t in [172_800_000u64, (7u64 << 32) + 5, 0] {
            assert_eq!(time_reference(&body(t)), Some(t));
        }
        assert_eq!(time_reference(&body(9)[..NEEDED - 1]), None);
    }
}
