//! An in-memory `Cloud` for fast tests of the observer, planner and executor.
//!
//! It keeps the EMR Serverless rules that the executor must respect (the
//! state machine with timed transitions, updates allowed while STARTED only
//! as the field declarations of `model::fields` say, stop and delete refused
//! while job runs or sessions are active, client-token idempotency) and
//! records every call, the peak number of calls in flight and injected
//! failures. Time is tokio time, so tests run with
//! `#[tokio::test(start_paused = true)]` and take no wall-clock time.
//!
//! What the service stores for a request ([`stored_after_create`],
//! [`stored_after_update`]) is public, and an end-to-end test checks it
//! against the emulator. The diff tests deploy with the executor on a fake
//! seeded from an `Actual` (`FakeCloud::from_actual`).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::{ApplicationRef, CallerIdentity, Cloud, CloudError, ErrorKind};
use crate::model::fields::{ChangeRule, Live, release_of};
use crate::model::update::{field_json, set_field_json};
use crate::model::{
    ApplicationField, ApplicationSpec, ApplicationState, ApplicationSummary, ApplicationUpdate, AutoStart, AutoStop,
    ImageConfig, ImageInput, JobRun, JobRunMode, JobRunState, ObservedApplication, ObservedRepository, ObservedRole,
    RoleSpec, RoleSummary, Scheduler, SecurityGroupInfo, Session, SessionState, SubnetInfo, TaggedApplication,
};

/// How long the fake's transitional states last.
#[derive(Clone, Debug)]
pub struct FakeTimings {
    pub create: Duration,
    pub start: Duration,
    pub stop: Duration,
    pub cancel: Duration,
    /// Latency added to every call, so calls overlap and parallelism shows.
    pub call_latency: Duration,
}

impl Default for FakeTimings {
    fn default() -> Self {
        FakeTimings {
            create: Duration::from_secs(2),
            start: Duration::from_secs(5),
            stop: Duration::from_secs(5),
            cancel: Duration::from_secs(1),
            call_latency: Duration::from_millis(50),
        }
    }
}

/// A failure to inject: the next `count` calls of `operation` whose subject
/// (application ID, role name, repository name) contains `subject` fail.
#[derive(Clone, Debug)]
pub struct FailRule {
    pub operation: String,
    pub subject: Option<String>,
    pub kind: ErrorKind,
    /// The service's error code the failure carries, if any.
    pub code: Option<String>,
    pub count: u32,
    pub message: String,
}

#[derive(Clone, Debug)]
struct FakeJob {
    id: String,
    state: JobRunState,
    mode: JobRunMode,
    /// When a running job finishes on its own; `None` runs until cancelled.
    finishes_at: Option<Instant>,
    /// When a cancelling job becomes cancelled.
    cancelled_at: Option<Instant>,
}

#[derive(Clone, Debug)]
struct FakeSession {
    id: String,
    state: SessionState,
    /// When a terminating session becomes terminated.
    terminated_at: Option<Instant>,
}

#[derive(Clone, Debug)]
struct FakeApplication {
    observed: ObservedApplication,
    /// The state the application moves to, and when.
    transition: Option<(ApplicationState, Instant)>,
    jobs: Vec<FakeJob>,
    sessions: Vec<FakeSession>,
    /// When DeleteApplication made it TERMINATED.
    deleted_at: Option<Instant>,
    /// Every tag set the application has had, with when it was set (`None`:
    /// before the fake's clock started), for the tag index's lag.
    tag_history: Vec<(Option<Instant>, BTreeMap<String, String>)>,
}

impl FakeApplication {
    /// A new application whose tags were set at `tagged_at` (`None`: before
    /// the fake's clock started).
    fn new(
        observed: ObservedApplication,
        transition: Option<(ApplicationState, Instant)>,
        tagged_at: Option<Instant>,
    ) -> FakeApplication {
        let tags = observed.spec.tags.clone();
        FakeApplication {
            observed,
            transition,
            jobs: Vec::new(),
            sessions: Vec::new(),
            deleted_at: None,
            tag_history: vec![(tagged_at, tags)],
        }
    }

    /// Whether job runs or sessions keep the application from stopping.
    fn has_running_work(&self) -> bool {
        self.jobs.iter().any(|job| job.state.is_active()) || self.sessions.iter().any(|s| s.state.is_active())
    }
}

impl FakeApplication {
    /// Records the application's tags after a change of them.
    fn tags_changed(&mut self, at: Instant) {
        if self.tag_history.last().map(|(_, tags)| tags) != Some(&self.observed.spec.tags) {
            self.tag_history.push((Some(at), self.observed.spec.tags.clone()));
        }
    }

    /// The tags the tagging index holds at `now` when it lags `delay`
    /// behind: the newest tag set older than that, or `None` while the index
    /// does not know the application yet.
    fn indexed_tags(&self, now: Instant, delay: Duration) -> Option<&BTreeMap<String, String>> {
        if delay.is_zero() {
            return Some(&self.observed.spec.tags);
        }
        let horizon = now.checked_sub(delay);
        self.tag_history
            .iter()
            .rev()
            .find(|(at, _)| match (at, horizon) {
                (None, _) => true,
                (Some(at), Some(horizon)) => *at <= horizon,
                (Some(_), None) => false,
            })
            .map(|(_, tags)| tags)
    }
}

/// The fake's clock starts at 2026-01-01T00:00:00Z (ms since the epoch)
/// and runs with tokio time, so paused tests control it.
const FAKE_EPOCH_MS: i64 = 1_767_225_600_000;

/// Applications inserted by tests were created a day before the fake's
/// clock starts: older than any lag a plan allows for.
const INSERTED_AGE_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    applications: BTreeMap<String, FakeApplication>,
    /// Client token -> (request fingerprint, application id).
    create_tokens: BTreeMap<String, (String, String)>,
    update_tokens: BTreeMap<String, String>,
    /// StartJobRun client token -> (request, job run id).
    job_tokens: BTreeMap<String, (String, String)>,
    /// How each job run started with StartJobRun ends: `FAILED` when its
    /// name is in this list, `SUCCESS` otherwise.
    failing_jobs: Vec<String>,
    /// Job runs that end FAILED rather than SUCCESS.
    failed_job_ids: Vec<String>,
    roles: BTreeMap<String, ObservedRole>,
    repositories: BTreeMap<String, ObservedRepository>,
    image_digests: BTreeMap<String, BTreeMap<String, String>>,
    subnets: BTreeMap<String, SubnetInfo>,
    security_groups: BTreeMap<String, SecurityGroupInfo>,
    /// How long a deleted application stays in the tagging index.
    tag_index_staleness: Duration,
    /// How long a tag change takes to reach the tagging index.
    tag_index_delay: Duration,
    /// Whether the tagging index lacks EMR Serverless altogether.
    tag_index_empty: bool,
    /// The last `createdAt` given out, so creations keep their order.
    last_created_ms: i64,
    calls: Vec<(String, String)>,
    in_flight: usize,
    peak_in_flight: usize,
    failures: Vec<FailRule>,
}

/// The in-memory cloud. Cheap to create; one per test.
#[derive(Debug)]
pub struct FakeCloud {
    region: String,
    account_id: String,
    timings: FakeTimings,
    /// When the fake's clock started ([`FAKE_EPOCH_MS`]).
    started: Instant,
    state: Mutex<State>,
}

/// Counts a call in flight for as long as it lives.
struct InFlight<'a> {
    cloud: &'a FakeCloud,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut state = self.cloud.lock();
        state.in_flight -= 1;
    }
}

impl FakeCloud {
    pub fn new() -> FakeCloud {
        FakeCloud::with_timings(FakeTimings::default())
    }

    pub fn with_timings(timings: FakeTimings) -> FakeCloud {
        FakeCloud {
            region: "us-east-1".to_string(),
            account_id: "123456789012".to_string(),
            timings,
            started: Instant::now(),
            state: Mutex::new(State::default()),
        }
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panicking test thread may poison the lock; the data is still fine to read.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records the call, applies the configured latency and any injected failure.
    async fn enter(&self, operation: &str, subject: &str) -> Result<InFlight<'_>, CloudError> {
        {
            let mut state = self.lock();
            state.calls.push((operation.to_string(), subject.to_string()));
            state.in_flight += 1;
            state.peak_in_flight = state.peak_in_flight.max(state.in_flight);
        }
        let guard = InFlight { cloud: self };
        if !self.timings.call_latency.is_zero() {
            tokio::time::sleep(self.timings.call_latency).await;
        }
        let mut state = self.lock();
        let rule = state.failures.iter_mut().find(|rule| {
            rule.count > 0
                && rule.operation == operation
                && rule.subject.as_deref().is_none_or(|wanted| subject.contains(wanted))
        });
        if let Some(rule) = rule {
            rule.count -= 1;
            let error = CloudError::new(rule.kind, operation, rule.message.clone());
            return Err(match &rule.code {
                Some(code) => error.with_code(code.clone()),
                None => error,
            });
        }
        Ok(guard)
    }

    /// `change` applied to one application as `operation` on `subject`: the
    /// call recorded, then due transitions completed first.
    async fn change_app<T>(
        &self,
        operation: &str,
        subject: &str,
        application_id: &str,
        change: impl FnOnce(&mut FakeApplication) -> Result<T, CloudError>,
    ) -> Result<T, CloudError> {
        let _call = self.enter(operation, subject).await?;
        let mut state = self.lock();
        let app = state
            .applications
            .get_mut(application_id)
            .ok_or_else(|| not_found(operation, &format!("application {application_id}")))?;
        settle(app, Instant::now());
        change(app)
    }

    /// A read of one application as `operation`: a copy of its state.
    async fn settled(&self, operation: &str, application_id: &str) -> Result<FakeApplication, CloudError> {
        self.change_app(operation, application_id, application_id, |app| Ok(app.clone()))
            .await
    }

    // ---- test controls --------------------------------------------------

    /// Makes the next `count` calls of `operation` on `subject` fail with `kind`.
    pub fn fail(&self, operation: &str, subject: Option<&str>, kind: ErrorKind, count: u32) {
        self.lock().failures.push(FailRule {
            operation: operation.to_string(),
            subject: subject.map(str::to_string),
            kind,
            code: None,
            count,
            message: format!("injected {kind}"),
        });
    }

    /// Makes the next `count` calls of `operation` fail with `kind` and the
    /// service's error `code`, as AWS answers them (`AccessDeniedException`,
    /// `ExpiredTokenException`, ...).
    pub fn fail_with_code(&self, operation: &str, kind: ErrorKind, code: &str, count: u32) {
        self.lock().failures.push(FailRule {
            operation: operation.to_string(),
            subject: None,
            kind,
            code: Some(code.to_string()),
            count,
            message: format!("injected {code}"),
        });
    }

    /// Every call so far as (operation, subject).
    pub fn calls(&self) -> Vec<(String, String)> {
        self.lock().calls.clone()
    }

    /// How many calls of `operation` were made.
    pub fn call_count(&self, operation: &str) -> usize {
        self.lock().calls.iter().filter(|(op, _)| op == operation).count()
    }

    /// The most calls that were in flight at the same time.
    pub fn peak_in_flight(&self) -> usize {
        self.lock().peak_in_flight
    }

    pub fn reset_counters(&self) {
        let mut state = self.lock();
        state.calls.clear();
        state.peak_in_flight = state.in_flight;
    }

    /// Adds an existing application in `state`, as if created earlier: a
    /// day before the fake's clock started (in insertion order), and known
    /// to the tagging index whatever its delay.
    pub fn insert_application(&self, spec: ApplicationSpec, state: ApplicationState) -> ApplicationRef {
        let mut guard = self.lock();
        let reference = new_application_ref(&mut guard, &self.region, &self.account_id);
        let observed = ObservedApplication {
            id: reference.id.clone(),
            arn: reference.arn.clone(),
            state,
            state_details: None,
            created_at_ms: Some(FAKE_EPOCH_MS - INSERTED_AGE_MS + guard.next_id as i64),
            spec: stored_after_create(&spec),
        };
        guard
            .applications
            .insert(reference.id.clone(), FakeApplication::new(observed, None, None));
        reference
    }

    /// Changes an application behind the executor's back (drift).
    pub fn edit_application(&self, id: &str, edit: impl FnOnce(&mut ApplicationSpec)) {
        let mut state = self.lock();
        if let Some(app) = state.applications.get_mut(id) {
            edit(&mut app.observed.spec);
            app.tags_changed(Instant::now());
        }
    }

    /// Sets an application's state directly (for example STARTED by auto-start).
    pub fn set_application_state(&self, id: &str, new_state: ApplicationState) {
        let mut state = self.lock();
        if let Some(app) = state.applications.get_mut(id) {
            app.observed.state = new_state;
            app.transition = None;
        }
    }

    /// Adds a RUNNING batch job to an application; it finishes after
    /// `runs_for` (never, with `None`, until cancelled). Returns the job run ID.
    pub fn add_job(&self, application_id: &str, runs_for: Option<Duration>) -> String {
        self.add_job_run(application_id, JobRunMode::Batch, runs_for)
    }

    /// Adds a RUNNING job run of `mode` (see [`FakeCloud::add_job`]).
    pub fn add_job_run(&self, application_id: &str, mode: JobRunMode, runs_for: Option<Duration>) -> String {
        let mut state = self.lock();
        state.next_id += 1;
        let id = format!("job{:013}", state.next_id);
        let now = Instant::now();
        if let Some(app) = state.applications.get_mut(application_id) {
            app.jobs.push(FakeJob {
                id: id.clone(),
                state: JobRunState::Running,
                mode,
                finishes_at: runs_for.map(|duration| now + duration),
                cancelled_at: None,
            });
        }
        id
    }

    /// Job runs started with StartJobRun whose name is `name` end FAILED.
    pub fn fail_jobs_named(&self, name: &str) {
        self.lock().failing_jobs.push(name.to_string());
    }

    /// Every job run of an application: (id, state).
    pub fn job_runs(&self, application_id: &str) -> Vec<(String, JobRunState)> {
        self.lock()
            .applications
            .get(application_id)
            .map(|app| app.jobs.iter().map(|job| (job.id.clone(), job.state)).collect())
            .unwrap_or_default()
    }

    /// Adds an IDLE interactive session to an application; it runs until
    /// terminated. Returns the session ID.
    pub fn add_session(&self, application_id: &str) -> String {
        let mut state = self.lock();
        state.next_id += 1;
        let id = format!("ses{:013}", state.next_id);
        if let Some(app) = state.applications.get_mut(application_id) {
            app.sessions.push(FakeSession {
                id: id.clone(),
                state: SessionState::Idle,
                terminated_at: None,
            });
        }
        id
    }

    /// Every application, including TERMINATED ones, as `GetApplication`
    /// returns them.
    pub fn applications(&self) -> Vec<ObservedApplication> {
        let mut state = self.lock();
        let now = Instant::now();
        let ids: Vec<String> = state.applications.keys().cloned().collect();
        ids.iter()
            .filter_map(|id| {
                let app = state.applications.get_mut(id)?;
                settle(app, now);
                let mut observed = app.observed.clone();
                observed.spec = described(&observed.spec);
                Some(observed)
            })
            .collect()
    }

    /// Keeps deleted applications in the tagging index
    /// ([`Cloud::find_tagged_applications`]) for `staleness` after their
    /// deletion, as AWS's eventually consistent index does (none by default).
    pub fn set_tag_index_staleness(&self, staleness: Duration) {
        self.lock().tag_index_staleness = staleness;
    }

    /// Makes the tagging index lag `delay` behind tag changes: an
    /// application created or tagged less than `delay` ago is listed with
    /// the tags it had before (not at all when it is that new), as AWS's
    /// eventually consistent index can (none by default).
    pub fn set_tag_index_delay(&self, delay: Duration) {
        self.lock().tag_index_delay = delay;
    }

    /// Makes the tagging index answer with no application at all, as it
    /// would in a region where it lacks EMR Serverless, or for a resource
    /// type string it does not know.
    pub fn set_tag_index_empty(&self, empty: bool) {
        self.lock().tag_index_empty = empty;
    }

    pub fn insert_role(&self, role: ObservedRole) {
        self.lock().roles.insert(role.spec.name.clone(), role);
    }

    pub fn roles(&self) -> Vec<ObservedRole> {
        self.lock().roles.values().cloned().collect()
    }

    pub fn insert_repository(&self, name: &str, policy: Option<Value>) {
        let uri = format!("{}.dkr.ecr.{}.amazonaws.com/{name}", self.account_id, self.region);
        let repository = ObservedRepository {
            name: name.to_string(),
            arn: format!("arn:aws:ecr:{}:{}:repository/{name}", self.region, self.account_id),
            registry_id: self.account_id.clone(),
            uri,
            policy,
        };
        self.lock().repositories.insert(name.to_string(), repository);
    }

    pub fn repository(&self, name: &str) -> Option<ObservedRepository> {
        self.lock().repositories.get(name).cloned()
    }

    pub fn insert_image(&self, repository: &str, tag: &str, digest: &str) {
        self.lock()
            .image_digests
            .entry(repository.to_string())
            .or_default()
            .insert(tag.to_string(), digest.to_string());
    }

    pub fn insert_subnet(&self, subnet: SubnetInfo) {
        self.lock().subnets.insert(subnet.id.clone(), subnet);
    }

    pub fn insert_security_group(&self, group: SecurityGroupInfo) {
        self.lock().security_groups.insert(group.id.clone(), group);
    }
}

/// For tests that start from an [`Actual`]: a fake holding what it
/// describes, and the account read back the same way.
#[cfg(test)]
impl FakeCloud {
    /// A fake in `actual`'s account and region holding its applications
    /// (with their IDs, states and specs), roles, repositories, image
    /// digests, subnets and security groups.
    pub fn from_actual(actual: &crate::model::Actual) -> FakeCloud {
        let mut cloud = FakeCloud::new();
        cloud.region = actual.region.clone();
        cloud.account_id = actual.account_id.clone();
        {
            let mut state = cloud.lock();
            // New IDs must not take a seeded one (a fake's own, read back).
            state.next_id = actual
                .applications
                .iter()
                .filter_map(|app| app.id.strip_prefix("00f")?.parse::<u64>().ok())
                .max()
                .unwrap_or(0);
            for app in &actual.applications {
                let mut observed = app.clone();
                observed.created_at_ms = observed.created_at_ms.or(Some(FAKE_EPOCH_MS - INSERTED_AGE_MS));
                state
                    .applications
                    .insert(app.id.clone(), FakeApplication::new(observed, None, None));
            }
            for role in &actual.roles {
                state.roles.insert(role.spec.name.clone(), role.clone());
            }
            state.repositories = actual.repositories.clone();
            state.image_digests = actual.image_digests.clone();
            state.subnets = actual.subnets.clone();
            state.security_groups = actual.security_groups.clone();
        }
        cloud
    }

    /// `base` with the applications (TERMINATED ones left out), roles and
    /// repositories replaced by what the fake holds now.
    pub fn read_back(&self, base: &crate::model::Actual) -> crate::model::Actual {
        let mut actual = base.clone();
        actual.applications = self
            .applications()
            .into_iter()
            .filter(|app| app.state != ApplicationState::Terminated)
            .collect();
        actual.running_work.clear();
        actual.roles = self.roles();
        actual.repositories = self.lock().repositories.clone();
        actual
    }
}

impl Default for FakeCloud {
    fn default() -> Self {
        FakeCloud::new()
    }
}

fn new_application_ref(state: &mut State, region: &str, account: &str) -> ApplicationRef {
    state.next_id += 1;
    let id = format!("00f{:013}", state.next_id);
    let arn = format!("arn:aws:emr-serverless:{region}:{account}:/applications/{id}");
    ApplicationRef { id, arn }
}

/// What the service stores for an application created with `spec`: the
/// server defaults of the field declarations filled in (docs/api-semantics.md,
/// "Server defaults"). [`described`] adds what `GetApplication` computes.
pub fn stored_after_create(spec: &ApplicationSpec) -> ApplicationSpec {
    let mut out = spec.clone();
    let release = release_of(&out.release_label);
    out.architecture.get_or_insert_default();
    out.auto_start.get_or_insert_with(AutoStart::default);
    out.auto_stop.get_or_insert_with(AutoStop::default);
    for capacity in out.initial_capacity.values_mut() {
        capacity.worker.disk_gb.get_or_insert(20);
    }
    out.scheduler = match out.scheduler.take() {
        // Queueing is on by default from the release the declaration names.
        None if ApplicationField::Scheduler
            .declaration()
            .server_default_applies(release) =>
        {
            Some(Scheduler::ENABLED_DEFAULTS)
        }
        None => None,
        Some(scheduler) => (!scheduler.is_disabled()).then(|| scheduler.filled()),
    };
    out
}

/// What `GetApplication` returns for an application that stores `stored`:
/// an image without a digest resolution shows the release's default.
pub fn described(stored: &ApplicationSpec) -> ApplicationSpec {
    let mut out = stored.clone();
    let release = release_of(&out.release_label);
    let image_default = ApplicationField::Image.declaration().member_default(release);
    let worker_default = ApplicationField::WorkerTypeSpecifications
        .declaration()
        .member_default(release);
    if let Some(image) = out.image.as_mut()
        && image.application_level_digest_resolution.is_none()
    {
        image.application_level_digest_resolution = image_default;
    }
    for image in out.worker_type_specifications.values_mut() {
        if image.application_level_digest_resolution.is_none() {
            image.application_level_digest_resolution = worker_default;
        }
    }
    out
}

fn stored_image(sent: &ImageInput) -> Option<ImageConfig> {
    sent.image_uri.as_ref().map(|uri| ImageConfig {
        image_uri: uri.clone(),
        application_level_digest_resolution: sent.application_level_digest_resolution,
    })
}

/// What the service stores after `update` is applied to an application
/// that stores `stored` and is STARTED (`started`) or not: `UpdateApplication`
/// is a PATCH (fields not sent stay as they are), each sent field is stored
/// the way the service stores its form (`{}` images and schedulers remove the
/// block, empty blocks are dropped), worker types merge entry by entry, and a
/// scheduler member left out gets its default, except while STARTED, where
/// the queue timeout is kept.
pub fn stored_after_update(stored: &ApplicationSpec, update: &ApplicationUpdate, started: bool) -> ApplicationSpec {
    let mut out = stored.clone();
    let sent = &update.values;
    for &field in &update.fields {
        match field {
            ApplicationField::Name | ApplicationField::Engine | ApplicationField::Tags => {}
            ApplicationField::InitialCapacity => {
                out.initial_capacity = sent.initial_capacity.clone();
                for capacity in out.initial_capacity.values_mut() {
                    capacity.worker.disk_gb.get_or_insert(20);
                }
            }
            ApplicationField::Network => {
                out.network = sent
                    .network
                    .clone()
                    .filter(|network| !network.subnet_ids.is_empty() || !network.security_group_ids.is_empty());
            }
            ApplicationField::Image => out.image = sent.image.as_ref().and_then(stored_image),
            ApplicationField::WorkerTypeSpecifications => {
                for (worker, image) in &sent.worker_type_specifications {
                    match stored_image(image) {
                        Some(image) => out.worker_type_specifications.insert(*worker, image),
                        None => out.worker_type_specifications.remove(worker),
                    };
                }
            }
            ApplicationField::Monitoring => {
                let parts = &sent.monitoring;
                if let Some(s3) = &parts.s3 {
                    out.monitoring.s3 = (s3.log_uri.is_some() || s3.encryption_key_arn.is_some()).then(|| s3.clone());
                }
                if let Some(managed) = &parts.managed_persistence {
                    out.monitoring.managed_persistence = Some(managed.clone());
                }
                if let Some(cloudwatch) = &parts.cloudwatch {
                    out.monitoring.cloudwatch = Some(cloudwatch.clone());
                }
                if let Some(prometheus) = &parts.prometheus {
                    out.monitoring.prometheus = prometheus.remote_write_url.is_some().then(|| prometheus.clone());
                }
            }
            ApplicationField::Scheduler => {
                if let Some(scheduler) = &sent.scheduler {
                    out.scheduler = if scheduler.is_disabled() {
                        None
                    } else if started {
                        let kept = out.scheduler.clone().unwrap_or(Scheduler::ENABLED_DEFAULTS);
                        Some(Scheduler {
                            max_concurrent_runs: scheduler.max_concurrent_runs.or(kept.max_concurrent_runs),
                            queue_timeout_minutes: scheduler.queue_timeout_minutes.or(kept.queue_timeout_minutes),
                        })
                    } else {
                        Some(scheduler.filled())
                    };
                }
            }
            ApplicationField::DiskEncryption => {
                out.disk_encryption = sent
                    .disk_encryption
                    .clone()
                    .filter(|d| d.encryption_key_arn.is_some() || !d.encryption_context.is_empty());
            }
            ApplicationField::IdentityCenter => {
                out.identity_center = sent.identity_center.clone().filter(|i| i.instance_arn.is_some());
            }
            // Every other field is stored as sent: the release label,
            // architecture, maximum capacity, auto start and stop, runtime
            // configuration, interactive, cost allocation, and any field
            // added later whose form the service keeps as it is.
            // Both sides are the same model type but for images, so the
            // JSON form always fits.
            other => set_field_json(&mut out, other, field_json(sent, other))
                .expect("invariant: a field other than the images has the same shape in a request"),
        }
    }
    out
}

/// Why a STARTED application holding `stored` refuses `update`, in the
/// service's words, or `None` when it takes it: judged by the members the
/// request names, as the declarations of `model::fields` say.
pub fn refusal_while_started(stored: &ApplicationSpec, update: &ApplicationUpdate) -> Option<&'static str> {
    let initial_capacity = !stored.initial_capacity.is_empty();
    let refused: Vec<ApplicationField> = update
        .fields
        .iter()
        .copied()
        .filter(|field| {
            !field
                .declaration()
                .request_accepted_while_started(&field_json(&update.values, *field), initial_capacity)
        })
        .collect();
    let first = refused.first()?;
    Some(match first.declaration().change {
        ChangeRule::Update(Live::OnlyMembers(_)) if refused.len() == 1 => STARTED_SCHEDULER_MESSAGE,
        ChangeRule::Update(Live::UnlessInitialCapacity)
            if refused
                .iter()
                .all(|field| field.declaration().change == ChangeRule::Update(Live::UnlessInitialCapacity)) =>
        {
            STARTED_IMAGE_WITH_CAPACITY_MESSAGE
        }
        _ => STARTED_UPDATE_MESSAGE,
    })
}

/// The refusal of an update outside the STARTED subset (TF #49109 quotes it).
const STARTED_UPDATE_MESSAGE: &str = "Only the following configurations can be updated when an application is in \
     STARTED state: schedulerConfiguration.maxConcurrentRuns, extendedSupportConfiguration, imageConfiguration, \
     workerTypeSpecifications.imageConfiguration, maximumCapacity.";
/// A scheduler update naming more than `maxConcurrentRuns` (aws/aws-cdk #35488).
const STARTED_SCHEDULER_MESSAGE: &str =
    "Only MaxConcurrentRuns from SchedulerConfiguration can be updated when application is in STARTED state.";
/// An image update with pre-initialized capacity: the guide says it is not
/// supported, the service's wording is not public (the emulator's text).
const STARTED_IMAGE_WITH_CAPACITY_MESSAGE: &str = "Image configuration can not be updated when an application is in \
     STARTED state with pre-initialized capacity configured.";

/// Completes a due transition, finishes due jobs and terminates sessions.
fn settle(app: &mut FakeApplication, now: Instant) {
    if let Some((target, due)) = app.transition
        && due <= now
    {
        app.observed.state = target;
        app.transition = None;
    }
    for job in &mut app.jobs {
        if job.state == JobRunState::Cancelling && job.cancelled_at.is_some_and(|at| at <= now) {
            job.state = JobRunState::Cancelled;
        }
        if job.state == JobRunState::Running && job.finishes_at.is_some_and(|at| at <= now) {
            job.state = JobRunState::Success;
        }
    }
    for session in &mut app.sessions {
        if session.state == SessionState::Terminating && session.terminated_at.is_some_and(|at| at <= now) {
            session.state = SessionState::Terminated;
        }
    }
}

fn invalid(operation: &str, message: impl Into<String>) -> CloudError {
    CloudError::new(ErrorKind::Invalid, operation, message).with_code("ValidationException")
}

fn conflict(operation: &str, message: impl Into<String>) -> CloudError {
    CloudError::new(ErrorKind::Conflict, operation, message).with_code("ValidationException")
}

fn not_found(operation: &str, what: &str) -> CloudError {
    CloudError::not_found(operation, format!("{what} does not exist")).with_code("ResourceNotFoundException")
}

fn fingerprint<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

impl Cloud for FakeCloud {
    fn region(&self) -> &str {
        &self.region
    }

    fn now_ms(&self) -> i64 {
        FAKE_EPOCH_MS + i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX / 2)
    }

    async fn caller_identity(&self) -> Result<CallerIdentity, CloudError> {
        let _call = self.enter("GetCallerIdentity", "").await?;
        Ok(CallerIdentity {
            account_id: self.account_id.clone(),
            arn: format!("arn:aws:iam::{}:user/test", self.account_id),
        })
    }

    async fn list_applications(&self) -> Result<Vec<ApplicationSummary>, CloudError> {
        let _call = self.enter("ListApplications", "").await?;
        Ok(self
            .applications()
            .into_iter()
            .filter(|app| app.state != ApplicationState::Terminated)
            .map(|app| ApplicationSummary {
                id: app.id,
                arn: app.arn,
                name: Some(app.spec.name),
                state: app.state,
                created_at_ms: app.created_at_ms,
            })
            .collect())
    }

    async fn get_application(&self, id: &str) -> Result<ObservedApplication, CloudError> {
        let _call = self.enter("GetApplication", id).await?;
        let mut state = self.lock();
        let app = state
            .applications
            .get_mut(id)
            .ok_or_else(|| not_found("GetApplication", &format!("application {id}")))?;
        settle(app, Instant::now());
        let mut observed = app.observed.clone();
        observed.spec = described(&observed.spec);
        Ok(observed)
    }

    async fn create_application(
        &self,
        spec: &ApplicationSpec,
        client_token: &str,
    ) -> Result<ApplicationRef, CloudError> {
        let _call = self.enter("CreateApplication", &spec.name).await?;
        let request = fingerprint(spec);
        let mut state = self.lock();
        if let Some((previous, id)) = state.create_tokens.get(client_token).cloned() {
            if previous != request {
                return Err(CloudError::new(
                    ErrorKind::Conflict,
                    "CreateApplication",
                    "client token reused with a different request",
                )
                .with_code("ConflictException"));
            }
            let app = &state.applications[&id];
            return Ok(ApplicationRef {
                id: app.observed.id.clone(),
                arn: app.observed.arn.clone(),
            });
        }
        let reference = new_application_ref(&mut state, &self.region, &self.account_id);
        // Creations keep their order even within one millisecond of fake time.
        let created_at = self.now_ms().max(state.last_created_ms + 1);
        state.last_created_ms = created_at;
        let now = Instant::now();
        let observed = ObservedApplication {
            id: reference.id.clone(),
            arn: reference.arn.clone(),
            state: ApplicationState::Creating,
            state_details: None,
            created_at_ms: Some(created_at),
            spec: stored_after_create(spec),
        };
        let due = now + self.timings.create;
        state.applications.insert(
            reference.id.clone(),
            FakeApplication::new(observed, Some((ApplicationState::Created, due)), Some(now)),
        );
        state
            .create_tokens
            .insert(client_token.to_string(), (request, reference.id.clone()));
        Ok(reference)
    }

    async fn update_application(
        &self,
        id: &str,
        update: &ApplicationUpdate,
        client_token: &str,
    ) -> Result<(), CloudError> {
        let operation = "UpdateApplication";
        let _call = self.enter(operation, id).await?;
        if update.fields.iter().any(|field| !field.is_updatable()) {
            return Err(invalid(operation, "name, type and tags cannot be updated"));
        }
        let request = fingerprint(&(id, update));
        let mut state = self.lock();
        if let Some(previous) = state.update_tokens.get(client_token) {
            if previous == &request {
                return Ok(());
            }
            return Err(CloudError::new(
                ErrorKind::Conflict,
                operation,
                "client token reused with a different request",
            )
            .with_code("ConflictException"));
        }
        let app = state
            .applications
            .get_mut(id)
            .ok_or_else(|| not_found(operation, &format!("application {id}")))?;
        settle(app, Instant::now());
        let started = app.observed.state == ApplicationState::Started;
        match app.observed.state {
            ApplicationState::Created | ApplicationState::Stopped => {}
            ApplicationState::Started => {
                if let Some(refusal) = refusal_while_started(&app.observed.spec, update) {
                    return Err(conflict(operation, refusal));
                }
            }
            other => {
                return Err(conflict(
                    operation,
                    format!(
                        "Application {id} must be in one of the statuses to be updated: [STOPPED, CREATED]. Current status: {other}"
                    ),
                ));
            }
        }
        app.observed.spec = stored_after_update(&app.observed.spec, update, started);
        state.update_tokens.insert(client_token.to_string(), request);
        Ok(())
    }

    async fn start_application(&self, id: &str) -> Result<(), CloudError> {
        let operation = "StartApplication";
        let _call = self.enter(operation, id).await?;
        let mut state = self.lock();
        let app = state
            .applications
            .get_mut(id)
            .ok_or_else(|| not_found(operation, &format!("application {id}")))?;
        settle(app, Instant::now());
        match app.observed.state {
            ApplicationState::Created | ApplicationState::Stopped => {
                app.observed.state = ApplicationState::Starting;
                app.transition = Some((ApplicationState::Started, Instant::now() + self.timings.start));
                Ok(())
            }
            ApplicationState::Starting | ApplicationState::Started => Ok(()),
            other => Err(conflict(
                operation,
                format!("application {id} is {other} and cannot be started"),
            )),
        }
    }

    async fn stop_application(&self, id: &str) -> Result<(), CloudError> {
        let operation = "StopApplication";
        let _call = self.enter(operation, id).await?;
        let mut state = self.lock();
        let app = state
            .applications
            .get_mut(id)
            .ok_or_else(|| not_found(operation, &format!("application {id}")))?;
        settle(app, Instant::now());
        if app.has_running_work() {
            return Err(conflict(
                operation,
                "All scheduled and running jobs must be completed or cancelled before stopping an application",
            ));
        }
        match app.observed.state {
            ApplicationState::Started | ApplicationState::Starting => {
                app.observed.state = ApplicationState::Stopping;
                app.transition = Some((ApplicationState::Stopped, Instant::now() + self.timings.stop));
                Ok(())
            }
            ApplicationState::Created | ApplicationState::Stopped | ApplicationState::Stopping => Ok(()),
            other => Err(conflict(
                operation,
                format!("application {id} is {other} and cannot be stopped"),
            )),
        }
    }

    async fn delete_application(&self, id: &str) -> Result<(), CloudError> {
        let operation = "DeleteApplication";
        let _call = self.enter(operation, id).await?;
        let mut state = self.lock();
        let app = state
            .applications
            .get_mut(id)
            .ok_or_else(|| not_found(operation, &format!("application {id}")))?;
        settle(app, Instant::now());
        if !app.observed.state.is_quiescent() {
            // AWS's own wording, typo included (gchq/sleeper #2909).
            return Err(conflict(
                operation,
                format!(
                    "Application {id} must be in of the following statuses [CREATED, STOPPED]. Current status: {}",
                    app.observed.state
                ),
            ));
        }
        app.observed.state = ApplicationState::Terminated;
        app.deleted_at = Some(Instant::now());
        Ok(())
    }

    async fn list_active_job_runs(&self, application_id: &str) -> Result<Vec<JobRun>, CloudError> {
        let app = self.settled("ListJobRuns", application_id).await?;
        Ok(app
            .jobs
            .iter()
            .filter(|job| job.state.is_active())
            .map(|job| JobRun {
                id: job.id.clone(),
                name: None,
                state: job.state,
                mode: job.mode,
            })
            .collect())
    }

    async fn list_active_sessions(&self, application_id: &str) -> Result<Vec<Session>, CloudError> {
        let app = self.settled("ListSessions", application_id).await?;
        Ok(app
            .sessions
            .iter()
            .filter(|session| session.state.is_active())
            .map(|session| Session {
                id: session.id.clone(),
                name: None,
                state: session.state,
            })
            .collect())
    }

    async fn terminate_session(&self, application_id: &str, session_id: &str) -> Result<(), CloudError> {
        let operation = "TerminateSession";
        let delay = self.timings.cancel;
        self.change_app(operation, session_id, application_id, |app| {
            let session = app
                .sessions
                .iter_mut()
                .find(|session| session.id == session_id)
                .ok_or_else(|| not_found(operation, &format!("session {session_id}")))?;
            if matches!(session.state, SessionState::Failed | SessionState::Terminated) {
                return Err(invalid(
                    operation,
                    format!("session {session_id} is {} and cannot be terminated", session.state),
                ));
            }
            if session.state != SessionState::Terminating {
                session.state = SessionState::Terminating;
                session.terminated_at = Some(Instant::now() + delay);
            }
            Ok(())
        })
        .await
    }

    async fn cancel_job_run(&self, application_id: &str, job_run_id: &str) -> Result<(), CloudError> {
        let operation = "CancelJobRun";
        let delay = self.timings.cancel;
        self.change_app(operation, job_run_id, application_id, |app| {
            let job = app
                .jobs
                .iter_mut()
                .find(|job| job.id == job_run_id)
                .ok_or_else(|| not_found(operation, &format!("job run {job_run_id}")))?;
            if !job.state.is_active() {
                return Err(invalid(
                    operation,
                    format!("job run {job_run_id} is {} and cannot be cancelled", job.state),
                ));
            }
            job.state = JobRunState::Cancelling;
            job.cancelled_at = Some(Instant::now() + delay);
            Ok(())
        })
        .await
    }

    async fn start_job_run(
        &self,
        request: &crate::model::JobRunRequest,
        client_token: &str,
    ) -> Result<super::JobRunRef, CloudError> {
        let operation = "StartJobRun";
        let fingerprint = serde_json::to_string(&request.to_api_json()).unwrap_or_default();
        let runs_for = Duration::from_secs(1);
        let application_id = request.application_id.clone();
        let failing = self.lock().failing_jobs.contains(&request.name);
        self.change_app(operation, &request.name, &application_id, |app| {
            Ok(app.observed.arn.clone())
        })
        .await?;
        let mut state = self.lock();
        if let Some((seen, id)) = state.job_tokens.get(client_token) {
            if *seen != fingerprint {
                return Err(CloudError::new(
                    ErrorKind::Conflict,
                    operation,
                    "the client token was used with a different request",
                ));
            }
            let id = id.clone();
            return Ok(super::JobRunRef {
                arn: format!(
                    "arn:aws:emr-serverless:us-east-1:123456789012:/applications/{application_id}/jobruns/{id}"
                ),
                application_id,
                job_run_id: id,
            });
        }
        state.next_id += 1;
        let id = format!("job{:013}", state.next_id);
        let now = Instant::now();
        let app = state
            .applications
            .get_mut(&application_id)
            .ok_or_else(|| not_found(operation, &application_id))?;
        app.jobs.push(FakeJob {
            id: id.clone(),
            state: JobRunState::Running,
            mode: request.mode,
            finishes_at: Some(now + runs_for),
            cancelled_at: None,
        });
        if failing {
            state.failed_job_ids.push(id.clone());
        }
        state
            .job_tokens
            .insert(client_token.to_string(), (fingerprint, id.clone()));
        Ok(super::JobRunRef {
            arn: format!("arn:aws:emr-serverless:us-east-1:123456789012:/applications/{application_id}/jobruns/{id}"),
            application_id,
            job_run_id: id,
        })
    }

    async fn get_job_run(
        &self,
        application_id: &str,
        job_run_id: &str,
    ) -> Result<crate::model::JobRunStatus, CloudError> {
        let operation = "GetJobRun";
        let app = self.settled(operation, application_id).await?;
        let job = app
            .jobs
            .iter()
            .find(|job| job.id == job_run_id)
            .ok_or_else(|| not_found(operation, &format!("job run {job_run_id}")))?;
        let failed = self.lock().failed_job_ids.contains(&job.id);
        let state = if job.state == JobRunState::Success && failed {
            "FAILED".to_string()
        } else {
            job.state.api_name().to_string()
        };
        let finished = matches!(state.as_str(), "SUCCESS" | "FAILED" | "CANCELLED");
        Ok(crate::model::JobRunStatus {
            id: job.id.clone(),
            state_details: (state == "FAILED").then(|| "Job failed (fake)".to_string()),
            state,
            duration_seconds: finished.then_some(1),
            billed: finished.then_some(crate::model::ResourceUtilization::default()),
            log_uri: None,
            cloudwatch: None,
        })
    }

    async fn get_dashboard_for_job_run(&self, application_id: &str, job_run_id: &str) -> Result<String, CloudError> {
        let _call = self.enter("GetDashboardForJobRun", job_run_id).await?;
        Ok(format!("https://fake.invalid/{application_id}/{job_run_id}"))
    }

    async fn tag_application(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), CloudError> {
        let operation = "TagResource";
        let _call = self.enter(operation, arn).await?;
        let mut state = self.lock();
        let app = state
            .applications
            .values_mut()
            .find(|app| app.observed.arn == arn)
            .ok_or_else(|| not_found(operation, arn))?;
        app.observed.spec.tags.extend(tags.clone());
        app.tags_changed(Instant::now());
        Ok(())
    }

    async fn untag_application(&self, arn: &str, keys: &[String]) -> Result<(), CloudError> {
        let operation = "UntagResource";
        let _call = self.enter(operation, arn).await?;
        let mut state = self.lock();
        let app = state
            .applications
            .values_mut()
            .find(|app| app.observed.arn == arn)
            .ok_or_else(|| not_found(operation, arn))?;
        for key in keys {
            app.observed.spec.tags.remove(key);
        }
        app.tags_changed(Instant::now());
        Ok(())
    }

    async fn find_tagged_applications(&self, key: &str, value: &str) -> Result<Vec<TaggedApplication>, CloudError> {
        let _call = self.enter("GetResources", "").await?;
        let now = Instant::now();
        let state = self.lock();
        // With a tag filter, AWS lists only resources that carry the tag now
        // (untagged and "previously tagged" ones are left out), plus, for a
        // while, deleted ones with the tags they had; and the index lags
        // behind tag changes.
        Ok(state
            .applications
            .values()
            .filter(|_| !state.tag_index_empty)
            .filter(|app| {
                app.deleted_at
                    .is_none_or(|deleted| now.saturating_duration_since(deleted) <= state.tag_index_staleness)
            })
            .filter_map(|app| Some((app, app.indexed_tags(now, state.tag_index_delay)?)))
            .filter(|(_, tags)| tags.get(key).is_some_and(|found| found == value))
            .map(|(app, tags)| TaggedApplication {
                id: app.observed.id.clone(),
                arn: app.observed.arn.clone(),
                tags: tags.clone(),
            })
            .collect())
    }

    async fn list_roles(&self) -> Result<Vec<RoleSummary>, CloudError> {
        let _call = self.enter("ListRoles", "").await?;
        let state = self.lock();
        Ok(state
            .roles
            .values()
            .map(|role| RoleSummary {
                name: role.spec.name.clone(),
                arn: role.arn.clone(),
                path: role.spec.path.clone(),
                trust_policy: role.spec.trust_policy.clone(),
                trusts_emr_serverless: role
                    .spec
                    .trust_policy
                    .to_string()
                    .contains(crate::model::role::EMR_SERVERLESS_PRINCIPAL),
            })
            .collect())
    }

    async fn get_role(&self, name: &str) -> Result<ObservedRole, CloudError> {
        let _call = self.enter("GetRole", name).await?;
        self.lock().roles.get(name).cloned().ok_or_else(|| {
            CloudError::not_found("GetRole", format!("role {name} does not exist")).with_code("NoSuchEntity")
        })
    }

    async fn create_role(&self, spec: &RoleSpec) -> Result<String, CloudError> {
        let _call = self.enter("CreateRole", &spec.name).await?;
        let mut state = self.lock();
        // IAM role names are unique regardless of case.
        if state.roles.keys().any(|name| name.eq_ignore_ascii_case(&spec.name)) {
            return Err(CloudError::new(
                ErrorKind::Conflict,
                "CreateRole",
                format!("role {} already exists", spec.name),
            )
            .with_code("EntityAlreadyExists"));
        }
        state.next_id += 1;
        let arn = format!("arn:aws:iam::{}:role{}{}", self.account_id, spec.path, spec.name);
        let mut stored = spec.clone();
        // Policies are added by separate calls, as with IAM.
        stored.inline_policies.clear();
        stored.managed_policy_arns.clear();
        let role = ObservedRole {
            arn: arn.clone(),
            role_id: format!("AROA{:017}", state.next_id),
            spec: stored,
        };
        state.roles.insert(spec.name.clone(), role);
        Ok(arn)
    }

    async fn update_role(
        &self,
        name: &str,
        description: Option<&str>,
        max_session_duration: u32,
    ) -> Result<(), CloudError> {
        let _call = self.enter("UpdateRole", name).await?;
        let mut state = self.lock();
        let role = role_mut(&mut state, "UpdateRole", name)?;
        role.spec.description = description.map(str::to_string);
        role.spec.max_session_duration = max_session_duration;
        Ok(())
    }

    async fn update_trust_policy(&self, name: &str, document: &Value) -> Result<(), CloudError> {
        let _call = self.enter("UpdateAssumeRolePolicy", name).await?;
        let mut state = self.lock();
        role_mut(&mut state, "UpdateAssumeRolePolicy", name)?.spec.trust_policy = document.clone();
        Ok(())
    }

    async fn set_permissions_boundary(&self, name: &str, policy_arn: Option<&str>) -> Result<(), CloudError> {
        let operation = if policy_arn.is_some() {
            "PutRolePermissionsBoundary"
        } else {
            "DeleteRolePermissionsBoundary"
        };
        let _call = self.enter(operation, name).await?;
        let mut state = self.lock();
        role_mut(&mut state, operation, name)?.spec.permissions_boundary = policy_arn.map(str::to_string);
        Ok(())
    }

    async fn put_role_policy(&self, role: &str, policy_name: &str, document: &Value) -> Result<(), CloudError> {
        let _call = self.enter("PutRolePolicy", role).await?;
        let mut state = self.lock();
        role_mut(&mut state, "PutRolePolicy", role)?
            .spec
            .inline_policies
            .insert(policy_name.to_string(), document.clone());
        Ok(())
    }

    async fn delete_role_policy(&self, role: &str, policy_name: &str) -> Result<(), CloudError> {
        let _call = self.enter("DeleteRolePolicy", role).await?;
        let mut state = self.lock();
        let found = role_mut(&mut state, "DeleteRolePolicy", role)?
            .spec
            .inline_policies
            .remove(policy_name);
        match found {
            Some(_) => Ok(()),
            None => Err(CloudError::not_found(
                "DeleteRolePolicy",
                format!("policy {policy_name} not found"),
            )),
        }
    }

    async fn attach_role_policy(&self, role: &str, policy_arn: &str) -> Result<(), CloudError> {
        let _call = self.enter("AttachRolePolicy", role).await?;
        let mut state = self.lock();
        role_mut(&mut state, "AttachRolePolicy", role)?
            .spec
            .managed_policy_arns
            .insert(policy_arn.to_string());
        Ok(())
    }

    async fn detach_role_policy(&self, role: &str, policy_arn: &str) -> Result<(), CloudError> {
        let _call = self.enter("DetachRolePolicy", role).await?;
        let mut state = self.lock();
        let removed = role_mut(&mut state, "DetachRolePolicy", role)?
            .spec
            .managed_policy_arns
            .remove(policy_arn);
        if removed {
            Ok(())
        } else {
            Err(CloudError::not_found(
                "DetachRolePolicy",
                format!("{policy_arn} is not attached"),
            ))
        }
    }

    async fn tag_role(&self, role: &str, tags: &BTreeMap<String, String>) -> Result<(), CloudError> {
        let _call = self.enter("TagRole", role).await?;
        let mut state = self.lock();
        role_mut(&mut state, "TagRole", role)?.spec.tags.extend(tags.clone());
        Ok(())
    }

    async fn untag_role(&self, role: &str, keys: &[String]) -> Result<(), CloudError> {
        let _call = self.enter("UntagRole", role).await?;
        let mut state = self.lock();
        let role = role_mut(&mut state, "UntagRole", role)?;
        for key in keys {
            role.spec.tags.remove(key);
        }
        Ok(())
    }

    async fn delete_role(&self, name: &str) -> Result<(), CloudError> {
        let _call = self.enter("DeleteRole", name).await?;
        let mut state = self.lock();
        let role = role_mut(&mut state, "DeleteRole", name)?;
        if !role.spec.inline_policies.is_empty() || !role.spec.managed_policy_arns.is_empty() {
            return Err(CloudError::new(
                ErrorKind::Conflict,
                "DeleteRole",
                "Cannot delete entity, must delete policies first.",
            )
            .with_code("DeleteConflict"));
        }
        state.roles.remove(name);
        Ok(())
    }

    async fn get_repository(&self, name: &str) -> Result<ObservedRepository, CloudError> {
        let _call = self.enter("DescribeRepositories", name).await?;
        self.lock().repositories.get(name).cloned().ok_or_else(|| {
            CloudError::not_found("DescribeRepositories", format!("repository {name} does not exist"))
                .with_code("RepositoryNotFoundException")
        })
    }

    async fn set_repository_policy(&self, name: &str, document: &Value) -> Result<(), CloudError> {
        let _call = self.enter("SetRepositoryPolicy", name).await?;
        let mut state = self.lock();
        let repository = state
            .repositories
            .get_mut(name)
            .ok_or_else(|| CloudError::not_found("SetRepositoryPolicy", format!("repository {name} does not exist")))?;
        repository.policy = Some(document.clone());
        Ok(())
    }

    async fn delete_repository_policy(&self, name: &str) -> Result<(), CloudError> {
        let _call = self.enter("DeleteRepositoryPolicy", name).await?;
        let mut state = self.lock();
        let repository = state.repositories.get_mut(name).ok_or_else(|| {
            CloudError::not_found("DeleteRepositoryPolicy", format!("repository {name} does not exist"))
        })?;
        repository.policy = None;
        Ok(())
    }

    async fn image_digests(&self, repository: &str, tags: &[String]) -> Result<BTreeMap<String, String>, CloudError> {
        let _call = self.enter("BatchGetImage", repository).await?;
        let state = self.lock();
        if !state.repositories.contains_key(repository) {
            return Err(CloudError::not_found(
                "BatchGetImage",
                format!("repository {repository} does not exist"),
            ));
        }
        let known = state.image_digests.get(repository);
        Ok(tags
            .iter()
            .filter_map(|tag| Some((tag.clone(), known?.get(tag)?.clone())))
            .collect())
    }

    async fn image_tags(&self, repository: &str, digest: &str) -> Result<Vec<String>, CloudError> {
        let _call = self.enter("DescribeImages", repository).await?;
        let state = self.lock();
        if !state.repositories.contains_key(repository) {
            return Err(
                CloudError::not_found("DescribeImages", format!("repository {repository} does not exist"))
                    .with_code("RepositoryNotFoundException"),
            );
        }
        Ok(state
            .image_digests
            .get(repository)
            .map(|tags| {
                tags.iter()
                    .filter(|(_, known)| known.as_str() == digest)
                    .map(|(tag, _)| tag.clone())
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn describe_subnets(&self, ids: &[String]) -> Result<Vec<SubnetInfo>, CloudError> {
        let _call = self.enter("DescribeSubnets", "").await?;
        let state = self.lock();
        Ok(ids.iter().filter_map(|id| state.subnets.get(id).cloned()).collect())
    }

    async fn describe_security_groups(&self, ids: &[String]) -> Result<Vec<SecurityGroupInfo>, CloudError> {
        let _call = self.enter("DescribeSecurityGroups", "").await?;
        let state = self.lock();
        Ok(ids
            .iter()
            .filter_map(|id| state.security_groups.get(id).cloned())
            .collect())
    }
}

fn role_mut<'a>(state: &'a mut State, operation: &str, name: &str) -> Result<&'a mut ObservedRole, CloudError> {
    state.roles.get_mut(name).ok_or_else(|| {
        CloudError::not_found(operation, format!("role {name} does not exist")).with_code("NoSuchEntity")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Delivery, Engine, MaximumCapacity};

    fn spec(name: &str) -> ApplicationSpec {
        ApplicationSpec::new(name, Engine::Spark, "emr-7.2.0")
    }

    #[tokio::test(start_paused = true)]
    async fn create_moves_through_creating_to_created() {
        let cloud = FakeCloud::new();
        let app = cloud.create_application(&spec("a"), "t1").await.unwrap();
        assert_eq!(
            cloud.get_application(&app.id).await.unwrap().state,
            ApplicationState::Creating
        );
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(
            cloud.get_application(&app.id).await.unwrap().state,
            ApplicationState::Created
        );
    }

    #[tokio::test(start_paused = true)]
    async fn same_token_same_request_returns_the_same_application() {
        let cloud = FakeCloud::new();
        let first = cloud.create_application(&spec("a"), "t1").await.unwrap();
        let again = cloud.create_application(&spec("a"), "t1").await.unwrap();
        assert_eq!(first, again);
        let other = cloud.create_application(&spec("b"), "t1").await.unwrap_err();
        assert_eq!(other.kind, ErrorKind::Conflict);
        assert_eq!(cloud.list_applications().await.unwrap().len(), 1);
    }

    fn update(
        current: &ApplicationSpec,
        desired: &ApplicationSpec,
        fields: &[ApplicationField],
        live: bool,
    ) -> ApplicationUpdate {
        let delivery = if live { Delivery::Live } else { Delivery::Stopped };
        ApplicationUpdate::new(current, desired, &fields.iter().copied().collect(), delivery).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn started_application_accepts_only_the_live_subset() {
        let cloud = FakeCloud::new();
        let app = cloud.insert_application(spec("a"), ApplicationState::Started);
        let current = cloud.get_application(&app.id).await.unwrap().spec;
        let mut desired = spec("a");
        desired.release_label = "emr-7.3.0".to_string();
        let err = cloud
            .update_application(
                &app.id,
                &update(&current, &desired, &[ApplicationField::ReleaseLabel], true),
                "u1",
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Conflict);
        assert!(err.message.contains("Only the following configurations"), "{err}");
        desired.maximum_capacity = Some(MaximumCapacity {
            cpu: 8,
            memory_gb: 32,
            disk_gb: None,
        });
        let sent = update(&current, &desired, &[ApplicationField::MaximumCapacity], true);
        cloud.update_application(&app.id, &sent, "u2").await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_started_scheduler_takes_max_concurrent_runs_alone_and_keeps_the_timeout() {
        let cloud = FakeCloud::new();
        let mut initial = spec("a");
        initial.scheduler = Some(Scheduler {
            max_concurrent_runs: Some(20),
            queue_timeout_minutes: Some(60),
        });
        let app = cloud.insert_application(initial.clone(), ApplicationState::Started);
        let mut desired = initial.clone();
        desired.scheduler.as_mut().unwrap().max_concurrent_runs = Some(5);
        let fields = [ApplicationField::Scheduler];
        // Both members, as a stopped application would get them: refused.
        let err = cloud
            .update_application(&app.id, &update(&initial, &desired, &fields, false), "u1")
            .await
            .unwrap_err();
        assert!(err.message.contains("Only MaxConcurrentRuns"), "{err}");
        cloud
            .update_application(&app.id, &update(&initial, &desired, &fields, true), "u2")
            .await
            .unwrap();
        let stored = cloud.get_application(&app.id).await.unwrap().spec.scheduler;
        assert_eq!(
            stored,
            Some(Scheduler {
                max_concurrent_runs: Some(5),
                queue_timeout_minutes: Some(60),
            })
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_started_application_with_initial_capacity_refuses_image_updates() {
        let cloud = FakeCloud::new();
        let mut initial = spec("a");
        initial.initial_capacity.insert(
            crate::model::WorkerType::Driver,
            crate::model::InitialCapacity {
                worker_count: 1,
                worker: crate::model::WorkerResources {
                    cpu: 4,
                    memory_gb: 16,
                    disk_gb: None,
                    disk_type: None,
                },
            },
        );
        let app = cloud.insert_application(initial.clone(), ApplicationState::Started);
        let mut desired = initial.clone();
        desired.image = Some(ImageConfig {
            image_uri: "111122223333.dkr.ecr.us-east-1.amazonaws.com/r:t".to_string(),
            application_level_digest_resolution: None,
        });
        let sent = update(&initial, &desired, &[ApplicationField::Image], true);
        let err = cloud.update_application(&app.id, &sent, "u1").await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Conflict);
        assert!(err.message.contains("pre-initialized capacity"), "{err}");
        cloud.set_application_state(&app.id, ApplicationState::Stopped);
        cloud.update_application(&app.id, &sent, "u2").await.unwrap();
        let image = cloud.get_application(&app.id).await.unwrap().spec.image;
        // emr-7.2.0 resolves the digest at start by default.
        assert_eq!(image.and_then(|i| i.application_level_digest_resolution), Some(true));
    }

    #[tokio::test(start_paused = true)]
    async fn scheduler_defaults_follow_the_release_and_empty_turns_it_off() {
        let cloud = FakeCloud::new();
        let old = cloud.insert_application(spec("old"), ApplicationState::Created);
        let mut newer = spec("new");
        newer.release_label = "emr-7.5.0".to_string();
        let new = cloud.insert_application(newer.clone(), ApplicationState::Created);
        assert_eq!(cloud.get_application(&old.id).await.unwrap().spec.scheduler, None);
        let current = cloud.get_application(&new.id).await.unwrap().spec;
        assert_eq!(current.scheduler, Some(Scheduler::ENABLED_DEFAULTS));
        let mut off = newer.clone();
        off.scheduler = Some(Scheduler::DISABLED);
        let sent = update(&current, &off, &[ApplicationField::Scheduler], false);
        cloud.update_application(&new.id, &sent, "u1").await.unwrap();
        assert_eq!(cloud.get_application(&new.id).await.unwrap().spec.scheduler, None);
    }

    #[tokio::test(start_paused = true)]
    async fn streaming_runs_and_sessions_block_stop_until_ended() {
        let cloud = FakeCloud::new();
        let app = cloud.insert_application(spec("a"), ApplicationState::Started);
        let run = cloud.add_job_run(&app.id, JobRunMode::Streaming, None);
        let session = cloud.add_session(&app.id);
        assert_eq!(
            cloud.stop_application(&app.id).await.unwrap_err().kind,
            ErrorKind::Conflict
        );
        let runs = cloud.list_active_job_runs(&app.id).await.unwrap();
        assert_eq!(
            (runs[0].id.as_str(), runs[0].mode),
            (run.as_str(), JobRunMode::Streaming)
        );
        assert_eq!(cloud.list_active_sessions(&app.id).await.unwrap()[0].id, session);
        cloud.cancel_job_run(&app.id, &run).await.unwrap();
        cloud.terminate_session(&app.id, &session).await.unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(cloud.list_active_sessions(&app.id).await.unwrap().is_empty());
        cloud.stop_application(&app.id).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn running_job_blocks_stop_until_it_finishes() {
        let cloud = FakeCloud::new();
        let app = cloud.insert_application(spec("a"), ApplicationState::Started);
        cloud.add_job(&app.id, Some(Duration::from_secs(10)));
        assert_eq!(
            cloud.stop_application(&app.id).await.unwrap_err().kind,
            ErrorKind::Conflict
        );
        tokio::time::sleep(Duration::from_secs(11)).await;
        cloud.stop_application(&app.id).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn delete_needs_a_quiescent_application() {
        let cloud = FakeCloud::new();
        let app = cloud.insert_application(spec("a"), ApplicationState::Started);
        assert_eq!(
            cloud.delete_application(&app.id).await.unwrap_err().kind,
            ErrorKind::Conflict
        );
        cloud.set_application_state(&app.id, ApplicationState::Stopped);
        cloud.delete_application(&app.id).await.unwrap();
        assert!(cloud.list_applications().await.unwrap().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn injected_failure_hits_only_the_matching_subject_and_count() {
        let cloud = FakeCloud::new();
        cloud.fail("GetRole", Some("a"), ErrorKind::Throttled, 1);
        assert_eq!(cloud.get_role("b").await.unwrap_err().kind, ErrorKind::NotFound);
        assert_eq!(cloud.get_role("a").await.unwrap_err().kind, ErrorKind::Throttled);
        assert_eq!(cloud.get_role("a").await.unwrap_err().kind, ErrorKind::NotFound);
    }
}
