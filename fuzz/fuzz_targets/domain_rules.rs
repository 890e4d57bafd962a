//! The `domain_rules` fuzz target: see `fuzz/checks/domain_rules.rs` for what is
//! checked (the same check replays the stored corpus in the stable tests).
#![no_main]

#[path = "../checks/domain_rules.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check_input(data));
