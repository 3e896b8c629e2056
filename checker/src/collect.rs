//! Which files are the stems: the files named on the command line, and the audio files directly
//! inside each folder named (not its sub-folders), minus the reference mix.

use std::fs;
use std::path::{Path, PathBuf};

use stemcheck_engine::report::compare_names;

use crate::problem::InputProblem;
use crate::sniff::AUDIO_EXTENSIONS;

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

/// The stem files for `inputs`, in natural name order, without `mix`. Fails on a path that
/// does not exist, a folder that cannot be listed, and an input without any audio file.
pub fn stem_files(inputs: &[PathBuf], mix: Option<&Path>) -> Result<Vec<PathBuf>, InputProblem> {
    let mut files = Vec::new();
    for input in inputs {
        let meta = fs::metadata(input).map_err(|e| {
            InputProblem::new(
                input,
                if e.kind() == std::io::ErrorKind::NotFound {
                    "does not exist".to_string()
                } else {
                    format!("cannot be read: {e}")
                },
            )
        })?;
        if meta.is_dir() {
            let listing = fs::read_dir(input)
                .map_err(|e| InputProblem::new(input, format!("cannot be listed: {e}")))?;
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
                return Err(InputProblem::new(
                    input,
                    "holds no stem files (WAV, AIFF or FLAC) to check",
                ));
            }
            files.extend(found);
        } else if !mix.is_some_and(|m| same_file(input, m)) {
            files.push(input.clone());
        }
    }
    if files.is_empty() {
        let at = inputs.first().map_or(Path::new("."), PathBuf::as_path);
        return Err(InputProblem::new(at, "no stem files to check"));
    }
    files.sort_by(|a, b| compare_names(&file_label(a), &file_label(b)));
    files.dedup_by(|a, b| same_file(a, b));
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

/// A stem's name in the report: its file name without the extension, or the whole file name
/// when two stems would otherwise share a name (`01_Kick.wav` and `01_Kick.aif`).
pub fn stem_names(files: &[PathBuf]) -> Vec<String> {
    files
        .iter()
        .map(|p| {
            let name = file_stem(p);
            if files.iter().filter(|q| file_stem(q) == name).count() > 1 {
                file_label(p)
            } else {
                name
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_give_their_audio_files_in_natural_order_without_the_mix() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "10_Fx.wav",
            "2_Bass.flac",
            "01_Drums.WAV",
            "notes.txt",
            "mix.wav",
        ] {
            fs::write(dir.path().join(name), b"x").unwrap();
        }
        let mix = dir.path().join("mix.wav");
        let files = stem_files(&[dir.path().to_path_buf()], Some(&mix)).unwrap();
        let names: Vec<String> = files.iter().map(|p| file_label(p)).collect();
        assert_eq!(names, ["01_Drums.WAV", "2_Bass.flac", "10_Fx.wav"]);
    }

    #[test]
    fn an_empty_folder_and_a_missing_path_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let empty = stem_files(&[dir.path().to_path_buf()], None).unwrap_err();
        assert!(empty.reason.contains("holds no stem files"), "{empty}");
        let missing = stem_files(&[dir.path().join("nope.wav")], None).unwrap_err();
        assert_eq!(missing.reason, "does not exist");
    }

    #[test]
    fn names_drop_the_extension_unless_two_stems_would_share_one() {
        let files: Vec<PathBuf> = ["a/01_Kick.wav", "a/01_Kick.aif", "a/02_Snare.wav"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(
            stem_names(&files),
            ["01_Kick.wav", "01_Kick.aif", "02_Snare"]
        );
    }
}
