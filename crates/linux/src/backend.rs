//! The Linux backend as a whole: the plan for a resolved policy (mount
//! tree, Landlock rules, seccomp filter, network namespace), the reasons it
//! may refuse, and running a command under it.

use crate::landlock::LandlockPlan;
use crate::mounts::{Blocker, MountPlan};
use crate::seccomp::{SeccompOptions, SocketPolicy, SyscallRule};
use crate::spawn::{Outcome, SpawnError, Spec};
use serde::Serialize;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::Duration;
use stockade_policy::{NetworkMode, ResolvedPolicy};

/// How the Linux backend enforces one policy.
#[derive(Clone, Debug, Serialize)]
pub struct LinuxPlan {
    pub mounts: MountPlan,
    pub landlock: LandlockPlan,
    pub seccomp: SeccompOptions,
    pub seccomp_rules: Vec<SyscallRule>,
    /// A new, empty network namespace.
    pub network_namespace: bool,
    /// Its loopback is up (`allow_local_binding`).
    pub loopback_up: bool,
    /// What stops the run, each with the `--allow-weaker` name that waives it.
    pub blockers: Vec<Blocker>,
}

/// Plans the enforcement of `policy` on this machine (cheap probes only:
/// the Landlock ABI and seccomp; user namespaces are tested by using them).
pub fn plan(policy: &ResolvedPolicy) -> LinuxPlan {
    let landlock = crate::probe::probe_landlock();
    let seccomp_ok = crate::probe::probe_seccomp().available;
    let mut blockers = Vec::new();
    let abi = landlock.abi.unwrap_or(0);
    if abi == 0 {
        blockers.push(Blocker {
            rule: "filesystem rules (Landlock layer)".into(),
            reason: format!("Landlock is not available: {}", landlock.detail),
            weaker: "landlock",
        });
    }
    if !seccomp_ok {
        blockers.push(Blocker {
            rule: "syscall filter".into(),
            reason: "seccomp filters are not available in this kernel".into(),
            weaker: "seccomp",
        });
    }
    let network = &policy.network;
    if network.mode == NetworkMode::Proxy {
        blockers.push(Blocker {
            rule: "network proxy".into(),
            reason: "proxy mode is not built yet on Linux".into(),
            weaker: "network-proxy",
        });
    }
    let sockets = match (network.mode, network.allow_local_binding) {
        (NetworkMode::Full, _) => SocketPolicy::Any,
        (_, true) => SocketPolicy::UnixAndInet,
        (_, false) => SocketPolicy::UnixOnly,
    };
    let seccomp = SeccompOptions { sockets };
    let mounts = crate::mounts::plan(policy);
    blockers.extend(mounts.blockers.iter().cloned());
    LinuxPlan {
        landlock: crate::landlock::plan(policy, abi.min(7)),
        seccomp_rules: crate::seccomp::rules(&seccomp),
        seccomp,
        network_namespace: network.mode != NetworkMode::Full,
        loopback_up: network.mode != NetworkMode::Full && network.allow_local_binding,
        mounts,
        blockers,
    }
}

impl LinuxPlan {
    /// The blockers left after the user's `--allow-weaker` waivers.
    pub fn unwaived<'a>(&'a self, allow_weaker: &'a [String]) -> impl Iterator<Item = &'a Blocker> {
        self.blockers
            .iter()
            .filter(move |b| !allow_weaker.iter().any(|w| w == b.weaker))
    }
}

/// What a run needs besides the plan.
#[derive(Clone, Debug)]
pub struct RunRequest {
    pub argv: Vec<String>,
    /// The environment after the policy's filter.
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
    pub timeout: Option<Duration>,
    pub max_processes: Option<u64>,
    pub max_memory: Option<u64>,
}

/// Runs a command under `plan`. The caller has checked the blockers.
///
/// # Security
///
/// Everything the plan lists is applied or the run fails before the
/// command starts; see `spawn` for the process structure and lifetime.
pub fn run(plan: &LinuxPlan, request: &RunRequest) -> Result<Outcome, SpawnError> {
    let cstring = |s: &[u8]| {
        CString::new(s)
            .map_err(|_| SpawnError::Setup("an argument or variable holds a NUL byte".into()))
    };
    let argv = request
        .argv
        .iter()
        .map(|a| cstring(a.as_bytes()))
        .collect::<Result<Vec<_>, _>>()?;
    if argv.is_empty() {
        return Err(SpawnError::Setup("no command given".into()));
    }
    let env = request
        .env
        .iter()
        .map(|(k, v)| cstring(format!("{k}={v}").as_bytes()))
        .collect::<Result<Vec<_>, _>>()?;
    let path = request
        .env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_str())
        .unwrap_or("/usr/local/bin:/usr/bin:/bin");
    let search_path = std::env::split_paths(path)
        .filter(|p| !p.as_os_str().as_bytes().is_empty())
        .collect();
    let seccomp = crate::seccomp::compile(&plan.seccomp_rules)
        .map_err(|e| SpawnError::Setup(e.to_string()))?;
    let mut rlimits = Vec::new();
    if let Some(n) = request.max_processes {
        rlimits.push((libc::RLIMIT_NPROC, n));
    }
    if let Some(bytes) = request.max_memory {
        rlimits.push((libc::RLIMIT_AS, bytes));
    }
    let spec = Spec {
        mounts: plan.mounts.clone(),
        landlock: plan.landlock.clone(),
        seccomp,
        argv,
        env,
        search_path,
        cwd: request.cwd.clone(),
        network_namespace: plan.network_namespace,
        loopback_up: plan.loopback_up,
        rlimits,
        // SAFETY: getuid/getgid have no preconditions and cannot fail.
        uid: unsafe { libc::getuid() },
        // SAFETY: as above.
        gid: unsafe { libc::getgid() },
    };
    let placeholders = crate::placeholders::create(&plan.mounts.placeholders)
        .map_err(|e| SpawnError::Setup(e.to_string()))?;
    let result = crate::spawn::spawn(&spec).and_then(|sandbox| sandbox.wait(request.timeout));
    placeholders.remove();
    result
}
