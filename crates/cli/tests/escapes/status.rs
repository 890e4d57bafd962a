//! Class 24 and exit-status semantics: missing features are refused with
//! 125, never a silently weaker run; 126/127 like shells; the command's own
//! status otherwise.

use crate::common::*;

#[test]
fn allow_weaker_with_nothing_blocked_changes_nothing() {
    let Some(t) = sandbox() else { return };
    // Nothing is blocked here, so naming a protection to waive waives
    // nothing: the run is exactly as strict as without it.
    let r = t
        .probe()
        .policy(&["--allow-weaker", "created-later"])
        .op(&["write", "../outside/x", "x"])
        .op(&["read", &t.p("home/.ssh/id_rsa")])
        .op(&["write", "ok", "x"])
        .run();
    let [outside, key, ok] = r.ops();
    denied(outside, WRITE_DENIED);
    denied(key, READ_DENIED);
    allowed(ok);
    assert!(!r.stderr.contains("WITHOUT enforcing"), "{}", r.stderr);
    // A name that is no protection at all is a usage error, and nothing runs.
    let r = t.run(&["--allow-weaker", "bogus", "--", "/bin/true"]);
    r.expect_code(125);
    assert!(
        r.stderr.contains("use one of: created-later"),
        "{}",
        r.stderr
    );
}

#[test]
fn missing_command_is_127_with_a_path_hint() {
    let Some(t) = sandbox() else { return };
    let r = t.run(&["--", "stockade-no-such-command"]);
    r.expect_code(127);
    assert!(r.stderr.contains("hint:"), "{}", r.stderr);
    assert!(r.stderr.contains("PATH"), "{}", r.stderr);
    // The twin: a command found on PATH runs.
    t.run(&["--", "true"]).expect_code(0);
}

#[test]
fn non_executable_file_is_126() {
    let Some(t) = sandbox() else { return };
    t.write("ws/script.sh", "#!/bin/sh\nexit 0\n");
    t.run(&["--", "./script.sh"]).expect_code(126);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        t.path("ws/script.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    t.run(&["--", "./script.sh"]).expect_code(0);
}

#[test]
fn nonexistent_cwd_is_125_and_nothing_runs() {
    let Some(t) = sandbox() else { return };
    let marker = t.p("ws/ran");
    let r = t
        .probe()
        .policy(&["-C", &t.p("no-such-dir")])
        .op(&["write", &marker, "x"])
        .run();
    r.expect_code(125);
    assert!(r.stderr.contains("hint:"), "{}", r.stderr);
    assert!(r.ops.is_empty() && !t.exists("ws/ran"), "the command ran");
    // The twin: an existing --cwd runs.
    let r = t.probe().policy(&["-C", &t.p("ws/sub")]).op(&["cwd"]).run();
    let [cwd] = r.ops();
    assert_eq!(cwd["path"], t.p("ws/sub"), "{cwd}");
}

#[test]
fn exit_status_is_the_commands_own_or_128_plus_signal() {
    let Some(t) = sandbox() else { return };
    t.run(&["--", "/bin/sh", "-c", "exit 3"]).expect_code(3);
    t.run(&["--", "/bin/sh", "-c", "kill -9 $$"])
        .expect_code(137);
    t.run(&["--", "/bin/sh", "-c", "kill -15 $$"])
        .expect_code(143);
    t.run(&["--", "/bin/sh", "-c", "exit 0"]).expect_code(0);
}

#[test]
fn cwd_outside_writable_roots_is_read_only() {
    let Some(t) = sandbox() else { return };
    let before = t.snapshot();
    let r = t
        .probe()
        .policy(&["-p", "read-only", "-C", &t.p("outside")])
        .op(&["cwd"])
        .op(&["write", "new", "x"])
        .op(&["append", "f", "x"])
        .op(&["read", "f"])
        .op(&["write", "/tmp/ok", "x"])
        .run();
    let [cwd, write, append, read, tmp] = r.ops();
    assert_eq!(cwd["path"], t.p("outside"), "{cwd}");
    denied(write, &["EROFS"]);
    denied(append, &["EROFS"]);
    allowed(read);
    assert_eq!(read["data"], "outside\n");
    allowed(tmp);
    t.assert_unchanged(&before, &[]);
}
