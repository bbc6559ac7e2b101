//! `emrstack show`, `emrstack output` and `emrstack import`: reading a saved
//! plan, printing the stack's AWS identifiers, and adopting an existing
//! resource (under the stack lock).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use crate::aws::AwsCloud;
use crate::cloud::Cloud;
use crate::model::{Address, Owner, ResourceKind, role, role::EMR_SERVERLESS_PRINCIPAL, tags};
use crate::plan::Plan;

use super::super::EXIT_OK;
use super::super::args::{DataFormat, GlobalArgs, LockArgs, OutputFormat, ReadArgs, StackArgs};
use super::super::error::CliError;
use super::super::locking;
use super::super::output::Printer;
use super::super::session::{self, Stack};

/// Runs `show`.
pub fn show(printer: &Printer, path: &Path, format: OutputFormat) -> Result<ExitCode, CliError> {
    let plan = Plan::load(path).map_err(|error| CliError::message(error.to_string()))?;
    printer.data(&super::plan::rendered(&plan, format, printer.color_stdout));
    Ok(ExitCode::from(EXIT_OK))
}

/// Runs `output`.
pub fn output(
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
            Err(reason) => (serde_json::Value::Null, serde_json::json!(reason)),
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

/// Runs `import`, under the stack lock.
pub fn import(
    printer: &Printer,
    global: &GlobalArgs,
    stack: &StackArgs,
    address: &str,
    id: &str,
    lock: &LockArgs,
) -> Result<ExitCode, CliError> {
    let address: Address = address.parse().map_err(CliError::Message)?;
    let Stack { desired, .. } = session::load_stack(printer, global, stack)?;
    // An address the stack no longer declares can still be imported by the
    // resource that carries it (checked once it is read): an emrstack
    // version from before records proved ownership created or imported it,
    // and the next apply deletes it as removed from the stack.
    let declared = match address.kind {
        ResourceKind::Application => desired.applications.contains_key(&address.name),
        ResourceKind::Role => desired.roles.contains_key(&address.name),
        _ => {
            return Err(CliError::message(format!(
                "only applications and roles are owned by a stack; `{address}` needs no import (emrstack manages only its own statement in a repository policy)"
            )));
        }
    };
    session::block_on(async {
        let cloud = session::connect(printer, global, desired.stack.region.as_deref()).await?;
        let command = format!("import {address} {id}");
        let (cloud, desired, address) = (&cloud, &desired, &address);
        // Import makes no change a halt could interrupt halfway: one tag call.
        locking::run_locked(printer, cloud, &desired.stack, &command, lock, |_halt| async move {
            adopt(printer, cloud, desired, address, id, declared).await
        })
        .await
    })
}

/// The tags that adopt a resource whose tags are `current`: the ownership
/// tags, and the applied record (emrstack's proof of ownership) that
/// `record` computes for the resource as it is once they are on it.
fn adoption_tags(
    ownership: &BTreeMap<String, String>,
    current: &BTreeMap<String, String>,
    record: impl FnOnce(BTreeMap<String, String>) -> String,
) -> BTreeMap<String, String> {
    let mut after = current.clone();
    after.remove(tags::APPLIED_TAG);
    after.extend(ownership.clone());
    let mut adoption = ownership.clone();
    adoption.insert(tags::APPLIED_TAG.to_string(), record(after));
    adoption
}

/// Checks that the resource fits the declaration (or, for an address the
/// stack does not declare, already carries it) and is free to adopt, then
/// tags it.
async fn adopt(
    printer: &Printer,
    cloud: &AwsCloud,
    desired: &crate::model::Desired,
    address: &Address,
    id: &str,
    declared: bool,
) -> Result<ExitCode, CliError> {
    let stack = desired.stack.name.as_str();
    let options = crate::observe::ObserveOptions::default();
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
    // Without a declaration, only the resource that already carries the
    // address may be imported: it gets the record that proves it, so that
    // the next apply can delete it.
    let undeclared = |owner: &Owner| {
        (!declared && owner.address_in(stack) != Some(address)).then(|| {
            format!(
                "`{address}` is not declared in the stack file; declare it first (without a declaration, only a \
                 resource that already carries `{address}` of stack `{stack}` can be imported, to be deleted by \
                 the next apply)"
            )
        })
    };
    let deleted_next = |printer: &Printer| {
        if !declared {
            printer.message(&format!(
                "`{address}` is not declared in the stack file, so the next apply deletes it; declare it to keep it."
            ));
        }
    };
    match address.kind {
        ResourceKind::Application => {
            let app = match cloud.get_application(id).await {
                Ok(app) if app.state != crate::model::ApplicationState::Terminated => app,
                Ok(_) => {
                    return Err(CliError::message(format!(
                        "application `{id}` does not exist in {}",
                        cloud.region()
                    )));
                }
                Err(error) if error.is_not_found() => {
                    return Err(CliError::message(format!(
                        "application `{id}` does not exist in {}",
                        cloud.region()
                    )));
                }
                Err(error) => {
                    return Err(error.into());
                }
            };
            if let Some(why) = undeclared(&app.owner()) {
                return Err(CliError::message(why));
            }
            if let Some(declaration) = desired.applications.get(&address.name)
                && app.spec.engine != declaration.spec.engine
            {
                return Err(CliError::message(format!(
                    "application `{id}` is a {} application, but `{address}` declares type {}",
                    app.spec.engine, declaration.spec.engine
                )));
            }
            if let Some(why) = refuse(&app.owner()) {
                return Err(CliError::message(format!("cannot import application `{id}`: {why}")));
            }
            // One application per address: adopting a second one would make
            // the next plan delete one of them as a duplicate. Checked on
            // every application of the region, not through the tag index,
            // which may not show an import made a moment ago yet.
            match crate::observe::applications_at(cloud, stack, address, &options).await {
                Ok(found) => {
                    if let Some(other) = found.iter().find(|other| other.id != app.id) {
                        return Err(CliError::message(format!(
                            "`{address}` is already `{}`; remove it from the stack or delete it before importing another",
                            other.id
                        )));
                    }
                }
                Err(error) => {
                    return Err(error.into());
                }
            }
            // The applied record is emrstack's proof of ownership: written
            // for the application as it is, so the next plan shows the
            // stack's differences from it as changes of the stack file.
            // What the stack leaves to the service (a scheduler it does not
            // declare, a digest resolution it does not set) is recorded as
            // the stack states it, unset, as a plan's own record would: else
            // a value the service chose would read as a stale record.
            let stated = desired.applications.get(&address.name).map(|declaration| {
                declaration.spec.clone().map_images(|_, image| {
                    Ok::<_, std::convert::Infallible>(crate::model::ImageConfig {
                        image_uri: String::new(),
                        application_level_digest_resolution: image.application_level_digest_resolution,
                    })
                })
            });
            let ownership = adoption_tags(&ownership, &app.spec.tags, |tags| {
                let mut adopted = app.spec.clone();
                if let Some(Ok(stated)) = &stated {
                    crate::diff::normalize::drop_unmanaged(&mut adopted, stated);
                }
                adopted.tags = tags;
                crate::diff::application_record(&adopted)
            });
            if let Err(error) = cloud.tag_application(&app.arn, &ownership).await {
                return Err(error.into());
            }
            printer.message(&format!(
                "Imported application {id} as `{address}`. `emrstack plan` now shows only real differences."
            ));
            deleted_next(printer);
        }
        ResourceKind::Role => {
            if let Some(declaration) = desired.roles.get(&address.name)
                && declaration.name != id
            {
                return Err(CliError::message(format!(
                    "`{address}` declares role name `{}`; import that role (roles are identified by name)",
                    declaration.name
                )));
            }
            let role = match cloud.get_role(id).await {
                Ok(role) => role,
                Err(error) if error.is_not_found() => {
                    return Err(CliError::message(format!("role `{id}` does not exist")));
                }
                Err(error) => {
                    return Err(error.into());
                }
            };
            if let Some(why) = undeclared(&role.owner()) {
                return Err(CliError::message(why));
            }
            if let Some(why) = refuse(&role.owner()) {
                return Err(CliError::message(format!("cannot import role `{id}`: {why}")));
            }
            // A plan finds a role the stack no longer declares by the stack's
            // marker in its trust policy (or emrstack's trust policy from
            // before markers), which `ListRoles` shows; tags it cannot see.
            let findable = role::has_stack_marker(&role.spec.trust_policy, stack)
                || role::is_legacy_trust_policy(&role.spec.trust_policy);
            if !declared && !findable {
                return Err(CliError::message(format!(
                    "role `{id}` carries `{address}`, but its trust policy does not carry the stack's marker, so a \
                     plan that does not declare `{address}` cannot find it to delete it: declare `{address}` \
                     (with `name = \"{id}\"`) and import it, apply (which writes the marker), then remove it from \
                     the stack"
                )));
            }
            // One role per address. Roles are read by name, directly: the
            // declared ones, and those whose trust policy carries the stack's
            // marker.
            match crate::observe::observe(cloud, desired, &options).await {
                Ok(observation) => {
                    let existing = observation
                        .actual
                        .roles
                        .iter()
                        .find(|other| other.owner().address_in(stack) == Some(address) && other.role_id != role.role_id)
                        .map(|other| other.spec.name.clone());
                    if let Some(existing) = existing {
                        return Err(CliError::message(format!(
                            "`{address}` is already `{existing}`; remove it from the stack or delete it before importing another"
                        )));
                    }
                }
                Err(error) => {
                    return Err(error.into());
                }
            }
            if !role.spec.trust_policy.to_string().contains(EMR_SERVERLESS_PRINCIPAL) {
                printer.message(&format!(
                    "warning: role `{id}` does not trust {EMR_SERVERLESS_PRINCIPAL} yet; the next apply replaces its trust policy"
                ));
            }
            // The applied record, for the role as it is (see above).
            let ownership = adoption_tags(&ownership, &role.spec.tags, |tags| {
                let mut adopted = role.spec.clone();
                adopted.tags = tags;
                crate::diff::role_record(&adopted)
            });
            if let Err(error) = cloud.tag_role(id, &ownership).await {
                return Err(error.into());
            }
            printer.message(&format!(
                "Imported role `{id}` as `{address}`. `emrstack plan` now shows only real differences."
            ));
            if !findable {
                printer.message(&format!(
                    "note: its trust policy does not carry the stack's marker yet, which is how a plan finds a role \
                     the stack no longer declares: apply before removing `{address}` from the stack \
                     (docs/ownership.md)"
                ));
            }
            deleted_next(printer);
        }
        _ => return Err(CliError::Reported),
    }
    Ok(ExitCode::from(EXIT_OK))
}
