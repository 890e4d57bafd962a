//! The sandbox's own network namespace: only its loopback, brought up when
//! the policy lets the command use it.

use std::io;
use std::os::fd::AsRawFd;

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

/// The largest segment the sandbox's loopback is set to carry: the
/// kernel's `GSO_MAX_SIZE` since BIG TCP (IPv6 since Linux 5.19, IPv4
/// since 6.3), which is also `lo`'s `tso_max_size`.
const LARGE_SEGMENT: u32 = 524_280;
/// `linux/if_link.h` (Linux 6.3); libc does not name them yet.
const IFLA_GSO_IPV4_MAX_SIZE: u16 = 63;
const IFLA_GRO_IPV4_MAX_SIZE: u16 = 64;
/// `lo` is interface 1 in every network namespace (`LOOPBACK_IFINDEX`).
const LOOPBACK_INDEX: libc::c_int = 1;

#[repr(C)]
struct SizeAttr {
    header: libc::nlattr,
    value: u32,
}

/// `RTM_NEWLINK` for `lo` with four size attributes: 64 bytes, every part
/// 4-byte aligned, so no padding lies between them.
#[repr(C)]
struct SetSizes {
    header: libc::nlmsghdr,
    link: libc::ifinfomsg,
    sizes: [SizeAttr; 4],
}

/// The kernel's answer to a request sent with `NLM_F_ACK`.
#[repr(C)]
struct Ack {
    header: libc::nlmsghdr,
    error: libc::nlmsgerr,
}

/// Lets TCP on the sandbox's loopback build segments of up to 512 KiB
/// instead of 64 KiB (the GSO and GRO limits, IPv4 and IPv6). Per-segment
/// work dominates TCP on loopback, so a transfer through the sandbox's
/// proxy listeners costs the CPU far less: `stockade-bench --only proxy`
/// measures it. A kernel without BIG TCP refuses the sizes (`EINVAL`, IPv6)
/// or ignores the attributes it does not know (IPv4 before 6.3); either
/// way only speed depends on it.
pub(super) fn loopback_large_segments() -> io::Result<()> {
    let size = |kind: u16| SizeAttr {
        header: libc::nlattr {
            nla_len: size_of::<SizeAttr>() as u16,
            nla_type: kind,
        },
        value: LARGE_SEGMENT,
    };
    // SAFETY: ifinfomsg is plain data; all zeroes is AF_UNSPEC with no
    // flag to change.
    let mut link: libc::ifinfomsg = unsafe { std::mem::zeroed() };
    link.ifi_index = LOOPBACK_INDEX;
    let request = SetSizes {
        header: libc::nlmsghdr {
            nlmsg_len: size_of::<SetSizes>() as u32,
            nlmsg_type: libc::RTM_NEWLINK,
            nlmsg_flags: (libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16,
            nlmsg_seq: 1,
            nlmsg_pid: 0,
        },
        link,
        sizes: [
            size(libc::IFLA_GSO_MAX_SIZE),
            size(libc::IFLA_GRO_MAX_SIZE),
            size(IFLA_GSO_IPV4_MAX_SIZE),
            size(IFLA_GRO_IPV4_MAX_SIZE),
        ],
    };
    let socket = crate::sys::netlink_socket(libc::SOCK_RAW, libc::NETLINK_ROUTE)?;
    // SAFETY: request is a live, fully initialised SetSizes of that size.
    let sent = unsafe {
        libc::send(
            socket.as_raw_fd(),
            (&raw const request).cast(),
            size_of::<SetSizes>(),
            0,
        )
    };
    if sent != size_of::<SetSizes>() as isize {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: Ack is plain data; zeroed is a valid value.
    let mut ack: Ack = unsafe { std::mem::zeroed() };
    // SAFETY: ack is writable for its whole size.
    let got = unsafe {
        libc::recv(
            socket.as_raw_fd(),
            (&raw mut ack).cast(),
            size_of::<Ack>(),
            0,
        )
    };
    if got < size_of::<libc::nlmsghdr>() as isize + 4 {
        return Err(io::Error::last_os_error());
    }
    match (i32::from(ack.header.nlmsg_type), ack.error.error) {
        (libc::NLMSG_ERROR, 0) => Ok(()),
        (libc::NLMSG_ERROR, error) => Err(io::Error::from_raw_os_error(-error)),
        _ => Err(io::Error::other(
            "rtnetlink answered with no acknowledgement",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    /// In a fresh user and network namespace (a child of this test, so the
    /// harness's threads do not stop `unshare`): `lo` comes up and takes
    /// the large sizes, as `ip` reads them back over rtnetlink.
    #[test]
    fn the_sandbox_loopback_carries_large_segments() {
        let Some(ip) = ["/usr/sbin/ip", "/sbin/ip"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
        else {
            return crate::skip_test("no `ip` (iproute2) to read the loopback's sizes back");
        };
        let mut command = Command::new(ip);
        command.args(["-d", "-j", "link", "show", "lo"]);
        // SAFETY: the hook runs in the forked child before exec; it makes
        // system calls only and allocates nothing on the success path.
        unsafe {
            command.pre_exec(|| {
                if libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET) != 0 {
                    return Err(io::Error::last_os_error());
                }
                loopback_up()?;
                // Its failure shows as the sizes below, and a kernel
                // without BIG TCP refuses them: the test skips there.
                let _ = loopback_large_segments();
                Ok(())
            })
        };
        let output = match command.output() {
            Ok(output) => output,
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
                return crate::skip_test(&format!("no user namespace here: {e}"));
            }
            Err(e) => panic!("setting the loopback's sizes failed: {e}"),
        };
        let shown = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{shown}");
        assert!(shown.contains(r#""UP""#), "{shown}");
        if !shown.contains(r#""tso_max_size":524280"#) {
            return crate::skip_test(&format!("this kernel's loopback has no BIG TCP: {shown}"));
        }
        assert!(shown.contains(r#""gso_max_size":524280"#), "{shown}");
        assert!(shown.contains(r#""gro_max_size":524280"#), "{shown}");
    }
}
