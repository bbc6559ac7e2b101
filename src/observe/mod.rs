//! Reading Actual through `Cloud`, concurrently and bounded.
//!
//! Observation reads everything a stack declares or owns, with as few calls
//! as the APIs allow (see docs/observe.md for the count):
//!
//! - applications: one `ListApplications` per 50, then `GetApplication` for
//!   each (ownership tags are only in the full application);
//! - roles: one `ListRoles` per 1000 to find roles trusting EMR Serverless,
//!   then the full role for each declared name and for each undeclared
//!   candidate (to read its ownership tags);
//! - repositories: each declared repository and each repository an owned
//!   application's image comes from, with its policy; one `BatchGetImage`
//!   per repository for the tags the stack uses;
//! - networks: one `DescribeSubnets` and one `DescribeSecurityGroups`.
//!
//! Every `Cloud` call goes through one semaphore of `parallelism` permits,
//! so no more than that many are in progress at once. A few `Cloud` methods
//! make more than one AWS request each (a role's policies, a repository and
//! its policy), some of them concurrently; docs/observe.md counts them.
//! Rate limits are the `Cloud` implementation's business.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use futures::stream::{self, StreamExt, TryStreamExt};
use tokio::sync::Semaphore;

use crate::cloud::{Cloud, CloudError};
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{
    Actual, Desired, ImageSource, ObservedApplication, ObservedRepository, ObservedRole, ResourceKind, RunningWork,
};

/// How observation runs.
#[derive(Clone, Debug)]
pub struct ObserveOptions {
    /// The most AWS calls in flight at once (`--parallelism`), at least 1.
    pub parallelism: usize,
}

impl Default for ObserveOptions {
    fn default() -> Self {
        ObserveOptions { parallelism: 10 }
    }
}

/// What observation found, and the problems it found on the way (such as a
/// wrong account) that are the user's to fix.
#[derive(Clone, Debug)]
pub struct Observation {
    pub actual: Actual,
    pub diagnostics: Diagnostics,
}

/// Bounds the calls in flight.
struct Gate {
    semaphore: Semaphore,
}

impl Gate {
    fn new(parallelism: usize) -> Gate {
        Gate {
            semaphore: Semaphore::new(parallelism.max(1)),
        }
    }

    async fn call<T>(&self, call: impl Future<Output = Result<T, CloudError>>) -> Result<T, CloudError> {
        // The semaphore is never closed, so acquiring only waits.
        let _permit = self.semaphore.acquire().await;
        call.await
    }
}

/// `Ok(None)` for a resource that does not exist.
fn absent_if_not_found<T>(result: Result<T, CloudError>) -> Result<Option<T>, CloudError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(error),
    }
}

/// Reads the Actual of a stack.
///
/// Returns early, with only a diagnostic, when `stack.account_id` is set and
/// the credentials belong to another account: nothing else is read.
pub async fn observe<C: Cloud>(
    cloud: &C,
    desired: &Desired,
    options: &ObserveOptions,
) -> Result<Observation, CloudError> {
    let gate = Gate::new(options.parallelism);
    let parallelism = options.parallelism.max(1);
    let identity = gate.call(cloud.caller_identity()).await?;
    let mut diagnostics = Diagnostics::new();
    let mut actual = Actual {
        account_id: identity.account_id.clone(),
        region: cloud.region().to_string(),
        ..Actual::default()
    };
    if let Some(expected) = &desired.stack.account_id
        && expected != &identity.account_id
    {
        diagnostics.push(
            Diagnostic::error(
                "stack.wrong-account",
                format!(
                    "the stack is for account {expected}, but the credentials are for account {} ({})",
                    identity.account_id, identity.arn
                ),
            )
            .with_help("use credentials (or a --profile) for the stack's account")
            .about("stack", "account_id"),
        );
        return Ok(Observation { actual, diagnostics });
    }

    let (applications, roles, networks, repositories) = futures::join!(
        applications(cloud, &gate, desired, parallelism),
        roles(cloud, &gate, desired, parallelism),
        networks(cloud, &gate, desired),
        declared_repositories(cloud, &gate, desired, parallelism),
    );
    actual.applications = applications?;
    actual.roles = roles?;
    let (subnets, security_groups) = networks?;
    actual.subnets = subnets.into_iter().map(|subnet| (subnet.id.clone(), subnet)).collect();
    actual.security_groups = security_groups
        .into_iter()
        .map(|group| (group.id.clone(), group))
        .collect();
    let (repositories, image_digests) = repositories?;
    actual.repositories = repositories;
    actual.image_digests = image_digests;

    // Repositories that owned applications pull from, so that a repository
    // removed from the stack still has its statement found and removed.
    let extra: BTreeSet<String> = actual
        .applications
        .iter()
        .filter(|app| app.owner().address_in(&desired.stack.name).is_some())
        .flat_map(|app| {
            app.spec
                .image
                .iter()
                .chain(app.spec.worker_type_specifications.values())
                .filter_map(|image| ecr_repository(&image.image_uri, &actual.account_id, &actual.region))
                .collect::<Vec<_>>()
        })
        .filter(|name| !actual.repositories.contains_key(name))
        .collect();
    let found: Vec<Option<ObservedRepository>> = stream::iter(extra)
        .map(|name| {
            let gate = &gate;
            async move { absent_if_not_found(gate.call(cloud.get_repository(&name)).await) }
        })
        .buffer_unordered(parallelism)
        .try_collect()
        .await?;
    for repository in found.into_iter().flatten() {
        actual.repositories.insert(repository.name.clone(), repository);
    }
    Ok(Observation { actual, diagnostics })
}

/// The repository name of an ECR image URI in the given account and region.
fn ecr_repository(uri: &str, account: &str, region: &str) -> Option<String> {
    let host = format!("{account}.dkr.ecr.{region}.amazonaws.com/");
    let path = uri.strip_prefix(&host)?;
    let end = path.find(['@', ':']).unwrap_or(path.len());
    Some(path[..end].to_string())
}

async fn applications<C: Cloud>(
    cloud: &C,
    gate: &Gate,
    desired: &Desired,
    parallelism: usize,
) -> Result<Vec<ObservedApplication>, CloudError> {
    let summaries = gate.call(cloud.list_applications()).await?;
    let declared_names: BTreeSet<&str> = desired
        .applications
        .values()
        .map(|app| app.spec.name.as_str())
        .collect();
    let stack = desired.stack.name.as_str();
    let fetched: Vec<Option<ObservedApplication>> = stream::iter(summaries)
        .map(|summary| async move { absent_if_not_found(gate.call(cloud.get_application(&summary.id)).await) })
        .buffer_unordered(parallelism)
        .try_collect()
        .await?;
    let mut kept: Vec<ObservedApplication> = fetched
        .into_iter()
        .flatten()
        .filter(|app| app.state != crate::model::ApplicationState::Terminated)
        .filter(|app| {
            let owned = app
                .owner()
                .address_in(stack)
                .is_some_and(|address| address.kind == ResourceKind::Application);
            owned || declared_names.contains(app.spec.name.as_str())
        })
        .collect();
    kept.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(kept)
}

async fn roles<C: Cloud>(
    cloud: &C,
    gate: &Gate,
    desired: &Desired,
    parallelism: usize,
) -> Result<Vec<ObservedRole>, CloudError> {
    let stack = desired.stack.name.as_str();
    let summaries = gate.call(cloud.list_emr_serverless_roles()).await?;
    let mut names: BTreeSet<String> = desired.roles.values().map(|role| role.name.clone()).collect();
    names.extend(summaries.into_iter().map(|summary| summary.name));
    let declared: BTreeSet<&str> = desired.roles.values().map(|role| role.name.as_str()).collect();
    let fetched: Vec<Option<ObservedRole>> = stream::iter(names)
        .map(|name| async move { absent_if_not_found(gate.call(cloud.get_role(&name)).await) })
        .buffer_unordered(parallelism)
        .try_collect()
        .await?;
    let mut kept: Vec<ObservedRole> = fetched
        .into_iter()
        .flatten()
        .filter(|role| {
            let owned = role
                .owner()
                .address_in(stack)
                .is_some_and(|address| address.kind == ResourceKind::Role);
            owned || declared.contains(role.spec.name.as_str())
        })
        .collect();
    kept.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
    Ok(kept)
}

async fn networks<C: Cloud>(
    cloud: &C,
    gate: &Gate,
    desired: &Desired,
) -> Result<(Vec<crate::model::SubnetInfo>, Vec<crate::model::SecurityGroupInfo>), CloudError> {
    let subnet_ids: BTreeSet<String> = desired
        .networks
        .values()
        .flat_map(|network| network.subnet_ids.iter().cloned())
        .collect();
    let group_ids: BTreeSet<String> = desired
        .networks
        .values()
        .flat_map(|network| network.security_group_ids.iter().cloned())
        .collect();
    let subnet_ids: Vec<String> = subnet_ids.into_iter().collect();
    let group_ids: Vec<String> = group_ids.into_iter().collect();
    let subnets = async {
        if subnet_ids.is_empty() {
            Ok(Vec::new())
        } else {
            gate.call(cloud.describe_subnets(&subnet_ids)).await
        }
    };
    let groups = async {
        if group_ids.is_empty() {
            Ok(Vec::new())
        } else {
            gate.call(cloud.describe_security_groups(&group_ids)).await
        }
    };
    let (subnets, groups) = futures::join!(subnets, groups);
    Ok((subnets?, groups?))
}

type Repositories = (
    BTreeMap<String, ObservedRepository>,
    BTreeMap<String, BTreeMap<String, String>>,
);

async fn declared_repositories<C: Cloud>(
    cloud: &C,
    gate: &Gate,
    desired: &Desired,
    parallelism: usize,
) -> Result<Repositories, CloudError> {
    // Tags each declared repository must resolve, by repository key.
    let mut tags: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for application in desired.applications.values() {
        let images = application
            .spec
            .image
            .iter()
            .chain(application.spec.worker_type_specifications.values());
        for image in images {
            if let ImageSource::Repository { repository, tag, .. } = &image.source {
                tags.entry(repository.as_str()).or_default().insert(tag.clone());
            }
        }
    }
    let work: Vec<(String, Vec<String>)> = desired
        .repositories
        .iter()
        .map(|(key, repository)| {
            let wanted = tags
                .get(key.as_str())
                .map(|t| t.iter().cloned().collect())
                .unwrap_or_default();
            (repository.name.clone(), wanted)
        })
        .collect();
    let found: Vec<Option<(ObservedRepository, BTreeMap<String, String>)>> = stream::iter(work)
        .map(|(name, wanted)| async move {
            let Some(repository) = absent_if_not_found(gate.call(cloud.get_repository(&name)).await)? else {
                return Ok(None);
            };
            let digests = if wanted.is_empty() {
                BTreeMap::new()
            } else {
                gate.call(cloud.image_digests(&name, &wanted)).await?
            };
            Ok::<_, CloudError>(Some((repository, digests)))
        })
        .buffer_unordered(parallelism)
        .try_collect()
        .await?;
    let mut repositories = BTreeMap::new();
    let mut image_digests = BTreeMap::new();
    for (repository, digests) in found.into_iter().flatten() {
        if !digests.is_empty() {
            image_digests.insert(repository.name.clone(), digests);
        }
        repositories.insert(repository.name.clone(), repository);
    }
    Ok((repositories, image_digests))
}

/// What runs on the given applications, by application ID: unfinished job
/// runs of both modes and active interactive sessions, which all keep an
/// application from stopping.
pub async fn running_work<C: Cloud>(
    cloud: &C,
    application_ids: &[String],
    options: &ObserveOptions,
) -> Result<BTreeMap<String, RunningWork>, CloudError> {
    let gate = Gate::new(options.parallelism);
    let gate = &gate;
    stream::iter(application_ids.iter().cloned())
        .map(|id| async move {
            let (job_runs, sessions) = futures::join!(
                gate.call(cloud.list_active_job_runs(&id)),
                gate.call(cloud.list_active_sessions(&id)),
            );
            let work = RunningWork {
                job_runs: job_runs?,
                sessions: sessions?,
            };
            Ok::<_, CloudError>((id, work))
        })
        .buffer_unordered(options.parallelism.max(1))
        .try_collect()
        .await
}

#[cfg(test)]
mod tests;
