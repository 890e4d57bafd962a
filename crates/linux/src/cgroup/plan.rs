//! Where a run's cgroups can be made: for each controller a limit needs,
//! a cgroup v2 directory whose `cgroup.subtree_control` offers it (or can
//! be made to: the root cgroup), else a v1 hierarchy of that controller,
//! and in either case a directory this process may write.

use crate::probe::{parse_controllers, parse_proc_cgroup, unescape_mountinfo};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The cgroups a run makes: one directory per hierarchy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CgroupPlan {
    pub dirs: Vec<CgroupDir>,
}

/// One cgroup to make under `parent`, with the files to write in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CgroupDir {
    /// The directory the run's cgroup is made in.
    pub parent: PathBuf,
    /// cgroup v2 (else v1).
    pub v2: bool,
    /// Controllers to enable in `parent/cgroup.subtree_control` first.
    pub enable: Vec<&'static str>,
    /// `(file, value)` to write in the new cgroup, in order.
    pub settings: Vec<(&'static str, String)>,
    /// Files written only if the kernel has them (swap accounting).
    pub optional: Vec<(&'static str, String)>,
}

/// A limit no cgroup can hold here, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unavailable {
    /// `limits.max_processes` or `limits.max_memory`.
    pub rule: &'static str,
    pub reason: String,
}

/// The machine's cgroup layout, as read from `/proc/self`.
struct Layout {
    /// (mount point, mount root) of the cgroup2 filesystem.
    v2: Option<(PathBuf, String)>,
    /// This process's v2 path.
    v2_path: Option<String>,
    /// v1 hierarchies: (mount point, mount root, controllers).
    v1: Vec<(PathBuf, String, Vec<String>)>,
    /// `/proc/self/cgroup` lines: (controllers, path).
    own: Vec<(Vec<String>, String)>,
}

/// Plans cgroups for the limits given; each limit no cgroup can hold is
/// returned as unavailable (the caller makes it a blocker).
pub fn plan(max_processes: Option<u64>, max_memory: Option<u64>) -> (CgroupPlan, Vec<Unavailable>) {
    if max_processes.is_none() && max_memory.is_none() {
        return (CgroupPlan::default(), Vec::new());
    }
    let layout = Layout::read();
    plan_with(&layout, max_processes, max_memory, &|dir: &Path| {
        crate::probe::writable_by_euid(dir)
    })
}

fn plan_with(
    layout: &Layout,
    max_processes: Option<u64>,
    max_memory: Option<u64>,
    writable: &dyn Fn(&Path) -> bool,
) -> (CgroupPlan, Vec<Unavailable>) {
    let mut plan = CgroupPlan::default();
    let mut unavailable = Vec::new();
    let wanted = [
        ("pids", "limits.max_processes", max_processes),
        ("memory", "limits.max_memory", max_memory),
    ];
    for (controller, rule, value) in wanted {
        let Some(value) = value else { continue };
        match layout.place(controller, writable) {
            Ok(place) => {
                let dir = match plan.dirs.iter_mut().find(|d| d.parent == place.parent) {
                    Some(dir) => dir,
                    None => {
                        plan.dirs.push(CgroupDir {
                            parent: place.parent,
                            v2: place.v2,
                            enable: Vec::new(),
                            settings: Vec::new(),
                            optional: Vec::new(),
                        });
                        plan.dirs.last_mut().expect("just pushed")
                    }
                };
                if place.enable {
                    dir.enable.push(controller);
                }
                settings(controller, value, dir);
            }
            Err(reason) => unavailable.push(Unavailable { rule, reason }),
        }
    }
    (plan, unavailable)
}

/// The files a limit writes. The sandbox's own init is one process of the
/// cgroup, so `pids.max` is one more than the limit the command sees.
fn settings(controller: &str, value: u64, dir: &mut CgroupDir) {
    match (controller, dir.v2) {
        ("pids", _) => dir.settings.push(("pids.max", (value + 1).to_string())),
        ("memory", true) => {
            dir.settings.push(("memory.max", value.to_string()));
            dir.optional.push(("memory.swap.max", "0".into()));
        }
        _ => {
            dir.settings
                .push(("memory.limit_in_bytes", value.to_string()));
            dir.optional
                .push(("memory.memsw.limit_in_bytes", value.to_string()));
        }
    }
}

struct Place {
    parent: PathBuf,
    v2: bool,
    enable: bool,
}

impl Layout {
    fn read() -> Layout {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        Layout::parse(&mountinfo, &cgroup)
    }

    fn parse(mountinfo: &str, cgroup: &str) -> Layout {
        let mut layout = Layout {
            v2: None,
            v2_path: parse_proc_cgroup(cgroup),
            v1: Vec::new(),
            own: Vec::new(),
        };
        for (fstype, point, root, options) in cgroup_mounts(mountinfo) {
            match fstype.as_str() {
                "cgroup2" if layout.v2.is_none() => layout.v2 = Some((point, root)),
                "cgroup" => {
                    let controllers = options.split(',').map(str::to_owned).collect();
                    layout.v1.push((point, root, controllers));
                }
                _ => {}
            }
        }
        layout.own = cgroup
            .lines()
            .filter_map(|line| {
                let mut fields = line.splitn(3, ':');
                let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
                let controllers = controllers.split(',').map(str::to_owned).collect();
                Some((controllers, path.to_owned()))
            })
            .collect();
        layout
    }

    /// Where a cgroup with `controller` can be made, or why not.
    fn place(&self, controller: &str, writable: &dyn Fn(&Path) -> bool) -> Result<Place, String> {
        let mut why = Vec::new();
        match self.v2_place(controller, writable) {
            Ok(place) => return Ok(place),
            Err(reason) => why.push(reason),
        }
        match self.v1_place(controller, writable) {
            Ok(place) => return Ok(place),
            Err(reason) => why.push(reason),
        }
        Err(why.join("; "))
    }

    /// This process's own v2 cgroup, else (for root, on a systemd machine
    /// whose session cgroups hold processes) the hierarchy's root cgroup.
    fn v2_place(
        &self,
        controller: &str,
        writable: &dyn Fn(&Path) -> bool,
    ) -> Result<Place, String> {
        let (Some((point, root)), Some(path)) = (&self.v2, &self.v2_path) else {
            return Err("no cgroup v2 hierarchy".into());
        };
        let own = join_under(point, root, path);
        let own_is_root = path.trim_matches('/').is_empty();
        let mut candidates = vec![(own, own_is_root)];
        if !own_is_root && root.trim_matches('/').is_empty() {
            candidates.push((point.clone(), true));
        }
        let mut why = Vec::new();
        for (dir, is_root) in candidates {
            match v2_candidate(dir, is_root, controller, writable) {
                Ok(place) => return Ok(place),
                Err(reason) => why.push(reason),
            }
        }
        Err(why.join("; "))
    }

    fn v1_place(
        &self,
        controller: &str,
        writable: &dyn Fn(&Path) -> bool,
    ) -> Result<Place, String> {
        let Some((point, root, _)) = self
            .v1
            .iter()
            .find(|(_, _, controllers)| controllers.iter().any(|c| c == controller))
        else {
            return Err(format!("no cgroup v1 hierarchy of {controller}"));
        };
        let Some((_, path)) = self
            .own
            .iter()
            .find(|(controllers, _)| controllers.iter().any(|c| c == controller))
        else {
            return Err(format!("this process has no cgroup v1 {controller} path"));
        };
        let own = join_under(point, root, path);
        if !writable(&own) {
            return Err(format!("{} is not writable by this user", own.display()));
        }
        Ok(Place {
            parent: own,
            v2: false,
            enable: false,
        })
    }
}

/// Whether a run's cgroup for `controller` can be made in the v2 cgroup
/// `dir` (`is_root`: the hierarchy's root, which may hold processes and
/// enable controllers for its children at once).
fn v2_candidate(
    dir: PathBuf,
    is_root: bool,
    controller: &str,
    writable: &dyn Fn(&Path) -> bool,
) -> Result<Place, String> {
    let offered = read_list(&dir.join("cgroup.controllers"));
    if !offered.iter().any(|c| c == controller) {
        return Err(format!(
            "cgroup v2 does not offer the {controller} controller at {}",
            dir.display()
        ));
    }
    if !writable(&dir) {
        return Err(format!("{} is not writable by this user", dir.display()));
    }
    let enabled = read_list(&dir.join("cgroup.subtree_control"));
    match (enabled.iter().any(|c| c == controller), is_root) {
        (true, _) => Ok(Place {
            parent: dir,
            v2: true,
            enable: false,
        }),
        (false, true) => Ok(Place {
            parent: dir,
            v2: true,
            enable: true,
        }),
        (false, false) => Err(format!(
            "{controller} is not enabled for children of {} (a cgroup holding this process cannot enable it)",
            dir.display()
        )),
    }
}

/// `(fstype, mount point, mount root, super options)` of every cgroup
/// mount in a mountinfo text.
fn cgroup_mounts(mountinfo: &str) -> Vec<(String, PathBuf, String, String)> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mut right = right.split_whitespace();
            let fstype = right.next()?;
            let options = right.nth(1)?;
            if fstype != "cgroup" && fstype != "cgroup2" {
                return None;
            }
            let mut left = left.split_whitespace();
            let root = left.nth(3)?;
            let point = unescape_mountinfo(left.next()?);
            Some((
                fstype.to_owned(),
                PathBuf::from(point),
                root.to_owned(),
                options.to_owned(),
            ))
        })
        .collect()
}

/// The directory of cgroup `path` in a hierarchy mounted at `point` whose
/// mount shows the hierarchy from `root` (a container may mount a subtree).
fn join_under(point: &Path, root: &str, path: &str) -> PathBuf {
    let relative = path
        .strip_prefix(root.trim_end_matches('/'))
        .unwrap_or(path)
        .trim_start_matches('/');
    match relative {
        "" => point.to_path_buf(),
        relative => point.join(relative),
    }
}

fn read_list(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .map(|text| parse_controllers(&text))
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
