//! The environment and identity the sandbox hands the probe: variables
//! (names only, never values, for the whole environment), other processes'
//! environments, working directory, ids, terminals.

use std::io::Read;

use serde_json::Value;

use crate::{Args, Op, Outcome, op};

pub(crate) const OPS: &[Op] = &[
    op("env", "NAME", 1, 1, env),
    op("environ", "", 0, 0, environ),
    op("read-environ", "PID|self", 1, 1, read_environ),
    op("cwd", "", 0, 0, cwd),
    op("uid", "", 0, 0, uid),
    op("tty", "", 0, 0, tty),
];

/// Always ok: `{"value": string or null}`.
fn env(a: &Args) -> Outcome {
    let value = std::env::var_os(a.os(0)).map(|v| v.to_string_lossy().into_owned());
    Ok(vec![("value", Value::from(value))])
}

/// `{"entries": [variable names, sorted]}`; values are never printed.
fn environ(_: &Args) -> Outcome {
    let mut names: Vec<String> = std::env::vars_os()
        .map(|(name, _)| name.to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(vec![("entries", Value::from(names))])
}

/// Opens and reads `/proc/PID/environ` to the end; reports only whether that
/// worked, never the contents.
fn read_environ(a: &Args) -> Outcome {
    let path = std::path::Path::new("/proc").join(a.os(0)).join("environ");
    let mut contents = Vec::new();
    std::fs::File::open(path)?.read_to_end(&mut contents)?;
    Ok(vec![])
}

/// `{"path"}`
fn cwd(_: &Args) -> Outcome {
    let path = std::env::current_dir()?;
    Ok(vec![("path", Value::from(path.to_string_lossy()))])
}

/// `{"uid", "gid", "euid", "egid"}`
fn uid(_: &Args) -> Outcome {
    // SAFETY: the id getters cannot fail and take no arguments.
    let (uid, gid, euid, egid) = unsafe {
        (
            libc::getuid(),
            libc::getgid(),
            libc::geteuid(),
            libc::getegid(),
        )
    };
    Ok(vec![
        ("uid", Value::from(uid)),
        ("gid", Value::from(gid)),
        ("euid", Value::from(euid)),
        ("egid", Value::from(egid)),
    ])
}

/// `{"stdin", "stdout", "stderr"}`: whether each is a terminal.
fn tty(_: &Args) -> Outcome {
    // SAFETY: isatty takes no pointers; a bad descriptor just returns 0.
    let isatty = |fd| unsafe { libc::isatty(fd) } == 1;
    Ok(vec![
        ("stdin", Value::from(isatty(0))),
        ("stdout", Value::from(isatty(1))),
        ("stderr", Value::from(isatty(2))),
    ])
}
