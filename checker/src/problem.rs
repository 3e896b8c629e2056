//! Why an input file cannot be checked: missing, unreadable, corrupt, lossy or in a layout the
//! engine does not meter. Each names the file and the reason, for exit status 3.

use std::fmt;
use std::path::{Path, PathBuf};

/// One unusable input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputProblem {
    /// The file or folder, as given or found.
    pub path: PathBuf,
    /// What is wrong with it, as a sentence without the path.
    pub reason: String,
}

impl InputProblem {
    /// A problem with `path`.
    pub fn new(path: &Path, reason: impl Into<String>) -> Self {
        Self {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for InputProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

impl std::error::Error for InputProblem {}

/// An error from a byte stream whose text is already a clause about the file (an archive's
/// entry that inflates past its size, or fails its checksum): passed on as it is, inside an
/// `io::Error`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamProblem(pub String);

impl fmt::Display for StreamProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StreamProblem {}
