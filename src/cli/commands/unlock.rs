//! `emrstack unlock LOCK_ID`: removes the stack lock, but only while it
//! still has that ID.

use std::process::ExitCode;

use crate::lock::{self, LockSettings, Unlocked};

use super::super::EXIT_OK;
use super::super::args::{GlobalArgs, StackArgs};
use super::super::error::CliError;
use super::super::locking::print_lock_error;
use super::super::output::Printer;
use super::super::session::{self, Stack};

/// Runs `unlock`.
pub(super) fn run(
    printer: &Printer,
    global: &GlobalArgs,
    stack: &StackArgs,
    lock_id: &str,
) -> Result<ExitCode, CliError> {
    let Stack { desired, .. } = session::load_stack(printer, global, stack)?;
    let Some(location) = &desired.stack.lock else {
        return Err(CliError::message(format!(
            "stack `{}` has no `[stack] lock` (nor `artifacts`), so there is no lock to remove",
            desired.stack.name
        )));
    };
    let object = lock::lock_object(location, &desired.stack.name);
    let (settings, problems) = LockSettings::from_vars(|name| std::env::var(name).ok());
    for problem in problems {
        printer.message(&format!("warning: {problem}"));
    }
    session::block_on(async {
        let cloud = session::connect(printer, global, desired.stack.region.as_deref()).await?;
        match lock::unlock(&cloud, &object, lock_id.trim(), &settings).await {
            Ok(Unlocked::Deleted { holder }) => {
                printer.message(&format!(
                    "Removed the stack lock {object}, held by {}.",
                    holder.describe()
                ));
                if !holder.expired {
                    printer.message(
                        "warning: its lease was still being renewed: if that run is still going, it stops at its next renewal, abandoning the changes it has in progress",
                    );
                }
                Ok(ExitCode::from(EXIT_OK))
            }
            Ok(Unlocked::NotHeld) => {
                printer.message(&format!("The stack lock {object} is not held; nothing to remove."));
                Ok(ExitCode::from(EXIT_OK))
            }
            Err(error) => {
                print_lock_error(printer, &error, &settings, std::time::Duration::ZERO);
                Err(CliError::Reported)
            }
        }
    })
}
