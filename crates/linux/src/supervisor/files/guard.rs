//! Which paths the supervised deny globs hide, and which renames would
//! carry a hidden file out from under its glob. Pure: no file system.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A `none` glob the supervisor holds, as plan data: the pattern split into
/// its fixed directory and the part that matches names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardedGlob {
    /// The absolute pattern (`/ws/**/.env`).
    pub pattern: String,
    /// Where a child profile re-allowed what it matches.
    pub except: Vec<PathBuf>,
    /// The directories before the first wildcard (`/ws`).
    pub prefix: PathBuf,
    /// `prefix/**/NAME` (any depth) rather than `prefix/NAME`.
    pub recursive: bool,
}

impl GuardedGlob {
    /// The glob as the supervisor can hold it, or `None` for a shape it
    /// cannot: wildcards in a directory name (`/ws/*/key`), or `**` other
    /// than as the whole directory part before the last name. Those shapes
    /// would make whether a file is hidden depend on the names of its
    /// directories, which a rename of any of them could change.
    pub fn of(pattern: &str, except: &[PathBuf]) -> Option<GuardedGlob> {
        let wild = |s: &str| s.contains(['*', '?', '[', '{', '\\']);
        let (dir, name) = pattern.rsplit_once('/')?;
        if name.is_empty() || name.contains("**") {
            return None;
        }
        let (prefix, recursive) = match dir.strip_suffix("/**") {
            Some(prefix) => (prefix, true),
            None if dir == "**" => ("", true),
            None => (dir, false),
        };
        if wild(prefix) || !pattern.starts_with('/') {
            return None;
        }
        Some(GuardedGlob {
            pattern: pattern.to_owned(),
            except: except.to_vec(),
            prefix: PathBuf::from(if prefix.is_empty() { "/" } else { prefix }),
            recursive,
        })
    }
}

/// The supervised globs, compiled.
pub(crate) struct Guard {
    globs: Vec<(GuardedGlob, globset::GlobMatcher)>,
}

impl Guard {
    /// Compiles the plan's globs; a pattern that does not compile (it did
    /// when the policy was read) fails the run.
    pub(crate) fn new(globs: &[GuardedGlob]) -> Result<Guard, String> {
        let globs = globs
            .iter()
            .map(|g| {
                stockade_policy::compile_glob(&g.pattern)
                    .map(|m| (g.clone(), m))
                    .map_err(|e| format!("deny glob {}: {e}", g.pattern))
            })
            .collect::<Result<_, _>>()?;
        Ok(Guard { globs })
    }

    /// The glob that hides `path`: it matches the path or one of its
    /// directories (a hidden directory hides what is in it).
    pub(crate) fn hiding(&self, path: &Path) -> Option<&str> {
        path.ancestors().find_map(|p| self.matching(p))
    }

    fn matching(&self, path: &Path) -> Option<&str> {
        self.globs
            .iter()
            .find(|(g, m)| m.is_match(path) && !g.except.iter().any(|e| path.starts_with(e)))
            .map(|(g, _)| g.pattern.as_str())
    }

    /// The glob a rename of `from` to `to` (either a file or a directory:
    /// the supervisor cannot know which without a race) would defeat: one
    /// that hides either name, one whose fixed directory `from` is or
    /// contains, or a recursive one whose directory `from` would leave or
    /// enter with everything in it.
    pub(crate) fn renaming(&self, from: &Path, to: &Path) -> Option<&str> {
        if let Some(glob) = self.hiding(from).or_else(|| self.hiding(to)) {
            return Some(glob);
        }
        self.globs
            .iter()
            .find(|(g, _)| {
                g.prefix.starts_with(from)
                    || g.prefix.starts_with(to)
                    || (g.recursive && from.starts_with(&g.prefix) != to.starts_with(&g.prefix))
            })
            .map(|(g, _)| g.pattern.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(patterns: &[&str]) -> Guard {
        let globs: Vec<GuardedGlob> = patterns
            .iter()
            .map(|p| GuardedGlob::of(p, &[]).unwrap())
            .collect();
        Guard::new(&globs).unwrap()
    }

    #[test]
    fn shapes_the_supervisor_can_hold() {
        let g = GuardedGlob::of("/ws/**/.env", &[]).unwrap();
        assert_eq!((g.prefix.as_path(), g.recursive), (Path::new("/ws"), true));
        let g = GuardedGlob::of("/**/*.pem", &[]).unwrap();
        assert_eq!((g.prefix.as_path(), g.recursive), (Path::new("/"), true));
        let g = GuardedGlob::of("/ws/keys/*.pem", &[]).unwrap();
        assert_eq!(
            (g.prefix.as_path(), g.recursive),
            (Path::new("/ws/keys"), false)
        );
        for refused in [
            "/ws/*/key",
            "/ws/**/a/*.pem",
            "/ws/**",
            "/ws/a**b/x",
            "rel/*.pem",
            "/ws/[ab]/x",
        ] {
            assert_eq!(GuardedGlob::of(refused, &[]), None, "{refused}");
        }
    }

    #[test]
    fn a_glob_hides_matches_and_everything_beneath_them() {
        let g = guard(&["/ws/**/.env"]);
        assert_eq!(g.hiding(Path::new("/ws/.env")), Some("/ws/**/.env"));
        assert_eq!(g.hiding(Path::new("/ws/a/b/.env")), Some("/ws/**/.env"));
        assert_eq!(g.hiding(Path::new("/ws/.env/inner")), Some("/ws/**/.env"));
        assert_eq!(g.hiding(Path::new("/ws/.envrc")), None);
        assert_eq!(g.hiding(Path::new("/other/.env")), None);
        assert_eq!(g.hiding(Path::new("/ws/a.env")), None);
    }

    #[test]
    fn except_paths_are_not_hidden() {
        let globs = [GuardedGlob::of("/ws/**/.env", &[PathBuf::from("/ws/public")]).unwrap()];
        let g = Guard::new(&globs).unwrap();
        assert_eq!(g.hiding(Path::new("/ws/public/.env")), None);
        assert!(g.hiding(Path::new("/ws/private/.env")).is_some());
    }

    #[test]
    fn renames_that_would_uncover_a_match_are_refused() {
        let g = guard(&["/ws/**/.env", "/home/u/keys/*.pem"]);
        let refused = |from: &str, to: &str| g.renaming(Path::new(from), Path::new(to)).is_some();
        // Names that match, either way.
        assert!(refused("/ws/.env", "/ws/env.txt"));
        assert!(refused("/ws/a", "/ws/.env"));
        // The fixed directory itself, or one above it.
        assert!(refused("/ws", "/ws2"));
        assert!(refused("/home/u/keys", "/home/u/k"));
        assert!(refused("/home/u", "/home/v"));
        // A directory leaving a recursive glob's tree with its contents.
        assert!(refused("/ws/sub", "/elsewhere/sub"));
        assert!(refused("/elsewhere/sub", "/ws/sub"));
        // Within the tree, and beneath a single-level glob: nothing moves
        // out from under a glob.
        assert!(!refused("/ws/a", "/ws/b/a"));
        assert!(!refused("/ws/a.txt", "/ws/b.txt"));
        assert!(!refused("/home/u/keys/sub", "/home/u/keys/sub2"));
        assert!(!refused("/tmp/a", "/tmp/b"));
    }
}
