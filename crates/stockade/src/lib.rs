//! stockade library.
