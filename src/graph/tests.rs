//! Tests of the dependency graph.
