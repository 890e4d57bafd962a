//! Every decision is logged through `tracing`; every refusal by the
//! policy becomes a denial record (SPEC 3.7).

use std::sync::Mutex;

use stockade_policy::Denial;

use crate::gate::Refusal;

/// Denials kept in full; later ones are only counted.
pub const MAX_DENIALS: usize = 1000;

/// The proxy's denials so far.
#[derive(Debug, Default)]
pub struct Recorder {
    inner: Mutex<Recorded>,
}

/// Denials, in order, and how many more there were.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    pub list: Vec<Denial>,
    pub dropped: u64,
}

impl Recorder {
    /// Logs an allowed destination.
    pub fn allowed(&self, protocol: &str, target: &str) {
        tracing::info!(target: "stockade::proxy", protocol, destination = target, "allowed");
    }

    /// Logs why `target` was not reached; a policy refusal is a denial.
    pub fn refused(&self, protocol: &str, target: &str, refusal: &Refusal) {
        if !refusal.is_policy() {
            tracing::info!(target: "stockade::proxy", protocol, destination = target, error = %refusal, "failed");
            return;
        }
        tracing::warn!(target: "stockade::proxy", protocol, destination = target, rule = %refusal.rule(), "refused");
        let denial = Denial {
            kind: "network".into(),
            target: target.to_owned(),
            access: "connect".into(),
            rule: refusal.rule(),
        };
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.list.len() < MAX_DENIALS {
            inner.list.push(denial);
        } else {
            inner.dropped += 1;
        }
    }

    /// What was recorded.
    pub fn recorded(&self) -> Recorded {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
