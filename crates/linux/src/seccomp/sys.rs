//! Loading a compiled filter into the kernel: the only part of the module
//! that makes syscalls, and the only `unsafe` in it.

use super::CompiledFilter;
use std::os::fd::{FromRawFd, OwnedFd};

/// Installs `filter` on the calling thread: `prctl(PR_SET_NO_NEW_PRIVS, 1)`,
/// then `seccomp(SECCOMP_SET_MODE_FILTER, flags, &program)`.
///
/// A filter that hands calls to a supervisor ([`CompiledFilter::notifies`])
/// is installed with `SECCOMP_FILTER_FLAG_NEW_LISTENER` and returns the
/// listener (close-on-exec), which must reach the supervisor before the
/// thread execs. It also asks for `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV`
/// (Linux 5.19): once the supervisor holds a call, only a fatal signal
/// interrupts it, so a call the supervisor made is never also restarted by
/// the command. Older kernels refuse the flag; the filter is then
/// installed without it.
///
/// Async-signal-safe: it neither allocates nor takes locks, so it may run in
/// a forked child of a multithreaded process, between `fork` and `execve`.
///
/// # Errors
///
/// The errno of the call that failed: `EINVAL` when the kernel lacks
/// seccomp filters, `EFAULT`/`ENOMEM` from copying the program.
///
/// # Security
///
/// From the moment it returns `Ok`, the thread and everything it execs or
/// forks run under the filter and with `no_new_privs` (setuid bits and file
/// capabilities no longer raise privileges); neither can be undone. Other
/// threads of the process are not filtered: call it where there are none,
/// as in the child between `fork` and `execve`. Descriptors already open
/// stay usable.
///
/// # Platform specific behavior
///
/// Linux 3.5 or later with `CONFIG_SECCOMP_FILTER`. Filters stack: one the
/// process already runs under (a container runtime's) still applies, and
/// the strictest answer wins.
pub fn install(filter: &CompiledFilter) -> Result<Option<OwnedFd>, i32> {
    let Ok(len) = u16::try_from(filter.program.len()) else {
        // `compile` never builds more than 4096 instructions.
        return Err(libc::EINVAL);
    };
    let program = libc::sock_fprog {
        len,
        filter: filter.program.as_ptr().cast_mut(),
    };
    let one: libc::c_ulong = 1;
    let zero: libc::c_ulong = 0;
    // SAFETY: PR_SET_NO_NEW_PRIVS reads its integer arguments only and
    // changes no memory of ours; the variadic arguments are `unsigned long`,
    // as the kernel reads them.
    let rc = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, one, zero, zero, zero) };
    if rc != 0 {
        return Err(errno());
    }
    let mode = libc::c_ulong::from(libc::SECCOMP_SET_MODE_FILTER);
    let load = |flags: libc::c_ulong| {
        // SAFETY: `program` points at `filter.program`, which is borrowed
        // for the whole call and is `len` valid instructions long; the
        // kernel copies the program before returning and never writes
        // through the pointer. The flags are 0 or ask for a listener (a new
        // descriptor, the return value); never TSYNC.
        unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                mode,
                flags,
                &program as *const libc::sock_fprog,
            )
        }
    };
    if !filter.notifies() {
        return match load(zero) {
            0 => Ok(None),
            _ => Err(errno()),
        };
    }
    let listener = libc::SECCOMP_FILTER_FLAG_NEW_LISTENER;
    let mut fd = load(listener | libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
    if fd < 0 && errno() == libc::EINVAL {
        fd = load(listener);
    }
    if fd < 0 {
        return Err(errno());
    }
    // SAFETY: with NEW_LISTENER, seccomp returned a new descriptor that
    // nothing else owns.
    Ok(Some(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) }))
}

/// The calling thread's `errno`. Reads the thread-local value and does not
/// allocate.
fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EINVAL)
}
