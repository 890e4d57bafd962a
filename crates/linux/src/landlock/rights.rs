//! Landlock filesystem access rights by their UAPI names, the ABI that
//! brought each, and which of them stockade grants for each access level.
//!
//! This table is the only place that knows the mapping; [`super::plan()`]
//! reads it to write a plan and [`super::prepare`] reads it back to turn the
//! names of a plan into kernel bits.

use landlock::{AccessFs, BitFlags, make_bitflags};
use stockade_policy::Access;

/// The newest ABI stockade negotiates (the newest [`crate::probe`] knows).
pub const MAX_ABI: u32 = crate::probe::LANDLOCK_KNOWN_ABI;

/// One Landlock filesystem access right.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FsRight {
    /// The name, as in the kernel UAPI without `LANDLOCK_ACCESS_FS_`, lower case.
    pub name: &'static str,
    /// The first ABI that knows it.
    pub abi: u32,
    /// Whether it means anything on a file that is not a directory.
    pub for_files: bool,
    pub(crate) access: AccessFs,
}

/// Every filesystem right up to [`MAX_ABI`], in kernel bit order
/// (`Documentation/userspace-api/landlock.rst`).
#[rustfmt::skip]
pub const FS_RIGHTS: &[FsRight] = &[
    // Run a file (execve, and mmap with PROT_EXEC of it as a program).
    FsRight { name: "execute", abi: 1, for_files: true, access: AccessFs::Execute },
    // Open a file for writing.
    FsRight { name: "write_file", abi: 1, for_files: true, access: AccessFs::WriteFile },
    // Open a file for reading.
    FsRight { name: "read_file", abi: 1, for_files: true, access: AccessFs::ReadFile },
    // Open a directory or list it.
    FsRight { name: "read_dir", abi: 1, for_files: false, access: AccessFs::ReadDir },
    // Remove (or rename away) an empty directory.
    FsRight { name: "remove_dir", abi: 1, for_files: false, access: AccessFs::RemoveDir },
    // Unlink (or rename away) a file.
    FsRight { name: "remove_file", abi: 1, for_files: false, access: AccessFs::RemoveFile },
    // Create a character device node.
    FsRight { name: "make_char", abi: 1, for_files: false, access: AccessFs::MakeChar },
    // Create a directory.
    FsRight { name: "make_dir", abi: 1, for_files: false, access: AccessFs::MakeDir },
    // Create a regular file.
    FsRight { name: "make_reg", abi: 1, for_files: false, access: AccessFs::MakeReg },
    // Create a named unix socket.
    FsRight { name: "make_sock", abi: 1, for_files: false, access: AccessFs::MakeSock },
    // Create a named pipe.
    FsRight { name: "make_fifo", abi: 1, for_files: false, access: AccessFs::MakeFifo },
    // Create a block device node.
    FsRight { name: "make_block", abi: 1, for_files: false, access: AccessFs::MakeBlock },
    // Create a symbolic link.
    FsRight { name: "make_sym", abi: 1, for_files: false, access: AccessFs::MakeSym },
    // Link or rename a file into another directory (before ABI 2 always denied).
    FsRight { name: "refer", abi: 2, for_files: false, access: AccessFs::Refer },
    // Truncate a file (truncate, ftruncate, O_TRUNC).
    FsRight { name: "truncate", abi: 3, for_files: true, access: AccessFs::Truncate },
    // ioctl on a character or block device opened after restriction.
    FsRight { name: "ioctl_dev", abi: 5, for_files: true, access: AccessFs::IoctlDev },
];

/// What a `read` rule grants on its path and everything beneath it.
///
/// - `read_file`, `read_dir`: reading is what the level says.
/// - `execute`: readable programs must run (`:minimal` and `:root` are
///   `read`); withholding it would only stop `execve`, not `cat prog | sh`.
///
/// Not `ioctl_dev`: an ioctl is not a read. Through a descriptor opened for
/// reading, device ioctls change state (terminal modes, ejecting media,
/// grabbing input devices), so `read` must not imply them. Terminals still
/// work: descriptors inherited from before `restrict_self` keep every right,
/// and the device rules below grant `ioctl_dev` on `/dev/tty`, `/dev/ptmx`
/// and `/dev/pts`.
pub(crate) const READ: BitFlags<AccessFs> =
    make_bitflags!(AccessFs::{Execute | ReadFile | ReadDir});

/// What a `write` rule grants: everything [`READ`] does, and
///
/// - `write_file`, `truncate` (ABI 3): change files' contents;
/// - `remove_dir`, `remove_file`: delete entries;
/// - `make_dir`, `make_reg`, `make_sock`, `make_fifo`, `make_sym`: create
///   directories, files, unix sockets (servers, ssh control sockets), named
///   pipes and symlinks, as build tools do;
/// - `refer` (ABI 2): rename and link into another directory (`mv a/x b/`,
///   atomic saves through a temporary directory). Landlock allows it only
///   when the destination grants no more than the source, so it cannot carry
///   a file out of a writable root into a place with other rights;
/// - `ioctl_dev` (ABI 5): a write rule on a device directory (`/dev/dri`,
///   `/dev/kvm`) is how a policy grants a device, and using one takes ioctls.
///   Elsewhere no device can be reached through it: nothing may create one.
///
/// Never `make_char` or `make_block`: device nodes give raw access to
/// hardware or kernel memory whatever the file permissions say. Since every
/// right is handled, they are denied everywhere.
pub(crate) const WRITE: BitFlags<AccessFs> = make_bitflags!(AccessFs::{
    Execute | ReadFile | ReadDir
    | WriteFile | Truncate
    | RemoveDir | RemoveFile
    | MakeDir | MakeReg | MakeSock | MakeFifo | MakeSym
    | Refer | IoctlDev
});

/// What the always-mounted device files get, whatever the profile:
/// `read_file` and `write_file` (`> /dev/null`, reading random bytes,
/// talking to a terminal) and `ioctl_dev` (ABI 5; terminal modes, window
/// size, pseudo-terminal allocation through `/dev/ptmx`).
pub(crate) const DEVICE: BitFlags<AccessFs> =
    make_bitflags!(AccessFs::{ReadFile | WriteFile | IoctlDev});

/// What the sandbox's own `/proc` gets: `read_file`, `read_dir` (`ps`,
/// `/proc/self/...`, `/proc/cpuinfo`). No `write_file`: nothing under
/// `/proc` needs writing by an ordinary command, and much there is a kernel
/// knob. Running `/proc/self/exe` needs no `execute` here: Landlock checks
/// the program where it really lives.
pub(crate) const PROC: BitFlags<AccessFs> = make_bitflags!(AccessFs::{ReadFile | ReadDir});

/// The rights that mean anything on a file that is not a directory.
pub(crate) fn file_rights() -> BitFlags<AccessFs> {
    FS_RIGHTS
        .iter()
        .filter(|r| r.for_files)
        .fold(BitFlags::EMPTY, |set, r| set | r.access)
}

/// Every right that `abi` knows (clamped to [`MAX_ABI`]).
pub(crate) fn known_at(abi: u32) -> BitFlags<AccessFs> {
    FS_RIGHTS
        .iter()
        .filter(|r| r.abi <= abi)
        .fold(BitFlags::EMPTY, |set, r| set | r.access)
}

/// The names of the rights in `set` that `abi` knows, in kernel bit order.
pub(crate) fn names(set: BitFlags<AccessFs>, abi: u32) -> Vec<&'static str> {
    FS_RIGHTS
        .iter()
        .filter(|r| r.abi <= abi && set.contains(r.access))
        .map(|r| r.name)
        .collect()
}

/// The right called `name`.
pub(crate) fn by_name(name: &str) -> Option<&'static FsRight> {
    FS_RIGHTS.iter().find(|r| r.name == name)
}

/// The rights a rule of `access` grants.
pub(crate) fn for_access(access: Access) -> BitFlags<AccessFs> {
    match access {
        Access::None => BitFlags::EMPTY,
        Access::Read => READ,
        Access::Write => WRITE,
    }
}

/// Every filesystem right that `abi` knows, by name: what a ruleset for
/// `abi` handles. Empty for ABI 0.
pub fn handled_fs(abi: u32) -> Vec<&'static str> {
    names(known_at(abi), abi)
}

/// The rights a rule of `access` grants at `abi`, by name (empty for `none`:
/// Landlock only allows, so `none` is the absence of a rule).
pub fn rights_for(access: Access, abi: u32) -> Vec<&'static str> {
    names(for_access(access), abi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_kernel_bit_order_and_names_the_uapi_bits() {
        let bits: Vec<u64> = FS_RIGHTS.iter().map(|r| r.access as u64).collect();
        let expected: Vec<u64> = (0..FS_RIGHTS.len() as u32).map(|i| 1 << i).collect();
        assert_eq!(bits, expected);
        assert!(FS_RIGHTS.windows(2).all(|w| w[0].abi <= w[1].abi));
    }

    #[test]
    fn file_rights_match_what_the_kernel_accepts_on_files() {
        assert_eq!(
            names(file_rights(), MAX_ABI),
            [
                "execute",
                "write_file",
                "read_file",
                "truncate",
                "ioctl_dev"
            ]
        );
    }

    #[test]
    fn no_level_grants_device_creation() {
        for set in [READ, WRITE, DEVICE, PROC] {
            assert!(!set.intersects(AccessFs::MakeChar | AccessFs::MakeBlock));
        }
    }

    #[test]
    fn write_is_read_and_more() {
        assert!(WRITE.contains(READ));
        assert!(!READ.contains(AccessFs::IoctlDev));
        assert!(rights_for(Access::None, MAX_ABI).is_empty());
    }
}
