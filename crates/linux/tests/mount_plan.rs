//! The mount-tree plan, without privileges: which mounts a resolved policy
//! becomes, what is hidden, snapshotted or given a placeholder, and what
//! blocks the run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use stockade_linux::backend::Mode;
use stockade_linux::mounts::{MountOp, MountPlan, plan};
use stockade_policy::{
    Overrides, Platform, PolicyFile, ResolveContext, ResolvedPolicy, Source, SourceText,
};

struct Tree {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Tree {
    fn new() -> Tree {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        for d in ["home/.ssh", "home/.cache", "ws/src", "outside"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::write(root.join("home/.ssh/id_rsa"), "key").unwrap();
        Tree { _dir: dir, root }
    }

    fn ctx(&self) -> ResolveContext {
        ResolveContext {
            platform: Platform::Linux,
            cwd: self.root.join("ws"),
            invocation_dir: self.root.join("ws"),
            home: Some(self.root.join("home")),
            user: "u".into(),
            uid: Some(1000),
            hostname: "h".into(),
            // Not /tmp: a clone under /tmp would put the fixture beneath it.
            tmp_dir: "/stockade-test-private-tmp".into(),
            host_tmp: "/stockade-test-private-tmp".into(),
            roots: vec!["/".into()],
            env: BTreeMap::new(),
        }
    }

    fn policy(&self, text: Option<&str>, overrides: Overrides) -> ResolvedPolicy {
        let file = text.map(|t| {
            PolicyFile::parse(SourceText::new(
                Source::File {
                    path: self.root.join("ws/.stockade.toml").into(),
                },
                t.into(),
            ))
            .unwrap()
        });
        let profile = text.map(|_| "t");
        stockade_policy::resolve(file.as_ref(), profile, &overrides, &self.ctx()).unwrap()
    }
}

fn binds(plan: &MountPlan) -> Vec<(PathBuf, bool)> {
    plan.ops
        .iter()
        .filter_map(|op| match op {
            MountOp::Bind { path, writable, .. } => Some((path.clone(), *writable)),
            _ => None,
        })
        .collect()
}

fn hidden(plan: &MountPlan) -> Vec<PathBuf> {
    plan.ops
        .iter()
        .filter_map(|op| match op {
            MountOp::Hide { path, .. } => Some(path.clone()),
            _ => None,
        })
        .collect()
}

fn shadows(plan: &MountPlan) -> Vec<PathBuf> {
    plan.ops
        .iter()
        .filter_map(|op| match op {
            MountOp::Shadow { path, .. } => Some(path.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn workspace_is_a_read_only_root_with_a_writable_workspace() {
    let t = Tree::new();
    let p = plan(&t.policy(None, Overrides::default()));
    assert_eq!(p.ops[0], MountOp::RootBind { writable: false });
    assert!(
        binds(&p).contains(&(t.root.join("ws"), true)),
        "{:?}",
        binds(&p)
    );
    assert!(
        !binds(&p)
            .iter()
            .any(|(path, _)| path == &t.root.join("ws/src")),
        "no mount where the parent already gives it"
    );
    assert!(
        p.ops.contains(&MountOp::Proc)
            && p.ops.contains(&MountOp::Dev)
            && p.ops.contains(&MountOp::Sys)
    );
    assert!(p.ops.iter().any(
        |op| matches!(op, MountOp::Tmpfs { path, writable: true, .. } if path == Path::new("/stockade-test-private-tmp"))
    ));
    assert!(p.blockers.is_empty(), "{:?}", p.blockers);
    // `/dev/shm` is hidden by the minimal `/dev` that replaces the host's:
    // nothing is mounted beneath a tree that is replaced whole.
    let beneath_replaced = binds(&p)
        .into_iter()
        .map(|(path, _)| path)
        .chain(hidden(&p))
        .chain(shadows(&p))
        .filter(|path| {
            ["/dev", "/proc", "/sys"]
                .iter()
                .any(|top| path.starts_with(top))
        })
        .collect::<Vec<_>>();
    assert!(beneath_replaced.is_empty(), "{beneath_replaced:?}");
}

#[test]
fn existing_secrets_are_hidden_and_missing_ones_kept_absent_by_a_snapshot() {
    let t = Tree::new();
    let p = plan(&t.policy(None, Overrides::default()));
    assert!(
        hidden(&p).contains(&t.root.join("home/.ssh")),
        "{:?}",
        hidden(&p)
    );
    // ~/.aws does not exist: the home directory is snapshotted instead.
    assert!(
        shadows(&p).contains(&t.root.join("home")),
        "{:?}",
        shadows(&p)
    );
    let MountOp::Shadow {
        entries,
        mount_points,
        ..
    } = p
        .ops
        .iter()
        .find(|op| matches!(op, MountOp::Shadow { path, .. } if path == &t.root.join("home")))
        .unwrap()
    else {
        unreachable!()
    };
    assert!(entries.iter().any(|e| e == ".cache"), "{entries:?}");
    assert!(
        mount_points.iter().any(|e| e == ".ssh"),
        "hidden entries only get a mount point: {mount_points:?}"
    );
    assert!(!entries.iter().any(|e| e == ".ssh"));
}

#[test]
fn missing_protected_names_get_placeholders_and_leave_no_blocker() {
    // (placeholders of git control files are covered in `commit_mode_placeholders_mean_absence`)
    let t = Tree::new();
    let p = plan(&t.policy(None, Overrides::default()));
    let placeholders: Vec<&Path> = p.placeholders.iter().map(|p| p.path.as_path()).collect();
    for name in [".git", ".agents", ".codex", ".stockade", ".stockade.toml"] {
        assert!(
            placeholders.contains(&t.root.join("ws").join(name).as_path()),
            "{name}: {placeholders:?}"
        );
    }
    let dot_git = p
        .placeholders
        .iter()
        .find(|p| p.path.ends_with(".git"))
        .unwrap();
    assert!(dot_git.dir, "git's discovery skips an empty .git directory");
    let policy_file = p
        .placeholders
        .iter()
        .find(|p| p.path.ends_with(".stockade.toml"))
        .unwrap();
    assert!(
        policy_file.dir,
        "regression: an empty placeholder file left by a killed run was discovered as the policy; a directory is not"
    );
    assert!(binds(&p).contains(&(t.root.join("ws/.git"), false)));
}

#[test]
fn an_existing_protected_name_is_bound_read_only() {
    let t = Tree::new();
    std::fs::create_dir_all(t.root.join("ws/.git")).unwrap();
    let p = plan(&t.policy(None, Overrides::default()));
    assert!(binds(&p).contains(&(t.root.join("ws/.git"), false)));
    assert!(!p.placeholders.iter().any(|p| p.path.ends_with(".git")));
}

#[test]
fn a_missing_deny_under_the_workspace_gets_a_hidden_placeholder() {
    let t = Tree::new();
    let p = plan(&t.policy(
        None,
        Overrides {
            deny: vec!["later".into()],
            ..Default::default()
        },
    ));
    assert!(p.blockers.is_empty(), "{:?}", p.blockers);
    let later = p
        .placeholders
        .iter()
        .find(|p| p.path == t.root.join("ws/later"))
        .expect("a placeholder");
    assert!(
        later.dir,
        "an empty directory stands for the hidden path during the run"
    );
    assert!(hidden(&p).contains(&t.root.join("ws/later")));
    // The same path, existing, is simply hidden, with no placeholder.
    std::fs::create_dir(t.root.join("ws/later")).unwrap();
    let p = plan(&t.policy(
        None,
        Overrides {
            deny: vec!["later".into()],
            ..Default::default()
        },
    ));
    assert!(
        p.placeholders
            .iter()
            .all(|p| p.path != t.root.join("ws/later"))
    );
    assert!(hidden(&p).contains(&t.root.join("ws/later")));
}

#[test]
fn recursive_globs_are_left_to_the_supervisor_but_single_level_ones_in_read_only_dirs_hold() {
    let t = Tree::new();
    let denied = |globs: &[&str]| {
        let policy = t.policy(
            None,
            Overrides {
                deny: globs.iter().map(|g| g.to_string()).collect(),
                ..Default::default()
            },
        );
        (
            plan(&policy),
            stockade_linux::backend::plan_mode(&policy, Mode::Namespaces),
        )
    };
    let (p, linux) = denied(&["**/.env"]);
    assert!(p.blockers.is_empty(), "{:?}", p.blockers);
    assert!(
        p.unheld_globs.iter().any(|g| g.ends_with("/**/.env")),
        "{:?}",
        p.unheld_globs
    );
    // The supervisor holds it: file calls go to it.
    assert!(
        linux.blockers.iter().all(|b| b.weaker != "deny-globs"),
        "{:?}",
        linux.blockers
    );
    assert_eq!(linux.guarded_globs.len(), 1);
    assert!(linux.guarded_globs[0].recursive);
    assert!(linux.seccomp.supervise_files);
    assert!(linux.seccomp_rules.iter().any(|r| r.syscall == "openat"));
    // A wildcard in a directory name is a shape neither can hold.
    let (_, linux) = denied(&["ws/*/key"]);
    assert!(
        linux
            .blockers
            .iter()
            .any(|b| b.weaker == "deny-globs" && b.rule.contains("/*/key")),
        "{:?}",
        linux.blockers
    );
    assert!(!linux.seccomp.supervise_files);
    // The built-in `~/.cargo/credentials*` is a single-level glob in a
    // read-only directory: held by a snapshot, no blocker.
    std::fs::create_dir_all(t.root.join("home/.cargo")).unwrap();
    std::fs::write(t.root.join("home/.cargo/credentials.toml"), "t").unwrap();
    std::fs::write(t.root.join("home/.cargo/config.toml"), "c").unwrap();
    let p = plan(&t.policy(None, Overrides::default()));
    assert!(p.blockers.is_empty(), "{:?}", p.blockers);
    let MountOp::Shadow { entries, .. } = p
        .ops
        .iter()
        .find(
            |op| matches!(op, MountOp::Shadow { path, .. } if path == &t.root.join("home/.cargo")),
        )
        .unwrap()
    else {
        unreachable!()
    };
    assert_eq!(
        entries,
        &["config.toml"],
        "the glob's matches are left out of the snapshot"
    );
}

#[test]
fn a_workspace_under_the_private_tmp_is_still_bound_from_the_host() {
    let t = Tree::new();
    let mut ctx = t.ctx();
    ctx.tmp_dir = t.root.clone(); // the private tmp covers the whole tree
    ctx.host_tmp = t.root.clone();
    let policy = stockade_policy::resolve(None, None, &Overrides::default(), &ctx).unwrap();
    let p = plan(&policy);
    assert!(
        binds(&p).contains(&(t.root.join("ws"), true)),
        "regression: writes landed in the tmpfs: {:?}",
        p.ops
    );
    // Regression (CI clones under /tmp): the home directory under the
    // private tmpfs is not shown at all, so its secrets, existing or
    // missing, need neither hiding nor placeholders, and nothing blocks.
    assert!(p.blockers.is_empty(), "{:?}", p.blockers);
    assert!(
        hidden(&p)
            .iter()
            .all(|h| !h.starts_with(t.root.join("home"))),
        "{:?}",
        hidden(&p)
    );
    assert!(
        p.placeholders
            .iter()
            .all(|x| x.path.starts_with(t.root.join("ws"))),
        "{:?}",
        p.placeholders
    );
}

#[test]
fn a_carve_out_under_the_workspace_is_a_read_only_bind_and_a_reopened_one_writable() {
    let t = Tree::new();
    std::fs::create_dir_all(t.root.join("ws/docs/drafts")).unwrap();
    let text = "[profiles.t]\nextends = \"workspace\"\n[profiles.t.filesystem]\n\"./docs\" = \"read\"\n\"./docs/drafts\" = \"write\"\n";
    let p = plan(&t.policy(Some(text), Overrides::default()));
    let b = binds(&p);
    let docs = b
        .iter()
        .position(|x| *x == (t.root.join("ws/docs"), false))
        .expect("docs read-only");
    let drafts = b
        .iter()
        .position(|x| *x == (t.root.join("ws/docs/drafts"), true))
        .expect("drafts writable");
    assert!(docs < drafts, "parents are mounted before children");
}

#[test]
fn network_full_keeps_the_hosts_sysfs_and_no_root_rule_means_an_empty_root() {
    let t = Tree::new();
    let text = "[profiles.t.filesystem]\n\":minimal\" = \"read\"\n\":cwd\" = \"write\"\n[profiles.t.network]\nmode = \"full\"\n";
    let p = plan(&t.policy(Some(text), Overrides::default()));
    assert_eq!(p.ops[0], MountOp::RootTmpfs);
    assert!(!p.ops.contains(&MountOp::Sys));
    assert!(binds(&p).contains(&(PathBuf::from("/usr"), false)));
    assert!(binds(&p).contains(&(t.root.join("ws"), true)));
}

#[test]
fn commit_mode_placeholders_mean_absence() {
    let t = Tree::new();
    for d in [
        "ws/.git/objects",
        "ws/.git/refs",
        "ws/.git/hooks",
        "ws/.git/info",
    ] {
        std::fs::create_dir_all(t.root.join(d)).unwrap();
    }
    std::fs::write(t.root.join("ws/.git/config"), "").unwrap();
    let text = "[profiles.t]\nextends = \"workspace\"\n[profiles.t.protect]\ngit = \"commit\"\n";
    let p = plan(&t.policy(Some(text), Overrides::default()));
    assert!(p.blockers.is_empty(), "{:?}", p.blockers);
    let find = |name: &str| {
        p.placeholders
            .iter()
            .find(|p| p.path.ends_with(name))
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert_eq!(
        (find(".git/commondir").dir, find(".git/commondir").content),
        (false, ".\n"),
        "a commondir of '.' is no redirection"
    );
    assert_eq!(
        (find("config.worktree").dir, find("config.worktree").content),
        (false, ""),
        "an empty config"
    );
    assert!(
        !p.placeholders
            .iter()
            .any(|p| p.path.ends_with(".git/gitdir")),
        "git ignores gitdir outside worktrees"
    );
    assert!(binds(&p).contains(&(t.root.join("ws/.git/config"), false)));
    assert!(binds(&p).contains(&(t.root.join("ws/.git/hooks"), false)));
}

#[test]
fn ancestors_of_carve_outs_under_a_writable_root_are_pinned() {
    let t = Tree::new();
    std::fs::create_dir_all(t.root.join("ws/a/b/docs")).unwrap();
    let o = Overrides {
        readable: vec!["a/b/docs".into()],
        ..Default::default()
    };
    let p = plan(&t.policy(None, o));
    let b = binds(&p);
    let pos = |path: &str| b.iter().position(|x| x.0 == t.root.join(path));
    let (a, ab, docs) = (
        pos("ws/a").expect("a pinned"),
        pos("ws/a/b").expect("a/b pinned"),
        pos("ws/a/b/docs").unwrap(),
    );
    assert!(a < ab && ab < docs, "pins come first, parents first: {b:?}");
    assert!(
        b[a].1 && b[ab].1 && !b[docs].1,
        "pins stay writable; the carve-out is read-only"
    );
}

#[test]
fn a_protected_name_that_is_a_symlink_blocks() {
    let t = Tree::new();
    std::fs::create_dir_all(t.root.join("ws/realgit")).unwrap();
    std::os::unix::fs::symlink("realgit", t.root.join("ws/.git")).unwrap();
    let p = plan(&t.policy(None, Overrides::default()));
    assert!(
        p.blockers
            .iter()
            .any(|b| b.reason.contains("is a symbolic link")),
        "{:?}",
        p.blockers
    );
}
