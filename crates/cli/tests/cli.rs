//! The `stockade` binary end to end: golden `explain --json` output on
//! fixture trees, and exit status 125 with a hint for bad input from every
//! subcommand.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fixture tree: `home/` is HOME, `ws/` the working directory.
struct Tree {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Tree {
    fn new() -> Tree {
        // Not under /tmp, which `:tmp` stands for.
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        for d in ["home/.ssh", "home/.cache/cargo", "ws", "xdg"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        Tree { _dir: dir, root }
    }

    fn write(&self, rel: &str, text: &str) -> &Tree {
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    fn mkdir(&self, rel: &str) -> &Tree {
        std::fs::create_dir_all(self.root.join(rel)).unwrap();
        self
    }

    fn stockade(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_stockade"))
            .args(args)
            .current_dir(self.root.join("ws"))
            .env_clear()
            .env("HOME", self.root.join("home"))
            .env("XDG_CONFIG_HOME", self.root.join("xdg"))
            .env("USER", "tester")
            .env("PATH", "/usr/bin:/bin")
            .output()
            .unwrap()
    }

    /// `explain --json` with the tree's root replaced by `$ROOT`, and the
    /// machine-dependent `exists` of paths outside the tree removed.
    fn explain_json(&self, args: &[&str]) -> Value {
        let mut full = vec!["explain", "--json"];
        full.extend_from_slice(args);
        let out = self.stockade(&full);
        assert!(
            out.status.success(),
            "explain failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout)
            .unwrap()
            .replace(self.root.to_str().unwrap(), "$ROOT");
        let mut value: Value = serde_json::from_str(&text).unwrap();
        // The plan depends on the machine (kernel ABI, the real home's
        // entries); it is tested on its own, not by the goldens.
        value.as_object_mut().unwrap().remove("plan");
        let rules = value["policy"]["rules"].as_array_mut().unwrap();
        for rule in rules.iter_mut() {
            if !rule["path"].as_str().unwrap().starts_with("$ROOT") {
                rule.as_object_mut().unwrap().remove("exists");
            }
        }
        // Sorted by the real path, the order depends on where the tree is.
        rules.sort_by_key(|r| {
            (
                r["path"].as_str().unwrap().to_string(),
                r["access"].as_str().unwrap().to_string(),
            )
        });
        value
    }
}

/// Compares with `tests/golden/NAME.json`; `STOCKADE_BLESS=1` rewrites it.
fn golden(name: &str, value: &Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(value).unwrap() + "\n";
    if std::env::var_os("STOCKADE_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing {}; run with STOCKADE_BLESS=1 to create it",
            path.display()
        )
    });
    if expected != text {
        let actual = path.with_extension("actual.json");
        std::fs::write(&actual, &text).unwrap();
        panic!(
            "{name}: explain --json differs from {}; see {}",
            path.display(),
            actual.display()
        );
    }
}

fn rule<'a>(value: &'a Value, path: &str) -> &'a Value {
    value["policy"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == path)
        .unwrap_or_else(|| panic!("no rule for {path}"))
}

#[test]
fn golden_workspace_without_a_policy_file() {
    let t = Tree::new();
    t.mkdir("ws/.git/objects");
    let v = t.explain_json(&[]);
    assert_eq!(v["policy_file"]["kind"], "built_in");
    assert_eq!(rule(&v, "$ROOT/ws")["access"], "write");
    assert_eq!(rule(&v, "$ROOT/ws/.git")["access"], "read");
    golden("workspace-default", &v);
}

#[test]
fn golden_spec_example_with_a_worktree() {
    let t = Tree::new();
    t.mkdir("ws/docs/drafts")
        .mkdir("main/.git/worktrees/ws")
        .mkdir("srv-data");
    t.write("main/.git/worktrees/ws/commondir", "../..\n");
    t.write(
        "ws/.git",
        &format!("gitdir: {}/main/.git/worktrees/ws\n", t.root.display()),
    );
    t.write(
        "ws/.stockade.toml",
        r#"default_profile = "dev"

[profiles.dev]
extends = "workspace"

[profiles.dev.filesystem]
":root" = "read"
":cwd" = "write"
":tmp" = "write"
"./docs" = "read"
"./docs/drafts" = "write"
"~/.cache/cargo" = "write"
"../srv-data" = "none"
"**/.env" = "none"

[profiles.dev.network]
mode = "proxy"
allow = ["crates.io", "*.crates.io", "github.com", "*.githubusercontent.com"]
deny = ["gist.github.com"]

[profiles.dev.protect]
names = [".git", ".stockade", ".agents", ".codex"]
git = "read-only"

[profiles.dev.env]
inherit = "core"
keep = ["RUST_LOG"]
set = { CI = "1" }
strip = ["*_TOKEN", "*_SECRET", "*_KEY", "AWS_*"]

[profiles.dev.limits]
timeout = "10m"
max_processes = 1024
max_memory = "8GiB"
max_output = "16MiB"
"#,
    );
    let v = t.explain_json(&[]);
    assert_eq!(v["policy"]["profile"], "dev");
    assert_eq!(v["policy_file"]["kind"], "discovered");
    assert_eq!(rule(&v, "$ROOT/ws/docs")["access"], "read");
    assert_eq!(rule(&v, "$ROOT/ws/docs/drafts")["access"], "write");
    assert_eq!(
        rule(&v, "$ROOT/main/.git/worktrees/ws")["access"],
        "read",
        "worktree gitdir"
    );
    assert_eq!(rule(&v, "$ROOT/main/.git")["access"], "read", "common dir");
    assert_eq!(
        rule(&v, "$ROOT/ws/.stockade.toml")["kind"]["kind"],
        "protected"
    );
    assert_eq!(v["policy"]["network"]["mode"], "proxy");
    golden("spec-example", &v);
}

#[test]
fn golden_git_commit_mode() {
    let t = Tree::new();
    t.mkdir("ws/.git/hooks").mkdir("ws/.git/modules/lib/hooks");
    t.write("ws/.git/config", "")
        .write("ws/.git/modules/lib/config", "");
    t.write(
        "ws/.stockade.toml",
        "[profiles.c]\nextends = \"workspace\"\n[profiles.c.protect]\ngit = \"commit\"\n",
    );
    let v = t.explain_json(&["-p", "c"]);
    assert_eq!(rule(&v, "$ROOT/ws/.git")["access"], "write");
    assert_eq!(rule(&v, "$ROOT/ws/.git/config")["access"], "read");
    assert_eq!(
        rule(&v, "$ROOT/ws/.git/modules/lib/config")["access"],
        "read"
    );
    assert_eq!(rule(&v, "$ROOT/ws/.gitmodules")["access"], "read");
    golden("git-commit", &v);
}

#[test]
fn golden_command_line_overrides_and_home_expansion() {
    let t = Tree::new();
    t.mkdir("home/projects").mkdir("home/.aws").mkdir("ws/out");
    t.write(
        "home/.ssh/config",
        "Include ~/.ssh/conf.d/*.conf\nIdentityFile ~/keys/id_%u\n",
    );
    t.write("home/.ssh/conf.d/a.conf", "ControlPath ~/.ssh/cm/%C\n");
    let v = t.explain_json(&[
        "-p",
        "read-only",
        "-w",
        "~",
        "-w",
        "out",
        "-r",
        "/opt",
        "--deny",
        "out/secret",
        "--allow-domain",
        "example.com",
        "--env-set",
        "A=1",
        "--env-keep",
        "RUST_LOG",
    ]);
    assert_eq!(rule(&v, "$ROOT/home/projects")["access"], "write");
    assert!(
        v["policy"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["path"] != "$ROOT/home" || r["access"] != "write")
    );
    assert_eq!(rule(&v, "$ROOT/home/keys/id_tester")["access"], "none");
    assert_eq!(rule(&v, "$ROOT/home/.ssh/cm")["access"], "none");
    assert_eq!(rule(&v, "$ROOT/ws/out/secret")["origin"]["flag"], "--deny");
    assert_eq!(v["policy"]["network"]["mode"], "proxy");
    golden("cli-overrides", &v);
}

/// Runs stockade and checks exit 125, a located message and a hint.
fn assert_fails(t: &Tree, args: &[&str], message: &str) {
    let out = t.stockade(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{args:?}: {stderr}");
    assert!(
        stderr.contains(message),
        "{args:?}: {message:?} not in {stderr}"
    );
    assert!(out.stdout.is_empty(), "{args:?} printed on stdout");
}

#[test]
fn bad_policy_files_exit_125_from_every_subcommand() {
    let t = Tree::new();
    t.write(
        "ws/.stockade.toml",
        "[profiles.x.filesystem]\n\":cdw\" = \"write\"\n",
    );
    let located = ".stockade.toml:2:1: unknown special root ':cdw'";
    for args in [
        &["explain"][..],
        &["explain", "--json"],
        &["run", "--", "true"],
        &["run", "--json", "--", "true"],
    ] {
        let mut full = args.to_vec();
        full.extend(["-p", "x"]);
        // Options go before the command.
        if full[0] == "run" {
            full = [&["run", "-p", "x"], &args[1..]].concat();
        }
        assert_fails(&t, &full, located);
        assert!(
            String::from_utf8_lossy(&t.stockade(&full).stderr)
                .contains("hint: did you mean ':cwd'?")
        );
    }
}

#[test]
fn bad_options_exit_125() {
    let t = Tree::new();
    assert_fails(&t, &["explain", "-p", "nope"], "unknown profile 'nope'");
    assert_fails(
        &t,
        &["explain", "--network", "on"],
        "invalid --network 'on'",
    );
    assert_fails(&t, &["explain", "-r", "src/**"], "globs are allowed");
    assert_fails(&t, &["explain", "-C", "missing-dir"], "does not exist");
    assert_fails(
        &t,
        &["explain", "-c", "missing.toml"],
        "failed to read policy file",
    );
    assert_fails(
        &t,
        &["run", "--timeout", "5", "--", "true"],
        "invalid --timeout '5'",
    );
    assert_fails(
        &t,
        &["run", "--bogus", "--", "true"],
        "unexpected argument '--bogus'",
    );
    assert_fails(&t, &["run"], "required");
    assert_fails(&t, &["frobnicate"], "unrecognized subcommand");
    // The bwrap backend's helper entry is not a way in: without the
    // descriptors bwrap passes, it refuses; with descriptors that hold no
    // plan, it refuses too, and runs nothing.
    assert_fails(
        &t,
        &["--stockade-bwrap-helper"],
        "is for stockade's bwrap backend only",
    );
    assert_fails(
        &t,
        &["--stockade-bwrap-helper", "0", "1"],
        "the bwrap helper cannot read its plan",
    );
}

#[test]
fn run_runs_the_command_in_the_workspace() {
    let t = Tree::new();
    let out = t.stockade(&[
        "run",
        "--",
        "/bin/sh",
        "-c",
        "echo hi > created-by-run; exit 3",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(125) && std::env::var_os("STOCKADE_TEST_MUST_ENFORCE").is_none() {
        eprintln!("skipped: the sandbox cannot run here: {stderr}");
        return;
    }
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(t.root.join("ws/created-by-run")).unwrap(),
        "hi\n"
    );
}

#[test]
fn explain_human_output_names_origins() {
    let t = Tree::new();
    t.write(
        "ws/.stockade.toml",
        "[profiles.d]\nextends = \"workspace\"\n[profiles.d.filesystem]\n\"./out\" = \"none\"\n",
    );
    let out = t.stockade(&["explain", "-p", "d"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.contains("profile     d  (read-only -> workspace -> d)"),
        "{text}"
    );
    assert!(text.contains(".stockade.toml:4:1 (profile 'd')"), "{text}");
    assert!(
        text.contains("<built-in>:6:1 (profile 'read-only')"),
        "{text}"
    );
    assert!(text.contains("enforcement on linux"), "{text}");
    assert!(
        text.contains("ws/out") && text.contains("a placeholder on the host for the run"),
        "{text}"
    );
}

#[test]
fn check_reports_every_builtin_profile() {
    let t = Tree::new();
    let out = t.stockade(&["check", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = v["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["profile"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["read-only", "workspace", "full"]);
    for p in v["profiles"].as_array().unwrap() {
        for b in p["blockers"].as_array().unwrap() {
            assert!(
                !b["hint"].as_str().unwrap().is_empty(),
                "every blocker has a hint: {b}"
            );
        }
    }
    let human = t.stockade(&["check"]);
    assert!(String::from_utf8_lossy(&human.stdout).contains("profiles\n  read-only"));
}

/// `stockade proxy` on its own: it prints proxy URLs with a fresh
/// credential, refuses clients without it (407) and destinations the
/// policy does not allow (403).
#[test]
fn the_standalone_proxy_demands_its_credential_and_judges_destinations() {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use std::io::{BufRead, Read, Write};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_stockade"))
        .args(["proxy", "--listen", "127.0.0.1:0", "-p", "workspace"])
        .args(["--allow-domain", "allowed.test"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://stockade:"))
        .unwrap_or_else(|| panic!("no proxy URL: {line}"))
        .to_owned();
    let (credentials, addr) = url["http://".len()..].split_once('@').unwrap();
    let token = credentials.split_once(':').unwrap().1;
    let ask = |auth: Option<&str>, target: &str| {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        let auth = auth.map_or(String::new(), |a| {
            format!("Proxy-Authorization: Basic {}\r\n", STANDARD.encode(a))
        });
        write!(stream, "CONNECT {target} HTTP/1.1\r\n{auth}\r\n").unwrap();
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).unwrap();
        String::from_utf8_lossy(&head).into_owned()
    };
    let with = format!("stockade:{token}");
    assert!(ask(None, "example.com:443").contains("407"));
    assert!(ask(Some("stockade:wrong"), "example.com:443").contains("407"));
    assert!(ask(Some(&with), "example.com:443").contains("403"));
    assert!(ask(Some(&with), "127.0.0.1:443").contains("403"));
    let _ = child.kill();
    let _ = child.wait();
}
