//! One module per subcommand.

pub mod check;
pub mod explain;
pub mod proxy;
pub mod run;
#[cfg(target_os = "linux")]
pub mod serve;
#[cfg(target_os = "linux")]
pub mod shell;
#[cfg(not(target_os = "linux"))]
mod unsupported;
#[cfg(not(target_os = "linux"))]
pub use unsupported::{serve, shell};
