//! Application changes: create, update (live or with stop and start),
//! replace, delete.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::fields::{Origin, Record, encode_record, leaf_diffs, origin};
use super::normalize::{self, field_value, scheduler_change_is_live};
use super::resolve::{ApplicationSlot, Resolved};
use super::{Action, ApplicationTarget, Change, CurrentApplication, FieldChange, Mode, Reason, Step, Target};
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{Address, ApplicationField, ApplicationSpec, ApplicationState, ObservedApplication, tags};

/// The fields recorded in `emrstack:applied` and compared for updates.
const COMPARED_FIELDS: [ApplicationField; 17] = [
    ApplicationField::ReleaseLabel,
    ApplicationField::Architecture,
    ApplicationField::InitialCapacity,
    ApplicationField::MaximumCapacity,
    ApplicationField::AutoStart,
    ApplicationField::AutoStop,
    ApplicationField::Network,
    ApplicationField::Image,
    ApplicationField::WorkerTypeSpecifications,
    ApplicationField::RuntimeConfiguration,
    ApplicationField::Monitoring,
    ApplicationField::Interactive,
    ApplicationField::Scheduler,
    ApplicationField::DiskEncryption,
    ApplicationField::IdentityCenter,
    ApplicationField::JobLevelCostAllocation,
    ApplicationField::Tags,
];

/// The `emrstack:applied` value for an application spec as it will be
/// applied. `None` when it does not fit in a tag.
pub fn applied_record(spec: &ApplicationSpec) -> Option<String> {
    let normalized = normalize::application(spec);
    let fields: BTreeMap<String, Value> = COMPARED_FIELDS
        .iter()
        .map(|field| (field.as_str().to_string(), field_value(&normalized, *field)))
        .collect();
    encode_record(&fields)
}

/// Whether the service accepts a change of `field` while STARTED.
fn is_live(field: ApplicationField, before: &ApplicationSpec, after: &ApplicationSpec) -> bool {
    match field {
        ApplicationField::MaximumCapacity
        | ApplicationField::Image
        | ApplicationField::WorkerTypeSpecifications
        | ApplicationField::Tags => true,
        ApplicationField::Scheduler => scheduler_change_is_live(before.scheduler.as_ref(), after.scheduler.as_ref()),
        _ => false,
    }
}

fn current(app: &ObservedApplication) -> CurrentApplication {
    CurrentApplication {
        id: app.id.clone(),
        arn: app.arn.clone(),
        state: app.state,
        spec: app.spec.clone(),
    }
}

/// The steps of an update, given the state the application is in.
pub fn update_steps(
    state: ApplicationState,
    update_fields: &[String],
    needs_stop: bool,
    tags_change: bool,
) -> Vec<Step> {
    let mut steps = Vec::new();
    if state.is_transitional() {
        steps.push(Step::Wait { state });
    }
    if !update_fields.is_empty() {
        let running = matches!(state, ApplicationState::Started | ApplicationState::Starting);
        if needs_stop && running {
            steps.push(Step::Stop { running_jobs: 0 });
        }
        steps.push(Step::Update {
            fields: update_fields.to_vec(),
        });
        if needs_stop && running {
            steps.push(Step::Start);
        }
    }
    if tags_change {
        steps.push(Step::Tag);
    }
    steps
}

/// The steps that take an application out of service and delete it.
pub fn delete_steps(state: ApplicationState) -> Vec<Step> {
    let mut steps = Vec::new();
    if state.is_transitional() {
        steps.push(Step::Wait { state });
    }
    if matches!(
        state,
        ApplicationState::Started | ApplicationState::Starting | ApplicationState::Stopping
    ) {
        steps.push(Step::Stop { running_jobs: 0 });
    }
    steps.push(Step::Delete);
    steps
}

fn all_fields(spec: &ApplicationSpec) -> Vec<FieldChange> {
    let normalized = normalize::application(spec);
    let mut out = Vec::new();
    for field in ApplicationField::ALL {
        let after = field_value(&normalized, field);
        if after.is_null() {
            continue;
        }
        for leaf in leaf_diffs(field.as_str(), &Value::Null, &after) {
            out.push(FieldChange {
                path: leaf.path,
                before: leaf.before,
                after: leaf.after,
                after_unknown: false,
                forces_replacement: false,
                live: false,
                drift: false,
            });
        }
    }
    out
}

fn removal_fields(spec: &ApplicationSpec) -> Vec<FieldChange> {
    all_fields(spec)
        .into_iter()
        .map(|field| FieldChange {
            before: field.after,
            after: Value::Null,
            ..field
        })
        .collect()
}

pub fn changes(resolved: &Resolved<'_>, diagnostics: &mut Diagnostics) -> Vec<Change> {
    let mut out = Vec::new();
    for slot in resolved.applications.values() {
        let address = Address::application(&slot.key);
        match (&slot.desired, slot.primary) {
            (Some(desired), None) => out.push(create(&address, slot, desired)),
            (Some(desired), Some(primary)) => {
                out.push(compare(&address, slot, desired, primary, diagnostics));
            }
            (None, Some(primary)) if !slot.declared || resolved.mode == Mode::Destroy => {
                let reason = if resolved.mode == Mode::Destroy {
                    Reason::Destroy
                } else {
                    Reason::RemovedFromStack
                };
                if slot.prevent_destroy {
                    diagnostics.push(prevent_destroy(&address, "delete"));
                }
                out.push(delete(&address, &slot.key, primary, reason));
            }
            // Declared but not resolvable: the resolver reported why.
            _ => {}
        }
        for duplicate in &slot.duplicates {
            let mut change = delete(&address, &slot.key, duplicate, Reason::Duplicate);
            change.notes.push(format!(
                "application {} carries the same ownership tags; keeping {}",
                duplicate.id,
                slot.primary.map_or("none", |p| p.id.as_str())
            ));
            out.push(change);
        }
    }
    out
}

fn prevent_destroy(address: &Address, action: &str) -> Diagnostic {
    Diagnostic::error(
        "plan.prevent-destroy",
        format!("the plan would {action} `{address}`, which has `prevent_destroy = true`"),
    )
    .with_help("set `prevent_destroy = false` first if this is intended")
    .about(address.to_string(), "prevent_destroy")
}

fn create(address: &Address, slot: &ApplicationSlot<'_>, desired: &ApplicationSpec) -> Change {
    Change {
        address: address.clone(),
        action: Action::Create,
        reason: Reason::Missing,
        fields: all_fields(desired),
        steps: vec![Step::Create],
        depends_on: Vec::new(),
        notes: Vec::new(),
        target: Target::Application(Box::new(ApplicationTarget {
            key: slot.key.clone(),
            current: None,
            desired: Some(with_record(desired)),
            update_fields: BTreeSet::new(),
            needs_stop: false,
            running_jobs: Vec::new(),
        })),
    }
}

fn delete(address: &Address, key: &str, app: &ObservedApplication, reason: Reason) -> Change {
    Change {
        address: address.clone(),
        action: Action::Delete,
        reason,
        fields: removal_fields(&app.spec),
        steps: delete_steps(app.state),
        depends_on: Vec::new(),
        notes: vec![format!("{} is {}", app.id, app.state)],
        target: Target::Application(Box::new(ApplicationTarget {
            key: key.to_string(),
            current: Some(current(app)),
            desired: None,
            update_fields: BTreeSet::new(),
            needs_stop: matches!(
                app.state,
                ApplicationState::Started | ApplicationState::Starting | ApplicationState::Stopping
            ),
            running_jobs: Vec::new(),
        })),
    }
}

/// `desired` with its `emrstack:applied` record tag.
fn with_record(desired: &ApplicationSpec) -> ApplicationSpec {
    let mut spec = desired.clone();
    spec.tags.remove(tags::APPLIED_TAG);
    if let Some(record) = applied_record(&spec) {
        spec.tags.insert(tags::APPLIED_TAG.to_string(), record);
    }
    spec
}

fn compare(
    address: &Address,
    slot: &ApplicationSlot<'_>,
    desired: &ApplicationSpec,
    primary: &ObservedApplication,
    diagnostics: &mut Diagnostics,
) -> Change {
    let actual = normalize::application(&primary.spec);
    let mut wanted = normalize::application(desired);
    normalize::adopt_unmanaged(&mut wanted, &actual);
    let record = primary
        .spec
        .tags
        .get(tags::APPLIED_TAG)
        .map(|text| Record::decode(text))
        .unwrap_or_default();

    let replace = wanted.name != actual.name || wanted.engine != actual.engine;
    let mut fields = Vec::new();
    let mut origins = Vec::new();
    let mut update_fields = BTreeSet::new();
    let mut needs_stop = false;
    let mut tags_change = false;
    for field in ApplicationField::ALL {
        let before = field_value(&actual, field);
        let after = field_value(&wanted, field);
        if before == after {
            continue;
        }
        let field_origin = origin(&record, field.as_str(), &after, &before);
        origins.push(field_origin);
        let live = !replace && is_live(field, &actual, &wanted);
        for leaf in leaf_diffs(field.as_str(), &before, &after) {
            fields.push(FieldChange {
                path: leaf.path,
                before: leaf.before,
                after: leaf.after,
                after_unknown: false,
                forces_replacement: field.forces_replacement(),
                live,
                drift: matches!(field_origin, Origin::Drift | Origin::Both),
            });
        }
        if field == ApplicationField::Tags {
            tags_change = true;
        } else if field.is_updatable() {
            update_fields.insert(field);
            needs_stop |= !live;
        }
    }

    // The record itself may be stale (an interrupted apply, or an
    // application imported without one): refresh it with the tags.
    let expected_record = applied_record(desired);
    let record_stale = primary.spec.tags.get(tags::APPLIED_TAG) != expected_record.as_ref();

    let target = |update_fields: BTreeSet<ApplicationField>, needs_stop: bool| ApplicationTarget {
        key: slot.key.clone(),
        current: Some(current(primary)),
        desired: Some(with_record(desired)),
        update_fields,
        needs_stop,
        running_jobs: Vec::new(),
    };

    if replace {
        if slot.prevent_destroy {
            diagnostics.push(prevent_destroy(address, "replace"));
        }
        let mut steps = vec![Step::CreateReplacement];
        steps.extend(delete_steps(primary.state).into_iter().map(|step| match step {
            Step::Delete => Step::DeleteReplaced,
            other => other,
        }));
        return Change {
            address: address.clone(),
            action: Action::Replace,
            reason: Reason::ReplaceFields,
            fields,
            steps,
            depends_on: Vec::new(),
            notes: vec![format!("replaces {} ({})", primary.id, primary.state)],
            target: Target::Application(Box::new(target(BTreeSet::new(), false))),
        };
    }

    if fields.is_empty() && !record_stale {
        return Change {
            address: address.clone(),
            action: Action::NoOp,
            reason: Reason::UpToDate,
            fields,
            steps: Vec::new(),
            depends_on: Vec::new(),
            notes: Vec::new(),
            target: Target::Application(Box::new(target(BTreeSet::new(), false))),
        };
    }

    let reason = reason_from(&origins);
    let field_names: Vec<String> = update_fields.iter().map(|f| f.as_str().to_string()).collect();
    let steps = update_steps(primary.state, &field_names, needs_stop, tags_change || record_stale);
    let mut notes = Vec::new();
    if needs_stop && matches!(primary.state, ApplicationState::Started | ApplicationState::Starting) {
        notes.push(format!(
            "{} is {}: these changes need a stopped application, so it is stopped, updated and started again",
            primary.id, primary.state
        ));
    } else if !update_fields.is_empty() && primary.state == ApplicationState::Started {
        notes.push(format!(
            "{} is STARTED: these changes are applied without stopping it",
            primary.id
        ));
    }
    if fields.is_empty() {
        notes.push("only the applied record tag is refreshed".to_string());
    }
    Change {
        address: address.clone(),
        action: Action::Update,
        reason,
        fields,
        steps,
        depends_on: Vec::new(),
        notes,
        target: Target::Application(Box::new(target(update_fields, needs_stop))),
    }
}

/// The reason of an update from the origins of its fields.
pub fn reason_from(origins: &[Origin]) -> Reason {
    let drift = origins.iter().any(|o| matches!(o, Origin::Drift | Origin::Both));
    let config = origins
        .iter()
        .any(|o| matches!(o, Origin::Config | Origin::Both | Origin::Unknown));
    match (config, drift) {
        (false, true) => Reason::Drift,
        (true, true) => Reason::ChangedAndDrift,
        _ => Reason::Changed,
    }
}
