//! The resolution context of this process: platform, directories, user.

use crate::error::Error;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use stockade_policy::{Platform, ResolveContext};

/// The platform this binary was built for — the one place that decides.
pub(crate) const PLATFORM: Platform = if cfg!(target_os = "linux") {
    Platform::Linux
} else if cfg!(target_os = "macos") {
    Platform::MacOs
} else {
    Platform::Windows
};

/// Builds the context from this process: its environment, current directory
/// and user. `cwd` is the command's working directory (`--cwd`), relative
/// to the current directory; it defaults to the current directory.
pub fn process_context(cwd: Option<&Path>) -> Result<ResolveContext, Error> {
    let invocation_dir = std::env::current_dir().map_err(|source| Error::Io {
        action: "read the current directory".into(),
        source,
    })?;
    let env: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let home = env
        .get(home_var())
        .filter(|h| !h.is_empty())
        .map(PathBuf::from);
    let user = env
        .get("USER")
        .or_else(|| env.get("LOGNAME"))
        .or_else(|| env.get("USERNAME"))
        .cloned()
        .unwrap_or_default();
    let host_tmp = if PLATFORM == Platform::Windows {
        std::env::temp_dir()
    } else {
        PathBuf::from("/tmp")
    };
    Ok(ResolveContext {
        platform: PLATFORM,
        cwd: cwd.map_or_else(|| invocation_dir.clone(), |c| invocation_dir.join(c)),
        invocation_dir,
        home,
        user,
        uid: uid(),
        hostname: hostname(),
        // Backends with a mount namespace show a fresh /tmp; the others use
        // a per-run directory, which they set when they run.
        tmp_dir: host_tmp.clone(),
        host_tmp,
        roots: roots(),
        env,
    })
}

fn home_var() -> &'static str {
    if PLATFORM == Platform::Windows {
        "USERPROFILE"
    } else {
        "HOME"
    }
}

#[cfg(unix)]
fn uid() -> Option<u32> {
    Some(crate::sys::uid())
}

#[cfg(not(unix))]
fn uid() -> Option<u32> {
    None
}

#[cfg(unix)]
fn hostname() -> String {
    crate::sys::hostname().unwrap_or_default()
}

#[cfg(not(unix))]
fn hostname() -> String {
    std::env::var("COMPUTERNAME").unwrap_or_default()
}

/// What `:root` stands for: `/`, or every drive letter that exists.
fn roots() -> Vec<PathBuf> {
    if PLATFORM != Platform::Windows {
        return vec![PathBuf::from("/")];
    }
    (b'A'..=b'Z')
        .map(|d| PathBuf::from(format!("{}:\\", d as char)))
        .filter(|p| p.exists())
        .collect()
}
