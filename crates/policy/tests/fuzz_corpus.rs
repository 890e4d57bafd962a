//! Replays the committed fuzz corpora (fuzz/corpus/) on the stable
//! toolchain, so every input the fuzzers kept stays a regression test even
//! where cargo-fuzz and nightly are not installed.

mod common;

use common::Fixture;
use std::path::{Path, PathBuf};
use stockade_policy::ssh_config::{MemorySshFs, SshScanContext, scan_ssh_config_with};
use stockade_policy::{Overrides, PolicyFile, Source, SourceText, resolve};

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());
    files
}

#[test]
fn policy_file_corpus() {
    let f = Fixture::new();
    let ctx = f.ctx();
    for path in corpus("policy_file") {
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let source = Source::File {
            path: f.ws.join(".stockade.toml").into(),
        };
        let Ok(file) = PolicyFile::parse(SourceText::new(source, text)) else {
            continue;
        };
        let mut names: Vec<Option<String>> = file
            .body
            .profiles
            .keys()
            .map(|k| Some(k.get_ref().clone()))
            .collect();
        names.push(None);
        for name in names {
            if let Err(e) = resolve(Some(&file), name.as_deref(), &Overrides::default(), &ctx) {
                assert!(
                    !e.hint().is_empty(),
                    "{}: error without a hint: {e}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn ssh_config_corpus() {
    let env = |_: &str| None;
    let ctx = SshScanContext {
        home: Path::new("/home/u"),
        user: "u",
        uid: Some(1000),
        local_hostname: "box.example.org",
        env: &env,
    };
    for path in corpus("ssh_config") {
        let data = std::fs::read(&path).unwrap();
        let mut fs = MemorySshFs::new();
        let files = [
            "/home/u/.ssh/config",
            "/home/u/.ssh/a",
            "/home/u/.ssh/conf.d/b.conf",
        ];
        for (part, file) in data.split(|b| *b == 0).zip(files) {
            fs.add_file(file, String::from_utf8_lossy(part));
        }
        let scan = scan_ssh_config_with(Path::new(files[0]), &ctx, &fs);
        assert!(
            scan.dependencies.iter().all(|d| d.path.is_absolute()),
            "{}",
            path.display()
        );
    }
}

#[path = "../../../fuzz/checks/domain_rules.rs"]
mod domain_rules;

#[test]
fn domain_rules_corpus() {
    for path in corpus("domain_rules") {
        domain_rules::check_input(&std::fs::read(&path).unwrap());
    }
}
