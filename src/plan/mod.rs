//! The Plan: data, a versioned file format and a fingerprint of what was observed.
