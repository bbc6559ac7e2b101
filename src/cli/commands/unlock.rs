//! `emrstack unlock LOCK_ID`: removes the stack lock, but only while it
//! still has that ID.

use crate::lock::{self, LockSettings, Unlocked};

use super::super::args::{GlobalArgs, StackArgs};
use super::super::locking::print_lock_error;
use super::super::output::Printer;
use super::super::session::{self, Stack};
use super::super::{EXIT_ERROR, EXIT_OK};

/// Runs `unlock`.
pub fn run(printer: &Printer, global: &GlobalArgs, stack: &StackArgs, lock_id: &str) -> u8 {
    let Some(Stack { desired, .. }) = session::load_stack(printer, global, stack) else {
        return EXIT_ERROR;
    };
    let Some(location) = &desired.stack.lock else {
        printer.error(&format!(
            "stack `{}` has no `[stack] lock`, so there is no lock to remove",
            desired.stack.name
        ));
        return EXIT_ERROR;
    };
    let object = lock::lock_object(location, &desired.stack.name);
    let (settings, problems) = LockSettings::from_vars(|name| std::env::var(name).ok());
    for problem in problems {
        printer.message(&format!("warning: {problem}"));
    }
    let result = session::block_on(async {
        let Some(cloud) = session::connected(printer, global, desired.stack.region.as_deref()).await else {
            return EXIT_ERROR;
        };
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
                EXIT_OK
            }
            Ok(Unlocked::NotHeld) => {
                printer.message(&format!("The stack lock {object} is not held; nothing to remove."));
                EXIT_OK
            }
            Err(error) => {
                print_lock_error(printer, &error, &settings, std::time::Duration::ZERO);
                EXIT_ERROR
            }
        }
    });
    result.unwrap_or_else(|error| {
        printer.error(&format!("cannot start the async runtime: {error}"));
        EXIT_ERROR
    })
}
