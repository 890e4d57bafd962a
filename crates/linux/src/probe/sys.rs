//! The small syscall wrappers the probes share, and errno formatting.
//!
//! Every `unsafe` block of the probes that is not specific to one mechanism
//! lives here, each in a function of its own.

use std::ffi::{CStr, CString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The calling thread's `errno` after a failed call.
///
/// Reads the thread-local `errno` through `std`; it does not allocate, so it
/// is safe to call between `fork` and `_exit`.
pub(crate) fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// The symbolic name of an errno value (`EPERM`), for the errnos the probes
/// can meet; `errno N` for any other.
pub(crate) fn errno_name(errno: i32) -> String {
    let name = match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENOTDIR => "ENOTDIR",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::EROFS => "EROFS",
        libc::ENOSYS => "ENOSYS",
        libc::EUSERS => "EUSERS",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        _ => return format!("errno {errno}"),
    };
    name.to_owned()
}

/// `EPERM: operation not permitted`: the errno's name and its text, in
/// lowercase as the style guide asks for messages.
pub(crate) fn describe_errno(errno: i32) -> String {
    let text = io::Error::from_raw_os_error(errno).to_string();
    // std renders "Operation not permitted (os error 1)"; the number is
    // already in the name.
    let text = match text.rfind(" (os error ") {
        Some(at) => &text[..at],
        None => &text[..],
    };
    format!("{}: {}", errno_name(errno), text.to_lowercase())
}

/// The kernel release (`uname -r`), or why it could not be read.
pub(crate) fn uname_release() -> Result<String, String> {
    // SAFETY: `utsname` is plain old data (arrays of `c_char`); all-zero is a
    // valid value.
    let mut buf: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `buf` is a valid, writable `utsname` that outlives the call.
    let rc = unsafe { libc::uname(&mut buf) };
    if rc != 0 {
        return Err(format!("uname failed: {}", describe_errno(errno())));
    }
    // SAFETY: on success the kernel NUL-terminates every field, and `buf`
    // stays alive while the borrowed `CStr` is used.
    let release = unsafe { CStr::from_ptr(buf.release.as_ptr()) };
    Ok(release.to_string_lossy().into_owned())
}

/// The effective user id of this process.
pub(crate) fn geteuid() -> u32 {
    // SAFETY: geteuid takes no arguments, cannot fail and touches no memory.
    unsafe { libc::geteuid() }
}

/// The real user id of this process.
pub(crate) fn getuid() -> u32 {
    // SAFETY: getuid takes no arguments, cannot fail and touches no memory.
    unsafe { libc::getuid() }
}

/// The real group id of this process.
pub(crate) fn getgid() -> u32 {
    // SAFETY: getgid takes no arguments, cannot fail and touches no memory.
    unsafe { libc::getgid() }
}

/// `prctl(option, arg2, 0, 0, 0)`: the non-negative result, or the errno.
///
/// Only called with read-only options (`PR_GET_*`) and with
/// `PR_SET_SECCOMP` given a NULL filter, which the kernel rejects with
/// `EFAULT` before it changes anything.
pub(crate) fn prctl(option: libc::c_int, arg2: libc::c_ulong) -> Result<i32, i32> {
    let zero: libc::c_ulong = 0;
    // SAFETY: every option used here either only reads process state or
    // fails before dereferencing the NULL pointer passed as `arg2`; the
    // variadic arguments are all `unsigned long`, as the kernel reads them.
    let rc = unsafe { libc::prctl(option, arg2, zero, zero, zero) };
    if rc < 0 { Err(errno()) } else { Ok(rc) }
}

/// Whether `path` is writable by the effective uid, as `access(2)` with
/// `AT_EACCESS` reports it (this includes read-only mounts).
pub(crate) fn writable_by_euid(path: &Path) -> bool {
    let Ok(c_path) = CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c_path` is a valid NUL-terminated string that outlives the
    // call; faccessat only reads it.
    let rc = unsafe {
        libc::faccessat(
            libc::AT_FDCWD,
            c_path.as_ptr(),
            libc::W_OK,
            libc::AT_EACCESS,
        )
    };
    rc == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_errno_names_the_errno_and_lowercases_the_text() {
        assert_eq!(
            describe_errno(libc::EPERM),
            "EPERM: operation not permitted"
        );
        assert!(describe_errno(9999).starts_with("errno 9999: "));
    }

    #[test]
    fn errno_name_covers_the_probe_errnos() {
        assert_eq!(errno_name(libc::ENOSPC), "ENOSPC");
        assert_eq!(errno_name(libc::EOPNOTSUPP), "EOPNOTSUPP");
    }
}
