//! Fuzzes the proxy's destination judgement: allow and deny entries and a
//! destination host, split at NUL bytes (`ALLOW\0DENY\0HOST`, entries one
//! per line). Nothing may panic, and the verdict must keep its promises:
//! an IP literal is admitted only by an entry that is that address, and a
//! host a deny entry matches is never admitted.
//!
//! Shared by the fuzz target and the stable replay of its corpus.

use stockade_policy::domain::{DomainRules, Host, HostPattern, parse_host};

/// Checks one input; panics when a promise is broken.
pub fn check_input(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let allow: Vec<&str> = parts.next().unwrap_or("").lines().collect();
    let deny: Vec<&str> = parts.next().unwrap_or("").lines().collect();
    let host = parts.next().unwrap_or("");
    let port = parts.next().and_then(|p| p.parse().ok()).unwrap_or(443u16);
    let Ok(rules) = DomainRules::parse(&allow, &deny) else {
        return;
    };
    let Ok(parsed) = parse_host(host) else {
        return;
    };
    let verdict = rules.decide(&parsed, port);
    if !verdict.is_allowed() {
        return;
    }
    assert!(
        !rules.deny.iter().any(|d| d.denies(&parsed, port)),
        "a denied host was admitted"
    );
    if let Host::Ip(ip) = parsed {
        assert!(
            rules.allow.iter().any(|a| a.host == HostPattern::Ip(ip)),
            "an IP literal was admitted by a name: {host}"
        );
    }
}
