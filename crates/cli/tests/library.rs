//! The async library (`stockade::Sandbox`, `stockade::Sessions`) end to
//! end, with the `stockade` binary as launch helper: captured output and
//! its cap, timeouts, sessions on pipes and on a terminal, bad input, the
//! session bound, process trees, and leaks after 1000 sessions.

mod support;

use std::time::{Duration, Instant};
use stockade::policy::NetworkMode;
use stockade::{Error, Narrowing, PolicyRequest, Sandbox, SessionRequest, Sessions, WindowSize};
use support::*;

/// A sandbox over `ws` (the `workspace` profile, or `profile` from the
/// workspace's `policy.toml`), launched through the `stockade` binary;
/// `None` (after skipping) where no sandbox can run.
fn sandbox(ws: &Workspace, profile: Option<&str>) -> Option<Sandbox> {
    if let Some(reason) = sandbox_unavailable(ws) {
        skip(&reason);
        return None;
    }
    let request = PolicyRequest {
        config: profile.map(|_| ws.path.join("policy.toml")),
        profile: profile.map(str::to_owned),
        cwd: Some(ws.path.clone()),
        ..PolicyRequest::default()
    };
    Some(Sandbox::new(request).unwrap().helper(stockade_bin()))
}

/// A fresh workspace and a sandbox over it with the `workspace` profile.
fn workspace_sandbox() -> Option<(Workspace, Sandbox)> {
    let ws = Workspace::new();
    let sandbox = sandbox(&ws, None)?;
    Some((ws, sandbox))
}

/// Runs `test` on fresh sessions of `bound` over a workspace sandbox;
/// skips where no sandbox can run.
fn with_sessions(bound: usize, test: impl AsyncFnOnce(Sessions)) {
    let Some((_ws, sandbox)) = workspace_sandbox() else {
        return;
    };
    runtime().block_on(test(Sessions::new(sandbox, bound)));
}

fn sh(sandbox: &Sandbox, script: &str) -> stockade::Command {
    let mut command = sandbox.command("sh");
    command.args(["-c", script]);
    command
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Reads a session from `cursor` until `needle` shows up, it ends, or 10 s
/// pass; what was read and the cursor after it.
async fn read_until(sessions: &Sessions, id: &str, needle: &str, mut cursor: u64) -> (String, u64) {
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen.contains(needle) && Instant::now() < deadline {
        let read = sessions
            .read(id, cursor, Duration::from_millis(500))
            .await
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&read.output));
        cursor = read.cursor;
        if read.exited {
            break;
        }
    }
    (seen, cursor)
}

/// Starts a session of `argv` (on a terminal if `tty`); its id.
fn start(sessions: &Sessions, argv: &[&str], tty: bool) -> String {
    let request = SessionRequest {
        argv: argv.iter().map(|a| a.to_string()).collect(),
        tty,
        ..SessionRequest::default()
    };
    sessions.start(request).unwrap().session_id
}

fn message(result: Result<impl std::fmt::Debug, Error>) -> String {
    let e = result.expect_err("expected an error");
    format!("{e} (hint: {})", e.hint())
}

#[test]
fn output_keeps_the_streams_apart_with_the_record() {
    let Some((_ws, sandbox)) = workspace_sandbox() else {
        return;
    };
    runtime().block_on(async {
        let out = sh(
            &sandbox,
            "echo out; echo err >&2; cat; echo $GREETING; exit 3",
        )
        .env("GREETING", "hi")
        .input("piped\n")
        .output()
        .await
        .unwrap();
        assert_eq!(out.record.exit_code, 3);
        assert_eq!(out.stdout.text(), "out\npiped\nhi\n");
        assert_eq!(out.stderr.text(), "err\n");
        assert_eq!((out.stdout.dropped, out.stderr.dropped), (0, 0));
        assert!(out.record.enforcement.blockers.is_empty());

        let out = sh(&sandbox, "kill -TERM $$").output().await.unwrap();
        assert_eq!(
            (out.record.exit_code, out.record.signal),
            (128 + 15, Some(15))
        );

        let started = Instant::now();
        let out = sandbox
            .command("sleep")
            .arg("30")
            .timeout(Duration::from_millis(300))
            .output()
            .await
            .unwrap();
        assert!(
            out.record.timed_out && out.record.exit_code == 124,
            "{:?}",
            out.record
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    });
}

#[test]
fn commands_run_inside_the_sandbox() {
    let Some((ws, sandbox)) = workspace_sandbox() else {
        return;
    };
    let outside = ws.path.parent().unwrap().join("outside");
    runtime().block_on(async {
        let script = format!("echo x > {}", outside.display());
        let out = sh(&sandbox, &script).output().await.unwrap();
        assert_ne!(out.record.exit_code, 0, "{}", out.stderr.text());
        assert!(
            !outside.exists(),
            "a write outside the workspace went through"
        );
        // The launch channel does not cross: stdio is all the command has.
        let out = sh(&sandbox, "ls /proc/$$/fd").output().await.unwrap();
        assert_eq!(out.stdout.text(), "0\n1\n2\n", "{}", out.stderr.text());
        let out = sh(&sandbox, "echo x > inside").output().await.unwrap();
        assert_eq!(out.record.exit_code, 0, "{}", out.stderr.text());
        assert!(ws.path.join("inside").exists());
    });
}

#[test]
fn capped_output_keeps_the_head_and_the_tail_and_counts_the_rest() {
    let ws = Workspace::new();
    ws.write(
        "policy.toml",
        "[profiles.capped]\nextends = \"workspace\"\n[profiles.capped.limits]\nmax_output = \"1KiB\"\n",
    );
    let Some(sandbox) = sandbox(&ws, Some("capped")) else {
        return;
    };
    runtime().block_on(async {
        // About 1.2 MB, the last line printed as the command exits.
        let out = sh(&sandbox, "seq 1 200000; printf LAST; seq 1 10 >&2")
            .output()
            .await
            .unwrap();
        let total: u64 = (1..=200000u64)
            .map(|n| n.to_string().len() as u64 + 1)
            .sum::<u64>()
            + 4;
        let kept = &out.stdout;
        assert_eq!(kept.bytes.len(), 1024);
        assert_eq!(
            kept.bytes.len() as u64 + kept.dropped,
            total,
            "bytes were lost"
        );
        assert_eq!(kept.dropped_at, 512);
        assert!(kept.text().starts_with("1\n2\n3\n"), "{}", kept.text());
        assert!(
            kept.text().ends_with("199999\n200000\nLAST"),
            "{}",
            kept.text()
        );
        // The other stream has its own cap and is whole.
        assert_eq!(out.stderr.text(), "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n");
        assert_eq!(out.stderr.dropped, 0);
    });
}

#[test]
fn a_pipe_session_is_read_from_a_cursor_and_its_output_outlives_it() {
    with_sessions(8, async |sessions| {
        let id = start(
            &sessions,
            &["sh", "-c", "read x; echo got $x; echo oops >&2; exit 7"],
            false,
        );
        sessions.write(&id, b"abc\n").await.unwrap();
        let (seen, cursor) = read_until(&sessions, &id, "oops", 0).await;
        assert!(
            seen.contains("got abc\n") && seen.contains("oops\n"),
            "{seen}"
        );
        // Wait for the end; reading again from the same cursor gives
        // nothing new, and from 0 everything again.
        let deadline = Instant::now() + Duration::from_secs(10);
        let last = loop {
            let read = sessions
                .read(&id, cursor, Duration::from_millis(500))
                .await
                .unwrap();
            assert!(read.output.is_empty());
            if read.exited || Instant::now() > deadline {
                break read;
            }
        };
        assert!(last.exited && last.exit_code == Some(7), "{last:?}");
        let again = sessions.read(&id, 0, Duration::ZERO).await.unwrap();
        assert_eq!(String::from_utf8_lossy(&again.output), seen);
        assert_eq!(again.dropped_bytes, 0);

        // What an ended session refuses, clearly.
        let e = message(sessions.write(&id, b"more\n").await);
        assert!(e.contains("ended"), "{e}");
        let e = message(sessions.resize(&id, WindowSize { rows: 10, cols: 10 }));
        assert!(e.contains("pipes"), "{e}");
        let record = sessions.close(&id).await.unwrap();
        assert_eq!(record.exit_code, 7);
        let e = message(sessions.read(&id, 0, Duration::ZERO).await);
        assert!(e.contains("no session"), "{e}");
    });
}

#[test]
fn closing_a_sessions_input_is_end_of_file() {
    with_sessions(8, async |sessions| {
        for tty in [false, true] {
            let id = start(&sessions, &["sh", "-c", "wc -c; echo wc-done"], tty);
            sessions.write(&id, b"12345\n").await.unwrap();
            sessions.close_input(&id).await.unwrap();
            let (seen, _) = read_until(&sessions, &id, "wc-done", 0).await;
            assert!(
                seen.contains('6') && seen.contains("wc-done"),
                "tty {tty}: {seen}"
            );
            let deadline = Instant::now() + Duration::from_secs(10);
            while sessions.list().iter().any(|s| s.running) {
                assert!(Instant::now() < deadline, "tty {tty}: still running");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert_eq!(sessions.close(&id).await.unwrap().exit_code, 0);
        }
    });
}

#[test]
fn a_terminal_session_echoes_resizes_and_takes_signals() {
    with_sessions(8, async |sessions| {
        let id = sessions
            .start(SessionRequest {
                argv: vec!["sh".into()],
                tty: true,
                size: Some(WindowSize { rows: 30, cols: 90 }),
                ..SessionRequest::default()
            })
            .unwrap()
            .session_id;
        sessions
            .write(&id, b"test -t 0 && echo tty-$((40+2)); stty size\n")
            .await
            .unwrap();
        let (seen, cursor) = read_until(&sessions, &id, "30 90", 0).await;
        assert!(seen.contains("tty-42") && seen.contains("30 90"), "{seen}");
        sessions
            .resize(
                &id,
                WindowSize {
                    rows: 40,
                    cols: 100,
                },
            )
            .unwrap();
        sessions.write(&id, b"stty size\n").await.unwrap();
        let (seen, cursor) = read_until(&sessions, &id, "40 100", cursor).await;
        assert!(seen.contains("40 100"), "{seen}");
        // SIGINT reaches the foreground job, not the shell.
        let seconds = 700_000 + std::process::id() % 10_000;
        let line = format!("sleep {seconds}; echo slept\n");
        sessions.write(&id, line.as_bytes()).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while processes_with(&format!("sleep {seconds}")).is_empty() {
            assert!(Instant::now() < deadline, "sleep did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (_, cursor) = read_until(&sessions, &id, "slept\r\n", cursor).await;
        sessions.signal(&id, libc::SIGINT).unwrap();
        // As after a ^C, type only once the shell prompts again.
        let (_, cursor) = read_until(&sessions, &id, "# ", cursor).await;
        sessions.write(&id, b"echo after-$((6*7))\n").await.unwrap();
        let (seen, _) = read_until(&sessions, &id, "after-42", cursor).await;
        assert!(
            seen.contains("after-42") && !seen.contains("slept\r\n"),
            "{seen}"
        );
        let listed = sessions.list();
        assert!(
            listed.len() == 1 && listed[0].running && listed[0].tty,
            "{listed:?}"
        );
        sessions.close(&id).await.unwrap();
        assert!(sessions.list().is_empty());

        // The command cannot type into a terminal, not even its own.
        let script = "import fcntl, termios\ntry:\n    fcntl.ioctl(0, termios.TIOCSTI, b'x')\n    print('injected')\nexcept OSError as e:\n    print('refused', e.errno)";
        let id = start(&sessions, &["python3", "-c", script], true);
        let (seen, _) = read_until(&sessions, &id, "\u{0}", 0).await;
        assert!(seen.contains(&format!("refused {}", libc::EPERM)), "{seen}");
        sessions.close(&id).await.unwrap();

        // Signals a terminal cannot send go to the command itself.
        let script =
            "trap 'echo trapped-$((6*7)); exit 5' TERM; echo ready; while :; do sleep 0.1; done";
        let id = start(&sessions, &["sh", "-c", script], true);
        read_until(&sessions, &id, "ready", 0).await;
        sessions.signal(&id, libc::SIGTERM).unwrap();
        let (seen, _) = read_until(&sessions, &id, "trapped-42", 0).await;
        assert!(seen.contains("trapped-42"), "{seen}");
        assert_eq!(sessions.close(&id).await.unwrap().exit_code, 5);
    });
}

#[test]
fn bad_input_is_a_clear_error_each() {
    let Some((_ws, sandbox)) = workspace_sandbox() else {
        return;
    };
    runtime().block_on(async {
        let sessions = Sessions::new(sandbox.clone(), 8);
        let e = message(sessions.read("nope", 0, Duration::ZERO).await);
        assert!(
            e.contains("no session 'nope'") && e.contains("start one"),
            "{e}"
        );
        let e = message(sessions.start(SessionRequest::default()));
        assert!(e.contains("no command"), "{e}");
        let id = start(&sessions, &["cat"], false);
        let e = message(
            sessions
                .write(&id, &vec![b'x'; stockade::MAX_WRITE + 1])
                .await,
        );
        assert!(e.contains("exceeds the limit"), "{e}");
        let e = message(sessions.signal("nope", libc::SIGINT));
        assert!(e.contains("no session 'nope'") && e.contains(&id), "{e}");
        // A command that does not exist ends the session with its error.
        let missing = start(&sessions, &["no-such-command-here"], false);
        let (seen, _) = read_until(&sessions, &missing, "\u{0}", 0).await;
        assert!(seen.contains("not found"), "{seen}");
        let e = message(sessions.close(&missing).await);
        assert!(e.contains("not found"), "{e}");
        sessions.close(&id).await.unwrap();
        let e = message(sessions.close(&id).await);
        assert!(e.contains("no session"), "{e}");
        // A request may narrow the sandbox, never widen it.
        let wider = Narrowing {
            network: Some(NetworkMode::Full),
            ..Narrowing::default()
        };
        let e = message(sandbox.narrowed(&wider));
        assert!(e.contains("only narrow"), "{e}");
        let wider = Narrowing {
            writable: Some(vec!["/".into()]),
            ..Narrowing::default()
        };
        let e = message(sandbox.narrowed(&wider));
        assert!(e.contains("only narrow"), "{e}");
    });
}

#[test]
fn the_session_bound_reaps_the_one_idle_longest() {
    with_sessions(2, async |sessions| {
        let start = || {
            sessions
                .start(SessionRequest {
                    argv: vec!["cat".into()],
                    ..SessionRequest::default()
                })
                .unwrap()
        };
        let first = start().session_id;
        let second = start().session_id;
        // Using the first makes the second the one idle longest.
        sessions.write(&first, b"hi\n").await.unwrap();
        let third = start();
        assert_eq!(third.reaped, vec![second.clone()]);
        let mut ids: Vec<String> = sessions.list().into_iter().map(|s| s.session_id).collect();
        ids.sort();
        assert_eq!(ids, vec![first, third.session_id]);
        let e = message(sessions.read(&second, 0, Duration::ZERO).await);
        assert!(e.contains("no session"), "{e}");
    });
}

#[test]
fn closing_a_session_kills_its_whole_process_tree() {
    let seconds = 800_000 + std::process::id() % 10_000;
    let marker = format!("sleep {seconds}");
    with_sessions(8, async |sessions| {
        for tty in [false, true] {
            let script = format!("(sleep {seconds} &) ; sleep {seconds} & sleep {seconds}");
            let id = start(&sessions, &["sh", "-c", &script], tty);
            let deadline = Instant::now() + Duration::from_secs(10);
            while processes_with(&marker).len() < 3 {
                assert!(Instant::now() < deadline, "the session did not start");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            sessions.close(&id).await.unwrap();
            assert_eq!(gone(&marker), Vec::<String>::new(), "left after close");
        }
    });
}

/// Descriptors open in this process, with what each is.
fn open_fds() -> Vec<String> {
    let mut fds: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .map(|e| {
            let target = std::fs::read_link(e.path()).unwrap_or_default();
            format!("{} {}", e.file_name().to_string_lossy(), target.display())
        })
        .collect();
    fds.sort();
    fds
}

/// This process's children (any thread's), zombies included.
fn children() -> Vec<String> {
    let mut found = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let text = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        found.extend(text.split_whitespace().map(str::to_owned));
    }
    found
}

/// Runs this test binary again with only `test` in it, so that what it
/// counts (descriptors, children) is its own; whether this is that run.
fn alone(test: &str) -> bool {
    if std::env::var_os("STOCKADE_TEST_ALONE").is_some() {
        return true;
    }
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env("STOCKADE_TEST_ALONE", "1")
        .status()
        .unwrap();
    assert!(status.success(), "{test} failed when run alone: {status}");
    false
}

#[test]
fn a_thousand_sessions_leave_nothing_behind() {
    if !alone("a_thousand_sessions_leave_nothing_behind") {
        return;
    }
    let Some((_ws, sandbox)) = workspace_sandbox() else {
        return;
    };
    let rt = runtime();
    let sessions = Sessions::new(sandbox, 16);
    // One session first, so that the runtime's own descriptors exist.
    rt.block_on(async {
        let id = start(&sessions, &["true"], false);
        sessions.close(&id).await.unwrap();
    });
    let fds = open_fds();
    let tmp_before = std::fs::read_dir(std::env::temp_dir()).unwrap().count();
    rt.block_on(async {
        // Ten at a time, half on terminals, each written to and read.
        for round in 0..100 {
            let mut ids = Vec::new();
            for i in 0..10 {
                let id = start(&sessions, &["sh", "-c", "read x; echo got-$x"], i % 2 == 0);
                sessions
                    .write(&id, format!("{round}-{i}\n").as_bytes())
                    .await
                    .unwrap();
                ids.push((id, format!("got-{round}-{i}")));
            }
            for (id, want) in ids {
                let (seen, _) = read_until(&sessions, &id, &want, 0).await;
                assert!(seen.contains(&want), "{id}: {seen}");
                sessions.close(&id).await.unwrap();
            }
        }
    });
    assert!(sessions.list().is_empty());
    // Processes are reaped, and the last session's task lets go of its
    // descriptors, just after close returns: give them a moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    while (!children().is_empty() || open_fds().len() > fds.len()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(children(), Vec::<String>::new(), "processes left behind");
    // No more than after the first session (whose last pipe may still be
    // closing then, as the last of these may be now): nothing grows.
    let after = open_fds();
    assert!(
        after.len() <= fds.len(),
        "descriptors leaked: {fds:?} -> {after:?}"
    );
    let tmp_after = std::fs::read_dir(std::env::temp_dir()).unwrap().count();
    assert!(
        tmp_after <= tmp_before,
        "temporary files left: {tmp_before} -> {tmp_after}"
    );
}

#[test]
fn concurrent_commands_over_one_workspace_all_start() {
    let Some((ws, sandbox)) = workspace_sandbox() else {
        return;
    };
    // Each run makes, shares and removes the placeholders of the protected
    // names in the workspace (`.git`, `.stockade.toml`, ...) that the
    // others plan around: 300 runs, 6 at a time, must all start.
    runtime().block_on(async {
        for _ in 0..50 {
            let runs = (0..6).map(|_| {
                let sandbox = sandbox.clone();
                tokio::spawn(async move { sandbox.command("true").output().await })
            });
            for run in runs.collect::<Vec<_>>() {
                let out = run.await.unwrap().unwrap();
                assert_eq!(out.record.exit_code, 0, "{}", out.stderr.text());
            }
        }
    });
    let left: Vec<_> = std::fs::read_dir(&ws.path)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        left.is_empty(),
        "placeholders left in the workspace: {left:?}"
    );
}
