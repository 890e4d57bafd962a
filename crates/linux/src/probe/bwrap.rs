//! bubblewrap: whether a system `bwrap` exists and really sandboxes here.
//!
//! stockade builds its namespaces natively; `bwrap` is the fallback where
//! unprivileged user namespaces are restricted (a setuid `bwrap`, or one that
//! an AppArmor profile allows to use them).

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

/// How long each `bwrap` invocation may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// The set-user-ID bit of a file mode (`S_ISUID`).
const S_ISUID: u32 = 0o4000;

/// A `bwrap` binary found on `PATH`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BwrapStatus {
    /// Where it was found.
    pub path: String,
    /// `bwrap --version`, e.g. `bubblewrap 0.9.0`.
    pub version: Option<String>,
    /// The binary has the setuid bit (it can work where user namespaces are
    /// restricted for ordinary programs).
    pub setuid: bool,
    /// `bwrap --unshare-user --ro-bind / / /bin/true` succeeded.
    pub usable: bool,
    /// What was found, in words.
    pub detail: String,
}

/// The oldest bwrap the backend uses: `--disable-userns` came in 0.8.
pub const MIN_BWRAP_VERSION: (u32, u32) = (0, 8);

impl BwrapStatus {
    /// It works here and is new enough for stockade's bwrap backend.
    pub fn builds_sandboxes(&self) -> bool {
        self.usable && self.version.as_deref().and_then(version_of) >= Some(MIN_BWRAP_VERSION)
    }
}

/// `(major, minor)` of `bwrap --version` output (`bubblewrap 0.8.0`).
fn version_of(text: &str) -> Option<(u32, u32)> {
    let version = text.split_whitespace().last()?;
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??))
}

/// `bwrap` on `PATH`, without running it (for the run's start-up path).
pub fn find_bwrap() -> Option<PathBuf> {
    find_in_path("bwrap", &std::env::var_os("PATH")?)
}

/// Finds `bwrap` on `PATH` and tries it; `None` when there is none.
pub fn probe_bwrap() -> Option<BwrapStatus> {
    let path = find_bwrap()?;
    let setuid = std::fs::metadata(&path)
        .map(|m| m.permissions().mode() & S_ISUID != 0)
        .unwrap_or(false);
    let version = run(Command::new(&path).arg("--version"))
        .ok()
        .filter(|out| out.success)
        .map(|out| out.stdout.trim().to_owned())
        .filter(|v| !v.is_empty());
    let true_bin = ["/bin/true", "/usr/bin/true"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("/bin/true");
    let trial = run(Command::new(&path).args(["--unshare-user", "--ro-bind", "/", "/", true_bin]));
    let (usable, detail) = match trial {
        Ok(out) if out.success => (true, "bwrap --unshare-user works".to_owned()),
        Ok(out) => (
            false,
            format!("bwrap --unshare-user failed: {}", out.describe()),
        ),
        Err(e) => (false, format!("failed to run bwrap: {e}")),
    };
    Some(BwrapStatus {
        path: path.to_string_lossy().into_owned(),
        version,
        setuid,
        usable,
        detail,
    })
}

/// The first executable regular file called `name` in a `PATH` value.
fn find_in_path(name: &str, path_var: &std::ffi::OsStr) -> Option<PathBuf> {
    std::env::split_paths(path_var)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(name))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// What a finished command did.
struct Finished {
    success: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Finished {
    /// `exit status 1: <first line of stderr>`.
    fn describe(&self) -> String {
        let status = match self.code {
            Some(code) => format!("exit status {code}"),
            None => "killed by a signal".to_owned(),
        };
        match self.stderr.lines().find(|l| !l.trim().is_empty()) {
            Some(line) => format!("{status}: {}", line.trim()),
            None => status,
        }
    }
}

/// Runs `cmd` with no stdin and captured output, killing it after
/// [`TIMEOUT`]. The commands run here print a line at most, so the pipes
/// cannot fill while we poll.
fn run(cmd: &mut Command) -> Result<Finished, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string().to_lowercase())?;
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() >= TIMEOUT => {
                // Kill and reap; errors here mean it already exited.
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {}s", TIMEOUT.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("failed to wait: {e}")),
        }
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    Ok(Finished {
        success: status.success(),
        code: status.code(),
        stdout,
        stderr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bwrap_versions_are_compared_as_numbers() {
        assert_eq!(version_of("bubblewrap 0.8.0"), Some((0, 8)));
        assert_eq!(version_of("bubblewrap 0.11.1"), Some((0, 11)));
        assert!(version_of("bubblewrap 0.11.1") >= Some(MIN_BWRAP_VERSION));
        assert!(version_of("bubblewrap 0.6.2") < Some(MIN_BWRAP_VERSION));
        assert_eq!(version_of("nonsense"), None);
        let status = |version: &str| BwrapStatus {
            path: "/usr/bin/bwrap".into(),
            version: Some(version.into()),
            setuid: false,
            usable: true,
            detail: String::new(),
        };
        assert!(status("bubblewrap 0.8.0").builds_sandboxes());
        assert!(!status("bubblewrap 0.6.2").builds_sandboxes());
        assert!(
            !status("nonsense").builds_sandboxes(),
            "an unknown version is not used"
        );
    }

    #[test]
    fn find_in_path_skips_relative_and_missing_dirs() {
        let path = std::ffi::OsString::from("relative:/nonexistent-dir:/bin:/usr/bin");
        let found = find_in_path("sh", &path).expect("sh is on every linux machine");
        assert!(found.is_absolute() && found.ends_with("sh"));
        assert_eq!(find_in_path("no-such-binary-xyz", &path), None);
    }

    #[test]
    fn run_reports_exit_codes_and_stderr() {
        let out = run(Command::new("/bin/sh").args(["-c", "echo hi; echo oops >&2; exit 3"]))
            .expect("sh runs");
        assert!(!out.success);
        assert_eq!(out.stdout, "hi\n");
        assert_eq!(out.describe(), "exit status 3: oops");
    }

    #[test]
    fn run_kills_commands_that_hang() {
        let start = Instant::now();
        let err = run(Command::new("/bin/sh").args(["-c", "sleep 30"])).err();
        assert_eq!(err.as_deref(), Some("timed out after 5s"));
        assert!(start.elapsed() < Duration::from_secs(15));
    }
}
