//! Where a `.git` entry really keeps the repository: a directory, or a file
//! (worktrees, submodules) whose `gitdir:` points at the git directory,
//! which may in turn name a common directory shared by all worktrees.

use std::path::{Path, PathBuf};

/// What a `.git` entry leads to.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct GitLayout {
    /// The git directories to protect: the gitdir and the common dir
    /// (the same directory for an ordinary repository), canonical.
    pub dirs: Vec<PathBuf>,
    /// Problems reading a `.git` file, for notes.
    pub problems: Vec<String>,
}

/// Largest `.git` pointer file read; real ones are one short line.
const MAX_POINTER_BYTES: u64 = 64 * 1024;

/// Inspects `dot_git` (which may not exist).
pub(crate) fn inspect(dot_git: &Path) -> GitLayout {
    let mut layout = GitLayout::default();
    let Ok(meta) = std::fs::metadata(dot_git) else {
        return layout;
    };
    let gitdir = if meta.is_dir() {
        std::fs::canonicalize(dot_git).ok()
    } else if !meta.is_file() {
        // A FIFO or device named `.git` would block the read: never open it.
        layout.problems.push(format!(
            "{} is neither a file nor a directory",
            dot_git.display()
        ));
        None
    } else {
        match read_pointer(dot_git, "gitdir") {
            Ok(target) => Some(target),
            Err(problem) => {
                layout.problems.push(problem);
                None
            }
        }
    };
    let Some(gitdir) = gitdir else { return layout };
    layout.dirs.push(gitdir.clone());
    let commondir = gitdir.join("commondir");
    if commondir.is_file() {
        match read_pointer(&commondir, "") {
            Ok(common) if !layout.dirs.contains(&common) => layout.dirs.push(common),
            Ok(_) => {}
            Err(problem) => layout.problems.push(problem),
        }
    }
    layout
}

/// Reads a one-line pointer file (`gitdir: PATH`, or a bare `PATH` when
/// `prefix` is empty) and resolves the path against the file's directory.
fn read_pointer(file: &Path, prefix: &str) -> Result<PathBuf, String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(MAX_POINTER_BYTES).read_to_string(&mut text))
        .map_err(|e| format!("failed to read {}: {e}", file.display()))?;
    let line = text.lines().next().unwrap_or("").trim();
    let value = if prefix.is_empty() {
        line
    } else {
        line.strip_prefix(prefix)
            .and_then(|rest| rest.trim_start().strip_prefix(':'))
            .map(str::trim)
            .ok_or_else(|| format!("{} does not start with '{prefix}:'", file.display()))?
    };
    if value.is_empty() {
        return Err(format!("{} names no directory", file.display()));
    }
    let base = file.parent().unwrap_or(Path::new("/"));
    Ok(crate::paths::canonicalize(base, Path::new(value)).path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(dir.path()).unwrap();
        (dir, real)
    }

    #[test]
    fn a_directory_is_its_own_git_dir() {
        let (_d, root) = tmp();
        std::fs::create_dir(root.join(".git")).unwrap();
        assert_eq!(inspect(&root.join(".git")).dirs, vec![root.join(".git")]);
    }

    #[test]
    fn a_missing_entry_has_no_dirs() {
        let (_d, root) = tmp();
        assert_eq!(inspect(&root.join(".git")), GitLayout::default());
    }

    #[test]
    fn a_worktree_file_leads_to_gitdir_and_common_dir() {
        let (_d, root) = tmp();
        let main_git = root.join("main/.git");
        let wt_gitdir = main_git.join("worktrees/wt");
        std::fs::create_dir_all(&wt_gitdir).unwrap();
        std::fs::write(wt_gitdir.join("commondir"), "../..\n").unwrap();
        std::fs::create_dir_all(root.join("wt")).unwrap();
        std::fs::write(
            root.join("wt/.git"),
            format!("gitdir: {}\n", wt_gitdir.display()),
        )
        .unwrap();
        assert_eq!(
            inspect(&root.join("wt/.git")).dirs,
            vec![wt_gitdir, main_git]
        );
    }

    #[test]
    fn a_relative_gitdir_resolves_against_the_file() {
        let (_d, root) = tmp();
        std::fs::create_dir_all(root.join(".git/modules/sub")).unwrap();
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/.git"), "gitdir: ../.git/modules/sub").unwrap();
        assert_eq!(
            inspect(&root.join("sub/.git")).dirs,
            vec![root.join(".git/modules/sub")]
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_named_dot_git_is_not_opened() {
        let (_d, root) = tmp();
        let status = std::process::Command::new("mkfifo")
            .arg(root.join(".git"))
            .status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("skipped: mkfifo is not available");
            return;
        }
        let layout = inspect(&root.join(".git"));
        assert!(layout.dirs.is_empty());
        assert!(
            layout.problems[0].contains("neither a file nor a directory"),
            "{:?}",
            layout.problems
        );
    }

    #[test]
    fn a_malformed_file_is_a_problem_not_a_panic() {
        let (_d, root) = tmp();
        std::fs::write(root.join(".git"), "nonsense").unwrap();
        let layout = inspect(&root.join(".git"));
        assert!(layout.dirs.is_empty());
        assert!(
            layout.problems[0].contains("does not start with 'gitdir:'"),
            "{:?}",
            layout.problems
        );
    }
}
