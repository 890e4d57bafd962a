//! The MCP tools of `stockade serve` (SPEC section 6). Every failure is a
//! tool error whose text says what went wrong and what to do, never a
//! crashed server.

use super::params::{
    Exec, SessionId, SessionRead, SessionResize, SessionSignal, SessionStart, SessionWrite,
};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ServerHandler, tool, tool_handler, tool_router};
use serde_json::{Value, json};
use std::time::Duration;
use stockade::policy::NetworkMode;
use stockade::{Error, Narrowing, Sandbox, SessionRequest, Sessions, WindowSize};

/// The longest a read may wait.
const MAX_WAIT: Duration = Duration::from_secs(300);

/// The server: one sandbox policy, its sessions.
#[derive(Clone)]
pub struct Server {
    sandbox: Sandbox,
    sessions: std::sync::Arc<Sessions>,
}

impl Server {
    pub fn new(sandbox: Sandbox, max_sessions: usize) -> Server {
        Server {
            sessions: std::sync::Arc::new(Sessions::new(sandbox.clone(), max_sessions)),
            sandbox,
        }
    }

    pub fn open_sessions(&self) -> &Sessions {
        &self.sessions
    }
}

/// A tool error a model can act on.
fn failure(message: impl Into<String>, hint: impl Into<String>) -> CallToolResult {
    CallToolResult::structured_error(json!({ "error": message.into(), "hint": hint.into() }))
}

fn from_error(e: &Error) -> CallToolResult {
    failure(e.to_string(), e.hint())
}

fn ok(value: Value) -> CallToolResult {
    CallToolResult::structured(value)
}

/// The length of the longest prefix of `bytes` that does not end inside a
/// UTF-8 sequence (so a read never splits a character).
fn utf8_boundary(bytes: &[u8]) -> usize {
    for back in 1..=3.min(bytes.len()) {
        let b = bytes[bytes.len() - back];
        if b & 0xC0 != 0x80 {
            // The start of the last sequence: complete if long enough.
            let need = match b {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF7 => 4,
                _ => 1,
            };
            return if need > back {
                bytes.len() - back
            } else {
                bytes.len()
            };
        }
    }
    bytes.len()
}

#[tool_router]
impl Server {
    #[tool(
        description = "Run a command in the sandbox to its end and return its record: exit_code, signal, timed_out, duration_ms, denials (what the sandbox refused), enforcement (what was applied), stdout and stderr (each capped: the first and last halves are kept; *_dropped_bytes counts what was left out). writable and network can only narrow the server's policy; asking for more is an error."
    )]
    async fn exec(&self, Parameters(p): Parameters<Exec>) -> CallToolResult {
        let Some(program) = p.command.first() else {
            return failure(
                "no command given",
                "give the command as an array, e.g. [\"ls\", \"-la\"]",
            );
        };
        let network = match p.network.as_deref().map(|n| (n, NetworkMode::parse(n))) {
            None => None,
            Some((_, Some(mode))) => Some(mode),
            Some((n, None)) => {
                return failure(
                    format!("unknown network mode '{n}'"),
                    "use \"off\", \"proxy\" or \"full\"",
                );
            }
        };
        let narrowing = Narrowing {
            writable: p.writable,
            network,
        };
        let sandbox = match self.sandbox.narrowed(&narrowing) {
            Ok(s) => s,
            Err(e) => return from_error(&e),
        };
        let mut command = sandbox.command(program.clone());
        command.args(p.command[1..].iter().cloned());
        if let Some(cwd) = p.cwd {
            command.current_dir(cwd);
        }
        for (k, v) in p.env.unwrap_or_default() {
            command.env(k, v);
        }
        if let Some(stdin) = p.stdin {
            command.input(stdin);
        }
        if let Some(ms) = p.timeout_ms {
            command.timeout(Duration::from_millis(ms));
        }
        match command.output().await {
            Ok(output) => {
                let mut record = serde_json::to_value(&output.record).unwrap_or(Value::Null);
                // The backend's own plan is long and the same every time:
                // `explain` shows it.
                if let Some(enforcement) =
                    record.get_mut("enforcement").and_then(Value::as_object_mut)
                {
                    enforcement.remove("details");
                }
                for (name, captured) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
                    record[name] = captured.text().into();
                    if captured.dropped > 0 {
                        record[format!("{name}_dropped_bytes")] = captured.dropped.into();
                        record[format!("{name}_dropped_at")] = captured.dropped_at.into();
                    }
                }
                ok(record)
            }
            Err(e) => from_error(&e),
        }
    }

    #[tool(
        description = "Start a long-running command in the sandbox (a dev server, a REPL, a shell, a long build) and return its session_id. Talk to it with session_write and session_read; end it with session_close. Use tty: true for interactive programs."
    )]
    async fn session_start(&self, Parameters(p): Parameters<SessionStart>) -> CallToolResult {
        let size = WindowSize {
            rows: p.rows.unwrap_or(24),
            cols: p.cols.unwrap_or(80),
        };
        let request = SessionRequest {
            argv: p.command,
            tty: p.tty.unwrap_or(false),
            cwd: p.cwd.map(Into::into),
            env: p.env.unwrap_or_default().into_iter().collect(),
            size: Some(size),
        };
        match self.sessions.start(request) {
            Ok(started) => ok(serde_json::to_value(&started).unwrap_or(Value::Null)),
            Err(e) => from_error(&e),
        }
    }

    #[tool(
        description = "Send text to a session's input (add \"\\n\" to press Enter). eof: true closes the input afterwards."
    )]
    async fn session_write(&self, Parameters(p): Parameters<SessionWrite>) -> CallToolResult {
        if let Err(e) = self.sessions.write(&p.session_id, p.data.as_bytes()).await {
            return from_error(&e);
        }
        if p.eof.unwrap_or(false) {
            if let Err(e) = self.sessions.close_input(&p.session_id).await {
                return from_error(&e);
            }
        }
        ok(json!({ "ok": true }))
    }

    #[tool(
        description = "Read a session's output from cursor on (start at 0, then pass the cursor each read returns). With wait_ms, waits that long for new output if there is none yet. Returns output, cursor, exited (the process ended and all its output is here), exit_code, and dropped_bytes (output lost because the reader fell too far behind)."
    )]
    async fn session_read(&self, Parameters(p): Parameters<SessionRead>) -> CallToolResult {
        let wait = Duration::from_millis(p.wait_ms.unwrap_or(0)).min(MAX_WAIT);
        let cursor = p.cursor.unwrap_or(0);
        match self.sessions.read(&p.session_id, cursor, wait).await {
            Ok(read) => {
                // Never split a character: the rest comes with the next read.
                let keep = if read.exited {
                    read.output.len()
                } else {
                    utf8_boundary(&read.output)
                };
                let held = (read.output.len() - keep) as u64;
                let mut value = serde_json::to_value(&read).unwrap_or(Value::Null);
                value["output"] = String::from_utf8_lossy(&read.output[..keep]).into();
                value["cursor"] = (read.cursor - held).into();
                ok(value)
            }
            Err(e) => from_error(&e),
        }
    }

    #[tool(
        description = "Resize a terminal session (tty: true) to rows x cols; the program gets SIGWINCH."
    )]
    async fn session_resize(&self, Parameters(p): Parameters<SessionResize>) -> CallToolResult {
        if p.rows == 0 || p.cols == 0 {
            return failure(
                "rows and cols must be at least 1",
                "pass the terminal's size, e.g. rows 24, cols 80",
            );
        }
        match self.sessions.resize(
            &p.session_id,
            WindowSize {
                rows: p.rows,
                cols: p.cols,
            },
        ) {
            Ok(()) => ok(json!({ "ok": true })),
            Err(e) => from_error(&e),
        }
    }

    #[tool(
        description = "Send a signal to a session's command: a name or a number. SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are passed on; on a terminal session SIGINT, SIGQUIT and SIGTSTP go to the foreground job, as Ctrl-C, Ctrl-\\ and Ctrl-Z do. SIGKILL kills its whole sandbox. The session stays open until session_close."
    )]
    async fn session_signal(&self, Parameters(p): Parameters<SessionSignal>) -> CallToolResult {
        let signal = match p.signal.number() {
            Ok(n) => n,
            Err(message) => {
                return failure(
                    message,
                    "pass a signal name such as \"SIGINT\", or its number",
                );
            }
        };
        match self.sessions.signal(&p.session_id, signal) {
            Ok(()) => ok(json!({ "ok": true })),
            Err(e) => from_error(&e),
        }
    }

    #[tool(
        description = "End a session: its command is stopped and its whole process tree killed. Returns its final record (exit_code, signal, timed_out, duration_ms, denials). Unread output is discarded."
    )]
    async fn session_close(&self, Parameters(p): Parameters<SessionId>) -> CallToolResult {
        match self.sessions.close(&p.session_id).await {
            Ok(record) => {
                let mut value = serde_json::to_value(&record).unwrap_or(Value::Null);
                if let Some(enforcement) =
                    value.get_mut("enforcement").and_then(Value::as_object_mut)
                {
                    enforcement.remove("details");
                }
                ok(value)
            }
            Err(e) => from_error(&e),
        }
    }

    #[tool(
        description = "List the open sessions: id, command, tty, running, exit_code, output_bytes, age and idle time."
    )]
    async fn sessions(&self) -> CallToolResult {
        ok(json!({ "sessions": self.sessions.list() }))
    }

    #[tool(
        description = "Explain the server's sandbox policy: what the commands may read and write, the network, the environment and limits, and how each rule is enforced on this machine."
    )]
    async fn explain(&self) -> CallToolResult {
        let text = crate::cmd::explain::render(self.sandbox.loaded(), &self.sandbox.plan());
        CallToolResult::success(vec![ContentBlock::text(text)])
    }
}

#[tool_handler]
impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("stockade", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "stockade runs commands in an OS-enforced sandbox. Use exec for commands that \
                 finish, and session_start/session_write/session_read/session_close for \
                 long-running or interactive ones. Call explain to see what the sandbox allows. \
                 A refused operation shows up in a record's denials.",
            )
    }

    /// As the generated one, but a call to an unknown tool is told which
    /// tools there are.
    async fn call_tool(
        &self,
        request: rmcp::model::CallToolRequestParams,
        context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::CallToolResponse, rmcp::ErrorData> {
        let router = Self::tool_router();
        if !router.has_route(&request.name) {
            let names: Vec<String> = router
                .list_all()
                .into_iter()
                .map(|t| t.name.into())
                .collect();
            return Err(rmcp::ErrorData::invalid_params(
                format!(
                    "there is no tool '{}'; the tools are: {}",
                    request.name,
                    names.join(", ")
                ),
                None,
            ));
        }
        let call = rmcp::handler::server::tool::ToolCallContext::new(self, request, context);
        router.call(call).await
    }
}

#[cfg(test)]
mod tests {
    use super::utf8_boundary;

    #[test]
    fn reads_never_split_a_character() {
        let text = "aé€😀".as_bytes();
        assert_eq!(utf8_boundary(text), text.len());
        for cut in 0..text.len() {
            let keep = utf8_boundary(&text[..cut]);
            assert!(std::str::from_utf8(&text[..keep]).is_ok(), "{cut}");
            assert!(cut - keep < 4);
        }
        assert_eq!(
            utf8_boundary(&[0xff, 0xfe]),
            2,
            "invalid bytes pass through"
        );
    }
}
