//! Sessions (SPEC section 6): sandboxed processes that stay running for an
//! agent to talk to — a dev server, a REPL, a long build. Each runs on a
//! PTY or on pipes; the caller writes its input, reads its output from a
//! cursor, resizes its terminal, signals it, and closes it.
//!
//! Sessions are bounded: starting one past the bound reaps the one idle
//! longest (with a warning). Closing a session, or dropping [`Sessions`],
//! kills its whole process tree; so does the death of this process (the
//! launch helper dies with it, and the sandbox with the helper).
//!
//! ```
//! use std::time::Duration;
//! use stockade::{PolicyRequest, Sandbox, SessionRequest, Sessions};
//!
//! fn main() -> Result<(), stockade::Error> {
//!     // First thing: this program is also the sandboxes' launch helper.
//!     stockade::helper_if_requested();
//!     let sandbox = Sandbox::new(PolicyRequest::default())?;
//!     if let Err(e) = sandbox.ready() {
//!         eprintln!("no sandbox can run here: {e}\nhint: {}", e.hint());
//!         return Ok(());
//!     }
//!     let runtime = tokio::runtime::Runtime::new().expect("a runtime");
//!     runtime.block_on(async {
//!         let sessions = Sessions::new(sandbox, 8);
//!         let request = SessionRequest {
//!             argv: vec!["cat".into()],
//!             ..SessionRequest::default()
//!         };
//!         let id = sessions.start(request)?.session_id;
//!         sessions.write(&id, b"hello\n").await?;
//!         // Waits up to 5 s for output; the next read starts at `cursor`.
//!         let read = sessions.read(&id, 0, Duration::from_secs(5)).await?;
//!         assert_eq!(read.output, b"hello\n");
//!         let record = sessions.close(&id).await?;
//!         println!("cat ended with {}", record.exit_code);
//!         Ok(())
//!     })
//! }
//! ```

mod log;

use crate::error::Error;
use crate::error::ReportedError;
use crate::run::RunRecord;
use crate::sandbox::{Child, Master, Sandbox, WindowSize};
use log::OutputLog;
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::ChildStdin;
use tokio::sync::watch;

/// Output kept per session (older output is dropped, and readers told).
pub const DEFAULT_SESSION_BUFFER: usize = 1 << 20;
/// The most one write may carry.
pub const MAX_WRITE: usize = 1 << 20;
/// The signals a terminal sends its foreground group (the only ones the
/// kernel lets a PTY's master send: `TIOCSIG`).
const TERMINAL_SIGNALS: [i32; 3] = [libc::SIGINT, libc::SIGQUIT, libc::SIGTSTP];
/// How long a write may wait for a command that does not read its input.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long `close` waits for the tree to end after asking it to stop
/// (stockade kills it 2 s after the request).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long `close` lets a command that is ending on its own finish before
/// it asks it to stop: one that printed its answer a moment ago gets its
/// own exit status, not 128+SIGTERM.
const CLOSE_GRACE: Duration = Duration::from_millis(50);
/// Bytes read from the command at a time.
const READ_CHUNK: usize = 64 * 1024;

/// What to start.
#[derive(Clone, Debug, Default)]
pub struct SessionRequest {
    /// The command and its arguments.
    pub argv: Vec<String>,
    /// On a PTY (its controlling terminal) rather than pipes.
    pub tty: bool,
    /// Where it starts (default: the policy's `:cwd`).
    pub cwd: Option<PathBuf>,
    /// Variables set on top of what the policy passes.
    pub env: Vec<(String, String)>,
    /// The PTY's size (default 24x80).
    pub size: Option<WindowSize>,
}

/// A session started.
#[derive(Clone, Debug, Serialize)]
pub struct Started {
    /// Its id.
    pub session_id: String,
    /// Sessions reaped to make room (the oldest idle ones).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reaped: Vec<String>,
}

/// One read of a session's output.
#[derive(Clone, Debug, Serialize)]
pub struct ReadResult {
    /// Output from the cursor on (PTY: one stream; pipes: stdout and
    /// stderr as they arrived).
    #[serde(skip)]
    pub output: Vec<u8>,
    /// The cursor to read from next.
    pub cursor: u64,
    /// Whether the process has ended and its output was read to EOF.
    pub exited: bool,
    /// Its exit status, once it has ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Bytes between the cursor asked for and the oldest still kept.
    pub dropped_bytes: u64,
}

/// A session, as listed.
#[derive(Clone, Debug, Serialize)]
pub struct SessionInfo {
    pub session_id: String,
    pub command: Vec<String>,
    pub tty: bool,
    pub running: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Output produced so far (the cursor of its end).
    pub output_bytes: u64,
    pub age_ms: u64,
    pub idle_ms: u64,
}

/// The sessions of one sandbox.
#[derive(Debug)]
pub struct Sessions {
    sandbox: Sandbox,
    max: usize,
    buffer: usize,
    next: AtomicU64,
    live: Mutex<HashMap<String, Arc<Session>>>,
}

#[derive(Debug)]
struct Session {
    id: String,
    argv: Vec<String>,
    started: Instant,
    last_used: Mutex<Instant>,
    /// The launch helper's pid, for signals.
    helper: Option<u32>,
    input: tokio::sync::Mutex<Option<ChildStdin>>,
    master: Option<Arc<Master>>,
    state: Mutex<State>,
    changed: watch::Sender<u64>,
    /// Kills the sandbox when dropped or told to.
    kill: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
}

#[derive(Debug)]
struct State {
    log: OutputLog,
    ended: Option<Result<RunRecord, ReportedError>>,
}

fn session_error(message: String, hint: &str) -> Error {
    Error::Reported(ReportedError {
        message,
        hint: hint.into(),
        exit_code: crate::EXIT_SETUP_FAILURE,
    })
}

impl Sessions {
    /// At most `max` sessions of `sandbox` at once.
    pub fn new(sandbox: Sandbox, max: usize) -> Sessions {
        Sessions {
            sandbox,
            max: max.max(1),
            buffer: DEFAULT_SESSION_BUFFER,
            next: AtomicU64::new(1),
            live: Mutex::new(HashMap::new()),
        }
    }

    /// Keeps `bytes` of output per session (default 1 MiB).
    pub fn with_buffer(mut self, bytes: usize) -> Sessions {
        self.buffer = bytes.max(1);
        self
    }

    /// The sandbox the sessions run in.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// Starts a session; needs a tokio runtime.
    ///
    /// # Errors
    ///
    /// No command, or the launch helper cannot start. Errors of the
    /// sandbox itself (an unenforceable rule, a missing command) end the
    /// session at once: [`Sessions::read`] reports them as its output.
    pub fn start(&self, request: SessionRequest) -> Result<Started, Error> {
        if request.argv.is_empty() {
            return Err(session_error(
                "no command given".into(),
                "give the command as an array, e.g. [\"python3\", \"-i\"]",
            ));
        }
        let reaped = self.make_room();
        let mut command = self.sandbox.command(request.argv[0].clone());
        command.args(request.argv[1..].iter().cloned());
        if let Some(cwd) = &request.cwd {
            command.current_dir(cwd);
        }
        for (k, v) in &request.env {
            command.env(k, v);
        }
        let (mut child, master) = if request.tty {
            let (child, master) = command.spawn_pty(request.size.unwrap_or_default())?;
            (child, Some(Arc::new(master)))
        } else {
            command
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            (command.spawn()?, None)
        };
        let id = format!("s{}", self.next.fetch_add(1, Ordering::Relaxed));
        let (kill_tx, kill_rx) = tokio::sync::oneshot::channel();
        let session = Arc::new(Session {
            id: id.clone(),
            argv: request.argv,
            started: Instant::now(),
            last_used: Mutex::new(Instant::now()),
            helper: child.id(),
            input: tokio::sync::Mutex::new(child.stdin.take()),
            master: master.clone(),
            state: Mutex::new(State {
                log: OutputLog::new(self.buffer),
                ended: None,
            }),
            changed: watch::channel(0).0,
            kill: Mutex::new(Some(kill_tx)),
        });
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        tokio::spawn(run(session.clone(), child, master, stdout, stderr, kill_rx));
        self.live.lock().unwrap().insert(id.clone(), session);
        Ok(Started {
            session_id: id,
            reaped,
        })
    }

    /// Below the bound again: reaps the sessions idle longest.
    fn make_room(&self) -> Vec<String> {
        let mut live = self.live.lock().unwrap();
        let mut reaped = Vec::new();
        while live.len() >= self.max {
            let Some(oldest) = live
                .values()
                .min_by_key(|s| *s.last_used.lock().unwrap())
                .map(|s| s.id.clone())
            else {
                break;
            };
            if let Some(session) = live.remove(&oldest) {
                tracing::warn!(
                    target: "stockade::sessions",
                    session = %oldest,
                    max = self.max,
                    "session limit reached: reaping the session idle longest"
                );
                session.kill_now();
                reaped.push(oldest);
            }
        }
        reaped
    }

    fn get(&self, id: &str) -> Result<Arc<Session>, Error> {
        let live = self.live.lock().unwrap();
        let session = live.get(id).cloned().ok_or_else(|| {
            let mut ids: Vec<&String> = live.keys().collect();
            ids.sort();
            session_error(
                format!("no session '{id}'"),
                &if ids.is_empty() {
                    "there are no sessions; start one with session_start".to_owned()
                } else {
                    format!(
                        "the sessions are: {}",
                        ids.iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
            )
        })?;
        *session.last_used.lock().unwrap() = Instant::now();
        Ok(session)
    }

    /// Writes to the session's input (on a PTY, as if typed).
    ///
    /// # Errors
    ///
    /// Unknown session, the session has ended or closed its input, the
    /// write exceeds [`MAX_WRITE`], or the command does not read it within
    /// 5 s.
    pub async fn write(&self, id: &str, data: &[u8]) -> Result<(), Error> {
        let session = self.get(id)?;
        if data.len() > MAX_WRITE {
            return Err(session_error(
                format!(
                    "a write of {} bytes exceeds the limit of {MAX_WRITE} bytes",
                    data.len()
                ),
                "split the input into smaller writes",
            ));
        }
        session.refuse_if_ended()?;
        let written = async {
            match &session.master {
                Some(master) => master.write_all(data).await,
                None => match session.input.lock().await.as_mut() {
                    Some(stdin) => stdin.write_all(data).await,
                    None => Err(std::io::ErrorKind::BrokenPipe.into()),
                },
            }
        };
        match tokio::time::timeout(WRITE_TIMEOUT, written).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => {
                session.refuse_if_ended()?;
                Err(session_error(
                    format!("session '{id}' no longer reads its input"),
                    "read its output: it may have closed its input or be ending",
                ))
            }
            Err(_) => Err(session_error(
                format!(
                    "session '{id}' did not read its input within {}s",
                    WRITE_TIMEOUT.as_secs()
                ),
                "read its output to see what it is doing; a smaller write may fit",
            )),
        }
    }

    /// Closes the session's input (on a PTY: sends end-of-file, `^D`).
    ///
    /// # Errors
    ///
    /// Unknown session.
    pub async fn close_input(&self, id: &str) -> Result<(), Error> {
        let session = self.get(id)?;
        match &session.master {
            Some(master) => {
                let _ = master.write_all(&[0x04]).await;
            }
            None => drop(session.input.lock().await.take()),
        }
        Ok(())
    }

    /// Output from `cursor` on. Waits up to `wait` for some to arrive (or
    /// for the process to end) when there is none yet.
    ///
    /// # Errors
    ///
    /// Unknown session.
    pub async fn read(&self, id: &str, cursor: u64, wait: Duration) -> Result<ReadResult, Error> {
        let session = self.get(id)?;
        let deadline = tokio::time::Instant::now() + wait;
        let mut changed = session.changed.subscribe();
        loop {
            let result = session.read_now(cursor);
            if !result.output.is_empty() || result.exited {
                return Ok(result);
            }
            if tokio::time::timeout_at(deadline, changed.changed())
                .await
                .is_err()
            {
                return Ok(session.read_now(cursor));
            }
        }
    }

    /// Resizes the session's terminal.
    ///
    /// # Errors
    ///
    /// Unknown session, or it runs on pipes.
    pub fn resize(&self, id: &str, size: WindowSize) -> Result<(), Error> {
        let session = self.get(id)?;
        let master = session.master.as_ref().ok_or_else(|| {
            session_error(
                format!("session '{id}' runs on pipes and has no terminal to resize"),
                "start it with tty: true to give it a terminal",
            )
        })?;
        master
            .resize(size)
            .map_err(|e| session_error(format!("resize failed: {e}"), "check rows and cols"))
    }

    /// Sends `signal` to the session's command. On a PTY, `SIGINT`,
    /// `SIGQUIT` and `SIGTSTP` go to its foreground process group, as the
    /// terminal sends them for `^C`, `^\` and `^Z`; any other signal, and
    /// every signal on pipes, goes to the command itself (SIGINT, SIGTERM,
    /// SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2). `SIGKILL` kills the whole
    /// sandbox.
    ///
    /// # Errors
    ///
    /// Unknown session, it has ended, or the signal cannot be sent.
    pub fn signal(&self, id: &str, signal: i32) -> Result<(), Error> {
        let session = self.get(id)?;
        session.refuse_if_ended()?;
        if signal == libc::SIGKILL {
            session.kill_now();
            return Ok(());
        }
        match &session.master {
            Some(master) if TERMINAL_SIGNALS.contains(&signal) => {
                master.signal(signal).map_err(|e| {
                    session_error(
                        format!("signal {signal} could not be sent: {e}"),
                        "use a signal number from 1 to 64, or a name such as SIGINT",
                    )
                })
            }
            _ => {
                let pid = session.helper.ok_or_else(|| {
                    session_error(format!("session '{id}' has ended"), "read its output")
                })?;
                crate::sandbox::pass_signal(pid, signal)
            }
        }
    }

    /// Closes the session: stops its command (`SIGTERM`, then the whole
    /// tree is killed), waits for it, forgets it; its final record. A
    /// command that ends on its own within 50 ms is not signalled.
    ///
    /// # Errors
    ///
    /// Unknown session, or its sandbox failed (the error it reported).
    pub async fn close(&self, id: &str) -> Result<RunRecord, Error> {
        let session = self.get(id)?;
        self.live.lock().unwrap().remove(id);
        let mut changed = session.changed.subscribe();
        if !session.ends_within(&mut changed, CLOSE_GRACE).await {
            if let Some(pid) = session.helper {
                // SAFETY: kill with our own child's pid and a valid signal.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
            }
            if !session.ends_within(&mut changed, CLOSE_TIMEOUT).await {
                session.kill_now();
                session
                    .ends_within(&mut changed, Duration::from_secs(2))
                    .await;
            }
        }
        let ended = session.state.lock().unwrap().ended.clone();
        match ended {
            Some(Ok(record)) => Ok(record),
            Some(Err(e)) => Err(Error::Reported(e)),
            None => Err(session_error(
                format!("session '{id}' did not end after it was killed"),
                "this is a bug in stockade; the process tree was sent SIGKILL",
            )),
        }
    }

    /// Every session, oldest first.
    pub fn list(&self) -> Vec<SessionInfo> {
        let live = self.live.lock().unwrap();
        let mut list: Vec<SessionInfo> = live.values().map(|s| s.info()).collect();
        list.sort_by_key(|s| std::cmp::Reverse(s.age_ms));
        list
    }

    /// Kills every session (as dropping does).
    pub fn shutdown(&self) {
        for (_, session) in self.live.lock().unwrap().drain() {
            session.kill_now();
        }
    }
}

impl Drop for Sessions {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Session {
    /// Whether the session has ended, waiting up to `wait` for it to.
    async fn ends_within(&self, changed: &mut watch::Receiver<u64>, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        while self.state.lock().unwrap().ended.is_none() {
            if tokio::time::timeout_at(deadline, changed.changed())
                .await
                .is_err()
            {
                return false;
            }
        }
        true
    }

    fn kill_now(&self) {
        if let Some(kill) = self.kill.lock().unwrap().take() {
            let _ = kill.send(());
        }
    }

    fn refuse_if_ended(&self) -> Result<(), Error> {
        let state = self.state.lock().unwrap();
        match &state.ended {
            None => Ok(()),
            Some(ended) => Err(session_error(
                format!(
                    "session '{}' has ended ({})",
                    self.id,
                    match ended {
                        Ok(r) => format!("exit code {}", r.exit_code),
                        Err(e) => e.message.clone(),
                    }
                ),
                "its output is still readable with session_read; close it with session_close",
            )),
        }
    }

    fn read_now(&self, cursor: u64) -> ReadResult {
        let state = self.state.lock().unwrap();
        let slice = state.log.read(cursor, usize::MAX);
        let exited = state.ended.is_some();
        let exit_code = state.ended.as_ref().map(|e| match e {
            Ok(record) => record.exit_code,
            Err(e) => e.exit_code,
        });
        ReadResult {
            output: slice.bytes,
            cursor: slice.next,
            exited,
            exit_code,
            dropped_bytes: slice.dropped,
        }
    }

    fn info(&self) -> SessionInfo {
        let state = self.state.lock().unwrap();
        SessionInfo {
            session_id: self.id.clone(),
            command: self.argv.clone(),
            tty: self.master.is_some(),
            running: state.ended.is_none(),
            exit_code: state.ended.as_ref().map(|e| match e {
                Ok(r) => r.exit_code,
                Err(e) => e.exit_code,
            }),
            output_bytes: state.log.end(),
            age_ms: self.started.elapsed().as_millis() as u64,
            idle_ms: self.last_used.lock().unwrap().elapsed().as_millis() as u64,
        }
    }

    fn append(&self, data: &[u8]) {
        self.state.lock().unwrap().log.push(data);
        self.changed.send_modify(|v| *v += 1);
    }
}

/// Appends what `stream` produces to the session's output, until EOF.
async fn pump(session: &Session, stream: Option<impl AsyncRead + Unpin>) {
    if let Some(mut stream) = stream {
        let mut buf = vec![0u8; READ_CHUNK];
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                break;
            }
            session.append(&buf[..n]);
        }
    }
}

/// Pumps the session's output until EOF and waits for its end (or kills
/// the sandbox when told to); records how it ended.
async fn run(
    session: Arc<Session>,
    mut child: Child,
    master: Option<Arc<Master>>,
    stdout: Option<impl AsyncRead + Unpin>,
    stderr: Option<impl AsyncRead + Unpin>,
    mut kill: tokio::sync::oneshot::Receiver<()>,
) {
    let pump_pty = async {
        if let Some(master) = &master {
            let mut buf = vec![0u8; READ_CHUNK];
            while let Ok(n) = master.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                session.append(&buf[..n]);
            }
        }
    };
    let pumps = async { tokio::join!(pump_pty, pump(&session, stdout), pump(&session, stderr)) };
    let ended = async {
        tokio::select! {
            ended = child.wait() => ended,
            _ = &mut kill => {
                let _ = child.kill();
                child.wait().await
            }
        }
    };
    let (_, ended) = tokio::join!(pumps, ended);
    let ended = ended.map_err(|e| match e {
        Error::Reported(e) => e,
        other => ReportedError::from(&other),
    });
    if let Err(e) = &ended {
        // The sandbox's own error is the session's last output.
        session.append(format!("stockade: error: {}\nhint: {}\n", e.message, e.hint).as_bytes());
    }
    session.state.lock().unwrap().ended = Some(ended);
    session.changed.send_modify(|v| *v += 1);
}
