//! Classes 7 and 9: denied paths and globs, sensitive defaults, host
//! scratch space.

use crate::common::*;

// ---- 7. Denied paths ----

#[test]
fn denied_directory_is_unreadable_and_unlistable_in_every_spelling() {
    let Some(t) = sandbox() else { return };
    t.write("ws/secret/s", "classified\n");
    t.write("ws/public", "public\n");
    let before = t.snapshot();
    let secret = t.p("ws/secret");
    let r = t
        .probe()
        .policy(&["--deny", "secret"])
        .op(&["read", "secret/s"])
        .op(&["list", "secret"])
        .op(&["read", &format!("{secret}/s")])
        .op(&["read", &format!("/proc/self/root{secret}/s")])
        .op(&["read", "/proc/self/cwd/secret/s"])
        .op(&["read", "sub/../secret/s"])
        .op(&["write", "secret/new", "x"])
        .op(&["read", "public"])
        .op(&["list", "."])
        .run();
    let [rel, list, abs, root, cwd, dotdot, write, public, list_ws] = r.ops();
    for forbidden in [rel, list, abs, root, cwd, dotdot] {
        denied(forbidden, READ_DENIED);
    }
    denied(write, WRITE_DENIED);
    allowed(public);
    allowed(list_ws);
    t.assert_unchanged(&before, &[]);
}

#[test]
fn sensitive_home_paths_are_unreadable_by_default() {
    let Some(t) = sandbox() else { return };
    t.write("home/.netrc", "machine x password y\n");
    t.write("home/.config/gh/hosts.yml", "oauth_token: x\n");
    t.write("home/.cargo/credentials.toml", "token = \"x\"\n");
    t.write("home/.gitconfig", "[user]\n");
    let before = t.snapshot();
    let home = t.p("home");
    let r = t
        .probe()
        .op(&["read", &format!("{home}/.ssh/id_rsa")])
        .op(&["list", &format!("{home}/.ssh")])
        .op(&["read", &format!("{home}/.aws/credentials")])
        .op(&["read", &format!("{home}/.netrc")])
        .op(&["read", &format!("{home}/.config/gh/hosts.yml")])
        .op(&["read", &format!("{home}/.cargo/credentials.toml")])
        .op(&["read", &format!("/proc/self/root{home}/.ssh/id_rsa")])
        .op(&["read", &format!("{home}/.gitconfig")])
        .run();
    let [key, list, aws, netrc, gh, cargo, via_root, gitconfig] = r.ops();
    for forbidden in [key, list, aws, netrc, gh, cargo, via_root] {
        denied(forbidden, HIDDEN);
    }
    allowed(gitconfig);
    t.assert_unchanged(&before, &[]);
}

#[test]
fn deny_of_a_path_created_during_the_run_holds() {
    let Some(t) = sandbox() else { return };
    let before = t.snapshot();
    let r = t
        .probe()
        .policy(&["--deny", "later"])
        .op(&["mkdir", "later"])
        .op(&["write", "later/x", "x"])
        .op(&["list", "later"])
        .op(&["write", "sub/ok", "x"])
        .run();
    // The path cannot be created (a hidden placeholder stands there for
    // the run), and the host has no placeholder left afterwards.
    let [mkdir, write, list, ok] = r.ops();
    denied(mkdir, &["EEXIST", "EACCES", "EROFS", "EPERM"]);
    denied(write, &["EACCES", "EROFS", "EPERM"]);
    denied(list, READ_DENIED);
    allowed(ok);
    t.assert_unchanged(&before, &["ws/sub/ok"]);
    // The twin: the same path, existing, is hidden.
    t.write("ws/later/x", "x\n");
    let r = t
        .probe()
        .policy(&["--deny", "later"])
        .op(&["read", "later/x"])
        .op(&["write", "sub/ok", "x"])
        .run();
    let [read, ok] = r.ops();
    denied(read, READ_DENIED);
    allowed(ok);
}

#[test]
fn recursive_deny_glob_hides_matches_whoever_creates_them_and_whenever() {
    let Some(t) = sandbox() else { return };
    t.write("ws/.env", "TOKEN=x\n");
    t.write("ws/sub/.env", "TOKEN=y\n");
    t.write("ws/sub/ok.txt", "ok\n");
    t.write("ws/.env.example", "TOKEN=\n");
    t.write("ws/late/keep", "");
    let before = t.snapshot();
    // The host writes a match into the workspace while the command sleeps.
    let late = std::path::PathBuf::from(t.p("ws/late/.env"));
    let writer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(600));
        std::fs::write(late, "TOKEN=late\n").unwrap();
    });
    let r = t
        .probe()
        .policy(&["--deny", "**/.env", "--json", "--quiet"])
        // Existing matches, in every spelling.
        .op(&["read", ".env"])
        .op(&["read", "sub/.env"])
        .op(&["read", "/proc/self/cwd/sub/.env"])
        .op(&["read", "sub/../.env"])
        .op(&["symlink", ".env", "lnk"])
        .op(&["read", "lnk"])
        // New matches, and ways to carry one away.
        .op(&["mkdir", "made"])
        .op(&["write", "made/.env", "x"])
        .op(&["mkdir", "made/.env"])
        .op(&["rename", "sub/ok.txt", "sub/.env"])
        .op(&["write", "plain.txt", "x"])
        .op(&["rename", "plain.txt", "made/.env"])
        .op(&["rename", ".env", "moved"])
        .op(&["link", ".env", "hard"])
        .op(&["truncate", ".env", "0"])
        .op(&["chmod", ".env", "666"])
        .op(&["unlink", "sub/.env"])
        // The supervisor's own memory and environment, which it could read
        // as itself.
        .op(&["read", "/proc/1/environ"])
        .op(&["read", "/proc/1/mem"])
        // A match the host makes during the run.
        .op(&["sleep", "2"])
        .op(&["read", "late/.env"])
        // The allowed twins.
        .op(&["read", "sub/ok.txt"])
        .op(&["read", ".env.example"])
        .op(&["rename", "plain.txt", "made/plain.txt"])
        .op(&["link", "made/plain.txt", "hard"])
        .op(&["truncate", "hard", "0"])
        .op(&["chmod", "hard", "600"])
        .op(&["read", "/proc/self/status"])
        .op(&["read", "/dev/stdin"])
        .run();
    writer.join().unwrap();
    let [
        existing,
        nested,
        via_proc,
        dotdot,
        symlink,
        via_symlink,
        mkdir,
        create,
        create_dir,
        rename_into,
        plain,
        rename_onto,
        rename_away,
        link_away,
        truncate,
        chmod,
        unlink,
        init_environ,
        init_mem,
        _sleep,
        late,
        ok,
        example,
        rename_ok,
        link_ok,
        truncate_ok,
        chmod_ok,
        proc_self,
        stdin,
    ] = r.ops();
    for read in [
        existing,
        nested,
        via_proc,
        dotdot,
        via_symlink,
        late,
        init_environ,
        init_mem,
    ] {
        denied(read, &["EACCES"]);
    }
    for change in [
        create,
        create_dir,
        rename_into,
        rename_onto,
        rename_away,
        link_away,
        truncate,
        chmod,
        unlink,
    ] {
        denied(change, &["EACCES"]);
    }
    for fine in [
        symlink,
        mkdir,
        plain,
        ok,
        example,
        rename_ok,
        link_ok,
        truncate_ok,
        chmod_ok,
        proc_self,
        stdin,
    ] {
        allowed(fine);
    }
    let record = r.record();
    let denials = record["denials"].as_array().expect("a denials array");
    assert!(
        denials.iter().any(|d| d["kind"] == "filesystem"
            && d["access"] == "read"
            && d["target"] == t.p("ws/late/.env").as_str()
            && d["rule"]
                .as_str()
                .is_some_and(|r| r.starts_with("none glob ") && r.ends_with("/**/.env"))),
        "{record}"
    );
    t.assert_unchanged(&before, &["ws/lnk", "ws/made", "ws/hard", "ws/late/.env"]);
    assert_eq!(t.read("ws/.env"), "TOKEN=x\n");
}

#[test]
fn deny_glob_of_a_shape_nothing_holds_is_refused_unless_weaker_is_allowed() {
    let Some(t) = sandbox() else { return };
    t.write("ws/a/key", "k\n");
    let before = t.snapshot();
    let r = t
        .probe()
        .policy(&["--deny", "*/key"])
        .op(&["read", "a/key"])
        .run();
    r.expect_code(125);
    assert!(r.ops.is_empty(), "the command ran: {}", r.stdout);
    assert!(r.stderr.contains("/*/key"), "{}", r.stderr);
    assert!(
        r.stderr.contains("--allow-weaker deny-globs"),
        "{}",
        r.stderr
    );
    // With the opt-in the glob is dropped as a whole, and a loud warning
    // says so.
    let r = t
        .probe()
        .policy(&["--deny", "*/key", "--allow-weaker", "deny-globs"])
        .op(&["read", "a/key"])
        .run();
    let [_] = r.ops();
    assert!(r.stderr.contains("WITHOUT enforcing"), "{}", r.stderr);
    t.assert_unchanged(&before, &[]);
}

#[test]
fn single_level_deny_glob_in_a_read_only_directory_hides_matches() {
    let Some(t) = sandbox() else { return };
    t.write("outside/a.key", "key\n");
    t.write("outside/b.key", "key\n");
    t.write("outside/a.txt", "text\n");
    let before = t.snapshot();
    let out = t.p("outside");
    let r = t
        .probe()
        .policy(&["--deny", &format!("{out}/*.key")])
        .op(&["read", &format!("{out}/a.key")])
        .op(&["read", &format!("/proc/self/root{out}/b.key")])
        .op(&["list", &out])
        .op(&["read", &format!("{out}/a.txt")])
        .run();
    let [a, b, list, txt] = r.ops();
    denied(a, HIDDEN);
    denied(b, HIDDEN);
    allowed(list);
    let entries = list["entries"].as_array().unwrap();
    assert!(
        !entries
            .iter()
            .any(|e| e.as_str().unwrap().ends_with(".key")),
        "matches are listed: {list}"
    );
    allowed(txt);
    t.assert_unchanged(&before, &[]);
}

#[test]
fn inherited_descriptor_to_a_read_only_directory_cannot_write_outside() {
    let Some(t) = sandbox() else { return };
    let before = t.snapshot();
    let out = t.p("outside");
    let r = t
        .probe()
        .op(&["write", "/proc/self/fd/7/planted", "x"])
        .op(&["append", "/proc/self/fd/8", "x"])
        .op(&["mkdir", "/proc/self/fd/7/dir"])
        .op(&["read", "/proc/self/fd/8"])
        .op(&["write", "sub/ok", "x"])
        .run_with_redirects(&format!("7<'{out}' 8<'{out}/f'"));
    let [write, append, mkdir, read, ok] = r.ops();
    // Descriptors beyond stdin/stdout/stderr do not cross into the command
    // (ENOENT: /proc/self/fd/7 is gone); were one to, Landlock would still
    // refuse writes through it (EACCES).
    const GONE_OR_DENIED: &[&str] = &["ENOENT", "EBADF", "EROFS", "EACCES", "EPERM"];
    denied(write, GONE_OR_DENIED);
    denied(append, GONE_OR_DENIED);
    denied(mkdir, GONE_OR_DENIED);
    denied(read, &["ENOENT", "EBADF"]);
    allowed(ok);
    t.assert_unchanged(&before, &["ws/sub/ok"]);
}

/// Known gap (class 7): stockade passes every inherited descriptor to the
/// command. One the caller leaked (not close-on-exec) on a denied directory
/// reaches the host's mount, under the mount that hides it, and Landlock
/// (which allows reads below `/`) does not refuse it.
#[test]
fn inherited_descriptor_to_a_denied_directory_does_not_open_it() {
    let Some(t) = sandbox() else { return };
    let ssh = t.p("home/.ssh");
    let r = t
        .probe()
        .op(&["read", &format!("{ssh}/id_rsa")])
        .op(&["read", "/proc/self/fd/7/id_rsa"])
        .op(&["list", "/proc/self/fd/7"])
        .op(&["write", "sub/ok", "x"])
        .run_with_redirects(&format!("7<'{ssh}'"));
    let [direct, through_fd, list, ok] = r.ops();
    denied(direct, READ_DENIED);
    allowed(ok);
    denied(through_fd, HIDDEN);
    denied(list, HIDDEN);
}

// ---- 9. Host scratch space ----

#[test]
fn host_tmp_is_not_visible_and_private_tmp_does_not_leak() {
    let Some(t) = sandbox() else { return };
    let marker = HostTmpMarker::new("tmp");
    let name = marker.0.file_name().unwrap().to_str().unwrap().to_owned();
    let private = format!("/tmp/{name}-inside");
    let r = t
        .probe()
        .op(&["exists", marker.as_str()])
        .op(&["read", marker.as_str()])
        .op(&["write", &private, "x"])
        .op(&["read", &private])
        .run();
    let [exists, read, write, read_back] = r.ops();
    absent(exists);
    denied(read, &["ENOENT"]);
    allowed(write);
    allowed(read_back);
    assert!(
        !std::path::Path::new(&private).exists(),
        "the private /tmp leaked onto the host"
    );
    assert_eq!(std::fs::read_to_string(&marker.0).unwrap(), "host\n");
}

#[test]
fn host_scratch_directories_are_neither_readable_nor_writable() {
    let Some(t) = sandbox() else { return };
    let before = t.snapshot();
    let r = t
        .probe()
        .op(&["list", "/dev/shm"])
        .op(&["write", "/dev/shm/x", "x"])
        .op(&["list", "/var/tmp"])
        .op(&["write", "/var/tmp/x", "x"])
        .op(&["list", "/run/user"])
        .op(&["write", "/run/user/x", "x"])
        .op(&["write", "/tmp/x", "x"])
        .op(&["write", "sub/x", "x"])
        .run();
    let [shm, shm_w, var, var_w, run, run_w, tmp, ws] = r.ops();
    for forbidden in [shm, var, run] {
        denied(forbidden, HIDDEN);
    }
    for forbidden in [shm_w, var_w, run_w] {
        denied(forbidden, &["EROFS", "EACCES", "EPERM", "ENOENT"]);
    }
    allowed(tmp);
    allowed(ws);
    t.assert_unchanged(&before, &["ws/sub/x"]);
}
