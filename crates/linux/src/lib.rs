//! stockade's Linux backend.
//!
//! `probe` reports what the running kernel offers (the data behind
//! `stockade check`).
#![cfg(target_os = "linux")]

pub mod probe;
