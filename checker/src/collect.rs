//! Which files are the delivery: the files named on the command line, the audio files directly
//! inside each folder named (not its sub-folders), and the audio entries of each zip archive
//! named, minus the reference mix given with `--mix`.

use std::fs;
use std::path::{Path, PathBuf};

use stemcheck_engine::report::compare_names;

use crate::problem::InputProblem;
use crate::sniff::AUDIO_EXTENSIONS;
use crate::source::Source;
use crate::zip_source::{is_zip, open_archive, Entry};

/// One audio input: a file, or an entry of a zip archive.
#[derive(Clone, Debug)]
pub enum Input {
    /// A file on disk.
    File(PathBuf),
    /// An entry of an archive, read without unpacking it.
    Entry(Entry),
}

impl Input {
    /// The path shown in messages and the report (for an entry: the archive's path joined
    /// with its name).
    pub fn path(&self) -> &Path {
        match self {
            Input::File(p) => p,
            Input::Entry(e) => &e.path,
        }
    }

    /// Opens it for streaming.
    pub fn open(&self) -> Result<Source, InputProblem> {
        match self {
            Input::File(p) => Source::open(p),
            Input::Entry(e) => e.open(),
        }
    }
}

/// Whether a file name has an audio extension (lossless or lossy: lossy ones are refused
/// with a reason later, not silently skipped).
fn is_audio(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The same file, however it was spelled.
fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The inputs for `inputs`, in natural name order, without `mix`. Fails on a path that does
/// not exist, a folder that cannot be listed, an input without any audio file, and a zip
/// archive that is damaged or hostile (every problem found is returned).
pub fn stem_files(inputs: &[PathBuf], mix: Option<&Path>) -> Result<Vec<Input>, Vec<InputProblem>> {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for input in inputs {
        let meta = match fs::metadata(input) {
            Ok(m) => m,
            Err(e) => {
                problems.push(InputProblem::new(
                    input,
                    if e.kind() == std::io::ErrorKind::NotFound {
                        "does not exist".to_string()
                    } else {
                        format!("cannot be read: {e}")
                    },
                ));
                continue;
            }
        };
        if meta.is_dir() {
            let listing = match fs::read_dir(input) {
                Ok(l) => l,
                Err(e) => {
                    problems.push(InputProblem::new(input, format!("cannot be listed: {e}")));
                    continue;
                }
            };
            let mut found: Vec<PathBuf> = listing
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && is_audio(p))
                .filter(|p| {
                    !p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("._"))
                })
                .collect();
            found.retain(|p| !mix.is_some_and(|m| same_file(p, m)));
            if found.is_empty() {
                problems.push(InputProblem::new(
                    input,
                    "holds no stem files (WAV, RF64, Wave64, AIFF or FLAC) to check",
                ));
            }
            files.extend(found.into_iter().map(Input::File));
        } else if is_zip(input) {
            match open_archive(input) {
                Ok(entries) => files.extend(entries.into_iter().map(Input::Entry)),
                Err(p) => problems.extend(p),
            }
        } else if !mix.is_some_and(|m| same_file(input, m)) {
            files.push(Input::File(input.clone()));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if files.is_empty() {
        let at = inputs.first().map_or(Path::new("."), PathBuf::as_path);
        return Err(vec![InputProblem::new(at, "no stem files to check")]);
    }
    files.sort_by(|a, b| compare_names(&file_label(a.path()), &file_label(b.path())));
    files.dedup_by(|a, b| match (&*a, &*b) {
        (Input::File(a), Input::File(b)) => same_file(a, b),
        _ => a.path() == b.path(),
    });
    Ok(files)
}

/// The file name, for sorting and messages.
fn file_label(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    )
}

/// A file's name without its extension (the whole name when it has no stem).
pub fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map_or_else(|| file_label(path), |s| s.to_string_lossy().into())
}

/// The last `k` components of `path`, joined with `/`.
fn tail_of(path: &Path, k: usize) -> String {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts[parts.len().saturating_sub(k)..].join("/")
}

/// A stem's name in the report: its file name without the extension, or the whole file name
/// when two stems would otherwise share a name (`01_Kick.wav` and `01_Kick.aif`), or as many
/// of its folders as tell it apart when even that is shared (`A/01_Kick.wav`, `B/01_Kick.wav`,
/// two folders of an archive).
pub fn stem_names(files: &[PathBuf]) -> Vec<String> {
    files
        .iter()
        .map(|p| {
            let name = file_stem(p);
            if files.iter().filter(|q| file_stem(q) == name).count() == 1 {
                return name;
            }
            let depth = p.components().count();
            (1..=depth)
                .map(|k| tail_of(p, k))
                .find(|t| {
                    files
                        .iter()
                        .filter(|q| &tail_of(q, t.split('/').count()) == t)
                        .count()
                        == 1
                })
                .unwrap_or_else(|| p.display().to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(inputs: &[Input]) -> Vec<String> {
        inputs.iter().map(|i| file_label(i.path())).collect()
    }

    #[test]
    fn folders_give_their_audio_files_in_natural_order_without_the_mix() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "10_Fx.wav",
            "2_Bass.flac",
            "01_Drums.WAV",
            "notes.txt",
            "mix.wav",
            "11_Long.w64",
        ] {
            fs::write(dir.path().join(name), b"x").unwrap();
        }
        let mix = dir.path().join("mix.wav");
        let files = stem_files(&[dir.path().to_path_buf()], Some(&mix)).unwrap();
        assert_eq!(
            labels(&files),
            ["01_Drums.WAV", "2_Bass.flac", "10_Fx.wav", "11_Long.w64"]
        );
    }

    #[test]
    fn an_empty_folder_and_a_missing_path_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let empty = stem_files(&[dir.path().to_path_buf()], None).unwrap_err();
        assert!(
            empty[0].reason.contains("holds no stem files"),
            "{}",
            empty[0]
        );
        let missing = stem_files(&[dir.path().join("nope.wav")], None).unwrap_err();
        assert_eq!(missing[0].reason, "does not exist");
        // Both at once are both named.
        let both = stem_files(
            &[dir.path().to_path_buf(), dir.path().join("nope.wav")],
            None,
        )
        .unwrap_err();
        assert_eq!(both.len(), 2);
    }

    #[test]
    fn names_drop_the_extension_unless_two_stems_would_share_one() {
        let files: Vec<PathBuf> = [
            "a/01_Kick.wav",
            "a/01_Kick.aif",
            "a/02_Snare.wav",
            "z.zip/A/03_Pad.wav",
            "z.zip/B/03_Pad.wav",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        assert_eq!(
            stem_names(&files),
            [
                "01_Kick.wav",
                "01_Kick.aif",
                "02_Snare",
                "A/03_Pad.wav",
                "B/03_Pad.wav"
            ]
        );
    }
}
