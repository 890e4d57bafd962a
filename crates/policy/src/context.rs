//! What resolution needs to know about the machine and the invocation. The
//! library fills it from the real process; tests build it by hand.

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The platform a policy is resolved for. Chosen by the caller: this crate
/// has no platform-specific code, only platform-specific data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Linux.
    Linux,
    /// macOS.
    MacOs,
    /// Windows.
    Windows,
}

/// Facts about the invocation that special roots and `~` resolve against.
#[derive(Clone, Debug)]
pub struct ResolveContext {
    /// The platform whose `:minimal` and `:root` apply.
    pub platform: Platform,
    /// The command's working directory (`:cwd`).
    pub cwd: PathBuf,
    /// The directory relative command-line paths resolve against (the
    /// process's current directory, which `--cwd` does not change).
    pub invocation_dir: PathBuf,
    /// The user's home directory (`~`, `:home`), if known.
    pub home: Option<PathBuf>,
    /// The user's login name (`%u` in SSH config).
    pub user: String,
    /// The user's numeric id (`%i` in SSH config), where there is one.
    pub uid: Option<u32>,
    /// The machine's host name (`%l`, `%L` in SSH config).
    pub hostname: String,
    /// Where the private temporary directory (`:tmp`) appears to the
    /// command: `/tmp` when the backend mounts a fresh one, otherwise a
    /// per-run directory.
    pub tmp_dir: PathBuf,
    /// The host's shared temporary directory, hidden when `:tmp` replaces it.
    pub host_tmp: PathBuf,
    /// The filesystem roots `:root` stands for (`/`, or every drive).
    pub roots: Vec<PathBuf>,
    /// The host environment (for `${VAR}` in SSH config).
    pub env: BTreeMap<String, String>,
}

/// `:minimal` on Linux: what ordinary programs need to run.
pub const LINUX_MINIMAL: &[&str] = &[
    "/usr",         // programs and libraries
    "/bin",         // programs (often a link into /usr)
    "/sbin",        // system programs some tools call (ldconfig, ip)
    "/lib",         // libraries and the dynamic loader
    "/lib32",       // 32-bit libraries where installed
    "/lib64",       // the x86-64 dynamic loader path
    "/libx32",      // x32 libraries where installed
    "/etc",         // configuration: ld.so.cache, passwd, resolv.conf, ssl certificates
    "/opt",         // third-party toolchains
    "/nix/store",   // programs on NixOS and Nix installs
    "/dev/null",    // the bit bucket every shell uses
    "/dev/zero",    // zero source
    "/dev/random",  // entropy
    "/dev/urandom", // entropy
    "/dev/tty",     // the controlling terminal, for interactive programs
    "/dev/pts",     // pseudo-terminals
];

/// `:minimal` on macOS.
pub const MACOS_MINIMAL: &[&str] = &[
    "/usr",                     // programs and libraries
    "/bin",                     // programs
    "/sbin",                    // system programs
    "/System",                  // frameworks and the dyld shared cache
    "/Library/Apple",           // system extensions some frameworks load
    "/private/etc",             // configuration (/etc links here)
    "/private/var/db/timezone", // time zone data
    "/opt/homebrew",            // Homebrew on Apple silicon
    "/usr/local",               // Homebrew on Intel
    "/dev/null",                // the bit bucket
    "/dev/zero",                // zero source
    "/dev/random",              // entropy
    "/dev/urandom",             // entropy
    "/dev/tty",                 // the controlling terminal
];

/// `:minimal` on Windows.
pub const WINDOWS_MINIMAL: &[&str] = &[
    r"C:\Windows",             // the system, its DLLs and cmd.exe
    r"C:\Program Files",       // installed programs
    r"C:\Program Files (x86)", // 32-bit programs
    r"C:\ProgramData",         // machine-wide program data some runtimes need
];

impl Platform {
    /// The paths `:minimal` stands for.
    pub fn minimal(self) -> &'static [&'static str] {
        match self {
            Platform::Linux => LINUX_MINIMAL,
            Platform::MacOs => MACOS_MINIMAL,
            Platform::Windows => WINDOWS_MINIMAL,
        }
    }
}
