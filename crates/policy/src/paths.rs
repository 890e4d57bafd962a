//! Path normalisation: absolute, lexically clean, and canonical (symlinks
//! resolved) as far as the path exists.

use crate::fasthash::{PathMap, PathSet};
use std::cell::RefCell;
use std::path::{Component, Path, PathBuf};

/// A path made absolute and canonical as far as it exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Canonical {
    /// The canonical path.
    pub path: PathBuf,
    /// Whether the whole path exists.
    pub exists: bool,
}

/// Joins `path` to `base` when relative, then removes `.` and resolves `..`
/// lexically. Used only where the file system cannot be asked.
pub fn lexical(base: &Path, path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    };
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                // `..` of the root is the root.
                if out.parent().is_some() {
                    out.pop();
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Resolves `path` against `base` the way the kernel would: component by
/// component, following symlinks of the parts that exist (so `link/..` means
/// the link target's parent), and lexically past the first part that does
/// not exist. Symlink loops and unreadable parts count as not existing.
pub fn canonicalize(base: &Path, path: &Path) -> Canonical {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    };
    let clean = joined
        .components()
        .all(|c| !matches!(c, Component::CurDir | Component::ParentDir));
    if clean && caching() {
        return canonical_clean(&joined);
    }
    // Fast path: realpath(3) resolves `..` after symlinks like the kernel
    // does, so for a path that exists one call gives the answer.
    if let Ok(real) = std::fs::canonicalize(&joined) {
        return Canonical {
            path: real,
            exists: true,
        };
    }
    let mut out = PathBuf::new();
    let mut exists = true;
    for component in joined.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => out.push(component.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => {
                if out.parent().is_some() {
                    out.pop();
                }
            }
            Component::Normal(name) => {
                out.push(name);
                if exists {
                    match std::fs::canonicalize(&out) {
                        Ok(real) => out = real,
                        Err(_) => exists = false,
                    }
                }
            }
        }
    }
    Canonical { path: out, exists }
}

/// What `lstat` says of a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EntryType {
    /// Nothing there (or it cannot be examined).
    Missing,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// Anything else: a file, a socket, a device.
    Other,
}

/// The results of one resolution's file-system questions.
#[derive(Default)]
struct Cache {
    canonical: PathMap<Canonical>,
    entries: PathMap<EntryType>,
    /// How often each directory was asked about a child, and the ones
    /// listed whole (their missing children are known to be missing).
    asked: PathMap<u32>,
    listed: PathSet,
}

thread_local! {
    /// Answers cached during one resolution (see [`cached`]).
    static CACHE: RefCell<Option<Cache>> = const { RefCell::new(None) };
}

/// Runs `f` with file-system answers cached, so the many rules below one
/// directory cost one `lstat` each instead of a `readlink` per component,
/// and derivations reuse what resolution already asked. The cache lives
/// only for the call: files created afterwards are seen by the next one.
pub(crate) fn cached<T>(f: impl FnOnce() -> T) -> T {
    let outer = CACHE.with(|c| c.replace(Some(Cache::default())));
    let result = f();
    CACHE.with(|c| c.replace(outer));
    result
}

fn caching() -> bool {
    CACHE.with(|c| c.borrow().is_some())
}

/// `lstat(path)`, through the cache when one is active.
pub(crate) fn entry_type(path: &Path) -> EntryType {
    let cached = CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let cache = c.as_mut()?;
        if let Some(hit) = cache.entries.get(path) {
            return Some(*hit);
        }
        let parent = path.parent()?;
        if cache.listed.contains(parent) {
            return Some(EntryType::Missing); // listed whole, and not there
        }
        let asked = cache.asked.at(parent);
        *asked += 1;
        if *asked == LIST_AFTER {
            list_into(cache, parent);
            return Some(
                cache
                    .entries
                    .get(path)
                    .copied()
                    .unwrap_or(EntryType::Missing),
            );
        }
        None
    });
    if let Some(kind) = cached {
        return kind;
    }
    let kind = lstat(path);
    CACHE.with(|c| {
        if let Some(cache) = c.borrow_mut().as_mut() {
            cache.entries.insert(path.to_path_buf(), kind);
        }
    });
    kind
}

/// Lists `dir` into the cache (when one is active and `dir` is not listed
/// yet), so questions about several of its children cost one listing.
pub(crate) fn list_children(dir: &Path) {
    CACHE.with(|c| {
        if let Some(cache) = c.borrow_mut().as_mut()
            && !cache.listed.contains(dir)
        {
            list_into(cache, dir);
        }
    });
}

/// A directory asked about this many children is listed whole: one
/// `getdents` pass instead of an `lstat` per remaining child (large
/// policies name many paths in the same directories).
const LIST_AFTER: u32 = 4;
/// Largest listing used; a bigger directory keeps per-child `lstat`s.
const MAX_LISTED: usize = 4096;

fn lstat(path: &Path) -> EntryType {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => EntryType::Symlink,
        Ok(meta) if meta.is_dir() => EntryType::Dir,
        Ok(_) => EntryType::Other,
        Err(_) => EntryType::Missing,
    }
}

/// Records the type of every entry of `dir` (from `d_type`), and `dir` as
/// listed whole, unless it cannot be read or is too large.
fn list_into(cache: &mut Cache, dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut found = Vec::new();
    for entry in entries {
        let Ok(entry) = entry else { return };
        let Ok(kind) = entry.file_type() else { return };
        let kind = if kind.is_symlink() {
            EntryType::Symlink
        } else if kind.is_dir() {
            EntryType::Dir
        } else {
            EntryType::Other
        };
        found.push((entry.path(), kind));
        if found.len() > MAX_LISTED {
            return;
        }
    }
    cache.entries.extend(found);
    cache.listed.insert(dir.to_path_buf());
}

/// Canonicalises a path free of `.` and `..`, parent first, through the cache.
fn canonical_clean(path: &Path) -> Canonical {
    if let Some(hit) = CACHE.with(|c| {
        c.borrow()
            .as_ref()
            .and_then(|m| m.canonical.get(path).cloned())
    }) {
        return hit;
    }
    let result = match crate::canonical::split_last(path) {
        Some((parent, name)) => {
            let parent = canonical_clean(parent);
            let candidate = parent.path.join(name);
            match (parent.exists, entry_type(&candidate)) {
                (false, _) | (true, EntryType::Missing) => Canonical {
                    path: candidate,
                    exists: false,
                },
                (true, EntryType::Symlink) => match std::fs::canonicalize(&candidate) {
                    Ok(real) => Canonical {
                        path: real,
                        exists: true,
                    },
                    Err(_) => Canonical {
                        path: candidate,
                        exists: false,
                    },
                },
                (true, EntryType::Dir | EntryType::Other) => Canonical {
                    path: candidate,
                    exists: true,
                },
            }
        }
        // The root (or a bare prefix) is its own canonical form.
        None => Canonical {
            path: path.to_path_buf(),
            exists: path.exists(),
        },
    };
    CACHE.with(|c| {
        if let Some(cache) = c.borrow_mut().as_mut() {
            cache.canonical.insert(path.to_path_buf(), result.clone());
        }
    });
    result
}

/// Whether `path` is `ancestor` or lies beneath it (whole components only).
pub fn is_within(path: &Path, ancestor: &Path) -> bool {
    path.starts_with(ancestor)
}

/// How many normal components a path has (its depth below the root).
pub fn depth(path: &Path) -> usize {
    path.components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_removes_dots() {
        assert_eq!(
            lexical(Path::new("/a/b"), Path::new("./c/../d")),
            PathBuf::from("/a/b/d")
        );
        assert_eq!(
            lexical(Path::new("/"), Path::new("../../x")),
            PathBuf::from("/x")
        );
        assert_eq!(
            lexical(Path::new("/a"), Path::new("/abs/./p")),
            PathBuf::from("/abs/p")
        );
    }

    #[cfg(unix)]
    #[test]
    fn canonicalize_follows_symlinks_then_goes_lexical() {
        let dir = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(real.join("a/b")).unwrap();
        std::os::unix::fs::symlink(real.join("a/b"), real.join("link")).unwrap();
        let c = canonicalize(&real, Path::new("link/../x/y"));
        assert_eq!(
            c,
            Canonical {
                path: real.join("a/x/y"),
                exists: false
            }
        );
        let c = canonicalize(&real, Path::new("link"));
        assert_eq!(
            c,
            Canonical {
                path: real.join("a/b"),
                exists: true
            }
        );
    }

    #[test]
    fn within_is_component_wise() {
        assert!(is_within(Path::new("/a/b"), Path::new("/a")));
        assert!(is_within(Path::new("/a"), Path::new("/a")));
        assert!(!is_within(Path::new("/ab"), Path::new("/a")));
        assert_eq!(depth(Path::new("/")), 0);
        assert_eq!(depth(Path::new("/a/b")), 2);
    }
}
