//! The tools' arguments, as the model sees them (names are SPEC 6's
//! contract; descriptions are written for a model to read).

use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Exec {
    /// The command and its arguments, e.g. ["cargo", "test"]. Not run
    /// through a shell: use ["sh", "-c", "..."] for pipes and globs.
    pub command: Vec<String>,
    /// Working directory (default: the server's workspace). Changes where
    /// the command starts, not what it may touch.
    pub cwd: Option<String>,
    /// Extra environment variables for the command.
    pub env: Option<BTreeMap<String, String>>,
    /// Text written to the command's stdin (default: empty stdin).
    pub stdin: Option<String>,
    /// Kill the whole process tree after this many milliseconds.
    pub timeout_ms: Option<u64>,
    /// Narrow the writable paths to these (each must already be writable
    /// under the server's policy; everything else becomes read-only).
    pub writable: Option<Vec<String>>,
    /// Narrow the network: "off", "proxy" or "full" (never more than the
    /// server's policy allows).
    pub network: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionStart {
    /// The command and its arguments, e.g. ["python3", "-i"] or ["bash"].
    pub command: Vec<String>,
    /// Run on a terminal (PTY): needed for REPLs, shells and programs that
    /// draw screens. Default false (plain pipes; stdout and stderr merged
    /// in arrival order).
    pub tty: Option<bool>,
    /// Working directory (default: the server's workspace).
    pub cwd: Option<String>,
    /// Extra environment variables for the command.
    pub env: Option<BTreeMap<String, String>>,
    /// Terminal rows (tty only, default 24).
    pub rows: Option<u16>,
    /// Terminal columns (tty only, default 80).
    pub cols: Option<u16>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionWrite {
    /// The session, as session_start returned it.
    pub session_id: String,
    /// Text to send to its input, exactly as given (add "\n" to press
    /// Enter; on a terminal "\u0003" is Ctrl-C).
    pub data: String,
    /// Close its input after writing (end of file; on a terminal, Ctrl-D).
    pub eof: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionRead {
    /// The session, as session_start returned it.
    pub session_id: String,
    /// Where to read from: the cursor the previous read returned (default
    /// 0, the start).
    pub cursor: Option<u64>,
    /// If there is no new output yet, wait up to this many milliseconds
    /// for some (or for the process to end). Default 0, at most 300000.
    pub wait_ms: Option<u64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionResize {
    /// The session, as session_start returned it (must have tty: true).
    pub session_id: String,
    pub rows: u16,
    pub cols: u16,
}

/// A signal by name ("SIGINT", "INT", "term") or number (2).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Signal {
    Number(i32),
    Name(String),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionSignal {
    /// The session, as session_start returned it.
    pub session_id: String,
    /// The signal: a name such as "SIGINT" or "SIGTERM", or a number.
    pub signal: Signal,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionId {
    /// The session, as session_start returned it.
    pub session_id: String,
}

/// The signal names accepted, with and without `SIG`.
const SIGNALS: &[(&str, i32)] = &[
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("USR2", libc::SIGUSR2),
    ("TERM", libc::SIGTERM),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("WINCH", libc::SIGWINCH),
    ("ALRM", libc::SIGALRM),
];

impl Signal {
    /// The signal number, or what is wrong with the argument.
    pub fn number(&self) -> Result<i32, String> {
        match self {
            Signal::Number(n) if (1..=64).contains(n) => Ok(*n),
            Signal::Number(n) => Err(format!("{n} is not a signal number (1 to 64)")),
            Signal::Name(name) => {
                let upper = name.trim().to_ascii_uppercase();
                let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
                SIGNALS
                    .iter()
                    .find(|(n, _)| *n == bare)
                    .map(|(_, s)| *s)
                    .or_else(|| bare.parse().ok().filter(|n| (1..=64).contains(n)))
                    .ok_or_else(|| {
                        format!(
                            "unknown signal '{name}'; use one of {}",
                            SIGNALS
                                .iter()
                                .map(|(n, _)| format!("SIG{n}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_name_or_number() {
        let n = |s: Signal| s.number();
        assert_eq!(n(Signal::Name("SIGINT".into())), Ok(libc::SIGINT));
        assert_eq!(n(Signal::Name("term".into())), Ok(libc::SIGTERM));
        assert_eq!(n(Signal::Name("9".into())), Ok(9));
        assert_eq!(n(Signal::Number(2)), Ok(2));
        assert!(n(Signal::Number(0)).is_err());
        assert!(
            n(Signal::Name("SIGFOO".into()))
                .unwrap_err()
                .contains("SIGINT")
        );
    }
}
