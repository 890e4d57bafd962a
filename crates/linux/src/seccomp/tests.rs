//! Unit tests: the rules as data, the compiler's checks, and the compiled
//! program run through `interpreter.rs` for every rule and its allowed twin.
//! The kernel runs the same programs in `tests/seccomp.rs`.

use libc::sock_filter;

use super::bpf::{self, ARCH, JEQ_K, JGE_K, JSET_K, LD_W_ABS, NR, RET_K, errno_return};
use super::interpreter::{SeccompData, run};
use super::syscalls::{self, Arch};
use super::*;

const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
const KILL: u32 = libc::SECCOMP_RET_KILL_PROCESS;
/// `AUDIT_ARCH_I386` and `AUDIT_ARCH_ARM`: the 32-bit entry points.
const FOREIGN_ARCHES: [u32; 2] = [0x4000_0003, 0x4000_0028];

fn native() -> &'static Arch {
    syscalls::native().expect("tests run on x86_64 or aarch64")
}

fn nr(name: &str) -> u32 {
    native()
        .number(name)
        .unwrap_or_else(|| panic!("no syscall {name}"))
}

fn options(sockets: SocketPolicy) -> SeccompOptions {
    SeccompOptions {
        sockets,
        supervise_connect: false,
        supervise_files: false,
    }
}

fn program(sockets: SocketPolicy) -> Vec<sock_filter> {
    compile(&rules(&options(sockets)))
        .expect("the built-in rules compile")
        .program
}

/// The filter's answer to syscall `name` with `args`, as a native call.
fn verdict(program: &[sock_filter], name: &str, args: [u64; 6]) -> u32 {
    run(
        program,
        &SeccompData {
            nr: nr(name),
            arch: native().audit_arch,
            args,
        },
    )
}

/// `verdict` with only the first two arguments set.
fn call(program: &[sock_filter], name: &str, arg0: u64, arg1: u64) -> u32 {
    verdict(program, name, [arg0, arg1, 0, 0, 0, 0])
}

fn errno(errno: i32) -> u32 {
    errno_return(errno)
}

/// The terminal requests, whatever integer type libc gives them (`c_ulong`
/// on glibc, `c_int` on musl).
#[allow(clippy::unnecessary_cast)]
const TIOCSTI: u64 = libc::TIOCSTI as u64;
#[allow(clippy::unnecessary_cast)]
const TIOCLINUX: u64 = libc::TIOCLINUX as u64;
#[allow(clippy::unnecessary_cast)]
const FIONREAD: u64 = libc::FIONREAD as u64;
#[allow(clippy::unnecessary_cast)]
const TIOCGWINSZ: u64 = libc::TIOCGWINSZ as u64;

const POLICIES: [SocketPolicy; 3] = [
    SocketPolicy::UnixOnly,
    SocketPolicy::UnixAndInet,
    SocketPolicy::Any,
];

// --- the rules as data ---

#[test]
fn every_rule_says_which_escape_it_stops() {
    for policy in POLICIES {
        for rule in rules(&options(policy)) {
            let why = rule.why;
            assert!(!why.trim().is_empty(), "{rule}: empty why");
            assert!(!why.contains('\n'), "{rule}: why is one line");
            let class = why
                .rsplit_once('(')
                .and_then(|(_, tail)| tail.strip_suffix(')'))
                .unwrap_or_else(|| panic!("{rule}: why must end in its ESCAPES class: {why}"));
            for number in class.split(", ") {
                let number: u32 = number.parse().expect("class number");
                assert!((1..=24).contains(&number), "{rule}: class {number}");
            }
        }
    }
}

#[test]
fn the_fixed_list_exists_on_this_architecture() {
    // A name missing from the table is kept by `rules` and refused by
    // `compile`; only the names an architecture is known to lack drop out.
    assert!(syscalls::exists("no_such_syscall"));
    assert!(matches!(
        compile(&[SyscallRule {
            syscall: "no_such_syscall",
            action: RuleAction::Errno(libc::EPERM),
            condition: None,
            why: "test",
        }]),
        Err(SeccompError::UnknownSyscall { .. })
    ));
    let missing: Vec<&str> = deny_list::FIXED
        .iter()
        .chain(deny_list::SUPERVISED)
        .chain(deny_list::SUPERVISED_FILES)
        .map(|rule| rule.syscall)
        .filter(|name| native().number(name).is_none())
        .collect();
    let legacy = [
        "open", "creat", "mkdir", "mknod", "symlink", "link", "rename", "unlink", "rmdir", "chmod",
        "chown", "lchown",
    ];
    let expected: Vec<&str> = if cfg!(target_arch = "aarch64") {
        let mut names = vec!["uselib"];
        names.extend(
            deny_list::SUPERVISED_FILES
                .iter()
                .map(|r| r.syscall)
                .filter(|n| legacy.contains(n)),
        );
        names
    } else {
        Vec::new()
    };
    assert_eq!(missing, expected);
    let fixed_missing = expected.iter().filter(|n| **n == "uselib").count();
    assert_eq!(
        rules(&options(SocketPolicy::Any)).len(),
        deny_list::FIXED.len() - fixed_missing + 2 * deny_list::REFUSED_FAMILIES.len()
    );
}

#[test]
fn file_supervision_holds_path_calls_and_refuses_the_ones_it_does_not_make() {
    let held = |options: &SeccompOptions| compile(&rules(options)).unwrap().program;
    let files = held(&SeccompOptions {
        supervise_files: true,
        ..options(SocketPolicy::UnixOnly)
    });
    let plain = held(&options(SocketPolicy::UnixOnly));
    let notify = libc::SECCOMP_RET_USER_NOTIF;
    for name in [
        "openat",
        "mkdirat",
        "renameat2",
        "linkat",
        "unlinkat",
        "symlinkat",
        "truncate",
        "fchownat",
    ] {
        assert_eq!(call(&files, name, 0, 0), notify, "{name}");
        assert_eq!(call(&plain, name, 0, 0), libc::SECCOMP_RET_ALLOW, "{name}");
    }
    #[cfg(target_arch = "x86_64")]
    for name in ["open", "creat", "rename", "unlink", "rmdir", "chmod"] {
        assert_eq!(call(&files, name, 0, 0), notify, "{name}");
    }
    assert_eq!(call(&files, "openat2", 0, 0), errno(libc::ENOSYS));
    assert_eq!(call(&files, "setxattr", 0, 0), errno(libc::EOPNOTSUPP));
    // Calls on descriptors are not held.
    assert_eq!(call(&files, "ioctl", 0, 0), libc::SECCOMP_RET_ALLOW);
}

#[test]
fn the_fixed_list_holds_every_required_syscall() {
    let rules = rules(&options(SocketPolicy::Any));
    let action = |name: &str| {
        rules
            .iter()
            .find(|rule| rule.syscall == name)
            .unwrap_or_else(|| panic!("{name} is not in the deny list"))
            .action
    };
    let eperm = RuleAction::Errno(libc::EPERM);
    for name in [
        "ptrace",
        "process_vm_readv",
        "process_vm_writev",
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
        "bpf",
        "perf_event_open",
        "userfaultfd",
        "keyctl",
        "add_key",
        "request_key",
        "kexec_load",
        "kexec_file_load",
        "open_by_handle_at",
        "name_to_handle_at",
        "mount",
        "umount2",
        "pivot_root",
        "chroot",
        "fsopen",
        "fsconfig",
        "fsmount",
        "fspick",
        "move_mount",
        "open_tree",
        "mount_setattr",
        "setns",
        "unshare",
        "clone",
        "ioctl",
        "init_module",
        "finit_module",
        "delete_module",
        "swapon",
        "swapoff",
        "reboot",
        "pidfd_getfd",
        "acct",
        "quotactl",
        "lookup_dcookie",
        "personality",
    ] {
        assert_eq!(action(name), eperm, "{name}");
    }
    assert_eq!(action("clone3"), RuleAction::Errno(libc::ENOSYS));
    if cfg!(target_arch = "x86_64") {
        assert_eq!(action("uselib"), eperm);
    }
}

#[test]
fn socket_rules_follow_the_policy() {
    let socket_rules = |policy| -> Vec<SyscallRule> {
        rules(&options(policy))
            .into_iter()
            .filter(|rule| rule.syscall.starts_with("socket"))
            .collect()
    };
    let eafnosupport = RuleAction::Errno(libc::EAFNOSUPPORT);

    let unix_only = socket_rules(SocketPolicy::UnixOnly);
    assert_eq!(
        unix_only.iter().map(|r| r.syscall).collect::<Vec<_>>(),
        ["socket", "socketpair"]
    );
    for rule in &unix_only {
        assert_eq!(rule.action, eafnosupport);
        assert_eq!(
            rule.condition,
            Some(Condition::NoneOf {
                arg: 0,
                values: &[libc::AF_UNIX as u32],
            })
        );
    }

    let inet = socket_rules(SocketPolicy::UnixAndInet);
    assert_eq!(inet.len(), 2);
    for rule in &inet {
        assert_eq!(rule.action, eafnosupport);
        assert_eq!(
            rule.condition,
            Some(Condition::NoneOf {
                arg: 0,
                values: &[
                    libc::AF_UNIX as u32,
                    libc::AF_INET as u32,
                    libc::AF_INET6 as u32
                ],
            })
        );
    }

    let any = socket_rules(SocketPolicy::Any);
    let refused = |syscall: &str| -> Vec<u32> {
        any.iter()
            .filter(|rule| rule.syscall == syscall)
            .map(|rule| match rule.condition {
                Some(Condition::Equals { arg: 0, value }) => value,
                other => panic!("{rule}: unexpected condition {other:?}"),
            })
            .collect()
    };
    let families = refused("socket");
    assert_eq!(families, refused("socketpair"));
    for family in [
        libc::AF_PACKET,
        40, // AF_VSOCK
        libc::AF_BLUETOOTH,
        libc::AF_KEY,
        libc::AF_ALG,
    ] {
        assert!(families.contains(&(family as u32)), "family {family}");
    }
    for family in [
        libc::AF_UNIX,
        libc::AF_INET,
        libc::AF_INET6,
        libc::AF_NETLINK,
    ] {
        assert!(!families.contains(&(family as u32)), "family {family}");
    }
    assert!(any.iter().all(|rule| rule.action == eafnosupport));
}

#[test]
fn rules_serialize_with_errno_names() {
    let rule = &rules(&options(SocketPolicy::UnixOnly))
        .into_iter()
        .find(|rule| rule.syscall == "ioctl")
        .expect("an ioctl rule");
    let json = serde_json::to_value(rule).expect("serializes");
    assert_eq!(json["syscall"], "ioctl");
    assert_eq!(json["action"]["errno"], "EPERM");
    assert_eq!(json["condition"]["test"], "equals");
    assert_eq!(json["condition"]["arg"], 1);
    assert_eq!(json["condition"]["value"], 0x5412);
    let json = serde_json::to_value(RuleAction::Errno(200)).expect("serializes");
    assert_eq!(json["errno"], "errno 200");
    let json = serde_json::to_value(options(SocketPolicy::UnixAndInet)).expect("serializes");
    assert_eq!(json["sockets"], "unix_and_inet");
}

#[test]
fn rules_display_as_explain_lines() {
    let rules = rules(&options(SocketPolicy::UnixAndInet));
    let lines: Vec<String> = rules.iter().map(ToString::to_string).collect();
    for expected in [
        "ptrace -> EPERM",
        "clone3 -> ENOSYS",
        "ioctl if arg1 == 0x5412 -> EPERM",
        "unshare if arg0 & 0x7e020080 != 0 -> EPERM",
        "clone if arg0 & 0x7e020000 != 0 -> EPERM",
        "personality if arg0 not in {0x0, 0xffffffff} -> EPERM",
        "socket if arg0 not in {0x1, 0x2, 0xa} -> EAFNOSUPPORT",
    ] {
        assert!(lines.iter().any(|line| line == expected), "{expected}");
    }
}

// --- the compiled program ---

#[test]
fn opcodes_match_the_kernel_headers() {
    let code = |v: u32| u16::try_from(v).expect("fits");
    assert_eq!(LD_W_ABS, code(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS));
    assert_eq!(JEQ_K, code(libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K));
    assert_eq!(JGE_K, code(libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K));
    assert_eq!(JSET_K, code(libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K));
    assert_eq!(RET_K, code(libc::BPF_RET | libc::BPF_K));
}

#[test]
fn every_policy_compiles_to_a_valid_program() {
    for policy in POLICIES {
        let filter = compile(&rules(&options(policy))).expect("compiles");
        assert!(!filter.is_empty());
        assert!(
            filter.len() < 256,
            "{policy:?}: {} instructions",
            filter.len()
        );
        super::interpreter::validate(&filter.program);
    }
}

#[test]
fn the_program_starts_with_the_arch_check() {
    for policy in POLICIES {
        let program = program(policy);
        assert_eq!((program[0].code, program[0].k), (LD_W_ABS, ARCH));
        assert_eq!(
            (program[1].code, program[1].k, program[1].jt, program[1].jf),
            (JEQ_K, native().audit_arch, 1, 0)
        );
        assert_eq!((program[2].code, program[2].k), (RET_K, KILL));
        assert_eq!((program[3].code, program[3].k), (LD_W_ABS, NR));
        if cfg!(target_arch = "x86_64") {
            assert_eq!(
                (program[4].code, program[4].k, program[4].jt, program[4].jf),
                (JGE_K, 0x4000_0000, 0, 1)
            );
            assert_eq!(
                (program[5].code, program[5].k),
                (RET_K, errno(libc::ENOSYS))
            );
        }
    }
}

#[test]
fn other_architectures_are_killed() {
    let program = program(SocketPolicy::Any);
    for arch in FOREIGN_ARCHES {
        for nr in [0, 20, 39, 102, 172, 0x4000_0027, u32::MAX] {
            let data = SeccompData {
                nr,
                arch,
                args: [0; 6],
            };
            assert_eq!(run(&program, &data), KILL, "arch {arch:#x} nr {nr}");
        }
    }
}

#[test]
#[cfg(target_arch = "x86_64")]
fn x32_numbers_get_enosys() {
    let program = program(SocketPolicy::Any);
    // x32 getpid, x32 ptrace (521), x32 mount (165), out-of-range numbers.
    for nr in [
        0x4000_0000 | 39,
        0x4000_0000 | 521,
        0x4000_0000 | 165,
        0x4000_0000,
        0x7fff_ffff,
        u32::MAX,
    ] {
        let data = SeccompData {
            nr,
            arch: native().audit_arch,
            args: [0; 6],
        };
        assert_eq!(run(&program, &data), errno(libc::ENOSYS), "nr {nr:#x}");
    }
}

#[test]
fn unconditional_rules_refuse_whatever_the_arguments() {
    for policy in POLICIES {
        let program = program(policy);
        for rule in rules(&options(policy)) {
            if rule.condition.is_some() {
                continue;
            }
            let expected = match rule.action {
                RuleAction::Errno(e) => errno(e),
                RuleAction::Notify => libc::SECCOMP_RET_USER_NOTIF,
            };
            for args in [[0; 6], [u64::MAX; 6], [1, 2, 3, 4, 5, 6]] {
                assert_eq!(verdict(&program, rule.syscall, args), expected, "{rule}");
            }
        }
    }
}

#[test]
fn syscalls_without_rules_are_allowed() {
    for policy in POLICIES {
        let program = program(policy);
        let listed: Vec<u32> = rules(&options(policy))
            .iter()
            .map(|rule| nr(rule.syscall))
            .collect();
        for number in (0..1024).filter(|n| !listed.contains(n)) {
            for args in [[0; 6], [u64::MAX; 6]] {
                let data = SeccompData {
                    nr: number,
                    arch: native().audit_arch,
                    args,
                };
                assert_eq!(run(&program, &data), ALLOW, "nr {number}");
            }
        }
    }
}

#[test]
fn namespace_flags_are_refused_in_unshare_and_clone() {
    let program = program(SocketPolicy::UnixOnly);
    let eperm = errno(libc::EPERM);
    for flag in [
        libc::CLONE_NEWNS,
        libc::CLONE_NEWCGROUP,
        libc::CLONE_NEWUTS,
        libc::CLONE_NEWIPC,
        libc::CLONE_NEWUSER,
        libc::CLONE_NEWPID,
        libc::CLONE_NEWNET,
        libc::CLONE_NEWTIME,
    ] {
        let flag = flag as u64;
        assert_eq!(
            call(&program, "unshare", flag, 0),
            eperm,
            "unshare {flag:#x}"
        );
        // High bits do not hide the flag (the kernel refuses them anyway).
        assert_eq!(call(&program, "unshare", flag | 1 << 40, 0), eperm);
        if flag != libc::CLONE_NEWTIME as u64 {
            let sigchld = libc::SIGCHLD as u64;
            assert_eq!(
                call(&program, "clone", flag | sigchld, 0),
                eperm,
                "clone {flag:#x}"
            );
        }
    }
    // The allowed twins: plain unshares, fork, threads, odd exit signals.
    for flags in [0, libc::CLONE_FILES, libc::CLONE_FS | libc::CLONE_SYSVSEM] {
        assert_eq!(call(&program, "unshare", flags as u64, 0), ALLOW);
    }
    let thread = libc::CLONE_VM
        | libc::CLONE_FS
        | libc::CLONE_FILES
        | libc::CLONE_SIGHAND
        | libc::CLONE_THREAD
        | libc::CLONE_SYSVSEM
        | libc::CLONE_SETTLS
        | libc::CLONE_PARENT_SETTID
        | libc::CLONE_CHILD_CLEARTID;
    for flags in [libc::SIGCHLD, thread, 0x80 | libc::SIGCHLD] {
        assert_eq!(
            call(&program, "clone", flags as u64, 0),
            ALLOW,
            "{flags:#x}"
        );
    }
    assert_eq!(call(&program, "clone3", 0, 0), errno(libc::ENOSYS));
}

#[test]
fn tiocsti_and_tioclinux_are_refused_in_any_spelling() {
    let program = program(SocketPolicy::UnixOnly);
    let eperm = errno(libc::EPERM);
    for request in [TIOCSTI, TIOCLINUX] {
        assert_eq!(call(&program, "ioctl", 0, request), eperm);
        assert_eq!(
            call(&program, "ioctl", 7, request | 0xffff_ffff_0000_0000),
            eperm
        );
        assert_eq!(call(&program, "ioctl", 0, request | 1 << 32), eperm);
    }
    for request in [FIONREAD, TIOCGWINSZ, 0] {
        assert_eq!(call(&program, "ioctl", 0, request), ALLOW);
    }
    // The request is argument 1: a descriptor numbered like TIOCSTI is fine.
    assert_eq!(call(&program, "ioctl", TIOCSTI, 0), ALLOW);
}

#[test]
fn personality_allows_only_the_default_and_the_query() {
    let program = program(SocketPolicy::UnixOnly);
    for persona in [0, 0xffff_ffff, u64::MAX] {
        assert_eq!(
            call(&program, "personality", persona, 0),
            ALLOW,
            "{persona:#x}"
        );
    }
    for persona in [
        libc::READ_IMPLIES_EXEC as u64,
        libc::ADDR_NO_RANDOMIZE as u64,
        0x0008, // PER_LINUX32
        1 << 32 | libc::READ_IMPLIES_EXEC as u64,
    ] {
        assert_eq!(
            call(&program, "personality", persona, 0),
            errno(libc::EPERM),
            "{persona:#x}"
        );
    }
}

#[test]
fn socket_families_follow_the_policy() {
    use SocketPolicy::*;
    let eaf = errno(libc::EAFNOSUPPORT);
    // family, then the answer under UnixOnly, UnixAndInet, Any.
    let table: &[(i32, [u32; 3])] = &[
        (libc::AF_UNIX, [ALLOW, ALLOW, ALLOW]),
        (libc::AF_INET, [eaf, ALLOW, ALLOW]),
        (libc::AF_INET6, [eaf, ALLOW, ALLOW]),
        (libc::AF_NETLINK, [eaf, eaf, ALLOW]),
        (libc::AF_PACKET, [eaf, eaf, eaf]),
        (40, [eaf, eaf, eaf]), // AF_VSOCK
        (libc::AF_BLUETOOTH, [eaf, eaf, eaf]),
        (libc::AF_KEY, [eaf, eaf, eaf]),
        (libc::AF_ALG, [eaf, eaf, eaf]),
        (44, [eaf, eaf, eaf]), // AF_XDP
        (libc::AF_RDS, [eaf, eaf, eaf]),
        (libc::AF_TIPC, [eaf, eaf, eaf]),
        (libc::AF_CAN, [eaf, eaf, ALLOW]),
    ];
    for (i, policy) in [UnixOnly, UnixAndInet, Any].into_iter().enumerate() {
        let program = program(policy);
        for &(family, expected) in table {
            for syscall in ["socket", "socketpair"] {
                let family = family as u64;
                assert_eq!(
                    call(&program, syscall, family, libc::SOCK_STREAM as u64),
                    expected[i],
                    "{policy:?} {syscall}({family})"
                );
                // The family is an int: high bits do not change it.
                assert_eq!(
                    call(&program, syscall, family | 1 << 33, 0),
                    expected[i],
                    "{policy:?} {syscall}({family} | 1 << 33)"
                );
            }
        }
    }
}

// --- the compiler's checks ---

fn rule(syscall: &'static str, errno: i32, condition: Option<Condition>) -> SyscallRule {
    SyscallRule {
        syscall,
        action: RuleAction::Errno(errno),
        condition,
        why: "test (15)",
    }
}

#[test]
fn mistakes_in_rules_are_errors() {
    let err = |rules: &[SyscallRule]| compile(rules).expect_err("must not compile");
    assert!(matches!(
        err(&[rule("no_such_call", libc::EPERM, None)]),
        SeccompError::UnknownSyscall {
            syscall: "no_such_call",
            ..
        }
    ));
    for errno in [0, -1, 4096] {
        assert!(matches!(
            err(&[rule("ptrace", errno, None)]),
            SeccompError::InvalidErrno { errno: e, .. } if e == errno
        ));
    }
    assert!(matches!(
        err(&[rule(
            "ioctl",
            1,
            Some(Condition::Equals { arg: 6, value: 1 })
        )]),
        SeccompError::InvalidArgument { arg: 6, .. }
    ));
    assert!(matches!(
        err(&[rule(
            "clone",
            1,
            Some(Condition::AnyBitSet { arg: 0, mask: 0 })
        )]),
        SeccompError::VacuousCondition { .. }
    ));
    assert!(matches!(
        err(&[rule(
            "socket",
            1,
            Some(Condition::NoneOf {
                arg: 0,
                values: &[]
            })
        )]),
        SeccompError::VacuousCondition { .. }
    ));
    assert!(matches!(
        err(&[
            rule("ioctl", 1, None),
            rule("ioctl", 1, Some(Condition::Equals { arg: 1, value: 1 })),
        ]),
        SeccompError::ShadowedRule { syscall: "ioctl" }
    ));
    static MANY: [u32; 300] = [0; 300];
    assert!(matches!(
        err(&[rule(
            "socket",
            1,
            Some(Condition::NoneOf {
                arg: 0,
                values: &MANY
            })
        )]),
        SeccompError::SyscallTooLong {
            syscall: "socket",
            ..
        }
    ));
    let crowded: Vec<SyscallRule> = (0..100)
        .map(|value| rule("ioctl", 1, Some(Condition::Equals { arg: 1, value })))
        .collect();
    assert!(matches!(
        err(&crowded),
        SeccompError::SyscallTooLong {
            syscall: "ioctl",
            ..
        }
    ));
}

#[test]
fn programs_longer_than_the_kernel_accepts_are_errors() {
    let mut names: Vec<&'static str> = rules(&options(SocketPolicy::Any))
        .iter()
        .map(|rule| rule.syscall)
        .collect();
    names.sort_unstable();
    names.dedup();
    let huge: Vec<SyscallRule> = names
        .iter()
        .flat_map(|&name| {
            (0..80).map(move |value| rule(name, 1, Some(Condition::Equals { arg: 1, value })))
        })
        .collect();
    assert!(matches!(
        compile(&huge),
        Err(SeccompError::ProgramTooLong { len }) if len > 4096
    ));
}

#[test]
fn rules_for_one_syscall_apply_in_order() {
    let rules = [
        rule(
            "ioctl",
            libc::EACCES,
            Some(Condition::Equals { arg: 1, value: 7 }),
        ),
        rule(
            "ioctl",
            libc::EPERM,
            Some(Condition::AnyBitSet { arg: 1, mask: 3 }),
        ),
        rule("ptrace", libc::EPERM, None),
        rule("ioctl", libc::EINVAL, None),
    ];
    let program = compile(&rules).expect("compiles").program;
    assert_eq!(call(&program, "ioctl", 0, 7), errno(libc::EACCES));
    assert_eq!(call(&program, "ioctl", 0, 1), errno(libc::EPERM));
    assert_eq!(call(&program, "ioctl", 0, 4), errno(libc::EINVAL));
    assert_eq!(call(&program, "ptrace", 0, 0), errno(libc::EPERM));
    let getpid = SeccompData {
        nr: libc::SYS_getpid as u32,
        arch: native().audit_arch,
        args: [0; 6],
    };
    assert_eq!(run(&program, &getpid), ALLOW);
}

#[test]
fn error_messages_are_lowercase_without_a_period() {
    let errors = [
        SeccompError::UnsupportedArch { arch: "riscv64" },
        SeccompError::UnknownSyscall {
            syscall: "x",
            arch: "x86_64",
        },
        SeccompError::InvalidErrno {
            syscall: "x",
            errno: 0,
        },
        SeccompError::InvalidArgument {
            syscall: "x",
            arg: 9,
        },
        SeccompError::VacuousCondition {
            syscall: "x",
            condition: Condition::AnyBitSet { arg: 0, mask: 0 },
        },
        SeccompError::ShadowedRule { syscall: "x" },
        SeccompError::SyscallTooLong {
            syscall: "x",
            len: 300,
        },
        SeccompError::ProgramTooLong { len: 5000 },
    ];
    for error in errors {
        let message = error.to_string();
        assert!(message.starts_with("failed to "), "{message}");
        assert!(!message.ends_with('.'), "{message}");
    }
}

#[test]
fn the_assembler_emits_only_what_the_interpreter_knows() {
    // Guards the interpreter itself: a program with an unknown opcode or a
    // jump past the end must be refused, not silently run.
    let bad_jump = [sock_filter {
        code: JEQ_K,
        jt: 5,
        jf: 0,
        k: 0,
    }];
    assert!(std::panic::catch_unwind(|| super::interpreter::validate(&bad_jump)).is_err());
    let unknown = [sock_filter {
        code: 0x07, // BPF_MISC | BPF_TAX
        jt: 0,
        jf: 0,
        k: 0,
    }];
    assert!(std::panic::catch_unwind(|| super::interpreter::validate(&unknown)).is_err());
    let _ = bpf::assemble(native(), &[]).expect("an empty rule list compiles");
}

/// The bwrap helper installs the program stockade compiled: handed over as
/// instructions, it comes back instruction for instruction.
#[test]
fn a_filter_survives_the_trip_to_the_bwrap_helper() {
    let filter = compile(&rules(&options(SocketPolicy::UnixOnly))).unwrap();
    let words = filter.instructions();
    assert_eq!(words.len(), filter.len());
    let back = CompiledFilter::from_instructions(&words);
    assert_eq!(back.instructions(), words);
    let inet = [libc::AF_INET as u64, 0, 0, 0, 0, 0];
    assert_eq!(
        verdict(&back.program, "socket", inet),
        verdict(&filter.program, "socket", inet)
    );
}

#[test]
fn supervised_sandboxes_hold_connect_and_refuse_unix_datagrams() {
    let flags = u64::from((libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) as u32);
    let (unix, inet) = (libc::AF_UNIX as u64, libc::AF_INET as u64);
    let (stream, dgram) = (libc::SOCK_STREAM as u64, libc::SOCK_DGRAM as u64);
    let seqpacket = libc::SOCK_SEQPACKET as u64;
    for policy in POLICIES {
        let supervised = compile(&rules(&SeccompOptions {
            sockets: policy,
            supervise_connect: true,
            supervise_files: false,
        }))
        .unwrap()
        .program;
        let plain = compile(&rules(&options(policy))).unwrap().program;
        let held = libc::SECCOMP_RET_USER_NOTIF;
        assert_eq!(call(&supervised, "connect", 3, 0), held, "{policy:?}");
        assert_eq!(call(&plain, "connect", 3, 0), libc::SECCOMP_RET_ALLOW);
        for syscall in ["socket", "socketpair"] {
            for kind in [stream, stream | flags, seqpacket, seqpacket | flags] {
                assert_eq!(
                    call(&supervised, syscall, unix, kind),
                    libc::SECCOMP_RET_ALLOW
                );
            }
            for kind in [dgram, dgram | flags, libc::SOCK_RAW as u64, 0, 15] {
                let got = call(&supervised, syscall, unix, kind);
                assert_eq!(got, errno(libc::EACCES), "{syscall} type {kind:#x}");
                assert_eq!(call(&plain, syscall, unix, kind), libc::SECCOMP_RET_ALLOW);
            }
            // Only unix sockets are tested for their type.
            let inet_dgram = call(&supervised, syscall, inet, dgram);
            assert_eq!(inet_dgram, call(&plain, syscall, inet, dgram));
        }
    }
}

#[test]
fn conditions_on_two_arguments_display_and_check() {
    let rule = &super::deny_list::SUPERVISED[0];
    assert_eq!(
        rule.to_string(),
        "socket if arg0 == 0x1 && arg1 & 0xf not in {0x1, 0x5} -> EACCES"
    );
    let nested = Condition::All {
        of: &[
            Condition::All { of: &[] },
            Condition::Equals { arg: 0, value: 1 },
        ],
    };
    let bad = SyscallRule {
        syscall: "socket",
        action: RuleAction::Errno(libc::EACCES),
        condition: Some(nested),
        why: "test",
    };
    assert!(matches!(
        compile(&[bad]),
        Err(SeccompError::VacuousCondition { .. })
    ));
}
