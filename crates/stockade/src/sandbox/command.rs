//! Building a sandboxed command, as with `tokio::process::Command`.

use super::Sandbox;
use super::capture::{Capture, Captured};
use super::child::Child;
use super::pty::{self, Master, WindowSize};
use crate::error::Error;
use crate::launch::{CHANNEL_FD, HELPER_ENV, HELPER_LAUNCH, LaunchRequest, PARENT_ENV};
use crate::run::{RunRecord, RunRequest};
use serde::Serialize;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// A command to run in a [`Sandbox`]. stdin, stdout and stderr are
/// inherited unless set, as with `tokio::process::Command`.
#[derive(Debug)]
pub struct Command {
    sandbox: Sandbox,
    argv: Vec<String>,
    workdir: Option<PathBuf>,
    env: Vec<String>,
    timeout: Option<Duration>,
    stdin: Option<Stdio>,
    stdout: Option<Stdio>,
    stderr: Option<Stdio>,
    input: Option<Vec<u8>>,
    tty: bool,
}

/// A finished command's record and its captured output.
#[derive(Clone, Debug, Serialize)]
pub struct Output {
    /// How it ended (SPEC section 2).
    #[serde(flatten)]
    pub record: RunRecord,
    /// Its stdout, capped by `limits.max_output`.
    pub stdout: Captured,
    /// Its stderr, capped alike.
    pub stderr: Captured,
}

/// Bytes read from a pipe at a time.
const READ_CHUNK: usize = 1 << 20;

impl Command {
    pub(crate) fn new(sandbox: Sandbox, program: String) -> Command {
        Command {
            sandbox,
            argv: vec![program],
            workdir: None,
            env: Vec::new(),
            timeout: None,
            stdin: None,
            stdout: None,
            stderr: None,
            input: None,
            tty: false,
        }
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl Into<String>) -> &mut Command {
        self.argv.push(arg.into());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.argv.extend(args.into_iter().map(Into::into));
        self
    }

    /// Where the command starts (default: the policy's `:cwd`). It changes
    /// nothing about what the command may touch.
    pub fn current_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Command {
        self.workdir = Some(dir.into());
        self
    }

    /// Sets a variable in the command's environment (as `--env-set`: on
    /// top of what the policy passes).
    pub fn env(&mut self, key: impl AsRef<str>, value: impl AsRef<str>) -> &mut Command {
        self.env
            .push(format!("{}={}", key.as_ref(), value.as_ref()));
        self
    }

    /// Kills the whole tree after `timeout` (the record says `timed_out`).
    pub fn timeout(&mut self, timeout: Duration) -> &mut Command {
        self.timeout = Some(timeout);
        self
    }

    /// The command's stdin.
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.stdin = Some(cfg.into());
        self
    }

    /// The command's stdout.
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.stdout = Some(cfg.into());
        self
    }

    /// The command's stderr.
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.stderr = Some(cfg.into());
        self
    }

    /// What [`Command::output`] writes to the command's stdin (then closes
    /// it); without it, stdin is empty.
    pub fn input(&mut self, data: impl Into<Vec<u8>>) -> &mut Command {
        self.input = Some(data.into());
        self
    }

    /// Starts the command.
    ///
    /// # Errors
    ///
    /// The launch helper cannot be started. Errors of the sandbox itself
    /// (an unenforceable rule, a missing command) come from
    /// [`Child::wait`].
    pub fn spawn(&mut self) -> Result<Child, Error> {
        let io = |action: &str| {
            let action = action.to_owned();
            move |source| Error::Io { action, source }
        };
        let mut policy = self.sandbox.request().clone();
        policy.overrides.env_set.extend(self.env.iter().cloned());
        let request = LaunchRequest {
            policy,
            run: RunRequest {
                argv: self.argv.clone(),
                timeout: self.timeout,
                allow_weaker: self.sandbox.weaker().to_vec(),
                workdir: self.workdir.clone(),
                tty: self.tty,
            },
        };
        let mut line = serde_json::to_vec(&request).map_err(|e| Error::Io {
            action: "encode the launch request".into(),
            source: e.into(),
        })?;
        line.push(b'\n');
        let (ours, theirs) =
            std::os::unix::net::UnixStream::pair().map_err(io("create the launch channel"))?;
        let helper = self.sandbox.helper_path();
        let mut cmd = tokio::process::Command::new(helper);
        // SAFETY: getpid has no preconditions.
        let parent = unsafe { libc::getpid() };
        cmd.env(HELPER_ENV, HELPER_LAUNCH)
            .env(PARENT_ENV, parent.to_string())
            .kill_on_drop(true);
        if let Some(s) = self.stdin.take() {
            cmd.stdin(s);
        }
        if let Some(s) = self.stdout.take() {
            cmd.stdout(s);
        }
        if let Some(s) = self.stderr.take() {
            cmd.stderr(s);
        }
        let fd = theirs.as_raw_fd();
        // SAFETY: the closure runs in the forked child before exec and
        // only makes async-signal-safe calls (dup2, fcntl, setpgid,
        // sigprocmask).
        unsafe {
            cmd.pre_exec(move || {
                if fd == CHANNEL_FD {
                    if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                } else if libc::dup2(fd, CHANNEL_FD) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // Out of the caller's process group: a ^C at the caller's
                // terminal is the caller's to handle, not every sandbox's.
                libc::setpgid(0, 0);
                // Signals the run forwards are held from before the exec:
                // a close that comes while the helper is starting still
                // ends in a record (the run reads them once it waits).
                stockade_linux::spawn::hold_forwarded_signals();
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .map_err(io(&format!("start the launch helper {}", helper.display())))?;
        drop(theirs);
        // The request is small and the helper reads it first thing.
        (&ours)
            .write_all(&line)
            .map_err(io("send the launch request"))?;
        ours.set_nonblocking(true)
            .map_err(io("prepare the launch channel"))?;
        let channel =
            tokio::net::UnixStream::from_std(ours).map_err(io("prepare the launch channel"))?;
        Ok(Child::new(child, helper.display().to_string(), channel))
    }

    /// Starts the command on a new PTY of `size` (its stdin, stdout and
    /// stderr, and its controlling terminal); the master end is the
    /// caller's.
    ///
    /// # Errors
    ///
    /// As [`Command::spawn`], or the PTY cannot be opened.
    pub fn spawn_pty(&mut self, size: WindowSize) -> Result<(Child, Master), Error> {
        let pty = pty::open(size).map_err(|source| Error::Io {
            action: "open a pseudo-terminal".into(),
            source,
        })?;
        let stdio = |what: &str| {
            pty.slave
                .try_clone()
                .map(Stdio::from)
                .map_err(|source| Error::Io {
                    action: format!("give the terminal to the command's {what}"),
                    source,
                })
        };
        self.stdin = Some(stdio("stdin")?);
        self.stdout = Some(stdio("stdout")?);
        self.stderr = Some(stdio("stderr")?);
        self.tty = true;
        let child = self.spawn();
        self.tty = false;
        // Our copy of the slave closes here: the master reads EOF once the
        // command's side is gone.
        drop(pty.slave);
        let master = Master::new(pty.master).map_err(|source| Error::Io {
            action: "watch the pseudo-terminal".into(),
            source,
        })?;
        Ok((child?, master))
    }

    /// Runs the command to its end with stdout and stderr captured (each
    /// capped by `limits.max_output`: the first and last halves kept) and
    /// stdin empty or [`Command::input`]. Output is read until the pipes
    /// close, so nothing printed at exit is lost.
    ///
    /// # Errors
    ///
    /// As [`Child::wait`].
    pub async fn output(&mut self) -> Result<Output, Error> {
        let input = self.input.take();
        self.stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        self.stdout(Stdio::piped());
        self.stderr(Stdio::piped());
        let mut child = self.spawn()?;
        let max = self.sandbox.max_output();
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let _wide = stdout.as_ref().and_then(WidePipe::new);
        let feed = async move {
            if let (Some(mut stdin), Some(input)) = (stdin, input) {
                // A command that stops reading early closes the pipe.
                let _ = stdin.write_all(&input).await;
            }
        };
        let (_, stdout, stderr, record) =
            tokio::join!(feed, drain(stdout, max), drain(stderr, max), child.wait());
        Ok(Output {
            record: record?,
            stdout,
            stderr,
        })
    }

    /// Runs the command to its end with its stdio as set; its record.
    ///
    /// # Errors
    ///
    /// As [`Child::wait`].
    pub async fn status(&mut self) -> Result<RunRecord, Error> {
        self.spawn()?.wait().await
    }
}

/// The pipe size asked for a captured stdout: a command writing a lot
/// then moves 1 MiB per wake-up instead of 64 KiB (about 3x the
/// throughput). The kernel's `fs.pipe-max-size` caps it.
const PIPE_SIZE: usize = 1 << 20;
/// At most this many wide pipes at once. Pipe buffers count against the
/// user's `fs.pipe-user-pages-soft` (64 MiB by default), and past it the
/// kernel gives every new pipe of that user a 2-page buffer: no more than
/// a quarter of it goes to captures.
const MAX_WIDE_PIPES: usize = 16;
static WIDE_PIPES: AtomicUsize = AtomicUsize::new(0);

/// A pipe enlarged for one capture; the slot is given back on drop.
struct WidePipe;

impl WidePipe {
    /// Enlarges the pipe `end` belongs to, if a slot is free. Best effort:
    /// the pipe keeps its size when the kernel refuses.
    fn new(end: &impl std::os::fd::AsFd) -> Option<WidePipe> {
        if WIDE_PIPES.fetch_add(1, Ordering::Relaxed) >= MAX_WIDE_PIPES {
            WIDE_PIPES.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        // Read once per process: the start of every command is timed.
        static SIZE: OnceLock<usize> = OnceLock::new();
        let size = *SIZE.get_or_init(|| {
            std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .map_or(PIPE_SIZE, |max: usize| PIPE_SIZE.min(max))
        });
        let _ = rustix::pipe::fcntl_setpipe_size(end, size);
        Some(WidePipe)
    }
}

impl Drop for WidePipe {
    fn drop(&mut self) {
        WIDE_PIPES.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Reads a stream to its end into a capture of `max` bytes.
async fn drain(stream: Option<impl AsyncRead + Unpin>, max: usize) -> Captured {
    let mut capture = Capture::new(max);
    if let Some(mut stream) = stream {
        let mut buf = vec![0u8; READ_CHUNK];
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                break;
            }
            capture.push(&buf[..n]);
        }
    }
    capture.finish()
}
