//! Pseudo-terminals for sessions and `stockade shell`: the caller keeps the
//! master, the sandboxed command gets the slave as its stdio and its
//! controlling terminal. The command can only ever type into its own
//! terminal: the seccomp filter refuses `TIOCSTI` and `TIOCLINUX`, and the
//! slave is a new terminal, not the caller's.

use serde::{Deserialize, Serialize};
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use tokio::io::unix::AsyncFd;

/// A terminal's size in characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowSize {
    pub rows: u16,
    pub cols: u16,
}

impl Default for WindowSize {
    fn default() -> Self {
        WindowSize { rows: 24, cols: 80 }
    }
}

/// A new PTY: the master (the caller's end) and the slave (the command's).
#[derive(Debug)]
pub struct Pty {
    pub master: OwnedFd,
    pub slave: OwnedFd,
}

/// Opens a PTY of `size`.
pub fn open(size: WindowSize) -> io::Result<Pty> {
    use rustix::fs::{Mode, OFlags};
    use rustix::pty::OpenptFlags;
    let master =
        rustix::pty::openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
    rustix::pty::grantpt(&master)?;
    rustix::pty::unlockpt(&master)?;
    let name = rustix::pty::ptsname(&master, Vec::new())?;
    let slave = rustix::fs::open(
        name.as_c_str(),
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    resize(&master, size)?;
    Ok(Pty { master, slave })
}

/// Sets the terminal's size (the command gets `SIGWINCH`).
pub fn resize(fd: impl AsFd, size: WindowSize) -> io::Result<()> {
    let winsize = rustix::termios::Winsize {
        ws_row: size.rows,
        ws_col: size.cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    rustix::termios::tcsetwinsize(fd, winsize)?;
    Ok(())
}

/// Sends `signal` to the terminal's foreground process group, as the
/// terminal itself does for `^C`.
pub fn signal_foreground(master: impl AsFd, signal: i32) -> io::Result<()> {
    // SAFETY: TIOCSIG takes the signal number as its integer argument.
    let r = unsafe {
        libc::ioctl(
            master.as_fd().as_raw_fd(),
            libc::TIOCSIG,
            signal as libc::c_ulong,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The master end, for async reads and writes.
#[derive(Debug)]
pub struct Master {
    fd: AsyncFd<OwnedFd>,
}

impl Master {
    /// Wraps the master (made non-blocking). Needs a tokio runtime.
    pub fn new(master: OwnedFd) -> io::Result<Master> {
        rustix::io::ioctl_fionbio(&master, true)?;
        // SAFETY: the AsyncFd owns the OwnedFd, which stays open and keeps
        // its number until the AsyncFd is dropped.
        let fd = unsafe { AsyncFd::register(master) }?;
        Ok(Master { fd })
    }

    /// Reads what the command wrote; `Ok(0)` once every slave is closed
    /// (the kernel's `EIO` on a hung-up terminal).
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut guard = self.fd.readable().await?;
            match guard.try_io(|fd| Ok(rustix::io::read(fd, &mut *buf)?)) {
                Ok(Ok(n)) => return Ok(n),
                Ok(Err(e)) if e.raw_os_error() == Some(libc::EIO) => return Ok(0),
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
    }

    /// Writes all of `data` (the command's input, as typed).
    pub async fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let mut guard = self.fd.writable().await?;
            match guard.try_io(|fd| Ok(rustix::io::write(fd, data)?)) {
                Ok(Ok(n)) => data = &data[n..],
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
        Ok(())
    }

    /// The terminal's size.
    pub fn resize(&self, size: WindowSize) -> io::Result<()> {
        resize(self.fd.get_ref(), size)
    }

    /// Signals the foreground process group.
    pub fn signal(&self, signal: i32) -> io::Result<()> {
        signal_foreground(self.fd.get_ref(), signal)
    }
}
