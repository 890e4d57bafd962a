//! Rule keys: special roots (`:cwd`), `~`, relative and absolute paths, and
//! `none` globs, turned into the paths they stand for.

use crate::context::ResolveContext;
use crate::paths::{Canonical, canonicalize, lexical};
use crate::resolved::RuleKind;
use crate::ssh_config::{SshScanContext, scan_ssh_config};
use std::path::{Path, PathBuf};

/// The special roots a key may start with, and what each stands for.
pub const SPECIAL_ROOTS: &[(&str, &str)] = &[
    (":root", "the whole file system (every drive on Windows)"),
    (":cwd", "the command's working directory"),
    (":tmp", "a private temporary directory for this run"),
    (":home", "the user's home directory"),
    (":minimal", "the system directories ordinary programs need"),
    (
        ":ssh-config",
        "every file and directory ~/.ssh/config refers to",
    ),
];

/// What a key stands for.
#[derive(Debug)]
pub(crate) enum Target {
    /// Concrete paths.
    Paths(Vec<ResolvedPath>),
    /// A glob (absolute pattern).
    Glob(String),
}

/// One path a key stands for.
#[derive(Debug)]
pub(crate) struct ResolvedPath {
    pub canonical: Canonical,
    pub kind: RuleKind,
    /// The key reached its path through a symbolic link.
    pub via_link: bool,
}

/// A key that could not be resolved: message and hint.
pub(crate) type KeyError = (String, String);

/// Characters that make a key a glob.
const GLOB_CHARS: &[char] = &['*', '?', '[', '{'];

/// Whether a key is a glob.
pub(crate) fn is_glob(key: &str) -> bool {
    key.contains(GLOB_CHARS)
}

/// Resolves one key. `base` is the directory relative paths resolve against.
pub(crate) fn resolve_key(
    key: &str,
    base: &Path,
    ctx: &ResolveContext,
    notes: &mut Vec<String>,
) -> Result<Target, KeyError> {
    if key.is_empty() {
        return Err((
            "empty path".into(),
            "write a path, '~/...', or a special root like ':cwd'".into(),
        ));
    }
    if key.contains('\0') {
        return Err((
            "path contains a NUL byte".into(),
            "remove the NUL byte".into(),
        ));
    }
    if let Some(special) = key.strip_prefix(':') {
        return resolve_special(special, ctx, notes);
    }
    let path = expand_home(key, ctx)?;
    if is_glob(key) {
        return Ok(Target::Glob(glob_pattern(key, &path, base)));
    }
    let canonical = canonicalize(base, &path);
    let via_link = canonical.path != lexical(base, &path);
    Ok(Target::Paths(vec![ResolvedPath {
        via_link,
        ..plain(canonical)
    }]))
}

fn plain(canonical: Canonical) -> ResolvedPath {
    ResolvedPath {
        canonical,
        kind: RuleKind::Path,
        via_link: false,
    }
}

/// `~` and `~/x` → the home directory; `~user` is refused.
fn expand_home(key: &str, ctx: &ResolveContext) -> Result<PathBuf, KeyError> {
    let Some(rest) = key.strip_prefix('~') else {
        return Ok(PathBuf::from(key));
    };
    if !(rest.is_empty() || rest.starts_with('/') || rest.starts_with('\\')) {
        return Err((
            format!("'{key}': '~user' paths are not supported"),
            "write the other user's home directory as an absolute path".into(),
        ));
    }
    let home = home(ctx)?;
    Ok(home.join(rest.trim_start_matches(['/', '\\'])))
}

fn home(ctx: &ResolveContext) -> Result<&Path, KeyError> {
    ctx.home.as_deref().ok_or_else(|| {
        (
            "the home directory is unknown".to_string(),
            "set HOME to the user's home directory".to_string(),
        )
    })
}

fn resolve_special(
    special: &str,
    ctx: &ResolveContext,
    notes: &mut Vec<String>,
) -> Result<Target, KeyError> {
    let (name, rest) = match special.split_once(['/', '\\']) {
        Some((name, rest)) => (name, Some(rest)),
        None => (special, None),
    };
    let base: PathBuf = match name {
        "cwd" => ctx.cwd.clone(),
        "home" => home(ctx)?.to_path_buf(),
        "root" | "tmp" | "minimal" | "ssh-config" if rest.is_some_and(|r| !r.is_empty()) => {
            return Err((
                format!("':{name}' cannot be followed by a path"),
                match name {
                    "root" => "write the absolute path instead".into(),
                    _ => format!("use ':{name}' on its own"),
                },
            ));
        }
        "root" => {
            let paths = ctx
                .roots
                .iter()
                .map(|r| plain(canonicalize(r, Path::new(""))))
                .collect();
            return Ok(Target::Paths(paths));
        }
        "tmp" => {
            let canonical = Canonical {
                path: ctx.tmp_dir.clone(),
                exists: true,
            };
            return Ok(Target::Paths(vec![ResolvedPath {
                canonical,
                kind: RuleKind::PrivateTmp,
                via_link: false,
            }]));
        }
        "minimal" => {
            let root = ctx
                .roots
                .first()
                .cloned()
                .unwrap_or_else(|| PathBuf::from("/"));
            let paths = ctx
                .platform
                .minimal()
                .iter()
                .map(|p| plain(canonicalize(&root, Path::new(p))));
            return Ok(Target::Paths(paths.collect()));
        }
        "ssh-config" => return Ok(Target::Paths(ssh_config_paths(ctx, notes)?)),
        unknown => return Err(unknown_special(unknown)),
    };
    let path = match rest {
        Some(rest) if is_glob(rest) => {
            // Anchored at the special root, even for `:cwd/**/x`.
            let anchored = base.join(rest);
            return Ok(Target::Glob(glob_pattern(
                &anchored.to_string_lossy(),
                &anchored,
                &base,
            )));
        }
        Some(rest) => base.join(rest),
        None => base,
    };
    Ok(Target::Paths(vec![plain(canonicalize(
        Path::new("/"),
        &path,
    ))]))
}

fn unknown_special(name: &str) -> KeyError {
    let names: Vec<&str> = SPECIAL_ROOTS.iter().map(|(n, _)| *n).collect();
    let suggestion = names
        .iter()
        .min_by_key(|n| edit_distance(&n[1..], name))
        .filter(|n| edit_distance(&n[1..], name) <= 2)
        .map(|n| format!("did you mean '{n}'? "))
        .unwrap_or_default();
    (
        format!("unknown special root ':{name}'"),
        format!("{suggestion}the special roots are {}", names.join(", ")),
    )
}

/// Levenshtein distance, for suggestions.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Every path `~/.ssh/config` refers to (SPEC 3.5).
fn ssh_config_paths(
    ctx: &ResolveContext,
    notes: &mut Vec<String>,
) -> Result<Vec<ResolvedPath>, KeyError> {
    let home = home(ctx)?;
    let env = |name: &str| ctx.env.get(name).cloned();
    let scan_ctx = SshScanContext {
        home,
        user: &ctx.user,
        uid: ctx.uid,
        local_hostname: &ctx.hostname,
        env: &env,
    };
    let scan = scan_ssh_config(&home.join(".ssh").join("config"), &scan_ctx);
    notes.extend(
        scan.warnings
            .into_iter()
            .map(|w| format!("~/.ssh/config: {w}")),
    );
    Ok(scan
        .dependencies
        .into_iter()
        .map(|dep| ResolvedPath {
            canonical: canonicalize(Path::new("/"), &dep.path),
            kind: RuleKind::SshConfig {
                directive: dep.directive,
            },
            via_link: false,
        })
        .collect())
}

/// Builds the absolute pattern of a glob key: `**/x` matches anywhere;
/// otherwise the literal directories before the first glob character are
/// resolved like a path (relative to `base`, symlinks followed).
fn glob_pattern(key: &str, expanded: &Path, base: &Path) -> String {
    if key.starts_with("**/") {
        return format!("/{key}");
    }
    let absolute = lexical(base, expanded);
    let text = absolute.to_string_lossy();
    let cut = text.find(GLOB_CHARS).unwrap_or(text.len());
    let dir_end = text[..cut].rfind(['/', '\\']).map_or(0, |i| i + 1);
    let (literal, pattern) = text.split_at(dir_end);
    let real = canonicalize(Path::new("/"), Path::new(literal)).path;
    let mut real = real.to_string_lossy().into_owned();
    if !real.ends_with(['/', '\\']) {
        real.push('/');
    }
    format!("{real}{pattern}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_special_roots() {
        let (msg, hint) = unknown_special("cdw");
        assert_eq!(msg, "unknown special root ':cdw'");
        assert!(hint.starts_with("did you mean ':cwd'?"), "{hint}");
        let (_, hint) = unknown_special("banana");
        assert!(hint.starts_with("the special roots are"), "{hint}");
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("cwd", "cwd"), 0);
        assert_eq!(edit_distance("cwd", "cdw"), 2);
        assert_eq!(edit_distance("home", "hom"), 1);
    }

    #[test]
    fn glob_patterns_are_absolute() {
        let base = Path::new("/nonexistent-base");
        assert_eq!(
            glob_pattern("**/.env", Path::new("**/.env"), base),
            "/**/.env"
        );
        assert_eq!(
            glob_pattern("secrets/*.pem", Path::new("secrets/*.pem"), base),
            "/nonexistent-base/secrets/*.pem"
        );
        assert_eq!(
            glob_pattern("/x/../y/*", Path::new("/x/../y/*"), base),
            "/y/*"
        );
    }
}
