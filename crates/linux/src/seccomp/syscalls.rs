//! Syscall numbers and audit architecture of the machine the filter is
//! compiled for. One table per architecture, from libc's `SYS_*` constants.
//! Only little-endian x86_64 and aarch64 have one.
#![cfg_attr(
    not(any(
        target_arch = "x86_64",
        all(target_arch = "aarch64", target_endian = "little")
    )),
    allow(dead_code)
)]

/// What the BPF program needs to know about an architecture.
#[derive(Debug)]
pub(super) struct Arch {
    /// `std::env::consts::ARCH`.
    pub(super) name: &'static str,
    /// The `AUDIT_ARCH_*` value (`<linux/audit.h>`) the kernel puts in
    /// `seccomp_data.arch` for this architecture's native syscalls.
    pub(super) audit_arch: u32,
    /// Syscall numbers at or above this are another ABI under the same
    /// `audit_arch` (x86_64's x32) and get `ENOSYS`.
    pub(super) foreign_numbers_from: Option<u32>,
    /// Name and number of every syscall a rule may name, in parts.
    syscalls: &'static [&'static [(&'static str, libc::c_long)]],
    /// Syscalls rules name that this architecture does not have; their
    /// rules are left out. Any other name missing from `syscalls` is a
    /// mistake, which [`super::compile`] refuses.
    absent: &'static [&'static str],
}

impl Arch {
    /// The number of syscall `name`, if this architecture has it.
    pub(super) fn number(&self, name: &str) -> Option<u32> {
        self.syscalls
            .iter()
            .copied()
            .flatten()
            .find(|(known, _)| *known == name)
            .and_then(|&(_, nr)| u32::try_from(nr).ok())
    }
}

/// The running architecture, if stockade supports it.
pub(super) fn native() -> Option<&'static Arch> {
    NATIVE
}

/// Whether the running architecture has syscall `name`: false only for
/// the names it is known to lack. True for a name missing from the table
/// by mistake, so that [`super::compile`] refuses it rather than a rule
/// silently disappearing, and on an unsupported architecture, where
/// `compile` is the one that fails.
pub(super) fn exists(name: &str) -> bool {
    native().is_none_or(|arch| !arch.absent.contains(&name))
}

/// `__AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE`.
#[cfg(any(
    target_arch = "x86_64",
    all(target_arch = "aarch64", target_endian = "little")
))]
const AUDIT_ARCH_64BIT_LE: u32 = 0x8000_0000 | 0x4000_0000;

/// Name and number of the syscalls rules name that both architectures
/// have, from libc's constants for the architecture being compiled.
#[cfg(any(
    target_arch = "x86_64",
    all(target_arch = "aarch64", target_endian = "little")
))]
const SHARED: &[(&str, libc::c_long)] = &[
    // Names libc has for both architectures.
    ("acct", libc::SYS_acct),
    ("add_key", libc::SYS_add_key),
    ("bpf", libc::SYS_bpf),
    ("chroot", libc::SYS_chroot),
    ("clone", libc::SYS_clone),
    ("clone3", libc::SYS_clone3),
    ("delete_module", libc::SYS_delete_module),
    ("finit_module", libc::SYS_finit_module),
    ("fsconfig", libc::SYS_fsconfig),
    ("fsmount", libc::SYS_fsmount),
    ("fsopen", libc::SYS_fsopen),
    ("fspick", libc::SYS_fspick),
    ("init_module", libc::SYS_init_module),
    ("io_uring_enter", libc::SYS_io_uring_enter),
    ("io_uring_register", libc::SYS_io_uring_register),
    ("io_uring_setup", libc::SYS_io_uring_setup),
    ("ioctl", libc::SYS_ioctl),
    ("kexec_load", libc::SYS_kexec_load),
    ("keyctl", libc::SYS_keyctl),
    ("lookup_dcookie", libc::SYS_lookup_dcookie),
    ("mount", libc::SYS_mount),
    ("mount_setattr", libc::SYS_mount_setattr),
    ("move_mount", libc::SYS_move_mount),
    ("name_to_handle_at", libc::SYS_name_to_handle_at),
    ("open_by_handle_at", libc::SYS_open_by_handle_at),
    ("open_tree", libc::SYS_open_tree),
    ("perf_event_open", libc::SYS_perf_event_open),
    ("personality", libc::SYS_personality),
    ("pidfd_getfd", libc::SYS_pidfd_getfd),
    ("pivot_root", libc::SYS_pivot_root),
    ("process_vm_readv", libc::SYS_process_vm_readv),
    ("process_vm_writev", libc::SYS_process_vm_writev),
    ("ptrace", libc::SYS_ptrace),
    ("quotactl", libc::SYS_quotactl),
    ("quotactl_fd", libc::SYS_quotactl_fd),
    ("reboot", libc::SYS_reboot),
    ("request_key", libc::SYS_request_key),
    ("setns", libc::SYS_setns),
    ("socket", libc::SYS_socket),
    ("socketpair", libc::SYS_socketpair),
    ("connect", libc::SYS_connect),
    ("sendto", libc::SYS_sendto),
    ("sendmsg", libc::SYS_sendmsg),
    ("sendmmsg", libc::SYS_sendmmsg),
    ("swapoff", libc::SYS_swapoff),
    ("swapon", libc::SYS_swapon),
    ("umount2", libc::SYS_umount2),
    ("unshare", libc::SYS_unshare),
    ("userfaultfd", libc::SYS_userfaultfd),
    // Calls the supervisor makes for the command when it holds deny
    // globs (crate::supervisor::files).
    ("openat", libc::SYS_openat),
    ("openat2", libc::SYS_openat2),
    ("mkdirat", libc::SYS_mkdirat),
    ("mknodat", libc::SYS_mknodat),
    ("symlinkat", libc::SYS_symlinkat),
    ("linkat", libc::SYS_linkat),
    ("renameat2", libc::SYS_renameat2),
    ("unlinkat", libc::SYS_unlinkat),
    ("truncate", libc::SYS_truncate),
    ("fchmodat", libc::SYS_fchmodat),
    ("fchownat", libc::SYS_fchownat),
    ("setxattr", libc::SYS_setxattr),
    ("lsetxattr", libc::SYS_lsetxattr),
    ("removexattr", libc::SYS_removexattr),
    ("lremovexattr", libc::SYS_lremovexattr),
    // Numbered alike on every architecture since Linux 5.1 (after
    // 424); libc lacks some of them.
    ("fchmodat2", 452),
    ("setxattrat", 463),
    ("removexattrat", 466),
];

#[cfg(target_arch = "x86_64")]
const NATIVE: Option<&Arch> = Some(&Arch {
    name: "x86_64",
    // EM_X86_64. i386 calls (int 0x80, sysenter) carry AUDIT_ARCH_I386;
    // x32 calls carry this one, with bit 30 set in the number.
    audit_arch: 62 | AUDIT_ARCH_64BIT_LE,
    // __X32_SYSCALL_BIT. Native numbers end in the 400s.
    foreign_numbers_from: Some(0x4000_0000),
    absent: &[],
    syscalls: &[
        SHARED,
        &[
            // x86_64 only, or missing from libc for some aarch64 targets.
            ("renameat", libc::SYS_renameat),
            ("open", libc::SYS_open),
            ("creat", libc::SYS_creat),
            ("mkdir", libc::SYS_mkdir),
            ("mknod", libc::SYS_mknod),
            ("symlink", libc::SYS_symlink),
            ("link", libc::SYS_link),
            ("rename", libc::SYS_rename),
            ("unlink", libc::SYS_unlink),
            ("rmdir", libc::SYS_rmdir),
            ("chmod", libc::SYS_chmod),
            ("chown", libc::SYS_chown),
            ("lchown", libc::SYS_lchown),
            ("kexec_file_load", libc::SYS_kexec_file_load),
            ("uselib", libc::SYS_uselib),
        ],
    ],
});

#[cfg(all(target_arch = "aarch64", target_endian = "little"))]
const NATIVE: Option<&Arch> = Some(&Arch {
    name: "aarch64",
    // EM_AARCH64. aarch32 compat tasks carry AUDIT_ARCH_ARM.
    audit_arch: 183 | AUDIT_ARCH_64BIT_LE,
    foreign_numbers_from: None,
    // The calls without a directory argument are x86_64's only.
    absent: &[
        "uselib", "open", "creat", "mkdir", "mknod", "symlink", "link", "rename", "unlink",
        "rmdir", "chmod", "chown", "lchown",
    ],
    syscalls: &[
        SHARED,
        &[
            // <asm-generic/unistd.h> numbers libc lacks for aarch64
            // (kexec_file_load for musl).
            ("renameat", 38),
            ("kexec_file_load", 294),
        ],
    ],
});

// Anything else, big-endian aarch64 included: the BPF program reads an
// argument's low 32 bits as its first word, which holds on little-endian
// machines only.
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "aarch64", target_endian = "little")
)))]
const NATIVE: Option<&Arch> = None;
