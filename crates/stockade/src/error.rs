//! The library's error type. Every error maps to exit status 125 ("the
//! sandbox could not be set up or the policy cannot be enforced here") and
//! carries a hint.

use serde::{Deserialize, Serialize};
use stockade_policy::PolicyError;

/// Exit status for "could not set up the sandbox / cannot enforce".
pub const EXIT_SETUP_FAILURE: i32 = 125;

/// An error of stockade.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The policy is invalid.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// A rule cannot be enforced exactly on this machine.
    #[error("cannot enforce {rule}: {reason}")]
    Unenforceable {
        /// The rule (or section) that cannot be enforced.
        rule: String,
        /// Why.
        reason: String,
        /// How to fix it.
        hint: String,
    },
    /// The command was not found (exit 127).
    #[error("command not found: {command}")]
    CommandNotFound {
        /// The command as given.
        command: String,
        /// The `PATH` it was searched in.
        path: String,
    },
    /// The command exists but cannot be executed (exit 126).
    #[error("cannot execute {command}: {source}")]
    NotExecutable {
        /// The command as given.
        command: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An error the launch helper met and reported (the async API).
    #[error("{}", .0.message)]
    Reported(ReportedError),
    /// Something about the invocation itself.
    #[error("failed to {action}: {source}")]
    Io {
        /// What was being done.
        action: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// How to fix the error.
    pub fn hint(&self) -> String {
        match self {
            Error::Policy(e) => e.hint(),
            Error::Unenforceable { hint, .. } => hint.clone(),
            Error::Io { .. } => "check the path and permissions named above".into(),
            Error::Reported(e) => e.hint.clone(),
            Error::CommandNotFound { path, .. } => format!(
                "searched PATH={path} inside the sandbox; give the full path, or make its directory readable"
            ),
            Error::NotExecutable { .. } => {
                "check the file's execute permission and its interpreter".into()
            }
        }
    }

    /// The exit status the CLI uses for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::CommandNotFound { .. } => 127,
            Error::NotExecutable { .. } => 126,
            Error::Reported(e) => e.exit_code,
            _ => EXIT_SETUP_FAILURE,
        }
    }
}

/// An error the launch helper met, carried to the launcher (the async
/// library), or one the library reports in the same shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedError {
    /// What went wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
    /// The exit status it maps to (125, 126 or 127).
    pub exit_code: i32,
}

impl From<&Error> for ReportedError {
    fn from(e: &Error) -> Self {
        ReportedError {
            message: e.to_string(),
            hint: e.hint(),
            exit_code: e.exit_code(),
        }
    }
}
