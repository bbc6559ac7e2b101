//! Repository policy changes: the one statement per stack that lets EMR
//! Serverless pull images, scoped to the stack's applications.

use std::collections::BTreeSet;

use serde_json::Value;

use super::fields::leaf_diffs;
use super::policy::canonical_statement_of as canonical;
use super::resolve::Resolved;
use super::{Action, Change, FieldChange, Mode, Reason, RepositoryTarget, Step, Target};
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{Address, ObservedRepository, reference, repository};

pub(super) fn changes(resolved: &Resolved<'_>, diagnostics: &mut Diagnostics) -> Vec<Change> {
    let stack = resolved.stack();
    let sid = repository::statement_sid(stack);
    let mut out = Vec::new();
    let mut handled = BTreeSet::new();
    for (key, declared) in &resolved.desired.repositories {
        handled.insert(declared.name.clone());
        let address = Address::repository(key);
        let Some(observed) = resolved.actual.repositories.get(&declared.name) else {
            if resolved.mode == Mode::Apply {
                diagnostics.push(
                    Diagnostic::error(
                        "repository.not-found",
                        format!("ECR repository `{}` does not exist", declared.name),
                    )
                    .with_help("emrstack manages the policy of an existing repository; create the repository first")
                    .about(address.to_string(), "name"),
                );
            }
            continue;
        };
        let statement = match resolved.mode {
            Mode::Apply => {
                let arns: Vec<String> = declared
                    .applications
                    .iter()
                    .map(|app| resolved.arn_or_placeholder(app))
                    .collect();
                repository::pull_statement(stack, &arns)
            }
            Mode::Destroy => None,
        };
        let reason_for_delete = if resolved.mode == Mode::Destroy {
            Reason::Destroy
        } else {
            Reason::Changed
        };
        if let Some(change) = compare(resolved, &address, observed, &sid, statement, reason_for_delete) {
            out.push(change);
        }
    }
    // Repositories that still hold the stack's statement but are no longer
    // declared: remove the statement, leave everything else.
    for (name, observed) in &resolved.actual.repositories {
        if handled.contains(name) {
            continue;
        }
        if observed
            .policy
            .as_ref()
            .and_then(|policy| repository::find_statement(policy, &sid))
            .is_none()
        {
            continue;
        }
        let address = Address::repository(name);
        let reason = if resolved.mode == Mode::Destroy {
            Reason::Destroy
        } else {
            Reason::RemovedFromStack
        };
        if let Some(change) = compare(resolved, &address, observed, &sid, None, reason) {
            out.push(change);
        }
    }
    out
}

fn compare(
    resolved: &Resolved<'_>,
    address: &Address,
    observed: &ObservedRepository,
    sid: &str,
    statement: Option<Value>,
    removal_reason: Reason,
) -> Option<Change> {
    let current = observed
        .policy
        .as_ref()
        .and_then(|policy| repository::find_statement(policy, sid))
        .cloned();
    let before = current.as_ref().map(canonical).unwrap_or(Value::Null);
    let after = statement.as_ref().map(canonical).unwrap_or(Value::Null);
    let target = Target::Repository(RepositoryTarget {
        name: observed.name.clone(),
        sid: sid.to_string(),
        statement: statement.clone(),
        current_policy: observed.policy.clone(),
    });
    if before == after {
        // Nothing of ours there and nothing wanted: not worth a line.
        statement.as_ref()?;
        return Some(Change {
            address: address.clone(),
            action: Action::NoOp,
            reason: Reason::UpToDate,
            fields: Vec::new(),
            steps: Vec::new(),
            depends_on: Vec::new(),
            cleanup_after: Vec::new(),
            notes: Vec::new(),
            target,
        });
    }
    let unknown = !reference::placeholders_in(&after).is_empty();
    let fields: Vec<FieldChange> = leaf_diffs("statement", &before, &after)
        .into_iter()
        .map(|leaf| FieldChange {
            after_unknown: !reference::placeholders_in(&leaf.after).is_empty(),
            path: leaf.path,
            before: leaf.before,
            after: leaf.after,
            forces_replacement: false,
            live: false,
            drift: false,
        })
        .collect();
    let remaining = repository::merge_statement(observed.policy.as_ref(), sid, statement.clone());
    let steps = if remaining.is_some() {
        vec![Step::SetPolicy]
    } else {
        vec![Step::DeletePolicy]
    };
    let (action, reason) = match (&current, &statement) {
        (None, Some(_)) => (Action::Create, Reason::Missing),
        (Some(_), None) => (Action::Delete, removal_reason),
        _ => {
            let replaced = unknown
                && reference::placeholders_in(&after).iter().any(|app| {
                    resolved
                        .applications
                        .get(app)
                        .is_some_and(|slot| slot.primary.is_some())
                });
            let reason = if replaced {
                Reason::ReferenceReplaced
            } else {
                Reason::Changed
            };
            (Action::Update, reason)
        }
    };
    let others = observed
        .policy
        .as_ref()
        .map(|policy| repository::statements(policy).len() - usize::from(current.is_some()))
        .unwrap_or(0);
    let mut notes = Vec::new();
    if others > 0 {
        notes.push(format!(
            "{others} other statement(s) in the policy are kept as they are"
        ));
    }
    Some(Change {
        address: address.clone(),
        action,
        reason,
        fields,
        steps,
        depends_on: Vec::new(),
        cleanup_after: Vec::new(),
        notes,
        target,
    })
}
