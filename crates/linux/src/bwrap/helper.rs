//! The helper: stockade's own binary, started by bwrap as the sandbox's
//! first process (`--as-pid-1`) inside the finished tree. It reads its
//! instructions ([`HelperSpec`]) from a memory file, then does what the
//! native init does after the mounts: prepares the Landlock ruleset in the
//! sandbox's tree, starts the command (Landlock, capabilities, seccomp,
//! descriptors, exec), reaps, forwards signals and reports the status.
//!
//! A binary that embeds stockade's library must call [`run_if_requested`]
//! first thing in `main` for this backend to work (the CLI does).

use crate::landlock::{FS_RIGHTS, LandlockPlan, PathRule, handled_fs};
use crate::mounts::MountPlan;
use crate::seccomp::CompiledFilter;
use crate::spawn::{HELPER_FLAG, Spec};
use serde::{Deserialize, Serialize};
use std::ffi::CString;
use std::fs::File;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::PathBuf;

/// Everything the helper needs, as plain data.
#[derive(Debug, Serialize, Deserialize)]
pub struct HelperSpec {
    pub landlock_abi: u32,
    /// `(path, right names)` per Landlock rule.
    pub landlock_rules: Vec<(PathBuf, Vec<String>)>,
    pub scope_abstract_unix_socket: bool,
    pub scope_signal: bool,
    /// The compiled seccomp program (`(code, jt, jf, k)`); `None` when the
    /// filter was waived.
    pub seccomp: Option<Vec<(u16, u8, u8, u32)>>,
    pub argv: Vec<Vec<u8>>,
    pub env: Vec<Vec<u8>>,
    pub search_path: Vec<PathBuf>,
    pub cwd: PathBuf,
    pub rlimits: Vec<(libc::__rlimit_resource_t, libc::rlim_t)>,
    pub prefer_oom_kill: bool,
    pub uid: u32,
    pub gid: u32,
    /// The policy's host unix sockets (the supervisor allows them).
    pub unix_sockets: Vec<PathBuf>,
    /// Deny globs the supervisor holds.
    pub guarded_globs: Vec<crate::supervisor::files::GuardedGlob>,
    pub controlling_tty: bool,
}

impl HelperSpec {
    /// The instructions for running `spec` (a native spec) under bwrap.
    pub fn from_spec(spec: &Spec) -> HelperSpec {
        HelperSpec {
            landlock_abi: spec.landlock.abi,
            landlock_rules: spec
                .landlock
                .rules
                .iter()
                .map(|r| {
                    (
                        r.path.clone(),
                        r.rights.iter().map(|s| s.to_string()).collect(),
                    )
                })
                .collect(),
            scope_abstract_unix_socket: spec.landlock.scope_abstract_unix_socket,
            scope_signal: spec.landlock.scope_signal,
            seccomp: spec.seccomp.as_ref().map(CompiledFilter::instructions),
            argv: spec.argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
            env: spec.env.iter().map(|e| e.as_bytes().to_vec()).collect(),
            search_path: spec.search_path.clone(),
            cwd: spec.cwd.clone(),
            rlimits: spec.rlimits.clone(),
            prefer_oom_kill: spec.prefer_oom_kill,
            uid: spec.uid,
            gid: spec.gid,
            unix_sockets: spec.unix_sockets.clone(),
            guarded_globs: spec.guarded_globs.clone(),
            controlling_tty: spec.controlling_tty,
        }
    }

    /// The spec the helper runs: no mounts (bwrap made them), no nested
    /// namespaces (bwrap's `--disable-userns` nests one, locking the mounts).
    fn into_spec(self) -> Result<Spec, String> {
        let name = |n: &String| -> Result<&'static str, String> {
            FS_RIGHTS
                .iter()
                .find(|r| r.name == n)
                .map(|r| r.name)
                .ok_or_else(|| format!("unknown Landlock right '{n}'"))
        };
        let rules = self
            .landlock_rules
            .iter()
            .map(|(path, names)| {
                Ok(PathRule {
                    path: path.clone(),
                    rights: names.iter().map(name).collect::<Result<_, String>>()?,
                    why: "".into(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let seccomp = self
            .seccomp
            .as_deref()
            .map(CompiledFilter::from_instructions);
        let cstrings = |items: Vec<Vec<u8>>| -> Result<Vec<CString>, String> {
            items
                .into_iter()
                .map(|b| CString::new(b).map_err(|_| "a NUL byte in an argument".to_string()))
                .collect()
        };
        Ok(Spec {
            mounts: MountPlan::default(),
            landlock: LandlockPlan {
                abi: self.landlock_abi,
                handled_fs: handled_fs(self.landlock_abi),
                rules,
                scope_abstract_unix_socket: self.scope_abstract_unix_socket,
                scope_signal: self.scope_signal,
                // Proxy mode is not offered through bwrap (a blocker).
                tcp: None,
            },
            seccomp,
            argv: cstrings(self.argv)?,
            env: cstrings(self.env)?,
            search_path: self.search_path,
            cwd: self.cwd,
            network_namespace: false,
            loopback_up: false,
            egress: false,
            rlimits: self.rlimits,
            cgroups: Vec::new(),
            prefer_oom_kill: self.prefer_oom_kill,
            uid: self.uid,
            gid: self.gid,
            namespaces: false,
            unix_sockets: self.unix_sockets,
            guarded_globs: self.guarded_globs,
            controlling_tty: self.controlling_tty,
        })
    }
}

/// Becomes the helper (and never returns) when this process was started
/// as one: `BINARY --stockade-bwrap-helper SPEC_FD REPORT_FD`. Otherwise
/// returns at once.
pub fn run_if_requested() {
    let mut args = std::env::args_os().skip(1);
    if args.next().is_none_or(|a| a != HELPER_FLAG) {
        return;
    }
    let fd = |arg: Option<std::ffi::OsString>| -> Option<i32> { arg?.to_str()?.parse().ok() };
    let (Some(spec_fd), Some(report_fd)) = (fd(args.next()), fd(args.next())) else {
        eprintln!("stockade: error: {HELPER_FLAG} is for stockade's bwrap backend only");
        std::process::exit(125);
    };
    // SAFETY: bwrap passed these descriptors to this process for the helper
    // alone; nothing else in it owns them.
    let (spec_file, report) = unsafe {
        (
            File::from(OwnedFd::from_raw_fd(spec_fd)),
            OwnedFd::from_raw_fd(report_fd),
        )
    };
    let spec = read_spec(spec_file);
    match spec {
        Ok(spec) => crate::spawn::bwrap_init_main(&spec, report),
        Err(message) => {
            eprintln!("stockade: error: the bwrap helper cannot read its plan: {message}");
            std::process::exit(125);
        }
    }
}

fn read_spec(mut file: File) -> Result<Spec, String> {
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    let wire: HelperSpec = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    wire.into_spec()
}
