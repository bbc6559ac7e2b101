//! emrstack: infrastructure as code for Amazon EMR Serverless.
//!
//! The crate is laid out as the pipeline it runs (see ARCHITECTURE.md):
//! `config` -> `validate` (inside `config`) -> `observe` -> `diff` -> `graph`
//! -> `plan` -> `render` -> `apply`, with `adopt` (`emrstack generate` and
//! `emrstack import`) beside `observe` and `apply`. Only `aws` names AWS SDK
//! types; every other stage talks to the [`cloud::Cloud`] trait.

pub mod adopt;
pub mod apply;
pub mod artifact;
pub mod aws;
pub mod cli;
pub mod cloud;
pub mod config;
pub mod diag;
pub mod diff;
pub mod graph;
pub mod input;
pub mod lock;
pub mod model;
pub mod observe;
pub mod plan;
pub mod planning;
pub mod render;
