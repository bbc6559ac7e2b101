//! `emrstack schema`: print the JSON Schema of the stack language on stdout.

use std::process::ExitCode;

use super::super::EXIT_OK;
use super::super::error::CliError;
use super::super::output::Printer;

/// Prints the schema and returns the exit code.
pub(super) fn run(printer: &Printer) -> Result<ExitCode, CliError> {
    let schema = crate::config::schema();
    let text = serde_json::to_string_pretty(&schema).unwrap_or_else(|_| "{}".to_string());
    printer.data(&format!("{text}\n"));
    Ok(ExitCode::from(EXIT_OK))
}
