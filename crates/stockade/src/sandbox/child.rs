//! A command running in its sandbox: its stdio, its end, its signals.

use crate::error::Error;
use crate::error::ReportedError;
use crate::launch::LaunchReply;
use crate::run::RunRecord;
use tokio::io::AsyncBufReadExt;
use tokio::process::{ChildStderr, ChildStdin, ChildStdout};

/// A running sandboxed command (the `tokio::process::Child` of its launch
/// helper). Dropping it kills the whole sandbox.
#[derive(Debug)]
pub struct Child {
    /// The command's stdin, if it was piped.
    pub stdin: Option<ChildStdin>,
    /// The command's stdout, if it was piped.
    pub stdout: Option<ChildStdout>,
    /// The command's stderr, if it was piped.
    pub stderr: Option<ChildStderr>,
    helper: tokio::process::Child,
    helper_path: String,
    channel: Option<tokio::net::UnixStream>,
    ended: Option<Result<RunRecord, ReportedError>>,
}

impl Child {
    pub(crate) fn new(
        mut helper: tokio::process::Child,
        helper_path: String,
        channel: tokio::net::UnixStream,
    ) -> Child {
        Child {
            stdin: helper.stdin.take(),
            stdout: helper.stdout.take(),
            stderr: helper.stderr.take(),
            helper,
            helper_path,
            channel: Some(channel),
            ended: None,
        }
    }

    /// The launch helper's process id (stockade's side of the sandbox),
    /// while it runs.
    pub fn id(&self) -> Option<u32> {
        self.helper.id()
    }

    /// Waits for the command to end (stdin is closed first, as tokio's
    /// `wait` does); its record. Calling it again returns the same.
    ///
    /// # Errors
    ///
    /// The sandbox could not be set up (exit 125, with the rule and a
    /// hint), the command was not found (127) or not executable (126), or
    /// the helper died without a report.
    pub async fn wait(&mut self) -> Result<RunRecord, Error> {
        if let Some(ended) = &self.ended {
            return ended.clone().map_err(Error::Reported);
        }
        drop(self.stdin.take());
        let mut reply = None;
        if let Some(channel) = self.channel.take() {
            let mut line = String::new();
            let mut reader = tokio::io::BufReader::new(channel);
            if reader.read_line(&mut line).await.is_ok() {
                reply = serde_json::from_str::<LaunchReply>(&line).ok();
            }
        }
        let status = self.helper.wait().await;
        let ended = match reply {
            Some(LaunchReply::Record(record)) => Ok(record),
            Some(LaunchReply::Error(e)) => Err(e),
            None => Err(ReportedError {
                message: format!(
                    "the launch helper ({}) ended without a report ({})",
                    self.helper_path,
                    status.map_or_else(|e| e.to_string(), |s| s.to_string())
                ),
                hint: "the helper must call stockade::helper_if_requested() first thing in main \
                       (or use Sandbox::helper with the stockade binary); it ends without a \
                       report when it is killed"
                    .into(),
                exit_code: crate::EXIT_SETUP_FAILURE,
            }),
        };
        self.ended = Some(ended.clone());
        ended.map_err(Error::Reported)
    }

    /// Passes `signal` to the command without ending the run (`SIGINT`,
    /// `SIGTERM`, `SIGHUP`, `SIGQUIT`, `SIGUSR1`, `SIGUSR2`); `SIGKILL`
    /// kills the whole sandbox.
    ///
    /// # Errors
    ///
    /// Another signal, or the command has ended.
    pub fn signal(&mut self, signal: i32) -> Result<(), Error> {
        if signal == libc::SIGKILL {
            return self.kill();
        }
        let pid = self.helper.id().ok_or_else(ended)?;
        pass_signal(pid, signal)
    }

    /// Ends the run as `stockade run` does when asked to stop: the command
    /// gets `SIGTERM`, and the whole tree is killed 2 s later if it has
    /// not ended. [`Child::wait`] then returns its record.
    ///
    /// # Errors
    ///
    /// The command has ended.
    pub fn terminate(&self) -> Result<(), Error> {
        let pid = self.helper.id().ok_or_else(ended)?;
        // SAFETY: kill with a pid of our own child and a valid signal.
        if unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) } != 0 {
            return Err(ended());
        }
        Ok(())
    }

    /// Kills the whole sandbox at once (the helper, and with it every
    /// process inside). [`Child::wait`] then reports no record.
    ///
    /// # Errors
    ///
    /// The command has ended.
    pub fn kill(&mut self) -> Result<(), Error> {
        self.helper.start_kill().map_err(|_| ended())
    }
}

fn ended() -> Error {
    Error::Reported(ReportedError {
        message: "the command has already ended".into(),
        hint: "read its final record instead".into(),
        exit_code: crate::EXIT_SETUP_FAILURE,
    })
}

#[cfg(target_os = "linux")]
pub(crate) fn pass_signal(pid: u32, signal: i32) -> Result<(), Error> {
    if !stockade_linux::spawn::passable_signals().contains(&signal) {
        return Err(Error::Reported(ReportedError {
            message: format!("signal {signal} cannot be passed to the command"),
            hint: "use SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 or SIGKILL (on a \
                   terminal, SIGTSTP too)"
                .into(),
            exit_code: crate::EXIT_SETUP_FAILURE,
        }));
    }
    stockade_linux::spawn::pass_signal(pid as libc::pid_t, signal).map_err(|_| ended())
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn pass_signal(_pid: u32, _signal: i32) -> Result<(), Error> {
    Err(ended())
}
