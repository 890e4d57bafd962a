//! `serve` and `shell` where the async library has no launch helper
//! (every platform but Linux): they refuse, exit 125, and say so.

use stockade::Error;

fn refuse(what: &str) -> Error {
    Error::Unenforceable {
        rule: format!("stockade {what}"),
        reason: "sessions and the MCP server need a Linux backend; this platform has none yet".into(),
        hint: "run 'stockade explain' to see the resolved policy; nothing can run here with this version".into(),
    }
}

pub mod serve {
    /// Refuses: no backend here.
    pub fn main(_args: crate::args::ServeArgs) -> Result<i32, super::Error> {
        Err(super::refuse("serve"))
    }
}

pub mod shell {
    /// Refuses: no backend here.
    pub fn main(_args: crate::args::ShellArgs) -> Result<i32, super::Error> {
        Err(super::refuse("shell"))
    }
}
