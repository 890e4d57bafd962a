//! `connect` on the command's behalf.
//!
//! The filter holds every `connect` (seccomp cannot read the address it
//! points to). The supervisor copies the address out of the caller's
//! memory once, takes a duplicate of the caller's socket (`pidfd_getfd`)
//! and makes the call itself, on its own copy, so nothing the caller
//! changes afterwards (another thread rewriting the address, `dup2` over
//! the descriptor) can alter what was decided. The caller's syscall
//! returns the supervisor's result.
//!
//! * A **pathname unix address** is resolved the way the kernel would for
//!   the caller, from its working directory, with the caller's uid and
//!   groups (the working thread lowers its capabilities first), to a file
//!   descriptor. If that file is a socket, the call goes ahead only for a
//!   socket bound inside the sandbox ([`super::diag`]) or one the policy
//!   names in `unix_sockets`; it then connects to that exact file through
//!   `/proc/self/fd/N`, so swapping the path afterwards changes nothing.
//!   Anything else is refused with `EACCES` and a denial. Magic links
//!   (`/proc/<pid>/fd/N`) are not followed (`ELOOP`): they would name the
//!   supervisor's descriptors, not the caller's.
//! * **Every other address** (abstract and unnamed unix, inet, ...) is
//!   connected as given: the supervisor lives in the sandbox's network
//!   namespace, which confines them exactly as it confines the command.
//!
//! What changes for the command: a server accepting the connection sees
//! the supervisor (the sandbox's pid 1) as its peer's pid in
//! `SO_PEERCRED`; uid and gid are the command's.

use super::caller::{errno, open_proc_link, owned, pidfd_getfd, pidfd_open, read_memory};
use super::diag::{self, BoundFile};
use super::notify::Notification;
use std::ffi::CString;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

/// `sizeof(struct sockaddr_storage)`: the kernel refuses longer addresses.
const MAX_ADDRESS: usize = 128;

/// What the caller asked to connect to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Address<'a> {
    /// A pathname unix socket (the bytes before the first NUL).
    Path(&'a [u8]),
    /// Anything else: connected as given.
    Other,
}

/// Classifies a copied `sockaddr`.
pub(crate) fn classify(address: &[u8]) -> Address<'_> {
    let family = address.get(..2).map(|f| u16::from_ne_bytes([f[0], f[1]]));
    match (family, address.get(2)) {
        (Some(family), Some(&first)) if family == libc::AF_UNIX as u16 && first != 0 => {
            let path = &address[2..];
            let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
            Address::Path(&path[..end])
        }
        _ => Address::Other,
    }
}

/// The answer to one held `connect`, and the denial to report if it was
/// refused: the target and the rule.
pub(crate) struct Answer {
    pub(crate) result: Result<i64, i32>,
    pub(crate) refused: Option<(String, &'static str)>,
}

impl Answer {
    fn errno(errno: i32) -> Answer {
        Answer {
            result: Err(errno),
            refused: None,
        }
    }
}

/// The sockets a sandbox may reach besides its own: the policy's
/// `unix_sockets`, by device and inode, found when the sandbox started;
/// and, when held, the only TCP ports it may connect to.
#[derive(Debug, Default)]
pub(crate) struct Allowed {
    files: Vec<(u64, u64)>,
    /// `Some`: TCP connects go only to these ports (network `proxy`
    /// without `allow_local_binding`: the proxy's). The command's Landlock
    /// rules say the same, but the supervisor makes its connects.
    tcp_ports: Option<Vec<u16>>,
}

impl Allowed {
    /// The files the paths name now (inside the sandbox's tree); a path
    /// that does not exist allows nothing.
    pub(crate) fn new(paths: &[std::path::PathBuf], tcp_ports: Option<Vec<u16>>) -> Allowed {
        use std::os::unix::fs::MetadataExt;
        let files = paths
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| (m.dev(), m.ino()))
            .collect();
        Allowed { files, tcp_ports }
    }

    /// Whether a connect of a stream socket to this inet address is
    /// refused: its port is not one of the held TCP ports.
    fn refuses_tcp(&self, address: &[u8]) -> Option<String> {
        let ports = self.tcp_ports.as_ref()?;
        let family = i32::from(u16::from_ne_bytes([*address.first()?, *address.get(1)?]));
        let port = u16::from_be_bytes([*address.get(2)?, *address.get(3)?]);
        let shown = match family {
            libc::AF_INET => {
                let ip = address.get(4..8)?;
                format!("{}.{}.{}.{}:{port}", ip[0], ip[1], ip[2], ip[3])
            }
            libc::AF_INET6 => {
                let ip: [u8; 16] = address.get(8..24)?.try_into().ok()?;
                format!("[{}]:{port}", std::net::Ipv6Addr::from(ip))
            }
            _ => return None,
        };
        (!ports.contains(&port)).then_some(shown)
    }

    fn contains(&self, stat: &libc::stat) -> bool {
        self.files.contains(&(stat.st_dev, stat.st_ino))
    }
}

/// Decides and makes one held `connect`, on a worker thread of its own:
/// it reads the caller's memory and descriptors with the thread's
/// capabilities, then lowers them before acting for the caller.
pub(crate) fn handle(listener: BorrowedFd<'_>, call: &Notification, allowed: &Allowed) -> Answer {
    if i64::from(call.nr) != libc::SYS_connect {
        return Answer::errno(libc::ENOSYS);
    }
    if let Err(e) = crate::spawn::raise_effective_capabilities() {
        return Answer::errno(e.raw_os_error().unwrap_or(libc::EPERM));
    }
    let Ok(fd) = i32::try_from(call.args[0]) else {
        return Answer::errno(libc::EBADF);
    };
    let len = call.args[2] as i32;
    let Ok(len) = usize::try_from(len) else {
        return Answer::errno(libc::EINVAL);
    };
    if len > MAX_ADDRESS {
        return Answer::errno(libc::EINVAL);
    }
    let mut address = [0u8; MAX_ADDRESS];
    if let Err(errno) = read_memory(call.pid, call.args[1], &mut address[..len]) {
        return Answer::errno(errno);
    }
    let address = &address[..len];
    let pidfd = match pidfd_open(call.pid) {
        Ok(pidfd) => pidfd,
        Err(errno) => return Answer::errno(errno),
    };
    let socket = match pidfd_getfd(&pidfd, fd) {
        Ok(socket) => socket,
        Err(errno) => return Answer::errno(errno),
    };
    // What the kernel checks before the address: a socket, and (for a
    // unix address to mean a file) a unix one.
    let target = match socket_domain(&socket) {
        Ok(libc::AF_UNIX) => classify(address),
        Ok(libc::AF_INET | libc::AF_INET6) if socket_type(&socket) == Ok(libc::SOCK_STREAM) => {
            if let Some(shown) = allowed.refuses_tcp(address) {
                return Answer {
                    result: Err(libc::EACCES),
                    refused: Some((shown, "allow_local_binding")),
                };
            }
            Address::Other
        }
        Ok(_) => Address::Other,
        Err(errno) => return Answer::errno(errno),
    };
    let cwd = match target {
        Address::Path(_) => match open_proc_link(call.pid, "cwd") {
            Ok(cwd) => Some(cwd),
            Err(errno) => return Answer::errno(errno),
        },
        Address::Other => None,
    };
    if !super::notify::still_held(listener, call.id) {
        // The caller is gone; its pid, memory and descriptor may be
        // another process's by now.
        return Answer::errno(libc::ENOENT);
    }
    if let Err(e) = crate::spawn::lower_effective_capabilities() {
        return Answer::errno(e.raw_os_error().unwrap_or(libc::EPERM));
    }
    match (target, cwd) {
        (Address::Path(path), Some(cwd)) => connect_path(&socket, &cwd, path, allowed),
        _ => Answer {
            result: connect(&socket, address),
            refused: None,
        },
    }
}

/// A pathname address: resolve, check, connect to the resolved file.
fn connect_path(socket: &OwnedFd, cwd: &OwnedFd, path: &[u8], allowed: &Allowed) -> Answer {
    let shown = String::from_utf8_lossy(path).into_owned();
    let file = match open_path(cwd, path) {
        Ok(file) => file,
        Err(errno) => return Answer::errno(errno),
    };
    let stat = match fstat(&file) {
        Ok(stat) => stat,
        Err(errno) => return Answer::errno(errno),
    };
    if stat.st_mode & libc::S_IFMT != libc::S_IFSOCK {
        // What the kernel says for a path that is not a socket.
        return Answer::errno(libc::ECONNREFUSED);
    }
    let bound_here = || {
        let Some(file) = BoundFile::of_stat(stat.st_dev, stat.st_ino) else {
            return false;
        };
        // Unreadable diagnostics refuse: the socket is not known to be
        // the sandbox's.
        diag::bound_sockets().is_ok_and(|bound| bound.contains(&file))
    };
    if !allowed.contains(&stat) && !bound_here() {
        return Answer {
            result: Err(libc::EACCES),
            refused: Some((shown, "network.unix_sockets")),
        };
    }
    let via = format!("/proc/self/fd/{}", file.as_raw_fd());
    let mut address = (libc::AF_UNIX as u16).to_ne_bytes().to_vec();
    address.extend_from_slice(via.as_bytes());
    address.push(0);
    Answer {
        result: connect(socket, &address),
        refused: None,
    }
}

/// `openat2(cwd, path, O_PATH, RESOLVE_NO_MAGICLINKS)`: the file `connect`
/// would reach, following ordinary symlinks as it does.
fn open_path(cwd: &OwnedFd, path: &[u8]) -> Result<OwnedFd, i32> {
    let path = CString::new(path).map_err(|_| libc::EINVAL)?;
    // SAFETY: open_how is plain data.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_PATH | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: path and how are valid for the call; the size is how's.
    owned(unsafe {
        libc::syscall(
            libc::SYS_openat2,
            cwd.as_raw_fd(),
            path.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    })
}

/// The socket's address family (`SO_DOMAIN`); `ENOTSOCK` for another file.
fn socket_domain(socket: &OwnedFd) -> Result<i32, i32> {
    socket_option(socket, libc::SO_DOMAIN)
}

/// The socket's type (`SO_TYPE`: `SOCK_STREAM`, ...).
fn socket_type(socket: &OwnedFd) -> Result<i32, i32> {
    socket_option(socket, libc::SO_TYPE)
}

/// An integer `SOL_SOCKET` option.
fn socket_option(socket: &OwnedFd, option: libc::c_int) -> Result<i32, i32> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: value and len are valid for writes of their sizes.
    let rc = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            option,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    match rc {
        0 => Ok(value),
        _ => Err(errno()),
    }
}

fn fstat(file: &OwnedFd) -> Result<libc::stat, i32> {
    // SAFETY: stat is plain data filled by fstat.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: stat is valid for writes for the call.
    if unsafe { libc::fstat(file.as_raw_fd(), &mut stat) } != 0 {
        return Err(errno());
    }
    Ok(stat)
}

/// `connect(socket, address)`; `Ok(0)` or the errno, as the caller's call
/// would return them.
fn connect(socket: &OwnedFd, address: &[u8]) -> Result<i64, i32> {
    // SAFETY: address is valid for reads of its length for the call.
    let rc = unsafe {
        libc::connect(
            socket.as_raw_fd(),
            address.as_ptr().cast(),
            address.len() as libc::socklen_t,
        )
    };
    match rc {
        0 => Ok(0),
        _ => Err(errno()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix(path: &[u8]) -> Vec<u8> {
        let mut a = (libc::AF_UNIX as u16).to_ne_bytes().to_vec();
        a.extend_from_slice(path);
        a
    }

    #[test]
    fn pathname_addresses_are_cut_at_the_first_nul() {
        assert_eq!(
            classify(&unix(b"/run/docker.sock\0")),
            Address::Path(b"/run/docker.sock")
        );
        assert_eq!(classify(&unix(b"rel/s")), Address::Path(b"rel/s"));
        assert_eq!(classify(&unix(b"/a\0/b")), Address::Path(b"/a"));
    }

    #[test]
    fn abstract_unnamed_inet_and_short_addresses_are_other() {
        assert_eq!(classify(&unix(b"\0abstract")), Address::Other);
        assert_eq!(classify(&unix(b"")), Address::Other);
        assert_eq!(classify(&[]), Address::Other);
        assert_eq!(classify(&[1]), Address::Other);
        let mut inet = (libc::AF_INET as u16).to_ne_bytes().to_vec();
        inet.extend_from_slice(b"/not/a/path");
        assert_eq!(classify(&inet), Address::Other);
    }
}
