//! Platforms without a backend: every plan is blocked, so nothing runs.

use crate::check::{CheckReport, Fact, FactStatus, ProfileVerdict};
use crate::context::PLATFORM;
use crate::plan::EnforcementPlan;
use stockade_policy::ResolvedPolicy;

pub(crate) fn plan(_policy: &ResolvedPolicy, _allow_weaker: &[String]) -> EnforcementPlan {
    EnforcementPlan {
        platform: PLATFORM,
        backend: None,
        items: Vec::new(),
        blockers: vec![no_backend_yet()],
        waived: Vec::new(),
        details: crate::plan::Details::none(),
    }
}

pub(crate) fn run(
    loaded: &crate::Loaded,
    request: &crate::RunRequest,
    _env: Vec<(String, String)>,
) -> Result<(crate::run::Ended, EnforcementPlan), crate::Error> {
    crate::run::refuse_blocked(&plan(&loaded.policy, &request.allow_weaker))?;
    unreachable!("a platform without a backend always has a blocker")
}

pub(crate) fn check(profiles: &[(String, Result<ResolvedPolicy, String>)]) -> CheckReport {
    CheckReport {
        platform: PLATFORM,
        facts: vec![Fact {
            mechanism: "backend".into(),
            status: FactStatus::Missing,
            detail: "no backend on this platform yet".into(),
        }],
        hints: Vec::new(),
        machine: serde_json::Value::Null,
        profiles: profiles
            .iter()
            .map(|(name, policy)| match policy {
                Ok(policy) => {
                    ProfileVerdict::new(name, Vec::new(), plan(policy, &[]).blockers, &[])
                }
                Err(e) => ProfileVerdict::unresolvable(name, e),
            })
            .collect(),
    }
}

/// The blocker every plan carries while a platform has no backend.
fn no_backend_yet() -> crate::plan::Blocker {
    crate::plan::Blocker {
        rule: "*".into(),
        reason: "no backend on this platform yet: stockade cannot enforce any rule here, so it runs nothing".into(),
        hint: "run 'stockade explain' to see the resolved policy; commands cannot be run on this platform \
               with this version of stockade"
            .into(),
        weaker: None,
    }
}

/// No backend helpers on this platform.
pub(crate) fn helper_if_requested() {}
