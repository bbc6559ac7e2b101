//! What `run`, `apply --run`, `plan` and `output` share about jobs: finding
//! a job's application and role among what the stack owns, its artifacts and
//! their state in S3, the StartJobRun request, running it with progress on
//! stderr, and the report of a run (human and JSON).

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};

use crate::apply::Halt;
use crate::apply::jobs::{self, Cancelled, RunContext, RunOptions, RunOutcome, UploadOutcome};
use crate::artifact::{self, Artifact};
use crate::aws::AwsCloud;
use crate::cloud::{ObjectStore, StoreError};
use crate::model::{Actual, Address, Desired, JobRole, JobRunRequest};

use super::error::CliError;
use super::output::Printer;

/// A job resolved against AWS: its application and role identifiers.
pub(super) struct Resolved {
    pub key: String,
    pub request: JobRunRequest,
    pub context: RunContext,
}

/// Every local file of `jobs` (all when empty), read and hashed.
pub(super) fn artifacts(desired: &Desired, jobs: &[String]) -> Result<Vec<Artifact>, CliError> {
    artifact::for_jobs(desired, jobs).map_err(|error| CliError::message(error.to_string()))
}

/// A failed S3 call during `doing`: a classified AWS error keeps its kind
/// (and the advice that goes with it).
fn store_failure(doing: String, error: StoreError) -> CliError {
    match error {
        StoreError::Cloud(error) => CliError::cloud(doing, error),
        other => CliError::message(format!("{doing}: {other}")),
    }
}

/// Which of `artifacts` are missing from S3 (HeadObject each).
pub(super) async fn missing(cloud: &AwsCloud, artifacts: &[Artifact]) -> Result<Vec<bool>, CliError> {
    let mut out = Vec::new();
    for artifact in artifacts {
        let found = cloud
            .head_object(&artifact.object)
            .await
            .map_err(|error| store_failure(format!("cannot look for {}", artifact.uri()), error))?;
        out.push(found.is_none());
    }
    Ok(out)
}

/// The plan's artifact section: what `apply` would upload.
pub(super) fn artifact_lines(artifacts: &[Artifact], missing: &[bool]) -> String {
    if artifacts.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nJob artifacts:\n");
    let mut uploads = 0;
    for (artifact, missing) in artifacts.iter().zip(missing) {
        let (mark, what) = if *missing {
            uploads += 1;
            ("+", "upload")
        } else {
            ("=", "in S3")
        };
        out.push_str(&format!(
            "  {mark} {} -> {} ({what}, {} bytes)\n",
            artifact.source.display(),
            artifact.uri(),
            artifact.body.len()
        ));
    }
    out.push_str(&format!(
        "Artifacts: {uploads} to upload, {} already in S3.\n",
        artifacts.len() - uploads
    ));
    out
}

/// Uploads what is missing and says so on stderr.
pub(super) async fn upload(
    printer: &Printer,
    cloud: &AwsCloud,
    artifacts: &[Artifact],
) -> Result<Vec<UploadOutcome>, CliError> {
    let outcomes = jobs::upload(cloud, artifacts)
        .await
        .map_err(|error| store_failure("cannot upload job artifacts".to_string(), error))?;
    for outcome in &outcomes {
        if outcome.uploaded {
            printer.message(&format!(
                "Uploaded {} to {} ({} bytes).",
                outcome.source.display(),
                outcome.uri,
                outcome.size
            ));
        } else if printer.verbose > 0 {
            printer.message(&format!(
                "{} is in S3 already: {}",
                outcome.source.display(),
                outcome.uri
            ));
        }
    }
    Ok(outcomes)
}

/// The StartJobRun request of job `key` against what AWS holds, or why
/// there is none (the application has not been applied, the role is missing).
pub(super) fn resolve(
    desired: &Desired,
    actual: &Actual,
    key: &str,
    artifacts: &[Artifact],
    extra_arguments: &[String],
) -> Result<Resolved, CliError> {
    let Some(job) = desired.jobs.get(key) else {
        let known: Vec<&str> = desired.jobs.keys().map(String::as_str).collect();
        return Err(CliError::Message(if known.is_empty() {
            format!("the stack declares no job `{key}` (it has no `[jobs.*]`)")
        } else {
            format!("the stack declares no job `{key}`; its jobs are: {}", known.join(", "))
        }));
    };
    let stack = desired.stack.name.as_str();
    let address = Address::application(&job.application);
    let app = actual
        .applications
        .iter()
        .find(|app| app.owner().address_in(stack) == Some(&address))
        .ok_or_else(|| {
            CliError::Message(format!(
                "application `{}` of job `{key}` has not been applied (no application carries the tags of `{address}` in stack `{stack}`); run `emrstack apply` first",
                job.application
            ))
        })?;
    let role_arn = match &job.role {
        JobRole::Arn { arn } => arn.clone(),
        JobRole::Key { key: role } => {
            let address = Address::role(role);
            actual
                .roles
                .iter()
                .find(|observed| observed.owner().address_in(stack) == Some(&address))
                .map(|observed| observed.arn.clone())
                .ok_or_else(|| {
                    CliError::Message(format!(
                        "role `{role}` of job `{key}` has not been applied; run `emrstack apply` first"
                    ))
                })?
        }
    };
    let request = job
        .request(key, &artifact::uploaded(artifacts), &app.id, &role_arn, extra_arguments)
        .map_err(CliError::Message)?;
    let monitoring = &app.spec.monitoring;
    Ok(Resolved {
        key: key.to_string(),
        request,
        context: RunContext {
            engine: job.engine,
            application_log_uri: monitoring.s3.as_ref().and_then(|s3| s3.log_uri.clone()),
            application_cloudwatch: monitoring.cloudwatch.as_ref().and_then(|c| c.destination()),
        },
    })
}

/// The client token of a run: random per invocation, or derived from
/// `--idempotency-key`, the stack and the job, so a CI step run again with
/// the same key (its run ID) starts no second run.
pub(super) fn client_token(stack: &str, job: &str, idempotency_key: Option<&str>) -> Result<String, CliError> {
    match idempotency_key {
        Some(key) => Ok(crate::apply::client_token(&["emrstack run", stack, job, key])),
        None => {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes)
                .map_err(|error| CliError::message(format!("no random client token: {error}")))?;
            Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
        }
    }
}

/// Run options from the command line and, for tests and tuning,
/// `EMRSTACK_JOB_POLL_INTERVAL_MS`.
pub(super) fn run_options(wait: bool, timeout: Option<u64>) -> RunOptions {
    let poll = std::env::var("EMRSTACK_JOB_POLL_INTERVAL_MS")
        .ok()
        .and_then(|text| text.trim().parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_secs(5));
    RunOptions {
        wait,
        timeout: timeout.map(Duration::from_secs),
        poll_interval: poll,
        ..RunOptions::default()
    }
}

/// Progress of one run on stderr: a spinner on a terminal, a line per state otherwise.
struct RunProgress {
    printer: Printer,
    label: String,
    bar: Option<ProgressBar>,
    last: Mutex<String>,
}

impl RunProgress {
    fn new(printer: &Printer, label: &str) -> RunProgress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        RunProgress {
            printer: printer.clone(),
            label: label.to_string(),
            bar,
            last: Mutex::new(String::new()),
        }
    }

    fn state(&self, state: &str, elapsed: Duration) {
        let line = format!("{}: {state} after {:.1}s", self.label, elapsed.as_secs_f64());
        if let Ok(mut last) = self.last.lock() {
            *last = state.to_string();
        }
        match &self.bar {
            Some(bar) => {
                bar.println(&line);
                bar.set_message(format!("{}: {state}", self.label));
            }
            None => self.printer.message(&line),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Starts and follows one resolved job run.
pub(super) async fn run(
    printer: &Printer,
    cloud: &AwsCloud,
    resolved: &Resolved,
    client_token: &str,
    options: &RunOptions,
    halt: Halt,
) -> Result<RunOutcome, CliError> {
    let progress = RunProgress::new(printer, &format!("job.{}", resolved.key));
    let report = |state: &str, elapsed: Duration| progress.state(state, elapsed);
    let outcome = jobs::run(
        cloud,
        cloud,
        &resolved.request,
        client_token,
        &resolved.context,
        options,
        halt,
        &report,
    )
    .await;
    progress.finish();
    outcome.map_err(|error| CliError::cloud(format!("job `{}`", resolved.key), error))
}

fn hours(value: f64) -> String {
    format!("{value:.3}")
}

/// The report of a finished (or started, with `--no-wait`) run, for people.
pub(super) fn human_report(key: &str, outcome: &RunOutcome, waited: bool) -> String {
    let mut out = String::new();
    out.push_str(&format!("Job {key}: run {}\n", outcome.run.job_run_id));
    if !waited {
        out.push_str(&format!("  state      {} (not waited for)\n", outcome.status.state));
        return out;
    }
    out.push_str(&format!("  state      {}\n", outcome.status.state));
    if let Some(details) = &outcome.status.state_details {
        out.push_str(&format!("  details    {details}\n"));
    }
    match &outcome.cancelled {
        Some(Cancelled::Timeout) => out.push_str("  cancelled  by emrstack: --timeout expired\n"),
        Some(Cancelled::Halt(reason)) => out.push_str(&format!("  cancelled  by emrstack: {reason}\n")),
        None => {}
    }
    let duration = outcome
        .status
        .duration_seconds
        .map(|s| format!("{s}s"))
        .unwrap_or_else(|| "unknown".to_string());
    out.push_str(&format!(
        "  duration   {duration} (waited {:.1}s)\n",
        outcome.elapsed.as_secs_f64()
    ));
    if let Some(billed) = &outcome.status.billed {
        out.push_str(&format!(
            "  billed     {} vCPU-hours, {} memory GB-hours, {} storage GB-hours\n",
            hours(billed.vcpu_hours),
            hours(billed.memory_gb_hours),
            hours(billed.storage_gb_hours)
        ));
    }
    if let Some(url) = &outcome.dashboard {
        out.push_str(&format!("  dashboard  {url}\n"));
    }
    if let Some(log) = &outcome.log {
        if let Some(uri) = &log.s3_uri {
            out.push_str(&format!("  driver log {uri}\n"));
        }
        if let Some(place) = &log.cloudwatch {
            out.push_str(&format!("  CloudWatch {place}\n"));
        }
        if let Some(problem) = &log.problem {
            out.push_str(&format!("  (driver log: {problem})\n"));
        }
        if !log.tail.is_empty() {
            out.push_str(&format!("  last {} lines of the driver's stderr:\n", log.tail.len()));
            for line in &log.tail {
                out.push_str(&format!("    | {line}\n"));
            }
        }
    }
    out
}

/// The report as one JSON object.
pub(super) fn json_report(key: &str, outcome: &RunOutcome, waited: bool) -> Value {
    let log = outcome.log.as_ref().map(|log| {
        json!({
            "s3_uri": log.s3_uri,
            "cloudwatch": log.cloudwatch,
            "stderr_tail": log.tail,
            "problem": log.problem,
        })
    });
    json!({
        "job": key,
        "application_id": outcome.run.application_id,
        "job_run_id": outcome.run.job_run_id,
        "arn": outcome.run.arn,
        "waited": waited,
        "state": outcome.status.state,
        "state_details": outcome.status.state_details,
        "cancelled_by": match &outcome.cancelled {
            Some(Cancelled::Timeout) => Some("timeout".to_string()),
            Some(Cancelled::Halt(reason)) => Some(reason.clone()),
            None => None,
        },
        "duration_seconds": outcome.status.duration_seconds,
        "elapsed_seconds": outcome.elapsed.as_secs_f64(),
        "billed_resource_utilization": outcome.status.billed.map(|b| json!({
            "vcpu_hours": b.vcpu_hours,
            "memory_gb_hours": b.memory_gb_hours,
            "storage_gb_hours": b.storage_gb_hours,
        })),
        "dashboard_url": outcome.dashboard,
        "driver_log": log,
    })
}
