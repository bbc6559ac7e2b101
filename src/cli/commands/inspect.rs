//! `emrstack show` and `emrstack output`: reading a saved plan, and
//! printing the stack's AWS identifiers.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use crate::plan::Plan;

use super::super::EXIT_OK;
use super::super::args::{DataFormat, GlobalArgs, OutputFormat, ReadArgs, StackArgs};
use super::super::error::CliError;
use super::super::output::Printer;
use super::super::session::{self, Stack};

/// Runs `show`.
pub(super) fn show(printer: &Printer, path: &Path, format: OutputFormat) -> Result<ExitCode, CliError> {
    let plan = Plan::load(path).map_err(|error| CliError::message(error.to_string()))?;
    printer.data(&super::plan::rendered(&plan, format, printer.color_stdout));
    Ok(ExitCode::from(EXIT_OK))
}

/// Runs `output`.
pub(super) fn output(
    printer: &Printer,
    global: &GlobalArgs,
    stack: &StackArgs,
    read: &ReadArgs,
    format: DataFormat,
) -> Result<ExitCode, CliError> {
    let Stack { desired, .. } = session::load_stack(printer, global, stack)?;
    let artifacts = super::super::jobs::artifacts(&desired, &[])?;
    let (observation, missing) = session::block_on(async {
        let cloud = session::connect(printer, global, desired.stack.region.as_deref()).await?;
        let options = crate::observe::ObserveOptions {
            parallelism: read.parallelism as usize,
        };
        let observation = crate::observe::observe(&cloud, &desired, &options).await?;
        let missing = super::super::jobs::missing(&cloud, &artifacts).await;
        Ok((observation, missing))
    })?;
    if observation.diagnostics.has_errors() {
        session::print_diagnostics(printer, &observation.diagnostics, &crate::diag::Sources::new());
        return Err(CliError::Reported);
    }
    let missing = missing?;
    let mut ids = session::identifiers(&observation.actual, &desired);
    let jobs = job_outputs(&desired, &observation.actual, &artifacts, &missing);
    if !jobs.is_empty() {
        ids.insert("jobs".to_string(), serde_json::Value::Object(jobs));
    }
    match format {
        DataFormat::Json => {
            let mut document: serde_json::Map<String, serde_json::Value> = ids.into_iter().collect();
            document.insert("stack".to_string(), serde_json::json!(desired.stack.name));
            document.insert(
                "account_id".to_string(),
                serde_json::json!(observation.actual.account_id),
            );
            document.insert("region".to_string(), serde_json::json!(observation.actual.region));
            let text = serde_json::to_string_pretty(&serde_json::Value::Object(document)).unwrap_or_default();
            printer.data(&format!("{text}\n"));
        }
        DataFormat::Human => printer.data(&human_output(&ids)),
    }
    Ok(ExitCode::from(EXIT_OK))
}

/// Per job: its name, the complete StartJobRun request (`null` with the
/// reason while its application or role has not been applied), and its
/// artifacts with whether each is in S3 yet.
fn job_outputs(
    desired: &crate::model::Desired,
    actual: &crate::model::Actual,
    artifacts: &[crate::artifact::Artifact],
    missing: &[bool],
) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    for (key, job) in &desired.jobs {
        let paths = job.local_paths();
        let mine: Vec<serde_json::Value> = artifacts
            .iter()
            .zip(missing)
            .filter(|(artifact, _)| paths.contains(&artifact.source))
            .map(|(artifact, missing)| {
                serde_json::json!({
                    "path": artifact.source.display().to_string(),
                    "uri": artifact.uri(),
                    "sha256": artifact.sha256,
                    "uploaded": !missing,
                })
            })
            .collect();
        let (request, reason) = match super::super::jobs::resolve(desired, actual, key, artifacts, &[]) {
            Ok(resolved) => (resolved.request.to_api_json(), serde_json::Value::Null),
            Err(reason) => (serde_json::Value::Null, serde_json::json!(reason.to_string())),
        };
        out.insert(
            key.clone(),
            serde_json::json!({
                "name": job.name,
                "application": job.application,
                "start_job_run": request,
                "not_ready": reason,
                "artifacts": mine,
            }),
        );
    }
    out
}

fn human_output(ids: &BTreeMap<String, serde_json::Value>) -> String {
    let mut out = String::new();
    let text = |value: &serde_json::Value, key: &str| match value.get(key).and_then(|v| v.as_str()) {
        Some(text) => text.to_string(),
        None => "(not created)".to_string(),
    };
    for (kind, entries) in ids {
        let Some(entries) = entries.as_object() else { continue };
        for (key, value) in entries {
            let singular = match kind.as_str() {
                "applications" => "application",
                "roles" => "role",
                "jobs" => "job",
                _ => "repository",
            };
            let address = format!("{singular}.{key}");
            match kind.as_str() {
                "applications" if value.is_null() => out.push_str(&format!("{address}: (not created)\n")),
                "applications" => out.push_str(&format!(
                    "{address}:\n  id    = {}\n  arn   = {}\n  name  = {}\n  state = {}\n",
                    text(value, "id"),
                    text(value, "arn"),
                    text(value, "name"),
                    text(value, "state")
                )),
                "jobs" => {
                    out.push_str(&format!("{address}:\n  name  = {}\n", text(value, "name")));
                    match value.get("start_job_run").filter(|r| !r.is_null()) {
                        Some(request) => out.push_str(&format!(
                            "  start_job_run = {}\n",
                            serde_json::to_string(request).unwrap_or_default()
                        )),
                        None => out.push_str(&format!("  (not ready: {})\n", text(value, "not_ready"))),
                    }
                }
                "roles" => out.push_str(&format!(
                    "{address}:\n  name = {}\n  arn  = {}\n",
                    text(value, "name"),
                    text(value, "arn")
                )),
                _ => out.push_str(&format!(
                    "{address}:\n  name = {}\n  uri  = {}\n",
                    text(value, "name"),
                    text(value, "uri")
                )),
            }
        }
    }
    out
}
