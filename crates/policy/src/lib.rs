//! stockade's policy model.
//!
//! This crate is pure: it parses policy files ([`PolicyFile`], what the user
//! wrote, with source locations), resolves them against a [`ResolveContext`]
//! into a [`ResolvedPolicy`] (absolute canonical paths, compiled globs,
//! defaults applied) and answers questions about the result ("what access does
//! this path get, and which rule decided it?"). It has no `unsafe`, no
//! platform-specific code and no knowledge of how a rule is enforced; the
//! backends only ever see a [`ResolvedPolicy`].
#![forbid(unsafe_code)]

pub mod domain;
pub mod env;
pub mod net_range;
pub mod ssh_config;

mod access;
mod error;
mod file;
mod source;

pub use access::Access;
pub use error::PolicyError;
pub use file::{PolicyFile, RawEnv, RawLimits, RawNetwork, RawPolicy, RawProfile, RawProtect};
pub use source::{Location, Origin, Source, SourceText};
