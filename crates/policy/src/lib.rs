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
mod denial;
mod error;
mod file;
mod source;

pub use access::Access;
pub use denial::Denial;
pub use error::PolicyError;
pub use file::{PolicyFile, RawEnv, RawLimits, RawNetwork, RawPolicy, RawProfile, RawProtect};
pub use source::{Location, Origin, Source, SourceText};

mod builtin;
mod canonical;
mod context;
mod derive;
mod discover;
mod fasthash;
mod git;
mod layer;
mod limits;
mod narrow;
mod paths;
mod resolve;
mod resolved;
mod sections;
mod special;

pub use builtin::{BUILTIN_PROFILES, BUILTIN_TOML, DEFAULT_PROFILE};
pub use canonical::{Ancestors, ancestors, cmp_paths, parent};
pub use context::{Platform, ResolveContext};
pub use discover::{POLICY_FILE_NAME, PolicyLocation, discover, user_config_path};
pub use fasthash::{PathMap, PathSet};
pub use limits::{parse_duration, parse_size};
pub use paths::{Canonical, canonicalize};
pub use resolve::{DEFAULT_MAX_OUTPUT, Overrides, resolve};
pub use resolved::{
    DecidedBy, Decision, FsRule, GitMode, GlobRule, Limits, NetworkMode, NetworkPolicy, Note,
    ProtectPolicy, ResolvedPolicy, RuleKind, compile_glob,
};
pub use sections::DEFAULT_PROTECTED_NAMES;
pub use special::SPECIAL_ROOTS;
