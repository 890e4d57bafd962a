//! The launch helper: how the async library starts a sandbox.
//!
//! Sandboxes are forks of the process that starts them, which must be
//! single-threaded (see the crate docs), and a tokio program never is. So
//! [`crate::Sandbox`] starts a helper: this same program again (or the
//! `stockade` binary), with [`HELPER_ENV`]` = launch`, its stdio the
//! command's, and a socket on descriptor [`CHANNEL_FD`]. The helper's
//! `main` calls [`crate::helper_if_requested`] first thing, which ends up
//! here: it reads one [`LaunchRequest`] line, resolves the policy, runs
//! the command exactly as `stockade run` does, writes one [`LaunchReply`]
//! line and exits with the command's status.
//!
//! # Security
//!
//! The helper is stockade itself, not the sandboxed command: the command
//! starts after the helper's own set-up and never sees the channel (only
//! stdin, stdout and stderr cross into the sandbox). The helper dies with
//! the process that launched it (`PR_SET_PDEATHSIG`), and the sandbox dies
//! with the helper, so nothing outlives a killed server.

use crate::error::ReportedError;
use crate::load::PolicyRequest;
use crate::run::{RunRecord, RunRequest};
use serde::{Deserialize, Serialize};

/// The variable that makes a process a launch helper.
pub(crate) const HELPER_ENV: &str = "STOCKADE_HELPER";
/// Its value.
pub(crate) const HELPER_LAUNCH: &str = "launch";
/// The launcher's pid: the helper exits if its parent is already gone.
pub(crate) const PARENT_ENV: &str = "STOCKADE_HELPER_PARENT";
/// The descriptor of the channel in the helper.
pub(crate) const CHANNEL_FD: i32 = 3;

/// What the launcher asks for: one line of JSON.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct LaunchRequest {
    pub policy: PolicyRequest,
    pub run: RunRequest,
}

/// What the helper answers once the command has ended: one line of JSON.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LaunchReply {
    Record(RunRecord),
    Error(ReportedError),
}

/// Becomes the launch helper (and exits) when this process was started as
/// one; returns at once otherwise.
pub(crate) fn launch_if_requested() {
    use std::os::fd::FromRawFd;
    if std::env::var_os(HELPER_ENV).is_none_or(|v| v != HELPER_LAUNCH) {
        return;
    }
    let parent: Option<i32> = std::env::var(PARENT_ENV).ok().and_then(|p| p.parse().ok());
    // SAFETY: the helper is single-threaded here (first thing in main), so
    // nothing reads the environment concurrently.
    unsafe {
        std::env::remove_var(HELPER_ENV);
        std::env::remove_var(PARENT_ENV);
    }
    // Die with the launcher; if it is already gone, do nothing at all.
    // SAFETY: prctl with integer arguments; getppid cannot fail.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
        if parent.is_some_and(|p| p != libc::getppid()) {
            libc::_exit(crate::EXIT_SETUP_FAILURE);
        }
    }
    // SAFETY: the launcher put the channel on CHANNEL_FD for us alone.
    let channel = unsafe { std::fs::File::from_raw_fd(CHANNEL_FD) };
    let code = serve(channel);
    std::process::exit(code);
}

/// Reads the request, runs it, answers; the exit status.
fn serve(channel: std::fs::File) -> i32 {
    use std::io::{BufRead, Write};
    let mut reader = std::io::BufReader::new(&channel);
    let mut line = String::new();
    let reply = match reader.read_line(&mut line) {
        Ok(n) if n > 0 => match serde_json::from_str::<LaunchRequest>(&line) {
            Ok(request) => crate::load(&request.policy)
                .and_then(|loaded| crate::run(&loaded, &request.run))
                .map_or_else(|e| LaunchReply::Error((&e).into()), LaunchReply::Record),
            Err(e) => LaunchReply::Error(ReportedError {
                message: format!("the launch request is malformed: {e}"),
                hint: "the launcher and the helper must be the same stockade version".into(),
                exit_code: crate::EXIT_SETUP_FAILURE,
            }),
        },
        _ => return crate::EXIT_SETUP_FAILURE,
    };
    let code = match &reply {
        LaunchReply::Record(record) => record.exit_code,
        LaunchReply::Error(e) => e.exit_code,
    };
    let mut text = serde_json::to_string(&reply).unwrap_or_default();
    text.push('\n');
    let _ = (&channel).write_all(text.as_bytes());
    code
}
