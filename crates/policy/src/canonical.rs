//! Operations on canonical paths (absolute, no `.`, `..`, repeated or
//! trailing separators) that do not split them into components.
//!
//! `Path`'s own `Ord` and `parent` parse components on every call; sorting
//! and searching a thousand rules, and walking each path's ancestors,
//! spends most of its time there. For canonical paths the component order
//! is the byte order with the separator ranked below every other byte (the
//! first differing byte decides, and a separator there means that side's
//! component ended first), and a parent is the text before the last
//! separator.

use std::cmp::Ordering;
use std::path::{Path, is_separator};

/// Compares two canonical paths in `Path`'s component order.
pub fn cmp_paths(a: &Path, b: &Path) -> Ordering {
    let (a, b) = (
        a.as_os_str().as_encoded_bytes(),
        b.as_os_str().as_encoded_bytes(),
    );
    match first_difference(a, b) {
        Some(i) => rank(a[i]).cmp(&rank(b[i])),
        None => a.len().cmp(&b.len()),
    }
}

/// The index of the first byte where `a` and `b` differ, within the
/// shorter of the two. Rule paths share long prefixes, so this compares
/// eight bytes at a time before looking at single bytes.
fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    let common = a.len().min(b.len());
    let (a, b) = (&a[..common], &b[..common]);
    let mut start = 0;
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        if x != y {
            break;
        }
        start += 8;
    }
    a[start..]
        .iter()
        .zip(&b[start..])
        .position(|(x, y)| x != y)
        .map(|i| start + i)
}

/// `path.parent()` for a canonical path.
pub fn parent(path: &Path) -> Option<&Path> {
    ancestors(path).nth(1)
}

/// `(path.parent(), path.file_name())` for a canonical path, both or
/// neither (the root has neither).
pub fn split_last(path: &Path) -> Option<(&Path, &std::ffi::OsStr)> {
    match simple_text(path) {
        Some(text) => {
            let i = text.rfind('/')?;
            let name = &text[i + 1..];
            let parent = if i == 0 { "/" } else { &text[..i] };
            (!name.is_empty()).then(|| (Path::new(parent), std::ffi::OsStr::new(name)))
        }
        _ => path.parent().zip(path.file_name()),
    }
}

/// How many normal components a plain `/`-separated path has.
fn text_depth(text: &str) -> usize {
    if text == "/" {
        0
    } else {
        text.bytes().filter(|b| *b == b'/').count()
    }
}

/// `path.ancestors()` for a canonical path: the path itself, then each
/// parent up to the root. A path that is not plain `/`-separated text
/// takes `Path::ancestors`.
pub fn ancestors(path: &Path) -> Ancestors<'_> {
    match simple_text(path) {
        Some(text) => Ancestors::Text(Some(text)),
        None => Ancestors::Components(path.ancestors()),
    }
}

/// `path` itself when it is plain `/`-separated text (see
/// [`simple_text`]), else rebuilt from its components (which drops `.`
/// parts and repeated or trailing separators).
pub(crate) fn normalized(path: &Path) -> std::borrow::Cow<'_, Path> {
    match simple_text(path) {
        Some(_) => std::borrow::Cow::Borrowed(path),
        None => std::borrow::Cow::Owned(path.components().collect()),
    }
}

/// [`ancestors`] of a path the caller knows to be canonical (a rule's
/// path, or one [`normalized`]), each with its depth below the root: the
/// parts are not checked, and the depth is counted once, not per step.
pub(crate) fn ancestors_with_depth(path: &Path) -> impl Iterator<Item = (&Path, usize)> {
    let text = path.to_str().filter(|t| t.starts_with('/'));
    let mut text_depth = text.map(text_depth);
    let ancestors = match text {
        Some(text) => Ancestors::Text(Some(text)),
        None => Ancestors::Components(path.ancestors()),
    };
    ancestors.map(move |at| match &mut text_depth {
        Some(d) => {
            let here = *d;
            *d = d.saturating_sub(1);
            (at, here)
        }
        None => (at, crate::paths::depth(at)),
    })
}

/// The text of a path whose components are exactly its `/`-separated
/// parts: absolute, UTF-8, no empty, `.` or `..` parts. Others go through
/// `Path`. One pass over the bytes.
fn simple_text(path: &Path) -> Option<&str> {
    let text = path.to_str()?;
    let rest = text.strip_prefix('/')?;
    if rest.is_empty() {
        return Some(text);
    }
    // Each part ends at a `/` or the end; none may be empty, `.` or `..`.
    let mut part_start = 0;
    for (i, byte) in rest.bytes().chain([b'/']).enumerate() {
        if byte == b'/' {
            if matches!(&rest.as_bytes()[part_start..i], b"" | b"." | b"..") {
                return None;
            }
            part_start = i + 1;
        }
    }
    Some(text)
}

/// The iterator of [`ancestors`].
#[derive(Debug)]
pub enum Ancestors<'a> {
    /// Cut at the last `/` each step (the text was checked once).
    Text(Option<&'a str>),
    /// `Path::ancestors`.
    Components(std::path::Ancestors<'a>),
}

impl<'a> Iterator for Ancestors<'a> {
    type Item = &'a Path;

    fn next(&mut self) -> Option<&'a Path> {
        match self {
            Ancestors::Text(next) => {
                let current = (*next)?;
                *next = match current.as_bytes().iter().rposition(|b| *b == b'/') {
                    Some(0) if current.len() > 1 => Some("/"),
                    Some(i) if i > 0 => Some(&current[..i]),
                    _ => None,
                };
                Some(Path::new(current))
            }
            Ancestors::Components(inner) => inner.next(),
        }
    }
}

fn rank(byte: u8) -> u16 {
    if is_separator(char::from(byte)) {
        0
    } else {
        u16::from(byte) + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_component_order() {
        let paths = [
            "/",
            "/a",
            "/a/b",
            "/a-b",
            "/a.b",
            "/a/b/c",
            "/ab",
            "/a/b-c",
            "/a/bc",
            "/b",
            "/a b",
            "/a/\u{e9}",
            "/a/z",
            "/\u{7f}",
            "/a0",
            "/a/.git",
            "/home/user/src/project/pkg1",
            "/home/user/src/project/pkg1/a",
            "/home/user/src/project/pkg10",
            "/home/user/src/project-x",
            "/home/user/src/projects",
            "/home/user/src/project/pkg1-b",
            "/a/.git/config",
        ];
        for a in paths {
            for b in paths {
                let (pa, pb) = (Path::new(a), Path::new(b));
                assert_eq!(cmp_paths(pa, pb), pa.cmp(pb), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn ancestors_and_split_agree_with_path() {
        let paths = [
            "/",
            "/a",
            "/a/b",
            "/a/b/",
            "//a",
            "/a/./b",
            "/a/.",
            "/a/..",
            "/a//b/",
            "a/b",
            "",
            "/a/\u{e9}/.git",
        ];
        for a in paths {
            let path = Path::new(a);
            // The depth walk is for canonical paths (normalised first; a
            // canonical path has no `..`).
            let clean = normalized(path);
            assert!(
                a.contains("..")
                    || ancestors_with_depth(&clean)
                        .eq(clean.ancestors().map(|p| (p, crate::paths::depth(p)))),
                "depths of {a}"
            );
            assert!(ancestors(path).eq(path.ancestors()), "ancestors of {a}");
            assert_eq!(
                split_last(path),
                path.parent().zip(path.file_name()),
                "split of {a}"
            );
        }
    }
}
