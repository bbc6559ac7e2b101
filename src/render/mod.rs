//! Human, JSON and Markdown renderings of plans and diagnostics; pure functions to `String`.

pub mod diagnostics;
pub mod json;
pub mod markdown;
pub mod plan;
mod value;
