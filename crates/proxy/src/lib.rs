//! stockade's egress proxy (SPEC 4): an HTTP proxy (absolute-form plain
//! HTTP and `CONNECT` tunnels) and a SOCKS5 proxy (`CONNECT`, the proxy
//! resolving names), both allowing or refusing each destination by the
//! policy's domain rules ([`gate`]).
//!
//! A run in `proxy` mode serves listeners that live in the sandbox's own
//! network namespace ([`start`]): nothing outside the sandbox can reach
//! them, so they need no credential. `stockade proxy` serves listeners on
//! the host ([`serve_forever`]) and demands a per-proxy credential
//! ([`auth::Credential`]). There is no control surface: every request is a
//! request for a destination.

pub mod auth;
pub mod gate;
mod http;
pub mod record;
mod relay;
pub mod socks;
pub mod target;

use std::io;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

pub use auth::Credential;
pub use gate::{Gate, Refusal};
pub use record::Recorded;
use record::Recorder;
use stockade_policy::NetworkPolicy;
use stockade_policy::domain::DomainRules;

/// What a proxy allows, and whom it serves.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub gate: Gate,
    /// `Some`: every client must present it.
    pub credential: Option<Credential>,
}

impl Config {
    /// The proxy of a network policy's allow, deny and range entries.
    pub fn from_policy(network: &NetworkPolicy) -> Config {
        Config {
            gate: Gate {
                rules: DomainRules {
                    allow: network.allow.clone(),
                    deny: network.deny.clone(),
                },
                allow_ranges: network.allow_ranges.clone(),
            },
            credential: None,
        }
    }
}

/// Listening sockets, by protocol.
#[derive(Debug, Default)]
pub struct Listeners {
    pub http: Vec<TcpListener>,
    pub socks: Vec<TcpListener>,
}

/// What every connection's task shares.
struct Shared {
    gate: Gate,
    credential: Option<Credential>,
    recorder: Recorder,
}

/// A proxy serving on its own threads.
#[derive(Debug)]
pub struct Running {
    runtime: tokio::runtime::Runtime,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

/// Starts serving `listeners` on a thread of its own (plus tokio's
/// blocking pool for name resolution).
///
/// One worker, not more: the cores are the command's, and a bulk tunnel
/// moves up to a MiB per system call ([`relay`]), so the thread mostly
/// waits and wakes.
///
/// # Errors
///
/// The runtime's threads cannot be started, or a listener cannot be made
/// non-blocking.
pub fn start(config: Config, listeners: Listeners) -> io::Result<Running> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("stockade-proxy")
        .enable_io()
        .enable_time()
        .build()?;
    let shared = Arc::new(Shared {
        gate: config.gate,
        credential: config.credential,
        recorder: Recorder::default(),
    });
    spawn_listeners(&runtime, &shared, listeners)?;
    Ok(Running { runtime, shared })
}

impl Running {
    /// Stops serving (open tunnels are closed) and returns the denials.
    pub fn stop(self) -> Recorded {
        let recorded = self.shared.recorder.recorded();
        self.runtime.shutdown_timeout(Duration::from_millis(100));
        recorded
    }

    /// The denials so far.
    pub fn recorded(&self) -> Recorded {
        self.shared.recorder.recorded()
    }
}

/// Serves `listeners` until the process ends (`stockade proxy`).
///
/// # Errors
///
/// As [`start`].
pub fn serve_forever(config: Config, listeners: Listeners) -> io::Result<()> {
    let running = start(config, listeners)?;
    loop {
        std::thread::park();
        let _ = &running;
    }
}

fn spawn_listeners(
    runtime: &tokio::runtime::Runtime,
    shared: &Arc<Shared>,
    listeners: Listeners,
) -> io::Result<()> {
    let _entered = runtime.enter();
    for (listener, socks) in listeners
        .http
        .into_iter()
        .map(|l| (l, false))
        .chain(listeners.socks.into_iter().map(|l| (l, true)))
    {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let shared = Arc::clone(shared);
        runtime.spawn(async move {
            loop {
                let stream = match listener.accept().await {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!(target: "stockade::proxy", error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let shared = Arc::clone(&shared);
                match socks {
                    true => tokio::spawn(socks::serve(stream, shared)),
                    false => tokio::spawn(http::serve(stream, shared)),
                };
            }
        });
    }
    Ok(())
}
