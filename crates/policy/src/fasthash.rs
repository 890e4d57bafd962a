//! Fast maps keyed by canonical paths. Resolution builds thousands of such
//! lookups; SipHash's resistance to hash flooding buys nothing for keys
//! stockade itself computes, and `Path`'s own `Hash` walks every byte looking
//! for separators. Keys here are canonical (no `.`, `..`, repeated or
//! trailing separators), so their bytes are their identity.

use std::collections::HashMap;
use std::collections::HashSet;
use std::ffi::OsString;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};

/// The multiply-rotate hash of rustc's `FxHasher`.
#[derive(Default, Clone, Copy, Debug)]
pub(crate) struct FxHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(SEED);
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(SEED);
    }

    fn write_usize(&mut self, i: usize) {
        self.0 = (self.0.rotate_left(5) ^ i as u64).wrapping_mul(SEED);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Builds [`FxHasher`]s.
pub(crate) type Fx = BuildHasherDefault<FxHasher>;

/// A map from canonical paths, hashed and compared as bytes (so `/a/b`
/// and `/a/b/` are different keys: give it canonical paths only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathMap<V>(HashMap<OsString, V, Fx>);

impl<V> Default for PathMap<V> {
    fn default() -> Self {
        PathMap(HashMap::default())
    }
}

impl<V> PathMap<V> {
    /// The value at `path`.
    pub fn get(&self, path: &Path) -> Option<&V> {
        self.0.get(path.as_os_str())
    }

    /// The value at `path`, mutably.
    pub fn get_mut(&mut self, path: &Path) -> Option<&mut V> {
        self.0.get_mut(path.as_os_str())
    }

    /// Whether `path` has a value.
    pub fn contains(&self, path: &Path) -> bool {
        self.0.contains_key(path.as_os_str())
    }

    /// Sets the value at `path`.
    pub fn insert(&mut self, path: PathBuf, value: V) {
        self.0.insert(path.into_os_string(), value);
    }

    /// Removes and returns the value at `path`.
    pub fn remove(&mut self, path: &Path) -> Option<V> {
        self.0.remove(path.as_os_str())
    }

    /// The value at `path`, inserted with `V::default()` if absent; the
    /// path is copied only when it is new.
    pub fn at(&mut self, path: &Path) -> &mut V
    where
        V: Default,
    {
        if !self.0.contains_key(path.as_os_str()) {
            self.0.insert(path.as_os_str().to_owned(), V::default());
        }
        self.0.get_mut(path.as_os_str()).expect("just inserted")
    }

    /// The values, in no particular order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.values()
    }

    /// The entries, in no particular order, values mutable.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&Path, &mut V)> {
        self.0.iter_mut().map(|(k, v)| (Path::new(k), v))
    }

    /// The values, in no particular order.
    pub fn into_values(self) -> impl Iterator<Item = V> {
        self.0.into_values()
    }

    /// Adds every entry.
    pub fn extend(&mut self, entries: impl IntoIterator<Item = (PathBuf, V)>) {
        self.0
            .extend(entries.into_iter().map(|(k, v)| (k.into_os_string(), v)));
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

/// A set of canonical paths, hashed and compared as bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathSet(HashSet<OsString, Fx>);

impl PathSet {
    /// Whether `path` is in the set.
    pub fn contains(&self, path: &Path) -> bool {
        self.0.contains(path.as_os_str())
    }

    /// Adds `path`.
    pub fn insert(&mut self, path: PathBuf) {
        self.0.insert(path.into_os_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_keyed_by_paths_work() {
        let mut map: PathMap<u32> = PathMap::default();
        for i in 0..1000 {
            map.insert(PathBuf::from(format!("/a/b{i}/c")), i);
        }
        assert_eq!(map.get(Path::new("/a/b7/c")), Some(&7));
        assert_eq!(map.get(Path::new("/a/b7")), None);
        *map.at(Path::new("/a/b7")) += 5;
        assert_eq!(map.get(Path::new("/a/b7")), Some(&5));
        assert_eq!(map.remove(Path::new("/a/b7/c")), Some(7));
        assert!(!map.contains(Path::new("/a/b7/c")));
        assert_eq!(map.values().count(), 1000);
        let mut set = PathSet::default();
        set.insert("/x/y".into());
        assert!(set.contains(Path::new("/x/y")) && !set.contains(Path::new("/x")));
    }
}
