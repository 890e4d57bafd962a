//! Deny globs the mount tree cannot hold (`**/.env` in a writable
//! workspace), held by the supervisor instead: every call that opens,
//! creates, removes, renames, links, truncates or changes the mode or owner
//! of a file by path is held by the filter and made here, for the caller,
//! on files the worker resolved itself ([`walk`]). A file a glob hides, or
//! one beneath a directory it hides, is refused (`EACCES`) whoever made it
//! and whenever: before the run, by the command, or by the host during the
//! run. A rename that would carry a hidden file out from under its glob is
//! refused too ([`guard::Guard::renaming`]).
//!
//! Every decision is on the file actually reached: an open is made, then
//! the opened file's path checked (the kernel's, from `/proc/self/fd`), and
//! only then is the descriptor placed in the caller (`SECCOMP_IOCTL_NOTIF_ADDFD`);
//! a creation checks the directory it resolved plus the new name. A racing
//! thread rewriting the path after it was read changes nothing.
//!
//! The worker acts with the caller's uid and groups (its capabilities
//! lowered), the caller's umask, and the same Landlock rules as the
//! command (without the scopes), so it can do nothing the command could
//! not; `O_NOCTTY` is always added (a terminal opened here cannot become
//! the supervisor's).

pub(crate) mod guard;
mod ops;
pub(crate) mod walk;

pub use guard::GuardedGlob;

use super::notify::Notification;
use guard::Guard;
use std::os::fd::{BorrowedFd, OwnedFd};

/// The answer to one held call.
pub(crate) enum Reply {
    /// The call returns this, or fails with this errno.
    Value(Result<i64, i32>),
    /// The call returns a new descriptor of the caller for this file.
    Fd { file: OwnedFd, cloexec: bool },
}

/// A refusal to report: the path and what was asked of it.
pub(crate) struct Refusal {
    pub(crate) path: String,
    pub(crate) access: &'static str,
    pub(crate) glob: String,
}

/// One held call, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// `openat(dirfd, path, flags, mode)`.
    Open {
        dirfd: i32,
        path: u64,
        flags: i32,
        mode: u32,
    },
    /// `mkdirat(dirfd, path, mode)`, `mknodat(dirfd, path, mode, dev)`.
    Make {
        dirfd: i32,
        path: u64,
        mode: u32,
        dev: Option<u64>,
    },
    /// `symlinkat(target, dirfd, path)`.
    Symlink { target: u64, dirfd: i32, path: u64 },
    /// `unlinkat(dirfd, path, flags)`.
    Unlink { dirfd: i32, path: u64, flags: i32 },
    /// `renameat2(olddirfd, oldpath, newdirfd, newpath, flags)`.
    Rename {
        from: (i32, u64),
        to: (i32, u64),
        flags: u32,
    },
    /// `linkat(olddirfd, oldpath, newdirfd, newpath, flags)`.
    Link {
        from: (i32, u64),
        to: (i32, u64),
        flags: i32,
    },
    /// `truncate(path, length)`.
    Truncate { path: u64, length: i64 },
    /// `fchmodat2(dirfd, path, mode, flags)`.
    Chmod {
        dirfd: i32,
        path: u64,
        mode: u32,
        flags: i32,
    },
    /// `fchownat(dirfd, path, uid, gid, flags)`.
    Chown {
        dirfd: i32,
        path: u64,
        uid: u32,
        gid: u32,
        flags: i32,
    },
}

/// Numbers libc lacks on some architectures: `renameat` on aarch64, and
/// the calls numbered alike everywhere since Linux 5.1.
#[cfg(target_arch = "x86_64")]
const SYS_RENAMEAT: i64 = libc::SYS_renameat;
#[cfg(not(target_arch = "x86_64"))]
const SYS_RENAMEAT: i64 = 38;
const SYS_FCHMODAT2: i64 = 452;

/// `AT_FDCWD` as the low 32 bits of an argument.
const CWD: i32 = libc::AT_FDCWD;

/// The operation of syscall `nr` with `args`, as the kernel reads them
/// (descriptors and flags are `int`s: the low 32 bits).
pub(crate) fn decode(nr: i64, a: &[u64; 6]) -> Option<Op> {
    let int = |i: usize| a[i] as i32;
    let op = match nr {
        libc::SYS_openat => Op::Open {
            dirfd: int(0),
            path: a[1],
            flags: int(2),
            mode: a[3] as u32,
        },
        libc::SYS_mkdirat => Op::Make {
            dirfd: int(0),
            path: a[1],
            mode: a[2] as u32,
            dev: None,
        },
        libc::SYS_mknodat => Op::Make {
            dirfd: int(0),
            path: a[1],
            mode: a[2] as u32,
            dev: Some(a[3]),
        },
        libc::SYS_symlinkat => Op::Symlink {
            target: a[0],
            dirfd: int(1),
            path: a[2],
        },
        libc::SYS_unlinkat => Op::Unlink {
            dirfd: int(0),
            path: a[1],
            flags: int(2),
        },
        SYS_RENAMEAT => Op::Rename {
            from: (int(0), a[1]),
            to: (int(2), a[3]),
            flags: 0,
        },
        libc::SYS_renameat2 => Op::Rename {
            from: (int(0), a[1]),
            to: (int(2), a[3]),
            flags: a[4] as u32,
        },
        libc::SYS_linkat => Op::Link {
            from: (int(0), a[1]),
            to: (int(2), a[3]),
            flags: int(4),
        },
        libc::SYS_truncate => Op::Truncate {
            path: a[0],
            length: a[1] as i64,
        },
        libc::SYS_fchmodat => Op::Chmod {
            dirfd: int(0),
            path: a[1],
            mode: a[2] as u32,
            flags: 0,
        },
        SYS_FCHMODAT2 => Op::Chmod {
            dirfd: int(0),
            path: a[1],
            mode: a[2] as u32,
            flags: int(3),
        },
        libc::SYS_fchownat => Op::Chown {
            dirfd: int(0),
            path: a[1],
            uid: a[2] as u32,
            gid: a[3] as u32,
            flags: int(4),
        },
        _ => return legacy(nr, a),
    };
    Some(op)
}

/// x86_64's calls without a directory argument, as their `*at` forms.
#[cfg(target_arch = "x86_64")]
fn legacy(nr: i64, a: &[u64; 6]) -> Option<Op> {
    let creat = libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC;
    Some(match nr {
        libc::SYS_open => Op::Open {
            dirfd: CWD,
            path: a[0],
            flags: a[1] as i32,
            mode: a[2] as u32,
        },
        libc::SYS_creat => Op::Open {
            dirfd: CWD,
            path: a[0],
            flags: creat,
            mode: a[1] as u32,
        },
        libc::SYS_mkdir => Op::Make {
            dirfd: CWD,
            path: a[0],
            mode: a[1] as u32,
            dev: None,
        },
        libc::SYS_mknod => Op::Make {
            dirfd: CWD,
            path: a[0],
            mode: a[1] as u32,
            dev: Some(a[2]),
        },
        libc::SYS_symlink => Op::Symlink {
            target: a[0],
            dirfd: CWD,
            path: a[1],
        },
        libc::SYS_unlink => Op::Unlink {
            dirfd: CWD,
            path: a[0],
            flags: 0,
        },
        libc::SYS_rmdir => Op::Unlink {
            dirfd: CWD,
            path: a[0],
            flags: libc::AT_REMOVEDIR,
        },
        libc::SYS_rename => Op::Rename {
            from: (CWD, a[0]),
            to: (CWD, a[1]),
            flags: 0,
        },
        libc::SYS_link => Op::Link {
            from: (CWD, a[0]),
            to: (CWD, a[1]),
            flags: 0,
        },
        libc::SYS_chmod => Op::Chmod {
            dirfd: CWD,
            path: a[0],
            mode: a[1] as u32,
            flags: 0,
        },
        libc::SYS_chown => Op::Chown {
            dirfd: CWD,
            path: a[0],
            uid: a[1] as u32,
            gid: a[2] as u32,
            flags: 0,
        },
        libc::SYS_lchown => Op::Chown {
            dirfd: CWD,
            path: a[0],
            uid: a[1] as u32,
            gid: a[2] as u32,
            flags: libc::AT_SYMLINK_NOFOLLOW,
        },
        _ => return None,
    })
}

#[cfg(not(target_arch = "x86_64"))]
fn legacy(_nr: i64, _a: &[u64; 6]) -> Option<Op> {
    let _ = CWD;
    None
}

/// Makes one held call for the caller, on a worker thread of its own (it
/// raises and lowers the thread's capabilities).
pub(crate) fn handle(
    listener: BorrowedFd<'_>,
    call: &Notification,
    guard: &Guard,
) -> (Reply, Option<Refusal>) {
    let Some(op) = decode(i64::from(call.nr), &call.args) else {
        return (Reply::Value(Err(libc::ENOSYS)), None);
    };
    match ops::Caller::attach(listener, call) {
        Ok(caller) => caller.run(op, guard),
        Err(errno) => (Reply::Value(Err(errno)), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_and_flags_are_read_from_the_low_32_bits() {
        let args = [0xffff_ffff_0000_0003, 0x1000, 0x1_0000_0042, 0o644, 0, 0];
        assert_eq!(
            decode(libc::SYS_openat, &args),
            Some(Op::Open {
                dirfd: 3,
                path: 0x1000,
                flags: 0x42,
                mode: 0o644
            })
        );
        assert_eq!(decode(libc::SYS_read, &args), None);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn legacy_calls_are_their_at_forms_from_the_working_directory() {
        let args = [0x1000, 0x2000, 0, 0, 0, 0];
        assert_eq!(
            decode(libc::SYS_rename, &args),
            Some(Op::Rename {
                from: (CWD, 0x1000),
                to: (CWD, 0x2000),
                flags: 0
            })
        );
        assert_eq!(
            decode(libc::SYS_rmdir, &args),
            Some(Op::Unlink {
                dirfd: CWD,
                path: 0x1000,
                flags: libc::AT_REMOVEDIR
            })
        );
    }
}
