//! Zip archives for the tests: well-formed ones written with the zip crate, and hostile ones
//! made by patching their headers or writing them byte by byte (APPNOTE 6.3.10).

#![allow(dead_code)]

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// An archive of `entries` (name, bytes, stored instead of deflated).
pub fn archive(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes, stored) in entries {
        let method = if *stored {
            CompressionMethod::Stored
        } else {
            CompressionMethod::Deflated
        };
        w.start_file(
            *name,
            SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

pub const LOCAL: &[u8; 4] = b"PK\x03\x04";
pub const CENTRAL: &[u8; 4] = b"PK\x01\x02";

fn u16_at(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn u32_at(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
}

/// Each entry's (local header, central directory header) offsets, walked from the end of
/// central directory record (archives without Zip64 records or a comment).
pub fn headers(zip: &[u8]) -> Vec<(usize, usize)> {
    let eocd = zip.len() - 22;
    assert_eq!(&zip[eocd..eocd + 4], b"PK\x05\x06");
    let count = u16_at(zip, eocd + 10);
    let mut at = u32_at(zip, eocd + 16);
    let mut out = Vec::new();
    for _ in 0..count {
        assert_eq!(&zip[at..at + 4], CENTRAL);
        out.push((u32_at(zip, at + 42), at));
        at += 46 + u16_at(zip, at + 28) + u16_at(zip, at + 30) + u16_at(zip, at + 32);
    }
    out
}

/// Sets the "encrypted" flag (general purpose bit 0) of entry `k` in both its headers.
pub fn mark_encrypted(zip: &mut [u8], k: usize) {
    let (l, c) = headers(zip)[k];
    zip[l + 6] |= 1;
    zip[c + 8] |= 1;
}

/// Makes entry `k` declare `size` uncompressed bytes, in both its headers.
pub fn declare_size(zip: &mut [u8], k: usize, size: u32) {
    let (l, c) = headers(zip)[k];
    zip[l + 22..l + 26].copy_from_slice(&size.to_le_bytes());
    zip[c + 24..c + 28].copy_from_slice(&size.to_le_bytes());
}

/// Points entry `k`'s central directory header at entry `to`'s local header, so both share
/// its data.
pub fn overlap(zip: &mut [u8], k: usize, to: usize) {
    let h = headers(zip);
    let target = h[to].0 as u32;
    let c = h[k].1;
    zip[c + 42..c + 46].copy_from_slice(&target.to_le_bytes());
}

/// A one-entry Zip64 archive whose entry `name` declares `size` uncompressed bytes, holding an
/// empty Deflate stream: what a zip bomb's directory looks like, without the bomb.
pub fn zip64_claiming(name: &str, size: u64) -> Vec<u8> {
    let data = [0x03u8, 0x00]; // a final, empty, fixed-Huffman Deflate block
    let crc = 0u32; // the CRC-32 of no bytes
    let extra = |out: &mut Vec<u8>| {
        out.extend_from_slice(&1u16.to_le_bytes()); // Zip64 extended information
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
    };
    let mut z = Vec::new();
    z.extend_from_slice(LOCAL);
    z.extend_from_slice(&45u16.to_le_bytes()); // version needed: 4.5 (Zip64)
    z.extend_from_slice(&0u16.to_le_bytes()); // flags
    z.extend_from_slice(&8u16.to_le_bytes()); // Deflate
    z.extend_from_slice(&0u16.to_le_bytes()); // time
    z.extend_from_slice(&0x21u16.to_le_bytes()); // 1980-01-01
    z.extend_from_slice(&crc.to_le_bytes());
    z.extend_from_slice(&u32::MAX.to_le_bytes()); // sizes in the Zip64 field
    z.extend_from_slice(&u32::MAX.to_le_bytes());
    z.extend_from_slice(&(name.len() as u16).to_le_bytes());
    z.extend_from_slice(&20u16.to_le_bytes());
    z.extend_from_slice(name.as_bytes());
    extra(&mut z);
    z.extend_from_slice(&data);
    let cd = z.len();
    z.extend_from_slice(CENTRAL);
    z.extend_from_slice(&(0x0300u16 | 45).to_le_bytes()); // made by Unix, 4.5
    z.extend_from_slice(&45u16.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z.extend_from_slice(&8u16.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z.extend_from_slice(&0x21u16.to_le_bytes());
    z.extend_from_slice(&crc.to_le_bytes());
    z.extend_from_slice(&u32::MAX.to_le_bytes());
    z.extend_from_slice(&u32::MAX.to_le_bytes());
    z.extend_from_slice(&(name.len() as u16).to_le_bytes());
    z.extend_from_slice(&20u16.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes()); // comment
    z.extend_from_slice(&0u16.to_le_bytes()); // disk
    z.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
    z.extend_from_slice(&0u32.to_le_bytes()); // external attributes
    z.extend_from_slice(&0u32.to_le_bytes()); // local header at 0
    z.extend_from_slice(name.as_bytes());
    extra(&mut z);
    let cd_size = (z.len() - cd) as u32;
    z.extend_from_slice(b"PK\x05\x06");
    z.extend_from_slice(&0u16.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z.extend_from_slice(&1u16.to_le_bytes());
    z.extend_from_slice(&1u16.to_le_bytes());
    z.extend_from_slice(&cd_size.to_le_bytes());
    z.extend_from_slice(&(cd as u32).to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z
}
