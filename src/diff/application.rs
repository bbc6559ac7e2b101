//! Application changes: create, update (live or with stop and start),
//! replace, delete.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::fields::{Origin, Record, encode_record, leaf_diffs, origin, short_hash};
use super::normalize::{self, field_value};
use super::resolve::{ApplicationSlot, Resolved};
use super::{Action, ApplicationTarget, Change, CurrentApplication, FieldChange, Mode, Reason, Step, Target};
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::fields::{ChangeRule, Live};
use crate::model::{
    Address, ApplicationField, ApplicationSpec, ApplicationState, DesiredImage, ImageConfig, ObservedApplication,
    RunningWork, tags,
};

/// The fields recorded in `emrstack:applied`: every field but the two that
/// force a replacement.
fn recorded_fields() -> impl Iterator<Item = ApplicationField> {
    ApplicationField::ALL
        .into_iter()
        .filter(|field| !field.forces_replacement())
}

/// The `emrstack:applied` value for an application spec as it will be
/// applied, bound to its name, type and ownership tags.
pub fn applied_record(spec: &ApplicationSpec) -> String {
    let normalized = normalize::application(spec);
    let fields: BTreeMap<String, Value> = recorded_fields()
        .map(|field| (field.as_str().to_string(), field_value(&normalized, field)))
        .collect();
    encode_record(
        &tags::binding_token(tags::Identity::of_application(spec), &spec.tags),
        &fields,
    )
}

/// The `emrstack:applied` record `emrstack import` writes for an
/// application as `GetApplication` returns it (`observed`, with the
/// ownership tags it is given): every field as AWS holds it, except that a
/// field the declaration leaves to the service (`Absence::NotManaged`, and a
/// digest resolution the stack does not set) is recorded unset, as
/// [`applied_record`] of the declaration records it. So a stack that states
/// the application exactly plans nothing after the import, and one that
/// differs shows its differences as changes of the stack file.
/// `declared` is `None` for an address the stack no longer declares.
pub fn imported_record(observed: &ApplicationSpec, declared: Option<&ApplicationSpec<DesiredImage>>) -> String {
    let mut view = normalize::observed(observed);
    if let Some(declared) = declared {
        // Only what the declaration leaves out matters here, not where its
        // images come from.
        let shape = declared.clone().map_images(|_, image| {
            Ok::<_, std::convert::Infallible>(ImageConfig {
                image_uri: String::new(),
                application_level_digest_resolution: image.application_level_digest_resolution,
            })
        });
        let Ok(shape) = shape;
        normalize::drop_unmanaged(&mut view, &shape);
    }
    applied_record(&view)
}

fn current(app: &ObservedApplication) -> CurrentApplication {
    CurrentApplication {
        id: app.id.clone(),
        arn: app.arn.clone(),
        state: app.state,
        spec: app.spec.clone(),
    }
}

/// The stop step, counting the work that runs on the application.
fn stop_step(work: &RunningWork) -> Step {
    Step::Stop {
        running_jobs: work.job_runs.len(),
        running_sessions: work.sessions.len(),
    }
}

/// The steps of an update, given the state the application is in.
pub(super) fn update_steps(
    state: ApplicationState,
    update_fields: &[String],
    needs_stop: bool,
    tags_change: bool,
    work: &RunningWork,
) -> Vec<Step> {
    let mut steps = Vec::new();
    if state.is_transitional() {
        steps.push(Step::Wait { state });
    }
    if !update_fields.is_empty() {
        let running = matches!(state, ApplicationState::Started | ApplicationState::Starting);
        if needs_stop && running {
            steps.push(stop_step(work));
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
pub(super) fn delete_steps(state: ApplicationState, work: &RunningWork) -> Vec<Step> {
    let mut steps = Vec::new();
    if state.is_transitional() {
        steps.push(Step::Wait { state });
    }
    if matches!(
        state,
        ApplicationState::Started | ApplicationState::Starting | ApplicationState::Stopping
    ) {
        steps.push(stop_step(work));
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

/// The unfinished job runs and active sessions observed for an application
/// (observe lists them only for applications a plan may stop).
fn work_of(resolved: &Resolved<'_>, app: &ObservedApplication) -> RunningWork {
    resolved.actual.running_work.get(&app.id).cloned().unwrap_or_default()
}

/// Whether `steps` stop the application, so its running jobs matter.
fn stops(steps: &[Step]) -> bool {
    steps.iter().any(|step| matches!(step, Step::Stop { .. }))
}

pub(super) fn changes(resolved: &Resolved<'_>, diagnostics: &mut Diagnostics) -> Vec<Change> {
    let mut out = Vec::new();
    for slot in resolved.applications.values() {
        let address = Address::application(&slot.key);
        match (&slot.desired, slot.primary) {
            (Some(desired), None) => out.push(create(&address, slot, desired)),
            (Some(desired), Some(primary)) => {
                out.push(compare(
                    &address,
                    slot,
                    desired,
                    primary,
                    &work_of(resolved, primary),
                    diagnostics,
                ));
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
                out.push(delete(
                    &address,
                    &slot.key,
                    primary,
                    &work_of(resolved, primary),
                    reason,
                ));
            }
            // Declared but not resolvable: the resolver reported why.
            _ => {}
        }
        if slot.prevent_destroy && !slot.duplicates.is_empty() {
            // Which of two protected applications the user means is not ours
            // to guess: refuse, and name them.
            let ids: Vec<&str> = slot
                .primary
                .iter()
                .chain(slot.duplicates.iter())
                .map(|app| app.id.as_str())
                .collect();
            diagnostics.push(
                Diagnostic::error(
                    "plan.duplicate-protected",
                    format!(
                        "applications {} all carry the ownership tags of `{address}`, which has `prevent_destroy = true`",
                        ids.join(", ")
                    ),
                )
                .with_help("delete the ones that should not be there, or remove their `emrstack:` tags")
                .about(address.to_string(), "prevent_destroy"),
            );
            continue;
        }
        for duplicate in &slot.duplicates {
            let mut change = delete(
                &address,
                &slot.key,
                duplicate,
                &work_of(resolved, duplicate),
                Reason::Duplicate,
            );
            let kept = slot.primary.map_or("none", |p| p.id.as_str());
            let why = slot.keep_reason.unwrap_or("it is the first");
            change.notes.push(if resolved.mode == Mode::Destroy {
                format!(
                    "application {} carries the same ownership tags as {kept} ({why})",
                    duplicate.id
                )
            } else {
                format!(
                    "application {} carries the same ownership tags; keeping {kept}: {why}",
                    duplicate.id
                )
            });
            out.push(change);
        }
    }
    out
}

/// The error for a plan that would delete or replace a protected resource.
pub(super) fn prevent_destroy(address: &Address, action: &str) -> Diagnostic {
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
        cleanup_after: Vec::new(),
        notes: Vec::new(),
        target: Target::Application(Box::new(ApplicationTarget {
            key: slot.key.clone(),
            current: None,
            desired: Some(with_record(desired)),
            update_fields: BTreeSet::new(),
            needs_stop: false,
            running_jobs: Vec::new(),
            running_sessions: Vec::new(),
            image_needs_restart: false,
        })),
    }
}

fn delete(address: &Address, key: &str, app: &ObservedApplication, work: &RunningWork, reason: Reason) -> Change {
    let steps = delete_steps(app.state, work);
    let work = if stops(&steps) {
        work.clone()
    } else {
        RunningWork::default()
    };
    Change {
        address: address.clone(),
        action: Action::Delete,
        reason,
        fields: removal_fields(&app.spec),
        steps,
        depends_on: Vec::new(),
        cleanup_after: Vec::new(),
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
            running_jobs: work.job_runs,
            running_sessions: work.sessions,
            image_needs_restart: false,
        })),
    }
}

/// `desired` with its `emrstack:applied` record tag.
fn with_record(desired: &ApplicationSpec) -> ApplicationSpec {
    let mut spec = desired.clone();
    spec.tags.remove(tags::APPLIED_TAG);
    let record = applied_record(&spec);
    spec.tags.insert(tags::APPLIED_TAG.to_string(), record);
    spec
}

/// The warning for a field the stack stopped setting that AWS keeps (the
/// stack leaves such fields to the service, see `Absence::NotManaged`).
fn kept_warning(address: &Address, field: ApplicationField, kept: &ApplicationSpec) -> Diagnostic {
    let diagnostic = match field {
        ApplicationField::MaximumCapacity => {
            let (cpu, memory) = kept
                .maximum_capacity
                .as_ref()
                .map_or((0, 0), |maximum| (maximum.cpu, maximum.memory_gb));
            Diagnostic::warning(
                "plan.maximum-capacity-kept",
                format!(
                    "`maximum_capacity` was removed from `{address}`, but EMR Serverless cannot clear it: \
                     the application keeps {cpu} vCPU and {memory} GB"
                ),
            )
            .with_help("set `maximum_capacity` to the limit the application should have")
        }
        other => {
            let kept = match kept.scheduler.as_ref() {
                Some(scheduler) if !scheduler.is_disabled() => format!(
                    "job queueing on with `max_concurrent_runs = {}` and `queue_timeout_minutes = {}`",
                    scheduler.max_concurrent_runs.unwrap_or_default(),
                    scheduler.queue_timeout_minutes.unwrap_or_default()
                ),
                _ => "job queueing off".to_string(),
            };
            Diagnostic::warning(
                "plan.scheduler-kept",
                format!(
                    "`{other}` was removed from `{address}`, so emrstack leaves it to EMR Serverless: \
                     the application keeps {kept}"
                ),
            )
            .with_help(
                "write `scheduler = false` to turn job queueing off, or a `scheduler` table with the values the application should have",
            )
        }
    };
    diagnostic.about(address.to_string(), field.as_str())
}

fn compare(
    address: &Address,
    slot: &ApplicationSlot<'_>,
    desired: &ApplicationSpec,
    primary: &ObservedApplication,
    work: &RunningWork,
    diagnostics: &mut Diagnostics,
) -> Change {
    let actual = normalize::observed(&primary.spec);
    let mut wanted = normalize::application(desired);
    normalize::adopt_unmanaged(&mut wanted, &actual);
    let record = primary
        .spec
        .tags
        .get(tags::APPLIED_TAG)
        .map(|text| Record::decode(text))
        .unwrap_or_default();

    // Origins are judged against the record, which hashes what the stack
    // itself set: compare it with the stack's values before adoption, and
    // with AWS's values without what the stack leaves to the service. A
    // field left to the service that the record saw unset was the service's,
    // whatever it is.
    let null_hash = short_hash(&Value::Null);
    let stated = normalize::application(desired);
    let mut observed_stated = actual.clone();
    normalize::drop_unmanaged(&mut observed_stated, &stated);
    let bare = ApplicationSpec::new(actual.name.clone(), actual.engine, actual.release_label.clone());
    for field in normalize::unmanaged_fields() {
        let recorded = record.hash_of(field.as_str());
        if recorded == Some(null_hash.as_str()) {
            observed_stated.copy_field(&bare, field);
        }
        // A field the record shows the stack set, which the stack no longer
        // sets, stays as AWS has it: the user should hear about that once
        // (the refreshed record then says the stack leaves it to the service).
        if desired.lacks(field) && !actual.lacks(field) && recorded.is_some_and(|hash| hash != null_hash) {
            diagnostics.push(kept_warning(address, field, &actual));
        }
    }

    let replace = wanted.name != actual.name || wanted.engine != actual.engine;
    // Pre-initialized capacity in the stack or on AWS keeps images from
    // being updated live (GUIDE, "Updating running applications").
    let initial_capacity = !actual.initial_capacity.is_empty() || !wanted.initial_capacity.is_empty();
    let mut fields = Vec::new();
    let mut origins = Vec::new();
    let mut update_fields = BTreeSet::new();
    let mut stop_fields = Vec::new();
    let mut needs_stop = false;
    let mut tags_change = false;
    for field in ApplicationField::ALL {
        let before = field_value(&actual, field);
        let after = field_value(&wanted, field);
        if before == after {
            continue;
        }
        let field_origin = origin(
            &record,
            field.as_str(),
            &field_value(&stated, field),
            &field_value(&observed_stated, field),
        );
        origins.push(field_origin);
        let live = !replace
            && field
                .declaration()
                .accepts_while_started(&before, &after, initial_capacity);
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
            if !live {
                needs_stop = true;
                stop_fields.push(field);
            }
        }
    }

    // A record that disagrees with the stack (an apply interrupted before
    // its last step) is refreshed even when nothing else differs. A missing
    // one (an application created out of band, or imported) is not a change
    // by itself: it is written with the next change.
    let expected_record = applied_record(desired);
    let record_stale = primary
        .spec
        .tags
        .get(tags::APPLIED_TAG)
        .is_some_and(|record| record != &expected_record);
    // Written whenever something else changes, missing or not.
    let writes_record = record_stale || (!fields.is_empty() && !primary.spec.tags.contains_key(tags::APPLIED_TAG));

    let running = matches!(primary.state, ApplicationState::Started | ApplicationState::Starting);
    let image_fields = [ApplicationField::Image, ApplicationField::WorkerTypeSpecifications];
    // A live image change while STARTED reaches new jobs at once only when
    // the image digest is resolved per job; otherwise after a restart.
    let image_needs_restart = !replace
        && !needs_stop
        && primary.state == ApplicationState::Started
        && image_fields.iter().any(|field| update_fields.contains(field))
        && (wanted.image.is_some() || !wanted.worker_type_specifications.is_empty())
        && normalize::image_resolved_at_start(&wanted);

    let target = |update_fields: BTreeSet<ApplicationField>, needs_stop: bool, steps: &[Step]| {
        let work = if stops(steps) {
            work.clone()
        } else {
            RunningWork::default()
        };
        ApplicationTarget {
            key: slot.key.clone(),
            current: Some(current(primary)),
            desired: Some(with_record(desired)),
            update_fields,
            needs_stop,
            running_jobs: work.job_runs,
            running_sessions: work.sessions,
            image_needs_restart,
        }
    };

    if replace {
        if slot.prevent_destroy {
            diagnostics.push(prevent_destroy(address, "replace"));
        }
        let mut steps = vec![Step::CreateReplacement];
        steps.extend(delete_steps(primary.state, work).into_iter().map(|step| match step {
            Step::Delete => Step::DeleteReplaced,
            other => other,
        }));
        let mut target = target(BTreeSet::new(), false, &steps);
        target.image_needs_restart = false;
        return Change {
            address: address.clone(),
            action: Action::Replace,
            reason: Reason::ReplaceFields,
            fields,
            depends_on: Vec::new(),
            cleanup_after: Vec::new(),
            notes: vec![format!("replaces {} ({})", primary.id, primary.state)],
            target: Target::Application(Box::new(target)),
            steps,
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
            cleanup_after: Vec::new(),
            notes: Vec::new(),
            target: Target::Application(Box::new(target(BTreeSet::new(), false, &[]))),
        };
    }

    let reason = reason_from(&origins);
    let field_names: Vec<String> = update_fields.iter().map(|f| f.as_str().to_string()).collect();
    let steps = update_steps(
        primary.state,
        &field_names,
        needs_stop,
        tags_change || writes_record,
        work,
    );
    let mut notes = Vec::new();
    if needs_stop && running {
        notes.push(format!(
            "{} is {}: these changes need a stopped application, so it is stopped, updated and started again",
            primary.id, primary.state
        ));
        let image_stops: Vec<String> = stop_fields
            .iter()
            .filter(|field| {
                matches!(
                    field.declaration().change,
                    ChangeRule::Update(Live::UnlessInitialCapacity)
                )
            })
            .map(|field| format!("`{field}`"))
            .collect();
        if !image_stops.is_empty() {
            notes.push(format!(
                "{} cannot change while it runs: EMR Serverless does not update the image of a STARTED application with pre-initialized capacity",
                image_stops.join(" and ")
            ));
        }
    } else if !update_fields.is_empty() && primary.state == ApplicationState::Started {
        notes.push(format!(
            "{} is STARTED: these changes are applied without stopping it",
            primary.id
        ));
    }
    if image_needs_restart {
        notes.push(
            "the application resolves its image digest when it starts (application-level digest resolution): \
             jobs get the new image only after it is restarted"
                .to_string(),
        );
    }
    if update_fields.contains(&ApplicationField::Scheduler)
        && wanted
            .scheduler
            .as_ref()
            .is_some_and(|scheduler| scheduler.is_disabled())
    {
        notes.push("`scheduler = false`: job queueing is turned off (schedulerConfiguration {} is sent)".to_string());
    }
    if fields.is_empty() {
        notes.push(super::record_refresh_note(primary.spec.tags.get(tags::APPLIED_TAG)));
    }
    Change {
        address: address.clone(),
        action: Action::Update,
        reason,
        fields,
        depends_on: Vec::new(),
        cleanup_after: Vec::new(),
        notes,
        target: Target::Application(Box::new(target(update_fields, needs_stop, &steps))),
        steps,
    }
}

/// The reason of an update from the origins of its fields.
pub(super) fn reason_from(origins: &[Origin]) -> Reason {
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
