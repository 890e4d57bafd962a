//! Classes 5, 6 and 8: protected names, git code execution, the sandbox's
//! own files.

use crate::common::*;
use std::process::Stdio;
use std::time::Duration;

/// `mkdir .git` meets the placeholder (EEXIST); anything below it is
/// read-only.
const CREATE_DENIED: &[&str] = &[
    "EROFS", "EACCES", "EPERM", "EEXIST", "EBUSY", "EXDEV", "EISDIR",
];

// ---- 5. Creating protected names ----

#[test]
fn protected_names_cannot_be_created_at_the_workspace_root() {
    let Some(t) = sandbox() else { return };
    let before = t.snapshot();
    let r = t
        .probe()
        .op(&["mkdir", ".git"])
        .op(&["mkdir", ".git/hooks"])
        .op(&["write", ".git/config", "[core]\n\tfsmonitor = evil\n"])
        .op(&["mkdir", ".agents/x"])
        .op(&["write", ".agents/x", "x"])
        .op(&["mkdir", ".codex"])
        .op(&["write", ".codex/config.toml", "x"])
        .op(&["mkdir", ".stockade"])
        .op(&["write", ".stockade/x", "x"])
        .op(&["write", ".stockade.toml", "[profiles.x]\n"])
        .op(&["rename", "sub", ".agents"])
        .op(&["symlink", "/", ".codex"])
        .op(&["mkdir", "other"])
        .op(&["write", "other/file", "x"])
        .run();
    let [
        git,
        hooks,
        config,
        agents_dir,
        agents_file,
        codex,
        codex_cfg,
        stockade_dir,
        stockade_file,
        policy,
        rename,
        symlink,
        other,
        other_file,
    ] = r.ops();
    for forbidden in [
        git,
        hooks,
        config,
        agents_dir,
        agents_file,
        codex,
        codex_cfg,
        stockade_dir,
        stockade_file,
        policy,
        rename,
        symlink,
    ] {
        denied(forbidden, CREATE_DENIED);
    }
    allowed(other);
    allowed(other_file);
    // No placeholder is left on the host.
    for name in [".git", ".agents", ".codex", ".stockade", ".stockade.toml"] {
        assert!(
            !t.exists(&format!("ws/{name}")),
            "ws/{name} left on the host"
        );
    }
    t.assert_unchanged(&before, &["ws/other"]);
}

#[test]
fn protected_names_cannot_be_created_in_a_nested_writable_root() {
    let Some(t) = sandbox() else { return };
    t.mkdir("ws/vendor/lib");
    let before = t.snapshot();
    let r = t
        .probe()
        .policy(&["-w", "vendor/lib"])
        .op(&["mkdir", "vendor/lib/.git"])
        .op(&["write", "vendor/lib/.git/HEAD", "x"])
        .op(&["write", "vendor/lib/.agents/x", "x"])
        .op(&["write", "vendor/lib/.stockade.toml", "x"])
        .op(&["mkdir", "vendor/lib/.codex"])
        .op(&["write", "vendor/lib/src.rs", "x"])
        .run();
    let [git, head, agents, policy, codex, ok] = r.ops();
    for forbidden in [git, head, agents, policy, codex] {
        denied(forbidden, CREATE_DENIED);
    }
    allowed(ok);
    t.assert_unchanged(&before, &["ws/vendor/lib/src.rs"]);
}

#[test]
fn placeholder_git_does_not_hide_the_parent_repository() {
    let Some(t) = sandbox() else { return };
    let Some(git) = find_program("git") else {
        eprintln!("skipped: git is not installed");
        return;
    };
    host_git(&git, &t, "", &["init", "-q", "."]);
    let before = t.snapshot();
    let git = git.to_str().unwrap();
    let script = format!("cd sub && exec {git} rev-parse --show-toplevel");
    let r = t.run(&["--", "/bin/sh", "-c", &script]);
    r.expect_code(0);
    assert_eq!(r.stdout.trim(), t.p(""), "git found another repository");
    // The twin: inside the sandbox, ws/.git exists (the placeholder) and
    // is read-only, yet git looked past it.
    let r = t
        .probe()
        .op(&["exists", ".git"])
        .op(&["mkdir", ".git/objects"])
        .run();
    let [exists, mkdir] = r.ops();
    assert_eq!(exists["exists"], true, "{exists}");
    denied(mkdir, WRITE_DENIED);
    assert!(!t.exists("ws/.git"), "the placeholder outlived the run");
    t.assert_unchanged(&before, &[]);
}

/// ESCAPE (class 4/5): a nested writable root `ws/x/y` is a mount point
/// and its protected names are covered, but its parent `ws/x` is an
/// ordinary directory of the outer writable root. Renaming `ws/x` away
/// moves the mounts along; `ws/x/y/.git/hooks/...` and
/// `ws/x/y/.stockade.toml` can then be created on the host, and the
/// run's placeholders are left behind under the new name.
#[test]
fn renaming_an_ancestor_of_a_nested_writable_root_cannot_plant_its_protected_names() {
    let Some(t) = sandbox() else { return };
    t.mkdir("ws/x/y");
    let before = t.snapshot();
    let r = t
        .probe()
        .policy(&["-w", "x/y"])
        .op(&["mkdir", "x/y/.git"])
        .op(&["rename", "x", "x2"])
        .op(&["mkdir", "x"])
        .op(&["mkdir", "x/y"])
        .op(&["mkdir", "x/y/.git"])
        .op(&["write", "x/y/.git/config", "[core]\n\tfsmonitor = evil\n"])
        .op(&[
            "write",
            "x/y/.stockade.toml",
            "default_profile = \"full\"\n",
        ])
        .op(&["write", "sub/ok", "x"])
        .run();
    let [direct, _rename, _x, _y, _git, config, policy, ok] = r.ops();
    denied(direct, CREATE_DENIED);
    allowed(ok);
    let _ = (config, policy);
    assert!(
        !t.exists("ws/x/y/.git"),
        "ws/x/y/.git was planted on the host"
    );
    assert!(
        !t.exists("ws/x/y/.stockade.toml"),
        "ws/x/y/.stockade.toml was planted on the host"
    );
    t.assert_unchanged(&before, &["ws/sub/ok"]);
}

/// ESCAPE (class 5): two runs in the same workspace. The second starts
/// while the first one's placeholders exist, takes them for real paths
/// and does not hold them; when the first run ends it removes them, which
/// detaches the second run's covers, and the second run can then create
/// `.git` and `.stockade.toml` on the host.
#[test]
fn protected_names_stay_covered_when_a_concurrent_run_ends() {
    let Some(t) = sandbox() else { return };
    let before = t.snapshot();
    let mut first = t
        .probe()
        .op(&["getpid"])
        .op(&["sleep", "1.5"])
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The first run's command has started: its placeholders exist.
    assert!(wait_for(Duration::from_secs(10), || t.exists("ws/.git")));
    let r = t
        .probe()
        .op(&["exists", ".git"])
        .op(&["sleep", "3"])
        .op(&["mkdir", ".git"])
        .op(&["write", ".git/config", "[core]\n\tfsmonitor = evil\n"])
        .op(&["write", ".stockade.toml", "default_profile = \"full\"\n"])
        .op(&["write", "ok", "x"])
        .run();
    first.wait().unwrap();
    let [_exists, _sleep, git, config, policy, ok] = r.ops();
    allowed(ok);
    denied(git, CREATE_DENIED);
    denied(config, CREATE_DENIED);
    denied(policy, CREATE_DENIED);
    t.assert_unchanged(&before, &["ws/ok"]);
}

/// Regression (class 5): a protected name that exists as a symlink
/// (`.git -> realgit`, `.stockade.toml -> ../pol/real.toml`) has its
/// target covered read-only, but the link itself lies in the writable root
/// and could be unlinked and replaced (by a `.git` with a hostile config,
/// or a `.stockade.toml` that makes the next run `full`). The mount tree
/// cannot pin a link, so the run is refused (125) naming the rule, and
/// nothing runs.
#[test]
fn protected_name_that_is_a_symlink_cannot_be_replaced() {
    let Some(t) = sandbox() else { return };
    t.write("ws/realgit/config", "[core]\n");
    std::os::unix::fs::symlink("realgit", t.path("ws/.git")).unwrap();
    t.write("pol/real.toml", "[profiles.p]\nextends = \"workspace\"\n");
    std::os::unix::fs::symlink("../pol/real.toml", t.path("ws/.stockade.toml")).unwrap();
    let before = t.snapshot();
    let r = t
        .probe()
        .op(&["unlink", ".git"])
        .op(&["mkdir", ".git"])
        .op(&["write", ".git/config", "[core]\n\tfsmonitor = evil\n"])
        .run();
    assert_eq!(r.code, Some(125), "{}\n{}", r.context, r.stderr);
    assert!(r.stderr.contains("is a symbolic link"), "{}", r.stderr);
    assert!(r.stderr.contains("--allow-weaker"), "{}", r.stderr);
    assert!(r.ops.is_empty(), "nothing ran: {:?}", r.ops);
    t.assert_unchanged(&before, &[]);
    // Its allowed twin: a protected name that is a real directory runs.
    std::fs::remove_file(t.path("ws/.git")).unwrap();
    std::fs::remove_file(t.path("ws/.stockade.toml")).unwrap();
    std::fs::create_dir(t.path("ws/.git")).unwrap();
    let r = t
        .probe()
        .op(&["mkdir", ".git/x"])
        .op(&["write", "ok", "x"])
        .run();
    let [git, ok] = r.ops();
    denied(git, CREATE_DENIED);
    allowed(ok);
}

// ---- 6. Git ----

#[test]
fn git_control_files_are_read_only_in_a_real_repository() {
    let Some(t) = sandbox() else { return };
    let Some(git) = find_program("git") else {
        eprintln!("skipped: git is not installed");
        return;
    };
    host_git(&git, &t, "ws", &["init", "-q", "."]);
    std::fs::create_dir_all(t.path("ws/.git/info")).unwrap();
    std::fs::create_dir_all(t.path("ws/.git/hooks")).unwrap();
    let before = t.snapshot();
    let r = t
        .probe()
        .op(&["append", ".git/config", "[core]\n\tfsmonitor = evil\n"])
        .op(&["write", ".git/hooks/pre-commit", "#!/bin/sh\nevil\n"])
        .op(&["write", ".git/info/exclude", "*\n"])
        .op(&["write", ".git/info/attributes", "* filter=evil\n"])
        .op(&["chmod", ".git/hooks", "777"])
        .op(&["rename", ".git/hooks", "hooks"])
        .op(&["write", "src.rs", "fn main() {}\n"])
        .run();
    let [config, hook, exclude, attributes, chmod, rename, ok] = r.ops();
    for forbidden in [config, hook, exclude, attributes, chmod] {
        denied(forbidden, WRITE_DENIED);
    }
    denied(rename, &["EROFS", "EACCES", "EPERM", "EXDEV", "EBUSY"]);
    allowed(ok);
    // A real git cannot change its configuration either, and reads work.
    let git = git.to_str().unwrap();
    let r = t.run(&["--", git, "config", "core.hooksPath", "/tmp/evil"]);
    assert_ne!(r.code, Some(0), "git config succeeded: {}", r.stderr);
    let r = t.run(&["--", git, "rev-parse", "--git-dir"]);
    r.expect_code(0);
    t.assert_unchanged(&before, &["ws/src.rs"]);
}

#[test]
fn commit_mode_allows_commits_but_not_config_or_hooks() {
    let Some(t) = sandbox() else { return };
    let Some(git) = find_program("git") else {
        eprintln!("skipped: git is not installed");
        return;
    };
    host_git(&git, &t, "ws", &["init", "-q", "."]);
    host_git(
        &git,
        &t,
        "ws",
        &["commit", "-q", "--allow-empty", "-m", "init"],
    );
    std::fs::create_dir_all(t.path("ws/.git/hooks")).unwrap();
    t.write(
        "ws/.stockade.toml",
        "default_profile = \"dev\"\n\n[profiles.dev]\nextends = \"workspace\"\n\n\
         [profiles.dev.protect]\ngit = \"commit\"\n",
    );
    let git = git.to_str().unwrap();
    let commit = [
        "--",
        git,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@e",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "from the sandbox",
    ];
    let r = t.run(&commit);
    if r.code == Some(125) {
        // Current behaviour (known gap): GITDIR/commondir, gitdir and
        // config.worktree are read-only rules on paths that do not exist in
        // an ordinary repository, and stockade has no placeholder for them,
        // so commit mode refuses to run until they exist.
        assert!(r.stderr.contains("commondir"), "{}", r.stderr);
        assert!(r.stderr.contains("--allow-weaker"), "{}", r.stderr);
        eprintln!(
            "known gap: commit mode needs .git/commondir to exist: {}",
            r.stderr.trim()
        );
        t.write("ws/.git/commondir", ".\n");
        t.write("ws/.git/gitdir", &format!("{}\n", t.p("ws/.git")));
        t.write("ws/.git/config.worktree", "");
    }
    let before = t.snapshot();
    t.run(&commit).expect_code(0);
    let log = std::process::Command::new(git)
        .args(["log", "--format=%s"])
        .current_dir(t.path("ws"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&log.stdout).lines().next(),
        Some("from the sandbox")
    );
    let r = t
        .probe()
        .op(&["append", ".git/config", "[core]\n\tfsmonitor = evil\n"])
        .op(&["write", ".git/hooks/x", "#!/bin/sh\n"])
        .op(&["write", ".git/hooks/pre-commit", "#!/bin/sh\n"])
        .op(&["write", ".git/info/attributes", "* filter=evil\n"])
        .op(&["write", ".git/commondir", "/tmp/evil\n"])
        .op(&[
            "write",
            ".git/config.worktree",
            "[core]\n\tfsmonitor = evil\n",
        ])
        .op(&["write", ".gitmodules", "[submodule \"x\"]\n"])
        .op(&["write", ".gitattributes", "* filter=evil\n"])
        .op(&["write", ".stockade.toml", "default_profile = \"full\"\n"])
        .op(&["write", ".git/COMMIT_EDITMSG", "ok\n"])
        .run();
    let [
        config,
        hook,
        pre_commit,
        info,
        commondir,
        worktree,
        modules,
        attrs,
        policy,
        editmsg,
    ] = r.ops();
    for forbidden in [
        config, hook, pre_commit, info, commondir, worktree, modules, attrs, policy,
    ] {
        denied(forbidden, WRITE_DENIED);
    }
    allowed(editmsg);
    // Only the repository's data changed.
    let changed: Vec<&str> = vec![
        "ws/.git/objects",
        "ws/.git/refs",
        "ws/.git/logs",
        "ws/.git/index",
        "ws/.git/COMMIT_EDITMSG",
        "ws/.git/ORIG_HEAD",
        "ws/.git/HEAD",
    ];
    t.assert_unchanged(&before, &changed);
}

/// ESCAPE (class 6): in commit mode the main repository's
/// `.git/worktrees/NAME/commondir` (and `gitdir`, `config.worktree`) stay
/// writable. A run points a linked worktree's common dir at a repository
/// it made in the workspace, whose config has a `core.fsmonitor`; the next
/// `git status` in that worktree, on the host, runs it.
#[test]
fn commit_mode_keeps_linked_worktree_control_files_read_only() {
    let Some(t) = sandbox() else { return };
    let Some(git) = find_program("git") else {
        eprintln!("skipped: git is not installed");
        return;
    };
    host_git(&git, &t, "ws", &["init", "-q", "."]);
    host_git(
        &git,
        &t,
        "ws",
        &["commit", "-q", "--allow-empty", "-m", "init"],
    );
    host_git(&git, &t, "ws", &["worktree", "add", "-q", "../wt"]);
    // See commit_mode_allows_commits_but_not_config_or_hooks: commit mode
    // refuses to run until these exist.
    t.write("ws/.git/commondir", ".\n");
    t.write("ws/.git/gitdir", &format!("{}\n", t.p("ws/.git")));
    t.write("ws/.git/config.worktree", "");
    t.write(
        "ws/.stockade.toml",
        "default_profile = \"dev\"\n[profiles.dev]\nextends = \"workspace\"\n\
         [profiles.dev.protect]\ngit = \"commit\"\n",
    );
    let before = t.snapshot();
    let wt = "ws/.git/worktrees/wt";
    let r = t
        .probe()
        .op(&["write", &t.p(&format!("{wt}/commondir")), &t.p("ws/evil")])
        .op(&["write", &t.p(&format!("{wt}/gitdir")), "/tmp/evil\n"])
        .op(&[
            "write",
            &t.p(&format!("{wt}/config.worktree")),
            "[core]\n\tfsmonitor = evil\n",
        ])
        .op(&["write", ".git/COMMIT_EDITMSG", "ok\n"])
        .run();
    let [commondir, gitdir, worktree_config, ok] = r.ops();
    allowed(ok);
    denied(commondir, WRITE_DENIED);
    denied(gitdir, WRITE_DENIED);
    denied(worktree_config, WRITE_DENIED);
    t.assert_unchanged(&before, &["ws/.git/COMMIT_EDITMSG"]);
}

#[test]
fn worktree_gitdir_and_main_config_are_not_writable() {
    let Some(t) = sandbox() else { return };
    let Some(git) = find_program("git") else {
        eprintln!("skipped: git is not installed");
        return;
    };
    // proj/main is the repository, proj/wt its worktree and the workspace.
    t.mkdir("proj/main");
    host_git(&git, &t, "proj/main", &["init", "-q", "."]);
    host_git(
        &git,
        &t,
        "proj/main",
        &["commit", "-q", "--allow-empty", "-m", "init"],
    );
    host_git(&git, &t, "proj/main", &["worktree", "add", "-q", "../wt"]);
    std::fs::create_dir_all(t.path("proj/main/.git/hooks")).unwrap();
    let gitdir = t.p("proj/main/.git/worktrees/wt");
    let main = t.p("proj/main");
    let before = t.snapshot();
    // The main repository read-only, writable, and under a writable parent.
    for policy in [&[][..], &["-w", &main][..], &["-w", &t.p("proj")][..]] {
        let r = t
            .probe()
            .started_in("proj/wt")
            .policy(policy)
            .op(&["write", &format!("{gitdir}/HEAD"), "x"])
            .op(&["write", &format!("{gitdir}/commondir"), "/tmp\n"])
            .op(&["write", &format!("{gitdir}/config.worktree"), "x"])
            .op(&[
                "append",
                &format!("{main}/.git/config"),
                "[core]\n\tfsmonitor = evil\n",
            ])
            .op(&["write", &format!("{main}/.git/hooks/post-checkout"), "x"])
            .op(&["write", ".git", "gitdir: /tmp/evil\n"])
            .op(&["write", "wt-file", "x"])
            .run();
        let [head, commondir, worktree, config, hook, dotgit, ok] = r.ops();
        for forbidden in [head, commondir, worktree, config, hook, dotgit] {
            denied(forbidden, WRITE_DENIED);
        }
        allowed(ok);
    }
    t.assert_unchanged(&before, &["proj/wt/wt-file"]);
}

// ---- 8. The sandbox's own files ----

#[test]
fn policy_file_in_the_workspace_is_read_only() {
    let Some(t) = sandbox() else { return };
    t.write(
        "ws/.stockade.toml",
        "default_profile = \"dev\"\n[profiles.dev]\nextends = \"workspace\"\n",
    );
    t.write("ws/replacement", "default_profile = \"full\"\n");
    let before = t.snapshot();
    let r = t
        .probe()
        .op(&["write", ".stockade.toml", "default_profile = \"full\"\n"])
        .op(&["append", ".stockade.toml", "x"])
        .op(&["truncate", ".stockade.toml", "0"])
        .op(&["rename", "replacement", ".stockade.toml"])
        .op(&["unlink", ".stockade.toml"])
        .op(&["chmod", ".stockade.toml", "666"])
        .op(&["read", ".stockade.toml"])
        .op(&["write", "sub/.stockade.toml.bak", "x"])
        .run();
    let [write, append, truncate, rename, unlink, chmod, read, ok] = r.ops();
    for forbidden in [write, append, truncate, chmod] {
        denied(forbidden, WRITE_DENIED);
    }
    denied(unlink, &["EROFS", "EACCES", "EPERM", "EBUSY"]);
    denied(rename, &["EROFS", "EACCES", "EPERM", "EXDEV", "EBUSY"]);
    allowed(read);
    allowed(ok);
    t.assert_unchanged(&before, &["ws/sub/.stockade.toml.bak"]);
}

#[test]
fn config_files_under_writable_roots_are_read_only() {
    let Some(t) = sandbox() else { return };
    t.write("pol/p.toml", "[profiles.p]\nextends = \"workspace\"\n");
    t.write(
        "xdg/stockade/config.toml",
        "[profiles.u]\nextends = \"workspace\"\n",
    );
    let before = t.snapshot();
    // --config, in a directory made writable.
    let r = t
        .probe()
        .policy(&["-c", &t.p("pol/p.toml"), "-p", "p", "-w", &t.p("pol")])
        .op(&["write", &t.p("pol/p.toml"), "x"])
        .op(&["rename", &t.p("pol/p.toml"), &t.p("pol/moved")])
        .op(&["write", &t.p("pol/other"), "x"])
        .run();
    let [write, rename, ok] = r.ops();
    denied(write, WRITE_DENIED);
    denied(rename, &["EROFS", "EACCES", "EPERM", "EXDEV", "EBUSY"]);
    allowed(ok);
    // The user config file, in a directory made writable.
    let r = t
        .probe()
        .policy(&["-p", "u", "-w", &t.p("xdg/stockade")])
        .op(&["write", &t.p("xdg/stockade/config.toml"), "x"])
        .op(&["unlink", &t.p("xdg/stockade/config.toml")])
        .op(&["write", &t.p("xdg/stockade/other"), "x"])
        .run();
    let [write, unlink, ok] = r.ops();
    denied(write, WRITE_DENIED);
    denied(unlink, &["EROFS", "EACCES", "EPERM", "EBUSY"]);
    allowed(ok);
    t.assert_unchanged(&before, &["pol/other", "xdg/stockade/other"]);
}

#[test]
fn sandbox_init_and_stockade_binaries_are_out_of_reach() {
    let Some(t) = sandbox() else { return };
    let stockade = stockade_bin().to_str().unwrap().to_owned();
    let probe = probe_bin().to_str().unwrap().to_owned();
    let size = |p: &str| std::fs::metadata(p).unwrap().len();
    let sizes = (size(&stockade), size(&probe));
    let r = t
        .probe()
        .op(&["getppid"])
        .op(&["read-environ", "1"])
        .op(&["read", "/proc/1/environ"])
        .op(&["read", "/proc/1/mem"])
        .op(&["readlink", "/proc/1/fd/0"])
        .op(&["read", "/proc/1/fd/1"])
        .op(&["list", "/proc/1/root"])
        .op(&["read", "/proc/1/maps"])
        .op(&["append", &stockade, "x"])
        .op(&["append", &probe, "x"])
        .op(&["read-environ", "self"])
        .op(&["read", &stockade])
        .op(&["read", "/proc/1/status"])
        .run();
    let [
        ppid,
        environ,
        environ_read,
        mem,
        fd_link,
        fd_open,
        root,
        maps,
        stockade_w,
        probe_w,
        own,
        exe_read,
        status,
    ] = r.ops();
    // The probe's parent is the sandbox's init (pid 1), a fork of stockade
    // whose environment is stockade's own.
    assert_eq!(ppid["ppid"], 1, "{ppid}");
    denied(environ, READ_DENIED);
    denied(environ_read, READ_DENIED);
    for forbidden in [mem, fd_link, fd_open, root, maps] {
        denied(forbidden, READ_DENIED);
    }
    // A stockade built under /tmp (a clone there) is not even visible: the
    // sandbox replaces the host's /tmp.
    let unseen = stockade.starts_with("/tmp");
    denied(
        stockade_w,
        if unseen {
            &["ENOENT"]
        } else {
            &["EROFS", "EACCES", "EPERM", "ETXTBSY"]
        },
    );
    denied(probe_w, &["EROFS", "EACCES", "EPERM", "ETXTBSY"]);
    allowed(own);
    if unseen {
        denied(exe_read, &["ENOENT"]);
    } else {
        allowed(exe_read);
    }
    // Public facts about init (its name, its state) stay readable.
    allowed(status);
    assert_eq!((size(&stockade), size(&probe)), sizes, "a binary changed");
}

#[test]
fn another_runs_private_tmp_is_invisible() {
    let Some(t) = sandbox() else { return };
    let mut first = t
        .probe()
        .op(&["write", "/tmp/first-run-file", "secret"])
        .op(&["write", "first-started", "x"])
        .op(&["sleep", "3"])
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(wait_for(Duration::from_secs(10), || t.exists("ws/first-started")));
    let r = t
        .probe()
        .op(&["exists", "/tmp/first-run-file"])
        .op(&["list", "/tmp"])
        .op(&["write", "/tmp/second-run-file", "x"])
        .run();
    let _ = first.kill();
    first.wait().unwrap();
    let [exists, list, ok] = r.ops();
    absent(exists);
    allowed(list);
    assert_eq!(list["entries"], serde_json::json!([]), "{list}");
    allowed(ok);
}
