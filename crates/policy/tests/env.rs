//! The environment policy (SPEC 3.6): every variable that passes is tested
//! beside one that must not.

use indexmap::IndexMap;
use stockade_policy::env::{
    CORE_VARS, DEFAULT_STRIP, EnvDecision, EnvFate, EnvPattern, EnvPolicy, Inherit, InheritSource,
    default_strip, is_core, validate_name,
};

fn host_env() -> Vec<(String, String)> {
    [
        ("PATH", "/usr/bin:/bin"),
        ("HOME", "/home/u"),
        ("USER", "u"),
        ("LOGNAME", "u"),
        ("SHELL", "/bin/bash"),
        ("LANG", "C.UTF-8"),
        ("LC_ALL", "C.UTF-8"),
        ("LC_CTYPE", "C.UTF-8"),
        ("TERM", "xterm"),
        ("TZ", "UTC"),
        ("TMPDIR", "/tmp"),
        ("RUST_LOG", "debug"),
        ("EDITOR", "vi"),
        ("GITHUB_TOKEN", "ghp_secret"),
        ("AWS_ACCESS_KEY_ID", "AKIA"),
        ("OPENAI_API_KEY", "sk-secret"),
        ("SSH_AUTH_SOCK", "/run/agent"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn policy(inherit: Inherit, keep: &[&str], set: &[(&str, &str)], strip: &[&str]) -> EnvPolicy {
    EnvPolicy {
        inherit,
        keep: keep.iter().map(|s| (*s).to_owned()).collect(),
        set: set
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<IndexMap<_, _>>(),
        strip: strip.iter().map(|s| s.parse().unwrap()).collect(),
    }
}

fn names(env: &[(String, String)]) -> Vec<&str> {
    env.iter().map(|(k, _)| k.as_str()).collect()
}

fn get<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
    env.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[test]
fn inherit_all_passes_everything_and_adds_the_marker() {
    let env = policy(Inherit::All, &[], &[], &[]).apply(host_env());
    assert_eq!(env.len(), host_env().len() + 1);
    assert_eq!(get(&env, "GITHUB_TOKEN"), Some("ghp_secret"));
    assert_eq!(get(&env, "EDITOR"), Some("vi"));
    assert_eq!(get(&env, "STOCKADE_SANDBOX"), Some("1"));
}

#[test]
fn inherit_core_passes_core_variables_and_lc_only() {
    let env = policy(Inherit::Core, &[], &[], &[]).apply(host_env());
    assert_eq!(
        names(&env),
        [
            "HOME",
            "LANG",
            "LC_ALL",
            "LC_CTYPE",
            "LOGNAME",
            "PATH",
            "SHELL",
            "STOCKADE_SANDBOX",
            "TERM",
            "TMPDIR",
            "TZ",
            "USER",
        ]
    );
    for name in [
        "RUST_LOG",
        "EDITOR",
        "GITHUB_TOKEN",
        "AWS_ACCESS_KEY_ID",
        "SSH_AUTH_SOCK",
    ] {
        assert_eq!(get(&env, name), None, "{name}");
    }
}

#[test]
fn core_names_are_exact_and_case_sensitive() {
    for name in CORE_VARS {
        assert!(is_core(name), "{name}");
    }
    for name in ["LC_ALL", "LC_CTYPE", "LC_MESSAGES", "LC_"] {
        assert!(is_core(name), "{name}");
    }
    for name in [
        "path", "Path", "PATHX", "XPATH", "LC", "lc_all", "LANGUAGE", "HOMEDIR", "TERMINFO",
    ] {
        assert!(!is_core(name), "{name}");
    }
}

#[test]
fn inherit_none_passes_nothing_but_keep_and_the_marker() {
    let env = policy(Inherit::None, &[], &[], &[]).apply(host_env());
    assert_eq!(env, [("STOCKADE_SANDBOX".to_owned(), "1".to_owned())]);
    let env = policy(Inherit::None, &["PATH", "RUST_LOG"], &[], &[]).apply(host_env());
    assert_eq!(names(&env), ["PATH", "RUST_LOG", "STOCKADE_SANDBOX"]);
}

#[test]
fn keep_adds_named_variables_only() {
    let env = policy(Inherit::Core, &["RUST_LOG", "NOT_ON_HOST"], &[], &[]).apply(host_env());
    assert_eq!(get(&env, "RUST_LOG"), Some("debug"));
    assert_eq!(get(&env, "NOT_ON_HOST"), None);
    assert_eq!(get(&env, "EDITOR"), None);
    // keep is an exact, case-sensitive name, not a pattern.
    let env = policy(Inherit::None, &["rust_log", "RUST_*"], &[], &[]).apply(host_env());
    assert_eq!(get(&env, "RUST_LOG"), None);
}

#[test]
fn strip_removes_inherited_and_kept_variables() {
    let strip = ["*_TOKEN", "AWS_*", "*_KEY"];
    let all = policy(Inherit::All, &[], &[], &strip).apply(host_env());
    for name in ["GITHUB_TOKEN", "AWS_ACCESS_KEY_ID", "OPENAI_API_KEY"] {
        assert_eq!(get(&all, name), None, "{name}");
    }
    assert_eq!(get(&all, "EDITOR"), Some("vi"));
    assert_eq!(get(&all, "SSH_AUTH_SOCK"), Some("/run/agent"));

    let kept = policy(Inherit::None, &["GITHUB_TOKEN", "RUST_LOG"], &[], &strip).apply(host_env());
    assert_eq!(get(&kept, "GITHUB_TOKEN"), None);
    assert_eq!(get(&kept, "RUST_LOG"), Some("debug"));

    // A core variable can be stripped too.
    let core = policy(Inherit::Core, &[], &[], &["LC_*", "TZ"]).apply(host_env());
    assert_eq!(get(&core, "LC_ALL"), None);
    assert_eq!(get(&core, "TZ"), None);
    assert_eq!(get(&core, "LANG"), Some("C.UTF-8"));
}

#[test]
fn set_adds_and_overrides_and_is_never_stripped() {
    let p = policy(
        Inherit::Core,
        &[],
        &[
            ("CI", "1"),
            ("PATH", "/opt/bin"),
            ("DEPLOY_TOKEN", "for-tests"),
        ],
        &["*_TOKEN", "PATH"],
    );
    let env = p.apply(host_env());
    assert_eq!(get(&env, "CI"), Some("1"));
    assert_eq!(get(&env, "PATH"), Some("/opt/bin"));
    assert_eq!(get(&env, "DEPLOY_TOKEN"), Some("for-tests"));
    assert_eq!(get(&env, "GITHUB_TOKEN"), None);
}

#[test]
fn the_sandbox_marker_cannot_be_removed_or_faked() {
    let mut host = host_env();
    host.push(("STOCKADE_SANDBOX".into(), "0".into()));
    let p = policy(
        Inherit::All,
        &[],
        &[("STOCKADE_SANDBOX", "no")],
        &["STOCKADE_*"],
    );
    let env = p.apply(host);
    assert_eq!(get(&env, "STOCKADE_SANDBOX"), Some("1"));
    assert_eq!(
        env.iter().filter(|(k, _)| k == "STOCKADE_SANDBOX").count(),
        1
    );
}

#[test]
fn output_is_sorted_by_name_without_duplicates() {
    let host = vec![
        ("b".to_owned(), "1".to_owned()),
        ("A".to_owned(), "1".to_owned()),
        ("a".to_owned(), "1".to_owned()),
        ("B".to_owned(), "1".to_owned()),
        ("a".to_owned(), "2".to_owned()),
    ];
    let env = policy(Inherit::All, &[], &[("C", "1")], &[]).apply(host);
    assert_eq!(names(&env), ["A", "B", "C", "STOCKADE_SANDBOX", "a", "b"]);
    assert_eq!(get(&env, "a"), Some("2"));
}

#[test]
fn invalid_names_and_values_never_reach_the_command() {
    let host = vec![
        (String::new(), "empty name".to_owned()),
        ("A=B".to_owned(), "x".to_owned()),
        ("NUL\0NAME".to_owned(), "x".to_owned()),
        ("NUL_VALUE".to_owned(), "a\0b".to_owned()),
        ("GOOD".to_owned(), String::new()),
    ];
    let p = policy(
        Inherit::All,
        &[],
        &[("", "x"), ("X=Y", "z"), ("SET_NUL", "a\0b"), ("SET_OK", "")],
        &[],
    );
    let env = p.apply(host);
    assert_eq!(names(&env), ["GOOD", "SET_OK", "STOCKADE_SANDBOX"]);
    for (k, v) in &env {
        assert!(!k.is_empty() && !k.contains('=') && !k.contains('\0') && !v.contains('\0'));
    }
}

#[test]
fn explain_gives_each_variables_fate_without_values() {
    let p = policy(
        Inherit::Core,
        &["RUST_LOG", "GITHUB_TOKEN"],
        &[("CI", "1"), ("PATH", "/opt/bin")],
        &["*_TOKEN", "AWS_*"],
    );
    let mut host = host_env();
    host.push(("BAD=NAME".into(), "x".into()));
    let decisions = p.explain(host);
    let fate = |name: &str| {
        decisions
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.fate.clone())
            .expect(name)
    };
    assert_eq!(
        fate("HOME"),
        EnvFate::Inherited {
            via: InheritSource::Core
        }
    );
    assert_eq!(
        fate("LC_ALL"),
        EnvFate::Inherited {
            via: InheritSource::Core
        }
    );
    assert_eq!(
        fate("RUST_LOG"),
        EnvFate::Inherited {
            via: InheritSource::Keep
        }
    );
    assert_eq!(
        fate("GITHUB_TOKEN"),
        EnvFate::Stripped {
            pattern: "*_TOKEN".into(),
            via: InheritSource::Keep
        }
    );
    assert_eq!(fate("EDITOR"), EnvFate::NotInherited);
    // Not inherited wins over strip in the explanation: it never passed.
    assert_eq!(fate("AWS_ACCESS_KEY_ID"), EnvFate::NotInherited);
    assert_eq!(
        fate("PATH"),
        EnvFate::Set {
            replaces_host: true
        }
    );
    assert_eq!(
        fate("CI"),
        EnvFate::Set {
            replaces_host: false
        }
    );
    assert_eq!(
        fate("STOCKADE_SANDBOX"),
        EnvFate::SandboxMarker {
            replaces_host: false
        }
    );
    assert_eq!(fate("BAD=NAME"), EnvFate::Invalid);

    let names: Vec<&str> = decisions.iter().map(|d| d.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);

    let json = serde_json::to_string(&decisions).unwrap();
    for secret in ["ghp_secret", "sk-secret", "AKIA", "/opt/bin", "debug"] {
        assert!(!json.contains(secret), "explain leaks {secret}: {json}");
    }
}

#[test]
fn explain_agrees_with_apply() {
    for inherit in [Inherit::All, Inherit::Core, Inherit::None] {
        let p = policy(
            inherit,
            &["RUST_LOG", "GITHUB_TOKEN"],
            &[("CI", "1")],
            DEFAULT_STRIP,
        );
        let passed: Vec<String> = p.apply(host_env()).into_iter().map(|(k, _)| k).collect();
        let explained: Vec<String> = p
            .explain(host_env())
            .into_iter()
            .filter(|d| {
                matches!(
                    d.fate,
                    EnvFate::Inherited { .. } | EnvFate::Set { .. } | EnvFate::SandboxMarker { .. }
                )
            })
            .map(|d| d.name)
            .collect();
        assert_eq!(passed, explained, "{inherit:?}");
    }
}

#[test]
fn explain_serializes_flat() {
    let p = policy(Inherit::All, &[], &[], &["*_TOKEN"]);
    let decisions = p.explain([("GITHUB_TOKEN".to_owned(), "x".to_owned())]);
    assert_eq!(
        serde_json::to_value(&decisions).unwrap(),
        serde_json::json!([
            {"name": "GITHUB_TOKEN", "fate": "stripped", "pattern": "*_TOKEN", "via": "all"},
            {"name": "STOCKADE_SANDBOX", "fate": "sandbox_marker", "replaces_host": false},
        ])
    );
    let _: &EnvDecision = &decisions[0];
}

#[test]
fn default_strip_covers_common_credentials_but_not_ordinary_variables() {
    let p = EnvPolicy {
        inherit: Inherit::All,
        ..EnvPolicy::default()
    };
    assert_eq!(p.strip, default_strip());
    let stripped = [
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "NPM_TOKEN",
        "CARGO_REGISTRY_TOKEN",
        "HF_TOKEN",
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AZURE_CLIENT_SECRET",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "TWINE_PASSWORD",
        "PGPASSWORD",
        "MYSQL_PWD",
        "DATABASE_URL",
        "AZURE_STORAGE_CONNECTION_STRING",
        "npm_config__auth",
        "npm_config_//registry.npmjs.org/:_authToken",
        "OP_SESSION_my",
        "BW_SESSION",
        "SSH_AUTH_SOCK",
    ];
    let ordinary = [
        "PATH",
        "HOME",
        "RUST_LOG",
        "EDITOR",
        "TOKEN",
        "KEYBOARD",
        "CARGO_HOME",
        "PWD",
        "OLDPWD",
        "SSH_CONNECTION",
        "LANG",
        "npm_config_cache",
    ];
    let host: Vec<(String, String)> = stripped
        .iter()
        .chain(ordinary.iter())
        .map(|n| ((*n).to_owned(), "v".to_owned()))
        .collect();
    let env = p.apply(host);
    for name in stripped {
        assert_eq!(get(&env, name), None, "{name} must be stripped");
    }
    for name in ordinary {
        assert_eq!(get(&env, name), Some("v"), "{name} must pass");
    }
}

#[test]
fn default_policy_is_core_with_default_strip() {
    let p = EnvPolicy::default();
    assert_eq!(p.inherit, Inherit::Core);
    assert!(p.keep.is_empty() && p.set.is_empty());
    assert_eq!(p.strip.len(), DEFAULT_STRIP.len());
}

#[test]
fn patterns_match_case_sensitively() {
    let cases = [
        ("*_TOKEN", "GITHUB_TOKEN", true),
        ("*_TOKEN", "github_token", false),
        ("*_TOKEN", "GITHUB_TOKEN_X", false),
        ("AWS_*", "AWS_REGION", true),
        ("AWS_*", "XAWS_REGION", false),
        ("LC_?", "LC_A", true),
        ("LC_?", "LC_AB", false),
        ("EXACT", "EXACT", true),
        ("EXACT", "EXACTLY", false),
        ("EXACT", "exact", false),
    ];
    for (p, name, want) in cases {
        let pattern: EnvPattern = p.parse().unwrap();
        assert_eq!(pattern.matches(name), want, "{p} vs {name}");
        assert_eq!(pattern.to_string(), p);
        assert_eq!(pattern.as_str(), p);
    }
}

#[test]
fn bad_patterns_are_rejected_with_a_hint() {
    let cases = [
        ("", "empty"),
        ("A=B", "'='"),
        ("A\0B", "NUL"),
        ("AWS_[AB]", "'['"),
        ("AWS_]", "']'"),
        ("{A,B}", "'{'"),
        ("A\\*", "'\\'"),
        ("A B", "whitespace"),
        ("A\tB", "whitespace"),
    ];
    for (input, want) in cases {
        let err = input.parse::<EnvPattern>().expect_err(input);
        assert!(err.message.contains(want), "{input:?}: {}", err.message);
        assert_eq!(err.input, input);
        assert!(!err.hint.is_empty());
        assert_eq!(
            err.to_string(),
            format!("invalid environment entry '{input}': {}", err.message)
        );
    }
    assert!("*".parse::<EnvPattern>().is_ok());
    assert!("A?B*".parse::<EnvPattern>().is_ok());
    assert!("ProgramFiles(x86)".parse::<EnvPattern>().is_ok());
}

#[test]
fn names_are_validated() {
    for good in ["PATH", "lower", "ProgramFiles(x86)", "A-B.C", "É"] {
        assert!(validate_name(good).is_ok(), "{good}");
    }
    for (bad, want) in [("", "empty"), ("A=B", "'='"), ("=A", "'='"), ("A\0", "NUL")] {
        let err = validate_name(bad).expect_err(bad);
        assert!(err.message.contains(want), "{bad:?}: {}", err.message);
    }
    assert!(
        validate_name("CI=1")
            .unwrap_err()
            .hint
            .contains("CI = \"1\"")
    );
}

#[test]
fn validate_checks_keep_and_set() {
    assert!(
        policy(Inherit::Core, &["RUST_LOG"], &[("CI", "1")], &[])
            .validate()
            .is_ok()
    );
    assert!(
        policy(Inherit::Core, &["RUST_LOG="], &[], &[])
            .validate()
            .is_err()
    );
    assert!(
        policy(Inherit::Core, &[], &[("", "1")], &[])
            .validate()
            .is_err()
    );
    let err = policy(Inherit::Core, &[], &[("CI", "a\0b")], &[])
        .validate()
        .unwrap_err();
    assert_eq!(err.input, "CI");
    assert!(err.message.contains("NUL"));
}

#[test]
fn policy_round_trips_through_toml() {
    let text = r#"
inherit = "core"
keep = ["RUST_LOG"]
strip = ["*_TOKEN", "AWS_*"]

[set]
CI = "1"
A = "2"
"#;
    let p: EnvPolicy = toml::from_str(text).unwrap();
    assert_eq!(p.inherit, Inherit::Core);
    assert_eq!(p.set.keys().collect::<Vec<_>>(), ["CI", "A"]);
    assert_eq!(p.strip[1].as_str(), "AWS_*");
    assert!(toml::from_str::<EnvPolicy>(&text.replace("AWS_*", "AWS_[X]")).is_err());
    assert!(toml::from_str::<EnvPolicy>(&text.replace("\"core\"", "\"some\"")).is_err());
    for (inherit, word) in [
        (Inherit::All, "all"),
        (Inherit::Core, "core"),
        (Inherit::None, "none"),
    ] {
        assert_eq!(
            serde_json::to_value(inherit).unwrap(),
            serde_json::json!(word)
        );
    }
}
