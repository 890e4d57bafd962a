//! Each supervised call, made for the caller once its paths are resolved
//! and checked.

use super::super::caller::{self, errno, owned};
use super::super::notify::{self, Notification};
use super::guard::Guard;
use super::walk::{Target, Walk, fd_path, fstat, openat, supervisors_own, with_capabilities};
use super::{CWD, Op, Refusal, Reply};
use std::ffi::CString;
use std::ffi::OsStr;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

type Answer = (Reply, Option<Refusal>);

fn os_errno(e: std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EPERM)
}

/// The calling thread, while its call is held: the worker reads its state
/// with raised capabilities until [`Caller::settle`], then acts with them
/// lowered.
pub(super) struct Caller<'a> {
    listener: BorrowedFd<'a>,
    call: &'a Notification,
    root: OwnedFd,
    pidfd: Option<OwnedFd>,
}

impl<'a> Caller<'a> {
    pub(super) fn attach(
        listener: BorrowedFd<'a>,
        call: &'a Notification,
    ) -> Result<Caller<'a>, i32> {
        crate::spawn::raise_effective_capabilities().map_err(os_errno)?;
        let root = caller::open_proc_link(call.pid, "root")?;
        Ok(Caller {
            listener,
            call,
            root,
            pidfd: None,
        })
    }

    fn path(&self, at: u64) -> Result<Vec<u8>, i32> {
        caller::read_path(self.call.pid, at)
    }

    /// A duplicate of the caller's descriptor `fd`.
    fn fd(&mut self, fd: i32) -> Result<OwnedFd, i32> {
        if self.pidfd.is_none() {
            self.pidfd = Some(caller::pidfd_open(self.call.pid)?);
        }
        let pidfd = self.pidfd.as_ref().ok_or(libc::ESRCH)?;
        caller::pidfd_getfd(pidfd, fd)
    }

    /// Where a relative `path` starts: the working directory or `dirfd`.
    fn start(&mut self, dirfd: i32, path: &[u8]) -> Result<OwnedFd, i32> {
        if path.first() == Some(&b'/') {
            return self.root.try_clone().map_err(os_errno);
        }
        match dirfd {
            CWD => caller::open_proc_link(self.call.pid, "cwd"),
            fd => self.fd(fd),
        }
    }

    /// Ends the reading: the call must still be held (so what was read was
    /// the caller's), then the capabilities go.
    fn settle(&self) -> Result<(), i32> {
        if !notify::still_held(self.listener, self.call.id) {
            return Err(libc::ENOENT);
        }
        crate::spawn::lower_effective_capabilities().map_err(os_errno)
    }

    fn walk(&self) -> Walk<'_> {
        Walk::new(self.call.pid, &self.root)
    }

    pub(super) fn run(mut self, op: Op, guard: &Guard) -> Answer {
        match self.run_op(op, guard) {
            Ok(answer) => answer,
            Err(errno) => (Reply::Value(Err(errno)), None),
        }
    }

    fn run_op(&mut self, op: Op, guard: &Guard) -> Result<Answer, i32> {
        match op {
            Op::Open {
                dirfd,
                path,
                flags,
                mode,
            } => {
                let path = self.path(path)?;
                let start = self.start(dirfd, &path)?;
                let umask = self.umask(
                    flags & libc::O_CREAT != 0 || flags & libc::O_TMPFILE == libc::O_TMPFILE,
                )?;
                self.settle()?;
                open(&mut self.walk(), start, &path, flags, mode, umask, guard)
            }
            Op::Make {
                dirfd,
                path,
                mode,
                dev,
            } => {
                let path = self.path(path)?;
                let start = self.start(dirfd, &path)?;
                let umask = caller::umask(self.call.pid).ok_or(libc::ESRCH)?;
                self.settle()?;
                let (dir, at) = match self.named(start, &path, "create", guard)? {
                    Ok(named) => named,
                    Err(refused) => return Ok(refused),
                };
                set_umask(umask);
                // SAFETY: at is NUL-terminated; the other arguments are integers.
                let rc = unsafe {
                    match dev {
                        None => libc::mkdirat(dir.as_raw_fd(), at.as_ptr(), mode),
                        Some(dev) => libc::mknodat(dir.as_raw_fd(), at.as_ptr(), mode, dev),
                    }
                };
                Ok(value(rc))
            }
            Op::Symlink {
                target,
                dirfd,
                path,
            } => {
                let target = CString::new(self.path(target)?).map_err(|_| libc::EINVAL)?;
                let path = self.path(path)?;
                let start = self.start(dirfd, &path)?;
                self.settle()?;
                let (dir, at) = match self.named(start, &path, "create", guard)? {
                    Ok(named) => named,
                    Err(refused) => return Ok(refused),
                };
                // SAFETY: both strings are NUL-terminated.
                Ok(value(unsafe {
                    libc::symlinkat(target.as_ptr(), dir.as_raw_fd(), at.as_ptr())
                }))
            }
            Op::Unlink { dirfd, path, flags } => {
                let path = self.path(path)?;
                let start = self.start(dirfd, &path)?;
                self.settle()?;
                let (dir, at) = match self.named(start, &path, "remove", guard)? {
                    Ok(named) => named,
                    Err(refused) => return Ok(refused),
                };
                // SAFETY: at is NUL-terminated.
                Ok(value(unsafe {
                    libc::unlinkat(dir.as_raw_fd(), at.as_ptr(), flags)
                }))
            }
            Op::Rename { from, to, flags } => {
                let (from_path, to_path) = (self.path(from.1)?, self.path(to.1)?);
                let from_start = self.start(from.0, &from_path)?;
                let to_start = self.start(to.0, &to_path)?;
                self.settle()?;
                let (from_dir, from_name, from_slash) =
                    entry(self.walk().resolve(from_start, &from_path, false)?)?;
                let (to_dir, to_name, to_slash) =
                    entry(self.walk().resolve(to_start, &to_path, false)?)?;
                let (a, b) = (join(&from_dir, &from_name)?, join(&to_dir, &to_name)?);
                if let Some(glob) = guard.renaming(&a, &b) {
                    return Ok(refusal(&a, "rename", glob));
                }
                let (a, b) = (
                    Target::at_name(&from_name, from_slash)?,
                    Target::at_name(&to_name, to_slash)?,
                );
                // SAFETY: both names are NUL-terminated; renameat2 takes
                // integers otherwise.
                let rc = unsafe {
                    libc::syscall(
                        libc::SYS_renameat2,
                        from_dir.as_raw_fd(),
                        a.as_ptr(),
                        to_dir.as_raw_fd(),
                        b.as_ptr(),
                        flags,
                    )
                };
                Ok(value(rc as i32))
            }
            Op::Link { from, to, flags } => {
                let (from_path, to_path) = (self.path(from.1)?, self.path(to.1)?);
                let empty = flags & libc::AT_EMPTY_PATH != 0 && from_path.is_empty();
                let from_start = match empty {
                    true => self.fd(from.0)?,
                    false => self.start(from.0, &from_path)?,
                };
                let to_start = self.start(to.0, &to_path)?;
                self.settle()?;
                let source = match empty {
                    true => Target::Object(from_start),
                    false => self.walk().resolve(
                        from_start,
                        &from_path,
                        flags & libc::AT_SYMLINK_FOLLOW != 0,
                    )?,
                };
                let (to_dir, to_name, to_slash) =
                    entry(self.walk().resolve(to_start, &to_path, false)?)?;
                let target = join(&to_dir, &to_name)?;
                let at = Target::at_name(&to_name, to_slash)?;
                match source {
                    Target::Entry { dir, name, slash } => {
                        let source = join(&dir, &name)?;
                        if let Some(glob) = guard.hiding(&source).or_else(|| guard.hiding(&target))
                        {
                            return Ok(refusal(&source, "link", glob));
                        }
                        let from = Target::at_name(&name, slash)?;
                        // SAFETY: both names are NUL-terminated.
                        Ok(value(unsafe {
                            libc::linkat(
                                dir.as_raw_fd(),
                                from.as_ptr(),
                                to_dir.as_raw_fd(),
                                at.as_ptr(),
                                0,
                            )
                        }))
                    }
                    Target::Object(file) => {
                        let source = kernel_path(&fd_path(&file)?);
                        if let Some(glob) = guard.hiding(&source).or_else(|| guard.hiding(&target))
                        {
                            return Ok(refusal(&source, "link", glob));
                        }
                        let via = proc_self(&file)?;
                        // SAFETY: both names are NUL-terminated.
                        Ok(value(unsafe {
                            libc::linkat(
                                libc::AT_FDCWD,
                                via.as_ptr(),
                                to_dir.as_raw_fd(),
                                at.as_ptr(),
                                libc::AT_SYMLINK_FOLLOW,
                            )
                        }))
                    }
                }
            }
            Op::Truncate { path, length } => {
                let path = self.path(path)?;
                let start = self.start(CWD, &path)?;
                self.settle()?;
                let file = object(self.walk().resolve(start, &path, true)?)?;
                if let Some(refused) = refuse_object(guard, &file, "write")? {
                    return Ok(refused);
                }
                let via = proc_self(&file)?;
                // SAFETY: via is NUL-terminated.
                Ok(value(unsafe { libc::truncate(via.as_ptr(), length) }))
            }
            Op::Chmod {
                dirfd,
                path,
                mode,
                flags,
            } => {
                let file = self.object_at(dirfd, path, flags)?;
                if let Some(refused) = refuse_object(guard, &file, "chmod")? {
                    return Ok(refused);
                }
                if fstat(&file)?.st_mode & libc::S_IFMT == libc::S_IFLNK {
                    // What the kernel says to a mode for a link itself.
                    return Err(libc::EOPNOTSUPP);
                }
                let via = proc_self(&file)?;
                // SAFETY: via is NUL-terminated.
                Ok(value(unsafe {
                    libc::fchmodat(libc::AT_FDCWD, via.as_ptr(), mode, 0)
                }))
            }
            Op::Chown {
                dirfd,
                path,
                uid,
                gid,
                flags,
            } => {
                let file = self.object_at(dirfd, path, flags)?;
                if let Some(refused) = refuse_object(guard, &file, "chown")? {
                    return Ok(refused);
                }
                // SAFETY: the name is an empty NUL-terminated string.
                Ok(value(unsafe {
                    libc::fchownat(
                        file.as_raw_fd(),
                        c"".as_ptr(),
                        uid,
                        gid,
                        libc::AT_EMPTY_PATH,
                    )
                }))
            }
        }
    }

    /// The directory and name `path` ends in (a last link not followed),
    /// ready for a `*at` call; or the refusal when a glob hides that name.
    fn named(
        &self,
        start: OwnedFd,
        path: &[u8],
        access: &'static str,
        guard: &Guard,
    ) -> Result<Result<(OwnedFd, CString), Answer>, i32> {
        let (dir, name, slash) = entry(self.walk().resolve(start, path, false)?)?;
        if let Some(refused) = refuse_entry(guard, &dir, &name, access)? {
            return Ok(Err(refused));
        }
        Ok(Ok((dir, Target::at_name(&name, slash)?)))
    }

    /// The file a `*at(dirfd, path, ..., flags)` call acts on, honouring
    /// `AT_EMPTY_PATH` and `AT_SYMLINK_NOFOLLOW`, as an `O_PATH` descriptor.
    fn object_at(&mut self, dirfd: i32, path: u64, flags: i32) -> Result<OwnedFd, i32> {
        let path = self.path(path)?;
        if flags & libc::AT_EMPTY_PATH != 0 && path.is_empty() {
            let file = self.fd(dirfd)?;
            self.settle()?;
            return Ok(file);
        }
        let start = self.start(dirfd, &path)?;
        self.settle()?;
        let follow = flags & libc::AT_SYMLINK_NOFOLLOW == 0;
        object(self.walk().resolve(start, &path, follow)?)
    }

    /// The caller's umask, when the call may create a file.
    fn umask(&self, creates: bool) -> Result<Option<libc::mode_t>, i32> {
        match creates {
            true => caller::umask(self.call.pid).map(Some).ok_or(libc::ESRCH),
            false => Ok(None),
        }
    }
}

/// `open` for the caller: resolve, refuse a new name a glob hides, open,
/// refuse a file a glob hides, hand over the descriptor.
fn open(
    walk: &mut Walk<'_>,
    start: OwnedFd,
    path: &[u8],
    flags: i32,
    mode: u32,
    umask: Option<libc::mode_t>,
    guard: &Guard,
) -> Result<Answer, i32> {
    let create = flags & libc::O_CREAT != 0;
    let follow = flags & libc::O_NOFOLLOW == 0 && !(create && flags & libc::O_EXCL != 0);
    let access = match flags & libc::O_ACCMODE {
        _ if flags & libc::O_PATH != 0 => "open",
        libc::O_RDONLY if flags & libc::O_TRUNC == 0 => "read",
        _ => "write",
    };
    let flags = flags | libc::O_NOCTTY | libc::O_CLOEXEC;
    let file = match walk.resolve(start, path, follow)? {
        Target::Entry { dir, name, slash } if walk.in_own_proc(&dir) => {
            // The caller's own /proc/<pid>/maps, status, mem: files the
            // kernel lets a process open of itself.
            let at = Target::at_name(&name, slash)?;
            with_capabilities(|| {
                // SAFETY: at is NUL-terminated; flags and mode are integers.
                owned(
                    unsafe {
                        libc::openat(dir.as_raw_fd(), at.as_ptr(), flags | libc::O_NOFOLLOW, mode)
                    }
                    .into(),
                )
            })?
        }
        Target::Entry { dir, name, slash } => {
            if create && let Some(refused) = refuse_entry(guard, &dir, &name, "create")? {
                return Ok(refused);
            }
            if let Some(umask) = umask {
                set_umask(umask);
            }
            // The walk followed every link it was asked to; one that
            // appeared since is not followed.
            let no_follow = match follow {
                true => libc::O_NOFOLLOW,
                false => 0,
            };
            let at = Target::at_name(&name, slash)?;
            // SAFETY: at is NUL-terminated; flags and mode are integers.
            let fd = unsafe { libc::openat(dir.as_raw_fd(), at.as_ptr(), flags | no_follow, mode) };
            owned(fd.into())?
        }
        Target::Object(file) => {
            let via = proc_self(&file)?;
            // SAFETY: via is NUL-terminated; flags and mode are integers.
            owned(unsafe { libc::open(via.as_ptr(), flags, mode) }.into())?
        }
    };
    if let Some(refused) = refuse_object(guard, &file, access)? {
        return Ok(refused);
    }
    let cloexec = flags & libc::O_CLOEXEC != 0;
    Ok((Reply::Fd { file, cloexec }, None))
}

fn entry(target: Target) -> Result<(OwnedFd, Vec<u8>, bool), i32> {
    match target {
        Target::Entry { dir, name, slash } => Ok((dir, name, slash)),
        // A magic link's file has no name to create, remove or rename.
        Target::Object(_) => Err(libc::EEXIST),
    }
}

/// The file a target names, `O_PATH`, not following a last link.
fn object(target: Target) -> Result<OwnedFd, i32> {
    match target {
        Target::Entry { dir, name, slash } => {
            let at = Target::at_name(&name, slash)?;
            openat(&dir, at.as_bytes(), libc::O_PATH | libc::O_NOFOLLOW)
        }
        Target::Object(file) => Ok(file),
    }
}

/// `/proc/self/fd/N` for the worker's descriptor: the path through which
/// a path-taking call reaches exactly that file.
fn proc_self(file: &OwnedFd) -> Result<CString, i32> {
    CString::new(format!("/proc/self/fd/{}", file.as_raw_fd())).map_err(|_| libc::EINVAL)
}

/// The path of entry `name` in `dir`.
fn join(dir: &OwnedFd, name: &[u8]) -> Result<PathBuf, i32> {
    let mut path = kernel_path(&fd_path(dir)?);
    match name {
        b"." => {}
        b".." => {
            path.pop();
        }
        _ => path.push(OsStr::from_bytes(name)),
    }
    Ok(path)
}

/// A path as the kernel gave it (`/proc/self/fd/N`), without the mark of
/// a deleted file. Its bytes, not a lossy text, are matched.
fn kernel_path(path: &[u8]) -> PathBuf {
    let path = path.strip_suffix(b" (deleted)").unwrap_or(path);
    PathBuf::from(OsStr::from_bytes(path))
}

fn refuse_entry(
    guard: &Guard,
    dir: &OwnedFd,
    name: &[u8],
    access: &'static str,
) -> Result<Option<Answer>, i32> {
    let path = join(dir, name)?;
    Ok(guard.hiding(&path).map(|glob| refusal(&path, access, glob)))
}

fn refuse_object(
    guard: &Guard,
    file: &OwnedFd,
    access: &'static str,
) -> Result<Option<Answer>, i32> {
    let path = fd_path(file)?;
    if path.first() != Some(&b'/') {
        // A pipe, a socket: no path for a glob to match.
        return Ok(None);
    }
    if supervisors_own(&path) {
        return Err(libc::EACCES);
    }
    let path = kernel_path(&path);
    Ok(guard.hiding(&path).map(|glob| refusal(&path, access, glob)))
}

fn refusal(path: &Path, access: &'static str, glob: &str) -> Answer {
    (
        Reply::Value(Err(libc::EACCES)),
        Some(Refusal {
            path: path.to_string_lossy().into_owned(),
            access,
            glob: glob.to_owned(),
        }),
    )
}

fn set_umask(mask: libc::mode_t) {
    // SAFETY: umask takes an integer; the worker has its own file system
    // information (unshare(CLONE_FS) when it started).
    unsafe { libc::umask(mask) };
}

fn value(rc: libc::c_int) -> Answer {
    let result = match rc {
        0 => Ok(0),
        _ => Err(errno()),
    };
    (Reply::Value(result), None)
}
