//! Access levels and their precedence.

use serde::Serialize;
use std::fmt;

/// What a rule grants on a path. `Write` implies `Read`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// Neither readable nor writable.
    None,
    /// Readable, not writable.
    Read,
    /// Readable and writable.
    Write,
}

impl Access {
    /// Strength when two rules name the same path: `none` beats `read` beats
    /// `write` (SPEC 3.3), so a tie always resolves to the stricter rule.
    pub fn tie_strength(self) -> u8 {
        match self {
            Access::None => 2,
            Access::Read => 1,
            Access::Write => 0,
        }
    }

    /// The stricter of two levels.
    pub fn stricter(self, other: Access) -> Access {
        if other.tie_strength() > self.tie_strength() {
            other
        } else {
            self
        }
    }

    /// Whether this level lets the command read.
    pub fn can_read(self) -> bool {
        self != Access::None
    }

    /// Whether this level lets the command write.
    pub fn can_write(self) -> bool {
        self == Access::Write
    }

    /// Parses the spelling used in policy files.
    pub fn parse(text: &str) -> Option<Access> {
        match text {
            "none" => Some(Access::None),
            "read" => Some(Access::Read),
            "write" => Some(Access::Write),
            _ => None,
        }
    }

    /// The spelling used in policy files.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::None => "none",
            Access::Read => "read",
            Access::Write => "write",
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_resolve_to_the_stricter_level() {
        assert_eq!(Access::Write.stricter(Access::Read), Access::Read);
        assert_eq!(Access::Read.stricter(Access::None), Access::None);
        assert_eq!(Access::None.stricter(Access::Write), Access::None);
        assert_eq!(Access::Write.stricter(Access::Write), Access::Write);
    }

    #[test]
    fn write_implies_read() {
        assert!(Access::Write.can_read() && Access::Write.can_write());
        assert!(Access::Read.can_read() && !Access::Read.can_write());
        assert!(!Access::None.can_read() && !Access::None.can_write());
    }

    #[test]
    fn parses_only_the_three_spellings() {
        for (text, access) in [
            ("none", Access::None),
            ("read", Access::Read),
            ("write", Access::Write),
        ] {
            assert_eq!(Access::parse(text), Some(access));
            assert_eq!(access.as_str(), text);
        }
        for bad in ["", "Read", "rw", "deny", "write "] {
            assert_eq!(Access::parse(bad), None, "{bad:?}");
        }
    }
}
