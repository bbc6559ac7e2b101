//! One function per subcommand. Each returns the process exit code.

mod schema;
mod validate;

use super::EXIT_ERROR;
use super::args::{Cli, Command};
use super::output::Printer;

/// Dispatches to the subcommand and returns its exit code.
pub fn run(cli: Cli) -> u8 {
    let printer = Printer::new(&cli.global);
    match cli.command {
        Command::Validate { stack, format } => validate::run(&printer, &cli.global, &stack, format),
        Command::Plan { .. } => not_built(&printer, "plan"),
        Command::Apply { .. } => not_built(&printer, "apply"),
        Command::Destroy { .. } => not_built(&printer, "destroy"),
        Command::Show { .. } => not_built(&printer, "show"),
        Command::Output { .. } => not_built(&printer, "output"),
        Command::Import { .. } => not_built(&printer, "import"),
        Command::Schema => schema::run(&printer),
    }
}

fn not_built(printer: &Printer, command: &str) -> u8 {
    printer.error(&format!("`emrstack {command}` is not built yet"));
    EXIT_ERROR
}
