//! A delivery sent as a zip archive, checked without unpacking it: its audio entries stream
//! straight from the archive into the checker, and nothing is ever written to disk.
//!
//! The archive is refused whole (exit status 3), each problem named, when it is truncated or
//! damaged, when an entry's name leads out of the archive's folder (absolute, or through
//! `..`), when an audio entry is encrypted, when it holds another archive, when two entries
//! share a name, when entries share their compressed bytes (overlapping entries, how zip
//! bombs multiply), and when an entry says it inflates past [`MAX_ENTRY_BYTES`]. An entry that
//! inflates past the size it declares is stopped there (the zip crate counts) and refused.
//!
//! Each audio entry is inflated on a thread of its own, into a bounded channel of
//! [`BLOCKS_IN_FLIGHT`] blocks of [`BLOCK`] bytes, which the checker reads as it reads a file:
//! the whole delivery streams in lockstep, with at most 512 KiB per entry held in memory.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use zip::read::ZipArchiveMetadata;
use zip::{CompressionMethod, ZipArchive, ZipReadOptions};

use crate::problem::{InputProblem, StreamProblem};
use crate::sniff::{ARCHIVE_EXTENSIONS, AUDIO_EXTENSIONS};
use crate::source::Source;

/// The most an entry may inflate to: 16 GiB, six hours of stereo 32-bit float at 96 kHz (or
/// sixteen of 24-bit at 48 kHz), longer than any stem. An entry declaring more is refused
/// before anything is inflated.
pub const MAX_ENTRY_BYTES: u64 = 16 << 30;

/// Bytes inflated at a time.
pub const BLOCK: usize = 64 * 1024;

/// Blocks an entry's thread may inflate ahead of the checker.
pub const BLOCKS_IN_FLIGHT: usize = 8;

/// An archive whose directory has been read and checked.
#[derive(Debug)]
pub struct Archive {
    path: PathBuf,
    meta: Arc<ZipArchiveMetadata>,
}

/// One audio entry of an archive.
#[derive(Clone, Debug)]
pub struct Entry {
    archive: Arc<Archive>,
    index: usize,
    /// The archive's path joined with the entry's name, for messages and the report.
    pub path: PathBuf,
    /// The size the entry declares, bytes.
    pub size: u64,
}

/// Whether `path` looks like a zip archive: its extension, or its first bytes.
pub fn is_zip(path: &Path) -> bool {
    if path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
    {
        return true;
    }
    let mut head = [0u8; 4];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| matches!(&head, b"PK\x03\x04" | b"PK\x05\x06"))
}

/// A name that leads out of the folder the archive would be unpacked into: absolute (`/x`,
/// `\x`, `C:x`), through a `..` component, or holding a NUL.
fn escapes(name: &str) -> bool {
    let bytes = name.as_bytes();
    name.starts_with(['/', '\\'])
        || (bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic())
        || name.split(['/', '\\']).any(|part| part == "..")
        || name.contains('\0')
}

/// macOS's resource forks (`__MACOSX/`, `._name`): metadata, never audio.
fn is_resource_fork(name: &str) -> bool {
    name.starts_with("__MACOSX/")
        || name
            .rsplit(['/', '\\'])
            .next()
            .is_some_and(|n| n.starts_with("._"))
}

fn extension(name: &str) -> String {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Reads and checks the archive's directory; returns its audio entries in the order stored,
/// or every problem found (each naming the archive and, quoted, the entry).
pub fn open_archive(path: &Path) -> Result<Vec<Entry>, Vec<InputProblem>> {
    let problem = |reason: String| InputProblem::new(path, reason);
    let file = File::open(path).map_err(|e| vec![problem(format!("cannot open it: {e}"))])?;
    let mut zip = ZipArchive::new(BufReader::new(file)).map_err(|e| {
        vec![problem(format!(
            "is not a complete zip archive ({e}): it is truncated (an interrupted download or \
             copy) or damaged. Nothing was checked; send or download it again."
        ))]
    })?;
    let meta = zip.metadata();
    let mut problems = Vec::new();
    let mut found = Vec::new();
    if meta.has_duplicate_names() {
        problems.push(problem(
            "holds several entries under one name, so which of them is the stem is not clear"
                .into(),
        ));
    }
    for index in 0..meta.len() {
        let entry = match meta.entry(index) {
            Ok(e) => e,
            Err(e) => {
                problems.push(problem(format!("has a damaged entry ({e})")));
                continue;
            }
        };
        let name = match entry.name() {
            Ok(n) => n.into_owned(),
            Err(e) => {
                problems.push(problem(format!(
                    "has an entry whose name cannot be read ({e})"
                )));
                continue;
            }
        };
        if escapes(&name) {
            problems.push(problem(format!(
                "holds an entry named {name:?}, a path that leads out of the folder the archive \
                 would be unpacked into (absolute, or through \"..\"): the archive is refused, \
                 and nothing from it was written anywhere"
            )));
            continue;
        }
        if entry.is_dir() || is_resource_fork(&name) {
            continue;
        }
        let ext = extension(&name);
        if ARCHIVE_EXTENSIONS.contains(&ext.as_str()) {
            problems.push(problem(format!(
                "holds another archive, {name:?}: archives inside archives are not opened. \
                 Unpack it and check the stems inside."
            )));
            continue;
        }
        if !AUDIO_EXTENSIONS.contains(&ext.as_str()) {
            // Read-mes, artwork, session files: not stems.
            continue;
        }
        if entry.encrypted() {
            problems.push(problem(format!(
                "holds {name:?} encrypted: Stemcheck takes no passwords. Send the stems in an \
                 archive without one."
            )));
            continue;
        }
        let size = entry.size();
        if size > MAX_ENTRY_BYTES {
            problems.push(problem(format!(
                "says {name:?} inflates to {size} bytes ({:.1} GiB), past the {} GiB an entry \
                 may take (a zip bomb, or a file longer than any stem): nothing was inflated",
                size as f64 / f64::from(1u32 << 30),
                MAX_ENTRY_BYTES >> 30
            )));
            continue;
        }
        match entry.compression() {
            CompressionMethod::Stored
            | CompressionMethod::Deflated
            | CompressionMethod::Deflate64 => {}
            other => {
                problems.push(problem(format!(
                    "compresses {name:?} with {other}, which this checker does not read: zip \
                     the stems with Deflate (the usual zip compression) or store them"
                )));
                continue;
            }
        }
        found.push((index, name, size));
    }
    match zip.has_overlapping_files() {
        Ok(false) => {}
        Ok(true) => problems.push(problem(
            "has entries that share their compressed bytes (overlapping entries, how zip bombs \
             multiply their size): the archive is refused"
                .into(),
        )),
        Err(e) => problems.push(problem(format!(
            "is damaged: an entry's data cannot be found ({e})"
        ))),
    }
    if found.is_empty() && problems.is_empty() {
        problems.push(problem(
            "holds no stem files (WAV, RF64, Wave64, AIFF or FLAC) to check".into(),
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let archive = Arc::new(Archive {
        path: path.to_path_buf(),
        meta,
    });
    Ok(found
        .into_iter()
        .map(|(index, name, size)| Entry {
            archive: archive.clone(),
            index,
            path: path.join(name),
            size,
        })
        .collect())
}

impl Entry {
    /// Starts inflating the entry on a thread of its own and opens it as a source.
    pub fn open(&self) -> Result<Source, InputProblem> {
        let (tx, rx) = sync_channel(BLOCKS_IN_FLIGHT);
        let (archive, index, size) = (self.archive.clone(), self.index, self.size);
        std::thread::Builder::new()
            .name("stemcheck-unzip".into())
            .spawn(move || pump(&archive, index, size, &tx))
            .map_err(|e| InputProblem::new(&self.path, format!("cannot be inflated: {e}")))?;
        let shared = Arc::new(Mutex::new(Shared { rx, failure: None }));
        let tail = shared.clone();
        Source::open_stream(
            &self.path,
            Box::new(EntryReader {
                shared,
                block: Vec::new(),
                at: 0,
                done: false,
            }),
            Some(Box::new(move || finish(&tail))),
        )
    }
}

/// A block of inflated bytes, or why inflating stopped.
type Block = io::Result<Vec<u8>>;

/// Inflates entry `index` into `tx` until it ends, fails, or the reader is gone.
fn pump(archive: &Archive, index: usize, size: u64, tx: &SyncSender<Block>) {
    let fail = |why: String| {
        let _ = tx.send(Err(io::Error::other(StreamProblem(why))));
    };
    let file = match File::open(&archive.path) {
        Ok(f) => f,
        Err(e) => return fail(format!("cannot be read from its archive: {e}")),
    };
    let mut reader = BufReader::new(file);
    let entry = match archive.meta.entry(index) {
        Ok(e) => e,
        Err(e) => return fail(format!("cannot be read from its archive: {e}")),
    };
    let mut inflating = match entry.with_reader(&mut reader, ZipReadOptions::new()) {
        Ok(r) => r,
        Err(e) => return fail(format!("cannot be read from its archive: {e}")),
    };
    loop {
        let mut block = vec![0u8; BLOCK];
        let n = match inflating.read(&mut block) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return fail(why_inflating_failed(&e, size)),
        };
        block.truncate(n);
        if tx.send(Ok(block)).is_err() {
            // The checker is done with this entry.
            return;
        }
    }
}

/// A sentence for an entry that stopped inflating.
fn why_inflating_failed(e: &io::Error, size: u64) -> String {
    let text = e.to_string();
    if text.contains("larger than its declared") {
        format!(
            "inflates past the {size} bytes its archive declares for it: a zip bomb or a \
             damaged archive. It was stopped there, and nothing was checked."
        )
    } else if text.contains("checksum") {
        "is damaged inside its archive: its checksum does not match what it inflates to".into()
    } else {
        format!("cannot be inflated from its archive: {text}")
    }
}

/// The checker's end of an entry's channel, and the first failure seen on it.
struct Shared {
    rx: Receiver<Block>,
    failure: Option<String>,
}

impl Shared {
    /// The next block; `None` once the entry has been read whole. A failure is kept, so that
    /// [`finish`] reports it even when the decoder swallowed the error.
    fn next(&mut self) -> Option<Block> {
        let got = self.rx.recv().ok()?;
        if let Err(e) = &got {
            self.failure.get_or_insert_with(|| e.to_string());
        }
        Some(got)
    }
}

/// After the decoder is done: reads what is left of the entry, so its checksum is checked
/// even when the audio ended before the entry did, and reports any failure seen.
fn finish(shared: &Mutex<Shared>) -> io::Result<()> {
    // Only the checker's thread locks it, never twice at once: the lock cannot be poisoned
    // by anyone else, and is never contended.
    let mut s = shared.lock().unwrap_or_else(|p| p.into_inner());
    while s.next().is_some() {}
    match &s.failure {
        Some(why) => Err(io::Error::other(StreamProblem(why.clone()))),
        None => Ok(()),
    }
}

/// The checker's reading end of an entry.
struct EntryReader {
    /// Shared with [`finish`]; a mutex also makes the reader `Sync`, as symphonia's sources
    /// must be.
    shared: Arc<Mutex<Shared>>,
    block: Vec<u8>,
    at: usize,
    done: bool,
}

impl Read for EntryReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.block.len() {
            if self.done {
                return Ok(0);
            }
            let next = self.shared.lock().unwrap_or_else(|p| p.into_inner()).next();
            match next {
                Some(Ok(block)) => {
                    self.block = block;
                    self.at = 0;
                }
                Some(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                // The thread ended: the whole entry has been read.
                None => self.done = true,
            }
        }
        let n = buf.len().min(self.block.len() - self.at);
        buf[..n].copy_from_slice(&self.block[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_leading_out_of_the_folder_are_caught() {
        for bad in [
            "/etc/passwd.wav",
            "\\x.wav",
            "C:stems.wav",
            "a/../../b.wav",
            "..\\b.wav",
        ] {
            assert!(escapes(bad), "{bad}");
        }
        for good in ["Stems/01_Kick.wav", "a..b.wav", "..x/01.wav", "01_Kick.wav"] {
            assert!(!escapes(good), "{good}");
        }
        assert!(is_resource_fork("__MACOSX/Stems/._01_Kick.wav"));
        assert!(is_resource_fork("Stems/._01_Kick.wav"));
        assert!(!is_resource_fork("Stems/01_Kick.wav"));
    }
}
