//! Proxy allow/deny entries (SPEC 4) and the normalisation of destination
//! hosts.
//!
//! A [`DomainPattern`] is one entry of `network.allow` / `network.deny` (or of
//! `--allow-domain` / `--deny-domain`): a host name, a `*.` wildcard over the
//! subdomains of a name, or an IP literal, optionally with a port. A [`Host`]
//! is a destination as a client asked for it, normalised by [`parse_host`] so
//! that every spelling of the same destination compares equal: case-folded,
//! trailing dot removed, internationalised names in punycode, and every
//! spelling of an IP address (`127.1`, `0x7f000001`, `[::ffff:127.0.0.1]`, ...)
//! recognised as that address. [`DomainRules::decide`] answers whether a
//! destination may be reached and which entry decided it.
//!
//! # Security
//!
//! The parser follows the WHATWG URL host parser: a host whose last label is
//! numeric is an IPv4 address or an error, never a name, so `1.2.3.256` or
//! `example.0x1` cannot slip past as names. IP literals are refused unless an
//! entry names that address literally; a wildcard can never match an address.
//! What a name resolves to is not checked here: the proxy checks the resolved
//! addresses against [`crate::net_range`].

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The hint attached to most entry errors.
const ENTRY_HINT: &str = "write a host name like 'example.com', a wildcard like '*.example.com' \
     or an IP address like '192.0.2.1' or '[2001:db8::1]', optionally with ':PORT'";

/// The longest host name DNS can carry, without the trailing dot.
const MAX_NAME_LEN: usize = 253;
/// The longest label DNS can carry.
const MAX_LABEL_LEN: usize = 63;

/// A malformed allow/deny entry or destination host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("invalid domain entry '{input}': {message}")]
pub struct DomainError {
    /// What was written, unchanged.
    pub input: String,
    /// What is wrong with it.
    pub message: String,
    /// What to write instead.
    pub hint: String,
}

impl DomainError {
    fn new(input: &str, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            input: input.to_owned(),
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// The host part of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HostPattern {
    /// Exactly this name (lowercase ASCII, punycode, no trailing dot).
    Exact(String),
    /// `*.NAME`: every name strictly below NAME (`a.NAME`, `a.b.NAME`), not
    /// NAME itself. Holds NAME in the same normal form as [`HostPattern::Exact`].
    Subdomains(String),
    /// Exactly this IP address (an IPv4-mapped IPv6 address is stored as
    /// its IPv4 address).
    Ip(IpAddr),
}

impl HostPattern {
    /// Whether `host` is matched by this pattern, regardless of port.
    pub fn matches_host(&self, host: &Host) -> bool {
        match (self, host) {
            (HostPattern::Exact(want), Host::Name(name)) => {
                trim_root(name).eq_ignore_ascii_case(want)
            }
            (HostPattern::Subdomains(suffix), Host::Name(name)) => {
                // `a.NAME` or deeper: a non-empty head that ends in '.'.
                let name = trim_root(name);
                let Some(split) = name.len().checked_sub(suffix.len()) else {
                    return false;
                };
                match (name.get(..split), name.get(split..)) {
                    (Some(head), Some(tail)) => {
                        head.len() > 1 && head.ends_with('.') && tail.eq_ignore_ascii_case(suffix)
                    }
                    _ => false,
                }
            }
            (HostPattern::Ip(want), Host::Ip(ip)) => *want == canonical_ip(*ip),
            _ => false,
        }
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostPattern::Exact(name) => f.write_str(name),
            HostPattern::Subdomains(suffix) => write!(f, "*.{suffix}"),
            HostPattern::Ip(ip) => fmt_ip(*ip, f),
        }
    }
}

/// The port part of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PortSpec {
    /// No port written: the web ports, 80 and 443.
    Web,
    /// Exactly this port (never 0).
    Port(u16),
}

impl PortSpec {
    /// The ports an entry without a port allows.
    pub const WEB_PORTS: [u16; 2] = [80, 443];

    /// Whether `port` is allowed by this spec.
    pub fn matches(self, port: u16) -> bool {
        match self {
            PortSpec::Web => Self::WEB_PORTS.contains(&port),
            PortSpec::Port(p) => p == port,
        }
    }
}

/// One allow or deny entry, e.g. `github.com`, `*.github.com`,
/// `git.example.com:22`, `192.0.2.1`, `[2001:db8::1]:443`.
///
/// Serialised as its canonical text ([`fmt::Display`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DomainPattern {
    /// Which hosts the entry names.
    pub host: HostPattern,
    /// Which ports the entry names.
    pub port: PortSpec,
}

impl DomainPattern {
    /// Whether this entry, used as an allow entry, admits `host:port`.
    ///
    /// An entry without a port admits only ports 80 and 443.
    pub fn matches(&self, host: &Host, port: u16) -> bool {
        self.host.matches_host(host) && self.port.matches(port)
    }

    /// Whether this entry, used as a deny entry, refuses `host:port`.
    ///
    /// Unlike [`DomainPattern::matches`], a deny entry without a port refuses
    /// the host on every port: `deny = ["gist.github.com"]` must not leave
    /// `gist.github.com:8443` reachable through a wider allow entry.
    pub fn denies(&self, host: &Host, port: u16) -> bool {
        self.host.matches_host(host)
            && match self.port {
                PortSpec::Web => true,
                PortSpec::Port(p) => p == port,
            }
    }
}

impl fmt::Display for DomainPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.host.fmt(f)?;
        match self.port {
            PortSpec::Web => Ok(()),
            PortSpec::Port(p) => write!(f, ":{p}"),
        }
    }
}

impl FromStr for DomainPattern {
    type Err = DomainError;

    fn from_str(input: &str) -> Result<Self, DomainError> {
        let err = |message: &str, hint: &str| DomainError::new(input, message, hint);
        if input.is_empty() {
            return Err(err("the entry is empty", ENTRY_HINT));
        }
        if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err(
                "the entry contains whitespace or control characters",
                "remove the spaces; write one host per entry",
            ));
        }
        reject_url_parts(input)?;

        let (host_text, port) = split_port(input)?;
        if host_text.is_empty() {
            return Err(err("the host is missing", ENTRY_HINT));
        }

        if let Some(v6) = host_text.strip_prefix('[') {
            // split_port verified the closing bracket.
            let inner = v6.strip_suffix(']').unwrap_or(v6);
            let ip = parse_ipv6(input, inner)?;
            return Ok(DomainPattern {
                host: HostPattern::Ip(ip),
                port,
            });
        }
        if host_text.contains(':') {
            // Several colons and no brackets: a bare IPv6 address, no port.
            let ip = parse_ipv6(input, host_text)?;
            return Ok(DomainPattern {
                host: HostPattern::Ip(ip),
                port,
            });
        }

        if host_text == "*" {
            return Err(err(
                "'*' alone would allow every host",
                "list the domains to allow, or use network mode 'full' for unrestricted access",
            ));
        }
        if let Some(suffix) = host_text.strip_prefix("*.") {
            if suffix.is_empty() || suffix == "." {
                return Err(err(
                    "the wildcard has no domain after '*.'",
                    "write a wildcard like '*.example.com'",
                ));
            }
            if suffix.contains('*') {
                return Err(wildcard_position_error(input));
            }
            return match normalize_host(input, suffix)? {
                Host::Name(name) => Ok(DomainPattern {
                    host: HostPattern::Subdomains(name),
                    port,
                }),
                Host::Ip(ip) => Err(err(
                    "a wildcard cannot apply to an IP address",
                    &format!("write the address itself, like '{}'", DisplayIp(ip)),
                )),
            };
        }
        if host_text.contains('*') {
            return Err(wildcard_position_error(input));
        }

        match normalize_host(input, host_text)? {
            Host::Name(name) => Ok(DomainPattern {
                host: HostPattern::Exact(name),
                port,
            }),
            Host::Ip(IpAddr::V4(v4)) => {
                // Only the plain dotted quad is accepted in a policy: `010.0.0.1`
                // is 8.0.0.1 to a URL parser, which is not what its author meant.
                let written = host_text.strip_suffix('.').unwrap_or(host_text);
                if written != v4.to_string() {
                    return Err(err(
                        &format!("'{written}' is an unusual spelling of the IP address {v4}"),
                        &format!("write the address as a plain dotted quad: '{v4}'"),
                    ));
                }
                Ok(DomainPattern {
                    host: HostPattern::Ip(IpAddr::V4(v4)),
                    port,
                })
            }
            Host::Ip(ip) => Ok(DomainPattern {
                host: HostPattern::Ip(ip),
                port,
            }),
        }
    }
}

impl Serialize for DomainPattern {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DomainPattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A destination host, normalised by [`parse_host`].
///
/// Serialised as text: the name, the IPv4 address, or the IPv6 address in
/// brackets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A name: lowercase ASCII (punycode for internationalised names), no
    /// trailing dot.
    Name(String),
    /// An IP address; an IPv4-mapped IPv6 address is reported as its IPv4
    /// address.
    Ip(IpAddr),
}

impl Host {
    /// Whether this is an IP literal.
    pub fn is_ip(&self) -> bool {
        matches!(self, Host::Ip(_))
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(name) => f.write_str(name),
            Host::Ip(ip) => fmt_ip(*ip, f),
        }
    }
}

impl Serialize for Host {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Normalises a destination host as a client sent it (without a port).
///
/// Names are case-folded, lose one trailing dot and are converted to punycode
/// (UTS-46, as the WHATWG URL standard does). IP literals are recognised in
/// every spelling the WHATWG URL host parser accepts: `127.0.0.1`, `127.1`,
/// `0x7f000001`, `2130706433`, `0177.0.0.1`, `0x7f.1`, and IPv6 in brackets
/// (`[::1]`) or bare (`::1`). An IPv4-mapped IPv6 address
/// (`[::ffff:127.0.0.1]`, `[::ffff:7f00:1]`) is reported as its IPv4 address.
///
/// # Security
///
/// A host whose last label is numeric (`1.2.3.256`, `example.0x10`) is never
/// returned as a name: it is an IPv4 address or an error. Percent-encoded
/// hosts, user-info, ports and IPv6 zone identifiers are errors.
pub fn parse_host(input: &str) -> Result<Host, DomainError> {
    if input.is_empty() {
        return Err(DomainError::new(input, "the host is empty", ENTRY_HINT));
    }
    if let Some(inner) = input.strip_prefix('[') {
        let Some(inner) = inner.strip_suffix(']') else {
            return Err(DomainError::new(
                input,
                "the IPv6 address has no closing ']'",
                "write an IPv6 address in brackets, like '[2001:db8::1]'",
            ));
        };
        return parse_ipv6(input, inner).map(Host::Ip);
    }
    if input.contains(':') {
        return parse_ipv6(input, input).map(Host::Ip);
    }
    normalize_host(input, input)
}

/// Why a destination was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DenyReason {
    /// A deny entry names it.
    DenyListed,
    /// No allow entry names the host.
    NotAllowListed,
    /// An IP literal that no entry allows literally.
    IpLiteral,
    /// An allow entry names the host, but not this port.
    PortNotAllowed,
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DenyReason::DenyListed => "denied by a deny entry",
            DenyReason::NotAllowListed => "not in the allow list",
            DenyReason::IpLiteral => "IP address not allowed literally",
            DenyReason::PortNotAllowed => "port not allowed for this host",
        })
    }
}

/// The outcome of [`DomainRules::decide`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// The destination may be reached; `rule` is the allow entry (canonical
    /// text) that admitted it.
    Allowed { rule: String },
    /// The destination is refused; `rule` is the entry that decided it, if
    /// one did.
    Denied {
        reason: DenyReason,
        rule: Option<String>,
    },
}

impl Verdict {
    /// Whether the destination may be reached.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Verdict::Allowed { .. })
    }
}

/// The allow and deny entries of a network policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainRules {
    /// Entries that admit destinations.
    pub allow: Vec<DomainPattern>,
    /// Entries that refuse destinations, whatever the allow entries say.
    pub deny: Vec<DomainPattern>,
}

impl DomainRules {
    /// Parses allow and deny entries; the first malformed entry is the error.
    pub fn parse<A, D>(allow: A, deny: D) -> Result<Self, DomainError>
    where
        A: IntoIterator,
        A::Item: AsRef<str>,
        D: IntoIterator,
        D::Item: AsRef<str>,
    {
        let allow = allow
            .into_iter()
            .map(|e| e.as_ref().parse())
            .collect::<Result<_, _>>()?;
        let deny = deny
            .into_iter()
            .map(|e| e.as_ref().parse())
            .collect::<Result<_, _>>()?;
        Ok(Self { allow, deny })
    }

    /// Decides whether `host:port` may be reached.
    ///
    /// Deny entries are checked first (an entry without a port denies every
    /// port, see [`DomainPattern::denies`]), then allow entries in order. An
    /// IP literal is admitted only by an entry that is that address; no name
    /// or wildcard ever admits one. An entry without a port admits 80 and 443
    /// only.
    ///
    /// # Security
    ///
    /// This judges the destination as the client named it. A name that
    /// resolves to a loopback, private or metadata address must still be
    /// refused after resolution ([`crate::net_range::classify`]).
    pub fn decide(&self, host: &Host, port: u16) -> Verdict {
        if let Some(entry) = self.deny.iter().find(|d| d.denies(host, port)) {
            return Verdict::Denied {
                reason: DenyReason::DenyListed,
                rule: Some(entry.to_string()),
            };
        }
        if let Some(entry) = self.allow.iter().find(|a| a.matches(host, port)) {
            return Verdict::Allowed {
                rule: entry.to_string(),
            };
        }
        if let Some(entry) = self.allow.iter().find(|a| a.host.matches_host(host)) {
            return Verdict::Denied {
                reason: DenyReason::PortNotAllowed,
                rule: Some(entry.to_string()),
            };
        }
        let reason = if host.is_ip() {
            DenyReason::IpLiteral
        } else {
            DenyReason::NotAllowListed
        };
        Verdict::Denied { reason, rule: None }
    }
}

/// Refuses the parts of a URL that are not a host: scheme, path, user-info,
/// query, fragment.
fn reject_url_parts(input: &str) -> Result<(), DomainError> {
    if let Some((scheme, rest)) = input.split_once("://") {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host = host.rsplit('@').next().unwrap_or(host);
        return Err(DomainError::new(
            input,
            format!("entries are hosts, not URLs (found the scheme '{scheme}://')"),
            format!("write just the host, like '{host}'"),
        ));
    }
    if let Some((host, _)) = input.split_once('/') {
        return Err(DomainError::new(
            input,
            "entries are hosts and cannot contain a path",
            format!("write just the host, like '{host}'; paths cannot be filtered"),
        ));
    }
    if let Some((_, host)) = input.rsplit_once('@') {
        return Err(DomainError::new(
            input,
            "entries cannot contain a user name ('user@')",
            format!("write just the host, like '{host}'"),
        ));
    }
    if let Some(c) = input.chars().find(|c| matches!(c, '?' | '#' | '%' | '\\')) {
        return Err(DomainError::new(
            input,
            format!("invalid character '{c}'"),
            ENTRY_HINT,
        ));
    }
    Ok(())
}

/// Splits `host[:port]` / `[v6][:port]`; a bare IPv6 address has no port.
fn split_port(input: &str) -> Result<(&str, PortSpec), DomainError> {
    if input.starts_with('[') {
        let Some(close) = input.find(']') else {
            return Err(DomainError::new(
                input,
                "the IPv6 address has no closing ']'",
                "write an IPv6 address in brackets, like '[2001:db8::1]:443'",
            ));
        };
        let (host, rest) = input.split_at(close + 1);
        return match rest.strip_prefix(':') {
            None if rest.is_empty() => Ok((host, PortSpec::Web)),
            None => Err(DomainError::new(
                input,
                format!("unexpected '{rest}' after the IPv6 address"),
                "write an IPv6 address in brackets, optionally with a port: '[2001:db8::1]:443'",
            )),
            Some(port) => Ok((host, parse_port(input, port)?)),
        };
    }
    match input.split_once(':') {
        Some((host, port)) if !port.contains(':') => Ok((host, parse_port(input, port)?)),
        // Two or more colons: a bare IPv6 address.
        _ => Ok((input, PortSpec::Web)),
    }
}

fn parse_port(input: &str, port: &str) -> Result<PortSpec, DomainError> {
    let hint = "write a port between 1 and 65535 after the host, like 'example.com:8443'";
    if port.is_empty() {
        return Err(DomainError::new(
            input,
            "the port after ':' is missing",
            hint,
        ));
    }
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DomainError::new(
            input,
            format!("'{port}' is not a port number"),
            hint,
        ));
    }
    match port.parse::<u32>() {
        Ok(0) => Err(DomainError::new(
            input,
            "port 0 cannot be connected to",
            hint,
        )),
        Ok(p) => match u16::try_from(p) {
            Ok(p) => Ok(PortSpec::Port(p)),
            Err(_) => Err(DomainError::new(
                input,
                format!("port {p} is out of range"),
                hint,
            )),
        },
        Err(_) => Err(DomainError::new(
            input,
            format!("port {port} is out of range"),
            hint,
        )),
    }
}

fn wildcard_position_error(input: &str) -> DomainError {
    DomainError::new(
        input,
        "'*' is only allowed as the whole first label, as in '*.example.com'",
        "write '*.example.com' to allow every subdomain of example.com",
    )
}

/// Parses the inside of `[...]` (or a bare IPv6 address).
fn parse_ipv6(input: &str, text: &str) -> Result<IpAddr, DomainError> {
    match text.parse::<Ipv6Addr>() {
        Ok(v6) => Ok(canonical_ip(IpAddr::V6(v6))),
        Err(_) => Err(DomainError::new(
            input,
            format!("'{text}' is not a valid IPv6 address"),
            if text.contains('%') {
                "zone identifiers ('%eth0') are not supported; write the address alone"
            } else {
                "write an IPv6 address in brackets, like '[2001:db8::1]' or '[2001:db8::1]:443'"
            },
        )),
    }
}

/// Reports an IPv4-mapped IPv6 address as its IPv4 address.
fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

fn fmt_ip(ip: IpAddr, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match ip {
        IpAddr::V4(v4) => write!(f, "{v4}"),
        IpAddr::V6(v6) => write!(f, "[{v6}]"),
    }
}

struct DisplayIp(IpAddr);

impl fmt::Display for DisplayIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_ip(self.0, f)
    }
}

fn trim_root(name: &str) -> &str {
    name.strip_suffix('.').unwrap_or(name)
}

/// Whether `c` may appear in a host name after UTS-46 mapping. The
/// underscore is accepted because real host names carry it (it is not valid
/// in a DNS host name, but it is in DNS labels).
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// Normalises a name or IPv4 address (no brackets, no port): UTS-46 to
/// ASCII, then the WHATWG "ends in a number" rule, then DNS length limits.
fn normalize_host(input: &str, text: &str) -> Result<Host, DomainError> {
    if let Some(c) = text.chars().find(|&c| c.is_ascii() && !is_name_char(c)) {
        return Err(DomainError::new(
            input,
            format!("invalid character {c:?} in the host"),
            ENTRY_HINT,
        ));
    }
    let ascii = Uts46::new()
        .to_ascii(
            text.as_bytes(),
            AsciiDenyList::EMPTY,
            Hyphens::Allow,
            DnsLength::Ignore,
        )
        .map_err(|_| {
            DomainError::new(
                input,
                "not a valid internationalized domain name (UTS-46)",
                "check the spelling, or write the name in punycode ('xn--...')",
            )
        })?;
    if let Some(c) = ascii.chars().find(|&c| !is_name_char(c)) {
        return Err(DomainError::new(
            input,
            format!("the host maps to the invalid character {c:?}"),
            ENTRY_HINT,
        ));
    }
    let ascii = trim_root(&ascii);
    if ascii.is_empty() {
        return Err(DomainError::new(input, "the host is empty", ENTRY_HINT));
    }
    if ends_in_number(ascii) {
        return match parse_ipv4(ascii) {
            Some(v4) => Ok(Host::Ip(IpAddr::V4(v4))),
            None => Err(DomainError::new(
                input,
                "ends in a number but is not a valid IPv4 address",
                "write an IPv4 address as four numbers from 0 to 255, like '192.0.2.1'",
            )),
        };
    }
    if ascii.len() > MAX_NAME_LEN {
        return Err(DomainError::new(
            input,
            format!(
                "the name is {} characters long; at most {MAX_NAME_LEN} are allowed",
                ascii.len()
            ),
            "check the name; DNS cannot carry longer names",
        ));
    }
    for label in ascii.split('.') {
        if label.is_empty() {
            return Err(DomainError::new(
                input,
                "the name has an empty label ('..' or a leading '.')",
                ENTRY_HINT,
            ));
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(DomainError::new(
                input,
                format!(
                    "the label '{label}' is {} characters long; at most {MAX_LABEL_LEN} are allowed",
                    label.len()
                ),
                "check the name; DNS cannot carry longer labels",
            ));
        }
    }
    Ok(Host::Name(ascii.to_owned()))
}

/// WHATWG URL "ends in a number checker".
fn ends_in_number(host: &str) -> bool {
    let mut parts: Vec<&str> = host.split('.').collect();
    if parts.last() == Some(&"") {
        if parts.len() == 1 {
            return false;
        }
        parts.pop();
    }
    let last = parts.last().copied().unwrap_or("");
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    parse_ipv4_number(last).is_some()
}

/// WHATWG URL "IPv4 number parser": decimal, `0x` hex or leading-`0` octal.
/// Values too large for a `u64` are reported as `u64::MAX` (out of range for
/// every caller).
fn parse_ipv4_number(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) =
        if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            (hex, 16)
        } else if part.len() >= 2 && part.starts_with('0') {
            (&part[1..], 8)
        } else {
            (part, 10)
        };
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Some(0);
    }
    Some(u64::from_str_radix(significant, radix).unwrap_or(u64::MAX))
}

/// WHATWG URL "IPv4 parser".
fn parse_ipv4(host: &str) -> Option<Ipv4Addr> {
    let mut parts: Vec<&str> = host.split('.').collect();
    if parts.last() == Some(&"") && parts.len() > 1 {
        parts.pop();
    }
    if parts.len() > 4 {
        return None;
    }
    let numbers = parts
        .iter()
        .map(|p| parse_ipv4_number(p))
        .collect::<Option<Vec<u64>>>()?;
    let (last, leading) = numbers.split_last()?;
    if leading.iter().any(|&n| n > 255) {
        return None;
    }
    if *last >= 256u64.pow(5 - numbers.len() as u32) {
        return None;
    }
    let mut address = *last;
    for (i, n) in leading.iter().enumerate() {
        address += n << (8 * (3 - i));
    }
    u32::try_from(address).ok().map(Ipv4Addr::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whatwg_ipv4_spellings() {
        let cases: &[(&str, Option<[u8; 4]>)] = &[
            ("127.0.0.1", Some([127, 0, 0, 1])),
            ("127.1", Some([127, 0, 0, 1])),
            ("127.0.1", Some([127, 0, 0, 1])),
            ("0x7f000001", Some([127, 0, 0, 1])),
            ("0X7F000001", Some([127, 0, 0, 1])),
            ("2130706433", Some([127, 0, 0, 1])),
            ("0177.0.0.1", Some([127, 0, 0, 1])),
            ("0x7f.1", Some([127, 0, 0, 1])),
            ("0x.0x.0x.0x", Some([0, 0, 0, 0])),
            ("0x0000000000000000000000007f.1", Some([127, 0, 0, 1])),
            ("00000000000000000000000000177.1", Some([127, 0, 0, 1])),
            ("4294967295", Some([255, 255, 255, 255])),
            ("4294967296", None),
            ("256.0.0.1", None),
            ("1.2.3.256", None),
            ("1.2.65536", None),
            ("1.2.3.4.5", None),
            ("08.0.0.1", None),
            ("0x1g.0.0.1", None),
            ("99999999999999999999999999", None),
        ];
        for (input, want) in cases {
            assert!(ends_in_number(input), "{input} ends in a number");
            assert_eq!(parse_ipv4(input), want.map(Ipv4Addr::from), "{input}");
        }
    }

    #[test]
    fn names_do_not_end_in_numbers() {
        for name in ["example.com", "1.2.3.example", "0xg", "a.0x7g"] {
            assert!(!ends_in_number(name), "{name}");
        }
        for name in ["example.0x", "example.1", "a.0x7f"] {
            assert!(ends_in_number(name), "{name}");
        }
    }
}
