//! The sandbox's own unix sockets, from the kernel's socket diagnostics
//! (`NETLINK_SOCK_DIAG`, `unix_diag`): every unix socket of the calling
//! thread's network namespace, with the device and inode of the file it is
//! bound to (`UDIAG_SHOW_VFS`).
//!
//! Pathname sockets are not confined by network namespaces (a bound socket
//! is found by its file), but each socket still belongs to the namespace of
//! the process that created it. The supervisor runs in the sandbox's empty
//! namespace, so the answer is exactly the sockets created inside the
//! sandbox; a host socket is never among them, whatever directory its file
//! lies in.
//!
//! Written here rather than with `netlink-packet-sock-diag`, whose unix
//! `Vfs` attribute keeps its device and inode private: one request and two
//! fixed structures.

use std::io;
use std::os::fd::AsRawFd;

/// `<linux/sock_diag.h>`.
const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// `<linux/unix_diag.h>`: report the bound file's device and inode.
const UDIAG_SHOW_VFS: u32 = 0x2;
/// `<linux/unix_diag.h>`: the attribute holding `struct unix_diag_vfs`.
const UNIX_DIAG_VFS: u16 = 1;
/// `sizeof(struct nlmsghdr)`.
const NLMSG_HDRLEN: usize = 16;
/// `sizeof(struct unix_diag_msg)`.
const UNIX_DIAG_MSG_LEN: usize = 16;

/// The device and inode of a bound socket's file, as `unix_diag` gives
/// them: the kernel's internal device number (`major << 20 | minor`) and
/// the inode number's low 32 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BoundFile {
    pub(crate) dev: u32,
    pub(crate) ino: u32,
}

impl BoundFile {
    /// The same for a file `stat` described, or `None` when its inode
    /// number does not fit in 32 bits: such a file cannot be told apart
    /// from another with the same low bits, so it never matches.
    pub(crate) fn of_stat(st_dev: u64, st_ino: u64) -> Option<BoundFile> {
        let major = libc::major(st_dev);
        let minor = libc::minor(st_dev);
        Some(BoundFile {
            dev: (major << 20) | (minor & 0xf_ffff),
            ino: u32::try_from(st_ino).ok()?,
        })
    }
}

/// Every bound unix socket of the calling thread's network namespace.
pub(crate) fn bound_sockets() -> io::Result<Vec<BoundFile>> {
    let socket = crate::sys::netlink_socket(libc::SOCK_DGRAM, libc::NETLINK_SOCK_DIAG)?;
    let request = request();
    // SAFETY: request is a valid buffer of its length for the whole call;
    // a null destination sends to the kernel.
    let sent = unsafe {
        libc::send(
            socket.as_raw_fd(),
            request.as_ptr().cast(),
            request.len(),
            0,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut found = Vec::new();
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        // SAFETY: buf is valid for writes of its length.
        let n = unsafe { libc::recv(socket.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        if n == 0 || parse(&buf[..n as usize], &mut found)? {
            return Ok(found);
        }
    }
}

/// A dump request for every unix socket in every state, with its file.
fn request() -> Vec<u8> {
    let len = (NLMSG_HDRLEN + 24) as u32;
    let mut msg = Vec::with_capacity(len as usize);
    msg.extend_from_slice(&len.to_ne_bytes());
    msg.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    let flags = (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16;
    msg.extend_from_slice(&flags.to_ne_bytes());
    msg.extend_from_slice(&1u32.to_ne_bytes()); // sequence
    msg.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel
    // struct unix_diag_req
    msg.push(libc::AF_UNIX as u8);
    msg.push(0); // protocol
    msg.extend_from_slice(&0u16.to_ne_bytes());
    msg.extend_from_slice(&u32::MAX.to_ne_bytes()); // every state
    msg.extend_from_slice(&0u32.to_ne_bytes()); // inode: any
    msg.extend_from_slice(&UDIAG_SHOW_VFS.to_ne_bytes());
    msg.extend_from_slice(&[0xff; 8]); // cookie: none
    msg
}

fn u16_at(buf: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(buf.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(buf: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(buf.get(at..at + 4)?.try_into().ok()?))
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

fn malformed() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "malformed socket diagnostics reply",
    )
}

/// Adds the bound files of one datagram of replies to `found`; `true` once
/// the dump is done.
pub(crate) fn parse(mut buf: &[u8], found: &mut Vec<BoundFile>) -> io::Result<bool> {
    while buf.len() >= NLMSG_HDRLEN {
        let len = u32_at(buf, 0).ok_or_else(malformed)? as usize;
        let kind = u16_at(buf, 4).ok_or_else(malformed)?;
        if len < NLMSG_HDRLEN || len > buf.len() {
            return Err(malformed());
        }
        let payload = &buf[NLMSG_HDRLEN..len];
        match kind as libc::c_int {
            libc::NLMSG_DONE => return Ok(true),
            libc::NLMSG_ERROR => {
                let errno = u32_at(payload, 0).ok_or_else(malformed)? as i32;
                return Err(io::Error::from_raw_os_error(-errno));
            }
            _ => attributes(payload, found)?,
        }
        buf = &buf[align4(len).min(buf.len())..];
    }
    Ok(false)
}

/// The `UNIX_DIAG_VFS` attribute of one `unix_diag_msg`, if it has one
/// (an unbound or abstract socket has none).
fn attributes(msg: &[u8], found: &mut Vec<BoundFile>) -> io::Result<()> {
    let mut rest = msg.get(UNIX_DIAG_MSG_LEN..).ok_or_else(malformed)?;
    while rest.len() >= 4 {
        let len = usize::from(u16_at(rest, 0).ok_or_else(malformed)?);
        let kind = u16_at(rest, 2).ok_or_else(malformed)?;
        if len < 4 || len > rest.len() {
            return Err(malformed());
        }
        if kind == UNIX_DIAG_VFS {
            let ino = u32_at(rest, 4).ok_or_else(malformed)?;
            let dev = u32_at(rest, 8).ok_or_else(malformed)?;
            found.push(BoundFile { dev, ino });
        }
        rest = &rest[align4(len).min(rest.len())..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One `nlmsghdr` of `kind` around `payload`.
    fn message(kind: u16, payload: &[u8]) -> Vec<u8> {
        let len = (NLMSG_HDRLEN + payload.len()) as u32;
        let mut m = Vec::new();
        m.extend_from_slice(&len.to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&[0; 10]);
        m.extend_from_slice(payload);
        while m.len() % 4 != 0 {
            m.push(0);
        }
        m
    }

    fn socket_msg(vfs: Option<(u32, u32)>) -> Vec<u8> {
        let mut p = vec![libc::AF_UNIX as u8, 1, 10, 0];
        p.extend_from_slice(&[7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        // An attribute before the one looked for, of odd length.
        p.extend_from_slice(&7u16.to_ne_bytes());
        p.extend_from_slice(&0u16.to_ne_bytes());
        p.extend_from_slice(&[b'/', b'x', b'y', 0]);
        if let Some((ino, dev)) = vfs {
            p.extend_from_slice(&12u16.to_ne_bytes());
            p.extend_from_slice(&UNIX_DIAG_VFS.to_ne_bytes());
            p.extend_from_slice(&ino.to_ne_bytes());
            p.extend_from_slice(&dev.to_ne_bytes());
        }
        message(SOCK_DIAG_BY_FAMILY, &p)
    }

    #[test]
    fn replies_give_the_bound_files_and_end_at_done() {
        let mut buf = socket_msg(Some((1234, (8 << 20) | 3)));
        buf.extend(socket_msg(None));
        buf.extend(socket_msg(Some((99, 5))));
        let mut found = Vec::new();
        assert!(!parse(&buf, &mut found).unwrap());
        buf.extend(message(libc::NLMSG_DONE as u16, &[0; 4]));
        found.clear();
        assert!(parse(&buf, &mut found).unwrap());
        assert_eq!(
            found,
            [
                BoundFile {
                    dev: (8 << 20) | 3,
                    ino: 1234
                },
                BoundFile { dev: 5, ino: 99 }
            ]
        );
    }

    #[test]
    fn errors_and_garbage_are_errors_not_panics() {
        let error = message(libc::NLMSG_ERROR as u16, &(-libc::EPERM).to_ne_bytes());
        let e = parse(&error, &mut Vec::new()).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EPERM));
        let mut truncated = socket_msg(Some((1, 2)));
        truncated[0] = 200;
        assert!(parse(&truncated, &mut Vec::new()).is_err());
        let mut bad_attr = socket_msg(Some((1, 2)));
        bad_attr[NLMSG_HDRLEN + UNIX_DIAG_MSG_LEN] = 200;
        assert!(parse(&bad_attr, &mut Vec::new()).is_err());
    }

    #[test]
    fn stat_devices_are_encoded_as_the_kernel_does() {
        let dev = libc::makedev(259, 70000);
        assert_eq!(
            BoundFile::of_stat(dev, 42),
            Some(BoundFile {
                dev: (259 << 20) | 70000,
                ino: 42
            })
        );
        assert_eq!(BoundFile::of_stat(dev, 1 << 32), None);
    }

    #[test]
    fn a_socket_bound_here_is_listed_with_its_file() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        let Some(file) = BoundFile::of_stat(meta.dev(), meta.ino()) else {
            eprintln!("skipped: the temporary directory has 64-bit inode numbers");
            return;
        };
        let bound = match bound_sockets() {
            Ok(bound) => bound,
            Err(e) => return crate::skip_test(&format!("socket diagnostics unavailable: {e}")),
        };
        assert!(bound.contains(&file), "{file:?} not in {bound:?}");
    }
}
