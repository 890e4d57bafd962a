//! Starting a command in the sandbox and waiting for it.
//!
//! stockade (the parent) clones the sandbox's first process into new user,
//! mount, pid, ipc and (unless the network is `full`) network namespaces,
//! writes its uid and gid maps (the caller's own ids, nothing else), and
//! waits: for the command to end, for `--timeout`, or for a signal.
//!
//! # Security
//!
//! The first process dies with stockade (`PR_SET_PDEATHSIG`), and its death
//! kills every process in the sandbox's pid namespace. Signals stockade
//! receives from another process are forwarded; the whole tree is then
//! killed after a short grace period. See `child` for what happens inside.
//!
//! # Platform specific behavior
//!
//! Must be called from a single-threaded process: the sandbox's processes
//! are forked copies of it and allocate before they exec.

mod bwrap;
mod caps;
mod child;
mod net;
mod report;

pub use bwrap::{BwrapLaunch, HELPER_FLAG, spawn_bwrap};
pub(crate) use caps::{
    lower_effective as lower_effective_capabilities,
    raise_effective as raise_effective_capabilities,
};
pub(crate) use child::bwrap_init_main;

use crate::landlock::LandlockPlan;
use crate::mounts::MountPlan;
use crate::seccomp::CompiledFilter;
use report::Report;
use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Everything the sandbox needs, computed before any process is started.
#[derive(Debug)]
pub struct Spec {
    pub mounts: MountPlan,
    pub landlock: LandlockPlan,
    /// `None` only when the kernel has no seccomp and the user waived it.
    pub seccomp: Option<CompiledFilter>,
    /// The command and its arguments.
    pub argv: Vec<CString>,
    /// `NAME=VALUE` entries, already filtered by the environment policy.
    pub env: Vec<CString>,
    /// Where a command without a `/` is looked for (the sandbox's `PATH`).
    pub search_path: Vec<PathBuf>,
    /// The working directory (must exist in the sandbox's tree).
    pub cwd: PathBuf,
    /// A new, empty network namespace.
    pub network_namespace: bool,
    /// Bring its loopback up (the command may use its own loopback).
    pub loopback_up: bool,
    /// Bind the egress proxy's listeners there and hand them to stockade
    /// ([`crate::egress`]).
    pub egress: bool,
    /// `setrlimit` resource and value.
    pub rlimits: Vec<(libc::__rlimit_resource_t, libc::rlim_t)>,
    /// cgroup directories the sandbox joins before it runs anything.
    pub cgroups: Vec<PathBuf>,
    /// Make the command's processes the OOM killer's first choice (at a
    /// cgroup's memory limit, rather than the sandbox's init).
    pub prefer_oom_kill: bool,
    pub uid: u32,
    pub gid: u32,
    /// Namespaces and a mount tree; `false` is Landlock-only mode.
    pub namespaces: bool,
    /// Host unix sockets the supervisor lets the command connect to
    /// (`network.unix_sockets`), as paths in the sandbox's tree.
    pub unix_sockets: Vec<PathBuf>,
    /// Deny globs the supervisor holds (the filter then holds file calls).
    pub guarded_globs: Vec<crate::supervisor::files::GuardedGlob>,
    /// The command leads a new session whose controlling terminal is its
    /// stdin (a PTY the caller made): job control and `^C` work inside.
    pub controlling_tty: bool,
}

/// Why a run could not start, or ended badly.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("failed to {action}: {source}")]
    Os {
        action: &'static str,
        source: io::Error,
    },
    #[error("{0}")]
    Setup(String),
    #[error("command not found: {command}")]
    NotFound { command: String },
    #[error("command not executable: {command}: {source}")]
    NotExecutable { command: String, source: io::Error },
    #[error("stockade must start sandboxes from a single-threaded process ({threads} threads)")]
    Threads { threads: usize },
}

fn os(action: &'static str) -> impl FnOnce(io::Error) -> SpawnError {
    move |source| SpawnError::Os { action, source }
}

/// A close-on-exec pipe: (read end, write end).
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two ints for pipe2 to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 returned two new fds that nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The command exited with this code.
    Exited(i32),
    /// The command died of this signal.
    Signaled(i32),
    /// `--timeout` expired; the tree was killed.
    TimedOut,
    /// stockade was asked to stop (this signal); the tree was killed.
    Interrupted(i32),
}

/// How a run ended, and what the sandbox refused on the way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finished {
    pub outcome: Outcome,
    pub denials: crate::supervisor::Denials,
}

impl Outcome {
    /// The exit status `stockade run` uses (SPEC section 2).
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Exited(code) => code,
            Outcome::Signaled(signal) | Outcome::Interrupted(signal) => 128 + signal,
            Outcome::TimedOut => 124,
        }
    }
}

/// A running sandbox.
#[derive(Debug)]
pub struct Sandbox {
    pid: libc::pid_t,
    pidfd: OwnedFd,
    /// The sandbox init's reports (namespace mode); `None` in Landlock-only
    /// mode, where `pid` is the command itself and stockade the subreaper.
    report: Option<File>,
    /// Where forwarded signals go: `pid`, or (bwrap) the sandbox's init.
    signal_pid: libc::pid_t,
    /// The egress proxy's listeners, until stockade's proxy takes them.
    egress: Option<crate::egress::EgressListeners>,
}

fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(1)
}

/// Starts the command; returns once it is running (its exec succeeded), or
/// with the reason it could not start.
pub fn spawn(spec: &Spec) -> Result<Sandbox, SpawnError> {
    let threads = thread_count();
    if threads > 1 {
        return Err(SpawnError::Threads { threads });
    }
    let (sync_read, sync_write) = pipe().map_err(os("create a pipe"))?;
    let (report_read, report_write) = pipe().map_err(os("create a pipe"))?;
    let (egress_read, egress_write) = spec
        .egress
        .then(crate::supervisor::fdpass::pair)
        .transpose()
        .map_err(os("create a socket pair"))?
        .unzip();
    let mut flags =
        libc::CLONE_NEWUSER | libc::CLONE_NEWNS | libc::CLONE_NEWPID | libc::CLONE_NEWIPC;
    if spec.network_namespace {
        flags |= libc::CLONE_NEWNET;
    }
    // Signals for stockade to handle are blocked from before the clone, so
    // none is lost; the children set their own masks.
    let blocked = blocked_set();
    // SAFETY: blocked is a valid set.
    unsafe { libc::sigprocmask(libc::SIG_BLOCK, &blocked, std::ptr::null_mut()) };
    // SAFETY: a fork-like clone (no new stack) in a single-threaded process;
    // the child runs init_main, which never returns.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (flags | libc::SIGCHLD) as libc::c_ulong,
            0,
            0,
            0,
            0,
        )
    };
    if pid == 0 {
        drop(sync_write);
        drop(report_read);
        drop(egress_read);
        child::init_main(spec, sync_read, report_write, egress_write);
    }
    if pid < 0 {
        return Err(SpawnError::Os {
            action: "create the sandbox's namespaces",
            source: io::Error::last_os_error(),
        });
    }
    let pid = pid as libc::pid_t;
    drop(sync_read);
    drop(report_write);
    drop(egress_write);
    let kill_on_error = |e: SpawnError| {
        kill_child(pid);
        e
    };
    write_maps(pid, spec.uid, spec.gid)
        .map_err(os("map the user into the sandbox"))
        .map_err(kill_on_error)?;
    release(spec, pid, sync_write)?;
    let pidfd = watch(pid)?;
    let mut sandbox = first_report(spec, pid, pidfd, File::from(report_read), pid)?;
    if let Some(channel) = egress_read {
        // Sent before the command started, so they are waiting.
        match crate::egress::receive(std::os::fd::AsFd::as_fd(&channel)) {
            Ok(listeners) => sandbox.egress = Some(listeners),
            Err(e) => {
                kill_child(pid);
                return Err(SpawnError::Os {
                    action: "receive the egress proxy's listeners",
                    source: e,
                });
            }
        }
    }
    Ok(sandbox)
}

/// Kills our child `pid` and reaps it (setup failed).
fn kill_child(pid: libc::pid_t) {
    // SAFETY: kill and waitpid on our own child.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        libc::waitpid(pid, std::ptr::null_mut(), 0);
    }
}

/// Moves our child `pid`, waiting on `go`, into the run's cgroups, then
/// lets it go on; kills it if either fails.
fn release(spec: &Spec, pid: libc::pid_t, go: OwnedFd) -> Result<(), SpawnError> {
    let released = join_cgroups(&spec.cgroups, pid)
        .map_err(os("move the sandbox into its cgroups"))
        .and_then(|()| {
            io::Write::write_all(&mut File::from(go), b"1").map_err(os("start the sandbox"))
        });
    released.inspect_err(|_| kill_child(pid))
}

/// A pidfd for our child `pid` (killed if there is none).
fn watch(pid: libc::pid_t) -> Result<OwnedFd, SpawnError> {
    crate::sys::pidfd_open(pid, 0).map_err(|source| {
        kill_child(pid);
        SpawnError::Os {
            action: "watch the sandbox",
            source,
        }
    })
}

/// Reads the sandbox init's first report: the command started (the
/// running sandbox), or why not.
fn first_report(
    spec: &Spec,
    pid: libc::pid_t,
    pidfd: OwnedFd,
    mut report: File,
    signal_pid: libc::pid_t,
) -> Result<Sandbox, SpawnError> {
    let first = Report::read_from(&mut report);
    let sandbox = Sandbox::new(pid, pidfd, report, signal_pid);
    match first {
        Ok(Some(Report::Started)) => Ok(sandbox),
        Ok(Some(Report::SetupFailed(message))) => {
            kill_child(pid);
            Err(SpawnError::Setup(message))
        }
        Ok(Some(Report::ExecFailed(errno))) => {
            let _ = sandbox.wait(None);
            Err(exec_failed(spec, errno))
        }
        Ok(Some(Report::Exited(_) | Report::Denials(_))) | Ok(None) | Err(_) => {
            kill_child(pid);
            Err(SpawnError::Setup(
                "the sandbox ended before the command started (any message from it is above)"
                    .into(),
            ))
        }
    }
}

/// In a forked child: waits for stockade's go-ahead ([`release`]); exits
/// if stockade went away instead.
fn wait_for_go(go: OwnedFd) {
    let mut byte = [0u8; 1];
    if !matches!(io::Read::read(&mut File::from(go), &mut byte), Ok(1)) {
        // SAFETY: _exit in the forked child; stockade reports the failure.
        unsafe { libc::_exit(125) };
    }
}

fn blocked_set() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data initialised by sigemptyset.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: set is valid; the signals are valid numbers.
    unsafe {
        libc::sigemptyset(&mut set);
        for &signal in child::FORWARDED {
            libc::sigaddset(&mut set, signal);
        }
    }
    set
}

/// Moves `pid` into each cgroup; its children are born there.
fn join_cgroups(dirs: &[PathBuf], pid: libc::pid_t) -> io::Result<()> {
    for dir in dirs {
        std::fs::write(dir.join("cgroup.procs"), pid.to_string())?;
    }
    Ok(())
}

fn write_maps(pid: libc::pid_t, uid: u32, gid: u32) -> io::Result<()> {
    let proc = PathBuf::from(format!("/proc/{pid}"));
    std::fs::write(proc.join("setgroups"), "deny")?;
    std::fs::write(proc.join("uid_map"), format!("{uid} {uid} 1"))?;
    std::fs::write(proc.join("gid_map"), format!("{gid} {gid} 1"))
}

/// Grace period between forwarding a stop signal and killing the tree.
const GRACE: Duration = Duration::from_secs(2);

impl Sandbox {
    /// A sandbox whose first process is `pid` (our child, watched through
    /// `pidfd`), reporting on `report`; signals go to `signal_pid`.
    pub(crate) fn new(
        pid: libc::pid_t,
        pidfd: OwnedFd,
        report: File,
        signal_pid: libc::pid_t,
    ) -> Sandbox {
        Sandbox {
            pid,
            pidfd,
            report: Some(report),
            signal_pid,
            egress: None,
        }
    }

    /// The egress proxy's listeners (network `proxy`), once: whoever takes
    /// them serves the proxy on them.
    pub fn take_egress(&mut self) -> Option<crate::egress::EgressListeners> {
        self.egress.take()
    }

    /// Waits for the command to end, for `timeout`, or for a signal to
    /// stockade (forwarded, then the tree is killed after a grace period).
    pub fn wait(mut self, timeout: Option<Duration>) -> Result<Finished, SpawnError> {
        let blocked = blocked_set();
        // SAFETY: blocked is valid; signalfd returns a new fd or -1.
        let sigfd = unsafe { libc::signalfd(-1, &blocked, libc::SFD_CLOEXEC) };
        if sigfd < 0 {
            return Err(SpawnError::Os {
                action: "watch for signals",
                source: io::Error::last_os_error(),
            });
        }
        // SAFETY: signalfd returned a new fd that nothing else owns.
        let sigfd = unsafe { OwnedFd::from_raw_fd(sigfd) };
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut interrupted: Option<(i32, Instant)> = None;
        let mut timed_out = false;
        loop {
            let next = [
                deadline.filter(|_| !timed_out),
                interrupted.map(|(_, at)| at),
            ]
            .into_iter()
            .flatten()
            .min();
            let wait_ms = next.map_or(-1, |at| {
                at.saturating_duration_since(Instant::now())
                    .as_millis()
                    .min(i32::MAX as u128) as i32
            });
            let mut fds = [
                libc::pollfd {
                    fd: self.pidfd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: sigfd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            // SAFETY: fds is a valid array of two pollfd.
            let ready = unsafe { libc::poll(fds.as_mut_ptr(), 2, wait_ms) };
            if ready < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                return Err(SpawnError::Os {
                    action: "wait for the sandbox",
                    source: io::Error::last_os_error(),
                });
            }
            if fds[0].revents != 0 {
                break;
            }
            if fds[1].revents != 0 {
                let (signal, sender) = read_signal(&sigfd);
                if sender != Sender::Terminal {
                    // SAFETY: kill on our own child.
                    unsafe { libc::kill(self.signal_pid, signal) };
                }
                // A Ctrl-C or Ctrl-\ typed at the terminal went to the
                // command as well; it decides (a REPL carries on), as it
                // does for a signal passed through. A signal from another
                // process, or a hangup or terminate, ends the run.
                let ends_run = sender == Sender::Process
                    || (sender == Sender::Terminal
                        && matches!(signal, libc::SIGTERM | libc::SIGHUP));
                if ends_run {
                    interrupted.get_or_insert((signal, Instant::now() + GRACE));
                }
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) && !timed_out {
                timed_out = true;
                self.kill();
            }
            if interrupted.is_some_and(|(_, at)| now >= at) {
                self.kill();
            }
        }
        let mut status = 0;
        // SAFETY: waitpid on our own exited child.
        unsafe { libc::waitpid(self.pid, &mut status, 0) };
        let mut denials = crate::supervisor::Denials::default();
        let reported = match self.report.as_mut() {
            Some(report) => loop {
                match Report::read_from(report) {
                    Ok(Some(Report::Denials(more))) => denials = more,
                    Ok(Some(Report::Exited(status))) => break Some(status),
                    _ => break None,
                }
            },
            // Landlock-only: the command is our own child.
            None => {
                kill_descendants();
                Some(status)
            }
        };
        let outcome = match (timed_out, interrupted, reported) {
            (true, _, _) => Outcome::TimedOut,
            (false, _, Some(status)) if libc::WIFEXITED(status) => {
                Outcome::Exited(libc::WEXITSTATUS(status))
            }
            (false, _, Some(status)) if libc::WIFSIGNALED(status) => {
                Outcome::Signaled(libc::WTERMSIG(status))
            }
            (false, Some((signal, _)), _) => Outcome::Interrupted(signal),
            _ => {
                return Err(SpawnError::Setup(
                    "the sandbox ended without reporting the command's status".into(),
                ));
            }
        };
        Ok(Finished { outcome, denials })
    }

    fn kill(&self) {
        // SAFETY: pidfd_send_signal on our own child's pidfd; killing the
        // sandbox's first process kills its whole pid namespace.
        unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.pidfd.as_raw_fd(),
                libc::SIGKILL,
                0,
                0,
            )
        };
    }
}

/// Landlock-only mode: starts the command as our own child, with stockade
/// as the child subreaper so that every descendant (double-forked,
/// `setsid`) is found and killed when the run ends.
pub fn spawn_plain(spec: &Spec) -> Result<Sandbox, SpawnError> {
    let threads = thread_count();
    if threads > 1 {
        return Err(SpawnError::Threads { threads });
    }
    // SAFETY: prctl with integer arguments.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong) } != 0 {
        return Err(SpawnError::Os {
            action: "become the subreaper",
            source: io::Error::last_os_error(),
        });
    }
    let prepared = child::prepare_landlock(spec).map_err(SpawnError::Setup)?;
    let (exec_read, exec_write) = pipe().map_err(os("create a pipe"))?;
    // The command waits for its cgroups before it runs anything.
    let (go_read, go_write) = pipe().map_err(os("create a pipe"))?;
    let blocked = blocked_set();
    // SAFETY: blocked is a valid set.
    unsafe { libc::sigprocmask(libc::SIG_BLOCK, &blocked, std::ptr::null_mut()) };
    // SAFETY: fork in a single-threaded process; the child ends in execve
    // or _exit (command_main).
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        drop(exec_read);
        drop(go_write);
        // SAFETY: prctl/setpgid with integer arguments: the command dies
        // with stockade and leads its own process group (for killpg).
        unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
            // With a controlling terminal the command leads a session of
            // its own instead (setsid fails for a group leader).
            if !spec.controlling_tty {
                libc::setpgid(0, 0);
            }
        }
        wait_for_go(go_read);
        child::command_main(spec, prepared, exec_write, None);
    }
    if pid < 0 {
        return Err(SpawnError::Os {
            action: "start the command",
            source: io::Error::last_os_error(),
        });
    }
    drop(prepared);
    drop(exec_write);
    drop(go_read);
    release(spec, pid, go_write)?;
    let pidfd = watch(pid)?;
    let sandbox = Sandbox {
        pid,
        pidfd,
        report: None,
        signal_pid: pid,
        egress: None,
    };
    let mut errno = [0u8; 4];
    match io::Read::read(&mut File::from(exec_read), &mut errno) {
        Ok(4) => {
            let errno = i32::from_le_bytes(errno);
            let _ = sandbox.wait(None);
            Err(exec_failed(spec, errno))
        }
        _ => Ok(sandbox),
    }
}

/// The error for a command whose exec failed with `errno` (-1: its process
/// could not be set up, already reported on stderr).
fn exec_failed(spec: &Spec, errno: i32) -> SpawnError {
    let command = spec.argv[0].to_string_lossy().into_owned();
    match errno {
        libc::ENOENT => SpawnError::NotFound { command },
        -1 => SpawnError::Setup("the command's process could not be set up (see above)".into()),
        errno => SpawnError::NotExecutable {
            command,
            source: io::Error::from_raw_os_error(errno),
        },
    }
}

/// Kills and reaps every remaining descendant (they were reparented to
/// stockade, the subreaper), until none is left.
fn kill_descendants() {
    for _ in 0..1000 {
        let children: Vec<libc::pid_t> = std::fs::read_dir("/proc/self/task")
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
            .flat_map(|list| {
                list.split_whitespace()
                    .filter_map(|p| p.parse().ok())
                    .collect::<Vec<_>>()
            })
            .collect();
        if children.is_empty() {
            return;
        }
        for pid in &children {
            // SAFETY: kill on a child of ours.
            unsafe { libc::kill(*pid, libc::SIGKILL) };
        }
        for _ in &children {
            // SAFETY: waitpid with a null status pointer.
            unsafe { libc::waitpid(-1, std::ptr::null_mut(), 0) };
        }
    }
}

/// The `sigqueue` value that asks a waiting stockade to pass a signal to
/// the command without ending the run (a session's `signal`): see
/// [`pass_signal`].
pub const PASS_THROUGH: i32 = 0x5354_4b44;

/// Sends `signal` to the stockade process `pid` (which waits for a
/// sandbox) for it to pass to the command: the run goes on, unlike a plain
/// `kill`, after which stockade ends the run. Only [`child::FORWARDED`]
/// signals are passed.
pub fn pass_signal(pid: libc::pid_t, signal: i32) -> io::Result<()> {
    let value = libc::sigval {
        sival_ptr: PASS_THROUGH as usize as *mut libc::c_void,
    };
    // SAFETY: sigqueue with a plain integer value; no memory is shared.
    if unsafe { libc::sigqueue(pid, signal, value) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Holds the signals a run forwards (blocked, so pending until the run
/// reads them) from now on: a process that will start a sandbox calls it
/// first thing, so that a `SIGTERM` that arrives before the sandbox exists
/// ends the run with a record instead of killing the process silently.
pub fn hold_forwarded_signals() {
    let blocked = blocked_set();
    // SAFETY: blocked is a valid set.
    unsafe { libc::sigprocmask(libc::SIG_BLOCK, &blocked, std::ptr::null_mut()) };
}

/// The signals [`pass_signal`] passes, as names (`SIGINT`, ...).
pub fn passable_signals() -> &'static [libc::c_int] {
    child::FORWARDED
}

/// Who sent a signal stockade received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sender {
    /// The terminal (or the kernel), which signals the command directly as
    /// well.
    Terminal,
    /// Another process, asking stockade to end the run.
    Process,
    /// Another process, through [`pass_signal`].
    PassThrough,
}

/// Reads one signal from a signalfd: the number, and who sent it.
fn read_signal(fd: &OwnedFd) -> (i32, Sender) {
    // SAFETY: signalfd_siginfo is plain data.
    let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::signalfd_siginfo>();
    // SAFETY: info is a writable buffer of `size` bytes.
    let n = unsafe {
        libc::read(
            fd.as_raw_fd(),
            (&mut info as *mut libc::signalfd_siginfo).cast(),
            size,
        )
    };
    if n as usize != size {
        return (libc::SIGTERM, Sender::Process);
    }
    let sender = match info.ssi_code {
        libc::SI_QUEUE if info.ssi_int == PASS_THROUGH => Sender::PassThrough,
        libc::SI_USER | libc::SI_QUEUE => Sender::Process,
        _ => Sender::Terminal,
    };
    (info.ssi_signo as i32, sender)
}
