//! The syscalls the sandboxed command may not make, each with the attack it
//! stops. Numbers in parentheses are classes of `ESCAPES.md`.
//!
//! Everything here is refused with `EPERM` unless said otherwise: the errno
//! a kernel gives a caller without the privilege, which programs already
//! handle.

use super::{Condition, RuleAction, SocketPolicy, SyscallRule};

const EPERM: RuleAction = RuleAction::Errno(libc::EPERM);

/// Every namespace flag of `clone`, `unshare` and `clone3`.
const CLONE_NEW_ANY: u32 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWTIME) as u32;

/// The namespace flags `clone` can be asked for. Its low byte is the exit
/// signal (`CSIGNAL`), so bit 0x80 there is not `CLONE_NEWTIME` and the
/// kernel never reads it as a flag; testing it would only refuse odd exit
/// signals. Time namespaces come only from `unshare` and `clone3`.
const CLONE_NEW_VIA_CLONE: u32 = CLONE_NEW_ANY & !(libc::CLONE_NEWTIME as u32);

/// `personality`'s `PER_LINUX`: the default persona, no flags.
const PER_LINUX: u32 = 0;
/// `personality(0xffffffff)` only reports the current persona.
const PER_QUERY: u32 = 0xffff_ffff;

/// A rule that refuses every call of `syscall` with `EPERM`.
const fn deny(syscall: &'static str, why: &'static str) -> SyscallRule {
    SyscallRule {
        syscall,
        action: EPERM,
        condition: None,
        why,
    }
}

/// A rule that refuses the calls of `syscall` that pass `condition`.
const fn deny_if(syscall: &'static str, condition: Condition, why: &'static str) -> SyscallRule {
    SyscallRule {
        syscall,
        action: EPERM,
        condition: Some(condition),
        why,
    }
}

/// The deny list every sandbox gets, whatever its policy.
pub(super) static FIXED: &[SyscallRule] = &[
    // Other processes.
    deny(
        "ptrace",
        "attach to other processes of the sandbox and rewrite their memory and registers (13)",
    ),
    deny(
        "process_vm_readv",
        "read another process's memory without attaching to it (13)",
    ),
    deny(
        "process_vm_writev",
        "write another process's memory without attaching to it (13)",
    ),
    deny(
        "pidfd_getfd",
        "copy an open file descriptor out of another process (13)",
    ),
    // Ways around a syscall filter, and the kernel's riskiest interfaces.
    deny(
        "io_uring_setup",
        "io_uring runs file and socket operations inside the kernel where seccomp never sees them (15)",
    ),
    deny(
        "io_uring_enter",
        "io_uring runs file and socket operations inside the kernel where seccomp never sees them (15)",
    ),
    deny(
        "io_uring_register",
        "io_uring runs file and socket operations inside the kernel where seccomp never sees them (15)",
    ),
    deny(
        "bpf",
        "eBPF programs and maps: a large, often-exploited kernel surface (15)",
    ),
    deny(
        "perf_event_open",
        "kernel profiling: a steady source of privilege escalations and side channels (15)",
    ),
    deny(
        "userfaultfd",
        "pauses the kernel mid-copy on a page fault, the usual way to win kernel races (15)",
    ),
    deny(
        "keyctl",
        "the inherited session keyring holds the user's credentials; keys are not namespaced (15)",
    ),
    deny(
        "add_key",
        "plant keys in the inherited session keyring, which is not namespaced (15)",
    ),
    deny(
        "request_key",
        "look up keys in the inherited session keyring or make the kernel run a key upcall (15)",
    ),
    deny(
        "lookup_dcookie",
        "oprofile relic that reveals kernel paths (15)",
    ),
    deny(
        "uselib",
        "obsolete a.out library loader: old, unmaintained kernel code (15)",
    ),
    deny_if(
        "personality",
        Condition::NoneOf {
            arg: 0,
            values: &[PER_LINUX, PER_QUERY],
        },
        "READ_IMPLIES_EXEC makes readable memory executable and ADDR_NO_RANDOMIZE turns off ASLR; only PER_LINUX and the query stay (15)",
    ),
    // Namespaces and mounts.
    deny(
        "mount",
        "remount the sandbox's view read-write or mount over it (12)",
    ),
    deny(
        "umount2",
        "unmount the sandbox's mounts to reveal what they cover (12)",
    ),
    deny(
        "pivot_root",
        "swap the root of the sandbox's mount namespace (12)",
    ),
    deny(
        "chroot",
        "change root, the classic first step of a chroot escape (12)",
    ),
    deny(
        "fsopen",
        "new mount API: creates file system contexts, like mount (12)",
    ),
    deny(
        "fsconfig",
        "new mount API: configures file system contexts, like mount (12)",
    ),
    deny(
        "fsmount",
        "new mount API: turns a context into a mount, like mount (12)",
    ),
    deny(
        "fspick",
        "new mount API: reconfigures an existing mount, like mount -o remount (12)",
    ),
    deny(
        "move_mount",
        "new mount API: attaches or moves mounts, like mount --move (12)",
    ),
    deny(
        "open_tree",
        "new mount API: clones mount trees, like mount --bind (12)",
    ),
    deny(
        "mount_setattr",
        "new mount API: clears read-only and other mount flags (12)",
    ),
    deny(
        "setns",
        "join another namespace through a /proc/<pid>/ns or pidfd handle (12)",
    ),
    deny_if(
        "unshare",
        Condition::AnyBitSet {
            arg: 0,
            mask: CLONE_NEW_ANY,
        },
        "a new user namespace hands the command every capability over new mount and network namespaces: kernel attack surface and a way to remount (12)",
    ),
    deny_if(
        "clone",
        Condition::AnyBitSet {
            arg: 0,
            mask: CLONE_NEW_VIA_CLONE,
        },
        "new namespaces through clone, as with unshare; plain fork and threads stay allowed (12)",
    ),
    SyscallRule {
        syscall: "clone3",
        // ENOSYS, as on kernels before 5.3: glibc and others then fall back
        // to clone, whose flags the filter can read.
        action: RuleAction::Errno(libc::ENOSYS),
        condition: None,
        why: "clone3 passes its flags in memory seccomp cannot read, so namespace flags would slip through (12, 15)",
    },
    deny(
        "open_by_handle_at",
        "open any file of a mounted file system by handle, past every path restriction (12)",
    ),
    deny(
        "name_to_handle_at",
        "make the file handles open_by_handle_at takes (12)",
    ),
    // Terminals. The kernel reads only 32 bits of the request, so the test
    // does too (see `Condition`).
    deny_if(
        "ioctl",
        Condition::Equals {
            arg: 1,
            value: libc::TIOCSTI as u32,
        },
        "TIOCSTI types commands into the terminal, which the user's shell runs after the sandbox exits (14)",
    ),
    deny_if(
        "ioctl",
        Condition::Equals {
            arg: 1,
            value: libc::TIOCLINUX as u32,
        },
        "TIOCLINUX pastes the console selection into the terminal's input, like TIOCSTI (14)",
    ),
    // The machine and the kernel.
    deny("init_module", "load code into the kernel (11)"),
    deny("finit_module", "load code into the kernel from a file (11)"),
    deny("delete_module", "unload kernel modules (11)"),
    deny("kexec_load", "replace the running kernel (11)"),
    deny(
        "kexec_file_load",
        "replace the running kernel from a file (11)",
    ),
    deny(
        "reboot",
        "restart or halt the machine, or change what ctrl-alt-del does (10)",
    ),
    deny(
        "swapon",
        "swap onto a file or device: host-wide memory effects (10)",
    ),
    deny("swapoff", "take swap away from the whole host (10)"),
    deny(
        "acct",
        "turn on process accounting into a file of the command's choosing (10)",
    ),
    deny(
        "quotactl",
        "read or change the disk quotas of the host's file systems (10)",
    ),
    deny(
        "quotactl_fd",
        "read or change the disk quotas of the host's file systems (10)",
    ),
];

/// `socket` and `socketpair` both take the family as their first argument.
const SOCKET_CALLS: [&str; 2] = ["socket", "socketpair"];

/// The errno of a refused family: what the kernel says for a family it was
/// built without, so programs fall back as they would there.
const EAFNOSUPPORT: RuleAction = RuleAction::Errno(libc::EAFNOSUPPORT);

const AF_UNIX: u32 = libc::AF_UNIX as u32;
const AF_INET: u32 = libc::AF_INET as u32;
const AF_INET6: u32 = libc::AF_INET6 as u32;

/// Kernel ABI values (`<linux/socket.h>`) libc lacks on some targets.
const AF_VSOCK: u32 = 40;
const AF_XDP: u32 = 44;

/// The families [`SocketPolicy::Any`] still refuses. `AF_NETLINK` is not
/// among them: glibc's `getaddrinfo` and `ip` need it, and in the sandbox's
/// network namespace it sees only that namespace.
pub(super) const REFUSED_FAMILIES: &[(u32, &str)] = &[
    (
        libc::AF_PACKET as u32,
        "AF_PACKET: raw link-layer frames, a long line of kernel exploits (19, 22)",
    ),
    (
        AF_VSOCK,
        "AF_VSOCK: talks to the hypervisor host and other VMs, past the network namespace (22)",
    ),
    (
        libc::AF_BLUETOOTH as u32,
        "AF_BLUETOOTH: the host's radios; a large, often-exploited stack (22)",
    ),
    (
        libc::AF_KEY as u32,
        "AF_KEY: IPsec key management, kernel attack surface no build needs (22)",
    ),
    (
        libc::AF_ALG as u32,
        "AF_ALG: the kernel crypto API, kernel attack surface no build needs (22)",
    ),
    (
        AF_XDP,
        "AF_XDP: zero-copy packet rings tied to eBPF, kernel attack surface (22)",
    ),
    (
        libc::AF_RDS as u32,
        "AF_RDS: autoloaded protocol with a record of privilege escalations (22)",
    ),
    (
        libc::AF_TIPC as u32,
        "AF_TIPC: autoloaded protocol with a record of remote and local overflows (22)",
    ),
];

/// The socket rules of `policy`, for `socket` and then `socketpair`.
pub(super) fn socket_rules(policy: SocketPolicy) -> Vec<SyscallRule> {
    let allow_only = |values: &'static [u32], why: &'static str| {
        SOCKET_CALLS
            .iter()
            .map(|&syscall| SyscallRule {
                syscall,
                action: EAFNOSUPPORT,
                condition: Some(Condition::NoneOf { arg: 0, values }),
                why,
            })
            .collect()
    };
    match policy {
        SocketPolicy::UnixOnly => allow_only(
            &[AF_UNIX],
            "network off: only unix sockets, so no inet, packet or netlink socket exists even without a network namespace (19, 22)",
        ),
        SocketPolicy::UnixAndInet => allow_only(
            &[AF_UNIX, AF_INET, AF_INET6],
            "network off with local binding: inet sockets reach only the empty network namespace's loopback; other families stay refused (19, 22)",
        ),
        SocketPolicy::Any => SOCKET_CALLS
            .iter()
            .flat_map(|&syscall| {
                REFUSED_FAMILIES
                    .iter()
                    .map(move |&(family, why)| SyscallRule {
                        syscall,
                        action: EAFNOSUPPORT,
                        condition: Some(Condition::Equals {
                            arg: 0,
                            value: family,
                        }),
                        why,
                    })
            })
            .collect(),
    }
}

/// `socket`'s type with its flags (`SOCK_NONBLOCK`, `SOCK_CLOEXEC`) masked
/// off (`SOCK_TYPE_MASK`).
const SOCK_TYPE_MASK: u32 = 0xf;

/// The unix socket types a supervised sandbox may create. `SOCK_DGRAM` is
/// missing because a datagram reaches any pathname socket through the
/// address of `sendto`/`sendmsg`, which seccomp cannot read; `SOCK_RAW`
/// because the kernel makes it a datagram socket. Stream and seqpacket
/// sockets reach another socket only through `connect` (they ignore or
/// refuse a send's address), which the supervisor decides.
static UNIX_TYPES: &[u32] = &[libc::SOCK_STREAM as u32, libc::SOCK_SEQPACKET as u32];

/// A unix socket of a type other than [`UNIX_TYPES`].
static UNIX_NOT_STREAM: &[Condition] = &[
    Condition::Equals {
        arg: 0,
        value: AF_UNIX,
    },
    Condition::MaskedNoneOf {
        arg: 1,
        mask: SOCK_TYPE_MASK,
        values: UNIX_TYPES,
    },
];

/// The rules of a sandbox whose supervisor decides `connect` (network `off`
/// and `proxy`), after the socket rules.
pub(super) static SUPERVISED: &[SyscallRule] = &[
    SyscallRule {
        syscall: "socket",
        action: RuleAction::Errno(libc::EACCES),
        condition: Some(Condition::All {
            of: UNIX_NOT_STREAM,
        }),
        why: "unix datagram sockets send to any pathname socket, host ones included, by an address seccomp cannot see (20)",
    },
    SyscallRule {
        syscall: "socketpair",
        action: RuleAction::Errno(libc::EACCES),
        condition: Some(Condition::All {
            of: UNIX_NOT_STREAM,
        }),
        why: "a datagram socketpair can still send to any pathname socket by address (20)",
    },
    SyscallRule {
        syscall: "connect",
        action: RuleAction::Notify,
        condition: None,
        why: "the supervisor connects only to the sandbox's own sockets and the policy's unix_sockets, never to a host socket such as docker.sock or an ssh-agent (20)",
    },
    SyscallRule {
        syscall: "sendto",
        action: RuleAction::Errno(libc::EOPNOTSUPP),
        condition: Some(Condition::AnyBitSet {
            arg: 3,
            mask: MSG_FASTOPEN,
        }),
        why: "a TCP Fast Open send connects without connect(), past the supervisor's port check (20)",
    },
    SyscallRule {
        syscall: "sendmsg",
        action: RuleAction::Errno(libc::EOPNOTSUPP),
        condition: Some(Condition::AnyBitSet {
            arg: 2,
            mask: MSG_FASTOPEN,
        }),
        why: "a TCP Fast Open send connects without connect(), past the supervisor's port check (20)",
    },
    SyscallRule {
        syscall: "sendmmsg",
        action: RuleAction::Errno(libc::EOPNOTSUPP),
        condition: Some(Condition::AnyBitSet {
            arg: 3,
            mask: MSG_FASTOPEN,
        }),
        why: "a TCP Fast Open send connects without connect(), past the supervisor's port check (20)",
    },
];

/// `MSG_FASTOPEN` (`<linux/socket.h>`).
const MSG_FASTOPEN: u32 = 0x2000_0000;

/// A call the supervisor makes for the command when it holds deny globs.
const fn held(syscall: &'static str) -> SyscallRule {
    SyscallRule {
        syscall,
        action: RuleAction::Notify,
        condition: None,
        why: "the supervisor resolves the path and refuses a file a deny glob hides, or a new name it matches, whoever created it and whenever (7)",
    }
}

/// The rules of a sandbox whose supervisor holds deny globs the mount tree
/// cannot (`**/.env` in a writable workspace): every call that opens,
/// creates, removes, renames, links, truncates or changes the mode or
/// owner of a file by path. The calls it does not make fail in a way
/// programs already handle.
pub(super) static SUPERVISED_FILES: &[SyscallRule] = &[
    held("openat"),
    held("open"),
    held("creat"),
    held("mkdirat"),
    held("mkdir"),
    held("mknodat"),
    held("mknod"),
    held("symlinkat"),
    held("symlink"),
    held("linkat"),
    held("link"),
    held("renameat2"),
    held("renameat"),
    held("rename"),
    held("unlinkat"),
    held("unlink"),
    held("rmdir"),
    held("truncate"),
    held("fchmodat"),
    held("fchmodat2"),
    held("chmod"),
    held("fchownat"),
    held("chown"),
    held("lchown"),
    SyscallRule {
        syscall: "openat2",
        action: RuleAction::Errno(libc::ENOSYS),
        condition: None,
        why: "its resolve flags are not made by the supervisor; programs fall back to openat, which it holds (7)",
    },
    SyscallRule {
        syscall: "setxattr",
        action: RuleAction::Errno(libc::EOPNOTSUPP),
        condition: None,
        why: "extended attributes (POSIX ACLs among them) of a hidden file could open it to others; refused as unsupported (7)",
    },
    SyscallRule {
        syscall: "lsetxattr",
        action: RuleAction::Errno(libc::EOPNOTSUPP),
        condition: None,
        why: "extended attributes (POSIX ACLs among them) of a hidden file could open it to others; refused as unsupported (7)",
    },
    SyscallRule {
        syscall: "setxattrat",
        action: RuleAction::Errno(libc::EOPNOTSUPP),
        condition: None,
        why: "extended attributes (POSIX ACLs among them) of a hidden file could open it to others; refused as unsupported (7)",
    },
    SyscallRule {
        syscall: "removexattr",
        action: RuleAction::Errno(libc::EOPNOTSUPP),
        condition: None,
        why: "removing a hidden file's ACL could open it to others; refused as unsupported (7)",
    },
    SyscallRule {
        syscall: "lremovexattr",
        action: RuleAction::Errno(libc::EOPNOTSUPP),
        condition: None,
        why: "removing a hidden file's ACL could open it to others; refused as unsupported (7)",
    },
    SyscallRule {
        syscall: "removexattrat",
        action: RuleAction::Errno(libc::EOPNOTSUPP),
        condition: None,
        why: "removing a hidden file's ACL could open it to others; refused as unsupported (7)",
    },
];
