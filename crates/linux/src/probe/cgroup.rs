//! cgroups: where this process sits in cgroup v2, and whether a run's
//! limits (`pids`, `memory`) can be held by a cgroup it makes (v2 or v1).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::sys;

/// Where this process sits in cgroup v2, and whether it may make children.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CgroupStatus {
    /// A `cgroup2` filesystem is mounted (pure v2, or hybrid's `unified`).
    pub v2_mounted: bool,
    /// Where it is mounted.
    pub mount_point: Option<String>,
    /// This process's cgroup from the `0::/path` line of `/proc/self/cgroup`.
    pub own_cgroup: Option<String>,
    /// The own cgroup's directory, or its parent's, is writable by the
    /// effective uid and has `cgroup.subtree_control`.
    pub delegated: bool,
    /// Controllers from the own cgroup's `cgroup.controllers`.
    pub controllers: Vec<String>,
    /// The limits no cgroup (v2 or v1) can hold for this user, each with
    /// why; a policy setting one is refused unless `--allow-weaker limits`.
    pub limits_unavailable: Vec<String>,
    /// What was found, in words.
    pub detail: String,
}

/// Reads `/proc/self/mountinfo` and `/proc/self/cgroup` and checks the
/// cgroup directory's permissions.
pub fn probe_cgroup() -> CgroupStatus {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mount_point = cgroup2_mount_point(&mountinfo);
    let own_cgroup = std::fs::read_to_string("/proc/self/cgroup")
        .ok()
        .and_then(|text| parse_proc_cgroup(&text));
    let own_dir = match (&mount_point, &own_cgroup) {
        (Some(mount), Some(own)) => Some(join_cgroup(Path::new(mount), own)),
        _ => None,
    };
    let delegated_dir = own_dir.as_deref().and_then(delegated_dir);
    let controllers = own_dir
        .as_ref()
        .and_then(|dir| std::fs::read_to_string(dir.join("cgroup.controllers")).ok())
        .map(|text| parse_controllers(&text))
        .unwrap_or_default();
    let detail = match (&mount_point, &own_dir, &delegated_dir) {
        (None, _, _) => "no cgroup2 filesystem is mounted".to_owned(),
        (Some(_), None, _) => "this process has no cgroup v2 path in /proc/self/cgroup".to_owned(),
        (Some(_), Some(own), None) => {
            format!(
                "{} and its parent are not writable by uid {}",
                own.display(),
                sys::geteuid()
            )
        }
        (Some(_), Some(_), Some(dir)) => format!("{} is delegated to this user", dir.display()),
    };
    CgroupStatus {
        v2_mounted: mount_point.is_some(),
        mount_point,
        own_cgroup,
        delegated: delegated_dir.is_some(),
        controllers,
        limits_unavailable: crate::cgroup::plan(Some(1), Some(1))
            .1
            .into_iter()
            .map(|u| format!("{} ({})", u.rule, u.reason))
            .collect(),
        detail,
    }
}

/// The own cgroup directory or its parent, whichever first is writable by the
/// effective uid and is a cgroup (has `cgroup.subtree_control`).
fn delegated_dir(own: &Path) -> Option<PathBuf> {
    [Some(own), own.parent()]
        .into_iter()
        .flatten()
        .find_map(|dir| {
            let is_cgroup = dir.join("cgroup.subtree_control").exists();
            (is_cgroup && sys::writable_by_euid(dir)).then(|| dir.to_path_buf())
        })
}

/// The path of the `0::` (v2) line of `/proc/<pid>/cgroup`.
pub fn parse_proc_cgroup(text: &str) -> Option<String> {
    text.lines()
        .find_map(|line| line.strip_prefix("0::"))
        .map(|path| path.trim().to_owned())
}

/// The mount point of the first `cgroup2` filesystem in `/proc/<pid>/mountinfo`.
pub fn cgroup2_mount_point(mountinfo: &str) -> Option<String> {
    mountinfo.lines().find_map(|line| {
        // "36 35 0:30 / /sys/fs/cgroup rw,... shared:9 - cgroup2 cgroup2 rw"
        let (left, right) = line.split_once(" - ")?;
        let fstype = right.split_whitespace().next()?;
        let mount_point = left.split_whitespace().nth(4)?;
        (fstype == "cgroup2").then(|| unescape_mountinfo(mount_point))
    })
}

/// Undoes mountinfo's octal escapes (`\040` for a space).
pub fn unescape_mountinfo(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The mount point joined with a cgroup path (`/` is the mount's root).
fn join_cgroup(mount: &Path, cgroup: &str) -> PathBuf {
    match cgroup.trim_start_matches('/') {
        "" => mount.to_path_buf(),
        relative => mount.join(relative),
    }
}

/// The names in a `cgroup.controllers` file.
pub fn parse_controllers(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_cgroup_yields_the_v2_path() {
        let hybrid = "4:memory:/a/b\n1:cpu:/\n0::/user.slice/user-1000.slice/session-2.scope\n";
        let path = parse_proc_cgroup(hybrid);
        assert_eq!(
            path.as_deref(),
            Some("/user.slice/user-1000.slice/session-2.scope")
        );
        assert_eq!(parse_proc_cgroup("0::/\n").as_deref(), Some("/"));
        assert_eq!(parse_proc_cgroup("4:memory:/a\n1:name=systemd:/\n"), None);
        assert_eq!(parse_proc_cgroup(""), None);
    }

    #[test]
    fn mountinfo_finds_cgroup2_and_unescapes() {
        let v1 = "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n\
                  32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n";
        assert_eq!(cgroup2_mount_point(v1), None);
        let hybrid =
            format!("{v1}41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n");
        assert_eq!(
            cgroup2_mount_point(&hybrid).as_deref(),
            Some("/sys/fs/cgroup/unified")
        );
        let optional = "36 35 0:30 / /my\\040cg rw shared:9 master:1 - cgroup2 none rw\n";
        assert_eq!(cgroup2_mount_point(optional).as_deref(), Some("/my cg"));
    }

    #[test]
    fn unescape_leaves_plain_backslashes() {
        assert_eq!(unescape_mountinfo("a\\134b"), "a\\b");
        assert_eq!(unescape_mountinfo("a\\9b\\"), "a\\9b\\");
    }

    #[test]
    fn cgroup_paths_join_under_the_mount() {
        let mount = Path::new("/sys/fs/cgroup");
        assert_eq!(join_cgroup(mount, "/").as_os_str(), "/sys/fs/cgroup");
        assert_eq!(join_cgroup(mount, "/a/b"), Path::new("/sys/fs/cgroup/a/b"));
    }

    #[test]
    fn controllers_split_on_whitespace() {
        assert_eq!(
            parse_controllers("cpu io memory pids\n"),
            ["cpu", "io", "memory", "pids"]
        );
        assert!(parse_controllers("\n").is_empty());
    }
}
