//! The SOCKS5 messages (RFC 1928) and username/password sub-negotiation
//! (RFC 1929) the proxy reads, parsed from bytes as they arrive. Pure and
//! fuzzed: each parser says how many bytes a complete message took, or
//! that more are needed, or why the bytes are not that message.

use std::net::{Ipv4Addr, Ipv6Addr};

/// The protocol version byte.
pub const VERSION: u8 = 5;
/// Method: no authentication.
pub const NO_AUTH: u8 = 0x00;
/// Method: username and password (RFC 1929).
pub const USER_PASS: u8 = 0x02;
/// Method reply: none of the offered methods is acceptable.
pub const NO_ACCEPTABLE: u8 = 0xff;
/// The username/password sub-negotiation's version byte.
pub const USER_PASS_VERSION: u8 = 1;

/// Reply codes.
pub mod reply {
    pub const SUCCEEDED: u8 = 0x00;
    pub const GENERAL_FAILURE: u8 = 0x01;
    pub const NOT_ALLOWED: u8 = 0x02;
    pub const HOST_UNREACHABLE: u8 = 0x04;
    pub const CONNECTION_REFUSED: u8 = 0x05;
    pub const COMMAND_NOT_SUPPORTED: u8 = 0x07;
    pub const ADDRESS_NOT_SUPPORTED: u8 = 0x08;
}

/// A parse step: a complete message and the bytes it took, or a call for
/// more bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed<T> {
    Done(T, usize),
    Incomplete,
}

/// Bytes that are not the expected message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireError {
    /// Not SOCKS version 5 (SOCKS4 clients resolve names themselves).
    Version(u8),
    /// A greeting that offers no method.
    NoMethods,
    /// A command other than `CONNECT` (`BIND`, `UDP ASSOCIATE`).
    Command(u8),
    /// An address type other than IPv4, domain name and IPv6.
    AddressType(u8),
    /// A domain name of length zero.
    EmptyName,
    /// The reserved byte is not zero.
    Reserved,
}

impl WireError {
    /// The reply code a client gets for this error.
    pub fn reply(self) -> u8 {
        match self {
            WireError::Command(_) => reply::COMMAND_NOT_SUPPORTED,
            WireError::AddressType(_) => reply::ADDRESS_NOT_SUPPORTED,
            _ => reply::GENERAL_FAILURE,
        }
    }
}

/// The client's greeting: the methods it offers.
pub fn greeting(buf: &[u8]) -> Result<Parsed<Vec<u8>>, WireError> {
    let [version, count, rest @ ..] = buf else {
        return version_check(buf).map(|()| Parsed::Incomplete);
    };
    if *version != VERSION {
        return Err(WireError::Version(*version));
    }
    let count = usize::from(*count);
    if count == 0 {
        return Err(WireError::NoMethods);
    }
    match rest.get(..count) {
        Some(methods) => Ok(Parsed::Done(methods.to_vec(), 2 + count)),
        None => Ok(Parsed::Incomplete),
    }
}

fn version_check(buf: &[u8]) -> Result<(), WireError> {
    match buf.first() {
        Some(&v) if v != VERSION => Err(WireError::Version(v)),
        _ => Ok(()),
    }
}

/// Username and password (RFC 1929), as bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub user: Vec<u8>,
    pub password: Vec<u8>,
}

/// The username/password sub-negotiation.
pub fn user_pass(buf: &[u8]) -> Result<Parsed<Credentials>, WireError> {
    let Some(&version) = buf.first() else {
        return Ok(Parsed::Incomplete);
    };
    if version != USER_PASS_VERSION {
        return Err(WireError::Version(version));
    }
    let Some(user) = counted(buf, 1) else {
        return Ok(Parsed::Incomplete);
    };
    let after_user = 2 + user.len();
    let Some(password) = counted(buf, after_user) else {
        return Ok(Parsed::Incomplete);
    };
    let used = after_user + 1 + password.len();
    Ok(Parsed::Done(
        Credentials {
            user: user.to_vec(),
            password: password.to_vec(),
        },
        used,
    ))
}

/// A length byte at `at` and that many bytes after it, if all have arrived.
fn counted(buf: &[u8], at: usize) -> Option<&[u8]> {
    let len = usize::from(*buf.get(at)?);
    buf.get(at + 1..at + 1 + len)
}

/// Where a `CONNECT` request goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    V4(Ipv4Addr),
    /// A name, as bytes (the proxy resolves it: `socks5h`).
    Name(Vec<u8>),
    V6(Ipv6Addr),
}

/// A `CONNECT` request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub address: Address,
    pub port: u16,
}

/// The client's request. Only `CONNECT` is served.
pub fn request(buf: &[u8]) -> Result<Parsed<Request>, WireError> {
    let [version, command, reserved, kind, rest @ ..] = buf else {
        return version_check(buf).map(|()| Parsed::Incomplete);
    };
    if *version != VERSION {
        return Err(WireError::Version(*version));
    }
    if *command != 0x01 {
        return Err(WireError::Command(*command));
    }
    if *reserved != 0 {
        return Err(WireError::Reserved);
    }
    let (address, len) = match *kind {
        0x01 => match rest.get(..4) {
            Some(b) => (Address::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])), 4),
            None => return Ok(Parsed::Incomplete),
        },
        0x03 => match counted(rest, 0) {
            Some([]) => return Err(WireError::EmptyName),
            Some(name) => (Address::Name(name.to_vec()), 1 + name.len()),
            None => return Ok(Parsed::Incomplete),
        },
        0x04 => match rest.get(..16).and_then(|b| <[u8; 16]>::try_from(b).ok()) {
            Some(b) => (Address::V6(Ipv6Addr::from(b)), 16),
            None => return Ok(Parsed::Incomplete),
        },
        other => return Err(WireError::AddressType(other)),
    };
    match rest.get(len..len + 2) {
        Some(p) => Ok(Parsed::Done(
            Request {
                address,
                port: u16::from_be_bytes([p[0], p[1]]),
            },
            4 + len + 2,
        )),
        None => Ok(Parsed::Incomplete),
    }
}

/// A reply to a request: the code, and an unspecified bound address.
pub fn reply(code: u8) -> [u8; 10] {
    [VERSION, code, 0, 0x01, 0, 0, 0, 0, 0, 0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_greeting_arrives_in_pieces() {
        let full = [5, 2, 0, 2];
        for cut in 0..full.len() {
            assert_eq!(greeting(&full[..cut]), Ok(Parsed::Incomplete), "cut {cut}");
        }
        assert_eq!(greeting(&full), Ok(Parsed::Done(vec![0, 2], 4)));
        assert_eq!(greeting(&[4, 1, 0]), Err(WireError::Version(4)));
        assert_eq!(greeting(&[4]), Err(WireError::Version(4)));
        assert_eq!(greeting(&[5, 0]), Err(WireError::NoMethods));
    }

    #[test]
    fn requests_of_each_address_type_parse() {
        let name = [
            5, 1, 0, 3, 11, b'e', b'x', b'a', b'm', b'p', b'l', b'e', b'.', b'c', b'o', b'm', 1,
            187,
        ];
        assert_eq!(
            request(&name),
            Ok(Parsed::Done(
                Request {
                    address: Address::Name(b"example.com".to_vec()),
                    port: 443
                },
                name.len()
            ))
        );
        for cut in 0..name.len() {
            assert_eq!(request(&name[..cut]), Ok(Parsed::Incomplete), "cut {cut}");
        }
        let v4 = [5, 1, 0, 1, 127, 0, 0, 1, 0, 80];
        assert!(
            matches!(request(&v4), Ok(Parsed::Done(Request { address: Address::V4(a), port: 80 }, 10)) if a.is_loopback())
        );
        let mut v6 = vec![5, 1, 0, 4];
        v6.extend(Ipv6Addr::LOCALHOST.octets());
        v6.extend([0, 22]);
        assert!(
            matches!(request(&v6), Ok(Parsed::Done(Request { address: Address::V6(a), port: 22 }, 22)) if a.is_loopback())
        );
    }

    #[test]
    fn other_commands_and_types_are_refused_with_their_codes() {
        let bind = request(&[5, 2, 0, 1, 1, 2, 3, 4, 0, 80]).unwrap_err();
        assert_eq!(bind.reply(), reply::COMMAND_NOT_SUPPORTED);
        let udp = request(&[5, 3, 0, 1]).unwrap_err();
        assert_eq!(udp, WireError::Command(3));
        let kind = request(&[5, 1, 0, 9, 0]).unwrap_err();
        assert_eq!(kind.reply(), reply::ADDRESS_NOT_SUPPORTED);
        assert_eq!(request(&[5, 1, 0, 3, 0, 0, 80]), Err(WireError::EmptyName));
        assert_eq!(request(&[5, 1, 1, 1]), Err(WireError::Reserved));
    }

    #[test]
    fn user_pass_parses_both_fields() {
        let msg = [1, 3, b'b', b'o', b'b', 2, b'p', b'w'];
        for cut in 0..msg.len() {
            assert_eq!(user_pass(&msg[..cut]), Ok(Parsed::Incomplete), "cut {cut}");
        }
        let Ok(Parsed::Done(c, 8)) = user_pass(&msg) else {
            panic!("not parsed")
        };
        assert_eq!(
            (c.user.as_slice(), c.password.as_slice()),
            (&b"bob"[..], &b"pw"[..])
        );
        assert_eq!(user_pass(&[5, 0, 0]), Err(WireError::Version(5)));
    }
}
