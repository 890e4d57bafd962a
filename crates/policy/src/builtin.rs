//! The built-in profiles `read-only`, `workspace` and `full`, kept as
//! commented TOML data (`builtin.toml`) and parsed like any policy file.

use crate::file::PolicyFile;
use crate::source::{Source, SourceText};
use std::sync::OnceLock;

/// The text of the built-in profiles.
pub const BUILTIN_TOML: &str = include_str!("builtin.toml");

/// The names of the built-in profiles.
pub const BUILTIN_PROFILES: &[&str] = &["read-only", "workspace", "full"];

/// The profile used when neither `--profile` nor `default_profile` names one.
pub const DEFAULT_PROFILE: &str = "workspace";

/// The parsed built-in profiles.
pub fn builtin() -> &'static PolicyFile {
    static BUILTIN: OnceLock<PolicyFile> = OnceLock::new();
    BUILTIN.get_or_init(|| {
        let text = SourceText::new(Source::BuiltIn, BUILTIN_TOML.to_string());
        match PolicyFile::parse(text) {
            Ok(file) => file,
            // A unit test parses the built-ins, so this cannot ship broken.
            Err(e) => panic!("built-in profiles are invalid: {e}"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse_and_are_the_documented_three() {
        let names: Vec<_> = builtin()
            .body
            .profiles
            .keys()
            .map(|k| k.get_ref().as_str())
            .collect();
        assert_eq!(names, BUILTIN_PROFILES);
    }

    #[test]
    fn every_builtin_filesystem_entry_has_a_comment() {
        let mut in_filesystem = false;
        for line in BUILTIN_TOML.lines() {
            if line.starts_with('[') {
                in_filesystem = line.ends_with(".filesystem]");
            } else if in_filesystem && line.contains(" = ") {
                assert!(line.contains('#'), "uncommented built-in rule: {line}");
            }
        }
    }
}
