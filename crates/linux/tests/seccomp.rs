//! The seccomp filter in the kernel. Every check forks a child that installs
//! the filter and then makes one call; the child exits with the call's
//! errno (0 on success), so the parent sees exactly what the kernel
//! answered. Each refused call sits next to an allowed twin, so a filter
//! that refused everything would fail too.
//!
//! The arguments of the refused calls are chosen so that, should the filter
//! let them through, the kernel would fail them with another errno (NULL
//! pointers, bad descriptors, missing files) or change only the child,
//! never the machine. Running as root and as an ordinary user must both
//! pass: installing needs no privilege once `no_new_privs` is set.
//!
//! Tests print a skip reason and pass when the kernel lacks seccomp
//! filters, unless `STOCKADE_TEST_MUST_ENFORCE=1` makes them fail. They
//! exist for the architectures the filter supports.
#![cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]

use libc::c_long;
use stockade_linux::probe::probe_seccomp;
use stockade_linux::seccomp::{
    CompiledFilter, SeccompOptions, SocketPolicy, compile, install, rules,
};

/// How a child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exit {
    /// `_exit(code)`: the checked call's errno, 0 when it succeeded.
    Code(i32),
    /// Killed by this signal.
    Signal(i32),
}

const OK: Exit = Exit::Code(0);
const EPERM: Exit = Exit::Code(libc::EPERM);
const ENOSYS: Exit = Exit::Code(libc::ENOSYS);
const EAFNOSUPPORT: Exit = Exit::Code(libc::EAFNOSUPPORT);
const EACCES: Exit = Exit::Code(libc::EACCES);

/// Exit codes at or above this mean `install` failed with `code - 200`.
const INSTALL_FAILED: i32 = 200;

/// `-1` as a descriptor argument (the kernel reads an `int`).
const BAD_FD: usize = u32::MAX as usize;
/// `__NR_kexec_file_load`, which libc lacks for aarch64 musl.
#[cfg(target_arch = "x86_64")]
const SYS_KEXEC_FILE_LOAD: c_long = libc::SYS_kexec_file_load;
#[cfg(target_arch = "aarch64")]
const SYS_KEXEC_FILE_LOAD: c_long = 294;
/// `AF_VSOCK`, which libc lacks on some targets.
const AF_VSOCK: usize = 40;

/// The terminal requests, whatever integer type libc gives them (`c_ulong`
/// on glibc, `c_int` on musl).
#[allow(clippy::unnecessary_cast)]
const TIOCSTI: usize = libc::TIOCSTI as usize;
#[allow(clippy::unnecessary_cast)]
const TIOCLINUX: usize = libc::TIOCLINUX as usize;
#[allow(clippy::unnecessary_cast)]
const FIONREAD: usize = libc::FIONREAD as usize;

/// Whether the kernel-backed tests should go on: prints why they skip, or
/// panics when `STOCKADE_TEST_MUST_ENFORCE=1` makes seccomp mandatory.
fn seccomp_available() -> bool {
    let status = probe_seccomp();
    if status.available {
        return true;
    }
    if std::env::var("STOCKADE_TEST_MUST_ENFORCE").as_deref() == Ok("1") {
        panic!(
            "seccomp filters are required (STOCKADE_TEST_MUST_ENFORCE=1) but missing: {}",
            status.detail
        );
    }
    eprintln!(
        "skipping: seccomp filters are not available: {}",
        status.detail
    );
    false
}

fn filter(sockets: SocketPolicy) -> CompiledFilter {
    let options = SeccompOptions {
        sockets,
        supervise_connect: false,
        supervise_files: false,
    };
    compile(&rules(&options)).expect("the built-in rules compile")
}

/// The calling thread's errno; does not allocate.
fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// `syscall(nr, args...)` as an exit code: 0 on success, else the errno.
///
/// # Safety
///
/// The arguments must not let the kernel write to memory the caller does
/// not own or change this process's mappings: integers, -1 descriptors,
/// NULL pointers (the kernel answers `EFAULT` without touching anything),
/// C-string literals it only reads, and buffers of the caller large enough
/// for what the call writes.
unsafe fn raw(nr: c_long, args: [usize; 6]) -> i32 {
    let [a, b, c, d, e, f] = args;
    // SAFETY: the caller vouches for the arguments (see above).
    let rc = unsafe { libc::syscall(nr, a, b, c, d, e, f) };
    if rc < 0 { errno() } else { 0 }
}

/// A C-string literal as a syscall argument.
fn s(text: &'static std::ffi::CStr) -> usize {
    text.as_ptr() as usize
}

/// Forks; the child installs `filter` (if any), runs `body` and exits with
/// what it returns. Between `fork` and `_exit` the child makes only
/// async-signal-safe calls: the test harness is multithreaded.
fn in_child(filter: Option<&CompiledFilter>, body: &dyn Fn() -> i32) -> Exit {
    // SAFETY: the child only makes async-signal-safe calls (install, the
    // bodies' raw syscalls) and leaves through _exit, never returning into
    // the test harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed: {}", std::io::Error::last_os_error());
    if pid == 0 {
        // A SIGSYS kill must not leave a core file behind.
        let no_core = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        let zero: libc::c_ulong = 0;
        // SAFETY: setrlimit only reads the struct it is given; prctl takes
        // integers only.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &no_core);
            libc::prctl(libc::PR_SET_DUMPABLE, zero, zero, zero, zero);
        }
        let status = match filter.map_or(Ok(None), install) {
            Ok(_) => body(),
            Err(errno) => INSTALL_FAILED + errno.min(55),
        };
        // SAFETY: _exit ends the child at once, without running the
        // harness's atexit handlers or destructors.
        unsafe { libc::_exit(status) }
    }
    let mut status = 0;
    // SAFETY: `status` is a valid out-pointer; `pid` is our own child.
    let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(rc, pid, "waitpid: {}", std::io::Error::last_os_error());
    if libc::WIFSIGNALED(status) {
        return Exit::Signal(libc::WTERMSIG(status));
    }
    let code = libc::WEXITSTATUS(status);
    assert!(
        code < INSTALL_FAILED,
        "install failed in the child: errno {}",
        code - INSTALL_FAILED
    );
    Exit::Code(code)
}

/// Runs `body` under the filter of `sockets` and checks how it ended.
fn expect(sockets: SocketPolicy, what: &str, body: &dyn Fn() -> i32, expected: Exit) {
    let got = in_child(Some(&filter(sockets)), body);
    assert_eq!(got, expected, "{what} under {sockets:?}");
}

/// One raw syscall as data: what it is, its number, its arguments, how the
/// child must end.
///
/// Only harmless arguments go into these tables: integers, `BAD_FD`, NULL
/// (0) and C-string literals (`s(c"...")`), chosen so that the call fails
/// without the filter or changes only the child.
type Call = (&'static str, c_long, [usize; 6], Exit);

/// Makes each call in a child of its own under the filter of `sockets`.
fn expect_calls(sockets: SocketPolicy, calls: &[Call]) {
    for &(what, nr, args, expected) in calls {
        // SAFETY: `Call` tables hold only harmless arguments (see `Call`).
        let body = || unsafe { raw(nr, args) };
        expect(sockets, what, &body, expected);
    }
}

/// `[first]`, padded with zeros to six arguments.
const fn a1(first: usize) -> [usize; 6] {
    [first, 0, 0, 0, 0, 0]
}

/// `[first, second]`, padded with zeros to six arguments.
const fn a2(first: usize, second: usize) -> [usize; 6] {
    [first, second, 0, 0, 0, 0]
}

/// A pipe's read end with `data` waiting in it, or 100 + the errno.
fn pipe_with(data: &[u8]) -> Result<usize, i32> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors pipe writes.
    let rc = unsafe { libc::pipe(fds.as_mut_ptr()) };
    if rc != 0 {
        return Err(100 + errno());
    }
    // SAFETY: `data` is readable for its length.
    let written = unsafe { libc::write(fds[1], data.as_ptr().cast(), data.len()) };
    if written < 0 || written as usize != data.len() {
        return Err(100 + errno());
    }
    Ok(fds[0] as usize)
}

// --- the filter is in place ---

#[test]
fn install_sets_filter_mode_and_no_new_privs() {
    if !seccomp_available() {
        return;
    }
    let body = || {
        let zero: libc::c_ulong = 0;
        // SAFETY: PR_GET_* options only read process state.
        let (mode, nnp) = unsafe {
            (
                libc::prctl(libc::PR_GET_SECCOMP, zero, zero, zero, zero),
                libc::prctl(libc::PR_GET_NO_NEW_PRIVS, zero, zero, zero, zero),
            )
        };
        i32::from(!(mode == 2 && nnp == 1))
    };
    expect(SocketPolicy::UnixOnly, "seccomp mode 2 and NNP", &body, OK);
    if in_child(None, &body) == OK {
        eprintln!("note: this process already runs with seccomp and no_new_privs");
    }
}

#[test]
fn the_refusals_come_from_the_filter() {
    // The same calls without the filter get other answers, so the errnos
    // the other tests see are the filter's. Needs no seccomp.
    let unfiltered: &[Call] = &[
        (
            "ptrace(PTRACE_TRACEME)",
            libc::SYS_ptrace,
            a1(libc::PTRACE_TRACEME as usize),
            OK,
        ),
        (
            "personality(READ_IMPLIES_EXEC)",
            libc::SYS_personality,
            a1(libc::READ_IMPLIES_EXEC as usize),
            OK,
        ),
        (
            "socket(AF_INET)",
            libc::SYS_socket,
            a2(libc::AF_INET as usize, libc::SOCK_STREAM as usize),
            OK,
        ),
        (
            "unshare(CLONE_NEWUSER | 1 << 40)",
            libc::SYS_unshare,
            a1(libc::CLONE_NEWUSER as usize | 1 << 40),
            Exit::Code(libc::EINVAL),
        ),
    ];
    for &(what, nr, args, expected) in unfiltered {
        // SAFETY: `Call` tables hold only harmless arguments (see `Call`).
        let body = || unsafe { raw(nr, args) };
        assert_eq!(in_child(None, &body), expected, "{what} without the filter");
    }
    let tiocsti_on_a_pipe = || match pipe_with(b"") {
        // SAFETY: a NULL argument the kernel never reaches for a pipe.
        Ok(fd) => unsafe { raw(libc::SYS_ioctl, a2(fd, TIOCSTI | 0xffff_ffff_0000_0000)) },
        Err(code) => code,
    };
    assert_eq!(in_child(None, &tiocsti_on_a_pipe), Exit::Code(libc::ENOTTY));
    let inet_pair = || socketpair(libc::AF_INET as usize);
    assert_eq!(in_child(None, &inet_pair), Exit::Code(libc::EOPNOTSUPP));
}

// --- other processes (13) ---

#[test]
fn ptrace_and_process_vm_are_refused_while_getpid_works() {
    if !seccomp_available() {
        return;
    }
    expect_calls(
        SocketPolicy::UnixOnly,
        &[
            (
                "ptrace(PTRACE_TRACEME)",
                libc::SYS_ptrace,
                a1(libc::PTRACE_TRACEME as usize),
                EPERM,
            ),
            (
                "ptrace(PTRACE_ATTACH, 1)",
                libc::SYS_ptrace,
                a2(libc::PTRACE_ATTACH as usize, 1),
                EPERM,
            ),
            // Zero iovecs: the kernel would touch no memory.
            ("process_vm_readv", libc::SYS_process_vm_readv, a1(1), EPERM),
            (
                "process_vm_writev",
                libc::SYS_process_vm_writev,
                a1(1),
                EPERM,
            ),
            ("pidfd_getfd", libc::SYS_pidfd_getfd, a1(BAD_FD), EPERM),
            ("getpid", libc::SYS_getpid, [0; 6], OK),
            ("getppid", libc::SYS_getppid, [0; 6], OK),
        ],
    );
}

// --- namespaces and mounts (12) ---

#[test]
fn unshare_with_namespace_flags_is_refused_while_plain_unshare_works() {
    if !seccomp_available() {
        return;
    }
    let unshare = |flags: libc::c_int| a1(flags as usize);
    expect_calls(
        SocketPolicy::UnixOnly,
        &[
            (
                "unshare(CLONE_NEWUSER)",
                libc::SYS_unshare,
                unshare(libc::CLONE_NEWUSER),
                EPERM,
            ),
            (
                "unshare(CLONE_NEWNS)",
                libc::SYS_unshare,
                unshare(libc::CLONE_NEWNS),
                EPERM,
            ),
            (
                "unshare(CLONE_NEWNET)",
                libc::SYS_unshare,
                unshare(libc::CLONE_NEWNET),
                EPERM,
            ),
            (
                "unshare(CLONE_NEWPID)",
                libc::SYS_unshare,
                unshare(libc::CLONE_NEWPID),
                EPERM,
            ),
            (
                "unshare(CLONE_NEWIPC)",
                libc::SYS_unshare,
                unshare(libc::CLONE_NEWIPC),
                EPERM,
            ),
            (
                "unshare(CLONE_NEWUTS)",
                libc::SYS_unshare,
                unshare(libc::CLONE_NEWUTS),
                EPERM,
            ),
            (
                "unshare(CLONE_NEWCGROUP)",
                libc::SYS_unshare,
                unshare(libc::CLONE_NEWCGROUP),
                EPERM,
            ),
            (
                "unshare(CLONE_NEWTIME)",
                libc::SYS_unshare,
                unshare(libc::CLONE_NEWTIME),
                EPERM,
            ),
            // A high bit does not hide the flag (unfiltered: EINVAL).
            (
                "unshare(CLONE_NEWUSER | 1 << 40)",
                libc::SYS_unshare,
                a1(libc::CLONE_NEWUSER as usize | 1 << 40),
                EPERM,
            ),
            ("setns(-1, 0)", libc::SYS_setns, a1(BAD_FD), EPERM),
            ("unshare(0)", libc::SYS_unshare, unshare(0), OK),
            (
                "unshare(CLONE_FILES)",
                libc::SYS_unshare,
                unshare(libc::CLONE_FILES),
                OK,
            ),
            (
                "unshare(CLONE_FS | CLONE_SYSVSEM)",
                libc::SYS_unshare,
                unshare(libc::CLONE_FS | libc::CLONE_SYSVSEM),
                OK,
            ),
        ],
    );
}

/// A fork-like raw `clone(flags | SIGCHLD)`. Were it let through, the new
/// process would return here too and exit like its parent.
fn clone_fork(flags: libc::c_int) -> i32 {
    let flags = (flags | libc::SIGCHLD) as usize;
    // SAFETY: no CLONE_VM and stack 0: the new process runs on its own copy
    // of this stack, as after fork.
    unsafe { raw(libc::SYS_clone, a1(flags)) }
}

/// A thread that does nothing.
extern "C" fn idle_thread(_: *mut libc::c_void) -> *mut libc::c_void {
    std::ptr::null_mut()
}

#[test]
fn clone_with_namespace_flags_is_refused_while_fork_and_threads_work() {
    if !seccomp_available() {
        return;
    }
    let policy = SocketPolicy::UnixOnly;
    expect(
        policy,
        "clone(CLONE_NEWUSER)",
        &|| clone_fork(libc::CLONE_NEWUSER),
        EPERM,
    );
    expect(
        policy,
        "clone(CLONE_NEWPID)",
        &|| clone_fork(libc::CLONE_NEWPID),
        EPERM,
    );
    let newns_newnet = || clone_fork(libc::CLONE_NEWNS | libc::CLONE_NEWNET);
    expect(
        policy,
        "clone(CLONE_NEWNS | CLONE_NEWNET)",
        &newns_newnet,
        EPERM,
    );
    let fork = || {
        // SAFETY: the grandchild leaves through _exit at once.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return errno();
        }
        if pid == 0 {
            // SAFETY: ends the grandchild without running any handler.
            unsafe { libc::_exit(0) }
        }
        let mut status = 0;
        // SAFETY: `status` is a valid out-pointer; `pid` is our child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        i32::from(!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0))
    };
    expect(policy, "fork", &fork, OK);
    // glibc tries clone3, gets ENOSYS, and falls back to clone.
    let thread = || {
        let mut thread: libc::pthread_t = 0;
        let (attr, arg) = (std::ptr::null(), std::ptr::null_mut());
        // SAFETY: `thread` is a valid out-pointer; the thread takes and
        // returns nothing and is joined before the child exits.
        unsafe {
            let rc = libc::pthread_create(&mut thread, attr, idle_thread, arg);
            if rc != 0 {
                return rc;
            }
            libc::pthread_join(thread, std::ptr::null_mut())
        }
    };
    expect(policy, "pthread_create", &thread, OK);
}

#[test]
fn clone3_gets_enosys() {
    if !seccomp_available() {
        return;
    }
    // A NULL argument block of size 0: unfiltered, EINVAL before the kernel
    // reads anything.
    // SAFETY: see above.
    let clone3 = || unsafe { raw(libc::SYS_clone3, [0; 6]) };
    expect(SocketPolicy::UnixOnly, "clone3", &clone3, ENOSYS);
    match in_child(None, &clone3) {
        Exit::Code(libc::EINVAL) => {}
        Exit::Code(libc::ENOSYS) => eprintln!("note: this kernel predates clone3"),
        other => panic!("unfiltered clone3(NULL, 0): {other:?}"),
    }
}

#[test]
fn mounting_is_refused_while_statfs_works() {
    if !seccomp_available() {
        return;
    }
    let nowhere = s(c"/nonexistent");
    expect_calls(
        SocketPolicy::UnixOnly,
        &[
            ("mount", libc::SYS_mount, [0; 6], EPERM),
            ("umount2", libc::SYS_umount2, a1(nowhere), EPERM),
            ("pivot_root", libc::SYS_pivot_root, [0; 6], EPERM),
            ("chroot", libc::SYS_chroot, a1(nowhere), EPERM),
            ("fsopen", libc::SYS_fsopen, [0; 6], EPERM),
            ("fsconfig", libc::SYS_fsconfig, a1(BAD_FD), EPERM),
            ("fsmount", libc::SYS_fsmount, a1(BAD_FD), EPERM),
            ("fspick", libc::SYS_fspick, a1(BAD_FD), EPERM),
            (
                "move_mount",
                libc::SYS_move_mount,
                [BAD_FD, 0, BAD_FD, 0, 0, 0],
                EPERM,
            ),
            ("open_tree", libc::SYS_open_tree, a1(BAD_FD), EPERM),
            ("mount_setattr", libc::SYS_mount_setattr, a1(BAD_FD), EPERM),
            (
                "open_by_handle_at",
                libc::SYS_open_by_handle_at,
                a1(BAD_FD),
                EPERM,
            ),
            (
                "name_to_handle_at",
                libc::SYS_name_to_handle_at,
                a1(BAD_FD),
                EPERM,
            ),
            (
                "access(/)",
                libc::SYS_faccessat,
                [libc::AT_FDCWD as usize, s(c"/"), 0, 0, 0, 0],
                OK,
            ),
        ],
    );
    let statfs = || {
        // struct statfs is 120 bytes on both architectures.
        let mut buf = [0u64; 64];
        let args = a2(s(c"/"), buf.as_mut_ptr() as usize);
        // SAFETY: `buf` has room for a struct statfs; the path is a literal.
        unsafe { raw(libc::SYS_statfs, args) }
    };
    expect(SocketPolicy::UnixOnly, "statfs(/)", &statfs, OK);
}

// --- filter bypasses and kernel attack surface (15) ---

#[test]
fn kernel_attack_surface_is_refused_while_its_neighbours_work() {
    if !seccomp_available() {
        return;
    }
    // KEY_SPEC_SESSION_KEYRING, an int.
    let session = (-3i32) as u32 as usize;
    expect_calls(
        SocketPolicy::UnixOnly,
        &[
            ("io_uring_setup", libc::SYS_io_uring_setup, a1(1), EPERM),
            (
                "io_uring_enter",
                libc::SYS_io_uring_enter,
                a1(BAD_FD),
                EPERM,
            ),
            (
                "io_uring_register",
                libc::SYS_io_uring_register,
                a1(BAD_FD),
                EPERM,
            ),
            ("epoll_create1", libc::SYS_epoll_create1, [0; 6], OK),
            ("bpf", libc::SYS_bpf, [0; 6], EPERM),
            (
                "perf_event_open",
                libc::SYS_perf_event_open,
                [0, 0, BAD_FD, BAD_FD, 0, 0],
                EPERM,
            ),
            ("userfaultfd", libc::SYS_userfaultfd, [0; 6], EPERM),
            ("eventfd2", libc::SYS_eventfd2, [0; 6], OK),
            (
                "keyctl(KEYCTL_GET_KEYRING_ID)",
                libc::SYS_keyctl,
                a2(0, session),
                EPERM,
            ),
            ("add_key", libc::SYS_add_key, [0; 6], EPERM),
            ("request_key", libc::SYS_request_key, [0; 6], EPERM),
            ("getuid", libc::SYS_getuid, [0; 6], OK),
        ],
    );
}

#[test]
fn machine_wide_calls_are_refused() {
    if !seccomp_available() {
        return;
    }
    // A bad reboot magic, a module that does not exist, NULL pointers, a
    // missing file: unfiltered, each fails without changing anything.
    let nowhere = s(c"/nonexistent/acct");
    expect_calls(
        SocketPolicy::UnixOnly,
        &[
            ("reboot", libc::SYS_reboot, [0; 6], EPERM),
            (
                "delete_module",
                libc::SYS_delete_module,
                a1(s(c"stockade_none")),
                EPERM,
            ),
            (
                "init_module",
                libc::SYS_init_module,
                [0, 0, s(c""), 0, 0, 0],
                EPERM,
            ),
            (
                "finit_module",
                libc::SYS_finit_module,
                a2(BAD_FD, s(c"")),
                EPERM,
            ),
            (
                "kexec_file_load",
                SYS_KEXEC_FILE_LOAD,
                a2(BAD_FD, BAD_FD),
                EPERM,
            ),
            ("swapon", libc::SYS_swapon, [0; 6], EPERM),
            ("swapoff", libc::SYS_swapoff, a1(nowhere), EPERM),
            ("acct", libc::SYS_acct, a1(nowhere), EPERM),
            ("quotactl", libc::SYS_quotactl, [0; 6], EPERM),
            ("sync", libc::SYS_sync, [0; 6], OK),
        ],
    );
}

#[test]
fn personality_flags_are_refused_while_the_query_works() {
    if !seccomp_available() {
        return;
    }
    let nr = libc::SYS_personality;
    expect_calls(
        SocketPolicy::UnixOnly,
        &[
            (
                "personality(READ_IMPLIES_EXEC)",
                nr,
                a1(libc::READ_IMPLIES_EXEC as usize),
                EPERM,
            ),
            (
                "personality(ADDR_NO_RANDOMIZE)",
                nr,
                a1(libc::ADDR_NO_RANDOMIZE as usize),
                EPERM,
            ),
            ("personality(PER_LINUX32)", nr, a1(0x0008), EPERM),
            ("personality(0xffffffff)", nr, a1(0xffff_ffff), OK),
            ("personality(PER_LINUX)", nr, a1(0), OK),
        ],
    );
}

#[test]
#[cfg(target_arch = "x86_64")]
fn x32_getpid_gets_enosys_while_getpid_works() {
    if !seccomp_available() {
        return;
    }
    expect_calls(
        SocketPolicy::UnixOnly,
        &[
            ("x32 getpid", 0x4000_0000 | libc::SYS_getpid, [0; 6], ENOSYS),
            (
                "x32 ptrace(PTRACE_TRACEME)",
                0x4000_0000 | 521,
                [0; 6],
                ENOSYS,
            ),
            ("getpid", libc::SYS_getpid, [0; 6], OK),
        ],
    );
}

/// i386 `getpid` through `int 0x80`: the 32-bit entry point, from a 64-bit
/// process.
#[cfg(target_arch = "x86_64")]
fn int80_getpid() -> i32 {
    let rax: u64;
    // SAFETY: i386 getpid (20) takes no arguments and touches no memory.
    // The kernel returns in eax and may zero r8-r15, all declared clobbered.
    unsafe {
        std::arch::asm!(
            "int 0x80",
            inlateout("rax") 20u64 => rax,
            lateout("r8") _, lateout("r9") _, lateout("r10") _, lateout("r11") _,
            lateout("r12") _, lateout("r13") _, lateout("r14") _, lateout("r15") _,
            options(nostack),
        );
    }
    // eax holds a pid or -errno.
    let eax = rax as u32 as i32;
    if eax < 0 { -eax } else { 0 }
}

#[test]
#[cfg(target_arch = "x86_64")]
fn int80_is_killed_while_syscall_works() {
    if !seccomp_available() {
        return;
    }
    let unfiltered = in_child(None, &int80_getpid);
    if unfiltered != OK {
        eprintln!(
            "skipping: int 0x80 fails here even without the filter ({unfiltered:?}): no IA32 emulation"
        );
        return;
    }
    let killed = Exit::Signal(libc::SIGSYS);
    expect(SocketPolicy::Any, "int 0x80 getpid", &int80_getpid, killed);
    let getpid = [("syscall getpid", libc::SYS_getpid, [0; 6], OK)];
    expect_calls(SocketPolicy::Any, &getpid);
}

// --- terminals (14) ---

#[test]
fn tiocsti_is_refused_in_any_spelling_while_fionread_works() {
    if !seccomp_available() {
        return;
    }
    // fd 0 with a NULL argument: unfiltered, a terminal would answer EFAULT
    // (or EIO where TIOCSTI is disabled) and anything else ENOTTY.
    let high = 0xffff_ffff_0000_0000;
    expect_calls(
        SocketPolicy::UnixOnly,
        &[
            ("ioctl(0, TIOCSTI)", libc::SYS_ioctl, a2(0, TIOCSTI), EPERM),
            (
                "ioctl(0, TIOCSTI | 0xffffffff00000000)",
                libc::SYS_ioctl,
                a2(0, TIOCSTI | high),
                EPERM,
            ),
            (
                "ioctl(0, TIOCLINUX)",
                libc::SYS_ioctl,
                a2(0, TIOCLINUX),
                EPERM,
            ),
            (
                "ioctl(0, TIOCLINUX | 1 << 32)",
                libc::SYS_ioctl,
                a2(0, TIOCLINUX | 1 << 32),
                EPERM,
            ),
        ],
    );
    let fionread = || {
        let fd = match pipe_with(b"abc") {
            Ok(fd) => fd,
            Err(code) => return code,
        };
        let mut pending: libc::c_int = 0;
        let args = [fd, FIONREAD, &raw mut pending as usize, 0, 0, 0];
        // SAFETY: FIONREAD writes one int into `pending`.
        let rc = unsafe { raw(libc::SYS_ioctl, args) };
        if rc != 0 { rc } else { i32::from(pending != 3) }
    };
    expect(
        SocketPolicy::UnixOnly,
        "ioctl(pipe, FIONREAD)",
        &fionread,
        OK,
    );
}

// --- sockets (19, 22) ---

/// `socket(family, kind, 0)` as a `Call` (integers only).
fn socket(what: &'static str, family: libc::c_int, kind: libc::c_int, expected: Exit) -> Call {
    (
        what,
        libc::SYS_socket,
        a2(family as usize, kind as usize),
        expected,
    )
}

/// `socketpair(family, SOCK_STREAM, 0, fds)`.
fn socketpair(family: usize) -> i32 {
    socketpair_of(family, libc::SOCK_STREAM)
}

/// `socketpair(family, kind, 0, fds)`.
fn socketpair_of(family: usize, kind: libc::c_int) -> i32 {
    let mut fds = [0 as libc::c_int; 2];
    let args = [family, kind as usize, 0, fds.as_mut_ptr() as usize, 0, 0];
    // SAFETY: `fds` has room for the two descriptors.
    unsafe { raw(libc::SYS_socketpair, args) }
}

#[test]
fn unix_only_refuses_every_other_family() {
    if !seccomp_available() {
        return;
    }
    let policy = SocketPolicy::UnixOnly;
    let (stream, dgram, packets) = (libc::SOCK_STREAM, libc::SOCK_DGRAM, libc::SOCK_RAW);
    expect_calls(
        policy,
        &[
            socket("socket(AF_UNIX)", libc::AF_UNIX, stream, OK),
            socket("socket(AF_INET)", libc::AF_INET, stream, EAFNOSUPPORT),
            socket("socket(AF_INET, DGRAM)", libc::AF_INET, dgram, EAFNOSUPPORT),
            socket("socket(AF_INET6)", libc::AF_INET6, stream, EAFNOSUPPORT),
            socket(
                "socket(AF_NETLINK)",
                libc::AF_NETLINK,
                packets,
                EAFNOSUPPORT,
            ),
            socket("socket(AF_PACKET)", libc::AF_PACKET, packets, EAFNOSUPPORT),
            socket(
                "socket(AF_VSOCK)",
                AF_VSOCK as libc::c_int,
                stream,
                EAFNOSUPPORT,
            ),
        ],
    );
    let unix = || socketpair(libc::AF_UNIX as usize);
    expect(policy, "socketpair(AF_UNIX)", &unix, OK);
    // Unfiltered: EOPNOTSUPP.
    let inet = || socketpair(libc::AF_INET as usize);
    expect(policy, "socketpair(AF_INET)", &inet, EAFNOSUPPORT);
}

#[test]
fn unix_and_inet_adds_only_inet() {
    if !seccomp_available() {
        return;
    }
    let policy = SocketPolicy::UnixAndInet;
    let (stream, dgram, packets) = (libc::SOCK_STREAM, libc::SOCK_DGRAM, libc::SOCK_RAW);
    expect_calls(
        policy,
        &[
            socket("socket(AF_UNIX)", libc::AF_UNIX, stream, OK),
            socket("socket(AF_INET)", libc::AF_INET, stream, OK),
            socket("socket(AF_INET, DGRAM)", libc::AF_INET, dgram, OK),
            socket(
                "socket(AF_NETLINK)",
                libc::AF_NETLINK,
                packets,
                EAFNOSUPPORT,
            ),
            socket("socket(AF_PACKET)", libc::AF_PACKET, packets, EAFNOSUPPORT),
        ],
    );
    let inet6 = [socket("socket(AF_INET6)", libc::AF_INET6, dgram, OK)];
    let (_, nr, args, _) = inet6[0];
    // SAFETY: socket takes integers only.
    if in_child(None, &|| unsafe { raw(nr, args) }) == OK {
        expect_calls(policy, &inet6);
    } else {
        eprintln!("note: this kernel has no IPv6; socket(AF_INET6) not checked");
    }
}

#[test]
fn any_still_refuses_packet_vsock_and_alg() {
    if !seccomp_available() {
        return;
    }
    let policy = SocketPolicy::Any;
    let (stream, dgram, packets) = (libc::SOCK_STREAM, libc::SOCK_DGRAM, libc::SOCK_RAW);
    expect_calls(
        policy,
        &[
            socket("socket(AF_INET)", libc::AF_INET, stream, OK),
            socket("socket(AF_NETLINK)", libc::AF_NETLINK, packets, OK),
            socket("socket(AF_UNIX)", libc::AF_UNIX, dgram, OK),
            socket("socket(AF_PACKET)", libc::AF_PACKET, packets, EAFNOSUPPORT),
            socket(
                "socket(AF_PACKET, DGRAM)",
                libc::AF_PACKET,
                dgram,
                EAFNOSUPPORT,
            ),
            socket(
                "socket(AF_VSOCK)",
                AF_VSOCK as libc::c_int,
                stream,
                EAFNOSUPPORT,
            ),
            socket(
                "socket(AF_ALG)",
                libc::AF_ALG,
                libc::SOCK_SEQPACKET,
                EAFNOSUPPORT,
            ),
            socket("socket(AF_KEY)", libc::AF_KEY, packets, EAFNOSUPPORT),
            socket(
                "socket(AF_BLUETOOTH)",
                libc::AF_BLUETOOTH,
                stream,
                EAFNOSUPPORT,
            ),
            socket(
                "socket(AF_RDS)",
                libc::AF_RDS,
                libc::SOCK_SEQPACKET,
                EAFNOSUPPORT,
            ),
        ],
    );
    let packet = || socketpair(libc::AF_PACKET as usize);
    expect(policy, "socketpair(AF_PACKET)", &packet, EAFNOSUPPORT);
    let unix = || socketpair(libc::AF_UNIX as usize);
    expect(policy, "socketpair(AF_UNIX)", &unix, OK);
}

#[test]
fn a_supervised_filter_allows_unix_stream_and_seqpacket_only() {
    if !seccomp_available() {
        return;
    }
    let options = SeccompOptions {
        sockets: SocketPolicy::UnixOnly,
        supervise_connect: true,
        supervise_files: false,
    };
    let supervised = compile(&rules(&options)).expect("the built-in rules compile");
    let (unix, flags) = (libc::AF_UNIX, libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC);
    let calls: &[Call] = &[
        socket("unix stream", unix, libc::SOCK_STREAM, OK),
        socket("unix stream, flags", unix, libc::SOCK_STREAM | flags, OK),
        socket("unix seqpacket", unix, libc::SOCK_SEQPACKET, OK),
        socket("unix dgram", unix, libc::SOCK_DGRAM, EACCES),
        socket("unix dgram, flags", unix, libc::SOCK_DGRAM | flags, EACCES),
        // The kernel turns a raw unix socket into a datagram one.
        socket("unix raw", unix, libc::SOCK_RAW, EACCES),
        socket(
            "inet stream",
            libc::AF_INET,
            libc::SOCK_STREAM,
            EAFNOSUPPORT,
        ),
    ];
    for &(what, nr, args, expected) in calls {
        // SAFETY: socket takes integers only.
        let got = in_child(Some(&supervised), &|| unsafe { raw(nr, args) });
        assert_eq!(got, expected, "{what}");
    }
    let stream = || socketpair_of(libc::AF_UNIX as usize, libc::SOCK_STREAM);
    assert_eq!(in_child(Some(&supervised), &stream), OK);
    let dgram = || socketpair_of(libc::AF_UNIX as usize, libc::SOCK_DGRAM);
    assert_eq!(in_child(Some(&supervised), &dgram), EACCES);
    // Without supervision, datagrams stay (nothing decides connect then).
    let plain = filter(SocketPolicy::UnixOnly);
    assert_eq!(in_child(Some(&plain), &dgram), OK);
}
