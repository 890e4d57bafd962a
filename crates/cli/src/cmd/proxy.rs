//! `stockade proxy`: the egress proxy on its own, judging destinations by
//! the policy's `[network]` entries (and `--allow-domain`/`--deny-domain`).
//!
//! Its listeners are on the host, so unlike a run's proxy it demands a
//! credential, made fresh at start and printed in the proxy URLs: whoever
//! cannot read stockade's stderr cannot use the proxy.

use crate::args::ProxyArgs;
use std::net::TcpListener;
use stockade::Error;
use stockade_proxy::{Config, Credential, Listeners, auth};

pub fn main(args: ProxyArgs) -> Result<i32, Error> {
    let loaded = stockade::load(&args.policy.request())?;
    let mut config = Config::from_policy(&loaded.policy.network);
    let credential = Credential::generate().map_err(|e| setup("make the proxy's credential", e))?;
    config.credential = Some(credential.clone());
    let bind = |addr| TcpListener::bind(addr).map_err(|e| setup(&format!("listen on {addr}"), e));
    let http = bind(args.listen)?;
    let socks = args.socks.map(bind).transpose()?;
    if config.gate.rules.allow.is_empty() {
        eprintln!(
            "stockade proxy: warning: the policy allows no destination; add --allow-domain or network.allow"
        );
    }
    let token = credential.token();
    let user = auth::USER;
    eprintln!(
        "stockade proxy: HTTP   http://{user}:{token}@{}",
        http.local_addr()
            .map_err(|e| setup("read the HTTP address", e))?
    );
    if let Some(socks) = &socks {
        let addr = socks
            .local_addr()
            .map_err(|e| setup("read the SOCKS5 address", e))?;
        eprintln!("stockade proxy: SOCKS5 socks5h://{user}:{token}@{addr}");
    }
    let listeners = Listeners {
        http: vec![http],
        socks: socks.into_iter().collect(),
    };
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .finish(),
    )
    .ok();
    stockade_proxy::serve_forever(config, listeners).map_err(|e| setup("start the proxy", e))?;
    Ok(0)
}

fn setup(action: &str, e: std::io::Error) -> Error {
    Error::Unenforceable {
        rule: "stockade proxy".into(),
        reason: format!("failed to {action}: {e}"),
        hint: "choose another --listen address, or check what holds this one".into(),
    }
}
