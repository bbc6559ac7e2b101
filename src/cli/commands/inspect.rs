//! `emrstack show` and `emrstack output`: reading a saved plan, and
//! printing the stack's AWS identifiers.

use std::collections::BTreeMap;
use std::path::Path;

use crate::plan::Plan;

use super::super::args::{DataFormat, GlobalArgs, LockArgs, OutputFormat, ReadArgs, StackArgs};
use super::super::locking;
use super::super::output::Printer;
use super::super::session::{self, Stack};
use super::super::{EXIT_ERROR, EXIT_OK};

/// Runs `show`.
pub fn show(printer: &Printer, path: &Path, format: OutputFormat) -> u8 {
    match Plan::load(path) {
        Ok(plan) => {
            printer.data(&super::plan::rendered(&plan, format, printer.color_stdout));
            EXIT_OK
        }
        Err(error) => {
            printer.error(&error.to_string());
            EXIT_ERROR
        }
    }
}

/// Runs `output`.
pub fn output(printer: &Printer, global: &GlobalArgs, stack: &StackArgs, read: &ReadArgs, format: DataFormat) -> u8 {
    let Some(Stack { desired, .. }) = session::load_stack(printer, global, stack) else {
        return EXIT_ERROR;
    };
    let result = session::block_on(async {
        let cloud = session::connect(printer, global, desired.stack.region.as_deref()).await?;
        let options = crate::observe::ObserveOptions {
            parallelism: read.parallelism as usize,
        };
        crate::observe::observe(&cloud, &desired, &options).await
    });
    let observation = match result {
        Ok(Ok(observation)) => observation,
        Ok(Err(error)) => {
            printer.error(&session::cloud_failure(&error));
            return EXIT_ERROR;
        }
        Err(error) => {
            printer.error(&format!("cannot start the async runtime: {error}"));
            return EXIT_ERROR;
        }
    };
    if observation.diagnostics.has_errors() {
        session::print_diagnostics(printer, &observation.diagnostics, &crate::diag::Sources::new());
        return EXIT_ERROR;
    }
    let ids = session::identifiers(&observation.actual, &desired);
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
    EXIT_OK
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
