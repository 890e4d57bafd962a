//! Resolving a path the way the kernel would for the caller, one component
//! at a time, from descriptors of the caller's own tree (its root, its
//! working directory, its directory descriptors), with the worker's
//! capabilities lowered, so every lookup is checked against the caller's
//! uid and groups.
//!
//! Why not one `openat`: a path may pass through `/proc/self` (`/dev/stdout`
//! is `/proc/self/fd/1`), which names whoever resolves it. The walk reads
//! each symbolic link itself; `self` and `thread-self` at the root of
//! procfs become the caller's own ids, and the magic links under
//! `/proc/<pid>` (`fd/N`, `cwd`, `root`, `exe`) are followed only for the
//! caller's own process, where they name the same files for the worker as
//! for the caller. Other processes' magic links are refused (`EACCES`).

use super::super::caller::{errno, owned, thread_group};
use std::collections::VecDeque;
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};

/// The kernel's limit on symbolic links followed in one path (`ELOOP`).
const MAX_LINKS: u32 = 40;

/// `PROC_SUPER_MAGIC`.
const PROC_SUPER_MAGIC: i64 = 0x9fa0;

/// Where a path leads.
#[derive(Debug)]
pub(crate) enum Target {
    /// Entry `name` of directory `dir` (which may not exist yet). `name`
    /// is never empty; it is `.` or `..` when the path ends so. `slash`:
    /// the path ended in `/`.
    Entry {
        dir: OwnedFd,
        name: Vec<u8>,
        slash: bool,
    },
    /// A file reached through a magic link of the caller's own `/proc`
    /// directory (an `O_PATH` descriptor).
    Object(OwnedFd),
}

impl Target {
    /// The name to pass to a `*at` call on `dir`, with the path's trailing
    /// slash kept (it makes the kernel insist on a directory).
    pub(crate) fn at_name(name: &[u8], slash: bool) -> Result<CString, i32> {
        let mut name = name.to_vec();
        if slash {
            name.push(b'/');
        }
        CString::new(name).map_err(|_| libc::EINVAL)
    }
}

/// One resolution for one caller.
pub(crate) struct Walk<'a> {
    /// The calling thread.
    tid: u32,
    /// Its root (where absolute paths and absolute links start).
    root: &'a OwnedFd,
    links: u32,
}

enum Link {
    /// An ordinary link's target, to be walked.
    Text(Vec<u8>),
    /// A magic link's file.
    Object(OwnedFd),
}

impl<'a> Walk<'a> {
    pub(crate) fn new(tid: u32, root: &'a OwnedFd) -> Walk<'a> {
        Walk {
            tid,
            root,
            links: 0,
        }
    }

    /// Resolves `path` from `start` (ignored for an absolute path). The
    /// last component is followed when it is a symbolic link and `follow`
    /// is set (or the path ends in `/`); otherwise, and when it does not
    /// exist, it comes back as an [`Target::Entry`].
    pub(crate) fn resolve(
        &mut self,
        start: OwnedFd,
        path: &[u8],
        follow: bool,
    ) -> Result<Target, i32> {
        if path.is_empty() {
            return Err(libc::ENOENT);
        }
        let slash = path.ends_with(b"/");
        let mut dir = match path[0] {
            b'/' => dup(self.root)?,
            _ => start,
        };
        let mut queue = components(path);
        loop {
            let Some(name) = queue.pop_front() else {
                return Ok(Target::Entry {
                    dir,
                    name: b".".to_vec(),
                    slash,
                });
            };
            let last = queue.is_empty();
            if last && (name == b"." || name == b"..") {
                return Ok(Target::Entry { dir, name, slash });
            }
            if name == b"." {
                continue;
            }
            if name == b".." {
                dir = openat(&dir, b"..", libc::O_PATH | libc::O_DIRECTORY)?;
                continue;
            }
            if last && !(follow || slash) {
                return Ok(Target::Entry { dir, name, slash });
            }
            let next = match openat(&dir, &name, libc::O_PATH | libc::O_NOFOLLOW) {
                Err(libc::ENOENT) if last => return Ok(Target::Entry { dir, name, slash }),
                other => other?,
            };
            let mode = fstat(&next)?.st_mode & libc::S_IFMT;
            if mode == libc::S_IFLNK {
                self.links += 1;
                if self.links > MAX_LINKS {
                    return Err(libc::ELOOP);
                }
                match self.link(&dir, &name, next)? {
                    Link::Text(target) if target.is_empty() => return Err(libc::ENOENT),
                    Link::Text(target) => {
                        if target[0] == b'/' {
                            dir = dup(self.root)?;
                        }
                        for part in components(&target).into_iter().rev() {
                            queue.push_front(part);
                        }
                        if queue.is_empty() {
                            queue.push_back(b".".to_vec());
                        }
                    }
                    Link::Object(object) if last => return Ok(Target::Object(object)),
                    Link::Object(object) => dir = object,
                }
            } else if last {
                return Ok(Target::Entry { dir, name, slash });
            } else if mode == libc::S_IFDIR {
                dir = next;
            } else {
                return Err(libc::ENOTDIR);
            }
        }
    }

    /// Reads symbolic link `name` of `dir` (open as `link`) as the caller
    /// would see it.
    fn link(&self, dir: &OwnedFd, name: &[u8], link: OwnedFd) -> Result<Link, i32> {
        if !on_procfs(dir)? {
            return readlink(&link).map(Link::Text);
        }
        if fstat(dir)?.st_ino == 1 {
            // The root of procfs: its links are ordinary, but `self` and
            // `thread-self` name whoever reads them.
            let tgid = thread_group(self.tid).ok_or(libc::ESRCH)?;
            return Ok(Link::Text(match name {
                b"self" => tgid.to_string().into_bytes(),
                b"thread-self" => format!("{tgid}/task/{}", self.tid).into_bytes(),
                _ => readlink(&link)?,
            }));
        }
        // Beneath /proc/<pid>: a magic link, followed by the kernel for the
        // worker, which is allowed for the caller's own process only.
        if !self.in_own_proc(dir) {
            return Err(libc::EACCES);
        }
        with_capabilities(|| openat(dir, name, libc::O_PATH)).map(Link::Object)
    }

    /// Whether `dir` is in the caller's own `/proc/<pid>` directory (its
    /// process's or one of its threads'), whose files the caller may open
    /// where the worker, in another user namespace, needs its capabilities.
    pub(crate) fn in_own_proc(&self, dir: &OwnedFd) -> bool {
        let Some(owner) = on_procfs(dir)
            .ok()
            .filter(|&p| p)
            .and_then(|_| proc_owner(dir))
        else {
            return false;
        };
        let caller = thread_group(self.tid);
        caller.is_some() && (Some(owner) == caller || thread_group(owner as u32) == caller)
    }
}

/// Runs `f` with the worker's capabilities raised, for what the caller
/// itself may do but the worker, in another user namespace, may not.
pub(crate) fn with_capabilities<T>(f: impl FnOnce() -> Result<T, i32>) -> Result<T, i32> {
    let errno = |e: std::io::Error| e.raw_os_error().unwrap_or(libc::EPERM);
    crate::spawn::raise_effective_capabilities().map_err(errno)?;
    let result = f();
    crate::spawn::lower_effective_capabilities().map_err(errno)?;
    result
}

/// Whether `path` (the kernel's, of a file the worker opened) is in the
/// supervisor's own `/proc/<pid>`: its memory and environment, which the
/// worker could read as itself.
pub(crate) fn supervisors_own(path: &[u8]) -> bool {
    let Some(pid) = path
        .strip_prefix(b"/proc/")
        .and_then(|rest| rest.split(|&b| b == b'/').next())
        .and_then(|pid| std::str::from_utf8(pid).ok()?.parse::<u32>().ok())
    else {
        return false;
    };
    // SAFETY: getpid has no preconditions and cannot fail.
    let own = unsafe { libc::getpid() };
    pid == own as u32 || thread_group(pid) == Some(own)
}

impl Walk<'_> {}

/// The non-empty components of `path`.
fn components(path: &[u8]) -> VecDeque<Vec<u8>> {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// The pid of the `/proc/<pid>` directory `dir` is in, from its path.
fn proc_owner(dir: &OwnedFd) -> Option<libc::pid_t> {
    let path = fd_path(dir).ok()?;
    let rest = path.strip_prefix(b"/proc/")?;
    let pid = rest.split(|&b| b == b'/').next()?;
    std::str::from_utf8(pid).ok()?.parse().ok()
}

/// `openat(dir, name, flags | O_CLOEXEC)`.
pub(crate) fn openat(dir: &OwnedFd, name: &[u8], flags: libc::c_int) -> Result<OwnedFd, i32> {
    let name = CString::new(name).map_err(|_| libc::EINVAL)?;
    // SAFETY: name is NUL-terminated and valid for the call.
    owned(unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags | libc::O_CLOEXEC) }.into())
}

fn dup(fd: &OwnedFd) -> Result<OwnedFd, i32> {
    fd.try_clone()
        .map_err(|e| e.raw_os_error().unwrap_or(libc::EMFILE))
}

pub(crate) fn fstat(fd: &OwnedFd) -> Result<libc::stat, i32> {
    // SAFETY: stat is plain data filled by fstat.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: stat is valid for writes for the call.
    match unsafe { libc::fstat(fd.as_raw_fd(), &mut stat) } {
        0 => Ok(stat),
        _ => Err(errno()),
    }
}

fn on_procfs(fd: &OwnedFd) -> Result<bool, i32> {
    // SAFETY: statfs is plain data filled by fstatfs.
    let mut fs: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: fs is valid for writes for the call.
    match unsafe { libc::fstatfs(fd.as_raw_fd(), &mut fs) } {
        0 => Ok(fs.f_type as i64 == PROC_SUPER_MAGIC),
        _ => Err(errno()),
    }
}

/// The target of symbolic link `link` (an `O_PATH | O_NOFOLLOW`
/// descriptor).
fn readlink(link: &OwnedFd) -> Result<Vec<u8>, i32> {
    readlinkat(link.as_raw_fd(), c"")
}

fn readlinkat(dir: libc::c_int, name: &std::ffi::CStr) -> Result<Vec<u8>, i32> {
    let mut buf = vec![0u8; 4096];
    // SAFETY: name is NUL-terminated; buf is valid for writes of its length.
    let n = unsafe { libc::readlinkat(dir, name.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(errno());
    }
    buf.truncate(n as usize);
    Ok(buf)
}

/// The path of the file `fd` is open on, in the sandbox's tree (the
/// kernel's own answer: `/proc/self/fd/N`); `pipe:[...]` and the like for
/// files without one; ` (deleted)` is kept.
pub(crate) fn fd_path(fd: &OwnedFd) -> Result<Vec<u8>, i32> {
    let link =
        CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd())).map_err(|_| libc::EINVAL)?;
    readlinkat(libc::AT_FDCWD, &link)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_skip_empty_names() {
        let parts: Vec<Vec<u8>> = components(b"//a/./b//c/").into();
        assert_eq!(
            parts,
            [b"a".to_vec(), b".".to_vec(), b"b".to_vec(), b"c".to_vec()]
        );
        assert!(components(b"/").is_empty());
    }
}
