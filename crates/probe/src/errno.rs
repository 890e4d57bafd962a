//! Errno values and their symbolic names, and helpers that turn raw libc
//! return values into [`Failure`]s.

use crate::Failure;

/// The symbolic name of `errno` (`"EACCES"`), or `"errno<N>"` for one not in
/// the table.
pub(crate) fn name(errno: i32) -> String {
    let known = match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::ENXIO => "ENXIO",
        libc::E2BIG => "E2BIG",
        libc::ENOEXEC => "ENOEXEC",
        libc::EBADF => "EBADF",
        libc::ECHILD => "ECHILD",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::EXDEV => "EXDEV",
        libc::ENODEV => "ENODEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::ENFILE => "ENFILE",
        libc::EMFILE => "EMFILE",
        libc::ENOTTY => "ENOTTY",
        libc::ETXTBSY => "ETXTBSY",
        libc::EFBIG => "EFBIG",
        libc::ENOSPC => "ENOSPC",
        libc::ESPIPE => "ESPIPE",
        libc::EROFS => "EROFS",
        libc::EMLINK => "EMLINK",
        libc::EPIPE => "EPIPE",
        libc::ERANGE => "ERANGE",
        libc::EDEADLK => "EDEADLK",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::ENOSYS => "ENOSYS",
        libc::ENOTEMPTY => "ENOTEMPTY",
        libc::ELOOP => "ELOOP",
        libc::ENODATA => "ENODATA",
        libc::EOVERFLOW => "EOVERFLOW",
        libc::ENOTSOCK => "ENOTSOCK",
        libc::EDESTADDRREQ => "EDESTADDRREQ",
        libc::EMSGSIZE => "EMSGSIZE",
        libc::EPROTOTYPE => "EPROTOTYPE",
        libc::ENOPROTOOPT => "ENOPROTOOPT",
        libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
        libc::ESOCKTNOSUPPORT => "ESOCKTNOSUPPORT",
        // Also ENOTSUP: the two are one value on Linux.
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EPFNOSUPPORT => "EPFNOSUPPORT",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::EADDRINUSE => "EADDRINUSE",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::ENETDOWN => "ENETDOWN",
        libc::ENETUNREACH => "ENETUNREACH",
        libc::ECONNABORTED => "ECONNABORTED",
        libc::ECONNRESET => "ECONNRESET",
        libc::ENOBUFS => "ENOBUFS",
        libc::EISCONN => "EISCONN",
        libc::ENOTCONN => "ENOTCONN",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::EHOSTDOWN => "EHOSTDOWN",
        libc::EHOSTUNREACH => "EHOSTUNREACH",
        libc::EALREADY => "EALREADY",
        libc::EINPROGRESS => "EINPROGRESS",
        libc::EDQUOT => "EDQUOT",
        libc::ECANCELED => "ECANCELED",
        libc::ENOKEY => "ENOKEY",
        libc::EKEYREVOKED => "EKEYREVOKED",
        _ => return format!("errno{errno}"),
    };
    known.to_owned()
}

/// The errno of the last failed libc call.
pub(crate) fn last() -> i32 {
    from_io(&std::io::Error::last_os_error())
}

/// The errno inside an I/O error; errors std made up itself (no OS code) are
/// mapped to the closest errno.
pub(crate) fn from_io(err: &std::io::Error) -> i32 {
    use std::io::ErrorKind;
    err.raw_os_error().unwrap_or(match err.kind() {
        ErrorKind::TimedOut => libc::ETIMEDOUT,
        ErrorKind::NotFound => libc::ENOENT,
        ErrorKind::PermissionDenied => libc::EACCES,
        ErrorKind::UnexpectedEof | ErrorKind::WriteZero => libc::EIO,
        _ => libc::EINVAL,
    })
}

/// `Ok(ret)` unless `ret` is -1, in which case the failure carries `errno`.
pub(crate) fn check(ret: libc::c_int) -> Result<libc::c_int, Failure> {
    if ret == -1 {
        Err(Failure::errno(last()))
    } else {
        Ok(ret)
    }
}

/// [`check`] for `syscall(2)` and other `long`-returning calls.
pub(crate) fn check_long(ret: libc::c_long) -> Result<libc::c_long, Failure> {
    if ret == -1 {
        Err(Failure::errno(last()))
    } else {
        Ok(ret)
    }
}

/// Closes `fd`, ignoring errors: used for descriptors the probe opened only
/// to prove it could.
pub(crate) fn close(fd: libc::c_int) {
    // SAFETY: `fd` was returned to us by the kernel and is closed only once.
    unsafe { libc::close(fd) };
}
