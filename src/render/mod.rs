//! Human, JSON and Markdown renderings of plans and diagnostics; pure functions to `String`.

pub mod diagnostics;
