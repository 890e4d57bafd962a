//! Which policy file applies (SPEC 2, `--config`): the one named, else the
//! nearest `.stockade.toml` walking up from the working directory, else the
//! user config file, else none (the built-in profiles alone).

use crate::context::Platform;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file name searched for from the working directory upwards.
pub const POLICY_FILE_NAME: &str = ".stockade.toml";

/// Where the policy came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "path", rename_all = "snake_case")]
pub enum PolicyLocation {
    /// Named with `--config`.
    Explicit(PathBuf),
    /// A `.stockade.toml` in the working directory or one of its ancestors.
    Discovered(PathBuf),
    /// The user config file.
    UserConfig(PathBuf),
    /// No file: built-in profiles only.
    BuiltIn,
}

impl PolicyLocation {
    /// The file to read, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            PolicyLocation::Explicit(p)
            | PolicyLocation::Discovered(p)
            | PolicyLocation::UserConfig(p) => Some(p),
            PolicyLocation::BuiltIn => None,
        }
    }
}

/// Chooses the policy file. `explicit` is `--config` (relative to `cwd`).
pub fn discover(explicit: Option<&Path>, cwd: &Path, user_config: Option<&Path>) -> PolicyLocation {
    if let Some(path) = explicit {
        return PolicyLocation::Explicit(cwd.join(path));
    }
    for dir in cwd.ancestors() {
        let candidate = dir.join(POLICY_FILE_NAME);
        if candidate.is_file() {
            return PolicyLocation::Discovered(candidate);
        }
    }
    match user_config {
        Some(path) if path.is_file() => PolicyLocation::UserConfig(path.to_path_buf()),
        _ => PolicyLocation::BuiltIn,
    }
}

/// The user config file's path on `platform`, from the environment.
pub fn user_config_path(platform: Platform, env: &BTreeMap<String, String>) -> Option<PathBuf> {
    let var = |name: &str| env.get(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let dir = match platform {
        Platform::Linux => {
            var("XDG_CONFIG_HOME").or_else(|| var("HOME").map(|h| h.join(".config")))?
        }
        Platform::MacOs => var("HOME")?.join("Library").join("Application Support"),
        Platform::Windows => var("APPDATA")?,
    };
    Some(dir.join("stockade").join("config.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_beats_discovered_beats_user_config() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let nested = root.join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        let user = root.join("user.toml");
        assert_eq!(
            discover(None, &nested, Some(&user)),
            PolicyLocation::BuiltIn
        );
        std::fs::write(&user, "").unwrap();
        assert_eq!(
            discover(None, &nested, Some(&user)),
            PolicyLocation::UserConfig(user.clone())
        );
        std::fs::write(root.join(POLICY_FILE_NAME), "").unwrap();
        assert_eq!(
            discover(None, &nested, Some(&user)),
            PolicyLocation::Discovered(root.join(POLICY_FILE_NAME))
        );
        std::fs::write(root.join("a").join(POLICY_FILE_NAME), "").unwrap();
        assert_eq!(
            discover(None, &nested, None),
            PolicyLocation::Discovered(root.join("a").join(POLICY_FILE_NAME))
        );
        assert_eq!(
            discover(Some(Path::new("x.toml")), &nested, Some(&user)),
            PolicyLocation::Explicit(nested.join("x.toml"))
        );
    }

    #[test]
    fn a_directory_named_like_the_policy_file_is_not_a_policy() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(POLICY_FILE_NAME)).unwrap();
        assert_eq!(discover(None, dir.path(), None), PolicyLocation::BuiltIn);
    }

    #[test]
    fn user_config_follows_platform_conventions() {
        let env: BTreeMap<String, String> = [
            ("HOME", "/home/u"),
            ("XDG_CONFIG_HOME", "/xdg"),
            ("APPDATA", r"C:\Users\u\AppData\Roaming"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            user_config_path(Platform::Linux, &env),
            Some(PathBuf::from("/xdg/stockade/config.toml"))
        );
        let mut no_xdg = env.clone();
        no_xdg.remove("XDG_CONFIG_HOME");
        assert_eq!(
            user_config_path(Platform::Linux, &no_xdg),
            Some(PathBuf::from("/home/u/.config/stockade/config.toml"))
        );
        assert_eq!(
            user_config_path(Platform::MacOs, &env),
            Some(PathBuf::from(
                "/home/u/Library/Application Support/stockade/config.toml"
            ))
        );
        assert!(user_config_path(Platform::Windows, &env).is_some());
        assert_eq!(user_config_path(Platform::Linux, &BTreeMap::new()), None);
    }
}
