//! Hint generation from hand-built reports: one test per branch.

use super::super::{
    BwrapStatus, CgroupStatus, LandlockStatus, LandlockSupport, MachineReport, SeccompStatus,
    UsernsStatus, features_for_abi, interpret_sysctl,
};
use super::Hint;

/// A machine that has everything: no hints.
fn full_report() -> MachineReport {
    MachineReport {
        kernel: "6.15.0".to_owned(),
        landlock: LandlockStatus {
            abi: Some(7),
            support: LandlockSupport::Available,
            features: features_for_abi(7),
            lsm: Some("lockdown,capability,landlock,yama,apparmor".to_owned()),
            detail: "landlock ABI 7".to_owned(),
        },
        seccomp: SeccompStatus {
            available: true,
            mode: Some(0),
            filters: Some(0),
            actions: vec!["allow".to_owned()],
            detail: "seccomp filters available".to_owned(),
        },
        no_new_privs: false,
        user_namespaces: UsernsStatus {
            works: true,
            error: None,
            sysctls: vec![
                interpret_sysctl("kernel.apparmor_restrict_unprivileged_userns", Some("0")),
                interpret_sysctl("user.max_user_namespaces", Some("63000")),
                interpret_sysctl("kernel.unprivileged_userns_clone", None),
            ],
            in_container_hint: None,
        },
        bwrap: None,
        cgroup: CgroupStatus {
            v2_mounted: true,
            mount_point: Some("/sys/fs/cgroup".to_owned()),
            own_cgroup: Some("/user.slice/user-1000.slice/user@1000.service/app.slice".to_owned()),
            delegated: true,
            controllers: ["cpu", "io", "memory", "pids"].map(str::to_owned).to_vec(),
            limits_unavailable: Vec::new(),
            detail: "delegated".to_owned(),
        },
        running_as_root: false,
    }
}

/// The only hint of `report`, checked against the style guide.
fn only_hint(report: &MachineReport) -> Hint {
    let hints = report.hints();
    assert_eq!(hints.len(), 1, "{hints:#?}");
    hints.into_iter().next().unwrap_or_else(|| unreachable!())
}

/// STYLE.md item 13: lowercase, no trailing period.
fn assert_style(hints: &[Hint]) {
    for h in hints {
        for text in [&h.problem, &h.fix] {
            assert!(!text.starts_with(|c: char| c.is_uppercase()), "{text}");
            assert!(!text.ends_with('.'), "{text}");
        }
    }
}

fn restrict(report: &mut MachineReport, name: &'static str, value: &str) {
    report.user_namespaces.works = false;
    report.user_namespaces.error = Some("write /proc/self/uid_map failed: EPERM".to_owned());
    let sysctl = report
        .user_namespaces
        .sysctls
        .iter_mut()
        .find(|s| s.name == name);
    *sysctl.expect("known sysctl") = interpret_sysctl(name, Some(value));
    report.bwrap = Some(usable_bwrap());
}

fn usable_bwrap() -> BwrapStatus {
    BwrapStatus {
        path: "/usr/bin/bwrap".to_owned(),
        version: Some("bubblewrap 0.9.0".to_owned()),
        setuid: false,
        usable: true,
        detail: "works".to_owned(),
    }
}

#[test]
fn a_full_machine_needs_no_hints() {
    assert_eq!(full_report().hints(), []);
    let mut report = full_report();
    report.bwrap = Some(usable_bwrap());
    assert_eq!(report.hints(), []);
}

#[test]
fn landlock_disabled_at_boot_points_at_lsm() {
    let mut report = full_report();
    report.landlock.support = LandlockSupport::DisabledAtBoot;
    report.landlock.abi = None;
    report.landlock.lsm = Some("capability,yama,apparmor".to_owned());
    let h = only_hint(&report);
    assert_eq!(h.mechanism, "landlock");
    assert!(
        h.fix.contains("lsm=landlock,capability,yama,apparmor"),
        "{}",
        h.fix
    );
    report.landlock.lsm = None;
    assert!(only_hint(&report).fix.contains("lsm=landlock,"));
    assert_style(&report.hints());
}

#[test]
fn landlock_missing_asks_for_a_newer_kernel() {
    let mut report = full_report();
    report.landlock.support = LandlockSupport::NotInKernel;
    report.landlock.abi = None;
    let h = only_hint(&report);
    assert!(
        h.fix.contains("5.13") && h.fix.contains("CONFIG_SECURITY_LANDLOCK"),
        "{}",
        h.fix
    );
    assert_style(&[h]);
}

#[test]
fn landlock_blocked_names_the_syscalls() {
    let mut report = full_report();
    report.landlock.support = LandlockSupport::Blocked;
    report.landlock.abi = None;
    report.landlock.detail =
        "landlock_create_ruleset failed: EPERM: operation not permitted".into();
    let h = only_hint(&report);
    assert!(h.problem.contains("EPERM") && h.fix.contains("landlock_restrict_self"));
    assert_style(&[h]);
}

#[test]
fn old_landlock_abi_notes_missing_scoping() {
    let mut report = full_report();
    report.landlock.abi = Some(5);
    let h = only_hint(&report);
    assert!(
        h.problem.contains("scope_signal") && h.problem.contains("6.12"),
        "{}",
        h.problem
    );
    assert!(
        !h.problem.contains("audit"),
        "ABI 7 is not worth a hint: {}",
        h.problem
    );
    assert!(h.fix.contains("namespaces cover"));
    report.landlock.abi = Some(3);
    assert!(only_hint(&report).problem.contains("net_connect_tcp"));
    report.landlock.abi = Some(6);
    assert_eq!(report.hints(), [], "ABI 6 has everything stockade enforces");
    assert_style(&report.hints());
}

#[test]
fn seccomp_missing_names_the_config_options() {
    let mut report = full_report();
    report.seccomp.available = false;
    report.seccomp.detail = "the kernel has no seccomp (CONFIG_SECCOMP)".to_owned();
    let h = only_hint(&report);
    assert_eq!(h.mechanism, "seccomp");
    assert!(h.fix.contains("CONFIG_SECCOMP_FILTER=y"));
}

#[test]
fn apparmor_restriction_gives_the_three_fixes() {
    let mut report = full_report();
    restrict(
        &mut report,
        "kernel.apparmor_restrict_unprivileged_userns",
        "1",
    );
    let h = only_hint(&report);
    assert_eq!(h.mechanism, "user_namespaces");
    assert!(
        h.fix
            .starts_with("sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0")
    );
    assert!(
        h.fix.contains("contrib/apparmor/stockade")
            && h.fix.contains("--allow-weaker landlock-only")
    );
    assert_style(&[h]);
}

#[test]
fn apparmor_restriction_is_reported_even_when_root_passes() {
    let mut report = full_report();
    restrict(
        &mut report,
        "kernel.apparmor_restrict_unprivileged_userns",
        "1",
    );
    report.user_namespaces.works = true;
    assert_eq!(
        report.hints(),
        [],
        "an unprivileged user that passes is not restricted"
    );
    report.running_as_root = true;
    let h = only_hint(&report);
    assert!(h.problem.contains("ran as root"), "{}", h.problem);
}

#[test]
fn zero_max_user_namespaces_gives_the_sysctl() {
    let mut report = full_report();
    restrict(&mut report, "user.max_user_namespaces", "0");
    let h = only_hint(&report);
    assert!(
        h.fix
            .starts_with("sudo sysctl -w user.max_user_namespaces=15000"),
        "{}",
        h.fix
    );
    assert!(h.problem.contains("user.max_user_namespaces=0"));
}

#[test]
fn unprivileged_userns_clone_gives_the_sysctl() {
    let mut report = full_report();
    restrict(&mut report, "kernel.unprivileged_userns_clone", "0");
    let h = only_hint(&report);
    assert!(
        h.fix
            .starts_with("sudo sysctl -w kernel.unprivileged_userns_clone=1"),
        "{}",
        h.fix
    );
}

#[test]
fn unexplained_userns_failure_in_a_container() {
    let mut report = full_report();
    report.user_namespaces.works = false;
    report.user_namespaces.error = Some("unshare(CLONE_NEWUSER|CLONE_NEWNS) failed: EPERM".into());
    report.user_namespaces.in_container_hint = Some("/.dockerenv exists (docker)".to_owned());
    report.bwrap = Some(usable_bwrap());
    let h = only_hint(&report);
    assert!(
        h.problem.contains("unshare") && h.fix.contains("/.dockerenv"),
        "{h:?}"
    );
    report.user_namespaces.in_container_hint = None;
    assert!(only_hint(&report).fix.contains("CONFIG_USER_NS"));
    assert_style(&report.hints());
}

#[test]
fn bwrap_missing_matters_only_without_user_namespaces() {
    let mut report = full_report();
    report.user_namespaces.works = false;
    report.user_namespaces.error = Some("unshare(CLONE_NEWUSER|CLONE_NEWNS) failed: EPERM".into());
    let hints = report.hints();
    assert_eq!(hints.len(), 2, "{hints:#?}");
    assert_eq!(hints[1].mechanism, "bwrap");
    assert!(hints[1].fix.contains("Landlock-only mode"));
    assert_style(&hints);
}

#[test]
fn broken_bwrap_says_how_to_make_it_work() {
    let mut report = full_report();
    let mut bwrap = usable_bwrap();
    bwrap.usable = false;
    bwrap.detail = "bwrap --unshare-user failed: exit status 1: setting up uid map".into();
    report.bwrap = Some(bwrap);
    let h = only_hint(&report);
    assert!(
        h.problem.starts_with("/usr/bin/bwrap does not work"),
        "{}",
        h.problem
    );
    assert!(h.fix.contains("chmod u+s /usr/bin/bwrap"));
    restrict(
        &mut report,
        "kernel.apparmor_restrict_unprivileged_userns",
        "1",
    );
    if let Some(bwrap) = report.bwrap.as_mut() {
        bwrap.usable = false;
    }
    let hints = report.hints();
    assert_eq!(hints.len(), 2, "{hints:#?}");
    assert!(
        hints[1].fix.contains("bwrap-userns-restrict"),
        "{}",
        hints[1].fix
    );
    assert_style(&hints);
}

#[test]
fn cgroup_hints_name_the_limits_no_cgroup_can_hold() {
    let mut report = full_report();
    report.cgroup.delegated = false;
    assert!(
        report.hints().is_empty(),
        "a v1 hierarchy may still hold them"
    );
    report.cgroup.limits_unavailable =
        vec!["limits.max_processes (/sys/fs/cgroup/pids is not writable by this user)".into()];
    let h = only_hint(&report);
    assert!(h.problem.contains("limits.max_processes"), "{}", h.problem);
    assert!(h.fix.contains("--allow-weaker limits"), "{}", h.fix);
    assert!(h.fix.contains("run as root"), "{}", h.fix);
    assert_style(&[h]);
}

/// A machine where stockade may not make user namespaces but a working
/// bwrap may still meets every built-in profile's namespace needs (the
/// bwrap backend builds them); without bwrap it does not.
#[test]
fn a_usable_bwrap_provides_the_namespaces() {
    use std::collections::BTreeMap;
    use stockade_policy::{Overrides, Platform, ResolveContext, resolve};
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let (ws, home) = (root.join("ws"), root.join("home"));
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    let ctx = ResolveContext {
        platform: Platform::Linux,
        cwd: ws.clone(),
        invocation_dir: ws.clone(),
        home: Some(home),
        user: "u".into(),
        uid: Some(1000),
        hostname: "box".into(),
        tmp_dir: "/stockade-test-private-tmp".into(),
        host_tmp: "/stockade-test-private-tmp".into(),
        roots: vec!["/".into()],
        env: BTreeMap::new(),
    };
    let policy = resolve(None, Some("workspace"), &Overrides::default(), &ctx).unwrap();
    let userns_needs = |report: &MachineReport| -> Vec<bool> {
        crate::requirements::needs(&policy, report)
            .into_iter()
            .filter(|n| n.mechanism == crate::requirements::Mechanism::UserNamespaces)
            .map(|n| n.available)
            .collect()
    };
    let mut report = full_report();
    report.user_namespaces.works = false;
    assert!(!userns_needs(&report).is_empty());
    assert!(
        userns_needs(&report).iter().all(|a| !a),
        "no namespaces at all"
    );
    report.bwrap = Some(BwrapStatus {
        path: "/usr/bin/bwrap".into(),
        version: Some("bubblewrap 0.8.0".into()),
        setuid: false,
        usable: true,
        detail: "works".into(),
    });
    assert!(
        userns_needs(&report).iter().all(|a| *a),
        "bwrap builds them"
    );
    report.bwrap.as_mut().unwrap().usable = false;
    assert!(
        userns_needs(&report).iter().all(|a| !a),
        "a broken bwrap does not"
    );
}

/// Where stockade may not make user namespaces, a working bwrap older than
/// the backend needs gets its own hint; with namespaces it is not needed.
#[test]
fn an_old_bwrap_is_named_where_it_would_be_used() {
    let mut report = full_report();
    report.bwrap = Some(BwrapStatus {
        path: "/usr/bin/bwrap".into(),
        version: Some("bubblewrap 0.6.2".into()),
        setuid: false,
        usable: true,
        detail: "bwrap --unshare-user works".into(),
    });
    assert!(
        report.hints().is_empty(),
        "namespaces work: bwrap is not used"
    );
    report.user_namespaces.works = false;
    let bwrap_hints: Vec<Hint> = report
        .hints()
        .into_iter()
        .filter(|h| h.mechanism == "bwrap")
        .collect();
    assert_eq!(bwrap_hints.len(), 1, "{bwrap_hints:#?}");
    assert!(
        bwrap_hints[0].problem.contains("older than 0.8"),
        "{}",
        bwrap_hints[0].problem
    );
    assert!(bwrap_hints[0].fix.contains("0.8 or later"));
    assert_style(&bwrap_hints);
}
