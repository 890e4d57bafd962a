//! Whether a destination may be reached, and the connection to it.
//!
//! In order: the host's spelling is normalised ([`parse_host`]); the deny
//! and allow entries judge the name and port ([`DomainRules::decide`]);
//! a name is resolved; every address is classified
//! ([`stockade_policy::net_range::classify`]) and one in a special range
//! (loopback, private, link-local, CGNAT, metadata, ...) is dropped unless
//! `allow_ranges` names it; the proxy connects to the first address left.
//!
//! # Security
//!
//! The range check is on the exact address connected to, after
//! resolution, so an allowed name that resolves (or is rebound) to the
//! host or its network is refused. It applies to IP literals an entry
//! allows as well: reaching a loopback or private address always takes an
//! `allow_ranges` entry too.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use stockade_policy::domain::{DenyReason, DomainRules, Host, Verdict, parse_host};
use stockade_policy::net_range::{IpRange, SpecialRange, classify};
use tokio::net::TcpStream;

/// How long resolving a name and connecting may take, each.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The destination rules of one proxy.
#[derive(Clone, Debug, Default)]
pub struct Gate {
    pub rules: DomainRules,
    pub allow_ranges: Vec<IpRange>,
}

/// Why a destination was not reached.
#[derive(Debug)]
pub enum Refusal {
    /// The host is not a valid name or address.
    Malformed(String),
    /// The deny and allow entries refuse it.
    Rule {
        reason: DenyReason,
        rule: Option<String>,
    },
    /// Every address the name has is in a range the policy does not allow.
    Range { ip: IpAddr, range: SpecialRange },
    /// The name does not resolve (not a policy decision).
    Unresolved(io::Error),
    /// No address answered (not a policy decision).
    Unreachable(io::Error),
}

impl Refusal {
    /// Whether the policy refused it (a denial), rather than the network
    /// failing.
    pub fn is_policy(&self) -> bool {
        matches!(
            self,
            Refusal::Malformed(_) | Refusal::Rule { .. } | Refusal::Range { .. }
        )
    }

    /// The rule that refused it, as a denial record names it.
    pub fn rule(&self) -> String {
        match self {
            Refusal::Malformed(_) => "network.allow (malformed host)".into(),
            Refusal::Rule { reason, rule } => match (reason, rule) {
                (DenyReason::DenyListed, Some(rule)) => format!("network.deny {rule}"),
                (DenyReason::PortNotAllowed, Some(rule)) => {
                    format!("network.allow {rule} (port not allowed)")
                }
                (reason, _) => format!("network.allow ({reason})"),
            },
            Refusal::Range { ip, range } => {
                format!("network.allow_ranges ({ip} is {range})")
            }
            Refusal::Unresolved(_) => "dns".into(),
            Refusal::Unreachable(_) => "connect".into(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Malformed(message) => write!(f, "malformed destination: {message}"),
            Refusal::Rule {
                reason,
                rule: Some(rule),
            } => write!(f, "{reason} ({rule})"),
            Refusal::Rule { reason, rule: None } => write!(f, "{reason}"),
            Refusal::Range { ip, range } => write!(
                f,
                "the name resolves to {ip}, a {range} address; add its range to network.allow_ranges to reach it"
            ),
            Refusal::Unresolved(e) => write!(f, "the name does not resolve: {e}"),
            Refusal::Unreachable(e) => write!(f, "no address answered: {e}"),
        }
    }
}

impl Gate {
    /// Judges `host:port` as written (no resolution yet): the normalised
    /// host, or the refusal.
    pub fn judge(&self, host: &str, port: u16) -> Result<Host, Refusal> {
        let host = parse_host(host).map_err(|e| Refusal::Malformed(e.message))?;
        match self.rules.decide(&host, port) {
            Verdict::Allowed { .. } => Ok(host),
            Verdict::Denied { reason, rule } => Err(Refusal::Rule { reason, rule }),
        }
    }

    /// Whether an address may be connected to: `None`, or the special
    /// range it is in that `allow_ranges` does not name.
    pub fn range_refusal(&self, ip: IpAddr) -> Option<SpecialRange> {
        let range = classify(ip)?;
        let allowed = self.allow_ranges.iter().any(|r| r.contains(ip));
        (!allowed).then_some(range)
    }

    /// Judges, resolves and connects: the connection, or why there is none.
    pub async fn connect(&self, host: &str, port: u16) -> Result<TcpStream, Refusal> {
        let host = self.judge(host, port)?;
        let addresses: Vec<SocketAddr> = match &host {
            Host::Ip(ip) => vec![SocketAddr::new(*ip, port)],
            Host::Name(name) => resolve(name, port).await.map_err(Refusal::Unresolved)?,
        };
        let mut refused = None;
        let mut last_error = None;
        for address in addresses {
            if let Some(range) = self.range_refusal(address.ip()) {
                refused.get_or_insert(Refusal::Range {
                    ip: address.ip(),
                    range,
                });
                continue;
            }
            match tokio::time::timeout(TIMEOUT, TcpStream::connect(address)).await {
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    return Ok(stream);
                }
                Ok(Err(e)) => last_error = Some(e),
                Err(_) => last_error = Some(io::ErrorKind::TimedOut.into()),
            }
        }
        Err(match (last_error, refused) {
            (Some(e), _) => Refusal::Unreachable(e),
            (None, Some(refused)) => refused,
            (None, None) => Refusal::Unresolved(io::Error::other("no address")),
        })
    }
}

/// The addresses of `name` (the system resolver: `/etc/hosts`, then DNS).
async fn resolve(name: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let lookup = tokio::net::lookup_host((name, port));
    match tokio::time::timeout(TIMEOUT, lookup).await {
        Ok(found) => Ok(found?.collect()),
        Err(_) => Err(io::ErrorKind::TimedOut.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(allow: &[&str], deny: &[&str], ranges: &[&str]) -> Gate {
        Gate {
            rules: DomainRules::parse(allow, deny).unwrap(),
            allow_ranges: ranges.iter().map(|r| r.parse().unwrap()).collect(),
        }
    }

    #[test]
    fn names_are_judged_before_anything_resolves() {
        let g = gate(
            &["example.com", "*.example.org", "git.example.net:22"],
            &["bad.example.org"],
            &[],
        );
        assert!(g.judge("EXAMPLE.com.", 443).is_ok());
        assert!(g.judge("a.b.example.org", 80).is_ok());
        assert!(g.judge("git.example.net", 22).is_ok());
        for (host, port) in [
            ("example.org", 443),
            ("bad.example.org", 443),
            ("evil-example.com", 443),
            ("example.com.evil.com", 443),
            ("example.com", 22),
            ("git.example.net", 443),
            ("127.1", 80),
            ("0x7f000001", 80),
            ("2130706433", 80),
            ("[::ffff:127.0.0.1]", 80),
            ("[::1]", 80),
            ("exa mple.com", 80),
        ] {
            let refusal = g.judge(host, port).unwrap_err();
            assert!(refusal.is_policy(), "{host}:{port}: {refusal}");
        }
        let denied = g.judge("bad.example.org", 443).unwrap_err();
        assert_eq!(denied.rule(), "network.deny bad.example.org");
    }

    #[test]
    fn special_addresses_need_their_range() {
        let g = gate(&[], &[], &["10.1.0.0/16"]);
        for ip in [
            "127.0.0.1",
            "10.2.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "::1",
            "fd00:ec2::254",
            "::ffff:192.168.0.1",
            "0.0.0.0",
        ] {
            assert!(g.range_refusal(ip.parse().unwrap()).is_some(), "{ip}");
        }
        for ip in ["10.1.2.3", "198.51.100.7", "2001:db8::1"] {
            assert_eq!(g.range_refusal(ip.parse().unwrap()), None, "{ip}");
        }
    }
}
