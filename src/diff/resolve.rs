//! Matching declared resources with observed ones and resolving what the
//! stack file leaves symbolic: repository images become URIs (pinned to a
//! digest), application keys become ARNs (or placeholders for ARNs known
//! only after apply), and ownership tags are added.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{
    Actual, Address, ApplicationSpec, Desired, DesiredImage, Engine, ImageConfig, ImageSource, ObservedApplication,
    ObservedRole, ResourceKind, RoleSpec, reference, tags,
};

use super::Mode;

/// An application key's declared spec and the observed applications that
/// carry its address.
#[derive(Clone, Debug)]
pub struct ApplicationSlot<'a> {
    pub key: String,
    /// The resolved desired spec with ownership tags; `None` when the key is
    /// not declared (or in destroy mode) or could not be resolved.
    pub desired: Option<ApplicationSpec>,
    /// Whether the key is declared (even if resolving it failed).
    pub declared: bool,
    pub prevent_destroy: bool,
    /// The observed application the desired one is compared with.
    pub primary: Option<&'a ObservedApplication>,
    /// Further applications owned under the same address.
    pub duplicates: Vec<&'a ObservedApplication>,
    /// Why `primary` is the one kept, when there are duplicates.
    pub keep_reason: Option<&'static str>,
}

/// A role key's declared spec and the observed roles that carry its address.
#[derive(Clone, Debug)]
pub struct RoleSlot<'a> {
    pub key: String,
    pub desired: Option<RoleSpec>,
    pub declared: bool,
    pub prevent_destroy: bool,
    pub primary: Option<&'a ObservedRole>,
    pub duplicates: Vec<&'a ObservedRole>,
    /// Why `primary` is the one kept, when there are duplicates.
    pub keep_reason: Option<&'static str>,
}

/// Everything `diff` needs after resolution.
#[derive(Clone, Debug)]
pub struct Resolved<'a> {
    pub desired: &'a Desired,
    pub actual: &'a Actual,
    pub mode: Mode,
    pub applications: BTreeMap<String, ApplicationSlot<'a>>,
    pub roles: BTreeMap<String, RoleSlot<'a>>,
    /// Application key -> ARN, for applications that exist and keep their ARN.
    pub known_arns: BTreeMap<String, String>,
}

impl Resolved<'_> {
    pub fn stack(&self) -> &str {
        &self.desired.stack.name
    }

    /// The ARN of an application, or its placeholder when it is known only after apply.
    pub fn arn_or_placeholder(&self, key: &str) -> String {
        self.known_arns
            .get(key)
            .cloned()
            .unwrap_or_else(|| reference::application_arn_placeholder(key))
    }
}

/// The ownership tags of a resource at `address` in `stack`.
pub(super) fn ownership_tags(stack: &str, address: &Address) -> BTreeMap<String, String> {
    BTreeMap::from([
        (tags::STACK_TAG.to_string(), stack.to_string()),
        (tags::ADDRESS_TAG.to_string(), address.to_string()),
    ])
}

pub(super) fn resolve<'a>(
    desired: &'a Desired,
    actual: &'a Actual,
    mode: Mode,
    diagnostics: &mut Diagnostics,
) -> Resolved<'a> {
    let stack = desired.stack.name.as_str();
    let applications = application_slots(desired, actual, mode, diagnostics);
    let mut known_arns = BTreeMap::new();
    for (key, slot) in &applications {
        if let (Some(primary), Some(wanted)) = (slot.primary, slot.desired.as_ref())
            && primary.spec.name == wanted.name
            && primary.spec.engine == wanted.engine
        {
            known_arns.insert(key.clone(), primary.arn.clone());
        }
    }
    let mut resolved = Resolved {
        desired,
        actual,
        mode,
        applications,
        roles: BTreeMap::new(),
        known_arns,
    };
    resolved.roles = role_slots(&resolved, diagnostics);
    let _ = stack;
    resolved
}

/// Orders the applications owned under one address so the one to keep comes
/// first, and says why: the one with the declared name and type (when the
/// stack declares the address), then the oldest, then the smallest ID. The
/// order depends only on AWS and the stack file, not on the plan's mode, so
/// `plan` and `plan --destroy` name the same one.
fn pick_primary(candidates: &mut [&ObservedApplication], declared: Option<(&str, Engine)>) -> Option<&'static str> {
    let matches = |app: &ObservedApplication| {
        declared.is_some_and(|(name, engine)| app.spec.name == name && app.spec.engine == engine)
    };
    candidates.sort_by_key(|app| (!matches(app), app.created_at_ms.unwrap_or(i64::MAX), app.id.clone()));
    let [first, second, ..] = candidates else {
        return None;
    };
    Some(if matches(first) && !matches(second) {
        "it has the declared name and type"
    } else if first.created_at_ms.unwrap_or(i64::MAX) < second.created_at_ms.unwrap_or(i64::MAX) {
        "it is the oldest"
    } else {
        "its ID sorts first"
    })
}

/// The diagnostic for a resource that carries this stack's ownership tags
/// but not the record emrstack writes for it: someone tagged it by hand (or
/// copied another resource's tags), or an emrstack version from before
/// records proved ownership created or imported it. emrstack neither
/// changes nor deletes it (docs/ownership.md). An error when the stack
/// declares its address: the plan would otherwise have to decide what to do
/// with it next to the declared resource. A warning when it does not:
/// nothing is planned for an undeclared address but deletion, which it is
/// spared anyway, so anyone able to tag an application must not be able to
/// block the stack's applies and destroys with it.
fn unproven(
    address: &Address,
    kind: &str,
    name: &str,
    id: &str,
    resource_tags: &BTreeMap<String, String>,
    declared: bool,
) -> Diagnostic {
    let shown: Vec<String> = resource_tags
        .iter()
        .map(|(key, value)| format!("`{key}={value}`"))
        .collect();
    let what = if name == id {
        format!("{kind} `{name}`")
    } else {
        format!("{kind} `{name}` ({id})")
    };
    let record = if resource_tags.contains_key(tags::APPLIED_TAG) {
        format!(
            "but an `{}` record emrstack did not write for it (copied from another resource, or edited)",
            tags::APPLIED_TAG
        )
    } else {
        format!("but no `{}` record", tags::APPLIED_TAG)
    };
    let message = format!(
        "{what} carries the tags {} {record}, so emrstack cannot prove it created it and will neither change nor \
         delete it",
        shown.join(", "),
    );
    let import = format!(
        "if emrstack created it (or an emrstack version from before records proved ownership created or imported \
         it, docs/ownership.md \"Upgrading\"), run `emrstack import {address} {id}`"
    );
    if declared {
        Diagnostic::error("plan.unproven-ownership", message)
            .with_help(format!("{import} to adopt it; otherwise remove its `emrstack:` tags"))
            .about(address.to_string(), "name")
    } else {
        Diagnostic::warning("plan.unproven-ownership", message).with_help(format!(
            "`{address}` is not declared, so it is left alone; {import} and the next apply deletes it; otherwise \
             remove its `emrstack:` tags"
        ))
    }
}

fn application_slots<'a>(
    desired: &'a Desired,
    actual: &'a Actual,
    mode: Mode,
    diagnostics: &mut Diagnostics,
) -> BTreeMap<String, ApplicationSlot<'a>> {
    let stack = desired.stack.name.as_str();
    // A TERMINATED application (deleted since it was listed) is gone: it
    // accepts neither updates nor deletion, and its name is free.
    let live = || {
        actual
            .applications
            .iter()
            .filter(|app| app.state != crate::model::ApplicationState::Terminated)
    };
    let mut owned: BTreeMap<String, Vec<&ObservedApplication>> = BTreeMap::new();
    for app in live() {
        if let Some(address) = app.owner().address_in(stack)
            && address.kind == ResourceKind::Application
        {
            if tags::proves_ownership(&app.spec.tags, tags::Identity::of_application(&app.spec)) {
                owned.entry(address.name.clone()).or_default().push(app);
            } else {
                let declared = desired.applications.contains_key(&address.name);
                diagnostics.push(unproven(
                    address,
                    "application",
                    &app.spec.name,
                    &app.id,
                    &app.spec.tags,
                    declared,
                ));
            }
        }
    }
    let declared_name = |key: &str| {
        desired
            .applications
            .get(key)
            .map(|declaration| (declaration.spec.name.as_str(), declaration.spec.engine))
    };
    let mut slots = BTreeMap::new();
    let declared = if mode == Mode::Apply {
        desired.applications.iter().collect()
    } else {
        Vec::new()
    };
    for (key, declaration) in declared {
        let address = Address::application(key);
        let resolved = resolve_images(declaration.spec.clone(), key, desired, actual, diagnostics).map(|mut spec| {
            spec.tags.extend(ownership_tags(stack, &address));
            spec
        });
        let mut candidates = owned.remove(key).unwrap_or_default();
        let keep_reason = pick_primary(&mut candidates, declared_name(key));
        if candidates.is_empty() {
            let name = &declaration.spec.name;
            for foreign in live().filter(|app| &app.spec.name == name) {
                if foreign.owner().address_in(stack).is_none() {
                    diagnostics.push(conflict(&address, "application", name, &foreign.id, &foreign.owner()));
                }
            }
        }
        let mut candidates = candidates.into_iter();
        slots.insert(
            key.clone(),
            ApplicationSlot {
                key: key.clone(),
                desired: resolved,
                declared: true,
                prevent_destroy: declaration.prevent_destroy,
                primary: candidates.next(),
                duplicates: candidates.collect(),
                keep_reason,
            },
        );
    }
    for (key, mut candidates) in owned {
        let keep_reason = pick_primary(&mut candidates, declared_name(&key));
        let prevent_destroy = desired.applications.get(&key).is_some_and(|d| d.prevent_destroy);
        let mut candidates = candidates.into_iter();
        slots.insert(
            key.clone(),
            ApplicationSlot {
                key,
                desired: None,
                declared: false,
                prevent_destroy,
                primary: candidates.next(),
                duplicates: candidates.collect(),
                keep_reason,
            },
        );
    }
    slots
}

fn conflict(address: &Address, kind: &str, name: &str, id: &str, owner: &crate::model::Owner) -> Diagnostic {
    let owner_text = match owner {
        crate::model::Owner::Stack { stack, .. } => format!("owned by stack `{stack}`"),
        crate::model::Owner::Unmanaged => "not managed by emrstack".to_string(),
    };
    Diagnostic::error(
        "plan.conflict",
        if name == id {
            format!("{kind} `{name}` already exists and is {owner_text}; `{address}` would not take it over")
        } else {
            format!("{kind} `{name}` ({id}) already exists and is {owner_text}; `{address}` would not take it over")
        },
    )
    .with_help(format!(
        "run `emrstack import {address} {id}` to adopt it, or give `{address}` another name"
    ))
    .about(address.to_string(), "name")
}

/// The desired spec with repository images resolved to URIs.
fn resolve_images(
    spec: ApplicationSpec<DesiredImage>,
    key: &str,
    desired: &Desired,
    actual: &Actual,
    diagnostics: &mut Diagnostics,
) -> Option<ApplicationSpec> {
    let address = Address::application(key);
    let mut failed = false;
    // Every image is resolved, even after one failed, so that each missing
    // repository or tag is reported; a failed image resolves to a blank URI
    // and the spec is dropped at the end.
    let unresolved = |image: &DesiredImage| ImageConfig {
        image_uri: String::new(),
        application_level_digest_resolution: image.application_level_digest_resolution,
    };
    let resolved = spec.map_images(|worker, image| -> Result<ImageConfig, std::convert::Infallible> {
        let path = match worker {
            None => "image".to_string(),
            Some(worker) => format!("worker_type_specifications.{worker}.image"),
        };
        let uri = match &image.source {
            ImageSource::Uri { uri } => uri.clone(),
            ImageSource::Repository {
                repository,
                tag,
                pin_digest,
            } => {
                let Some(declared) = desired.repositories.get(repository) else {
                    // Validation reports undeclared repositories; nothing to resolve.
                    failed = true;
                    return Ok(unresolved(&image));
                };
                let Some(observed) = actual.repositories.get(&declared.name) else {
                    diagnostics.push(
                        Diagnostic::error(
                            "image.repository-not-found",
                            format!("ECR repository `{}` does not exist", declared.name),
                        )
                        .with_help("emrstack manages the policy of an existing repository; create it first")
                        .about(address.to_string(), format!("{path}.repository")),
                    );
                    failed = true;
                    return Ok(unresolved(&image));
                };
                let digest = actual.image_digests.get(&declared.name).and_then(|tags| tags.get(tag));
                match (digest, pin_digest) {
                    (Some(digest), true) => format!("{}@{digest}", observed.uri),
                    (Some(_), false) => format!("{}:{tag}", observed.uri),
                    (None, _) => {
                        diagnostics.push(
                            Diagnostic::error(
                                "image.tag-not-found",
                                format!("image tag `{tag}` does not exist in ECR repository `{}`", declared.name),
                            )
                            .with_help("push the image first, or fix the tag")
                            .about(address.to_string(), format!("{path}.tag")),
                        );
                        failed = true;
                        return Ok(unresolved(&image));
                    }
                }
            }
        };
        Ok(ImageConfig {
            image_uri: uri,
            application_level_digest_resolution: image.application_level_digest_resolution,
        })
    });
    match resolved {
        Ok(spec) if !failed => Some(spec),
        _ => None,
    }
}

fn role_slots<'a>(resolved: &Resolved<'a>, diagnostics: &mut Diagnostics) -> BTreeMap<String, RoleSlot<'a>> {
    let desired = resolved.desired;
    let actual = resolved.actual;
    let stack = desired.stack.name.as_str();
    let mut owned: BTreeMap<String, Vec<&ObservedRole>> = BTreeMap::new();
    for role in &actual.roles {
        if let Some(address) = role.owner().address_in(stack)
            && address.kind == ResourceKind::Role
        {
            if tags::proves_ownership(&role.spec.tags, tags::Identity::of_role(&role.spec)) {
                owned.entry(address.name.clone()).or_default().push(role);
            } else {
                let declared = desired.roles.contains_key(&address.name);
                diagnostics.push(unproven(
                    address,
                    "role",
                    &role.spec.name,
                    &role.spec.name,
                    &role.spec.tags,
                    declared,
                ));
            }
        }
    }
    // The role to keep among several under one address comes first: the one
    // with the declared name (IAM compares names regardless of case) and
    // path, then the smallest role ID; the same in every mode.
    let order = |key: &str, candidates: &mut Vec<&ObservedRole>| -> Option<&'static str> {
        let matches = |role: &ObservedRole| {
            desired.roles.get(key).is_some_and(|declared| {
                role.spec.name.eq_ignore_ascii_case(&declared.name) && role.spec.path == declared.path
            })
        };
        candidates.sort_by_key(|role| (!matches(role), role.role_id.clone()));
        match candidates.as_slice() {
            [first, second, ..] if matches(first) && !matches(second) => Some("it has the declared name and path"),
            [_, _, ..] => Some("its role ID sorts first"),
            _ => None,
        }
    };
    let mut slots = BTreeMap::new();
    let declared: Vec<_> = if resolved.mode == Mode::Apply {
        desired.roles.iter().collect()
    } else {
        Vec::new()
    };
    for (key, declaration) in declared {
        let address = Address::role(key);
        let arns: Vec<String> = declaration
            .trust_applications
            .iter()
            .map(|app| resolved.arn_or_placeholder(app))
            .collect();
        let inline_policies = declaration
            .inline_policies
            .iter()
            .map(|(name, document)| (name.clone(), reference::substitute(document, &resolved.known_arns)))
            .collect();
        let mut role_tags = desired.stack.tags.clone();
        role_tags.extend(declaration.tags.clone());
        role_tags.extend(ownership_tags(stack, &address));
        let spec = RoleSpec {
            name: declaration.name.clone(),
            path: declaration.path.clone(),
            description: declaration.description.clone(),
            max_session_duration: declaration.max_session_duration,
            permissions_boundary: declaration.permissions_boundary.clone(),
            // A stated trust policy is kept as written, with the stack's
            // marker statement added so that a plan finds the role after
            // it leaves the stack (docs/observe.md, "Roles").
            trust_policy: match &declaration.trust_policy {
                Some(stated) => {
                    crate::model::role::with_marker(&reference::substitute(stated, &resolved.known_arns), stack)
                }
                None => crate::model::role::trust_policy(stack, &actual.account_id, &arns),
            },
            inline_policies,
            managed_policy_arns: declaration.managed_policy_arns.clone(),
            tags: role_tags,
        };
        let mut candidates = owned.remove(key).unwrap_or_default();
        if candidates.is_empty() {
            // IAM role names are unique in an account: a role the stack owns
            // under a key it no longer declares, with this key's name, is
            // this key's role after a rename. Creating it again would fail.
            for (old_key, roles) in owned.iter_mut() {
                if !desired.roles.contains_key(old_key) {
                    candidates.extend(roles.extract_if(.., |role| role.spec.name.eq_ignore_ascii_case(&spec.name)));
                }
            }
        }
        let keep_reason = order(key, &mut candidates);
        if candidates.is_empty() {
            // IAM role names are unique regardless of case: `OWN2-ETL` takes
            // the name `own2-etl` too.
            for foreign in actual
                .roles
                .iter()
                .filter(|role| role.spec.name.eq_ignore_ascii_case(&spec.name))
            {
                if foreign.owner().address_in(stack).is_none() {
                    let found = &foreign.spec.name;
                    let mut diagnostic = conflict(&address, "role", found, found, &foreign.owner());
                    if found != &spec.name {
                        diagnostic.message.push_str(&format!(
                            " (IAM role names are not distinguished by case, so `{}` is taken)",
                            spec.name
                        ));
                        diagnostic.help = Some(format!("give `{address}` a name that differs in more than case"));
                    }
                    diagnostics.push(diagnostic);
                }
            }
        }
        let mut candidates = candidates.into_iter();
        slots.insert(
            key.clone(),
            RoleSlot {
                key: key.clone(),
                desired: Some(spec),
                declared: true,
                prevent_destroy: declaration.prevent_destroy,
                primary: candidates.next(),
                duplicates: candidates.collect(),
                keep_reason,
            },
        );
    }
    for (key, mut candidates) in owned {
        let keep_reason = order(&key, &mut candidates);
        let prevent_destroy = desired.roles.get(&key).is_some_and(|d| d.prevent_destroy);
        let mut candidates = candidates.into_iter();
        slots.insert(
            key.clone(),
            RoleSlot {
                key,
                desired: None,
                declared: false,
                prevent_destroy,
                primary: candidates.next(),
                duplicates: candidates.collect(),
                keep_reason,
            },
        );
    }
    slots
}
