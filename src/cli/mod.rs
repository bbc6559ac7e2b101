//! The command line: clap definitions, printing and exit codes. Commands are
//! thin: they load inputs, call the library stages and print what those
//! return. Data goes to stdout; diagnostics, progress and logs to stderr.
//! A command that fails returns a [`CliError`], which `main` prints once.

mod args;
mod commands;
mod error;
mod jobs;
mod locking;
mod output;
mod progress;
mod session;

use std::process::ExitCode;

use clap::Parser;

pub use args::{
    Cli, Command, DataFormat, ExecuteArgs, GlobalArgs, LockArgs, OnRunning, OutputFormat, ReadArgs, RunAfterArgs,
    StackArgs,
};
pub use error::CliError;

/// Exit code for success (and, with `--detailed-exitcode`, "no changes").
pub const EXIT_OK: u8 = 0;
/// Exit code for any error: invalid input, failed AWS calls, failed changes.
pub const EXIT_ERROR: u8 = 1;
/// Exit code of `plan --detailed-exitcode` when the plan has changes.
pub const EXIT_CHANGES: u8 = 2;
/// Exit code after SIGINT (Ctrl-C) stopped a command that changes AWS (128 + 2).
pub const EXIT_INTERRUPTED: u8 = 130;
/// Exit code after SIGTERM stopped a command that changes AWS (128 + 15).
pub const EXIT_TERMINATED: u8 = 143;

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    // Usage errors exit 1, not clap's 2: 2 means "the plan has changes"
    // under `plan --detailed-exitcode`, and a CI gate must not mistake one
    // for the other.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let informational = matches!(
                error.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            );
            let _ = error.print();
            return ExitCode::from(if informational { EXIT_OK } else { EXIT_ERROR });
        }
    };
    let printer = output::Printer::new(&cli.global);
    let hints = error::Hints {
        endpoint_given: cli.global.endpoint_url.is_some(),
    };
    match commands::run(&printer, cli) {
        Ok(code) => code,
        Err(failure) => {
            error::report(&printer, hints, &failure);
            ExitCode::from(failure.exit_code())
        }
    }
}
