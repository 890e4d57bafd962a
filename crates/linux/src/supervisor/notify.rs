//! The seccomp user-notification calls: receive a held syscall, check that
//! it is still held, answer it. The only `unsafe` around the listener.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// A syscall the filter handed to the supervisor; its thread waits until
/// [`respond`] answers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Notification {
    /// Identifies the call in [`respond`] and [`still_held`].
    pub(crate) id: u64,
    /// The calling thread, in the supervisor's pid namespace.
    pub(crate) pid: u32,
    /// The syscall number.
    pub(crate) nr: i32,
    /// Its six arguments.
    pub(crate) args: [u64; 6],
}

/// What [`wait`] saw on the listener.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Waited {
    /// A call is held (another worker may take it first).
    Held,
    /// No process runs under the filter any more.
    Gone,
}

/// Blocks until a call is held or the filter has no process left
/// (`POLLHUP`), whichever comes first.
pub(crate) fn wait(listener: BorrowedFd<'_>) -> Waited {
    loop {
        let mut fd = libc::pollfd {
            fd: listener.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: fd is one valid pollfd for the call.
        let n = unsafe { libc::poll(&mut fd, 1, -1) };
        if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        if n > 0 && fd.revents & libc::POLLIN != 0 {
            return Waited::Held;
        }
        return Waited::Gone;
    }
}

/// Takes the next held call (`SECCOMP_IOCTL_NOTIF_RECV`); blocks until
/// there is one. `ENOENT` means the caller was killed meanwhile.
pub(crate) fn receive(listener: BorrowedFd<'_>) -> io::Result<Notification> {
    // SAFETY: seccomp_notif is plain data; the kernel requires it zeroed.
    let mut raw: libc::seccomp_notif = unsafe { std::mem::zeroed() };
    // SAFETY: the ioctl writes one seccomp_notif into `raw`, which is valid
    // for writes for the whole call.
    let rc = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_RECV,
            &mut raw as *mut libc::seccomp_notif,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Notification {
        id: raw.id,
        pid: raw.pid,
        nr: raw.data.nr,
        args: raw.data.args,
    })
}

/// Whether call `id` still waits (`SECCOMP_IOCTL_NOTIF_ID_VALID`): checked
/// after reading through `/proc/<pid>` or `pidfd_open(pid)`, so that what
/// was read belongs to the caller and not to a process that reused its pid.
pub(crate) fn still_held(listener: BorrowedFd<'_>, id: u64) -> bool {
    let mut id = id;
    // SAFETY: the ioctl reads one u64 from `id`, valid for the call.
    unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_ID_VALID,
            &mut id as *mut u64,
        ) == 0
    }
}

/// Answers call `id`: it returns `Ok(value)` or fails with `Err(errno)`.
/// An answer to a caller that was killed meanwhile is dropped.
pub(crate) fn respond(listener: BorrowedFd<'_>, id: u64, result: Result<i64, i32>) {
    let (val, error) = match result {
        Ok(value) => (value, 0),
        Err(errno) => (0, -errno),
    };
    let mut response = libc::seccomp_notif_resp {
        id,
        val,
        error,
        flags: 0,
    };
    // SAFETY: the ioctl reads one seccomp_notif_resp, valid for the call.
    // Its only failure that matters (ENOENT: the caller is gone) leaves
    // nothing to do.
    unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SEND,
            &mut response as *mut libc::seccomp_notif_resp,
        )
    };
}

/// Answers call `id` with a new descriptor of the caller for `file`
/// (`SECCOMP_IOCTL_NOTIF_ADDFD` with `SECCOMP_ADDFD_FLAG_SEND`: the
/// descriptor is placed and the call returns its number in one step).
///
/// # Errors
///
/// The caller's descriptor table is full (`EMFILE`) or the caller is gone;
/// the call is then still held, for [`respond`] to fail it.
pub(crate) fn respond_fd(
    listener: BorrowedFd<'_>,
    id: u64,
    file: BorrowedFd<'_>,
    cloexec: bool,
) -> Result<(), i32> {
    let mut addfd = libc::seccomp_notif_addfd {
        id,
        flags: libc::SECCOMP_ADDFD_FLAG_SEND as u32,
        srcfd: file.as_raw_fd() as u32,
        newfd: 0,
        newfd_flags: if cloexec { libc::O_CLOEXEC as u32 } else { 0 },
    };
    // SAFETY: the ioctl reads one seccomp_notif_addfd, valid for the call.
    let rc = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_ADDFD,
            &mut addfd as *mut libc::seccomp_notif_addfd,
        )
    };
    match rc {
        n if n >= 0 => Ok(()),
        _ => Err(io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO)),
    }
}
