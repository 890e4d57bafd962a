//! Fuzzes the SSH config dependency scanner.
//!
//! The input is split at NUL bytes: the first part is `~/.ssh/config`, the
//! next ones are files the config can include (see `FILES`), all read as
//! lossy UTF-8 through an in-memory file system. The scan must never panic,
//! and what it returns must keep its promises: absolute, lexically normal,
//! unique paths, each with a real line number.
#![no_main]

use std::collections::HashSet;
use std::path::{Component, Path};

use libfuzzer_sys::fuzz_target;
use stockade_policy::ssh_config::{MemorySshFs, SshScanContext, scan_ssh_config_with};

/// Where the parts of the input go; the first is the scanned config.
const FILES: [&str; 8] = [
    "/home/u/.ssh/config",
    "/home/u/.ssh/a",
    "/home/u/.ssh/conf.d/b.conf",
    "/home/u/.ssh/conf.d/c.conf",
    "/home/u/.ssh/hosts/web.conf",
    "/etc/ssh/ssh_config.d/d.conf",
    "/home/u/e",
    "/home/u/.ssh/%h",
];

/// A small environment: some variables set, any other one unset.
fn env(name: &str) -> Option<String> {
    match name {
        "HOME" => Some("/home/u".to_owned()),
        "SSH_AUTH_SOCK" => Some("/tmp/agent.sock".to_owned()),
        "REL" => Some("../x/./y".to_owned()),
        "PCT" => Some("%d/%h/%%".to_owned()),
        "EMPTY" => Some(String::new()),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut fs = MemorySshFs::new();
    for (part, path) in data.split(|byte| *byte == 0).zip(FILES) {
        fs.add_file(path, String::from_utf8_lossy(part));
    }
    fs.add_dir("/home/u/.ssh/empty.d");
    let ctx = SshScanContext {
        home: Path::new("/home/u"),
        user: "u",
        uid: Some(1000),
        local_hostname: "box.example.org",
        env: &env,
    };
    let scan = scan_ssh_config_with(Path::new(FILES[0]), &ctx, &fs);

    let mut seen = HashSet::new();
    for dependency in &scan.dependencies {
        let path = &dependency.path;
        assert!(path.is_absolute(), "relative dependency {path:?}");
        assert!(
            path.components()
                .all(|c| !matches!(c, Component::CurDir | Component::ParentDir)),
            "dependency not normalised: {path:?}"
        );
        assert!(seen.insert(path.clone()), "duplicate dependency {path:?}");
        assert!(
            dependency.line > 0 || dependency.directive == "config",
            "dependency without a line: {dependency:?}"
        );
    }
});
