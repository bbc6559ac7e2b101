//! The stack language: TOML with spans, variables, validation rules and lowering to `Desired`.

pub mod raw;
pub mod schema;
