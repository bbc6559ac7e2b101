//! `emrstack completions SHELL`: print the shell completion script, generated
//! from the clap definitions, so it lists every command and flag of this
//! version.

use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

use super::super::EXIT_OK;
use super::super::args::Cli;
use super::super::error::CliError;
use super::super::output::Printer;

/// Prints the completion script for `shell` on stdout and returns the exit code.
pub(super) fn run(printer: &Printer, shell: Shell) -> Result<ExitCode, CliError> {
    printer.data(&script(shell));
    Ok(ExitCode::from(EXIT_OK))
}

/// The completion script of `emrstack` for `shell`.
pub(super) fn script(shell: Shell) -> String {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "emrstack", &mut script);
    String::from_utf8_lossy(&script).into_owned()
}
