//! Landlock: the filesystem rules of a policy, enforced a second time by the
//! kernel on top of the sandbox's mount tree.
//!
//! The Linux backend builds a new mount tree that mirrors host paths at the
//! same places, then layers Landlock on it as defense in depth. This module
//! is a plan and its application:
//!
//! 1. [`plan()`] (pure data, no privileges): which paths get which rights at
//!    the kernel's ABI. `explain` prints it and tests assert on it.
//! 2. [`prepare`]: in the sandbox's mount namespace after the mounts exist,
//!    creates the ruleset and adds one rule per path, opening each path in
//!    the sandbox's view. It may allocate.
//! 3. [`restrict_self`]: in the final child right before `execve`, enforces
//!    the ruleset on the calling thread (and sets `no_new_privs`). It
//!    neither allocates nor frees.
//!
//! # Rights
//!
//! | rule | rights |
//! |---|---|
//! | `read` | `execute`, `read_file`, `read_dir` |
//! | `write` | `read`'s, `write_file`, `remove_dir`, `remove_file`, `make_dir`, `make_reg`, `make_sock`, `make_fifo`, `make_sym`, `refer` (ABI 2), `truncate` (ABI 3), `ioctl_dev` (ABI 5) |
//! | `none` | no rule |
//! | `/dev/null`, `/dev/zero`, `/dev/random`, `/dev/urandom`, `/dev/tty`, `/dev/ptmx`, `/dev/pts` | `read_file`, `write_file`, `ioctl_dev` (ABI 5) |
//! | `/proc` | `read_file`, `read_dir` |
//!
//! `make_char` and `make_block` are handled and never granted. The reasons
//! for each choice are beside the sets in `rights.rs`.
//!
//! # Security
//!
//! What Landlock adds to the mount tree: a second, independent check of
//! every path the command opens, creates, removes, renames or runs. If the
//! mount tree is wrong (a bind left writable, a host path not hidden), the
//! command still cannot read outside the `read` and `write` rules, write
//! outside the `write` rules, create device nodes anywhere, write `/proc`,
//! and (ABI 6) cannot signal processes or reach abstract unix sockets
//! outside its Landlock domain. The domain is inherited by every child and
//! cannot be left.
//!
//! What it does not do:
//!
//! - Take rights away beneath a granted directory. Landlock only allows, and
//!   a path gets the union of the rights of the rules on it and its
//!   ancestors. So a `read` or `none` carve-out under a `write` root,
//!   protected names, the git control files and `none` globs are enforced by
//!   the mount tree alone; the plan grants each rule its own rights on its
//!   own path and the write root's rights then reach everything below it.
//! - Control metadata: `stat`, `chmod`, `chown`, `utimes`, extended
//!   attributes of reachable files have no Landlock right (read-only bind
//!   mounts stop the changes).
//! - Restrict descriptors opened before `restrict_self` (the command's stdio
//!   keeps every right).
//! - The network. TCP `bind`/`connect` rights (ABI 4) are not handled here:
//!   the sandbox's network namespace decides what can be reached, and a port
//!   rule would not know which host a connection goes to. Pathname unix
//!   sockets are not handled either (their right comes after the newest ABI
//!   stockade negotiates); the mount tree decides which are visible.
//!
//! # Platform specific behavior
//!
//! Needs Linux 5.13 or later with `landlock` among the active LSMs. The ABI
//! is negotiated as `min(kernel, 7)`: ABI 1 lacks `refer` (renaming or
//! linking into another directory is then always refused), ABI 2 lacks
//! `truncate` (truncating readable files is then not stopped), ABI 4 lacks
//! `ioctl_dev`, ABI 5 lacks signal and abstract socket scoping. Applying a
//! plan on a kernel older than the plan's ABI is an error, never a silent
//! downgrade.

mod apply;
mod plan;
mod rights;

use std::path::PathBuf;

use serde::Serialize;

pub use apply::{PreparedRuleset, prepare, restrict_self};
pub use plan::{SYSTEM_PATHS, SystemPath, plan, system_rules};
pub use rights::{FS_RIGHTS, FsRight, MAX_ABI, handled_fs, rights_for};

/// The Landlock plan for one policy at one ABI. Plain data: `explain`
/// prints it, tests build and assert on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LandlockPlan {
    /// The ABI negotiated: `min(kernel, 7)`.
    pub abi: u32,
    /// Every filesystem right this ABI knows, by UAPI name ([`handled_fs`]).
    /// A handled right is denied wherever no rule grants it.
    pub handled_fs: Vec<&'static str>,
    /// One per path that gets rights, sorted by path.
    pub rules: Vec<PathRule>,
    /// Refuse connecting to abstract unix sockets created outside the
    /// domain (ABI 6).
    pub scope_abstract_unix_socket: bool,
    /// Refuse signalling processes outside the domain (ABI 6).
    pub scope_signal: bool,
    /// TCP rights (ABI 4): `None` leaves TCP to the network namespace.
    pub tcp: Option<TcpRules>,
}

/// Landlock's TCP rights, when held: binding any port is refused, and
/// connecting to any port but these.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TcpRules {
    /// The ports the command may connect to (in network `proxy` mode
    /// without `allow_local_binding`: the egress proxy's two ports on the
    /// sandbox's loopback, the only ports anything listens on there).
    pub connect_ports: Vec<u16>,
}

/// The rights one path (and everything beneath it) gets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PathRule {
    /// Absolute, as the sandbox sees it.
    pub path: PathBuf,
    /// Right names, in kernel bit order.
    pub rights: Vec<&'static str>,
    /// Why the path gets them.
    pub why: crate::why::Why,
}

/// What [`restrict_self`] enforced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LandlockReport {
    /// The ABI the ruleset was built for.
    pub abi: u32,
    /// `fully_enforced` (anything less is an error, not a report).
    pub status: &'static str,
    /// Paths of the plan that got no rule: missing in the sandbox's view, or
    /// a file given only directory rights. They are denied (fail-closed).
    pub skipped_paths: Vec<PathBuf>,
}

/// Why a Landlock plan could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum LandlockError {
    /// The plan's ABI is outside what stockade knows.
    #[error("invalid landlock plan: ABI {abi} is not between 1 and {MAX_ABI}")]
    InvalidAbi {
        /// The plan's ABI.
        abi: u32,
    },
    /// The kernel is older than the plan.
    #[error(
        "landlock ABI {planned} is required but {found}\nhint: run 'stockade check' to see what this kernel offers"
    )]
    KernelTooOld {
        /// The plan's ABI.
        planned: u32,
        /// What the kernel answered, in words.
        found: String,
    },
    /// A right name that is not a Landlock filesystem right.
    #[error("invalid landlock plan: unknown right '{right}' {place}")]
    UnknownRight {
        /// The name.
        right: String,
        /// `in handled_fs` or `for <path>`.
        place: String,
    },
    /// A right or scope that the plan's ABI does not know.
    #[error("invalid landlock plan: '{what}' needs ABI {needs} but the plan is for ABI {abi}")]
    NeedsNewerAbi {
        /// The right or scope.
        what: &'static str,
        /// The ABI that brought it.
        needs: u32,
        /// The plan's ABI.
        abi: u32,
    },
    /// `handled_fs` leaves out rights of the plan's ABI, which would then be
    /// allowed everywhere.
    #[error(
        "invalid landlock plan: handled_fs leaves out {} of ABI {abi}, which would be allowed everywhere",
        missing.join(", ")
    )]
    IncompleteHandled {
        /// The plan's ABI.
        abi: u32,
        /// The rights left out.
        missing: Vec<&'static str>,
    },
    /// The kernel refused to create the ruleset.
    #[error("failed to create the landlock ruleset: {source}")]
    CreateRuleset {
        /// The cause.
        source: landlock::RulesetError,
    },
    /// A rule's path exists but could not be opened.
    #[error("failed to open {path} for a landlock rule: {source}")]
    OpenPath {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The kernel refused a rule.
    #[error("failed to add the landlock rule for {path}: {source}")]
    AddRule {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: landlock::RulesetError,
    },
    /// The kernel refused a TCP port rule.
    #[error("failed to add the landlock rule for TCP port {port}: {source}")]
    AddPortRule {
        /// The port.
        port: u16,
        /// The cause.
        source: landlock::RulesetError,
    },
    /// `no_new_privs` or `landlock_restrict_self` failed.
    #[error("failed to restrict the calling thread with landlock: {source}")]
    RestrictSelf {
        /// The cause.
        source: landlock::RulesetError,
    },
    /// The ruleset was enforced only in part.
    #[error("landlock was {status} instead of fully enforced (ABI {abi} planned)")]
    NotFullyEnforced {
        /// The plan's ABI.
        abi: u32,
        /// What the kernel did.
        status: &'static str,
    },
}
