//! Platforms without a backend: every plan is blocked, so nothing runs.

use crate::check::{CheckReport, Fact, FactStatus, ProfileVerdict};
use crate::context::PLATFORM;
use crate::plan::EnforcementPlan;
use stockade_policy::ResolvedPolicy;

pub(crate) fn plan(_policy: &ResolvedPolicy) -> EnforcementPlan {
    EnforcementPlan {
        platform: PLATFORM,
        backend: None,
        items: Vec::new(),
        blockers: vec![super::no_backend_yet()],
    }
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
                Ok(policy) => ProfileVerdict::new(name, Vec::new(), plan(policy).blockers, &[]),
                Err(e) => ProfileVerdict::unresolvable(name, e),
            })
            .collect(),
    }
}
