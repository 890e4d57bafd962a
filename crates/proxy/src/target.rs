//! The destination a client names: the authority of a `CONNECT` request
//! (`host:port`) or of an absolute-form URL (`http://host[:port]/...`).
//!
//! Only the split into host and port happens here; what the host means
//! (a name, an IP address in some spelling) is the policy crate's
//! [`stockade_policy::domain::parse_host`]. The parser is pure and fuzzed.

use std::fmt;

/// A host and port as the client wrote them (an IPv6 host keeps its
/// brackets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// Why an authority is not a destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetError(pub &'static str);

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Splits `authority` into host and port. `default_port` applies when no
/// port is written (80 for `http://` URLs); `None` makes a port required
/// (`CONNECT`).
///
/// # Security
///
/// User-info (`user@host`) is refused rather than stripped, so that the
/// host judged is the only host anything could read out of the text.
pub fn parse_authority(authority: &str, default_port: Option<u16>) -> Result<Target, TargetError> {
    if authority.contains('@') {
        return Err(TargetError("user-info in the destination is not allowed"));
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let Some(end) = rest.find(']') else {
            return Err(TargetError("an IPv6 address without its closing ']'"));
        };
        let host = &authority[..end + 2];
        match &rest[end + 1..] {
            "" => (host, None),
            after => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(TargetError("text after the IPv6 address")),
            },
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, _)) if host.contains(':') => {
                return Err(TargetError("an IPv6 address must be in brackets"));
            }
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err(TargetError("the host is empty"));
    }
    let port = match port {
        Some(text) => parse_port(text)?,
        None => default_port.ok_or(TargetError("the destination has no port"))?,
    };
    Ok(Target {
        host: host.to_owned(),
        port,
    })
}

/// A decimal port, 1 to 65535, digits only.
fn parse_port(text: &str) -> Result<u16, TargetError> {
    if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TargetError("the port is not a number from 1 to 65535"));
    }
    match text.parse::<u16>() {
        Ok(port) if port != 0 => Ok(port),
        _ => Err(TargetError("the port is not a number from 1 to 65535")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str, default: Option<u16>) -> (String, u16) {
        let t = parse_authority(text, default).unwrap();
        (t.host, t.port)
    }

    #[test]
    fn names_addresses_and_ports_split() {
        assert_eq!(ok("example.com:443", None), ("example.com".into(), 443));
        assert_eq!(ok("example.com", Some(80)), ("example.com".into(), 80));
        assert_eq!(ok("[::1]:8080", None), ("[::1]".into(), 8080));
        assert_eq!(
            ok("[::ffff:127.0.0.1]", Some(80)),
            ("[::ffff:127.0.0.1]".into(), 80)
        );
        assert_eq!(ok("127.1:22", None), ("127.1".into(), 22));
    }

    #[test]
    fn malformed_authorities_are_refused() {
        for bad in [
            "example.com",
            "example.com:",
            "example.com:0",
            "example.com:65536",
            "example.com:+80",
            "example.com:8o",
            "user@example.com:443",
            "a:b@example.com:443",
            "::1:443",
            "[::1",
            "[::1]x:443",
            ":443",
            "[]:443",
        ] {
            assert!(parse_authority(bad, None).is_err(), "{bad} was accepted");
        }
    }
}
