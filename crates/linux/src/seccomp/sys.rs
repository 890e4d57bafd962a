//! Loading a compiled filter into the kernel: the only part of the module
//! that makes syscalls, and the only `unsafe` in it.

use super::CompiledFilter;

/// Installs `filter` on the calling thread: `prctl(PR_SET_NO_NEW_PRIVS, 1)`,
/// then `seccomp(SECCOMP_SET_MODE_FILTER, 0, &program)`.
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
pub fn install(filter: &CompiledFilter) -> Result<(), i32> {
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
    // SAFETY: `program` points at `filter.program`, which is borrowed for
    // the whole call and is `len` valid instructions long; the kernel copies
    // the program before returning and never writes through the pointer.
    // The flags argument is 0: no TSYNC, no listener, no other side effects.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            mode,
            zero,
            &program as *const libc::sock_fprog,
        )
    };
    if rc != 0 {
        return Err(errno());
    }
    Ok(())
}

/// The calling thread's `errno`. Reads the thread-local value and does not
/// allocate.
fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EINVAL)
}
