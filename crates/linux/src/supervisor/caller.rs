//! What the supervisor reads of the thread whose call is held: its memory,
//! its descriptors, its working directory, root and umask. Each read goes
//! through `/proc/<tid>` or a pidfd and needs the worker's capabilities
//! (the caller lives in a nested user namespace); the worker checks that
//! the call is still held afterwards ([`super::notify::still_held`]), so a
//! reused thread id cannot hand it another process's state.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// The errno of the last failed call.
pub(crate) fn errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// Wraps the return value of a call that returns a new descriptor.
pub(crate) fn owned(fd: libc::c_long) -> Result<OwnedFd, i32> {
    if fd < 0 {
        return Err(errno());
    }
    // SAFETY: the call returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Copies `into.len()` bytes at `remote` in process `pid`.
pub(crate) fn read_memory(pid: u32, remote: u64, into: &mut [u8]) -> Result<(), i32> {
    if into.is_empty() {
        return Ok(());
    }
    let local = libc::iovec {
        iov_base: into.as_mut_ptr().cast(),
        iov_len: into.len(),
    };
    let remote = libc::iovec {
        iov_base: remote as *mut libc::c_void,
        iov_len: into.len(),
    };
    // SAFETY: `local` covers `into`, valid for writes of its length; the
    // remote iovec is only read by the kernel, in the other process.
    let n = unsafe { libc::process_vm_readv(pid as libc::pid_t, &local, 1, &remote, 1, 0) };
    match n {
        n if n == into.len() as isize => Ok(()),
        n if n < 0 && errno() != libc::EFAULT => Err(errno()),
        _ => Err(libc::EFAULT),
    }
}

/// `PATH_MAX`, counting the terminating NUL: the kernel's limit on a path
/// argument.
const PATH_MAX: usize = 4096;

/// Copies the NUL-terminated path at `remote`: `EFAULT` when it is not
/// readable, `ENAMETOOLONG` past `PATH_MAX`, as the kernel answers. Reads
/// page by page, so a short path at the end of a mapping is found.
pub(crate) fn read_path(pid: u32, remote: u64) -> Result<Vec<u8>, i32> {
    const PAGE: u64 = 4096;
    let mut path = Vec::new();
    let mut at = remote;
    while path.len() < PATH_MAX {
        let chunk = ((PAGE - at % PAGE) as usize).min(PATH_MAX - path.len());
        let mut buf = [0u8; PAGE as usize];
        read_memory(pid, at, &mut buf[..chunk])?;
        if let Some(end) = buf[..chunk].iter().position(|&b| b == 0) {
            path.extend_from_slice(&buf[..end]);
            return Ok(path);
        }
        path.extend_from_slice(&buf[..chunk]);
        at += chunk as u64;
    }
    Err(libc::ENAMETOOLONG)
}

/// `PIDFD_THREAD` (Linux 6.9): a pidfd for one thread, whose descriptor
/// table `pidfd_getfd` then reads (a thread may have its own).
const PIDFD_THREAD: libc::c_uint = libc::O_EXCL as libc::c_uint;

/// A pidfd for the calling thread `tid`. Before Linux 6.9 only a thread
/// group leader has one: the leader's is used, whose descriptor table the
/// thread shares unless it called `unshare(CLONE_FILES)`.
pub(crate) fn pidfd_open(tid: u32) -> Result<OwnedFd, i32> {
    let errno_of = |e: io::Error| e.raw_os_error().unwrap_or(libc::EIO);
    match crate::sys::pidfd_open(tid as libc::pid_t, PIDFD_THREAD) {
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            let leader = thread_group(tid).ok_or(libc::ESRCH)?;
            crate::sys::pidfd_open(leader, 0).map_err(errno_of)
        }
        opened => opened.map_err(errno_of),
    }
}

/// One field of `/proc/<tid>/status` (`Tgid`, `Umask`).
fn status_field(tid: u32, field: &str) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    let value = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?;
    Some(value.trim().to_owned())
}

/// The thread group (process) of thread `tid`.
pub(crate) fn thread_group(tid: u32) -> Option<libc::pid_t> {
    status_field(tid, "Tgid")?.parse().ok()
}

/// The umask of thread `tid` (shared with the threads it shares its file
/// system information with).
pub(crate) fn umask(tid: u32) -> Option<libc::mode_t> {
    libc::mode_t::from_str_radix(&status_field(tid, "Umask")?, 8).ok()
}

/// A duplicate of descriptor `fd` of the process `pidfd` names.
pub(crate) fn pidfd_getfd(pidfd: &OwnedFd, fd: i32) -> Result<OwnedFd, i32> {
    // SAFETY: pidfd_getfd takes integers only; the new descriptor is
    // close-on-exec.
    owned(unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd, 0) })
}

/// `/proc/<tid>/<link>` opened `O_PATH`: the thread's working directory
/// (`cwd`) or root (`root`).
pub(crate) fn open_proc_link(tid: u32, link: &str) -> Result<OwnedFd, i32> {
    let path = CString::new(format!("/proc/{tid}/{link}")).map_err(|_| libc::EINVAL)?;
    // SAFETY: path is a valid NUL-terminated string for the call.
    owned(
        unsafe {
            libc::open(
                path.as_ptr(),
                libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        }
        .into(),
    )
}
