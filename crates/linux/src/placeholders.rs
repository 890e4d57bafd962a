//! Host placeholders: mount points created for protected names that do not
//! exist (so the sandbox can cover them and the command cannot create
//! them), removed when the run ends.
//!
//! # Security
//!
//! A placeholder is an empty directory (or empty file) that tools treat as
//! absent: git's discovery skips a `.git` directory that is not a
//! repository, policy discovery skips a `.stockade.toml` directory. Each is
//! marked with the extended attribute `user.stockade.placeholder`, so a
//! later or concurrent run recognises it (and one left by a killed run is
//! cleaned up by the next). Every run using a placeholder holds a shared
//! lock on it; the last run to finish removes it, only while it is still
//! empty and marked, so a concurrent run never loses the mount point under
//! its cover and nothing of the user's is ever removed.

use crate::mounts::Placeholder;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::PathBuf;

/// Placeholders this run created or shares.
#[derive(Debug, Default)]
pub struct Held {
    entries: Vec<(PathBuf, bool, &'static str, File)>,
}

/// A placeholder could not be made.
#[derive(Debug, thiserror::Error)]
#[error("failed to create the placeholder {}: {source}", path.display())]
pub struct PlaceholderError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

fn flock(file: &File, operation: libc::c_int) -> bool {
    // SAFETY: flock on an fd we own.
    unsafe { libc::flock(file.as_raw_fd(), operation) == 0 }
}

/// Creates the placeholders that do not exist yet and takes a shared lock
/// on each, and on each `present` path (the plan found it there; if it has
/// gone since, it was a run's placeholder, and is made again). A lock on a
/// path that is no placeholder changes nothing: only a marked, empty
/// placeholder is ever removed.
pub fn create(
    placeholders: &[Placeholder],
    present: &[Placeholder],
) -> Result<Held, PlaceholderError> {
    let mut held = Held::default();
    for p in placeholders {
        match hold(p) {
            Ok(file) => held.entries.push((p.path.clone(), p.dir, p.content, file)),
            Err(source) => {
                held.remove();
                return Err(PlaceholderError {
                    path: p.path.clone(),
                    source,
                });
            }
        }
    }
    // Best effort: a present path this user cannot open is the host's own
    // (no placeholder is), and the mounts take it as it is.
    for p in present {
        if let Ok(file) = hold(p) {
            held.entries.push((p.path.clone(), p.dir, p.content, file));
        }
    }
    Ok(held)
}

/// How often a placeholder is made again when the run that made it
/// removes it between our making (or finding) it and our lock.
const ATTEMPTS: usize = 100;

/// Makes `p` (or shares the one there) and locks it, shared. The lock is
/// taken on what was opened, so it is checked to still be what the path
/// names: a run that ended in between may have removed it (it found no
/// lock), and another may have made a new one since.
fn hold(p: &Placeholder) -> io::Result<File> {
    for _ in 0..ATTEMPTS {
        let made = if p.dir {
            std::fs::create_dir(&p.path)
        } else {
            use std::io::Write;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&p.path)
                .and_then(|mut f| f.write_all(p.content.as_bytes()))
        };
        match made {
            Ok(()) => mark(&p.path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        let file = match File::open(&p.path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        flock(&file, libc::LOCK_SH);
        if same_file(&file, &p.path) {
            return Ok(file);
        }
    }
    Err(io::Error::other(
        "other runs kept removing and making it; try again",
    ))
}

/// Whether `path` still names the open `file`.
fn same_file(file: &File, path: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

impl Held {
    /// Removes each placeholder that no other run holds and that is still
    /// empty.
    pub fn remove(self) {
        for (path, dir, content, file) in self.entries {
            flock(&file, libc::LOCK_UN);
            if !flock(&file, libc::LOCK_EX | libc::LOCK_NB) {
                continue; // another run still uses it
            }
            let empty = if dir {
                std::fs::read_dir(&path)
                    .map(|mut d| d.next().is_none())
                    .unwrap_or(false)
            } else {
                std::fs::read(&path).is_ok_and(|bytes| bytes == content.as_bytes())
            };
            if empty && is_marked(&path) {
                let _ = if dir {
                    std::fs::remove_dir(&path)
                } else {
                    std::fs::remove_file(&path)
                };
            }
        }
    }
}

/// The extended attribute that marks a placeholder.
const MARK: &std::ffi::CStr = c"user.stockade.placeholder";

/// Marks a placeholder (best effort: a file system without user extended
/// attributes leaves it unmarked, so it is never removed automatically).
fn mark(path: &std::path::Path) {
    let Ok(c) = crate::sys::cstr(path) else {
        return;
    };
    // SAFETY: both strings are NUL-terminated; the value is one byte.
    unsafe { libc::lsetxattr(c.as_ptr(), MARK.as_ptr(), b"1".as_ptr().cast(), 1, 0) };
}

fn is_marked(path: &std::path::Path) -> bool {
    let Ok(c) = crate::sys::cstr(path) else {
        return false;
    };
    let mut value = [0u8; 1];
    // SAFETY: both strings are NUL-terminated; value is a 1-byte buffer.
    let n = unsafe { libc::lgetxattr(c.as_ptr(), MARK.as_ptr(), value.as_mut_ptr().cast(), 1) };
    n == 1 && value[0] == b'1'
}

/// Whether `path` is a placeholder a run (this or another) made: marked
/// and still empty.
pub fn is_placeholder(path: &std::path::Path) -> bool {
    // The mark first: one failing getxattr for everything that is not one.
    if !is_marked(path) {
        return false;
    }
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return false;
    };
    // As it was made: empty, or holding a placeholder's one short line.
    if meta.is_dir() {
        std::fs::read_dir(path)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false)
    } else {
        meta.is_file() && meta.len() <= 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs that start and end at once over one workspace: each must hold
    /// a placeholder that is there for as long as it holds it, however the
    /// others make and remove it around it.
    #[test]
    fn concurrent_runs_always_hold_a_placeholder_that_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let placeholder = Placeholder {
            path: dir.path().join(".git"),
            dir: true,
            content: "",
        };
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..300 {
                        let held = create(std::slice::from_ref(&placeholder), &[]).unwrap();
                        let (_, _, _, file) = &held.entries[0];
                        assert!(
                            same_file(file, &placeholder.path),
                            "held a removed placeholder"
                        );
                        held.remove();
                    }
                });
            }
        });
        assert!(!placeholder.path.exists(), "the last run removes it");
    }
}
