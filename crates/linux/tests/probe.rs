//! `probe_machine()` against the machine it runs on: every answer is checked
//! against an independent source (`/proc`, `/sys`, the file system).
//!
//! Tests that need a kernel feature print a skip reason and pass when it is
//! absent, unless `STOCKADE_TEST_MUST_ENFORCE=1`, which makes them fail.
#![cfg(target_os = "linux")]

use std::path::Path;
use std::sync::OnceLock;

use stockade_linux::probe::{LandlockSupport, MachineReport, features_for_abi, probe_machine};

/// One probe run shared by every test (it forks and runs bwrap).
fn report() -> &'static MachineReport {
    static REPORT: OnceLock<MachineReport> = OnceLock::new();
    REPORT.get_or_init(probe_machine)
}

/// Whether a test that needs `what` should go on: `true` when `feature` is
/// present; otherwise prints why it skips and returns `false`, or panics when
/// `STOCKADE_TEST_MUST_ENFORCE=1` makes the feature mandatory.
fn require(feature: bool, what: &str) -> bool {
    if feature {
        return true;
    }
    if std::env::var("STOCKADE_TEST_MUST_ENFORCE").as_deref() == Ok("1") {
        panic!("{what} is required (STOCKADE_TEST_MUST_ENFORCE=1) but missing on this machine");
    }
    eprintln!("skipping: {what} is not available on this machine");
    false
}

/// A `Name:\tvalue` field of `/proc/self/status`.
fn proc_status(name: &str) -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key == name).then(|| value.trim().to_owned())
    })
}

#[test]
fn report_serializes_and_prints() {
    let json = serde_json::to_string_pretty(report()).expect("report serializes");
    println!("{json}");
    let value: serde_json::Value = serde_json::from_str(&json).expect("valid json");
    for key in [
        "kernel",
        "landlock",
        "seccomp",
        "no_new_privs",
        "user_namespaces",
        "bwrap",
    ] {
        assert!(value.get(key).is_some(), "missing {key}");
    }
    println!("{:#?}", report().hints());
}

#[test]
fn kernel_release_matches_procfs() {
    let osrelease = std::fs::read_to_string("/proc/sys/kernel/osrelease").expect("procfs");
    assert_eq!(report().kernel, osrelease.trim());
}

#[test]
fn identity_matches_proc_status() {
    let euid =
        proc_status("Uid").and_then(|uids| uids.split_whitespace().nth(1).map(str::to_owned));
    assert_eq!(report().running_as_root, euid.as_deref() == Some("0"));
    let nnp = proc_status("NoNewPrivs");
    assert_eq!(report().no_new_privs, nnp.as_deref() == Some("1"));
}

#[test]
fn landlock_abi_and_features_agree() {
    let landlock = &report().landlock;
    if let Some(lsm) = &landlock.lsm {
        // securityfs lists the active LSMs; landlock answers iff it is listed.
        assert_eq!(
            lsm.split(',').any(|m| m == "landlock"),
            landlock.abi.is_some(),
            "{lsm}"
        );
    }
    if !require(landlock.abi.is_some(), "landlock") {
        return;
    }
    let abi = landlock.abi.unwrap_or_default();
    assert!(abi >= 1, "{landlock:?}");
    assert_eq!(landlock.support, LandlockSupport::Available);
    assert_eq!(landlock.features, features_for_abi(abi));
    assert!(landlock.features.contains(&"fs_basic"));
    assert!(
        landlock.detail.contains(&format!("ABI {abi}")),
        "{}",
        landlock.detail
    );
}

#[test]
fn seccomp_agrees_with_proc_status() {
    let seccomp = &report().seccomp;
    if !require(seccomp.available, "seccomp filters") {
        return;
    }
    let mode = proc_status("Seccomp").and_then(|m| m.parse().ok());
    assert_eq!(seccomp.mode, mode, "prctl and /proc disagree");
    let filters = proc_status("Seccomp_filters").and_then(|f| f.parse().ok());
    assert_eq!(seccomp.filters, filters);
    if Path::new("/proc/sys/kernel/seccomp/actions_avail").exists() {
        assert!(
            seccomp.actions.iter().any(|a| a == "allow"),
            "{:?}",
            seccomp.actions
        );
        assert!(
            seccomp.actions.iter().any(|a| a == "errno"),
            "{:?}",
            seccomp.actions
        );
    }
}

#[test]
fn user_namespaces_work_or_say_why() {
    let userns = &report().user_namespaces;
    assert_eq!(userns.works, userns.error.is_none(), "{userns:?}");
    assert_eq!(userns.sysctls.len(), 3);
    for sysctl in &userns.sysctls {
        let path = format!("/proc/sys/{}", sysctl.name.replace('.', "/"));
        assert_eq!(
            Path::new(&path).exists(),
            sysctl.value.is_some(),
            "{sysctl:?}"
        );
    }
    if Path::new("/.dockerenv").exists() {
        assert!(userns.in_container_hint.is_some());
    }
    if !require(userns.works, "unprivileged user namespaces") {
        eprintln!("user namespaces failed: {:?}", userns.error);
        return;
    }
    // A working test means nothing restricts this user: no sysctl hint.
    assert!(
        userns
            .sysctls
            .iter()
            .all(|s| !s.restricts || report().running_as_root)
    );
    let hints = report().hints();
    assert!(
        hints.iter().all(|h| h.mechanism != "user_namespaces"),
        "{hints:#?}"
    );
}

#[test]
fn bwrap_is_found_and_works_when_installed() {
    let installed = ["/usr/bin/bwrap", "/bin/bwrap", "/usr/local/bin/bwrap"]
        .into_iter()
        .any(|p| Path::new(p).exists());
    if !installed {
        // Optional on every machine: the native namespaces are the fast path.
        eprintln!("skipping: bubblewrap is not installed");
        return;
    }
    let bwrap = report()
        .bwrap
        .as_ref()
        .expect("bwrap is installed, the probe must find it");
    assert!(Path::new(&bwrap.path).is_absolute(), "{bwrap:?}");
    let version = bwrap.version.as_deref().unwrap_or("");
    assert!(version.starts_with("bubblewrap "), "{bwrap:?}");
    if !require(bwrap.usable, "a working bwrap") {
        eprintln!("bwrap failed: {}", bwrap.detail);
        return;
    }
    assert!(bwrap.detail.contains("works"), "{bwrap:?}");
}

#[test]
fn cgroup_agrees_with_proc() {
    let cgroup = &report().cgroup;
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").expect("procfs");
    let v2 = mountinfo.lines().any(|l| {
        l.split(" - ")
            .nth(1)
            .is_some_and(|r| r.starts_with("cgroup2 "))
    });
    assert_eq!(cgroup.v2_mounted, v2);
    let proc_cgroup = std::fs::read_to_string("/proc/self/cgroup").expect("procfs");
    let own = proc_cgroup.lines().find_map(|l| l.strip_prefix("0::"));
    assert_eq!(cgroup.own_cgroup.as_deref(), own);
    if let (Some(mount), Some(own)) = (&cgroup.mount_point, own) {
        let dir = Path::new(mount).join(own.trim_start_matches('/'));
        let listed = std::fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default();
        let listed: Vec<_> = listed.split_whitespace().collect();
        assert_eq!(cgroup.controllers, listed);
    }
    if !cgroup.v2_mounted {
        assert!(!cgroup.delegated);
    }
}

#[test]
fn hints_follow_the_style_guide() {
    for hint in report().hints() {
        for text in [&hint.problem, &hint.fix] {
            assert!(!text.is_empty() && !text.ends_with('.'), "{hint:?}");
            assert!(!text.starts_with(|c: char| c.is_uppercase()), "{hint:?}");
        }
    }
}

#[test]
fn probing_twice_gives_the_same_answers() {
    // Nothing a probe does may change what the next one finds (no filter
    // installed, no_new_privs untouched, no namespace left behind).
    let again = probe_machine();
    let first = report();
    assert_eq!(again.landlock, first.landlock);
    assert_eq!(again.seccomp, first.seccomp);
    assert_eq!(again.no_new_privs, first.no_new_privs);
    assert_eq!(again.user_namespaces, first.user_namespaces);
    assert_eq!(again.cgroup.own_cgroup, first.cgroup.own_cgroup);
    assert_eq!(
        proc_status("NoNewPrivs").as_deref(),
        Some(if first.no_new_privs { "1" } else { "0" })
    );
}
