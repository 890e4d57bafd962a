//! One layer of filesystem rules (a profile's table, or the command-line
//! options), and the merge of layers: the parent first, the child wins.

use crate::access::Access;
use crate::context::ResolveContext;
use crate::error::PolicyError;
use crate::fasthash::{Fx, PathSet};
use crate::resolved::{FsRule, GlobRule};
use crate::source::Origin;
use crate::special::{Target, resolve_key};
use indexmap::IndexMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Rules by path (canonical, so keyed by bytes), in the order written.
pub(crate) type RuleMap = IndexMap<OsString, FsRule, Fx>;

/// The rules of one layer, free of conflicts.
#[derive(Debug, Default)]
pub(crate) struct Layer {
    rules: RuleMap,
    globs: Vec<GlobRule>,
    /// Paths whose key reached them through a symbolic link.
    via_link: PathSet,
}

/// One rule as the user wrote it, before resolution.
pub(crate) struct Entry<'a> {
    pub key: &'a str,
    pub access: Access,
    pub origin: Origin,
    /// The directory relative paths resolve against.
    pub base: &'a Path,
}

impl Layer {
    /// Resolves an entry into rules of this layer. `error` builds an error
    /// at the entry's location from a message and a hint.
    pub fn add(
        &mut self,
        entry: Entry<'_>,
        ctx: &ResolveContext,
        notes: &mut Vec<String>,
        error: &dyn Fn(String, String) -> PolicyError,
    ) -> Result<(), PolicyError> {
        let target =
            resolve_key(entry.key, entry.base, ctx, notes).map_err(|(m, h)| error(m, h))?;
        match target {
            Target::Glob(pattern) => self.add_glob(entry, pattern, error),
            Target::Paths(paths) => {
                for resolved in paths {
                    if resolved.via_link {
                        self.via_link.insert(resolved.canonical.path.clone());
                    }
                    let rule = FsRule {
                        path: resolved.canonical.path,
                        access: entry.access,
                        kind: resolved.kind,
                        exists: resolved.canonical.exists,
                        dir: false,
                        origin: entry.origin.clone(),
                    };
                    self.insert(rule)?;
                }
                Ok(())
            }
        }
    }

    fn add_glob(
        &mut self,
        entry: Entry<'_>,
        pattern: String,
        error: &dyn Fn(String, String) -> PolicyError,
    ) -> Result<(), PolicyError> {
        if entry.access != Access::None {
            return Err(error(
                format!(
                    "'{}' is a glob, and globs are allowed for \"none\" rules only",
                    entry.key
                ),
                "list the paths to grant one by one, or make this rule \"none\"".into(),
            ));
        }
        let matcher = crate::resolved::compile_glob(&pattern).map_err(|e| {
            error(
                format!("invalid glob '{}': {}", entry.key, e.kind()),
                "use '*' within a name, '**' across directories, '?' and '[abc]'; \
                     escape a literal character with a backslash"
                    .into(),
            )
        })?;
        if !self.globs.iter().any(|g| g.pattern == pattern) {
            self.globs.push(GlobRule {
                pattern,
                except: Vec::new(),
                origin: entry.origin,
                matcher,
            });
        }
        Ok(())
    }

    /// Adds a rule; the same path with the same access is merged, with a
    /// different access is a conflict.
    fn insert(&mut self, rule: FsRule) -> Result<(), PolicyError> {
        match self.rules.get(rule.path.as_os_str()) {
            Some(existing) if existing.access != rule.access => Err(PolicyError::Conflict {
                path: rule.path.clone(),
                first: Box::new(existing.origin.clone()),
                first_access: existing.access,
                second: Box::new(rule.origin),
                second_access: rule.access,
            }),
            Some(_) => Ok(()),
            None => {
                self.rules.insert(rule.path.clone().into_os_string(), rule);
                Ok(())
            }
        }
    }
}

/// The merge of layers, parent first.
#[derive(Debug, Default)]
pub(crate) struct Merged {
    pub rules: RuleMap,
    pub globs: Vec<GlobRule>,
    /// Rules set aside, for `explain`.
    pub notes: Vec<String>,
}

impl Merged {
    /// Lays `child` over what is merged so far: a child rule replaces a
    /// parent rule for the same path, and a child rule that grants a path a
    /// parent glob matches exempts that path (and what is below it) from
    /// the glob, so a profile can re-allow a sensitive default explicitly.
    ///
    /// A rule whose key reached its path through a symbolic link cannot
    /// re-allow a path the layers below hide: a link planted by an earlier
    /// run must not turn `-w link` into access to a secret.
    pub fn push(&mut self, mut child: Layer) {
        let hidden: Vec<PathBuf> = child
            .rules
            .values()
            .filter(|r| r.access != Access::None && child.via_link.contains(&r.path))
            .filter(|r| {
                self.access(&r.path) == Access::None && self.names_anything_at_or_above(&r.path)
            })
            .map(|r| r.path.clone())
            .collect();
        for path in hidden {
            if let Some(rule) = child.rules.shift_remove(path.as_os_str()) {
                self.notes.push(format!(
                    "{} (from {}) is reached through a symbolic link and is hidden by a parent profile: the rule is ignored",
                    path.display(),
                    rule.origin
                ));
            }
        }
        for rule in child
            .rules
            .values()
            .filter(|r| r.access != Access::None && !child.via_link.contains(&r.path))
        {
            for glob in &mut self.globs {
                if glob.matcher.is_match(&rule.path) {
                    glob.except.push(rule.path.clone());
                }
            }
        }
        for (path, rule) in child.rules {
            self.rules.insert(path, rule);
        }
        for glob in child.globs {
            match self.globs.iter_mut().find(|g| g.pattern == glob.pattern) {
                Some(existing) => *existing = glob,
                None => self.globs.push(glob),
            }
        }
    }
}

impl Merged {
    /// The access the layers merged so far give `path`.
    pub(crate) fn access(&self, path: &Path) -> Access {
        let at = |p: &Path| {
            self.rules
                .get(p.as_os_str())
                .map_or(&[][..], std::slice::from_ref)
        };
        crate::resolved::decide(path, at, &self.globs).access
    }

    /// Whether any merged rule or glob decides `path` (not the default).
    fn names_anything_at_or_above(&self, path: &Path) -> bool {
        crate::canonical::ancestors(path).any(|a| self.rules.contains_key(a.as_os_str()))
            || self
                .globs
                .iter()
                .any(|g| crate::canonical::ancestors(path).any(|a| g.matches(a)))
    }
}
