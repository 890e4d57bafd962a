//! The environment of the sandboxed command (SPEC 3.6).
//!
//! [`EnvPolicy::apply`] turns the host's environment into the command's:
//!
//! 1. **inherit**: `all` passes every host variable, `core` only
//!    [`CORE_VARS`] and `LC_*`, `none` nothing; names in `keep` pass too;
//! 2. **strip**: a variable matching any `strip` pattern is removed, whether
//!    it was inherited or kept;
//! 3. **set**: the policy's own values are added or override host values
//!    (they are never stripped: the author wrote them);
//! 4. **markers**: stockade sets [`SANDBOX_MARKERS`] (`STOCKADE_SANDBOX=1`)
//!    last, so nothing can unset or fake them.
//!
//! The result is sorted by name. Proxy variables for `proxy` mode are not
//! this module's business: the network setup adds them after `apply`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use indexmap::IndexMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A malformed variable name or `strip` pattern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("invalid environment entry '{input}': {message}")]
pub struct EnvError {
    /// What was written, unchanged.
    pub input: String,
    /// What is wrong with it.
    pub message: String,
    /// What to write instead.
    pub hint: String,
}

impl EnvError {
    fn new(input: &str, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            input: input.to_owned(),
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// Which host variables the command inherits before `keep`, `strip` and
/// `set` apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Inherit {
    /// Every host variable.
    All,
    /// Only [`CORE_VARS`] and `LC_*`.
    #[default]
    Core,
    /// None.
    None,
}

/// The variables `inherit = "core"` passes, besides every `LC_*`.
pub const CORE_VARS: &[&str] = &[
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "TERM", "TZ", "TMPDIR",
];

/// The prefix of the locale variables `inherit = "core"` passes (`LC_ALL`,
/// `LC_CTYPE`, ...).
pub const CORE_PREFIX: &str = "LC_";

/// Whether `inherit = "core"` passes `name`.
pub fn is_core(name: &str) -> bool {
    CORE_VARS.contains(&name) || name.starts_with(CORE_PREFIX)
}

/// Variables stockade sets in every sandbox, after everything else.
pub const SANDBOX_MARKERS: &[(&str, &str)] = &[
    // Tells programs (and the agent) they run inside stockade.
    ("STOCKADE_SANDBOX", "1"),
];

/// The default `strip` patterns: names that by convention hold credentials.
///
/// Matching is case-sensitive; the patterns follow the usual upper-case
/// convention.
pub const DEFAULT_STRIP: &[&str] = &[
    // API and access tokens: GITHUB_TOKEN, GH_TOKEN, NPM_TOKEN, HF_TOKEN,
    // VAULT_TOKEN, CARGO_REGISTRY_TOKEN, AWS_SESSION_TOKEN.
    "*_TOKEN",
    // Client secrets: AZURE_CLIENT_SECRET, GOOGLE_CLIENT_SECRET, JWT_SECRET.
    "*_SECRET",
    // API and signing keys: OPENAI_API_KEY, ANTHROPIC_API_KEY, STRIPE_SECRET_KEY,
    // AWS_SECRET_ACCESS_KEY, *_PRIVATE_KEY.
    "*_KEY",
    // API keys spelt as one word: DD_APIKEY.
    "*_APIKEY",
    // Passwords: TWINE_PASSWORD, DOCKER_PASSWORD, POSTGRES_PASSWORD.
    "*_PASSWORD",
    // The PostgreSQL and MySQL client password variables.
    "PGPASSWORD",
    "MYSQL_PWD",
    // Passphrases for keys: GPG_PASSPHRASE, SSH_KEY_PASSPHRASE.
    "*_PASSPHRASE",
    // Personal access tokens: AZURE_DEVOPS_EXT_PAT.
    "*_PAT",
    // Credential blobs or files: GOOGLE_APPLICATION_CREDENTIALS,
    // AWS_SHARED_CREDENTIALS_FILE is covered by AWS_* below.
    "*_CREDENTIALS",
    // Connection strings embed account keys: AZURE_STORAGE_CONNECTION_STRING.
    "*_CONNECTION_STRING",
    // Database URLs usually embed a password: DATABASE_URL, TEST_DATABASE_URL.
    "*DATABASE_URL",
    // Everything that selects or carries AWS credentials: AWS_ACCESS_KEY_ID,
    // AWS_PROFILE, AWS_CONTAINER_CREDENTIALS_FULL_URI.
    "AWS_*",
    // Azure service principals and credentials: AZURE_CLIENT_ID, AZURE_TENANT_ID.
    "AZURE_*",
    // Registry credentials injected by CI.
    "DOCKER_AUTH_CONFIG",
    // npm registry auth in environment form: npm_config__auth,
    // npm_config_//registry.npmjs.org/:_authToken (and upper-case twins).
    "npm_config_*_auth*",
    "NPM_CONFIG_*_AUTH*",
    // Unlocked password-manager sessions (1Password CLI, Bitwarden CLI).
    "OP_SESSION_*",
    "BW_SESSION",
    // Agent sockets let the command sign and authenticate with the user's
    // keys; reaching them is decided by `network.unix_sockets`, not by
    // leaking the path.
    "SSH_AUTH_SOCK",
    "GPG_AGENT_INFO",
];

/// [`DEFAULT_STRIP`] as patterns.
pub fn default_strip() -> Vec<EnvPattern> {
    DEFAULT_STRIP
        .iter()
        .map(|p| EnvPattern(String::from(*p)))
        .collect()
}

/// Checks a variable name for `keep` or `set`: non-empty, no `=`, no NUL.
pub fn validate_name(name: &str) -> Result<(), EnvError> {
    let hint = "write a variable name like 'RUST_LOG'";
    if name.is_empty() {
        return Err(EnvError::new(name, "the variable name is empty", hint));
    }
    if name.contains('=') {
        let hint = match name.split_once('=') {
            Some((k, v)) => format!("to set a value, write it as {k} = \"{v}\" under 'set'"),
            None => hint.to_owned(),
        };
        return Err(EnvError::new(
            name,
            "a variable name cannot contain '='",
            hint,
        ));
    }
    if name.contains('\0') {
        return Err(EnvError::new(
            name,
            "a variable name cannot contain a NUL byte",
            hint,
        ));
    }
    Ok(())
}

fn is_valid_name(name: &str) -> bool {
    validate_name(name).is_ok()
}

/// A `strip` entry: a variable name, or a glob in which `*` matches any run
/// of characters and `?` exactly one. No other character is special, and
/// `[`, `]`, `{`, `}`, `\` are refused so that nobody expects them to be.
/// Matching is case-sensitive. Serialised as its text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnvPattern(String);

impl EnvPattern {
    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `name` matches the pattern (case-sensitive).
    pub fn matches(&self, name: &str) -> bool {
        wildcard_match(&self.0, name)
    }
}

impl FromStr for EnvPattern {
    type Err = EnvError;

    fn from_str(input: &str) -> Result<Self, EnvError> {
        validate_name(input)?;
        if let Some(c) = input
            .chars()
            .find(|c| matches!(c, '[' | ']' | '{' | '}' | '\\'))
        {
            return Err(EnvError::new(
                input,
                format!("'{c}' is not supported in a pattern"),
                "use '*' for any run of characters and '?' for one, like 'AWS_*'",
            ));
        }
        if let Some(c) = input.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(EnvError::new(
                input,
                format!("the pattern contains the whitespace or control character {c:?}"),
                "write a variable name or a pattern like '*_TOKEN'",
            ));
        }
        Ok(EnvPattern(input.to_owned()))
    }
}

impl fmt::Display for EnvPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for EnvPattern {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for EnvPattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// `*` and `?` matching over characters, with the classic single backtrack
/// point (linear in practice, never exponential).
fn wildcard_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The environment section of a profile.
///
/// [`EnvPolicy::default`] is `inherit = "core"` with [`DEFAULT_STRIP`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvPolicy {
    /// Which host variables pass.
    pub inherit: Inherit,
    /// Host variables that pass whatever `inherit` says (unless stripped).
    pub keep: Vec<String>,
    /// Variables the command gets with these values, in the author's order.
    pub set: IndexMap<String, String>,
    /// Patterns of host variables that never pass, inherited or kept.
    pub strip: Vec<EnvPattern>,
}

impl Default for EnvPolicy {
    fn default() -> Self {
        Self {
            inherit: Inherit::Core,
            keep: Vec::new(),
            set: IndexMap::new(),
            strip: default_strip(),
        }
    }
}

/// How a host variable got into the command's environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InheritSource {
    /// `inherit = "all"`.
    All,
    /// `inherit = "core"` and the name is a core variable.
    Core,
    /// The name is in `keep`.
    Keep,
}

/// What happens to one variable; see [`EnvPolicy::explain`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "fate", rename_all = "snake_case")]
pub enum EnvFate {
    /// The host value passes.
    Inherited { via: InheritSource },
    /// `inherit` does not pass it and `keep` does not name it.
    NotInherited,
    /// It would have passed (`via`), but a `strip` pattern removes it.
    Stripped { pattern: String, via: InheritSource },
    /// The policy's `set` gives it a value; `replaces_host` when the host had
    /// one too.
    Set { replaces_host: bool },
    /// stockade sets it ([`SANDBOX_MARKERS`]); `replaces_host` when the host
    /// had one too.
    SandboxMarker { replaces_host: bool },
    /// The host variable's name or value cannot be passed to a process
    /// (empty name, `=` or NUL in the name, NUL in the value).
    Invalid,
}

/// The fate of one variable, without its value (values may be secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvDecision {
    /// The variable's name.
    pub name: String,
    /// What happens to it.
    #[serde(flatten)]
    pub fate: EnvFate,
}

impl EnvPolicy {
    /// Checks `keep` names, `set` names and `set` values (no NUL).
    pub fn validate(&self) -> Result<(), EnvError> {
        for name in self.keep.iter().chain(self.set.keys()) {
            validate_name(name)?;
        }
        for (name, value) in &self.set {
            if value.contains('\0') {
                return Err(EnvError::new(
                    name,
                    "the value contains a NUL byte",
                    "remove the NUL byte; environment values cannot carry one",
                ));
            }
        }
        Ok(())
    }

    /// Why a host variable named `name` would pass `inherit`/`keep`, if it does.
    fn source(&self, name: &str) -> Option<InheritSource> {
        match self.inherit {
            Inherit::All => Some(InheritSource::All),
            Inherit::Core if is_core(name) => Some(InheritSource::Core),
            _ if self.keep.iter().any(|k| k == name) => Some(InheritSource::Keep),
            _ => None,
        }
    }

    /// The first `strip` pattern that matches `name`.
    fn stripped_by(&self, name: &str) -> Option<&EnvPattern> {
        self.strip.iter().find(|p| p.matches(name))
    }

    /// The command's environment built from the host's, sorted by name.
    ///
    /// # Security
    ///
    /// Never returns a variable with an empty name, `=` or NUL in its name,
    /// or NUL in its value; invalid host variables and invalid `set` entries
    /// are dropped ([`EnvPolicy::validate`] reports the latter up front).
    /// The sandbox markers always have stockade's values.
    pub fn apply<I: IntoIterator<Item = (String, String)>>(
        &self,
        host: I,
    ) -> Vec<(String, String)> {
        let mut out = BTreeMap::new();
        for (name, value) in host {
            if !is_valid_name(&name) || value.contains('\0') {
                continue;
            }
            if self.source(&name).is_some() && self.stripped_by(&name).is_none() {
                out.insert(name, value);
            }
        }
        for (name, value) in &self.set {
            if is_valid_name(name) && !value.contains('\0') {
                out.insert(name.clone(), value.clone());
            }
        }
        for (name, value) in SANDBOX_MARKERS {
            out.insert((*name).to_owned(), (*value).to_owned());
        }
        out.into_iter().collect()
    }

    /// Explains the fate of every host variable, every `set` variable and the
    /// sandbox markers, sorted by name. Values are never included.
    pub fn explain<I: IntoIterator<Item = (String, String)>>(&self, host: I) -> Vec<EnvDecision> {
        let mut fates: BTreeMap<String, EnvFate> = BTreeMap::new();
        for (name, value) in host {
            let fate = if !is_valid_name(&name) || value.contains('\0') {
                EnvFate::Invalid
            } else {
                match (self.source(&name), self.stripped_by(&name)) {
                    (None, _) => EnvFate::NotInherited,
                    (Some(via), Some(p)) => EnvFate::Stripped {
                        pattern: p.to_string(),
                        via,
                    },
                    (Some(via), None) => EnvFate::Inherited { via },
                }
            };
            fates.insert(name, fate);
        }
        for (name, value) in &self.set {
            if is_valid_name(name) && !value.contains('\0') {
                let replaces_host = fates
                    .get(name)
                    .is_some_and(|f| !matches!(f, EnvFate::Invalid));
                fates.insert(name.clone(), EnvFate::Set { replaces_host });
            }
        }
        for (name, _) in SANDBOX_MARKERS {
            let replaces_host = fates.get(*name).is_some_and(|f| {
                !matches!(
                    f,
                    EnvFate::Invalid
                        | EnvFate::Set {
                            replaces_host: false
                        }
                )
            });
            fates.insert((*name).to_owned(), EnvFate::SandboxMarker { replaces_host });
        }
        fates
            .into_iter()
            .map(|(name, fate)| EnvDecision { name, fate })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        let cases = [
            ("*_TOKEN", "GITHUB_TOKEN", true),
            ("*_TOKEN", "_TOKEN", true),
            ("*_TOKEN", "TOKEN", false),
            ("*_TOKEN", "GITHUB_TOKENS", false),
            ("*_TOKEN", "github_token", false),
            ("AWS_*", "AWS_", true),
            ("AWS_*", "AWS", false),
            ("A?C", "ABC", true),
            ("A?C", "AC", false),
            ("A?C", "ABBC", false),
            ("*A*B*", "xxAyyBzz", true),
            ("*A*B*", "xxByyAzz", false),
            ("*", "", true),
            ("", "", true),
            ("", "A", false),
            ("ÄB?", "ÄBÖ", true),
            (
                "*a*a*a*a*a*a*b",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                false,
            ),
        ];
        for (p, n, want) in cases {
            assert_eq!(wildcard_match(p, n), want, "{p} vs {n}");
        }
    }

    #[test]
    fn default_strip_patterns_are_valid() {
        for p in DEFAULT_STRIP {
            assert!(p.parse::<EnvPattern>().is_ok(), "{p}");
        }
    }
}
