//! Shared output helpers: errors with hints, JSON, sizes.

use serde::Serialize;

/// Prints an error and its hint on stderr.
pub fn print_error(e: &stockade::Error) {
    eprintln!("stockade: error: {e}");
    eprintln!("hint: {}", e.hint());
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("stockade: error: failed to serialise the report: {e}"),
    }
}

/// A byte count in the units policy files use.
pub fn size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (1 << 40, "TiB"),
        (1 << 30, "GiB"),
        (1 << 20, "MiB"),
        (1 << 10, "KiB"),
    ];
    UNITS
        .iter()
        .find(|(unit, _)| bytes >= *unit && bytes % unit == 0)
        .map_or_else(
            || format!("{bytes}B"),
            |(unit, name)| format!("{}{name}", bytes / unit),
        )
}
