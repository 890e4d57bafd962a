//! `stockade check`: what this machine offers, and for each built-in profile
//! whether it can be enforced here, with a hint for every missing piece.

use crate::context::{PLATFORM, process_context};
use crate::plan::Blocker;
use serde::Serialize;
use stockade_policy::{BUILTIN_PROFILES, Overrides, Platform, resolve};

/// The state of one fact about the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FactStatus {
    /// Present and usable.
    Ok,
    /// Absent or unusable.
    Missing,
    /// Present but restricted by configuration.
    Restricted,
    /// For information only.
    Info,
}

/// One fact about the machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fact {
    /// The mechanism it concerns.
    pub mechanism: String,
    /// Its state.
    pub status: FactStatus,
    /// What was found.
    pub detail: String,
}

/// How to fix a missing or restricted mechanism.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Hint {
    /// The mechanism.
    pub mechanism: String,
    /// What is wrong.
    pub problem: String,
    /// The fix.
    pub fix: String,
}

/// A mechanism a profile needs, and whether the machine has it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Need {
    /// The mechanism.
    pub mechanism: String,
    /// Why the profile needs it.
    pub why: String,
    /// Whether the machine has it.
    pub available: bool,
}

/// Whether one profile can be enforced here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProfileVerdict {
    /// The profile.
    pub profile: String,
    /// Whether `stockade run` would run it.
    pub enforceable: bool,
    /// What it needs.
    pub needs: Vec<Need>,
    /// What stops it, each with a hint.
    pub blockers: Vec<Blocker>,
}

impl ProfileVerdict {
    /// A verdict from the profile's needs and plan blockers; every unmet
    /// need becomes a blocker with the machine's hint for that mechanism.
    pub(crate) fn new(
        profile: &str,
        needs: Vec<Need>,
        mut blockers: Vec<Blocker>,
        hints: &[Hint],
    ) -> Self {
        let mut seen = Vec::new();
        for need in needs.iter().filter(|n| !n.available) {
            if seen.contains(&need.mechanism) {
                continue;
            }
            seen.push(need.mechanism.clone());
            let fixes: Vec<&str> = hints
                .iter()
                .filter(|h| h.mechanism == need.mechanism)
                .map(|h| h.fix.as_str())
                .collect();
            blockers.push(Blocker {
                rule: need.mechanism.clone(),
                reason: format!("{} is not available, and {}", need.mechanism, need.why),
                hint: if fixes.is_empty() {
                    "run 'stockade check' on the target machine".into()
                } else {
                    fixes.join("; or ")
                },
                weaker: None,
            });
        }
        ProfileVerdict {
            profile: profile.into(),
            enforceable: blockers.is_empty(),
            needs,
            blockers,
        }
    }

    pub(crate) fn unresolvable(profile: &str, error: &str) -> Self {
        ProfileVerdict {
            profile: profile.into(),
            enforceable: false,
            needs: Vec::new(),
            blockers: vec![Blocker {
                rule: "*".into(),
                reason: format!("the profile does not resolve here: {error}"),
                hint: "run 'stockade explain --profile NAME' for the details".into(),
                weaker: None,
            }],
        }
    }
}

/// Everything `check` reports.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// The platform.
    pub platform: Platform,
    /// Facts about the machine, mechanism by mechanism.
    pub facts: Vec<Fact>,
    /// How to fix each missing piece.
    pub hints: Vec<Hint>,
    /// The raw probe results.
    pub machine: serde_json::Value,
    /// Built-in profiles, one verdict each.
    pub profiles: Vec<ProfileVerdict>,
}

/// Probes the machine and judges every built-in profile against it.
pub fn check() -> CheckReport {
    let ctx = process_context(None);
    let profiles: Vec<(String, Result<_, String>)> = BUILTIN_PROFILES
        .iter()
        .map(|name| {
            let policy = match &ctx {
                Ok(ctx) => {
                    resolve(None, Some(name), &Overrides::default(), ctx).map_err(|e| e.to_string())
                }
                Err(e) => Err(e.to_string()),
            };
            (name.to_string(), policy)
        })
        .collect();
    let report = crate::backend::check(&profiles);
    debug_assert_eq!(report.platform, PLATFORM);
    report
}
