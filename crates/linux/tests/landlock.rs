//! Landlock enforced for real. The test process prepares a ruleset, forks,
//! and the child restricts itself with it (as the backend's final child
//! does), then tries operations and reports their errnos through a pipe.
//! Every forbidden operation sits next to an allowed twin, and the same
//! operations run unrestricted on a twin tree to show that what fails is
//! Landlock's doing, not file permissions'.
//!
//! Tests that need Landlock print a skip reason and pass when it is absent,
//! unless `STOCKADE_TEST_MUST_ENFORCE=1`, which makes them fail. They pass as
//! root and as an unprivileged user.
#![cfg(target_os = "linux")]

use std::ffi::{CStr, CString};
use std::fs::File;
use std::io::Read;
use std::os::fd::FromRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use stockade_linux::landlock::{
    LandlockError, LandlockPlan, MAX_ABI, PathRule, PreparedRuleset, handled_fs, prepare,
    restrict_self, rights_for, system_rules,
};
use stockade_linux::probe::probe_landlock;
use stockade_policy::Access;

/// The kernel's Landlock ABI when there is one; otherwise prints why the
/// test skips, or panics when `STOCKADE_TEST_MUST_ENFORCE=1`.
fn kernel_abi() -> Option<u32> {
    let status = probe_landlock();
    match status.abi {
        Some(abi) if abi >= 1 => Some(abi),
        _ if std::env::var("STOCKADE_TEST_MUST_ENFORCE").as_deref() == Ok("1") => {
            panic!(
                "landlock is required (STOCKADE_TEST_MUST_ENFORCE=1): {}",
                status.detail
            )
        }
        _ => {
            eprintln!("skipping: landlock is not available: {}", status.detail);
            None
        }
    }
}

/// A temporary directory this user can write, canonical.
fn temp_root() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .or_else(|_| tempfile::tempdir())
        .expect("a temporary directory");
    let root = std::fs::canonicalize(dir.path()).unwrap();
    (dir, root)
}

/// Builds the test tree under `root`: `ro/`, `rw/`, `hidden/` and files
/// outside every rule. Copies `/bin/true` into `ro/` and `hidden/` when it
/// can; returns whether programs run from there (the file system may be
/// mounted `noexec`).
fn build_tree(root: &Path) -> bool {
    for dir in ["ro", "rw/sub", "hidden"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    for (file, text) in [
        ("outside.txt", "outside"),
        ("outside-allowed.txt", "allowed"),
        ("ro/file", "ro"),
        ("ro/doomed", "kept"),
        ("rw/file", "rw"),
        ("rw/a", "a"),
        ("rw/c", "c"),
        ("rw/d", "d"),
        ("rw/gone", "gone"),
        ("hidden/secret", "secret"),
    ] {
        std::fs::write(root.join(file), text).unwrap();
    }
    let Some(true_bin) = ["/bin/true", "/usr/bin/true"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.exists())
    else {
        return false;
    };
    for dir in ["ro", "hidden"] {
        std::fs::copy(true_bin, root.join(dir).join("true")).unwrap();
    }
    // A child another test thread forks while the copy is open for writing
    // holds it open until it exits: the exec then fails with ETXTBSY for a
    // moment. That says nothing about `noexec`; try again.
    for _ in 0..50 {
        match std::process::Command::new(root.join("ro/true")).status() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            result => return result.is_ok_and(|s| s.success()),
        }
    }
    false
}

/// What an operation should give.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// Success (exit status 0 for programs).
    Ok,
    /// This errno.
    Errno(i32),
    /// One of two errnos.
    OneOf(i32, i32),
    /// Anything (no claim without Landlock, e.g. mknod needs privileges).
    Any,
}

impl Expect {
    fn accepts(self, got: i32) -> bool {
        match self {
            Expect::Ok => got == 0,
            Expect::Errno(e) => got == e,
            Expect::OneOf(a, b) => got == a || got == b,
            Expect::Any => true,
        }
    }
}

/// An operation the child tries. Paths are prepared before `fork`.
enum Op {
    Open(CString, libc::c_int),
    Mkdir(CString),
    Unlink(CString),
    Symlink(CString),
    Rename(CString, CString),
    Mknod(CString, libc::mode_t, libc::dev_t),
    Truncate(CString),
    Exec(CString),
    IoctlTcgets(CString),
    KillParent,
    KillSelf,
}

struct Case {
    name: &'static str,
    op: Op,
    /// Under Landlock.
    expect: Expect,
    /// Without it, on the twin tree.
    unrestricted: Expect,
}

fn c(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).unwrap()
}

/// The operations, with paths under `root`, for a kernel at `abi`.
fn cases(root: &Path, abi: u32, exec: bool) -> Vec<Case> {
    use Expect::{Errno, Ok, OneOf};
    use libc::{EACCES, ENOTTY, EPERM, EXDEV, O_CREAT, O_DIRECTORY, O_RDONLY, O_WRONLY};
    let p = |rel: &str| c(&root.join(rel));
    let abs = |path: &str| c(Path::new(path));
    let case = |name, op, expect| Case {
        name,
        op,
        expect,
        unrestricted: Ok,
    };
    let mut cases = vec![
        case("read rw/file", Op::Open(p("rw/file"), O_RDONLY), Ok),
        case("read ro/file", Op::Open(p("ro/file"), O_RDONLY), Ok),
        case(
            "read hidden/secret",
            Op::Open(p("hidden/secret"), O_RDONLY),
            Errno(EACCES),
        ),
        case(
            "read a file with its own rule",
            Op::Open(p("outside-allowed.txt"), O_RDONLY),
            Ok,
        ),
        case(
            "read a file outside every rule",
            Op::Open(p("outside.txt"), O_RDONLY),
            Errno(EACCES),
        ),
        case("list rw/", Op::Open(p("rw"), O_RDONLY | O_DIRECTORY), Ok),
        case(
            "list hidden/",
            Op::Open(p("hidden"), O_RDONLY | O_DIRECTORY),
            Errno(EACCES),
        ),
        case(
            "list the tree's root",
            Op::Open(p(""), O_RDONLY | O_DIRECTORY),
            Errno(EACCES),
        ),
        case("write rw/file", Op::Open(p("rw/file"), O_WRONLY), Ok),
        case(
            "write ro/file",
            Op::Open(p("ro/file"), O_WRONLY),
            Errno(EACCES),
        ),
        case("create rw/x", Op::Open(p("rw/x"), O_WRONLY | O_CREAT), Ok),
        case(
            "create ro/x",
            Op::Open(p("ro/x"), O_WRONLY | O_CREAT),
            Errno(EACCES),
        ),
        case(
            "create hidden/x",
            Op::Open(p("hidden/x"), O_WRONLY | O_CREAT),
            Errno(EACCES),
        ),
        case("mkdir rw/dir", Op::Mkdir(p("rw/dir")), Ok),
        case("mkdir ro/dir", Op::Mkdir(p("ro/dir")), Errno(EACCES)),
        case("unlink rw/gone", Op::Unlink(p("rw/gone")), Ok),
        case(
            "unlink ro/doomed",
            Op::Unlink(p("ro/doomed")),
            Errno(EACCES),
        ),
        case("symlink in rw/", Op::Symlink(p("rw/link")), Ok),
        case("symlink in ro/", Op::Symlink(p("ro/link")), Errno(EACCES)),
        case("rename within rw/", Op::Rename(p("rw/a"), p("rw/b")), Ok),
        case(
            "rename rw/c into rw/sub/",
            Op::Rename(p("rw/c"), p("rw/sub/c")),
            // Before ABI 2 Landlock refuses every cross-directory rename.
            if abi >= 2 { Ok } else { Errno(EXDEV) },
        ),
        case(
            "rename rw/d into ro/",
            Op::Rename(p("rw/d"), p("ro/d")),
            OneOf(EXDEV, EACCES),
        ),
        case(
            "make a fifo in rw/",
            Op::Mknod(p("rw/fifo"), libc::S_IFIFO | 0o600, 0),
            Ok,
        ),
        Case {
            name: "make a character device in rw/",
            op: Op::Mknod(p("rw/null"), libc::S_IFCHR | 0o600, libc::makedev(1, 3)),
            // Landlock's check comes before the capability check.
            expect: Errno(EACCES),
            unrestricted: Expect::Any,
        },
        case("truncate rw/file", Op::Truncate(p("rw/file")), Ok),
        case("write /dev/null", Op::Open(abs("/dev/null"), O_WRONLY), Ok),
        case(
            "read /proc/self/status",
            Op::Open(abs("/proc/self/status"), O_RDONLY),
            Ok,
        ),
        case(
            "write /proc/self/comm",
            Op::Open(abs("/proc/self/comm"), O_WRONLY),
            Errno(EACCES),
        ),
        case("signal itself", Op::KillSelf, Ok),
        case(
            "signal the parent outside the domain",
            Op::KillParent,
            if abi >= 6 { Errno(EPERM) } else { Ok },
        ),
    ];
    if abi >= 3 {
        cases.push(case(
            "truncate ro/file",
            Op::Truncate(p("ro/file")),
            Errno(EACCES),
        ));
    }
    if Path::new("/dev/full").exists() {
        cases.push(Case {
            name: "ioctl on /dev/null (device rule)",
            op: Op::IoctlTcgets(abs("/dev/null")),
            expect: Errno(ENOTTY),
            unrestricted: Errno(ENOTTY),
        });
        cases.push(case(
            "write /dev/full (read rule)",
            Op::Open(abs("/dev/full"), O_WRONLY),
            Errno(EACCES),
        ));
        cases.push(Case {
            name: "ioctl on /dev/full (read rule)",
            op: Op::IoctlTcgets(abs("/dev/full")),
            expect: if abi >= 5 {
                Errno(EACCES)
            } else {
                Errno(ENOTTY)
            },
            unrestricted: Errno(ENOTTY),
        });
    } else {
        eprintln!("note: no /dev/full; its cases are left out");
    }
    if exec {
        cases.push(case("run ro/true", Op::Exec(p("ro/true")), Ok));
        cases.push(case(
            "run hidden/true",
            Op::Exec(p("hidden/true")),
            Errno(EACCES),
        ));
    } else {
        eprintln!(
            "note: programs cannot run from {}; exec cases are left out",
            root.display()
        );
    }
    cases
}

/// The plan for the tree under `root`: read on the system directories a
/// program needs, `ro/` read, `rw/` write, nothing on `hidden/`.
fn tree_plan(root: &Path, abi: u32) -> LandlockPlan {
    let rule = |path: PathBuf, access| PathRule {
        path,
        rights: rights_for(access, abi),
        why: "test".into(),
    };
    let mut rules = system_rules(abi);
    for dir in ["/usr", "/bin", "/lib", "/lib32", "/lib64", "/etc"] {
        rules.push(rule(dir.into(), Access::Read));
    }
    rules.push(rule(root.join("ro"), Access::Read));
    rules.push(rule(root.join("rw"), Access::Write));
    rules.push(rule(root.join("outside-allowed.txt"), Access::Read));
    rules.push(rule(root.join("missing"), Access::Read));
    rules.push(rule("/dev/full".into(), Access::Read));
    LandlockPlan {
        abi,
        handled_fs: handled_fs(abi),
        rules,
        scope_abstract_unix_socket: abi >= 6,
        scope_signal: abi >= 6,
        tcp: None,
    }
}

const MAX_CASES: usize = 64;

/// Forks; the child restricts itself with `prepared` (when given), checks
/// the report against `abi` and `skipped`, runs `cases` and sends back
/// `[report check, errno of each case]`.
fn run_in_child(
    prepared: Option<PreparedRuleset>,
    abi: u32,
    skipped: &[PathBuf],
    cases: &[Case],
) -> Vec<i32> {
    assert!(cases.len() <= MAX_CASES);
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    let [read_end, write_end] = fds;
    // SAFETY: the child runs only `child`, which makes system calls and
    // neither allocates, frees, locks nor panics, then `_exit`s.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        child(prepared, abi, skipped, cases, write_end);
    }
    drop(prepared);
    // SAFETY: `write_end` is ours and not used again.
    unsafe { libc::close(write_end) };
    let mut status = 0;
    // SAFETY: `pid` is our child; `status` is a valid out-pointer.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child failed: wait status {status:#x}"
    );
    // SAFETY: `read_end` is an open pipe descriptor that only this File owns.
    let mut pipe = unsafe { File::from_raw_fd(read_end) };
    let mut bytes = vec![0; 4 * (cases.len() + 1)];
    pipe.read_exact(&mut bytes).expect("the child's results");
    bytes
        .chunks_exact(4)
        .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// The child. Async-signal-safe: system calls only, then `_exit`.
fn child(
    prepared: Option<PreparedRuleset>,
    abi: u32,
    skipped: &[PathBuf],
    cases: &[Case],
    out: libc::c_int,
) -> ! {
    let mut results = [0_i32; MAX_CASES + 1];
    if let Some(prepared) = prepared {
        results[0] = match restrict_self(prepared) {
            Ok(report) => {
                let fine = report.status == "fully_enforced"
                    && report.abi == abi
                    && report.skipped_paths == skipped;
                // Freeing could take a lock another thread held at fork.
                std::mem::forget(report);
                if fine { 0 } else { 1 }
            }
            Err(error) => {
                std::mem::forget(error);
                2
            }
        };
    }
    for (slot, case) in results[1..].iter_mut().zip(cases) {
        *slot = run(&case.op);
    }
    let mut bytes = [0_u8; 4 * (MAX_CASES + 1)];
    for (chunk, value) in bytes.chunks_exact_mut(4).zip(results) {
        chunk.copy_from_slice(&value.to_ne_bytes());
    }
    let len = 4 * (cases.len() + 1);
    // SAFETY: `bytes[..len]` is initialised; `out` is the pipe's write end.
    let written = unsafe { libc::write(out, bytes.as_ptr().cast(), len) };
    let code = if written == len as isize { 0 } else { 3 };
    // SAFETY: ends the child without running the parent's exit handlers.
    unsafe { libc::_exit(code) }
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// 0 when `rc` says success, the errno otherwise.
fn check(rc: libc::c_int) -> i32 {
    if rc < 0 { errno() } else { 0 }
}

/// Runs one operation; 0 or the errno (for programs, the exit status).
///
/// Every `unsafe` block below passes paths that are NUL-terminated C strings
/// living until the call returns, and closes the descriptors it opens.
fn run(op: &Op) -> i32 {
    match op {
        Op::Open(path, flags) => {
            // SAFETY: see above.
            let fd = unsafe { libc::open(path.as_ptr(), flags | libc::O_CLOEXEC, 0o600) };
            if fd < 0 {
                return errno();
            }
            // SAFETY: `fd` was opened above and is not used again.
            unsafe { libc::close(fd) };
            0
        }
        // SAFETY: see above.
        Op::Mkdir(path) => check(unsafe { libc::mkdir(path.as_ptr(), 0o700) }),
        // SAFETY: see above.
        Op::Unlink(path) => check(unsafe { libc::unlink(path.as_ptr()) }),
        // SAFETY: see above.
        Op::Symlink(link) => check(unsafe { libc::symlink(c"target".as_ptr(), link.as_ptr()) }),
        // SAFETY: see above.
        Op::Rename(from, to) => check(unsafe { libc::rename(from.as_ptr(), to.as_ptr()) }),
        // SAFETY: see above.
        Op::Mknod(path, mode, dev) => check(unsafe { libc::mknod(path.as_ptr(), *mode, *dev) }),
        // SAFETY: see above.
        Op::Truncate(path) => check(unsafe { libc::truncate(path.as_ptr(), 0) }),
        Op::Exec(path) => exec(path),
        Op::IoctlTcgets(path) => {
            // SAFETY: see above.
            let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
            if fd < 0 {
                return errno();
            }
            let mut termios = std::mem::MaybeUninit::<libc::termios>::uninit();
            // SAFETY: TCGETS writes at most one `termios` to the pointer.
            let result = check(unsafe { libc::ioctl(fd, libc::TCGETS, termios.as_mut_ptr()) });
            // SAFETY: `fd` was opened above and is not used again.
            unsafe { libc::close(fd) };
            result
        }
        // SAFETY: kill with signal 0 only checks permission; no pointers.
        Op::KillParent => check(unsafe { libc::kill(libc::getppid(), 0) }),
        // SAFETY: as above.
        Op::KillSelf => check(unsafe { libc::kill(libc::getpid(), 0) }),
    }
}

/// Runs `path` in a grandchild with an empty environment; its exit status,
/// or the errno `execve` failed with.
fn exec(path: &CStr) -> i32 {
    let argv = [path.as_ptr(), std::ptr::null()];
    let envp: [*const libc::c_char; 1] = [std::ptr::null()];
    // SAFETY: called in the single-threaded child; the grandchild only
    // calls execve and _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: argv and envp are NULL-terminated arrays of C strings that
        // live until execve replaces the process.
        unsafe {
            libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr());
            libc::_exit(errno());
        }
    }
    if pid < 0 {
        return errno();
    }
    let mut status = 0;
    // SAFETY: `pid` is our child; `status` is a valid out-pointer.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        1000
    }
}

fn describe(errno: i32) -> String {
    if errno == 0 {
        "success".into()
    } else {
        std::io::Error::from_raw_os_error(errno).to_string()
    }
}

/// Checks `results` against each case's expectation; panics listing every
/// mismatch.
fn assert_results(what: &str, cases: &[Case], results: &[i32], pick: fn(&Case) -> Expect) {
    let mut wrong = Vec::new();
    for (case, &got) in cases.iter().zip(results) {
        let expect = pick(case);
        let verdict = if expect.accepts(got) { "ok " } else { "BAD" };
        println!("{what}: {verdict} {:<40} {}", case.name, describe(got));
        if !expect.accepts(got) {
            wrong.push(format!(
                "{}: expected {expect:?}, got {}",
                case.name,
                describe(got)
            ));
        }
    }
    assert!(wrong.is_empty(), "{what}:\n  {}", wrong.join("\n  "));
}

/// Enforces the tree plan at `abi` in a child and checks every case, then
/// runs the same cases unrestricted on a twin tree.
fn enforce_at(abi: u32) {
    let (_dir, base) = temp_root();
    let (sandboxed, unrestricted) = (base.join("sandboxed"), base.join("unrestricted"));
    // Both trees always (no short circuit): the control run needs its own.
    let exec = build_tree(&sandboxed) & build_tree(&unrestricted);

    let plan = tree_plan(&sandboxed, abi);
    let skipped: Vec<PathBuf> = plan
        .rules
        .iter()
        .filter(|r| !r.path.exists())
        .map(|r| r.path.clone())
        .collect();
    assert!(skipped.contains(&sandboxed.join("missing")));
    let prepared = prepare(&plan).expect("prepare");
    assert_eq!(prepared.skipped_paths(), skipped.as_slice());
    assert_eq!(prepared.abi(), abi);

    let cases = cases(&sandboxed, abi, exec);
    let results = run_in_child(Some(prepared), abi, &skipped, &cases);
    assert_eq!(
        results[0], 0,
        "restrict_self failed or reported something else than fully_enforced at ABI {abi} with {skipped:?} skipped"
    );
    assert_results(&format!("landlock ABI {abi}"), &cases, &results[1..], |c| {
        c.expect
    });

    // The same operations without Landlock succeed: what failed above was
    // Landlock's doing, not file permissions'.
    let control = self::cases(&unrestricted, abi, exec);
    let results = run_in_child(None, abi, &[], &control);
    assert_results("without landlock", &control, &results[1..], |c| {
        c.unrestricted
    });
}

#[test]
fn the_child_can_do_what_the_plan_grants_and_nothing_else() {
    let Some(kernel) = kernel_abi() else { return };
    enforce_at(kernel.min(MAX_ABI));
}

/// A kernel enforces a plan for an older ABI exactly as that ABI would:
/// what the older ABI cannot control stays allowed, nothing more is denied.
#[test]
fn plans_for_older_abis_enforce_what_those_abis_know() {
    let Some(kernel) = kernel_abi() else { return };
    for abi in 1..kernel.min(MAX_ABI) {
        enforce_at(abi);
    }
}

#[test]
fn prepare_skips_missing_paths_and_gives_files_only_file_rights() {
    let Some(kernel) = kernel_abi() else { return };
    let abi = kernel.min(MAX_ABI);
    let (_dir, root) = temp_root();
    std::fs::write(root.join("file"), "x").unwrap();
    let rule = |path: PathBuf, rights: Vec<&'static str>| PathRule {
        path,
        rights,
        why: "test".into(),
    };
    let plan = LandlockPlan {
        abi,
        handled_fs: handled_fs(abi),
        rules: vec![
            rule(root.join("file"), rights_for(Access::Write, abi)),
            rule(root.join("no/such/dir"), rights_for(Access::Read, abi)),
            rule(
                root.join("file/below-a-file"),
                rights_for(Access::Read, abi),
            ),
            rule(root.join("file"), vec!["read_dir"]),
        ],
        scope_abstract_unix_socket: false,
        scope_signal: false,
        tcp: None,
    };
    let prepared = prepare(&plan).expect("directory rights on a file are trimmed, not refused");
    assert_eq!(
        prepared.skipped_paths(),
        [
            root.join("no/such/dir"),
            root.join("file/below-a-file"),
            root.join("file"),
        ]
    );
}

#[test]
fn an_invalid_plan_is_refused_before_the_kernel_is_asked() {
    let plan = LandlockPlan {
        abi: 3,
        handled_fs: handled_fs(3),
        rules: vec![PathRule {
            path: "/usr".into(),
            rights: vec!["read_file", "ioctl_dev"],
            why: "test".into(),
        }],
        scope_abstract_unix_socket: false,
        scope_signal: false,
        tcp: None,
    };
    let err = prepare(&plan).unwrap_err();
    assert!(
        matches!(
            err,
            LandlockError::NeedsNewerAbi {
                what: "ioctl_dev",
                needs: 5,
                abi: 3
            }
        ),
        "{err}"
    );
    let mut plan = plan;
    plan.abi = 0;
    assert!(matches!(
        prepare(&plan).unwrap_err(),
        LandlockError::InvalidAbi { abi: 0 }
    ));
}

#[test]
fn a_plan_newer_than_the_kernel_is_refused() {
    let Some(kernel) = kernel_abi() else { return };
    if kernel >= MAX_ABI {
        eprintln!("skipping: this kernel (ABI {kernel}) has every ABI a plan can ask for");
        return;
    }
    let abi = kernel + 1;
    let plan = LandlockPlan {
        abi,
        handled_fs: handled_fs(abi),
        rules: Vec::new(),
        scope_abstract_unix_socket: abi >= 6,
        scope_signal: abi >= 6,
        tcp: None,
    };
    let err = prepare(&plan).unwrap_err();
    assert!(matches!(err, LandlockError::KernelTooOld { .. }), "{err}");
    assert!(
        err.to_string().contains("hint: run 'stockade check'"),
        "{err}"
    );
}
