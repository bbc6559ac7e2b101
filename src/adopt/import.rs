//! `emrstack import`: adopting existing applications and roles into a
//! stack, one by address and ID, or every declared one (`--all`).
//!
//! Each adoption is decided first and written after, as an [`Adoption`]:
//! the checks ([`prepare`], [`survey`]) read AWS and decide; only
//! [`Adoption::write`] changes it, and only with the stack's marks (the
//! ownership tags and the applied record, and for a role whose trust policy
//! the stack states, the stack's marker statement). A resource owned by
//! another stack or address is refused, a second resource for an address
//! too; one that already proves to be the stack's is left alone, so an
//! import can be run again.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::cloud::{Cloud, CloudError};
use crate::model::role::EMR_SERVERLESS_PRINCIPAL;
use crate::model::{
    Actual, Address, ApplicationState, Desired, ObservedApplication, ObservedRole, Owner, ResourceKind, role, tags,
};
use crate::observe::{self, ObserveOptions};

/// The resource an adoption is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Subject {
    /// An EMR Serverless application.
    Application { id: String, arn: String, name: String },
    /// An IAM role, identified by its name.
    Role { name: String },
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Application { id, name, .. } => write!(f, "application {id} (`{name}`)"),
            Subject::Role { name } => write!(f, "role `{name}`"),
        }
    }
}

/// What adopting one resource writes, decided before anything is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Adoption {
    pub address: Address,
    pub subject: Subject,
    /// The tags to add: `emrstack:stack`, `emrstack:address`, and the
    /// applied record of the resource as it will be once they are on it.
    pub tags: BTreeMap<String, String>,
    /// For a role whose trust policy the stack states (`trust_policy`) and
    /// that does not carry the stack's marker yet: its trust policy with the
    /// marker statement added (`model::role::marker_statement`), written
    /// before the tags.
    pub trust_policy: Option<Value>,
    /// Whether the stack declares the address (an undeclared one is deleted
    /// by the next apply).
    pub declared: bool,
    /// Advice for people, printed after the adoption is written.
    pub notes: Vec<String>,
}

impl Adoption {
    /// What the adoption writes, for the list `import --all` shows.
    pub(crate) fn describe(&self) -> String {
        let mut parts = vec!["tag it as the stack's".to_string()];
        if self.trust_policy.is_some() {
            parts.push("add the stack's marker statement to its trust policy".to_string());
        }
        parts.join("; ")
    }

    /// Writes the adoption: the trust policy with the marker first (so the
    /// tags that claim the role come last), then the tags.
    pub(crate) async fn write<C: Cloud>(&self, cloud: &C) -> Result<(), CloudError> {
        match &self.subject {
            Subject::Application { arn, .. } => cloud.tag_application(arn, &self.tags).await,
            Subject::Role { name } => {
                if let Some(trust_policy) = &self.trust_policy {
                    cloud.update_trust_policy(name, trust_policy).await?;
                }
                cloud.tag_role(name, &self.tags).await
            }
        }
    }

    /// The adoption applied to an observed account in memory: what AWS
    /// holds after [`Adoption::write`] (`emrstack generate` checks its stack
    /// file against it).
    pub(crate) fn apply_to(&self, actual: &mut Actual) {
        match &self.subject {
            Subject::Application { id, .. } => {
                for app in actual.applications.iter_mut().filter(|app| &app.id == id) {
                    app.spec.tags.extend(self.tags.clone());
                }
            }
            Subject::Role { name } => {
                for observed in actual.roles.iter_mut().filter(|observed| &observed.spec.name == name) {
                    if let Some(trust_policy) = &self.trust_policy {
                        observed.spec.trust_policy = trust_policy.clone();
                    }
                    observed.spec.tags.extend(self.tags.clone());
                }
            }
        }
    }

    /// The message for a written adoption.
    pub(crate) fn done(&self) -> String {
        let (what, id) = match &self.subject {
            Subject::Application { id, .. } => ("application", id.clone()),
            Subject::Role { name } => ("role", format!("`{name}`")),
        };
        format!(
            "Imported {what} {id} as `{}`. `emrstack plan` now shows only real differences.",
            self.address
        )
    }
}

/// Why an import cannot go ahead. Each message says what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error(
        "only applications and roles are owned by a stack; `{0}` needs no import (emrstack manages only its own statement in a repository policy)"
    )]
    NotImportable(Address),
    #[error(
        "`{address}` is not declared in the stack file; declare it first (without a declaration, only a resource that already carries `{address}` of stack `{stack}` can be imported, to be deleted by the next apply)"
    )]
    NotDeclared { address: Address, stack: String },
    /// `what` names the resource (`application \`00f...\``), `place` where
    /// it was looked for (` in us-east-1`, or nothing for IAM).
    #[error("{what} does not exist{place}")]
    NotFound { what: String, place: String },
    #[error("application `{id}` is a {found} application, but `{address}` declares type {declared}")]
    WrongEngine {
        id: String,
        found: String,
        address: Address,
        declared: String,
    },
    #[error("cannot import {subject}: it already belongs to `{owner_address}` of stack `{owner_stack}`")]
    OwnedElsewhere {
        subject: String,
        owner_address: String,
        owner_stack: String,
    },
    #[error("`{address}` is already `{existing}`; remove it from the stack or delete it before importing another")]
    AddressTaken { address: Address, existing: String },
    #[error("`{address}` declares role name `{declared}`; import that role (roles are identified by name)")]
    RoleName { address: Address, declared: String },
    #[error(
        "role `{name}` carries `{address}`, but its trust policy does not carry the stack's marker, so a plan that does not declare `{address}` cannot find it to delete it: declare `{address}` (with `name = \"{name}\"`) and import it, apply (which writes the marker), then remove it from the stack"
    )]
    Unfindable { name: String, address: Address },
    #[error(
        "{count} applications are named `{name}` ({ids}); import the one `{address}` means with `emrstack import {address} <id>`"
    )]
    Ambiguous {
        address: Address,
        name: String,
        count: usize,
        ids: String,
    },
    /// A failed AWS call; the caller adds advice for its kind.
    #[error("{0}")]
    Cloud(#[from] CloudError),
}

/// The ownership tags of `address` in `stack`.
fn ownership(stack: &str, address: &Address) -> BTreeMap<String, String> {
    BTreeMap::from([
        (tags::STACK_TAG.to_string(), stack.to_string()),
        (tags::ADDRESS_TAG.to_string(), address.to_string()),
    ])
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

/// The refusal for a resource some other stack, or another address of this
/// one, claims in its tags.
fn owned_elsewhere(subject: &str, owner: &Owner, stack: &str, address: &Address) -> Option<ImportError> {
    match owner {
        Owner::Stack {
            stack: other,
            address: other_address,
        } if other != stack || other_address.as_ref() != Some(address) => Some(ImportError::OwnedElsewhere {
            subject: subject.to_string(),
            owner_address: other_address.as_ref().map(|a| a.to_string()).unwrap_or_default(),
            owner_stack: other.clone(),
        }),
        _ => None,
    }
}

/// Without a declaration, only the resource that already carries the
/// address may be imported: it gets the record that proves it, so that the
/// next apply can delete it.
fn undeclared(owner: &Owner, declared: bool, stack: &str, address: &Address) -> Option<ImportError> {
    (!declared && owner.address_in(stack) != Some(address)).then(|| ImportError::NotDeclared {
        address: address.clone(),
        stack: stack.to_string(),
    })
}

fn deleted_next(address: &Address) -> String {
    format!("`{address}` is not declared in the stack file, so the next apply deletes it; declare it to keep it.")
}

/// Checks that `app` fits `address` of `desired` and is free to adopt, and
/// decides what adopting it writes. `holders` are the applications of the
/// region that carry `address` of the stack in their tags.
pub(crate) fn check_application(
    desired: &Desired,
    address: &Address,
    app: &ObservedApplication,
    holders: &[&ObservedApplication],
) -> Result<Adoption, ImportError> {
    let stack = desired.stack.name.as_str();
    let declaration = desired.applications.get(&address.name);
    let owner = app.owner();
    if let Some(refusal) = undeclared(&owner, declaration.is_some(), stack, address) {
        return Err(refusal);
    }
    if let Some(declaration) = declaration
        && app.spec.engine != declaration.spec.engine
    {
        return Err(ImportError::WrongEngine {
            id: app.id.clone(),
            found: app.spec.engine.to_string(),
            address: address.clone(),
            declared: declaration.spec.engine.to_string(),
        });
    }
    if let Some(refusal) = owned_elsewhere(&format!("application `{}`", app.id), &owner, stack, address) {
        return Err(refusal);
    }
    // One application per address: adopting a second one would make the
    // next plan delete one of them as a duplicate.
    if let Some(other) = holders.iter().find(|other| other.id != app.id) {
        return Err(ImportError::AddressTaken {
            address: address.clone(),
            existing: other.id.clone(),
        });
    }
    // The applied record is emrstack's proof of ownership: written for the
    // application as it is, as the stack sees it, so that the next plan
    // shows the stack's differences from it as changes of the stack file.
    let tags = adoption_tags(&ownership(stack, address), &app.spec.tags, |tags| {
        let mut adopted = app.spec.clone();
        adopted.tags = tags;
        crate::diff::imported_application_record(&adopted, declaration.map(|d| &d.spec))
    });
    let mut notes = Vec::new();
    if declaration.is_none() {
        notes.push(deleted_next(address));
    }
    Ok(Adoption {
        address: address.clone(),
        subject: Subject::Application {
            id: app.id.clone(),
            arn: app.arn.clone(),
            name: app.spec.name.clone(),
        },
        tags,
        trust_policy: None,
        declared: declaration.is_some(),
        notes,
    })
}

/// Checks that `role` fits `address` of `desired` and is free to adopt, and
/// decides what adopting it writes. `holders` are the roles that carry
/// `address` of the stack in their tags, among those a plan reads.
pub(crate) fn check_role(
    desired: &Desired,
    address: &Address,
    observed: &ObservedRole,
    holders: &[&ObservedRole],
) -> Result<Adoption, ImportError> {
    let stack = desired.stack.name.as_str();
    let name = observed.spec.name.as_str();
    let declaration = desired.roles.get(&address.name);
    let owner = observed.owner();
    if let Some(refusal) = undeclared(&owner, declaration.is_some(), stack, address) {
        return Err(refusal);
    }
    if let Some(refusal) = owned_elsewhere(&format!("role `{name}`"), &owner, stack, address) {
        return Err(refusal);
    }
    // A plan finds a role the stack no longer declares by the stack's marker
    // in its trust policy (or emrstack's trust policy from before markers),
    // which `ListRoles` shows; tags it cannot see.
    let policy = &observed.spec.trust_policy;
    let findable = role::has_stack_marker(policy, stack) || role::is_legacy_trust_policy(policy);
    if declaration.is_none() && !findable {
        return Err(ImportError::Unfindable {
            name: name.to_string(),
            address: address.clone(),
        });
    }
    // One role per address.
    if let Some(other) = holders.iter().find(|other| other.role_id != observed.role_id) {
        return Err(ImportError::AddressTaken {
            address: address.clone(),
            existing: other.spec.name.clone(),
        });
    }
    let stated = declaration.is_some_and(|declaration| declaration.trust_policy.is_some());
    let mut notes = Vec::new();
    // A stated trust policy is kept as it is, so the plan would never write
    // the marker: import writes it, as it writes the tags.
    let trust_policy = (stated && !role::has_stack_marker(policy, stack)).then(|| role::with_marker(policy, stack));
    if !stated && !policy.to_string().contains(EMR_SERVERLESS_PRINCIPAL) {
        notes.push(format!(
            "warning: role `{name}` does not trust {EMR_SERVERLESS_PRINCIPAL} yet; the next apply replaces its trust policy"
        ));
    }
    let tags = adoption_tags(&ownership(stack, address), &observed.spec.tags, |tags| {
        let mut adopted = observed.spec.clone();
        adopted.tags = tags;
        if let Some(trust_policy) = &trust_policy {
            adopted.trust_policy = trust_policy.clone();
        }
        crate::diff::role_record(&adopted)
    });
    if !findable && trust_policy.is_none() {
        notes.push(format!(
            "note: its trust policy does not carry the stack's marker yet, which is how a plan finds a role the \
             stack no longer declares: apply before removing `{address}` from the stack (docs/ownership.md)"
        ));
    }
    if declaration.is_none() {
        notes.push(deleted_next(address));
    }
    Ok(Adoption {
        address: address.clone(),
        subject: Subject::Role { name: name.to_string() },
        tags,
        trust_policy,
        declared: declaration.is_some(),
        notes,
    })
}

/// The address of an `emrstack import ADDRESS ID`, checked: applications
/// and roles only.
fn importable(address: &Address) -> Result<(), ImportError> {
    match address.kind {
        ResourceKind::Application | ResourceKind::Role => Ok(()),
        _ => Err(ImportError::NotImportable(address.clone())),
    }
}

/// `emrstack import ADDRESS ID`: reads the resource and everything that
/// decides whether it may be adopted, and returns what adopting it writes.
/// An address the stack no longer declares can be imported by the resource
/// that already carries it (an emrstack version from before records proved
/// ownership created or imported it); the next apply deletes it.
pub(crate) async fn prepare<C: Cloud>(
    cloud: &C,
    desired: &Desired,
    address: &Address,
    id: &str,
    options: &ObserveOptions,
) -> Result<Adoption, ImportError> {
    importable(address)?;
    let stack = desired.stack.name.as_str();
    match address.kind {
        ResourceKind::Application => {
            let missing = || ImportError::NotFound {
                what: format!("application `{id}`"),
                place: format!(" in {}", cloud.region()),
            };
            // Access denied, throttling and the like are errors of their
            // own, never "does not exist".
            let app = match cloud.get_application(id).await {
                Ok(app) if app.state != ApplicationState::Terminated => app,
                Ok(_) => return Err(missing()),
                Err(error) if error.is_not_found() => return Err(missing()),
                Err(error) => return Err(error.into()),
            };
            // Checked before reading the whole region: these need nothing else.
            let owner = app.owner();
            let declared = desired.applications.contains_key(&address.name);
            if let Some(refusal) = undeclared(&owner, declared, stack, address) {
                return Err(refusal);
            }
            // Every application of the region, read directly: the tag index
            // may not show an application imported a moment ago.
            let everything = observe::every_application(cloud, options).await?;
            let holders: Vec<&ObservedApplication> = everything
                .iter()
                .filter(|other| other.owner().address_in(stack) == Some(address))
                .collect();
            check_application(desired, address, &app, &holders)
        }
        ResourceKind::Role => {
            if let Some(declaration) = desired.roles.get(&address.name)
                && declaration.name != id
            {
                return Err(ImportError::RoleName {
                    address: address.clone(),
                    declared: declaration.name.clone(),
                });
            }
            let observed = match cloud.get_role(id).await {
                Ok(observed) => observed,
                Err(error) if error.is_not_found() => {
                    return Err(ImportError::NotFound {
                        what: format!("role `{id}`"),
                        place: String::new(),
                    });
                }
                Err(error) => return Err(error.into()),
            };
            let roles = observe::stack_roles(cloud, desired, options).await?;
            let holders: Vec<&ObservedRole> = roles
                .iter()
                .filter(|other| other.owner().address_in(stack) == Some(address))
                .collect();
            check_role(desired, address, &observed, &holders)
        }
        _ => Err(ImportError::NotImportable(address.clone())),
    }
}

/// What `emrstack import --all` found for one declared address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A resource under the declared name, free to adopt.
    Adopt(Adoption),
    /// Already provably the stack's (`id`: the application ID or role name).
    Owned { id: String },
    /// Nothing under the declared name: `emrstack apply` creates it.
    Missing { name: String },
    /// A resource under the declared name that cannot be adopted.
    Refused(ImportError),
}

/// One declared address and what `import --all` does with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SurveyEntry {
    pub address: Address,
    pub outcome: Outcome,
}

/// What `emrstack import --all` would do, for every declared application
/// and role, in address order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Survey {
    pub entries: Vec<SurveyEntry>,
}

impl Survey {
    /// The adoptions to write.
    pub(crate) fn adoptions(&self) -> impl Iterator<Item = &Adoption> {
        self.entries.iter().filter_map(|entry| match &entry.outcome {
            Outcome::Adopt(adoption) => Some(adoption),
            _ => None,
        })
    }

    /// The refusals; `import --all` writes nothing while there is one.
    pub(crate) fn refusals(&self) -> impl Iterator<Item = (&Address, &ImportError)> {
        self.entries.iter().filter_map(|entry| match &entry.outcome {
            Outcome::Refused(error) => Some((&entry.address, error)),
            _ => None,
        })
    }
}

/// `emrstack import --all`: every declared application and role that
/// exists under its declared name, read from AWS, with what to do with it.
/// Reads every application of the region (as [`prepare`] does, and for the
/// same reason) and the roles a plan reads.
pub(crate) async fn survey<C: Cloud>(
    cloud: &C,
    desired: &Desired,
    options: &ObserveOptions,
) -> Result<Survey, CloudError> {
    let (applications, roles) = futures::join!(
        observe::every_application(cloud, options),
        observe::stack_roles(cloud, desired, options),
    );
    Ok(survey_of(desired, &applications?, &roles?))
}

/// [`survey`] on what was read: `applications` are every application of
/// the region that is not TERMINATED, `roles` at least the declared names
/// and the roles that carry the stack's tags.
pub(crate) fn survey_of(desired: &Desired, applications: &[ObservedApplication], roles: &[ObservedRole]) -> Survey {
    let stack = desired.stack.name.as_str();
    let mut entries = Vec::new();
    for (key, declaration) in &desired.applications {
        let address = Address::application(key);
        let holders: Vec<&ObservedApplication> = applications
            .iter()
            .filter(|app| app.owner().address_in(stack) == Some(&address))
            .collect();
        let proven = holders
            .iter()
            .find(|app| tags::proves_ownership(&app.spec.tags, tags::Identity::of_application(&app.spec)));
        let named: Vec<&ObservedApplication> = applications
            .iter()
            .filter(|app| app.spec.name == declaration.spec.name)
            .collect();
        let outcome = match (proven, named.as_slice()) {
            (Some(owned), _) => Outcome::Owned { id: owned.id.clone() },
            (None, []) => Outcome::Missing {
                name: declaration.spec.name.clone(),
            },
            (None, [app]) => match check_application(desired, &address, app, &holders) {
                Ok(adoption) => Outcome::Adopt(adoption),
                Err(refusal) => Outcome::Refused(refusal),
            },
            (None, several) => Outcome::Refused(ImportError::Ambiguous {
                address: address.clone(),
                name: declaration.spec.name.clone(),
                count: several.len(),
                ids: several.iter().map(|app| app.id.as_str()).collect::<Vec<_>>().join(", "),
            }),
        };
        entries.push(SurveyEntry { address, outcome });
    }
    for (key, declaration) in &desired.roles {
        let address = Address::role(key);
        let holders: Vec<&ObservedRole> = roles
            .iter()
            .filter(|observed| observed.owner().address_in(stack) == Some(&address))
            .collect();
        let proven = holders
            .iter()
            .find(|observed| tags::proves_ownership(&observed.spec.tags, tags::Identity::of_role(&observed.spec)));
        // IAM role names are unique regardless of case.
        let named = roles
            .iter()
            .find(|observed| observed.spec.name.eq_ignore_ascii_case(&declaration.name));
        let outcome = match (proven, named) {
            (Some(owned), _) => Outcome::Owned {
                id: owned.spec.name.clone(),
            },
            (None, None) => Outcome::Missing {
                name: declaration.name.clone(),
            },
            (None, Some(observed)) => match check_role(desired, &address, observed, &holders) {
                Ok(adoption) => Outcome::Adopt(adoption),
                Err(refusal) => Outcome::Refused(refusal),
            },
        };
        entries.push(SurveyEntry { address, outcome });
    }
    entries.sort_by(|a, b| a.address.cmp(&b.address));
    Survey { entries }
}

#[cfg(test)]
pub(super) mod tests;
