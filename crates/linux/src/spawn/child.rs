//! The two processes inside the sandbox.
//!
//! * The first (pid 1 of the sandbox's pid namespace) builds the mount tree,
//!   prepares the Landlock ruleset, starts the command, then reaps every
//!   process and forwards the signals stockade sends. When it exits, the
//!   kernel kills everything left in its pid namespace, so nothing the
//!   command started (background, `setsid`, double-forked) outlives the run.
//! * The second enters a nested user namespace (which locks every mount),
//!   restricts itself with Landlock, drops every capability, installs the
//!   seccomp filter and executes the command.
//!
//! Both run in a child of a single-threaded process, so allocating here is
//! safe; everything that can be computed earlier was (see `Spec`).

use super::Spec;
use super::report::Report;
use crate::landlock::PreparedRuleset;
use std::ffi::CString;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;

/// Signals the sandbox's first process forwards to the command when
/// stockade sends them (the terminal delivers its own directly).
pub(super) const FORWARDED: &[libc::c_int] = &[
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

fn exit(code: i32) -> ! {
    // SAFETY: _exit has no preconditions; it skips atexit handlers and
    // buffered I/O that belong to the parent's copy of the process.
    unsafe { libc::_exit(code) }
}

fn sigset(signals: &[libc::c_int]) -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; sigemptyset initialises it.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: set is a valid sigset_t.
    unsafe { libc::sigemptyset(&mut set) };
    for &signal in signals {
        // SAFETY: set is a valid sigset_t and signal a valid signal number.
        unsafe { libc::sigaddset(&mut set, signal) };
    }
    set
}

/// The sandbox's first process. `sync` delivers one byte once stockade has
/// written the uid and gid maps; `report` goes back to stockade.
pub(super) fn init_main(spec: &Spec, sync: OwnedFd, report: OwnedFd) -> ! {
    // SAFETY: prctl with integer arguments; dies with stockade from now on.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) };
    let mut sync = File::from(sync);
    let mut report = File::from(report);
    let mut byte = [0u8; 1];
    if sync.read(&mut byte).ok() != Some(1) {
        exit(125); // stockade went away before the maps were written
    }
    drop(sync);
    let prepared = match setup(spec) {
        Ok(prepared) => prepared,
        Err(message) => {
            let _ = Report::SetupFailed(message).write_to(&mut report);
            exit(125);
        }
    };
    start_and_supervise(spec, prepared, report)
}

/// The sandbox's first process when bwrap built the tree (and its
/// namespaces): the rest of [`init_main`], from the Landlock ruleset on.
pub(crate) fn bwrap_init_main(spec: &Spec, report: OwnedFd) -> ! {
    let mut report = File::from(report);
    let prepared = prepare_landlock(spec).and_then(|prepared| {
        std::env::set_current_dir(&spec.cwd)
            .map(|()| prepared)
            .map_err(|e| {
                format!(
                    "failed to enter the working directory {}: {e}",
                    spec.cwd.display()
                )
            })
    });
    match prepared {
        Ok(prepared) => start_and_supervise(spec, prepared, report),
        Err(message) => {
            let _ = Report::SetupFailed(message).write_to(&mut report);
            exit(125);
        }
    }
}

/// Starts the command, reports whether its exec succeeded, reaps every
/// process until it ends, and reports its status.
fn start_and_supervise(spec: &Spec, prepared: Option<PreparedRuleset>, mut report: File) -> ! {
    let mut forwarded = FORWARDED.to_vec();
    forwarded.push(libc::SIGCHLD);
    let blocked = sigset(&forwarded);
    // SAFETY: blocked is a valid set; the old mask is not needed.
    unsafe { libc::sigprocmask(libc::SIG_BLOCK, &blocked, std::ptr::null_mut()) };
    let (exec_read, exec_write) = match super::pipe() {
        Ok(pair) => pair,
        Err(e) => {
            let _ =
                Report::SetupFailed(format!("failed to create a pipe: {e}")).write_to(&mut report);
            exit(125);
        }
    };
    // SAFETY: fork in a single-threaded process; the child only runs
    // command_main, which ends in execve or _exit.
    let command = unsafe { libc::fork() };
    if command == 0 {
        drop(exec_read);
        drop(report);
        command_main(spec, prepared, exec_write);
    }
    if command < 0 {
        let e = std::io::Error::last_os_error();
        let _ =
            Report::SetupFailed(format!("failed to start the command: {e}")).write_to(&mut report);
        exit(125);
    }
    drop(exec_write);
    let mut errno = [0u8; 4];
    let started = match File::from(exec_read).read(&mut errno) {
        Ok(4) => Report::ExecFailed(i32::from_le_bytes(errno)),
        _ => Report::Started,
    };
    let _ = started.write_to(&mut report);
    let status = supervise(command, &blocked);
    let _ = Report::Exited(status).write_to(&mut report);
    exit(0)
}

/// Mount tree, loopback, Landlock ruleset, working directory.
fn setup(spec: &Spec) -> Result<Option<PreparedRuleset>, String> {
    crate::mounts::apply::apply(&spec.mounts).map_err(|e| e.to_string())?;
    if spec.loopback_up {
        super::net::loopback_up()
            .map_err(|e| format!("failed to bring up the sandbox's loopback: {e}"))?;
    }
    let prepared = prepare_landlock(spec)?;
    std::env::set_current_dir(&spec.cwd).map_err(|e| {
        format!(
            "failed to enter the working directory {}: {e}",
            spec.cwd.display()
        )
    })?;
    Ok(prepared)
}

/// Reaps every child; forwards signals sent by stockade (not those the
/// terminal sent to the whole process group, which the command already
/// got); returns the command's wait status once it has ended.
fn supervise(command: libc::pid_t, blocked: &libc::sigset_t) -> i32 {
    loop {
        // SAFETY: siginfo_t is plain data filled by sigwaitinfo.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: blocked is a valid set of blocked signals; info is valid.
        let signal = unsafe { libc::sigwaitinfo(blocked, &mut info) };
        if signal == libc::SIGCHLD {
            if let Some(status) = reap(command) {
                return status;
            }
        } else if signal > 0 && (info.si_code == libc::SI_USER || info.si_code == libc::SI_QUEUE) {
            // SAFETY: kill with a valid pid and signal.
            unsafe { libc::kill(command, signal) };
        }
    }
}

/// Reaps every exited child; the command's status once it is among them.
fn reap(command: libc::pid_t) -> Option<i32> {
    let mut result = None;
    loop {
        let mut status = 0;
        // SAFETY: status is a valid out-pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            return result;
        }
        if pid == command {
            result = Some(status);
        }
    }
}

fn write_file(path: &str, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

/// The command's process: ends in execve, or in _exit(126/127) after
/// writing the errno of the failed exec to `exec_errors`.
pub(crate) fn command_main(
    spec: &Spec,
    prepared: Option<PreparedRuleset>,
    exec_errors: OwnedFd,
) -> ! {
    let mut errors = File::from(exec_errors);
    let fail = |errors: &mut File, what: &str, e: std::io::Error| -> ! {
        eprintln!("stockade: error: failed to {what}: {e}");
        let _ = errors.write_all(&(-1i32).to_le_bytes());
        exit(125)
    };
    // A clean signal state for the command: nothing blocked, SIGPIPE back
    // to its default (Rust ignores it in stockade itself).
    let empty = sigset(&[]);
    // SAFETY: empty is a valid set; SIG_DFL is a valid disposition.
    unsafe {
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    if spec.namespaces {
        // A nested user namespace: every mount of the sandbox is locked in it.
        // SAFETY: unshare with namespace flags only.
        if unsafe { libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) } != 0 {
            fail(
                &mut errors,
                "lock the mounts in a nested user namespace",
                std::io::Error::last_os_error(),
            );
        }
        let maps = write_file("/proc/self/setgroups", "deny")
            .and_then(|()| write_file("/proc/self/uid_map", &format!("{0} {0} 1", spec.uid)))
            .and_then(|()| write_file("/proc/self/gid_map", &format!("{0} {0} 1", spec.gid)));
        if let Err(e) = maps {
            fail(&mut errors, "map the user in the nested namespace", e);
        }
    } else if let Err(e) = std::env::set_current_dir(&spec.cwd) {
        fail(&mut errors, "enter the working directory", e);
    }
    for (resource, value) in &spec.rlimits {
        let limit = libc::rlimit {
            rlim_cur: *value,
            rlim_max: *value,
        };
        // SAFETY: limit is a valid rlimit for the duration of the call.
        if unsafe { libc::setrlimit(*resource, &limit) } != 0 {
            fail(
                &mut errors,
                "set a resource limit",
                std::io::Error::last_os_error(),
            );
        }
    }
    if spec.prefer_oom_kill {
        // At the cgroup's memory limit the kernel's OOM killer must pick the
        // command's processes, never the sandbox's init (whose death would
        // end the run without the command's status).
        if let Err(e) = write_file("/proc/self/oom_score_adj", "1000") {
            fail(&mut errors, "prefer the command for the OOM killer", e);
        }
    }
    if let Some(prepared) = prepared {
        if let Err(e) = crate::landlock::restrict_self(prepared) {
            fail(
                &mut errors,
                "restrict the command with Landlock",
                std::io::Error::other(e.to_string()),
            );
        }
    }
    if let Err(e) = super::caps::drop_all() {
        fail(&mut errors, "drop capabilities", e);
    }
    if let Some(filter) = &spec.seccomp {
        if let Err(errno) = crate::seccomp::install(filter) {
            fail(
                &mut errors,
                "install the seccomp filter",
                std::io::Error::from_raw_os_error(errno),
            );
        }
    } else {
        // Without the filter, no_new_privs still holds.
        // SAFETY: prctl with integer arguments.
        unsafe {
            libc::prctl(
                libc::PR_SET_NO_NEW_PRIVS,
                1 as libc::c_ulong,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
            )
        };
    }
    // Only stdin, stdout and stderr cross into the command: a descriptor
    // stockade inherited (say, on a directory the policy hides) would
    // reach past the mount tree.
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only marks descriptors.
    if unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    } != 0
    {
        fail(
            &mut errors,
            "close inherited descriptors",
            std::io::Error::last_os_error(),
        );
    }
    let errno = exec(spec);
    let _ = errors.write_all(&errno.to_le_bytes());
    exit(if errno == libc::ENOENT { 127 } else { 126 })
}

/// Tries the command like a shell does: directly when it names a path,
/// else in each `PATH` directory. Returns the errno that best explains the
/// failure (EACCES over ENOENT, as shells do).
fn exec(spec: &Spec) -> i32 {
    let argv: Vec<*const libc::c_char> = spec
        .argv
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let envp: Vec<*const libc::c_char> = spec
        .env
        .iter()
        .map(|e| e.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let try_exec = |path: &CString| -> i32 {
        // SAFETY: path, argv and envp are NUL-terminated strings and
        // null-terminated pointer arrays that outlive the call.
        unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
        std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::ENOENT)
    };
    let name = spec.argv[0].as_bytes();
    if name.contains(&b'/') {
        return try_exec(&spec.argv[0]);
    }
    let mut best = libc::ENOENT;
    for dir in &spec.search_path {
        let mut candidate = dir.as_os_str().as_encoded_bytes().to_vec();
        candidate.push(b'/');
        candidate.extend_from_slice(name);
        let Ok(candidate) = CString::new(candidate) else {
            continue;
        };
        match try_exec(&candidate) {
            libc::ENOENT | libc::ENOTDIR => {}
            errno => best = errno,
        }
    }
    best
}

/// The Landlock ruleset, or `None` when the kernel has no Landlock (the
/// plan then carried a blocker the user waived with `--allow-weaker`).
pub(super) fn prepare_landlock(spec: &Spec) -> Result<Option<PreparedRuleset>, String> {
    if spec.landlock.abi == 0 {
        return Ok(None);
    }
    crate::landlock::prepare(&spec.landlock)
        .map(Some)
        .map_err(|e| e.to_string())
}
