//! User namespaces: whether this user can really create one and map itself
//! into it, and which sysctls stand in the way.

use std::ffi::CStr;
use std::path::Path;

use serde::Serialize;

use super::sys;

/// Whether user namespaces work here, and what restricts them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsernsStatus {
    /// A forked child created a user + mount namespace and wrote its uid and
    /// gid maps.
    pub works: bool,
    /// The step that failed and its errno, when it did not work.
    pub error: Option<String>,
    /// The sysctls that can forbid unprivileged user namespaces.
    pub sysctls: Vec<Sysctl>,
    /// Why this looks like a container, if it does.
    pub in_container_hint: Option<String>,
}

/// One kernel tunable and whether its value restricts user namespaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sysctl {
    /// Dotted name, as `sysctl` spells it.
    pub name: &'static str,
    /// The trimmed value; `None` when the file does not exist on this kernel.
    pub value: Option<String>,
    /// The value forbids (unprivileged) user namespaces.
    pub restricts: bool,
}

/// The sysctls to read: name and the value that restricts.
const SYSCTLS: &[(&str, &str)] = &[
    // Ubuntu 23.10+: AppArmor denies capabilities inside unprivileged user
    // namespaces unless the program has a profile allowing `userns`.
    ("kernel.apparmor_restrict_unprivileged_userns", "1"),
    // Upstream: the per-user limit; 0 forbids user namespaces entirely.
    ("user.max_user_namespaces", "0"),
    // Debian/Ubuntu (and older Arch) kernel patch: 0 forbids unprivileged use.
    ("kernel.unprivileged_userns_clone", "0"),
];

/// Reads the sysctls, tests user namespaces for real and looks for signs of
/// a container.
pub fn probe_userns() -> UsernsStatus {
    let sysctls = SYSCTLS
        .iter()
        .map(|(name, _)| {
            let path = format!("/proc/sys/{}", name.replace('.', "/"));
            let value = std::fs::read_to_string(path).ok();
            interpret_sysctl(name, value.as_deref())
        })
        .collect();
    let (works, error) = match try_userns() {
        Ok(()) => (true, None),
        Err(e) => (false, Some(e)),
    };
    UsernsStatus {
        works,
        error,
        sysctls,
        in_container_hint: container_hint(),
    }
}

/// A sysctl's value (the file's raw contents) and whether it restricts.
/// Unknown names never restrict.
pub fn interpret_sysctl(name: &'static str, raw: Option<&str>) -> Sysctl {
    let value = raw.map(|v| v.trim().to_owned());
    let restricts = match (SYSCTLS.iter().find(|(n, _)| *n == name), &value) {
        (Some((_, bad)), Some(v)) => v == bad,
        _ => false,
    };
    Sysctl {
        name,
        value,
        restricts,
    }
}

/// `/.dockerenv`, `/run/.containerenv` or `container=` in PID 1's
/// environment; the environment is often unreadable, which is ignored.
fn container_hint() -> Option<String> {
    if Path::new("/.dockerenv").exists() {
        return Some("/.dockerenv exists (docker)".to_owned());
    }
    if Path::new("/run/.containerenv").exists() {
        return Some("/run/.containerenv exists (podman)".to_owned());
    }
    let environ = std::fs::read("/proc/1/environ").ok()?;
    container_from_environ(&environ).map(|c| format!("container={c} in /proc/1/environ"))
}

/// The `container=` value in a NUL-separated environment block.
fn container_from_environ(environ: &[u8]) -> Option<String> {
    environ
        .split(|&b| b == 0)
        .find_map(|var| var.strip_prefix(b"container="))
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

/// The steps the child takes, numbered for its report to the parent.
const STEPS: &[&str] = &[
    "unshare(CLONE_NEWUSER|CLONE_NEWNS)",
    "write /proc/self/setgroups",
    "write /proc/self/uid_map",
    "write /proc/self/gid_map",
];

/// Forks a child that unshares a user and mount namespace and maps the
/// caller's uid and gid to root inside it, as the sandbox will. The child is
/// single-threaded, as `CLONE_NEWUSER` requires, and its namespaces vanish
/// when it exits.
fn try_userns() -> Result<(), String> {
    // Everything the child needs is prepared here, before fork: after fork in
    // a multi-threaded process, the child may only make async-signal-safe
    // calls (no allocation, no locks), so it only uses these buffers and raw
    // syscalls.
    let uid_map = format!("0 {} 1\n", sys::getuid()).into_bytes();
    let gid_map = format!("0 {} 1\n", sys::getgid()).into_bytes();
    let writes: [(&CStr, &[u8]); 3] = [
        (c"/proc/self/setgroups", b"deny"),
        (c"/proc/self/uid_map", &uid_map),
        (c"/proc/self/gid_map", &gid_map),
    ];
    let (read_fd, write_fd) = pipe()?;
    let pid = fork();
    if pid == 0 {
        // Child: async-signal-safe from here to `_exit`.
        child(&writes, write_fd);
    }
    close(write_fd);
    if pid < 0 {
        let errno = sys::errno();
        close(read_fd);
        return Err(format!("fork failed: {}", sys::describe_errno(errno)));
    }
    let mut report = [0_u8; 8];
    let got = read_all(read_fd, &mut report);
    close(read_fd);
    let status = wait(pid)?;
    if libc::WIFSIGNALED(status) {
        return Err(format!(
            "probe child killed by signal {}",
            libc::WTERMSIG(status)
        ));
    }
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        return Ok(());
    }
    if got != report.len() {
        return Err(format!(
            "probe child failed without a report (status {status})"
        ));
    }
    let step = u32::from_ne_bytes([report[0], report[1], report[2], report[3]]) as usize;
    let errno = i32::from_ne_bytes([report[4], report[5], report[6], report[7]]);
    let step = STEPS.get(step).copied().unwrap_or("unknown step");
    Err(format!("{step} failed: {}", sys::describe_errno(errno)))
}

/// The forked child. Async-signal-safe only: raw syscalls on buffers made
/// before fork, a stack array for the report, then `_exit`. On failure it
/// writes (step, errno) to `report_fd` and exits 1.
fn child(writes: &[(&CStr, &[u8]); 3], report_fd: libc::c_int) -> ! {
    let fail = |step: u32| -> ! {
        let errno = sys::errno();
        let mut report = [0_u8; 8];
        report[..4].copy_from_slice(&step.to_ne_bytes());
        report[4..].copy_from_slice(&errno.to_ne_bytes());
        raw_write(report_fd, &report);
        exit(1)
    };
    if unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) != 0 {
        fail(0);
    }
    for (step, (path, data)) in (1_u32..).zip(writes) {
        if !write_file(path, data) {
            fail(step);
        }
    }
    exit(0)
}

/// Opens `path` write-only and writes `data` in one call, as procfs map files
/// require. Async-signal-safe.
fn write_file(path: &CStr, data: &[u8]) -> bool {
    // SAFETY: `path` is a valid NUL-terminated string; open only reads it.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return false;
    }
    let ok = usize::try_from(raw_write(fd, data)).is_ok_and(|n| n == data.len());
    // Keep the write's errno for the report: close would overwrite it.
    let errno = sys::errno();
    close(fd);
    if !ok {
        set_errno(errno);
    }
    ok
}

/// `write(2)` once. Async-signal-safe.
fn raw_write(fd: libc::c_int, data: &[u8]) -> isize {
    // SAFETY: `data` is a valid slice for `data.len()` bytes; write only reads it.
    unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) }
}

/// Restores `errno`. Async-signal-safe.
fn set_errno(errno: i32) {
    // SAFETY: `__errno_location` returns this thread's valid errno slot.
    unsafe { *libc::__errno_location() = errno };
}

/// Reads until `buf` is full or EOF; returns the byte count.
fn read_all(fd: libc::c_int, buf: &mut [u8]) -> usize {
    let mut got = 0;
    while got < buf.len() {
        let rest = &mut buf[got..];
        // SAFETY: `rest` is a valid writable slice of `rest.len()` bytes.
        let n = unsafe { libc::read(fd, rest.as_mut_ptr().cast(), rest.len()) };
        match usize::try_from(n) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(_) if sys::errno() == libc::EINTR => continue,
            Err(_) => break,
        }
    }
    got
}

/// A close-on-exec pipe: (read end, write end).
fn pipe() -> Result<(libc::c_int, libc::c_int), String> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is a valid array of two ints for the kernel to fill.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    if rc != 0 {
        return Err(format!(
            "pipe2 failed: {}",
            sys::describe_errno(sys::errno())
        ));
    }
    Ok((fds[0], fds[1]))
}

/// `fork(2)`: 0 in the child, the child's pid in the parent, -1 on error.
fn fork() -> libc::pid_t {
    // SAFETY: the child only runs `child`, which is async-signal-safe and
    // ends in `_exit`, so it never touches state (locks, allocator) another
    // thread of the parent may have held at the time of the fork.
    unsafe { libc::fork() }
}

/// `unshare(2)`. Async-signal-safe.
fn unshare(flags: libc::c_int) -> libc::c_int {
    // SAFETY: unshare takes only flags and touches no memory of ours.
    unsafe { libc::unshare(flags) }
}

/// `close(2)`, ignoring errors. Async-signal-safe.
fn close(fd: libc::c_int) {
    // SAFETY: `fd` is a descriptor this module opened and closes only once.
    unsafe { libc::close(fd) };
}

/// `_exit(2)`: leaves without running atexit handlers or destructors.
fn exit(code: libc::c_int) -> ! {
    // SAFETY: _exit is async-signal-safe and never returns.
    unsafe { libc::_exit(code) }
}

/// Waits for `pid`, retrying on EINTR; returns the raw wait status.
fn wait(pid: libc::pid_t) -> Result<libc::c_int, String> {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid writable int; `pid` is our own child.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc == pid {
            return Ok(status);
        }
        let errno = sys::errno();
        if errno != libc::EINTR {
            return Err(format!("waitpid failed: {}", sys::describe_errno(errno)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysctls_restrict_only_at_their_restricting_value() {
        let apparmor = "kernel.apparmor_restrict_unprivileged_userns";
        assert!(interpret_sysctl(apparmor, Some("1\n")).restricts);
        assert!(!interpret_sysctl(apparmor, Some("0\n")).restricts);
        assert!(!interpret_sysctl(apparmor, None).restricts);
        assert!(interpret_sysctl("user.max_user_namespaces", Some("0\n")).restricts);
        let max = interpret_sysctl("user.max_user_namespaces", Some("15000\n"));
        assert_eq!(max.value.as_deref(), Some("15000"));
        assert!(!max.restricts);
        assert!(interpret_sysctl("kernel.unprivileged_userns_clone", Some("0")).restricts);
        assert!(!interpret_sysctl("kernel.unprivileged_userns_clone", Some("1")).restricts);
        assert!(!interpret_sysctl("kernel.unknown", Some("0")).restricts);
    }

    #[test]
    fn container_env_is_found_in_pid1_environ() {
        let env = b"PATH=/bin\0container=podman\0HOME=/\0";
        assert_eq!(container_from_environ(env).as_deref(), Some("podman"));
        assert_eq!(container_from_environ(b"PATH=/bin\0xcontainer=no\0"), None);
    }
}
