//! The library's error type. Every error maps to exit status 125 ("the
//! sandbox could not be set up or the policy cannot be enforced here") and
//! carries a hint.

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
        }
    }

    /// The exit status the CLI uses for this error.
    pub fn exit_code(&self) -> i32 {
        EXIT_SETUP_FAILURE
    }
}
