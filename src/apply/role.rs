//! Carrying out role changes. The plan decides what changes: an update
//! changes the fields it lists (`RoleTarget::update_fields`), a creation
//! every field. Each call is made only if the role as it is now (not as it
//! was at plan time) still differs, so a role left half-made by an
//! interrupted run is completed rather than duplicated.

use std::collections::{BTreeMap, BTreeSet};

use super::retry::retry;
use super::{ChangeError, Context, Event};
use crate::cloud::{Cloud, CloudError, ErrorKind};
use crate::diff::policy::equivalent;
use crate::diff::{Action, Change, RoleTarget};
use crate::graph::Phase;
use crate::model::{Address, ObservedRole, RoleField, RoleSpec, reference, tags};

pub(crate) async fn run<C: Cloud>(
    context: &Context<'_, C>,
    change: &Change,
    target: &RoleTarget,
    phase: Phase,
) -> Result<(), ChangeError> {
    let address = &change.address;
    match (change.action, phase) {
        (Action::Create, _) => {
            let desired = resolved(context, address, target)?;
            create(context, address, &desired).await
        }
        (Action::Replace, Phase::Main) => {
            let desired = resolved(context, address, target)?;
            if target.delete_first
                && let Some(current) = &target.current
            {
                delete(context, address, &current.spec.name).await?;
            }
            create(context, address, &desired).await
        }
        (Action::Replace, Phase::Cleanup) if target.delete_first => Ok(()),
        (Action::Update, _) => {
            let desired = resolved(context, address, target)?;
            let current = get(context, address, &desired.name, false).await?;
            let planned = if target.update_fields.is_empty() {
                // A plan file written before updates listed their fields.
                every_field(&desired, &current)
            } else {
                target.update_fields.clone()
            };
            converge(context, address, &desired, &current, &planned).await
        }
        (Action::Delete, _) | (Action::Replace, Phase::Cleanup) => match &target.current {
            Some(current) => delete(context, address, &current.spec.name).await,
            None => Ok(()),
        },
        (Action::NoOp, _) => Ok(()),
    }
}

/// The desired role with every application ARN filled in.
fn resolved<C>(context: &Context<'_, C>, address: &Address, target: &RoleTarget) -> Result<RoleSpec, ChangeError> {
    let mut spec = target
        .desired
        .clone()
        .ok_or_else(|| ChangeError::Unexpected(format!("the plan has no desired role for `{address}`")))?;
    let arns = context.arns();
    spec.trust_policy = reference::substitute(&spec.trust_policy, &arns);
    for document in spec.inline_policies.values_mut() {
        *document = reference::substitute(document, &arns);
    }
    let mut unknown = reference::placeholders_in(&spec.trust_policy);
    for document in spec.inline_policies.values() {
        unknown.extend(reference::placeholders_in(document));
    }
    if let Some(missing) = unknown.first() {
        return Err(ChangeError::Unexpected(format!(
            "the ARN of `application.{missing}` is not known: its change did not run"
        )));
    }
    Ok(spec)
}

/// Reads a role; right after creating it, NotFound is IAM eventual
/// consistency and is retried within the propagation window.
async fn get<C: Cloud>(
    context: &Context<'_, C>,
    address: &Address,
    name: &str,
    just_created: bool,
) -> Result<ObservedRole, ChangeError> {
    let role = retry(
        context,
        address,
        "GetRole",
        |error| just_created && error.is_not_found(),
        || context.cloud.get_role(name),
    )
    .await;
    role.map_err(|error| {
        // Right after creating it, NotFound means IAM never caught up
        // within the window, which the error already says; "plan again"
        // would not help.
        if error.is_not_found() && !just_created {
            ChangeError::Unexpected(format!("role `{name}` of `{address}` no longer exists; plan again"))
        } else {
            error.into()
        }
    })
}

async fn create<C: Cloud>(context: &Context<'_, C>, address: &Address, desired: &RoleSpec) -> Result<(), ChangeError> {
    context.emit(Event::Step {
        address: address.clone(),
        text: format!("creating role `{}`", desired.name),
    });
    // The applied record is written last, once everything else is in place;
    // until then the role carries the mark of a creation under way, which
    // proves it is emrstack's (a hand-tagged look-alike has neither) and
    // tells the next plan that this apply did not finish.
    let mut first = desired.clone();
    let mark = tags::creating_mark(tags::Identity::of_role(desired), &desired.tags);
    first.tags.insert(tags::APPLIED_TAG.to_string(), mark);
    first.inline_policies.clear();
    first.managed_policy_arns.clear();
    let created = retry(
        context,
        address,
        "CreateRole",
        |_| false,
        || context.cloud.create_role(&first),
    )
    .await;
    match created {
        Ok(_) => {}
        Err(error) if error.kind == ErrorKind::Conflict => {
            // Created by an earlier, interrupted run (or a retried call whose
            // answer was lost): carry on if it is ours, refuse otherwise.
            let existing = get(context, address, &desired.name, true).await?;
            if existing.owner().address_in(&context.plan.stack) != Some(address) {
                return Err(ChangeError::Unexpected(format!(
                    "role `{}` already exists and is not `{address}` of this stack; run `emrstack import {address} {}` to adopt it",
                    desired.name, desired.name
                )));
            }
            if !tags::proves_ownership(&existing.spec.tags, tags::Identity::of_role(&existing.spec)) {
                return Err(ChangeError::Unexpected(format!(
                    "role `{}` already exists and carries the address `{address}` of this stack but no applied \
                     record emrstack wrote for it, so emrstack cannot prove it created it; run `emrstack import \
                     {address} {}` to adopt it",
                    desired.name, desired.name
                )));
            }
        }
        Err(error) => return Err(error.into()),
    }
    let current = get(context, address, &desired.name, true).await?;
    converge(context, address, desired, &current, &every_field(desired, &current)).await
}

/// The fields of either role: what a creation sets, completing whatever an
/// interrupted one left.
fn every_field(desired: &RoleSpec, current: &ObservedRole) -> BTreeSet<RoleField> {
    RoleField::all_of(desired)
        .chain(RoleField::all_of(&current.spec))
        .collect()
}

/// NotFound on a role that was just created is IAM eventual consistency.
fn fresh_role(error: &CloudError) -> bool {
    error.is_not_found()
}

/// Makes the `planned` fields of `current` match `desired`, one IAM call per
/// part that still differs, then writes the applied record.
async fn converge<C: Cloud>(
    context: &Context<'_, C>,
    address: &Address,
    desired: &RoleSpec,
    current: &ObservedRole,
    planned: &BTreeSet<RoleField>,
) -> Result<(), ChangeError> {
    let cloud = context.cloud;
    let name = desired.name.as_str();
    let have = &current.spec;
    let settings_planned =
        planned.contains(&RoleField::Description) || planned.contains(&RoleField::MaxSessionDuration);
    if settings_planned
        && (desired.description != have.description || desired.max_session_duration != have.max_session_duration)
    {
        retry(context, address, "UpdateRole", fresh_role, || {
            cloud.update_role(name, desired.description.as_deref(), desired.max_session_duration)
        })
        .await?;
    }
    if planned.contains(&RoleField::TrustPolicy) && !equivalent(&desired.trust_policy, &have.trust_policy) {
        context.emit(Event::Step {
            address: address.clone(),
            text: "updating the trust policy".to_string(),
        });
        retry(context, address, "UpdateAssumeRolePolicy", fresh_role, || {
            cloud.update_trust_policy(name, &desired.trust_policy)
        })
        .await?;
    }
    if planned.contains(&RoleField::PermissionsBoundary) && desired.permissions_boundary != have.permissions_boundary {
        retry(context, address, "PutRolePermissionsBoundary", fresh_role, || {
            cloud.set_permissions_boundary(name, desired.permissions_boundary.as_deref())
        })
        .await?;
    }
    let policy_planned = |policy: &String| planned.contains(&RoleField::InlinePolicy(policy.clone()));
    for (policy, document) in desired
        .inline_policies
        .iter()
        .filter(|(policy, _)| policy_planned(policy))
    {
        let same = have
            .inline_policies
            .get(policy)
            .is_some_and(|old| equivalent(old, document));
        if !same {
            context.emit(Event::Step {
                address: address.clone(),
                text: format!("putting inline policy `{policy}`"),
            });
            retry(context, address, "PutRolePolicy", fresh_role, || {
                cloud.put_role_policy(name, policy, document)
            })
            .await?;
        }
    }
    for policy in have.inline_policies.keys().filter(|policy| policy_planned(policy)) {
        if !desired.inline_policies.contains_key(policy) {
            remove_inline_policy(context, address, name, policy).await?;
        }
    }
    if planned.contains(&RoleField::ManagedPolicyArns) {
        for arn in desired.managed_policy_arns.difference(&have.managed_policy_arns) {
            retry(context, address, "AttachRolePolicy", fresh_role, || {
                cloud.attach_role_policy(name, arn)
            })
            .await?;
        }
        for arn in have.managed_policy_arns.difference(&desired.managed_policy_arns) {
            detach_policy(context, address, name, arn).await?;
        }
    }
    // Every change rewrites the applied record (a tag); the other tags
    // change only when the plan says so.
    let mut wanted_tags = if planned.contains(&RoleField::Tags) {
        desired.tags.clone()
    } else {
        have.tags.clone()
    };
    wanted_tags.remove(tags::APPLIED_TAG);
    wanted_tags.insert(tags::APPLIED_TAG.to_string(), crate::diff::role_record(desired));
    let to_remove: Vec<String> = have
        .tags
        .keys()
        .filter(|key| !wanted_tags.contains_key(*key))
        .cloned()
        .collect();
    if !to_remove.is_empty() {
        retry(context, address, "UntagRole", fresh_role, || {
            cloud.untag_role(name, &to_remove)
        })
        .await?;
    }
    let to_set: BTreeMap<String, String> = wanted_tags
        .into_iter()
        .filter(|(key, value)| have.tags.get(key) != Some(value))
        .collect();
    if !to_set.is_empty() {
        retry(context, address, "TagRole", fresh_role, || {
            cloud.tag_role(name, &to_set)
        })
        .await?;
    }
    Ok(())
}

async fn delete<C: Cloud>(context: &Context<'_, C>, address: &Address, name: &str) -> Result<(), ChangeError> {
    let cloud = context.cloud;
    let current = match cloud.get_role(name).await {
        Ok(role) => role,
        Err(error) if error.is_not_found() => return Ok(()),
        Err(error) => return Err(error.into()),
    };
    context.emit(Event::Step {
        address: address.clone(),
        text: format!("deleting role `{name}`"),
    });
    // IAM refuses to delete a role that still has policies.
    for policy in current.spec.inline_policies.keys() {
        remove_inline_policy(context, address, name, policy).await?;
    }
    for arn in &current.spec.managed_policy_arns {
        detach_policy(context, address, name, arn).await?;
    }
    // A detach that has not yet propagated shows as DeleteConflict.
    let conflict = |error: &CloudError| error.kind == ErrorKind::Conflict;
    match retry(context, address, "DeleteRole", conflict, || cloud.delete_role(name)).await {
        Ok(()) => Ok(()),
        Err(error) if error.is_not_found() => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// Deletes an inline policy; one already gone is fine.
async fn remove_inline_policy<C: Cloud>(
    context: &Context<'_, C>,
    address: &Address,
    role: &str,
    policy: &str,
) -> Result<(), ChangeError> {
    let call = || context.cloud.delete_role_policy(role, policy);
    match retry(context, address, "DeleteRolePolicy", |_| false, call).await {
        Ok(()) => Ok(()),
        Err(error) if error.is_not_found() => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// Detaches a managed policy; one already detached is fine.
async fn detach_policy<C: Cloud>(
    context: &Context<'_, C>,
    address: &Address,
    role: &str,
    arn: &str,
) -> Result<(), ChangeError> {
    let call = || context.cloud.detach_role_policy(role, arn);
    match retry(context, address, "DetachRolePolicy", |_| false, call).await {
        Ok(()) => Ok(()),
        Err(error) if error.is_not_found() => Ok(()),
        Err(error) => Err(error.into()),
    }
}
