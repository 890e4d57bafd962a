//! Network operations: socket families, direct TCP/UDP egress, listening,
//! unix sockets (pathname and abstract), and the interfaces the probe sees.
//! Hosts are IP literals only; the probe never resolves names.

use std::ffi::CStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{self as unix, UnixListener, UnixStream};
use std::time::Duration;

use serde_json::Value;

use crate::errno::{self, check};
use crate::{Args, Failure, Op, Outcome, op};

pub(crate) const OPS: &[Op] = &[
    op("socket", "FAMILY TYPE [PROTOCOL]", 2, 3, socket),
    op("tcp-connect", "HOST PORT", 2, 2, tcp_connect),
    op("udp-send", "HOST PORT", 2, 2, udp_send),
    op("tcp-listen", "HOST PORT", 2, 2, tcp_listen),
    op("unix-connect", "PATH", 1, 1, unix_connect),
    op("unix-connect-fd", "PATH", 1, 1, unix_connect_fd),
    op("unix-echo", "PATH", 1, 1, unix_echo),
    op("unix-echo-thread", "PATH", 1, 1, unix_echo_thread),
    op("unix-dgram-send", "PATH", 1, 1, unix_dgram_send),
    op("connect-edge-cases", "", 0, 0, connect_edge_cases),
    op("abstract-connect", "NAME", 1, 1, abstract_connect),
    op("abstract-listen", "NAME", 1, 1, abstract_listen),
    op("abstract-echo", "NAME", 1, 1, abstract_echo),
    op("interfaces", "", 0, 0, interfaces),
];

/// A name from a table, or a plain number.
fn lookup(kind: &str, value: &str, table: &[(&str, libc::c_int)]) -> Result<libc::c_int, Failure> {
    if let Some(&(_, n)) = table.iter().find(|(name, _)| *name == value) {
        return Ok(n);
    }
    value
        .parse()
        .map_err(|_| Failure::Usage(format!("unknown {kind} {value:?}")))
}

const FAMILIES: &[(&str, libc::c_int)] = &[
    ("unix", libc::AF_UNIX),
    ("inet", libc::AF_INET),
    ("inet6", libc::AF_INET6),
    ("packet", libc::AF_PACKET),
    ("netlink", libc::AF_NETLINK),
    ("vsock", libc::AF_VSOCK),
    ("bluetooth", libc::AF_BLUETOOTH),
];

const TYPES: &[(&str, libc::c_int)] = &[
    ("stream", libc::SOCK_STREAM),
    ("dgram", libc::SOCK_DGRAM),
    ("raw", libc::SOCK_RAW),
    ("seqpacket", libc::SOCK_SEQPACKET),
];

const PROTOCOLS: &[(&str, libc::c_int)] = &[
    ("icmp", libc::IPPROTO_ICMP),
    ("icmpv6", libc::IPPROTO_ICMPV6),
    ("tcp", libc::IPPROTO_TCP),
    ("udp", libc::IPPROTO_UDP),
    ("sctp", libc::IPPROTO_SCTP),
    // IPPROTO_MPTCP.
    ("mptcp", 262),
];

/// `socket(FAMILY, TYPE|SOCK_CLOEXEC, PROTOCOL)`. Without PROTOCOL, raw inet
/// sockets use ICMP (ICMPv6) and everything else 0. `{"protocol"}`.
fn socket(a: &Args) -> Outcome {
    let family = lookup("family", a.str(0)?, FAMILIES)?;
    let kind = lookup("type", a.str(1)?, TYPES)?;
    let protocol = match (a.len(), family, kind) {
        (3, ..) => lookup("protocol", a.str(2)?, PROTOCOLS)?,
        (_, libc::AF_INET, libc::SOCK_RAW) => libc::IPPROTO_ICMP,
        (_, libc::AF_INET6, libc::SOCK_RAW) => libc::IPPROTO_ICMPV6,
        _ => 0,
    };
    // SAFETY: socket takes no pointers.
    let fd = check(unsafe { libc::socket(family, kind | libc::SOCK_CLOEXEC, protocol) })?;
    errno::close(fd);
    Ok(vec![("protocol", Value::from(protocol))])
}

/// HOST (an IP literal, optionally in brackets) and PORT.
fn address(a: &Args) -> Result<SocketAddr, Failure> {
    let host = a.str(0)?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let ip: IpAddr = host
        .parse()
        .map_err(|_| Failure::Usage(format!("not an IP literal: {host:?}")))?;
    Ok(SocketAddr::new(ip, a.num(1)?))
}

/// Non-blocking `connect` + `poll` with a 2 s timeout (ETIMEDOUT).
fn tcp_connect(a: &Args) -> Outcome {
    TcpStream::connect_timeout(&address(a)?, Duration::from_secs(2))?;
    Ok(vec![])
}

/// Sends one datagram from an ephemeral port of the same family: `{"bytes"}`.
fn udp_send(a: &Args) -> Outcome {
    let target = address(a)?;
    let any: IpAddr = match target {
        SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    let socket = UdpSocket::bind(SocketAddr::new(any, 0))?;
    let sent = socket.send_to(b"stockade-probe\n", target)?;
    Ok(vec![("bytes", Value::from(sent))])
}

/// `bind` + `listen`, closed again at once: `{"port"}` (the one bound, useful
/// with PORT 0).
fn tcp_listen(a: &Args) -> Outcome {
    let listener = TcpListener::bind(address(a)?)?;
    Ok(vec![("port", Value::from(listener.local_addr()?.port()))])
}

fn unix_connect(a: &Args) -> Outcome {
    UnixStream::connect(a.path(0))?;
    Ok(vec![])
}

/// Opens PATH with `O_PATH` and connects through `/proc/self/fd/N`.
fn unix_connect_fd(a: &Args) -> Outcome {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH)
        .open(a.path(0))?;
    UnixStream::connect(format!("/proc/self/fd/{}", file.as_raw_fd()))?;
    Ok(vec![])
}

/// A server of the probe's own: binds PATH, connects to it, sends a byte
/// and reads it on the accepted side, then removes PATH.
fn unix_echo(a: &Args) -> Outcome {
    let listener = UnixListener::bind(a.path(0))?;
    let result = echo(&listener, UnixStream::connect(a.path(0)));
    std::fs::remove_file(a.path(0))?;
    result
}

/// [`unix_echo`] on a second thread, whose `connect` the supervisor must
/// answer as the thread's, not the process's.
fn unix_echo_thread(a: &Args) -> Outcome {
    let path = a.path(0).to_path_buf();
    std::thread::spawn(move || -> std::io::Result<()> {
        let listener = UnixListener::bind(&path)?;
        let result = echo_io(&listener, UnixStream::connect(&path));
        std::fs::remove_file(&path)?;
        result
    })
    .join()
    .map_err(|_| Failure::Usage("the thread panicked".into()))??;
    Ok(vec![])
}

/// The same with the abstract name `"\0NAME"`.
fn abstract_echo(a: &Args) -> Outcome {
    let address = abstract_address(a)?;
    let listener = UnixListener::bind_addr(&address)?;
    echo(&listener, UnixStream::connect_addr(&address))
}

fn echo(listener: &UnixListener, client: std::io::Result<UnixStream>) -> Outcome {
    echo_io(listener, client)?;
    Ok(vec![])
}

fn echo_io(listener: &UnixListener, client: std::io::Result<UnixStream>) -> std::io::Result<()> {
    use std::io::{Read, Write};
    client?.write_all(b"e")?;
    let (mut accepted, _) = listener.accept()?;
    let mut byte = [0u8];
    accepted.read_exact(&mut byte)
}

/// `connect` calls the kernel refuses before reaching anything, each
/// answered with its errno name (or "ok"): a sandbox that makes `connect`
/// on the caller's behalf must answer exactly as the kernel does.
fn connect_edge_cases(_: &Args) -> Outcome {
    let unix_path = |path: &[u8]| {
        let mut a = (libc::AF_UNIX as u16).to_ne_bytes().to_vec();
        a.extend_from_slice(path);
        a
    };
    let attempt = |fd: libc::c_int, address: *const u8, len: libc::socklen_t| {
        // SAFETY: each address is either valid for `len` bytes, null with
        // length 0, or deliberately unmapped (the kernel then says EFAULT).
        let rc = unsafe { libc::connect(fd, address.cast(), len) };
        Value::from(match rc {
            0 => "ok".to_string(),
            _ => errno::name(errno::last()),
        })
    };
    // SAFETY: socket takes integers only.
    let fd = errno::check(unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0) })?;
    let path = unix_path(b"/nonexistent-stockade-probe");
    let long = unix_path(&[b'a'; 200]);
    let unnamed = unix_path(b"");
    let missing = unix_path(b"\0stockade-probe-nobody");
    let fields = vec![
        ("bad_fd", attempt(-1, std::ptr::null(), 0)),
        ("not_a_socket", attempt(0, path.as_ptr(), path.len() as _)),
        ("unmapped_address", attempt(fd, 16 as *const u8, 20)),
        ("too_long", attempt(fd, long.as_ptr(), long.len() as _)),
        ("negative_length", attempt(fd, path.as_ptr(), u32::MAX)),
        ("unnamed", attempt(fd, unnamed.as_ptr(), unnamed.len() as _)),
        (
            "abstract_missing",
            attempt(fd, missing.as_ptr(), missing.len() as _),
        ),
        ("missing_path", attempt(fd, path.as_ptr(), path.len() as _)),
    ];
    errno::close(fd);
    Ok(fields)
}

/// `sendto` one datagram to the unix socket PATH from an unbound
/// datagram socket: `{"bytes"}`.
fn unix_dgram_send(a: &Args) -> Outcome {
    let socket = unix::UnixDatagram::unbound()?;
    let sent = socket.send_to(b"stockade-probe\n", a.path(0))?;
    Ok(vec![("bytes", Value::from(sent))])
}

fn abstract_address(a: &Args) -> Result<unix::SocketAddr, Failure> {
    Ok(unix::SocketAddr::from_abstract_name(a.bytes(0))?)
}

/// Connects to the abstract unix socket `"\0NAME"`.
fn abstract_connect(a: &Args) -> Outcome {
    UnixStream::connect_addr(&abstract_address(a)?)?;
    Ok(vec![])
}

/// Binds and listens on the abstract unix socket `"\0NAME"`, closed at once.
fn abstract_listen(a: &Args) -> Outcome {
    UnixListener::bind_addr(&abstract_address(a)?)?;
    Ok(vec![])
}

/// `{"entries": [interface names, sorted], "source": "getifaddrs" | "sysfs"}`.
/// getifaddrs (netlink) describes the probe's own network namespace;
/// /sys/class/net, the fallback, that of whoever mounted sysfs.
fn interfaces(_: &Args) -> Outcome {
    let (mut names, source) = match getifaddrs_names() {
        Ok(names) => (names, "getifaddrs"),
        Err(failure) => match std::fs::read_dir("/sys/class/net") {
            Ok(dir) => (
                dir.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect(),
                "sysfs",
            ),
            Err(_) => return Err(failure),
        },
    };
    names.sort();
    names.dedup();
    Ok(vec![
        ("entries", Value::from(names)),
        ("source", Value::from(source)),
    ])
}

fn getifaddrs_names() -> Result<Vec<String>, Failure> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: `list` is a live out-pointer.
    check(unsafe { libc::getifaddrs(&mut list) })?;
    let mut names = Vec::new();
    let mut cursor = list;
    while !cursor.is_null() {
        // SAFETY: `cursor` is a node of the list getifaddrs returned, which
        // stays valid until freeifaddrs below; ifa_name is a C string.
        unsafe {
            let entry = &*cursor;
            if !entry.ifa_name.is_null() {
                names.push(
                    CStr::from_ptr(entry.ifa_name)
                        .to_string_lossy()
                        .into_owned(),
                );
            }
            cursor = entry.ifa_next;
        }
    }
    // SAFETY: `list` came from getifaddrs and is freed exactly once.
    unsafe { libc::freeifaddrs(list) };
    Ok(names)
}
