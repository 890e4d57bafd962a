//! The pipe on which the sandbox's first process tells stockade what
//! happened: a setup failure (with its message), an exec failure (with the
//! errno), or the command's final wait status. Fixed little framing:
//! one tag byte, then a 4-byte little-endian length or value.

use std::io::{self, Read, Write};

/// What the sandbox reports.
#[derive(Debug, PartialEq, Eq)]
pub enum Report {
    /// Setting up the sandbox failed; nothing ran.
    SetupFailed(String),
    /// The command could not be executed: the errno of the last attempt.
    ExecFailed(i32),
    /// The command is running (its exec succeeded).
    Started,
    /// What the supervisor refused (sent once, before `Exited`).
    Denials(crate::supervisor::Denials),
    /// The command ended with this `wait` status.
    Exited(i32),
}

const SETUP: u8 = b'F';
const EXEC: u8 = b'E';
const EXITED: u8 = b'S';
const STARTED: u8 = b'R';
const DENIALS: u8 = b'D';
/// Longest message carried; a longer one is cut.
const MAX_MESSAGE: usize = 4096;
/// Longest list of denials (as JSON) read; at most `MAX_DENIALS` short
/// records are ever sent, well inside a pipe's buffer.
const MAX_DENIALS_JSON: usize = 48 * 1024;

impl Report {
    /// Writes the report (one `write` for the small ones).
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        let mut buf = Vec::with_capacity(8);
        match self {
            Report::SetupFailed(message) => {
                let bytes = &message.as_bytes()[..message.len().min(MAX_MESSAGE)];
                buf.push(SETUP);
                buf.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
                buf.extend_from_slice(bytes);
            }
            Report::ExecFailed(errno) => {
                buf.push(EXEC);
                buf.extend_from_slice(&errno.to_le_bytes());
            }
            Report::Started => {
                buf.push(STARTED);
                buf.extend_from_slice(&0u32.to_le_bytes());
            }
            Report::Denials(denials) => {
                let json = serde_json::to_vec(denials).map_err(io::Error::other)?;
                if json.len() > MAX_DENIALS_JSON {
                    return Err(io::Error::other("denials too long to report"));
                }
                buf.push(DENIALS);
                buf.extend_from_slice(&(json.len() as u32).to_le_bytes());
                buf.extend_from_slice(&json);
            }
            Report::Exited(status) => {
                buf.push(EXITED);
                buf.extend_from_slice(&status.to_le_bytes());
            }
        }
        out.write_all(&buf)
    }

    /// Reads one report; `None` at end of file.
    pub fn read_from(input: &mut impl Read) -> io::Result<Option<Report>> {
        let mut tag = [0u8; 1];
        if input.read(&mut tag)? == 0 {
            return Ok(None);
        }
        let mut word = [0u8; 4];
        input.read_exact(&mut word)?;
        Ok(Some(match tag[0] {
            SETUP => {
                let len = (u32::from_le_bytes(word) as usize).min(MAX_MESSAGE);
                let mut text = vec![0u8; len];
                input.read_exact(&mut text)?;
                Report::SetupFailed(String::from_utf8_lossy(&text).into_owned())
            }
            DENIALS => {
                let len = u32::from_le_bytes(word) as usize;
                if len > MAX_DENIALS_JSON {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "denials too long",
                    ));
                }
                let mut json = vec![0u8; len];
                input.read_exact(&mut json)?;
                Report::Denials(serde_json::from_slice(&json).map_err(io::Error::other)?)
            }
            EXEC => Report::ExecFailed(i32::from_le_bytes(word)),
            STARTED => Report::Started,
            EXITED => Report::Exited(i32::from_le_bytes(word)),
            other => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("unknown report tag {other}"),
                ));
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_round_trip() {
        for report in [
            Report::SetupFailed("failed to bind /x: EPERM".into()),
            Report::ExecFailed(2),
            Report::Started,
            Report::Denials(crate::supervisor::Denials {
                list: vec![crate::supervisor::Denial {
                    kind: "network".into(),
                    target: "/run/docker.sock".into(),
                    access: "connect".into(),
                    rule: "network.unix_sockets".into(),
                }],
                dropped: 3,
            }),
            Report::Exited(256),
        ] {
            let mut buf = Vec::new();
            report.write_to(&mut buf).unwrap();
            assert_eq!(
                Report::read_from(&mut buf.as_slice()).unwrap(),
                Some(report)
            );
        }
        assert_eq!(Report::read_from(&mut [].as_slice()).unwrap(), None);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(Report::read_from(&mut [b'X', 0, 0, 0, 0].as_slice()).is_err());
        assert!(Report::read_from(&mut [b'F', 255, 255, 255, 255].as_slice()).is_err());
    }
}
