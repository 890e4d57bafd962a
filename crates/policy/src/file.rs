//! The raw policy file: what the user wrote, with source spans, before any
//! path is resolved. See `resolve` for what the values mean.

use crate::error::PolicyError;
use crate::source::{Source, SourceText};
use indexmap::IndexMap;
use serde::Deserialize;
use std::path::Path;
use toml::Spanned;

/// A parsed policy file.
#[derive(Debug, Clone)]
pub struct PolicyFile {
    /// The text it was parsed from (kept for error locations).
    pub text: SourceText,
    /// Its contents.
    pub body: RawPolicy,
}

/// The top level of a policy file.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    /// The profile used when none is named.
    pub default_profile: Option<Spanned<String>>,
    /// Named profiles.
    #[serde(default)]
    pub profiles: IndexMap<Spanned<String>, Spanned<RawProfile>>,
}

/// One profile as written.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawProfile {
    /// The parent profile, merged first.
    pub extends: Option<Spanned<String>>,
    /// Path (or `none` glob) → access.
    #[serde(default)]
    pub filesystem: IndexMap<Spanned<String>, Spanned<String>>,
    /// Network rules.
    pub network: Option<RawNetwork>,
    /// Protected names.
    pub protect: Option<RawProtect>,
    /// Environment policy.
    pub env: Option<RawEnv>,
    /// Resource limits.
    pub limits: Option<RawLimits>,
}

/// `[profiles.NAME.network]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawNetwork {
    /// `off`, `proxy` or `full`.
    pub mode: Option<Spanned<String>>,
    /// Domains the proxy lets through.
    pub allow: Option<Vec<Spanned<String>>>,
    /// Domains the proxy refuses (checked first).
    pub deny: Option<Vec<Spanned<String>>>,
    /// Private/loopback ranges a resolved name may reach.
    pub allow_ranges: Option<Vec<Spanned<String>>>,
    /// May the command listen on and talk to its own loopback.
    pub allow_local_binding: Option<Spanned<bool>>,
    /// Host unix sockets it may connect to.
    pub unix_sockets: Option<Vec<Spanned<String>>>,
}

/// `[profiles.NAME.protect]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawProtect {
    /// Names protected under every writable root.
    pub names: Option<Vec<Spanned<String>>>,
    /// `read-only` or `commit`.
    pub git: Option<Spanned<String>>,
}

/// `[profiles.NAME.env]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawEnv {
    /// `all`, `core` or `none`.
    pub inherit: Option<Spanned<String>>,
    /// Extra variables passed through.
    pub keep: Option<Vec<Spanned<String>>>,
    /// Variables set to fixed values.
    pub set: Option<IndexMap<Spanned<String>, Spanned<String>>>,
    /// Patterns of variables removed whatever their source.
    pub strip: Option<Vec<Spanned<String>>>,
}

/// `[profiles.NAME.limits]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    /// Wall-clock limit, e.g. `"10m"`.
    pub timeout: Option<Spanned<String>>,
    /// Most processes (and threads) at once.
    pub max_processes: Option<Spanned<i64>>,
    /// Memory limit, e.g. `"8GiB"`.
    pub max_memory: Option<Spanned<String>>,
    /// Captured output kept per stream, e.g. `"16MiB"`.
    pub max_output: Option<Spanned<String>>,
}

/// Largest policy text accepted; anything bigger is certainly a mistake.
pub const MAX_POLICY_BYTES: usize = 4 * 1024 * 1024;

impl PolicyFile {
    /// Parses policy text. Never panics; every problem is an error with a
    /// location and a hint.
    pub fn parse(text: SourceText) -> Result<PolicyFile, PolicyError> {
        if text.text().len() > MAX_POLICY_BYTES {
            return Err(PolicyError::invalid(
                text.location(0),
                format!(
                    "policy is {} bytes, more than the limit of {MAX_POLICY_BYTES}",
                    text.text().len()
                ),
                "a policy file is a short TOML text; check that --config names the right file",
            ));
        }
        match toml::from_str::<RawPolicy>(text.text()) {
            Ok(body) => Ok(PolicyFile { text, body }),
            Err(err) => {
                let offset = err.span().map_or(0, |s| s.start);
                let message = err.message().trim().to_string();
                let hint = hint_for_toml_error(&message);
                Err(PolicyError::invalid(text.location(offset), message, hint))
            }
        }
    }

    /// Reads and parses a policy file from disk.
    pub fn read(path: &Path) -> Result<PolicyFile, PolicyError> {
        let bytes = std::fs::read(path).map_err(|source| PolicyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let source = Source::File { path: path.into() };
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let offset = e.utf8_error().valid_up_to();
                let text =
                    SourceText::new(source, String::from_utf8_lossy(e.as_bytes()).into_owned());
                return Err(PolicyError::invalid(
                    text.location(offset),
                    "policy file is not valid UTF-8",
                    "save the file as UTF-8",
                ));
            }
        };
        PolicyFile::parse(SourceText::new(source, text))
    }
}

/// Turns serde/TOML messages into a fix the user can apply.
fn hint_for_toml_error(message: &str) -> String {
    if message.starts_with("unknown field") {
        format!(
            "remove the key or correct its spelling ({})",
            expected_list(message)
        )
    } else if message.starts_with("invalid type") {
        "give the value the type the key expects, e.g. a quoted string for paths and modes, \
         an array for lists, true/false for flags"
            .to_string()
    } else if message.contains("duplicate key") {
        "each key may appear once per table; keep one of them".to_string()
    } else {
        "fix the TOML syntax at this position (see docs/policy.md for the format)".to_string()
    }
}

fn expected_list(message: &str) -> String {
    match message.split_once("expected") {
        Some((_, rest)) => format!("expected{rest}"),
        None => "see docs/policy.md for the keys".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PolicyFile, PolicyError> {
        PolicyFile::parse(SourceText::new(
            Source::File {
                path: std::path::Path::new("/w/p.toml").into(),
            },
            text.into(),
        ))
    }

    #[test]
    fn keeps_spans_of_keys_and_values() {
        let f = parse("[profiles.dev.filesystem]\n\":cwd\" = \"write\"\n").unwrap();
        let (name, profile) = f.body.profiles.iter().next().unwrap();
        assert_eq!(name.get_ref(), "dev");
        let (key, value) = profile.get_ref().filesystem.iter().next().unwrap();
        assert_eq!(f.text.location(key.span().start).line, 2);
        assert_eq!(f.text.location(value.span().start).column, 10);
    }

    #[test]
    fn unknown_keys_are_errors_with_location_and_hint() {
        let err = parse("[profiles.dev]\nextend = \"workspace\"\n").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("/w/p.toml:2:1: unknown field `extend`"),
            "{msg}"
        );
        assert!(err.hint().contains("extends"), "{}", err.hint());
    }

    #[test]
    fn wrong_types_are_errors() {
        let err = parse("[profiles.dev.network]\nallow = \"github.com\"\n").unwrap_err();
        assert!(err.to_string().contains(":2:"), "{err}");
        assert!(err.to_string().contains("invalid type"), "{err}");
    }

    #[test]
    fn malformed_toml_is_an_error() {
        let err = parse("[profiles.dev\n").unwrap_err();
        assert!(err.to_string().starts_with("/w/p.toml:1:"), "{err}");
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let err =
            parse("[profiles.a.filesystem]\n\"/x\" = \"read\"\n\"/x\" = \"write\"\n").unwrap_err();
        assert!(err.to_string().contains(":3:"), "{err}");
    }
}
