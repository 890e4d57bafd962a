//! seccomp: the syscall filter the sandboxed command runs under.
//!
//! The filter is data first. [`rules`] lists every refused syscall with the
//! errno it gets, an optional test on its arguments and the attack it stops
//! (a class of `ESCAPES.md`); `explain` prints that list and tests assert on
//! it. [`compile`] turns it into a classic BPF program for the running
//! architecture, before `fork`. [`install`] loads the program in the forked
//! child right before `execve`, without allocating.
//!
//! The default is to allow. Namespaces, the mount tree and Landlock confine
//! the command; the filter takes away the syscalls that could undo those
//! layers (`mount`, `setns`, a nested user namespace), reach other processes
//! (`ptrace`, `process_vm_writev`), bypass a syscall filter altogether
//! (`io_uring`, 32-bit and x32 entry points), or expose kernel attack surface
//! that no build tool needs (`bpf`, `userfaultfd`, `perf_event_open`).
//!
//! # The program
//!
//! ```text
//!     ld  seccomp_data.arch
//!     jeq AUDIT_ARCH_<native>, +1, +0   ; x86_64: AUDIT_ARCH_X86_64
//!     ret KILL_PROCESS                  ; i386 int 0x80 / sysenter, aarch32
//!     ld  seccomp_data.nr
//!     jge 0x40000000, +0, +1            ; x86_64 only: the x32 ABI
//!     ret ERRNO(ENOSYS)
//!     jeq __NR_ptrace, +0, +1           ; one block per refused syscall
//!     ret ERRNO(EPERM)
//!     jeq __NR_ioctl, +0, +7            ; a block with argument tests
//!     ld  args[1] (low 32 bits)
//!     jeq TIOCSTI, +0, +1
//!     ret ERRNO(EPERM)
//!     ld  args[1] (low 32 bits)
//!     jeq TIOCLINUX, +0, +1
//!     ret ERRNO(EPERM)
//!     ret ALLOW                         ; ioctl with any other request
//!     ...
//!     ret ALLOW                         ; every syscall without a rule
//! ```
//!
//! seccompiler 0.5 cannot express this filter: its `SeccompFilter` has one
//! match action for the whole program (we need EPERM, ENOSYS and
//! EAFNOSUPPORT) and does not guard against the x32 ABI (its arch check
//! compares `AUDIT_ARCH_X86_64`, which x32 calls carry too). So `bpf.rs`
//! assembles the program itself; it is small and its unit tests run every
//! rule through a BPF interpreter.
//!
//! # Architectures
//!
//! - The architecture check kills the process (`SECCOMP_RET_KILL_PROCESS`)
//!   on any other `AUDIT_ARCH`: syscall numbers mean different things there
//!   (i386's `int 0x80`, aarch32 compat tasks), so the number-based rules
//!   would not apply. No legitimate 64-bit build tool makes those calls.
//! - x86_64's x32 ABI reaches the same kernel functions through numbers with
//!   bit 30 set, under the same `AUDIT_ARCH_X86_64`. Every number at or
//!   above `0x40000000` gets `ENOSYS`: exactly what a kernel built without
//!   x32 support answers, so a program probing for x32 goes on as it would
//!   there, while no x32 (or otherwise out-of-range) number reaches the
//!   kernel. Killing would be no safer (the call is refused either way) and
//!   would turn a harmless probe into a crash.
//! - `socketcall` (the multiplexed socket calls that bypass `socket` rules)
//!   exists only on 32-bit entry points, which the architecture check kills.
//! - Names that do not exist on the architecture (`uselib` on aarch64) are
//!   left out of [`rules`].
//!
//! # Security
//!
//! What it does not do: restrict what the allowed syscalls touch (that is
//! the mount tree's and Landlock's job), limit resources, or look at memory
//! that arguments point to (seccomp cannot; hence `clone3` is refused whole).
//! Descriptors the command inherits keep working.
//!
//! What it costs inside the sandbox: debuggers and tracers (`gdb`,
//! `strace`: `ptrace`), nested sandboxes and containers (`bwrap`, `podman`,
//! Chromium's namespace sandbox: `unshare`/`clone` with namespace flags;
//! Chromium then needs `--no-sandbox`), `io_uring` users (which fall back to
//! epoll where they can), and `setarch`.
//!
//! # Platform specific behavior
//!
//! Linux on x86_64 and aarch64. [`compile`] fails with
//! [`SeccompError::UnsupportedArch`] elsewhere. `SECCOMP_RET_KILL_PROCESS`
//! needs Linux 4.14; older kernels kill the calling thread instead.

mod bpf;
mod deny_list;
mod sys;
mod syscalls;

#[cfg(test)]
mod interpreter;
#[cfg(test)]
mod tests;

use std::fmt;

use serde::{Serialize, Serializer};

pub use sys::install;

/// What the filter must allow or refuse beyond the fixed deny list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SeccompOptions {
    /// Which socket address families `socket` and `socketpair` may create.
    pub sockets: SocketPolicy,
    /// Hand every `connect` to the sandbox's supervisor (which refuses host
    /// unix sockets, see `crate::supervisor`) and allow unix sockets of the
    /// stream and seqpacket types only: a datagram socket reaches any
    /// pathname socket through `sendto`/`sendmsg`, whose address seccomp
    /// cannot see.
    pub supervise_connect: bool,
    /// Hand every call that opens, creates, removes, renames, links,
    /// truncates or changes the mode or owner of a file by path to the
    /// supervisor, which holds the deny globs the mount tree cannot (see
    /// `crate::supervisor::files`).
    pub supervise_files: bool,
}

/// Which socket address families the command may create.
///
/// `AF_NETLINK` is allowed whenever the network is: glibc's `getaddrinfo`
/// and `ip` use it, and in an empty network namespace it sees only that
/// namespace's loopback. The families [`SocketPolicy::Any`] still refuses
/// are listed in `deny_list.rs`, each with its reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SocketPolicy {
    /// Network `off`: only `AF_UNIX`; every other family gets `EAFNOSUPPORT`.
    /// This holds even without a network namespace.
    UnixOnly,
    /// Network `off` with `allow_local_binding`: `AF_UNIX`, `AF_INET` and
    /// `AF_INET6`. Sound only inside an empty network namespace, which
    /// confines inet sockets to its own loopback.
    UnixAndInet,
    /// Network `proxy` or `full`: every family but the few that reach past
    /// the network namespace or are mostly kernel attack surface
    /// (`AF_PACKET`, `AF_VSOCK`, `AF_BLUETOOTH`, ...).
    Any,
}

/// One entry of the filter, as data: `explain` prints these and tests
/// assert on them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SyscallRule {
    /// The syscall's name, as in `<asm/unistd.h>` without `__NR_`.
    pub syscall: &'static str,
    /// What a matching call gets.
    pub action: RuleAction,
    /// `None`: every call; otherwise only calls whose arguments pass.
    pub condition: Option<Condition>,
    /// The attack it stops, in one line, with its `ESCAPES.md` class.
    pub why: &'static str,
}

/// What a call that matches a rule gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleAction {
    /// The syscall fails with this errno and never reaches the kernel.
    /// Serialized as the errno's name: `{"errno": "EPERM"}`.
    Errno(#[serde(serialize_with = "serialize_errno")] i32),
    /// The calling thread waits while the sandbox's supervisor decides and
    /// makes the call on its behalf (`SECCOMP_RET_USER_NOTIF`). Serialized
    /// as `"notify"`.
    Notify,
}

/// A test on one syscall argument.
///
/// Every test reads the argument's low 32 bits. That is exact for every
/// argument the deny list tests: the kernel itself reads only 32 bits of
/// `ioctl`'s request (`unsigned int cmd`), `socket`'s family (`int`),
/// `personality`'s persona (`unsigned int`) and `clone`'s flags
/// (`lower_32_bits`), and `unshare` fails with `EINVAL` when any bit above
/// 31 is set. So setting high bits (`TIOCSTI | 0xffffffff00000000`) cannot
/// slip past a test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "test", rename_all = "snake_case")]
pub enum Condition {
    /// Argument `arg` has at least one of the bits of `mask` set.
    AnyBitSet {
        /// Argument index, 0 to 5.
        arg: u8,
        /// The bits looked for; not 0.
        mask: u32,
    },
    /// Argument `arg` equals `value`.
    Equals {
        /// Argument index, 0 to 5.
        arg: u8,
        /// The value matched.
        value: u32,
    },
    /// Argument `arg` is none of `values`.
    NoneOf {
        /// Argument index, 0 to 5.
        arg: u8,
        /// The values let through; at least one.
        values: &'static [u32],
    },
    /// Argument `arg`, keeping only the bits of `mask`, is none of `values`
    /// (`socket`'s type without `SOCK_NONBLOCK | SOCK_CLOEXEC`).
    MaskedNoneOf {
        /// Argument index, 0 to 5.
        arg: u8,
        /// The bits kept; not 0.
        mask: u32,
        /// The values let through; at least one.
        values: &'static [u32],
    },
    /// Every condition of `of` holds. At least two, none itself `All`.
    All {
        /// The conditions, tested in order.
        of: &'static [Condition],
    },
}

/// The BPF program [`compile`] built, ready for [`install`].
#[derive(Clone, Debug)]
pub struct CompiledFilter {
    program: Vec<libc::sock_filter>,
}

impl CompiledFilter {
    /// Number of BPF instructions.
    pub fn len(&self) -> usize {
        self.program.len()
    }

    /// Whether some call is handed to a supervisor
    /// ([`RuleAction::Notify`]): [`install`] then returns a listener.
    pub fn notifies(&self) -> bool {
        self.program
            .iter()
            .any(|i| i.code == bpf::RET_K && i.k == libc::SECCOMP_RET_USER_NOTIF)
    }

    /// Whether the program has no instructions (never true for a filter
    /// [`compile`] returned).
    pub fn is_empty(&self) -> bool {
        self.program.is_empty()
    }

    /// The instructions as `(code, jt, jf, k)`: the filter as data, for the
    /// bwrap backend's helper, which installs exactly this program.
    pub fn instructions(&self) -> Vec<(u16, u8, u8, u32)> {
        self.program
            .iter()
            .map(|i| (i.code, i.jt, i.jf, i.k))
            .collect()
    }

    /// The filter [`CompiledFilter::instructions`] gave.
    pub fn from_instructions(instructions: &[(u16, u8, u8, u32)]) -> CompiledFilter {
        CompiledFilter {
            program: instructions
                .iter()
                .map(|&(code, jt, jf, k)| libc::sock_filter { code, jt, jf, k })
                .collect(),
        }
    }
}

/// Why a filter could not be compiled. Each is a mistake in the rules or an
/// unsupported machine, never something the kernel said.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    /// The machine is neither x86_64 nor aarch64.
    #[error(
        "failed to compile the seccomp filter: {arch} is not supported (x86_64 and aarch64 are)"
    )]
    UnsupportedArch {
        /// `std::env::consts::ARCH`.
        arch: &'static str,
    },
    /// A rule names a syscall this architecture does not have.
    #[error("failed to compile the seccomp filter: {arch} has no syscall named '{syscall}'")]
    UnknownSyscall {
        /// The rule's syscall.
        syscall: &'static str,
        /// The architecture compiled for.
        arch: &'static str,
    },
    /// The errno is 0 (which would fake success) or above 4095.
    #[error("failed to compile the seccomp rule for {syscall}: errno {errno} is not in 1..=4095")]
    InvalidErrno {
        /// The rule's syscall.
        syscall: &'static str,
        /// The errno given.
        errno: i32,
    },
    /// A condition names an argument past the sixth.
    #[error(
        "failed to compile the seccomp rule for {syscall}: syscalls have arguments 0 to 5, not {arg}"
    )]
    InvalidArgument {
        /// The rule's syscall.
        syscall: &'static str,
        /// The argument index given.
        arg: u8,
    },
    /// A condition that can never match (`mask` 0) or always does (no
    /// values): the rule says something other than what it means.
    #[error(
        "failed to compile the seccomp rule for {syscall}: the condition '{condition}' decides nothing"
    )]
    VacuousCondition {
        /// The rule's syscall.
        syscall: &'static str,
        /// The condition.
        condition: Condition,
    },
    /// A rule follows an unconditional rule for the same syscall, so it
    /// could never apply.
    #[error(
        "failed to compile the seccomp rule for {syscall}: an earlier rule already refuses every call, so this one would never apply"
    )]
    ShadowedRule {
        /// The rule's syscall.
        syscall: &'static str,
    },
    /// The rules of one syscall are longer than a BPF jump can skip.
    #[error(
        "failed to compile the seccomp rules for {syscall}: they need {len} instructions, more than a BPF jump can skip (255)"
    )]
    SyscallTooLong {
        /// The syscall.
        syscall: &'static str,
        /// Instructions its rules need.
        len: usize,
    },
    /// The whole program is longer than the kernel accepts.
    #[error(
        "failed to compile the seccomp filter: {len} instructions, more than the kernel accepts (4096)"
    )]
    ProgramTooLong {
        /// Instructions the program needs.
        len: usize,
    },
}

/// The rules for these options: the fixed deny list, then the socket rules
/// of `options.sockets`, then the supervised calls. Syscalls the running
/// architecture does not have are left out.
pub fn rules(options: &SeccompOptions) -> Vec<SyscallRule> {
    let sockets = deny_list::socket_rules(options.sockets);
    let supervised: &[SyscallRule] = match options.supervise_connect {
        true => deny_list::SUPERVISED,
        false => &[],
    };
    let files: &[SyscallRule] = match options.supervise_files {
        true => deny_list::SUPERVISED_FILES,
        false => &[],
    };
    deny_list::FIXED
        .iter()
        .chain(&sockets)
        .chain(supervised)
        .chain(files)
        .filter(|rule| syscalls::exists(rule.syscall))
        .cloned()
        .collect()
}

/// Compiles `rules` to a BPF program for the running architecture.
///
/// Call it before `fork`: it allocates. Rules for the same syscall are
/// tried in the order given, and the first that matches decides; a call that
/// no rule matches is allowed.
///
/// # Errors
///
/// Any mistake in the rules (see [`SeccompError`]) and an unsupported
/// architecture are errors; nothing is ever dropped silently.
///
/// # Platform specific behavior
///
/// x86_64 and aarch64 only.
pub fn compile(rules: &[SyscallRule]) -> Result<CompiledFilter, SeccompError> {
    let arch = syscalls::native().ok_or(SeccompError::UnsupportedArch {
        arch: std::env::consts::ARCH,
    })?;
    let program = bpf::assemble(arch, rules)?;
    Ok(CompiledFilter { program })
}

impl fmt::Display for RuleAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RuleAction::Errno(errno) => match errno_name(errno) {
                Some(name) => f.write_str(name),
                None => write!(f, "errno {errno}"),
            },
            RuleAction::Notify => f.write_str("supervisor"),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Condition::AnyBitSet { arg, mask } => write!(f, "arg{arg} & {mask:#x} != 0"),
            Condition::Equals { arg, value } => write!(f, "arg{arg} == {value:#x}"),
            Condition::NoneOf { arg, values } => {
                write!(f, "arg{arg} not in ")?;
                write_set(f, values)
            }
            Condition::MaskedNoneOf { arg, mask, values } => {
                write!(f, "arg{arg} & {mask:#x} not in ")?;
                write_set(f, values)
            }
            Condition::All { of } => {
                for (i, condition) in of.iter().enumerate() {
                    let sep = if i == 0 { "" } else { " && " };
                    write!(f, "{sep}{condition}")?;
                }
                Ok(())
            }
        }
    }
}

/// `{0x1, 0x5}`.
fn write_set(f: &mut fmt::Formatter<'_>, values: &[u32]) -> fmt::Result {
    f.write_str("{")?;
    for (i, value) in values.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        write!(f, "{sep}{value:#x}")?;
    }
    f.write_str("}")
}

/// `ptrace -> EPERM` or `ioctl if arg1 == 0x5412 -> EPERM`: one line of
/// `explain`, without the reason.
impl fmt::Display for SyscallRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.syscall)?;
        if let Some(condition) = &self.condition {
            write!(f, " if {condition}")?;
        }
        write!(f, " -> {}", self.action)
    }
}

/// The name of an errno the filter can return.
fn errno_name(errno: i32) -> Option<&'static str> {
    Some(match errno {
        libc::EPERM => "EPERM",
        libc::EACCES => "EACCES",
        libc::EINVAL => "EINVAL",
        libc::ENOSYS => "ENOSYS",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        _ => return None,
    })
}

/// Serializes an errno as its name, or its number in words when it has none
/// here (`"errno 200"`), so the field is always a string.
fn serialize_errno<S: Serializer>(errno: &i32, serializer: S) -> Result<S::Ok, S::Error> {
    match errno_name(*errno) {
        Some(name) => serializer.serialize_str(name),
        None => serializer.collect_str(&format_args!("errno {errno}")),
    }
}
