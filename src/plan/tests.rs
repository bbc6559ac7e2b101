//! Tests of the plan, its file format and its fingerprint.
