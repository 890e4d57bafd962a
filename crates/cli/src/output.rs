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
        Ok(text) => print(&(text + "\n")),
        Err(e) => eprintln!("stockade: error: failed to serialise the report: {e}"),
    }
}

/// Writes to stdout; a reader that went away (`| head`) is not an error.
pub fn print(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
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
