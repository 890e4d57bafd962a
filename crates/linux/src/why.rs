//! Why a step of a plan exists, kept as data and rendered only when shown
//! (`explain`, JSON): planning a thousand rules formats nothing.

use serde::Serialize;
use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;
use stockade_policy::{Access, Origin, RuleKind};

/// Why a mount step or a Landlock rule exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Why {
    /// Said in words.
    Text(Cow<'static, str>),
    /// A rule's origin, after a short prefix (`hidden: `).
    Rule {
        prefix: &'static str,
        origin: Origin,
    },
    /// What a rule grants, its kind and origin: `write rule (the policy
    /// file) from FILE:LINE:COL (profile 'p')`.
    Grant {
        access: Access,
        kind: RuleKind,
        origin: Origin,
    },
    /// A pin of a directory with a mount beneath it.
    Pinned(PathBuf),
    /// A placeholder standing for a missing path.
    Placeholder { path: PathBuf, origin: Origin },
    /// Several reasons, joined with `; `.
    All(Vec<Why>),
}

impl Why {
    /// Adds `more` to these reasons.
    pub fn and(self, more: Why) -> Why {
        match self {
            Why::All(mut all) => {
                all.push(more);
                Why::All(all)
            }
            one => Why::All(vec![one, more]),
        }
    }
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::Text(text) => f.write_str(text),
            Why::Rule { prefix, origin } => write!(f, "{prefix}{origin}"),
            Why::Grant {
                access,
                kind,
                origin,
            } => {
                write!(f, "{} rule", access.as_str())?;
                match kind {
                    RuleKind::Path => {}
                    RuleKind::PrivateTmp => f.write_str(" (private /tmp, a fresh tmpfs)")?,
                    RuleKind::Protected { name } => write!(f, " (protected name '{name}')")?,
                    RuleKind::GitCommit => f.write_str(" (git directory, writable for commits)")?,
                    RuleKind::GitControl => {
                        f.write_str(" (git file that can make git run code)")?
                    }
                    RuleKind::PolicyFile => f.write_str(" (the policy file)")?,
                    RuleKind::HomeChild => {
                        f.write_str(" (child of the writable home directory)")?
                    }
                    RuleKind::SshConfig { directive } => {
                        write!(f, " (named by ~/.ssh/config {directive})")?
                    }
                }
                write!(f, " from {origin}")
            }
            Why::Pinned(path) => write!(
                f,
                "pinned: {} cannot be renamed while a mount lies beneath it",
                path.display()
            ),
            Why::Placeholder { path, origin } => write!(
                f,
                "placeholder for the missing {}: {origin}",
                path.display()
            ),
            Why::All(all) => {
                for (i, why) in all.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{why}")?;
                }
                Ok(())
            }
        }
    }
}

impl Serialize for Why {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl From<String> for Why {
    fn from(text: String) -> Why {
        Why::Text(Cow::Owned(text))
    }
}

impl From<&'static str> for Why {
    fn from(text: &'static str) -> Why {
        Why::Text(Cow::Borrowed(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_render_as_explain_shows_them() {
        let origin = Origin::derived("a derived rule", None);
        let grant = Why::Grant {
            access: Access::Read,
            kind: RuleKind::Protected {
                name: ".git".into(),
            },
            origin: origin.clone(),
        };
        assert_eq!(
            grant.to_string(),
            "read rule (protected name '.git') from a derived rule"
        );
        let both = grant.and("device always mounted".into());
        assert_eq!(
            both.to_string(),
            "read rule (protected name '.git') from a derived rule; device always mounted"
        );
        let hidden = Why::Rule {
            prefix: "hidden: ",
            origin,
        };
        assert_eq!(hidden.to_string(), "hidden: a derived rule");
        assert_eq!(
            serde_json::to_string(&Why::Pinned("/ws".into())).unwrap(),
            "\"pinned: /ws cannot be renamed while a mount lies beneath it\""
        );
    }
}
