//! `emrstack man`: manual pages in roff, generated from the clap definitions
//! (clap_mangen): emrstack(1), which lists the commands, and one page per
//! command, emrstack-plan(1) and so on, with its options.

use std::path::Path;
use std::process::ExitCode;

use clap::CommandFactory;

use super::super::EXIT_OK;
use super::super::args::Cli;
use super::super::error::CliError;
use super::super::output::Printer;

/// Prints the page of emrstack, or of `command`, on stdout; or, with `dir`,
/// writes every page into it (made if missing). Returns the exit code.
pub(super) fn run(printer: &Printer, command: Option<&str>, dir: Option<&Path>) -> Result<ExitCode, CliError> {
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)
            .and_then(|()| clap_mangen::generate_to(root(), dir))
            .map_err(|err| CliError::message(format!("cannot write the manual pages to {}: {err}", dir.display())))?;
        printer.message(&format!("wrote the manual pages to {}", dir.display()));
        return Ok(ExitCode::from(EXIT_OK));
    }
    printer.data(&page(command).map_err(CliError::Message)?);
    Ok(ExitCode::from(EXIT_OK))
}

/// The page of emrstack (`None`) or of one of its commands, in roff.
pub(super) fn page(command: Option<&str>) -> Result<String, String> {
    let mut root = root();
    // Built, the commands know their full names (`emrstack-plan`), which
    // the page's title and synopsis use.
    root.build();
    let target = match command {
        None => root,
        Some(name) => root.find_subcommand(name).cloned().ok_or_else(|| {
            let names: Vec<&str> = root.get_subcommands().map(clap::Command::get_name).collect();
            format!("no command `{name}`; the commands are {}", names.join(", "))
        })?,
    };
    let mut roff = Vec::new();
    clap_mangen::Man::new(target)
        .render(&mut roff)
        .map_err(|err| format!("cannot render the manual page: {err}"))?;
    Ok(String::from_utf8_lossy(&roff).into_owned())
}

/// The command line the pages describe: every command but `help`, whose page
/// would only say to read the others.
fn root() -> clap::Command {
    Cli::command().disable_help_subcommand(true)
}
