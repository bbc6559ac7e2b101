//! The plan for programs (`plan --format json`): a versioned document
//! described in `docs/plan-format.md`, in the manner of `terraform show
//! -json`.
//!
//! It is built key by key rather than by serializing the plan, so the
//! internal payloads (`target`, `desired`) never leak into it and a change
//! to an internal type cannot change it silently. Secret-looking values are
//! redacted as `(sensitive value)`; ARNs known only after apply keep their
//! placeholder (`${application.etl.arn}`) and set `after_unknown`.

use serde_json::{Value, json};

use crate::diag::Diagnostic;
use crate::diff::{Action, Change, FieldChange, Mode, Reason, Step, Target};
use crate::plan::{Plan, secrets};

/// The stable code of an action (`create`, `update`, `replace`, `delete`, `no-op`).
pub fn action_code(action: Action) -> &'static str {
    action.as_str()
}

/// The stable kebab-case code of a reason (`changed-and-drift`).
pub fn reason_code(reason: Reason) -> &'static str {
    match reason {
        Reason::Missing => "missing",
        Reason::Changed => "changed",
        Reason::Drift => "drift",
        Reason::ChangedAndDrift => "changed-and-drift",
        Reason::ReplaceFields => "replace-fields",
        Reason::ReferenceReplaced => "reference-replaced",
        Reason::RemovedFromStack => "removed-from-stack",
        Reason::Duplicate => "duplicate",
        Reason::Unfinished => "unfinished",
        Reason::Destroy => "destroy",
        Reason::UpToDate => "up-to-date",
    }
}

/// The stable kebab-case code of a step (`stop`, `update-role`).
pub fn step_code(step: &Step) -> &'static str {
    match step {
        Step::Wait { .. } => "wait",
        Step::Stop { .. } => "stop",
        Step::Create => "create",
        Step::Update { .. } => "update",
        Step::Start => "start",
        Step::Tag => "tag",
        Step::Delete => "delete",
        Step::CreateReplacement => "create-replacement",
        Step::DeleteReplaced => "delete-replaced",
        Step::UpdateRole { .. } => "update-role",
        Step::SetPolicy => "set-policy",
        Step::DeletePolicy => "delete-policy",
    }
}

fn mode_code(mode: Mode) -> &'static str {
    match mode {
        Mode::Apply => "apply",
        Mode::Destroy => "destroy",
    }
}

fn step(step: &Step) -> Value {
    let mut object = json!({
        "step": step_code(step),
        "description": step.describe(),
    });
    let details: Vec<(&str, Value)> = match step {
        Step::Wait { state } => vec![("state", json!(state.api_name()))],
        Step::Stop {
            running_jobs,
            running_sessions,
        } => vec![
            ("running_jobs", json!(running_jobs)),
            ("running_sessions", json!(running_sessions)),
        ],
        Step::Update { fields } => vec![("fields", json!(fields))],
        Step::UpdateRole { parts } => vec![("parts", json!(parts))],
        _ => Vec::new(),
    };
    if let Some(map) = object.as_object_mut() {
        for (key, value) in details {
            map.insert(key.to_string(), value);
        }
    }
    object
}

fn field(field: &FieldChange) -> Value {
    let shown = secrets::display_field(field);
    json!({
        "path": field.path,
        "before": shown.before,
        "after": shown.after,
        "after_unknown": field.after_unknown,
        "sensitive": shown.before != field.before || shown.after != field.after,
        "forces_replacement": field.forces_replacement,
        "live": field.live,
        "drift": field.drift,
    })
}

fn application(change: &Change) -> Value {
    let Target::Application(app) = &change.target else {
        return Value::Null;
    };
    let Some(current) = &app.current else {
        return Value::Null;
    };
    let runs: Vec<Value> = app
        .running_jobs
        .iter()
        .map(|run| json!({"id": run.id, "name": run.name, "state": run.state.api_name(), "mode": run.mode.api_name()}))
        .collect();
    let sessions: Vec<Value> = app
        .running_sessions
        .iter()
        .map(|session| json!({"id": session.id, "name": session.name, "state": session.state.api_name()}))
        .collect();
    json!({
        "id": current.id,
        "arn": current.arn,
        "state": current.state.api_name(),
        "running_jobs": runs,
        "running_sessions": sessions,
    })
}

fn change(change: &Change) -> Value {
    json!({
        "address": change.address.to_string(),
        "action": action_code(change.action),
        "reason": reason_code(change.reason),
        "reason_text": change.reason.describe(),
        "fields": change.fields.iter().map(field).collect::<Vec<_>>(),
        "steps": change.steps.iter().map(step).collect::<Vec<_>>(),
        "depends_on": change.depends_on.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "cleanup_after": change.cleanup_after.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "notes": change.notes,
        "application": application(change),
    })
}

fn drift(plan: &Plan) -> Vec<Value> {
    plan.changes
        .iter()
        .flat_map(|change| {
            change.fields.iter().filter(|field| field.drift).map(|field| {
                let shown = secrets::display_field(field);
                json!({
                    "address": change.address.to_string(),
                    "path": field.path,
                    "before": shown.before,
                    "after": shown.after,
                })
            })
        })
        .collect()
}

fn diagnostic(diagnostic: &Diagnostic) -> Value {
    let subject = diagnostic.subject.as_ref();
    json!({
        "severity": diagnostic.severity.to_string(),
        "code": diagnostic.code,
        "message": secrets::mask_text(&diagnostic.message),
        "help": diagnostic.help.as_deref().map(secrets::mask_text),
        "address": subject.map(|s| s.address.clone()),
        "path": subject.map(|s| s.path.clone()),
    })
}

/// The plan document as a JSON value (see `docs/plan-format.md`).
pub fn plan_value(plan: &Plan) -> Value {
    let summary = &plan.summary;
    let has_errors = plan.diagnostics.iter().any(Diagnostic::is_error);
    json!({
        "format_version": crate::plan::FORMAT_VERSION,
        "emrstack_version": plan.emrstack_version,
        "stack": plan.stack,
        "account_id": plan.account_id,
        "region": plan.region,
        "mode": mode_code(plan.mode),
        "applyable": plan.has_changes() && !has_errors,
        "fingerprint": plan.fingerprint,
        "summary": {
            "create": summary.create,
            "update": summary.update,
            "replace": summary.replace,
            "delete": summary.delete,
            "no_op": summary.no_op,
        },
        "changes": plan.changes.iter().map(change).collect::<Vec<_>>(),
        "drift": drift(plan),
        "diagnostics": plan.diagnostics.iter().map(diagnostic).collect::<Vec<_>>(),
    })
}

/// The plan document as pretty-printed JSON with a trailing newline.
pub fn plan(plan: &Plan) -> String {
    let mut text = serde_json::to_string_pretty(&plan_value(plan)).expect("invariant: a JSON value always serializes");
    text.push('\n');
    text
}
