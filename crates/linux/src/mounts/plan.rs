//! The mount tree of the sandbox, as data: which host paths appear where,
//! writable or not, what is hidden, and what must be created on the host
//! for the run. Pure: computed from a resolved policy and the file system's
//! current state, printed by `explain`, asserted on by tests, and applied by
//! `mounts::apply` inside the sandbox's mount namespace.
//!
//! # Security
//!
//! The tree mirrors host paths at the same locations, so the path a rule
//! names is the path the command sees. Starting from the rule for `/` (a
//! recursive read-only or writable bind) or from an empty tmpfs, each rule
//! whose access differs from what its nearest ancestor already gives becomes
//! one mount: a bind (writable or read-only) or a hiding overmount. Rules
//! that cannot be held by mounts — a path that does not exist yet under a
//! writable directory, a `**` glob — are reported as [`Blocker`]s, and the
//! run is refused unless the user opts into less.

pub use crate::why::Why;
use serde::Serialize;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use stockade_policy::{
    Access, FsRule, NetworkMode, PathMap, PathSet, ResolvedPolicy, RuleKind, ancestors, cmp_paths,
    parent,
};

/// One step of building the tree, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum MountOp {
    /// The host's whole tree at `/`, recursively, writable or read-only.
    RootBind { writable: bool },
    /// An empty root: only what later steps bind is visible.
    RootTmpfs,
    /// The host path bound at the same path (recursively), writable or not.
    Bind {
        path: PathBuf,
        writable: bool,
        why: Why,
    },
    /// An inaccessible overmount hiding an existing path (an empty
    /// directory or file with mode 000, read-only). A directory with
    /// `reopened` descendants (granted by deeper rules) is traverse-only
    /// (mode 0111) so they can be reached, and nothing else listed.
    Hide {
        path: PathBuf,
        dir: bool,
        reopened: bool,
        why: Why,
    },
    /// A directory replaced by a snapshot of itself: the entries that exist
    /// now are bound back (read-only), so nothing created later appears.
    /// `mount_points` are entries a later step mounts over, hiding or
    /// binding them writable: only an empty mount point is made for them.
    Shadow {
        path: PathBuf,
        entries: Vec<OsString>,
        mount_points: Vec<OsString>,
        why: Why,
    },
    /// A fresh tmpfs (the private `/tmp`).
    Tmpfs {
        path: PathBuf,
        writable: bool,
        why: Why,
    },
    /// A new `/proc` for the sandbox's pid namespace.
    Proc,
    /// A minimal `/dev`: null, zero, full, random, urandom, tty, a private
    /// devpts with its ptmx, and the fd/stdin/stdout/stderr links.
    Dev,
    /// A read-only sysfs of the sandbox's own network namespace.
    Sys,
}

/// A path created on the host for the run (a mount point for a protected
/// name that does not exist) and removed when the run ends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Placeholder {
    pub path: PathBuf,
    /// A directory (else a file).
    pub dir: bool,
    /// A file's content: what makes it mean the same as its absence.
    pub content: &'static str,
}

/// A rule the mount tree cannot hold exactly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Blocker {
    /// The rule, as `explain` names it.
    pub rule: String,
    /// Why it cannot be held.
    pub reason: String,
    /// The `--allow-weaker` name that accepts running without it.
    pub weaker: &'static str,
}

/// The mount tree for one policy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MountPlan {
    pub ops: Vec<MountOp>,
    pub placeholders: Vec<Placeholder>,
    /// Paths present when planned where a run's placeholder may stand (a
    /// protected or hidden name in a writable directory) and that were no
    /// placeholder then. A run holds them as it holds its placeholders:
    /// one another run made just after planning cannot be removed from
    /// under the mounts planned on it, and one that went between planning
    /// and holding is made again. Not shown: they are the host's own.
    #[serde(skip)]
    pub present: Vec<Placeholder>,
    pub blockers: Vec<Blocker>,
    /// Deny globs the mount tree cannot hold for files created during the
    /// run (a `**` glob, a glob in a writable directory).
    pub unheld_globs: Vec<String>,
    /// The mount points so far (for pinning).
    #[serde(skip)]
    mounted: PathSet,
}

/// Names that may stand as empty placeholder directories during a run:
/// tools treat an empty directory of these names as absent (git's discovery
/// skips a `.git` directory that is not a repository; policy discovery takes
/// only a regular `.stockade.toml` file).
const DIR_PLACEHOLDERS: &[&str] = &[
    ".git",
    ".stockade",
    ".agents",
    ".codex",
    ".stockade.toml",
    "hooks",
    "info",
];
/// Names that may stand as empty placeholder files during a run.
/// Names that may stand as placeholder files, with the content that makes
/// each mean the same as its absence to git: no submodules, no attributes,
/// an empty per-worktree config, and a common directory that is the git
/// directory itself (`.`), as for any repository without `commondir`.
const FILE_PLACEHOLDERS: &[(&str, &str)] = &[
    (".gitmodules", ""),
    (".gitattributes", ""),
    ("config.worktree", ""),
    ("commondir", ".\n"),
];

/// Computes the mount tree. Looks at the file system (what exists, what is
/// a directory, the entries of shadowed directories) but changes nothing.
pub fn plan(policy: &ResolvedPolicy) -> MountPlan {
    // What resolution found (missing, or what it is) needs no second look.
    let mut answers = Answers::default();
    for rule in policy
        .rules
        .iter()
        .filter(|r| r.kind != RuleKind::PrivateTmp)
    {
        answers
            .is_dir
            .insert(rule.path.clone(), rule.exists.then_some(rule.dir));
    }
    ANSWERS.with(|a| *a.borrow_mut() = answers);
    let plan = plan_uncached(policy);
    ANSWERS.with(|a| *a.borrow_mut() = Answers::default());
    plan
}

fn plan_uncached(policy: &ResolvedPolicy) -> MountPlan {
    let mut plan = MountPlan::default();
    let root = policy
        .rules
        .iter()
        .filter(|r| r.path == Path::new("/"))
        .max_by_key(|r| r.access.tie_strength());
    plan.mounted.insert(PathBuf::from("/"));
    plan.ops.push(match root {
        Some(r) if r.access != Access::None => MountOp::RootBind {
            writable: r.access == Access::Write,
        },
        _ => MountOp::RootTmpfs,
    });
    let shadows = shadow_dirs(policy);
    // `/proc`, `/dev` and (with the root bound) `/sys` are replaced whole
    // below: a rule beneath them would only be mounted and covered.
    let own_sys =
        policy.network.mode != NetworkMode::Full && matches!(plan.ops[0], MountOp::RootBind { .. });
    let replaced = |path: &Path| {
        path.starts_with("/proc")
            || path.starts_with("/dev")
            || (own_sys && path.starts_with("/sys"))
    };
    let mut steps: Vec<Step<'_>> = policy
        .rules
        .iter()
        .filter(|r| r.path != Path::new("/") && !replaced(&r.path))
        .map(Step::Rule)
        .chain(
            shadows
                .iter()
                .filter(|(dir, _)| !replaced(dir))
                .map(|(dir, why)| Step::Shadow(dir, why)),
        )
        .collect();
    // Parents before children; a shadow before the rules beneath it.
    steps.sort_by(|a, b| cmp_paths(a.path(), b.path()).then(a.order().cmp(&b.order())));
    for step in steps {
        match step {
            Step::Shadow(dir, why) => plan.shadow(policy, dir, why),
            Step::Rule(rule) => plan.rule(policy, rule, &shadows),
        }
    }
    plan.ops.push(MountOp::Proc);
    plan.ops.push(MountOp::Dev);
    if own_sys {
        // The host's sysfs shows the host's network devices; the sandbox's
        // own shows those of its network namespace.
        plan.ops.push(MountOp::Sys);
    }
    for glob in &policy.deny_globs {
        plan.glob(policy, &glob.pattern, &shadows);
    }
    plan
}

enum Step<'a> {
    Rule(&'a FsRule),
    Shadow(&'a PathBuf, &'a String),
}

impl Step<'_> {
    fn path(&self) -> &Path {
        match self {
            Step::Rule(r) => &r.path,
            Step::Shadow(p, _) => p,
        }
    }
    fn order(&self) -> u8 {
        match self {
            Step::Shadow(..) => 0,
            Step::Rule(r) => 1 + r.access.tie_strength(),
        }
    }
}

/// The access the tree gives `path` from the rules strictly above it
/// (cached by parent for one `plan` call: siblings share it).
fn inherited(policy: &ResolvedPolicy, path: &Path) -> Access {
    let Some(parent) = parent(path) else {
        return Access::None;
    };
    memo(
        |a| &mut a.inherited,
        parent,
        || policy.access(parent).access,
    )
}

/// How a blocker names a rule: `read /ws/.git`.
fn rule_name(rule: &FsRule) -> String {
    format!("{} {}", rule.access, rule.path.display())
}

/// Whether a rule beneath `path` grants access to something that exists.
fn reopened_below(policy: &ResolvedPolicy, path: &Path) -> bool {
    let start = policy
        .rules
        .partition_point(|r| cmp_paths(&r.path, path).is_le());
    policy.rules[start..]
        .iter()
        .take_while(|r| r.path.starts_with(path))
        .any(|r| r.access != Access::None && r.exists)
}

/// The access the nearest rule above `path` gives through a bind of the
/// host's tree; `None` when what is above is not the host's (a private
/// tmpfs), so `path` needs its own bind to show the host's files.
fn host_backed(policy: &ResolvedPolicy, path: &Path) -> Option<Access> {
    let parent = parent(path)?;
    memo(
        |a| &mut a.backed,
        parent,
        || {
            let here = policy.rules_at(parent);
            if here.iter().any(|r| r.kind == RuleKind::PrivateTmp) {
                None
            } else if let Some(strongest) = here.iter().max_by_key(|r| r.access.tie_strength()) {
                Some(strongest.access)
            } else {
                host_backed(policy, parent)
            }
        },
    )
}

/// File-system and policy answers for one `plan` call: rules share their
/// parents and ancestors.
#[derive(Default)]
struct Answers {
    /// `lstat`: a directory or not (`None`: it does not exist).
    is_dir: PathMap<Option<bool>>,
    /// [`host_backed`], by parent.
    backed: PathMap<Option<Access>>,
    /// [`inherited`], by parent.
    inherited: PathMap<Access>,
}

thread_local! {
    static ANSWERS: std::cell::RefCell<Answers> = std::cell::RefCell::default();
}

/// The answer for `key` in the map `which` selects, computed once. No
/// borrow is held while `compute` runs (it may ask again, recursively).
fn memo<V: Copy>(
    which: fn(&mut Answers) -> &mut PathMap<V>,
    key: &Path,
    compute: impl FnOnce() -> V,
) -> V {
    if let Some(hit) = ANSWERS.with(|a| which(&mut a.borrow_mut()).get(key).copied()) {
        return hit;
    }
    let answer = compute();
    ANSWERS.with(|a| which(&mut a.borrow_mut()).insert(key.to_path_buf(), answer));
    answer
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Whether `path` is a directory (`None`: it does not exist), asked once
/// per `plan` call.
fn entry_is_dir(path: &Path) -> Option<bool> {
    memo(
        |a| &mut a.is_dir,
        path,
        || std::fs::symlink_metadata(path).ok().map(|m| m.is_dir()),
    )
}

/// Read-only directories that need a snapshot: parents of rules naming a
/// path that does not exist yet, where only a host process could create it.
fn shadow_dirs(policy: &ResolvedPolicy) -> Vec<(PathBuf, String)> {
    let mut dirs: Vec<(PathBuf, String)> = Vec::new();
    let mut seen = PathSet::default();
    let mut add = |dir: PathBuf, why: &dyn Fn() -> String| {
        if !seen.contains(&dir) {
            seen.insert(dir.clone());
            if policy.access(&dir).access == Access::Read {
                dirs.push((dir, why()));
            }
        }
    };
    for rule in &policy.rules {
        let wants_absence =
            !rule.exists && rule.access != Access::Write && rule.kind != RuleKind::PrivateTmp;
        if let Some(anchor) = wants_absence.then(|| anchor(&rule.path)).flatten() {
            add(anchor, &|| {
                format!(
                    "{} does not exist; nothing created there later may appear",
                    rule.path.display()
                )
            });
        }
    }
    for glob in &policy.deny_globs {
        if let Some(anchor) = glob_dir(&glob.pattern).and_then(|dir| anchor(&dir.join("*"))) {
            add(anchor, &|| {
                format!(
                    "glob {} must also hold for files created later",
                    glob.pattern
                )
            });
        }
    }
    dirs
}

/// The deepest existing directory above a path (the path's parent when it
/// exists): the directory whose snapshot keeps the path absent.
fn anchor(path: &Path) -> Option<PathBuf> {
    ancestors(path)
        .skip(1)
        .find(|a| entry_is_dir(a) == Some(true))
        .map(Path::to_path_buf)
}

/// The directory of a glob whose only wildcards are in its last component
/// (`/home/u/.cargo/credentials*` → `/home/u/.cargo`); `None` for `**` or
/// wildcards in directory names, which a snapshot cannot hold.
fn glob_dir(pattern: &str) -> Option<PathBuf> {
    let (dir, name) = pattern.rsplit_once('/')?;
    let wild = |s: &str| s.contains(['*', '?', '[', '{']);
    if wild(dir) || name.contains("**") || dir.is_empty() {
        return None;
    }
    Some(PathBuf::from(dir))
}

impl MountPlan {
    /// Adds a mount, first pinning every writable directory between it and
    /// the nearest mount above: a bind of a directory onto itself makes it
    /// a mount point, which cannot be renamed (EBUSY), so a command cannot
    /// move an ancestor of a carve-out away and recreate the carve-out's
    /// path as an ordinary, writable one.
    fn mount(&mut self, policy: &ResolvedPolicy, op: MountOp) {
        let path = match &op {
            MountOp::Bind { path, .. }
            | MountOp::Hide { path, .. }
            | MountOp::Tmpfs { path, .. } => path.clone(),
            _ => PathBuf::from("/"),
        };
        let mut pins: Vec<PathBuf> = Vec::new();
        for ancestor in ancestors(&path).skip(1) {
            if self.mounted.contains(ancestor) || ancestor == Path::new("/") {
                break;
            }
            if host_backed(policy, ancestor) != Some(Access::Write)
                || policy.access(ancestor).access != Access::Write
            {
                break;
            }
            pins.push(ancestor.to_path_buf());
        }
        for pin in pins.into_iter().rev() {
            let why = Why::Pinned(pin.clone());
            self.mounted.insert(pin.clone());
            self.ops.push(MountOp::Bind {
                path: pin,
                writable: true,
                why,
            });
        }
        self.mounted.insert(path);
        self.ops.push(op);
    }

    fn shadow(&mut self, policy: &ResolvedPolicy, dir: &Path, why: &str) {
        // Entries a glob matches are left out of the snapshot: absent is
        // as hidden as hidden gets.
        let hidden = |name: &OsString| policy.deny_globs.iter().any(|g| g.matches(&dir.join(name)));
        let mut entries: Vec<OsString> = match std::fs::read_dir(dir) {
            Ok(list) => list
                .filter_map(Result::ok)
                .map(|e| e.file_name())
                .filter(|n| !hidden(n))
                .collect(),
            Err(e) => {
                self.blockers.push(Blocker {
                    rule: format!("shadow {}", dir.display()),
                    reason: format!("cannot list {} to snapshot it: {e}", dir.display()),
                    weaker: "created-later",
                });
                return;
            }
        };
        entries.sort();
        let strongest = |name: &OsString| {
            policy
                .rules_at(&dir.join(name))
                .iter()
                .map(|r| r.access)
                .max_by_key(|a| a.tie_strength())
        };
        // Entries a later step hides or binds writable need only a mount point.
        let (mount_points, entries): (Vec<OsString>, Vec<OsString>) = entries
            .into_iter()
            .partition(|name| matches!(strongest(name), Some(Access::Write | Access::None)));
        self.mounted.insert(dir.to_path_buf());
        self.ops.push(MountOp::Shadow {
            path: dir.to_path_buf(),
            entries,
            mount_points,
            why: why.to_owned().into(),
        });
    }

    fn rule(&mut self, policy: &ResolvedPolicy, rule: &FsRule, shadows: &[(PathBuf, String)]) {
        let path = rule.path.clone();
        let above = inherited(policy, &path);
        if rule.kind == RuleKind::PrivateTmp {
            if rule.access != Access::None {
                let why = "the run's private temporary directory".into();
                self.mount(
                    policy,
                    MountOp::Tmpfs {
                        path,
                        writable: rule.access == Access::Write,
                        why,
                    },
                );
            }
            return;
        }
        if host_backed(policy, &path) == Some(rule.access)
            && !matches!(rule.kind, RuleKind::Protected { .. })
        {
            return; // the host tree above already shows exactly this
        }
        if rule.access == Access::None && host_backed(policy, &path).is_none() {
            return; // nothing of the host's is shown here (a private tmpfs): nothing to hide
        }
        let dir = entry_is_dir(&path);
        // Only where this policy makes placeholders (a `none` or `read`
        // path in a writable directory) can one be left or shared by
        // another run; elsewhere a path is taken as it is.
        let may_be_placeholder = above == Access::Write && rule.access != Access::Write;
        match (rule.access, dir) {
            (Access::None, Some(dir)) => {
                if may_be_placeholder {
                    self.share(&path, dir, "");
                }
                let why = Why::Rule {
                    prefix: "hidden: ",
                    origin: rule.origin.clone(),
                };
                let reopened = dir && reopened_below(policy, &path);
                self.mount(
                    policy,
                    MountOp::Hide {
                        path,
                        dir,
                        reopened,
                        why,
                    },
                );
            }
            (Access::None | Access::Read, None) => self.missing(policy, rule, above, shadows),
            (Access::Read, Some(_))
                if matches!(rule.kind, RuleKind::Protected { .. }) && is_symlink(&path) =>
            {
                self.blockers.push(Blocker {
                    rule: rule_name(rule),
                    reason: format!(
                        "the protected name {} is a symbolic link: its target stays read-only, but the link \
                         itself lies in a writable directory and could be replaced",
                        path.display()
                    ),
                    weaker: "created-later",
                });
            }
            (Access::Read | Access::Write, Some(dir)) => {
                if may_be_placeholder {
                    let name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let content = FILE_PLACEHOLDERS
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map_or("", |(_, c)| *c);
                    self.share(&path, dir, content);
                }
                if rule.access == above {
                    // Protected and already read-only: it stays, but it
                    // must also stay present (a bind pins it).
                    if rule.access == Access::Read {
                        return;
                    }
                }
                let why = Why::Rule {
                    prefix: "",
                    origin: rule.origin.clone(),
                };
                self.mount(
                    policy,
                    MountOp::Bind {
                        path,
                        writable: rule.access == Access::Write,
                        why,
                    },
                );
            }
            (Access::Write, None) => {} // skipped by resolution with a note
        }
    }

    /// A present path where a placeholder may stand: another run's (or a
    /// killed run's) placeholder is shared; anything else is held as
    /// present (see [`MountPlan::present`]).
    fn share(&mut self, path: &Path, dir: bool, content: &'static str) {
        let entry = Placeholder {
            path: path.to_path_buf(),
            dir,
            content,
        };
        if crate::placeholders::is_placeholder(path) {
            self.placeholders.push(entry);
        } else if !is_symlink(path) {
            self.present.push(entry);
        }
    }

    /// A `none` or `read` rule on a path that does not exist.
    fn missing(
        &mut self,
        policy: &ResolvedPolicy,
        rule: &FsRule,
        above: Access,
        shadows: &[(PathBuf, String)],
    ) {
        if host_backed(policy, &rule.path).is_none() {
            return; // under a private tmpfs or an empty root: the host path is not shown
        }
        if above != Access::Write {
            // Only a host process could create it: the snapshot of its
            // deepest existing ancestor (if that is shown at all) keeps it
            // absent.
            let anchor = anchor(&rule.path);
            if above == Access::None || shadows.iter().any(|(d, _)| Some(d) == anchor.as_ref()) {
                return;
            }
            self.blockers.push(Blocker {
                rule: rule_name(rule),
                reason: format!(
                    "{} does not exist, and its parent cannot be snapshotted",
                    rule.path.display()
                ),
                weaker: "created-later",
            });
            return;
        }
        let file_name = rule
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Names tools read as files get a file that means their absence;
        // any other path the policy hides or keeps read-only can stand as
        // an empty directory for the run: that is what the rule asks for.
        let file = FILE_PLACEHOLDERS.iter().find(|(n, _)| *n == file_name);
        let (dir, content) = match file {
            Some((_, content)) if !DIR_PLACEHOLDERS.contains(&file_name.as_str()) => {
                (false, *content)
            }
            _ => (true, ""),
        };
        self.placeholders.push(Placeholder {
            path: rule.path.clone(),
            dir,
            content,
        });
        let why = Why::Placeholder {
            path: rule.path.clone(),
            origin: rule.origin.clone(),
        };
        match rule.access {
            Access::None => self.mount(
                policy,
                MountOp::Hide {
                    path: rule.path.clone(),
                    dir,
                    reopened: false,
                    why: why.clone(),
                },
            ),
            _ => self.mount(
                policy,
                MountOp::Bind {
                    path: rule.path.clone(),
                    writable: false,
                    why,
                },
            ),
        }
    }

    /// A glob is held when its directory is snapshotted (above), or when
    /// its directory is not shown at all; otherwise the mount tree cannot
    /// hold it for files created during the run, and it is left to the
    /// supervisor (`unheld_globs`).
    fn glob(&mut self, policy: &ResolvedPolicy, pattern: &str, shadows: &[(PathBuf, String)]) {
        if let Some(dir) = glob_dir(pattern) {
            let anchor = anchor(&dir.join("*"));
            let shown = host_backed(policy, &dir.join("*")).is_some();
            if shadows.iter().any(|(d, _)| Some(d) == anchor.as_ref())
                || policy.access(&dir).access == Access::None
                || !shown
            {
                return;
            }
        }
        self.unheld_globs.push(pattern.to_owned());
    }
}
