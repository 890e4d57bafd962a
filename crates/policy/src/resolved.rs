//! The resolved policy: what backends enforce, `explain` prints and tests
//! assert on. Every rule carries the origin that produced it.

use crate::access::Access;
use crate::domain::DomainPattern;
use crate::env::EnvPolicy;
use crate::net_range::IpRange;
use crate::paths::is_within;
use crate::source::Origin;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why a filesystem rule exists, beyond its access level. Backends use the
/// kind to choose a mechanism (a private `/tmp` is a fresh tmpfs, not a bind
/// of the host's), and to enforce that a missing protected name stays absent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleKind {
    /// A path rule as written.
    Path,
    /// The run's private temporary directory (`:tmp`).
    PrivateTmp,
    /// A protected name under a writable root; if missing it must not be created.
    Protected {
        /// The protected name, e.g. `.git`.
        name: String,
    },
    /// A git directory made writable for `git = "commit"`.
    GitCommit,
    /// A file or directory in a git directory that can make git run code.
    GitControl,
    /// The policy file that defines the sandbox.
    PolicyFile,
    /// A child of the home directory, from expanding a writable home.
    HomeChild,
    /// A path that `~/.ssh/config` refers to.
    SshConfig {
        /// The directive that names it.
        directive: String,
    },
}

/// One resolved filesystem rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FsRule {
    /// Absolute, canonical as far as it exists.
    pub path: PathBuf,
    /// What it grants.
    pub access: Access,
    /// Why it exists.
    pub kind: RuleKind,
    /// Whether the path existed at resolution time.
    pub exists: bool,
    /// Whether it was a directory then (`lstat`: a symbolic link is not).
    #[serde(skip)]
    pub dir: bool,
    /// Where it came from.
    pub origin: Origin,
}

/// A `none` rule given as a glob. It holds for files created later too.
#[derive(Clone, Debug, Serialize)]
pub struct GlobRule {
    /// The absolute pattern (`/**/.env`, `/home/u/.aws/*`).
    pub pattern: String,
    /// Paths where a child profile re-allowed what this glob matches; the
    /// glob does not apply at or below them.
    pub except: Vec<PathBuf>,
    /// Where it came from.
    pub origin: Origin,
    #[serde(skip)]
    pub(crate) matcher: globset::GlobMatcher,
}

impl PartialEq for GlobRule {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern && self.except == other.except && self.origin == other.origin
    }
}

impl GlobRule {
    /// Whether the glob applies to exactly this path (not its ancestors).
    pub fn matches(&self, path: &Path) -> bool {
        self.matches_candidate(path, &globset::Candidate::new(path))
    }

    /// [`GlobRule::matches`] with the path already prepared for matching.
    fn matches_candidate(&self, path: &Path, candidate: &globset::Candidate<'_>) -> bool {
        self.matcher.is_match_candidate(candidate)
            && !self.except.iter().any(|e| is_within(path, e))
    }
}

/// Compiles a deny glob the way policies do: `*` and `?` stay within one
/// name, `**` crosses directories, a backslash escapes. For a process that
/// gets a [`GlobRule`] as data (its pattern) and must match it again.
///
/// # Errors
///
/// The pattern is not a valid glob.
pub fn compile_glob(pattern: &str) -> Result<globset::GlobMatcher, globset::Error> {
    Ok(globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()?
        .compile_matcher())
}

/// Network mode (SPEC 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    /// No network but the sandbox's own loopback.
    Off,
    /// Only stockade's egress proxy.
    Proxy,
    /// Unrestricted.
    Full,
}

impl NetworkMode {
    /// Parses `off`, `proxy` or `full`.
    pub fn parse(text: &str) -> Option<NetworkMode> {
        match text {
            "off" => Some(NetworkMode::Off),
            "proxy" => Some(NetworkMode::Proxy),
            "full" => Some(NetworkMode::Full),
            _ => None,
        }
    }
}

/// The resolved `[network]` section.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NetworkPolicy {
    /// The mode.
    pub mode: NetworkMode,
    /// Proxy allow entries.
    pub allow: Vec<DomainPattern>,
    /// Proxy deny entries (checked first).
    pub deny: Vec<DomainPattern>,
    /// Private ranges resolved names may reach.
    pub allow_ranges: Vec<IpRange>,
    /// May the command use its own loopback.
    pub allow_local_binding: bool,
    /// Host unix sockets it may connect to (canonical paths).
    pub unix_sockets: Vec<PathBuf>,
    /// Where the mode was decided.
    pub origin: Origin,
}

/// `protect.git`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GitMode {
    /// The repository is read-only.
    ReadOnly,
    /// Commits are possible; what can run code stays read-only.
    Commit,
}

/// The resolved `[protect]` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProtectPolicy {
    /// Names protected under every writable root.
    pub names: Vec<String>,
    /// Git mode.
    pub git: GitMode,
}

/// The resolved `[limits]` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Wall-clock limit.
    #[serde(serialize_with = "ser_duration")]
    pub timeout: Option<Duration>,
    /// Most processes at once.
    pub max_processes: Option<u64>,
    /// Memory limit in bytes.
    pub max_memory: Option<u64>,
    /// Captured output kept per stream, in bytes.
    pub max_output: u64,
}

fn ser_duration<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&(d.as_millis() as u64)),
        None => s.serialize_none(),
    }
}

/// Something resolution wants the user to know; not an error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Note {
    /// The path it concerns, if one.
    pub path: Option<PathBuf>,
    /// What happened.
    pub message: String,
}

/// A fully resolved policy.
#[derive(Clone, Debug, Serialize)]
pub struct ResolvedPolicy {
    /// The profile chosen.
    pub profile: String,
    /// The chain of profiles merged, parent first.
    pub chain: Vec<String>,
    /// The policy file that defines the sandbox, if one.
    pub policy_file: Option<PathBuf>,
    /// The command's working directory (canonical).
    pub cwd: PathBuf,
    /// Filesystem rules, sorted by path, then from weakest to strictest;
    /// [`ResolvedPolicy::access`] relies on the order.
    pub rules: Vec<FsRule>,
    /// `none` globs.
    pub deny_globs: Vec<GlobRule>,
    /// Network.
    pub network: NetworkPolicy,
    /// Protected names.
    pub protect: ProtectPolicy,
    /// Environment.
    pub env: EnvPolicy,
    /// Limits.
    pub limits: Limits,
    /// Notes for `explain`.
    pub notes: Vec<Note>,
}

/// The answer to "what access does this path get?".
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decision<'a> {
    /// The access.
    pub access: Access,
    /// What decided it.
    pub by: DecidedBy<'a>,
}

/// What decided a [`Decision`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DecidedBy<'a> {
    /// The longest matching path rule.
    Rule(&'a FsRule),
    /// A `none` glob matching the path or one of its ancestors.
    Glob(&'a GlobRule),
    /// No rule matches: the default is `none`.
    Default,
}

impl ResolvedPolicy {
    /// The access `path` gets and the rule that decided it (SPEC 3.3): the
    /// rule with the longest matching path wins, ties go to the stricter
    /// access, a glob matching the path or an ancestor at least as deep as
    /// that rule makes it `none`, and a path no rule matches is `none`.
    ///
    /// `path` must be absolute and canonical (as the kernel sees it). Costs
    /// one binary search per component of `path`.
    pub fn access(&self, path: &Path) -> Decision<'_> {
        let path = crate::canonical::normalized(path);
        decide(&path, |at| self.rules_exactly_at(at), &self.deny_globs)
    }

    /// The rules naming exactly `path`, weakest first (a binary search:
    /// `rules` is sorted by path).
    pub fn rules_at(&self, path: &Path) -> &[FsRule] {
        self.rules_exactly_at(&crate::canonical::normalized(path))
    }

    /// [`ResolvedPolicy::rules_at`] for a path already canonical.
    fn rules_exactly_at(&self, path: &Path) -> &[FsRule] {
        let start = self
            .rules
            .partition_point(|r| crate::canonical::cmp_paths(&r.path, path).is_lt());
        let len = self.rules[start..]
            .iter()
            .take_while(|r| r.path.as_os_str() == path.as_os_str())
            .count();
        &self.rules[start..start + len]
    }

    /// The rules that grant write: the writable roots.
    pub fn writable_roots(&self) -> impl Iterator<Item = &FsRule> {
        self.rules.iter().filter(|r| r.access == Access::Write)
    }
}

/// The precedence of SPEC 3.3 over any rule store: `rules_at` gives the
/// rules naming exactly a path. `path` must be canonical (a rule's path,
/// or one [`crate::canonical::normalized`]). Shared by [`ResolvedPolicy::access`] and the
/// derivation step, so both answer alike.
pub(crate) fn decide<'a>(
    path: &Path,
    rules_at: impl Fn(&Path) -> &'a [FsRule],
    globs: &'a [GlobRule],
) -> Decision<'a> {
    use crate::canonical::ancestors_with_depth;
    let best = ancestors_with_depth(path).find_map(|(at, depth)| {
        let strongest = rules_at(at).iter().max_by_key(|r| r.access.tie_strength());
        strongest.map(|rule| (rule, depth))
    });
    // Only a glob at least as deep as the deciding rule can overrule it.
    let shallowest = best.map_or(0, |(_, d)| d);
    let glob = if globs.is_empty() {
        None
    } else {
        ancestors_with_depth(path)
            .take_while(|(_, d)| *d >= shallowest)
            .find_map(|(at, d)| {
                let candidate = globset::Candidate::new(at);
                globs
                    .iter()
                    .find(|g| g.matches_candidate(at, &candidate))
                    .map(|g| (g, d))
            })
    };
    match (best, glob) {
        (Some((_, rule_depth)), Some((glob, glob_depth))) if glob_depth >= rule_depth => Decision {
            access: Access::None,
            by: DecidedBy::Glob(glob),
        },
        (None, Some((glob, _))) => Decision {
            access: Access::None,
            by: DecidedBy::Glob(glob),
        },
        (Some((rule, _)), _) => Decision {
            access: rule.access,
            by: DecidedBy::Rule(rule),
        },
        (None, None) => Decision {
            access: Access::None,
            by: DecidedBy::Default,
        },
    }
}
