//! The Linux backend, as seen from the platform-independent layers.

use crate::check::{CheckReport, Fact, FactStatus, Hint, Need, ProfileVerdict};
use crate::context::PLATFORM;
use crate::plan::{Blocker, Details, EnforcementPlan, PlanItem, Requirement};
use std::sync::Arc;
use stockade_linux::backend;
use stockade_linux::mounts::MountOp;
use stockade_linux::probe::{LandlockSupport, MachineReport, probe_machine};
use stockade_linux::requirements::{Mechanism, needs};
use stockade_linux::seccomp::SocketPolicy;
use stockade_linux::spawn::{Outcome, SpawnError};
use stockade_policy::ResolvedPolicy;

pub(crate) fn plan(policy: &ResolvedPolicy, allow_weaker: &[String]) -> EnforcementPlan {
    enforcement(&Arc::new(backend::plan(policy)), allow_weaker)
}

/// The generic view of a Linux plan, with the user's waivers applied.
fn enforcement(linux: &Arc<backend::LinuxPlan>, allow_weaker: &[String]) -> EnforcementPlan {
    let hint = |b: &stockade_linux::mounts::Blocker| {
        match b.weaker {
        "landlock" | "seccomp" => {
            "run 'stockade check' for what this machine lacks and how to fix it".to_string()
        }
        "created-later" => {
            "create the path before the run, or make its parent read-only".to_string()
        }
        "deny-globs" => {
            "write the glob as DIR/**/NAME or DIR/NAME (wildcards in the last name only), or name the paths one by one"
                .to_string()
        }
        "network-proxy" => {
            "enable unprivileged user namespaces (see 'stockade check'), or use --network off or full; \
             waived, the command has no network"
                .to_string()
        }
        "landlock-only" => {
            "enable unprivileged user namespaces (see 'stockade check': a sysctl, or the \
                            AppArmor profile in contrib/apparmor/stockade)"
                .to_string()
        }
        _ => "run 'stockade explain' for the plan".to_string(),
    }
    };
    let mut blockers = Vec::new();
    let mut waived = Vec::new();
    for b in &linux.blockers {
        let blocker = Blocker {
            rule: b.rule.clone(),
            reason: b.reason.clone(),
            hint: hint(b),
            weaker: Some(b.weaker.into()),
        };
        if allow_weaker.iter().any(|w| w == b.weaker) {
            waived.push(blocker)
        } else {
            blockers.push(blocker)
        }
    }
    EnforcementPlan {
        platform: PLATFORM,
        backend: Some("linux-namespaces".into()),
        items: items(linux),
        blockers,
        waived,
        details: {
            let linux = Arc::clone(linux);
            Details::new(move || serde_json::to_value(&*linux).unwrap_or(serde_json::Value::Null))
        },
    }
}

/// The plan rule by rule, for `explain`.
fn items(linux: &backend::LinuxPlan) -> Vec<PlanItem> {
    let hard = |rule: String, mechanism: String| PlanItem {
        rule,
        mechanism,
        requirement: Requirement::Hard,
    };
    let mut items = Vec::new();
    if let backend::Mode::Bwrap { bwrap, reason } = &linux.mode {
        items.push(hard(
            "isolation".into(),
            format!(
                "{} builds the namespaces and the mount tree ({reason}); stockade's helper applies the rest inside",
                bwrap.display()
            ),
        ));
        for difference in stockade_linux::bwrap::args::differences(&linux.mounts) {
            items.push(hard("isolation (bwrap)".into(), difference.into()));
        }
    }
    if let backend::Mode::LandlockOnly { reason } = &linux.mode {
        items.push(hard(
            "isolation".into(),
            format!("Landlock-only mode (no namespaces: {reason}); see the blockers for what it cannot hold"),
        ));
    }
    for op in &linux.mounts.ops {
        items.push(match op {
            MountOp::RootBind { writable } => hard(format!("{} /", if *writable { "write" } else { "read" }), "mount namespace: the host tree, recursively".into()),
            MountOp::RootTmpfs => hard("none /".into(), "mount namespace: an empty root".into()),
            MountOp::Bind { path, writable, .. } => hard(format!("{} {}", if *writable { "write" } else { "read" }, path.display()), format!("mount namespace: {} bind", if *writable { "writable" } else { "read-only" })),
            MountOp::Hide { path, .. } => hard(format!("none {}", path.display()), "mount namespace: hidden by an inaccessible overmount".into()),
            MountOp::Shadow { path, entries, mount_points, .. } => hard(format!("snapshot {}", path.display()), format!("mount namespace: {} existing entries bound read-only ({} covered by later rules); nothing created later appears", entries.len(), mount_points.len())),
            MountOp::Tmpfs { path, .. } => hard(format!("write {}", path.display()), "mount namespace: a fresh private tmpfs".into()),
            MountOp::Proc => hard("/proc".into(), "a new procfs for the sandbox's pid namespace".into()),
            MountOp::Dev => hard("/dev".into(), "a minimal /dev with a private devpts".into()),
            MountOp::Sys => hard("/sys".into(), "a read-only sysfs of the sandbox's network namespace".into()),
        });
    }
    for p in &linux.mounts.placeholders {
        items.push(hard(
            format!("protect {}", p.path.display()),
            "a placeholder on the host for the run, covered read-only, removed afterwards".into(),
        ));
    }
    items.push(hard(
        format!("filesystem rules ({} paths)", linux.landlock.rules.len()),
        format!(
            "landlock ABI {}: enforced again by the kernel (defense in depth)",
            linux.landlock.abi
        ),
    ));
    let namespaces = !matches!(linux.mode, backend::Mode::LandlockOnly { .. });
    let (network, how) = match (linux.network_namespace, linux.seccomp.sockets) {
        (true, _) if linux.egress => (
            "network proxy",
            "an empty network namespace whose loopback holds only stockade's egress proxy \
             (HTTP 127.0.0.1:3128, SOCKS5 127.0.0.1:1080), which judges every destination by the \
             allow, deny and range entries above; seccomp refuses other socket families",
        ),
        (true, _) => (
            "network off",
            "an empty network namespace, and seccomp refuses other socket families",
        ),
        (false, SocketPolicy::Any) => ("network full", "the host's network"),
        (false, _) => (
            "network off",
            "seccomp refuses every socket family but AF_UNIX",
        ),
    };
    items.push(hard(network.into(), how.into()));
    if let Some(tcp) = &linux.landlock.tcp {
        items.push(hard(
            "allow_local_binding = false".into(),
            format!(
                "landlock ABI {}: no TCP port can be bound, and only ports {:?} (the proxy) connected to",
                linux.landlock.abi, tcp.connect_ports
            ),
        ));
    }
    if linux.seccomp.supervise_connect {
        let listed = match linux.unix_sockets.len() {
            0 => "none listed".to_string(),
            _ => linux
                .unix_sockets
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        };
        items.push(hard(
            "network.unix_sockets".into(),
            format!("the sandbox's init makes every connect() and refuses host unix sockets but the listed ({listed}); unix datagram sockets are refused"),
        ));
    }
    for glob in &linux.guarded_globs {
        items.push(hard(
            format!("none glob {}", glob.pattern),
            "the sandbox's init makes every open, create, remove, rename, link, truncate, chmod and chown by path, \
             and refuses the files the glob hides, whenever and by whomever they were made \
             (file calls are slower; extended attributes cannot be set)"
                .into(),
        ));
    }
    items.push(hard(
        format!("syscall filter ({} rules)", linux.seccomp_rules.len()),
        "seccomp-bpf, with no_new_privs; every capability dropped".into(),
    ));
    items.push(hard(
        "process tree".into(),
        if namespaces {
            "pid namespace: everything dies with the run and with stockade".into()
        } else {
            "stockade is the child subreaper: every descendant is killed when the run ends".into()
        },
    ));
    for dir in &linux.cgroups.dirs {
        for (file, value) in &dir.settings {
            let rule = match *file {
                "pids.max" => "limits.max_processes",
                _ => "limits.max_memory",
            };
            items.push(hard(
                rule.into(),
                format!(
                    "cgroup {} {file} = {value} for the whole sandbox, in a new cgroup under {}",
                    if dir.v2 { "v2" } else { "v1" },
                    dir.parent.display()
                ),
            ));
        }
    }
    items
}

pub(crate) fn run(
    loaded: &crate::Loaded,
    request: &crate::RunRequest,
    env: Vec<(String, String)>,
) -> Result<(crate::run::Ended, EnforcementPlan), crate::Error> {
    let policy = &loaded.policy;
    if let Some(unknown) = request
        .allow_weaker
        .iter()
        .find(|w| !backend::WEAKER_NAMES.contains(&w.as_str()))
    {
        return Err(crate::Error::Policy(
            stockade_policy::PolicyError::InvalidFlag {
                flag: "--allow-weaker".into(),
                value: unknown.clone(),
                message: "not a protection this backend can be run without".into(),
                hint: format!("use one of: {}", backend::WEAKER_NAMES.join(", ")),
            },
        ));
    }
    let mut linux = Arc::new(backend::plan(policy));
    let mut plan = enforcement(&linux, &request.allow_weaker);
    crate::run::refuse_blocked(&plan)?;
    let run = backend::RunRequest {
        argv: request.argv.clone(),
        env,
        cwd: request
            .workdir
            .clone()
            .unwrap_or_else(|| policy.cwd.clone()),
        timeout: request.timeout.or(policy.limits.timeout),
        max_processes: policy.limits.max_processes,
        max_memory: policy.limits.max_memory,
        controlling_tty: request.tty,
    };
    let path = run
        .env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let mut proxy = crate::egress::Egress::new(&policy.network);
    let mut result = backend::run(&linux, &run, &mut |sandbox| proxy.start(sandbox));
    if let Err(e) = &result {
        if backend::namespaces_refused(e) && linux.mode == backend::Mode::Namespaces {
            // User namespaces are blocked after all: plan again without them.
            linux = Arc::new(backend::plan_mode(
                policy,
                backend::restricted_mode(e.to_string()),
            ));
            plan = enforcement(&linux, &request.allow_weaker);
            crate::run::refuse_blocked(&plan)?;
            result = backend::run(&linux, &run, &mut |sandbox| proxy.start(sandbox));
        }
    }
    let proxy_denials = proxy.stop();
    let finished = result.map_err(|e| match e {
        SpawnError::NotFound { command } => crate::Error::CommandNotFound { command, path },
        SpawnError::NotExecutable { command, source } => {
            crate::Error::NotExecutable { command, source }
        }
        other => crate::Error::Unenforceable {
            rule: "the sandbox".into(),
            reason: other.to_string(),
            hint: "run 'stockade check' for what this machine offers".into(),
        },
    })?;
    let outcome = finished.outcome;
    let ended = crate::run::Ended {
        exit_code: outcome.exit_code(),
        signal: match outcome {
            Outcome::Signaled(s) => Some(s),
            _ => None,
        },
        timed_out: outcome == Outcome::TimedOut,
        denials: finished.denials.list,
        denials_dropped: finished.denials.dropped,
    };
    let ended = ended.with_denials(proxy_denials);
    Ok((ended, plan))
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
                ProfileVerdict::new(name, needs, plan(policy, &[]).blockers, &hints)
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
    // What matters is whether the limits can be held (by v2 or v1), not
    // v2 delegation on its own.
    let limits = &m.cgroup.limits_unavailable;
    facts.push(Fact {
        mechanism: "cgroup".into(),
        status: if limits.is_empty() {
            FactStatus::Ok
        } else {
            FactStatus::Info
        },
        detail: if limits.is_empty() {
            "max_processes and max_memory are held by a cgroup made for each run".to_owned()
        } else {
            format!("no cgroup can hold {}", limits.join(", "))
        },
    });
    facts
}

/// The bwrap backend starts stockade's own binary inside the sandbox.
pub(crate) fn helper_if_requested() {
    stockade_linux::bwrap::helper::run_if_requested();
}
