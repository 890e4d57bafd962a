//! The harness: fixture trees, running `stockade run -- stockade-probe ...`,
//! parsing its JSON lines, and checking the host afterwards.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A write the sandbox refused: read-only mount, Landlock, or no permission.
pub const WRITE_DENIED: &[&str] = &["EROFS", "EACCES", "EPERM"];
/// A read the sandbox refused.
pub const READ_DENIED: &[&str] = &["EACCES", "EPERM"];
/// A path the sandbox hides, refused or absent.
pub const HIDDEN: &[&str] = &["EACCES", "EPERM", "ENOENT"];
/// A syscall the filter or the missing capabilities refused.
pub const SYSCALL_DENIED: &[&str] = &["EPERM", "EACCES", "ENOSYS"];

pub fn stockade_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_stockade"))
}

pub fn probe_bin() -> PathBuf {
    static PROBE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PROBE
        .get_or_init(|| {
            let probe = stockade_bin().with_file_name("stockade-probe");
            assert!(
                probe.is_file(),
                "{} is missing: run cargo build -p stockade-probe first",
                probe.display()
            );
            if !probe.starts_with("/tmp") {
                return probe;
            }
            // The sandbox replaces the host's /tmp: a probe built under it
            // (a clone in /tmp) is copied where the sandbox can see it.
            let copy = fixture_base().join(format!("stockade-probe-{}", std::process::id()));
            std::fs::copy(&probe, &copy).unwrap();
            copy
        })
        .clone()
}

/// Where fixture trees live: `CARGO_TARGET_TMPDIR`, unless that is under
/// `/tmp` (which the sandbox replaces with its own), then `~/.cache`.
pub fn fixture_base() -> PathBuf {
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    if !target.starts_with("/tmp") {
        return target;
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|h| !h.starts_with("/tmp"));
    let base = home
        .unwrap_or_else(|| PathBuf::from("/var/lib"))
        .join(".cache/stockade-escape-tests");
    std::fs::create_dir_all(&base).unwrap();
    base
}

/// Is this test process running as root (effective uid 0)?
pub fn running_as_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        == Some("0")
}

/// Whether the sandbox can run here; `Err` holds the reason it cannot.
fn sandbox_status() -> &'static Result<(), String> {
    static STATUS: OnceLock<Result<(), String>> = OnceLock::new();
    STATUS.get_or_init(|| {
        let probe = probe_bin();
        let tree = Tree::new();
        let out = tree.stockade(&["check", "--json"]);
        let check: Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("stockade check --json printed no JSON: {e}"))?;
        let workspace = check["profiles"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["profile"] == "workspace"))
            .ok_or("stockade check --json does not judge the workspace profile")?;
        if workspace["enforceable"] != true {
            return Err(format!(
                "the workspace profile is not enforceable here: {}",
                workspace["blockers"]
            ));
        }
        let probe = probe.to_str().unwrap();
        let out = tree.stockade(&["run", "--", probe, "getpid"]);
        if out.status.code() != Some(0)
            || !String::from_utf8_lossy(&out.stdout).contains("\"ok\":true")
        {
            return Err(format!(
                "a trivial sandboxed run failed ({:?}): {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(())
    })
}

/// A fresh fixture tree when the sandbox works here. Otherwise prints
/// "skipped: REASON" and returns `None`, or panics when
/// `STOCKADE_TEST_MUST_ENFORCE=1`.
pub fn sandbox() -> Option<Tree> {
    match sandbox_status() {
        Ok(()) => Some(Tree::new()),
        Err(reason) if std::env::var_os("STOCKADE_TEST_MUST_ENFORCE").is_some_and(|v| v == "1") => {
            panic!("the sandbox is required (STOCKADE_TEST_MUST_ENFORCE=1): {reason}")
        }
        Err(reason) => {
            eprintln!("skipped: {reason}");
            None
        }
    }
}

/// A fixture tree under [`fixture_base`] (not `/tmp`, which is the
/// sandbox's private tmp):
///
/// ```text
/// home/            HOME; .ssh/id_rsa and .aws/credentials are secrets
/// ws/              the working directory (the workspace); ws/sub
/// outside/f        a sibling the policy does not make writable
/// xdg/             XDG_CONFIG_HOME, empty: no user config applies
/// ```
#[derive(Debug)]
pub struct Tree {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
}

impl Tree {
    fn new() -> Tree {
        let dir = tempfile::tempdir_in(fixture_base()).unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let tree = Tree { _dir: dir, root };
        tree.write("home/.ssh/id_rsa", "PRIVATE KEY\n");
        tree.write("home/.aws/credentials", "aws_secret_access_key = y\n");
        tree.write("outside/f", "outside\n");
        tree.mkdir("ws/sub");
        tree.mkdir("xdg");
        tree
    }

    /// The absolute path of `rel` in the tree, as a string.
    pub fn p(&self, rel: &str) -> String {
        self.path(rel).to_str().unwrap().to_owned()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        if rel.is_empty() {
            self.root.clone()
        } else {
            self.root.join(rel)
        }
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    pub fn mkdir(&self, rel: &str) {
        std::fs::create_dir_all(self.path(rel)).unwrap();
    }

    pub fn exists(&self, rel: &str) -> bool {
        std::fs::symlink_metadata(self.path(rel)).is_ok()
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    /// `stockade` with the tree's clean environment, in `ws/`.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(stockade_bin());
        cmd.current_dir(self.path("ws"))
            .env_clear()
            .env("HOME", self.path("home"))
            .env("PATH", "/usr/bin:/bin")
            .env("USER", "tester")
            .env("XDG_CONFIG_HOME", self.path("xdg"))
            .stdin(Stdio::null());
        // The whole suite runs once more with the bwrap backend (.ci/run).
        if let Some(forced) = std::env::var_os("STOCKADE_FORCE_BWRAP") {
            cmd.env("STOCKADE_FORCE_BWRAP", forced);
        }
        cmd
    }

    pub fn stockade(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    /// `stockade run POLICY -- stockade-probe OPS...`, built step by step.
    pub fn probe(&self) -> ProbeRun<'_> {
        ProbeRun {
            tree: self,
            policy: Vec::new(),
            ops: Vec::new(),
            env: Vec::new(),
            cwd: "ws".into(),
        }
    }

    /// `stockade run ARGS` with an arbitrary command.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut full = vec!["run"];
        full.extend_from_slice(args);
        Run::from(self.stockade(&full))
    }

    /// Every entry of the tree, with its type and content, to compare the
    /// host before and after a run.
    pub fn snapshot(&self) -> Snapshot {
        let mut entries = BTreeMap::new();
        walk(&self.root, &self.root, &mut entries);
        Snapshot(entries)
    }

    /// Fails if anything in the tree changed since `before`, except at the
    /// listed paths (relative to the tree, with everything below them).
    pub fn assert_unchanged(&self, before: &Snapshot, except: &[&str]) {
        let after = self.snapshot();
        let allowed = |rel: &str| {
            except
                .iter()
                .any(|e| rel == *e || rel.starts_with(&format!("{e}/")))
        };
        let mut diffs = Vec::new();
        let keys: std::collections::BTreeSet<_> = before.0.keys().chain(after.0.keys()).collect();
        for key in keys {
            if allowed(key) {
                continue;
            }
            let (old, new) = (before.0.get(key), after.0.get(key));
            if old != new {
                diffs.push(format!("  {key}: {old:?} -> {new:?}"));
            }
        }
        assert!(
            diffs.is_empty(),
            "the host tree changed outside the policy:\n{}",
            diffs.join("\n")
        );
    }

    /// Fails if a process whose command line names this tree is still
    /// alive on the host (something outlived its run).
    pub fn assert_no_process_left(&self) {
        let needle = self.root.to_str().unwrap().as_bytes().to_vec();
        let mut left = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            else {
                continue;
            };
            let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
                continue;
            };
            if cmdline
                .windows(needle.len())
                .any(|w| w == needle.as_slice())
            {
                let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
                // A zombie is already dead; its parent just has not reaped it.
                if !stat.contains(") Z ") {
                    left.push(format!("{pid}: {}", String::from_utf8_lossy(&cmdline)));
                }
            }
        }
        assert!(left.is_empty(), "processes outlived the run: {left:?}");
    }
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let ft = meta.file_type();
        let desc = if ft.is_symlink() {
            format!(
                "symlink -> {}",
                std::fs::read_link(&path).unwrap().display()
            )
        } else if ft.is_dir() {
            walk(root, &path, out);
            "dir".to_owned()
        } else if ft.is_file() {
            match std::fs::read(&path) {
                Ok(bytes) => format!("file {:?}", String::from_utf8_lossy(&bytes)),
                Err(e) => format!("file (unreadable: {e})"),
            }
        } else {
            format!("special {:?}", ft)
        };
        out.insert(rel, desc);
    }
}

/// The tree's entries at one moment; see [`Tree::snapshot`].
#[derive(Debug, Clone)]
pub struct Snapshot(BTreeMap<String, String>);

/// A `stockade run` that will execute the probe.
#[derive(Debug)]
pub struct ProbeRun<'t> {
    tree: &'t Tree,
    policy: Vec<String>,
    ops: Vec<Vec<String>>,
    env: Vec<(String, String)>,
    cwd: String,
}

impl ProbeRun<'_> {
    /// Policy options for `stockade run` (before `--`).
    pub fn policy(mut self, args: &[&str]) -> Self {
        self.policy.extend(args.iter().map(|s| s.to_string()));
        self
    }

    /// One probe operation and its arguments.
    pub fn op(mut self, op: &[&str]) -> Self {
        self.ops.push(op.iter().map(|s| s.to_string()).collect());
        self
    }

    /// An environment variable for stockade itself.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Where stockade is started, relative to the tree (default `ws`).
    pub fn started_in(mut self, rel: &str) -> Self {
        self.cwd = rel.into();
        self
    }

    /// The full argument list after `stockade`.
    pub fn args(&self) -> Vec<String> {
        let mut args = vec!["run".to_owned()];
        args.extend(self.policy.iter().cloned());
        args.push("--".into());
        args.push(probe_bin().to_str().unwrap().to_owned());
        for (i, op) in self.ops.iter().enumerate() {
            if i > 0 {
                args.push("--then".into());
            }
            args.extend(op.iter().cloned());
        }
        args
    }

    pub fn command(&self) -> Command {
        let mut cmd = self.tree.command();
        cmd.current_dir(self.tree.path(&self.cwd)).args(self.args());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// The same run started through `/bin/sh -c 'exec "$@" REDIRECTS'`,
    /// so that stockade inherits the descriptors REDIRECTS opens.
    pub fn run_with_redirects(self, redirects: &str) -> Run {
        let base = self.tree.command();
        let mut sh = Command::new("/bin/sh");
        sh.args(["-c", &format!("exec \"$@\" {redirects}"), "sh"])
            .arg(stockade_bin())
            .args(self.args())
            .current_dir(self.tree.path(&self.cwd))
            .env_clear()
            .envs(base.get_envs().filter_map(|(k, v)| Some((k, v?))))
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        let mut run = Run::from(sh.output().unwrap());
        run.context = format!("stockade {} {redirects}", self.args().join(" "));
        run
    }

    pub fn run(self) -> Run {
        let out = self.command().output().unwrap();
        let mut run = Run::from(out);
        run.context = format!("stockade {}", self.args().join(" "));
        run
    }
}

/// What a `stockade run` did: exit code, output, and the probe's reports.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub ops: Vec<Value>,
    pub context: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let ops = stdout
            .lines()
            .filter(|l| l.starts_with("{\"op\""))
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        Run {
            code: out.status.code(),
            stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            ops,
            context: String::new(),
        }
    }
}

impl Run {
    /// The JSON record `run --json` printed after the probe's reports.
    pub fn record(&self) -> Value {
        self.stdout
            .lines()
            .skip_while(|l| !l.starts_with('{') || l.starts_with("{\"op\""))
            .collect::<String>()
            .parse()
            .unwrap_or_else(|e| panic!("no JSON record ({e}): {}", self.stdout))
    }

    /// The probe's N reports; fails unless the run exited 0 with exactly N.
    pub fn ops<const N: usize>(&self) -> [&Value; N] {
        assert_eq!(
            self.code,
            Some(0),
            "{}\nexited {:?}\nstdout:\n{}\nstderr:\n{}",
            self.context,
            self.code,
            self.stdout,
            self.stderr
        );
        let refs: Vec<&Value> = self.ops.iter().collect();
        refs.try_into().unwrap_or_else(|v: Vec<&Value>| {
            panic!(
                "{}\nexpected {N} probe reports, got {}:\n{}\nstderr:\n{}",
                self.context,
                v.len(),
                self.stdout,
                self.stderr
            )
        })
    }

    /// Asserts the exit code, showing the output when it differs.
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code,
            Some(code),
            "{}\nstdout:\n{}\nstderr:\n{}",
            self.context,
            self.stdout,
            self.stderr
        );
        self
    }
}

/// The forbidden operation failed, with one of `errnos`.
#[track_caller]
pub fn denied(report: &Value, errnos: &[&str]) {
    assert_eq!(
        report["ok"], false,
        "ESCAPE: a forbidden operation succeeded: {report}"
    );
    let error = report["error"].as_str().unwrap_or("?");
    assert!(
        errnos.contains(&error),
        "forbidden operation failed with {error}, expected one of {errnos:?}: {report}"
    );
}

/// The nearby allowed operation succeeded.
#[track_caller]
pub fn allowed(report: &Value) {
    assert_eq!(
        report["ok"], true,
        "an allowed operation failed (is the sandbox refusing everything?): {report}"
    );
}

/// The probe's `exists` op said the path is absent.
#[track_caller]
pub fn absent(report: &Value) {
    allowed(report);
    assert_eq!(report["exists"], false, "the path is visible: {report}");
}

/// The absolute path of a program found in the host's usual places.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(["/usr/local/bin", "/usr/bin", "/bin"])
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

/// Host-side `git` with no user or system configuration.
pub fn host_git(git: &Path, tree: &Tree, dir: &str, args: &[&str]) {
    let out = Command::new(git)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(tree.path(dir))
        .env_clear()
        .env("HOME", tree.path("home"))
        .env("PATH", "/usr/bin:/bin")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Polls until `cond` holds or `limit` passes; whether it held.
pub fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    cond()
}

/// A file in the host's real `/tmp`, removed on drop.
#[derive(Debug)]
pub struct HostTmpMarker(pub PathBuf);

impl HostTmpMarker {
    pub fn new(tag: &str) -> HostTmpMarker {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let path = PathBuf::from(format!(
            "/tmp/stockade-escape-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::write(&path, "host\n").unwrap();
        HostTmpMarker(path)
    }

    pub fn as_str(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for HostTmpMarker {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
