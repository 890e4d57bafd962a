//! The bwrap command line for a mount plan: the same tree the native
//! backend builds, expressed as bwrap's setup operations (which bwrap
//! performs in order, reading every source path on the host).
//!
//! Differences bwrap imposes, all listed by [`differences`]:
//! * `/sys` is the host's sysfs, read-only (bwrap cannot mount a sysfs for
//!   the sandbox's network namespace): network device names show through.
//! * `/dev` is bwrap's minimal `/dev` (the same devices, `/dev/console`
//!   when there is a terminal, and a `/dev/shm` stockade covers as hidden).

use crate::mounts::{MountOp, MountPlan};
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// How many descriptors [`mount_args`] needs: one reading as empty per
/// hidden file (`--ro-bind-data FD`).
pub fn hidden_files(plan: &MountPlan) -> usize {
    plan.ops
        .iter()
        .filter(|op| matches!(op, MountOp::Hide { dir: false, .. }))
        .count()
}

/// The bwrap arguments that build `plan`'s tree; `data_fds` are the
/// [`hidden_files`] descriptors, used in order. Directories that must end
/// read-only but get mount points from later steps (snapshots, traversable
/// hides, read-only tmpfs) are remounted read-only after every step, as
/// the native backend does.
pub fn mount_args(plan: &MountPlan, data_fds: &[i32]) -> Vec<OsString> {
    let mut args = Vec::new();
    let mut data_fds = data_fds.iter();
    let mut read_only_last: Vec<&Path> = Vec::new();
    let push = |args: &mut Vec<OsString>, parts: &[&dyn AsRef<std::ffi::OsStr>]| {
        args.extend(parts.iter().map(|p| p.as_ref().to_os_string()));
    };
    for op in &plan.ops {
        let args = &mut args;
        match op {
            MountOp::RootBind { writable } => {
                push(args, &[&bind_flag(*writable), &"/", &"/"]);
            }
            // bwrap's root is an empty tmpfs already; it ends read-only.
            MountOp::RootTmpfs => read_only_last.push(Path::new("/")),
            MountOp::Bind { path, writable, .. } => {
                push(args, &[&bind_flag(*writable), path, path]);
            }
            MountOp::Hide {
                path,
                dir: true,
                reopened,
                ..
            } => {
                let mode = if *reopened { "0111" } else { "0000" };
                push(
                    args,
                    &[&"--perms", &mode, &"--size", &"65536", &"--tmpfs", path],
                );
                if *reopened {
                    read_only_last.push(path); // after the reopened paths' mount points
                } else {
                    push(args, &[&"--remount-ro", path]);
                }
            }
            MountOp::Hide { path, .. } => {
                let fd = data_fds
                    .next()
                    .expect("one descriptor per hidden file (hidden_files)")
                    .to_string();
                push(args, &[&"--perms", &"0000", &"--ro-bind-data", &fd, path]);
            }
            MountOp::Shadow {
                path,
                entries,
                mount_points,
                ..
            } => {
                let mode = std::fs::metadata(path)
                    .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777)
                    .unwrap_or(0o755);
                push(
                    args,
                    &[&"--perms", &format!("{mode:04o}"), &"--tmpfs", path],
                );
                for name in entries {
                    let entry = path.join(name);
                    match std::fs::symlink_metadata(&entry) {
                        Ok(m) if m.file_type().is_symlink() => {
                            if let Ok(target) = std::fs::read_link(&entry) {
                                push(args, &[&"--symlink", &target, &entry]);
                            }
                        }
                        Ok(_) => push(args, &[&"--ro-bind", &entry, &entry]),
                        Err(_) => {} // gone since planning
                    }
                }
                for name in mount_points {
                    let point = path.join(name);
                    if std::fs::symlink_metadata(&point).is_ok_and(|m| m.is_dir()) {
                        push(args, &[&"--dir", &point]);
                    }
                }
                read_only_last.push(path);
            }
            MountOp::Tmpfs { path, writable, .. } => {
                push(args, &[&"--perms", &"1777", &"--tmpfs", path]);
                if !writable {
                    read_only_last.push(path);
                }
            }
            MountOp::Proc => push(args, &[&"--proc", &"/proc"]),
            // bwrap's /dev has a /dev/shm directory: covered as hidden.
            MountOp::Dev => push(
                args,
                &[
                    &"--dev",
                    &"/dev",
                    &"--perms",
                    &"0000",
                    &"--size",
                    &"4096",
                    &"--tmpfs",
                    &"/dev/shm",
                    &"--remount-ro",
                    &"/dev/shm",
                ],
            ),
            MountOp::Sys => push(args, &[&"--ro-bind", &"/sys", &"/sys"]),
        }
    }
    for path in read_only_last {
        args.push("--remount-ro".into());
        args.push(path.as_os_str().to_os_string());
    }
    args
}

fn bind_flag(writable: bool) -> &'static str {
    if writable { "--bind" } else { "--ro-bind" }
}

/// What the bwrap-built tree does differently from the native one.
pub fn differences(plan: &MountPlan) -> Vec<&'static str> {
    let mut out = Vec::new();
    if plan.ops.contains(&MountOp::Sys) {
        out.push("/sys is the host's sysfs, read-only: bwrap cannot mount one for the sandbox's network namespace, so host network device names show through");
    }
    if plan.ops.contains(&MountOp::Dev) {
        out.push(
            "/dev is bwrap's minimal /dev (the same devices; its /dev/shm is covered as hidden)",
        );
    }
    out
}

/// Renders arguments for `explain` (shell-like, one string).
pub fn render(args: &[OsString]) -> String {
    args.iter()
        .map(|a| String::from_utf8_lossy(a.as_bytes()).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
#[path = "args_tests.rs"]
mod tests;
