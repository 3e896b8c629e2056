//! Writing a report to its folder: `stemcheck-report-<UTC yyyymmddThhmmss>.md` and `.json`.
//!
//! Each file is written in full under a hidden temporary name in the same folder, then renamed
//! into place (a rename within one folder is atomic), the read-me first and the JSON last: a
//! program polling the folder for `*.json` finds both files complete as soon as the JSON
//! appears. On any error the temporary files, and a read-me already renamed, are removed, so
//! nothing partial is left. Never called from the audio thread.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::markdown::render_markdown;
use super::model::Report;
use super::stamp::file_stamp;

/// The two files of one report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportFiles {
    /// The JSON report (`stemcheck.report/1`).
    pub json: PathBuf,
    /// The Markdown read-me.
    pub markdown: PathBuf,
}

/// Why a report could not be written. Its `Display` is a sentence for the GUI.
#[derive(Debug)]
pub enum ReportWriteError {
    /// The report folder setting is empty.
    NoFolder,
    /// The folder could not be created or written.
    Io {
        /// The report folder.
        dir: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The report could not be serialised (a bug, never the user's doing).
    Serialize(serde_json::Error),
    /// `created_utc` is not `YYYY-MM-DDTHH:MM:SSZ`, so there is no file name to give.
    BadTimestamp(String),
}

impl fmt::Display for ReportWriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportWriteError::NoFolder => write!(f, "No report folder is set"),
            ReportWriteError::Io { dir, source } => {
                write!(f, "Cannot write the report to {}: {source}", dir.display())
            }
            ReportWriteError::Serialize(e) => write!(f, "Cannot encode the report: {e}"),
            ReportWriteError::BadTimestamp(s) => write!(
                f,
                "Cannot name the report: its time \"{s}\" is not in the form YYYY-MM-DDTHH:MM:SSZ"
            ),
        }
    }
}

impl std::error::Error for ReportWriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReportWriteError::Io { source, .. } => Some(source),
            ReportWriteError::Serialize(e) => Some(e),
            _ => None,
        }
    }
}

/// Serialises name choice and renaming within this process: two writers in the same second
/// must not both pick the same free name. (Another program creating the very same name in
/// the same instant could still race; no portable rename-without-replace exists.)
static PLACING: Mutex<()> = Mutex::new(());

/// Makes temporary names unique within the process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes the report's `.md` and `.json` into `dir`, creating the folder if needed. An
/// existing report of the same second is never overwritten: the new one gets `-2`, `-3`, …
/// before the extension.
pub fn write_report(dir: &Path, report: &Report) -> Result<ReportFiles, ReportWriteError> {
    if dir.as_os_str().is_empty() {
        return Err(ReportWriteError::NoFolder);
    }
    let stamp = file_stamp(&report.created_utc)
        .ok_or_else(|| ReportWriteError::BadTimestamp(report.created_utc.clone()))?;
    let mut json = serde_json::to_vec_pretty(report).map_err(ReportWriteError::Serialize)?;
    json.push(b'\n');
    let markdown = render_markdown(report);
    let io_error = |source| ReportWriteError::Io {
        dir: dir.to_path_buf(),
        source,
    };

    fs::create_dir_all(dir).map_err(io_error)?;
    let tmp_md = write_temp(dir, &stamp, "md", markdown.as_bytes()).map_err(io_error)?;
    let tmp_json = match write_temp(dir, &stamp, "json", &json) {
        Ok(p) => p,
        Err(e) => {
            remove_quietly(&tmp_md);
            return Err(io_error(e));
        }
    };

    // A poisoned lock only means another writer panicked; the guard protects no data.
    let _placing = PLACING.lock().unwrap_or_else(|e| e.into_inner());
    let files = free_names(dir, &stamp);
    commit(&tmp_md, &files.markdown, &tmp_json, &files.json).map_err(io_error)?;
    Ok(files)
}

/// The first `stemcheck-report-<stamp>[-n]` with neither file present.
fn free_names(dir: &Path, stamp: &str) -> ReportFiles {
    let mut n = 1u32;
    loop {
        let base = if n == 1 {
            format!("stemcheck-report-{stamp}")
        } else {
            format!("stemcheck-report-{stamp}-{n}")
        };
        let files = ReportFiles {
            json: dir.join(format!("{base}.json")),
            markdown: dir.join(format!("{base}.md")),
        };
        // `symlink_metadata` so a dangling link also counts as taken.
        let taken = |p: &Path| p.symlink_metadata().is_ok();
        if !taken(&files.json) && !taken(&files.markdown) {
            return files;
        }
        n += 1;
    }
}

/// Writes `bytes` to a new hidden file in `dir` whose name does not end in `.json` or `.md`,
/// so folder watchers ignore it, and flushes it to disk before it is renamed into place.
fn write_temp(dir: &Path, stamp: &str, ext: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let path = dir.join(format!(
        ".stemcheck-report-{stamp}.{ext}.{}-{n}.tmp",
        std::process::id()
    ));
    let result = (|| {
        let mut file: File = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    match result {
        Ok(()) => Ok(path),
        Err(e) => {
            remove_quietly(&path);
            Err(e)
        }
    }
}

/// Renames both temporaries into place, read-me first. On failure removes whatever this call
/// created, so the folder is as it was.
fn commit(tmp_md: &Path, md: &Path, tmp_json: &Path, json: &Path) -> io::Result<()> {
    if let Err(e) = fs::rename(tmp_md, md) {
        remove_quietly(tmp_md);
        remove_quietly(tmp_json);
        return Err(e);
    }
    if let Err(e) = fs::rename(tmp_json, json) {
        remove_quietly(tmp_json);
        remove_quietly(md);
        return Err(e);
    }
    Ok(())
}

/// Best-effort clean-up after an error: the first error is the one worth reporting.
fn remove_quietly(path: &Path) {
    let _ = fs::remove_file(path);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::build::build_report;
    use crate::report::fixtures::clean;

    fn report() -> Report {
        build_report(&clean())
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("lists")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_both_files_under_the_pattern() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("new").join("folder");
        let files = write_report(&dir, &report()).expect("writes");
        assert_eq!(
            names_in(&dir),
            [
                "stemcheck-report-20260131T120000.json",
                "stemcheck-report-20260131T120000.md"
            ]
        );
        assert_eq!(
            files.json,
            dir.join("stemcheck-report-20260131T120000.json")
        );
        assert_eq!(
            files.markdown,
            dir.join("stemcheck-report-20260131T120000.md")
        );
        let json = fs::read_to_string(&files.json).unwrap();
        let back: Report = serde_json::from_str(&json).expect("complete JSON");
        assert_eq!(back, report());
        let md = fs::read_to_string(&files.markdown).unwrap();
        assert_eq!(md, render_markdown(&report()));
    }

    #[test]
    fn same_second_gets_a_suffix_and_never_overwrites() {
        let tmp = tempfile::tempdir().unwrap();
        let first = write_report(tmp.path(), &report()).unwrap();
        let second = write_report(tmp.path(), &report()).unwrap();
        // Only one of the pair left behind by someone else still blocks the name.
        fs::write(
            tmp.path().join("stemcheck-report-20260131T120000-3.md"),
            "x",
        )
        .unwrap();
        let fourth = write_report(tmp.path(), &report()).unwrap();
        assert_eq!(
            second.json,
            tmp.path().join("stemcheck-report-20260131T120000-2.json")
        );
        assert_eq!(
            second.markdown,
            tmp.path().join("stemcheck-report-20260131T120000-2.md")
        );
        assert_eq!(
            fourth.json,
            tmp.path().join("stemcheck-report-20260131T120000-4.json")
        );
        assert_ne!(first.json, second.json);
        assert_eq!(
            fs::read_to_string(tmp.path().join("stemcheck-report-20260131T120000-3.md")).unwrap(),
            "x"
        );
        assert_eq!(names_in(tmp.path()).len(), 7, "{:?}", names_in(tmp.path()));
    }

    #[test]
    fn empty_folder_setting_is_refused() {
        let err = write_report(Path::new(""), &report()).unwrap_err();
        assert_eq!(err.to_string(), "No report folder is set");
    }

    #[test]
    fn unwritable_folder_gives_a_clear_error_and_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("a-file");
        fs::write(&file, "not a folder").unwrap();
        let dir = file.join("reports");
        let err = write_report(&dir, &report()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("Cannot write the report to {}: ", dir.display())),
            "{text}"
        );
        assert!(text.contains("os error"), "the OS reason is given: {text}");
        assert_eq!(names_in(tmp.path()), ["a-file"]);
    }

    #[cfg(unix)]
    #[test]
    fn read_only_folder_gives_a_clear_error_and_leaves_nothing() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("locked");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o555)).unwrap();
        // Permission bits do not stop a privileged user; then there is nothing to check here
        // (the test above covers a folder that cannot exist at all).
        let privileged = fs::write(dir.join("probe"), "").is_ok();
        if !privileged {
            let err = write_report(&dir, &report()).unwrap_err();
            assert!(err.to_string().contains("Permission denied"), "{err}");
            assert!(names_in(&dir).is_empty());
        }
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn a_failed_rename_leaves_nothing_behind() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let tmp_md = write_temp(dir, "20260131T120000", "md", b"read-me").unwrap();
        let tmp_json = write_temp(dir, "20260131T120000", "json", b"{}").unwrap();
        // A non-empty folder where the JSON should go: the second rename fails on every
        // platform and for every user.
        let blocker = dir.join("r.json");
        fs::create_dir(&blocker).unwrap();
        fs::write(blocker.join("inside"), "").unwrap();
        let md = dir.join("r.md");
        assert!(commit(&tmp_md, &md, &tmp_json, &blocker).is_err());
        assert_eq!(
            names_in(dir),
            ["r.json"],
            "temporaries and the read-me removed"
        );
    }

    #[test]
    fn a_malformed_time_is_refused_before_writing() {
        let tmp = tempfile::tempdir().unwrap();
        let mut r = report();
        r.created_utc = "yesterday".into();
        let err = write_report(tmp.path(), &r).unwrap_err();
        assert!(err.to_string().contains("\"yesterday\""), "{err}");
        assert!(names_in(tmp.path()).is_empty());
    }
}
