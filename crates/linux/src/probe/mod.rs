//! Machine capability probes: what this Linux machine can enforce, and how to
//! fix what is missing. This is the data behind `stockade check`.
//!
//! Every probe is read-only: it asks the kernel, reads `/proc` and `/sys`, and
//! at most forks a short-lived child (user namespaces) or runs `bwrap` once.
//! None assumes root; run as an ordinary user they report what that user gets.

mod bwrap;
mod cgroup;
mod hints;
mod landlock;
mod seccomp;
mod sys;
pub(crate) use sys::writable_by_euid;
mod userns;

use serde::Serialize;

pub use bwrap::{BwrapStatus, MIN_BWRAP_VERSION, find_bwrap, probe_bwrap};
pub use cgroup::{
    CgroupStatus, cgroup2_mount_point, parse_controllers, parse_proc_cgroup, probe_cgroup,
    unescape_mountinfo,
};
pub use hints::Hint;
pub use landlock::{
    FEATURES as LANDLOCK_FEATURES, KNOWN_ABI as LANDLOCK_KNOWN_ABI, LandlockFeature,
    LandlockStatus, LandlockSupport, features_for_abi, landlock_abi, missing_features,
    probe_landlock,
};
pub use seccomp::{SeccompStatus, probe_seccomp, seccomp_filters_available};
pub use userns::{Sysctl, UsernsStatus, interpret_sysctl, probe_userns};

/// Everything the probes found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MachineReport {
    /// The kernel release (`uname -r`), or why it could not be read.
    pub kernel: String,
    /// Landlock ABI and features.
    pub landlock: LandlockStatus,
    /// seccomp filter support.
    pub seccomp: SeccompStatus,
    /// `PR_GET_NO_NEW_PRIVS` of this process (informational: stockade sets it
    /// for the sandbox either way).
    pub no_new_privs: bool,
    /// Whether user namespaces really work for this user.
    pub user_namespaces: UsernsStatus,
    /// The system `bwrap`, if there is one on `PATH`.
    pub bwrap: Option<BwrapStatus>,
    /// cgroup v2 and delegation, for resource limits.
    pub cgroup: CgroupStatus,
    /// The effective uid is 0 (the user namespace and cgroup answers are then
    /// root's, not an ordinary user's).
    pub running_as_root: bool,
}

/// Runs every probe. Never panics; a probe that cannot run reports why in its
/// detail.
///
/// # Platform specific behavior
///
/// Linux only. Forks one child (which exits at once) to test user namespaces
/// and runs `bwrap` twice when it is on `PATH`, each bounded by a 5 s timeout.
pub fn probe_machine() -> MachineReport {
    MachineReport {
        kernel: sys::uname_release().unwrap_or_else(|e| e),
        landlock: probe_landlock(),
        seccomp: probe_seccomp(),
        no_new_privs: sys::prctl(libc::PR_GET_NO_NEW_PRIVS, 0) == Ok(1),
        user_namespaces: probe_userns(),
        bwrap: probe_bwrap(),
        cgroup: probe_cgroup(),
        running_as_root: sys::geteuid() == 0,
    }
}
