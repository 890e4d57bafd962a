//! A tunnel between two TCP sockets without copying through user space:
//! `splice(2)` moves bytes from one socket into a pipe and from the pipe
//! into the other, each direction on its own pipe. This is what keeps a
//! bulk transfer through the proxy near a direct one's speed.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use tokio::io::Interest;
use tokio::net::TcpStream;

/// Bytes one `splice` moves at most; the pipe is grown to match.
const CHUNK: usize = 1 << 20;

/// Relays until both directions have ended, or either fails (which ends
/// the other too: both sockets close).
pub(crate) async fn relay(a: TcpStream, b: TcpStream) -> io::Result<()> {
    tokio::try_join!(one_way(&a, &b), one_way(&b, &a)).map(|_| ())
}

/// `src` to `dst` until `src` ends; then `dst`'s write half is shut.
async fn one_way(src: &TcpStream, dst: &TcpStream) -> io::Result<()> {
    let (read_end, write_end) = pipe()?;
    let mut in_pipe = 0usize;
    loop {
        if in_pipe == 0 {
            src.readable().await?;
            let moved = src.try_io(Interest::READABLE, || {
                splice(src.as_raw_fd(), write_end.as_raw_fd(), CHUNK)
            });
            match moved {
                Ok(0) => {
                    // SAFETY: shutdown on a socket we borrow; no memory.
                    unsafe { libc::shutdown(dst.as_raw_fd(), libc::SHUT_WR) };
                    return Ok(());
                }
                Ok(n) => in_pipe = n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
        while in_pipe > 0 {
            dst.writable().await?;
            let moved = dst.try_io(Interest::WRITABLE, || {
                splice(read_end.as_raw_fd(), dst.as_raw_fd(), in_pipe)
            });
            match moved {
                Ok(n) => in_pipe -= n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

/// A non-blocking pipe, grown to [`CHUNK`] where the system allows.
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 returned two new descriptors nothing else owns.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: fcntl on our own pipe; failure leaves the default size.
    unsafe {
        libc::fcntl(
            write_end.as_raw_fd(),
            libc::F_SETPIPE_SZ,
            CHUNK as libc::c_int,
        )
    };
    Ok((read_end, write_end))
}

/// One non-blocking `splice` of up to `len` bytes.
fn splice(from: RawFd, to: RawFd, len: usize) -> io::Result<usize> {
    // SAFETY: splice between two descriptors we hold, with null offsets
    // (both are a pipe or a socket).
    let n = unsafe {
        libc::splice(
            from,
            std::ptr::null_mut(),
            to,
            std::ptr::null_mut(),
            len,
            libc::SPLICE_F_NONBLOCK | libc::SPLICE_F_MOVE,
        )
    };
    match n {
        n if n >= 0 => Ok(n as usize),
        _ => Err(io::Error::last_os_error()),
    }
}
