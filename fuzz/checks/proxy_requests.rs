//! Fuzzes the proxy's own request parsers: the SOCKS5 greeting,
//! username/password and request messages, and the `host:port` of a
//! `CONNECT` or absolute-form URL. Nothing may panic; a complete message
//! never claims more bytes than it was given; a parsed authority has a
//! port from 1 to 65535 and no user-info.
//!
//! Shared by the fuzz target and the stable replay of its corpus.

use stockade_proxy::socks::wire::{self, Parsed};
use stockade_proxy::target::parse_authority;

fn check<T>(data: &[u8], parsed: Result<Parsed<T>, wire::WireError>) {
    if let Ok(Parsed::Done(_, used)) = parsed {
        assert!(used <= data.len(), "claimed {used} of {} bytes", data.len());
    }
}

/// Checks one input; panics when a promise is broken.
pub fn check_input(data: &[u8]) {
    check(data, wire::greeting(data));
    check(data, wire::user_pass(data));
    check(data, wire::request(data));
    let text = String::from_utf8_lossy(data);
    for default in [None, Some(80)] {
        if let Ok(target) = parse_authority(&text, default) {
            assert!(target.port != 0);
            assert!(!target.host.is_empty() && !target.host.contains('@'));
        }
    }
}
