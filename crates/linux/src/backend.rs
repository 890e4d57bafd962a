//! The Linux backend as a whole: the plan for a resolved policy (mount
//! tree, Landlock rules, seccomp filter, network namespace), the reasons it
//! may refuse, and running a command under it.

use crate::cgroup::CgroupPlan;
use crate::landlock::LandlockPlan;
use crate::mounts::{Blocker, MountPlan};
use crate::seccomp::{SeccompOptions, SocketPolicy, SyscallRule};
use crate::spawn::{Finished, Sandbox, SpawnError, Spec};
use crate::supervisor::files::GuardedGlob;

/// Whether a spawn error means user namespaces are not available here.
pub fn namespaces_refused(error: &SpawnError) -> bool {
    matches!(error, SpawnError::Os { action, source } if *action == "create the sandbox's namespaces"
        && matches!(source.raw_os_error(), Some(libc::EPERM | libc::EACCES | libc::ENOSPC | libc::EINVAL)))
}
use serde::Serialize;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::Duration;
use stockade_policy::{NetworkMode, ResolvedPolicy};

/// How the Linux backend enforces one policy.
#[derive(Clone, Debug, Serialize)]
pub struct LinuxPlan {
    /// How the command is isolated.
    pub mode: Mode,
    pub mounts: MountPlan,
    pub landlock: LandlockPlan,
    pub seccomp: SeccompOptions,
    pub seccomp_rules: Vec<SyscallRule>,
    /// The kernel has seccomp filters (else a blocker says so).
    pub seccomp_available: bool,
    /// A new, empty network namespace.
    pub network_namespace: bool,
    /// Its loopback is up (`allow_local_binding`, or the proxy's ports).
    pub loopback_up: bool,
    /// The init binds the egress proxy's listeners on that loopback and
    /// hands them to stockade (network `proxy`, see [`crate::egress`]).
    pub egress: bool,
    /// Host unix sockets the supervisor lets the command reach (when it
    /// supervises `connect`: see `seccomp.supervise_connect`).
    pub unix_sockets: Vec<PathBuf>,
    /// Deny globs the supervisor holds (the mount tree cannot: see
    /// `seccomp.supervise_files`).
    pub guarded_globs: Vec<GuardedGlob>,
    /// The cgroups that hold `max_processes` and `max_memory`.
    pub cgroups: CgroupPlan,
    /// What stops the run, each with the `--allow-weaker` name that waives it.
    pub blockers: Vec<Blocker>,
}

/// The names `--allow-weaker` accepts on Linux, one per kind of blocker.
pub const WEAKER_NAMES: &[&str] = &[
    "created-later",
    "deny-globs",
    "landlock",
    "seccomp",
    "network-proxy",
    "landlock-only",
    "limits",
];

/// How the Linux backend isolates a command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Mode {
    /// User, mount, pid, ipc (and net) namespaces with a mount tree.
    Namespaces,
    /// The system bwrap builds the namespaces and the mount tree (stockade
    /// may not create user namespaces here, bwrap may); the rest as above.
    Bwrap {
        /// The bwrap binary.
        bwrap: PathBuf,
        /// Why stockade does not build the namespaces itself.
        reason: String,
    },
    /// Landlock and seccomp only: user namespaces are not available.
    LandlockOnly {
        /// Why namespaces are not used.
        reason: String,
    },
}

/// Test seam: plan Landlock-only mode as if user namespaces were blocked.
/// It only changes the mode; running still needs `--allow-weaker
/// landlock-only`, exactly as on such a machine.
pub const FORCE_LANDLOCK_ONLY: &str = "STOCKADE_FORCE_LANDLOCK_ONLY";

/// Test seam: plan the bwrap backend even where stockade could build the
/// namespaces itself (the escape suite runs once more this way).
pub const FORCE_BWRAP: &str = "STOCKADE_FORCE_BWRAP";

/// Plans the enforcement of `policy` on this machine (cheap probes only:
/// the Landlock ABI, seccomp and the sysctls that restrict user
/// namespaces; the namespaces themselves are tested by using them).
pub fn plan(policy: &ResolvedPolicy) -> LinuxPlan {
    let forced = |name: &str| std::env::var_os(name).is_some_and(|v| v == "1");
    match crate::landlock_only::userns_restricted() {
        Some(reason) => plan_mode(policy, restricted_mode(reason)),
        None if forced(FORCE_LANDLOCK_ONLY) => plan_mode(
            policy,
            Mode::LandlockOnly {
                reason: format!("{FORCE_LANDLOCK_ONLY}=1"),
            },
        ),
        None if forced(FORCE_BWRAP) => plan_mode(
            policy,
            Mode::Bwrap {
                bwrap: crate::probe::find_bwrap().unwrap_or_else(|| PathBuf::from("bwrap")),
                reason: format!("{FORCE_BWRAP}=1"),
            },
        ),
        None => plan_mode(policy, Mode::Namespaces),
    }
}

/// The mode where stockade may not create user namespaces (`reason`): a
/// system bwrap builds them, else Landlock-only mode. On the run's
/// start-up path, so bwrap is only looked up, not tried: one that cannot
/// build the sandbox (too old, or itself restricted) fails the run with
/// its own message (exit 125), and `stockade check` says why.
pub fn restricted_mode(reason: String) -> Mode {
    match crate::probe::find_bwrap() {
        Some(bwrap) => Mode::Bwrap { bwrap, reason },
        None => Mode::LandlockOnly { reason },
    }
}

/// Plans the enforcement of `policy` in the given mode.
pub fn plan_mode(policy: &ResolvedPolicy, mode: Mode) -> LinuxPlan {
    // One syscall each on the run's start-up path; the full probes (which
    // read /proc and /sys for their diagnostics) only when something lacks.
    let abi = crate::probe::landlock_abi().unwrap_or(0);
    let seccomp_ok = crate::probe::seccomp_filters_available();
    let mut blockers = Vec::new();
    if abi == 0 {
        let detail = crate::probe::probe_landlock().detail;
        blockers.push(Blocker {
            rule: "filesystem rules (Landlock layer)".into(),
            reason: format!("Landlock is not available: {detail}"),
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
    // The proxy runs only where nothing blocks it; waived, no network.
    let proxy_blocked = match network.mode {
        NetworkMode::Proxy => proxy_blocker(&mode, network.allow_local_binding, abi),
        _ => None,
    };
    let egress = network.mode == NetworkMode::Proxy && proxy_blocked.is_none();
    blockers.extend(proxy_blocked);
    let (cgroups, unavailable) =
        crate::cgroup::plan(policy.limits.max_processes, policy.limits.max_memory);
    blockers.extend(unavailable.into_iter().map(|u| Blocker {
        rule: u.rule.into(),
        reason: format!(
            "no cgroup can hold this limit here ({}); rlimits would apply it per process or per user only",
            u.reason
        ),
        weaker: "limits",
    }));
    let sockets = match (network.mode, network.allow_local_binding) {
        (NetworkMode::Full, _) => SocketPolicy::Any,
        (NetworkMode::Proxy, _) | (_, true) => SocketPolicy::UnixAndInet,
        (NetworkMode::Off, false) => SocketPolicy::UnixOnly,
    };
    let confined = network.mode != NetworkMode::Full;
    if matches!(mode, Mode::LandlockOnly { .. }) {
        let seccomp = SeccompOptions {
            sockets: if confined {
                SocketPolicy::UnixOnly
            } else {
                SocketPolicy::Any
            },
            supervise_connect: false,
            supervise_files: false,
        };
        if confined {
            blockers.push(Blocker {
                rule: "network.unix_sockets".into(),
                reason: "without a sandbox init nothing can check connect(), so the host's unix sockets (docker.sock, an ssh-agent) stay reachable wherever the policy leaves their files readable".into(),
                weaker: crate::landlock_only::WEAKER,
            });
        }
        if network.mode != NetworkMode::Full && network.allow_local_binding {
            blockers.push(Blocker {
                rule: "allow_local_binding".into(),
                reason: "without a network namespace the only loopback is the host's; inet sockets stay refused".into(),
                weaker: crate::landlock_only::WEAKER,
            });
        }
        let (landlock, more) = crate::landlock_only::plan(policy, abi.min(7));
        blockers.extend(more);
        return LinuxPlan {
            mode,
            mounts: MountPlan::default(),
            landlock,
            seccomp_rules: crate::seccomp::rules(&seccomp),
            seccomp,
            seccomp_available: seccomp_ok,
            network_namespace: false,
            loopback_up: false,
            egress: false,
            unix_sockets: Vec::new(),
            guarded_globs: Vec::new(),
            cgroups,
            blockers,
        };
    }
    let mounts = crate::mounts::plan(policy);
    blockers.extend(mounts.blockers.iter().cloned());
    let (guarded_globs, unheld) = guard_globs(policy, &mounts.unheld_globs, seccomp_ok);
    blockers.extend(unheld);
    let seccomp = SeccompOptions {
        sockets,
        supervise_connect: confined,
        supervise_files: !guarded_globs.is_empty(),
    };
    LinuxPlan {
        guarded_globs,
        mode,
        landlock: crate::landlock::plan(policy, abi.min(7)),
        seccomp_rules: crate::seccomp::rules(&seccomp),
        seccomp,
        seccomp_available: seccomp_ok,
        network_namespace: confined,
        loopback_up: confined && (network.allow_local_binding || egress),
        egress,
        unix_sockets: match confined {
            true => network.unix_sockets.clone(),
            false => Vec::new(),
        },
        mounts,
        cgroups,
        blockers,
    }
}

/// Why proxy mode cannot run as planned, if it cannot: it needs the
/// sandbox's own network namespace built natively (the init binds the
/// proxy's listeners there), and without `allow_local_binding` Landlock's
/// TCP rules (ABI 4) to hold the command to the proxy's ports. Waived
/// (`network-proxy`), the run has no network at all.
fn proxy_blocker(mode: &Mode, allow_local_binding: bool, abi: u32) -> Option<Blocker> {
    let reason = match mode {
        Mode::Namespaces if allow_local_binding || abi >= 4 => return None,
        Mode::Namespaces => format!(
            "the command must not listen on or reach other ports of its loopback, where the proxy's ports are; \
             that takes Landlock's TCP rules (ABI 4), and this kernel offers ABI {abi}"
        ),
        Mode::Bwrap { .. } | Mode::LandlockOnly { .. } => {
            "the proxy's listeners live in the sandbox's own network namespace, which only the native backend \
             (unprivileged user namespaces) builds"
                .to_string()
        }
    };
    Some(Blocker {
        rule: "network proxy".into(),
        reason,
        weaker: "network-proxy",
    })
}

/// The deny globs the mount tree cannot hold, split into those the
/// supervisor holds and blockers for the rest: shapes it cannot hold, or
/// every one when there is no seccomp filter to hold their calls.
fn guard_globs(
    policy: &ResolvedPolicy,
    unheld: &[String],
    seccomp: bool,
) -> (Vec<GuardedGlob>, Vec<Blocker>) {
    let mut guarded = Vec::new();
    let mut blockers = Vec::new();
    for pattern in unheld {
        let except = policy
            .deny_globs
            .iter()
            .find(|g| &g.pattern == pattern)
            .map(|g| g.except.clone())
            .unwrap_or_default();
        let reason = match GuardedGlob::of(pattern, &except) {
            Some(glob) if seccomp => {
                guarded.push(glob);
                continue;
            }
            Some(_) => {
                "the glob must also hide files created during the run, which needs the supervisor, \
                        which needs seccomp filters"
            }
            None => {
                "the glob must also hide files created during the run: the mount tree can do that only for \
                     a single-level glob in a read-only directory, and the supervisor for DIR/NAME and \
                     DIR/**/NAME globs (wildcards in the last name only)"
            }
        };
        blockers.push(Blocker {
            rule: format!("none glob {pattern}"),
            reason: reason.into(),
            weaker: "deny-globs",
        });
    }
    (guarded, blockers)
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
    /// stdin is a PTY to make the command's controlling terminal.
    pub controlling_tty: bool,
}

/// Runs a command under `plan`. The caller has checked the blockers.
/// `started` sees the sandbox once the command runs, before stockade waits
/// for it: where the egress proxy is started on the sandbox's listeners
/// ([`Sandbox::take_egress`]).
///
/// # Security
///
/// Everything the plan lists is applied or the run fails before the
/// command starts; see `spawn` for the process structure and lifetime.
pub fn run(
    plan: &LinuxPlan,
    request: &RunRequest,
    started: &mut dyn FnMut(&mut Sandbox),
) -> Result<Finished, SpawnError> {
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
    let seccomp = match plan.seccomp_available {
        true => Some(
            crate::seccomp::compile(&plan.seccomp_rules)
                .map_err(|e| SpawnError::Setup(e.to_string()))?,
        ),
        false => None,
    };
    // The cgroups bound the sandbox as a whole; rlimits bound each
    // process (memory) and stand in for a waived cgroup (processes).
    let in_cgroup = |file: &str| {
        plan.cgroups
            .dirs
            .iter()
            .any(|d| d.settings.iter().any(|(f, _)| *f == file))
    };
    let mut rlimits = Vec::new();
    if let Some(n) = request.max_processes.filter(|_| !in_cgroup("pids.max")) {
        rlimits.push((libc::RLIMIT_NPROC, n));
    }
    if let Some(bytes) = request.max_memory {
        rlimits.push((libc::RLIMIT_AS, bytes));
    }
    // SAFETY: getpid has no preconditions and cannot fail.
    let name = format!("stockade-{}", unsafe { libc::getpid() });
    let cgroups =
        crate::cgroup::Cgroups::create(&plan.cgroups, &name).map_err(SpawnError::Setup)?;
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
        egress: plan.egress,
        rlimits,
        cgroups: cgroups.dirs().to_vec(),
        prefer_oom_kill: !cgroups.dirs().is_empty(),
        // SAFETY: getuid/getgid have no preconditions and cannot fail.
        uid: unsafe { libc::getuid() },
        // SAFETY: as above.
        gid: unsafe { libc::getgid() },
        namespaces: !matches!(plan.mode, Mode::LandlockOnly { .. }),
        unix_sockets: plan.unix_sockets.clone(),
        guarded_globs: plan.guarded_globs.clone(),
        controlling_tty: request.controlling_tty,
    };
    if !spec.namespaces {
        let result = run_plain(spec, request);
        cgroups.remove();
        return result;
    }
    let placeholders = crate::placeholders::create(&plan.mounts.placeholders, &plan.mounts.present)
        .map_err(|e| SpawnError::Setup(e.to_string()))?;
    let spawned = match &plan.mode {
        Mode::Bwrap { bwrap, .. } => bwrap_launch(plan, &spec, bwrap)
            .and_then(|launch| crate::spawn::spawn_bwrap(&spec, &launch)),
        _ => crate::spawn::spawn(&spec),
    };
    let result = spawned.and_then(|mut sandbox| {
        started(&mut sandbox);
        sandbox.wait(request.timeout)
    });
    placeholders.remove();
    cgroups.remove();
    result
}

/// Landlock-only: the command gets a per-run temporary directory (granted
/// writable, exported as `TMPDIR`, removed afterwards) instead of a
/// private `/tmp`.
fn run_plain(mut spec: Spec, request: &RunRequest) -> Result<Finished, SpawnError> {
    // mkdtemp(3) replaces the template's six trailing 'X's.
    let mut template = format!("/tmp/stockade-run-{}\0", "X".repeat(6)).into_bytes();
    // SAFETY: template is a writable NUL-terminated buffer ending in the
    // six characters mkdtemp replaces.
    let made = unsafe { libc::mkdtemp(template.as_mut_ptr().cast()) };
    if made.is_null() {
        return Err(SpawnError::Os {
            action: "create the run's temporary directory",
            source: std::io::Error::last_os_error(),
        });
    }
    let tmp = PathBuf::from(std::str::from_utf8(&template[..template.len() - 1]).unwrap_or("/tmp"));
    let abi = spec.landlock.abi;
    spec.landlock.rules.push(crate::landlock::PathRule {
        path: tmp.clone(),
        rights: crate::landlock::rights_for(stockade_policy::Access::Write, abi),
        why: "the run's temporary directory (TMPDIR)".into(),
    });
    spec.env.retain(|e| !e.as_bytes().starts_with(b"TMPDIR="));
    if let Ok(entry) = CString::new(format!("TMPDIR={}", tmp.display())) {
        spec.env.push(entry);
    }
    let result = crate::spawn::spawn_plain(&spec).and_then(|sandbox| sandbox.wait(request.timeout));
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

/// How bwrap is started for `plan`: the same namespaces as the native
/// backend, further user namespaces disabled (which nests one more and so
/// locks every mount), the plan's mount steps, and the helper as the
/// sandbox's init.
fn bwrap_launch(
    plan: &LinuxPlan,
    spec: &Spec,
    bwrap: &std::path::Path,
) -> Result<crate::spawn::BwrapLaunch, SpawnError> {
    let mut namespace_args: Vec<std::ffi::OsString> =
        ["--unshare-user", "--unshare-pid", "--unshare-ipc"]
            .map(Into::into)
            .to_vec();
    if plan.network_namespace {
        namespace_args.push("--unshare-net".into());
    }
    namespace_args.extend(
        ["--disable-userns", "--die-with-parent", "--as-pid-1"].map(std::ffi::OsString::from),
    );
    let data_fds = (0..crate::bwrap::args::hidden_files(&plan.mounts))
        .map(|_| std::fs::File::open("/dev/null").map(std::os::fd::OwnedFd::from))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| SpawnError::Setup(format!("failed to open /dev/null: {e}")))?;
    let raw: Vec<i32> = data_fds
        .iter()
        .map(std::os::fd::AsRawFd::as_raw_fd)
        .collect();
    let helper = crate::bwrap::helper::HelperSpec::from_spec(spec);
    Ok(crate::spawn::BwrapLaunch {
        bwrap: bwrap.to_path_buf(),
        namespace_args,
        mount_args: crate::bwrap::args::mount_args(&plan.mounts, &raw),
        data_fds,
        helper_spec: serde_json::to_vec(&helper)
            .map_err(|e| SpawnError::Setup(format!("failed to encode the helper's plan: {e}")))?,
    })
}
