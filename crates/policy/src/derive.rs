//! Rules stockade derives from the merged rules and the machine: the host's
//! `/tmp` hidden behind `:tmp`, a writable home expanded to its children,
//! missing writable roots skipped, protected names and git directories, and
//! the policy file kept read-only, the host sockets `unix_sockets` lists
//! made visible. Derived rules only ever make access stricter, except the
//! git directories `git = "commit"` opens and those sockets.

use crate::access::Access;
use crate::context::ResolveContext;
use crate::fasthash::{PathMap, PathSet};
use crate::git;
use crate::paths::{EntryType, entry_type};
use crate::resolved::{FsRule, GitMode, GlobRule, Note, ResolvedPolicy, RuleKind, decide};
use crate::source::Origin;
use std::path::{Path, PathBuf};

/// The rules during derivation, indexed by path so that each question
/// ("what access does this path get?") costs a lookup per component.
struct Rules<'g> {
    by_path: PathMap<Vec<FsRule>>,
    globs: &'g [GlobRule],
    notes: Vec<Note>,
}

impl Rules<'_> {
    fn access(&self, path: &Path) -> Access {
        decide(
            path,
            |at| self.by_path.get(at).map_or(&[][..], Vec::as_slice),
            self.globs,
        )
        .access
    }

    fn names(&self, path: &Path) -> bool {
        self.by_path.contains(path)
    }

    fn push(&mut self, rule: FsRule) {
        self.by_path.at(&rule.path).push(rule);
    }

    /// Adds `rule` unless the path already gets access at least as strict
    /// from a rule naming it.
    fn restrict(&mut self, rule: FsRule) {
        let current = self.access(&rule.path);
        if current.tie_strength() < rule.access.tie_strength()
            || (rule.access == current && !self.names(&rule.path))
        {
            self.push(rule);
        }
    }

    fn note(&mut self, path: &Path, message: impl Into<String>) {
        self.notes.push(Note {
            path: Some(path.to_path_buf()),
            message: message.into(),
        });
    }

    fn iter(&self) -> impl Iterator<Item = &FsRule> {
        self.by_path.values().flatten()
    }
}

/// Applies every derivation, in order.
pub(crate) fn derive(policy: &mut ResolvedPolicy, ctx: &ResolveContext) {
    let mut rules = Rules {
        by_path: PathMap::default(),
        globs: &policy.deny_globs,
        notes: Vec::new(),
    };
    for rule in policy.rules.drain(..) {
        rules.push(rule);
    }
    hide_host_tmp(&mut rules, ctx);
    expand_home(&mut rules, ctx);
    skip_missing_writable_roots(&mut rules);
    protect_names(&mut rules, &policy.protect.names, policy.protect.git);
    if let Some(file) = &policy.policy_file {
        let origin = Origin::derived(
            "the policy file that defines the sandbox is read-only",
            None,
        );
        rules.restrict(FsRule {
            path: file.clone(),
            access: Access::Read,
            kind: RuleKind::PolicyFile,
            exists: true,
            dir: false,
            origin,
        });
    }
    show_unix_sockets(&mut rules, &policy.network.unix_sockets);
    let Rules { by_path, notes, .. } = rules;
    policy.notes.extend(notes);
    // `ResolvedPolicy::access` binary-searches this order: by path, then
    // weakest first. Sorting the groups moves far less than sorting rules.
    let mut groups: Vec<Vec<FsRule>> = by_path.into_values().filter(|g| !g.is_empty()).collect();
    groups.sort_unstable_by(|a, b| crate::canonical::cmp_paths(&a[0].path, &b[0].path));
    policy.rules = groups
        .into_iter()
        .flat_map(|mut same_path| {
            same_path.sort_by_key(|r| r.access.tie_strength());
            same_path
        })
        .collect();
    // The backends ask what each path is; resolution has asked already.
    for rule in policy.rules.iter_mut().filter(|r| r.exists) {
        rule.dir = entry_type(&rule.path) == EntryType::Dir;
    }
}

/// Each host socket `network.unix_sockets` lists is readable (so that it
/// exists in the sandbox's tree and can be connected to) even where other
/// rules hide its directory: listing it is the user's say-so. Readable is
/// all a socket needs; what may connect is the supervisor's decision.
fn show_unix_sockets(rules: &mut Rules<'_>, sockets: &[PathBuf]) {
    for socket in sockets {
        if rules.access(socket) != Access::None {
            continue;
        }
        rules.push(FsRule {
            path: socket.clone(),
            access: Access::Read,
            kind: RuleKind::Path,
            exists: socket.exists(),
            dir: false,
            origin: Origin::derived("a host unix socket that network.unix_sockets lists", None),
        });
    }
}

/// When `:tmp` is a per-run directory rather than a fresh `/tmp`, the
/// host's shared `/tmp` is hidden so the two cannot be confused.
fn hide_host_tmp(rules: &mut Rules<'_>, ctx: &ResolveContext) {
    let Some(tmp) = rules
        .iter()
        .find(|r| r.kind == RuleKind::PrivateTmp)
        .cloned()
    else {
        return;
    };
    if ctx.tmp_dir == ctx.host_tmp || rules.names(&ctx.host_tmp) {
        return;
    }
    rules.push(FsRule {
        path: ctx.host_tmp.clone(),
        access: Access::None,
        kind: RuleKind::Path,
        exists: ctx.host_tmp.exists(),
        dir: false,
        origin: Origin::derived(
            "the host's shared temporary directory is replaced by ':tmp'",
            Some(&tmp.origin),
        ),
    });
}

/// A writable root equal to the home directory is never granted as such:
/// it becomes its children, minus those another rule or glob names (the
/// sensitive ones) and symlinks (which could lead out of the home).
fn expand_home(rules: &mut Rules<'_>, ctx: &ResolveContext) {
    let Some(home) = ctx.home.as_deref() else {
        return;
    };
    let home = crate::paths::canonicalize(home, Path::new("")).path;
    let Some(same_path) = rules.by_path.get_mut(&home) else {
        return;
    };
    let Some(index) = same_path.iter().position(|r| r.access == Access::Write) else {
        return;
    };
    let home_rule = same_path.remove(index);
    if same_path.is_empty() {
        rules.by_path.remove(&home);
    }
    let mut children: Vec<PathBuf> = match std::fs::read_dir(&home) {
        Ok(entries) => entries.filter_map(Result::ok).map(|e| e.path()).collect(),
        Err(e) => {
            let message = format!(
                "writable home directory could not be listed ({e}): nothing in it is writable"
            );
            rules.note(&home, message);
            return;
        }
    };
    children.sort();
    let mut granted = 0;
    for child in children {
        let is_link =
            std::fs::symlink_metadata(&child).map_or(true, |m| m.file_type().is_symlink());
        let named = rules.names(&child) || rules.globs.iter().any(|g| g.matches(&child));
        if is_link || named {
            continue;
        }
        granted += 1;
        rules.push(FsRule {
            path: child,
            access: Access::Write,
            kind: RuleKind::HomeChild,
            exists: true,
            dir: false,
            origin: Origin::derived(
                "a writable home directory is expanded to its children",
                Some(&home_rule.origin),
            ),
        });
    }
    rules.note(
        &home,
        format!(
            "writable home directory expanded to {granted} children; sensitive entries and \
             symlinks are left out, and new entries directly in the home directory cannot be created"
        ),
    );
}

/// A writable root that does not exist is skipped (SPEC 3.2).
fn skip_missing_writable_roots(rules: &mut Rules<'_>) {
    let missing: Vec<PathBuf> = rules
        .iter()
        .filter(|r| r.access == Access::Write && !r.exists && r.kind != RuleKind::PrivateTmp)
        .map(|r| r.path.clone())
        .collect();
    for path in missing {
        if let Some(same_path) = rules.by_path.get_mut(&path) {
            same_path.retain(|r| r.access != Access::Write);
            if same_path.is_empty() {
                rules.by_path.remove(&path);
            }
        }
        rules.note(&path, "writable root does not exist: skipped");
    }
}

/// Protected names under every writable root (SPEC 3.4), plus the policy
/// file name, so a run cannot plant a policy a later run would pick up.
fn protect_names(rules: &mut Rules<'_>, names: &[String], git_mode: GitMode) {
    let roots: Vec<FsRule> = rules
        .iter()
        .filter(|r| {
            r.access == Access::Write && matches!(r.kind, RuleKind::Path | RuleKind::HomeChild)
        })
        .filter(|r| entry_type(&r.path) == EntryType::Dir)
        // The file system's root is not a workspace (`full` writes it all).
        .filter(|r| r.path.parent().is_some())
        .cloned()
        .collect();
    let mut names = names.to_vec();
    if !names.iter().any(|n| n == crate::discover::POLICY_FILE_NAME) {
        names.push(crate::discover::POLICY_FILE_NAME.to_string());
    }
    let mut protected = PathSet::default();
    for root in &roots {
        crate::paths::list_children(&root.path);
        for name in &names {
            protect_name(rules, root, name, git_mode, &mut protected);
        }
    }
    cap_writes_under(rules, &protected);
}

fn protect_name(
    rules: &mut Rules<'_>,
    root: &FsRule,
    name: &str,
    git_mode: GitMode,
    protected: &mut PathSet,
) {
    let path = root.path.join(name);
    let reason = format!(
        "protected name '{name}' under writable root {}",
        root.path.display()
    );
    let origin = Origin::derived(reason, Some(&root.origin));
    let kind = RuleKind::Protected {
        name: name.to_string(),
    };
    let entry = entry_type(&path);
    let exists = entry != EntryType::Missing;
    let target = match entry {
        EntryType::Missing => None,
        EntryType::Symlink => std::fs::canonicalize(&path).ok(),
        EntryType::Dir | EntryType::Other => Some(path.clone()),
    };
    // In commit mode a `.git` directory is opened by `protect_git`; a `.git`
    // file (worktree pointer) or a missing one stays protected.
    let opened = name == ".git"
        && git_mode == GitMode::Commit
        && target.as_ref().is_some_and(|t| t.is_dir());
    if !opened {
        let rule = |path: PathBuf, exists| FsRule {
            path,
            access: Access::Read,
            kind: kind.clone(),
            exists,
            dir: false,
            origin: origin.clone(),
        };
        rules.restrict(rule(path.clone(), exists));
        protected.insert(path.clone());
        if let Some(target) = target.filter(|t| *t != path) {
            rules.restrict(rule(target.clone(), true));
            protected.insert(target);
        }
    }
    if name == ".git" && exists {
        protect_git(rules, root, &path, &origin, git_mode, protected);
    }
}

/// Protects the git directories behind `dot_git`; in commit mode opens them
/// for writing except what can make git run code.
fn protect_git(
    rules: &mut Rules<'_>,
    root: &FsRule,
    dot_git: &Path,
    origin: &Origin,
    git_mode: GitMode,
    protected: &mut PathSet,
) {
    let layout = git::inspect(dot_git);
    for problem in layout.problems {
        rules.note(
            dot_git,
            format!("{problem}: the .git entry is protected, but no git directory behind it"),
        );
    }
    let control = |path: PathBuf, origin: &Origin| FsRule {
        exists: std::fs::symlink_metadata(&path).is_ok(),
        dir: false,
        path,
        access: Access::Read,
        kind: RuleKind::GitControl,
        origin: origin.clone(),
    };
    for dir in &layout.dirs {
        let reason = format!("git directory behind {}", dot_git.display());
        let dir_origin = Origin::derived(reason, Some(origin));
        // Commit mode opens only what the policy already makes writable.
        let open = git_mode == GitMode::Commit && rules.access(dir).can_write();
        if !open {
            if git_mode == GitMode::Commit {
                rules.note(dir, "git = \"commit\": this git directory is not under a writable root, so it stays read-only and commits will fail");
            }
            rules.restrict(FsRule {
                path: dir.clone(),
                access: Access::Read,
                kind: RuleKind::Protected {
                    name: ".git".into(),
                },
                exists: true,
                dir: false,
                origin: dir_origin,
            });
            protected.insert(dir.clone());
            continue;
        }
        rules.push(FsRule {
            path: dir.clone(),
            access: Access::Write,
            kind: RuleKind::GitCommit,
            exists: true,
            dir: false,
            origin: dir_origin.clone(),
        });
        for path in git_control_paths(dir) {
            rules.restrict(control(path.clone(), &dir_origin));
            protected.insert(path);
        }
    }
    if git_mode == GitMode::Commit {
        for name in [".gitmodules", ".gitattributes"] {
            let path = root.path.join(name);
            let origin = Origin::derived(format!("'{name}' can make git run code"), Some(origin));
            rules.restrict(control(path.clone(), &origin));
            protected.insert(path);
        }
    }
}

/// The parts of a git directory that can make git run code or redirect it
/// elsewhere, all kept read-only in commit mode.
fn git_control_paths(dir: &Path) -> Vec<PathBuf> {
    // `gitdir` only means something in a linked worktree's directory
    // (where it always exists); git ignores it elsewhere.
    let mut paths: Vec<PathBuf> = ["config", "config.worktree", "hooks", "info", "commondir"]
        .iter()
        .map(|n| dir.join(n))
        .collect();
    if dir.join("gitdir").exists() {
        paths.push(dir.join("gitdir"));
    }
    submodule_configs(&dir.join("modules"), 0, &mut paths);
    linked_worktrees(&dir.join("worktrees"), &mut paths);
    paths
}

/// The control files of linked worktrees (`worktrees/NAME/`): their
/// `commondir` and `gitdir` point git elsewhere, their `config.worktree`
/// is configuration.
fn linked_worktrees(worktrees: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(worktrees) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let worktree = entry.path();
        out.extend(["commondir", "gitdir", "config.worktree"].map(|n| worktree.join(n)));
    }
}

/// `modules/*/config` (and hooks, info), recursively for nested submodules.
fn submodule_configs(modules: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    const MAX_DEPTH: usize = 8;
    let Ok(entries) = std::fs::read_dir(modules) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let module = entry.path();
        if module.join("config").exists() || module.join("HEAD").exists() {
            out.extend(["config", "hooks", "info"].map(|n| module.join(n)));
        }
        if depth < MAX_DEPTH {
            submodule_configs(&module.join("modules"), depth + 1, out);
            submodule_configs(&module, depth + 1, out);
        }
    }
}

/// Protected names win over write rules beneath them: such a rule is
/// lowered to read, with a note.
fn cap_writes_under(rules: &mut Rules<'_>, protected: &PathSet) {
    let mut capped = Vec::new();
    for (path, same_path) in rules.by_path.iter_mut() {
        let beneath = crate::canonical::ancestors(path)
            .skip(1)
            .any(|a| protected.contains(a));
        if !beneath {
            continue;
        }
        for rule in same_path.iter_mut() {
            if rule.access == Access::Write && rule.kind != RuleKind::GitCommit {
                rule.access = Access::Read;
                capped.push(path.to_path_buf());
            }
        }
    }
    for path in capped {
        rules.note(
            &path,
            "writable rule lies under a protected name: lowered to read (remove the name from \
             protect.names to allow writes)",
        );
    }
}
