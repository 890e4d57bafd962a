//! Network `proxy` (classes 19 to 22): the command reaches only stockade's
//! egress proxy, which lets through only the destinations the policy
//! allows.
//!
//! Each test builds a small world of its own, unprivileged: a user, network
//! and mount namespace (`unshare`) where test hosts live on documentation
//! addresses (198.51.100.7 serves HTTP on port 80 and 8080) and
//! `/etc/hosts` is the test's resolver. stockade runs inside that world, so
//! its proxy resolves and connects there; nothing leaves the machine.

use crate::common::*;
use std::process::Command;

/// The test's resolver: names and what they resolve to.
const HOSTS: &str = "\
198.51.100.7 allowed.test other.test allowed.test.evil.test evil-allowed.test
127.0.0.1 rebind.test
169.254.169.254 metadata.test
10.0.0.5 private.test
";

/// The policy: allowed.test (ports 80 and 443), rebind.test, metadata.test
/// and private.test (which resolve where no allowed name may go), and
/// allowed.test:8080 refused by a deny entry.
const POLICY: &str = r#"
default_profile = "p"
[profiles.p]
extends = "workspace"
[profiles.p.network]
mode = "proxy"
allow = ["allowed.test", "rebind.test", "metadata.test", "private.test"]
deny = ["other.test"]
"#;

/// The world's set-up, then `exec "$@"`: addresses on its loopback, the
/// web server, the resolver.
const WORLD: &str = r#"
set -e
ip link set lo up
ip addr add 198.51.100.7/32 dev lo
ip addr add 2001:db8::7/128 dev lo
mount --bind "$HOSTS_FILE" /etc/hosts
cd "$WEB_ROOT"
python3 -m http.server 80 --bind 198.51.100.7 >/dev/null 2>&1 &
python3 -m http.server 8080 --bind 198.51.100.7 >/dev/null 2>&1 &
i=0
while ! (exec 3<>/dev/tcp/198.51.100.7/80) 2>/dev/null; do
  i=$((i+1)); [ $i -lt 100 ] || { echo "web server did not start" >&2; exit 99; }
  sleep 0.05
done
cd "$OLDPWD"
# stockade itself runs without the capabilities the world was built with.
setpriv --inh-caps=-all --ambient-caps=-all "$@"
status=$?
kill $(jobs -p) 2>/dev/null || true
exit $status
"#;

/// The world's namespaces. `--keep-caps`: an unprivileged user keeps its
/// capabilities in the new user namespace across the exec of the shell
/// that builds the world.
const UNSHARE: &[&str] = &[
    "--user",
    "--map-current-user",
    "--keep-caps",
    "--net",
    "--mount",
    "--",
];

/// Why the world cannot be built here, if it cannot.
fn missing_tools() -> Option<String> {
    for tool in ["unshare", "setpriv", "ip", "python3", "curl", "bash"] {
        if find_program(tool).is_none() {
            return Some(format!("{tool} is not installed"));
        }
    }
    let ok = Command::new("unshare")
        .args(UNSHARE)
        .arg("true")
        .status()
        .is_ok_and(|s| s.success());
    (!ok).then(|| "unshare cannot make a user, network and mount namespace here".into())
}

/// The tree, with the policy and the world's files, or a skip.
fn world() -> Option<Tree> {
    let t = sandbox()?;
    if let Some(reason) = missing_tools() {
        if std::env::var_os("STOCKADE_TEST_MUST_ENFORCE").is_some_and(|v| v == "1") {
            panic!("the proxy tests are required (STOCKADE_TEST_MUST_ENFORCE=1): {reason}");
        }
        eprintln!("skipped: {reason}");
        return None;
    }
    t.write("ws/.stockade.toml", POLICY);
    t.write("outside/hosts", HOSTS);
    t.write("outside/web/index.html", "hello from allowed.test\n");
    if std::env::var_os("STOCKADE_FORCE_BWRAP").is_some() {
        // The proxy's listeners need the native backend: through bwrap the
        // run is refused, naming the rule, never run without the proxy.
        let run = in_world(&t, &["run", "--", "true"]);
        run.expect_code(125);
        assert!(run.stderr.contains("network proxy"), "{}", run.stderr);
        return None;
    }
    Some(t)
}

/// `stockade ARGS` inside the world; stdout, stderr, exit code.
fn in_world(t: &Tree, args: &[&str]) -> Run {
    let base = t.command();
    let mut cmd = Command::new("unshare");
    cmd.args(UNSHARE)
        .args(["bash", "-c", WORLD, "world"])
        .arg(stockade_bin())
        .args(args)
        .current_dir(t.path("ws"))
        .env_clear()
        .envs(base.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .env("HOSTS_FILE", t.path("outside/hosts"))
        .env("WEB_ROOT", t.path("outside/web"));
    let mut run = Run::from(cmd.output().unwrap());
    run.context = format!("stockade {} (in the test world)", args.join(" "));
    run
}

/// Lines `LABEL CODE` a script printed, as a lookup.
fn results(run: &Run) -> impl Fn(&str) -> String + '_ {
    move |label: &str| {
        run.stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{label} ")))
            .unwrap_or_else(|| {
                panic!(
                    "{}: no result for {label}\nstdout:\n{}\nstderr:\n{}",
                    run.context, run.stdout, run.stderr
                )
            })
            .to_owned()
    }
}

/// One curl per line: `LABEL` then the HTTP status curl saw (000: none).
fn curl_script(lines: &[(&str, &str)]) -> String {
    lines
        .iter()
        .map(|(label, args)| {
            format!("printf '%s %s\\n' {label} \"$(curl -s -o /dev/null -m 5 -w '%{{http_code}}' {args})\"\n")
        })
        .collect()
}

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
