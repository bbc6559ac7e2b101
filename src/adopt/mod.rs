//! Adopting an existing account: `generate` reads applications, roles and
//! repositories into a stack file; `import` makes existing resources the
//! stack's by writing its ownership marks.
//!
//! This is a branch of the pipeline beside `observe` and `apply`: it reads
//! AWS through the `Cloud` trait (as `observe` does), speaks the stack
//! language (`config`), and judges what a stack would change with `diff`.
//! It changes AWS in one way only, and checked (`tests/tidy.rs`): import
//! writes the marks that make a resource provably the stack's, the
//! ownership tags with the applied record and, for a role whose trust
//! policy the stack states, the stack's marker statement
//! (docs/ownership.md). Nothing here prints; `cli` does.

pub(crate) mod generate;
pub(crate) mod import;
