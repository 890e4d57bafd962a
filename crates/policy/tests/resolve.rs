//! Resolution: precedence, special roots, relative paths, derived rules.

mod common;

use common::{Fixture, access};
use std::path::Path;
use stockade_policy::{Access, DecidedBy, GitMode, NetworkMode, Overrides, RuleKind};

fn none() -> Overrides {
    Overrides::default()
}

#[test]
fn carve_outs_and_reopened_descendants() {
    let f = Fixture::new();
    f.mkdir("ws/docs/drafts/secret");
    let file = f.policy(
        "ws/.stockade.toml",
        r#"
default_profile = "dev"
[profiles.dev]
extends = "workspace"
[profiles.dev.filesystem]
"./docs" = "read"
"./docs/drafts" = "write"
"./docs/drafts/secret" = "none"
"#,
    );
    let p = f.resolve(Some(&file), None, &none());
    assert_eq!(p.profile, "dev");
    assert_eq!(p.chain, ["read-only", "workspace", "dev"]);
    let ws = &f.ws;
    assert_eq!(
        access(&p, &ws.join("src/main.rs")),
        Access::Write,
        "under :cwd"
    );
    assert_eq!(
        access(&p, &ws.join("docs/a.md")),
        Access::Read,
        "read carve-out under write"
    );
    assert_eq!(
        access(&p, &ws.join("docs/drafts/b.md")),
        Access::Write,
        "write reopened under read"
    );
    assert_eq!(
        access(&p, &ws.join("docs/drafts/secret/k")),
        Access::None,
        "none under write under read"
    );
    assert_eq!(access(&p, Path::new("/usr/bin/env")), Access::Read, ":root");
    assert_eq!(
        access(&p, &f.home.join(".ssh/id_ed25519")),
        Access::None,
        "sensitive"
    );
    // A caller's spelling that is not canonical finds the same rules: a
    // trailing slash, `.` parts, repeated separators.
    let secret = ws.join("docs/drafts/secret");
    for spelling in [
        format!("{}/", secret.display()),
        format!("{}/./k", secret.display()),
        format!("{}//k", secret.display()),
    ] {
        assert_eq!(access(&p, Path::new(&spelling)), Access::None, "{spelling}");
    }
    assert_eq!(
        p.rules_at(Path::new(&format!("{}/", secret.display())))
            .len(),
        1
    );
    // The rule that decided is reported with its file and line.
    match p.access(&ws.join("docs/a.md")).by {
        DecidedBy::Rule(rule) => {
            let origin = rule.origin.to_string();
            assert!(origin.contains(".stockade.toml:6:1"), "{origin}");
            assert!(origin.contains("profile 'dev'"), "{origin}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_path_no_rule_matches_is_none() {
    let f = Fixture::new();
    let file = f.policy(
        "p.toml",
        "[profiles.bare.filesystem]\n\":cwd\" = \"write\"\n",
    );
    let p = f.resolve(Some(&file), Some("bare"), &none());
    assert_eq!(access(&p, Path::new("/etc/passwd")), Access::None);
    assert!(matches!(
        p.access(Path::new("/etc/passwd")).by,
        DecidedBy::Default
    ));
    assert_eq!(access(&p, &f.ws.join("x")), Access::Write);
}

#[test]
fn ties_go_to_the_stricter_rule() {
    let f = Fixture::new();
    // A protected name and a write rule on the very same path: read wins.
    let file = f.policy("ws/p.toml", "[profiles.t]\nextends = \"workspace\"\n[profiles.t.filesystem]\n\"./.agents\" = \"write\"\n");
    let p = f.resolve(Some(&file), Some("t"), &none());
    assert_eq!(access(&p, &f.ws.join(".agents")), Access::Read);
    assert_eq!(access(&p, &f.ws.join(".agents/x")), Access::Read);
    // A glob and a rule at the same depth: none wins.
    let file = f.policy("ws/q.toml", "[profiles.t]\nextends = \"workspace\"\n[profiles.t.filesystem]\n\"./.env\" = \"write\"\n\"**/.env\" = \"none\"\n");
    let p = f.resolve(Some(&file), Some("t"), &none());
    assert_eq!(access(&p, &f.ws.join(".env")), Access::None);
}

#[test]
fn special_roots() {
    let f = Fixture::new();
    let p = f.resolve(None, Some("workspace"), &none());
    assert_eq!(access(&p, Path::new("/")), Access::Read, ":root");
    assert_eq!(access(&p, &f.ws), Access::Write, ":cwd");
    let tmp = p
        .rules
        .iter()
        .find(|r| r.kind == RuleKind::PrivateTmp)
        .expect(":tmp");
    assert_eq!(
        (tmp.path.as_path(), tmp.access),
        (Path::new(common::PRIVATE_TMP), Access::Write)
    );
    let file = f.policy(
        "p.toml",
        "[profiles.s.filesystem]\n\":minimal\" = \"read\"\n\":home\" = \"read\"\n\":home/.cache\" = \"write\"\n\":cwd/sub\" = \"none\"\n",
    );
    let p = f.resolve(Some(&file), Some("s"), &none());
    assert_eq!(
        access(&p, Path::new("/usr/lib/x")),
        Access::Read,
        ":minimal"
    );
    assert_eq!(
        access(&p, Path::new("/dev/null")),
        Access::Read,
        ":minimal devices"
    );
    assert_eq!(
        access(&p, Path::new("/root")),
        Access::None,
        "outside :minimal"
    );
    assert_eq!(access(&p, &f.home.join("notes")), Access::Read, ":home");
    assert_eq!(
        access(&p, &f.home.join(".cache/x")),
        Access::Write,
        ":home/sub"
    );
    assert_eq!(access(&p, &f.ws.join("sub/x")), Access::None, ":cwd/sub");
    assert_eq!(access(&p, &f.ws.join("other")), Access::None);
}

#[test]
fn private_tmp_outside_slash_tmp_hides_the_hosts() {
    let f = Fixture::new();
    let mut ctx = f.ctx();
    ctx.tmp_dir = "/tmp/stockade-run-1".into();
    ctx.host_tmp = "/tmp".into();
    let p = stockade_policy::resolve(None, None, &none(), &ctx).unwrap();
    assert_eq!(
        access(&p, Path::new("/tmp/stockade-run-1/x")),
        Access::Write
    );
    assert_eq!(access(&p, Path::new("/tmp/other-users-file")), Access::None);
}

#[test]
fn host_scratch_space_is_hidden() {
    let f = Fixture::new();
    let p = f.resolve(None, None, &none());
    for path in ["/dev/shm/x", "/var/tmp/x", "/run/user/1000/bus"] {
        assert_eq!(access(&p, Path::new(path)), Access::None, "{path}");
    }
}

#[test]
fn relative_paths_resolve_against_the_file_not_the_cwd() {
    let f = Fixture::new();
    f.mkdir("elsewhere/data");
    let file = f.policy("elsewhere/p.toml", "[profiles.r]\nextends = \"workspace\"\n[profiles.r.filesystem]\n\"./data\" = \"write\"\n\"data/../logs\" = \"write\"\n");
    let p = f.resolve(Some(&file), Some("r"), &none());
    assert_eq!(access(&p, &f.root.join("elsewhere/data/x")), Access::Write);
    assert_eq!(
        access(&p, &f.ws.join("data/x")),
        Access::Write,
        "ws is :cwd anyway"
    );
    assert!(p.notes.iter().any(
        |n| n.path.as_deref() == Some(&f.root.join("elsewhere/logs"))
            && n.message.contains("does not exist")
    ));
}

#[test]
fn command_line_paths_resolve_against_the_invocation_dir() {
    let f = Fixture::new();
    f.mkdir("ws/out");
    let o = Overrides {
        writable: vec!["out".into()],
        deny: vec!["out/private".into()],
        readable: vec!["~/.ssh/known_hosts".into()],
        ..none()
    };
    let file = f.policy("p.toml", "[profiles.ro]\nextends = \"read-only\"\n");
    let p = f.resolve(Some(&file), Some("ro"), &o);
    assert_eq!(access(&p, &f.ws.join("out/x")), Access::Write);
    assert_eq!(access(&p, &f.ws.join("out/private/x")), Access::None);
    assert_eq!(access(&p, &f.ws.join("src")), Access::Read);
    assert_eq!(
        access(&p, &f.home.join(".ssh/known_hosts")),
        Access::Read,
        "re-allowed by a flag"
    );
    assert_eq!(access(&p, &f.home.join(".ssh/id_rsa")), Access::None);
}

#[test]
fn tilde_means_home() {
    let f = Fixture::new();
    let file = f.policy("p.toml", "[profiles.t]\nextends = \"workspace\"\n[profiles.t.filesystem]\n\"~/.cache\" = \"write\"\n");
    let p = f.resolve(Some(&file), Some("t"), &none());
    assert_eq!(access(&p, &f.home.join(".cache/pip/x")), Access::Write);
}

#[test]
fn symlinked_rule_paths_are_canonical() {
    let f = Fixture::new();
    let real = f.mkdir("real-data");
    std::os::unix::fs::symlink(&real, f.ws.join("data-link")).unwrap();
    let o = Overrides {
        deny: vec!["data-link".into()],
        ..none()
    };
    let p = f.resolve(None, None, &o);
    assert_eq!(
        access(&p, &real.join("x")),
        Access::None,
        "the target is what is denied"
    );
}

#[test]
fn sensitive_paths_can_be_reallowed_by_a_child_profile() {
    let f = Fixture::new();
    f.write("home/u/.cargo/credentials.toml", "token");
    let file = f.policy(
        "p.toml",
        "[profiles.t]\nextends = \"workspace\"\n[profiles.t.filesystem]\n\"~/.ssh\" = \"read\"\n\"~/.cargo/credentials.toml\" = \"read\"\n",
    );
    let base = f.resolve(None, Some("workspace"), &none());
    assert_eq!(access(&base, &f.home.join(".ssh/id_rsa")), Access::None);
    assert_eq!(
        access(&base, &f.home.join(".cargo/credentials.toml")),
        Access::None,
        "glob ~/.cargo/credentials*"
    );
    assert_eq!(
        access(&base, &f.home.join(".cargo/credentials")),
        Access::None,
        "glob covers files created later"
    );
    let p = f.resolve(Some(&file), Some("t"), &none());
    assert_eq!(access(&p, &f.home.join(".ssh/id_rsa")), Access::Read);
    assert_eq!(
        access(&p, &f.home.join(".cargo/credentials.toml")),
        Access::Read
    );
    assert_eq!(
        access(&p, &f.home.join(".cargo/credentials")),
        Access::None,
        "only the named path is re-allowed"
    );
    assert_eq!(access(&p, &f.home.join(".aws/credentials")), Access::None);
}

#[test]
fn full_profile_writes_everything_and_reads_secrets() {
    let f = Fixture::new();
    let p = f.resolve(None, Some("full"), &none());
    assert_eq!(access(&p, Path::new("/etc/x")), Access::Write);
    assert_eq!(access(&p, &f.home.join(".ssh/id_rsa")), Access::Write);
    assert_eq!(p.network.mode, NetworkMode::Full);
}

#[test]
fn deny_globs_hold_for_files_created_later() {
    let f = Fixture::new();
    let file = f.policy("ws/p.toml", "[profiles.g]\nextends = \"workspace\"\n[profiles.g.filesystem]\n\"**/.env\" = \"none\"\n\"./keys/*.pem\" = \"none\"\n");
    let p = f.resolve(Some(&file), Some("g"), &none());
    assert_eq!(access(&p, &f.ws.join(".env")), Access::None);
    assert_eq!(
        access(&p, &f.ws.join("deep/er/.env")),
        Access::None,
        "does not exist yet"
    );
    assert_eq!(
        access(&p, &f.ws.join(".env/inside")),
        Access::None,
        "below a matching directory"
    );
    assert_eq!(
        access(&p, &f.ws.join(".envrc")),
        Access::Write,
        "whole names only"
    );
    assert_eq!(access(&p, &f.ws.join("keys/a.pem")), Access::None);
    assert_eq!(
        access(&p, &f.ws.join("keys/sub/a.pem")),
        Access::Write,
        "* does not cross /"
    );
}

#[test]
fn protected_names_existing_or_not() {
    let f = Fixture::new();
    f.mkdir("ws/.git");
    f.mkdir("ws/.agents");
    let p = f.resolve(None, None, &none());
    for name in [".git", ".agents", ".codex", ".stockade", ".stockade.toml"] {
        let path = f.ws.join(name);
        assert_eq!(access(&p, &path), Access::Read, "{name}");
        let rule = p.rules.iter().find(|r| r.path == path).unwrap();
        assert!(matches!(&rule.kind, RuleKind::Protected { name: n } if n == name));
        assert_eq!(rule.exists, path.exists(), "{name}");
    }
    assert_eq!(access(&p, &f.ws.join(".git/config")), Access::Read);
    assert_eq!(
        access(&p, &f.ws.join(".gitx")),
        Access::Write,
        "only the exact name"
    );
    // Not under a writable root: no protected rule (it is read anyway).
    assert!(!p.rules.iter().any(|r| r.path == f.home.join(".git")));
}

#[test]
fn writes_beneath_a_protected_name_are_lowered_to_read() {
    let f = Fixture::new();
    f.mkdir("ws/.git/objects");
    let o = Overrides {
        writable: vec![".git/objects".into()],
        ..none()
    };
    let p = f.resolve(None, None, &o);
    assert_eq!(access(&p, &f.ws.join(".git/objects/ab")), Access::Read);
    assert!(
        p.notes
            .iter()
            .any(|n| n.message.contains("lowered to read"))
    );
}

#[test]
fn worktree_git_files_protect_gitdir_and_common_dir() {
    let f = Fixture::new();
    let main_git = f.mkdir("main/.git");
    let gitdir = f.mkdir("main/.git/worktrees/ws");
    f.write("main/.git/worktrees/ws/commondir", "../..\n");
    f.write("ws/.git", &format!("gitdir: {}\n", gitdir.display()));
    let o = Overrides {
        writable: vec![main_git.parent().unwrap().to_string_lossy().into_owned()],
        ..none()
    };
    let p = f.resolve(None, None, &o);
    assert_eq!(
        access(&p, &f.ws.join(".git")),
        Access::Read,
        "the pointer file"
    );
    assert_eq!(
        access(&p, &gitdir.join("HEAD")),
        Access::Read,
        "the gitdir, though main/ is writable"
    );
    assert_eq!(
        access(&p, &main_git.join("config")),
        Access::Read,
        "the common dir"
    );
    assert_eq!(access(&p, &f.root.join("main/src.rs")), Access::Write);
}

#[test]
fn git_commit_mode_opens_objects_but_not_what_runs_code() {
    let f = Fixture::new();
    for d in [
        "ws/.git/objects",
        "ws/.git/refs/heads",
        "ws/.git/hooks",
        "ws/.git/info",
        "ws/.git/modules/sub/hooks",
    ] {
        f.mkdir(d);
    }
    f.write("ws/.git/config", "");
    f.write("ws/.git/modules/sub/config", "");
    let file = f.policy(
        "p.toml",
        "[profiles.c]\nextends = \"workspace\"\n[profiles.c.protect]\ngit = \"commit\"\n",
    );
    let p = f.resolve(Some(&file), Some("c"), &none());
    assert_eq!(p.protect.git, GitMode::Commit);
    let git = f.ws.join(".git");
    for writable in [
        "objects/ab/cd",
        "refs/heads/main",
        "index",
        "index.lock",
        "HEAD",
        "logs/HEAD",
        "COMMIT_EDITMSG",
    ] {
        assert_eq!(access(&p, &git.join(writable)), Access::Write, "{writable}");
    }
    for protected in [
        "config",
        "hooks/pre-commit",
        "info/attributes",
        "modules/sub/config",
        "modules/sub/hooks/x",
    ] {
        assert_eq!(
            access(&p, &git.join(protected)),
            Access::Read,
            "{protected}"
        );
    }
    assert_eq!(access(&p, &f.ws.join(".gitmodules")), Access::Read);
    assert_eq!(access(&p, &f.ws.join(".gitattributes")), Access::Read);
    assert_eq!(
        access(&p, &f.ws.join("sub/.gitattributes")),
        Access::Write,
        "only at the root"
    );
}

#[test]
fn a_writable_home_becomes_its_children_minus_secrets() {
    let f = Fixture::new();
    f.mkdir("home/u/projects");
    f.mkdir("home/u/.aws");
    f.write("home/u/.bashrc", "");
    std::os::unix::fs::symlink("/etc", f.home.join("etc-link")).unwrap();
    let o = Overrides {
        writable: vec!["~".into()],
        ..none()
    };
    let p = f.resolve(None, None, &o);
    assert_eq!(access(&p, &f.home.join("projects/x")), Access::Write);
    assert_eq!(access(&p, &f.home.join(".bashrc")), Access::Write);
    assert_eq!(access(&p, &f.home.join(".cache/x")), Access::Write);
    assert_eq!(
        access(&p, &f.home.join("new-file")),
        Access::Read,
        "home itself is not writable"
    );
    assert_eq!(access(&p, &f.home.join(".ssh/id_rsa")), Access::None);
    assert_eq!(access(&p, &f.home.join(".aws/credentials")), Access::None);
    assert_eq!(
        access(&p, Path::new("/etc/passwd")),
        Access::Read,
        "symlinked children are left out"
    );
    assert!(
        !p.rules
            .iter()
            .any(|r| r.path == f.home && r.access == Access::Write)
    );
    assert_eq!(
        access(&p, &f.home.join("projects/.git")),
        Access::Read,
        "children are writable roots"
    );
}

#[test]
fn missing_writable_roots_are_skipped_with_a_note() {
    let f = Fixture::new();
    let o = Overrides {
        writable: vec!["/nonexistent/stockade-test".into()],
        ..none()
    };
    let p = f.resolve(None, None, &o);
    assert!(
        !p.writable_roots()
            .any(|r| r.path == Path::new("/nonexistent/stockade-test"))
    );
    assert!(
        p.notes
            .iter()
            .any(|n| n.message == "writable root does not exist: skipped")
    );
}

#[test]
fn missing_deny_rules_are_kept() {
    let f = Fixture::new();
    let o = Overrides {
        deny: vec!["later".into()],
        ..none()
    };
    let p = f.resolve(None, None, &o);
    assert_eq!(access(&p, &f.ws.join("later/x")), Access::None);
    assert!(
        p.rules
            .iter()
            .any(|r| r.path == f.ws.join("later") && !r.exists)
    );
}

#[test]
fn the_policy_file_is_read_only() {
    let f = Fixture::new();
    let file = f.policy(
        "ws/.stockade.toml",
        "[profiles.p]\nextends = \"workspace\"\n",
    );
    let p = f.resolve(Some(&file), Some("p"), &none());
    let path = f.ws.join(".stockade.toml");
    assert_eq!(p.policy_file.as_deref(), Some(path.as_path()));
    assert_eq!(access(&p, &path), Access::Read);
    // Also outside the workspace, when a flag makes its directory writable.
    let file = f.policy("cfg/policy.toml", "[profiles.p]\nextends = \"workspace\"\n");
    let o = Overrides {
        writable: vec![f.root.join("cfg").to_string_lossy().into_owned()],
        ..none()
    };
    let p = f.resolve(Some(&file), Some("p"), &o);
    assert_eq!(access(&p, &f.root.join("cfg/policy.toml")), Access::Read);
    assert_eq!(access(&p, &f.root.join("cfg/other")), Access::Write);
}

#[test]
fn ssh_config_dependencies_are_unreadable_under_workspace() {
    let f = Fixture::new();
    f.write(
        "home/u/.ssh/config",
        "Include ~/.config/ssh/*.conf\nHost *\n  IdentityFile ~/keys/%u_key\n  ControlPath ~/.cm/%r@%h:%p\n",
    );
    f.write(
        "home/u/.config/ssh/work.conf",
        "Host w\n  CertificateFile /opt/certs/%u.pub\n",
    );
    let p = f.resolve(None, None, &none());
    assert_eq!(access(&p, &f.home.join("keys/u_key")), Access::None);
    assert_eq!(access(&p, &f.home.join("keys/other")), Access::Read);
    assert_eq!(
        access(&p, &f.home.join(".cm/git@host:22")),
        Access::None,
        "per-host token: its directory"
    );
    assert_eq!(
        access(&p, &f.home.join(".config/ssh/work.conf")),
        Access::None,
        "included files"
    );
    assert_eq!(
        access(&p, Path::new("/opt/certs/u.pub")),
        Access::None,
        "directives of included files"
    );
    let full = f.resolve(None, Some("full"), &none());
    assert_eq!(access(&full, &f.home.join("keys/u_key")), Access::Write);
}

#[test]
fn network_env_limits_sections() {
    let f = Fixture::new();
    let file = f.policy(
        "p.toml",
        r#"
[profiles.n]
extends = "workspace"
[profiles.n.network]
mode = "proxy"
allow = ["crates.io", "*.crates.io", "github.com"]
deny = ["gist.github.com"]
allow_ranges = ["10.1.0.0/16"]
allow_local_binding = true
unix_sockets = ["~/agent.sock"]
[profiles.n.env]
inherit = "none"
keep = ["RUST_LOG"]
set = { CI = "1" }
strip = ["*_TOKEN"]
[profiles.n.limits]
timeout = "10m"
max_processes = 1024
max_memory = "8GiB"
max_output = "16MiB"
"#,
    );
    let p = f.resolve(Some(&file), Some("n"), &none());
    assert_eq!(p.network.mode, NetworkMode::Proxy);
    assert_eq!(p.network.allow.len(), 3);
    assert_eq!(p.network.deny.len(), 1);
    assert!(p.network.allow_local_binding);
    assert_eq!(p.network.unix_sockets, [f.home.join("agent.sock")]);
    assert_eq!(p.env.keep, ["RUST_LOG"]);
    assert_eq!(p.env.set.get("CI").map(String::as_str), Some("1"));
    assert_eq!(p.limits.timeout, Some(std::time::Duration::from_secs(600)));
    assert_eq!(p.limits.max_memory, Some(8 << 30));
    // Command-line network options layer on top.
    let o = Overrides {
        allow_domains: vec!["example.com".into()],
        ..none()
    };
    let p = f.resolve(None, None, &o);
    assert_eq!(
        p.network.mode,
        NetworkMode::Proxy,
        "--allow-domain implies proxy"
    );
    let o = Overrides {
        network: Some("full".into()),
        ..none()
    };
    assert_eq!(f.resolve(None, None, &o).network.mode, NetworkMode::Full);
    let o = Overrides {
        env_keep: vec!["FOO".into()],
        env_set: vec!["A=b=c".into()],
        ..none()
    };
    let p = f.resolve(None, None, &o);
    assert_eq!(p.env.set.get("A").map(String::as_str), Some("b=c"));
    assert!(p.env.keep.contains(&"FOO".to_string()));
}

#[test]
fn defaults_without_a_file() {
    let f = Fixture::new();
    let p = f.resolve(None, None, &none());
    assert_eq!(p.profile, "workspace");
    assert_eq!(p.network.mode, NetworkMode::Off);
    assert_eq!(p.protect.names, [".git", ".stockade", ".agents", ".codex"]);
    assert_eq!(p.protect.git, GitMode::ReadOnly);
    assert_eq!(p.limits.max_output, 16 << 20);
    assert!(!p.env.strip.is_empty(), "default strip patterns apply");
}

#[test]
fn rules_are_sorted_for_binary_search() {
    let f = Fixture::new();
    for d in ["ws/b/.git", "ws/a", "ws/c"] {
        f.mkdir(d);
    }
    let o = Overrides {
        writable: vec!["c".into(), "a".into(), "~".into()],
        deny: vec!["b/z".into()],
        ..none()
    };
    let p = f.resolve(None, None, &o);
    assert!(
        p.rules
            .windows(2)
            .all(|w| (&w[0].path, w[0].access.tie_strength())
                <= (&w[1].path, w[1].access.tie_strength()))
    );
    // And every rule answers for its own path through the search.
    for rule in &p.rules {
        let strongest = p
            .rules
            .iter()
            .filter(|r| r.path == rule.path)
            .map(|r| r.access.tie_strength())
            .max();
        assert_eq!(
            Some(p.access(&rule.path).access.tie_strength()),
            strongest,
            "{}",
            rule.path.display()
        );
    }
}

#[test]
fn globs_under_special_roots_stay_anchored() {
    let f = Fixture::new();
    let o = Overrides {
        deny: vec![":cwd/**/.env".into()],
        ..none()
    };
    let p = f.resolve(None, None, &o);
    assert_eq!(access(&p, &f.ws.join("a/b/.env")), Access::None);
    assert_eq!(
        access(&p, &f.home.join(".env")),
        Access::Read,
        "outside :cwd the glob does not apply"
    );
}

#[test]
fn commit_mode_never_opens_a_git_dir_outside_the_writable_roots() {
    let f = Fixture::new();
    let main_git = f.mkdir("main/.git");
    let gitdir = f.mkdir("main/.git/worktrees/ws");
    f.write("main/.git/worktrees/ws/commondir", "../..\n");
    f.write("ws/.git", &format!("gitdir: {}\n", gitdir.display()));
    let file = f.policy(
        "p.toml",
        "[profiles.c]\nextends = \"workspace\"\n[profiles.c.protect]\ngit = \"commit\"\n",
    );
    let p = f.resolve(Some(&file), Some("c"), &none());
    assert_eq!(access(&p, &gitdir.join("HEAD")), Access::Read);
    assert_eq!(access(&p, &main_git.join("objects/x")), Access::Read);
    assert!(
        p.notes
            .iter()
            .any(|n| n.message.contains("stays read-only and commits will fail"))
    );
    // Once main/ is writable too, commits work and hooks stay read-only.
    let o = Overrides {
        writable: vec![f.root.join("main").to_string_lossy().into_owned()],
        ..none()
    };
    let p = f.resolve(Some(&file), Some("c"), &o);
    assert_eq!(access(&p, &main_git.join("objects/x")), Access::Write);
    assert_eq!(access(&p, &gitdir.join("HEAD")), Access::Write);
    assert_eq!(access(&p, &main_git.join("hooks/pre-commit")), Access::Read);
    assert_eq!(access(&p, &main_git.join("config")), Access::Read);
    assert_eq!(
        access(&p, &f.ws.join(".git")),
        Access::Read,
        "the pointer file stays protected"
    );
}

#[test]
fn narrowing_keeps_only_the_requested_writable_roots() {
    let f = Fixture::new();
    f.mkdir("ws/sub/.git");
    f.mkdir("ws/other");
    f.mkdir("extra");
    let wide = Overrides {
        writable: vec![f.root.join("extra").display().to_string()],
        ..none()
    };
    let narrowed = Overrides {
        only_writable: Some(vec!["sub".into()]),
        ..wide.clone()
    };
    let p = f.resolve(None, None, &narrowed);
    assert_eq!(access(&p, &f.ws.join("sub/file")), Access::Write);
    // The rest of the workspace, and the extra root, become read-only.
    assert_eq!(access(&p, &f.ws.join("other/file")), Access::Read);
    assert_eq!(access(&p, &f.ws.join("file")), Access::Read);
    assert_eq!(access(&p, &f.root.join("extra/file")), Access::Read);
    // Protected names are derived for the new root as for any other.
    assert_eq!(access(&p, &f.ws.join("sub/.git/config")), Access::Read);
    // The private /tmp stays writable: it is not a host path.
    assert!(p.writable_roots().any(|r| r.kind == RuleKind::PrivateTmp));
}

#[test]
fn narrowing_never_widens() {
    let f = Fixture::new();
    f.mkdir("elsewhere");
    for asked in [
        f.root.join("elsewhere").display().to_string(),
        "/".to_owned(),
        "..".to_owned(),
        f.home.join(".ssh").display().to_string(),
    ] {
        let narrowed = Overrides {
            only_writable: Some(vec!["sub".into(), asked.clone()]),
            ..none()
        };
        f.mkdir("ws/sub");
        let err = f.resolve_err(None, None, &narrowed);
        let text = err.to_string();
        assert!(text.contains("only narrow"), "{asked}: {text}");
        assert!(
            err.hint().contains(&f.ws.display().to_string()),
            "{asked}: {}",
            err.hint()
        );
    }
    // No writable root at all (read-only profile): nothing can be asked.
    let narrowed = Overrides {
        only_writable: Some(vec![".".into()]),
        ..none()
    };
    let err = f.resolve_err(None, Some("read-only"), &narrowed);
    assert!(err.hint().contains("there are none"), "{}", err.hint());
}
