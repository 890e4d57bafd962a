//! The Linux backend, as seen from the platform-independent layers.

use crate::check::{CheckReport, Fact, FactStatus, Hint, Need, ProfileVerdict};
use crate::context::PLATFORM;
use crate::plan::EnforcementPlan;
use stockade_linux::probe::{LandlockSupport, MachineReport, probe_machine};
use stockade_linux::requirements::{Mechanism, needs};
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
    let machine = probe_machine();
    let hints: Vec<Hint> = machine
        .hints()
        .into_iter()
        .map(|h| Hint {
            mechanism: h.mechanism.into(),
            problem: h.problem,
            fix: h.fix,
        })
        .collect();
    let profiles = profiles
        .iter()
        .map(|(name, policy)| match policy {
            Ok(policy) => {
                let needs: Vec<Need> = needs(policy, &machine)
                    .into_iter()
                    .map(|n| Need {
                        mechanism: mechanism_name(n.mechanism).into(),
                        why: n.why,
                        available: n.available,
                    })
                    .collect();
                ProfileVerdict::new(name, needs, plan(policy).blockers, &hints)
            }
            Err(e) => ProfileVerdict::unresolvable(name, e),
        })
        .collect();
    CheckReport {
        platform: PLATFORM,
        facts: facts(&machine),
        hints,
        machine: serde_json::to_value(&machine).unwrap_or(serde_json::Value::Null),
        profiles,
    }
}

fn mechanism_name(m: Mechanism) -> &'static str {
    match m {
        Mechanism::UserNamespaces => "user_namespaces",
        Mechanism::Landlock => "landlock",
        Mechanism::Seccomp => "seccomp",
    }
}

fn status(ok: bool) -> FactStatus {
    if ok {
        FactStatus::Ok
    } else {
        FactStatus::Missing
    }
}

fn facts(m: &MachineReport) -> Vec<Fact> {
    let mut facts = vec![Fact {
        mechanism: "kernel".into(),
        status: FactStatus::Info,
        detail: m.kernel.clone(),
    }];
    facts.push(Fact {
        mechanism: "landlock".into(),
        status: status(m.landlock.support == LandlockSupport::Available),
        detail: match m.landlock.abi {
            Some(abi) => format!("ABI {abi}: {}", m.landlock.features.join(", ")),
            None => m.landlock.detail.clone(),
        },
    });
    facts.push(Fact {
        mechanism: "seccomp".into(),
        status: status(m.seccomp.available),
        detail: m.seccomp.detail.clone(),
    });
    let userns = &m.user_namespaces;
    facts.push(Fact {
        mechanism: "user_namespaces".into(),
        status: status(userns.works),
        detail: match &userns.error {
            None => "unprivileged user namespaces work".into(),
            Some(e) => format!("unprivileged user namespaces fail: {e}"),
        },
    });
    for sysctl in &userns.sysctls {
        let value = sysctl.value.as_deref().unwrap_or("absent");
        let status = if sysctl.restricts {
            FactStatus::Restricted
        } else {
            FactStatus::Info
        };
        facts.push(Fact {
            mechanism: "user_namespaces".into(),
            status,
            detail: format!("{} = {value}", sysctl.name),
        });
    }
    facts.push(match &m.bwrap {
        Some(b) => Fact {
            mechanism: "bwrap".into(),
            status: if b.usable {
                FactStatus::Ok
            } else {
                FactStatus::Missing
            },
            detail: format!(
                "{} ({}): {}",
                b.path,
                b.version.as_deref().unwrap_or("unknown version"),
                b.detail
            ),
        },
        None => Fact {
            mechanism: "bwrap".into(),
            status: FactStatus::Info,
            detail: "no bwrap on PATH (optional)".into(),
        },
    });
    facts.push(Fact {
        mechanism: "cgroup".into(),
        status: if m.cgroup.delegated {
            FactStatus::Ok
        } else {
            FactStatus::Info
        },
        detail: m.cgroup.detail.clone(),
    });
    facts
}
