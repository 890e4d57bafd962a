//! Where a rule came from: a policy file location, a command-line flag, a
//! built-in profile, or a derivation from another rule.

use serde::Serialize;
use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

/// The text of a policy, with the name it is reported under and an index
/// of its line starts (so locating a span is a binary search).
#[derive(Clone, Debug)]
pub struct SourceText {
    source: Source,
    text: String,
    line_starts: Vec<usize>,
}

/// The kind of source a policy text has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// A policy file on disk.
    File {
        /// Its path, as canonical as it could be made (shared: every rule
        /// from the file names it).
        path: Arc<Path>,
    },
    /// stockade's built-in profiles (`builtin.toml`, compiled in).
    BuiltIn,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File { path } => write!(f, "{}", path.display()),
            Source::BuiltIn => f.write_str("<built-in>"),
        }
    }
}

/// A line and column in a policy source (both 1-based).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The source.
    pub source: Source,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.source, self.line, self.column)
    }
}

impl SourceText {
    /// A text and where it came from.
    pub fn new(source: Source, text: String) -> SourceText {
        let line_starts = std::iter::once(0)
            .chain(
                text.bytes()
                    .enumerate()
                    .filter(|(_, b)| *b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect();
        SourceText {
            source,
            text,
            line_starts,
        }
    }

    /// Where the text came from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The location of a byte offset (clamped to the text).
    pub fn location(&self, offset: usize) -> Location {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|start| *start <= offset);
        let line_start = self.line_starts[line - 1];
        let column = self
            .text
            .get(line_start..offset)
            .map_or(0, |s| s.chars().count())
            + 1;
        Location {
            source: self.source.clone(),
            line,
            column,
        }
    }

    /// The location of the start of a span.
    pub fn span_location(&self, span: &Range<usize>) -> Location {
        self.location(span.start)
    }
}

/// Why a resolved rule exists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// Written in a policy file (or the built-in profiles) for a profile.
    Policy {
        /// The profile whose table holds the rule.
        profile: Arc<str>,
        /// Where.
        location: Location,
    },
    /// Given on the command line (or by an API caller).
    Flag {
        /// The flag, e.g. `--writable`.
        flag: String,
        /// Its value as given.
        value: String,
    },
    /// Derived by stockade from other rules or from the machine.
    Derived {
        /// What derived it, e.g. "protected name '.git' under writable root /ws".
        reason: Arc<str>,
        /// The rule it was derived from, if one.
        #[serde(skip_serializing_if = "Option::is_none")]
        from: Option<Arc<Origin>>,
    },
}

impl Origin {
    /// A derived origin.
    pub fn derived(reason: impl Into<Arc<str>>, from: Option<&Origin>) -> Origin {
        Origin::Derived {
            reason: reason.into(),
            from: from.map(|o| Arc::new(o.clone())),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Policy { profile, location } => {
                write!(f, "{location} (profile '{profile}')")
            }
            Origin::Flag { flag, value } => write!(f, "flag {flag} {value}"),
            Origin::Derived {
                reason,
                from: Some(from),
            } => write!(f, "{reason}; from {from}"),
            Origin::Derived { reason, from: None } => f.write_str(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> SourceText {
        SourceText::new(
            Source::File {
                path: Path::new("/p/.stockade.toml").into(),
            },
            s.into(),
        )
    }

    #[test]
    fn locations_are_one_based_lines_and_character_columns() {
        let t = text("a = 1\nbé = 2\n");
        assert_eq!((t.location(0).line, t.location(0).column), (1, 1));
        let at_2 = t.text().find('2').unwrap();
        assert_eq!((t.location(at_2).line, t.location(at_2).column), (2, 6));
        assert_eq!(t.location(999).line, 3, "offsets past the end clamp");
        assert_eq!(t.location(at_2).to_string(), "/p/.stockade.toml:2:6");
    }

    #[test]
    fn origins_say_where_they_come_from() {
        let flag = Origin::Flag {
            flag: "--writable".into(),
            value: "/x".into(),
        };
        assert_eq!(flag.to_string(), "flag --writable /x");
        let d = Origin::derived("protected name '.git'", Some(&flag));
        assert_eq!(
            d.to_string(),
            "protected name '.git'; from flag --writable /x"
        );
    }
}
