//! Operations on processes: ptrace, signals, sessions, other processes'
//! memory and descriptors, processes that try to outlive the run, and
//! resource exhaustion. Also the fork helpers the other modules use.
//!
//! Code that runs in a forked child is async-signal-safe: no allocation, no
//! locks, only raw syscalls and `_exit`.

use std::time::Duration;

use serde_json::Value;

use crate::errno::{self, check, check_long};
use crate::{Args, Failure, Fields, Op, Outcome, op};

pub(crate) const OPS: &[Op] = &[
    op("ptrace-traceme", "", 0, 0, ptrace_traceme),
    op("ptrace-attach", "PID", 1, 1, ptrace_attach),
    op("kill", "PID SIGNAL(number or name)", 2, 2, kill),
    op("getpid", "", 0, 0, getpid),
    op("getppid", "", 0, 0, getppid),
    op("setsid", "", 0, 0, setsid),
    op("process-vm-read", "PID", 1, 1, process_vm_read),
    op("pidfd-getfd", "PID FD", 2, 2, pidfd_getfd),
    op("spawn-orphan", "SECONDS MARKERFILE", 2, 2, spawn_orphan),
    op("sleep", "SECONDS", 1, 1, sleep),
    op("fork-bomb-limited", "N", 1, 1, fork_bomb_limited),
    op("alloc", "MIB", 1, 1, alloc),
];

/// The write end of a close-on-exec pipe from a forked child to the probe.
#[derive(Debug)]
pub(crate) struct Report {
    fd: libc::c_int,
}

impl Report {
    /// Sends one integer to the parent (async-signal-safe).
    pub(crate) fn send(&self, value: i32) {
        let bytes = value.to_ne_bytes();
        // SAFETY: `bytes` is a live 4-byte buffer; a short or failed write
        // only loses the message, which the parent treats as "no report".
        unsafe { libc::write(self.fd, bytes.as_ptr().cast(), bytes.len()) };
    }
}

/// Forks; the child runs `child` with a [`Report`] and then `_exit(127)`s.
/// Returns the child's pid and every integer it (or its descendants, while
/// they hold the pipe) sent before the pipe closed: on `execve` (the pipe is
/// close-on-exec), on exit, or when they close it.
///
/// `child` must be async-signal-safe.
pub(crate) fn fork_with_report(
    child: impl FnOnce(&Report),
) -> Result<(libc::pid_t, Vec<i32>), Failure> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is a writable array of two ints, as pipe2 requires.
    check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    let [read_end, write_end] = fds;
    // SAFETY: the probe is single-threaded, so the child may run arbitrary
    // code; it still keeps to async-signal-safe calls (see `child`).
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        errno::close(read_end);
        child(&Report { fd: write_end });
        // SAFETY: `_exit` never returns and runs no destructors or atexit
        // handlers, which is what a forked child must do.
        unsafe { libc::_exit(127) };
    }
    let fork_errno = errno::last();
    errno::close(write_end);
    if pid == -1 {
        errno::close(read_end);
        return Err(Failure::errno(fork_errno));
    }
    let mut messages = Vec::new();
    loop {
        let mut buf = [0u8; 4];
        // SAFETY: `buf` is a live 4-byte buffer.
        let n = unsafe { libc::read(read_end, buf.as_mut_ptr().cast(), buf.len()) };
        if n == 4 {
            messages.push(i32::from_ne_bytes(buf));
        } else if n == -1 && errno::last() == libc::EINTR {
            continue;
        } else {
            break;
        }
    }
    errno::close(read_end);
    Ok((pid, messages))
}

/// `waitpid(pid, __WALL)`, retried on EINTR; returns the raw status.
pub(crate) fn wait(pid: libc::pid_t) -> Result<libc::c_int, Failure> {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a live, writable int.
        let ret = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
        if ret != -1 {
            return Ok(status);
        }
        let e = errno::last();
        if e != libc::EINTR {
            return Err(Failure::errno(e));
        }
    }
}

/// `{"status": exit code or null, "signal": signal number or null}`
pub(crate) fn status_fields(status: libc::c_int) -> Fields {
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let signal = libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status));
    vec![
        ("status", Value::from(code)),
        ("signal", Value::from(signal)),
    ]
}

/// Runs `call` in a forked child and fails with the errno it reports
/// (0 = success). For operations that would change the probe itself in a way
/// that outlives the operation (becoming a tracee).
fn in_child(call: impl FnOnce() -> i32) -> Outcome {
    let (pid, messages) = fork_with_report(|report| report.send(call()))?;
    wait(pid)?;
    match messages.first() {
        Some(0) => Ok(vec![]),
        Some(&e) => Err(Failure::errno(e)),
        None => Err(Failure::errno(libc::ECHILD)),
    }
}

/// `ptrace(PTRACE_TRACEME)`, in a forked child (so the probe never becomes a
/// tracee of its parent).
fn ptrace_traceme(_: &Args) -> Outcome {
    in_child(|| {
        // SAFETY: PTRACE_TRACEME takes no pointers.
        let ret = unsafe { libc::syscall(libc::SYS_ptrace, libc::PTRACE_TRACEME, 0, 0, 0) };
        if ret == -1 { errno::last() } else { 0 }
    })
}

/// `ptrace(PTRACE_ATTACH, PID)`; on success waits for the stop and detaches
/// again so the target keeps running.
fn ptrace_attach(a: &Args) -> Outcome {
    let pid: libc::pid_t = a.num(0)?;
    // SAFETY: PTRACE_ATTACH takes no pointers.
    check_long(unsafe { libc::syscall(libc::SYS_ptrace, libc::PTRACE_ATTACH, pid, 0, 0) })?;
    let _ = wait(pid);
    // SAFETY: PTRACE_DETACH with signal 0 takes no pointers.
    unsafe { libc::syscall(libc::SYS_ptrace, libc::PTRACE_DETACH, pid, 0, 0) };
    Ok(vec![])
}

fn signal_number(name: &str) -> Option<libc::c_int> {
    if let Ok(n) = name.parse() {
        return Some(n);
    }
    let name = name.strip_prefix("SIG").unwrap_or(name);
    Some(match name {
        "HUP" => libc::SIGHUP,
        "INT" => libc::SIGINT,
        "QUIT" => libc::SIGQUIT,
        "KILL" => libc::SIGKILL,
        "USR1" => libc::SIGUSR1,
        "USR2" => libc::SIGUSR2,
        "TERM" => libc::SIGTERM,
        "CONT" => libc::SIGCONT,
        "STOP" => libc::SIGSTOP,
        _ => return None,
    })
}

/// `kill(PID, SIGNAL)`; PID may be 0 or negative (process groups, -1 = all).
fn kill(a: &Args) -> Outcome {
    let pid: libc::pid_t = a.num(0)?;
    let sig = signal_number(a.str(1)?)
        .ok_or_else(|| Failure::Usage(format!("unknown signal {:?}", a.os(1))))?;
    // SAFETY: kill takes no pointers.
    check(unsafe { libc::kill(pid, sig) })?;
    Ok(vec![])
}

/// `{"pid"}`
fn getpid(_: &Args) -> Outcome {
    Ok(vec![("pid", Value::from(std::process::id()))])
}

/// `{"ppid"}`
fn getppid(_: &Args) -> Outcome {
    // SAFETY: getppid cannot fail and takes no arguments.
    Ok(vec![("ppid", Value::from(unsafe { libc::getppid() }))])
}

/// `setsid()` in the probe itself (chained ops see the new session):
/// `{"sid"}`, or on failure `{"was_group_leader"}` since a group leader gets
/// EPERM whatever the sandbox does.
fn setsid(_: &Args) -> Outcome {
    // SAFETY: getpgrp cannot fail and takes no arguments.
    let leader = unsafe { libc::getpgrp() } == std::process::id() as libc::pid_t;
    // SAFETY: setsid takes no arguments.
    let sid = check(unsafe { libc::setsid() })
        .map_err(|f| f.with(vec![("was_group_leader", Value::from(leader))]))?;
    Ok(vec![("sid", Value::from(sid))])
}

/// `process_vm_readv` of 8 bytes from PID at the start of its first mapping
/// (from `/proc/PID/maps`, or an address in the probe's own stack when that
/// is unreadable). EFAULT means access was granted but the address was bad.
/// `{"address": "0x...", "bytes"}`
fn process_vm_read(a: &Args) -> Outcome {
    let pid: libc::pid_t = a.num(0)?;
    let mut local = [0u8; 8];
    let address = std::fs::read_to_string(format!("/proc/{pid}/maps"))
        .ok()
        .and_then(|maps| {
            let first = maps.lines().next()?.split('-').next()?.to_owned();
            usize::from_str_radix(&first, 16).ok()
        })
        .unwrap_or(local.as_ptr() as usize);
    let address_field = vec![("address", Value::from(format!("{address:#x}")))];
    let local_iov = libc::iovec {
        iov_base: local.as_mut_ptr().cast(),
        iov_len: local.len(),
    };
    let remote_iov = libc::iovec {
        iov_base: address as *mut libc::c_void,
        iov_len: local.len(),
    };
    // SAFETY: `local_iov` describes our live 8-byte buffer; the remote iovec
    // is only interpreted by the kernel in the target's address space.
    let n = unsafe { libc::process_vm_readv(pid, &local_iov, 1, &remote_iov, 1, 0) };
    if n == -1 {
        return Err(Failure::errno(errno::last()).with(address_field));
    }
    let mut fields = address_field;
    fields.push(("bytes", Value::from(n)));
    Ok(fields)
}

/// `pidfd_open(PID)` then `pidfd_getfd(pidfd, FD)`: `{"fd", "target"}`
/// (`target` from `/proc/self/fd`, null when unreadable); on failure
/// `"stage"` names the refused call.
fn pidfd_getfd(a: &Args) -> Outcome {
    let pid: libc::pid_t = a.num(0)?;
    let target_fd: libc::c_int = a.num(1)?;
    let stage = |s: &str| vec![("stage", Value::from(s))];
    // SAFETY: pidfd_open takes no pointers.
    let pidfd = check_long(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })
        .map_err(|f| f.with(stage("pidfd_open")))? as libc::c_int;
    // SAFETY: pidfd_getfd takes no pointers.
    let fd = check_long(unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd, target_fd, 0) });
    errno::close(pidfd);
    let fd = fd.map_err(|f| f.with(stage("pidfd_getfd")))? as libc::c_int;
    let target = std::fs::read_link(format!("/proc/self/fd/{fd}"))
        .ok()
        .map(|t| t.to_string_lossy().into_owned());
    errno::close(fd);
    Ok(vec![
        ("fd", Value::from(fd)),
        ("target", Value::from(target)),
    ])
}

/// Double-forks a grandchild that `setsid()`s, detaches from the probe's
/// stdio, sleeps SECONDS and then writes "alive\n" to MARKERFILE. Returns at
/// once: `{"pid": grandchild, "setsid_ok"}`. If MARKERFILE appears after the
/// run ended, something outlived it.
fn spawn_orphan(a: &Args) -> Outcome {
    let seconds: u32 = a.num(0)?;
    let marker = a.cstr(1)?;
    let marker = marker.as_ptr();
    let (child, messages) = fork_with_report(|report| {
        // SAFETY: async-signal-safe calls only, on pointers to C strings
        // and buffers that live in this copy of the address space.
        unsafe {
            let grandchild = libc::fork();
            if grandchild == -1 {
                report.send(-1);
                report.send(errno::last());
            } else if grandchild == 0 {
                let sid_errno = if libc::setsid() == -1 {
                    errno::last()
                } else {
                    0
                };
                report.send(libc::getpid());
                report.send(sid_errno);
                // Let go of the probe's stdout, or whoever reads it to EOF
                // would wait for this process.
                let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
                for fd in 0..3 {
                    if null == -1 {
                        libc::close(fd);
                    } else {
                        libc::dup2(null, fd);
                    }
                }
                // Including the report pipe, so the probe stops waiting.
                for fd in 3..1024 {
                    libc::close(fd);
                }
                let mut left = seconds;
                while left > 0 {
                    left = libc::sleep(left);
                }
                let fd = libc::open(
                    marker,
                    libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC,
                    0o644,
                );
                if fd != -1 {
                    libc::write(fd, c"alive\n".as_ptr().cast(), 6);
                    libc::close(fd);
                }
                libc::_exit(0);
            }
        }
    })?;
    wait(child)?;
    match messages.as_slice() {
        [-1, e, ..] => Err(Failure::errno(*e)),
        [pid, sid_errno, ..] => {
            let mut fields = vec![
                ("pid", Value::from(*pid)),
                ("setsid_ok", Value::from(*sid_errno == 0)),
            ];
            if *sid_errno != 0 {
                fields.push(("setsid_error", Value::from(errno::name(*sid_errno))));
            }
            Ok(fields)
        }
        _ => Err(Failure::errno(libc::ECHILD)),
    }
}

/// Sleeps SECONDS (fractions allowed).
fn sleep(a: &Args) -> Outcome {
    let seconds: f64 = a.num(0)?;
    let duration = Duration::try_from_secs_f64(seconds)
        .map_err(|_| Failure::Usage(format!("bad duration {seconds}")))?;
    std::thread::sleep(duration);
    Ok(vec![])
}

/// Forks up to N children that each sleep 2 s, stopping at the first
/// failure, then kills and reaps them. Ok when all N forks succeeded;
/// `{"requested", "forked"}` either way, with the errno of the failed fork.
fn fork_bomb_limited(a: &Args) -> Outcome {
    let requested: usize = a.num(0)?;
    let mut children = Vec::with_capacity(requested);
    let mut failed = None;
    while children.len() < requested {
        // SAFETY: single-threaded; the child only sleeps and `_exit`s.
        let pid = unsafe { libc::fork() };
        match pid {
            -1 => {
                failed = Some(errno::last());
                break;
            }
            0 => {
                // SAFETY: async-signal-safe; `_exit` never returns.
                unsafe {
                    libc::sleep(2);
                    libc::_exit(0);
                }
            }
            pid => children.push(pid),
        }
    }
    for &pid in &children {
        // SAFETY: `pid` is our own child, not yet reaped.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let _ = wait(pid);
    }
    let fields = vec![
        ("requested", Value::from(requested)),
        ("forked", Value::from(children.len())),
    ];
    match failed {
        Some(e) => Err(Failure::errno(e).with(fields)),
        None => Ok(fields),
    }
}

/// Maps MIB MiB of anonymous memory and writes to every page, so that it is
/// really committed; `{"mib"}`. A memory limit shows as ENOMEM from `mmap` or
/// as the probe being killed.
fn alloc(a: &Args) -> Outcome {
    let mib: usize = a.num(0)?;
    let len = mib
        .checked_mul(1 << 20)
        .ok_or_else(|| Failure::Usage(format!("{mib} MiB is too large")))?;
    if len == 0 {
        return Ok(vec![("mib", Value::from(0))]);
    }
    // SAFETY: an anonymous private mapping with no address hint touches no
    // existing memory.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return Err(Failure::errno(errno::last()));
    }
    let base = ptr.cast::<u8>();
    for offset in (0..len).step_by(4096) {
        // SAFETY: `offset < len`, inside the mapping made above.
        unsafe { base.add(offset).write_volatile(1) };
    }
    // SAFETY: unmaps exactly the mapping made above, which nothing else uses.
    unsafe { libc::munmap(ptr, len) };
    Ok(vec![("mib", Value::from(mib))])
}
