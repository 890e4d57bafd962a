//! Narrowing: a caller that may only restrict the policy it was given (an
//! MCP tool call under the server's policy) names the only writable roots
//! it wants. Each must already be writable; every other writable path
//! becomes read-only. Applied to the merged layers before derivation, so
//! protected names and git directories are derived for the new roots just
//! as for roots a profile names.

use crate::access::Access;
use crate::error::PolicyError;
use crate::layer::Merged;
use crate::resolved::{FsRule, RuleKind};
use crate::source::Origin;
use std::path::{Path, PathBuf};

/// The flag narrowing errors name.
const FLAG: &str = "writable";

/// Makes `only` (paths relative to `cwd`) the only writable roots of
/// `merged`. Fails, naming the path, when one of them is not writable
/// under `merged`: narrowing never widens.
pub(crate) fn narrow_writable(
    merged: &mut Merged,
    only: &[String],
    cwd: &Path,
) -> Result<(), PolicyError> {
    let mut roots: Vec<(PathBuf, &String)> = Vec::with_capacity(only.len());
    for value in only {
        let path = crate::paths::canonicalize(cwd, Path::new(value)).path;
        if merged.access(&path) != Access::Write {
            let writable: Vec<String> = merged
                .rules
                .values()
                .filter(|r| r.access == Access::Write && r.kind == RuleKind::Path)
                .map(|r| r.path.display().to_string())
                .collect();
            return Err(PolicyError::InvalidFlag {
                flag: FLAG.into(),
                value: value.clone(),
                message: format!(
                    "{} is not writable under this policy, and a request may only narrow it",
                    path.display()
                ),
                hint: format!(
                    "ask only for paths at or under the writable roots ({})",
                    if writable.is_empty() {
                        "there are none".to_owned()
                    } else {
                        writable.join(", ")
                    }
                ),
            });
        }
        roots.push((path, value));
    }
    let kept = |path: &Path| roots.iter().any(|(root, _)| path.starts_with(root));
    for rule in merged.rules.values_mut() {
        if rule.access == Access::Write && rule.kind == RuleKind::Path && !kept(&rule.path) {
            rule.origin = Origin::derived(
                "not among the writable roots the request asked for",
                Some(&rule.origin),
            );
            rule.access = Access::Read;
        }
    }
    for (path, value) in roots {
        let named = merged.rules.get(path.as_os_str());
        if named.is_some_and(|r| r.access == Access::Write) {
            continue;
        }
        let meta = std::fs::symlink_metadata(&path).ok();
        merged.rules.insert(
            path.clone().into_os_string(),
            FsRule {
                exists: meta.is_some(),
                dir: meta.is_some_and(|m| m.is_dir()),
                path,
                access: Access::Write,
                kind: RuleKind::Path,
                origin: Origin::Flag {
                    flag: FLAG.into(),
                    value: value.clone(),
                },
            },
        );
    }
    Ok(())
}
