//! Reading Actual through `Cloud`, concurrently and bounded.
//!
//! Observation reads everything a stack declares or owns, with as few calls
//! as the APIs allow (see docs/observe.md for the count):
//!
//! - applications: one `ListApplications` per 50 and, at the same time, the
//!   Resource Groups Tagging API's `GetResources` for the stack's tag (one
//!   per 100); then `GetApplication` for each application found by tag,
//!   listed with a declared name, or created within the tag index's lag.
//!   When the Tagging API may not be used (no `tag:GetResources`), or its
//!   answer proves incomplete, every listed application is read, with a
//!   warning;
//! - roles: one `ListRoles` per 1000, then the full role for each declared
//!   name and for each listed role whose trust policy carries the stack's
//!   marker (or emrstack's trust policy from before markers);
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

use crate::cloud::{Cloud, CloudError, ErrorKind};
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{
    Actual, Desired, ImageSource, ObservedApplication, ObservedRepository, ObservedRole, ResourceKind, RunningWork,
    role, tags,
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
    /// How the stack's applications and roles were found.
    pub discovery: Discovery,
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
pub(crate) fn absent_if_not_found<T>(result: Result<T, CloudError>) -> Result<Option<T>, CloudError> {
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
        return Ok(Observation {
            actual,
            diagnostics,
            discovery: Discovery::default(),
        });
    }

    let mut application_discovery = Discovery::default();
    let mut role_discovery = Discovery::default();
    let (applications, roles, networks, repositories) = futures::join!(
        applications(cloud, &gate, desired, parallelism, &mut application_discovery),
        roles(cloud, &gate, desired, parallelism, &mut role_discovery),
        networks(cloud, &gate, desired),
        declared_repositories(cloud, &gate, desired, parallelism),
    );
    let applications = applications?;
    actual.applications = applications.kept;
    if let Some(warning) = applications.warning {
        diagnostics.push(warning);
    }
    actual.roles = roles?;
    let discovery = Discovery {
        listed_roles: role_discovery.listed_roles,
        emr_roles: role_discovery.emr_roles,
        marked_roles: role_discovery.marked_roles,
        legacy_roles: role_discovery.legacy_roles,
        read_roles: role_discovery.read_roles,
        ..application_discovery
    };
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
    Ok(Observation {
        actual,
        diagnostics,
        discovery,
    })
}

/// The repository name of an ECR image URI in the given account and region.
fn ecr_repository(uri: &str, account: &str, region: &str) -> Option<String> {
    let host = format!("{account}.dkr.ecr.{region}.amazonaws.com/");
    let path = uri.strip_prefix(&host)?;
    let end = path.find(['@', ':']).unwrap_or(path.len());
    Some(path[..end].to_string())
}

/// How long after a tag change the Resource Groups Tagging API may still
/// answer without it, in milliseconds: 15 minutes.
///
/// AWS publishes no figure: the index is eventually consistent ("we get
/// stale resources as part of the response", aws/aws-sdk#302), deleted
/// resources were still returned 20 minutes later (aws/aws-cli#4173) and
/// for hours (boto/boto3#3341), and nothing public measures how soon a new
/// tag shows. 15 minutes is also how long the API's own pagination token
/// lives. The window decides cost and delay, never what may be deleted:
/// an application created within it is read even when the search does not
/// return it (a killed run's, then removed from the stack), and an owned
/// application older than it that the search does not return proves the
/// search incomplete (docs/observe.md, "Finding the stack's resources").
pub const TAG_INDEX_LAG_MS: i64 = 15 * 60 * 1000;

/// How observation found the stack's applications.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplicationStrategy {
    /// The Resource Groups Tagging API listed the applications tagged with
    /// the stack; only those, the listed applications with a declared name
    /// and those created within [`TAG_INDEX_LAG_MS`] were read.
    ByTag,
    /// The Tagging API could not be used or answered incompletely
    /// (`reason`), so every listed application was read, as the only other
    /// way to see their tags.
    ReadAll { reason: String },
}

/// What observation listed and read to find the stack's resources, for
/// `plan -vv` and the call formula of docs/observe.md.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discovery {
    pub applications: ApplicationStrategy,
    /// Applications `ListApplications` returned (every state but TERMINATED).
    pub listed_applications: usize,
    /// Application ARNs `GetResources` returned for the stack's tag (stale
    /// ones included); 0 after a fallback.
    pub tagged_applications: usize,
    /// Listed applications whose name the stack declares.
    pub named_applications: usize,
    /// Listed applications created within [`TAG_INDEX_LAG_MS`].
    pub recent_applications: usize,
    /// Applications read with `GetApplication`.
    pub read_applications: usize,
    /// Roles `ListRoles` returned (every role of the account).
    pub listed_roles: usize,
    /// Of those, roles that trust EMR Serverless.
    pub emr_roles: usize,
    /// Listed roles whose trust policy carries the stack's marker.
    pub marked_roles: usize,
    /// Listed roles with the trust policy emrstack wrote before markers.
    pub legacy_roles: usize,
    /// Role names read with `GetRole`: declared names, listed roles whose
    /// name equals a declared one but for case, marked and legacy roles.
    pub read_roles: usize,
}

impl Default for Discovery {
    fn default() -> Self {
        Discovery {
            applications: ApplicationStrategy::ByTag,
            listed_applications: 0,
            tagged_applications: 0,
            named_applications: 0,
            recent_applications: 0,
            read_applications: 0,
            listed_roles: 0,
            emr_roles: 0,
            marked_roles: 0,
            legacy_roles: 0,
            read_roles: 0,
        }
    }
}

impl Discovery {
    /// Two lines for people: how applications and roles were found, and
    /// what that cost in full reads.
    pub fn describe(&self) -> Vec<String> {
        let applications = match &self.applications {
            ApplicationStrategy::ByTag => format!(
                "applications: by tag (tag:GetResources): {} tagged with the stack, {} listed with a declared name, \
                 {} created in the last {} minutes; read {} of {} listed",
                self.tagged_applications,
                self.named_applications,
                self.recent_applications,
                TAG_INDEX_LAG_MS / 60_000,
                self.read_applications,
                self.listed_applications
            ),
            ApplicationStrategy::ReadAll { reason } => {
                format!("applications: read all {} listed ({reason})", self.listed_applications)
            }
        };
        let roles = format!(
            "roles: by trust-policy marker: {} marked, {} legacy emrstack trust policies; \
             read {} of {} listed ({} trust EMR Serverless)",
            self.marked_roles, self.legacy_roles, self.read_roles, self.listed_roles, self.emr_roles
        );
        vec![applications, roles]
    }
}

/// Why the search by tag cannot be used, when its failure says so: the
/// caller may not call `tag:GetResources` (an authorization refusal, not
/// credentials that are expired or invalid, which every other call would
/// meet too), or the endpoint does not offer the operation. `None` for
/// every other failure (throttled or transient after the SDK's retries,
/// credentials, a bad request): falling back would spend one
/// `GetApplication` per application of the account on a failure that
/// says nothing about the search, so the plan fails with it instead.
fn tagging_unavailable(error: &CloudError) -> Option<String> {
    let code = error.code.as_deref()?;
    match code {
        "AccessDeniedException" | "AccessDenied" if error.kind == ErrorKind::AccessDenied => {
            Some(format!("`tag:GetResources` is not allowed ({code})"))
        }
        "UnknownOperationException" => Some(format!(
            "the Resource Groups Tagging API does not offer `GetResources` here ({code})"
        )),
        _ => None,
    }
}

/// The one-line warning of a plan that read every application because the
/// search by tag was not allowed or not offered.
fn unavailable_warning(reason: &str, listed: usize) -> Diagnostic {
    Diagnostic::warning(
        "observe.tagging-unavailable",
        format!(
            "{reason}; reading {} instead (one `GetApplication` each) to find the stack's",
            how_many_applications(listed)
        ),
    )
    .with_help("allow `tag:GetResources` (docs/aws.md) so that a plan reads only the stack's applications")
}

/// "all 3 applications in the region", "the 1 application in the region".
fn how_many_applications(listed: usize) -> String {
    match listed {
        0 => "every application in the region (there is none)".to_string(),
        1 => "the 1 application in the region".to_string(),
        _ => format!("all {listed} applications in the region"),
    }
}

/// The one-line warning of a plan that read every application because the
/// search by tag left out an application it should have returned.
fn incomplete_warning(reason: &str, listed: usize) -> Diagnostic {
    Diagnostic::warning(
        "observe.tagging-incomplete",
        format!(
            "{reason}; reading {} (one `GetApplication` each) so that none of the stack's is missed",
            how_many_applications(listed)
        ),
    )
    .with_help("the plan is still complete; the Resource Groups Tagging API's index was behind by more than its usual lag (docs/observe.md)")
}

struct FoundApplications {
    kept: Vec<ObservedApplication>,
    warning: Option<Diagnostic>,
}

/// Whether an application carries this stack's ownership tags for an
/// application address and the proof that emrstack wrote it.
fn provably_stacks(app: &ObservedApplication, stack: &str) -> bool {
    app.owner()
        .address_in(stack)
        .is_some_and(|address| address.kind == ResourceKind::Application)
        && tags::proves_ownership(&app.spec.tags, tags::Identity::of_application(&app.spec))
}

async fn applications<C: Cloud>(
    cloud: &C,
    gate: &Gate,
    desired: &Desired,
    parallelism: usize,
    discovery: &mut Discovery,
) -> Result<FoundApplications, CloudError> {
    let stack = desired.stack.name.as_str();
    // The listing (names, cheap) and the search by tag run together.
    let (summaries, tagged) = futures::join!(
        gate.call(cloud.list_applications()),
        gate.call(cloud.find_tagged_applications(tags::STACK_TAG, stack)),
    );
    let summaries = summaries?;
    let declared_names: BTreeSet<&str> = desired
        .applications
        .values()
        .map(|app| app.spec.name.as_str())
        .collect();
    let lag_start = cloud.now_ms().saturating_sub(TAG_INDEX_LAG_MS);
    discovery.listed_applications = summaries.len();
    let named: BTreeSet<String> = summaries
        .iter()
        .filter(|summary| {
            summary
                .name
                .as_deref()
                .is_some_and(|name| declared_names.contains(name))
        })
        .map(|summary| summary.id.clone())
        .collect();
    discovery.named_applications = named.len();
    // Created within the index's lag: the search may not return them yet.
    // A summary without `createdAt` (AWS always sends it) counts as recent.
    let recent: BTreeSet<String> = summaries
        .iter()
        .filter(|summary| summary.created_at_ms.is_none_or(|created| created >= lag_start))
        .map(|summary| summary.id.clone())
        .collect();
    discovery.recent_applications = recent.len();
    let all = || {
        summaries
            .iter()
            .map(|summary| summary.id.clone())
            .collect::<BTreeSet<_>>()
    };
    let mut warning = None;
    // What to read in full. By tag: the stack's applications (each hit is
    // confirmed by the read: the index can list deleted ones), those with a
    // declared name (conflicts) and those created within the index's lag
    // (the stack's that the index has not caught up with yet). Otherwise
    // every listed application: the tags are only in the full application.
    let (to_read, hits): (BTreeSet<String>, Option<BTreeSet<String>>) = match tagged {
        Ok(hits) => {
            discovery.applications = ApplicationStrategy::ByTag;
            discovery.tagged_applications = hits.len();
            let hits: BTreeSet<String> = hits.into_iter().map(|hit| hit.id).collect();
            let to_read = hits.iter().cloned().chain(named).chain(recent).collect();
            (to_read, Some(hits))
        }
        Err(error) => {
            let Some(reason) = tagging_unavailable(&error) else {
                return Err(error);
            };
            warning = Some(unavailable_warning(&reason, summaries.len()));
            discovery.applications = ApplicationStrategy::ReadAll { reason };
            (all(), None)
        }
    };
    let read = |ids: BTreeSet<String>| {
        stream::iter(ids)
            .map(|id| async move { absent_if_not_found(gate.call(cloud.get_application(&id)).await) })
            .buffer_unordered(parallelism)
            .try_collect::<Vec<Option<ObservedApplication>>>()
    };
    let mut fetched: Vec<ObservedApplication> = read(to_read.clone()).await?.into_iter().flatten().collect();
    // A search that left out an application of the stack that is older than
    // the index's lag (read here by its name) cannot be trusted to have
    // returned the rest: a wrong type string, or a region where the index
    // lacks EMR Serverless, answers with nothing at all. Read everything.
    if let Some(hits) = &hits {
        let missed = fetched.iter().find(|app| {
            app.state != crate::model::ApplicationState::Terminated
                && !hits.contains(&app.id)
                && provably_stacks(app, stack)
                && app.created_at_ms.is_some_and(|created| created < lag_start)
        });
        if let Some(missed) = missed {
            let reason = format!(
                "the search by tag (tag:GetResources) did not return application `{}` ({}), which is the stack's \
                 and older than the index's lag of {} minutes",
                missed.spec.name,
                missed.id,
                TAG_INDEX_LAG_MS / 60_000
            );
            warning = Some(incomplete_warning(&reason, summaries.len()));
            discovery.applications = ApplicationStrategy::ReadAll { reason };
            let rest: BTreeSet<String> = all().difference(&to_read).cloned().collect();
            fetched.extend(read(rest).await?.into_iter().flatten());
        }
    }
    discovery.read_applications = match discovery.applications {
        ApplicationStrategy::ByTag => to_read.len(),
        ApplicationStrategy::ReadAll { .. } => to_read.union(&all()).count(),
    };
    let mut kept: Vec<ObservedApplication> = fetched
        .into_iter()
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
    Ok(FoundApplications { kept, warning })
}

async fn roles<C: Cloud>(
    cloud: &C,
    gate: &Gate,
    desired: &Desired,
    parallelism: usize,
    discovery: &mut Discovery,
) -> Result<Vec<ObservedRole>, CloudError> {
    let stack = desired.stack.name.as_str();
    let summaries = gate.call(cloud.list_roles()).await?;
    // IAM role names are unique regardless of case.
    let declared: BTreeSet<String> = desired.roles.values().map(|role| role.name.to_lowercase()).collect();
    discovery.listed_roles = summaries.len();
    discovery.emr_roles = summaries.iter().filter(|summary| summary.trusts_emr_serverless).count();
    // What to read in full: every declared name (read directly, so a role
    // created a moment ago that the listing does not show yet is found), a
    // listed role whose name differs from a declared one only in case (a
    // conflict), and the roles whose trust policy says emrstack wrote it for
    // this stack (the marker) or for some stack before markers (legacy):
    // every role the stack owns is among these. Everyone else's roles cost
    // their list entry only.
    let mut names: BTreeSet<String> = desired.roles.values().map(|role| role.name.clone()).collect();
    for summary in &summaries {
        let marked = role::has_stack_marker(&summary.trust_policy, stack);
        let legacy = !marked && role::is_legacy_trust_policy(&summary.trust_policy);
        discovery.marked_roles += usize::from(marked);
        discovery.legacy_roles += usize::from(legacy);
        if marked || legacy || declared.contains(&summary.name.to_lowercase()) {
            names.insert(summary.name.clone());
        }
    }
    discovery.read_roles = names.len();
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
            owned || declared.contains(&role.spec.name.to_lowercase())
        })
        .collect();
    // IAM may answer a name in another case with the same role: keep one.
    kept.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
    kept.dedup_by(|a, b| a.role_id == b.role_id);
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

/// Every application of the region that is not TERMINATED, read directly:
/// every listed application, one `GetApplication` each. For `emrstack
/// import`, which must not adopt a second application under an address,
/// and cannot trust the tag index for that: an application imported a
/// moment ago may not show in it yet, under a name the stack does not
/// declare. `emrstack import --all` finds the declared names in the same
/// read.
pub async fn every_application<C: Cloud>(
    cloud: &C,
    options: &ObserveOptions,
) -> Result<Vec<ObservedApplication>, CloudError> {
    let gate = Gate::new(options.parallelism);
    let gate = &gate;
    let summaries = gate.call(cloud.list_applications()).await?;
    let fetched: Vec<Option<ObservedApplication>> = stream::iter(summaries)
        .map(|summary| async move { absent_if_not_found(gate.call(cloud.get_application(&summary.id)).await) })
        .buffer_unordered(options.parallelism.max(1))
        .try_collect()
        .await?;
    let mut applications: Vec<ObservedApplication> = fetched
        .into_iter()
        .flatten()
        .filter(|app| app.state != crate::model::ApplicationState::Terminated)
        .collect();
    applications.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(applications)
}

/// The roles a plan of `desired` reads, as [`observe`] reads them: every
/// declared name, and every role whose trust policy carries the stack's
/// marker (or emrstack's trust policy from before markers). For `emrstack
/// import`, which must find the role that already carries an address.
pub async fn stack_roles<C: Cloud>(
    cloud: &C,
    desired: &Desired,
    options: &ObserveOptions,
) -> Result<Vec<ObservedRole>, CloudError> {
    let gate = Gate::new(options.parallelism);
    let mut discovery = Discovery::default();
    roles(cloud, &gate, desired, options.parallelism.max(1), &mut discovery).await
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
