//! The allowed twin of class 19, with real clients: git, pip, npm and cargo
//! fetch from an allowed HTTPS registry through the proxy with nothing but
//! the variables stockade sets, and the same commands fail, recorded as
//! denials, when the registry's name is refused.
//!
//! The registry (`registry.py`) is a test host of the world
//! (`proxy_world`): `https://registry.test` on 198.51.100.7:443, with a
//! throw-away CA the clients are told to trust. A client that is not
//! installed for this user is skipped with its reason; the others run.

use crate::proxy_world::*;
use std::process::Command;

/// Each client fetches `demo` from `https://registry.test` with the CA
/// `$2` into `$1/CLIENT`, then prints `CLIENT STATUS WHAT-IT-GOT`. `$3` is
/// cargo's path (its rustc beside it) and `$4` the clients to run. No retries: a refused fetch
/// fails at once.
const FETCH: &str = r#"
out=$PWD/$1 ca=$2 cargo=$3 clients=$4 host=registry.test
mkdir -p "$out"
for client in $clients; do case $client in
git)
  GIT_SSL_CAINFO=$ca git clone -q "https://$host/git/demo.git" "$out/git" >"$out/git.log" 2>&1
  echo "git $? $(cat "$out/git/README" 2>/dev/null)" ;;
pip)
  PIP_CONFIG_FILE=/dev/null python3 -m pip download -q --no-deps --no-cache-dir --retries 0 \
    --disable-pip-version-check --index-url "https://$host/simple/" --cert "$ca" \
    -d "$out/pip" demo >"$out/pip.log" 2>&1
  echo "pip $? $(ls "$out/pip" 2>/dev/null)" ;;
npm)
  npm_config_cache=$out/npm-cache npm_config_cafile=$ca npm_config_update_notifier=false \
    npm_config_fetch_retries=0 npm view demo version --registry "https://$host/npm/" \
    >"$out/npm.out" 2>"$out/npm.log"
  echo "npm $? $(cat "$out/npm.out")" ;;
cargo)
  mkdir -p "$out/crate/src" "$out/crate/.cargo"
  printf '[package]\nname = "user"\nversion = "0.1.0"\nedition = "2021"\n[workspace]\n[dependencies]\ndemo = { version = "1", registry = "test" }\n' >"$out/crate/Cargo.toml"
  : >"$out/crate/src/lib.rs"
  printf '[registries.test]\nindex = "sparse+https://%s/cargo/"\n' "$host" >"$out/crate/.cargo/config.toml"
  (cd "$out/crate" && CARGO_HOME=$out/cargo-home CARGO_HTTP_CAINFO=$ca CARGO_NET_RETRY=0 \
    RUSTC="${cargo%/*}/rustc" "$cargo" fetch >"$out/cargo.log" 2>&1)
  echo "cargo $? $(ls "$out"/cargo-home/registry/cache/*/ 2>/dev/null)" ;;
esac; done
"#;

/// What each client fetches when it is allowed.
const EXPECTED: &[(&str, &str)] = &[
    ("git", "hello from the demo repository"),
    ("pip", "demo-1.0-py3-none-any.whl"),
    ("npm", "1.0.0"),
    ("cargo", "demo-1.0.0.crate"),
];

/// The clients this user can run with the sandbox's `PATH`; the others
/// are skipped with their reason printed.
fn clients() -> Vec<&'static str> {
    let checks: [(&str, &str, &[&str]); 4] = [
        ("git", "git", &["--version"]),
        ("pip", "python3", &["-m", "pip", "--version"]),
        ("npm", "npm", &["--version"]),
        ("cargo", env!("CARGO"), &["--version"]),
    ];
    let mut found = Vec::new();
    for (client, program, args) in checks {
        let works = Command::new(program)
            .args(args)
            .env("PATH", "/usr/bin:/bin")
            .output()
            .is_ok_and(|o| o.status.success());
        if works {
            found.push(client);
        } else {
            eprintln!(
                "skipped {client}: `{program} {}` does not run for this user",
                args.join(" ")
            );
        }
    }
    found
}

#[test]
fn package_clients_fetch_from_an_allowed_registry_and_nothing_from_a_refused_one() {
    let Some(t) = world() else { return };
    if let Err(reason) = build_registry(&t) {
        if std::env::var_os("STOCKADE_TEST_MUST_ENFORCE").is_some_and(|v| v == "1") {
            panic!("the registry is required (STOCKADE_TEST_MUST_ENFORCE=1): {reason}");
        }
        eprintln!("skipped: {reason}");
        return;
    }
    let clients = clients();
    assert!(!clients.is_empty(), "no package client runs here");
    let ca = t.p("outside/registry/ca.pem");
    let fetch = |out: &str, extra: &[&str]| {
        let list = clients.join(" ");
        let mut args = vec!["run", "--json"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--", "sh", "-c", FETCH, "fetch"]);
        args.extend_from_slice(&[out, &ca, env!("CARGO"), &list]);
        in_world(&t, &args)
    };

    let allowed = fetch("allowed", &[]);
    allowed.expect_code(0);
    let got = results(&allowed);
    for (client, want) in EXPECTED.iter().filter(|(c, _)| clients.contains(c)) {
        let line = got(client);
        assert_eq!(
            line,
            format!("0 {want}"),
            "{client} through the proxy; its log: {}",
            t.read(&format!("ws/allowed/{client}.log"))
        );
    }

    // The twin: the same fetches with the registry refused by name.
    let refused = fetch("refused", &["--deny-domain", "registry.test"]);
    refused.expect_code(0);
    let got = results(&refused);
    for client in &clients {
        let line = got(client);
        assert!(
            !line.starts_with("0 "),
            "{client} fetched from a refused registry: {line}"
        );
    }
    let record = refused.record();
    let denials = record["denials"].as_array().unwrap();
    assert!(
        denials.iter().any(|d| d["kind"] == "network"
            && d["target"] == "registry.test:443"
            && d["rule"]
                .as_str()
                .is_some_and(|r| r.contains("network.deny registry.test"))),
        "{denials:?}"
    );
}
