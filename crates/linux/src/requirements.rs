//! What the Linux backend needs from the kernel to enforce a policy exactly,
//! and whether this machine has it. Pure: a policy and a probe report in,
//! data out, so `check`, `explain` and tests share one answer.

use crate::probe::MachineReport;
use serde::Serialize;
use stockade_policy::{Access, NetworkMode, ResolvedPolicy};

/// A kernel mechanism the backend relies on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mechanism {
    /// Unprivileged user namespaces (and with them mount, pid, ipc and net
    /// namespaces): the new root, private `/tmp`, process lifetime.
    UserNamespaces,
    /// Landlock filesystem rules, layered on the mounts.
    Landlock,
    /// seccomp-bpf syscall filtering.
    Seccomp,
}

/// One need of a policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Need {
    /// The mechanism.
    pub mechanism: Mechanism,
    /// Why this policy needs it.
    pub why: String,
    /// Whether this machine has it.
    pub available: bool,
}

/// The needs of `policy` on a machine described by `machine`.
pub fn needs(policy: &ResolvedPolicy, machine: &MachineReport) -> Vec<Need> {
    // Namespaces from stockade itself, or from a working system bwrap.
    let userns = machine.user_namespaces.works
        || machine.bwrap.as_ref().is_some_and(|b| b.builds_sandboxes());
    let landlock = machine.landlock.abi.is_some_and(|abi| abi >= 1);
    let seccomp = machine.seccomp.available;
    let mut out = vec![Need {
        mechanism: Mechanism::UserNamespaces,
        why: "the command's process tree lives in its own pid namespace so that nothing outlives the run".into(),
        available: userns,
    }];
    let restricts_files =
        policy.rules.iter().any(|r| r.access != Access::Write) || !policy.deny_globs.is_empty();
    if restricts_files {
        out.push(Need {
            mechanism: Mechanism::UserNamespaces,
            why: "read-only, hidden and protected paths and the private /tmp are built as a new mount tree".into(),
            available: userns,
        });
        out.push(Need {
            mechanism: Mechanism::Landlock,
            why: "filesystem rules are enforced a second time by Landlock (defense in depth)"
                .into(),
            available: landlock,
        });
    }
    if policy.network.mode != NetworkMode::Full {
        out.push(Need {
            mechanism: Mechanism::UserNamespaces,
            why: format!(
                "network '{}' needs an empty network namespace",
                mode_name(policy.network.mode)
            ),
            available: userns,
        });
    }
    out.push(Need {
        mechanism: Mechanism::Seccomp,
        why: "dangerous syscalls (ptrace, bpf, io_uring, TIOCSTI, new namespaces) are filtered"
            .into(),
        available: seccomp,
    });
    out
}

fn mode_name(mode: NetworkMode) -> &'static str {
    match mode {
        NetworkMode::Off => "off",
        NetworkMode::Proxy => "proxy",
        NetworkMode::Full => "full",
    }
}
