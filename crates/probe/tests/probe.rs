//! Runs the probe binary outside any sandbox and checks the JSON it prints:
//! each allowed operation next to one the kernel refuses.

#![cfg(target_os = "linux")]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

fn probe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stockade-probe"))
        .args(args)
        .output()
        .expect("failed to run stockade-probe")
}

/// Runs the probe, expects exit 0 and returns one parsed JSON object per line.
fn reports(args: &[&str]) -> Vec<Value> {
    let out = probe(args);
    assert!(
        out.status.success(),
        "probe {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("stdout is UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}")))
        .collect()
}

fn report(args: &[&str]) -> Value {
    let mut all = reports(args);
    assert_eq!(all.len(), 1, "{all:?}");
    all.remove(0)
}

/// A fresh directory under the target's temporary directory.
fn scratch() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "probe-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn path(dir: &std::path::Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_owned()
}

#[test]
fn write_then_read_round_trips() {
    let dir = scratch();
    let file = path(&dir, "f");
    let written = report(&["write", &file, "hello"]);
    assert_eq!(written["op"], "write");
    assert_eq!(written["args"], serde_json::json!([file, "hello"]));
    assert_eq!(written["ok"], true);
    assert!(written.get("errno").is_none());
    let read = report(&["read", &file]);
    assert_eq!(read["ok"], true);
    assert_eq!(read["data"], "hello");
}

#[test]
fn read_of_missing_file_is_enoent() {
    let dir = scratch();
    let read = report(&["read", &path(&dir, "missing")]);
    assert_eq!(read["ok"], false);
    assert_eq!(read["errno"], libc::ENOENT);
    assert_eq!(read["error"], "ENOENT");
}

#[test]
fn chained_ops_print_one_line_each_and_share_state() {
    let dir = scratch();
    let file = path(&dir, "f");
    let lines = reports(&[
        "create-excl",
        &file,
        "--then",
        "create-excl",
        &file,
        "--then",
        "exists",
        &file,
    ]);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["ok"], true);
    assert_eq!(lines[1]["error"], "EEXIST");
    assert_eq!(lines[2]["ok"], true);
    assert_eq!(lines[2]["exists"], true);
}

#[test]
fn unknown_op_exits_2_and_runs_nothing() {
    let dir = scratch();
    let file = path(&dir, "f");
    let out = probe(&["write", &file, "x", "--then", "no-such-op"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown op 'no-such-op'"));
    assert!(!dir.join("f").exists(), "the chain ran despite the bad op");
}

#[test]
fn wrong_argument_count_exits_2() {
    let out = probe(&["write", "/only-a-path"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(probe(&[]).status.code(), Some(2));
    assert_eq!(probe(&["getpid", "--then"]).status.code(), Some(2));
}

#[test]
fn stat_list_and_exists_report_their_fields() {
    let dir = scratch();
    let file = path(&dir, "b");
    let lines = reports(&[
        "write",
        &file,
        "x",
        "--then",
        "chmod",
        &file,
        "640",
        "--then",
        "stat",
        &file,
        "--then",
        "mkdir",
        &path(&dir, "a"),
        "--then",
        "list",
        dir.to_str().unwrap(),
        "--then",
        "exists",
        &path(&dir, "nope"),
    ]);
    assert_eq!(lines[2]["mode"], "640");
    assert_eq!(lines[2]["is_dir"], false);
    assert_eq!(lines[4]["entries"], serde_json::json!(["a", "b"]));
    assert_eq!(lines[5]["ok"], true);
    assert_eq!(lines[5]["exists"], false);
}

#[test]
fn exec_reports_status_and_keeps_stdout_clean() {
    let lines = reports(&[
        "exec",
        "/bin/sh",
        "-c",
        "echo noise; exit 3",
        "--then",
        "exec",
        "/nonexistent/bin",
    ]);
    assert_eq!(lines.len(), 2, "child output leaked into stdout: {lines:?}");
    assert_eq!(lines[0]["ok"], true);
    assert_eq!(lines[0]["status"], 3);
    assert_eq!(lines[1]["error"], "ENOENT");
}

#[test]
fn tcp_connect_reaches_a_listener_and_is_refused_without_one() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    assert_eq!(report(&["tcp-connect", "127.0.0.1", &port])["ok"], true);
    drop(listener);
    let refused = report(&["tcp-connect", "127.0.0.1", &port]);
    assert_eq!(refused["error"], "ECONNREFUSED");
}

#[test]
fn environ_lists_names_but_never_values() {
    let out = Command::new(env!("CARGO_BIN_EXE_stockade-probe"))
        .args(["environ", "--then", "env", "PROBE_TEST_SECRET"])
        .env("PROBE_TEST_SECRET", "hunter2-value")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names = lines[0]["entries"].as_array().unwrap();
    assert!(names.iter().any(|n| n == "PROBE_TEST_SECRET"));
    assert!(!stdout.lines().next().unwrap().contains("hunter2"));
    assert_eq!(lines[1]["value"], "hunter2-value");
}

#[test]
fn spawn_orphan_returns_at_once_and_the_orphan_writes_its_marker() {
    let dir = scratch();
    let marker = dir.join("marker");
    let started = Instant::now();
    // `output()` reads stdout to EOF, so this also checks that the orphan
    // let go of the probe's stdout.
    let spawned = report(&["spawn-orphan", "2", marker.to_str().unwrap()]);
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert_eq!(spawned["ok"], true);
    assert!(spawned["pid"].as_i64().unwrap() > 0);
    assert!(!marker.exists());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !marker.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "alive\n");
}

#[test]
fn identity_and_confinement_fields_have_their_types() {
    let lines = reports(&[
        "getpid",
        "--then",
        "uid",
        "--then",
        "no-new-privs",
        "--then",
        "seccomp-mode",
        "--then",
        "capget",
        "--then",
        "x32-getpid",
    ]);
    assert!(lines[0]["pid"].as_u64().unwrap() > 0);
    assert!(lines[1]["euid"].is_u64());
    assert!(lines[2]["value"].is_i64());
    assert!(lines[3]["value"].as_u64().unwrap() <= 2);
    assert_eq!(lines[4]["caps"]["effective"].as_str().unwrap().len(), 16);
    // Either the kernel's answer or "not applicable"; never missing.
    assert!(lines[5]["ok"].is_boolean());
    assert!(lines[5]["error"].is_string() || lines[5]["ok"] == true);
}
