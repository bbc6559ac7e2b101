//! `emrstack show`, `emrstack output` and `emrstack import`: reading a saved
//! plan, printing the stack's AWS identifiers, and adopting an existing
//! resource (under the stack lock).

use std::collections::BTreeMap;
use std::path::Path;

use crate::aws::AwsCloud;
use crate::cloud::Cloud;
use crate::model::{Address, Owner, ResourceKind, role::EMR_SERVERLESS_PRINCIPAL, tags};
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

/// Runs `import`, under the stack lock.
pub fn import(
    printer: &Printer,
    global: &GlobalArgs,
    stack: &StackArgs,
    address: &str,
    id: &str,
    lock: &LockArgs,
) -> u8 {
    let address: Address = match address.parse() {
        Ok(address) => address,
        Err(error) => {
            printer.error(&error);
            return EXIT_ERROR;
        }
    };
    let Some(Stack { desired, .. }) = session::load_stack(printer, global, stack) else {
        return EXIT_ERROR;
    };
    let declared = match address.kind {
        ResourceKind::Application => desired.applications.contains_key(&address.name),
        ResourceKind::Role => desired.roles.contains_key(&address.name),
        _ => {
            printer.error(&format!(
                "only applications and roles are owned by a stack; `{address}` needs no import (emrstack manages only its own statement in a repository policy)"
            ));
            return EXIT_ERROR;
        }
    };
    if !declared {
        printer.error(&format!(
            "`{address}` is not declared in the stack file; declare it first"
        ));
        return EXIT_ERROR;
    }
    let result = session::block_on(async {
        let Some(cloud) = session::connected(printer, global, desired.stack.region.as_deref()).await else {
            return EXIT_ERROR;
        };
        let command = format!("import {address} {id}");
        let (cloud, desired, address) = (&cloud, &desired, &address);
        // Import makes no change a halt could interrupt halfway: one tag call.
        locking::run_locked(printer, cloud, &desired.stack, &command, lock, |_halt| async move {
            adopt(printer, cloud, desired, address, id).await
        })
        .await
    });
    result.unwrap_or_else(|error| {
        printer.error(&format!("cannot start the async runtime: {error}"));
        EXIT_ERROR
    })
}

/// Checks that the resource fits the declaration and is free to adopt, then tags it.
async fn adopt(
    printer: &Printer,
    cloud: &AwsCloud,
    desired: &crate::model::Desired,
    address: &Address,
    id: &str,
) -> u8 {
    let stack = desired.stack.name.as_str();
    // One resource per address: adopting a second one would make the next
    // plan delete one of them as a duplicate.
    let options = crate::observe::ObserveOptions::default();
    match crate::observe::observe(cloud, desired, &options).await {
        Ok(observation) => {
            let existing = match address.kind {
                ResourceKind::Application => observation
                    .actual
                    .applications
                    .iter()
                    .filter(|app| app.owner().address_in(stack) == Some(address) && app.id != id)
                    .map(|app| app.id.clone())
                    .next(),
                _ => observation
                    .actual
                    .roles
                    .iter()
                    .filter(|role| role.owner().address_in(stack) == Some(address) && role.spec.name != id)
                    .map(|role| role.spec.name.clone())
                    .next(),
            };
            if let Some(existing) = existing {
                printer.error(&format!(
                    "`{address}` is already `{existing}`; remove it from the stack or delete it before importing another"
                ));
                return EXIT_ERROR;
            }
        }
        Err(error) => {
            printer.error(&session::cloud_failure(&error));
            return EXIT_ERROR;
        }
    }
    let ownership = BTreeMap::from([
        (tags::STACK_TAG.to_string(), stack.to_string()),
        (tags::ADDRESS_TAG.to_string(), address.to_string()),
    ]);
    let refuse = |owner: &Owner| match owner {
        Owner::Stack {
            stack: other,
            address: other_address,
        } if other != stack || other_address.as_ref() != Some(address) => Some(format!(
            "it already belongs to `{}` of stack `{other}`",
            other_address.as_ref().map(|a| a.to_string()).unwrap_or_default()
        )),
        _ => None,
    };
    match address.kind {
        ResourceKind::Application => {
            let app = match cloud.get_application(id).await {
                Ok(app) if app.state != crate::model::ApplicationState::Terminated => app,
                Ok(_) | Err(_) => {
                    printer.error(&format!("application `{id}` does not exist in {}", cloud.region()));
                    return EXIT_ERROR;
                }
            };
            let declared = &desired.applications[&address.name];
            if app.spec.engine != declared.spec.engine {
                printer.error(&format!(
                    "application `{id}` is a {} application, but `{address}` declares type {}",
                    app.spec.engine, declared.spec.engine
                ));
                return EXIT_ERROR;
            }
            if let Some(why) = refuse(&app.owner()) {
                printer.error(&format!("cannot import application `{id}`: {why}"));
                return EXIT_ERROR;
            }
            if let Err(error) = cloud.tag_application(&app.arn, &ownership).await {
                printer.error(&session::cloud_failure(&error));
                return EXIT_ERROR;
            }
            printer.message(&format!(
                "Imported application {id} as `{address}`. `emrstack plan` now shows only real differences."
            ));
        }
        ResourceKind::Role => {
            let declared = &desired.roles[&address.name];
            if declared.name != id {
                printer.error(&format!(
                    "`{address}` declares role name `{}`; import that role (roles are identified by name)",
                    declared.name
                ));
                return EXIT_ERROR;
            }
            let role = match cloud.get_role(id).await {
                Ok(role) => role,
                Err(error) if error.is_not_found() => {
                    printer.error(&format!("role `{id}` does not exist"));
                    return EXIT_ERROR;
                }
                Err(error) => {
                    printer.error(&session::cloud_failure(&error));
                    return EXIT_ERROR;
                }
            };
            if let Some(why) = refuse(&role.owner()) {
                printer.error(&format!("cannot import role `{id}`: {why}"));
                return EXIT_ERROR;
            }
            if !role.spec.trust_policy.to_string().contains(EMR_SERVERLESS_PRINCIPAL) {
                printer.message(&format!(
                    "warning: role `{id}` does not trust {EMR_SERVERLESS_PRINCIPAL} yet; the next apply replaces its trust policy"
                ));
            }
            if let Err(error) = cloud.tag_role(id, &ownership).await {
                printer.error(&session::cloud_failure(&error));
                return EXIT_ERROR;
            }
            printer.message(&format!(
                "Imported role `{id}` as `{address}`. `emrstack plan` now shows only real differences."
            ));
        }
        _ => return EXIT_ERROR,
    }
    EXIT_OK
}
