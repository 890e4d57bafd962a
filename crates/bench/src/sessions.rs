//! Issue figures for the async library API, measured side by side in one
//! process: a command started and awaited through [`Sandbox`] against a
//! bare `tokio::process` spawn; captured output against a bare read of
//! the same command's stdout; a line's round trip through a PTY session;
//! and 100 sessions at once against 100 bare children.
//!
//! Every sandbox is launched through the `stockade` binary (the launch
//! helper) with the default profile, in a fresh workspace outside `/tmp`.

use crate::stats::{Figure, Target, median};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use stockade::{Captured, PolicyRequest, Sandbox, SessionRequest, Sessions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The size of the file a throughput run prints (with `cat`, as many
/// times as it prints MiB): bytes counting 0 to 250 over and over.
const PATTERN: usize = 1 << 20;
/// Sessions open at once.
const SESSIONS: usize = 100;
/// A session that answers one line.
const ECHO_ONCE: &str = "read x; echo $x";

pub fn figures(iterations: usize, stockade: &Path) -> Vec<Figure> {
    if !stockade.is_file() {
        return Vec::new();
    }
    // The workspace: not under /tmp (the sandbox's private /tmp).
    let base = std::env::current_dir()
        .unwrap_or_else(|_| ".".into())
        .join("target");
    let _ = std::fs::create_dir_all(&base);
    let Ok(dir) = tempfile::tempdir_in(&base) else {
        return Vec::new();
    };
    let ws = dir.path().to_path_buf();
    let request = PolicyRequest {
        cwd: Some(ws.clone()),
        ..PolicyRequest::default()
    };
    let sandbox = match Sandbox::new(request) {
        Ok(sandbox) => sandbox.helper(stockade),
        Err(e) => {
            eprintln!("note: the library cannot load the policy ({e}); session figures skipped");
            return Vec::new();
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        if let Err(e) = library_true(&sandbox).await {
            eprintln!("note: the library cannot run /bin/true here ({e}); session figures skipped");
            return Vec::new();
        }
        let n = iterations.max(1);
        let groups = [
            ("spawn", spawns(n, &sandbox, stockade, &ws).await),
            ("50 MiB", throughput(n.min(20), &sandbox, &ws, 50).await),
            ("1 GiB", throughput(n.min(5), &sandbox, &ws, 1024).await),
            ("PTY", pty_round_trip(n, &sandbox).await),
            ("sessions", concurrent(n.min(5), &sandbox, &ws).await),
        ];
        let mut figures = Vec::new();
        for (name, group) in groups {
            match group {
                Ok(group) => figures.extend(group),
                Err(e) => eprintln!("note: {name} figures skipped: {e}"),
            }
        }
        figures
    })
}

/// How long `f` took, or its error.
async fn timed(f: impl Future<Output = Result<(), String>>) -> Result<Duration, String> {
    let start = Instant::now();
    f.await?;
    Ok(start.elapsed())
}

/// `program args` outside the sandbox, stdio null, awaited; `forked`
/// with a (no-op) `pre_exec` hook, as the library launches its helper,
/// which makes std fork the caller instead of using `posix_spawn`.
async fn bare(program: &Path, args: &[&str], ws: &Path, forked: bool) -> Result<(), String> {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .current_dir(ws)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if forked {
        // SAFETY: the hook does nothing at all.
        unsafe { cmd.pre_exec(|| Ok(())) };
    }
    let status = cmd
        .status()
        .await
        .map_err(|e| format!("{}: {e}", program.display()))?;
    status
        .success()
        .then_some(())
        .ok_or(format!("{} ended with {status}", program.display()))
}

/// `/bin/true` in the sandbox, stdio null, awaited.
async fn library_true(sandbox: &Sandbox) -> Result<(), String> {
    let record = sandbox
        .command("/bin/true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .map_err(|e| format!("{e}\nhint: {}", e.hint()))?;
    match record.exit_code {
        0 => Ok(()),
        code => Err(format!("/bin/true in the sandbox exited {code}")),
    }
}

/// `n` rounds of `round`, after one more that warms up; each of its
/// figures' samples, sorted.
async fn rounds<const K: usize>(
    n: usize,
    mut round: impl AsyncFnMut() -> Result<[Duration; K], String>,
) -> Result<[Vec<Duration>; K], String> {
    let mut samples = [(); K].map(|_| Vec::with_capacity(n));
    for i in 0..=n {
        let taken = round().await?;
        if i > 0 {
            for (all, one) in samples.iter_mut().zip(taken) {
                all.push(one);
            }
        }
    }
    for all in &mut samples {
        all.sort();
    }
    Ok(samples)
}

/// `/bin/true` through the library, bare through tokio, and through the
/// `stockade run` process, interleaved.
async fn spawns(
    n: usize,
    sandbox: &Sandbox,
    stockade: &Path,
    ws: &Path,
) -> Result<Vec<Figure>, String> {
    let run = ["run", "--", "/bin/true"];
    let true_ = Path::new("/bin/true");
    let [library, tokio, forked, cli] = rounds(n, async || {
        Ok([
            timed(library_true(sandbox)).await?,
            timed(bare(true_, &[], ws, false)).await?,
            timed(bare(true_, &[], ws, true)).await?,
            timed(bare(stockade, &run, ws, false)).await?,
        ])
    })
    .await?;
    Ok(vec![
        Figure::ratio(
            "library `/bin/true` (status) vs bare tokio spawn",
            &library,
            median(&tokio),
            1.2,
        ),
        Figure::reference(
            "`stockade run -- /bin/true` process vs library",
            &cli,
            median(&library),
        ),
        Figure::reference(
            "  bare tokio spawn with a pre_exec hook vs without",
            &forked,
            median(&tokio),
        ),
    ])
}

/// `mib` MiB printed by `cat` (the 1 MiB [`PATTERN`] file, `mib` times),
/// captured through the library and read bare, interleaved; and whether
/// each captured byte is where the pattern says.
async fn throughput(
    n: usize,
    sandbox: &Sandbox,
    ws: &Path,
    mib: usize,
) -> Result<Vec<Figure>, String> {
    let pattern: Vec<u8> = (0..PATTERN).map(|i| (i % 251) as u8).collect();
    let file = ws.join("pattern");
    std::fs::write(&file, &pattern).map_err(|e| format!("write {}: {e}", file.display()))?;
    let file = file.to_string_lossy().into_owned();
    let args = vec![file.as_str(); mib];
    let bytes = (mib * PATTERN) as u64;
    let mut lost = 0;
    let [library, tokio, big_pipe, starts] = rounds(n, async || {
        let start = Instant::now();
        let output = sandbox
            .command("cat")
            .args(args.iter().copied())
            .output()
            .await
            .map_err(|e| e.to_string())?;
        let l = start.elapsed();
        if output.record.exit_code != 0 {
            return Err(format!("cat exited {}", output.record.exit_code));
        }
        lost += lost_bytes(&output.stdout, bytes, &pattern);
        // The same run with nothing to move: what starting it costs.
        let s0 = Instant::now();
        sandbox
            .command("cat")
            .arg("/dev/null")
            .output()
            .await
            .map_err(|e| e.to_string())?;
        let s = s0.elapsed();
        let t = timed(read_all("cat", &args, bytes, false)).await?;
        let b = timed(read_all("cat", &args, bytes, true)).await?;
        Ok([l, t, b, s])
    })
    .await?;
    let moving: Vec<Duration> = library
        .iter()
        .map(|l| l.saturating_sub(median(&starts)))
        .collect();
    Ok(vec![
        Figure::new(
            format!("captured output (output()), {mib} MiB, sandbox start excluded"),
            &moving,
            Target::Throughput { bytes, gbps: 1.0 },
        ),
        Figure::new(
            format!("  {mib} MiB: the whole run, sandbox start included"),
            &library,
            Target::Throughput { bytes, gbps: 1.0 },
        ),
        Figure::reference(
            format!("  {mib} MiB: captured vs bare tokio read of stdout"),
            &library,
            median(&tokio),
        ),
        Figure::reference(
            format!("  {mib} MiB: bare read, 1 MiB pipe vs default 64 KiB"),
            &big_pipe,
            median(&tokio),
        ),
        Figure::count(
            format!("  {mib} MiB: bytes lost or misplaced (kept + dropped)"),
            lost,
            0,
        ),
    ])
}

/// Bytes of `written` that `captured` lost or holds in the wrong place:
/// the head from offset 0, the tail from just after the dropped bytes.
fn lost_bytes(captured: &Captured, written: u64, pattern: &[u8]) -> u64 {
    let (head, tail) = captured.bytes.split_at(captured.dropped_at);
    let misplaced = |bytes: &[u8], from: u64| {
        let expected = (from..).map(|at| pattern[(at % pattern.len() as u64) as usize]);
        bytes
            .iter()
            .zip(expected)
            .filter(|(b, e)| **b != *e)
            .count() as u64
    };
    let kept = captured.bytes.len() as u64;
    written.abs_diff(kept + captured.dropped)
        + misplaced(head, 0)
        + misplaced(tail, head.len() as u64 + captured.dropped)
}

/// `program args` outside the sandbox, its stdout read to the end (from
/// a 1 MiB pipe if `big_pipe`); an error unless it printed `expected`
/// bytes.
async fn read_all(
    program: &str,
    args: &[&str],
    expected: u64,
    big_pipe: bool,
) -> Result<(), String> {
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{program}: {e}"))?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    if big_pipe {
        // SAFETY: fcntl on a pipe we own, with an integer argument.
        if unsafe { libc::fcntl(stdout.as_raw_fd(), libc::F_SETPIPE_SZ, 1 << 20) } < 0 {
            return Err("cannot make a 1 MiB pipe (fs.pipe-max-size)".into());
        }
    }
    let (mut buf, mut total) = (vec![0u8; 1 << 20], 0);
    loop {
        match stdout.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n as u64,
        }
    }
    let _ = child.wait().await;
    (total == expected).then_some(()).ok_or(format!(
        "bare {program} printed {total} bytes, not {expected}"
    ))
}

/// Reads session `id` from `cursor` until `needle` has arrived; the
/// cursor after it.
async fn read_until(
    sessions: &Sessions,
    id: &str,
    mut cursor: u64,
    needle: &[u8],
    within: Duration,
) -> Result<u64, String> {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    loop {
        let read = sessions
            .read(id, cursor, Duration::from_secs(1))
            .await
            .map_err(|e| e.to_string())?;
        seen.extend(read.output);
        cursor = read.cursor;
        if seen.windows(needle.len()).any(|w| w == needle) {
            return Ok(cursor);
        }
        if read.exited || Instant::now() > deadline {
            return Err(format!(
                "session {id} did not print {:?} (it printed {:?})",
                String::from_utf8_lossy(needle),
                String::from_utf8_lossy(&seen)
            ));
        }
    }
}

/// A line written to `cat` on a PTY (echo off) until `cat`'s copy of it
/// is read back.
async fn pty_round_trip(n: usize, sandbox: &Sandbox) -> Result<Vec<Figure>, String> {
    let sessions = Sessions::new(sandbox.clone(), 4);
    let script = "stty -echo && echo READY && exec cat";
    let id = sessions
        .start(SessionRequest {
            argv: ["sh", "-c", script].map(String::from).to_vec(),
            tty: true,
            ..SessionRequest::default()
        })
        .map_err(|e| e.to_string())?
        .session_id;
    let within = Duration::from_secs(10);
    let mut cursor = read_until(&sessions, &id, 0, b"READY", within).await?;
    let mut samples = Vec::new();
    for i in 0..=n {
        let start = Instant::now();
        let line = format!("ping {i}\n");
        sessions
            .write(&id, line.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let echo = format!("ping {i}\r\n");
        cursor = read_until(&sessions, &id, cursor, echo.as_bytes(), within).await?;
        if i > 0 {
            samples.push(start.elapsed());
        }
    }
    let _ = sessions.close(&id).await;
    samples.sort();
    Ok(vec![Figure::new(
        "PTY session round trip (write a line, read cat's copy)",
        &samples,
        Target::Time(Duration::from_millis(1)),
    )])
}

/// [`SESSIONS`] sessions started, then each written to, read and closed
/// at once, `rounds` times; against as many bare children doing the same.
async fn concurrent(rounds: usize, sandbox: &Sandbox, ws: &Path) -> Result<Vec<Figure>, String> {
    let (mut walls, mut bares, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    let mut terminated = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        errors.extend(sessions_once(sandbox, &mut terminated).await);
        walls.push(start.elapsed());
        bares.push(timed(bare_children_once(ws)).await?);
    }
    for e in errors.iter().take(3) {
        eprintln!("note: concurrent sessions: {e}");
    }
    if terminated > 0 {
        let all = rounds * SESSIONS;
        eprintln!("note: {terminated} of {all} sessions had answered but not exited when closed");
    }
    walls.sort();
    bares.sort();
    Ok(vec![
        Figure::count(
            format!("{SESSIONS} concurrent sessions: errors ({rounds} rounds)"),
            errors.len() as u64,
            0,
        ),
        Figure::reference(
            format!("  {SESSIONS} sessions: wall time vs {SESSIONS} bare tokio children"),
            &walls,
            median(&bares),
        ),
    ])
}

/// One round of [`concurrent`]: its errors; counts in `terminated` the
/// sessions that `close` had to end.
async fn sessions_once(sandbox: &Sandbox, terminated: &mut usize) -> Vec<String> {
    let sessions = Arc::new(Sessions::new(sandbox.clone(), 128));
    let request = SessionRequest {
        argv: ["sh", "-c", ECHO_ONCE].map(String::from).to_vec(),
        ..SessionRequest::default()
    };
    let mut errors = Vec::new();
    let mut talks = tokio::task::JoinSet::new();
    for i in 0..SESSIONS {
        let started = match sessions.start(request.clone()) {
            Ok(started) => started,
            Err(e) => {
                errors.push(format!("start: {e}"));
                continue;
            }
        };
        if !started.reaped.is_empty() {
            errors.push(format!("start reaped {:?}", started.reaped));
        }
        let sessions = sessions.clone();
        talks.spawn(async move {
            let id = started.session_id;
            let line = format!("hello {i}\n");
            sessions
                .write(&id, line.as_bytes())
                .await
                .map_err(|e| format!("write {id}: {e}"))?;
            read_until(&sessions, &id, 0, line.as_bytes(), Duration::from_secs(60)).await?;
            let record = sessions
                .close(&id)
                .await
                .map_err(|e| format!("close {id}: {e}"))?;
            Ok(record.exit_code)
        });
    }
    while let Some(talk) = talks.join_next().await {
        match talk.map_err(|e| e.to_string()).and_then(|r| r) {
            Ok(0) => {}
            // `sh` answered but had not exited yet: `close` ended it.
            Ok(143) => *terminated += 1,
            Ok(code) => errors.push(format!("a session exited {code}")),
            Err(e) => errors.push(e),
        }
    }
    errors
}

/// [`SESSIONS`] bare `sh` children started, then each written to and read
/// to its end at once.
async fn bare_children_once(ws: &Path) -> Result<(), String> {
    let mut talks = tokio::task::JoinSet::new();
    for i in 0..SESSIONS {
        let mut child = tokio::process::Command::new("sh")
            .args(["-c", ECHO_ONCE])
            .current_dir(ws)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("sh: {e}"))?;
        talks.spawn(async move {
            let line = format!("hello {i}\n");
            let mut stdin = child.stdin.take().expect("piped stdin");
            stdin.write_all(line.as_bytes()).await?;
            drop(stdin);
            let mut answer = String::new();
            let mut stdout = child.stdout.take().expect("piped stdout");
            stdout.read_to_string(&mut answer).await?;
            child.wait().await?;
            Ok::<bool, std::io::Error>(answer == line)
        });
    }
    while let Some(talk) = talks.join_next().await {
        match talk {
            Ok(Ok(true)) => {}
            other => return Err(format!("a bare sh did not answer: {other:?}")),
        }
    }
    Ok(())
}
