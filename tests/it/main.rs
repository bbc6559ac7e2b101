//! The integration tests, as one test binary (`cargo test --test it`), in
//! the manner of cargo's `tests/testsuite` and rust-analyzer's
//! `slow-tests`: each file under `tests/` would be a crate of its own,
//! linked with the whole AWS SDK, so the tests are modules of this one
//! crate instead. One module per subject; run one with a filter, e.g.
//! `cargo test --test it e2e_plan::` or `cargo test --test it render_`.
//!
//! The end-to-end modules share one emulator per process
//! ([`support::cloud::shared_emulator`]) and isolate themselves by account:
//! a fresh emulated account per test, fault rules scoped to it and removed
//! by ID. Whatever changes the emulator for everyone (state delays, rate
//! limits, a reset, a held StartApplication) runs on an emulator of its own
//! (`e2e_apply_kill`, `e2e_lock`, `emulator_harness`, a few `aws_cloud`
//! tests).
//!
//! No integration test needs a process of its own: nothing here sets
//! environment variables, the working directory or other process-wide
//! state (each CLI run gets its environment on its `Command`; `fuzz` reads
//! `PROPTEST_CASES` and `e2e_lock` `E2E_DEBUG`, without changing them). A test that
//! must should be a `[[test]]` target of its own, with the reason in
//! Cargo.toml and in ARCHITECTURE.md ("Tests and tools outside `src/`").

mod apply_support;
mod render_scenarios;
mod support;

mod aws_cloud;
mod cli_completions;
mod cli_errors;
mod cli_validate;
mod config_corpus;
mod config_docs;
mod config_jobs;
mod config_lower;
mod config_rules;
mod config_schema;
mod config_snapshots;
mod config_vars;
mod diagnostic_messages;
mod e2e_adopt;
mod e2e_apply_faults;
mod e2e_apply_kill;
mod e2e_apply_lifecycle;
mod e2e_jobs;
mod e2e_lock;
mod e2e_plan;
mod emulator_harness;
mod examples;
mod fuzz;
mod plan_codes_documented;
mod render_json;
mod render_markdown;
mod render_plan;
mod tidy;
