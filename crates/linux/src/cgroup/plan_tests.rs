use super::*;

const HYBRID_MOUNTS: &str = "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n\
    35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
    39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n\
    41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
const HYBRID_CGROUP: &str = "8:pids:/\n4:memory:/agents/run\n0::/\n";

fn yes(_: &Path) -> bool {
    true
}

#[test]
fn v1_hierarchies_hold_each_limit_in_its_own_directory() {
    let layout = Layout::parse(HYBRID_MOUNTS, HYBRID_CGROUP);
    // The unified hierarchy offers no controllers here (cgroup.controllers
    // cannot be read under this test's fake paths), so v1 is used.
    let (plan, unavailable) = plan_with(&layout, Some(64), Some(1 << 20), &yes);
    assert!(unavailable.is_empty(), "{unavailable:?}");
    assert_eq!(plan.dirs.len(), 2);
    let pids = &plan.dirs[0];
    assert_eq!(pids.parent, Path::new("/sys/fs/cgroup/pids"));
    assert!(!pids.v2);
    assert_eq!(
        pids.settings,
        [("pids.max", "65".to_string())],
        "one more for the sandbox's init"
    );
    let memory = &plan.dirs[1];
    assert_eq!(memory.parent, Path::new("/sys/fs/cgroup/memory/agents/run"));
    assert_eq!(
        memory.settings,
        [("memory.limit_in_bytes", "1048576".to_string())]
    );
    assert_eq!(memory.optional[0].0, "memory.memsw.limit_in_bytes");
}

#[test]
fn a_directory_that_is_not_writable_makes_the_limit_unavailable() {
    let layout = Layout::parse(HYBRID_MOUNTS, HYBRID_CGROUP);
    let (plan, unavailable) = plan_with(&layout, Some(64), None, &|_: &Path| false);
    assert!(plan.dirs.is_empty());
    assert_eq!(unavailable.len(), 1);
    assert_eq!(unavailable[0].rule, "limits.max_processes");
    assert!(
        unavailable[0]
            .reason
            .contains("/sys/fs/cgroup/pids is not writable"),
        "{}",
        unavailable[0].reason
    );
}

#[test]
fn no_limits_need_no_cgroup() {
    let (plan, unavailable) = super::plan(None, None);
    assert!(plan.dirs.is_empty() && unavailable.is_empty());
}

#[test]
fn a_missing_hierarchy_is_named() {
    let layout = Layout::parse("", "");
    let (_, unavailable) = plan_with(&layout, None, Some(1), &yes);
    assert_eq!(unavailable[0].rule, "limits.max_memory");
    assert!(
        unavailable[0]
            .reason
            .contains("no cgroup v1 hierarchy of memory")
    );
}

#[test]
fn cgroup_paths_are_taken_relative_to_the_mount_root() {
    // A container that mounts its own subtree of the hierarchy.
    let point = Path::new("/sys/fs/cgroup/pids");
    assert_eq!(
        join_under(point, "/docker/abc", "/docker/abc/x"),
        point.join("x")
    );
    assert_eq!(join_under(point, "/", "/a/b"), point.join("a/b"));
    assert_eq!(join_under(point, "/", "/"), point);
}

/// A fake cgroup v2 tree: the root offers and enables both controllers,
/// this process sits in a session scope (which holds it, so it cannot
/// enable them for children).
fn fake_v2() -> (tempfile::TempDir, PathBuf, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let point = std::fs::canonicalize(dir.path()).unwrap();
    let scope = point.join("user.slice/session-1.scope");
    std::fs::create_dir_all(&scope).unwrap();
    std::fs::write(point.join("cgroup.controllers"), "cpu memory pids\n").unwrap();
    std::fs::write(point.join("cgroup.subtree_control"), "memory pids\n").unwrap();
    std::fs::write(scope.join("cgroup.controllers"), "memory pids\n").unwrap();
    std::fs::write(scope.join("cgroup.subtree_control"), "\n").unwrap();
    let mountinfo = format!("41 31 0:38 / {} rw - cgroup2 cgroup2 rw\n", point.display());
    (
        dir,
        point,
        mountinfo,
        "0::/user.slice/session-1.scope\n".into(),
    )
}

#[test]
fn v2_falls_back_to_the_root_cgroup_when_its_own_cannot_have_children() {
    let (_dir, point, mountinfo, cgroup) = fake_v2();
    let layout = Layout::parse(&mountinfo, &cgroup);
    let (plan, unavailable) = plan_with(&layout, Some(10), Some(1 << 30), &yes);
    assert!(unavailable.is_empty(), "{unavailable:?}");
    assert_eq!(plan.dirs.len(), 1, "one v2 cgroup holds both limits");
    let dir = &plan.dirs[0];
    assert_eq!(dir.parent, point);
    assert!(dir.v2 && dir.enable.is_empty(), "{dir:?}");
    assert_eq!(dir.settings[0], ("pids.max", "11".to_string()));
    assert_eq!(dir.settings[1], ("memory.max", "1073741824".to_string()));
    // Only the root is writable by root; an ordinary user gets neither.
    let scope = point.join("user.slice/session-1.scope");
    let (_, unavailable) = plan_with(&layout, Some(10), None, &|d: &Path| d == scope);
    assert!(
        unavailable[0]
            .reason
            .contains("not enabled for children of")
            && unavailable[0]
                .reason
                .contains("is not writable by this user"),
        "{}",
        unavailable[0].reason
    );
}
