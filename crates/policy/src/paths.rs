//! Path normalisation: absolute, lexically clean, and canonical (symlinks
//! resolved) as far as the path exists.

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
