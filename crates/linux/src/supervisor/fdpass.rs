//! Handing the seccomp listener from the command's process (which gets it
//! when it installs the filter, right before `execve`) to the sandbox's
//! init, over a unix socket pair with `SCM_RIGHTS`.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// A close-on-exec `SOCK_SEQPACKET` pair: (init's end, the command's end).
pub(crate) fn pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two ints for socketpair to fill.
    let rc = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: socketpair returned two new fds that nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Room for one `cmsghdr` carrying one descriptor, aligned for it.
#[repr(C)]
union ControlBuffer {
    bytes: [u8; 32],
    _align: libc::cmsghdr,
}

/// Sends `fd` with a one-byte message. Does not allocate (it runs between
/// `fork` and `execve`).
pub(crate) fn send(socket: BorrowedFd<'_>, fd: RawFd) -> io::Result<()> {
    let mut byte = [b'L'];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let mut control = ControlBuffer { bytes: [0; 32] };
    // SAFETY: msghdr is plain data; every pointer set below outlives the
    // sendmsg call, and CMSG_* stay inside `control`, which CMSG_SPACE of
    // one int (24 on 64-bit) fits.
    unsafe {
        let space = libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) as usize;
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.bytes.as_mut_ptr().cast();
        msg.msg_controllen = space;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>(), fd);
        if libc::sendmsg(socket.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) != 1 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Receives the descriptor [`send`] sent; `None` when the peer closed its
/// end without sending one (the command failed before its filter).
pub(crate) fn receive(socket: BorrowedFd<'_>) -> io::Result<Option<OwnedFd>> {
    let mut byte = [0u8];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let mut control = ControlBuffer { bytes: [0; 32] };
    // SAFETY: as in `send`; the kernel writes at most msg_controllen bytes
    // of control data, and MSG_CMSG_CLOEXEC makes the received fd
    // close-on-exec atomically.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.bytes.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of::<ControlBuffer>();
        let n = libc::recvmsg(socket.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if n == 0 || cmsg.is_null() {
            return Ok(None);
        }
        if (*cmsg).cmsg_level != libc::SOL_SOCKET || (*cmsg).cmsg_type != libc::SCM_RIGHTS {
            return Err(io::Error::other("unexpected control message"));
        }
        let fd = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>());
        Ok(Some(OwnedFd::from_raw_fd(fd)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::fd::AsFd;

    #[test]
    fn a_descriptor_crosses_and_stays_the_same_file() {
        let (init, command) = pair().unwrap();
        let (read, write) = crate::spawn::pipe().unwrap();
        send(command.as_fd(), write.as_raw_fd()).unwrap();
        drop(write);
        let got = receive(init.as_fd()).unwrap().expect("a descriptor");
        std::fs::File::from(got).write_all(b"hi").unwrap();
        let mut text = String::new();
        std::fs::File::from(read).read_to_string(&mut text).unwrap();
        assert_eq!(text, "hi");
    }

    #[test]
    fn a_closed_peer_gives_none() {
        let (init, command) = pair().unwrap();
        drop(command);
        assert!(receive(init.as_fd()).unwrap().is_none());
    }
}
