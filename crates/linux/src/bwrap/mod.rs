//! The system `bwrap` as the namespace builder, for machines where
//! stockade may not create user namespaces itself but bwrap may (Ubuntu's
//! AppArmor restriction gives bwrap its own profile). The plan is the
//! same: bwrap builds the mount tree of [`crate::mounts::MountPlan`]
//! ([`args`]), in new user, pid, ipc (and net) namespaces, with further
//! user namespaces disabled (which also locks every mount); inside, it
//! starts stockade's own binary as a helper ([`helper`]) that applies
//! Landlock, the seccomp filter and the rest exactly as the native
//! backend's command process does, starts the command and reports its
//! status.

pub mod args;
pub mod helper;
