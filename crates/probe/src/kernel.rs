//! Kernel attack surface: namespaces, mounts, root changes, syscalls that
//! seccomp filters commonly block (and their bypass spellings), terminal
//! ioctls, credentials and the probe's own confinement state.
//!
//! Operations that change the probe (`unshare`, `chroot`, `setuid`,
//! `personality`, mounts) do so in the probe itself, so that a chained op
//! (`--then`) runs under the new state.

use serde_json::{Map, Value};

use crate::errno::{self, check, check_long};
use crate::process::wait;
use crate::{Args, Failure, Fields, Op, Outcome, op};

pub(crate) const OPS: &[Op] = &[
    op(
        "unshare",
        "FLAGS(user,mount,pid,net,ipc,uts,cgroup,time)",
        1,
        1,
        unshare,
    ),
    op("clone-newuser", "", 0, 0, clone_newuser),
    op("clone3", "[FLAGS]", 0, 1, clone3),
    op("mount-tmpfs", "TARGET", 1, 1, mount_tmpfs),
    op("remount-rw", "PATH", 1, 1, remount_rw),
    op("umount", "PATH [detach]", 1, 2, umount),
    op("pivot-root", "NEW OLD", 2, 2, pivot_root),
    op("chroot", "PATH", 1, 1, chroot),
    op("io-uring-setup", "", 0, 0, io_uring_setup),
    op("bpf", "", 0, 0, bpf),
    op("perf-event-open", "", 0, 0, perf_event_open),
    op("userfaultfd", "", 0, 0, userfaultfd),
    op("keyctl", "", 0, 0, keyctl),
    op("personality", "VALUE(hex)", 1, 1, personality),
    op("ioctl-tiocsti", "[FD]", 0, 1, ioctl_tiocsti),
    op("ioctl-tiocsti-high", "[FD]", 0, 1, ioctl_tiocsti_high),
    op("ioctl-tioclinux", "[FD]", 0, 1, ioctl_tioclinux),
    op("x32-getpid", "", 0, 0, x32_getpid),
    op("setuid", "UID", 1, 1, setuid),
    op("capget", "", 0, 0, capget),
    op("no-new-privs", "", 0, 0, no_new_privs),
    op("seccomp-mode", "", 0, 0, seccomp_mode),
];

/// Comma-separated namespace names to `CLONE_NEW*` flags.
fn namespace_flags(list: &str) -> Result<libc::c_int, Failure> {
    let mut flags = 0;
    for name in list.split(',').filter(|n| !n.is_empty()) {
        flags |= match name {
            "user" => libc::CLONE_NEWUSER,
            "mount" | "mnt" => libc::CLONE_NEWNS,
            "pid" => libc::CLONE_NEWPID,
            "net" => libc::CLONE_NEWNET,
            "ipc" => libc::CLONE_NEWIPC,
            "uts" => libc::CLONE_NEWUTS,
            "cgroup" => libc::CLONE_NEWCGROUP,
            // CLONE_NEWTIME (not in every libc).
            "time" => 0x80,
            _ => return Err(Failure::Usage(format!("unknown namespace {name:?}"))),
        };
    }
    Ok(flags)
}

/// `unshare(FLAGS)` in the probe itself.
fn unshare(a: &Args) -> Outcome {
    let flags = namespace_flags(a.str(0)?)?;
    // SAFETY: unshare takes no pointers; the probe is single-threaded, as
    // CLONE_NEWUSER requires.
    check(unsafe { libc::unshare(flags) })?;
    Ok(vec![])
}

/// A child created by a raw clone-like syscall: `_exit(0)` at once in the
/// child, reap in the parent, report `{"pid"}`.
fn reap_clone(ret: libc::c_long) -> Outcome {
    let pid = check_long(ret)?;
    if pid == 0 {
        // SAFETY: we are the new child; `_exit` is async-signal-safe.
        unsafe { libc::_exit(0) };
    }
    wait(pid as libc::pid_t)?;
    Ok(vec![("pid", Value::from(pid))])
}

/// Raw `clone(CLONE_NEWUSER|SIGCHLD)` (no libc wrapper, so a filter on the
/// flags argument is what decides).
fn clone_newuser(_: &Args) -> Outcome {
    let flags = (libc::CLONE_NEWUSER | libc::SIGCHLD) as libc::c_long;
    // SAFETY: without CLONE_VM and with a null stack, clone behaves like
    // fork: the child gets a copy of the address space and only `_exit`s.
    let ret = unsafe { libc::syscall(libc::SYS_clone, flags, 0, 0, 0, 0) };
    reap_clone(ret)
}

/// `clone3` with `flags` (namespace names, as for `unshare`; default none).
/// Its flags live in memory, out of a seccomp filter's sight, so filters must
/// refuse the syscall as a whole.
fn clone3(a: &Args) -> Outcome {
    let flags = if a.len() > 0 {
        namespace_flags(a.str(0)?)?
    } else {
        0
    };
    // struct clone_args, CLONE_ARGS_SIZE_VER0: flags, pidfd, child_tid,
    // parent_tid, exit_signal, stack, stack_size, tls.
    let mut args = [0u64; 8];
    args[0] = flags as u64;
    args[4] = libc::SIGCHLD as u64;
    // SAFETY: `args` is a live, correctly sized clone_args; with no stack and
    // no CLONE_VM the child is a fork-like copy that only `_exit`s.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            args.as_mut_ptr(),
            std::mem::size_of_val(&args),
        )
    };
    reap_clone(ret)
}

/// `mount("tmpfs", TARGET, "tmpfs", 0, NULL)`; left mounted for chained ops.
fn mount_tmpfs(a: &Args) -> Outcome {
    let target = a.cstr(0)?;
    // SAFETY: all strings are NUL-terminated and outlive the call; data is NULL.
    check(unsafe {
        libc::mount(
            c"tmpfs".as_ptr(),
            target.as_ptr(),
            c"tmpfs".as_ptr(),
            0,
            std::ptr::null(),
        )
    })?;
    Ok(vec![])
}

/// `mount(NULL, PATH, NULL, MS_REMOUNT|MS_BIND, NULL)`: drops MS_RDONLY from
/// a bind mount.
fn remount_rw(a: &Args) -> Outcome {
    let path = a.cstr(0)?;
    // SAFETY: `path` is NUL-terminated and outlives the call; the rest is NULL.
    check(unsafe {
        libc::mount(
            std::ptr::null(),
            path.as_ptr(),
            std::ptr::null(),
            libc::MS_REMOUNT | libc::MS_BIND,
            std::ptr::null(),
        )
    })?;
    Ok(vec![])
}

/// `umount2(PATH, 0)`, or with MNT_DETACH when the second argument is `detach`.
fn umount(a: &Args) -> Outcome {
    let path = a.cstr(0)?;
    let flags = match a.len() {
        1 => 0,
        _ if a.os(1) == "detach" => libc::MNT_DETACH,
        _ => return Err(Failure::Usage("second argument must be 'detach'".into())),
    };
    // SAFETY: `path` is NUL-terminated and outlives the call.
    check(unsafe { libc::umount2(path.as_ptr(), flags) })?;
    Ok(vec![])
}

fn pivot_root(a: &Args) -> Outcome {
    let (new, old) = (a.cstr(0)?, a.cstr(1)?);
    // SAFETY: both paths are NUL-terminated and outlive the call.
    check_long(unsafe { libc::syscall(libc::SYS_pivot_root, new.as_ptr(), old.as_ptr()) })?;
    Ok(vec![])
}

fn chroot(a: &Args) -> Outcome {
    let path = a.cstr(0)?;
    // SAFETY: `path` is NUL-terminated and outlives the call.
    check(unsafe { libc::chroot(path.as_ptr()) })?;
    Ok(vec![])
}

/// Ok when the syscall returned a descriptor, which is closed again.
fn fd_result(ret: libc::c_long) -> Outcome {
    let fd = check_long(ret)?;
    errno::close(fd as libc::c_int);
    Ok(vec![])
}

/// `io_uring_setup(8, &params)` with zeroed `struct io_uring_params`.
fn io_uring_setup(_: &Args) -> Outcome {
    let mut params = [0u8; 120];
    // SAFETY: `params` is a live, zeroed io_uring_params (120 bytes).
    fd_result(unsafe { libc::syscall(libc::SYS_io_uring_setup, 8, params.as_mut_ptr()) })
}

/// `bpf(BPF_MAP_CREATE)` of a one-entry array map.
fn bpf(_: &Args) -> Outcome {
    // union bpf_attr, map-create part: map_type, key_size, value_size,
    // max_entries; the rest zero.
    let mut attr = [0u32; 32];
    attr[..4].copy_from_slice(&[2 /* BPF_MAP_TYPE_ARRAY */, 4, 4, 1]);
    const BPF_MAP_CREATE: libc::c_long = 0;
    // SAFETY: `attr` is a live 128-byte buffer and its size is passed along.
    fd_result(unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_MAP_CREATE,
            attr.as_mut_ptr(),
            std::mem::size_of_val(&attr),
        )
    })
}

/// `perf_event_open` of a software CPU-clock counter on the probe itself,
/// user space only (the least privileged kind).
fn perf_event_open(_: &Args) -> Outcome {
    // struct perf_event_attr, PERF_ATTR_SIZE_VER0 (64 bytes) in a zeroed
    // buffer: type = PERF_TYPE_SOFTWARE (1), size = 64, config =
    // PERF_COUNT_SW_CPU_CLOCK (0), flags = disabled | exclude_kernel |
    // exclude_hv.
    let mut attr = [0u64; 16];
    attr[0] = 1 | (64 << 32);
    attr[5] = 1 | (1 << 5) | (1 << 6);
    const PERF_FLAG_FD_CLOEXEC: libc::c_long = 8;
    // SAFETY: `attr` is a live buffer larger than the size it declares.
    fd_result(unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            attr.as_mut_ptr(),
            0 as libc::c_long,
            -1 as libc::c_long,
            -1 as libc::c_long,
            PERF_FLAG_FD_CLOEXEC,
        )
    })
}

/// `userfaultfd(O_CLOEXEC|UFFD_USER_MODE_ONLY)`, falling back to plain
/// `O_CLOEXEC` on kernels that reject the flag: `{"user_mode_only"}`.
fn userfaultfd(_: &Args) -> Outcome {
    const UFFD_USER_MODE_ONLY: libc::c_long = 1;
    let cloexec = libc::O_CLOEXEC as libc::c_long;
    // SAFETY: userfaultfd takes only flags.
    let ret = unsafe { libc::syscall(libc::SYS_userfaultfd, cloexec | UFFD_USER_MODE_ONLY) };
    if ret == -1 && errno::last() == libc::EINVAL {
        // SAFETY: as above.
        let ret = unsafe { libc::syscall(libc::SYS_userfaultfd, cloexec) };
        let fields = vec![("user_mode_only", Value::from(false))];
        return fd_result(ret)
            .map(|_| fields.clone())
            .map_err(|f| f.with(fields));
    }
    let fields = vec![("user_mode_only", Value::from(true))];
    fd_result(ret)
        .map(|_| fields.clone())
        .map_err(|f| f.with(fields))
}

/// `keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0)`: `{"id"}`.
fn keyctl(_: &Args) -> Outcome {
    const KEYCTL_GET_KEYRING_ID: libc::c_long = 0;
    const KEY_SPEC_SESSION_KEYRING: libc::c_long = -3;
    // SAFETY: this keyctl operation takes no pointers.
    let id = check_long(unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_GET_KEYRING_ID,
            KEY_SPEC_SESSION_KEYRING,
            0 as libc::c_long,
        )
    })?;
    Ok(vec![("id", Value::from(id))])
}

/// `personality(VALUE)` (hex; 0xffffffff only queries): `{"previous"}` in hex.
fn personality(a: &Args) -> Outcome {
    let value = a.radix(0, 16)?;
    // SAFETY: personality takes no pointers.
    let previous = check(unsafe { libc::personality(value as libc::c_ulong) })?;
    Ok(vec![("previous", Value::from(format!("{previous:#x}")))])
}

// The ioctl request constants are `c_ulong` with glibc and `c_int` with
// musl; these casts are no-ops only on the former.
#[allow(clippy::unnecessary_cast)]
const TIOCSTI: u64 = libc::TIOCSTI as u64;
#[allow(clippy::unnecessary_cast)]
const TIOCLINUX: u64 = libc::TIOCLINUX as u64;

/// The descriptor for the terminal ioctls: argument 0, default stdin.
fn tty_fd(a: &Args) -> Result<libc::c_long, Failure> {
    if a.len() > 0 { a.num(0) } else { Ok(0) }
}

/// Raw `ioctl(fd, request, arg)`, so the request reaches the kernel (and any
/// seccomp filter) with all 64 bits exactly as given.
fn ioctl(fd: libc::c_long, request: u64, arg: *mut u8) -> Outcome {
    // SAFETY: `arg` points to a live byte, which is all TIOCSTI and
    // TIOCLINUX read or write.
    check_long(unsafe { libc::syscall(libc::SYS_ioctl, fd, request, arg) })?;
    Ok(vec![])
}

/// `ioctl(FD, TIOCSTI, "x")`: pushes a character into the terminal's input.
fn ioctl_tiocsti(a: &Args) -> Outcome {
    let mut byte = b'x';
    ioctl(tty_fd(a)?, TIOCSTI, &mut byte)
}

/// TIOCSTI with the upper 32 bits of the request set: the kernel ignores
/// them, a filter comparing all 64 bits may not.
fn ioctl_tiocsti_high(a: &Args) -> Outcome {
    let mut byte = b'x';
    let request = TIOCSTI | 0xffff_ffff_0000_0000;
    ioctl(tty_fd(a)?, request, &mut byte)
}

/// `ioctl(FD, TIOCLINUX, &TIOCL_GETSHIFTSTATE)`: the harmless subcode, since
/// filters refuse TIOCLINUX as a whole.
fn ioctl_tioclinux(a: &Args) -> Outcome {
    let mut subcode = 6u8;
    ioctl(tty_fd(a)?, TIOCLINUX, &mut subcode)
}

/// `getpid` through the x32 ABI (`__X32_SYSCALL_BIT | 39`): `{"pid"}`.
#[cfg(target_arch = "x86_64")]
fn x32_getpid(_: &Args) -> Outcome {
    const X32_GETPID: libc::c_long = 0x4000_0000 | 39;
    // SAFETY: getpid takes no arguments, in any ABI.
    let pid = check_long(unsafe { libc::syscall(X32_GETPID) })?;
    Ok(vec![("pid", Value::from(pid))])
}

#[cfg(not(target_arch = "x86_64"))]
fn x32_getpid(_: &Args) -> Outcome {
    Err(Failure::NotApplicable {
        reason: "the x32 ABI exists only on x86_64",
    })
}

fn setuid(a: &Args) -> Outcome {
    let uid: libc::uid_t = a.num(0)?;
    // SAFETY: setuid takes no pointers.
    check(unsafe { libc::setuid(uid) })?;
    Ok(vec![])
}

/// `capget` (version 3): `{"caps": {"effective", "permitted", "inheritable",
/// and when /proc/self/status is readable "bounding", "ambient"}}`, each 16
/// hex digits as in /proc.
fn capget(_: &Args) -> Outcome {
    const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    let mut header = [LINUX_CAPABILITY_VERSION_3, 0];
    // Two struct __user_cap_data_struct: effective, permitted, inheritable.
    let mut data = [0u32; 6];
    // SAFETY: `header` and `data` are live and sized for version 3.
    check_long(unsafe { libc::syscall(libc::SYS_capget, header.as_mut_ptr(), data.as_mut_ptr()) })?;
    let set = |i: usize| {
        format!(
            "{:016x}",
            (u64::from(data[i + 3]) << 32) | u64::from(data[i])
        )
    };
    let mut caps = Map::new();
    caps.insert("effective".into(), set(0).into());
    caps.insert("permitted".into(), set(1).into());
    caps.insert("inheritable".into(), set(2).into());
    for (key, field) in [("bounding", "CapBnd:"), ("ambient", "CapAmb:")] {
        if let Some(value) = proc_status(field) {
            caps.insert(key.into(), value.into());
        }
    }
    Ok(vec![("caps", Value::Object(caps))])
}

/// The value of `field` (e.g. `"Seccomp:"`) in /proc/self/status.
fn proc_status(field: &str) -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .map(|value| value.trim().to_owned())
}

/// `prctl(PR_GET_NO_NEW_PRIVS)`: `{"value": 0 or 1}`.
fn no_new_privs(_: &Args) -> Outcome {
    // SAFETY: PR_GET_NO_NEW_PRIVS takes no pointers.
    let value = check(unsafe { libc::prctl(libc::PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) })?;
    Ok(vec![("value", Value::from(value))])
}

/// `Seccomp:` of /proc/self/status: `{"value": 0 (none), 1 (strict) or 2
/// (filter), "filters": count or null}`.
fn seccomp_mode(_: &Args) -> Outcome {
    std::fs::metadata("/proc/self/status")?;
    let value = proc_status("Seccomp:")
        .and_then(|v| v.parse::<u32>().ok())
        .ok_or_else(|| Failure::errno(libc::ENODATA))?;
    let filters = proc_status("Seccomp_filters:").and_then(|v| v.parse::<u32>().ok());
    let fields: Fields = vec![
        ("value", Value::from(value)),
        ("filters", Value::from(filters)),
    ];
    Ok(fields)
}
