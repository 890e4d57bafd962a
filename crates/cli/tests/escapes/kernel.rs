//! Classes 10, 11, 12, 14 and 15: devices and kernel interfaces,
//! privilege, namespaces and mounts, terminals, syscall-filter bypasses.

use crate::common::*;

// ---- 10. Devices and kernel interfaces ----

#[test]
fn device_nodes_cannot_be_created() {
    let Some(t) = sandbox() else { return };
    let before = t.snapshot();
    let r = t
        .probe()
        .op(&["mknod-char", "null"])
        .op(&["mknod-char", "/tmp/null"])
        .op(&["mknod-char", "/dev/mem2"])
        .op(&["mkfifo", "/tmp/fifo"])
        .op(&["read", "/dev/null"])
        .op(&["read", "/dev/urandom"])
        .op(&["write", "/dev/null", "x"])
        .run();
    let [ws, tmp, dev, fifo, null, urandom, null_w] = r.ops();
    denied(ws, &["EPERM", "EACCES", "EROFS"]);
    denied(tmp, &["EPERM", "EACCES", "EROFS"]);
    denied(dev, &["EPERM", "EACCES", "EROFS"]);
    allowed(fifo);
    allowed(null);
    allowed(urandom);
    assert_eq!(urandom["data"].as_str().map(|d| !d.is_empty()), Some(true));
    allowed(null_w);
    t.assert_unchanged(&before, &[]);
}

#[test]
fn raw_disks_and_kernel_memory_are_not_reachable() {
    let Some(t) = sandbox() else { return };
    let r = t
        .probe()
        .op(&["read", "/dev/sda"])
        .op(&["read", "/dev/vda"])
        .op(&["read", "/dev/nvme0n1"])
        .op(&["read", "/dev/mem"])
        .op(&["read", "/dev/kmsg"])
        .op(&["read", "/proc/kcore"])
        .op(&["list", "/dev"])
        .run();
    let [sda, vda, nvme, mem, kmsg, kcore, list] = r.ops();
    for forbidden in [sda, vda, nvme, mem, kmsg, kcore] {
        denied(forbidden, HIDDEN);
    }
    allowed(list);
}

#[test]
fn proc_sys_sysrq_and_sys_are_not_writable() {
    let Some(t) = sandbox() else { return };
    let host = |path: &str| std::fs::read_to_string(path).ok();
    let host_hostname = host("/proc/sys/kernel/hostname");
    let host_core_pattern = host("/proc/sys/kernel/core_pattern");
    let r = t
        .probe()
        .op(&["write", "/proc/sys/kernel/hostname", "pwned"])
        .op(&["write", "/proc/sys/kernel/core_pattern", "|/tmp/evil"])
        .op(&["write", "/proc/sys/vm/drop_caches", "3"])
        .op(&["write", "/proc/sysrq-trigger", "h"])
        .op(&["write", "/sys/kernel/uevent_helper", "/tmp/evil"])
        .op(&["write", "/sys/kernel/profiling", "1"])
        .op(&["mkdir", "/sys/fs/cgroup/escape"])
        .op(&["read", "/proc/sys/kernel/hostname"])
        .op(&["read", "/proc/self/status"])
        .run();
    let [
        hostname,
        core,
        caches,
        sysrq,
        uevent,
        profiling,
        cgroup,
        read_host,
        status,
    ] = r.ops();
    for forbidden in [hostname, core, caches, sysrq, uevent, profiling, cgroup] {
        denied(forbidden, &["EROFS", "EACCES", "EPERM", "ENOENT"]);
    }
    allowed(read_host);
    allowed(status);
    assert_eq!(host("/proc/sys/kernel/hostname"), host_hostname);
    assert_eq!(host("/proc/sys/kernel/core_pattern"), host_core_pattern);
    assert!(!std::path::Path::new("/sys/fs/cgroup/escape").exists());
}

// ---- 11. Privilege ----

#[test]
fn no_capabilities_and_no_new_privs_even_when_stockade_runs_as_root() {
    let Some(t) = sandbox() else { return };
    let r = t
        .probe()
        .op(&["capget"])
        .op(&["no-new-privs"])
        .op(&["seccomp-mode"])
        .op(&["uid"])
        .run();
    let [caps, nnp, seccomp, uid] = r.ops();
    allowed(caps);
    for set in [
        "effective",
        "permitted",
        "inheritable",
        "bounding",
        "ambient",
    ] {
        assert_eq!(caps["caps"][set], "0000000000000000", "{set}: {caps}");
    }
    assert_eq!(nnp["value"], 1, "{nnp}");
    assert_eq!(seccomp["value"], 2, "{seccomp}");
    // The command keeps the caller's own ids, nothing else is mapped.
    allowed(uid);
}

#[test]
fn setuid_to_root_fails_for_an_unprivileged_caller() {
    let Some(t) = sandbox() else { return };
    if running_as_root() {
        eprintln!("skipped: the caller is root, so setuid(0) changes nothing");
        return;
    }
    let r = t
        .probe()
        .op(&["setuid", "0"])
        .op(&["setuid", "65534"])
        .op(&["uid"])
        .run();
    let [root, nobody, uid] = r.ops();
    denied(root, &["EPERM", "EINVAL"]);
    denied(nobody, &["EPERM", "EINVAL"]);
    allowed(uid);
    assert_ne!(uid["euid"], 0, "{uid}");
}

#[test]
fn setuid_binary_does_not_elevate() {
    let Some(t) = sandbox() else { return };
    if running_as_root() {
        setuid_root_copy_does_not_elevate_nobody(&t);
    }
    // System setuid-root binaries do not elevate either: `su` cannot
    // switch to root inside (stdin is /dev/null, so no password is read).
    let su = find_program("su").filter(|p| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(p).is_ok_and(|m| m.mode() & 0o4000 != 0 && m.uid() == 0)
    });
    match su {
        Some(su) if !running_as_root() => {
            let r = t.run(&["--", su.to_str().unwrap(), "-c", "id -u", "root"]);
            assert_ne!(r.stdout.trim(), "0", "su elevated to root: {}", r.stderr);
            assert_ne!(r.code, Some(0), "su succeeded: {}", r.stdout);
        }
        Some(_) => eprintln!("skipped the su variant: the caller is root already"),
        None => eprintln!("skipped the su variant: no setuid-root su here"),
    }
}

/// As root: a root-owned setuid copy of the probe, run by uid 65534,
/// elevates outside the sandbox (the twin) and not inside it.
fn setuid_root_copy_does_not_elevate_nobody(t: &Tree) {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let mode = |rel: &str, mode: u32| {
        std::fs::set_permissions(t.path(rel), std::fs::Permissions::from_mode(mode)).unwrap()
    };
    t.mkdir("suid");
    let copy = t.path("suid/probe");
    std::fs::copy(probe_bin(), &copy).unwrap();
    mode("suid/probe", 0o4755);
    for dir in ["", "suid", "home", "xdg"] {
        mode(dir, 0o755);
    }
    mode("ws", 0o777);
    let nobody = |cmd: &mut std::process::Command| {
        cmd.uid(65534).gid(65534);
    };
    let mut direct = std::process::Command::new(&copy);
    direct.arg("uid");
    nobody(&mut direct);
    let outside = match direct.output() {
        Ok(out) if out.status.success() => Run::from(out),
        other => {
            eprintln!(
                "skipped the setuid-copy variant: uid 65534 cannot run {}: {other:?}",
                copy.display()
            );
            return;
        }
    };
    if outside.ops.first().is_none_or(|u| u["euid"] != 0) {
        eprintln!(
            "skipped the setuid-copy variant: setuid does not work here (nosuid?): {}",
            outside.stdout
        );
        return;
    }
    let mut inside = t.command();
    inside.args([
        "run",
        "--",
        copy.to_str().unwrap(),
        "uid",
        "--then",
        "capget",
    ]);
    nobody(&mut inside);
    let r = Run::from(inside.output().unwrap());
    if r.code == Some(125) || r.code == Some(126) {
        eprintln!(
            "skipped the setuid-copy variant: stockade cannot run as uid 65534 here: {}",
            r.stderr
        );
        return;
    }
    let [uid, caps] = r.ops();
    assert_eq!(
        uid["euid"], 65534,
        "the setuid bit elevated inside the sandbox: {uid}"
    );
    assert_eq!(caps["caps"]["effective"], "0000000000000000", "{caps}");
}

// ---- 12. Namespaces and mounts ----

#[test]
fn namespaces_cannot_be_created() {
    let Some(t) = sandbox() else { return };
    let before = t.snapshot();
    let r = t
        .probe()
        .op(&["unshare", "user"])
        .op(&["unshare", "mount"])
        .op(&["unshare", "net"])
        .op(&["unshare", "pid"])
        .op(&["unshare", "user,mount"])
        .op(&["clone-newuser"])
        .op(&["clone3"])
        .op(&["clone3", "user"])
        .op(&["clone3", "mount,pid"])
        .op(&["getpid"])
        .op(&["exec", "/bin/true"])
        .run();
    let [
        user,
        mount,
        net,
        pid,
        both,
        clone,
        clone3,
        clone3_user,
        clone3_ns,
        getpid,
        exec,
    ] = r.ops();
    for forbidden in [user, mount, net, pid, both, clone, clone3_user, clone3_ns] {
        denied(forbidden, SYSCALL_DENIED);
    }
    // clone3 without namespace flags is refused too (ENOSYS, so libcs fall
    // back to clone, whose flags the filter can read).
    denied(clone3, &["ENOSYS", "EPERM"]);
    allowed(getpid);
    allowed(exec);
    assert_eq!(exec["status"], 0, "{exec}");
    t.assert_unchanged(&before, &[]);
}

#[test]
fn mounts_cannot_be_changed() {
    let Some(t) = sandbox() else { return };
    let before = t.snapshot();
    let ws = t.p("ws");
    let r = t
        .probe()
        .op(&["mount-tmpfs", &ws])
        .op(&["mount-tmpfs", "/tmp"])
        .op(&["remount-rw", "/"])
        .op(&["remount-rw", &t.p("outside")])
        .op(&["umount", "/proc"])
        .op(&["umount", "/proc", "detach"])
        .op(&["umount", &t.p("home/.ssh"), "detach"])
        .op(&["pivot-root", &ws, &t.p("ws/sub")])
        .op(&["chroot", &ws])
        .op(&["open-by-handle", &t.p("outside/f")])
        .op(&["write", "ok", "x"])
        .run();
    let [
        tmpfs,
        tmpfs_tmp,
        rw,
        rw_out,
        umount,
        detach,
        unhide,
        pivot,
        chroot,
        handle,
        ok,
    ] = r.ops();
    for forbidden in [
        tmpfs, tmpfs_tmp, rw, rw_out, umount, detach, unhide, pivot, chroot, handle,
    ] {
        denied(forbidden, SYSCALL_DENIED);
    }
    allowed(ok);
    t.assert_unchanged(&before, &["ws/ok"]);
}

// ---- 14. Terminals ----

#[test]
fn terminal_injection_ioctls_are_refused_on_any_fd() {
    let Some(t) = sandbox() else { return };
    let r = t
        .probe()
        .op(&["ioctl-tiocsti", "0"])
        .op(&["ioctl-tiocsti-high", "0"])
        .op(&["ioctl-tioclinux", "0"])
        .op(&["ioctl-tiocsti", "1"])
        .op(&["ioctl-tiocsti-high", "2"])
        .op(&["tty"])
        .run();
    let [sti, high, linux, sti1, high2, tty] = r.ops();
    for forbidden in [sti, high, linux, sti1, high2] {
        denied(forbidden, &["EPERM"]);
    }
    allowed(tty);
}

#[test]
fn terminal_injection_is_refused_on_a_real_terminal() {
    let Some(t) = sandbox() else { return };
    let Some(script) = find_program("script") else {
        eprintln!("skipped: script(1) is not installed, no pty to test with");
        return;
    };
    // script(1) gives stockade a pseudo-terminal as stdin/stdout/stderr, so
    // only the filter stands between TIOCSTI and the terminal's input.
    let run = t
        .probe()
        .op(&["tty"])
        .op(&["ioctl-tiocsti", "0"])
        .op(&["ioctl-tiocsti-high", "0"])
        .op(&["ioctl-tioclinux", "0"]);
    let line = std::iter::once(stockade_bin().to_str().unwrap().to_owned())
        .chain(run.args())
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let out = std::process::Command::new(script)
        .args(["-qec", &line, "/dev/null"])
        .current_dir(t.path("ws"))
        .env_clear()
        .env("HOME", t.path("home"))
        .env("PATH", "/usr/bin:/bin")
        .env("XDG_CONFIG_HOME", t.path("xdg"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ops: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|l| l.find("{\"op\"").map(|i| &l[i..]))
        .map(|l| serde_json::from_str(l.trim_end()).unwrap())
        .collect();
    assert_eq!(
        ops.len(),
        4,
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    allowed(&ops[0]);
    if ops[0]["stdin"] != true {
        eprintln!(
            "skipped: script(1) did not give the sandbox a terminal: {}",
            ops[0]
        );
        return;
    }
    for forbidden in &ops[1..] {
        denied(forbidden, &["EPERM"]);
    }
}

// ---- 15. Syscall-filter bypasses ----

#[test]
fn dangerous_syscalls_are_filtered() {
    let Some(t) = sandbox() else { return };
    let r = t
        .probe()
        .op(&["io-uring-setup"])
        .op(&["bpf"])
        .op(&["userfaultfd"])
        .op(&["perf-event-open"])
        .op(&["keyctl"])
        .op(&["personality", "0x0400000"])
        .op(&["personality", "0x0040000"])
        .op(&["personality", "0"])
        .op(&["getpid"])
        .run();
    let [uring, bpf, uffd, perf, keyctl, rie, no_aslr, linux, getpid] = r.ops();
    for forbidden in [uring, bpf, uffd, perf, keyctl, rie, no_aslr] {
        denied(forbidden, SYSCALL_DENIED);
    }
    allowed(linux);
    allowed(getpid);
}

#[test]
fn x32_and_clone3_entry_points_are_refused() {
    let Some(t) = sandbox() else { return };
    let r = t
        .probe()
        .op(&["x32-getpid"])
        .op(&["clone3", "user"])
        .op(&["getpid"])
        .run();
    let [x32, clone3, getpid] = r.ops();
    if cfg!(target_arch = "x86_64") {
        denied(x32, &["ENOSYS", "EPERM"]);
    } else {
        assert_eq!(x32["error"], "ENOARCH", "{x32}");
    }
    denied(clone3, &["ENOSYS", "EPERM"]);
    allowed(getpid);
}
