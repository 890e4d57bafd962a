//! The sandbox's mount tree: `plan` (pure data) and `apply` (syscalls, run
//! inside the sandbox's user and mount namespaces).

pub mod apply;
pub mod plan;

pub use plan::{Blocker, MountOp, MountPlan, Placeholder, Why, plan};
