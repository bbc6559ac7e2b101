//! Running a command under the stack lock: take it (or say why not), keep
//! its lease while the command works, stop the command when the lease is
//! lost or on SIGINT/SIGTERM, and release the lock on every way out.

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use tokio::sync::watch;

use crate::apply::Halt;
use crate::aws::AwsCloud;
use crate::lock::{self, LockError, LockEvent, LockObserver, LockRequest, LockSettings, Released, Who, human_duration};
use crate::model::StackSettings;

use super::args::LockArgs;
use super::error::CliError;
use super::output::Printer;
use super::{EXIT_INTERRUPTED, EXIT_TERMINATED};

/// Prints lock events on stderr.
struct LockMessages {
    printer: Printer,
}

impl LockObserver for LockMessages {
    fn event(&self, event: &LockEvent) {
        match event {
            LockEvent::Waiting { holder, timeout } => self.printer.message(&format!(
                "Waiting up to {} for the stack lock, held by {}",
                human_duration(*timeout),
                holder.describe()
            )),
            LockEvent::TakingOver { previous } => self.printer.message(&format!(
                "The stack lock's lease ran out; taking it over from {}",
                previous.describe()
            )),
            LockEvent::RenewalFailed { error, retry_in } => self.printer.message(&format!(
                "warning: could not renew the stack lock's lease ({error}); retrying in {}",
                human_duration(*retry_in)
            )),
            LockEvent::Lost { reason } => self
                .printer
                .error(&format!("lost the stack lock: {reason}; no further change will start")),
        }
    }
}

/// Lock settings from the environment, warning about values it ignores.
fn settings(printer: &Printer) -> LockSettings {
    let (settings, problems) = LockSettings::from_vars(|name| std::env::var(name).ok());
    for problem in problems {
        printer.message(&format!("warning: {problem}"));
    }
    settings
}

/// Sends a reason on `halt` at the first SIGINT or SIGTERM (and the exit
/// code it asks for on `code`), and exits at the second: the lock is then
/// left to expire.
fn watch_signals(printer: &Printer, halt: watch::Sender<Option<String>>, code: watch::Sender<Option<u8>>) {
    let printer = printer.clone();
    tokio::spawn(async move {
        let Some(mut signals) = Signals::new() else {
            return;
        };
        let mut first = true;
        while let Some((name, exit)) = signals.next().await {
            if !first {
                printer.error(&format!(
                    "{name} again: exiting now; a stack lock held is released when its lease runs out"
                ));
                std::process::exit(i32::from(exit));
            }
            first = false;
            printer.message(&format!(
                "{name} received: stopping. No new change starts, changes in progress are abandoned, and the stack lock is released. Send it again to exit at once."
            ));
            let _ = code.send(Some(exit));
            let reason = format!("interrupted by {name}");
            halt.send_if_modified(|current| {
                if current.is_none() {
                    *current = Some(reason.clone());
                    true
                } else {
                    false
                }
            });
        }
    });
}

/// SIGINT and SIGTERM as a stream; listening starts when it is made.
#[cfg(unix)]
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn new() -> Option<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Some(Signals {
            interrupt: signal(SignalKind::interrupt()).ok()?,
            terminate: signal(SignalKind::terminate()).ok()?,
        })
    }

    /// The next signal's name and the exit code for it.
    async fn next(&mut self) -> Option<(&'static str, u8)> {
        tokio::select! {
            received = self.interrupt.recv() => received.map(|()| ("SIGINT", EXIT_INTERRUPTED)),
            received = self.terminate.recv() => received.map(|()| ("SIGTERM", EXIT_TERMINATED)),
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn new() -> Option<Signals> {
        Some(Signals)
    }

    async fn next(&mut self) -> Option<(&'static str, u8)> {
        tokio::signal::ctrl_c().await.ok()?;
        Some(("Ctrl-C", EXIT_INTERRUPTED))
    }
}

/// Runs `work` under the stack lock of `stack` for `command`: takes the lock
/// (waiting up to `--lock-timeout`), renews it while `work` runs, and
/// releases it however `work` ends. `work` gets a [`Halt`] that comes when
/// the lease is lost or at SIGINT/SIGTERM, and must wind down when it does.
/// Without `[stack] lock`, or with `--lock=false`, says so and runs `work`
/// without a lock (still halted by signals). After SIGINT or SIGTERM, the
/// exit code is the signal's, whatever `work` returned.
pub(super) async fn run_locked<W, F>(
    printer: &Printer,
    cloud: &AwsCloud,
    stack: &StackSettings,
    command: &str,
    args: &LockArgs,
    work: W,
) -> Result<ExitCode, CliError>
where
    W: FnOnce(Halt) -> F,
    F: Future<Output = Result<ExitCode, CliError>>,
{
    let (halt_tx, halt_rx) = watch::channel(None);
    let (signal_tx, signal_rx) = watch::channel(None);
    watch_signals(printer, halt_tx.clone(), signal_tx);
    let interrupted = |result: Result<ExitCode, CliError>| match *signal_rx.borrow() {
        None => result,
        Some(code) => match result {
            Ok(_) => Ok(ExitCode::from(code)),
            Err(error) => Err(CliError::Interrupted {
                code,
                error: Box::new(error),
            }),
        },
    };
    let Some(location) = stack.lock.as_ref().filter(|_| args.lock) else {
        if stack.lock.is_some() {
            printer.message(
                "warning: --lock=false: the stack lock is not taken, so another run may change this stack at the same time",
            );
        } else {
            printer.message(
                "note: the stack has no `[stack] lock` (nor `artifacts`, where the lock would otherwise live), so nothing stops another run from changing it at the same time (see README.md, \"Locking\")",
            );
        }
        let result = work(Halt::new(halt_rx)).await;
        return interrupted(result);
    };
    let settings = settings(printer);
    let request = LockRequest {
        object: lock::lock_object(location, &stack.name),
        stack: stack.name.clone(),
        command: command.to_string(),
        who: Who::current(),
        timeout: args.lock_timeout,
    };
    let messages = LockMessages {
        printer: printer.clone(),
    };
    let mut stop = halt_rx.clone();
    let held = match lock::acquire(cloud, &request, &settings, &messages, &mut stop).await {
        Ok(held) => held,
        Err(error) => {
            print_lock_error(printer, &error, &settings, args.lock_timeout);
            return interrupted(Err(CliError::Reported));
        }
    };
    let id = held.id().await;
    let waited = if held.waited >= Duration::from_secs(1) {
        format!(" after waiting {}", human_duration(held.waited))
    } else {
        String::new()
    };
    printer.message(&format!(
        "Acquired the stack lock {} (lock ID {id}){waited}.",
        request.object
    ));
    let result = held.hold(work(Halt::new(halt_rx)), &halt_tx, &messages).await;
    let lost = held.lost().await;
    match held.release().await {
        Ok(Released::Deleted) => printer.message("Released the stack lock."),
        Ok(Released::NotOurs { current }) => printer.message(&format!(
            "The stack lock was not released: it is no longer this run's{}.",
            current.map_or_else(String::new, |holder| format!(" (now held by {})", holder.describe()))
        )),
        Err(error) => printer.message(&format!(
            "warning: could not release the stack lock: {error}; it can be taken over once its lease runs out ({} after the last renewal), or removed now with `emrstack unlock {id}`",
            human_duration(settings.lease)
        )),
    }
    // The work has already said how the halt stopped it; a run that got to
    // the end anyway still fails, since its last calls were made without
    // the lock.
    if let Some(reason) = lost
        && matches!(result, Ok(code) if code == ExitCode::SUCCESS)
    {
        return interrupted(Err(CliError::message(format!(
            "lost the stack lock {} before the end: {reason}; run `emrstack plan` to check the result",
            request.object
        ))));
    }
    interrupted(result)
}

/// Prints why the lock could not be taken, with advice.
pub(super) fn print_lock_error(printer: &Printer, error: &LockError, settings: &LockSettings, timeout: Duration) {
    let help = match error {
        LockError::Held { holder, waited, .. } => {
            let waited = if timeout.is_zero() {
                String::new()
            } else {
                format!("gave up after waiting {}; ", human_duration(*waited))
            };
            let unlock = holder
                .id()
                .map(|id| format!(", or remove it now with `emrstack unlock {id}`"))
                .unwrap_or_default();
            format!(
                "{waited}wait for it with `--lock-timeout 10m`; if that run is gone, its lease runs out {} after its last renewal{unlock}",
                human_duration(settings.lease)
            )
        }
        LockError::NoSuchBucket { .. } => {
            "create the bucket, or point `[stack] lock` at an existing one; emrstack never creates buckets".to_string()
        }
        LockError::WrongRegion { client_region, .. } => format!(
            "use a bucket in {client_region} for `[stack] lock` (the stack's region), or run in the bucket's region"
        ),
        LockError::AccessDenied { actions, .. } if actions == &["s3:GetObject"] => {
            "grant the permissions in docs/aws.md, \"The stack lock\"; without `s3:ListBucket`, S3 also answers 403 when the lock object does not exist".to_string()
        }
        LockError::AccessDenied { .. } => "grant the permissions in docs/aws.md, \"The stack lock\"".to_string(),
        LockError::Cancelled { .. } => String::new(),
        LockError::Failed { error, .. } if error.kind.is_retryable() => "try again".to_string(),
        LockError::Failed { .. } | LockError::WrongId { .. } => String::new(),
    };
    printer.error(&error.to_string());
    if !help.is_empty() {
        printer.message(&format!("  help: {help}"));
    }
}
