//! [`plan`] against resolved policies: no privileges, no kernel.

use super::*;
use crate::landlock::handled_fs;
use std::collections::BTreeMap;
use stockade_policy::{
    Overrides, Platform, PolicyFile, ResolveContext, Source, SourceText, resolve,
};

/// Where `:tmp` appears; no test machine has it.
const PRIVATE_TMP: &str = "/stockade-test-private-tmp";

const READ: &[&str] = &["execute", "read_file", "read_dir"];
const WRITE_7: &[&str] = &[
    "execute",
    "write_file",
    "read_file",
    "read_dir",
    "remove_dir",
    "remove_file",
    "make_dir",
    "make_reg",
    "make_sock",
    "make_fifo",
    "make_sym",
    "refer",
    "truncate",
    "ioctl_dev",
];

/// A workspace `ws` (with `docs/`, `secret/`, `.env`, `.git/`) in a
/// temporary directory, and a policy over it.
struct Fixture {
    _dir: tempfile::TempDir,
    ws: PathBuf,
    policy: ResolvedPolicy,
}

/// Resolves profile `t` whose filesystem table is `table`, where `{ws}`
/// stands for the workspace.
fn fixture(table: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let ws = root.join("ws");
    for sub in ["docs", "secret", ".git"] {
        std::fs::create_dir_all(ws.join(sub)).unwrap();
    }
    std::fs::write(ws.join(".env"), "TOKEN=x").unwrap();
    let text = format!(
        "[profiles.t.filesystem]\n{}",
        table.replace("{ws}", ws.to_str().unwrap())
    );
    let source = Source::File {
        path: root.join(".stockade.toml").into(),
    };
    let file = PolicyFile::parse(SourceText::new(source, text)).unwrap();
    let ctx = ResolveContext {
        platform: Platform::Linux,
        cwd: ws.clone(),
        invocation_dir: ws.clone(),
        home: None,
        user: "u".into(),
        uid: Some(1000),
        hostname: "box".into(),
        tmp_dir: PRIVATE_TMP.into(),
        host_tmp: PRIVATE_TMP.into(),
        roots: vec!["/".into()],
        env: BTreeMap::new(),
    };
    let policy = resolve(Some(&file), Some("t"), &Overrides::default(), &ctx).unwrap();
    Fixture {
        _dir: dir,
        ws,
        policy,
    }
}

const TABLE: &str = r#"
"/usr" = "read"
"{ws}" = "write"
"{ws}/docs" = "read"
"{ws}/secret" = "none"
":tmp" = "write"
"/srv/data" = "none"
"**/.env" = "none"
"{ws}/.env" = "read"
"#;

fn rule<'a>(plan: &'a LandlockPlan, path: &Path) -> Option<&'a PathRule> {
    plan.rules.iter().find(|r| r.path == path)
}

fn rights<'a>(plan: &'a LandlockPlan, path: &Path) -> &'a [&'static str] {
    &rule(plan, path)
        .unwrap_or_else(|| panic!("no rule for {}: {plan:#?}", path.display()))
        .rights
}

#[test]
fn read_and_write_rules_get_the_documented_rights() {
    let f = fixture(TABLE);
    let plan = plan(&f.policy, 7);
    assert_eq!(rights(&plan, Path::new("/usr")), READ);
    assert_eq!(rights(&plan, &f.ws), WRITE_7);
    // A carve-out under a writable root still gets its own rule; Landlock's
    // union gives it the root's rights, the mount tree takes them away.
    assert_eq!(rights(&plan, &f.ws.join("docs")), READ);
    let why = rule(&plan, &f.ws).unwrap().why.to_string();
    assert!(why.starts_with("write rule from "), "{why}");
    assert!(why.contains(".stockade.toml:4"), "{why}");
}

#[test]
fn none_gets_no_rule() {
    let f = fixture(TABLE);
    let plan = plan(&f.policy, 7);
    assert!(rule(&plan, &f.ws.join("secret")).is_none());
    assert!(rule(&plan, Path::new("/srv/data")).is_none());
    // A `none` glob beats a rule on the same path.
    assert!(rule(&plan, &f.ws.join(".env")).is_none());
    assert!(plan.rules.iter().all(|r| !r.rights.is_empty()), "{plan:#?}");
}

#[test]
fn private_tmp_gets_the_rights_of_its_access() {
    let f = fixture(TABLE);
    let plan = plan(&f.policy, 7);
    let tmp = rule(&plan, Path::new(PRIVATE_TMP)).expect("a rule for :tmp");
    assert_eq!(tmp.rights, WRITE_7);
    assert!(tmp.why.to_string().contains("private /tmp"), "{}", tmp.why);

    let read_only = fixture("\":tmp\" = \"read\"\n");
    let plan = super::plan(&read_only.policy, 7);
    assert_eq!(rights(&plan, Path::new(PRIVATE_TMP)), READ);
}

#[test]
fn protected_names_get_their_own_read_rule() {
    let f = fixture(TABLE);
    let plan = plan(&f.policy, 7);
    let git = rule(&plan, &f.ws.join(".git")).expect("a rule for .git");
    assert_eq!(git.rights, READ);
    assert!(
        git.why.to_string().contains("protected name '.git'"),
        "{}",
        git.why
    );
}

#[test]
fn abi_1_has_neither_refer_nor_truncate() {
    let f = fixture(TABLE);
    let plan = plan(&f.policy, 1);
    assert_eq!(plan.abi, 1);
    for right in ["refer", "truncate", "ioctl_dev"] {
        assert!(!plan.handled_fs.contains(&right), "{right}");
        assert!(
            plan.rules.iter().all(|r| !r.rights.contains(&right)),
            "{right}"
        );
    }
    assert_eq!(plan.handled_fs.len(), 13);
    assert!(plan.handled_fs.contains(&"make_char"));
    assert!(!plan.scope_signal && !plan.scope_abstract_unix_socket);
}

#[test]
fn each_abi_adds_its_rights() {
    let f = fixture(TABLE);
    let write_at = |abi| rights(&plan(&f.policy, abi), &f.ws).to_vec();
    assert!(write_at(2).contains(&"refer") && !write_at(2).contains(&"truncate"));
    assert!(write_at(3).contains(&"truncate") && !write_at(3).contains(&"ioctl_dev"));
    // ABI 4 brings only TCP rights, which this plan does not handle.
    assert_eq!(plan(&f.policy, 4).handled_fs, plan(&f.policy, 3).handled_fs);
    assert!(write_at(5).contains(&"ioctl_dev"));
    assert_eq!(write_at(7), WRITE_7);
    assert_eq!(handled_fs(2).last(), Some(&"refer"));
    assert_eq!(handled_fs(3).last(), Some(&"truncate"));
    assert_eq!(handled_fs(5).last(), Some(&"ioctl_dev"));
    assert_eq!(handled_fs(7).len(), 16);
}

#[test]
fn abi_6_scopes_signals_and_abstract_sockets() {
    let f = fixture(TABLE);
    for (abi, scoped) in [(5, false), (6, true), (7, true)] {
        let plan = plan(&f.policy, abi);
        assert_eq!(plan.scope_signal, scoped, "ABI {abi}");
        assert_eq!(plan.scope_abstract_unix_socket, scoped, "ABI {abi}");
    }
}

#[test]
fn newer_kernels_are_negotiated_down_and_abi_0_plans_nothing() {
    let f = fixture(TABLE);
    assert_eq!(plan(&f.policy, 9), plan(&f.policy, 7));
    let none = plan(&f.policy, 0);
    assert_eq!(none.abi, 0);
    assert!(none.handled_fs.is_empty() && none.rules.is_empty());
}

#[test]
fn device_files_and_proc_are_present_even_in_read_only_profiles() {
    let f = fixture("\"/usr\" = \"read\"\n");
    for (abi, device) in [
        (3, &["write_file", "read_file"][..]),
        (7, &["write_file", "read_file", "ioctl_dev"][..]),
    ] {
        let plan = plan(&f.policy, abi);
        for path in [
            "/dev/null",
            "/dev/zero",
            "/dev/random",
            "/dev/urandom",
            "/dev/tty",
            "/dev/ptmx",
            "/dev/pts",
        ] {
            let dev = rule(&plan, Path::new(path)).expect(path);
            assert_eq!(dev.rights, device, "{path} at ABI {abi}");
            assert!(
                dev.why.to_string().contains("always mounted"),
                "{}",
                dev.why
            );
        }
        assert_eq!(rights(&plan, Path::new("/proc")), ["read_file", "read_dir"]);
    }
    assert_eq!(system_rules(7).len(), SYSTEM_PATHS.len());
}

#[test]
fn a_policy_rule_on_a_device_merges_with_the_device_rule() {
    let f = fixture("\"/dev/null\" = \"read\"\n");
    let plan = plan(&f.policy, 7);
    let null: Vec<_> = plan
        .rules
        .iter()
        .filter(|r| r.path == Path::new("/dev/null"))
        .collect();
    assert_eq!(null.len(), 1, "{plan:#?}");
    assert_eq!(
        null[0].rights,
        [
            "execute",
            "write_file",
            "read_file",
            "read_dir",
            "ioctl_dev"
        ]
    );
    assert!(
        null[0].why.to_string().starts_with("read rule from "),
        "{}",
        null[0].why
    );
    assert!(
        null[0].why.to_string().contains("; device always mounted"),
        "{}",
        null[0].why
    );
}

#[test]
fn no_rule_ever_grants_device_creation() {
    let f = fixture(TABLE);
    let plan = plan(&f.policy, 7);
    assert!(plan.handled_fs.contains(&"make_char") && plan.handled_fs.contains(&"make_block"));
    for r in &plan.rules {
        assert!(
            !r.rights.contains(&"make_char") && !r.rights.contains(&"make_block"),
            "{r:?}"
        );
    }
}

#[test]
fn rules_are_sorted_by_path_and_unique() {
    let f = fixture(TABLE);
    let plan = plan(&f.policy, 7);
    assert!(plan.rules.windows(2).all(|w| w[0].path < w[1].path));
}

#[test]
fn the_plan_serialises_with_right_names() {
    let f = fixture(TABLE);
    let plan = plan(&f.policy, 6);
    let json = serde_json::to_value(&plan).unwrap();
    assert_eq!(json["abi"], 6);
    assert_eq!(json["handled_fs"][0], "execute");
    assert_eq!(json["scope_signal"], true);
    assert_eq!(json["scope_abstract_unix_socket"], true);
    let usr = json["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == "/usr")
        .unwrap();
    assert_eq!(usr["rights"], serde_json::json!(READ));
    assert!(usr["why"].as_str().unwrap().starts_with("read rule"));
}
