//! Dropping every capability before the command runs: the bounding set,
//! the ambient set, the effective/permitted/inheritable sets, and the
//! "root gets capabilities on exec" rule (securebits), so a command running
//! as uid 0 inside the sandbox has no capability either.

use std::io;

const SECBIT_NOROOT: libc::c_ulong = 1 << 0;
const SECBIT_NOROOT_LOCKED: libc::c_ulong = 1 << 1;
const SECBIT_NO_SETUID_FIXUP: libc::c_ulong = 1 << 2;
const SECBIT_NO_SETUID_FIXUP_LOCKED: libc::c_ulong = 1 << 3;
const SECBIT_KEEP_CAPS_LOCKED: libc::c_ulong = 1 << 5;
const SECBIT_NO_CAP_AMBIENT_RAISE: libc::c_ulong = 1 << 6;
const SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED: libc::c_ulong = 1 << 7;
/// Highest capability number the kernel may know (CAP_LAST_CAP is 40 in
/// 6.x); dropping unknown ones fails with EINVAL, which ends the loop.
const CAP_MAX: libc::c_ulong = 63;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

const NO_CAPS: CapData = CapData {
    effective: 0,
    permitted: 0,
    inheritable: 0,
};

/// `capget(2)` (fills `data`) or `capset(2)` (applies it) on this thread,
/// with the v3 layout: one header and two data entries.
fn capability_call(call: libc::c_long, data: &mut [CapData; 2]) -> io::Result<()> {
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    // SAFETY: header and data are the v3 layout both calls take (two
    // CapData entries), valid for reads and writes, and outlive the call.
    let rc = unsafe { libc::syscall(call, &mut header as *mut CapHeader, data.as_mut_ptr()) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn prctl(option: libc::c_int, arg: libc::c_ulong) -> io::Result<()> {
    // SAFETY: the prctl options used here take integer arguments only.
    let rc = unsafe {
        libc::prctl(
            option,
            arg,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Drops every capability of the calling thread for good. Must run while
/// the thread still has CAP_SETPCAP (in the sandbox's user namespace).
pub fn drop_all() -> io::Result<()> {
    if holds_none()? {
        // An ordinary user outside a user namespace: no capability to drop,
        // and no right to set securebits (no_new_privs keeps setuid and
        // file capabilities from granting any on exec).
        return Ok(());
    }
    prctl(
        libc::PR_SET_SECUREBITS,
        SECBIT_NOROOT
            | SECBIT_NOROOT_LOCKED
            | SECBIT_NO_SETUID_FIXUP
            | SECBIT_NO_SETUID_FIXUP_LOCKED
            | SECBIT_KEEP_CAPS_LOCKED
            | SECBIT_NO_CAP_AMBIENT_RAISE
            | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
    )?;
    for cap in 0..=CAP_MAX {
        if let Err(e) = prctl(libc::PR_CAPBSET_DROP, cap) {
            if e.raw_os_error() == Some(libc::EINVAL) {
                break; // past the last capability this kernel knows
            }
            return Err(e);
        }
    }
    prctl(
        libc::PR_CAP_AMBIENT,
        libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
    )?;
    let mut none = [NO_CAPS; 2];
    capability_call(libc::SYS_capset, &mut none)
}

/// Whether the thread has no capability at all (effective, permitted,
/// inheritable) and is not root, so dropping has nothing to do.
fn holds_none() -> io::Result<bool> {
    let mut data = [NO_CAPS; 2];
    capability_call(libc::SYS_capget, &mut data)?;
    let empty = data
        .iter()
        .all(|d| d.effective == 0 && d.permitted == 0 && d.inheritable == 0);
    // SAFETY: getuid/geteuid have no preconditions and cannot fail.
    let root = unsafe { libc::getuid() == 0 || libc::geteuid() == 0 };
    Ok(empty && !root)
}

/// Clears the calling thread's effective capabilities; the permitted set
/// stays. From then on the thread reaches files and sockets only as its
/// uid and groups allow, like the command. Capabilities are per thread on
/// Linux, so the process's other threads keep theirs.
pub(crate) fn lower_effective() -> io::Result<()> {
    set_effective(false)
}

/// Makes the calling thread's effective capabilities its permitted ones
/// again (after [`lower_effective`]).
pub(crate) fn raise_effective() -> io::Result<()> {
    set_effective(true)
}

fn set_effective(raised: bool) -> io::Result<()> {
    let mut data = [NO_CAPS; 2];
    capability_call(libc::SYS_capget, &mut data)?;
    for d in &mut data {
        d.effective = if raised { d.permitted } else { 0 };
    }
    capability_call(libc::SYS_capset, &mut data)
}
