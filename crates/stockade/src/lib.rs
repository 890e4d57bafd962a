//! stockade: run untrusted commands — above all the shell commands that AI
//! coding agents generate — under one portable policy enforced by the
//! operating system.
//!
//! The flow is the same for the CLI, the MCP server and library users:
//!
//! 1. [`PolicyRequest`] says which policy file, profile and overrides to use;
//!    [`load`] finds and resolves them into a [`stockade_policy::ResolvedPolicy`].
//! 2. [`plan`] asks this platform's backend how it would enforce each rule
//!    ([`EnforcementPlan`], plain data that `explain` prints).
//! 3. [`run`] applies the plan and runs the command, or refuses (exit 125)
//!    when a rule cannot be enforced exactly and the user did not waive
//!    exactly that protection (`RunRequest::allow_weaker`).
//!
//! # Platform specific behavior
//!
//! Linux has a backend; elsewhere every plan is blocked and nothing runs.
//! On Linux, [`run`] must be called from a single-threaded process (the
//! sandbox's processes are forks of it). The async API ([`Sandbox`],
//! [`Sessions`]) works from any tokio program: it starts each sandbox
//! through a launch helper, this same program started again, whose `main`
//! must call [`helper_if_requested`] first thing.
//!
//! [`check`] reports what the machine offers.

mod backend;
mod check;
mod context;
mod egress;
mod error;
#[cfg(target_os = "linux")]
mod launch;
mod load;
mod plan;
mod run;
#[cfg(target_os = "linux")]
mod sandbox;
#[cfg(target_os = "linux")]
mod sessions;
#[cfg(unix)]
mod sys;

pub use check::{CheckReport, Fact, FactStatus, Hint, Need, ProfileVerdict, check};
pub use context::process_context;
pub use error::{EXIT_SETUP_FAILURE, Error, ReportedError};
pub use load::{Loaded, PolicyRequest, load, load_with};
pub use plan::{Blocker, Details, EnforcementPlan, PlanItem, Requirement, plan};
pub use run::{Denial, RunRecord, RunRequest, run};
#[cfg(target_os = "linux")]
pub use sandbox::{
    Capture, Captured, Child, Command, Master, Narrowing, Output, Sandbox, WindowSize,
};
#[cfg(target_os = "linux")]
pub use sessions::{
    DEFAULT_SESSION_BUFFER, MAX_WRITE, ReadResult, SessionInfo, SessionRequest, Sessions, Started,
};
pub use stockade_policy as policy;

/// Sessions kept at once unless configured otherwise (the server's
/// `--max-sessions`; the same on every platform so the CLI reads alike).
pub const DEFAULT_MAX_SESSIONS: usize = 64;

/// Call first thing in `main` of a binary that runs sandboxes: a backend
/// may start the binary itself inside the sandbox as a helper (the Linux
/// bwrap backend does), and this is where it takes over. Returns at once
/// in any other case.
pub fn helper_if_requested() {
    #[cfg(target_os = "linux")]
    launch::launch_if_requested();
    backend::helper_if_requested()
}
