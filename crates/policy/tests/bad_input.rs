//! Every kind of bad input is an error that names the file, line and column
//! (or the flag) and carries a hint; nothing panics.

mod common;

use common::{Fixture, parse_at};
use stockade_policy::{Overrides, PolicyError};

/// Resolves `text` as the file `ws/p.toml` with profile `t`, expecting an
/// error; returns "message\nhint".
fn error_of(text: &str) -> String {
    let f = Fixture::new();
    let path = f.ws.join("p.toml");
    let err = match parse_at(&path, text) {
        Err(e) => e,
        Ok(file) => f.resolve_err(Some(&file), Some("t"), &Overrides::default()),
    };
    format!("{err}\nhint: {}", err.hint())
}

fn assert_error(text: &str, location: &str, message: &str, hint: &str) {
    let got = error_of(text);
    let (first, hint_line) = got.split_once('\n').unwrap();
    let location = if location.ends_with(':') {
        location.to_string()
    } else {
        format!("{location}:")
    };
    assert!(
        first.contains(&format!("p.toml:{location}")),
        "location {location} missing in: {got}"
    );
    assert!(
        first.contains(message),
        "message {message:?} missing in: {got}"
    );
    assert!(hint_line.contains(hint), "hint {hint:?} missing in: {got}");
}

#[test]
fn malformed_toml() {
    assert_error("[profiles.t\n", "1:12", "", "TOML syntax");
    assert_error(
        "[profiles.t.filesystem]\n\":cwd\" = \n",
        "2:",
        "",
        "TOML syntax",
    );
}

#[test]
fn wrong_types() {
    assert_error(
        "[profiles.t]\nextends = 3\n",
        "2:11",
        "invalid type",
        "type the key expects",
    );
    assert_error(
        "[profiles.t.filesystem]\n\":cwd\" = true\n",
        "2:",
        "invalid type",
        "quoted string",
    );
    assert_error(
        "[profiles.t]\nextends = \"workspace\"\n[profiles.t.network]\nallow_local_binding = \"yes\"\n",
        "4:",
        "invalid type",
        "true/false",
    );
    assert_error(
        "[profiles.t]\nextends = \"workspace\"\n[profiles.t.limits]\nmax_processes = \"many\"\n",
        "4:",
        "invalid type",
        "",
    );
}

#[test]
fn unknown_keys() {
    assert_error(
        "[profiles.t]\nextend = \"workspace\"\n",
        "2:1",
        "unknown field `extend`",
        "expected",
    );
    assert_error(
        "defaultprofile = \"t\"\n",
        "1:1",
        "unknown field",
        "default_profile",
    );
    assert_error(
        "[profiles.t]\nextends = \"workspace\"\n[profiles.t.network]\nmod = \"off\"\n",
        "4:1",
        "unknown field `mod`",
        "mode",
    );
    assert_error(
        "[profiles.t]\nextends = \"workspace\"\n[profiles.t.filesytem]\n",
        "3:",
        "unknown field `filesytem`",
        "filesystem",
    );
}

#[test]
fn unknown_special_roots() {
    assert_error(
        "[profiles.t.filesystem]\n\":cdw\" = \"write\"\n",
        "2:1",
        "unknown special root ':cdw'",
        "did you mean ':cwd'",
    );
    assert_error(
        "[profiles.t.filesystem]\n\":root/etc\" = \"read\"\n",
        "2:1",
        "cannot be followed by a path",
        "absolute path",
    );
    assert_error(
        "[profiles.t.filesystem]\n\"~bob/x\" = \"read\"\n",
        "2:1",
        "'~user' paths are not supported",
        "absolute path",
    );
}

#[test]
fn globs_on_read_or_write_rules() {
    assert_error(
        "[profiles.t.filesystem]\n\":cwd\" = \"write\"\n\"**/*.rs\" = \"read\"\n",
        "3:1",
        "globs are allowed for \"none\" rules only",
        "make this rule \"none\"",
    );
    assert_error(
        "[profiles.t.filesystem]\n\":cwd\" = \"write\"\n\"./out/*\" = \"write\"\n",
        "3:1",
        "globs are allowed",
        "",
    );
    assert_error(
        "[profiles.t.filesystem]\n\":cwd\" = \"write\"\n\"./[x\" = \"none\"\n",
        "3:1",
        "invalid glob",
        "escape",
    );
}

#[test]
fn unknown_access_levels() {
    assert_error(
        "[profiles.t.filesystem]\n\":cwd\" = \"rw\"\n",
        "2:10",
        "unknown access 'rw'",
        "\"read\", \"write\" or \"none\"",
    );
}

#[test]
fn empty_profiles_and_unknown_parents() {
    assert_error(
        "[profiles.t]\n",
        "1:1",
        "extends nothing and has no filesystem rules",
        "extends = \"workspace\"",
    );
    assert_error(
        "[profiles.t]\nextends = \"worksapce\"\n",
        "2:11",
        "unknown profile 'worksapce'",
        "workspace",
    );
}

#[test]
fn extends_cycles() {
    assert_error(
        "[profiles.t]\nextends = \"t\"\n",
        "2:11",
        "extends itself: t -> t",
        "built-in",
    );
    let text = "[profiles.t]\nextends = \"a\"\n[profiles.a]\nextends = \"b\"\n[profiles.b]\nextends = \"t\"\n";
    assert_error(text, "6:11", "extends itself: t -> a -> b -> t", "built-in");
}

#[test]
fn conflicting_duplicate_rules() {
    // The file sits in the workspace, so "." and ":cwd" are the same path.
    let got = error_of("[profiles.t.filesystem]\n\":cwd\" = \"write\"\n\".\" = \"read\"\n");
    assert!(got.contains("conflicting rules for"), "{got}");
    assert!(
        got.contains("p.toml:2:1") && got.contains("p.toml:3:1"),
        "{got}"
    );
    assert!(got.contains("keep one of the two rules"), "{got}");
    // The same path with the same access is merely redundant.
    let f = Fixture::new();
    let file = parse_at(
        &f.ws.join("p.toml"),
        "[profiles.t.filesystem]\n\":cwd\" = \"write\"\n\".\" = \"write\"\n",
    )
    .unwrap();
    f.resolve(Some(&file), Some("t"), &Overrides::default());
}

#[test]
fn duplicate_keys() {
    assert_error(
        "[profiles.t.filesystem]\n\"/x\" = \"read\"\n\"/x\" = \"none\"\n",
        "3:1",
        "duplicate key",
        "keep one",
    );
}

#[test]
fn bad_section_values() {
    let ext = "[profiles.t]\nextends = \"workspace\"\n";
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "[profiles.t.network]\nmode = \"proxyish\"\n",
            "4:8",
            "unknown network mode",
            "\"off\", \"proxy\" or \"full\"",
        ),
        (
            "[profiles.t.network]\nallow = [\"https://github.com\"]\n",
            "4:10",
            "invalid domain entry",
            "host",
        ),
        (
            "[profiles.t.network]\nallow = [\"*\"]\n",
            "4:10",
            "invalid domain entry",
            "",
        ),
        (
            "[profiles.t.network]\ndeny = [\"x.com:99999\"]\n",
            "4:9",
            "invalid domain entry",
            "",
        ),
        (
            "[profiles.t.network]\nallow_ranges = [\"10.1.2.3/16\"]\n",
            "4:17",
            "invalid address range",
            "10.1.0.0/16",
        ),
        (
            "[profiles.t.network]\nunix_sockets = [\"\"]\n",
            "4:17",
            "empty",
            "socket",
        ),
        (
            "[profiles.t.protect]\ngit = \"rw\"\n",
            "4:7",
            "unknown git mode",
            "\"read-only\" or \"commit\"",
        ),
        (
            "[profiles.t.protect]\nnames = [\"a/b\"]\n",
            "4:10",
            "not a file name",
            "single names",
        ),
        (
            "[profiles.t.env]\ninherit = \"some\"\n",
            "4:11",
            "unknown inherit mode",
            "\"all\", \"core\" or \"none\"",
        ),
        (
            "[profiles.t.env]\nkeep = [\"A=B\"]\n",
            "4:9",
            "invalid environment entry",
            "",
        ),
        (
            "[profiles.t.env]\nset = { \"\" = \"x\" }\n",
            "4:",
            "invalid environment entry",
            "",
        ),
        (
            "[profiles.t.env]\nstrip = [\"A[B\"]\n",
            "4:10",
            "invalid environment entry",
            "",
        ),
        (
            "[profiles.t.limits]\ntimeout = \"10\"\n",
            "4:11",
            "invalid timeout",
            "with a unit",
        ),
        (
            "[profiles.t.limits]\ntimeout = \"0s\"\n",
            "4:11",
            "invalid timeout",
            "",
        ),
        (
            "[profiles.t.limits]\nmax_processes = 0\n",
            "4:17",
            "out of range",
            "from 1 to",
        ),
        (
            "[profiles.t.limits]\nmax_processes = 99999999999\n",
            "4:17",
            "out of range",
            "",
        ),
        (
            "[profiles.t.limits]\nmax_memory = \"100PiB\"\n",
            "4:14",
            "invalid max_memory",
            "GiB",
        ),
        (
            "[profiles.t.limits]\nmax_memory = \"12\"\n",
            "4:14",
            "below 1MiB",
            "64MiB",
        ),
        (
            "[profiles.t.limits]\nmax_output = \"lots\"\n",
            "4:14",
            "invalid max_output",
            "",
        ),
    ];
    for (section, location, message, hint) in cases {
        assert_error(&format!("{ext}{section}"), location, message, hint);
    }
}

#[test]
fn profile_names_and_defaults() {
    assert_error(
        "[profiles.workspace]\nextends = \"read-only\"\n",
        "1:11",
        "name of a built-in profile",
        "choose another name",
    );
    assert_error(
        "default_profile = \"nope\"\n[profiles.t]\nextends = \"workspace\"\n",
        "1:19",
        "unknown profile 'nope'",
        "workspace",
    );
}

#[test]
fn an_unknown_profile_on_the_command_line() {
    let f = Fixture::new();
    let err = f.resolve_err(None, Some("wrokspace"), &Overrides::default());
    assert_eq!(err.to_string(), "unknown profile 'wrokspace'");
    assert!(
        err.hint().contains("read-only, workspace, full"),
        "{}",
        err.hint()
    );
}

#[test]
fn bad_command_line_options() {
    let f = Fixture::new();
    let cases: Vec<(Overrides, &str, &str)> = vec![
        (
            Overrides {
                readable: vec!["src/**".into()],
                ..Default::default()
            },
            "invalid --readable 'src/**'",
            "\"none\"",
        ),
        (
            Overrides {
                deny: vec![":nope".into()],
                ..Default::default()
            },
            "invalid --deny ':nope'",
            "special roots",
        ),
        (
            Overrides {
                network: Some("on".into()),
                ..Default::default()
            },
            "invalid --network 'on'",
            "off, proxy or full",
        ),
        (
            Overrides {
                allow_domains: vec!["*".into()],
                ..Default::default()
            },
            "invalid --allow-domain '*'",
            "",
        ),
        (
            Overrides {
                network: Some("off".into()),
                allow_domains: vec!["x.com".into()],
                ..Default::default()
            },
            "needs --network proxy",
            "--network proxy",
        ),
        (
            Overrides {
                env_set: vec!["NOVALUE".into()],
                ..Default::default()
            },
            "invalid --env-set 'NOVALUE'",
            "NAME=VALUE",
        ),
        (
            Overrides {
                env_keep: vec!["A=B".into()],
                ..Default::default()
            },
            "invalid --env-keep",
            "",
        ),
        (
            Overrides {
                writable: vec!["x".into()],
                deny: vec!["x".into()],
                ..Default::default()
            },
            "conflicting rules",
            "keep one",
        ),
    ];
    for (o, message, hint) in cases {
        let err = f.resolve_err(None, None, &o);
        assert!(
            err.to_string().contains(message),
            "{message:?} not in {err}"
        );
        assert!(err.hint().contains(hint), "{hint:?} not in {}", err.hint());
    }
}

#[test]
fn a_missing_working_directory() {
    let f = Fixture::new();
    let mut ctx = f.ctx();
    ctx.cwd = f.root.join("gone");
    let err = stockade_policy::resolve(None, None, &Overrides::default(), &ctx).unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert!(err.hint().contains("--cwd"));
}

#[test]
fn unreadable_and_invalid_files() {
    let err =
        stockade_policy::PolicyFile::read(std::path::Path::new("/nonexistent/p.toml")).unwrap_err();
    assert!(matches!(err, PolicyError::Read { .. }));
    assert!(
        err.to_string()
            .starts_with("failed to read policy file /nonexistent/p.toml"),
        "{err}"
    );
    let f = Fixture::new();
    let path = f.root.join("bad.toml");
    std::fs::write(&path, b"a = \"\xff\"").unwrap();
    let err = stockade_policy::PolicyFile::read(&path).unwrap_err();
    assert!(
        err.to_string()
            .contains("bad.toml:1:6: policy file is not valid UTF-8"),
        "{err}"
    );
}

#[test]
fn absurd_sizes() {
    let huge = format!("# {}\n", "x".repeat(5 << 20));
    assert_error(&huge, "1:1", "more than the limit", "--config");
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let _ = error_of(&deep); // must not overflow the stack
    let many: String = (0..5000)
        .map(|i| format!("\"/r{i}\" = \"read\"\n"))
        .collect();
    let f = Fixture::new();
    let file = parse_at(
        &f.ws.join("p.toml"),
        &format!("[profiles.t.filesystem]\n{many}"),
    )
    .unwrap();
    f.resolve(Some(&file), Some("t"), &Overrides::default());
}
