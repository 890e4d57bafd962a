//! stockade's Linux backend. One module per mechanism:
//!
//! * `backend` — the plan for a resolved policy (mount tree, Landlock
//!   rules, seccomp filter, network namespace, blockers) and running it;
//! * `mounts` — the mount tree as data (`plan`) and its construction
//!   inside the sandbox (`apply`); `placeholders` — host mount points for
//!   paths that do not exist;
//! * `landlock`, `seccomp` — the two kernel filters, as data plus apply;
//! * `landlock_only` — the mode for machines without user namespaces;
//! * `spawn` — namespaces, the sandbox's init, the command's process;
//! * `supervisor` — the init's answers to the calls seccomp holds for it
//!   (`connect`: host unix sockets);
//! * `probe`, `requirements` — what the kernel offers, for `stockade check`.
#![cfg(target_os = "linux")]

pub mod backend;
pub mod bwrap;
pub mod cgroup;
pub mod egress;
pub mod landlock;
pub mod landlock_only;
pub mod mounts;
pub mod placeholders;
pub mod probe;
pub mod requirements;
pub mod seccomp;
pub mod spawn;
pub mod supervisor;
mod sys;
pub mod why;

/// For unit tests that need a kernel feature: prints why the test skips,
/// or panics when `STOCKADE_TEST_MUST_ENFORCE=1` makes the feature required.
#[cfg(test)]
pub(crate) fn skip_test(reason: &str) {
    if std::env::var("STOCKADE_TEST_MUST_ENFORCE").as_deref() == Ok("1") {
        panic!("required (STOCKADE_TEST_MUST_ENFORCE=1): {reason}");
    }
    eprintln!("skipped: {reason}");
}
