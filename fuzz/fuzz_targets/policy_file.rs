//! Arbitrary bytes as a policy file: parsing and resolving every profile it
//! names must never panic, and every error must carry a location and a hint.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use stockade_policy::{Overrides, Platform, PolicyFile, ResolveContext, Source, SourceText, resolve};

/// A small fixed tree to resolve against: a home and a workspace.
fn context() -> &'static ResolveContext {
    static CTX: OnceLock<(tempfile::TempDir, ResolveContext)> = OnceLock::new();
    &CTX.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = std::fs::canonicalize(dir.path()).expect("canonical");
        for d in ["home/.ssh", "ws/.git", "ws/docs"] {
            std::fs::create_dir_all(root.join(d)).expect("fixture");
        }
        std::fs::write(root.join("home/.ssh/config"), "IdentityFile ~/.ssh/id_%u\n").expect("fixture");
        let ctx = ResolveContext {
            platform: Platform::Linux,
            cwd: root.join("ws"),
            invocation_dir: root.join("ws"),
            home: Some(root.join("home")),
            user: "fuzz".into(),
            uid: Some(1000),
            hostname: "fuzz.example".into(),
            tmp_dir: root.join("private-tmp"),
            host_tmp: root.join("host-tmp"),
            roots: vec![PathBuf::from("/")],
            env: BTreeMap::new(),
        };
        (dir, ctx)
    })
    .1
}

fuzz_target!(|data: &[u8]| {
    let ctx = context();
    let text = String::from_utf8_lossy(data).into_owned();
    let source = Source::File { path: ctx.cwd.join(".stockade.toml").into() };
    let file = match PolicyFile::parse(SourceText::new(source, text)) {
        Ok(file) => file,
        Err(e) => {
            assert!(!e.hint().is_empty(), "error without a hint: {e}");
            return;
        }
    };
    let mut names: Vec<Option<String>> = file.body.profiles.keys().map(|k| Some(k.get_ref().clone())).collect();
    names.push(None);
    for name in names.iter().take(8) {
        match resolve(Some(&file), name.as_deref(), &Overrides::default(), ctx) {
            Ok(policy) => {
                // Every rule answers for its own path.
                for rule in policy.rules.iter().take(64) {
                    let _ = policy.access(&rule.path);
                }
            }
            Err(e) => assert!(!e.hint().is_empty(), "error without a hint: {e}"),
        }
    }
});
