//! Rules stockade derives from the merged rules and the machine: the host's
//! `/tmp` hidden behind `:tmp`, a writable home expanded to its children,
//! missing writable roots skipped, protected names and git directories, and
//! the policy file kept read-only. Derived rules only ever make access
//! stricter, except the git directories `git = "commit"` opens.

use crate::access::Access;
use crate::context::ResolveContext;
use crate::git;
use crate::paths::is_within;
use crate::resolved::{FsRule, GitMode, Note, ResolvedPolicy, RuleKind};
use crate::source::Origin;
use std::path::{Path, PathBuf};

/// Applies every derivation, in order.
pub(crate) fn derive(policy: &mut ResolvedPolicy, ctx: &ResolveContext) {
    hide_host_tmp(policy, ctx);
    expand_home(policy, ctx);
    skip_missing_writable_roots(policy);
    protect_names(policy);
    protect_policy_file(policy);
    policy.rules.sort_by(|a, b| {
        a.path
            .cmp(&b.path)
            .then(a.access.tie_strength().cmp(&b.access.tie_strength()))
    });
}

fn note(policy: &mut ResolvedPolicy, path: Option<&Path>, message: String) {
    policy.notes.push(Note {
        path: path.map(Path::to_path_buf),
        message,
    });
}

/// Adds `rule` unless the path already gets access at least as strict.
fn restrict(policy: &mut ResolvedPolicy, rule: FsRule) {
    let current = policy.access(&rule.path).access;
    if current.tie_strength() < rule.access.tie_strength()
        || (rule.access == current && !policy.rules.iter().any(|r| r.path == rule.path))
    {
        policy.rules.push(rule);
    }
}

/// When `:tmp` is a per-run directory rather than a fresh `/tmp`, the
/// host's shared `/tmp` is hidden so the two cannot be confused.
fn hide_host_tmp(policy: &mut ResolvedPolicy, ctx: &ResolveContext) {
    let Some(tmp) = policy
        .rules
        .iter()
        .find(|r| r.kind == RuleKind::PrivateTmp)
        .cloned()
    else {
        return;
    };
    if ctx.tmp_dir == ctx.host_tmp || policy.rules.iter().any(|r| r.path == ctx.host_tmp) {
        return;
    }
    policy.rules.push(FsRule {
        path: ctx.host_tmp.clone(),
        access: Access::None,
        kind: RuleKind::Path,
        exists: ctx.host_tmp.exists(),
        origin: Origin::derived(
            "the host's shared temporary directory is replaced by ':tmp'",
            Some(&tmp.origin),
        ),
    });
}

/// A writable root equal to the home directory is never granted as such:
/// it becomes its children, minus those another rule or glob names (the
/// sensitive ones) and symlinks (which could lead out of the home).
fn expand_home(policy: &mut ResolvedPolicy, ctx: &ResolveContext) {
    let Some(home) = ctx
        .home
        .as_deref()
        .map(|h| crate::paths::canonicalize(h, Path::new("")).path)
    else {
        return;
    };
    let Some(index) = policy
        .rules
        .iter()
        .position(|r| r.path == home && r.access == Access::Write)
    else {
        return;
    };
    let home_rule = policy.rules.remove(index);
    let children = match std::fs::read_dir(&home) {
        Ok(entries) => entries.filter_map(Result::ok).collect::<Vec<_>>(),
        Err(e) => {
            note(
                policy,
                Some(&home),
                format!(
                    "writable home directory could not be listed ({e}): nothing in it is writable"
                ),
            );
            return;
        }
    };
    let mut granted = 0;
    let mut names: Vec<_> = children.into_iter().map(|e| e.path()).collect();
    names.sort();
    for child in names {
        let is_link = std::fs::symlink_metadata(&child)
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(true);
        let named = policy.rules.iter().any(|r| r.path == child)
            || policy.deny_globs.iter().any(|g| g.matches(&child));
        if is_link || named {
            continue;
        }
        granted += 1;
        policy.rules.push(FsRule {
            path: child,
            access: Access::Write,
            kind: RuleKind::HomeChild,
            exists: true,
            origin: Origin::derived(
                "a writable home directory is expanded to its children",
                Some(&home_rule.origin),
            ),
        });
    }
    note(
        policy,
        Some(&home),
        format!(
            "writable home directory expanded to {granted} children; sensitive entries and symlinks are left out, \
             and new entries directly in the home directory cannot be created"
        ),
    );
}

/// A writable root that does not exist is skipped (SPEC 3.2).
fn skip_missing_writable_roots(policy: &mut ResolvedPolicy) {
    let missing: Vec<PathBuf> = policy
        .rules
        .iter()
        .filter(|r| r.access == Access::Write && !r.exists && r.kind != RuleKind::PrivateTmp)
        .map(|r| r.path.clone())
        .collect();
    for path in missing {
        policy
            .rules
            .retain(|r| !(r.path == path && r.access == Access::Write));
        note(
            policy,
            Some(&path),
            "writable root does not exist: skipped".into(),
        );
    }
}

/// Protected names under every writable root (SPEC 3.4).
fn protect_names(policy: &mut ResolvedPolicy) {
    let roots: Vec<FsRule> = policy
        .rules
        .iter()
        .filter(|r| {
            r.access == Access::Write && matches!(r.kind, RuleKind::Path | RuleKind::HomeChild)
        })
        .filter(|r| std::fs::metadata(&r.path).is_ok_and(|m| m.is_dir()))
        .cloned()
        .collect();
    // The policy file name is protected too, so a run cannot plant a
    // policy that a later run in the same directory would pick up.
    let mut names = policy.protect.names.clone();
    if !names.iter().any(|n| n == crate::discover::POLICY_FILE_NAME) {
        names.push(crate::discover::POLICY_FILE_NAME.to_string());
    }
    let mut protected: Vec<PathBuf> = Vec::new();
    for root in &roots {
        for name in &names {
            let path = root.path.join(name);
            let reason = format!(
                "protected name '{name}' under writable root {}",
                root.path.display()
            );
            let origin = Origin::derived(reason, Some(&root.origin));
            let kind = RuleKind::Protected { name: name.clone() };
            let exists = std::fs::symlink_metadata(&path).is_ok();
            let target = std::fs::canonicalize(&path).ok();
            // In commit mode a `.git` directory is opened by `protect_git`;
            // a `.git` file (worktree pointer) or a missing one stays protected.
            let opened = name == ".git"
                && policy.protect.git == GitMode::Commit
                && target.as_ref().is_some_and(|t| t.is_dir());
            if opened {
                protected.extend(protect_git(policy, root, &path, &origin));
                continue;
            }
            restrict(
                policy,
                FsRule {
                    path: path.clone(),
                    access: Access::Read,
                    kind: kind.clone(),
                    exists,
                    origin: origin.clone(),
                },
            );
            protected.push(path.clone());
            if let Some(target) = target.filter(|t| *t != path) {
                restrict(
                    policy,
                    FsRule {
                        path: target.clone(),
                        access: Access::Read,
                        kind,
                        exists: true,
                        origin: origin.clone(),
                    },
                );
                protected.push(target);
            }
            if name == ".git" {
                protected.extend(protect_git(policy, root, &path, &origin));
            }
        }
    }
    cap_writes_under(policy, &protected);
}

/// Protects the git directories behind `dot_git`; in commit mode opens them
/// for writing except what can make git run code. Returns the paths that
/// are now protected (read-only).
fn protect_git(
    policy: &mut ResolvedPolicy,
    root: &FsRule,
    dot_git: &Path,
    origin: &Origin,
) -> Vec<PathBuf> {
    let layout = git::inspect(dot_git);
    for problem in layout.problems {
        note(
            policy,
            Some(dot_git),
            format!("{problem}: the .git entry is protected, but no git directory behind it"),
        );
    }
    let mut protected = Vec::new();
    for dir in &layout.dirs {
        let reason = format!("git directory behind {}", dot_git.display());
        let dir_origin = Origin::derived(reason, Some(origin));
        if policy.protect.git == GitMode::ReadOnly {
            restrict(
                policy,
                FsRule {
                    path: dir.clone(),
                    access: Access::Read,
                    kind: RuleKind::Protected {
                        name: ".git".into(),
                    },
                    exists: true,
                    origin: dir_origin,
                },
            );
            protected.push(dir.clone());
            continue;
        }
        if !policy.access(dir).access.can_write() && !is_within(dir, &root.path) {
            note(policy, Some(dir), "git = \"commit\": this git directory is not under a writable root, so commits will fail".into());
        }
        policy.rules.push(FsRule {
            path: dir.clone(),
            access: Access::Write,
            kind: RuleKind::GitCommit,
            exists: true,
            origin: dir_origin.clone(),
        });
        for control in git_control_paths(dir) {
            let exists = std::fs::symlink_metadata(&control).is_ok();
            restrict(
                policy,
                FsRule {
                    path: control.clone(),
                    access: Access::Read,
                    kind: RuleKind::GitControl,
                    exists,
                    origin: dir_origin.clone(),
                },
            );
            protected.push(control);
        }
    }
    if policy.protect.git == GitMode::Commit {
        for name in [".gitmodules", ".gitattributes"] {
            let path = root.path.join(name);
            let exists = std::fs::symlink_metadata(&path).is_ok();
            let origin = Origin::derived(format!("'{name}' can make git run code"), Some(origin));
            restrict(
                policy,
                FsRule {
                    path: path.clone(),
                    access: Access::Read,
                    kind: RuleKind::GitControl,
                    exists,
                    origin,
                },
            );
            protected.push(path);
        }
    }
    protected
}

/// The parts of a git directory that can make git run code or redirect it
/// elsewhere, all kept read-only in commit mode.
fn git_control_paths(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = [
        "config",
        "config.worktree",
        "hooks",
        "info",
        "commondir",
        "gitdir",
    ]
    .iter()
    .map(|n| dir.join(n))
    .collect();
    submodule_configs(&dir.join("modules"), 0, &mut paths);
    paths
}

/// `modules/*/config`, recursively for nested submodules.
fn submodule_configs(modules: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    const MAX_DEPTH: usize = 8;
    let Ok(entries) = std::fs::read_dir(modules) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let module = entry.path();
        if module.join("config").exists() || module.join("HEAD").exists() {
            out.push(module.join("config"));
            out.push(module.join("hooks"));
            out.push(module.join("info"));
        }
        if depth < MAX_DEPTH {
            submodule_configs(&module.join("modules"), depth + 1, out);
            submodule_configs(&module, depth + 1, out);
        }
    }
}

/// Protected names win over write rules beneath them: such a rule is
/// lowered to read, with a note.
fn cap_writes_under(policy: &mut ResolvedPolicy, protected: &[PathBuf]) {
    let mut capped = Vec::new();
    for rule in &mut policy.rules {
        if rule.access == Access::Write
            && rule.kind != RuleKind::GitCommit
            && protected
                .iter()
                .any(|p| rule.path != *p && is_within(&rule.path, p))
        {
            rule.access = Access::Read;
            capped.push(rule.path.clone());
        }
    }
    for path in capped {
        note(policy, Some(&path), "writable rule lies under a protected name: lowered to read (remove the name from protect.names to allow writes)".into());
    }
}

/// The policy file that defines the sandbox is always read-only to it.
fn protect_policy_file(policy: &mut ResolvedPolicy) {
    let Some(file) = policy.policy_file.clone() else {
        return;
    };
    let origin = Origin::derived(
        "the policy file that defines the sandbox is read-only",
        None,
    );
    restrict(
        policy,
        FsRule {
            path: file,
            access: Access::Read,
            kind: RuleKind::PolicyFile,
            exists: true,
            origin,
        },
    );
}
