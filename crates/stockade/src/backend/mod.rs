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
pub(crate) fn plan(policy: &ResolvedPolicy) -> EnforcementPlan {
    current::plan(policy)
}

/// What this machine offers, from this platform's backend.
pub(crate) fn check(profiles: &[(String, Result<ResolvedPolicy, String>)]) -> CheckReport {
    current::check(profiles)
}

/// The blocker every plan carries while a platform has no backend.
pub(crate) fn no_backend_yet() -> crate::plan::Blocker {
    crate::plan::Blocker {
        rule: "*".into(),
        reason: "no backend on this platform yet: stockade cannot enforce any rule here, so it runs nothing".into(),
        hint: "run 'stockade explain' to see the resolved policy; commands cannot be run on this platform \
               with this version of stockade"
            .into(),
    }
}
