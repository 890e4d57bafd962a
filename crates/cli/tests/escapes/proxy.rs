//! Network `proxy` (classes 19 to 22): the command reaches only stockade's
//! egress proxy, which lets through only the destinations the policy
//! allows.
//!
//! Each test builds its world first (`proxy_world`).

use crate::common::*;
use crate::proxy_world::*;
use std::process::Command;

#[test]
fn ordinary_tools_reach_allowed_names_through_the_proxy_and_nothing_else() {
    let Some(t) = world() else { return };
    let script = curl_script(&[
        // Allowed, three ways: plain HTTP through the proxy variables,
        // a CONNECT tunnel, SOCKS5 with the proxy resolving.
        ("http", "http://allowed.test/"),
        ("connect", "-p http://allowed.test/"),
        ("socks5h", "-x \"$ALL_PROXY\" http://allowed.test/"),
        ("case", "http://ALLOWED.Test./"),
        // Their twins.
        ("denied", "http://other.test/"),
        ("lookalike-suffix", "http://allowed.test.evil.test/"),
        ("lookalike-prefix", "http://evil-allowed.test/"),
        ("ip", "http://198.51.100.7/"),
        ("ip-integer", "http://3325256711/"),
        ("ip-hex", "http://0xc6336407/"),
        ("ip-mapped", "'http://[::ffff:198.51.100.7]/'"),
        ("ip6", "'http://[2001:db8::7]/'"),
        ("connect-ip", "-p http://198.51.100.7/"),
        (
            "socks5-local-resolve",
            "-x socks5://127.0.0.1:1080 http://allowed.test/",
        ),
        ("rebind-loopback", "http://rebind.test/"),
        ("metadata", "http://metadata.test/"),
        ("private", "http://private.test/"),
        ("port", "http://allowed.test:8080/"),
        ("connect-port", "-p http://allowed.test:8080/"),
        // A program that ignores the proxy variables has no route.
        ("noproxy", "--noproxy '*' http://allowed.test/"),
        ("noproxy-ip", "--noproxy '*' http://198.51.100.7/"),
    ]);
    let run = in_world(&t, &["run", "--json", "--", "sh", "-c", &script]);
    assert_eq!(
        run.code,
        Some(0),
        "{}\n{}\n{}",
        run.context,
        run.stdout,
        run.stderr
    );
    let got = results(&run);
    for label in ["http", "connect", "socks5h", "case"] {
        assert_eq!(got(label), "200", "{label}");
    }
    for label in [
        "denied",
        "lookalike-suffix",
        "lookalike-prefix",
        "ip",
        "ip-integer",
        "ip-hex",
        "ip-mapped",
        "ip6",
        "rebind-loopback",
        "metadata",
        "private",
        "port",
    ] {
        assert_eq!(got(label), "403", "{label}: the proxy refuses with 403");
    }
    // A refused CONNECT or SOCKS request: curl sees no 2xx/3xx.
    for label in ["connect-ip", "socks5-local-resolve", "connect-port"] {
        let code = got(label);
        assert!(code == "403" || code == "000", "{label}: {code}");
    }
    for label in ["noproxy", "noproxy-ip"] {
        assert_eq!(got(label), "000", "{label}: no route without the proxy");
    }
    let record = run.record();
    let denials = record["denials"].as_array().unwrap();
    let has = |target: &str, rule: &str| {
        denials.iter().any(|d| {
            d["kind"] == "network"
                && d["target"] == target
                && d["rule"].as_str().is_some_and(|r| r.contains(rule))
        })
    };
    assert!(
        has("other.test:80", "network.deny other.test"),
        "{denials:?}"
    );
    assert!(
        has("evil-allowed.test:80", "not in the allow list"),
        "{denials:?}"
    );
    // curl writes every spelling of the address in dotted form itself; the
    // proxy's own tests send the other spellings.
    assert!(has("198.51.100.7:80", "IP address"), "{denials:?}");
    assert!(has("[2001:db8::7]:80", "IP address"), "{denials:?}");
    assert!(has("rebind.test:80", "loopback"), "{denials:?}");
    assert!(has("metadata.test:80", "cloud_metadata"), "{denials:?}");
    assert!(has("private.test:80", "private"), "{denials:?}");
    assert!(has("allowed.test:8080", "port not allowed"), "{denials:?}");
    assert!(
        run.stderr.contains("denials"),
        "the summary line: {}",
        run.stderr
    );
}

#[test]
fn direct_sockets_reach_nothing_but_the_proxy() {
    let Some(t) = world() else { return };
    let probe = probe_bin();
    let probe = probe.to_str().unwrap();
    let ops: &[&[&str]] = &[
        // Direct egress, every kind (class 19).
        &["tcp-connect", "198.51.100.7", "80"],
        &["udp-send", "198.51.100.7", "53"],
        &["tcp-connect", "2001:db8::7", "80"],
        &["socket", "inet", "dgram", "icmp"],
        &["socket", "inet", "raw"],
        &["socket", "packet", "raw"],
        // Other families (class 22).
        &["socket", "netlink", "raw"],
        &["socket", "vsock", "stream"],
        &["socket", "bluetooth", "stream"],
        // The sandbox's own loopback beyond the proxy (allow_local_binding
        // is false): no listening, no other port (class 20).
        &["tcp-listen", "127.0.0.1", "0"],
        &["tcp-connect", "127.0.0.1", "22"],
        // The allowed twin: the proxy's ports.
        &["tcp-connect", "127.0.0.1", "3128"],
        &["tcp-connect", "127.0.0.1", "1080"],
    ];
    let mut args = vec!["run", "--", probe];
    for (i, op) in ops.iter().enumerate() {
        if i > 0 {
            args.push("--then");
        }
        args.extend_from_slice(op);
    }
    let run = in_world(&t, &args);
    let reports = run.ops::<13>();
    for report in &reports[..11] {
        assert_eq!(report["ok"], false, "{report}");
    }
    // A TCP connect is refused by the supervisor (the port is not the
    // proxy's) before the kernel would find no route.
    denied(reports[0], &["EACCES", "ENETUNREACH"]);
    denied(reports[1], &["ENETUNREACH"]);
    denied(reports[2], &["EACCES", "ENETUNREACH"]);
    denied(reports[9], &["EACCES"]);
    denied(reports[10], &["EACCES"]);
    allowed(reports[11]);
    allowed(reports[12]);
}

#[test]
fn the_proxy_serves_only_the_sandbox() {
    let Some(t) = world() else { return };
    // While the command runs, a process outside the sandbox (in the same
    // world) tries the proxy's ports: nothing listens there for it.
    let script = "( sleep 0.5; (exec 3<>/dev/tcp/127.0.0.1/3128) 2>/dev/null && echo outside-http open || echo outside-http closed; \
          (exec 3<>/dev/tcp/127.0.0.1/1080) 2>/dev/null && echo outside-socks open || echo outside-socks closed ) & \
        \"$@\"; wait";
    let stockade = stockade_bin().to_str().unwrap().to_owned();
    let inner = "sleep 1.5; curl -s -o /dev/null -w 'inside %{http_code}\\n' http://allowed.test/";
    let base = t.command();
    let out = Command::new("unshare")
        .args(UNSHARE)
        .args(["bash", "-c", WORLD, "world"])
        .args(["bash", "-c", script, "outer"])
        .arg(&stockade)
        .args(["run", "--", "sh", "-c", inner])
        .current_dir(t.path("ws"))
        .env_clear()
        .envs(base.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .env("HOSTS_FILE", t.path("outside/hosts"))
        .env("WEB_ROOT", t.path("outside/web"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("outside-http closed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("outside-socks closed"), "{stdout}");
    assert!(
        stdout.contains("inside 200"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
