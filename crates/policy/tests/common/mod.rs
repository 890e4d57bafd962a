//! A fixture tree with a home directory and a workspace, and a context for it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use stockade_policy::{
    Access, Overrides, Platform, PolicyError, PolicyFile, ResolveContext, ResolvedPolicy, Source,
    SourceText,
};

/// Where `:tmp` appears in fixture contexts.
pub const PRIVATE_TMP: &str = "/stockade-test-private-tmp";

#[derive(Debug)]
pub struct Fixture {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub home: PathBuf,
    pub ws: PathBuf,
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let home = root.join("home/u");
        let ws = root.join("ws");
        for d in [&home, &ws, &home.join(".ssh"), &home.join(".cache")] {
            std::fs::create_dir_all(d).unwrap();
        }
        Fixture {
            _dir: dir,
            root,
            home,
            ws,
        }
    }

    pub fn ctx(&self) -> ResolveContext {
        ResolveContext {
            platform: Platform::Linux,
            cwd: self.ws.clone(),
            invocation_dir: self.ws.clone(),
            home: Some(self.home.clone()),
            user: "u".into(),
            uid: Some(1000),
            hostname: "box.example.org".into(),
            // Neither can hold the fixture, wherever the clone lives.
            tmp_dir: PRIVATE_TMP.into(),
            host_tmp: PRIVATE_TMP.into(),
            roots: vec!["/".into()],
            env: BTreeMap::new(),
        }
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn mkdir(&self, rel: &str) -> PathBuf {
        let path = self.root.join(rel);
        std::fs::create_dir_all(&path).unwrap();
        path
    }

    /// Writes a policy file at `rel` and parses it.
    pub fn policy(&self, rel: &str, text: &str) -> PolicyFile {
        let path = self.write(rel, text);
        PolicyFile::read(&path).unwrap()
    }

    pub fn resolve(
        &self,
        file: Option<&PolicyFile>,
        profile: Option<&str>,
        o: &Overrides,
    ) -> ResolvedPolicy {
        match stockade_policy::resolve(file, profile, o, &self.ctx()) {
            Ok(p) => p,
            Err(e) => panic!("resolve failed: {e}\nhint: {}", e.hint()),
        }
    }

    pub fn resolve_err(
        &self,
        file: Option<&PolicyFile>,
        profile: Option<&str>,
        o: &Overrides,
    ) -> PolicyError {
        match stockade_policy::resolve(file, profile, o, &self.ctx()) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e,
        }
    }
}

/// Parses text as if it were the file at `path` without writing it.
pub fn parse_at(path: &Path, text: &str) -> Result<PolicyFile, PolicyError> {
    PolicyFile::parse(SourceText::new(
        Source::File { path: path.into() },
        text.into(),
    ))
}

pub fn access(p: &ResolvedPolicy, path: &Path) -> Access {
    p.access(path).access
}
