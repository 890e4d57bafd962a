//! The enforcement plan: for each rule of a resolved policy, which mechanism
//! of this platform enforces it — or why none can. Plain data, shared by
//! `explain`, `run` and the tests.

use serde::{Deserialize, Serialize};
use stockade_policy::{Platform, ResolvedPolicy};

/// How strictly a rule must be enforced. Everything is `Hard` unless the
/// user opted into less with `--allow-weaker`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// Enforced exactly, or the run is refused.
    Hard,
    /// Enforced as far as the machine allows (explicit opt-in only).
    BestEffort,
}

/// One rule and the mechanism that enforces it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanItem {
    /// The rule, as `explain` names it (`write /ws`, `network off`).
    pub rule: String,
    /// The mechanism (`mount namespace: bind read-only`, `landlock`, ...).
    pub mechanism: String,
    /// How strictly.
    pub requirement: Requirement,
}

/// A rule that cannot be enforced here, and how to fix that.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocker {
    /// The rule (or `*` for the whole policy).
    pub rule: String,
    /// Why it cannot be enforced.
    pub reason: String,
    /// What to do about it.
    pub hint: String,
    /// The `--allow-weaker` name that accepts running without it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weaker: Option<String>,
}

/// How this platform would enforce a policy.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EnforcementPlan {
    /// The platform.
    pub platform: Platform,
    /// The backend that would run the command, if there is one.
    pub backend: Option<String>,
    /// Rule by rule.
    pub items: Vec<PlanItem>,
    /// What stops the run; empty when it can run.
    pub blockers: Vec<Blocker>,
    /// Blockers the user waived with `--allow-weaker`: the run is weaker
    /// than the policy by exactly these.
    pub waived: Vec<Blocker>,
    /// The backend's own plan (mounts, Landlock rules, seccomp filter),
    /// serialised only when the plan is (`explain --json`, `run --json`).
    pub details: Details,
}

/// A backend's own plan, turned into JSON only when asked for: building it
/// costs time on every run's start-up path, which is benchmarked.
#[derive(Clone)]
pub struct Details(std::sync::Arc<dyn Fn() -> serde_json::Value + Send + Sync>);

impl Details {
    /// Details produced by `f` when serialised.
    pub fn new(f: impl Fn() -> serde_json::Value + Send + Sync + 'static) -> Details {
        Details(std::sync::Arc::new(f))
    }

    /// No details.
    pub fn none() -> Details {
        Details::new(|| serde_json::Value::Null)
    }

    /// The details as JSON.
    pub fn value(&self) -> serde_json::Value {
        (self.0)()
    }
}

impl Serialize for Details {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Details {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Ok(Details::new(move || value.clone()))
    }
}

impl std::fmt::Debug for Details {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Details(..)")
    }
}

impl EnforcementPlan {
    /// Whether every rule is enforceable, so the command may run.
    pub fn ready(&self) -> bool {
        self.backend.is_some() && self.blockers.is_empty()
    }
}

/// Plans the enforcement of `policy` on this platform; `allow_weaker` names
/// the blockers the user accepts.
pub fn plan(policy: &ResolvedPolicy, allow_weaker: &[String]) -> EnforcementPlan {
    crate::backend::plan(policy, allow_weaker)
}
