//! The one place where the platform's backend is chosen. Everything above
//! this module is platform-independent.

use crate::check::CheckReport;
use crate::plan::EnforcementPlan;
use stockade_policy::ResolvedPolicy;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
use linux as current;

#[cfg(not(target_os = "linux"))]
mod unsupported;
#[cfg(not(target_os = "linux"))]
use unsupported as current;

/// The enforcement plan of this platform's backend.
pub(crate) fn plan(policy: &ResolvedPolicy, allow_weaker: &[String]) -> EnforcementPlan {
    current::plan(policy, allow_weaker)
}

/// Plans once, refuses if anything is still blocked, and runs the command
/// with this platform's backend; returns how it ended and what was applied.
pub(crate) fn run(
    loaded: &crate::Loaded,
    request: &crate::RunRequest,
    env: Vec<(String, String)>,
) -> Result<(crate::run::Ended, EnforcementPlan), crate::Error> {
    current::run(loaded, request, env)
}

/// What this machine offers, from this platform's backend, with a verdict
/// for each given profile.
pub(crate) fn check(profiles: &[(String, Result<ResolvedPolicy, String>)]) -> CheckReport {
    current::check(profiles)
}

/// Becomes a backend helper process (and never returns) when this process
/// was started as one; otherwise returns at once. Binaries that run
/// sandboxes call it first thing in `main` (see [`crate::helper_if_requested`]).
pub(crate) fn helper_if_requested() {
    current::helper_if_requested()
}
