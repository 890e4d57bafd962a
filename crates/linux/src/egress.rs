//! Network `proxy` mode: the egress proxy's listening sockets live on the
//! loopback of the sandbox's own, otherwise empty, network namespace.
//!
//! The sandbox's init binds `127.0.0.1:3128` (HTTP) and `127.0.0.1:1080`
//! (SOCKS5) once its loopback is up, before the command exists, and sends
//! both listeners to stockade over a socket pair. stockade's proxy accepts
//! on them from outside: a connection the command makes to either port
//! arrives at the proxy, which opens the real connection from the host's
//! network namespace if the policy allows the destination. Nothing else in
//! the sandbox routes anywhere, and nothing outside the sandbox can reach
//! those listeners (they are in its namespace only), so no credential is
//! needed.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::os::fd::{AsRawFd, BorrowedFd};

/// The HTTP proxy's port on the sandbox's loopback.
pub const HTTP_PORT: u16 = 3128;
/// The SOCKS5 proxy's port on the sandbox's loopback.
pub const SOCKS_PORT: u16 = 1080;
/// Both, in that order.
pub const PORTS: [u16; 2] = [HTTP_PORT, SOCKS_PORT];

/// The listeners, as stockade receives them.
#[derive(Debug)]
pub struct EgressListeners {
    pub http: TcpListener,
    pub socks: TcpListener,
}

/// In the sandbox's init, its loopback up: binds both listeners and sends
/// them to stockade over `channel`.
pub(crate) fn bind_and_send(channel: BorrowedFd<'_>) -> io::Result<()> {
    for port in PORTS {
        let listener = TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))?;
        crate::supervisor::fdpass::send(channel, listener.as_raw_fd())?;
    }
    Ok(())
}

/// In stockade: the two listeners the init sent.
pub(crate) fn receive(channel: BorrowedFd<'_>) -> io::Result<EgressListeners> {
    let next = || {
        crate::supervisor::fdpass::receive(channel)?
            .map(TcpListener::from)
            .ok_or_else(|| io::Error::other("the sandbox sent no proxy listener"))
    };
    Ok(EgressListeners {
        http: next()?,
        socks: next()?,
    })
}

/// The variables that point ordinary tools at the proxy: the common
/// `*_PROXY` ones and their lower-case twins (curl, git, pip, cargo, Go,
/// Python's requests), `NO_PROXY` empty (no destination bypasses the
/// proxy), and the npm, yarn, pip and cargo spellings.
pub fn environment() -> Vec<(String, String)> {
    let http = format!("http://127.0.0.1:{HTTP_PORT}");
    let socks = format!("socks5h://127.0.0.1:{SOCKS_PORT}");
    let mut vars = Vec::new();
    for (name, value) in [
        ("HTTP_PROXY", &http),
        ("HTTPS_PROXY", &http),
        ("ALL_PROXY", &socks),
        ("NO_PROXY", &String::new()),
    ] {
        vars.push((name.to_owned(), value.clone()));
        vars.push((name.to_ascii_lowercase(), value.clone()));
    }
    for name in [
        "npm_config_proxy",
        "npm_config_https_proxy",
        "YARN_HTTP_PROXY",
        "YARN_HTTPS_PROXY",
        "PIP_PROXY",
        "CARGO_HTTP_PROXY",
    ] {
        vars.push((name.to_owned(), http.clone()));
    }
    vars.push(("npm_config_noproxy".to_owned(), String::new()));
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_is_pointed_at_the_proxy_and_nothing_bypasses_it() {
        let vars = environment();
        let get = |n: &str| vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("https_proxy"), Some("http://127.0.0.1:3128"));
        assert_eq!(get("ALL_PROXY"), Some("socks5h://127.0.0.1:1080"));
        assert_eq!(get("NO_PROXY"), Some(""));
        assert_eq!(get("no_proxy"), Some(""));
        assert_eq!(get("CARGO_HTTP_PROXY"), Some("http://127.0.0.1:3128"));
    }

    #[test]
    fn listeners_cross_to_stockade() {
        // Ephemeral ports in this process's namespace: the crossing is
        // what is checked here, the fixed ports in the sandbox tests.
        let (ours, theirs) = crate::supervisor::fdpass::pair().unwrap();
        let a = TcpListener::bind("127.0.0.1:0").unwrap();
        let b = TcpListener::bind("127.0.0.1:0").unwrap();
        use std::os::fd::AsFd;
        crate::supervisor::fdpass::send(theirs.as_fd(), a.as_raw_fd()).unwrap();
        crate::supervisor::fdpass::send(theirs.as_fd(), b.as_raw_fd()).unwrap();
        let got = receive(ours.as_fd()).unwrap();
        assert_eq!(got.http.local_addr().unwrap(), a.local_addr().unwrap());
        assert_eq!(got.socks.local_addr().unwrap(), b.local_addr().unwrap());
    }
}
