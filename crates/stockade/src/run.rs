//! Running a command under a resolved policy.

use crate::error::Error;
use crate::load::Loaded;
use crate::plan::EnforcementPlan;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// What to run, and how.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunRequest {
    /// The command and its arguments.
    pub argv: Vec<String>,
    /// Kill the whole tree after this long (exit 124).
    pub timeout: Option<Duration>,
    /// Blockers the user accepts (`--allow-weaker`).
    pub allow_weaker: Vec<String>,
    /// The command's working directory, when not the policy's `:cwd`. It
    /// changes where the command starts, never what it may touch.
    pub workdir: Option<std::path::PathBuf>,
    /// stdin is a terminal (a PTY) that becomes the command's controlling
    /// terminal: job control and `^C` work inside.
    pub tty: bool,
}

/// The record `stockade run --json` prints (SPEC section 2).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    /// The exit status `stockade run` uses.
    pub exit_code: i32,
    /// The signal the command died of, if it did.
    pub signal: Option<i32>,
    /// Whether `--timeout` expired.
    pub timed_out: bool,
    /// Wall-clock time of the run.
    pub duration_ms: u64,
    /// What the sandbox refused and observed (SPEC 3.7): today the
    /// connections to host unix sockets the Linux supervisor refused.
    pub denials: Vec<Denial>,
    /// Denials beyond the ones listed, only counted.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub denials_dropped: u64,
    /// What was actually applied.
    pub enforcement: EnforcementPlan,
}

pub use stockade_policy::Denial;

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl RunRecord {
    /// The one-line summary `run` prints on stderr after the command, or
    /// `None` when nothing was refused.
    pub fn denial_summary(&self) -> Option<String> {
        if self.denials.is_empty() {
            return None;
        }
        let total = self.denials.len() as u64 + self.denials_dropped;
        let shown: Vec<String> = self
            .denials
            .iter()
            .take(3)
            .map(|d| format!("{} {} ({})", d.access, d.target, d.rule))
            .collect();
        let more = total - shown.len() as u64;
        let tail = if more > 0 {
            format!(" and {more} more (see --json)")
        } else {
            String::new()
        };
        let noun = if total == 1 { "denial" } else { "denials" };
        Some(format!(
            "stockade: {total} {noun}: {}{tail}",
            shown.join("; ")
        ))
    }
}

/// Runs the command; refuses (exit 125) when the plan has blockers left.
pub fn run(loaded: &Loaded, request: &RunRequest) -> Result<RunRecord, Error> {
    let start = Instant::now();
    let (ended, enforcement) = crate::backend::run(loaded, request, environment(loaded))?;
    Ok(RunRecord {
        exit_code: ended.exit_code,
        signal: ended.signal,
        timed_out: ended.timed_out,
        duration_ms: start.elapsed().as_millis() as u64,
        denials: ended.denials,
        denials_dropped: ended.denials_dropped,
        enforcement,
    })
}

/// The error for the first blocker left in `plan`, if any: exit 125 naming
/// the rule, with the `--allow-weaker` name that would waive it.
pub(crate) fn refuse_blocked(plan: &EnforcementPlan) -> Result<(), Error> {
    let Some(blocker) = plan.blockers.first() else {
        return Ok(());
    };
    let hint = match &blocker.weaker {
        Some(name) => format!(
            "{}; or pass --allow-weaker {name} to run without it",
            blocker.hint
        ),
        None => blocker.hint.clone(),
    };
    Err(Error::Unenforceable {
        rule: if blocker.rule == "*" {
            "the policy".into()
        } else {
            blocker.rule.clone()
        },
        reason: blocker.reason.clone(),
        hint,
    })
}

/// How a command ended, as the backends report it.
#[derive(Clone, Debug)]
pub(crate) struct Ended {
    pub exit_code: i32,
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub denials: Vec<Denial>,
    pub denials_dropped: u64,
}

/// The command's environment: the policy's filter over this process's
/// environment, `TMPDIR` pointing at the private `/tmp`, and in network
/// `proxy` mode the variables that point tools at the proxy.
fn environment(loaded: &Loaded) -> Vec<(String, String)> {
    let host = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
    let mut env = loaded.policy.env.apply(host);
    let private_tmp = loaded.policy.rules.iter().any(|r| {
        r.kind == stockade_policy::RuleKind::PrivateTmp
            && r.access == stockade_policy::Access::Write
    });
    env.retain(|(k, _)| k != "TMPDIR" || !private_tmp);
    if private_tmp {
        env.push(("TMPDIR".into(), "/tmp".into()));
    }
    // In proxy mode the proxy variables replace any the host had.
    let proxy = crate::egress::environment(&loaded.policy.network);
    env.retain(|(k, _)| !proxy.iter().any(|(p, _)| p == k));
    env.extend(proxy);
    env.sort();
    env
}
