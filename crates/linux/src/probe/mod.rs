//! Machine capability probes.
