//! Landlock-only mode: for machines where unprivileged user namespaces are
//! blocked (containers, Ubuntu's AppArmor restriction). No mount tree:
//! Landlock grants exactly the policy's paths and seccomp filters syscalls.
//!
//! # Security
//!
//! Landlock only grants; it cannot take away beneath a grant. A `none` or
//! `read` rule under a *read-only* ancestor is therefore expressed by
//! granting the ancestor's entries one by one, down the path to the rule,
//! skipping what the rule hides — exact for what exists, and stricter for
//! what is created later (a new entry of an enumerated directory gets no
//! access at all). What Landlock cannot express is a [`Blocker`] named
//! `landlock-only`, and the run is refused unless the user accepts running
//! without it (`--allow-weaker landlock-only`):
//!
//! * a `read` or `none` rule, or a protected name, under a *writable* root
//!   (the root's write rights would cover it),
//! * the private `/tmp` (the host's `/tmp` stays as the policy shows it;
//!   the command gets a per-run directory in `TMPDIR`),
//! * `**` globs (the whole file system cannot be enumerated),
//! * process lifetime when stockade itself is killed (without a pid
//!   namespace, processes that left the command's tree may survive).

use crate::landlock::{LandlockPlan, PathRule, handled_fs, rights_for, system_rules};
use crate::mounts::Blocker;
use std::path::{Path, PathBuf};
use stockade_policy::{Access, ResolvedPolicy, RuleKind, cmp_paths};

/// The `--allow-weaker` name of everything this mode cannot hold.
pub const WEAKER: &str = "landlock-only";

/// Why user namespaces are known not to work here, from the sysctls that
/// restrict them (the clone itself is the final test).
pub fn userns_restricted() -> Option<String> {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
    };
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if read("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        return Some("user.max_user_namespaces is 0".into());
    }
    if !root && read("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        return Some("kernel.unprivileged_userns_clone is 0".into());
    }
    if !root
        && read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref() == Some("1")
    {
        return Some("AppArmor restricts unprivileged user namespaces".into());
    }
    None
}

/// The Landlock rules and the blockers of this mode.
pub fn plan(policy: &ResolvedPolicy, abi: u32) -> (LandlockPlan, Vec<Blocker>) {
    let mut rules: Vec<PathRule> = system_rules(abi);
    let mut blockers = vec![Blocker {
        rule: "process tree".into(),
        reason: "without a pid namespace, processes that leave the command's tree can outlive a killed stockade"
            .into(),
        weaker: WEAKER,
    }];
    let block = |blockers: &mut Vec<Blocker>, rule: String, reason: &str| {
        blockers.push(Blocker {
            rule,
            reason: reason.into(),
            weaker: WEAKER,
        })
    };
    for glob in &policy.deny_globs {
        let cut = glob
            .pattern
            .find(['*', '?', '[', '{'])
            .unwrap_or(glob.pattern.len());
        let dir = Path::new(&glob.pattern[..cut])
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        if glob.pattern.contains("**") {
            block(
                &mut blockers,
                format!("none glob {}", glob.pattern),
                "Landlock cannot hide a recursive glob",
            );
        } else if host_access(policy, &dir) == Access::Write {
            block(
                &mut blockers,
                format!("none glob {}", glob.pattern),
                "Landlock cannot hide a glob's matches beneath a writable root",
            );
        }
    }
    for rule in &policy.rules {
        let parent = rule
            .path
            .parent()
            .map(|p| policy.access(p).access)
            .unwrap_or(Access::None);
        let name = format!("{} {}", rule.access, rule.path.display());
        if rule.kind == RuleKind::PrivateTmp {
            block(
                &mut blockers,
                name,
                "a private /tmp needs a mount namespace; the command gets a per-run TMPDIR",
            );
        } else if parent == Access::Write && rule.access != Access::Write {
            block(
                &mut blockers,
                name,
                "Landlock cannot take rights away beneath a writable root",
            );
        }
    }
    // Grant from the tops — rules whose parent gives nothing — and every
    // rule giving more than its parent (Landlock's rules add up, so a
    // `write` under a `read` needs only its own grant).
    let tops: Vec<_> = policy
        .rules
        .iter()
        .filter(|r| r.access != Access::None && r.kind != RuleKind::PrivateTmp)
        .filter(|r| {
            let parent = r
                .path
                .parent()
                .map_or(Access::None, |p| host_access(policy, p));
            parent == Access::None || (parent == Access::Read && r.access == Access::Write)
        })
        .collect();
    for top in tops {
        grant(
            policy,
            &top.path,
            policy.access(&top.path).access,
            abi,
            &mut rules,
            0,
        );
    }
    rules.sort_by(|a, b| cmp_paths(&a.path, &b.path));
    rules.dedup_by(|a, b| a.path == b.path && a.rights == b.rights);
    let plan = LandlockPlan {
        abi,
        handled_fs: handled_fs(abi),
        rules,
        scope_abstract_unix_socket: abi >= 6,
        scope_signal: abi >= 6,
        // Proxy mode needs a network namespace (a blocker here).
        tcp: None,
    };
    (plan, blockers)
}

/// Deepest enumeration; deeper carve-outs are granted at this depth.
const MAX_DEPTH: usize = 32;

/// Grants `access` on `path`, enumerating its entries when something
/// beneath it (a rule, a glob's directory) must get less.
fn grant(
    policy: &ResolvedPolicy,
    path: &Path,
    access: Access,
    abi: u32,
    out: &mut Vec<PathRule>,
    depth: usize,
) {
    if access == Access::None {
        return;
    }
    let why = crate::why::Why::from("granted by the policy (Landlock-only mode)");
    if access == Access::Write || depth >= MAX_DEPTH || !restricted_below(policy, path, access) {
        out.push(PathRule {
            path: path.to_path_buf(),
            rights: rights_for(access, abi),
            why,
        });
        return;
    }
    // The directory itself may be listed; its entries are granted one by one.
    out.push(PathRule {
        path: path.to_path_buf(),
        rights: vec!["read_dir"],
        why: "listed, entries granted one by one".into(),
    });
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let child = entry.path();
        let is_link = entry.file_type().is_ok_and(|t| t.is_symlink());
        if is_link {
            continue; // its target is granted where it really is, if at all
        }
        grant(
            policy,
            &child,
            host_access(policy, &child),
            abi,
            out,
            depth + 1,
        );
    }
}

/// Whether some rule or glob beneath `path` gives less than `access`.
fn restricted_below(policy: &ResolvedPolicy, path: &Path, access: Access) -> bool {
    let start = policy
        .rules
        .partition_point(|r| cmp_paths(&r.path, path).is_le());
    let rule_below = policy.rules[start..]
        .iter()
        .take_while(|r| r.path.starts_with(path))
        .any(|r| r.access.tie_strength() > access.tie_strength());
    // A single-level glob hides entries of its directory: enumerate down to
    // it. (`**` globs are blockers in this mode; they never enumerate.)
    let glob_below = policy
        .deny_globs
        .iter()
        .filter(|g| !g.pattern.contains("**"))
        .any(|g| {
            let cut = g
                .pattern
                .find(['*', '?', '[', '{'])
                .unwrap_or(g.pattern.len());
            let dir: Option<PathBuf> = Path::new(&g.pattern[..cut]).parent().map(Path::to_path_buf);
            dir.is_some_and(|dir| dir.starts_with(path))
        });
    rule_below || glob_below
}

/// The access a host path gets in this mode: the policy's, except that the
/// private `/tmp` rule does not apply to the host's `/tmp` (the command
/// gets a per-run directory instead), which keeps what its parent gives.
fn host_access(policy: &ResolvedPolicy, path: &Path) -> Access {
    if policy
        .rules_at(path)
        .iter()
        .any(|r| r.kind == RuleKind::PrivateTmp)
    {
        return path
            .parent()
            .map_or(Access::None, |p| policy.access(p).access);
    }
    policy.access(path).access
}
