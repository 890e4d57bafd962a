//! [`plan`]: which paths get which Landlock rights. Pure.

use std::path::{Path, PathBuf};

use crate::why::Why;
use landlock::{AccessFs, BitFlags};
use stockade_policy::{Access, ResolvedPolicy, cmp_paths};

use super::rights::{self, DEVICE, MAX_ABI, PROC};
use super::{LandlockPlan, PathRule};

/// A path the backend always provides in the sandbox, whatever the profile,
/// and the rights it gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SystemPath {
    /// Absolute path in the sandbox.
    pub path: &'static str,
    /// Why it is there.
    pub why: &'static str,
    rights: BitFlags<AccessFs>,
}

/// The paths every sandbox gets rights on: its own `/proc` and the device
/// files the backend always mounts. Device files get `write_file` (and
/// `ioctl_dev`) even under read-only profiles: a shell cannot run without
/// `> /dev/null`, and a terminal without its ioctls.
#[rustfmt::skip]
pub const SYSTEM_PATHS: &[SystemPath] = &[
    SystemPath { path: "/proc", rights: PROC,
        why: "the sandbox's own procfs (ps, /proc/self): readable, not writable" },
    SystemPath { path: "/dev/null", rights: DEVICE,
        why: "device always mounted: the bit bucket every shell writes to" },
    SystemPath { path: "/dev/zero", rights: DEVICE,
        why: "device always mounted: a source of zeros" },
    SystemPath { path: "/dev/random", rights: DEVICE,
        why: "device always mounted: entropy" },
    SystemPath { path: "/dev/urandom", rights: DEVICE,
        why: "device always mounted: entropy" },
    SystemPath { path: "/dev/tty", rights: DEVICE,
        why: "device always mounted: the controlling terminal (reads, writes, mode ioctls)" },
    SystemPath { path: "/dev/ptmx", rights: DEVICE,
        why: "device always mounted: pseudo-terminal allocation (script, expect, tmux)" },
    SystemPath { path: "/dev/pts", rights: DEVICE,
        why: "device always mounted: pseudo-terminals, the command's own and those it allocates" },
];

/// The rules for [`SYSTEM_PATHS`] at `abi`.
pub fn system_rules(abi: u32) -> Vec<PathRule> {
    let abi = abi.min(MAX_ABI);
    SYSTEM_PATHS
        .iter()
        .map(|s| PathRule {
            path: PathBuf::from(s.path),
            rights: rights::names(s.rights, abi),
            why: s.why.into(),
        })
        .filter(|r| !r.rights.is_empty())
        .collect()
}

/// The Landlock plan for `policy` on a kernel offering `abi` (from
/// [`crate::probe::probe_landlock`]; 0 when it has none).
///
/// The ABI is negotiated as `min(abi, 7)`; the ruleset handles every
/// filesystem right that ABI knows, so anything no rule grants is denied.
/// Each path the policy names gets the rights of the access the policy
/// decides for exactly that path ([`ResolvedPolicy::access`]: ties between
/// rules on one path go to the stricter one, and a `none` glob matching it
/// removes it): `read` and `write` per `rights.rs`, `none` no rule at all.
/// The private `/tmp` is a fresh tmpfs at its path and gets the rights of its
/// access like any other path. [`SYSTEM_PATHS`] are added, merged with a
/// policy rule on the same path. At ABI 6 and later, signals and abstract
/// unix sockets are scoped to the sandbox.
///
/// At ABI 0 the plan handles nothing and has no rules; [`super::prepare`]
/// refuses it.
///
/// # Security
///
/// The plan can only add rights, never take them away beneath a granted
/// directory: carve-outs under a writable root, protected names and `none`
/// globs are the mount tree's to enforce (see the module documentation).
pub fn plan(policy: &ResolvedPolicy, abi: u32) -> LandlockPlan {
    let abi = abi.min(MAX_ABI);
    // Sorted by path, as `policy.rules` is.
    let mut grants: Vec<(PathBuf, BitFlags<AccessFs>, Why)> = Vec::new();
    for same_path in policy
        .rules
        .chunk_by(|a, b| a.path.as_os_str() == b.path.as_os_str())
    {
        // What `policy.access` decides for a path rules name: the
        // strictest of them, unless a glob matches the path itself (a glob
        // on an ancestor is shallower than these rules).
        let path = &same_path[0].path;
        let Some(winner) = same_path.iter().max_by_key(|r| r.access.tie_strength()) else {
            continue;
        };
        if winner.access == Access::None || policy.deny_globs.iter().any(|g| g.matches(path)) {
            continue;
        }
        let set = rights::for_access(winner.access);
        let why = Why::Grant {
            access: winner.access,
            kind: winner.kind.clone(),
            origin: winner.origin.clone(),
        };
        grants.push((path.clone(), set, why));
    }
    for system in SYSTEM_PATHS {
        let path = Path::new(system.path);
        match grants.binary_search_by(|(p, ..)| cmp_paths(p, path)) {
            Ok(at) => {
                grants[at].1 |= system.rights;
                let why = std::mem::replace(&mut grants[at].2, Why::All(Vec::new()));
                grants[at].2 = why.and(system.why.into());
            }
            Err(at) => grants.insert(at, (path.to_path_buf(), system.rights, system.why.into())),
        }
    }
    let rules: Vec<PathRule> = grants
        .into_iter()
        .map(|(path, set, why)| PathRule {
            path,
            rights: rights::names(set, abi),
            why,
        })
        .filter(|r| !r.rights.is_empty())
        .collect();
    LandlockPlan {
        abi,
        handled_fs: rights::handled_fs(abi),
        rules,
        scope_abstract_unix_socket: abi >= 6,
        scope_signal: abi >= 6,
        tcp: tcp_rules(&policy.network, abi),
    }
}

/// In network `proxy` mode without `allow_local_binding`, the command may
/// connect only to the egress proxy's ports and bind none (ABI 4); the
/// backend blocks the run where the ABI is older.
fn tcp_rules(network: &stockade_policy::NetworkPolicy, abi: u32) -> Option<super::TcpRules> {
    let held = network.mode == stockade_policy::NetworkMode::Proxy
        && !network.allow_local_binding
        && abi >= 4;
    held.then(|| super::TcpRules {
        connect_ports: crate::egress::PORTS.to_vec(),
    })
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
