//! One function per subcommand. Each returns the process exit code, or the
//! [`CliError`] that `cli::main` prints.

mod apply;
mod completions;
mod generate;
mod import;
mod inspect;
mod man;
mod plan;
mod run;
mod schema;
mod unlock;
mod validate;

pub(crate) use validate::load_options;

use std::process::ExitCode;

use super::args::{Cli, Command, RunAfterArgs};
use super::error::CliError;
use super::output::Printer;
use crate::diff::Mode;

/// Dispatches to the subcommand and returns its exit code.
pub(super) fn run(printer: &Printer, cli: Cli) -> Result<ExitCode, CliError> {
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
            lock,
            plan_file,
            runs,
        } => apply::run(
            printer,
            &cli.global,
            &stack,
            &read,
            &execute,
            &lock,
            plan_file.as_deref(),
            Mode::Apply,
            &runs,
        ),
        Command::Destroy {
            stack,
            read,
            execute,
            lock,
        } => apply::run(
            printer,
            &cli.global,
            &stack,
            &read,
            &execute,
            &lock,
            None,
            Mode::Destroy,
            &RunAfterArgs {
                jobs: Vec::new(),
                rollback_on_failure: false,
            },
        ),
        Command::Show { plan_file, format } => inspect::show(printer, &plan_file, format),
        Command::Output { stack, read, format } => inspect::output(printer, &cli.global, &stack, &read, format),
        Command::Import {
            stack,
            read,
            address,
            id,
            all,
            auto_approve,
            lock,
        } => match (all, address, id) {
            (true, _, _) => import::all(printer, &cli.global, &stack, &read, auto_approve, &lock),
            (false, Some(address), Some(id)) => import::one(printer, &cli.global, &stack, &read, &address, &id, &lock),
            // clap requires both without `--all`.
            (false, _, _) => Err(CliError::message("give an ADDRESS and an ID, or --all")),
        },
        Command::Generate {
            read,
            stack_name,
            names,
            tags,
            states,
            roles,
            policy_files,
            out,
            force,
        } => generate::run(
            printer,
            &cli.global,
            generate::Request {
                read,
                stack_name,
                names,
                tags,
                states,
                roles,
                policy_files,
                out,
                force,
            },
        ),
        Command::Run {
            stack,
            read,
            job,
            arguments,
            idempotency_key,
            no_wait,
            timeout,
            format,
        } => run::run(
            printer,
            &cli.global,
            &stack,
            &read,
            &run::RunArgs {
                job: &job,
                arguments: &arguments,
                idempotency_key: idempotency_key.as_deref(),
                wait: !no_wait,
                timeout,
                format,
            },
        ),
        Command::Unlock { stack, lock_id } => unlock::run(printer, &cli.global, &stack, &lock_id),
        Command::Schema => schema::run(printer),
        Command::Completions { shell } => completions::run(printer, shell),
        Command::Man { command, dir } => man::run(printer, command.as_deref(), dir.as_deref()),
    }
}
