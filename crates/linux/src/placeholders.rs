//! Host placeholders: mount points created for protected names that do not
//! exist (so the sandbox can cover them and the command cannot create
//! them), removed when the run ends.
//!
//! # Security
//!
//! A placeholder is an empty directory (or empty file) that tools treat as
//! absent: git's discovery skips a `.git` directory that is not a
//! repository. Each run holds a shared lock on its placeholders; the last
//! run to finish removes them, and only while they are still empty, so a
//! concurrent run never loses the mount point under its cover.

use crate::mounts::Placeholder;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::PathBuf;

/// Placeholders this run created or shares.
#[derive(Debug, Default)]
pub struct Held {
    entries: Vec<(PathBuf, bool, File)>,
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
/// on each.
pub fn create(placeholders: &[Placeholder]) -> Result<Held, PlaceholderError> {
    let mut held = Held::default();
    for p in placeholders {
        let fail = |source| PlaceholderError {
            path: p.path.clone(),
            source,
        };
        let made = if p.dir {
            std::fs::create_dir(&p.path)
        } else {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&p.path)
                .map(drop)
        };
        match made {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                held.remove();
                return Err(fail(e));
            }
        }
        let file = File::open(&p.path).map_err(fail)?;
        flock(&file, libc::LOCK_SH);
        held.entries.push((p.path.clone(), p.dir, file));
    }
    Ok(held)
}

impl Held {
    /// Removes each placeholder that no other run holds and that is still
    /// empty.
    pub fn remove(self) {
        for (path, dir, file) in self.entries {
            flock(&file, libc::LOCK_UN);
            if !flock(&file, libc::LOCK_EX | libc::LOCK_NB) {
                continue; // another run still uses it
            }
            let empty = if dir {
                std::fs::read_dir(&path)
                    .map(|mut d| d.next().is_none())
                    .unwrap_or(false)
            } else {
                std::fs::metadata(&path)
                    .map(|m| m.len() == 0)
                    .unwrap_or(false)
            };
            if empty {
                let _ = if dir {
                    std::fs::remove_dir(&path)
                } else {
                    std::fs::remove_file(&path)
                };
            }
        }
    }
}
