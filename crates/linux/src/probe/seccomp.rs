//! seccomp: whether the kernel can filter syscalls with BPF, and what filters
//! this process already runs under.

use serde::Serialize;

use super::sys;

/// What the kernel's seccomp offers this process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeccompStatus {
    /// The kernel has `CONFIG_SECCOMP_FILTER`: stockade can install filters.
    pub available: bool,
    /// This process's current mode from `prctl(PR_GET_SECCOMP)`
    /// (0 none, 2 filter), when the kernel has seccomp at all.
    pub mode: Option<u32>,
    /// `Seccomp_filters:` from `/proc/self/status`: filters already stacked on
    /// this process (a container runtime's, for instance).
    pub filters: Option<u32>,
    /// Filter return actions from `/proc/sys/kernel/seccomp/actions_avail`.
    pub actions: Vec<String>,
    /// What was found, in words.
    pub detail: String,
}

/// Probes seccomp without installing anything.
pub fn probe_seccomp() -> SeccompStatus {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let actions = std::fs::read_to_string("/proc/sys/kernel/seccomp/actions_avail")
        .map(|s| s.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    assemble(
        sys::prctl(libc::PR_GET_SECCOMP, 0),
        filter_mode_errno(),
        status_field(&status, "Seccomp_filters"),
        actions,
    )
}

/// Builds the status from the two prctl answers and the `/proc` data.
fn assemble(
    mode: Result<i32, i32>,
    filter_errno: i32,
    filters: Option<u32>,
    actions: Vec<String>,
) -> SeccompStatus {
    let (available, mode, detail) = match mode {
        Err(libc::EINVAL) => (
            false,
            None,
            "the kernel has no seccomp (CONFIG_SECCOMP)".to_owned(),
        ),
        Err(errno) => (
            false,
            None,
            format!(
                "prctl(PR_GET_SECCOMP) failed: {}",
                sys::describe_errno(errno)
            ),
        ),
        Ok(mode) => {
            let mode = u32::try_from(mode).ok();
            match filter_errno {
                // The kernel got as far as reading the (NULL) filter program.
                libc::EFAULT => {
                    let stacked = match filters {
                        Some(0) | None => String::new(),
                        Some(n) => format!("; {n} filter(s) already installed on this process"),
                    };
                    (true, mode, format!("seccomp filters available{stacked}"))
                }
                libc::EINVAL => (
                    false,
                    mode,
                    "the kernel has seccomp but no filter mode (CONFIG_SECCOMP_FILTER)".to_owned(),
                ),
                errno => (
                    false,
                    mode,
                    format!(
                        "prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER) failed: {}",
                        sys::describe_errno(errno)
                    ),
                ),
            }
        }
    };
    SeccompStatus {
        available,
        mode,
        filters,
        actions,
        detail,
    }
}

/// Whether seccomp filters are available, from one `prctl`: what a run
/// needs, without the diagnostics of [`probe_seccomp`].
pub fn seccomp_filters_available() -> bool {
    filter_mode_errno() == libc::EFAULT
}

/// `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, NULL)`: the errno it fails
/// with. `EFAULT` means filter mode exists (the kernel tried to copy the
/// program from NULL before checking anything else); `EINVAL` means the
/// kernel lacks `CONFIG_SECCOMP_FILTER`. Nothing is ever installed.
fn filter_mode_errno() -> i32 {
    match sys::prctl(
        libc::PR_SET_SECCOMP,
        libc::c_ulong::from(libc::SECCOMP_MODE_FILTER),
    ) {
        Err(errno) => errno,
        // Cannot happen with a NULL program; treat it as unknown.
        Ok(_) => 0,
    }
}

/// The numeric value of a `Name:\tvalue` line of `/proc/<pid>/status`.
pub(crate) fn status_field(status: &str, name: &str) -> Option<u32> {
    status.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        if key == name {
            value.trim().parse().ok()
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Name:\tcat\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t3\n";

    #[test]
    fn status_fields_parse_exact_names() {
        assert_eq!(status_field(STATUS, "Seccomp"), Some(2));
        assert_eq!(status_field(STATUS, "Seccomp_filters"), Some(3));
        assert_eq!(status_field(STATUS, "NoNewPrivs"), Some(1));
        assert_eq!(status_field(STATUS, "Name"), None);
        assert_eq!(status_field(STATUS, "Missing"), None);
    }

    #[test]
    fn efault_means_filters_are_available() {
        let s = assemble(Ok(0), libc::EFAULT, Some(0), vec!["allow".into()]);
        assert!(s.available);
        assert_eq!(s.mode, Some(0));
        assert_eq!(s.detail, "seccomp filters available");
        let s = assemble(Ok(2), libc::EFAULT, Some(1), vec![]);
        assert!(
            s.available && s.detail.contains("1 filter(s)"),
            "{}",
            s.detail
        );
    }

    #[test]
    fn einval_means_no_filter_mode() {
        let s = assemble(Ok(0), libc::EINVAL, None, vec![]);
        assert!(!s.available);
        assert!(s.detail.contains("CONFIG_SECCOMP_FILTER"));
        let s = assemble(Err(libc::EINVAL), libc::EINVAL, None, vec![]);
        assert!(!s.available && s.mode.is_none());
        assert!(s.detail.contains("CONFIG_SECCOMP"));
        let s = assemble(Ok(0), libc::EPERM, None, vec![]);
        assert!(!s.available && s.detail.contains("EPERM"));
    }
}
