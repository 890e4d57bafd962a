//! The public escape suite: `stockade run -- stockade-probe ...` tries the
//! attacks of `ESCAPES.md` from inside a real sandbox and reports errnos.
//!
//! Every test performs a forbidden operation and, next to it, an allowed
//! one, so that a sandbox that refuses everything does not pass; most also
//! compare the fixture tree on the host before and after the run. Tests
//! marked `#[ignore = "escape: ..."]` are escapes that currently succeed,
//! and `#[ignore = "known gap: ..."]` protections (resource limits,
//! inherited descriptors) that are not there yet: both fail until the
//! sandbox is fixed (`cargo test -p stockade-cli --test escapes --
//! --ignored` shows them).
//!
//! Classes: 1-4 in `filesystem`, 5, 6, 8 in `protected`, 7, 9 in `denied`,
//! 10-12, 14, 15 in `kernel`, 13, 16-18 in `processes`, 19, 20 and 22
//! with network `off` in `network`, 19-22 with network `proxy` in
//! `proxy` and `proxy_tools`, 24 and exit statuses in `status`.
//!
//! Needs the probe binary (`cargo build -p stockade-probe`). Without a
//! kernel that can run the `workspace` profile every test prints
//! "skipped: REASON", unless `STOCKADE_TEST_MUST_ENFORCE=1`.

#[path = "escapes/common.rs"]
mod common;
#[path = "escapes/denied.rs"]
mod denied;
#[path = "escapes/filesystem.rs"]
mod filesystem;
#[path = "escapes/kernel.rs"]
mod kernel;
#[path = "escapes/landlock_only.rs"]
mod landlock_only;
#[path = "escapes/network.rs"]
mod network;
#[path = "escapes/processes.rs"]
mod processes;
#[path = "escapes/protected.rs"]
mod protected;
#[path = "escapes/proxy.rs"]
mod proxy;
#[path = "escapes/proxy_tools.rs"]
mod proxy_tools;
#[path = "escapes/proxy_world.rs"]
mod proxy_world;
#[path = "escapes/status.rs"]
mod status;
