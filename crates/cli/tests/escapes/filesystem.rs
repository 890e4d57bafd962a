//! Classes 1-4: writes outside writable roots, symlinks, hard links, renames.

use crate::common::*;

// ---- 1. Writes outside the writable roots, in every spelling ----

#[test]
fn write_outside_writable_roots_is_refused_in_every_spelling() {
    let Some(t) = sandbox() else { return };
    let before = t.snapshot();
    let out = t.p("outside");
    let r = t
        .probe()
        .op(&["write", &format!("{out}/abs"), "x"])
        .op(&["write", "../outside/dotdot", "x"])
        .op(&["write", "sub/../../outside/deeper", "x"])
        .op(&["write", "/proc/self/cwd/../outside/cwd", "x"])
        .op(&["write", &format!("/proc/self/root{out}/root"), "x"])
        .op(&["write", &format!("/proc/1/root{out}/init"), "x"])
        .op(&["append", &format!("{out}/f"), "x"])
        .op(&["write", &t.p("ws/inside"), "x"])
        .op(&["write", "/proc/self/cwd/sub/inside", "x"])
        .run();
    let [
        abs,
        dotdot,
        deeper,
        cwd,
        root,
        init,
        append,
        inside,
        via_proc,
    ] = r.ops();
    for forbidden in [abs, dotdot, deeper, cwd, root, init, append] {
        denied(forbidden, WRITE_DENIED);
    }
    allowed(inside);
    allowed(via_proc);
    t.assert_unchanged(&before, &["ws/inside", "ws/sub/inside"]);
}

#[test]
fn parent_of_the_workspace_is_not_writable() {
    let Some(t) = sandbox() else { return };
    let before = t.snapshot();
    let r = t
        .probe()
        .op(&["mkdir", "../newdir"])
        .op(&["unlink", "../outside/f"])
        .op(&["rename", "../outside/f", "stolen"])
        .op(&["chmod", "../outside/f", "777"])
        .op(&["truncate", "../outside/f", "0"])
        .op(&["mkdir", "newdir"])
        .run();
    let [mkdir_parent, unlink, rename, chmod, truncate, mkdir_ws] = r.ops();
    denied(mkdir_parent, WRITE_DENIED);
    denied(unlink, WRITE_DENIED);
    // A rename out of a read-only mount into a writable one crosses mounts.
    denied(rename, &["EROFS", "EACCES", "EPERM", "EXDEV"]);
    denied(chmod, WRITE_DENIED);
    denied(truncate, WRITE_DENIED);
    allowed(mkdir_ws);
    t.assert_unchanged(&before, &["ws/newdir"]);
}

// ---- 2. Symlinks ----

#[test]
fn write_through_symlink_to_outside_is_refused() {
    let Some(t) = sandbox() else { return };
    std::os::unix::fs::symlink("../outside", t.path("ws/link")).unwrap();
    std::os::unix::fs::symlink("../home/.ssh/id_rsa", t.path("ws/key")).unwrap();
    std::os::unix::fs::symlink("sub", t.path("ws/inner")).unwrap();
    let before = t.snapshot();
    let r = t
        .probe()
        .op(&["write", "link/new", "x"])
        .op(&["write", "link/f", "x"])
        .op(&["read", "key"])
        .op(&["read", "link/f"])
        .op(&["write", "inner/ok", "x"])
        .run();
    let [write_new, overwrite, read_key, read_outside, write_inner] = r.ops();
    denied(write_new, WRITE_DENIED);
    denied(overwrite, WRITE_DENIED);
    denied(read_key, READ_DENIED);
    // outside/ is readable under :root, so reading through the link is fine.
    allowed(read_outside);
    allowed(write_inner);
    t.assert_unchanged(&before, &["ws/sub/ok"]);
}

#[test]
fn symlink_created_in_the_sandbox_does_not_lead_out() {
    let Some(t) = sandbox() else { return };
    let before = t.snapshot();
    let r = t
        .probe()
        .op(&["symlink", "../outside", "out"])
        .op(&["symlink", &t.p("home/.ssh"), "keys"])
        .op(&["symlink", "/proc/1/root", "initroot"])
        .op(&["write", "out/planted", "x"])
        .op(&["read", "keys/id_rsa"])
        .op(&["list", "keys"])
        .op(&["write", &format!("initroot{}", t.p("outside/planted")), "x"])
        .op(&["write", "sub/ok", "x"])
        .run();
    let [
        mk1,
        mk2,
        mk3,
        write_out,
        read_key,
        list_keys,
        write_init,
        ok,
    ] = r.ops();
    allowed(mk1);
    allowed(mk2);
    allowed(mk3);
    denied(write_out, WRITE_DENIED);
    denied(read_key, READ_DENIED);
    denied(list_keys, READ_DENIED);
    denied(write_init, WRITE_DENIED);
    allowed(ok);
    t.assert_unchanged(&before, &["ws/out", "ws/keys", "ws/initroot", "ws/sub/ok"]);
}

/// A link planted by one run and named with `-w` by the next is resolved
/// to its canonical target: the grant is exactly the target, as `explain`
/// shows, and nothing around it becomes writable.
#[test]
fn symlink_planted_in_one_run_is_resolved_to_its_target_in_the_next() {
    let Some(t) = sandbox() else { return };
    let r = t.probe().op(&["symlink", "../outside", "link"]).run();
    let [planted] = r.ops();
    allowed(planted);
    assert_eq!(
        std::fs::read_link(t.path("ws/link")).unwrap().to_str(),
        Some("../outside")
    );

    let out = t.stockade(&["explain", "--json", "-w", "link"]);
    let explain: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = explain["policy"]["rules"].as_array().unwrap();
    let write_rules: Vec<&str> = rules
        .iter()
        .filter(|r| r["access"] == "write")
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert!(
        write_rules.contains(&t.p("outside").as_str()),
        "{write_rules:?}"
    );
    assert!(
        !rules.iter().any(|r| r["path"] == t.p("ws/link")),
        "the link itself should not be a rule: {rules:?}"
    );

    let before = t.snapshot();
    let r = t
        .probe()
        .policy(&["-w", "link"])
        .op(&["write", "link/through", "x"])
        .op(&["write", "link/../sibling", "x"])
        .op(&["write", &t.p("outside/../sibling"), "x"])
        .op(&["mkdir", "link/.git"])
        .op(&["write", "link/.stockade.toml", "x"])
        .op(&["read", &t.p("home/.ssh/id_rsa")])
        .run();
    let [through, sibling_rel, sibling_abs, git, policy, key] = r.ops();
    allowed(through);
    // `link/..` is the target's parent (the tree root), not ws.
    denied(sibling_rel, WRITE_DENIED);
    denied(sibling_abs, WRITE_DENIED);
    denied(git, &["EROFS", "EACCES", "EPERM", "EEXIST"]);
    denied(policy, &["EROFS", "EACCES", "EPERM", "EISDIR"]);
    denied(key, READ_DENIED);
    t.assert_unchanged(&before, &["outside/through"]);
}

/// ESCAPE (class 2): a run plants `ws/keys -> ~/.ssh`; a later run given
/// `-w keys` (or `-r keys`) resolves it to `~/.ssh` and the flag's rule
/// replaces the built-in `none` for that path, so the secrets become
/// readable and writable without the user ever naming them.
#[test]
fn writable_flag_through_planted_symlink_does_not_reopen_a_secret() {
    let Some(t) = sandbox() else { return };
    let r = t.probe().op(&["symlink", "../home/.ssh", "keys"]).run();
    let [planted] = r.ops();
    allowed(planted);
    let before = t.snapshot();
    for flag in ["-w", "-r"] {
        let r = t
            .probe()
            .policy(&[flag, "keys"])
            .op(&["read", "keys/id_rsa"])
            .op(&["write", "keys/authorized_keys", "ssh-ed25519 AAAA attacker"])
            .op(&["write", "ok", "x"])
            .run();
        let [read, write, ok] = r.ops();
        denied(read, READ_DENIED);
        denied(write, WRITE_DENIED);
        allowed(ok);
    }
    t.assert_unchanged(&before, &["ws/ok"]);
}

// ---- 3. Hard links ----

#[test]
fn hard_link_to_protected_or_denied_file_is_refused() {
    let Some(t) = sandbox() else { return };
    t.write("ws/.git/config", "[core]\n");
    t.write("ws/secret/s", "classified\n");
    t.write("ws/plain", "plain\n");
    let before = t.snapshot();
    let r = t
        .probe()
        .policy(&["--deny", "secret"])
        .op(&["link", ".git/config", "cfg"])
        .op(&["link", &t.p("home/.ssh/id_rsa"), "key"])
        .op(&["link", "secret/s", "s"])
        .op(&["link", "../outside/f", "f"])
        .op(&[
            "link",
            &format!("/proc/self/root{}", t.p("home/.aws/credentials")),
            "aws",
        ])
        .op(&["link", "plain", "plain2"])
        .op(&["write", "plain2", "changed"])
        .run();
    let [cfg, key, secret, outside, aws, plain, write_plain] = r.ops();
    let link_denied = &["EXDEV", "EPERM", "EACCES", "EROFS"];
    denied(cfg, link_denied);
    denied(key, link_denied);
    denied(secret, link_denied);
    denied(outside, link_denied);
    denied(aws, link_denied);
    allowed(plain);
    allowed(write_plain);
    t.assert_unchanged(&before, &["ws/plain", "ws/plain2"]);
    assert_eq!(t.read("ws/.git/config"), "[core]\n");
}

#[test]
fn hard_link_into_a_read_only_carve_out_is_refused() {
    let Some(t) = sandbox() else { return };
    t.write("ws/docs/a.md", "docs\n");
    t.write("ws/mine", "mine\n");
    let before = t.snapshot();
    let r = t
        .probe()
        .policy(&["-r", "docs"])
        .op(&["link", "docs/a.md", "a-link"])
        .op(&["link", "mine", "docs/mine"])
        .op(&["write", "docs/a.md", "x"])
        .op(&["link", "mine", "sub/mine"])
        .run();
    let [out_of, into, write, ok] = r.ops();
    denied(out_of, &["EXDEV", "EPERM", "EACCES", "EROFS"]);
    denied(into, &["EXDEV", "EPERM", "EACCES", "EROFS"]);
    denied(write, WRITE_DENIED);
    allowed(ok);
    t.assert_unchanged(&before, &["ws/sub/mine", "ws/mine"]);
}

// ---- 4. Renames ----

#[test]
fn rename_of_protected_git_dir_is_refused() {
    let Some(t) = sandbox() else { return };
    t.write("ws/.git/config", "[core]\n");
    t.write("ws/.git/HEAD", "ref: refs/heads/main\n");
    t.write("ws/evil", "[core]\n\tfsmonitor = evil\n");
    t.write("ws/a", "a\n");
    let before = t.snapshot();
    let r = t
        .probe()
        .op(&["rename", ".git", "git-away"])
        .op(&["rename", "evil", ".git/config"])
        .op(&["rename", ".git/config", "config-away"])
        .op(&["unlink", ".git/config"])
        .op(&["rmdir", ".git"])
        .op(&["rename", "a", "b"])
        .run();
    let [away, over, out, unlink, rmdir, ok] = r.ops();
    let rename_denied = &["EBUSY", "EROFS", "EACCES", "EPERM", "EXDEV"];
    denied(away, rename_denied);
    denied(over, rename_denied);
    denied(out, rename_denied);
    denied(unlink, WRITE_DENIED);
    denied(rmdir, &["EBUSY", "EROFS", "EACCES", "EPERM", "ENOTEMPTY"]);
    allowed(ok);
    t.assert_unchanged(&before, &["ws/a", "ws/b"]);
}

#[test]
fn rename_of_denied_dir_to_a_readable_name_is_refused() {
    let Some(t) = sandbox() else { return };
    t.write("ws/secret/s", "classified\n");
    t.write("ws/plain/p", "plain\n");
    let before = t.snapshot();
    let r = t
        .probe()
        .policy(&["--deny", "secret"])
        .op(&["rename", "secret", "visible"])
        .op(&["read", "visible/s"])
        .op(&["rename", "secret/s", "s"])
        .op(&["rename", &t.p("home/.ssh"), "ssh"])
        .op(&["rename", &t.p("home/.ssh/id_rsa"), "id_rsa"])
        .op(&["rename", "plain", "plain2"])
        .op(&["read", "plain2/p"])
        .run();
    let [dir, read, file, ssh, key, ok, read_ok] = r.ops();
    let rename_denied = &["EBUSY", "EROFS", "EACCES", "EPERM", "EXDEV"];
    denied(dir, rename_denied);
    denied(read, &["ENOENT"]);
    denied(file, rename_denied);
    denied(ssh, rename_denied);
    denied(key, rename_denied);
    allowed(ok);
    allowed(read_ok);
    t.assert_unchanged(&before, &["ws/plain", "ws/plain2"]);
}

#[test]
fn rename_of_the_workspace_root_or_a_carve_out_is_refused() {
    let Some(t) = sandbox() else { return };
    t.write("ws/docs/a.md", "docs\n");
    let before = t.snapshot();
    let ws = t.p("ws");
    let r = t
        .probe()
        .policy(&["-r", "docs"])
        .op(&["rename", &ws, &format!("{ws}-moved")])
        .op(&["rename", "docs", "docs-moved"])
        .op(&["rename", "docs/a.md", "a.md"])
        .op(&["rename", "sub", "sub2"])
        .run();
    let [root, carve, file, ok] = r.ops();
    let rename_denied = &["EBUSY", "EROFS", "EACCES", "EPERM", "EXDEV"];
    denied(root, rename_denied);
    denied(carve, rename_denied);
    denied(file, rename_denied);
    allowed(ok);
    t.assert_unchanged(&before, &["ws/sub", "ws/sub2"]);
}

/// ESCAPE (class 4): a read-only carve-out `ws/a/b` is a mount point, but
/// its parent `ws/a` is an ordinary directory of the writable root: it can
/// be renamed away (the mount moves with it) and `ws/a/b` recreated,
/// writable, on the host. Landlock does not stop it either (its rules
/// follow inodes, not paths).
#[test]
fn renaming_an_ancestor_of_a_read_only_carve_out_cannot_recreate_it() {
    let Some(t) = sandbox() else { return };
    t.write("ws/a/b/f", "original\n");
    let before = t.snapshot();
    let r = t
        .probe()
        .policy(&["-r", "a/b"])
        .op(&["write", "a/b/f", "x"])
        .op(&["rename", "a", "a2"])
        .op(&["mkdir", "a"])
        .op(&["mkdir", "a/b"])
        .op(&["write", "a/b/planted", "x"])
        .op(&["write", "sub/ok", "x"])
        .run();
    let [direct, rename, _mkdir_a, _mkdir_b, planted, ok] = r.ops();
    denied(direct, WRITE_DENIED);
    allowed(ok);
    // Either the ancestor cannot move, or the recreated path is still
    // read-only: `ws/a/b` must not gain new content on the host.
    if rename["ok"] == true {
        denied(planted, WRITE_DENIED);
    }
    assert!(!t.exists("ws/a/b/planted"), "ws/a/b was recreated writable");
    t.assert_unchanged(&before, &["ws/sub/ok"]);
}
