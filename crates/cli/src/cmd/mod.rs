//! One module per subcommand.

pub mod check;
pub mod explain;
pub mod proxy;
pub mod run;
pub mod serve;
pub mod shell;
