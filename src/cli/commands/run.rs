//! `emrstack run JOB`: upload what the job needs, start it on the stack's
//! own application (found by its tags), follow it with progress on stderr,
//! and report how it ended; SIGINT cancels it.

use serde_json::json;
use tokio::sync::watch;

use crate::apply::Halt;
use crate::observe::{self, ObserveOptions};

use super::super::args::{DataFormat, GlobalArgs, ReadArgs, StackArgs};
use super::super::jobs;
use super::super::output::Printer;
use super::super::session::{self, Stack};
use super::super::{EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK};

/// What `run` was asked.
pub struct RunArgs<'a> {
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
pub fn run(printer: &Printer, global: &GlobalArgs, stack: &StackArgs, read: &ReadArgs, args: &RunArgs<'_>) -> u8 {
    let Some(Stack { desired, .. }) = session::load_stack(printer, global, stack) else {
        return EXIT_ERROR;
    };
    if !desired.jobs.contains_key(args.job) {
        let known: Vec<&str> = desired.jobs.keys().map(String::as_str).collect();
        printer.error(&if known.is_empty() {
            format!("the stack declares no job `{}` (it has no `[jobs.*]`)", args.job)
        } else {
            format!(
                "the stack declares no job `{}`; its jobs are: {}",
                args.job,
                known.join(", ")
            )
        });
        return EXIT_ERROR;
    }
    let artifacts = match jobs::artifacts(&desired, &[args.job.to_string()]) {
        Ok(artifacts) => artifacts,
        Err(error) => {
            printer.error(&error);
            return EXIT_ERROR;
        }
    };
    let token = match jobs::client_token(&desired.stack.name, args.job, args.idempotency_key) {
        Ok(token) => token,
        Err(error) => {
            printer.error(&error);
            return EXIT_ERROR;
        }
    };
    let result = session::block_on(async {
        let halt = signal_halt();
        let Some(cloud) = session::connected(printer, global, desired.stack.region.as_deref()).await else {
            return EXIT_ERROR;
        };
        let options = ObserveOptions {
            parallelism: read.parallelism as usize,
        };
        let observation = match observe::observe(&cloud, &desired, &options).await {
            Ok(observation) => observation,
            Err(error) => {
                printer.error(&session::cloud_failure(&error));
                return EXIT_ERROR;
            }
        };
        let resolved = match jobs::resolve(&desired, &observation.actual, args.job, &artifacts, args.arguments) {
            Ok(resolved) => resolved,
            Err(error) => {
                printer.error(&error);
                return EXIT_ERROR;
            }
        };
        if let Err(error) = jobs::upload(printer, &cloud, &artifacts).await {
            printer.error(&error);
            return EXIT_ERROR;
        }
        if let Some(reason) = halt.reason() {
            printer.error(&format!("{reason}: the job was not started"));
            return EXIT_INTERRUPTED;
        }
        let run_options = jobs::run_options(args.wait, args.timeout);
        let outcome = match jobs::run(printer, &cloud, &resolved, &token, &run_options, halt.clone()).await {
            Ok(outcome) => outcome,
            Err(error) => {
                printer.error(&error);
                return EXIT_ERROR;
            }
        };
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
            return EXIT_OK;
        }
        match &outcome.cancelled {
            Some(crate::apply::jobs::Cancelled::Halt(_)) => EXIT_INTERRUPTED,
            _ if outcome.succeeded() => EXIT_OK,
            _ => EXIT_ERROR,
        }
    });
    result.unwrap_or_else(|error| {
        printer.error(&format!("cannot start the async runtime: {error}"));
        EXIT_ERROR
    })
}
