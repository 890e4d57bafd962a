//! CIDR ranges for `network.allow_ranges` and the address classes the proxy
//! refuses after DNS resolution (SPEC 4).
//!
//! After resolving a name, the proxy asks [`classify`] about every address.
//! An address in a [`SpecialRange`] (loopback, private, link-local, CGNAT,
//! cloud metadata, ...) is refused unless one of the policy's
//! `allow_ranges` ([`IpRange`]) contains it. This is what stops an allowed
//! name that resolves to `127.0.0.1` or `169.254.169.254` (DNS rebinding) from
//! reaching the host or the cloud's credential service.
//!
//! # Security
//!
//! IPv6 addresses that embed an IPv4 address (IPv4-mapped, IPv4-compatible,
//! SIIT-translated, NAT64 well-known prefix, 6to4) are classified by the
//! embedded address, so `[::ffff:127.0.0.1]` or `[64:ff9b::a9fe:a9fe]` cannot
//! stand in for the address they carry. Teredo (`2001::/32`) and local-use
//! NAT64 prefixes (`64:ff9b:1::/48`) are not decoded.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A malformed `allow_ranges` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("invalid address range '{input}': {message}")]
pub struct RangeError {
    /// What was written, unchanged.
    pub input: String,
    /// What is wrong with it.
    pub message: String,
    /// What to write instead.
    pub hint: String,
}

impl RangeError {
    fn new(input: &str, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            input: input.to_owned(),
            message: message.into(),
            hint: hint.into(),
        }
    }
}

const RANGE_HINT: &str =
    "write an address range in CIDR form, like '10.1.0.0/16' or 'fd00::/8', or a single address";

/// An address range in CIDR form, e.g. `10.1.0.0/16`, `fd00::/8`.
///
/// `network` has no bits set past `prefix`. An IPv4-mapped IPv6 range with a
/// prefix of 96 or more (`::ffff:10.0.0.0/104`) is stored as the IPv4 range
/// it maps (`10.0.0.0/8`). Serialised as its canonical text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpRange {
    /// The first address of the range.
    pub network: IpAddr,
    /// The number of leading bits that are fixed (≤ 32 for IPv4, ≤ 128 for IPv6).
    pub prefix: u8,
}

impl IpRange {
    /// Whether `ip` lies in the range.
    ///
    /// An IPv4-mapped IPv6 address is compared as its IPv4 address. An IPv6
    /// range never contains an IPv4 address (`::/0` does not allow IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, unmap(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = v4_mask(self.prefix);
                u32::from(ip) & mask == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = v6_mask(self.prefix);
                u128::from(ip) & mask == u128::from(net)
            }
            _ => false,
        }
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl FromStr for IpRange {
    type Err = RangeError;

    /// Parses `ADDRESS/PREFIX` or a bare address (`/32` or `/128`).
    fn from_str(input: &str) -> Result<Self, RangeError> {
        if input.is_empty() {
            return Err(RangeError::new(input, "the range is empty", RANGE_HINT));
        }
        if input.chars().any(char::is_whitespace) {
            return Err(RangeError::new(
                input,
                "the range contains whitespace",
                RANGE_HINT,
            ));
        }
        let (addr_text, prefix_text) = match input.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (input, None),
        };
        let addr_text = addr_text
            .strip_prefix('[')
            .and_then(|a| a.strip_suffix(']'))
            .unwrap_or(addr_text);
        let addr: IpAddr = addr_text.parse().map_err(|_| {
            RangeError::new(
                input,
                format!("'{addr_text}' is not an IP address"),
                RANGE_HINT,
            )
        })?;
        let max = match addr {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        let prefix = match prefix_text {
            None => max,
            Some(p) => {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(RangeError::new(
                        input,
                        format!("'{p}' is not a prefix length"),
                        format!("write a prefix length from 0 to {max} after '/'"),
                    ));
                }
                match p.parse::<u8>() {
                    Ok(n) if n <= max => n,
                    _ => {
                        return Err(RangeError::new(
                            input,
                            format!("the prefix length /{p} is longer than {max} bits"),
                            format!("write a prefix length from 0 to {max} after '/'"),
                        ));
                    }
                }
            }
        };
        let network = mask(addr, prefix);
        if network != addr {
            return Err(RangeError::new(
                input,
                "the address has bits set beyond the prefix length",
                format!("write the range as '{network}/{prefix}'"),
            ));
        }
        Ok(unmap_range(IpRange { network, prefix }))
    }
}

impl Serialize for IpRange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IpRange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// An address class the proxy refuses after DNS resolution unless
/// `allow_ranges` names it. Documentation and benchmarking ranges are
/// ordinary addresses and have no class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecialRange {
    /// `127.0.0.0/8`, `::1`: the host itself.
    Loopback,
    /// RFC 1918 (`10/8`, `172.16/12`, `192.168/16`), unique local `fc00::/7`
    /// and deprecated site-local `fec0::/10`: the local network.
    Private,
    /// `169.254.0.0/16`, `fe80::/10`.
    LinkLocal,
    /// `100.64.0.0/10`: carrier-grade NAT, also used by cloud and VPN
    /// internals (Tailscale, Alibaba's metadata service).
    Cgnat,
    /// Cloud instance metadata and credential services (see
    /// [`CLOUD_METADATA`]); checked before the other classes.
    CloudMetadata,
    /// `0.0.0.0/8`, `::`: "this host" (connecting to `0.0.0.0` reaches
    /// loopback on Linux).
    Unspecified,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `240.0.0.0/4` (except broadcast): reserved, never a legitimate
    /// destination.
    Reserved,
}

impl SpecialRange {
    /// The name used in `explain` and denials (the same as its serialised form).
    pub fn name(self) -> &'static str {
        match self {
            SpecialRange::Loopback => "loopback",
            SpecialRange::Private => "private",
            SpecialRange::LinkLocal => "link_local",
            SpecialRange::Cgnat => "cgnat",
            SpecialRange::CloudMetadata => "cloud_metadata",
            SpecialRange::Unspecified => "unspecified",
            SpecialRange::Multicast => "multicast",
            SpecialRange::Broadcast => "broadcast",
            SpecialRange::Reserved => "reserved",
        }
    }
}

impl fmt::Display for SpecialRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Cloud instance metadata and credential endpoints. Each gives whoever can
/// reach it the machine's cloud credentials or configuration.
pub const CLOUD_METADATA: &[IpAddr] = &[
    // AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean instance metadata (IMDS).
    IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
    // AWS ECS task metadata and task-role credentials.
    IpAddr::V4(Ipv4Addr::new(169, 254, 170, 2)),
    // AWS EKS Pod Identity agent (pod credentials).
    IpAddr::V4(Ipv4Addr::new(169, 254, 170, 23)),
    // Alibaba Cloud instance metadata.
    IpAddr::V4(Ipv4Addr::new(100, 100, 100, 200)),
    // Azure WireServer: VM agent configuration, extension settings and
    // certificates (a public address, so no other class covers it).
    IpAddr::V4(Ipv4Addr::new(168, 63, 129, 16)),
    // AWS IMDS over IPv6 (Nitro instances).
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254)),
    // AWS EKS Pod Identity agent over IPv6.
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0023)),
];

/// The IPv4 address carried by an IPv6 address, if it carries one:
/// IPv4-mapped `::ffff:0:0/96`, SIIT `::ffff:0:0:0/96`, IPv4-compatible
/// `::/96` (except `::` and `::1`), NAT64 `64:ff9b::/96`, and 6to4
/// `2002::/16` (the gateway address in bits 16..48).
pub fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = u128::from(ip);
    let low = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    let high96 = bits >> 32;
    match high96 {
        // IPv4-mapped ::ffff:a.b.c.d
        0xffff => Some(low),
        // SIIT IPv4-translated ::ffff:0:a.b.c.d
        0xffff_0000 => Some(low),
        // IPv4-compatible ::a.b.c.d (deprecated); :: and ::1 are IPv6's own.
        0 if bits > 1 => Some(low),
        // NAT64 well-known prefix 64:ff9b::/96
        0x0064_ff9b_0000_0000_0000_0000 => Some(low),
        _ if bits >> 112 == 0x2002 => Some(Ipv4Addr::from(((bits >> 80) & 0xffff_ffff) as u32)),
        _ => None,
    }
}

/// The class of `ip` the proxy refuses by default, or `None` for an ordinary
/// address.
///
/// Cloud metadata endpoints are reported as [`SpecialRange::CloudMetadata`]
/// even though most of them are also link-local. An IPv6 address that embeds
/// an IPv4 address ([`embedded_ipv4`]) is classified by that IPv4 address.
pub fn classify(ip: IpAddr) -> Option<SpecialRange> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<SpecialRange> {
    if CLOUD_METADATA.contains(&IpAddr::V4(ip)) {
        return Some(SpecialRange::CloudMetadata);
    }
    let [a, b, _, _] = ip.octets();
    Some(match (a, b) {
        (0, _) => SpecialRange::Unspecified,
        _ if ip == Ipv4Addr::BROADCAST => SpecialRange::Broadcast,
        (127, _) => SpecialRange::Loopback,
        (10, _) | (192, 168) => SpecialRange::Private,
        (172, 16..=31) => SpecialRange::Private,
        (169, 254) => SpecialRange::LinkLocal,
        (100, 64..=127) => SpecialRange::Cgnat,
        (224..=239, _) => SpecialRange::Multicast,
        (240..=255, _) => SpecialRange::Reserved,
        _ => return None,
    })
}

fn classify_v6(ip: Ipv6Addr) -> Option<SpecialRange> {
    if CLOUD_METADATA.contains(&IpAddr::V6(ip)) {
        return Some(SpecialRange::CloudMetadata);
    }
    if ip.is_unspecified() {
        return Some(SpecialRange::Unspecified);
    }
    if ip.is_loopback() {
        return Some(SpecialRange::Loopback);
    }
    if let Some(v4) = embedded_ipv4(ip) {
        return classify_v4(v4);
    }
    let first = ip.segments()[0];
    match first {
        0xff00..=0xffff => Some(SpecialRange::Multicast),
        0xfe80..=0xfebf => Some(SpecialRange::LinkLocal),
        0xfec0..=0xfeff => Some(SpecialRange::Private),
        0xfc00..=0xfdff => Some(SpecialRange::Private),
        _ => None,
    }
}

/// An IPv4-mapped IPv6 address as its IPv4 address; anything else unchanged.
fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// A mapped range `::ffff:a.b.c.d/(96+n)` as `a.b.c.d/n`.
fn unmap_range(range: IpRange) -> IpRange {
    match range.network {
        IpAddr::V6(v6) if range.prefix >= 96 => match v6.to_ipv4_mapped() {
            Some(v4) => IpRange {
                network: IpAddr::V4(v4),
                prefix: range.prefix - 96,
            },
            None => range,
        },
        _ => range,
    }
}

fn v4_mask(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn v6_mask(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(u32::from(v4) & v4_mask(prefix))),
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & v6_mask(prefix))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn range(s: &str) -> IpRange {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_and_displays_canonically() {
        let cases = [
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("10.1.0.0/16", "10.1.0.0/16"),
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("192.0.2.7", "192.0.2.7/32"),
            ("192.0.2.7/32", "192.0.2.7/32"),
            ("fd00::/8", "fd00::/8"),
            ("FD00::/8", "fd00::/8"),
            ("::/0", "::/0"),
            ("2001:db8::1", "2001:db8::1/128"),
            ("[2001:db8::]/32", "2001:db8::/32"),
            ("::ffff:10.0.0.0/104", "10.0.0.0/8"),
            ("::ffff:127.0.0.1", "127.0.0.1/32"),
        ];
        for (input, want) in cases {
            let r = range(input);
            assert_eq!(r.to_string(), want, "{input}");
            assert_eq!(range(want), r, "{want} reparses");
        }
    }

    #[test]
    fn rejects_malformed_ranges() {
        let cases = [
            ("", "empty"),
            (" 10.0.0.0/8", "whitespace"),
            ("10.0.0.0 /8", "whitespace"),
            ("10.0.0.0/", "prefix length"),
            ("10.0.0.0/x", "prefix length"),
            ("10.0.0.0/+8", "prefix length"),
            ("10.0.0.0/-1", "prefix length"),
            ("10.0.0.0/33", "longer than 32"),
            ("10.0.0.0/256", "longer than 32"),
            ("fd00::/129", "longer than 128"),
            ("10.0.0/8", "not an IP address"),
            ("010.0.0.0/8", "not an IP address"),
            ("0x0a.0.0.0/8", "not an IP address"),
            ("example.com/32", "not an IP address"),
            ("10.1.2.3/16", "bits set"),
            ("fd00::1/8", "bits set"),
            ("10.0.0.0/8/8", "prefix length"),
        ];
        for (input, want) in cases {
            let err = input.parse::<IpRange>().expect_err(input);
            assert!(err.message.contains(want), "{input}: {}", err.message);
            assert_eq!(err.input, input);
        }
    }

    #[test]
    fn host_bits_error_hints_the_network() {
        let err = "10.1.2.3/16".parse::<IpRange>().unwrap_err();
        assert!(err.hint.contains("10.1.0.0/16"), "{}", err.hint);
        assert_eq!(
            err.to_string(),
            "invalid address range '10.1.2.3/16': the address has bits set beyond the prefix length"
        );
        let err = "fd00:1::5/32".parse::<IpRange>().unwrap_err();
        assert!(err.hint.contains("fd00:1::/32"), "{}", err.hint);
    }

    #[test]
    fn contains_with_the_outside_address_beside_the_inside_one() {
        let cases = [
            ("10.1.0.0/16", "10.1.0.0", true),
            ("10.1.0.0/16", "10.1.255.255", true),
            ("10.1.0.0/16", "10.2.0.0", false),
            ("10.1.0.0/16", "10.0.255.255", false),
            ("0.0.0.0/0", "203.0.113.9", true),
            ("192.0.2.7", "192.0.2.7", true),
            ("192.0.2.7", "192.0.2.8", false),
            // IPv4-mapped IPv6 addresses are compared as IPv4.
            ("10.1.0.0/16", "::ffff:10.1.2.3", true),
            ("10.1.0.0/16", "::ffff:10.2.2.3", false),
            ("::ffff:10.0.0.0/104", "10.9.9.9", true),
            // IPv4 ranges never contain IPv6 addresses and vice versa.
            ("0.0.0.0/0", "::1", false),
            ("::/0", "127.0.0.1", false),
            ("::/0", "::ffff:127.0.0.1", false),
            ("::/0", "2001:db8::1", true),
            ("fd00::/8", "fd12:3456::1", true),
            ("fd00::/8", "fc00::1", false),
            ("2001:db8::1", "2001:db8::1", true),
            ("2001:db8::1", "2001:db8::2", false),
        ];
        for (r, addr, want) in cases {
            assert_eq!(range(r).contains(ip(addr)), want, "{r} contains {addr}");
        }
    }

    #[test]
    fn classifies_special_ranges() {
        use SpecialRange::*;
        let cases: &[(&str, Option<SpecialRange>)] = &[
            ("127.0.0.1", Some(Loopback)),
            ("127.255.255.254", Some(Loopback)),
            ("::1", Some(Loopback)),
            ("10.0.0.1", Some(Private)),
            ("172.16.0.1", Some(Private)),
            ("172.31.255.255", Some(Private)),
            ("172.15.255.255", None),
            ("172.32.0.0", None),
            ("192.168.1.1", Some(Private)),
            ("192.169.0.1", None),
            ("fc00::1", Some(Private)),
            ("fd12::1", Some(Private)),
            ("fec0::1", Some(Private)),
            ("fe00::1", None),
            ("169.254.1.1", Some(LinkLocal)),
            ("169.255.0.1", None),
            ("fe80::1", Some(LinkLocal)),
            ("febf::1", Some(LinkLocal)),
            ("100.64.0.1", Some(Cgnat)),
            ("100.127.255.255", Some(Cgnat)),
            ("100.63.255.255", None),
            ("100.128.0.0", None),
            ("169.254.169.254", Some(CloudMetadata)),
            ("169.254.170.2", Some(CloudMetadata)),
            ("100.100.100.200", Some(CloudMetadata)),
            ("168.63.129.16", Some(CloudMetadata)),
            ("fd00:ec2::254", Some(CloudMetadata)),
            ("fd00:ec2::253", Some(Private)),
            ("0.0.0.0", Some(Unspecified)),
            ("0.1.2.3", Some(Unspecified)),
            ("::", Some(Unspecified)),
            ("224.0.0.1", Some(Multicast)),
            ("239.255.255.255", Some(Multicast)),
            ("ff02::1", Some(Multicast)),
            ("255.255.255.255", Some(Broadcast)),
            ("240.0.0.1", Some(Reserved)),
            // Documentation and ordinary addresses have no class.
            ("192.0.2.1", None),
            ("198.51.100.1", None),
            ("203.0.113.1", None),
            ("2001:db8::1", None),
            ("8.8.8.8", None),
            ("2606:4700::1111", None),
            ("1.1.1.1", None),
        ];
        for (addr, want) in cases {
            assert_eq!(classify(ip(addr)), *want, "{addr}");
        }
    }

    #[test]
    fn classifies_embedded_ipv4_by_the_embedded_address() {
        use SpecialRange::*;
        let cases: &[(&str, Option<SpecialRange>)] = &[
            // IPv4-mapped
            ("::ffff:127.0.0.1", Some(Loopback)),
            ("::ffff:7f00:1", Some(Loopback)),
            ("::ffff:169.254.169.254", Some(CloudMetadata)),
            ("::ffff:10.0.0.1", Some(Private)),
            ("::ffff:8.8.8.8", None),
            // SIIT
            ("::ffff:0:127.0.0.1", Some(Loopback)),
            // IPv4-compatible (deprecated)
            ("::127.0.0.1", Some(Loopback)),
            ("::10.0.0.1", Some(Private)),
            ("::8.8.8.8", None),
            // NAT64 well-known prefix
            ("64:ff9b::127.0.0.1", Some(Loopback)),
            ("64:ff9b::a9fe:a9fe", Some(CloudMetadata)),
            ("64:ff9b::192.168.0.1", Some(Private)),
            ("64:ff9b::8.8.8.8", None),
            ("64:ff9c::127.0.0.1", None),
            // 6to4
            ("2002:7f00:1::", Some(Loopback)),
            ("2002:a9fe:a9fe::1", Some(CloudMetadata)),
            ("2002:0808:0808::1", None),
        ];
        for (addr, want) in cases {
            assert_eq!(classify(ip(addr)), *want, "{addr}");
        }
    }

    #[test]
    fn special_range_names() {
        assert_eq!(SpecialRange::CloudMetadata.to_string(), "cloud_metadata");
        assert_eq!(
            serde_json::to_string(&SpecialRange::LinkLocal).unwrap(),
            "\"link_local\""
        );
        assert_eq!(
            serde_json::to_string(&range("10.0.0.0/8")).unwrap(),
            "\"10.0.0.0/8\""
        );
    }
}
