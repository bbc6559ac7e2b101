//! `emrstack apply` and `emrstack destroy`: take the stack lock, plan (or
//! load a saved plan and check it is not stale), confirm, execute, then plan
//! again to check that AWS converged, and release the lock.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use crate::apply::{self, ApplyReport, Halt, Outcome};
use crate::aws::AwsCloud;
use crate::diff::Mode;
use crate::plan::{Plan, fingerprint, secrets};
use crate::planning;
use crate::render;

use super::super::EXIT_OK;
use super::super::args::{ExecuteArgs, GlobalArgs, LockArgs, OutputFormat, ReadArgs, RunAfterArgs, StackArgs};
use super::super::error::CliError;
use super::super::jobs;
use super::super::locking;
use super::super::output::Printer;
use super::super::progress::Progress;
use super::super::session::{self, Stack};

/// Asks for confirmation on a terminal; refuses without one. The answer is
/// read on a thread of its own, so a halt (Ctrl-C, a lost lock) ends the
/// wait for it.
pub(super) async fn confirm(auto_approve: bool, question: &str, halt: &mut Halt) -> Result<(), CliError> {
    if auto_approve {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::message(
            "refusing to change AWS without confirmation: stdin is not a terminal; pass --auto-approve",
        ));
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
        reason = halt.wait() => return Err(CliError::message(format!("{reason}: nothing was changed"))),
    };
    if answer.as_deref().map(str::trim) != Some("yes") {
        return Err(CliError::message("cancelled: nothing was changed"));
    }
    Ok(())
}

/// The summary line of an apply: counts, and the kinds of the failures
/// (`1 failed (throttled)`, `3 failed (2 throttled, 1 access denied)`).
fn summary(report: &ApplyReport, mode: Mode) -> String {
    let verb = match mode {
        Mode::Apply => "Apply",
        Mode::Destroy => "Destroy",
    };
    let state = if report.is_success() { "complete" } else { "failed" };
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for node in &report.outcomes {
        if let Outcome::Failed(error) = &node.outcome {
            *kinds.entry(error.kind_name()).or_insert(0) += 1;
        }
    }
    let failed = match kinds.len() {
        0 => format!("{} failed", report.failed()),
        1 => format!(
            "{} failed ({})",
            report.failed(),
            kinds.keys().copied().collect::<String>()
        ),
        _ => {
            let kinds: Vec<String> = kinds.iter().map(|(kind, count)| format!("{count} {kind}")).collect();
            format!("{} failed ({})", report.failed(), kinds.join(", "))
        }
    };
    format!(
        "{verb} {state}: {} applied, {failed}, {} skipped.",
        report.applied(),
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
) -> Result<ExitCode, CliError> {
    if let Some(reason) = halt.reason() {
        return Err(CliError::message(format!("{reason}: nothing was changed")));
    }
    let options = session::apply_options(read.parallelism, execute);
    let progress = Progress::new(printer, std::io::stderr().is_terminal());
    let report = apply::execute_until(cloud, plan, &options, &progress, halt).await;
    printer.message(&summary(&report, plan.mode));
    for notice in &report.notices {
        printer.message(&format!("Note: {}: {}", notice.address, notice.text));
    }
    if let Some(reason) = &report.halted {
        return Err(CliError::message(format!(
            "stopped: {reason}; changes in progress were abandoned and the rest were not started; run `emrstack plan` to see what is left"
        )));
    }
    // Plan again: after a successful apply there must be nothing left to do.
    let planned = planning::plan(
        cloud,
        &plan.desired,
        plan.mode,
        &session::observe_options(read.parallelism),
    )
    .await
    .map_err(|error| CliError::cloud("could not plan again after applying", error))?;
    match planned.plan {
        Some(after) if !after.has_changes() => {
            printer.message(match plan.mode {
                Mode::Apply => "Converged: AWS matches the stack.",
                Mode::Destroy => "Converged: nothing the stack owns is left.",
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
            return Err(CliError::Reported);
        }
        None => return Err(CliError::message("could not plan again after applying")),
    }
    // The progress lines and the summary name the failures.
    if report.is_success() {
        Ok(ExitCode::from(EXIT_OK))
    } else {
        Err(CliError::Reported)
    }
}

/// The job artifacts of the stack and how many are not in S3 yet.
struct Artifacts {
    list: Vec<crate::artifact::Artifact>,
    missing: usize,
}

/// Checks the `--run` jobs, warns about what a rollback cannot undo, reads
/// the job artifacts and lists them under the plan (HeadObject each).
async fn prepare(printer: &Printer, cloud: &AwsCloud, plan: &Plan, runs: &RunAfterArgs) -> Result<Artifacts, CliError> {
    for job in &runs.jobs {
        if !plan.desired.jobs.contains_key(job) {
            let known: Vec<&str> = plan.desired.jobs.keys().map(String::as_str).collect();
            return Err(CliError::message(format!(
                "`--run {job}`: the stack declares no such job{}",
                if known.is_empty() {
                    String::new()
                } else {
                    format!("; its jobs are: {}", known.join(", "))
                }
            )));
        }
    }
    if runs.rollback_on_failure {
        for (address, what) in crate::plan::rollback::irreversible(plan) {
            printer.message(&format!(
                "Warning: --rollback-on-failure cannot undo this: {address} is {what}."
            ));
        }
    }
    if plan.mode == Mode::Destroy {
        return Ok(Artifacts {
            list: Vec::new(),
            missing: 0,
        });
    }
    let list = jobs::artifacts(&plan.desired, &[])?;
    let missing = jobs::missing(cloud, &list).await?;
    printer.data(&jobs::artifact_lines(&list, &missing));
    Ok(Artifacts {
        missing: missing.iter().filter(|m| **m).count(),
        list,
    })
}

/// Uploads the artifacts, executes the plan, runs the `--run` jobs, and
/// rolls back with `--rollback-on-failure` when a change or a run failed.
#[allow(clippy::too_many_arguments)]
async fn finish(
    printer: &Printer,
    cloud: &AwsCloud,
    plan: &Plan,
    read: &ReadArgs,
    execute: &ExecuteArgs,
    runs: &RunAfterArgs,
    artifacts: &[crate::artifact::Artifact],
    halt: Halt,
) -> Result<ExitCode, CliError> {
    // Nothing was changed if the upload failed.
    jobs::upload(printer, cloud, artifacts).await?;
    let applied = if plan.has_changes() {
        execute_and_check(printer, cloud, plan, read, execute, halt.clone()).await
    } else {
        Ok(ExitCode::from(EXIT_OK))
    };
    if !matches!(applied, Ok(code) if code == ExitCode::from(EXIT_OK)) {
        if runs.rollback_on_failure && halt.reason().is_none() {
            // The failure is told first, then what the rollback did.
            if let Err(error) = &applied {
                printer.error(&error.to_string());
            }
            rollback(printer, cloud, plan, read, execute).await;
            return Err(CliError::Reported);
        }
        return applied;
    }
    if runs.jobs.is_empty() {
        return Ok(ExitCode::from(EXIT_OK));
    }
    if smoke_runs(printer, cloud, plan, read, runs, artifacts, halt.clone()).await? {
        return Ok(ExitCode::from(EXIT_OK));
    }
    if runs.rollback_on_failure && halt.reason().is_none() {
        rollback(printer, cloud, plan, read, execute).await;
    }
    Err(CliError::Reported)
}

/// Runs the `--run` jobs in parallel; true when every one succeeded. The
/// outcome of each is printed; an error is a failure before any job ran.
async fn smoke_runs(
    printer: &Printer,
    cloud: &AwsCloud,
    plan: &Plan,
    read: &ReadArgs,
    runs: &RunAfterArgs,
    artifacts: &[crate::artifact::Artifact],
    halt: Halt,
) -> Result<bool, CliError> {
    let options = crate::observe::ObserveOptions {
        parallelism: read.parallelism as usize,
    };
    let observation = crate::observe::observe(cloud, &plan.desired, &options)
        .await
        .map_err(|error| CliError::cloud("cannot run the jobs", error))?;
    let run_options = jobs::run_options(true, None);
    let mut pending = Vec::new();
    for key in &runs.jobs {
        let resolved = jobs::resolve(&plan.desired, &observation.actual, key, artifacts, &[])?;
        let token = jobs::client_token(&plan.desired.stack.name, key, None)?;
        pending.push((resolved, token));
    }
    let outcomes = futures::future::join_all(
        pending
            .iter()
            .map(|(resolved, token)| jobs::run(printer, cloud, resolved, token, &run_options, halt.clone())),
    )
    .await;
    let mut all_succeeded = true;
    let mut lines = Vec::new();
    for ((resolved, _), outcome) in pending.iter().zip(outcomes) {
        match outcome {
            Ok(outcome) => {
                printer.data(&jobs::human_report(&resolved.key, &outcome, true));
                all_succeeded &= outcome.succeeded();
                lines.push(format!(
                    "  job.{}: {} ({})",
                    resolved.key, outcome.status.state, outcome.run.job_run_id
                ));
            }
            Err(error) => {
                printer.error(&error.to_string());
                all_succeeded = false;
                lines.push(format!("  job.{}: not run", resolved.key));
            }
        }
    }
    printer.message(&format!(
        "Runs {}:\n{}",
        if all_succeeded { "succeeded" } else { "failed" },
        lines.join("\n")
    ));
    Ok(all_succeeded)
}

/// Reverts what `plan` did: plans the stack as it was before and applies
/// that, under the same lifecycle rules, and says what was rolled back.
async fn rollback(printer: &Printer, cloud: &AwsCloud, plan: &Plan, read: &ReadArgs, execute: &ExecuteArgs) {
    let rollback = crate::plan::rollback::before(plan);
    printer.message("Rolling back this apply (--rollback-on-failure).");
    let planned = match planning::plan(
        cloud,
        &rollback.desired,
        Mode::Apply,
        &session::observe_options(read.parallelism),
    )
    .await
    {
        Ok(planned) => planned,
        Err(error) => {
            printer.error(&format!("rollback failed: cannot plan it: {error}"));
            return;
        }
    };
    let Some(undo) = planned.plan.filter(|_| !planned.diagnostics.has_errors()) else {
        session::print_diagnostics(printer, &planned.diagnostics, &crate::diag::Sources::new());
        printer.error("rollback failed: its plan has errors");
        return;
    };
    printer.message(&render::plan::human(
        &undo,
        &render::plan::HumanOptions {
            color: printer.color_stderr,
        },
    ));
    let options = session::apply_options(read.parallelism, execute);
    let progress = Progress::new(printer, std::io::stderr().is_terminal());
    let report = apply::execute_until(cloud, &undo, &options, &progress, Halt::never()).await;
    let mut lines = Vec::new();
    for change in undo.changes.iter().filter(|c| c.action != crate::diff::Action::NoOp) {
        let failed = report
            .outcomes
            .iter()
            .any(|o| o.address.as_ref() == Some(&change.address) && !matches!(o.outcome, apply::Outcome::Applied));
        let why = rollback
            .reverts
            .iter()
            .find(|(address, _)| address == &change.address)
            .map(|(_, what)| *what)
            .unwrap_or("reverted");
        lines.push(format!(
            "  {} ({why}): {}{}",
            change.address,
            change.action,
            if failed { ", FAILED" } else { "" }
        ));
    }
    for (address, what) in &rollback.irreversible {
        lines.push(format!("  {address}: {what} by this apply; cannot be undone"));
    }
    printer.message(&format!(
        "Rollback {}: {} rolled back, {} failed.\n{}",
        if report.is_success() { "complete" } else { "incomplete" },
        report.applied(),
        report.failed(),
        lines.join("\n")
    ));
}

/// Runs `apply` (and `destroy`, with `mode`) and returns the exit code.
#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    printer: &Printer,
    global: &GlobalArgs,
    stack: &StackArgs,
    read: &ReadArgs,
    execute: &ExecuteArgs,
    lock: &LockArgs,
    plan_file: Option<&Path>,
    mode: Mode,
    runs: &RunAfterArgs,
) -> Result<ExitCode, CliError> {
    if let Some(path) = plan_file {
        return run_saved(printer, global, stack, read, execute, lock, path, runs);
    }
    let Stack {
        desired,
        sources,
        spans,
    } = session::load_stack(printer, global, stack)?;
    session::block_on(async {
        let cloud = session::connect(printer, global, desired.stack.region.as_deref()).await?;
        let command = match mode {
            Mode::Apply => "apply",
            Mode::Destroy => "destroy",
        };
        let (cloud, desired, spans, sources) = (&cloud, &desired, &spans, &sources);
        locking::run_locked(printer, cloud, &desired.stack, command, lock, |mut halt| async move {
            let mut planned = planning::plan(cloud, desired, mode, &session::observe_options(read.parallelism)).await?;
            session::print_discovery(printer, &planned.discovery, cloud);
            session::place(&mut planned.diagnostics, spans);
            session::print_diagnostics(printer, &planned.diagnostics, sources);
            let plan = planned.plan.ok_or(CliError::Reported)?;
            if planned.diagnostics.has_errors() {
                return Err(CliError::message("the plan has errors; nothing was changed"));
            }
            printer.data(&super::plan::rendered(&plan, OutputFormat::Human, printer.color_stdout));
            let artifacts = prepare(printer, cloud, &plan, runs).await?;
            if !plan.has_changes() && artifacts.missing == 0 && runs.jobs.is_empty() {
                return Ok(ExitCode::from(EXIT_OK));
            }
            if plan.has_changes() || artifacts.missing > 0 {
                let question = match mode {
                    Mode::Apply => "Do you want to perform these actions?",
                    Mode::Destroy => "Do you really want to destroy everything this stack owns?",
                };
                confirm(execute.auto_approve, question, &mut halt).await?;
            }
            finish(printer, cloud, &plan, read, execute, runs, &artifacts.list, halt).await
        })
        .await
    })
}

/// Applies a saved plan, if AWS still looks exactly as it did when the plan
/// was made, under the stack lock the plan's stack names.
#[allow(clippy::too_many_arguments)]
fn run_saved(
    printer: &Printer,
    global: &GlobalArgs,
    stack: &StackArgs,
    read: &ReadArgs,
    execute: &ExecuteArgs,
    lock: &LockArgs,
    path: &Path,
    runs: &RunAfterArgs,
) -> Result<ExitCode, CliError> {
    let mut plan = Plan::load(path).map_err(|error| CliError::message(error.to_string()))?;
    if secrets::has_redacted(&plan) {
        // The plan file holds hashes of secret values; the stack file holds
        // the values themselves.
        let Ok(loaded) = session::load_stack(printer, global, stack) else {
            return Err(CliError::message(
                "the plan has secret values that only the stack file holds; fix the stack file first",
            ));
        };
        secrets::restore_plan(&mut plan, &loaded.desired)
            .map_err(|error| CliError::message(format!("{error}; plan again")))?;
    }
    if let Some(region) = &global.region
        && region != &plan.region
    {
        return Err(CliError::message(format!(
            "the plan is for region {}, not {region}",
            plan.region
        )));
    }
    session::block_on(async {
        let cloud = session::connect(printer, global, Some(&plan.region)).await?;
        let command = format!("apply {}", path.display());
        let (cloud, plan) = (&cloud, &plan);
        // The check that the plan is not stale runs under the lock, so no
        // other run can change AWS between the check and the apply.
        locking::run_locked(printer, cloud, &plan.desired.stack, &command, lock, |halt| async move {
            let options = crate::observe::ObserveOptions {
                parallelism: read.parallelism as usize,
            };
            let observation = crate::observe::observe(cloud, &plan.desired, &options).await?;
            if observation.actual.account_id != plan.account_id {
                return Err(CliError::message(format!(
                    "the plan is for account {}, but the credentials are for account {}",
                    plan.account_id, observation.actual.account_id
                )));
            }
            if fingerprint(&observation.actual) != plan.fingerprint {
                return Err(CliError::message(format!(
                    "stale plan: AWS has changed since `{}` was made, so it may no longer do what was reviewed; run `emrstack plan` again",
                    path.display()
                )));
            }
            printer.data(&super::plan::rendered(plan, OutputFormat::Human, printer.color_stdout));
            let artifacts = prepare(printer, cloud, plan, runs).await?;
            if !plan.has_changes() && artifacts.missing == 0 && runs.jobs.is_empty() {
                return Ok(ExitCode::from(EXIT_OK));
            }
            finish(printer, cloud, plan, read, execute, runs, &artifacts.list, halt).await
        })
        .await
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::{ChangeError, NodeOutcome};
    use crate::cloud::{CloudError, ErrorKind};
    use crate::graph::Phase;

    fn node(outcome: Outcome) -> NodeOutcome {
        NodeOutcome {
            address: None,
            phase: Phase::Main,
            outcome,
        }
    }

    fn cloud(kind: ErrorKind) -> Outcome {
        Outcome::Failed(ChangeError::Cloud(CloudError::new(kind, "UpdateApplication", "x")))
    }

    #[test]
    fn the_summary_counts_failures_by_kind() {
        let mut report = ApplyReport::default();
        report.outcomes.push(node(Outcome::Applied));
        assert_eq!(
            summary(&report, Mode::Apply),
            "Apply complete: 1 applied, 0 failed, 0 skipped."
        );
        report.outcomes.push(node(cloud(ErrorKind::Throttled)));
        assert_eq!(
            summary(&report, Mode::Apply),
            "Apply failed: 1 applied, 1 failed (throttled), 0 skipped."
        );
        report.outcomes.push(node(cloud(ErrorKind::AccessDenied)));
        report.outcomes.push(node(cloud(ErrorKind::Throttled)));
        report
            .outcomes
            .push(node(Outcome::Failed(ChangeError::RunningJobs("j".to_string()))));
        report.outcomes.push(node(Outcome::Skipped("`a` failed".to_string())));
        assert_eq!(
            summary(&report, Mode::Destroy),
            "Destroy failed: 1 applied, 4 failed (1 access denied, 1 running jobs, 2 throttled), 1 skipped."
        );
    }
}
