//! Role changes: IAM job runtime roles with their trust policy, inline and
//! managed policies and tags.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::application::prevent_destroy;
use super::fields::{Origin, Record, encode_record, leaf_diffs, origin};
use super::policy::canonical;
use super::resolve::{Resolved, RoleSlot};
use super::{Action, Change, FieldChange, Mode, Reason, RoleTarget, Step, Target};
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{Address, ObservedRole, RoleField, RoleSpec, reference, tags};

/// The fields of a role as plans show them and as `emrstack:applied`
/// records them: policy documents in canonical form.
pub(super) fn role_fields(spec: &RoleSpec) -> BTreeMap<RoleField, Value> {
    RoleField::all_of(spec)
        .map(|field| {
            let value = field_value(spec, &field);
            (field, value)
        })
        .collect()
}

/// The value of one field of `spec`, as [`role_fields`] has it.
fn field_value(spec: &RoleSpec, field: &RoleField) -> Value {
    match field {
        RoleField::Name => json!(spec.name),
        RoleField::Path => json!(spec.path),
        RoleField::Description => json!(spec.description),
        RoleField::MaxSessionDuration => json!(spec.max_session_duration),
        RoleField::PermissionsBoundary => json!(spec.permissions_boundary),
        RoleField::TrustPolicy => canonical(&spec.trust_policy),
        RoleField::ManagedPolicyArns => json!(spec.managed_policy_arns),
        RoleField::InlinePolicy(name) => spec.inline_policies.get(name).map_or(Value::Null, canonical),
        RoleField::Tags => {
            let visible: BTreeMap<&String, &String> = spec
                .tags
                .iter()
                .filter(|(key, _)| key.as_str() != tags::APPLIED_TAG)
                .collect();
            json!(visible)
        }
    }
}

/// The `emrstack:applied` value for a role as it will be applied (policy
/// documents must have their placeholders substituted), bound to its name,
/// path and ownership tags.
pub fn applied_record(spec: &RoleSpec) -> String {
    let fields: BTreeMap<String, Value> = role_fields(spec)
        .into_iter()
        .filter(|(field, _)| !field.forces_replacement())
        .map(|(field, value)| (field.key(), value))
        .collect();
    encode_record(&tags::binding_token(tags::Identity::of_role(spec), &spec.tags), &fields)
}

/// The human names of the IAM calls an update makes, in order.
fn update_parts(fields: &BTreeSet<RoleField>) -> Vec<String> {
    fields.iter().map(RoleField::part).fold(Vec::new(), |mut parts, part| {
        if !parts.contains(&part) {
            parts.push(part);
        }
        parts
    })
}

pub(super) fn changes(resolved: &Resolved<'_>, diagnostics: &mut Diagnostics) -> Vec<Change> {
    let mut out = Vec::new();
    for slot in resolved.roles.values() {
        let address = Address::role(&slot.key);
        match (&slot.desired, slot.primary) {
            (Some(desired), None) => out.push(create(&address, slot, desired)),
            (Some(desired), Some(primary)) => {
                if let Some(warning) = unmarked(resolved.stack(), &address, primary) {
                    diagnostics.push(warning);
                }
                out.push(compare(resolved, &address, slot, desired, primary, diagnostics))
            }
            (None, Some(primary)) => {
                let reason = if resolved.mode == Mode::Destroy {
                    Reason::Destroy
                } else {
                    Reason::RemovedFromStack
                };
                // Only `emrstack destroy` gets here with a role the stack
                // still declares (and so with `prevent_destroy` set).
                if slot.prevent_destroy {
                    diagnostics.push(prevent_destroy(&address, "delete"));
                }
                out.push(delete(&address, slot, primary, reason));
            }
            (None, None) => {}
        }
        for duplicate in &slot.duplicates {
            let mut change = delete(&address, slot, duplicate, Reason::Duplicate);
            let kept = slot.primary.map_or("none", |p| p.spec.name.as_str());
            let why = slot.keep_reason.unwrap_or("it is the first");
            change.notes.push(if resolved.mode == Mode::Destroy {
                format!(
                    "role `{}` carries the same ownership tags as `{kept}` ({why})",
                    duplicate.spec.name
                )
            } else {
                format!(
                    "role `{}` carries the same ownership tags; keeping `{kept}`: {why}",
                    duplicate.spec.name
                )
            });
            out.push(change);
        }
    }
    out
}

/// The warning for a declared role of the stack whose trust policy carries
/// neither the stack's marker nor emrstack's trust policy from before
/// markers (an imported role, or a marker removed by hand). A plan finds a
/// role the stack no longer declares only by those (`ListRoles` shows trust
/// policies, not tags): removed from the stack before an apply writes the
/// marker, the role would be left in place, never found again. The plan
/// writes the marker (an update of `trust_policy`); this says why it
/// matters to apply it first (docs/ownership.md).
fn unmarked(stack: &str, address: &Address, role: &ObservedRole) -> Option<Diagnostic> {
    let policy = &role.spec.trust_policy;
    if crate::model::role::has_stack_marker(policy, stack) || crate::model::role::is_legacy_trust_policy(policy) {
        return None;
    }
    Some(
        Diagnostic::warning(
            "plan.role-unmarked",
            format!(
                "role `{}` is `{address}` of this stack, but its trust policy does not carry the stack's marker yet \
                 (it was imported, or the marker was removed by hand): until an apply writes it, a plan that no \
                 longer declares `{address}` cannot find the role to delete it",
                role.spec.name
            ),
        )
        .with_help(format!("apply before removing `{address}` from the stack"))
        .about(address.to_string(), "name"),
    )
}

fn field_change(path: String, before: Value, after: Value, forces_replacement: bool, drift: bool) -> FieldChange {
    let after_unknown = contains_placeholder(&after);
    FieldChange {
        path,
        before,
        after,
        after_unknown,
        forces_replacement,
        live: false,
        drift,
    }
}

/// Nothing worth a line in a create or a delete: null, `[]`, `{}`.
fn is_empty_value(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

fn contains_placeholder(value: &Value) -> bool {
    !reference::placeholders_in(value).is_empty()
}

fn create(address: &Address, slot: &RoleSlot<'_>, desired: &RoleSpec) -> Change {
    let fields = role_fields(desired)
        .into_iter()
        .filter(|(_, value)| !is_empty_value(value))
        .flat_map(|(field, value)| leaf_diffs(&field.key(), &Value::Null, &value))
        .map(|leaf| field_change(leaf.path, leaf.before, leaf.after, false, false))
        .collect();
    Change {
        address: address.clone(),
        action: Action::Create,
        reason: Reason::Missing,
        fields,
        steps: vec![Step::Create],
        depends_on: Vec::new(),
        cleanup_after: Vec::new(),
        notes: Vec::new(),
        target: Target::Role(Box::new(RoleTarget {
            key: slot.key.clone(),
            current: None,
            desired: Some(desired.clone()),
            delete_first: false,
            update_fields: BTreeSet::new(),
        })),
    }
}

fn delete(address: &Address, slot: &RoleSlot<'_>, role: &ObservedRole, reason: Reason) -> Change {
    let fields = role_fields(&role.spec)
        .into_iter()
        .filter(|(_, value)| !is_empty_value(value))
        .flat_map(|(field, value)| leaf_diffs(&field.key(), &value, &Value::Null))
        .map(|leaf| field_change(leaf.path, leaf.before, leaf.after, false, false))
        .collect();
    Change {
        address: address.clone(),
        action: Action::Delete,
        reason,
        fields,
        steps: vec![Step::Delete],
        depends_on: Vec::new(),
        cleanup_after: Vec::new(),
        notes: vec![format!("role `{}`", role.spec.name)],
        target: Target::Role(Box::new(RoleTarget {
            key: slot.key.clone(),
            current: Some(role.clone()),
            desired: None,
            delete_first: false,
            update_fields: BTreeSet::new(),
        })),
    }
}

fn compare(
    resolved: &Resolved<'_>,
    address: &Address,
    slot: &RoleSlot<'_>,
    desired: &RoleSpec,
    primary: &ObservedRole,
    diagnostics: &mut Diagnostics,
) -> Change {
    let before_fields = role_fields(&primary.spec);
    let after_fields = role_fields(desired);
    let record = primary
        .spec
        .tags
        .get(tags::APPLIED_TAG)
        .map(|text| Record::decode(text))
        .unwrap_or_default();
    let replace = desired.name != primary.spec.name || desired.path != primary.spec.path;
    // CreateRole tagged the role with the mark of a creation under way, and
    // the run ended before the record replaced it.
    let unfinished = primary
        .spec
        .tags
        .get(tags::APPLIED_TAG)
        .is_some_and(|value| tags::is_creating_mark(value));
    let keys: BTreeSet<&RoleField> = before_fields.keys().chain(after_fields.keys()).collect();
    let mut fields = Vec::new();
    let mut origins = Vec::new();
    let mut changed = BTreeSet::new();
    for field in keys {
        let before = before_fields.get(field).cloned().unwrap_or(Value::Null);
        let after = after_fields.get(field).cloned().unwrap_or(Value::Null);
        if before == after {
            continue;
        }
        let key = field.key();
        let field_origin = if contains_placeholder(&after) {
            Origin::Config
        } else {
            origin(&record, &key, &after, &before)
        };
        origins.push(field_origin);
        changed.insert(field.clone());
        let forces = field.forces_replacement();
        for leaf in leaf_diffs(&key, &before, &after) {
            fields.push(field_change(
                leaf.path,
                leaf.before,
                leaf.after,
                forces,
                matches!(field_origin, Origin::Drift | Origin::Both),
            ));
        }
    }
    // A path change keeps the name, and IAM role names are unique regardless
    // of case: the old role must go before the new one can be created.
    let delete_first = replace && desired.name.eq_ignore_ascii_case(&primary.spec.name);
    let mut target = RoleTarget {
        key: slot.key.clone(),
        current: Some(primary.clone()),
        desired: Some(desired.clone()),
        delete_first,
        update_fields: BTreeSet::new(),
    };
    if replace {
        if slot.prevent_destroy {
            diagnostics.push(prevent_destroy(address, "replace"));
        }
        return Change {
            address: address.clone(),
            action: Action::Replace,
            reason: Reason::ReplaceFields,
            fields,
            steps: if delete_first {
                vec![Step::DeleteReplaced, Step::CreateReplacement]
            } else {
                vec![Step::CreateReplacement, Step::DeleteReplaced]
            },
            depends_on: Vec::new(),
            cleanup_after: Vec::new(),
            notes: vec![if delete_first {
                format!(
                    "role `{}` moves to path `{}`: IAM names are unique, so it is deleted first",
                    primary.spec.name, desired.path
                )
            } else {
                format!("replaces role `{}`", primary.spec.name)
            }],
            target: Target::Role(Box::new(target)),
        };
    }
    let expected_record = applied_record(desired);
    // Stale records are refreshed; a missing one waits for the next change
    // (see `application::compare`).
    let record_stale = !fields.iter().any(|f| f.after_unknown)
        && primary
            .spec
            .tags
            .get(tags::APPLIED_TAG)
            .is_some_and(|record| record != &expected_record);
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
            target: Target::Role(Box::new(target)),
        };
    }
    let replaced_reference = fields.iter().all(|f| f.after_unknown)
        && fields.iter().any(|f| {
            reference::placeholders_in(&f.after).iter().any(|app| {
                resolved
                    .applications
                    .get(app)
                    .is_some_and(|slot| slot.primary.is_some())
            })
        });
    let reason = if unfinished {
        Reason::Unfinished
    } else if replaced_reference && !fields.is_empty() {
        Reason::ReferenceReplaced
    } else {
        super::application::reason_from(&origins)
    };
    let refresh_only = changed.is_empty();
    if refresh_only {
        // The record is a tag.
        changed.insert(RoleField::Tags);
    }
    let parts = update_parts(&changed);
    target.update_fields = changed;
    Change {
        address: address.clone(),
        action: Action::Update,
        reason,
        fields,
        steps: vec![Step::UpdateRole { parts }],
        depends_on: Vec::new(),
        cleanup_after: Vec::new(),
        notes: if unfinished {
            vec![format!(
                "role `{}` was created by an apply that stopped before it finished, or is still running (another \
                 pipeline's); this completes it",
                primary.spec.name
            )]
        } else if record_stale && refresh_only {
            vec![super::record_refresh_note(primary.spec.tags.get(tags::APPLIED_TAG))]
        } else {
            Vec::new()
        },
        target: Target::Role(Box::new(target)),
    }
}
