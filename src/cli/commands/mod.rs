//! One function per subcommand. Each returns the process exit code.

use super::args::{Cli, Command};
use super::output::Printer;
use super::EXIT_ERROR;

/// Dispatches to the subcommand and returns its exit code.
pub fn run(cli: Cli) -> u8 {
    let printer = Printer::new(&cli.global);
    match cli.command {
        Command::Validate { .. } => not_built(&printer, "validate"),
        Command::Plan { .. } => not_built(&printer, "plan"),
        Command::Apply { .. } => not_built(&printer, "apply"),
        Command::Destroy { .. } => not_built(&printer, "destroy"),
        Command::Show { .. } => not_built(&printer, "show"),
        Command::Output { .. } => not_built(&printer, "output"),
        Command::Import { .. } => not_built(&printer, "import"),
        Command::Schema => not_built(&printer, "schema"),
    }
}

fn not_built(printer: &Printer, command: &str) -> u8 {
    printer.error(&format!("`emrstack {command}` is not built yet"));
    EXIT_ERROR
}
