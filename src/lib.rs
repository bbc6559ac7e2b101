//! emrstack: infrastructure as code for Amazon EMR Serverless.
//!
//! The crate is laid out as the pipeline it runs (see ARCHITECTURE.md):
//! `config` -> `validate` (inside `config`) -> `observe` -> `diff` -> `graph`
//! -> `plan` -> `render` -> `apply`, with `adopt` (`emrstack generate` and
//! `emrstack import`) beside `observe` and `apply`. Only `aws` names AWS SDK
//! types; every other stage talks to the [`cloud::Cloud`] trait.

// Crate-private by default: a module is `pub` only when the binary or the
// integration tests (tests/it) use it, and an item nothing outside the
// crate can reach must say `pub(crate)`, so the compiler reports dead code.
#![deny(unreachable_pub)]

pub(crate) mod adopt;
pub(crate) mod apply;
pub mod artifact;
pub mod aws;
pub mod cli;
pub mod cloud;
pub mod config;
pub mod diag;
pub mod diff;
pub(crate) mod graph;
pub mod input;
pub(crate) mod lock;
pub mod model;
pub mod observe;
pub mod plan;
pub(crate) mod planning;
pub mod render;
