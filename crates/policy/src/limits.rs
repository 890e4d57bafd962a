//! Durations (`"10m"`) and sizes (`"8GiB"`) as written in `[limits]`.

use std::time::Duration;

/// Longest accepted timeout: a week. Anything longer is a typo.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);
/// Largest accepted size: 1 PiB.
pub const MAX_SIZE: u64 = 1 << 50;

/// Parses a duration: a sequence of `<number><unit>` with units `ms`, `s`,
/// `m`, `h`, `d` (`"1h30m"`, `"500ms"`, `"10m"`). A bare number is refused
/// because its unit would be a guess.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration".into());
    }
    let mut total: u128 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("expected a number at '{rest}'"));
        }
        let value: u128 = rest[..digits]
            .parse()
            .map_err(|_| format!("number too large in '{text}'"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let millis_per = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "" => return Err(format!("'{text}' has a number without a unit")),
            other => return Err(format!("unknown unit '{other}'")),
        };
        rest = &rest[unit_len..];
        total = total.saturating_add(value.saturating_mul(millis_per));
    }
    if total == 0 {
        return Err("a duration of zero would kill every command at once".into());
    }
    if total > MAX_TIMEOUT.as_millis() {
        return Err(format!("'{text}' is longer than the limit of 7d"));
    }
    Ok(Duration::from_millis(total as u64))
}

/// Parses a size: a number with an optional unit `B`, `KiB`, `MiB`, `GiB`,
/// `TiB` (powers of 1024) or `KB`, `MB`, `GB`, `TB` (powers of 1000).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    if digits == 0 {
        return Err(format!("'{text}' does not start with a number"));
    }
    let value: u64 = text[..digits]
        .parse()
        .map_err(|_| format!("number too large in '{text}'"))?;
    let multiplier: u64 = match text[digits..].trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        other => return Err(format!("unknown unit '{other}'")),
    };
    let bytes = value.checked_mul(multiplier).filter(|b| *b <= MAX_SIZE);
    bytes.ok_or_else(|| format!("'{text}' is larger than the limit of 1 PiB"))
}

/// The hint for a bad duration.
pub const DURATION_HINT: &str =
    "write a number with a unit: ms, s, m, h or d, e.g. \"10m\" or \"1h30m\"";
/// The hint for a bad size.
pub const SIZE_HINT: &str =
    "write a number with a unit: B, KiB, MiB, GiB, TiB (or KB, MB, GB, TB), e.g. \"8GiB\"";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        for bad in [
            "",
            "10",
            "m",
            "10x",
            "0s",
            "8d",
            "99999999999999999999999999999999999999999h",
            "1.5h",
            "-1s",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("8GiB"), Ok(8 << 30));
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("2MB"), Ok(2_000_000));
        for bad in ["", "GiB", "8 gib", "2PiB", "99999999999TiB", "1.5GiB", "-1"] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
    }
}
