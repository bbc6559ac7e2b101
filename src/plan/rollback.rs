//! What `apply --rollback-on-failure` reverts to: the stack as it was before
//! a plan's changes, as a [`Desired`] that the ordinary planner and executor
//! carry out (so the rollback follows the same lifecycle rules as an apply).
//! Resources the plan created are left out (so deleted); in-place updates go
//! back to the values the plan observed; deletions and replacements cannot be
//! undone and are listed as such.

use crate::diff::{Action, Target};
use crate::model::tags::is_reserved;
use crate::model::{Address, DesiredImage, ImageSource};

use super::Plan;

/// The rollback of a plan.
#[derive(Clone, Debug)]
pub struct Rollback {
    /// The stack to apply to undo the plan.
    pub desired: crate::model::Desired,
    /// What can be reverted, and how (`application.etl: update reverted`).
    pub reverts: Vec<(Address, &'static str)>,
    /// What cannot be: deletions and replacements.
    pub irreversible: Vec<(Address, &'static str)>,
}

/// The changes of `plan` that a rollback cannot undo, for the plan's warning.
pub fn irreversible(plan: &Plan) -> Vec<(Address, &'static str)> {
    plan.changes
        .iter()
        .filter_map(|change| match change.action {
            Action::Delete => Some((change.address.clone(), "deleted")),
            Action::Replace => Some((change.address.clone(), "replaced (the old one is deleted)")),
            _ => None,
        })
        .collect()
}

/// The stack before `plan`: its desired state with created resources left
/// out and updated ones set back to what the plan observed.
pub fn before(plan: &Plan) -> Rollback {
    let mut desired = plan.desired.clone();
    let mut reverts = Vec::new();
    for change in &plan.changes {
        match (&change.action, &change.target) {
            (Action::Create, Target::Application(app)) => {
                desired.applications.remove(&app.key);
                for repository in desired.repositories.values_mut() {
                    repository.applications.retain(|key| key != &app.key);
                }
                for role in desired.roles.values_mut() {
                    role.trust_applications.retain(|key| key != &app.key);
                }
                reverts.push((change.address.clone(), "created, to be deleted"));
            }
            (Action::Create, Target::Role(role)) => {
                desired.roles.remove(&role.key);
                reverts.push((change.address.clone(), "created, to be deleted"));
            }
            (Action::Update, Target::Application(app)) => {
                let (Some(current), Some(declared)) = (&app.current, desired.applications.get_mut(&app.key)) else {
                    continue;
                };
                let mut spec = current.spec.clone().map_images(|_, image| {
                    Ok::<_, std::convert::Infallible>(DesiredImage {
                        source: ImageSource::Uri { uri: image.image_uri },
                        application_level_digest_resolution: image.application_level_digest_resolution,
                    })
                });
                if let Ok(spec) = &mut spec {
                    spec.tags.retain(|key, _| !is_reserved(key));
                    declared.spec = spec.clone();
                    reverts.push((change.address.clone(), "update reverted"));
                }
            }
            (Action::Update, Target::Role(role)) => {
                let (Some(current), Some(declared)) = (&role.current, desired.roles.get_mut(&role.key)) else {
                    continue;
                };
                let spec = &current.spec;
                declared.description = spec.description.clone();
                declared.max_session_duration = spec.max_session_duration;
                declared.permissions_boundary = spec.permissions_boundary.clone();
                declared.inline_policies = spec.inline_policies.clone();
                declared.managed_policy_arns = spec.managed_policy_arns.clone();
                // The trust policy as it was, stated: the applications it
                // named then are the ones that existed then.
                declared.trust_policy = Some(crate::model::role::without_marker(
                    &spec.trust_policy,
                    &plan.desired.stack.name,
                ));
                declared.trust_applications.clear();
                declared.tags = spec
                    .tags
                    .iter()
                    .filter(|(key, _)| !is_reserved(key))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                reverts.push((change.address.clone(), "update reverted"));
            }
            _ => {}
        }
    }
    Rollback {
        desired,
        reverts,
        irreversible: irreversible(plan),
    }
}
