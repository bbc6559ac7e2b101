//! `emrstack import ADDRESS ID` and `emrstack import --all`: load the stack,
//! let `adopt::import` decide, print what it decided, confirm (`--all`),
//! write; under the stack lock.

use std::process::ExitCode;

use crate::adopt::import::{self, Adoption, ImportError, Outcome, Survey};
use crate::apply::Halt;
use crate::aws::AwsCloud;
use crate::model::{Address, Desired};
use crate::observe::ObserveOptions;

use super::super::EXIT_OK;
use super::super::args::{GlobalArgs, LockArgs, ReadArgs, StackArgs};
use super::super::error::{self, CliError, Hints};
use super::super::locking;
use super::super::output::Printer;
use super::super::session::{self, Stack};
use super::apply::confirm;

/// The message for a refused import in the `--all` listing: a refusal as it
/// is, a failed AWS call with advice for its kind.
fn failure(error: &ImportError) -> String {
    match error {
        ImportError::Cloud(error) => error::cloud_failure(error, Hints::default()),
        other => other.to_string(),
    }
}

impl From<ImportError> for CliError {
    fn from(error: ImportError) -> CliError {
        match error {
            ImportError::Cloud(error) => CliError::from(error),
            other => CliError::message(other.to_string()),
        }
    }
}

/// Connects and runs `work` under the stack lock (`command` is what the
/// lock record says is running), printing a failure to connect or to start.
fn with_cloud<F>(
    printer: &Printer,
    global: &GlobalArgs,
    desired: &Desired,
    command: &str,
    lock: &LockArgs,
    work: F,
) -> Result<ExitCode, CliError>
where
    F: AsyncFnOnce(&AwsCloud, Halt) -> Result<ExitCode, CliError>,
{
    session::block_on(async {
        let cloud = session::connect(printer, global, desired.stack.region.as_deref()).await?;
        let cloud = &cloud;
        // An import makes no change a halt could interrupt halfway: a few
        // tag calls per resource, each of which completes or not.
        locking::run_locked(printer, cloud, &desired.stack, command, lock, |halt| async move {
            work(cloud, halt).await
        })
        .await
    })
}

/// Writes one adoption and prints its notes.
async fn write(printer: &Printer, cloud: &AwsCloud, adoption: &Adoption) -> Result<(), CliError> {
    adoption.write(cloud).await.map_err(|error| {
        CliError::cloud(
            format!("importing {} as `{}` failed", adoption.subject, adoption.address),
            error,
        )
    })?;
    printer.message(&adoption.done());
    for note in &adoption.notes {
        printer.message(note);
    }
    Ok(())
}

/// Runs `import ADDRESS ID`.
pub(super) fn one(
    printer: &Printer,
    global: &GlobalArgs,
    stack: &StackArgs,
    read: &ReadArgs,
    address: &str,
    id: &str,
    lock: &LockArgs,
) -> Result<ExitCode, CliError> {
    let address: Address = address.parse().map_err(CliError::Message)?;
    let Stack { desired, .. } = session::load_stack(printer, global, stack)?;
    let options = ObserveOptions {
        parallelism: read.parallelism as usize,
    };
    let command = format!("import {address} {id}");
    with_cloud(printer, global, &desired, &command, lock, async |cloud, _halt| {
        let adoption = import::prepare(cloud, &desired, &address, id, &options).await?;
        write(printer, cloud, &adoption).await?;
        Ok(ExitCode::from(EXIT_OK))
    })
}

/// The list `import --all` shows before it asks.
fn listing(desired: &Desired, survey: &Survey) -> String {
    let width = survey
        .entries
        .iter()
        .map(|entry| entry.address.to_string().len())
        .max()
        .unwrap_or(0);
    let mut out = format!("Declared resources of stack `{}`:\n", desired.stack.name);
    for entry in &survey.entries {
        let (sign, text) = match &entry.outcome {
            Outcome::Adopt(adoption) => ("+", format!("{}: {}", adoption.subject, adoption.describe())),
            Outcome::Owned { id } => ("=", format!("`{id}` is already the stack's")),
            Outcome::Missing { name } => (" ", format!("no `{name}` exists; `emrstack apply` creates it")),
            Outcome::Refused(error) => ("!", format!("refused: {}", failure(error))),
        };
        out.push_str(&format!("  {sign} {:<width$}  {text}\n", entry.address.to_string()));
    }
    out
}

/// Runs `import --all`.
pub(super) fn all(
    printer: &Printer,
    global: &GlobalArgs,
    stack: &StackArgs,
    read: &ReadArgs,
    auto_approve: bool,
    lock: &LockArgs,
) -> Result<ExitCode, CliError> {
    let Stack { desired, .. } = session::load_stack(printer, global, stack)?;
    let options = ObserveOptions {
        parallelism: read.parallelism as usize,
    };
    with_cloud(
        printer,
        global,
        &desired,
        "import --all",
        lock,
        async |cloud, mut halt| {
            let survey = import::survey(cloud, &desired, &options).await?;
            if survey.entries.is_empty() {
                printer.message("The stack declares no application or role: nothing to import.");
                return Ok(ExitCode::from(EXIT_OK));
            }
            printer.message(&listing(&desired, &survey));
            let refused = survey.refusals().count();
            if refused > 0 {
                return Err(CliError::message(format!(
                    "{refused} declared resource(s) cannot be imported (marked `!` above); nothing was imported"
                )));
            }
            let adoptions: Vec<&Adoption> = survey.adoptions().collect();
            if adoptions.is_empty() {
                printer.message("Nothing to import.");
                return Ok(ExitCode::from(EXIT_OK));
            }
            let question = format!(
                "Import {} resource(s) into stack `{}`? Each is tagged as the stack's (marked `+` above).",
                adoptions.len(),
                desired.stack.name
            );
            confirm(auto_approve, &question, &mut halt).await?;
            // One at a time: a few calls each, and a failure names its resource.
            let mut failed = 0;
            for adoption in adoptions {
                if let Err(error) = write(printer, cloud, adoption).await {
                    printer.error(&error.to_string());
                    failed += 1;
                }
            }
            if failed > 0 {
                return Err(CliError::message(format!(
                    "{failed} import(s) failed; run `emrstack import --all` again to finish (it skips what is done)"
                )));
            }
            Ok(ExitCode::from(EXIT_OK))
        },
    )
}
