//! What to do about each missing or restricted mechanism in a report.

use serde::Serialize;

use super::{LandlockSupport, MachineReport, missing_features};

/// One missing or restricted piece, and exactly how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hint {
    /// `landlock`, `seccomp`, `user_namespaces`, `bwrap` or `cgroup`.
    pub mechanism: &'static str,
    /// What is missing or restricted.
    pub problem: String,
    /// The command or setting that fixes it.
    pub fix: String,
}

/// The AppArmor fix, shared by the sysctl hint and the bwrap hint.
const APPARMOR_FIX: &str = "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, \
     or install the AppArmor profile shipped in contrib/apparmor/stockade (instructions inside the file), \
     or accept Landlock-only mode with --allow-weaker landlock-only (see 'stockade explain' for what it cannot hold)";

impl MachineReport {
    /// A hint for every missing or restricted piece, in report order; empty
    /// when the machine offers everything stockade uses.
    pub fn hints(&self) -> Vec<Hint> {
        let mut hints = Vec::new();
        self.landlock_hints(&mut hints);
        if !self.seccomp.available {
            hints.push(hint(
                "seccomp",
                self.seccomp.detail.clone(),
                "use a kernel built with CONFIG_SECCOMP=y and CONFIG_SECCOMP_FILTER=y \
                 (every mainstream distribution kernel has them)",
            ));
        }
        self.userns_hints(&mut hints);
        self.bwrap_hints(&mut hints);
        self.cgroup_hints(&mut hints);
        hints
    }

    fn landlock_hints(&self, hints: &mut Vec<Hint>) {
        let landlock = &self.landlock;
        match landlock.support {
            LandlockSupport::DisabledAtBoot => {
                let example = match &landlock.lsm {
                    Some(lsm) if !lsm.is_empty() => format!("lsm=landlock,{lsm}"),
                    _ => "lsm=landlock,lockdown,yama,integrity,apparmor,bpf".to_owned(),
                };
                hints.push(hint(
                    "landlock",
                    "landlock is built into the kernel but disabled at boot".to_owned(),
                    &format!(
                        "add landlock to the lsm= kernel parameter (e.g. {example} in \
                         GRUB_CMDLINE_LINUX of /etc/default/grub, then sudo update-grub) and reboot"
                    ),
                ));
            }
            LandlockSupport::NotInKernel => hints.push(hint(
                "landlock",
                "the kernel has no landlock".to_owned(),
                "use kernel 5.13 or later built with CONFIG_SECURITY_LANDLOCK=y \
                 (6.12 or later for every feature stockade uses)",
            )),
            LandlockSupport::Blocked => hints.push(hint(
                "landlock",
                landlock.detail.clone(),
                "allow the landlock_create_ruleset, landlock_add_rule and landlock_restrict_self \
                 syscalls in the seccomp profile of the container this runs in",
            )),
            LandlockSupport::Available => {
                let abi = landlock.abi.unwrap_or(0);
                // Audit logging (ABI 7) changes nothing stockade enforces.
                let missing: Vec<_> = missing_features(abi)
                    .into_iter()
                    .filter(|f| f.abi <= 6)
                    .map(|f| format!("{} (ABI {}, kernel {})", f.name, f.abi, f.kernel))
                    .collect();
                if !missing.is_empty() {
                    hints.push(hint(
                        "landlock",
                        format!("landlock ABI {abi} lacks {}", missing.join(", ")),
                        "upgrade to kernel 6.12 or later for abstract-socket and signal scoping; \
                         until then stockade's mount, ipc, pid and network namespaces cover \
                         what is missing",
                    ));
                }
            }
        }
    }

    fn userns_hints(&self, hints: &mut Vec<Hint>) {
        let userns = &self.user_namespaces;
        // As root the AppArmor and clone sysctls do not apply, so a working
        // test proves nothing for ordinary users: report them anyway.
        let report_sysctls = !userns.works || self.running_as_root;
        let note = if userns.works {
            " for unprivileged users (this check ran as root)"
        } else {
            ""
        };
        let mut explained = false;
        for sysctl in userns
            .sysctls
            .iter()
            .filter(|s| s.restricts && report_sysctls)
        {
            let value = sysctl.value.as_deref().unwrap_or("");
            let fix = match sysctl.name {
                "kernel.apparmor_restrict_unprivileged_userns" => APPARMOR_FIX.to_owned(),
                "user.max_user_namespaces" => "sudo sysctl -w user.max_user_namespaces=15000 \
                     (persist it in /etc/sysctl.d/)"
                    .to_owned(),
                name => format!("sudo sysctl -w {name}=1 (persist it in /etc/sysctl.d/)"),
            };
            let problem = format!(
                "user namespaces are restricted by {}={value}{note}",
                sysctl.name
            );
            hints.push(Hint {
                mechanism: "user_namespaces",
                problem,
                fix,
            });
            explained = true;
        }
        if userns.works || explained {
            return;
        }
        let error = userns.error.as_deref().unwrap_or("unknown error");
        let fix = match &userns.in_container_hint {
            Some(container) => format!(
                "this looks like a container ({container}): allow unshare and user namespaces in \
                 its seccomp and AppArmor profiles (docker: --security-opt seccomp=unconfined \
                 --security-opt apparmor=unconfined), or accept Landlock-only mode with \
                 --allow-weaker landlock-only"
            ),
            None => "use a kernel built with CONFIG_USER_NS=y, or accept Landlock-only mode with \
                     --allow-weaker landlock-only"
                .to_owned(),
        };
        hints.push(Hint {
            mechanism: "user_namespaces",
            problem: format!("user namespaces do not work: {error}"),
            fix,
        });
    }

    fn bwrap_hints(&self, hints: &mut Vec<Hint>) {
        match &self.bwrap {
            None if !self.user_namespaces.works => hints.push(hint(
                "bwrap",
                "bubblewrap is not installed".to_owned(),
                "install bubblewrap (0.8 or later): where user namespaces are restricted for \
                 stockade but allowed for bwrap, stockade uses it to build the sandbox; without \
                 it only Landlock-only mode is left",
            )),
            Some(bwrap) if !bwrap.usable => {
                let apparmor = self.user_namespaces.sysctls.iter().any(|s| {
                    s.restricts && s.name == "kernel.apparmor_restrict_unprivileged_userns"
                });
                let fix = if apparmor {
                    format!(
                        "let AppArmor allow it user namespaces (Ubuntu: the bwrap-userns-restrict \
                         profile in /etc/apparmor.d), or make it setuid: sudo chmod u+s {}",
                        bwrap.path
                    )
                } else {
                    format!(
                        "make it setuid (sudo chmod u+s {}), or fix user namespaces first",
                        bwrap.path
                    )
                };
                hints.push(Hint {
                    mechanism: "bwrap",
                    problem: format!("{} does not work: {}", bwrap.path, bwrap.detail),
                    fix,
                });
            }
            Some(bwrap) if !bwrap.builds_sandboxes() && !self.user_namespaces.works => {
                let (major, minor) = super::MIN_BWRAP_VERSION;
                hints.push(hint(
                    "bwrap",
                    format!(
                        "{} is {}, older than {major}.{minor}: stockade's bwrap backend needs \
                         --disable-userns",
                        bwrap.path,
                        bwrap.version.as_deref().unwrap_or("of an unknown version")
                    ),
                    &format!("install bubblewrap {major}.{minor} or later"),
                ));
            }
            _ => {}
        }
    }

    fn cgroup_hints(&self, hints: &mut Vec<Hint>) {
        let cgroup = &self.cgroup;
        if cgroup.limits_unavailable.is_empty() {
            return;
        }
        hints.push(hint(
            "cgroup",
            format!(
                "no cgroup can hold {} here",
                cgroup.limits_unavailable.join(", ")
            ),
            "run as root (the run's cgroup then goes in a cgroup v1 hierarchy or the cgroup v2 \
             root), or from a cgroup v2 cgroup delegated to this user whose subtree_control \
             already enables pids and memory; otherwise a policy that sets max_processes or \
             max_memory is refused unless run with --allow-weaker limits (rlimits, per process)",
        ));
    }
}

fn hint(mechanism: &'static str, problem: String, fix: &str) -> Hint {
    Hint {
        mechanism,
        problem,
        fix: fix.to_owned(),
    }
}

#[cfg(test)]
#[path = "hints_tests.rs"]
mod tests;
