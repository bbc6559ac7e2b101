//! `emrstack run JOB`: upload what the job needs, start it on the stack's
//! own application (found by its tags), follow it with progress on stderr,
//! and report how it ended; SIGINT cancels it.

use std::process::ExitCode;

use serde_json::json;
use tokio::sync::watch;

use crate::apply::Halt;
use crate::observe::{self, ObserveOptions};

use super::super::args::{DataFormat, GlobalArgs, ReadArgs, StackArgs};
use super::super::error::CliError;
use super::super::jobs;
use super::super::output::Printer;
use super::super::session::{self, Stack};
use super::super::{EXIT_INTERRUPTED, EXIT_OK};

/// What `run` was asked.
pub(super) struct RunArgs<'a> {
    pub job: &'a str,
    pub arguments: &'a [String],
    pub idempotency_key: Option<&'a str>,
    pub wait: bool,
    pub timeout: Option<u64>,
    pub format: DataFormat,
}

/// A halt that comes with SIGINT (or SIGTERM).
fn signal_halt() -> Halt {
    let (sender, receiver) = watch::channel(None);
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut interrupt), Ok(mut terminate)) =
                (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
            else {
                return;
            };
            let reason = tokio::select! {
                _ = interrupt.recv() => "interrupted (SIGINT)",
                _ = terminate.recv() => "terminated (SIGTERM)",
            };
            let _ = sender.send(Some(reason.to_string()));
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = sender.send(Some("interrupted (Ctrl-C)".to_string()));
            }
        }
    });
    Halt::new(receiver)
}

/// Runs `run` and returns the exit code.
pub(super) fn run(
    printer: &Printer,
    global: &GlobalArgs,
    stack: &StackArgs,
    read: &ReadArgs,
    args: &RunArgs<'_>,
) -> Result<ExitCode, CliError> {
    let Stack { desired, .. } = session::load_stack(printer, global, stack)?;
    if !desired.jobs.contains_key(args.job) {
        let known: Vec<&str> = desired.jobs.keys().map(String::as_str).collect();
        return Err(CliError::message(if known.is_empty() {
            format!("the stack declares no job `{}` (it has no `[jobs.*]`)", args.job)
        } else {
            format!(
                "the stack declares no job `{}`; its jobs are: {}",
                args.job,
                known.join(", ")
            )
        }));
    }
    let artifacts = jobs::artifacts(&desired, &[args.job.to_string()])?;
    let token = jobs::client_token(&desired.stack.name, args.job, args.idempotency_key)?;
    session::block_on(async {
        let halt = signal_halt();
        let cloud = session::connect(printer, global, desired.stack.region.as_deref()).await?;
        let options = ObserveOptions {
            parallelism: read.parallelism as usize,
        };
        let observation = observe::observe(&cloud, &desired, &options).await?;
        let resolved = jobs::resolve(&desired, &observation.actual, args.job, &artifacts, args.arguments)?;
        jobs::upload(printer, &cloud, &artifacts).await?;
        if let Some(reason) = halt.reason() {
            return Err(CliError::Interrupted {
                code: EXIT_INTERRUPTED,
                error: Box::new(CliError::message(format!("{reason}: the job was not started"))),
            });
        }
        let run_options = jobs::run_options(args.wait, args.timeout);
        let outcome = jobs::run(printer, &cloud, &resolved, &token, &run_options, halt.clone()).await?;
        match args.format {
            DataFormat::Human => printer.data(&jobs::human_report(args.job, &outcome, args.wait)),
            DataFormat::Json => {
                let report = jobs::json_report(args.job, &outcome, args.wait);
                printer.data(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&report).unwrap_or_else(|_| json!(null).to_string())
                ));
            }
        }
        if !args.wait {
            return Ok(ExitCode::from(EXIT_OK));
        }
        // The report says how the run ended.
        match &outcome.cancelled {
            Some(crate::apply::jobs::Cancelled::Halt(_)) => Ok(ExitCode::from(EXIT_INTERRUPTED)),
            _ if outcome.succeeded() => Ok(ExitCode::from(EXIT_OK)),
            _ => Err(CliError::Reported),
        }
    })
}
