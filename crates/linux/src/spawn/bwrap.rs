//! Starting a sandbox through the system bwrap (see [`crate::bwrap`]):
//! bwrap builds the namespaces and the mount tree, then runs stockade's
//! own binary as the sandbox's first process (the helper), which reports
//! on the same pipe as the native init.

use super::{
    Sandbox, SpawnError, Spec, blocked_set, first_report, kill_child, os, pipe, release,
    wait_for_go, watch,
};
use std::ffi::{CString, OsString};
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// How to start bwrap for one run.
#[derive(Debug)]
pub struct BwrapLaunch {
    /// The bwrap binary.
    pub bwrap: PathBuf,
    /// Namespace options, before the mount steps.
    pub namespace_args: Vec<OsString>,
    /// The plan's mount steps (`crate::bwrap::args::mount_args`), whose
    /// `--ro-bind-data` descriptors are `data_fds`, in order.
    pub mount_args: Vec<OsString>,
    /// Descriptors reading as empty, one per hidden file.
    pub data_fds: Vec<OwnedFd>,
    /// The helper's instructions (`crate::bwrap::helper::HelperSpec`).
    pub helper_spec: Vec<u8>,
}

/// The flag that makes stockade's binary the helper (see
/// `crate::bwrap::helper`).
pub const HELPER_FLAG: &str = "--stockade-bwrap-helper";

/// Starts bwrap; returns once the command is running, or with the reason
/// it could not start (bwrap's own message is on stderr).
pub fn spawn_bwrap(spec: &Spec, launch: &BwrapLaunch) -> Result<Sandbox, SpawnError> {
    let threads = super::thread_count();
    if threads > 1 {
        return Err(SpawnError::Threads { threads });
    }
    let exe = File::open("/proc/self/exe").map_err(os("open stockade's own binary"))?;
    let helper_spec = memfd_with(&launch.helper_spec).map_err(os("pass the sandbox's plan"))?;
    let (report_read, report_write) = pipe().map_err(os("create a pipe"))?;
    let (info_read, info_write) = pipe().map_err(os("create a pipe"))?;
    let (exec_read, exec_write) = pipe().map_err(os("create a pipe"))?;
    let (go_read, go_write) = pipe().map_err(os("create a pipe"))?;
    let inherited: Vec<RawFd> = [&exe.as_raw_fd(), &helper_spec.as_raw_fd()]
        .into_iter()
        .copied()
        .chain([report_write.as_raw_fd(), info_write.as_raw_fd()])
        .chain(launch.data_fds.iter().map(AsRawFd::as_raw_fd))
        .collect();
    let argv = bwrap_argv(
        launch,
        exe.as_raw_fd(),
        helper_spec.as_raw_fd(),
        report_write.as_raw_fd(),
        info_write.as_raw_fd(),
    )?;
    let argv_ptrs: Vec<*const libc::c_char> = argv
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let blocked = blocked_set();
    // SAFETY: blocked is a valid set.
    unsafe { libc::sigprocmask(libc::SIG_BLOCK, &blocked, std::ptr::null_mut()) };
    // SAFETY: fork in a single-threaded process; the child only waits on a
    // pipe, clears close-on-exec flags and ends in execv or _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        drop(go_write);
        drop(exec_read);
        // SAFETY: prctl with integer arguments: bwrap dies with stockade
        // (and with `--die-with-parent`, its sandbox with it).
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) };
        wait_for_go(go_read);
        let empty: libc::sigset_t = {
            // SAFETY: sigset_t is plain data; sigemptyset initialises it.
            let mut set = unsafe { std::mem::zeroed() };
            // SAFETY: set is a valid sigset_t.
            unsafe { libc::sigemptyset(&mut set) };
            set
        };
        // SAFETY: fcntl/sigprocmask/execv on valid descriptors and
        // NUL-terminated strings that outlive the calls.
        let errno = unsafe {
            for fd in &inherited {
                libc::fcntl(*fd, libc::F_SETFD, 0);
            }
            libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
            libc::execv(argv_ptrs[0], argv_ptrs.as_ptr());
            io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::ENOENT)
        };
        let _ = File::from(exec_write).write_all(&errno.to_le_bytes());
        // SAFETY: _exit in the forked child.
        unsafe { libc::_exit(127) };
    }
    if pid < 0 {
        return Err(SpawnError::Os {
            action: "start bwrap",
            source: io::Error::last_os_error(),
        });
    }
    drop((
        exec_write,
        go_read,
        report_write,
        info_write,
        exe,
        helper_spec,
    ));
    release(spec, pid, go_write)?;
    let mut errno = [0u8; 4];
    if let Ok(4) = File::from(exec_read).read(&mut errno) {
        kill_child(pid);
        return Err(SpawnError::Setup(format!(
            "cannot run {}: {}",
            launch.bwrap.display(),
            io::Error::from_raw_os_error(i32::from_le_bytes(errno))
        )));
    }
    let mut info = String::new();
    let _ = File::from(info_read).read_to_string(&mut info);
    let pidfd = watch(pid)?;
    // The sandbox's init (`--as-pid-1`: the helper) gets forwarded signals.
    let init = child_pid(&info).unwrap_or(pid);
    first_report(spec, pid, pidfd, File::from(report_read), init)
}

/// `bwrap --info-fd N NAMESPACES MOUNTS -- /proc/self/fd/EXE --stockade-bwrap-helper SPEC REPORT`.
fn bwrap_argv(
    launch: &BwrapLaunch,
    exe: RawFd,
    helper_spec: RawFd,
    report: RawFd,
    info: RawFd,
) -> Result<Vec<CString>, SpawnError> {
    let mut args: Vec<OsString> = vec![launch.bwrap.clone().into_os_string()];
    args.push("--info-fd".into());
    args.push(info.to_string().into());
    args.extend(launch.namespace_args.iter().cloned());
    args.extend(launch.mount_args.iter().cloned());
    args.push("--".into());
    args.push(format!("/proc/self/fd/{exe}").into());
    args.push(HELPER_FLAG.into());
    args.push(helper_spec.to_string().into());
    args.push(report.to_string().into());
    args.into_iter()
        .map(|a| {
            CString::new(a.as_bytes().to_vec())
                .map_err(|_| SpawnError::Setup("a path holds a NUL byte".into()))
        })
        .collect()
}

/// `"child-pid": N` from bwrap's `--info-fd` JSON.
fn child_pid(info: &str) -> Option<libc::pid_t> {
    serde_json::from_str::<serde_json::Value>(info)
        .ok()?
        .get("child-pid")?
        .as_i64()
        .and_then(|p| libc::pid_t::try_from(p).ok())
}

/// A close-on-exec memory file holding `bytes`, positioned at the start.
fn memfd_with(bytes: &[u8]) -> io::Result<File> {
    // SAFETY: the name is a NUL-terminated string literal.
    let fd = unsafe { libc::memfd_create(c"stockade-helper-spec".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: memfd_create returned a new fd that nothing else owns.
    let mut file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    file.write_all(bytes)?;
    file.rewind()?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bwrap_info_names_the_sandbox_init() {
        let info = "{\n    \"child-pid\": 934,\n    \"ipc-namespace\": 4026532180\n}\n";
        assert_eq!(child_pid(info), Some(934));
        assert_eq!(child_pid(""), None);
    }
}
