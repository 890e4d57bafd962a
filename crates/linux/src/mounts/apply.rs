//! Builds the mount tree of a [`MountPlan`] inside the sandbox's mount
//! namespace: a staging tmpfs becomes the root, the host's root is reached
//! at `/oldroot` while the new tree is assembled at `/newroot`, then the new
//! tree becomes `/` and the host's is detached.
//!
//! # Security
//!
//! Runs in the sandbox's first process, which holds every capability in the
//! sandbox's user namespace (and none outside it). Every bind gets `nosuid`
//! and `nodev`; read-only binds are made read-only recursively with
//! `mount_setattr`, which the command cannot undo: it runs without
//! capabilities, in a nested user namespace where these mounts are locked,
//! and under a seccomp filter that refuses every mount syscall.
//!
//! # Platform specific behavior
//!
//! Linux 5.12 or later (`mount_setattr`).

use super::plan::{MountOp, MountPlan};
use crate::sys::{self, MOUNT_ATTR_NODEV, MOUNT_ATTR_NOSUID, MOUNT_ATTR_RDONLY};
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

/// A mount step that failed.
#[derive(Debug, thiserror::Error)]
#[error("failed to {action} {}: {source}", path.display())]
pub struct MountError {
    pub action: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

const STAGING: &str = "/tmp";
const OLD: &str = "/oldroot";
const NEW: &str = "/newroot";
/// Where the hiding overmounts for files come from (in the staging root).
const EMPTY_FILE: &str = "/empty-file";

fn at(base: &str, path: &Path) -> PathBuf {
    Path::new(base).join(path.strip_prefix("/").unwrap_or(path))
}

fn fail<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> MountError + 'a {
    move |source| MountError {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Builds the tree and makes it the root. The caller must be in fresh user,
/// mount and pid namespaces (the pid namespace for `/proc`).
pub fn apply(plan: &MountPlan) -> Result<(), MountError> {
    let root = Path::new("/");
    sys::mount(None, root, None, libc::MS_REC | libc::MS_PRIVATE, None)
        .map_err(fail("make private", root))?;
    let staging = Path::new(STAGING);
    sys::mount(
        Some(Path::new("tmpfs")),
        staging,
        Some("tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV,
        Some("mode=0755"),
    )
    .map_err(fail("mount the staging tmpfs on", staging))?;
    for dir in [OLD, NEW] {
        std::fs::create_dir(at(STAGING, Path::new(dir))).map_err(fail("create", Path::new(dir)))?;
    }
    sys::create_file(&at(STAGING, Path::new(EMPTY_FILE)), 0o000)
        .map_err(fail("create", Path::new(EMPTY_FILE)))?;
    sys::pivot_root(staging, &at(STAGING, Path::new(OLD))).map_err(fail("pivot into", staging))?;
    std::env::set_current_dir("/").map_err(fail("enter", root))?;
    for op in &plan.ops {
        apply_op(op)?;
    }
    for op in &plan.ops {
        if let MountOp::Hide {
            path,
            dir: true,
            reopened: true,
            ..
        } = op
        {
            let dst = at(NEW, path);
            sys::mount_setattr(&dst, false, MOUNT_ATTR_RDONLY, 0)
                .map_err(fail("restrict", &dst))?;
        }
    }
    enter_new_root()
}

fn apply_op(op: &MountOp) -> Result<(), MountError> {
    match op {
        MountOp::RootBind { writable } => bind(Path::new(OLD), Path::new(NEW), *writable),
        MountOp::RootTmpfs => tmpfs(Path::new(NEW), "mode=0755", false),
        MountOp::Bind { path, writable, .. } => {
            let (src, dst) = (at(OLD, path), at(NEW, path));
            mount_point(&dst, src.is_dir())?;
            bind(&src, &dst, *writable)
        }
        MountOp::Hide {
            path,
            dir,
            reopened,
            ..
        } => hide(&at(NEW, path), *dir, *reopened),
        MountOp::Shadow {
            path,
            entries,
            mount_points,
            ..
        } => shadow(path, entries, mount_points),
        MountOp::Tmpfs { path, writable, .. } => {
            let dst = at(NEW, path);
            mount_point(&dst, true)?;
            tmpfs(&dst, "mode=1777", !writable)
        }
        MountOp::Proc => {
            let dst = at(NEW, Path::new("/proc"));
            mount_point(&dst, true)?;
            let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
            sys::mount(Some(Path::new("proc")), &dst, Some("proc"), flags, None)
                .map_err(fail("mount proc on", &dst))
        }
        MountOp::Dev => dev(),
        MountOp::Sys => {
            let dst = at(NEW, Path::new("/sys"));
            mount_point(&dst, true)?;
            let flags = libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
            sys::mount(Some(Path::new("sysfs")), &dst, Some("sysfs"), flags, None)
                .map_err(fail("mount sysfs on", &dst))
        }
    }
}

/// A recursive bind, `nosuid,nodev`, read-only unless `writable`.
fn bind(src: &Path, dst: &Path, writable: bool) -> Result<(), MountError> {
    sys::mount(Some(src), dst, None, libc::MS_BIND | libc::MS_REC, None)
        .map_err(fail("bind onto", dst))?;
    let mut set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    let mut clear = 0;
    if writable {
        clear |= MOUNT_ATTR_RDONLY;
    } else {
        set |= MOUNT_ATTR_RDONLY;
    }
    match sys::mount_setattr(dst, true, set, clear) {
        // A host mount that is read-only itself cannot be made writable
        // (the kernel locks it): it stays read-only, which is stricter.
        Err(e) if writable && e.raw_os_error() == Some(libc::EPERM) => {
            sys::mount_setattr(dst, true, set, 0).map_err(fail("restrict", dst))
        }
        other => other.map_err(fail("restrict", dst)),
    }
}

fn tmpfs(dst: &Path, options: &str, read_only: bool) -> Result<(), MountError> {
    let mut flags = libc::MS_NOSUID | libc::MS_NODEV;
    if read_only {
        flags |= libc::MS_RDONLY;
    }
    sys::mount(
        Some(Path::new("tmpfs")),
        dst,
        Some("tmpfs"),
        flags,
        Some(options),
    )
    .map_err(fail("mount a tmpfs on", dst))
}

/// Covers an existing path with something that can be neither read nor
/// written: an empty mode-000 read-only tmpfs for a directory, the empty
/// mode-000 file for anything else.
fn hide(dst: &Path, dir: bool, reopened: bool) -> Result<(), MountError> {
    if dir && reopened {
        // Writable until the tree is built (later steps make the mount
        // points of the reopened paths); `apply` then makes it read-only.
        tmpfs(dst, "mode=0111,size=64k", false)
    } else if dir {
        tmpfs(dst, "mode=000,size=4k", true)
    } else {
        sys::mount(Some(Path::new(EMPTY_FILE)), dst, None, libc::MS_BIND, None)
            .map_err(fail("hide", dst))?;
        sys::mount_setattr(
            dst,
            false,
            MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
            0,
        )
        .map_err(fail("restrict", dst))
    }
}

/// Replaces a directory by a read-only snapshot of its current entries:
/// each entry is cloned from the tree as it shows now (already read-only,
/// `nosuid`, `nodev`), a tmpfs covers the directory, and the clones are
/// moved into it. Nothing created in the host directory later appears.
fn shadow(path: &Path, entries: &[OsString], mount_points: &[OsString]) -> Result<(), MountError> {
    let (src, dst) = (at(OLD, path), at(NEW, path));
    let mode = std::fs::metadata(&src)
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777);
    let mut clones = Vec::with_capacity(entries.len());
    for name in entries {
        let current = dst.join(name);
        let Ok(meta) = std::fs::symlink_metadata(&current) else {
            continue;
        }; // gone since planning
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&current).map_err(fail("read the link", &current))?;
            clones.push((name, Snapshot::Link(target)));
        } else {
            let tree = sys::open_tree_clone(&current).map_err(fail("clone", &current))?;
            clones.push((name, Snapshot::Tree(tree, meta.is_dir())));
        }
    }
    let kinds: Vec<(&OsString, bool)> = mount_points
        .iter()
        .filter_map(|n| {
            std::fs::symlink_metadata(dst.join(n))
                .ok()
                .map(|m| (n, m.is_dir()))
        })
        .collect();
    tmpfs(&dst, &format!("mode={:o}", mode.unwrap_or(0o755)), false)?;
    for (name, snapshot) in clones {
        let to = dst.join(name);
        match snapshot {
            Snapshot::Link(target) => {
                std::os::unix::fs::symlink(target, &to).map_err(fail("recreate the link", &to))?
            }
            Snapshot::Tree(tree, dir) => {
                mount_point(&to, dir)?;
                sys::move_mount(&tree, &to).map_err(fail("place the clone at", &to))?;
            }
        }
    }
    for (name, dir) in kinds {
        mount_point(&dst.join(name), dir)?;
    }
    sys::mount_setattr(&dst, false, MOUNT_ATTR_RDONLY, 0).map_err(fail("restrict", &dst))
}

/// An entry of a snapshot, taken before the directory is covered.
enum Snapshot {
    Link(PathBuf),
    Tree(std::os::fd::OwnedFd, bool),
}

/// Creates a mount point (and its parents) inside the new tree where the
/// tree is ours (a tmpfs); where a host bind already shows it, it exists.
fn mount_point(dst: &Path, dir: bool) -> Result<(), MountError> {
    if std::fs::symlink_metadata(dst).is_ok() {
        return Ok(());
    }
    if let Some(parent) = dst.parent() {
        std::fs::create_dir_all(parent).map_err(fail("create the mount point", parent))?;
    }
    if dir {
        std::fs::create_dir(dst).map_err(fail("create the mount point", dst))
    } else {
        sys::create_file(dst, 0o600).map_err(fail("create the mount point", dst))
    }
}

/// The device nodes a sandbox gets: bound from the host one by one.
const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom", "tty"];

fn dev() -> Result<(), MountError> {
    let dev = at(NEW, Path::new("/dev"));
    mount_point(&dev, true)?;
    sys::mount(
        Some(Path::new("tmpfs")),
        &dev,
        Some("tmpfs"),
        libc::MS_NOSUID | libc::MS_NOEXEC,
        Some("mode=0755"),
    )
    .map_err(fail("mount a tmpfs on", &dev))?;
    for name in DEVICES {
        let (src, dst) = (at(OLD, &Path::new("/dev").join(name)), dev.join(name));
        if !src.exists() {
            continue;
        }
        sys::create_file(&dst, 0o666).map_err(fail("create", &dst))?;
        sys::mount(Some(&src), &dst, None, libc::MS_BIND, None).map_err(fail("bind onto", &dst))?;
        sys::mount_setattr(&dst, false, MOUNT_ATTR_NOSUID, 0).map_err(fail("restrict", &dst))?;
    }
    let pts = dev.join("pts");
    std::fs::create_dir(&pts).map_err(fail("create", &pts))?;
    sys::mount(
        Some(Path::new("devpts")),
        &pts,
        Some("devpts"),
        libc::MS_NOSUID | libc::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620"),
    )
    .map_err(fail("mount devpts on", &pts))?;
    let links = [
        ("ptmx", "pts/ptmx"),
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ];
    for (name, target) in links {
        let link = dev.join(name);
        std::os::unix::fs::symlink(target, &link).map_err(fail("create", &link))?;
    }
    sys::mount_setattr(&dev, false, MOUNT_ATTR_RDONLY, 0).map_err(fail("restrict", &dev))
}

/// Makes `/newroot` the root and detaches the staging root with the host's
/// tree beneath it.
fn enter_new_root() -> Result<(), MountError> {
    let new = Path::new(NEW);
    std::env::set_current_dir(new).map_err(fail("enter", new))?;
    let here = Path::new(".");
    sys::pivot_root(here, here).map_err(fail("pivot into", new))?;
    sys::umount2(here, libc::MNT_DETACH).map_err(fail("detach the old root at", here))?;
    std::env::set_current_dir("/").map_err(fail("enter", Path::new("/")))
}
