//! Problems found in a tree and the error type of the synth crate.

use std::fmt;
use std::path::PathBuf;

/// How bad a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Synthesis goes on; the problem is printed.
    Warning,
    /// Synthesis fails; nothing is written.
    Error,
}

/// One problem, at a construct path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// The construct path (`dev/Network/Vpc`), or a stack's path.
    pub path: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl Problem {
    /// An error at a path.
    pub fn error(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Error,
            path: path.into(),
            message: message.into(),
        }
    }

    /// A warning at a path.
    pub fn warning(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Warning,
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{level}: [{}] {}", self.path, self.message)
    }
}

/// Errors of the synth crate.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The tree has problems; every one is listed.
    #[error("synthesis found {} error(s):\n{}", count_errors(.0), render(.0))]
    Invalid(Vec<Problem>),
    /// Reading or writing the cloud assembly failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The output path holds something other than a cloud assembly, which synth never replaces.
    #[error("{} {reason}: pantri synth replaces only a cloud assembly (a directory with its manifest.json); choose another output directory, or move it away yourself", path.display())]
    NotAnAssembly {
        /// The output path.
        path: PathBuf,
        /// What is there instead.
        reason: &'static str,
    },
    /// A file of the assembly could not be parsed.
    #[error("{}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

fn count_errors(problems: &[Problem]) -> usize {
    problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count()
}

fn render(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The result type of the synth crate.
pub type Result<T, E = SynthError> = std::result::Result<T, E>;
