//! Proxy allow/deny entries: parsing, normalisation and decisions. Every
//! allowed destination is tested beside the lookalike that must be refused.

use std::net::IpAddr;

use stockade_policy::domain::{
    DenyReason, DomainPattern, DomainRules, Host, HostPattern, PortSpec, Verdict, parse_host,
};
use stockade_policy::net_range::{IpRange, SpecialRange, classify};

fn pattern(s: &str) -> DomainPattern {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn host(s: &str) -> Host {
    parse_host(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn rules(allow: &[&str], deny: &[&str]) -> DomainRules {
    DomainRules::parse(allow, deny).unwrap_or_else(|e| panic!("{e}"))
}

fn allowed(rule: &str) -> Verdict {
    Verdict::Allowed {
        rule: rule.to_owned(),
    }
}

fn denied(reason: DenyReason, rule: Option<&str>) -> Verdict {
    Verdict::Denied {
        reason,
        rule: rule.map(str::to_owned),
    }
}

// ---------------------------------------------------------------------------
// Parsing entries

#[test]
fn entries_parse_to_their_canonical_form() {
    let cases = [
        ("github.com", "github.com"),
        ("GitHub.COM", "github.com"),
        ("GitHub.COM.", "github.com"),
        ("*.github.com", "*.github.com"),
        ("*.GitHub.com.", "*.github.com"),
        ("*.com", "*.com"),
        ("git.example.com:22", "git.example.com:22"),
        ("git.example.com:022", "git.example.com:22"),
        ("example.com:443", "example.com:443"),
        ("example.com:65535", "example.com:65535"),
        ("*.example.com:8443", "*.example.com:8443"),
        ("localhost", "localhost"),
        ("under_score.example.com", "under_score.example.com"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("BÜCHER.example", "xn--bcher-kva.example"),
        ("*.bücher.example", "*.xn--bcher-kva.example"),
        ("ｅｘａｍｐｌｅ．ｃｏｍ", "example.com"),
        // UTS-46 ignores zero-width spaces: the entry is the name it shows.
        ("git\u{200b}hub.com", "github.com"),
        ("192.0.2.1", "192.0.2.1"),
        ("192.0.2.1.", "192.0.2.1"),
        ("192.0.2.1:8080", "192.0.2.1:8080"),
        ("[2001:db8::1]", "[2001:db8::1]"),
        ("[2001:DB8:0:0::1]:443", "[2001:db8::1]:443"),
        ("2001:db8::1", "[2001:db8::1]"),
        ("[::ffff:192.0.2.1]", "192.0.2.1"),
        ("[::ffff:192.0.2.1]:22", "192.0.2.1:22"),
    ];
    for (input, want) in cases {
        let p = pattern(input);
        assert_eq!(p.to_string(), want, "{input}");
        assert_eq!(pattern(want), p, "canonical form of {input} reparses");
    }
}

#[test]
fn entries_parse_to_their_parts() {
    assert_eq!(
        pattern("GitHub.com"),
        DomainPattern {
            host: HostPattern::Exact("github.com".into()),
            port: PortSpec::Web
        }
    );
    assert_eq!(
        pattern("*.github.com:22"),
        DomainPattern {
            host: HostPattern::Subdomains("github.com".into()),
            port: PortSpec::Port(22)
        }
    );
    assert_eq!(
        pattern("[::1]:8080"),
        DomainPattern {
            host: HostPattern::Ip(ip("::1")),
            port: PortSpec::Port(8080)
        }
    );
}

#[test]
fn malformed_entries_are_rejected_with_a_reason_and_a_hint() {
    let long_label = format!("{}.com", "a".repeat(64));
    let max_label = format!("{}.com", "a".repeat(63));
    let long_name = format!("{}.com", vec!["a".repeat(60); 5].join("."));
    let cases: Vec<(&str, &str)> = vec![
        ("", "empty"),
        (" github.com", "whitespace"),
        ("github.com ", "whitespace"),
        ("git hub.com", "whitespace"),
        ("github.com\t", "whitespace"),
        ("github.com\n", "whitespace"),
        ("*", "every host"),
        ("*:443", "every host"),
        ("*.", "no domain"),
        ("*..", "no domain"),
        ("**.github.com", "first label"),
        ("*.*.github.com", "first label"),
        ("a.*.github.com", "first label"),
        ("*github.com", "first label"),
        ("git*.com", "first label"),
        ("github.*", "first label"),
        ("*.github.*", "first label"),
        ("https://github.com", "scheme"),
        ("http://github.com:80/x", "scheme"),
        ("github.com/org/repo", "path"),
        ("github.com/", "path"),
        ("user@github.com", "user name"),
        ("user:pw@github.com", "user name"),
        ("github.com?x=1", "invalid character"),
        ("github.com#top", "invalid character"),
        ("%67ithub.com", "invalid character"),
        ("github.com:0", "port 0"),
        ("github.com:65536", "out of range"),
        ("github.com:99999999999", "out of range"),
        ("github.com:", "missing"),
        ("github.com:https", "not a port"),
        ("github.com:-1", "not a port"),
        ("github.com:+22", "not a port"),
        (":443", "host is missing"),
        ("github..com", "empty label"),
        (".github.com", "empty label"),
        ("github.com..", "empty label"),
        (".", "empty"),
        (&long_label, "at most 63"),
        (&long_name, "at most 253"),
        ("git!hub.com", "invalid character"),
        ("github.com,gitlab.com", "invalid character"),
        ("xn--a.example", "UTS-46"),
        ("xn--bcher-kva\u{301}.example", "UTS-46"),
        ("a\u{fffd}b.example", "UTS-46"),
        ("\u{2488}.example", "UTS-46"),
        ("a\u{e000}.example", "UTS-46"),
        ("exa／mple.com", "invalid character '/'"),
        ("ex\u{3000}ample.com", "whitespace"),
        ("*.1.2.3.4", "IP address"),
        ("*.127.1", "IP address"),
        ("*.[::1]", "IPv6"),
        ("1.2.3.256", "not a valid IPv4"),
        ("example.0x1", "not a valid IPv4"),
        ("example.123", "not a valid IPv4"),
        ("127.1", "unusual spelling"),
        ("0x7f000001", "unusual spelling"),
        ("2130706433", "unusual spelling"),
        ("0177.0.0.1", "unusual spelling"),
        ("010.0.0.1", "unusual spelling"),
        ("[::1", "closing ']'"),
        ("[::1]x", "after the IPv6"),
        ("[::1]:", "missing"),
        ("[example.com]", "not a valid IPv6"),
        ("[1.2.3.4]", "not a valid IPv6"),
        ("2001:db8::1:443:x", "not a valid IPv6"),
        ("[fe80::1%25eth0]", "invalid character"),
    ];
    // The longest legal label still parses: the limit is exactly 63.
    assert_eq!(pattern(&max_label).to_string(), max_label);
    for (input, want) in cases {
        let err = input.parse::<DomainPattern>().expect_err(input);
        assert!(
            err.message.contains(want),
            "{input:?}: message {:?}",
            err.message
        );
        assert_eq!(err.input, input);
        assert!(!err.hint.is_empty(), "{input:?} has a hint");
        assert_eq!(
            err.to_string(),
            format!("invalid domain entry '{input}': {}", err.message)
        );
    }
}

#[test]
fn errors_hint_at_the_fix() {
    let hint = |s: &str| s.parse::<DomainPattern>().unwrap_err().hint;
    assert!(hint("https://github.com/x").contains("'github.com'"));
    assert!(hint("github.com/org").contains("'github.com'"));
    assert!(hint("me@github.com").contains("'github.com'"));
    assert!(hint("0177.0.0.1").contains("'127.0.0.1'"));
    assert!(hint("*.1.2.3.4").contains("'1.2.3.4'"));
    assert!(hint("").contains("'*.example.com'"));
}

#[test]
fn a_name_at_the_length_limit_parses() {
    // 4 labels of 61 + 3 dots + "com"-less tail = 253 exactly.
    let name = [
        "a".repeat(63),
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(61),
    ]
    .join(".");
    assert_eq!(name.len(), 253);
    assert_eq!(pattern(&name).to_string(), name);
    let too_long = format!("{name}e");
    assert!(too_long.parse::<DomainPattern>().is_err());
    // A trailing dot does not count against the limit.
    assert_eq!(pattern(&format!("{name}.")).to_string(), name);
}

#[test]
fn entries_serialize_as_text() {
    let r = rules(
        &["GitHub.com", "*.crates.io", "[::1]:22"],
        &["gist.github.com"],
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "allow": ["github.com", "*.crates.io", "[::1]:22"],
            "deny": ["gist.github.com"],
        })
    );
    let back: DomainRules = serde_json::from_value(json).unwrap();
    assert_eq!(back, r);
    assert!(serde_json::from_value::<DomainPattern>(serde_json::json!("*")).is_err());
}

#[test]
fn rules_parse_reports_the_first_bad_entry() {
    let err = DomainRules::parse(["github.com", "https://x.com"], ["y.com"]).unwrap_err();
    assert_eq!(err.input, "https://x.com");
    let err = DomainRules::parse(["github.com"], ["*"]).unwrap_err();
    assert_eq!(err.input, "*");
}

// ---------------------------------------------------------------------------
// Normalising destination hosts

#[test]
fn host_names_are_normalised() {
    let cases = [
        ("github.com", "github.com"),
        ("GitHub.COM", "github.com"),
        ("GitHub.COM.", "github.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("XN--BCHER-KVA.example", "xn--bcher-kva.example"),
        ("ｇｉｔｈｕｂ.com", "github.com"),
        ("github。com", "github.com"),
        ("faß.de", "xn--fa-hia.de"),
        ("under_score.example", "under_score.example"),
        ("localhost", "localhost"),
    ];
    for (input, want) in cases {
        assert_eq!(host(input), Host::Name(want.into()), "{input}");
        assert_eq!(host(input).to_string(), want);
    }
}

#[test]
fn every_ip_spelling_is_recognised() {
    let loopback = Host::Ip(ip("127.0.0.1"));
    for spelling in [
        "127.0.0.1",
        "127.0.0.1.",
        "127.1",
        "127.0.1",
        "0x7f000001",
        "0X7F000001",
        "2130706433",
        "0177.0.0.1",
        "0177.1",
        "0x7f.1",
        "0x7f.0.0.0x1",
        "00000000177.0.0.1",
        "１２７.０.０.１",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "::ffff:127.0.0.1",
        "[::FFFF:7F00:0001]",
    ] {
        assert_eq!(host(spelling), loopback, "{spelling}");
        assert!(host(spelling).is_ip());
    }
    assert_eq!(host("[::1]"), Host::Ip(ip("::1")));
    assert_eq!(host("::1"), Host::Ip(ip("::1")));
    assert_eq!(host("[0:0:0:0:0:0:0:1]"), Host::Ip(ip("::1")));
    assert_eq!(host("[::1]").to_string(), "[::1]");
    // IPv4-compatible and NAT64 forms stay IPv6 (still IP literals).
    assert_eq!(host("[::127.0.0.1]"), Host::Ip(ip("::7f00:1")));
    assert_eq!(host("[64:ff9b::7f00:1]"), Host::Ip(ip("64:ff9b::7f00:1")));
    assert_eq!(host("169.254.169.254"), Host::Ip(ip("169.254.169.254")));
    assert_eq!(host("0xa9fea9fe"), Host::Ip(ip("169.254.169.254")));
    assert_eq!(host("0"), Host::Ip(ip("0.0.0.0")));
}

#[test]
fn malformed_hosts_are_rejected() {
    for input in [
        "",
        ".",
        "a..b",
        "github.com:443",
        "user@github.com",
        "github.com/",
        "git hub.com",
        "github.com\0",
        "*.github.com",
        "%31%32%37.0.0.1",
        "1.2.3.256",
        "256.1",
        "1.2.3.4.5",
        "example.123",
        "example.0x",
        "08.0.0.1",
        "4294967296",
        "[::1",
        "[::1]:443",
        "[fe80::1%eth0]",
        "[127.0.0.1]",
        "xn--a.example",
        "ex\u{3000}ample.com",
    ] {
        assert!(parse_host(input).is_err(), "{input:?} must be rejected");
    }
}

// ---------------------------------------------------------------------------
// Decisions

#[test]
fn exact_entries_refuse_lookalikes() {
    let r = rules(&["github.com"], &[]);
    let cases = [
        ("github.com", true),
        ("GitHub.COM.", true),
        ("GITHUB.com", true),
        ("evil-github.com", false),
        ("xgithub.com", false),
        ("github.com.evil.com", false),
        ("github.co", false),
        ("github.comm", false),
        ("api.github.com", false),
        ("githuB.com.evil", false),
        ("gíthub.com", false),
    ];
    for (h, want) in cases {
        let verdict = r.decide(&host(h), 443);
        if want {
            assert_eq!(verdict, allowed("github.com"), "{h}");
        } else {
            assert_eq!(verdict, denied(DenyReason::NotAllowListed, None), "{h}");
        }
    }
}

#[test]
fn wildcards_match_subdomains_but_not_the_apex() {
    let r = rules(&["*.github.com"], &[]);
    let cases = [
        ("api.github.com", true),
        ("a.b.github.com", true),
        ("API.GitHub.com.", true),
        ("github.com", false),
        ("evil-github.com", false),
        ("xgithub.com", false),
        ("a.xgithub.com", false),
        ("api.github.com.evil.com", false),
        ("githubxcom", false),
    ];
    for (h, want) in cases {
        assert_eq!(r.decide(&host(h), 443).is_allowed(), want, "{h}");
    }
    // Apex and subdomains together need both entries.
    let both = rules(&["github.com", "*.github.com"], &[]);
    assert_eq!(both.decide(&host("github.com"), 443), allowed("github.com"));
    assert_eq!(
        both.decide(&host("api.github.com"), 443),
        allowed("*.github.com")
    );
}

#[test]
fn a_bare_tld_wildcard_is_the_authors_choice() {
    let r = rules(&["*.com"], &[]);
    assert!(r.decide(&host("github.com"), 443).is_allowed());
    assert!(!r.decide(&host("com"), 443).is_allowed());
    assert!(!r.decide(&host("github.org"), 443).is_allowed());
}

#[test]
fn entries_without_a_port_allow_only_80_and_443() {
    let r = rules(&["github.com"], &[]);
    assert_eq!(r.decide(&host("github.com"), 80), allowed("github.com"));
    assert_eq!(r.decide(&host("github.com"), 443), allowed("github.com"));
    for port in [22, 8080, 8443, 1, 65535, 0] {
        assert_eq!(
            r.decide(&host("github.com"), port),
            denied(DenyReason::PortNotAllowed, Some("github.com")),
            "port {port}"
        );
    }
}

#[test]
fn entries_with_a_port_allow_only_that_port() {
    let r = rules(&["git.example.com:22"], &[]);
    assert_eq!(
        r.decide(&host("git.example.com"), 22),
        allowed("git.example.com:22")
    );
    for port in [80, 443, 23, 2222] {
        assert_eq!(
            r.decide(&host("git.example.com"), port),
            denied(DenyReason::PortNotAllowed, Some("git.example.com:22")),
            "port {port}"
        );
    }
    // A port entry and a web entry for the same host add up.
    let r = rules(&["git.example.com:22", "git.example.com"], &[]);
    assert_eq!(
        r.decide(&host("git.example.com"), 22),
        allowed("git.example.com:22")
    );
    assert_eq!(
        r.decide(&host("git.example.com"), 443),
        allowed("git.example.com")
    );
    assert!(!r.decide(&host("git.example.com"), 8080).is_allowed());
}

#[test]
fn deny_entries_win_over_allow_entries() {
    let r = rules(&["*.github.com", "github.com"], &["gist.github.com"]);
    assert_eq!(
        r.decide(&host("gist.github.com"), 443),
        denied(DenyReason::DenyListed, Some("gist.github.com"))
    );
    assert_eq!(
        r.decide(&host("GIST.github.com."), 443),
        denied(DenyReason::DenyListed, Some("gist.github.com"))
    );
    assert_eq!(
        r.decide(&host("api.github.com"), 443),
        allowed("*.github.com")
    );
    // The deny entry is exact: deeper names are not denied by it.
    assert_eq!(
        r.decide(&host("x.gist.github.com"), 443),
        allowed("*.github.com")
    );
    assert_eq!(r.decide(&host("github.com"), 443), allowed("github.com"));
}

#[test]
fn deny_entries_without_a_port_deny_every_port() {
    let r = rules(&["*.github.com:8443", "*.github.com"], &["gist.github.com"]);
    for port in [80, 443, 8443] {
        assert_eq!(
            r.decide(&host("gist.github.com"), port),
            denied(DenyReason::DenyListed, Some("gist.github.com")),
            "port {port}"
        );
    }
    assert!(r.decide(&host("api.github.com"), 8443).is_allowed());
    // A deny entry with a port denies only that port.
    let r = rules(&["example.com", "example.com:8080"], &["example.com:8080"]);
    assert_eq!(
        r.decide(&host("example.com"), 8080),
        denied(DenyReason::DenyListed, Some("example.com:8080"))
    );
    assert_eq!(r.decide(&host("example.com"), 443), allowed("example.com"));
}

#[test]
fn deny_wildcards_cover_subdomains() {
    let r = rules(
        &["*.example.com", "example.com"],
        &["*.internal.example.com"],
    );
    assert!(!r.decide(&host("db.internal.example.com"), 443).is_allowed());
    assert!(r.decide(&host("internal.example.com"), 443).is_allowed());
    assert!(r.decide(&host("www.example.com"), 443).is_allowed());
}

#[test]
fn ip_literals_are_refused_in_every_spelling_unless_allowed_literally() {
    let names_only = rules(&["github.com", "*.github.com", "localhost", "*.com"], &[]);
    let literal = rules(&["127.0.0.1"], &[]);
    for spelling in [
        "127.0.0.1",
        "127.1",
        "0x7f000001",
        "2130706433",
        "0177.0.0.1",
        "0x7f.1",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
    ] {
        assert_eq!(
            names_only.decide(&host(spelling), 443),
            denied(DenyReason::IpLiteral, None),
            "{spelling}"
        );
        assert_eq!(
            literal.decide(&host(spelling), 443),
            allowed("127.0.0.1"),
            "{spelling}"
        );
        assert_eq!(
            literal.decide(&host(spelling), 22),
            denied(DenyReason::PortNotAllowed, Some("127.0.0.1")),
            "{spelling}"
        );
    }
    // The literal allows that address only.
    assert_eq!(
        literal.decide(&host("127.0.0.2"), 443),
        denied(DenyReason::IpLiteral, None)
    );
    assert_eq!(
        literal.decide(&host("[::1]"), 443),
        denied(DenyReason::IpLiteral, None)
    );
    // IPv6 literals.
    assert_eq!(
        names_only.decide(&host("[::1]"), 443),
        denied(DenyReason::IpLiteral, None)
    );
    let v6 = rules(&["[::1]:8080"], &[]);
    assert_eq!(v6.decide(&host("[::1]"), 8080), allowed("[::1]:8080"));
    assert_eq!(v6.decide(&host("[0::1]"), 8080), allowed("[::1]:8080"));
    assert!(!v6.decide(&host("[::2]"), 8080).is_allowed());
    // IPv4-compatible / NAT64 spellings are different IPv6 literals, not 127.0.0.1.
    assert_eq!(
        literal.decide(&host("[::127.0.0.1]"), 443),
        denied(DenyReason::IpLiteral, None)
    );
    assert_eq!(
        literal.decide(&host("[64:ff9b::7f00:1]"), 443),
        denied(DenyReason::IpLiteral, None)
    );
}

#[test]
fn ip_literals_can_be_denied_in_every_spelling() {
    let r = rules(&["169.254.169.254"], &["169.254.169.254"]);
    for spelling in [
        "169.254.169.254",
        "0xa9fea9fe",
        "2852039166",
        "[::ffff:a9fe:a9fe]",
    ] {
        assert_eq!(
            r.decide(&host(spelling), 80),
            denied(DenyReason::DenyListed, Some("169.254.169.254")),
            "{spelling}"
        );
    }
}

#[test]
fn names_never_match_ip_entries_and_ips_never_match_name_entries() {
    let r = rules(&["192.0.2.1"], &[]);
    assert_eq!(
        r.decide(&host("example.com"), 443),
        denied(DenyReason::NotAllowListed, None)
    );
    let r = rules(&["*.0.2.example"], &[]);
    assert_eq!(
        r.decide(&host("192.0.2.1"), 443),
        denied(DenyReason::IpLiteral, None)
    );
}

#[test]
fn idn_entries_and_hosts_compare_in_punycode_both_ways() {
    let unicode_entry = rules(&["bücher.example"], &[]);
    let punycode_entry = rules(&["xn--bcher-kva.example"], &[]);
    for r in [&unicode_entry, &punycode_entry] {
        assert_eq!(
            r.decide(&host("xn--bcher-kva.example"), 443),
            allowed("xn--bcher-kva.example")
        );
        assert_eq!(
            r.decide(&host("bücher.example"), 443),
            allowed("xn--bcher-kva.example")
        );
        assert_eq!(
            r.decide(&host("BÜCHER.example."), 443),
            allowed("xn--bcher-kva.example")
        );
        // Lookalikes that differ in one character are other names.
        assert!(!r.decide(&host("bucher.example"), 443).is_allowed());
        assert!(!r.decide(&host("büchers.example"), 443).is_allowed());
    }
    let wildcard = rules(&["*.bücher.example"], &[]);
    assert!(
        wildcard
            .decide(&host("shop.xn--bcher-kva.example"), 443)
            .is_allowed()
    );
    assert!(!wildcard.decide(&host("bücher.example"), 443).is_allowed());
}

#[test]
fn hosts_built_by_hand_still_match_case_insensitively() {
    let r = rules(&["github.com", "*.example.com"], &[]);
    assert!(
        r.decide(&Host::Name("GitHub.Com.".into()), 443)
            .is_allowed()
    );
    assert!(
        r.decide(&Host::Name("A.Example.COM".into()), 443)
            .is_allowed()
    );
    assert!(
        !r.decide(&Host::Name(".example.com".into()), 443)
            .is_allowed()
    );
    assert!(
        !r.decide(&Host::Name("example.com".into()), 443)
            .is_allowed()
    );
    // A hand-built mapped address is still its IPv4 address.
    let r = rules(&["127.0.0.1"], &[]);
    assert!(
        r.decide(&Host::Ip(ip("::ffff:127.0.0.1")), 443)
            .is_allowed()
    );
}

#[test]
fn empty_rules_allow_nothing() {
    let r = DomainRules::default();
    assert_eq!(
        r.decide(&host("github.com"), 443),
        denied(DenyReason::NotAllowListed, None)
    );
    assert_eq!(
        r.decide(&host("127.0.0.1"), 443),
        denied(DenyReason::IpLiteral, None)
    );
}

#[test]
fn verdicts_serialize_for_denial_records() {
    let v = denied(DenyReason::PortNotAllowed, Some("github.com"));
    assert_eq!(
        serde_json::to_value(&v).unwrap(),
        serde_json::json!({"verdict": "denied", "reason": "port_not_allowed", "rule": "github.com"})
    );
    assert_eq!(
        serde_json::to_value(allowed("github.com")).unwrap(),
        serde_json::json!({"verdict": "allowed", "rule": "github.com"})
    );
    assert_eq!(
        serde_json::to_value(host("[::1]")).unwrap(),
        serde_json::json!("[::1]")
    );
    assert_eq!(
        DenyReason::IpLiteral.to_string(),
        "IP address not allowed literally"
    );
}

// ---------------------------------------------------------------------------
// After DNS: the ranges the proxy refuses unless allow_ranges names them

/// What the proxy does with an allowed name once it has resolved it.
fn reachable(resolved: &str, allow_ranges: &[&str]) -> bool {
    let addr = ip(resolved);
    let ranges: Vec<IpRange> = allow_ranges.iter().map(|r| r.parse().unwrap()).collect();
    classify(addr).is_none() || ranges.iter().any(|r| r.contains(addr))
}

#[test]
fn allowed_names_resolving_to_special_ranges_are_refused_unless_allowed() {
    let cases: &[(&str, &[&str], bool)] = &[
        ("140.82.112.3", &[], true),
        ("127.0.0.1", &[], false),
        ("127.0.0.1", &["127.0.0.0/8"], true),
        ("::1", &[], false),
        ("::ffff:127.0.0.1", &[], false),
        ("::ffff:127.0.0.1", &["127.0.0.1"], true),
        ("64:ff9b::7f00:1", &[], false),
        ("64:ff9b::8c52:7003", &[], true),
        ("10.1.2.3", &[], false),
        ("10.1.2.3", &["10.1.0.0/16"], true),
        ("10.2.2.3", &["10.1.0.0/16"], false),
        ("169.254.169.254", &[], false),
        ("169.254.169.254", &["10.0.0.0/8"], false),
        ("169.254.169.254", &["169.254.169.254/32"], true),
        ("fd00:ec2::254", &[], false),
        ("100.100.100.200", &[], false),
        ("100.64.1.1", &[], false),
        ("100.64.1.1", &["100.64.0.0/10"], true),
        ("fe80::1", &[], false),
        ("0.0.0.0", &[], false),
        ("0.0.0.0", &["0.0.0.0/0"], true),
        ("2001:db8::1", &[], true),
    ];
    for (addr, ranges, want) in cases {
        assert_eq!(reachable(addr, ranges), *want, "{addr} with {ranges:?}");
    }
}

#[test]
fn classify_reports_each_class() {
    assert_eq!(classify(ip("127.0.0.1")), Some(SpecialRange::Loopback));
    assert_eq!(classify(ip("192.168.0.1")), Some(SpecialRange::Private));
    assert_eq!(classify(ip("169.254.0.1")), Some(SpecialRange::LinkLocal));
    assert_eq!(
        classify(ip("169.254.169.254")),
        Some(SpecialRange::CloudMetadata)
    );
    assert_eq!(classify(ip("100.64.0.1")), Some(SpecialRange::Cgnat));
    assert_eq!(classify(ip("::")), Some(SpecialRange::Unspecified));
    assert_eq!(classify(ip("ff02::1")), Some(SpecialRange::Multicast));
    assert_eq!(
        classify(ip("255.255.255.255")),
        Some(SpecialRange::Broadcast)
    );
    assert_eq!(
        classify(ip("::ffff:169.254.169.254")),
        Some(SpecialRange::CloudMetadata)
    );
    assert_eq!(
        classify(ip("64:ff9b::a9fe:a9fe")),
        Some(SpecialRange::CloudMetadata)
    );
    assert_eq!(classify(ip("192.0.2.1")), None);
}
