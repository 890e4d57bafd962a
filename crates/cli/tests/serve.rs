//! `stockade serve`: driven by the official MCP Python SDK through a
//! realistic sequence (`mcp_client.py`), and by hand to check that no
//! session outlives the server, however it ends.

mod support;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

/// The Python with the `mcp` package: `STOCKADE_MCP_PYTHON`, or `python3`.
fn mcp_python() -> Option<String> {
    let python = std::env::var("STOCKADE_MCP_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&python)
        .args(["-c", "import mcp"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(python)
}

#[test]
fn the_official_python_sdk_drives_the_server() {
    let ws = Workspace::new();
    if let Some(reason) = sandbox_unavailable(&ws) {
        return skip(&reason);
    }
    let Some(python) = mcp_python() else {
        return skip(
            "the MCP Python SDK is not installed (pip install mcp; or set STOCKADE_MCP_PYTHON)",
        );
    };
    let client = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp_client.py");
    let out = Command::new(python)
        .arg(client)
        .arg(stockade_bin())
        .arg(&ws.path)
        .current_dir(&ws.path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("0 failures"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A server spoken to by hand, one JSON-RPC line at a time.
struct Raw {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    next: u64,
}

impl Raw {
    fn start(ws: &Workspace) -> Raw {
        let mut child = Command::new(stockade_bin())
            .arg("serve")
            .current_dir(&ws.path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut raw = Raw {
            child,
            stdin,
            stdout,
            next: 1,
        };
        raw.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}),
        );
        raw.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        raw
    }

    fn send(&mut self, message: Value) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{message}").unwrap();
        stdin.flush().unwrap();
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.reply(method, params)["result"].clone()
    }

    /// The whole reply: `result`, or `error`.
    fn reply(&mut self, method: &str, params: Value) -> Value {
        let id = self.next;
        self.next += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let mut line = String::new();
            assert!(
                self.stdout.read_line(&mut line).unwrap() > 0,
                "the server hung up"
            );
            let reply: Value = serde_json::from_str(&line).unwrap();
            if reply["id"] == id {
                return reply;
            }
        }
    }

    fn tool(&mut self, name: &str, arguments: Value) -> Value {
        let result = self.request("tools/call", json!({"name": name, "arguments": arguments}));
        assert_ne!(result["isError"], true, "{name}: {result}");
        result["structuredContent"].clone()
    }
}

/// A server over a fresh workspace; `None` (after skipping) where no
/// sandbox can run.
fn server() -> Option<(Workspace, Raw)> {
    let ws = Workspace::new();
    if let Some(reason) = sandbox_unavailable(&ws) {
        skip(&reason);
        return None;
    }
    let raw = Raw::start(&ws);
    Some((ws, raw))
}

/// Starts two sessions (pipes and a terminal) whose processes carry a
/// marker only they have; the marker.
fn start_sessions(raw: &mut Raw, tag: u32) -> String {
    let seconds = format!("{}", 900_000 + std::process::id() % 10_000 * 10 + tag);
    for tty in [false, true] {
        raw.tool(
            "session_start",
            json!({"command": ["sh", "-c", format!("sleep {seconds} & sleep {seconds}")], "tty": tty}),
        );
    }
    let marker = format!("sleep {seconds}");
    let start = Instant::now();
    while processes_with(&marker).len() < 4 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the sessions did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    marker
}

/// Starts sessions through a server, ends the server or its client with
/// `end`, and checks that no session's process is left.
fn sessions_die_when(tag: u32, when: &str, end: impl FnOnce(&mut Raw)) {
    let Some((_ws, mut raw)) = server() else {
        return;
    };
    let marker = start_sessions(&mut raw, tag);
    end(&mut raw);
    assert_eq!(gone(&marker), Vec::<String>::new(), "left after {when}");
}

#[test]
fn sessions_die_when_the_server_is_killed() {
    sessions_die_when(1, "SIGKILL of the server", |raw| {
        raw.child.kill().unwrap();
        raw.child.wait().unwrap();
    });
}

#[test]
fn sessions_die_when_the_client_disconnects() {
    sessions_die_when(2, "the client went away", |raw| {
        drop(raw.stdin.take());
        let status = raw.child.wait().unwrap();
        assert!(status.success(), "{status}");
    });
}

#[test]
fn sessions_die_when_the_server_is_terminated() {
    sessions_die_when(3, "SIGTERM to the server", |raw| {
        // SAFETY: kill with our own child's pid.
        unsafe { libc::kill(raw.child.id() as i32, libc::SIGTERM) };
        raw.child.wait().unwrap();
    });
}

#[test]
fn malformed_messages_do_not_bring_the_server_down() {
    let Some((_ws, mut raw)) = server() else {
        return;
    };
    // Not JSON, JSON that is no message, an unknown method, a tool call
    // with arguments of the wrong types, an unknown tool.
    let stdin = raw.stdin.as_mut().unwrap();
    writeln!(stdin, "this is not json").unwrap();
    writeln!(stdin, "{{\"jsonrpc\": \"2.0\", \"id\": [1, 2]}}").unwrap();
    stdin.flush().unwrap();
    // Each is answered with an error that says what is wrong.
    let reply = raw.reply("no/such/method", json!({}));
    assert!(reply["error"]["message"].is_string(), "{reply}");
    let reply = raw.reply(
        "tools/call",
        json!({"name": "exec", "arguments": {"command": "not an array", "timeout_ms": "soon"}}),
    );
    assert_eq!(reply["result"]["isError"], true, "{reply}");
    assert!(reply.to_string().contains("expected a sequence"), "{reply}");
    let reply = raw.reply(
        "tools/call",
        json!({"name": "no_such_tool", "arguments": {}}),
    );
    assert!(
        reply
            .to_string()
            .contains("there is no tool 'no_such_tool'; the tools are: "),
        "{reply}"
    );
    let big = "x".repeat(2 << 20);
    let started = raw.tool("session_start", json!({"command": ["cat"]}));
    let id = started["session_id"].as_str().unwrap().to_owned();
    let result = raw.request(
        "tools/call",
        json!({"name": "session_write", "arguments": {"session_id": id, "data": big}}),
    );
    assert_eq!(result["isError"], true, "{result}");
    assert!(result.to_string().contains("exceeds the limit"), "{result}");
    // Still serving.
    let record = raw.tool("exec", json!({"command": ["echo", "alive"]}));
    assert_eq!(record["stdout"], "alive\n", "{record}");
    drop(raw.stdin.take());
    assert!(raw.child.wait().unwrap().success());
}
