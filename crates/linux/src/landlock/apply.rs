//! Applying a [`LandlockPlan`]: [`prepare`] builds the ruleset in the
//! sandbox's mount namespace, [`restrict_self`] enforces it in the final
//! child. Every shortfall is an error (`CompatLevel::HardRequirement`).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use landlock::{
    AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, NetPort, PathBeneath, Ruleset,
    RulesetAttr, RulesetCreated, RulesetCreatedAttr, RulesetStatus, Scope,
};

use super::rights::{self, MAX_ABI};
use super::{LandlockError, LandlockPlan, LandlockReport};

/// A created ruleset with its rules, not yet enforced. Holds one file
/// descriptor (close-on-exec); fork it into the child that will exec.
#[derive(Debug)]
pub struct PreparedRuleset {
    ruleset: RulesetCreated,
    abi: u32,
    skipped_paths: Vec<PathBuf>,
}

impl PreparedRuleset {
    /// The ABI the ruleset was built for.
    pub fn abi(&self) -> u32 {
        self.abi
    }

    /// Paths of the plan that got no rule (see [`LandlockReport::skipped_paths`]).
    pub fn skipped_paths(&self) -> &[PathBuf] {
        &self.skipped_paths
    }
}

/// The plan in kernel terms, after checking it is whole and consistent.
#[derive(Debug)]
struct Checked {
    handled: BitFlags<AccessFs>,
    rules: Vec<BitFlags<AccessFs>>,
    scopes: BitFlags<Scope>,
}

/// Checks `plan` and turns its names into kernel bits. Pure: a plan that
/// would enforce less than its ABI can (a right left unhandled), or that
/// names rights its ABI does not know, is a misconfiguration.
fn check(plan: &LandlockPlan) -> Result<Checked, LandlockError> {
    let abi = plan.abi;
    if !(1..=MAX_ABI).contains(&abi) {
        return Err(LandlockError::InvalidAbi { abi });
    }
    let parse = |name: &str, place: &dyn Fn() -> String| {
        let right = rights::by_name(name).ok_or_else(|| LandlockError::UnknownRight {
            right: name.to_owned(),
            place: place(),
        })?;
        if right.abi > abi {
            return Err(LandlockError::NeedsNewerAbi {
                what: right.name,
                needs: right.abi,
                abi,
            });
        }
        Ok(right)
    };
    let mut handled = BitFlags::EMPTY;
    for name in &plan.handled_fs {
        handled |= parse(name, &|| "in handled_fs".to_owned())?.access;
    }
    let missing = rights::names(rights::known_at(abi) & !handled, abi);
    if !missing.is_empty() {
        return Err(LandlockError::IncompleteHandled { abi, missing });
    }
    let mut rules = Vec::with_capacity(plan.rules.len());
    for rule in &plan.rules {
        let mut set = BitFlags::EMPTY;
        for name in &rule.rights {
            // Handled: `handled` holds every right of the ABI, and `parse`
            // refuses newer ones.
            set |= parse(name, &|| format!("for {}", rule.path.display()))?.access;
        }
        rules.push(set);
    }
    let mut scopes = BitFlags::EMPTY;
    for (wanted, scope, name) in [
        (
            plan.scope_abstract_unix_socket,
            Scope::AbstractUnixSocket,
            "scope_abstract_unix_socket",
        ),
        (plan.scope_signal, Scope::Signal, "scope_signal"),
    ] {
        if wanted {
            if abi < 6 {
                return Err(LandlockError::NeedsNewerAbi {
                    what: name,
                    needs: 6,
                    abi,
                });
            }
            scopes |= scope;
        }
    }
    if plan.tcp.is_some() && abi < 4 {
        return Err(LandlockError::NeedsNewerAbi {
            what: "tcp",
            needs: 4,
            abi,
        });
    }
    Ok(Checked {
        handled,
        rules,
        scopes,
    })
}

/// Creates the ruleset of `plan` and adds its rules, opening each path with
/// `O_PATH` in the calling process's view of the file system.
///
/// Call it in the sandbox after the mount tree is built, so that paths
/// resolve to what the command will see. A path that does not exist there
/// is skipped and reported ([`PreparedRuleset::skipped_paths`]): it gets no
/// rights. On a path that is not a directory only the rights that mean
/// something on files are added. Allocates; not for use between `fork` and
/// `execve` of a multi-threaded process.
///
/// # Security
///
/// Fails closed: a plan that leaves a right of its ABI unhandled, names an
/// unknown right or grants one it does not handle is refused, and so is a
/// kernel whose Landlock ABI is older than `plan.abi` (no downgrade: every
/// request is a hard requirement). Nothing is enforced until
/// [`restrict_self`].
///
/// # Platform specific behavior
///
/// Needs Landlock (Linux 5.13 or later, `landlock` among the active LSMs).
pub fn prepare(plan: &LandlockPlan) -> Result<PreparedRuleset, LandlockError> {
    let checked = check(plan)?;
    // One syscall; the full probe (with its diagnostics) only on failure.
    match crate::probe::landlock_abi() {
        Ok(kernel) if kernel >= plan.abi => {}
        _ => {
            let detail = crate::probe::probe_landlock().detail;
            return Err(LandlockError::KernelTooOld {
                planned: plan.abi,
                found: format!("this kernel offers {detail}"),
            });
        }
    }
    let create = |source| LandlockError::CreateRuleset { source };
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(checked.handled)
        .map_err(create)?;
    if !checked.scopes.is_empty() {
        ruleset = ruleset.scope(checked.scopes).map_err(create)?;
    }
    if plan.tcp.is_some() {
        ruleset = ruleset
            .handle_access(AccessNet::BindTcp | AccessNet::ConnectTcp)
            .map_err(create)?;
    }
    let mut created = ruleset.create().map_err(create)?;
    for &port in plan.tcp.iter().flat_map(|tcp| &tcp.connect_ports) {
        created = created
            .add_rule(NetPort::new(port, AccessNet::ConnectTcp))
            .map_err(|source| LandlockError::AddPortRule { port, source })?;
    }
    let mut skipped_paths = Vec::new();
    for (rule, &set) in plan.rules.iter().zip(&checked.rules) {
        let Some(file) = open_path(&rule.path)? else {
            skipped_paths.push(rule.path.clone());
            continue;
        };
        let is_dir = file
            .metadata()
            .map_err(|source| LandlockError::OpenPath {
                path: rule.path.clone(),
                source,
            })?
            .is_dir();
        let set = if is_dir {
            set
        } else {
            set & rights::file_rights()
        };
        if set.is_empty() {
            skipped_paths.push(rule.path.clone());
            continue;
        }
        created = created
            .add_rule(PathBeneath::new(file, set))
            .map_err(|source| LandlockError::AddRule {
                path: rule.path.clone(),
                source,
            })?;
    }
    Ok(PreparedRuleset {
        ruleset: created,
        abi: plan.abi,
        skipped_paths,
    })
}

/// Opens `path` with `O_PATH` (no read or write access, no device open);
/// `None` when it does not exist.
fn open_path(path: &Path) -> Result<Option<File>, LandlockError> {
    match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_CLOEXEC)
        .open(path)
    {
        Ok(file) => Ok(Some(file)),
        // Absent, or beneath a hidden directory the process cannot
        // traverse (the bwrap helper has no capabilities): nothing to grant,
        // and a rule left out only ever takes rights away.
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::ENOENT | libc::ENOTDIR | libc::EACCES)
            ) =>
        {
            Ok(None)
        }
        Err(source) => Err(LandlockError::OpenPath {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Enforces `prepared` on the calling thread, which must be the only thread
/// of the final child, right before `execve`. Sets `no_new_privs` first
/// (Landlock needs it without `CAP_SYS_ADMIN`, and it stops set-user-ID
/// programs from running with more rights than the command).
///
/// Async-signal-safe: two system calls, no allocation, no free, no lock.
/// On failure the report's skipped paths are leaked rather than freed; the
/// caller is expected to exit.
///
/// # Security
///
/// Returns a report only when the kernel enforced the whole ruleset; any
/// shortfall (`no_new_privs` refused, a partial enforcement) is an error.
/// The restriction is permanent and inherited by every child; it covers
/// descriptors opened after it, not the ones already open.
///
/// # Platform specific behavior
///
/// Restricts the calling thread only: call it after `fork`, in the process
/// that will `execve`, before it has other threads.
pub fn restrict_self(prepared: PreparedRuleset) -> Result<LandlockReport, LandlockError> {
    let PreparedRuleset {
        ruleset,
        abi,
        skipped_paths,
    } = prepared;
    let fail = |error: LandlockError, skipped_paths: Vec<PathBuf>| {
        // Freeing after fork in a multi-threaded parent can deadlock.
        std::mem::forget(skipped_paths);
        Err(error)
    };
    let status = match ruleset.restrict_self() {
        Ok(status) => status,
        Err(source) => return fail(LandlockError::RestrictSelf { source }, skipped_paths),
    };
    let name = match status.ruleset {
        RulesetStatus::FullyEnforced => "fully_enforced",
        RulesetStatus::PartiallyEnforced => "partially_enforced",
        RulesetStatus::NotEnforced => "not_enforced",
    };
    if status.ruleset != RulesetStatus::FullyEnforced || !status.no_new_privs {
        return fail(
            LandlockError::NotFullyEnforced { abi, status: name },
            skipped_paths,
        );
    }
    Ok(LandlockReport {
        abi,
        status: name,
        skipped_paths,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landlock::{PathRule, handled_fs};

    fn plan(abi: u32) -> LandlockPlan {
        LandlockPlan {
            tcp: None,
            abi,
            handled_fs: handled_fs(abi),
            rules: vec![PathRule {
                path: "/usr".into(),
                rights: vec!["execute", "read_file", "read_dir"],
                why: "test".into(),
            }],
            scope_abstract_unix_socket: abi >= 6,
            scope_signal: abi >= 6,
        }
    }

    #[test]
    fn a_whole_plan_checks() {
        for abi in 1..=MAX_ABI {
            let checked = check(&plan(abi)).unwrap();
            assert_eq!(checked.handled, rights::known_at(abi));
            assert_eq!(checked.scopes.is_empty(), abi < 6);
        }
    }

    #[test]
    fn abis_outside_the_table_are_refused() {
        for abi in [0, MAX_ABI + 1] {
            let mut p = plan(3);
            p.abi = abi;
            let err = check(&p).unwrap_err();
            assert!(matches!(err, LandlockError::InvalidAbi { .. }), "{err}");
        }
    }

    #[test]
    fn a_right_left_unhandled_is_refused() {
        let mut p = plan(3);
        p.handled_fs.retain(|r| *r != "make_block");
        let err = check(&p).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid landlock plan: handled_fs leaves out make_block of ABI 3, which would be allowed everywhere"
        );
    }

    #[test]
    fn unknown_and_unhandled_and_too_new_rights_are_refused() {
        let mut p = plan(3);
        p.rules[0].rights.push("read_everything");
        let err = check(&p).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid landlock plan: unknown right 'read_everything' for /usr"
        );

        let mut p = plan(3);
        p.handled_fs.push("ioctl_dev");
        let err = check(&p).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid landlock plan: 'ioctl_dev' needs ABI 5 but the plan is for ABI 3"
        );

        let mut p = plan(5);
        p.scope_signal = true;
        let err = check(&p).unwrap_err();
        assert!(matches!(
            err,
            LandlockError::NeedsNewerAbi {
                what: "scope_signal",
                needs: 6,
                abi: 5
            }
        ));
    }

    #[test]
    fn a_rule_granting_a_right_newer_than_the_plan_is_refused() {
        let mut p = plan(1);
        p.rules[0].rights.push("refer");
        let err = check(&p).unwrap_err();
        assert!(
            matches!(err, LandlockError::NeedsNewerAbi { what: "refer", .. }),
            "{err}"
        );
    }
}
