//! Resource limits as cgroups: `max_processes` becomes `pids.max` and
//! `max_memory` `memory.max` (v2) or `memory.limit_in_bytes` (v1) of a
//! cgroup made for the run, which holds the whole sandboxed tree. Unlike
//! rlimits, these count every process of the sandbox together, apply to
//! root, and charge the private `/tmp` (tmpfs pages belong to the cgroup
//! of the process that wrote them).
//!
//! [`plan`] finds, without changing anything, a hierarchy for each limit
//! where this process may make a child cgroup; [`Cgroups::create`] makes
//! them, the spawn code moves the sandbox in before it runs anything, and
//! [`Cgroups::remove`] deletes them after the run.

mod apply;
mod plan;

pub use apply::Cgroups;
pub use plan::{CgroupDir, CgroupPlan, Unavailable, plan};
