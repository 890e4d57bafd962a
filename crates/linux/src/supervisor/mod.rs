//! The supervisor: the sandbox's init answering the syscalls the seccomp
//! filter holds for it (`SECCOMP_RET_USER_NOTIF`). Today that is `connect`
//! in network `off` and `proxy`: no host unix socket (docker.sock, an
//! ssh-agent, D-Bus) is reachable unless the policy's `unix_sockets` names
//! it, while the command's own sockets work as usual.
//!
//! Why a supervisor: a pathname unix socket is found by its file, so
//! neither the network namespace nor a read-only mount stops `connect`,
//! and Landlock (up to ABI 7) has no right for it. seccomp sees only the
//! pointer to the address. So the filter holds the call, and the init, which
//! can read the caller's memory and descriptors, decides and connects on
//! its behalf ([`connect`]). Datagram unix sockets, which can send to any
//! path without `connect`, are refused by the filter itself.
//!
//! # Process structure
//!
//! The command's process installs the filter right before `execve` and
//! sends the listener to the init over a socket pair ([`fdpass`]). The
//! init polls it along with its signals; each held call gets a short-lived
//! thread, so a `connect` that blocks (a full backlog) holds up nothing
//! else. Threads lower their capabilities before acting for the command.
//! Refusals are kept (at most [`MAX_DENIALS`]) and reported to stockade
//! with the command's status.
//!
//! # Security
//!
//! The filter is installed with `WAIT_KILLABLE_RECV` so that a held call is
//! not restarted behind the supervisor's back. The listener never reaches
//! the command: it is close-on-exec and the command's process closes it
//! before `execve`; without the init to receive it, the command's process
//! fails instead of running with calls nobody answers.

pub(crate) mod caller;
pub(crate) mod connect;
pub(crate) mod diag;
pub(crate) mod fdpass;
pub mod files;
mod notify;

use serde::{Deserialize, Serialize};
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Refusals kept per run; later ones are only counted.
pub const MAX_DENIALS: usize = 64;

pub use stockade_policy::Denial;

/// The denials of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Denials {
    /// The first [`MAX_DENIALS`].
    pub list: Vec<Denial>,
    /// How many more there were.
    pub dropped: u64,
}

impl Denials {
    fn push(&mut self, denial: Denial) {
        if self.list.len() < MAX_DENIALS {
            self.list.push(denial);
        } else {
            self.dropped += 1;
        }
    }
}

struct Shared {
    listener: OwnedFd,
    allowed: connect::Allowed,
    /// The deny globs held here, when there are any ([`files`]).
    guard: Option<files::guard::Guard>,
    denials: Mutex<Denials>,
    /// Workers waiting on the listener.
    waiting: AtomicUsize,
}

/// What the supervisor needs to hold deny globs. The init has taken the
/// command's Landlock rules before (see `spawn::child`), so its threads act
/// within them.
pub(crate) struct FileGuard {
    pub(crate) globs: Vec<files::GuardedGlob>,
}

/// The init's side of the filter: the listener and what it decided.
pub(crate) struct Supervisor {
    shared: Arc<Shared>,
}

impl Supervisor {
    /// Supervises the calls `listener` holds; `unix_sockets` are the
    /// policy's host sockets, as paths in the sandbox's tree; `files`, the
    /// deny globs to hold, if the filter holds file calls.
    ///
    /// # Errors
    ///
    /// No worker thread could be started, or the first could not take the
    /// command's Landlock rules: nobody would answer the calls, or not
    /// within the command's rights.
    pub(crate) fn new(
        listener: OwnedFd,
        unix_sockets: &[PathBuf],
        tcp_ports: Option<Vec<u16>>,
        files: Option<FileGuard>,
    ) -> std::io::Result<Supervisor> {
        let guard = match files {
            Some(files) => {
                Some(files::guard::Guard::new(&files.globs).map_err(std::io::Error::other)?)
            }
            None => None,
        };
        let supervisor = Supervisor {
            shared: Arc::new(Shared {
                listener,
                allowed: connect::Allowed::new(unix_sockets, tcp_ports),
                guard,
                denials: Mutex::new(Denials::default()),
                waiting: AtomicUsize::new(0),
            }),
        };
        match add_worker(&supervisor.shared) {
            true => Ok(supervisor),
            false => Err(std::io::Error::other("no worker thread could be started")),
        }
    }

    /// The refusals so far.
    pub(crate) fn denials(&self) -> Denials {
        self.shared
            .denials
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default()
    }
}

/// Starts a worker, counted as waiting from the start so that two workers
/// taking calls at once do not both start another. `false` when no thread
/// can be made (the sandbox is at its process limit, which counts threads):
/// the workers there are serve on.
fn add_worker(shared: &Arc<Shared>) -> bool {
    // A worker that could not get its own umask (out of memory) still
    // serves: without it nobody might answer; the umask it sets is then
    // shared with the init, which creates no files.
    add_worker_with(shared, || {
        let _ = own_file_system_info();
        true
    })
}

/// [`add_worker`], running `setup` on the new thread first; a worker whose
/// setup fails ends without serving.
fn add_worker_with(shared: &Arc<Shared>, setup: impl FnOnce() -> bool + Send + 'static) -> bool {
    shared.waiting.fetch_add(1, Ordering::SeqCst);
    let worker = Arc::clone(shared);
    let spawned = std::thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(move || {
            if setup() {
                work(&worker);
            } else {
                worker.waiting.fetch_sub(1, Ordering::SeqCst);
            }
        });
    if spawned.is_err() {
        shared.waiting.fetch_sub(1, Ordering::SeqCst);
    }
    spawned.is_ok()
}

/// Gives the calling thread its own working directory and umask (it sets
/// the umask to each caller's before creating a file for it).
fn own_file_system_info() -> std::io::Result<()> {
    // SAFETY: unshare with an integer flag; CLONE_FS affects this thread.
    match unsafe { libc::unshare(libc::CLONE_FS) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

/// A worker: takes held calls from the listener and answers them, one at a
/// time, until no process is left under the filter.
fn work(shared: &Arc<Shared>) {
    loop {
        let received = match notify::wait(shared.listener.as_fd()) {
            notify::Waited::Held => notify::receive(shared.listener.as_fd()),
            // Every process under the filter has exited: a receive would
            // fail at once, again and again.
            notify::Waited::Gone => return,
        };
        let before = shared.waiting.fetch_sub(1, Ordering::SeqCst);
        let Ok(call) = received else {
            // Another worker took the call, or its caller died meanwhile.
            shared.waiting.fetch_add(1, Ordering::SeqCst);
            continue;
        };
        if before == 1 {
            add_worker(shared);
        }
        answer(shared, &call);
        shared.waiting.fetch_add(1, Ordering::SeqCst);
    }
}

fn answer(shared: &Shared, call: &notify::Notification) {
    let listener = shared.listener.as_fd();
    if i64::from(call.nr) == libc::SYS_connect {
        let answer = connect::handle(listener, call, &shared.allowed);
        if let Some((target, rule)) = answer.refused {
            shared.deny(Denial {
                kind: "network".into(),
                target,
                access: "connect".into(),
                rule: rule.into(),
            });
        }
        return notify::respond(listener, call.id, answer.result);
    }
    let Some(guard) = &shared.guard else {
        return notify::respond(listener, call.id, Err(libc::ENOSYS));
    };
    let (reply, refused) = files::handle(listener, call, guard);
    if let Some(refused) = refused {
        shared.deny(Denial {
            kind: "filesystem".into(),
            target: refused.path,
            access: refused.access.into(),
            rule: format!("none glob {}", refused.glob),
        });
    }
    match reply {
        files::Reply::Value(result) => notify::respond(listener, call.id, result),
        files::Reply::Fd { file, cloexec } => {
            if let Err(errno) = notify::respond_fd(listener, call.id, file.as_fd(), cloexec) {
                notify::respond(listener, call.id, Err(errno));
            }
        }
    }
}

impl Shared {
    fn deny(&self, denial: Denial) {
        if let Ok(mut denials) = self.denials.lock() {
            denials.push(denial);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seccomp::{SeccompOptions, SocketPolicy, compile, install, rules};

    #[test]
    fn denials_past_the_bound_are_counted() {
        let mut denials = Denials::default();
        for i in 0..MAX_DENIALS + 5 {
            denials.push(Denial {
                kind: "network".into(),
                target: format!("/s{i}"),
                access: "connect".into(),
                rule: "network.unix_sockets".into(),
            });
        }
        assert_eq!(denials.list.len(), MAX_DENIALS);
        assert_eq!(denials.dropped, 5);
    }

    /// The filter holds `connect` until the listener answers: a grandchild's
    /// `connect(-1, NULL, 0)` (`EBADF` from the kernel) gets the answer the
    /// test gives instead.
    #[test]
    fn connect_waits_for_the_supervisors_answer() {
        if !crate::probe::seccomp_filters_available() {
            return crate::skip_test("seccomp filters are not available");
        }
        let options = SeccompOptions {
            sockets: SocketPolicy::UnixOnly,
            supervise_connect: true,
            supervise_files: false,
        };
        let filter = compile(&rules(&options)).unwrap();
        // SAFETY: the child makes only raw syscalls and ioctls (no
        // allocation: the filter was compiled before) and leaves by _exit.
        let child = unsafe { libc::fork() };
        if child == 0 {
            let code = match install(&filter) {
                Ok(Some(listener)) => held_connect(&listener),
                _ => 90,
            };
            // SAFETY: _exit ends the child without the harness's handlers.
            unsafe { libc::_exit(code) }
        }
        let mut status = 0;
        // SAFETY: our own child; status is a valid out-pointer.
        unsafe { libc::waitpid(child, &mut status, 0) };
        assert!(libc::WIFEXITED(status), "status {status:#x}");
        assert_eq!(libc::WEXITSTATUS(status), 0, "see held_connect's codes");
    }

    /// In the filtered child: 0 when the grandchild's connect returned the
    /// supervisor's ECONNABORTED.
    fn held_connect(listener: &OwnedFd) -> i32 {
        // SAFETY: fork in a single-threaded child; the grandchild makes one
        // raw syscall and leaves by _exit.
        let grandchild = unsafe { libc::fork() };
        if grandchild == 0 {
            // SAFETY: connect with a null address and length 0.
            let rc = unsafe { libc::connect(-1, std::ptr::null(), 0) };
            let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
            // SAFETY: as above.
            unsafe { libc::_exit(if rc == 0 { 0 } else { errno }) }
        }
        let Ok(call) = notify::receive(listener.as_fd()) else {
            return 91;
        };
        if i64::from(call.nr) != libc::SYS_connect || call.args[0] as i32 != -1 {
            return 92;
        }
        notify::respond(listener.as_fd(), call.id, Err(libc::ECONNABORTED));
        let mut status = 0;
        // SAFETY: our own child; status is a valid out-pointer.
        unsafe { libc::waitpid(grandchild, &mut status, 0) };
        match libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == libc::ECONNABORTED {
            true => 0,
            false => 93,
        }
    }
}
