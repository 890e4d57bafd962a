//! The order of canonical paths, component by component, computed on bytes.
//!
//! `Path`'s own `Ord` splits both paths into components on every
//! comparison; sorting and searching a thousand rules spends most of its
//! time there. For canonical paths (absolute, no `.`, `..`, repeated or
//! trailing separators) the same order is the byte order with the separator
//! ranked below every other byte: the first differing byte decides, and a
//! separator there means that side's component ended first.

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
}
