//! The egress proxy of a run in network `proxy` mode: started on the
//! listeners the sandbox hands over once the command runs, stopped when
//! the run ends; its refusals join the run's denials.

#[cfg(target_os = "linux")]
use stockade_policy::Denial;
use stockade_policy::NetworkPolicy;
#[cfg(target_os = "linux")]
use stockade_proxy::{Config, Listeners, Recorded, Running};

/// One run's proxy.
#[cfg(target_os = "linux")]
#[derive(Debug)]
pub(crate) struct Egress {
    config: Config,
    running: Option<Running>,
}

#[cfg(target_os = "linux")]
impl Egress {
    pub(crate) fn new(network: &NetworkPolicy) -> Egress {
        Egress {
            config: Config::from_policy(network),
            running: None,
        }
    }

    /// Serves the sandbox's listeners, if it has any. A proxy that cannot
    /// start leaves the command without a network (it can reach nothing
    /// else), and says so.
    #[cfg(target_os = "linux")]
    pub(crate) fn start(&mut self, sandbox: &mut stockade_linux::spawn::Sandbox) {
        let Some(listeners) = sandbox.take_egress() else {
            return;
        };
        let listeners = Listeners {
            http: vec![listeners.http],
            socks: vec![listeners.socks],
        };
        match stockade_proxy::start(self.config.clone(), listeners) {
            Ok(running) => self.running = Some(running),
            Err(e) => eprintln!(
                "stockade: warning: the egress proxy did not start ({e}); the command has no network"
            ),
        }
    }

    /// Stops the proxy; its denials.
    pub(crate) fn stop(self) -> Recorded {
        self.running.map(Running::stop).unwrap_or_default()
    }
}

/// The variables that point the command's tools at the proxy, or none.
pub(crate) fn environment(network: &NetworkPolicy) -> Vec<(String, String)> {
    if network.mode != stockade_policy::NetworkMode::Proxy {
        return Vec::new();
    }
    #[cfg(target_os = "linux")]
    return stockade_linux::egress::environment();
    #[cfg(not(target_os = "linux"))]
    Vec::new()
}

#[cfg(target_os = "linux")]
impl crate::run::Ended {
    /// These denials and the proxy's, up to the cap on listed ones.
    pub(crate) fn with_denials(mut self, more: Recorded) -> Self {
        let room = stockade_proxy::record::MAX_DENIALS.saturating_sub(self.denials.len());
        let extra = more.list.len().saturating_sub(room) as u64;
        self.denials
            .extend(more.list.into_iter().take(room).collect::<Vec<Denial>>());
        self.denials_dropped += more.dropped + extra;
        self
    }
}
