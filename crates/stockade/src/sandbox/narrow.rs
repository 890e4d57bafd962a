//! What one request may ask of a sandbox it runs under: fewer writable
//! roots, less network. Never more: a request that would widen the policy
//! is refused with an error that names what it asked for.

use crate::error::Error;
use crate::load::PolicyRequest;
use stockade_policy::{NetworkMode, PolicyError, ResolvedPolicy};

/// A narrowing of a sandbox's policy for one request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Narrowing {
    /// The only writable roots (relative to the policy's `:cwd`); each
    /// must be writable already.
    pub writable: Option<Vec<String>>,
    /// The network mode; `off` < `proxy` < `full`, at most the policy's.
    pub network: Option<NetworkMode>,
}

/// How much a mode lets through.
fn rank(mode: NetworkMode) -> u8 {
    match mode {
        NetworkMode::Off => 0,
        NetworkMode::Proxy => 1,
        NetworkMode::Full => 2,
    }
}

fn name(mode: NetworkMode) -> &'static str {
    match mode {
        NetworkMode::Off => "off",
        NetworkMode::Proxy => "proxy",
        NetworkMode::Full => "full",
    }
}

impl Narrowing {
    /// Nothing to narrow.
    pub fn is_empty(&self) -> bool {
        self.writable.is_none() && self.network.is_none()
    }

    /// `request` with this narrowing, checked against what it resolved to.
    pub(crate) fn apply(
        &self,
        request: &PolicyRequest,
        policy: &ResolvedPolicy,
    ) -> Result<PolicyRequest, Error> {
        let mut narrowed = request.clone();
        if let Some(mode) = self.network {
            let current = policy.network.mode;
            if rank(mode) > rank(current) {
                return Err(Error::Policy(PolicyError::InvalidFlag {
                    flag: "network".into(),
                    value: name(mode).into(),
                    message: format!(
                        "the policy allows network '{}', and a request may only narrow it (off < proxy < full)",
                        name(current)
                    ),
                    hint: format!("ask for network '{}' or less, or omit it", name(current)),
                }));
            }
            if mode != current {
                narrowed.overrides.network = Some(name(mode).into());
                if mode != NetworkMode::Proxy {
                    narrowed.overrides.allow_domains.clear();
                }
            }
        }
        if let Some(writable) = &self.writable {
            // Checked at resolution, where every writable root is known.
            narrowed.overrides.only_writable = Some(writable.clone());
        }
        Ok(narrowed)
    }
}
