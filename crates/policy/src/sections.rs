//! The non-filesystem sections of a profile chain (`network`, `protect`,
//! `env`, `limits`), validated with their locations and merged parent
//! first: a value the child sets replaces the parent's, lists included;
//! `env.set` merges by name.

use crate::context::ResolveContext;
use crate::domain::DomainPattern;
use crate::env::{EnvPattern, Inherit, validate_name};
use crate::error::PolicyError;
use crate::file::{PolicyFile, RawProfile};
use crate::net_range::IpRange;
use crate::resolve::{duration, parse_git, parse_inherit, parse_pattern, parse_range, size};
use crate::resolved::{GitMode, NetworkMode};
use crate::source::{Origin, SourceText};
use indexmap::IndexMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The names protected when no profile in the chain says otherwise.
pub const DEFAULT_PROTECTED_NAMES: &[&str] = &[".git", ".stockade", ".agents", ".codex"];

/// Most processes accepted in `max_processes`.
const MAX_PROCESSES: i64 = 4_194_304;

/// The merged sections.
#[derive(Debug, Default)]
pub(crate) struct Sections {
    pub mode: Option<NetworkMode>,
    pub mode_origin: Option<Origin>,
    pub allow: Vec<DomainPattern>,
    pub deny: Vec<DomainPattern>,
    pub allow_ranges: Vec<IpRange>,
    pub allow_local_binding: Option<bool>,
    /// Socket paths with the directory they are relative to.
    pub unix_sockets: Vec<(PathBuf, PathBuf)>,
    pub protect_names: Option<Vec<String>>,
    pub git: Option<GitMode>,
    pub inherit: Option<Inherit>,
    pub keep: Option<Vec<String>>,
    pub set: Option<IndexMap<String, String>>,
    pub strip: Option<Vec<EnvPattern>>,
    pub timeout: Option<std::time::Duration>,
    pub max_processes: Option<u64>,
    pub max_memory: Option<u64>,
    pub max_output: Option<u64>,
}

/// Validates values of one profile against its source text.
struct Check<'a> {
    text: &'a SourceText,
}

impl Check<'_> {
    fn err<T>(&self, at: &Spanned<T>, message: String, hint: impl Into<String>) -> PolicyError {
        PolicyError::invalid(self.text.location(at.span().start), message, hint)
    }

    fn list<T, E>(
        &self,
        values: &[Spanned<String>],
        parse: impl Fn(&str) -> Result<T, E>,
        explain: impl Fn(E) -> (String, String),
    ) -> Result<Vec<T>, PolicyError> {
        values
            .iter()
            .map(|v| {
                parse(v.get_ref()).map_err(|e| {
                    let (message, hint) = explain(e);
                    self.err(v, message, hint)
                })
            })
            .collect()
    }
}

impl Sections {
    /// Lays one profile's sections over what is merged so far.
    pub fn apply(
        &mut self,
        name: &str,
        file: &PolicyFile,
        raw: &RawProfile,
        ctx: &ResolveContext,
    ) -> Result<(), PolicyError> {
        let check = Check { text: &file.text };
        if let Some(net) = &raw.network {
            if let Some(mode) = &net.mode {
                let parsed = NetworkMode::parse(mode.get_ref()).ok_or_else(|| {
                    check.err(
                        mode,
                        format!("unknown network mode '{}'", mode.get_ref()),
                        "use \"off\", \"proxy\" or \"full\"",
                    )
                })?;
                self.mode = Some(parsed);
                self.mode_origin = Some(Origin::Policy {
                    profile: name.into(),
                    location: file.text.location(mode.span().start),
                });
            }
            let domain = |e: crate::domain::DomainError| (e.to_string(), e.hint);
            if let Some(allow) = &net.allow {
                self.allow = check.list(allow, str::parse::<DomainPattern>, domain)?;
            }
            if let Some(deny) = &net.deny {
                self.deny = check.list(deny, str::parse::<DomainPattern>, domain)?;
            }
            if let Some(ranges) = &net.allow_ranges {
                self.allow_ranges = check.list(ranges, parse_range, |e| (e.to_string(), e.hint))?;
            }
            if let Some(binding) = &net.allow_local_binding {
                self.allow_local_binding = Some(*binding.get_ref());
            }
            if let Some(sockets) = &net.unix_sockets {
                let base = base_dir(file);
                self.unix_sockets = check
                    .list(sockets, |s| socket_path(s, ctx), |m| m)?
                    .into_iter()
                    .map(|p| (p, base.clone()))
                    .collect();
            }
        }
        if let Some(protect) = &raw.protect {
            if let Some(names) = &protect.names {
                self.protect_names = Some(check.list(names, protected_name, |m| m)?);
            }
            if let Some(git) = &protect.git {
                self.git = Some(parse_git(git.get_ref()).ok_or_else(|| {
                    check.err(
                        git,
                        format!("unknown git mode '{}'", git.get_ref()),
                        "use \"read-only\" or \"commit\"",
                    )
                })?);
            }
        }
        if let Some(env) = &raw.env {
            if let Some(inherit) = &env.inherit {
                self.inherit = Some(parse_inherit(inherit.get_ref()).ok_or_else(|| {
                    check.err(
                        inherit,
                        format!("unknown inherit mode '{}'", inherit.get_ref()),
                        "use \"all\", \"core\" or \"none\"",
                    )
                })?);
            }
            if let Some(keep) = &env.keep {
                self.keep = Some(check.list(
                    keep,
                    |n| validate_name(n).map(|()| n.to_string()),
                    |e| (e.to_string(), e.hint),
                )?);
            }
            if let Some(set) = &env.set {
                let merged = self.set.get_or_insert_with(IndexMap::new);
                for (key, value) in set {
                    validate_name(key.get_ref())
                        .map_err(|e| check.err(key, e.to_string(), e.hint))?;
                    merged.insert(key.get_ref().clone(), value.get_ref().clone());
                }
            }
            if let Some(strip) = &env.strip {
                self.strip = Some(check.list(strip, parse_pattern, |e| (e.to_string(), e.hint))?);
            }
        }
        if let Some(limits) = &raw.limits {
            if let Some(t) = &limits.timeout {
                self.timeout = Some(
                    duration(t.get_ref())
                        .map_err(|(m, h)| check.err(t, format!("invalid timeout: {m}"), h))?,
                );
            }
            if let Some(n) = &limits.max_processes {
                if !(1..=MAX_PROCESSES).contains(n.get_ref()) {
                    return Err(check.err(
                        n,
                        format!("max_processes {} is out of range", n.get_ref()),
                        format!("use a number from 1 to {MAX_PROCESSES}"),
                    ));
                }
                self.max_processes = Some(*n.get_ref() as u64);
            }
            if let Some(m) = &limits.max_memory {
                let bytes = size(m.get_ref())
                    .map_err(|(msg, h)| check.err(m, format!("invalid max_memory: {msg}"), h))?;
                if bytes < 1 << 20 {
                    return Err(check.err(
                        m,
                        "max_memory is below 1MiB, too little to start any program".into(),
                        "use at least \"64MiB\"",
                    ));
                }
                self.max_memory = Some(bytes);
            }
            if let Some(o) = &limits.max_output {
                let bytes = size(o.get_ref())
                    .map_err(|(msg, h)| check.err(o, format!("invalid max_output: {msg}"), h))?;
                if bytes < 1024 {
                    return Err(check.err(
                        o,
                        "max_output is below 1KiB".into(),
                        "use at least \"64KiB\"",
                    ));
                }
                self.max_output = Some(bytes);
            }
        }
        Ok(())
    }
}

fn base_dir(file: &PolicyFile) -> PathBuf {
    match file.text.source() {
        crate::source::Source::File { path } => path
            .parent()
            .map_or_else(|| PathBuf::from("/"), Path::to_path_buf),
        crate::source::Source::BuiltIn => PathBuf::from("/"),
    }
}

fn socket_path(text: &str, ctx: &ResolveContext) -> Result<PathBuf, (String, String)> {
    if text.is_empty() || text.contains('\0') {
        return Err((
            "empty or NUL-containing socket path".into(),
            "write the socket's path".into(),
        ));
    }
    match text.strip_prefix("~/") {
        Some(rest) => ctx
            .home
            .as_ref()
            .map(|h| h.join(rest))
            .ok_or_else(|| ("the home directory is unknown".into(), "set HOME".into())),
        None => Ok(PathBuf::from(text)),
    }
}

fn protected_name(name: &str) -> Result<String, (String, String)> {
    let bad = name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']);
    if bad {
        return Err((
            format!("'{name}' is not a file name"),
            "protect.names holds single names like \".git\", not paths; use a \"none\" or \"read\" rule for paths".into(),
        ));
    }
    Ok(name.to_string())
}
