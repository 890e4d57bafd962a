//! Tests of the SSH config dependency scanner: every directive, every
//! expansion, per-host tokens, includes (globs, recursion, cycles, missing
//! files), line syntax, and the real file system through `tempfile`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use stockade_policy::ssh_config::{
    MAX_CONFIG_FILES, MAX_INCLUDE_DEPTH, MemorySshFs, SshDependency, SshFs, SshScan,
    SshScanContext, normalize_lexically, scan_ssh_config, scan_ssh_config_with,
};

const HOME: &str = "/home/u";
const CONFIG: &str = "/home/u/.ssh/config";

/// The values a test scan expands tokens with.
struct Fixture {
    home: PathBuf,
    user: String,
    uid: Option<u32>,
    hostname: String,
    env: HashMap<String, String>,
}

impl Fixture {
    fn new() -> Self {
        let env = [
            ("HOME", HOME),
            ("KEYS", "/srv/keys"),
            ("SSH_AUTH_SOCK", "/tmp/ssh-agent.sock"),
            ("AGENT", "/run/agent.sock"),
        ];
        Self {
            home: PathBuf::from(HOME),
            user: "u".to_owned(),
            uid: Some(1000),
            hostname: "box.example.org".to_owned(),
            env: env
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }

    /// Scans `CONFIG` in `fs`.
    fn scan_fs(&self, fs: &dyn SshFs) -> SshScan {
        self.scan_path(Path::new(CONFIG), fs)
    }

    /// Scans `config` in `fs`.
    fn scan_path(&self, config: &Path, fs: &dyn SshFs) -> SshScan {
        let env = |name: &str| self.env.get(name).cloned();
        let ctx = self.ctx(&env);
        scan_ssh_config_with(config, &ctx, fs)
    }

    /// Scans a real config file.
    fn scan_real(&self, config: &Path) -> SshScan {
        let env = |name: &str| self.env.get(name).cloned();
        let ctx = self.ctx(&env);
        scan_ssh_config(config, &ctx)
    }

    fn ctx<'a>(&'a self, env: &'a dyn Fn(&str) -> Option<String>) -> SshScanContext<'a> {
        SshScanContext {
            home: &self.home,
            user: &self.user,
            uid: self.uid,
            local_hostname: &self.hostname,
            env,
        }
    }

    /// Scans a config with the given text (and extra files).
    fn scan(&self, config: &str, files: &[(&str, &str)]) -> SshScan {
        let mut fs = MemorySshFs::new();
        fs.add_file(CONFIG, config);
        for (path, text) in files {
            fs.add_file(*path, *text);
        }
        self.scan_fs(&fs)
    }
}

/// Scans a config text with the default fixture.
fn scan(config: &str) -> SshScan {
    Fixture::new().scan(config, &[])
}

/// Scans a config and extra files with the default fixture.
fn scan_with(config: &str, files: &[(&str, &str)]) -> SshScan {
    Fixture::new().scan(config, files)
}

/// The dependency paths, without the config file itself.
fn paths(scan: &SshScan) -> Vec<PathBuf> {
    scan.dependencies
        .iter()
        .filter(|d| d.directive != "config")
        .map(|d| d.path.clone())
        .collect()
}

/// The dependency with `path`; panics (the test fails) when it is absent.
fn dep<'s>(scan: &'s SshScan, path: &str) -> &'s SshDependency {
    scan.dependencies
        .iter()
        .find(|d| d.path == Path::new(path))
        .unwrap_or_else(|| panic!("no dependency {path} in {scan:#?}"))
}

fn has(scan: &SshScan, path: &str) -> bool {
    scan.dependencies.iter().any(|d| d.path == Path::new(path))
}

fn p(path: &str) -> PathBuf {
    PathBuf::from(path)
}

fn assert_no_warnings(scan: &SshScan) {
    assert!(
        scan.warnings.is_empty(),
        "unexpected warnings: {:#?}",
        scan.warnings
    );
}

fn assert_warning(scan: &SshScan, needle: &str) {
    assert!(
        scan.warnings.iter().any(|w| w.contains(needle)),
        "no warning containing {needle:?} in {:#?}",
        scan.warnings
    );
}

// --- the config itself -------------------------------------------------------

#[test]
fn config_file_itself_is_the_first_dependency() {
    let scan = scan("");
    assert_eq!(scan.dependencies.len(), 1);
    let first = &scan.dependencies[0];
    assert_eq!(first.path, p(CONFIG));
    assert_eq!(first.directive, "config");
    assert_eq!(first.config, p(CONFIG));
    assert_eq!(first.line, 0);
    assert!(!first.per_host_token);
    assert_no_warnings(&scan);
}

#[test]
fn missing_config_yields_an_empty_scan() {
    let scan = Fixture::new().scan_fs(&MemorySshFs::new());
    assert_eq!(scan, SshScan::default());
}

#[test]
fn config_path_is_normalised_lexically() {
    let mut fs = MemorySshFs::new();
    fs.add_file(CONFIG, "IdentityFile ~/.ssh/id");
    let scan = Fixture::new().scan_path(Path::new("/home/u/./x/../.ssh/config"), &fs);
    assert_eq!(scan.dependencies[0].path, p(CONFIG));
    assert!(has(&scan, "/home/u/.ssh/id"));
}

// --- every directive -----------------------------------------------------------

#[test]
fn identity_file_is_a_dependency_with_its_site() {
    let scan = scan("# keys\n\nIdentityFile ~/.ssh/id_ed25519\n");
    let d = dep(&scan, "/home/u/.ssh/id_ed25519");
    assert_eq!(d.directive, "IdentityFile");
    assert_eq!(d.config, p(CONFIG));
    assert_eq!(d.line, 3);
    assert!(!d.per_host_token);
    assert!(!d.glob_pattern);
    assert_no_warnings(&scan);
}

#[test]
fn certificate_file_is_a_dependency() {
    let scan = scan("CertificateFile ~/.ssh/id_ed25519-cert.pub");
    assert_eq!(
        dep(&scan, "/home/u/.ssh/id_ed25519-cert.pub").directive,
        "CertificateFile"
    );
}

#[test]
fn user_known_hosts_file_takes_several_files() {
    let scan = scan("UserKnownHostsFile ~/.ssh/known_hosts ~/.ssh/known_hosts2 /srv/kh");
    assert_eq!(
        paths(&scan),
        [
            p("/home/u/.ssh/known_hosts"),
            p("/home/u/.ssh/known_hosts2"),
            p("/srv/kh")
        ]
    );
    assert!(
        scan.dependencies[1..]
            .iter()
            .all(|d| d.directive == "UserKnownHostsFile")
    );
    assert_no_warnings(&scan);
}

#[test]
fn global_known_hosts_file_takes_several_files() {
    let scan = scan("GlobalKnownHostsFile /etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2");
    assert_eq!(
        paths(&scan),
        [
            p("/etc/ssh/ssh_known_hosts"),
            p("/etc/ssh/ssh_known_hosts2")
        ]
    );
    assert_eq!(
        dep(&scan, "/etc/ssh/ssh_known_hosts").directive,
        "GlobalKnownHostsFile"
    );
    assert_no_warnings(&scan);
}

#[test]
fn revoked_host_keys_is_a_dependency() {
    let scan = scan("RevokedHostKeys /etc/ssh/revoked_keys");
    assert_eq!(
        dep(&scan, "/etc/ssh/revoked_keys").directive,
        "RevokedHostKeys"
    );
}

#[test]
fn control_path_without_tokens_is_exact() {
    let scan = scan("ControlPath ~/.ssh/master.sock");
    let d = dep(&scan, "/home/u/.ssh/master.sock");
    assert_eq!(d.directive, "ControlPath");
    assert!(!d.per_host_token);
}

#[test]
fn identity_agent_path_is_a_dependency() {
    let scan = scan("IdentityAgent ~/.1password/agent.sock");
    assert_eq!(
        dep(&scan, "/home/u/.1password/agent.sock").directive,
        "IdentityAgent"
    );
}

#[test]
fn identity_agent_ssh_auth_sock_keyword_produces_nothing() {
    let scan = scan("IdentityAgent SSH_AUTH_SOCK");
    assert!(paths(&scan).is_empty());
    assert_no_warnings(&scan);
}

#[test]
fn identity_agent_dollar_ssh_auth_sock_expands_from_env() {
    for value in ["$SSH_AUTH_SOCK", "${SSH_AUTH_SOCK}"] {
        let scan = scan(&format!("IdentityAgent {value}"));
        assert_eq!(paths(&scan), [p("/tmp/ssh-agent.sock")], "{value}");
        assert_no_warnings(&scan);
    }
}

#[test]
fn identity_agent_dollar_other_variable_expands_from_env() {
    let scan = scan("IdentityAgent $AGENT");
    assert_eq!(paths(&scan), [p("/run/agent.sock")]);
}

#[test]
fn identity_agent_dollar_unset_variable_warns_and_is_skipped() {
    let scan = scan("IdentityAgent $NOPE");
    assert!(paths(&scan).is_empty());
    assert_warning(&scan, "environment variable NOPE is not set");
}

#[test]
fn none_produces_nothing_for_every_directive() {
    let keywords = [
        "IdentityFile",
        "CertificateFile",
        "UserKnownHostsFile",
        "GlobalKnownHostsFile",
        "RevokedHostKeys",
        "ControlPath",
        "IdentityAgent",
    ];
    for keyword in keywords {
        let scan = scan(&format!("{keyword} none"));
        assert!(paths(&scan).is_empty(), "{keyword}: {scan:#?}");
        assert_no_warnings(&scan);
    }
}

#[test]
fn none_is_case_sensitive_like_ssh() {
    let scan = scan("IdentityFile NONE");
    assert_eq!(paths(&scan), [p("/home/u/NONE")]);
}

#[test]
fn other_directives_are_ignored() {
    let scan = scan("HostName example.org\nUser git\nProxyCommand ssh -W %h:%p jump\nPort 22");
    assert!(paths(&scan).is_empty());
    assert_no_warnings(&scan);
}

// --- expansion -----------------------------------------------------------------

#[test]
fn tilde_alone_and_tilde_slash_expand_to_home() {
    let scan = scan("IdentityFile ~/.ssh/a\nCertificateFile ~");
    assert!(has(&scan, "/home/u/.ssh/a"));
    assert!(has(&scan, "/home/u"));
    // Protecting the home directory itself is worth a warning.
    assert_warning(&scan, "which is or contains the home directory");
}

#[test]
fn tilde_with_own_user_name_expands_to_home() {
    let scan = scan("IdentityFile ~u/.ssh/a");
    assert_eq!(paths(&scan), [p("/home/u/.ssh/a")]);
}

#[test]
fn tilde_with_other_user_name_warns_and_is_skipped() {
    let scan = scan("IdentityFile ~root/.ssh/id\nIdentityFile ~/.ssh/ok");
    assert_eq!(paths(&scan), [p("/home/u/.ssh/ok")]);
    assert_warning(&scan, "cannot expand ~root");
    assert!(
        scan.warnings[0].starts_with("/home/u/.ssh/config:1: "),
        "{:?}",
        scan.warnings
    );
}

#[test]
fn tilde_in_the_middle_is_literal() {
    let scan = scan("IdentityFile /srv/~/key");
    assert_eq!(paths(&scan), [p("/srv/~/key")]);
}

#[test]
fn percent_d_expands_to_home() {
    let scan = scan("IdentityFile %d/.ssh/id");
    assert_eq!(paths(&scan), [p("/home/u/.ssh/id")]);
}

#[test]
fn percent_u_expands_to_user() {
    let scan = scan("IdentityFile /keys/%u/id");
    assert_eq!(paths(&scan), [p("/keys/u/id")]);
}

#[test]
fn percent_i_expands_to_uid() {
    let scan = scan("ControlPath /run/user/%i/ssh.sock");
    assert_eq!(paths(&scan), [p("/run/user/1000/ssh.sock")]);
}

#[test]
fn percent_i_without_uid_is_treated_like_a_per_host_token() {
    let mut fixture = Fixture::new();
    fixture.uid = None;
    let scan = fixture.scan("ControlPath /run/user/%i/ssh.sock", &[]);
    let d = dep(&scan, "/run/user");
    assert!(d.per_host_token);
}

#[test]
fn percent_l_expands_to_full_local_hostname() {
    let scan = scan("IdentityFile ~/.ssh/id-%l");
    assert_eq!(paths(&scan), [p("/home/u/.ssh/id-box.example.org")]);
}

#[test]
fn percent_capital_l_expands_to_first_hostname_component() {
    let scan = scan("IdentityFile ~/.ssh/id-%L");
    assert_eq!(paths(&scan), [p("/home/u/.ssh/id-box")]);
}

#[test]
fn percent_percent_is_a_literal_percent() {
    let scan = scan("IdentityFile ~/.ssh/100%%-%h");
    // `%%` is literal, `%h` still makes it per-host.
    assert!(has(&scan, "/home/u/.ssh"));
    let scan = scan_with("IdentityFile ~/.ssh/100%%", &[]);
    assert_eq!(paths(&scan), [p("/home/u/.ssh/100%")]);
}

#[test]
fn env_variable_in_braces_expands() {
    let scan = scan("IdentityFile ${KEYS}/id\nCertificateFile ${HOME}/.ssh/cert");
    assert_eq!(paths(&scan), [p("/srv/keys/id"), p("/home/u/.ssh/cert")]);
    assert_no_warnings(&scan);
}

#[test]
fn unset_env_variable_warns_and_skips_only_that_value() {
    let scan = scan("UserKnownHostsFile ${MISSING}/kh ~/.ssh/known_hosts");
    assert_eq!(paths(&scan), [p("/home/u/.ssh/known_hosts")]);
    assert_warning(&scan, "environment variable MISSING is not set");
    assert_warning(
        &scan,
        "/home/u/.ssh/config:1: skipping UserKnownHostsFile value",
    );
}

#[test]
fn unterminated_env_variable_warns() {
    let scan = scan("IdentityFile ${KEYS/id");
    assert!(paths(&scan).is_empty());
    assert_warning(&scan, "unterminated ${");
}

#[test]
fn dollar_without_braces_is_literal_outside_identity_agent() {
    let scan = scan("IdentityFile ~/$KEYS");
    assert_eq!(paths(&scan), [p("/home/u/$KEYS")]);
}

#[test]
fn env_value_is_percent_expanded_like_ssh() {
    let mut fixture = Fixture::new();
    fixture.env.insert("DIR".to_owned(), "/keys/%u".to_owned());
    let scan = fixture.scan("IdentityFile ${DIR}/id", &[]);
    assert_eq!(paths(&scan), [p("/keys/u/id")]);
}

#[test]
fn relative_identity_file_resolves_against_home() {
    let scan = scan("IdentityFile .ssh/id_rsa\nUserKnownHostsFile kh");
    assert_eq!(paths(&scan), [p("/home/u/.ssh/id_rsa"), p("/home/u/kh")]);
}

#[test]
fn paths_are_normalised_lexically() {
    let scan = scan(
        "IdentityFile ~/.ssh/../.ssh/./id\nCertificateFile //etc//ssh/../ssh/c\nRevokedHostKeys /../../r",
    );
    assert_eq!(
        paths(&scan),
        [p("/home/u/.ssh/id"), p("/etc/ssh/c"), p("/r")]
    );
}

// --- per-host tokens -----------------------------------------------------------

#[test]
fn control_path_with_host_tokens_protects_its_directory() {
    let scan = scan("ControlPath ~/.ssh/cm/%r@%h:%p");
    let d = dep(&scan, "/home/u/.ssh/cm");
    assert!(d.per_host_token);
    assert!(!d.glob_pattern);
    assert_eq!(d.directive, "ControlPath");
    assert_eq!(paths(&scan).len(), 1);
    assert_no_warnings(&scan);
}

#[test]
fn each_per_host_token_protects_the_token_free_directory() {
    for token in ["%h", "%r", "%n", "%p", "%C", "%k", "%j", "%T", "%x", "%Z"] {
        let scan = scan(&format!("IdentityFile ~/.ssh/keys/id-{token}"));
        assert_eq!(paths(&scan), [p("/home/u/.ssh/keys")], "{token}");
        assert!(dep(&scan, "/home/u/.ssh/keys").per_host_token, "{token}");
    }
}

#[test]
fn token_in_a_middle_directory_protects_the_directory_above_it() {
    let scan = scan("IdentityFile ~/.ssh/hosts/%h/id");
    assert_eq!(paths(&scan), [p("/home/u/.ssh/hosts")]);
}

#[test]
fn trailing_lone_percent_is_treated_like_a_token() {
    let scan = scan("IdentityFile /srv/keys/id%");
    assert_eq!(paths(&scan), [p("/srv/keys")]);
    assert!(dep(&scan, "/srv/keys").per_host_token);
}

#[test]
fn token_component_removed_by_dotdot_leaves_an_exact_path() {
    let scan = scan("IdentityFile ~/a/%h/../key");
    let d = dep(&scan, "/home/u/a/key");
    assert!(!d.per_host_token);
}

#[test]
fn dotdot_after_a_token_climbs_above_the_token_directory() {
    // `~/a/b/%h/../../../x/%h` is `~/x/<host>`: `~/a/b` would be wrong.
    let scan = scan("IdentityFile ~/a/b/%h/../../../x/%h");
    assert_eq!(paths(&scan), [p("/home/u/x")]);
}

#[test]
fn leading_token_protects_home_with_a_warning() {
    let scan = scan("IdentityFile %h.key");
    let d = dep(&scan, "/home/u");
    assert!(d.per_host_token);
    assert_warning(&scan, "which is or contains the home directory");
}

// --- Include ---------------------------------------------------------------------

#[test]
fn include_relative_path_is_in_dot_ssh_and_is_scanned() {
    let scan = scan_with(
        "Include extra\n",
        &[("/home/u/.ssh/extra", "IdentityFile ~/.ssh/from_extra")],
    );
    let inc = dep(&scan, "/home/u/.ssh/extra");
    assert_eq!(inc.directive, "Include");
    assert_eq!(inc.config, p(CONFIG));
    assert_eq!(inc.line, 1);
    let id = dep(&scan, "/home/u/.ssh/from_extra");
    assert_eq!(id.config, p("/home/u/.ssh/extra"));
    assert_eq!(id.line, 1);
    assert_no_warnings(&scan);
}

#[test]
fn include_glob_scans_matching_files_and_protects_the_directory() {
    let scan = scan_with(
        "Include conf.d/*.conf\n",
        &[
            ("/home/u/.ssh/conf.d/b.conf", "IdentityFile ~/.ssh/b"),
            ("/home/u/.ssh/conf.d/a.conf", "IdentityFile ~/.ssh/a"),
            ("/home/u/.ssh/conf.d/notes.txt", "IdentityFile ~/.ssh/txt"),
            (
                "/home/u/.ssh/conf.d/.hidden.conf",
                "IdentityFile ~/.ssh/hidden",
            ),
        ],
    );
    let dir = dep(&scan, "/home/u/.ssh/conf.d");
    assert!(dir.glob_pattern);
    assert!(!dir.per_host_token);
    // Matches are scanned in sorted order, like glob(3) returns them.
    assert_eq!(
        paths(&scan),
        [
            p("/home/u/.ssh/conf.d"),
            p("/home/u/.ssh/conf.d/a.conf"),
            p("/home/u/.ssh/a"),
            p("/home/u/.ssh/conf.d/b.conf"),
            p("/home/u/.ssh/b"),
        ]
    );
    assert_no_warnings(&scan);
}

#[test]
fn include_with_question_mark_and_brackets() {
    let scan = scan_with(
        "Include /etc/ssh/c?.d/[ab].conf",
        &[
            ("/etc/ssh/c1.d/a.conf", "IdentityFile /k/a"),
            ("/etc/ssh/c2.d/b.conf", "IdentityFile /k/b"),
            ("/etc/ssh/c2.d/c.conf", "IdentityFile /k/c"),
        ],
    );
    assert!(dep(&scan, "/etc/ssh").glob_pattern);
    assert!(has(&scan, "/k/a"));
    assert!(has(&scan, "/k/b"));
    assert!(!has(&scan, "/k/c"));
}

#[test]
fn include_double_star_is_a_plain_star_like_glob3() {
    let scan = scan_with(
        "Include ~/.ssh/**.conf",
        &[
            ("/home/u/.ssh/x.conf", "IdentityFile /k/x"),
            ("/home/u/.ssh/d/y.conf", "IdentityFile /k/y"),
        ],
    );
    assert!(has(&scan, "/k/x"));
    assert!(!has(&scan, "/k/y"));
}

#[test]
fn include_takes_several_patterns() {
    let scan = scan_with(
        "Include one /etc/ssh/two ~/three",
        &[
            ("/home/u/.ssh/one", "IdentityFile /k/1"),
            ("/etc/ssh/two", "IdentityFile /k/2"),
            ("/home/u/three", "IdentityFile /k/3"),
        ],
    );
    for path in [
        "/home/u/.ssh/one",
        "/etc/ssh/two",
        "/home/u/three",
        "/k/1",
        "/k/2",
        "/k/3",
    ] {
        assert!(has(&scan, path), "{path}");
    }
    assert_no_warnings(&scan);
}

#[test]
fn include_is_recursive() {
    let scan = scan_with(
        "Include a",
        &[
            ("/home/u/.ssh/a", "Include b\nIdentityFile /k/a"),
            ("/home/u/.ssh/b", "Include c"),
            ("/home/u/.ssh/c", "IdentityFile /k/c"),
        ],
    );
    assert_eq!(
        paths(&scan),
        [
            p("/home/u/.ssh/a"),
            p("/home/u/.ssh/b"),
            p("/home/u/.ssh/c"),
            p("/k/c"),
            p("/k/a"),
        ]
    );
    assert_eq!(dep(&scan, "/home/u/.ssh/c").config, p("/home/u/.ssh/b"));
    assert_no_warnings(&scan);
}

#[test]
fn include_cycle_a_b_a_terminates() {
    let scan = scan_with(
        "Include a",
        &[
            ("/home/u/.ssh/a", "Include b\nIdentityFile /k/a"),
            ("/home/u/.ssh/b", "Include a\nIdentityFile /k/b"),
        ],
    );
    assert_eq!(
        paths(&scan),
        [
            p("/home/u/.ssh/a"),
            p("/home/u/.ssh/b"),
            p("/k/b"),
            p("/k/a")
        ]
    );
    assert_no_warnings(&scan);
}

#[test]
fn include_of_itself_terminates() {
    let scan = scan("Include config\nInclude ~/.ssh/config\nIdentityFile /k/self");
    assert_eq!(paths(&scan), [p("/k/self")]);
    assert_no_warnings(&scan);
}

#[test]
fn include_glob_matching_the_including_file_terminates() {
    let scan = scan_with(
        "Include *",
        &[("/home/u/.ssh/other", "Include *\nIdentityFile /k/o")],
    );
    assert!(has(&scan, "/k/o"));
    assert!(has(&scan, "/home/u/.ssh"));
}

#[test]
fn missing_include_is_still_protected_without_a_warning() {
    let scan = scan("Include not_there\nInclude nothing/*.conf");
    let missing = dep(&scan, "/home/u/.ssh/not_there");
    assert!(!missing.glob_pattern);
    assert!(dep(&scan, "/home/u/.ssh/nothing").glob_pattern);
    assert_no_warnings(&scan);
}

#[test]
fn include_of_a_directory_warns() {
    let mut fs = MemorySshFs::new();
    fs.add_file(CONFIG, "Include /etc/ssh/dir");
    fs.add_dir("/etc/ssh/dir");
    let scan = Fixture::new().scan_fs(&fs);
    assert!(has(&scan, "/etc/ssh/dir"));
    assert_warning(&scan, "cannot read included /etc/ssh/dir");
}

#[test]
fn include_depth_limit_warns_and_stops() {
    let mut fs = MemorySshFs::new();
    fs.add_file(CONFIG, "Include f1");
    for i in 1..=20 {
        fs.add_file(
            format!("/home/u/.ssh/f{i}"),
            format!("Include f{}\nIdentityFile /k/{i}", i + 1),
        );
    }
    let scan = Fixture::new().scan_fs(&fs);
    assert!(has(&scan, &format!("/k/{MAX_INCLUDE_DEPTH}")));
    assert!(!has(&scan, &format!("/k/{}", MAX_INCLUDE_DEPTH + 1)));
    // The file past the limit is still protected, just not read.
    assert!(has(
        &scan,
        &format!("/home/u/.ssh/f{}", MAX_INCLUDE_DEPTH + 1)
    ));
    assert_warning(&scan, "include depth limit of 16 reached");
}

#[test]
fn include_with_a_host_token_protects_the_directory_and_scans_candidates() {
    let scan = scan_with(
        "Include hosts/%h.conf",
        &[("/home/u/.ssh/hosts/web.conf", "IdentityFile /k/web")],
    );
    let dir = dep(&scan, "/home/u/.ssh/hosts");
    assert!(dir.per_host_token);
    assert!(has(&scan, "/home/u/.ssh/hosts/web.conf"));
    assert!(has(&scan, "/k/web"));
}

#[test]
fn include_with_a_token_and_a_glob_sets_both_flags() {
    let scan = scan("Include ~/.ssh/%h/*.conf");
    let dir = dep(&scan, "/home/u/.ssh");
    assert!(dir.per_host_token);
    assert!(dir.glob_pattern);
}

#[test]
fn wildcards_outside_include_are_literal() {
    let scan = scan_with("IdentityFile ~/.ssh/id_*", &[("/home/u/.ssh/id_rsa", "")]);
    assert_eq!(paths(&scan), [p("/home/u/.ssh/id_*")]);
    assert!(!dep(&scan, "/home/u/.ssh/id_*").glob_pattern);
}

#[test]
fn include_file_limit_warns_and_stops() {
    let mut fs = MemorySshFs::new();
    fs.add_file(CONFIG, "Include many/*");
    for i in 0..MAX_CONFIG_FILES + 10 {
        fs.add_file(
            format!("/home/u/.ssh/many/{i:05}"),
            format!("IdentityFile /k/{i:05}"),
        );
    }
    let scan = Fixture::new().scan_fs(&fs);
    // The config itself counts as the first file read.
    assert!(has(&scan, &format!("/k/{:05}", MAX_CONFIG_FILES - 2)));
    assert!(!has(&scan, &format!("/k/{:05}", MAX_CONFIG_FILES - 1)));
    // Files past the limit are still protected, just not read.
    assert!(has(
        &scan,
        &format!("/home/u/.ssh/many/{:05}", MAX_CONFIG_FILES + 9)
    ));
    assert_warning(&scan, "limit of 1024 config files reached");
}

#[test]
fn include_with_unset_variable_warns() {
    let scan = scan("Include ${NOPE}/x");
    assert!(paths(&scan).is_empty());
    assert_warning(&scan, "skipping Include value \"${NOPE}/x\"");
}

#[test]
fn include_none_is_a_file_named_none() {
    let scan = scan("Include none");
    assert_eq!(paths(&scan), [p("/home/u/.ssh/none")]);
}

// --- line syntax -----------------------------------------------------------------

#[test]
fn quoted_values_may_hold_spaces() {
    let scan = scan(
        "IdentityFile \"~/.ssh/my key\"\nCertificateFile '/srv/a cert'\nUserKnownHostsFile \"/a b\" /c 'd e'",
    );
    assert_eq!(
        paths(&scan),
        [
            p("/home/u/.ssh/my key"),
            p("/srv/a cert"),
            p("/a b"),
            p("/c"),
            p("/home/u/d e")
        ]
    );
    assert_no_warnings(&scan);
}

#[test]
fn quotes_and_escapes_inside_a_token() {
    let scan = scan(r#"IdentityFile /srv/"a b"c\ d\"e"#);
    assert_eq!(paths(&scan), [p("/srv/a bc d\"e")]);
}

#[test]
fn unterminated_quote_warns_and_the_file_goes_on() {
    let scan = scan("IdentityFile \"/srv/open\nIdentityFile /srv/next");
    assert_eq!(paths(&scan), [p("/srv/next")]);
    assert_warning(
        &scan,
        "/home/u/.ssh/config:1: invalid quotes in IdentityFile",
    );
}

#[test]
fn keyword_equals_value_forms() {
    let scan = scan(
        "IdentityFile=/k/1\nIdentityFile = /k/2\nIdentityFile= /k/3\nIdentityFile =/k/4\n  IdentityFile\t=\t/k/5",
    );
    assert_eq!(
        paths(&scan),
        [p("/k/1"), p("/k/2"), p("/k/3"), p("/k/4"), p("/k/5")]
    );
    assert_no_warnings(&scan);
}

#[test]
fn keywords_are_case_insensitive() {
    let scan = scan("IDENTITYFILE /k/1\nidentityfile /k/2\ninclude /k/inc\nControlpath /k/3");
    assert_eq!(paths(&scan), [p("/k/1"), p("/k/2"), p("/k/inc"), p("/k/3")]);
}

#[test]
fn comments_and_blank_lines_are_skipped() {
    let scan = scan(
        "# IdentityFile /k/commented\n   \n\t# indented comment\nIdentityFile /k/a # trailing\nIdentityFile /k/b#c",
    );
    assert_eq!(paths(&scan), [p("/k/a"), p("/k/b#c")]);
    assert_no_warnings(&scan);
}

#[test]
fn crlf_line_endings_and_leading_whitespace() {
    let scan = scan("Host a\r\n    IdentityFile /k/a\r\n\tIdentityFile /k/b \r\n");
    assert_eq!(paths(&scan), [p("/k/a"), p("/k/b")]);
    assert_no_warnings(&scan);
}

#[test]
fn missing_argument_warns() {
    let scan = scan("IdentityFile\nControlPath   # nothing\nIdentityFile \"\"");
    assert!(paths(&scan).is_empty());
    assert_warning(&scan, "config:1: no argument after IdentityFile");
    assert_warning(&scan, "config:2: no argument after ControlPath");
    assert_warning(&scan, "config:3: empty IdentityFile value");
}

#[test]
fn extra_values_for_a_single_value_directive_warn_but_are_all_protected() {
    let scan = scan("IdentityFile /k/a /k/b");
    assert_eq!(paths(&scan), [p("/k/a"), p("/k/b")]);
    assert_warning(&scan, "IdentityFile takes one value but has 2");
}

#[test]
fn every_host_and_match_block_is_scanned() {
    let scan = scan_with(
        "IdentityFile /k/global\n\
         Host github.com\n  IdentityFile /k/github\n\
         Host !*.internal *\n  ControlPath /k/cp\n\
         Match host *.corp exec \"false\"\n  Include corp\n  CertificateFile /k/cert\n\
         Match all\n  IdentityAgent /k/agent\n",
        &[("/home/u/.ssh/corp", "Host x\nIdentityFile /k/corp")],
    );
    for path in [
        "/k/global",
        "/k/github",
        "/k/cp",
        "/home/u/.ssh/corp",
        "/k/corp",
        "/k/cert",
        "/k/agent",
    ] {
        assert!(has(&scan, path), "{path}");
    }
    assert_no_warnings(&scan);
}

#[test]
fn duplicates_keep_the_first_occurrence() {
    let scan = scan(
        "Host a\nIdentityFile ~/.ssh/id\nHost b\nIdentityFile /home/u/.ssh/./id\nCertificateFile ~/.ssh/id",
    );
    assert_eq!(paths(&scan), [p("/home/u/.ssh/id")]);
    let d = dep(&scan, "/home/u/.ssh/id");
    assert_eq!((d.line, d.directive.as_str()), (2, "IdentityFile"));
}

// --- robustness ------------------------------------------------------------------

#[test]
fn garbage_does_not_panic() {
    let inputs = [
        "\0\0\0",
        "%",
        "IdentityFile %",
        "IdentityFile ${",
        "IdentityFile ${}",
        "IdentityFile ~",
        "IdentityFile ~/",
        "IdentityFile /",
        "IdentityFile ..",
        "Include /",
        "Include ..",
        "Include [",
        "Include ***",
        "Include /**/**",
        "Include ~/*/../../../../*",
        "=",
        "= =",
        "\"",
        "IdentityFile \\",
        "IdentityAgent $",
        "IdentityAgent ${",
        "\u{fffd}\u{200b} é IdentityFile ключ",
        "IdentityFile é%é%%é%",
    ];
    for input in inputs {
        let _ = scan(input);
    }
}

#[test]
fn huge_line_does_not_panic() {
    let long = "a/".repeat(200_000);
    let scan = scan(&format!("IdentityFile /{long}\nInclude {long}%h\n"));
    assert!(scan.dependencies.len() >= 2);
}

#[test]
fn relative_home_does_not_panic() {
    let mut fixture = Fixture::new();
    fixture.home = PathBuf::from("../rel");
    let mut fs = MemorySshFs::new();
    fs.add_file(
        CONFIG,
        "IdentityFile ~/id\nInclude x\nIdentityFile %d/../../k",
    );
    let scan = fixture.scan_fs(&fs);
    assert!(has(&scan, "../rel/id"));
    assert!(has(&scan, "../rel/.ssh/x"));
    // `%d` is relative here, so the value resolves against the home again.
    assert!(has(&scan, "../../k"));
}

#[test]
fn normalize_lexically_handles_dots() {
    assert_eq!(normalize_lexically(Path::new("/a/./b/../c")), p("/a/c"));
    assert_eq!(normalize_lexically(Path::new("/../a")), p("/a"));
    assert_eq!(normalize_lexically(Path::new("../../a/..")), p("../.."));
    assert_eq!(normalize_lexically(Path::new("a/../../b")), p("../b"));
}

// --- the real file system ----------------------------------------------------------

#[test]
fn real_file_system_with_includes_and_globs() {
    let home = tempfile::tempdir().expect("tempdir");
    let ssh = home.path().join(".ssh");
    std::fs::create_dir_all(ssh.join("conf.d")).expect("mkdir");
    std::fs::write(
        ssh.join("config"),
        "Include conf.d/*.conf\nIdentityFile ~/.ssh/id\n",
    )
    .expect("write");
    std::fs::write(
        ssh.join("conf.d/a.conf"),
        "Include ../.ssh/config\nControlPath ~/.ssh/cm/%C\n",
    )
    .expect("write");
    std::fs::write(ssh.join("conf.d/b.txt"), "IdentityFile ~/.ssh/not_me\n").expect("write");
    std::fs::create_dir(ssh.join("conf.d/dir.conf")).expect("mkdir");

    let mut fixture = Fixture::new();
    fixture.home = home.path().to_path_buf();
    let scan = fixture.scan_real(&ssh.join("config"));

    let got: Vec<PathBuf> = scan.dependencies.iter().map(|d| d.path.clone()).collect();
    assert_eq!(
        got,
        [
            ssh.join("config"),
            ssh.join("conf.d"),
            ssh.join("conf.d/a.conf"),
            ssh.join("cm"),
            ssh.join("conf.d/dir.conf"),
            ssh.join("id"),
        ]
    );
    assert!(dep(&scan, &ssh.join("cm").to_string_lossy()).per_host_token);
    // The directory matched by the glob is protected and reported, not read.
    assert_eq!(scan.warnings.len(), 1, "{:#?}", scan.warnings);
    assert_warning(&scan, "cannot read included");
}

#[test]
fn real_missing_config_yields_an_empty_scan() {
    let home = tempfile::tempdir().expect("tempdir");
    let scan = Fixture::new().scan_real(&home.path().join("nope"));
    assert_eq!(scan, SshScan::default());
}

#[test]
fn real_config_that_is_a_directory_yields_an_empty_scan() {
    let home = tempfile::tempdir().expect("tempdir");
    let scan = Fixture::new().scan_real(home.path());
    assert_eq!(scan, SshScan::default());
}

#[test]
fn real_invalid_utf8_is_read_lossily() {
    let home = tempfile::tempdir().expect("tempdir");
    let config = home.path().join("config");
    std::fs::write(
        &config,
        b"\xff\xfe IdentityFile x\nIdentityFile /k/\xffkey\n",
    )
    .expect("write");
    let scan = Fixture::new().scan_real(&config);
    assert!(has(&scan, "/k/\u{fffd}key"));
}

#[test]
fn real_include_of_home_with_glob_metacharacters_is_escaped() {
    let root = tempfile::tempdir().expect("tempdir");
    let home = root.path().join("we[i]rd*home");
    std::fs::create_dir_all(home.join(".ssh")).expect("mkdir");
    std::fs::write(home.join(".ssh/config"), "Include extra\n").expect("write");
    std::fs::write(home.join(".ssh/extra"), "IdentityFile /k/extra\n").expect("write");
    let mut fixture = Fixture::new();
    fixture.home = home.clone();
    let scan = fixture.scan_real(&home.join(".ssh/config"));
    assert!(has(&scan, "/k/extra"), "{scan:#?}");
}
