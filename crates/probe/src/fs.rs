//! File-system operations: each one is the plain syscall (through std where
//! std adds nothing but error conversion), so the errno is the kernel's.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};

use serde_json::Value;

use crate::errno::{self, check};
use crate::{Args, Failure, Op, Outcome, op};

const MANY: usize = usize::MAX;

pub(crate) const OPS: &[Op] = &[
    op("read", "PATH", 1, 1, read),
    op("write", "PATH DATA", 2, 2, write),
    op("append", "PATH DATA", 2, 2, append),
    op("create-excl", "PATH", 1, 1, create_excl),
    op("mkdir", "PATH", 1, 1, mkdir),
    op("rmdir", "PATH", 1, 1, rmdir),
    op("unlink", "PATH", 1, 1, unlink),
    op("rename", "FROM TO", 2, 2, rename),
    op("link", "FROM TO", 2, 2, link),
    op("symlink", "TARGET LINK", 2, 2, symlink),
    op("readlink", "PATH", 1, 1, readlink),
    op("chmod", "PATH MODE(octal)", 2, 2, chmod),
    op("truncate", "PATH LEN", 2, 2, truncate),
    op("stat", "PATH", 1, 1, stat),
    op("exists", "PATH", 1, 1, exists),
    op("list", "DIR", 1, 1, list),
    op("mknod-char", "PATH", 1, 1, mknod_char),
    op("mkfifo", "PATH", 1, 1, mkfifo),
    op("open-by-handle", "PATH", 1, 1, open_by_handle),
    op("exec", "PATH [ARGS...]", 1, MANY, exec),
];

/// `{"data": <first 64 bytes, lossy UTF-8>}`
fn read(a: &Args) -> Outcome {
    let mut file = fs::File::open(a.path(0))?;
    let mut buf = [0u8; 64];
    let mut len = 0;
    while len < buf.len() {
        match file.read(&mut buf[len..])? {
            0 => break,
            n => len += n,
        }
    }
    let data = String::from_utf8_lossy(&buf[..len]).into_owned();
    Ok(vec![("data", Value::from(data))])
}

/// `open(O_WRONLY|O_CREAT|O_TRUNC, 0644)` then write DATA.
fn write(a: &Args) -> Outcome {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(a.path(0))?;
    file.write_all(a.bytes(1))?;
    Ok(vec![])
}

/// `open(O_WRONLY|O_CREAT|O_APPEND, 0644)` (the shell's `>>`) then write DATA.
fn append(a: &Args) -> Outcome {
    let mut file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o644)
        .open(a.path(0))?;
    file.write_all(a.bytes(1))?;
    Ok(vec![])
}

/// `open(O_WRONLY|O_CREAT|O_EXCL, 0644)`.
fn create_excl(a: &Args) -> Outcome {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(a.path(0))?;
    Ok(vec![])
}

fn mkdir(a: &Args) -> Outcome {
    fs::create_dir(a.path(0))?;
    Ok(vec![])
}

fn rmdir(a: &Args) -> Outcome {
    fs::remove_dir(a.path(0))?;
    Ok(vec![])
}

fn unlink(a: &Args) -> Outcome {
    fs::remove_file(a.path(0))?;
    Ok(vec![])
}

fn rename(a: &Args) -> Outcome {
    fs::rename(a.path(0), a.path(1))?;
    Ok(vec![])
}

/// Hard link FROM at TO (`linkat` without `AT_SYMLINK_FOLLOW`).
fn link(a: &Args) -> Outcome {
    fs::hard_link(a.path(0), a.path(1))?;
    Ok(vec![])
}

/// Creates LINK pointing at TARGET.
fn symlink(a: &Args) -> Outcome {
    std::os::unix::fs::symlink(a.path(0), a.path(1))?;
    Ok(vec![])
}

/// `{"target": ...}`
fn readlink(a: &Args) -> Outcome {
    let target = fs::read_link(a.path(0))?;
    Ok(vec![("target", Value::from(target.to_string_lossy()))])
}

/// `chmod(2)`, following symlinks.
fn chmod(a: &Args) -> Outcome {
    let mode = a.radix(1, 8)? as u32;
    fs::set_permissions(a.path(0), fs::Permissions::from_mode(mode))?;
    Ok(vec![])
}

/// Path-based `truncate(2)` (no open for writing first).
fn truncate(a: &Args) -> Outcome {
    let path = a.cstr(0)?;
    let len: libc::off_t = a.num(1)?;
    // SAFETY: `path` is a valid NUL-terminated string that outlives the call.
    check(unsafe { libc::truncate(path.as_ptr(), len) })?;
    Ok(vec![])
}

/// `stat(2)`, following symlinks: `{"mode": "644" (octal permission bits),
/// "is_dir", "size", "uid"}`.
fn stat(a: &Args) -> Outcome {
    let meta = fs::metadata(a.path(0))?;
    Ok(vec![
        ("mode", Value::from(format!("{:o}", meta.mode() & 0o7777))),
        ("is_dir", Value::from(meta.is_dir())),
        ("size", Value::from(meta.size())),
        ("uid", Value::from(meta.uid())),
    ])
}

/// Always ok: `{"exists": bool}` from `lstat(2)`; when lstat failed with
/// anything but ENOENT, also `"lstat_error"`.
fn exists(a: &Args) -> Outcome {
    match fs::symlink_metadata(a.path(0)) {
        Ok(_) => Ok(vec![("exists", Value::from(true))]),
        Err(err) => {
            let e = errno::from_io(&err);
            let mut fields = vec![("exists", Value::from(false))];
            if e != libc::ENOENT {
                fields.push(("lstat_error", Value::from(errno::name(e))));
            }
            Ok(fields)
        }
    }
}

/// `{"entries": [names, sorted]}`
fn list(a: &Args) -> Outcome {
    let mut entries = Vec::new();
    for entry in fs::read_dir(a.path(0))? {
        entries.push(entry?.file_name().to_string_lossy().into_owned());
    }
    entries.sort();
    Ok(vec![("entries", Value::from(entries))])
}

/// `mknod(PATH, S_IFCHR|0666, 1:3)`: a copy of `/dev/null`.
fn mknod_char(a: &Args) -> Outcome {
    let path = a.cstr(0)?;
    let dev = libc::makedev(1, 3);
    // SAFETY: `path` is a valid NUL-terminated string that outlives the call.
    check(unsafe { libc::mknod(path.as_ptr(), libc::S_IFCHR | 0o666, dev) })?;
    Ok(vec![])
}

fn mkfifo(a: &Args) -> Outcome {
    let path = a.cstr(0)?;
    // SAFETY: `path` is a valid NUL-terminated string that outlives the call.
    check(unsafe { libc::mkfifo(path.as_ptr(), 0o644) })?;
    Ok(vec![])
}

/// `struct file_handle` with room for the largest handle (`MAX_HANDLE_SZ`).
#[repr(C)]
struct FileHandle {
    handle_bytes: u32,
    handle_type: i32,
    f_handle: [u8; 128],
}

/// `name_to_handle_at(PATH)` then `open_by_handle_at("/", handle, O_RDONLY)`.
/// On failure `"stage"` says which of the two was refused.
fn open_by_handle(a: &Args) -> Outcome {
    let path = a.cstr(0)?;
    let mut handle = FileHandle {
        handle_bytes: 128,
        handle_type: 0,
        f_handle: [0; 128],
    };
    let mut mount_id: libc::c_int = 0;
    let stage = |s: &str| vec![("stage", Value::from(s))];
    // SAFETY: `path` is NUL-terminated; `handle` and `mount_id` are live,
    // writable and sized as the kernel expects (handle_bytes = 128).
    let ret = unsafe {
        libc::syscall(
            libc::SYS_name_to_handle_at,
            libc::AT_FDCWD,
            path.as_ptr(),
            &mut handle as *mut FileHandle,
            &mut mount_id as *mut libc::c_int,
            0,
        )
    };
    errno::check_long(ret).map_err(|f| f.with(stage("name_to_handle_at")))?;
    // SAFETY: the path is a valid C string literal.
    let root = unsafe { libc::open(c"/".as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY) };
    let root = check(root).map_err(|f| f.with(stage("open_root")))?;
    // SAFETY: `root` is an open descriptor and `handle` was filled in by the
    // kernel above.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_by_handle_at,
            root,
            &handle as *const FileHandle,
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    errno::close(root);
    let fd = errno::check_long(fd).map_err(|f| f.with(stage("open_by_handle_at")))?;
    errno::close(fd as libc::c_int);
    Ok(vec![])
}

/// `fork` + `execv(PATH, [PATH, ARGS...])` + `waitpid`. The child's stdout
/// goes to stderr so that it cannot corrupt the JSON lines. Fails with the
/// errno of `execv` if it failed; otherwise ok with `"status"` (exit code, or
/// null) and `"signal"` (or null).
fn exec(a: &Args) -> Outcome {
    let mut argv_c = Vec::with_capacity(a.len());
    for i in 0..a.len() {
        argv_c.push(a.cstr(i)?);
    }
    let mut argv: Vec<*const libc::c_char> = argv_c.iter().map(|c| c.as_ptr()).collect();
    argv.push(std::ptr::null());
    let path = argv[0];
    let (pid, exec_errno) = crate::process::fork_with_report(|report| {
        // Async-signal-safe only: dup2, execv, and the report write.
        // SAFETY: `path` and `argv` point into `argv_c`, alive in the child's
        // copy of the address space; argv is NULL-terminated.
        unsafe {
            libc::dup2(2, 1);
            libc::execv(path, argv.as_ptr());
        }
        report.send(errno::last());
    })?;
    let status = crate::process::wait(pid)?;
    if let Some(&e) = exec_errno.first() {
        return Err(Failure::errno(e));
    }
    Ok(crate::process::status_fields(status))
}
