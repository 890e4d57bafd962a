//! stockade's Linux backend.
//!
//! `probe` reports what the running kernel offers (the data behind
//! `stockade check`); `requirements` says what a policy needs from it.
#![cfg(target_os = "linux")]

pub mod probe;
pub mod requirements;
