//! stockade's Linux backend.
//!
//! `probe` reports what the running kernel offers (the data behind
//! `stockade check`); `requirements` says what a policy needs from it.
#![cfg(target_os = "linux")]

pub mod backend;
pub mod landlock;
pub mod landlock_only;
pub mod mounts;
pub mod placeholders;
pub mod probe;
pub mod requirements;
pub mod seccomp;
pub mod spawn;
mod sys;
