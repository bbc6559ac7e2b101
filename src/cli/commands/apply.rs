//! `emrstack apply` and `emrstack destroy`: take the stack lock, plan (or
//! load a saved plan and check it is not stale), confirm, execute, then plan
//! again to check that AWS converged, and release the lock.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use crate::apply::{self, ApplyReport, Halt};
use crate::aws::AwsCloud;
use crate::diff::Mode;
use crate::plan::{Plan, PlanMode, fingerprint, secrets};
use crate::render;

use super::super::args::{ExecuteArgs, GlobalArgs, LockArgs, OutputFormat, ReadArgs, StackArgs};
use super::super::locking;
use super::super::output::Printer;
use super::super::progress::Progress;
use super::super::session::{self, Stack};
use super::super::{EXIT_ERROR, EXIT_OK};

/// Asks for confirmation on a terminal; refuses without one. The answer is
/// read on a thread of its own, so a halt (Ctrl-C, a lost lock) ends the
/// wait for it.
async fn confirm(printer: &Printer, execute: &ExecuteArgs, question: &str, halt: &mut Halt) -> bool {
    if execute.auto_approve {
        return true;
    }
    if !std::io::stdin().is_terminal() {
        printer.error("refusing to change AWS without confirmation: stdin is not a terminal; pass --auto-approve");
        return false;
    }
    let mut stderr = std::io::stderr();
    let _ = write!(
        stderr,
        "\n{question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    );
    let _ = stderr.flush();
    let (sender, receiver) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut answer = String::new();
        let read = std::io::stdin().lock().read_line(&mut answer).map(|_| answer);
        let _ = sender.send(read);
    });
    let answer = tokio::select! {
        answer = receiver => answer.ok().and_then(Result::ok),
        reason = halt.wait() => {
            printer.error(&format!("{reason}: nothing was changed"));
            return false;
        }
    };
    if answer.as_deref().map(str::trim) != Some("yes") {
        printer.error("cancelled: nothing was changed");
        return false;
    }
    true
}

fn summary(report: &ApplyReport, mode: PlanMode) -> String {
    let verb = match mode {
        PlanMode::Apply => "Apply",
        PlanMode::Destroy => "Destroy",
    };
    let state = if report.is_success() { "complete" } else { "failed" };
    format!(
        "{verb} {state}: {} applied, {} failed, {} skipped.",
        report.applied(),
        report.failed(),
        report.skipped()
    )
}

/// Executes and then checks convergence; returns the exit code. A halt
/// stops the execution (see `apply::execute_until`) and skips the check.
async fn execute_and_check(
    printer: &Printer,
    cloud: &AwsCloud,
    plan: &Plan,
    read: &ReadArgs,
    execute: &ExecuteArgs,
    halt: Halt,
) -> u8 {
    if let Some(reason) = halt.reason() {
        printer.error(&format!("{reason}: nothing was changed"));
        return EXIT_ERROR;
    }
    let options = session::apply_options(read.parallelism, execute);
    let progress = Progress::new(printer, std::io::stderr().is_terminal());
    let report = apply::execute_until(cloud, plan, &options, &progress, halt).await;
    printer.message(&summary(&report, plan.mode));
    for notice in &report.notices {
        printer.message(&format!("Note: {}: {}", notice.address, notice.text));
    }
    if let Some(reason) = &report.halted {
        printer.error(&format!(
            "stopped: {reason}; changes in progress were abandoned and the rest were not started; run `emrstack plan` to see what is left"
        ));
        return EXIT_ERROR;
    }
    let mode = match plan.mode {
        PlanMode::Apply => Mode::Apply,
        PlanMode::Destroy => Mode::Destroy,
    };
    // Plan again: after a successful apply there must be nothing left to do.
    match session::make_plan(cloud, &plan.desired, mode, read.parallelism).await {
        Ok(planned) => match planned.plan {
            Some(after) if !after.has_changes() => {
                printer.message(match plan.mode {
                    PlanMode::Apply => "Converged: AWS matches the stack.",
                    PlanMode::Destroy => "Converged: nothing the stack owns is left.",
                });
            }
            Some(after) => {
                printer.message("Not converged; a new plan still has changes:");
                printer.message(&render::plan::human(
                    &after,
                    &render::plan::HumanOptions {
                        color: printer.color_stderr,
                    },
                ));
                return EXIT_ERROR;
            }
            None => {
                printer.error("could not plan again after applying");
                return EXIT_ERROR;
            }
        },
        Err(error) => {
            printer.error(&format!(
                "could not plan again after applying: {}",
                session::cloud_failure(&error)
            ));
            return EXIT_ERROR;
        }
    }
    if report.is_success() { EXIT_OK } else { EXIT_ERROR }
}

/// Runs `apply` (and `destroy`, with `mode`) and returns the exit code.
#[allow(clippy::too_many_arguments)]
pub fn run(
    printer: &Printer,
    global: &GlobalArgs,
    stack: &StackArgs,
    read: &ReadArgs,
    execute: &ExecuteArgs,
    lock: &LockArgs,
    plan_file: Option<&Path>,
    mode: Mode,
) -> u8 {
    if let Some(path) = plan_file {
        return run_saved(printer, global, stack, read, execute, lock, path);
    }
    let Some(Stack {
        desired,
        sources,
        spans,
    }) = session::load_stack(printer, global, stack)
    else {
        return EXIT_ERROR;
    };
    let result = session::block_on(async {
        let Some(cloud) = session::connected(printer, global, desired.stack.region.as_deref()).await else {
            return EXIT_ERROR;
        };
        let command = match mode {
            Mode::Apply => "apply",
            Mode::Destroy => "destroy",
        };
        let (cloud, desired, spans, sources) = (&cloud, &desired, &spans, &sources);
        locking::run_locked(printer, cloud, &desired.stack, command, lock, |mut halt| async move {
            let mut planned = match session::make_plan(cloud, desired, mode, read.parallelism).await {
                Ok(planned) => planned,
                Err(error) => {
                    printer.error(&session::cloud_failure(&error));
                    return EXIT_ERROR;
                }
            };
            session::print_discovery(printer, &planned.discovery, cloud);
            session::place(&mut planned.diagnostics, spans);
            session::print_diagnostics(printer, &planned.diagnostics, sources);
            let Some(plan) = planned.plan else {
                return EXIT_ERROR;
            };
            if planned.diagnostics.has_errors() {
                printer.error("the plan has errors; nothing was changed");
                return EXIT_ERROR;
            }
            printer.data(&super::plan::rendered(&plan, OutputFormat::Human, printer.color_stdout));
            if !plan.has_changes() {
                return EXIT_OK;
            }
            let question = match mode {
                Mode::Apply => "Do you want to perform these actions?",
                Mode::Destroy => "Do you really want to destroy everything this stack owns?",
            };
            if !confirm(printer, execute, question, &mut halt).await {
                return EXIT_ERROR;
            }
            execute_and_check(printer, cloud, &plan, read, execute, halt).await
        })
        .await
    });
    result.unwrap_or_else(|error| {
        printer.error(&format!("cannot start the async runtime: {error}"));
        EXIT_ERROR
    })
}

/// Applies a saved plan, if AWS still looks exactly as it did when the plan
/// was made, under the stack lock the plan's stack names.
fn run_saved(
    printer: &Printer,
    global: &GlobalArgs,
    stack: &StackArgs,
    read: &ReadArgs,
    execute: &ExecuteArgs,
    lock: &LockArgs,
    path: &Path,
) -> u8 {
    let mut plan = match Plan::load(path) {
        Ok(plan) => plan,
        Err(error) => {
            printer.error(&error.to_string());
            return EXIT_ERROR;
        }
    };
    if secrets::has_redacted(&plan) {
        // The plan file holds hashes of secret values; the stack file holds
        // the values themselves.
        let Some(loaded) = session::load_stack(printer, global, stack) else {
            printer.error("the plan has secret values that only the stack file holds; fix the stack file first");
            return EXIT_ERROR;
        };
        if let Err(error) = secrets::restore_plan(&mut plan, &loaded.desired) {
            printer.error(&format!("{error}; plan again"));
            return EXIT_ERROR;
        }
    }
    if let Some(region) = &global.region
        && region != &plan.region
    {
        printer.error(&format!("the plan is for region {}, not {region}", plan.region));
        return EXIT_ERROR;
    }
    let result = session::block_on(async {
        let Some(cloud) = session::connected(printer, global, Some(&plan.region)).await else {
            return EXIT_ERROR;
        };
        let command = format!("apply {}", path.display());
        let (cloud, plan) = (&cloud, &plan);
        // The check that the plan is not stale runs under the lock, so no
        // other run can change AWS between the check and the apply.
        locking::run_locked(printer, cloud, &plan.desired.stack, &command, lock, |halt| async move {
            let options = crate::observe::ObserveOptions {
                parallelism: read.parallelism as usize,
            };
            let observation = match crate::observe::observe(cloud, &plan.desired, &options).await {
                Ok(observation) => observation,
                Err(error) => {
                    printer.error(&session::cloud_failure(&error));
                    return EXIT_ERROR;
                }
            };
            if observation.actual.account_id != plan.account_id {
                printer.error(&format!(
                    "the plan is for account {}, but the credentials are for account {}",
                    plan.account_id, observation.actual.account_id
                ));
                return EXIT_ERROR;
            }
            if fingerprint(&observation.actual) != plan.fingerprint {
                printer.error(&format!(
                    "stale plan: AWS has changed since `{}` was made, so it may no longer do what was reviewed; run `emrstack plan` again",
                    path.display()
                ));
                return EXIT_ERROR;
            }
            printer.data(&super::plan::rendered(plan, OutputFormat::Human, printer.color_stdout));
            if !plan.has_changes() {
                return EXIT_OK;
            }
            execute_and_check(printer, cloud, plan, read, execute, halt).await
        })
        .await
    });
    result.unwrap_or_else(|error| {
        printer.error(&format!("cannot start the async runtime: {error}"));
        EXIT_ERROR
    })
}
