//! Landlock-only mode (machines where unprivileged user namespaces are
//! blocked), through the test seam `STOCKADE_FORCE_LANDLOCK_ONLY=1`: the
//! run is refused naming what Landlock cannot hold, and with
//! `--allow-weaker landlock-only` the rest holds.

use crate::common::*;

const FORCE: (&str, &str) = ("STOCKADE_FORCE_LANDLOCK_ONLY", "1");

#[test]
fn landlock_only_refuses_without_the_waiver_and_names_what_it_cannot_hold() {
    let Some(t) = sandbox() else { return };
    let before = t.snapshot();
    let r = t
        .probe()
        .env(FORCE.0, FORCE.1)
        .op(&["write", "ok", "x"])
        .run();
    assert_eq!(r.code, Some(125), "{}", r.stderr);
    assert!(
        r.stderr.contains("--allow-weaker landlock-only"),
        "{}",
        r.stderr
    );
    assert!(r.ops.is_empty(), "nothing ran");
    t.assert_unchanged(&before, &[]);
    // Without a sandbox init nothing decides connect(): host unix sockets
    // are one of the rules it names.
    let explain = t
        .command()
        .env(FORCE.0, FORCE.1)
        .args(["explain", "--json"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&explain.stdout);
    assert!(text.contains("\"network.unix_sockets\""), "{text}");
}

#[test]
fn landlock_only_keeps_files_secrets_and_network_with_the_waiver() {
    let Some(t) = sandbox() else { return };
    let before = t.snapshot();
    let r = t
        .probe()
        .env(FORCE.0, FORCE.1)
        .policy(&["--allow-weaker", "landlock-only", "--quiet"])
        .op(&["write", "ok", "x"])
        .op(&["write", &t.p("outside/x"), "x"])
        .op(&["write", "/etc/stockade-x", "x"])
        .op(&["read", &t.p("home/.ssh/id_rsa")])
        .op(&["read", &t.p("home/.aws/credentials")])
        .op(&["socket", "inet", "stream"])
        .op(&["socket", "unix", "stream"])
        .op(&["ptrace-traceme"])
        .op(&["capget"])
        .run();
    let [ok, outside, etc, key, aws, inet, unix, ptrace, caps] = r.ops();
    allowed(ok);
    denied(outside, WRITE_DENIED);
    denied(etc, WRITE_DENIED);
    denied(key, READ_DENIED);
    denied(aws, &["EACCES", "EPERM", "ENOENT"]);
    denied(inet, &["EAFNOSUPPORT"]);
    allowed(unix);
    denied(ptrace, &["EPERM"]);
    assert_eq!(caps["caps"]["effective"], "0000000000000000", "{caps}");
    t.assert_unchanged(&before, &["ws/ok"]);
}

#[test]
fn landlock_only_gives_a_private_tmpdir_and_keeps_the_hosts_tmp() {
    let Some(t) = sandbox() else { return };
    let out = t
        .command()
        .env(FORCE.0, FORCE.1)
        .args(["run", "--quiet", "--allow-weaker", "landlock-only", "--", "/bin/sh", "-c"])
        .arg("echo x > \"$TMPDIR/inside\" && echo tmpdir-ok; echo y > /tmp/stockade-landlock-only-probe 2>/dev/null || echo host-tmp-refused")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("tmpdir-ok"),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("host-tmp-refused"), "{stdout}");
    assert!(!std::path::Path::new("/tmp/stockade-landlock-only-probe").exists());
}

#[test]
fn landlock_only_kills_background_and_setsid_processes_when_the_run_ends() {
    let Some(t) = sandbox() else { return };
    let script = "(sleep 2; echo survived > bg-marker) & setsid sh -c 'sleep 2; echo survived > sid-marker' & echo started";
    let out = t
        .command()
        .env(FORCE.0, FORCE.1)
        .args([
            "run",
            "--quiet",
            "--allow-weaker",
            "landlock-only",
            "--",
            "/bin/sh",
            "-c",
            script,
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("started"));
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(
        !t.exists("ws/bg-marker"),
        "a background process outlived the run"
    );
    assert!(
        !t.exists("ws/sid-marker"),
        "a setsid process outlived the run"
    );
}
