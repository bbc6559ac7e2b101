//! One function per subcommand. Each returns the process exit code, or the
//! [`CliError`] that `cli::main` prints.

mod apply;
mod inspect;
mod plan;
mod schema;
mod validate;

pub(crate) use validate::load_options;

use std::process::ExitCode;

use super::args::{Cli, Command};
use super::error::CliError;
use super::output::Printer;
use crate::diff::Mode;

/// Dispatches to the subcommand and returns its exit code.
pub fn run(printer: &Printer, cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Validate { stack, format } => validate::run(printer, &cli.global, &stack, format),
        Command::Plan {
            stack,
            read,
            format,
            out,
            detailed_exitcode,
            destroy,
        } => {
            let mode = if destroy { Mode::Destroy } else { Mode::Apply };
            plan::run(
                printer,
                &cli.global,
                &stack,
                &read,
                format,
                out.as_ref(),
                detailed_exitcode,
                mode,
            )
        }
        Command::Apply {
            stack,
            read,
            execute,
            plan_file,
        } => apply::run(
            printer,
            &cli.global,
            &stack,
            &read,
            &execute,
            plan_file.as_deref(),
            Mode::Apply,
        ),
        Command::Destroy { stack, read, execute } => {
            apply::run(printer, &cli.global, &stack, &read, &execute, None, Mode::Destroy)
        }
        Command::Show { plan_file, format } => inspect::show(printer, &plan_file, format),
        Command::Output { stack, read, format } => inspect::output(printer, &cli.global, &stack, &read, format),
        Command::Import { stack, address, id } => inspect::import(printer, &cli.global, &stack, &address, &id),
        Command::Schema => schema::run(printer),
    }
}
