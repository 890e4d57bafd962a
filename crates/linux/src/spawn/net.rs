//! The sandbox's own network namespace: only its loopback, brought up when
//! the policy lets the command use it.

use std::io;

/// Sets `lo` up in the current network namespace.
pub(super) fn loopback_up() -> io::Result<()> {
    // SAFETY: socket with constant arguments; the fd is closed below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: ifreq is plain data; zeroed is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    req.ifr_ifru.ifru_flags = (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
    // SAFETY: fd is a valid socket and req a valid ifreq for SIOCSIFFLAGS.
    let rc = unsafe { libc::ioctl(fd, libc::SIOCSIFFLAGS, &req) };
    let result = if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    };
    // SAFETY: fd is ours and not used afterwards.
    unsafe { libc::close(fd) };
    result
}
