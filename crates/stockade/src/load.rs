//! Choosing, reading and resolving the policy for an invocation.

use crate::context::process_context;
use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use stockade_policy::{
    Overrides, PolicyFile, PolicyLocation, ResolveContext, ResolvedPolicy, discover, resolve,
    user_config_path,
};

/// Which policy to use (SPEC 2, POLICY OPTIONS).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicyRequest {
    /// `--config FILE`.
    pub config: Option<PathBuf>,
    /// `--profile NAME`.
    pub profile: Option<String>,
    /// `--cwd DIR`.
    pub cwd: Option<PathBuf>,
    /// The options layered on the profile.
    pub overrides: Overrides,
}

/// A resolved policy and where it came from.
#[derive(Clone, Debug, Serialize)]
pub struct Loaded {
    /// Which file (or none) the policy came from.
    pub location: PolicyLocation,
    /// The resolved policy.
    pub policy: ResolvedPolicy,
}

/// Finds the policy file, reads it, and resolves the requested profile
/// against this process's context.
pub fn load(request: &PolicyRequest) -> Result<Loaded, Error> {
    let ctx = process_context(request.cwd.as_deref())?;
    load_with(request, &ctx)
}

/// [`load`] with a given context.
pub fn load_with(request: &PolicyRequest, ctx: &ResolveContext) -> Result<Loaded, Error> {
    let user_config = user_config_path(ctx.platform, &ctx.env);
    // `--config` is relative to where stockade was started, not to `--cwd`.
    let config = request.config.as_ref().map(|c| ctx.invocation_dir.join(c));
    let location = discover(config.as_deref(), &ctx.cwd, user_config.as_deref());
    let file = location.path().map(PolicyFile::read).transpose()?;
    let policy = resolve(
        file.as_ref(),
        request.profile.as_deref(),
        &request.overrides,
        ctx,
    )?;
    Ok(Loaded { location, policy })
}
