//! The proxy tests' world: each test builds a small world of its own,
//! unprivileged: a user, network and mount namespace (`unshare`) where test
//! hosts live on documentation addresses (198.51.100.7 serves HTTP on port
//! 80 and 8080, and a package registry over HTTPS on 443) and `/etc/hosts`
//! is the test's resolver. stockade runs inside that world, so its proxy
//! resolves and connects there; nothing leaves the machine.

use crate::common::*;
use std::process::Command;

/// The test's resolver: names and what they resolve to.
pub const HOSTS: &str = "\
198.51.100.7 allowed.test other.test allowed.test.evil.test evil-allowed.test
127.0.0.1 rebind.test
169.254.169.254 metadata.test
10.0.0.5 private.test
198.51.100.7 registry.test
";

/// The policy: allowed.test and registry.test (ports 80 and 443),
/// rebind.test, metadata.test and private.test (which resolve where no
/// allowed name may go), and other.test refused by a deny entry.
pub const POLICY: &str = r#"
default_profile = "p"
[profiles.p]
extends = "workspace"
[profiles.p.network]
mode = "proxy"
allow = ["allowed.test", "registry.test", "rebind.test", "metadata.test", "private.test"]
deny = ["other.test"]
"#;

/// The world's set-up, then `"$@"`: addresses on its loopback, the web
/// servers, the package registry (when `$REGISTRY` names one), the
/// resolver.
pub const WORLD: &str = r#"
set -e
ip link set lo up
ip addr add 198.51.100.7/32 dev lo
ip addr add 2001:db8::7/128 dev lo
mount --bind "$HOSTS_FILE" /etc/hosts
cd "$WEB_ROOT"
python3 -m http.server 80 --bind 198.51.100.7 >/dev/null 2>&1 &
python3 -m http.server 8080 --bind 198.51.100.7 >/dev/null 2>&1 &
ports=80
if [ -n "${REGISTRY:-}" ]; then
  python3 "$REGISTRY_PY" serve "$REGISTRY" 198.51.100.7 443 &
  ports="80 443"
fi
for port in $ports; do
  i=0
  while ! (exec 3<>/dev/tcp/198.51.100.7/$port) 2>/dev/null; do
    i=$((i+1)); [ $i -lt 100 ] || { echo "server on port $port did not start" >&2; exit 99; }
    sleep 0.05
  done
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
pub const UNSHARE: &[&str] = &[
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
pub fn world() -> Option<Tree> {
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

/// The registry's builder and server (see its docstring).
const REGISTRY_PY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/escapes/registry.py");

/// Builds the package registry into `outside/registry` (its CA is
/// `outside/registry/ca.pem`), which the world then serves as
/// `https://registry.test`. `Err`: why it cannot be built here.
pub fn build_registry(t: &Tree) -> Result<(), String> {
    for tool in ["openssl", "git"] {
        if find_program(tool).is_none() {
            return Err(format!("{tool} is not installed"));
        }
    }
    let out = Command::new("python3")
        .args([REGISTRY_PY, "build"])
        .arg(t.path("outside/registry"))
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "building the registry failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// `stockade ARGS` inside the world; stdout, stderr, exit code.
pub fn in_world(t: &Tree, args: &[&str]) -> Run {
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
    if t.exists("outside/registry") {
        cmd.env("REGISTRY", t.path("outside/registry"))
            .env("REGISTRY_PY", REGISTRY_PY);
    }
    let mut run = Run::from(cmd.output().unwrap());
    run.context = format!("stockade {} (in the test world)", args.join(" "));
    run
}

/// Lines `LABEL CODE` a script printed, as a lookup.
pub fn results(run: &Run) -> impl Fn(&str) -> String + '_ {
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
pub fn curl_script(lines: &[(&str, &str)]) -> String {
    lines
        .iter()
        .map(|(label, args)| {
            format!("printf '%s %s\\n' {label} \"$(curl -s -o /dev/null -m 5 -w '%{{http_code}}' {args})\"\n")
        })
        .collect()
}
