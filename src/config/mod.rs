//! The stack language: TOML with spans, variables, validation rules and lowering to `Desired`.
//!
//! [`load`] runs the whole stage on a stack file and returns every problem at
//! once, each at its position:
//!
//! 1. TOML syntax, with recovery (every syntax error, not the first);
//! 2. variables (`${var.NAME}`) substituted into every string;
//! 3. structure, checked against the language's JSON Schema ([`schema`]):
//!    unknown keys, wrong types, missing keys, values outside an enumeration;
//! 4. each resource read into its typed form on its own, so an error in one
//!    resource hides nothing in the others;
//! 5. referenced files (classification JSON, policy JSON) read and checked;
//! 6. the validation rules (see `docs/config-reference.md` for the codes);
//! 7. lowering to [`Desired`], when nothing above found an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Diagnostics, Sources};
use crate::model::Desired;

pub mod json;
mod lower;
mod pipeline;
pub mod raw;
mod resolve;
mod rules;
pub mod schema;
pub mod spans;
pub mod structure;
pub mod text;
pub mod vars;

pub use spans::SpanIndex;

/// The prefix of environment variables that set stack variables
/// (`EMRSTACK_VAR_image_tag` sets `image_tag`).
pub const ENV_PREFIX: &str = "EMRSTACK_VAR_";

/// What to load and with which variables.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// The stack file.
    pub file: PathBuf,
    /// `--var NAME=VALUE` arguments, in command-line order.
    pub vars: Vec<String>,
    /// `--var-file` paths, in command-line order (later files win).
    pub var_files: Vec<PathBuf>,
    /// `EMRSTACK_VAR_*` environment variables, by name without the prefix.
    pub env: BTreeMap<String, String>,
    /// `--region`, which overrides `[stack] region` for the offline region checks.
    pub region: Option<String>,
}

impl LoadOptions {
    /// Options for `file` with no variables.
    pub fn new(file: impl Into<PathBuf>) -> LoadOptions {
        LoadOptions {
            file: file.into(),
            ..LoadOptions::default()
        }
    }

    /// The `EMRSTACK_VAR_*` variables of an environment, by name without the prefix.
    pub fn env_from(vars: impl IntoIterator<Item = (String, String)>) -> BTreeMap<String, String> {
        vars.into_iter()
            .filter_map(|(name, value)| name.strip_prefix(ENV_PREFIX).map(|rest| (rest.to_string(), value)))
            .filter(|(name, _)| !name.is_empty())
            .collect()
    }
}

/// The result of loading a stack file.
#[derive(Debug)]
pub struct Loaded {
    /// Every file read (stack file, var files, classification and policy files).
    pub sources: Sources,
    /// Every problem found, sorted by file and position.
    pub diagnostics: Diagnostics,
    /// The stack, present if and only if no diagnostic is an error.
    pub desired: Option<Desired>,
    /// Positions of resources and fields in the stack file.
    pub spans: SpanIndex,
}

impl Loaded {
    /// Whether the stack is valid (warnings allowed).
    pub fn is_valid(&self) -> bool {
        self.desired.is_some()
    }
}

/// Reads and checks the stack file `options.file` and everything it refers to.
pub fn load(options: &LoadOptions) -> Loaded {
    match crate::input::read_text(&options.file, crate::input::MAX_SOURCE_BYTES) {
        Ok(text) => load_str(&options.file, &text, options),
        Err(error) => {
            let mut diagnostics = Diagnostics::new();
            diagnostics.push(
                Diagnostic::error(
                    "config.read",
                    format!("cannot read `{}`: {error}", options.file.display()),
                )
                .with_help(
                    "pass the stack file with `--file`, or run emrstack in the directory that holds `emrstack.toml`",
                ),
            );
            Loaded {
                sources: Sources::new(),
                diagnostics,
                desired: None,
                spans: SpanIndex::default(),
            }
        }
    }
}

/// Checks a stack file given as text, as if read from `path`. Relative
/// `file` and `runtime_file` paths resolve against `path`'s directory; var
/// files in `options` are read from disk.
pub fn load_str(path: &Path, text: &str, options: &LoadOptions) -> Loaded {
    pipeline::run(path, text, options)
}

/// The JSON Schema (draft-07) of the stack language.
pub fn schema() -> serde_json::Value {
    schema::schema()
}
