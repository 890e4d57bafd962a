//! The record of something a sandbox refused and observed (SPEC 3.7),
//! shared by the backends that observe refusals and the run record that
//! reports them.

use serde::{Deserialize, Serialize};

/// Something the sandbox refused and observed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Denial {
    /// `network`, `filesystem` or `syscall`.
    pub kind: String,
    /// What was asked for, e.g. a socket path as the command gave it.
    pub target: String,
    /// The operation, e.g. `connect`.
    pub access: String,
    /// The rule that refused it, e.g. `network.unix_sockets`.
    pub rule: String,
}
