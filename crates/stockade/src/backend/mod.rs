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

/// Runs a command with this platform's backend (the plan has no blockers).
pub(crate) fn run(
    loaded: &crate::Loaded,
    plan: &EnforcementPlan,
    request: &crate::RunRequest,
    env: Vec<(String, String)>,
) -> Result<crate::run::Ended, crate::Error> {
    current::run(loaded, plan, request, env)
}

/// What this machine offers, from this platform's backend.
pub(crate) fn check(profiles: &[(String, Result<ResolvedPolicy, String>)]) -> CheckReport {
    current::check(profiles)
}
