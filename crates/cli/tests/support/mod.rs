//! What the library and server tests share: a workspace outside `/tmp`
//! (which the sandbox replaces), the `stockade` binary as launch helper,
//! and the rule for skipping where the kernel cannot run a sandbox.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn stockade_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_stockade"))
}

/// Whether a missing feature must fail the test (CI) rather than skip it.
pub fn must_enforce() -> bool {
    std::env::var_os("STOCKADE_TEST_MUST_ENFORCE").is_some_and(|v| v == "1")
}

/// Skips (prints why) or, under `STOCKADE_TEST_MUST_ENFORCE=1`, fails.
pub fn skip(reason: &str) {
    assert!(
        !must_enforce(),
        "required (STOCKADE_TEST_MUST_ENFORCE=1): {reason}"
    );
    eprintln!("skipped: {reason}");
}

/// A fresh workspace directory (its parent is the test's own, empty).
pub struct Workspace {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl Workspace {
    pub fn new() -> Workspace {
        let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let base = if target.starts_with("/tmp") {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or("/var/lib".into());
            home.join(".cache/stockade-tests")
        } else {
            target
        };
        std::fs::create_dir_all(&base).unwrap();
        let dir = tempfile::tempdir_in(base).unwrap();
        let path = std::fs::canonicalize(dir.path()).unwrap().join("ws");
        std::fs::create_dir(&path).unwrap();
        Workspace { _dir: dir, path }
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.path.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// `None` when a sandbox can run here; else why not.
pub fn sandbox_unavailable(ws: &Workspace) -> Option<String> {
    let out = Command::new(stockade_bin())
        .args(["run", "--", "true"])
        .current_dir(&ws.path)
        .output()
        .unwrap();
    (out.status.code() != Some(0)).then(|| {
        format!(
            "stockade run cannot run a sandbox here: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )
    })
}

/// Processes whose command line contains `marker`.
pub fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(marker) {
            found.push(format!("{} {cmdline}", entry.file_name().to_string_lossy()));
        }
    }
    found
}

/// Waits (10 s at most) until no process carries `marker`; what is left.
pub fn gone(marker: &str) -> Vec<String> {
    let start = std::time::Instant::now();
    loop {
        let left = processes_with(marker);
        if left.is_empty() || start.elapsed() > std::time::Duration::from_secs(10) {
            return left;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
