//! Resolution: a policy file (or none), a profile name and command-line
//! overrides become one [`ResolvedPolicy`].

use crate::access::Access;
use crate::builtin::{BUILTIN_PROFILES, DEFAULT_PROFILE, builtin};
use crate::context::ResolveContext;
use crate::derive::derive;
use crate::domain::DomainPattern;
use crate::env::{EnvPattern, EnvPolicy, Inherit, default_strip, validate_name};
use crate::error::PolicyError;
use crate::file::{PolicyFile, RawProfile};
use crate::layer::{Entry, Layer, Merged};
use crate::limits::{DURATION_HINT, SIZE_HINT, parse_duration, parse_size};
use crate::net_range::IpRange;
use crate::resolved::{
    GitMode, Limits, NetworkMode, NetworkPolicy, Note, ProtectPolicy, ResolvedPolicy,
};
use crate::sections::Sections;
use crate::source::Origin;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Options layered on top of the chosen profile (SPEC 2, POLICY OPTIONS).
/// Paths are as the user typed them; relative ones resolve against
/// [`ResolveContext::invocation_dir`].
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Overrides {
    /// `-w, --writable`.
    pub writable: Vec<String>,
    /// `-r, --readable`.
    pub readable: Vec<String>,
    /// `--deny`.
    pub deny: Vec<String>,
    /// `-n, --network`.
    pub network: Option<String>,
    /// `--allow-domain` (implies `--network proxy`).
    pub allow_domains: Vec<String>,
    /// `--deny-domain`.
    pub deny_domains: Vec<String>,
    /// `--env-keep`.
    pub env_keep: Vec<String>,
    /// `--env-set K=V`.
    pub env_set: Vec<String>,
    /// Narrowing (a request under someone else's policy, e.g. an MCP tool
    /// call): the only writable roots, relative to the working directory.
    /// Each must already be writable; every other writable path becomes
    /// read-only. Resolution fails, naming the path, if one is not.
    pub only_writable: Option<Vec<String>>,
}

/// Deepest `extends` chain accepted.
const MAX_EXTENDS_DEPTH: usize = 32;

/// A profile found by name, in the user's file or the built-ins.
struct Found<'a> {
    name: String,
    file: &'a PolicyFile,
    profile: &'a Spanned<RawProfile>,
}

/// Resolves `profile` (or the file's `default_profile`, or `workspace`)
/// from `file` and the built-ins, with `overrides` on top.
pub fn resolve(
    file: Option<&PolicyFile>,
    profile: Option<&str>,
    overrides: &Overrides,
    ctx: &ResolveContext,
) -> Result<ResolvedPolicy, PolicyError> {
    crate::paths::cached(|| resolve_uncached(file, profile, overrides, ctx))
}

fn resolve_uncached(
    file: Option<&PolicyFile>,
    profile: Option<&str>,
    overrides: &Overrides,
    ctx: &ResolveContext,
) -> Result<ResolvedPolicy, PolicyError> {
    if let Some(file) = file {
        check_file(file)?;
    }
    let cwd = crate::paths::canonicalize(Path::new("/"), &ctx.cwd);
    if !cwd.exists {
        return Err(PolicyError::Context {
            what: "the working directory".into(),
            message: format!("{} does not exist", ctx.cwd.display()),
            hint: "create it, or pass an existing directory with --cwd".into(),
        });
    }
    let ctx = &ResolveContext {
        cwd: cwd.path,
        ..ctx.clone()
    };
    let name = match (profile, file.and_then(|f| f.body.default_profile.as_ref())) {
        (Some(name), _) => name.to_string(),
        (None, Some(default)) => default.get_ref().clone(),
        (None, None) => DEFAULT_PROFILE.to_string(),
    };
    let chain = chain(file, &name)?;
    let mut notes = Vec::new();
    let mut merged = Merged::default();
    let mut sections = Sections::default();
    for found in &chain {
        merged.push(profile_layer(found, ctx, &mut notes)?);
        sections.apply(&found.name, found.file, found.profile.get_ref(), ctx)?;
    }
    merged.push(override_layer(overrides, ctx, &mut notes)?);
    if let Some(only) = &overrides.only_writable {
        crate::narrow::narrow_writable(&mut merged, only, &ctx.cwd)?;
    }
    notes.append(&mut merged.notes);
    let mut policy = ResolvedPolicy {
        profile: name,
        chain: chain.iter().map(|f| f.name.clone()).collect(),
        policy_file: file.and_then(|f| match f.text.source() {
            crate::source::Source::File { path } => Some(path.to_path_buf()),
            crate::source::Source::BuiltIn => None,
        }),
        cwd: ctx.cwd.clone(),
        rules: merged.rules.into_values().collect(),
        deny_globs: merged.globs,
        network: network(&sections, overrides)?,
        protect: ProtectPolicy {
            names: sections.protect_names.clone().unwrap_or_else(|| {
                crate::sections::DEFAULT_PROTECTED_NAMES
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            }),
            git: sections.git.unwrap_or(GitMode::ReadOnly),
        },
        env: env(&sections, overrides)?,
        limits: Limits {
            timeout: sections.timeout,
            max_processes: sections.max_processes,
            max_memory: sections.max_memory,
            max_output: sections.max_output.unwrap_or(DEFAULT_MAX_OUTPUT),
        },
        notes: notes
            .into_iter()
            .map(|message| Note {
                path: None,
                message,
            })
            .collect(),
    };
    derive(&mut policy, ctx);
    Ok(policy)
}

/// Captured output kept per stream when `max_output` is not set.
pub const DEFAULT_MAX_OUTPUT: u64 = 16 << 20;

/// Checks what a file says about profiles as a whole: no profile shadows a
/// built-in, and `default_profile` names one that exists.
fn check_file(file: &PolicyFile) -> Result<(), PolicyError> {
    for name in file.body.profiles.keys() {
        if BUILTIN_PROFILES.contains(&name.get_ref().as_str()) {
            return Err(PolicyError::invalid(
                file.text.location(name.span().start),
                format!(
                    "profile '{}' has the name of a built-in profile",
                    name.get_ref()
                ),
                format!(
                    "choose another name and write extends = \"{}\" to build on the built-in",
                    name.get_ref()
                ),
            ));
        }
    }
    if let Some(default) = &file.body.default_profile {
        let name = default.get_ref();
        if find(Some(file), name).is_none() {
            return Err(PolicyError::UnknownProfile {
                name: name.clone(),
                location: Some(file.text.location(default.span().start)),
                known: known_profiles(Some(file)),
            });
        }
    }
    Ok(())
}

fn find<'a>(file: Option<&'a PolicyFile>, name: &str) -> Option<Found<'a>> {
    file.into_iter().chain([builtin()]).find_map(|f| {
        f.body
            .profiles
            .iter()
            .find(|(k, _)| k.get_ref() == name)
            .map(|(_, profile)| Found {
                name: name.to_string(),
                file: f,
                profile,
            })
    })
}

fn known_profiles(file: Option<&PolicyFile>) -> Vec<String> {
    let mut names: Vec<String> = BUILTIN_PROFILES.iter().map(|s| s.to_string()).collect();
    if let Some(file) = file {
        names.extend(file.body.profiles.keys().map(|k| k.get_ref().clone()));
    }
    names
}

/// The profile and its ancestors, parent first.
fn chain<'a>(file: Option<&'a PolicyFile>, name: &str) -> Result<Vec<Found<'a>>, PolicyError> {
    let mut chain: Vec<Found<'a>> = Vec::new();
    let mut next = name.to_string();
    let mut asked_at = None;
    loop {
        let found = find(file, &next).ok_or_else(|| PolicyError::UnknownProfile {
            name: next.clone(),
            location: asked_at.clone(),
            known: known_profiles(file),
        })?;
        let raw = found.profile.get_ref();
        if raw.extends.is_none() && raw.filesystem.is_empty() {
            return Err(PolicyError::invalid(
                found.file.text.location(found.profile.span().start),
                format!(
                    "profile '{next}' extends nothing and has no filesystem rules, so it could run nothing"
                ),
                "add extends = \"workspace\" (or \"read-only\"), or a [filesystem] table",
            ));
        }
        let extends = raw.extends.clone();
        chain.push(found);
        let Some(parent) = extends else { break };
        let location = chain
            .last()
            .map(|f| f.file.text.location(parent.span().start));
        if chain.iter().any(|f| &f.name == parent.get_ref()) || chain.len() > MAX_EXTENDS_DEPTH {
            let mut names: Vec<String> = chain.iter().map(|f| f.name.clone()).collect();
            names.push(parent.get_ref().clone());
            return Err(PolicyError::ExtendsCycle {
                profile: next,
                location: location.unwrap_or_else(|| builtin().text.location(0)),
                chain: names,
            });
        }
        next = parent.into_inner();
        asked_at = location;
    }
    chain.reverse();
    Ok(chain)
}

/// The filesystem table of one profile as a layer.
fn profile_layer(
    found: &Found<'_>,
    ctx: &ResolveContext,
    notes: &mut Vec<String>,
) -> Result<Layer, PolicyError> {
    let text = &found.file.text;
    let base: PathBuf = match text.source() {
        crate::source::Source::File { path } => path
            .parent()
            .map_or_else(|| PathBuf::from("/"), Path::to_path_buf),
        crate::source::Source::BuiltIn => PathBuf::from("/"),
    };
    let mut layer = Layer::default();
    let profile: std::sync::Arc<str> = found.name.as_str().into();
    for (key, value) in &found.profile.get_ref().filesystem {
        let access = Access::parse(value.get_ref()).ok_or_else(|| {
            PolicyError::invalid(
                text.location(value.span().start),
                format!(
                    "unknown access '{}' for '{}'",
                    value.get_ref(),
                    key.get_ref()
                ),
                "use \"read\", \"write\" or \"none\"",
            )
        })?;
        let location = text.location(key.span().start);
        let origin = Origin::Policy {
            profile: profile.clone(),
            location: location.clone(),
        };
        let error = |message: String, hint: String| PolicyError::Invalid {
            location: location.clone(),
            message,
            hint,
        };
        layer.add(
            Entry {
                key: key.get_ref(),
                access,
                origin,
                base: &base,
            },
            ctx,
            notes,
            &error,
        )?;
    }
    Ok(layer)
}

/// The command-line path options as a layer on top of the profile.
fn override_layer(
    overrides: &Overrides,
    ctx: &ResolveContext,
    notes: &mut Vec<String>,
) -> Result<Layer, PolicyError> {
    let mut layer = Layer::default();
    let groups = [
        ("--writable", Access::Write, &overrides.writable),
        ("--readable", Access::Read, &overrides.readable),
        ("--deny", Access::None, &overrides.deny),
    ];
    for (flag, access, values) in groups {
        for value in values {
            let origin = Origin::Flag {
                flag: flag.into(),
                value: value.clone(),
            };
            let error = |message: String, hint: String| PolicyError::InvalidFlag {
                flag: flag.into(),
                value: value.clone(),
                message,
                hint,
            };
            layer.add(
                Entry {
                    key: value,
                    access,
                    origin,
                    base: &ctx.invocation_dir,
                },
                ctx,
                notes,
                &error,
            )?;
        }
    }
    Ok(layer)
}

fn flag_error(flag: &str, value: &str, message: String, hint: String) -> PolicyError {
    PolicyError::InvalidFlag {
        flag: flag.into(),
        value: value.into(),
        message,
        hint,
    }
}

fn network(sections: &Sections, overrides: &Overrides) -> Result<NetworkPolicy, PolicyError> {
    let mut mode = sections.mode.unwrap_or(NetworkMode::Off);
    let mut origin = sections
        .mode_origin
        .clone()
        .unwrap_or_else(|| Origin::derived("default network mode", None));
    if let Some(text) = &overrides.network {
        mode = NetworkMode::parse(text).ok_or_else(|| {
            flag_error(
                "--network",
                text,
                "unknown network mode".into(),
                "use off, proxy or full".into(),
            )
        })?;
        origin = Origin::Flag {
            flag: "--network".into(),
            value: text.clone(),
        };
    }
    if !overrides.allow_domains.is_empty() {
        match overrides.network.as_deref() {
            Some("off") | Some("full") => {
                return Err(flag_error(
                    "--allow-domain",
                    &overrides.allow_domains[0],
                    format!(
                        "--allow-domain needs --network proxy, but --network is {}",
                        overrides.network.as_deref().unwrap_or("")
                    ),
                    "drop --network, or pass --network proxy".into(),
                ));
            }
            _ if mode != NetworkMode::Proxy => {
                mode = NetworkMode::Proxy;
                origin = Origin::Flag {
                    flag: "--allow-domain".into(),
                    value: overrides.allow_domains[0].clone(),
                };
            }
            _ => {}
        }
    }
    let mut allow = sections.allow.clone();
    let mut deny = sections.deny.clone();
    for (flag, values, out) in [
        ("--allow-domain", &overrides.allow_domains, &mut allow),
        ("--deny-domain", &overrides.deny_domains, &mut deny),
    ] {
        for value in values {
            let pattern: DomainPattern =
                value.parse().map_err(|e: crate::domain::DomainError| {
                    flag_error(flag, value, e.message, e.hint)
                })?;
            out.push(pattern);
        }
    }
    let unix_sockets = sections
        .unix_sockets
        .iter()
        .map(|(path, base)| crate::paths::canonicalize(base, path).path)
        .collect();
    Ok(NetworkPolicy {
        mode,
        allow,
        deny,
        allow_ranges: sections.allow_ranges.clone(),
        allow_local_binding: sections.allow_local_binding.unwrap_or(false),
        unix_sockets,
        origin,
    })
}

fn env(sections: &Sections, overrides: &Overrides) -> Result<EnvPolicy, PolicyError> {
    let mut policy = EnvPolicy {
        inherit: sections.inherit.unwrap_or(Inherit::Core),
        keep: sections.keep.clone().unwrap_or_default(),
        set: sections.set.clone().unwrap_or_default(),
        strip: sections.strip.clone().unwrap_or_else(default_strip),
    };
    for name in &overrides.env_keep {
        validate_name(name).map_err(|e| flag_error("--env-keep", name, e.message, e.hint))?;
        policy.keep.push(name.clone());
    }
    for pair in &overrides.env_set {
        let (key, value) = pair.split_once('=').ok_or_else(|| {
            flag_error(
                "--env-set",
                pair,
                "expected NAME=VALUE".into(),
                "write it as --env-set NAME=VALUE".into(),
            )
        })?;
        validate_name(key).map_err(|e| flag_error("--env-set", pair, e.message, e.hint))?;
        policy.set.insert(key.to_string(), value.to_string());
    }
    Ok(policy)
}

/// Parsers shared with `sections`.
pub(crate) fn parse_pattern(text: &str) -> Result<EnvPattern, crate::env::EnvError> {
    text.parse()
}

pub(crate) fn parse_range(text: &str) -> Result<IpRange, crate::net_range::RangeError> {
    text.parse()
}

pub(crate) fn parse_git(text: &str) -> Option<GitMode> {
    match text {
        "read-only" => Some(GitMode::ReadOnly),
        "commit" => Some(GitMode::Commit),
        _ => None,
    }
}

pub(crate) fn parse_inherit(text: &str) -> Option<Inherit> {
    match text {
        "all" => Some(Inherit::All),
        "core" => Some(Inherit::Core),
        "none" => Some(Inherit::None),
        _ => None,
    }
}

pub(crate) fn duration(text: &str) -> Result<std::time::Duration, (String, &'static str)> {
    parse_duration(text).map_err(|m| (m, DURATION_HINT))
}

pub(crate) fn size(text: &str) -> Result<u64, (String, &'static str)> {
    parse_size(text).map_err(|m| (m, SIZE_HINT))
}
