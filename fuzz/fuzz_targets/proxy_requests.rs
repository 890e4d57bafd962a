//! The `proxy_requests` fuzz target: see `fuzz/checks/proxy_requests.rs` for what is
//! checked (the same check replays the stored corpus in the stable tests).
#![no_main]

#[path = "../checks/proxy_requests.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check_input(data));
