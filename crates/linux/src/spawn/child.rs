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
use crate::supervisor::{FileGuard, Supervisor, fdpass};
use std::ffi::CString;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

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
pub(super) fn init_main(spec: &Spec, sync: OwnedFd, report: OwnedFd, egress: Option<OwnedFd>) -> ! {
    // SAFETY: prctl with integer arguments; dies with stockade from now on.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) };
    let mut sync = File::from(sync);
    let mut report = File::from(report);
    let mut byte = [0u8; 1];
    if sync.read(&mut byte).ok() != Some(1) {
        exit(125); // stockade went away before the maps were written
    }
    drop(sync);
    let prepared = match setup(spec, egress) {
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
/// process (answering the calls the filter holds for the supervisor) until
/// it ends, and reports its denials and status.
fn start_and_supervise(spec: &Spec, prepared: Option<PreparedRuleset>, mut report: File) -> ! {
    let mut forwarded = FORWARDED.to_vec();
    forwarded.push(libc::SIGCHLD);
    let blocked = sigset(&forwarded);
    // SAFETY: blocked is a valid set; the old mask is not needed.
    unsafe { libc::sigprocmask(libc::SIG_BLOCK, &blocked, std::ptr::null_mut()) };
    let setup_failed = |report: &mut File, what: &str, e: std::io::Error| -> ! {
        let _ = Report::SetupFailed(format!("failed to {what}: {e}")).write_to(report);
        exit(125)
    };
    let notifies = spec.seccomp.as_ref().is_some_and(|f| f.notifies());
    let mut file_guard = match worker_guard(spec) {
        Ok(guard) => guard,
        Err(message) => {
            let _ = Report::SetupFailed(message).write_to(&mut report);
            exit(125)
        }
    };
    let (exec_read, exec_write) = match super::pipe() {
        Ok(pair) => pair,
        Err(e) => setup_failed(&mut report, "create a pipe", e),
    };
    let (to_init, to_command) = match notifies.then(fdpass::pair).transpose() {
        Ok(pair) => pair.unzip(),
        Err(e) => setup_failed(&mut report, "create a socket pair", e),
    };
    // SAFETY: fork in a single-threaded process; the child only runs
    // command_main, which ends in execve or _exit.
    let command = unsafe { libc::fork() };
    if command == 0 {
        drop(exec_read);
        drop(report);
        drop(to_init);
        command_main(spec, prepared, exec_write, to_command);
    }
    if command < 0 {
        setup_failed(
            &mut report,
            "start the command",
            std::io::Error::last_os_error(),
        );
    }
    drop(exec_write);
    drop(to_command);
    let mut errno = [0u8; 4];
    let started = match File::from(exec_read).read(&mut errno) {
        Ok(4) => Report::ExecFailed(i32::from_le_bytes(errno)),
        _ => Report::Started,
    };
    let received = to_init.map(|end| {
        fdpass::receive(end.as_fd()).and_then(|listener| {
            listener
                .ok_or_else(|| std::io::Error::other("the command's process sent no listener"))
                .and_then(|listener| {
                    let tcp_ports = spec.landlock.tcp.as_ref().map(|t| t.connect_ports.clone());
                    Supervisor::new(listener, &spec.unix_sockets, tcp_ports, file_guard.take())
                })
        })
    });
    let supervisor = match received {
        None => None,
        Some(Ok(supervisor)) => Some(supervisor),
        Some(Err(e)) if started == Report::Started => {
            // The command runs under a filter nobody would answer.
            // SAFETY: kill on our own child.
            unsafe { libc::kill(command, libc::SIGKILL) };
            setup_failed(&mut report, "supervise the command's held calls", e);
        }
        Some(Err(_)) => None,
    };
    let _ = started.write_to(&mut report);
    let status = supervise(command, &blocked);
    if let Some(supervisor) = &supervisor {
        let denials = supervisor.denials();
        if !denials.list.is_empty() {
            let _ = Report::Denials(denials).write_to(&mut report);
        }
    }
    let _ = Report::Exited(status).write_to(&mut report);
    exit(0)
}

/// What the supervisor needs to hold the plan's deny globs; `None` when no
/// glob is held there.
///
/// The threads that act on files for the command must be within its
/// Landlock rules, and must still read its memory and descriptors, which
/// Landlock allows only from an enclosing domain. So the init takes the
/// command's rules itself before it starts the command (which adds them
/// again, with the scopes, as a nested domain): the same paths and rights,
/// no scopes (its threads connect to the command's abstract sockets), and
/// `/proc` writable, where the command's process writes its nested user
/// namespace's maps before it restricts itself. Every worker thread the
/// init starts inherits the domain.
fn worker_guard(spec: &Spec) -> Result<Option<FileGuard>, String> {
    if spec.guarded_globs.is_empty() {
        return Ok(None);
    }
    if spec.landlock.abi != 0 {
        let mut plan = spec.landlock.clone();
        plan.scope_abstract_unix_socket = false;
        plan.scope_signal = false;
        plan.tcp = None;
        for rule in plan
            .rules
            .iter_mut()
            .filter(|r| r.path == std::path::Path::new("/proc"))
        {
            if !rule.rights.contains(&"write_file") {
                rule.rights.push("write_file");
            }
        }
        let prepared = crate::landlock::prepare(&plan)
            .map_err(|e| format!("the supervisor's Landlock rules: {e}"))?;
        crate::landlock::restrict_self(prepared)
            .map_err(|e| format!("failed to restrict the supervisor with Landlock: {e}"))?;
    }
    Ok(Some(FileGuard {
        globs: spec.guarded_globs.clone(),
    }))
}

/// Mount tree, loopback (and the proxy's listeners on it), Landlock
/// ruleset, working directory.
fn setup(spec: &Spec, egress: Option<OwnedFd>) -> Result<Option<PreparedRuleset>, String> {
    crate::mounts::apply::apply(&spec.mounts).map_err(|e| e.to_string())?;
    if spec.loopback_up {
        super::net::loopback_up()
            .map_err(|e| format!("failed to bring up the sandbox's loopback: {e}"))?;
        // Best effort: it changes how fast the loopback is, not what
        // reaches it.
        let _ = super::net::loopback_large_segments();
    }
    if let Some(channel) = egress {
        crate::egress::bind_and_send(channel.as_fd())
            .map_err(|e| format!("failed to set up the egress proxy's listeners: {e}"))?;
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

/// Writes a /proc file: opened for writing only (no `O_CREAT`, no
/// `O_TRUNC`, which Landlock would count as a truncation).
fn write_file(path: &str, text: &str) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)?
        .write_all(text.as_bytes())
}

/// The command's process: ends in execve, or in _exit(126/127) after
/// writing the errno of the failed exec to `exec_errors`.
pub(crate) fn command_main(
    spec: &Spec,
    prepared: Option<PreparedRuleset>,
    exec_errors: OwnedFd,
    to_init: Option<OwnedFd>,
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
    if spec.controlling_tty {
        // SAFETY: setsid and ioctl(TIOCSCTTY) with integer arguments, on
        // our own stdin.
        let failed = unsafe { libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) != 0 };
        if failed {
            fail(
                &mut errors,
                "make the terminal the command's controlling terminal",
                std::io::Error::last_os_error(),
            );
        }
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
        match (crate::seccomp::install(filter), &to_init) {
            (Ok(None), _) => {}
            (Ok(Some(listener)), Some(to_init)) => {
                // The listener goes to the init and never past execve.
                if let Err(e) = fdpass::send(to_init.as_fd(), listener.as_raw_fd()) {
                    fail(
                        &mut errors,
                        "hand the seccomp listener to the supervisor",
                        e,
                    );
                }
            }
            (Ok(Some(_)), None) => fail(
                &mut errors,
                "start the command",
                std::io::Error::other("its filter needs a supervisor and this sandbox has none"),
            ),
            (Err(errno), _) => fail(
                &mut errors,
                "install the seccomp filter",
                std::io::Error::from_raw_os_error(errno),
            ),
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
