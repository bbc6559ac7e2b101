//! `emrstack validate`: load the stack file offline, print every diagnostic,
//! exit 0 when it is valid (warnings allowed) and 1 otherwise.

use crate::config::{self, LoadOptions};
use crate::render::diagnostics;

use std::process::ExitCode;

use super::super::EXIT_OK;
use super::super::args::{DataFormat, GlobalArgs, StackArgs};
use super::super::error::CliError;
use super::super::output::Printer;

/// The load options of a command that reads a stack: its flags plus the
/// `EMRSTACK_VAR_*` variables of the process environment.
pub(crate) fn load_options(global: &GlobalArgs, stack: &StackArgs) -> LoadOptions {
    let environment =
        std::env::vars_os().filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)));
    LoadOptions {
        file: stack.file.clone(),
        vars: stack.vars.clone(),
        var_files: stack.var_files.clone(),
        env: LoadOptions::env_from(environment),
        region: global.region.clone(),
    }
}

/// Runs `validate` and returns the exit code.
pub(super) fn run(
    printer: &Printer,
    global: &GlobalArgs,
    stack: &StackArgs,
    format: DataFormat,
) -> Result<ExitCode, CliError> {
    let loaded = config::load(&load_options(global, stack));
    match format {
        DataFormat::Json => {
            let document = diagnostics::json(&loaded.diagnostics, &loaded.sources);
            let text = serde_json::to_string_pretty(&document).unwrap_or_else(|_| "{}".to_string());
            printer.data(&format!("{text}\n"));
        }
        DataFormat::Human => {
            let text = diagnostics::human(&loaded.diagnostics, &loaded.sources, printer.color_stderr);
            if !text.is_empty() {
                printer.message(&text);
            }
            if let Some(desired) = &loaded.desired {
                let count = desired.addresses().len();
                let noun = if count == 1 { "resource" } else { "resources" };
                printer.message(&format!("stack `{}` is valid ({count} {noun})", desired.stack.name));
            }
        }
    }
    // The diagnostics say what is wrong.
    if loaded.is_valid() {
        Ok(ExitCode::from(EXIT_OK))
    } else {
        Err(CliError::Reported)
    }
}
