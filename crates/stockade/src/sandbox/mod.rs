//! The async library API (SPEC section 6): a [`Sandbox`] is a policy ready
//! to run commands; [`Sandbox::command`] builds one like
//! `tokio::process::Command` and returns a [`Child`] whose stdio you can
//! stream, or its captured [`Output`]; [`crate::Sessions`] keeps commands
//! running for an agent to talk to.
//!
//! Each command runs in a sandbox of its own, started by a launch helper
//! (see `launch`): the program that uses this API must call
//! [`crate::helper_if_requested`] first thing in a plain `fn main` (before
//! any runtime starts threads), or name the `stockade` binary with
//! [`Sandbox::helper`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), stockade::Error> {
//! use stockade::{PolicyRequest, Sandbox};
//! let sandbox = Sandbox::new(PolicyRequest::default())?;
//! let output = sandbox.command("cargo").arg("test").output().await?;
//! println!("exit {}: {}", output.record.exit_code, output.stdout.text());
//! # Ok(()) }
//! ```

mod capture;
mod child;
mod command;
mod narrow;
pub(crate) mod pty;

pub use capture::{Capture, Captured};
pub use child::Child;
pub(crate) use child::pass_signal;
pub use command::{Command, Output};
pub use narrow::Narrowing;
pub use pty::{Master, WindowSize};

use crate::error::Error;
use crate::load::{Loaded, PolicyRequest};
use std::path::PathBuf;
use std::sync::Arc;

/// A policy, resolved once and ready to run commands under.
#[derive(Clone, Debug)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    request: PolicyRequest,
    loaded: Loaded,
    helper: PathBuf,
    allow_weaker: Vec<String>,
}

impl Sandbox {
    /// Resolves `request` (policy file, profile, overrides) now, so that a
    /// bad policy fails here rather than at the first command. The helper
    /// is this program ([`crate::helper_if_requested`] must be the first
    /// thing its `main` calls).
    ///
    /// # Errors
    ///
    /// The policy is invalid, or this program's path is unknown.
    pub fn new(request: PolicyRequest) -> Result<Sandbox, Error> {
        let helper = std::env::current_exe().map_err(|source| Error::Io {
            action: "find this program's path (the launch helper)".into(),
            source,
        })?;
        Sandbox::with_helper(request, helper, Vec::new())
    }

    fn with_helper(
        request: PolicyRequest,
        helper: PathBuf,
        allow_weaker: Vec<String>,
    ) -> Result<Sandbox, Error> {
        let loaded = crate::load(&request)?;
        Ok(Sandbox {
            inner: Arc::new(Inner {
                request,
                loaded,
                helper,
                allow_weaker,
            }),
        })
    }

    /// The same sandbox, launched through `binary` (the `stockade` CLI, or
    /// any program whose `main` calls [`crate::helper_if_requested`]).
    pub fn helper(&self, binary: impl Into<PathBuf>) -> Sandbox {
        let mut inner = self.clone_inner();
        inner.helper = binary.into();
        Sandbox {
            inner: Arc::new(inner),
        }
    }

    /// The same sandbox, running even though these named protections
    /// cannot be enforced here (`--allow-weaker`; recorded in each run's
    /// `enforcement.waived`).
    pub fn allow_weaker(&self, names: &[&str]) -> Sandbox {
        let mut inner = self.clone_inner();
        inner.allow_weaker = names.iter().map(|s| s.to_string()).collect();
        Sandbox {
            inner: Arc::new(inner),
        }
    }

    fn clone_inner(&self) -> Inner {
        Inner {
            request: self.inner.request.clone(),
            loaded: self.inner.loaded.clone(),
            helper: self.inner.helper.clone(),
            allow_weaker: self.inner.allow_weaker.clone(),
        }
    }

    /// The resolved policy and where it came from.
    pub fn loaded(&self) -> &Loaded {
        &self.inner.loaded
    }

    /// How this machine enforces the policy (what `explain` prints).
    pub fn plan(&self) -> crate::EnforcementPlan {
        crate::plan(&self.inner.loaded.policy, &self.inner.allow_weaker)
    }

    /// `Ok` when commands can run under this policy here; else the error
    /// a run would end with (exit 125, naming the rule, with a hint).
    ///
    /// # Errors
    ///
    /// A rule cannot be enforced on this machine and was not waived.
    pub fn ready(&self) -> Result<(), Error> {
        crate::run::refuse_blocked(&self.plan())
    }

    /// A sandbox for one request under this one: the same policy with
    /// fewer writable roots or less network, never more.
    ///
    /// # Errors
    ///
    /// The narrowing would widen the policy (the message says which part),
    /// or names a path that does not resolve.
    pub fn narrowed(&self, narrowing: &Narrowing) -> Result<Sandbox, Error> {
        if narrowing.is_empty() {
            return Ok(self.clone());
        }
        let request = narrowing.apply(&self.inner.request, &self.inner.loaded.policy)?;
        Sandbox::with_helper(
            request,
            self.inner.helper.clone(),
            self.inner.allow_weaker.clone(),
        )
    }

    /// A command to run in this sandbox.
    pub fn command(&self, program: impl Into<String>) -> Command {
        Command::new(self.clone(), program.into())
    }

    pub(crate) fn request(&self) -> &PolicyRequest {
        &self.inner.request
    }

    pub(crate) fn helper_path(&self) -> &std::path::Path {
        &self.inner.helper
    }

    pub(crate) fn weaker(&self) -> &[String] {
        &self.inner.allow_weaker
    }

    /// `limits.max_output`: bytes kept per captured stream.
    pub fn max_output(&self) -> usize {
        usize::try_from(self.inner.loaded.policy.limits.max_output).unwrap_or(usize::MAX)
    }
}
