//! Errors of parsing and resolving policies. Every error names where the
//! problem is (file, line and column, or the flag) and carries a hint that
//! says how to fix it.

use crate::access::Access;
use crate::source::{Location, Origin};
use std::path::PathBuf;

/// An error in a policy or in the options layered on it.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The policy file could not be read.
    #[error("failed to read policy file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid TOML or does not have the policy's shape.
    #[error("{location}: {message}")]
    Invalid {
        /// Where.
        location: Location,
        /// What is wrong.
        message: String,
        /// How to fix it.
        hint: String,
    },
    /// A command-line option (or API argument) is invalid.
    #[error("invalid {flag} '{value}': {message}")]
    InvalidFlag {
        /// The flag.
        flag: String,
        /// Its value.
        value: String,
        /// What is wrong.
        message: String,
        /// How to fix it.
        hint: String,
    },
    /// A profile name that no file or built-in defines.
    #[error("{}unknown profile '{name}'", location.as_ref().map(|l| format!("{l}: ")).unwrap_or_default())]
    UnknownProfile {
        /// The name asked for.
        name: String,
        /// Where it was asked for (none for `--profile`).
        location: Option<Location>,
        /// The profiles that exist.
        known: Vec<String>,
    },
    /// `extends` loops back on itself.
    #[error("{location}: profile '{profile}' extends itself: {}", chain.join(" -> "))]
    ExtendsCycle {
        /// The profile where the loop was found.
        profile: String,
        /// The `extends` that closes the loop.
        location: Location,
        /// The loop, first to last.
        chain: Vec<String>,
    },
    /// Two rules of one layer name the same path with different access.
    #[error(
        "conflicting rules for {}: {first} gives '{first_access}' but {second} gives '{second_access}'",
        path.display()
    )]
    Conflict {
        /// The resolved path both rules name.
        path: PathBuf,
        /// The first rule.
        first: Box<Origin>,
        /// Its access.
        first_access: Access,
        /// The second rule.
        second: Box<Origin>,
        /// Its access.
        second_access: Access,
    },
    /// Something the resolution needs from the machine is missing.
    #[error("failed to resolve {what}: {message}")]
    Context {
        /// What was being resolved.
        what: String,
        /// Why it failed.
        message: String,
        /// How to fix it.
        hint: String,
    },
}

impl PolicyError {
    /// A hint that says how to fix the error.
    pub fn hint(&self) -> String {
        match self {
            PolicyError::Read { path, .. } => format!(
                "check that {} exists and is readable, or pass another file with --config",
                path.display()
            ),
            PolicyError::Invalid { hint, .. }
            | PolicyError::InvalidFlag { hint, .. }
            | PolicyError::Context { hint, .. } => hint.clone(),
            PolicyError::UnknownProfile { known, .. } => {
                format!("use one of: {}", known.join(", "))
            }
            PolicyError::ExtendsCycle { .. } => {
                "make one profile of the loop extend a built-in profile (read-only, workspace, full) instead"
                    .to_string()
            }
            PolicyError::Conflict { .. } => {
                "keep one of the two rules; to carve out a subtree, name a deeper path".to_string()
            }
        }
    }

    /// Shorthand for [`PolicyError::Invalid`].
    pub(crate) fn invalid(
        location: Location,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        PolicyError::Invalid {
            location,
            message: message.into(),
            hint: hint.into(),
        }
    }
}
