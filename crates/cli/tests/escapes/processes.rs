//! Classes 13, 16, 17 and 18: other processes, lifetime, resource limits,
//! environment.

use crate::common::*;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

// ---- 13. Other processes ----

#[test]
fn sandbox_init_cannot_be_traced_read_or_signalled() {
    let Some(t) = sandbox() else { return };
    let r = t
        .probe()
        .op(&["getppid"])
        .op(&["ptrace-traceme"])
        .op(&["ptrace-attach", "1"])
        .op(&["process-vm-read", "1"])
        .op(&["pidfd-getfd", "1", "0"])
        .op(&["read", "/proc/1/mem"])
        .op(&["kill", "1", "TERM"])
        .op(&["kill", "1", "KILL"])
        .op(&["kill", "0", "0"])
        .op(&["getpid"])
        .run();
    let [
        ppid,
        traceme,
        attach,
        vm,
        getfd,
        mem,
        term,
        kill,
        own_group,
        getpid,
    ] = r.ops();
    assert_eq!(
        ppid["ppid"], 1,
        "the probe's parent is the sandbox's init: {ppid}"
    );
    for forbidden in [traceme, attach, vm, getfd] {
        denied(forbidden, &["EPERM", "EACCES"]);
    }
    denied(mem, READ_DENIED);
    denied(term, &["EPERM"]);
    denied(kill, &["EPERM"]);
    allowed(own_group);
    allowed(getpid);
}

#[test]
fn host_processes_are_invisible() {
    let Some(t) = sandbox() else { return };
    let host_pid = std::process::id().to_string();
    let r = t
        .probe()
        .op(&["kill", &host_pid, "0"])
        .op(&["kill", &host_pid, "TERM"])
        .op(&["ptrace-attach", &host_pid])
        .op(&["process-vm-read", &host_pid])
        .op(&["read-environ", &host_pid])
        .op(&["exists", &format!("/proc/{host_pid}/cmdline")])
        .op(&["list", "/proc"])
        .run();
    let [probe, term, attach, vm, environ, exists, list] = r.ops();
    for forbidden in [probe, term] {
        denied(forbidden, &["ESRCH", "EPERM"]);
    }
    for forbidden in [attach, vm] {
        denied(forbidden, &["ESRCH", "EPERM"]);
    }
    denied(environ, &["ENOENT", "EACCES", "EPERM", "ESRCH"]);
    allowed(list);
    // The sandbox's own /proc lists its pid namespace only: a handful of
    // processes (init, the probe), not the host's.
    let pids = list["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e.as_str().unwrap().bytes().all(|b| b.is_ascii_digit()))
        .count();
    assert!(pids <= 4, "the host's processes are visible: {list}");
    if host_pid.parse::<u32>().unwrap() > 4 {
        absent(exists);
    }
}

// ---- 16. Lifetime ----

#[test]
fn orphaned_double_forked_process_dies_with_the_run() {
    let Some(t) = sandbox() else { return };
    let marker = t.p("ws/orphan-marker");
    let r = t
        .probe()
        .op(&["spawn-orphan", "2", &marker])
        .op(&["write", "alive-twin", "x"])
        .run();
    let [orphan, twin] = r.ops();
    allowed(orphan);
    assert_eq!(orphan["setsid_ok"], true, "{orphan}");
    // The twin: the workspace is writable, so the marker would appear if
    // its writer were alive.
    allowed(twin);
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        !t.exists("ws/orphan-marker"),
        "a double-forked, setsid process outlived the run"
    );
    t.assert_no_process_left();
}

#[test]
fn timeout_kills_the_whole_tree_with_status_124() {
    let Some(t) = sandbox() else { return };
    let marker = t.p("ws/timeout-marker");
    let start = Instant::now();
    let r = t
        .probe()
        .policy(&["--timeout", "1s"])
        .op(&["spawn-orphan", "2", &marker])
        .op(&["sleep", "30"])
        .run();
    let elapsed = start.elapsed();
    r.expect_code(124);
    assert!(elapsed < Duration::from_secs(5), "timeout took {elapsed:?}");
    assert_eq!(r.ops.len(), 1, "{}", r.stdout);
    allowed(&r.ops[0]);
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        !t.exists("ws/timeout-marker"),
        "a process outlived the timeout"
    );
    t.assert_no_process_left();
    // The twin: a command that ends before its timeout ends normally.
    let r = t
        .probe()
        .policy(&["--timeout", "10s"])
        .op(&["sleep", "0.1"])
        .run();
    let [slept] = r.ops();
    allowed(slept);
}

/// Starts `stockade run` with an orphan writing MARKER after 2 s and a long
/// sleep; returns once the probe has reported the orphan.
fn start_long_run(t: &Tree, marker: &str) -> std::process::Child {
    let mut child = t
        .probe()
        .op(&["spawn-orphan", "2", marker])
        .op(&["sleep", "30"])
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("\"ok\":true"), "spawn-orphan failed: {line}");
    child
}

#[test]
fn sigterm_to_stockade_ends_the_run_and_nothing_survives() {
    let Some(t) = sandbox() else { return };
    let marker = t.p("ws/term-marker");
    let mut child = start_long_run(&t, &marker);
    let start = Instant::now();
    let kill = std::process::Command::new("/bin/sh")
        .args(["-c", &format!("kill -TERM {}", child.id())])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert!(
        status.code() == Some(143) || status.signal() == Some(15),
        "stockade ended with {status:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        !t.exists("ws/term-marker"),
        "a process outlived SIGTERM to stockade"
    );
    t.assert_no_process_left();
    // Placeholders are cleaned up on this path.
    assert!(!t.exists("ws/.git"), "placeholders left after SIGTERM");
}

#[test]
fn sigkill_to_stockade_kills_the_sandbox() {
    let Some(t) = sandbox() else { return };
    let marker = t.p("ws/kill-marker");
    let mut child = start_long_run(&t, &marker);
    child.kill().unwrap();
    child.wait().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        !t.exists("ws/kill-marker"),
        "a process outlived SIGKILL to stockade"
    );
    t.assert_no_process_left();
    // Nobody was left to remove the run's placeholders: they are empty,
    // marked directories (a `.stockade.toml` directory is no policy)...
    let names = [".git", ".agents", ".codex", ".stockade", ".stockade.toml"];
    for name in names {
        if t.exists(&format!("ws/{name}")) {
            assert_eq!(
                std::fs::read_dir(t.path(&format!("ws/{name}")))
                    .unwrap()
                    .count(),
                0,
                "{name}"
            );
        }
    }
    // ...which the next run recognises, shares and removes.
    let r = t.probe().op(&["write", "ok", "x"]).run();
    let [ok] = r.ops();
    allowed(ok);
    for name in names {
        assert!(
            !t.exists(&format!("ws/{name}")),
            "{name} left behind after the next run"
        );
    }
}

#[test]
fn sigterm_to_stockade_kills_a_command_that_ignores_it() {
    let Some(t) = sandbox() else { return };
    let script = "trap '' TERM INT HUP; echo started > started; sleep 30; echo survived > marker";
    let mut child = t
        .command()
        .args(["run", "--", "/bin/sh", "-c", script])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(wait_for(Duration::from_secs(10), || t.exists("ws/started")));
    let start = Instant::now();
    let kill = std::process::Command::new("/bin/sh")
        .args(["-c", &format!("kill -TERM {}", child.id())])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert!(
        status.code() == Some(143) || status.signal() == Some(15),
        "stockade ended with {status:?}"
    );
    // A grace period, then the whole tree is killed.
    assert!(
        start.elapsed() < Duration::from_secs(6),
        "took {:?}",
        start.elapsed()
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(!t.exists("ws/marker"), "the command survived");
    t.assert_no_process_left();
}

/// ESCAPE (class 16): after SIGKILL to stockade its placeholders stay on
/// the host for good (the next run sees them as real paths and never
/// removes them), and the empty `.stockade.toml` placeholder becomes the
/// policy file of every later run from that directory, so the user's
/// config file (here: a profile that denies `ws/secret`) is silently no
/// longer read.
#[test]
fn placeholders_of_a_killed_run_do_not_change_the_next_runs_policy() {
    let Some(t) = sandbox() else { return };
    t.write("ws/secret/s", "classified\n");
    t.write(
        "xdg/stockade/config.toml",
        &format!(
            "default_profile = \"strict\"\n[profiles.strict]\nextends = \"workspace\"\n\
             [profiles.strict.filesystem]\n\"{}\" = \"none\"\n",
            t.p("ws/secret")
        ),
    );
    let r = t.probe().op(&["read", "secret/s"]).run();
    let [before_kill] = r.ops();
    denied(before_kill, READ_DENIED);
    let mut child = start_long_run(&t, &t.p("ws/m"));
    child.kill().unwrap();
    child.wait().unwrap();
    let r = t
        .probe()
        .op(&["read", "secret/s"])
        .op(&["write", "ok", "x"])
        .run();
    let [after_kill, ok] = r.ops();
    denied(after_kill, READ_DENIED);
    allowed(ok);
    assert!(
        !t.exists("ws/.stockade.toml"),
        "a placeholder outlived the runs"
    );
}

// ---- 17. Resources ----

fn limits_policy(t: &Tree, limits: &str) -> String {
    t.write(
        "pol/limits.toml",
        &format!("[profiles.lim]\nextends = \"workspace\"\n\n[profiles.lim.limits]\n{limits}\n"),
    );
    t.p("pol/limits.toml")
}

/// Whether this machine lets stockade make cgroups for `policy`'s limits
/// (root, or a delegated subtree). Where it does not, the run must be
/// refused naming the limit, and the returned arguments waive it: the
/// limits then fall back to rlimits (per process, per user).
fn cgroup_limits(t: &Tree, policy: &str, rule: &str) -> Vec<&'static str> {
    let r = t.run(&["-c", policy, "-p", "lim", "--", "/bin/true"]);
    if r.code == Some(0) {
        return Vec::new();
    }
    r.expect_code(125);
    assert!(
        r.stderr.contains(rule) && r.stderr.contains("no cgroup can hold this limit"),
        "the refusal names {rule}: {}",
        r.stderr
    );
    assert!(r.stderr.contains("--allow-weaker limits"), "{}", r.stderr);
    assert!(
        !running_as_root(),
        "root can make cgroups, but the run was refused: {}",
        r.stderr
    );
    vec!["--allow-weaker", "limits"]
}

#[test]
fn max_processes_limits_a_fork_bomb() {
    let Some(t) = sandbox() else { return };
    let policy = limits_policy(&t, "max_processes = 64");
    let waive = cgroup_limits(&t, &policy, "limits.max_processes");
    let mut args = vec!["-c", policy.as_str(), "-p", "lim"];
    args.extend(&waive);
    let r = t
        .probe()
        .policy(&args)
        .op(&["fork-bomb-limited", "200"])
        .op(&["fork-bomb-limited", "10"])
        .run();
    let [bomb, few] = r.ops();
    denied(bomb, &["EAGAIN"]);
    let forked = bomb["forked"].as_u64().unwrap();
    eprintln!("fork bomb: {forked} of 200 forks succeeded with max_processes = 64");
    assert!(forked < 200, "{bomb}");
    allowed(few);
}

/// As root (where RLIMIT_NPROC does nothing) the limit is a cgroup's
/// `pids.max`, which counts every process of the sandbox.
#[test]
fn max_processes_limits_a_fork_bomb_even_as_root() {
    let Some(t) = sandbox() else { return };
    if !running_as_root() {
        eprintln!("skipped: runs as root only (the unprivileged case is the test above)");
        return;
    }
    let policy = limits_policy(&t, "max_processes = 64");
    assert!(cgroup_limits(&t, &policy, "limits.max_processes").is_empty());
    let r = t
        .probe()
        .policy(&["-c", &policy, "-p", "lim"])
        .op(&["fork-bomb-limited", "200"])
        .run();
    let [bomb] = r.ops();
    denied(bomb, &["EAGAIN"]);
    let forked = bomb["forked"].as_u64().unwrap();
    assert!(
        forked <= 64,
        "{forked} forks under max_processes = 64: {bomb}"
    );
}

#[test]
fn max_memory_stops_a_memory_balloon() {
    let Some(t) = sandbox() else { return };
    let policy = limits_policy(&t, "max_memory = \"256MiB\"");
    let waive = cgroup_limits(&t, &policy, "limits.max_memory");
    let mut args = vec!["-c", policy.as_str(), "-p", "lim"];
    args.extend(&waive);
    let r = t
        .probe()
        .policy(&args)
        .op(&["alloc", "512"])
        .op(&["alloc", "64"])
        .run();
    let [balloon, small] = r.ops();
    denied(balloon, &["ENOMEM"]);
    allowed(small);
}

/// `max_memory` bounds the sandbox as a whole: several processes together,
/// and files in the private `/tmp` (tmpfs pages are charged to the cgroup).
#[test]
fn max_memory_bounds_the_whole_sandbox() {
    let Some(t) = sandbox() else { return };
    let policy = limits_policy(&t, "max_memory = \"64MiB\"");
    if !cgroup_limits(&t, &policy, "limits.max_memory").is_empty() {
        eprintln!(
            "skipped: no cgroup here, and rlimits cannot bound the whole sandbox (the run is refused, checked above)"
        );
        return;
    }
    let r = t.run(&[
        "-c",
        &policy,
        "-p",
        "lim",
        "--",
        "/bin/sh",
        "-c",
        "head -c 134217728 /dev/zero > /tmp/big",
    ]);
    assert_ne!(
        r.code,
        Some(0),
        "128 MiB in /tmp under max_memory = 64MiB: {}",
        r.stderr
    );
    let probe = probe_bin();
    let probe = probe.to_str().unwrap();
    // 40 MiB each: two cannot fit at once, and one leaves room for what
    // else the cgroup is charged (the probe's and the shell's page cache,
    // when this run is the first to read them). Each holds its memory for
    // 3 s, so that on a loaded machine the four still overlap (with 1 s, a
    // loaded CI run once saw three allocations succeed, most likely one
    // after another).
    let script = format!("for i in 1 2 3 4; do {probe} alloc 40 --then sleep 3 & done; wait");
    let r = t.run(&["-c", &policy, "-p", "lim", "--", "/bin/sh", "-c", &script]);
    let held = r
        .stdout
        .matches("\"op\":\"alloc\",\"args\":[\"40\"],\"ok\":true")
        .count();
    assert!(held >= 1, "one 40 MiB process fits: {}", r.stdout);
    assert!(
        held * 40 <= 64,
        "{held} x 40 MiB held at once: {}",
        r.stdout
    );
    // The sandbox survives its OOM kills and reports the command's status.
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}

// ---- 18. Environment ----

#[test]
fn secret_environment_variables_do_not_reach_the_command() {
    let Some(t) = sandbox() else { return };
    let r = t
        .probe()
        .policy(&["--env-set", "A=1"])
        .env("GITHUB_TOKEN", "ghp_secret")
        .env("AWS_SECRET_ACCESS_KEY", "aws_secret")
        .env("OPENAI_API_KEY", "sk-secret")
        .env("DATABASE_URL", "postgres://u:p@h/db")
        .env("SSH_AUTH_SOCK", "/run/user/1/agent")
        .env("UNRELATED", "x")
        .op(&["env", "GITHUB_TOKEN"])
        .op(&["env", "AWS_SECRET_ACCESS_KEY"])
        .op(&["env", "OPENAI_API_KEY"])
        .op(&["env", "DATABASE_URL"])
        .op(&["env", "SSH_AUTH_SOCK"])
        .op(&["env", "UNRELATED"])
        .op(&["environ"])
        .op(&["env", "PATH"])
        .op(&["env", "HOME"])
        .op(&["env", "A"])
        .op(&["env", "STOCKADE_SANDBOX"])
        .op(&["read-environ", "1"])
        .op(&["read-environ", "self"])
        .run();
    let [
        gh,
        aws,
        openai,
        db,
        ssh,
        unrelated,
        environ,
        path,
        home,
        a,
        marker,
        init,
        own,
    ] = r.ops();
    for forbidden in [gh, aws, openai, db, ssh, unrelated] {
        allowed(forbidden);
        assert_eq!(
            forbidden["value"],
            serde_json::Value::Null,
            "leaked: {forbidden}"
        );
    }
    let names: Vec<&str> = environ["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for secret in [
        "GITHUB_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "OPENAI_API_KEY",
        "DATABASE_URL",
    ] {
        assert!(!names.contains(&secret), "{secret} in {names:?}");
    }
    assert_eq!(path["value"], "/usr/bin:/bin");
    assert_eq!(home["value"], t.p("home"));
    assert_eq!(a["value"], "1");
    assert_eq!(marker["value"], "1");
    // pid 1 is a fork of stockade: its environ is stockade's, secrets
    // included, so it must not be readable.
    denied(init, READ_DENIED);
    allowed(own);
}
