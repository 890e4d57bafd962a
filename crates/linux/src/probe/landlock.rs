//! Landlock: which ABI the kernel offers and what that ABI can restrict.

use serde::Serialize;

use super::sys;

/// `LANDLOCK_CREATE_RULESET_VERSION` from `<linux/landlock.h>`: ask for the
/// highest supported ABI instead of creating a ruleset.
const LANDLOCK_CREATE_RULESET_VERSION: u32 = 1 << 0;

/// The newest ABI this table knows about.
pub const KNOWN_ABI: u32 = 7;

/// One thing Landlock can restrict, and the ABI (and mainline kernel) that
/// brought it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LandlockFeature {
    /// Short name, after the kernel's access-right or flag names.
    pub name: &'static str,
    /// The first ABI version that has it.
    pub abi: u32,
    /// The first mainline kernel with that ABI.
    pub kernel: &'static str,
}

/// Every feature by ABI, oldest first (`Documentation/userspace-api/landlock.rst`).
#[rustfmt::skip]
pub const FEATURES: &[LandlockFeature] = &[
    // ABI 1: execute, read/write files, read dirs, remove and make entries.
    LandlockFeature { name: "fs_basic", abi: 1, kernel: "5.13" },
    // ABI 2: LANDLOCK_ACCESS_FS_REFER, linking/renaming across directories.
    LandlockFeature { name: "fs_refer", abi: 2, kernel: "5.19" },
    // ABI 3: LANDLOCK_ACCESS_FS_TRUNCATE.
    LandlockFeature { name: "fs_truncate", abi: 3, kernel: "6.2" },
    // ABI 4: LANDLOCK_ACCESS_NET_BIND_TCP and LANDLOCK_ACCESS_NET_CONNECT_TCP.
    LandlockFeature { name: "net_bind_tcp", abi: 4, kernel: "6.7" },
    LandlockFeature { name: "net_connect_tcp", abi: 4, kernel: "6.7" },
    // ABI 5: LANDLOCK_ACCESS_FS_IOCTL_DEV, ioctl on character/block devices.
    LandlockFeature { name: "fs_ioctl_dev", abi: 5, kernel: "6.10" },
    // ABI 6: LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET and LANDLOCK_SCOPE_SIGNAL.
    LandlockFeature { name: "scope_abstract_unix_socket", abi: 6, kernel: "6.12" },
    LandlockFeature { name: "scope_signal", abi: 6, kernel: "6.12" },
    // ABI 7: LANDLOCK_RESTRICT_SELF_LOG_* audit logging flags.
    LandlockFeature { name: "audit_log_flags", abi: 7, kernel: "6.15" },
];

/// Why Landlock is, or is not, usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LandlockSupport {
    /// The kernel answered with an ABI version.
    Available,
    /// `EOPNOTSUPP`: built in, but not enabled at boot (not in `lsm=`).
    DisabledAtBoot,
    /// `ENOSYS`: the kernel has no Landlock (older than 5.13 or built without
    /// `CONFIG_SECURITY_LANDLOCK`), or a seccomp filter hides the syscall.
    NotInKernel,
    /// Any other error, e.g. `EPERM` from a container's seccomp profile.
    Blocked,
}

/// What the kernel's Landlock offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LandlockStatus {
    /// The highest ABI version, when Landlock is available.
    pub abi: Option<u32>,
    /// Available, disabled at boot, missing or blocked.
    pub support: LandlockSupport,
    /// Names of the features that ABI provides (see [`FEATURES`]).
    pub features: Vec<&'static str>,
    /// The active LSMs from `/sys/kernel/security/lsm`, when readable.
    pub lsm: Option<String>,
    /// What was found, in words.
    pub detail: String,
}

/// The names of the features available at `abi` (empty for 0).
pub fn features_for_abi(abi: u32) -> Vec<&'static str> {
    FEATURES
        .iter()
        .filter(|f| f.abi <= abi)
        .map(|f| f.name)
        .collect()
}

/// The features an ABI below [`KNOWN_ABI`] lacks.
pub fn missing_features(abi: u32) -> Vec<&'static LandlockFeature> {
    FEATURES.iter().filter(|f| f.abi > abi).collect()
}

/// Asks the kernel for its Landlock ABI version.
pub fn probe_landlock() -> LandlockStatus {
    let lsm = std::fs::read_to_string("/sys/kernel/security/lsm")
        .ok()
        .map(|s| s.trim().to_owned());
    status_from_result(landlock_abi_version(), lsm)
}

/// Builds the status from the syscall's result (the ABI or an errno).
fn status_from_result(result: Result<u32, i32>, lsm: Option<String>) -> LandlockStatus {
    let (abi, support, detail) = match result {
        Ok(abi) => {
            let newer = if abi > KNOWN_ABI {
                format!(" (newer than ABI {KNOWN_ABI}, the newest stockade knows)")
            } else {
                String::new()
            };
            (
                Some(abi),
                LandlockSupport::Available,
                format!("landlock ABI {abi}{newer}"),
            )
        }
        Err(libc::EOPNOTSUPP) => (
            None,
            LandlockSupport::DisabledAtBoot,
            "landlock is built into the kernel but disabled at boot (EOPNOTSUPP)".to_owned(),
        ),
        Err(libc::ENOSYS) => (
            None,
            LandlockSupport::NotInKernel,
            "the kernel has no landlock (ENOSYS)".to_owned(),
        ),
        Err(errno) => (
            None,
            LandlockSupport::Blocked,
            format!(
                "landlock_create_ruleset failed: {}",
                sys::describe_errno(errno)
            ),
        ),
    };
    LandlockStatus {
        abi,
        support,
        features: features_for_abi(abi.unwrap_or(0)),
        lsm,
        detail,
    }
}

/// The kernel's Landlock ABI version, from one syscall (the errno when
/// Landlock is missing or disabled): what a run needs, without the
/// diagnostics of [`probe_landlock`].
pub fn landlock_abi() -> Result<u32, i32> {
    landlock_abi_version()
}

/// `landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)`.
fn landlock_abi_version() -> Result<u32, i32> {
    // SAFETY: with the VERSION flag the kernel requires a NULL attribute
    // pointer and size 0, reads no memory and creates no file descriptor; it
    // only returns the ABI version.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0_usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if rc < 0 {
        Err(sys::errno())
    } else {
        Ok(u32::try_from(rc).unwrap_or(u32::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_abi_adds_its_features() {
        assert!(features_for_abi(0).is_empty());
        assert_eq!(features_for_abi(1), ["fs_basic"]);
        assert_eq!(features_for_abi(2), ["fs_basic", "fs_refer"]);
        assert_eq!(features_for_abi(3), ["fs_basic", "fs_refer", "fs_truncate"]);
        assert_eq!(
            features_for_abi(4)[3..],
            ["net_bind_tcp", "net_connect_tcp"]
        );
        assert_eq!(features_for_abi(5)[5..], ["fs_ioctl_dev"]);
        assert_eq!(
            features_for_abi(6)[6..],
            ["scope_abstract_unix_socket", "scope_signal"]
        );
        assert_eq!(features_for_abi(7)[8..], ["audit_log_flags"]);
        assert_eq!(features_for_abi(7).len(), FEATURES.len());
        assert_eq!(features_for_abi(99), features_for_abi(KNOWN_ABI));
    }

    #[test]
    fn features_are_sorted_by_abi_and_cover_every_known_abi() {
        assert!(FEATURES.windows(2).all(|w| w[0].abi <= w[1].abi));
        for abi in 1..=KNOWN_ABI {
            assert!(
                FEATURES.iter().any(|f| f.abi == abi),
                "ABI {abi} has no feature"
            );
        }
    }

    #[test]
    fn missing_features_are_the_complement() {
        let missing: Vec<_> = missing_features(5).iter().map(|f| f.name).collect();
        assert_eq!(
            missing,
            [
                "scope_abstract_unix_socket",
                "scope_signal",
                "audit_log_flags"
            ]
        );
        assert!(missing_features(KNOWN_ABI).is_empty());
    }

    #[test]
    fn errnos_map_to_support_states() {
        let ok = status_from_result(Ok(6), None);
        assert_eq!((ok.abi, ok.support), (Some(6), LandlockSupport::Available));
        assert_eq!(ok.features.len(), 8);
        let off = status_from_result(Err(libc::EOPNOTSUPP), None);
        assert_eq!(
            (off.abi, off.support),
            (None, LandlockSupport::DisabledAtBoot)
        );
        assert!(off.features.is_empty());
        let none = status_from_result(Err(libc::ENOSYS), None);
        assert_eq!(none.support, LandlockSupport::NotInKernel);
        let blocked = status_from_result(Err(libc::EPERM), None);
        assert_eq!(blocked.support, LandlockSupport::Blocked);
        assert!(blocked.detail.contains("EPERM"), "{}", blocked.detail);
        assert!(status_from_result(Ok(9), None).detail.contains("newer"));
    }
}
