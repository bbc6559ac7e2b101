//! Tests of the comparison: normalisation, policy equivalence, resolution,
//! and the changes of applications, roles and repositories.
//!
//! Most tests run the whole of [`diff`] on a Desired and an Actual built
//! here, and every run is checked against the invariants the executor relies
//! on (see [`check_invariants`]). [`apply_changes`] simulates a successful
//! apply the way AWS answers it (server defaults filled in), so tests can
//! start from "deployed" and check that planning again finds nothing to do.
//! The fixtures are `pub(crate)` because the graph and plan tests use them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::fields::{Origin, Record, encode_record, origin};
use super::normalize::{self, adopt_unmanaged, field_value};
use super::policy::equivalent;
use super::{
    Action, ApplicationTarget, Change, DiffOutput, FieldChange, Mode, Reason, RepositoryTarget, RoleTarget, Step,
    Target, diff,
};
use crate::diag::Diagnostic;
use crate::model::{
    Actual, ApplicationField, ApplicationSpec, ApplicationState, Architecture, AutoStart, AutoStop, CloudWatchLogging,
    Configuration, Desired, DesiredApplication, DesiredImage, DesiredNetwork, DesiredRepository, DesiredRole,
    DiskEncryption, DiskType, Engine, IdentityCenter, ImageConfig, ImageSource, InitialCapacity, Interactive,
    JobLevelCostAllocation, JobRun, JobRunState, ManagedPersistence, MaximumCapacity, NetworkConfiguration,
    ObservedApplication, ObservedRepository, ObservedRole, PrometheusMonitoring, S3Monitoring, Scheduler,
    SecurityGroupInfo, SubnetInfo, WorkerResources, WorkerType, reference, repository, tags,
};
use crate::model::{ApplicationUpdate, Delivery};

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

pub(crate) const ACCOUNT: &str = "111111111111";
pub(crate) const REGION: &str = "us-east-1";
pub(crate) const STACK: &str = "dev";
/// The ECR name of the repository the fixtures declare as `repository.spark`.
pub(crate) const REPO: &str = "analytics/spark";
pub(crate) const REPO_URI: &str = "111111111111.dkr.ecr.us-east-1.amazonaws.com/analytics/spark";
pub(crate) const DIGEST_V1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
pub(crate) const DIGEST_V2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

pub(crate) fn application_arn(id: &str) -> String {
    format!("arn:aws:emr-serverless:{REGION}:{ACCOUNT}:/applications/{id}")
}

/// A Spark application with only the required fields.
pub(crate) fn spec(name: &str) -> ApplicationSpec<DesiredImage> {
    ApplicationSpec::new(name, Engine::Spark, "emr-7.2.0")
}

pub(crate) fn uri_image(uri: &str) -> DesiredImage {
    DesiredImage {
        source: ImageSource::Uri { uri: uri.to_string() },
        application_level_digest_resolution: None,
    }
}

pub(crate) fn repository_image(tag: &str, pin_digest: bool) -> DesiredImage {
    DesiredImage {
        source: ImageSource::Repository {
            repository: "spark".to_string(),
            tag: tag.to_string(),
            pin_digest,
        },
        application_level_digest_resolution: None,
    }
}

fn worker(cpu: u32, memory_gb: u32) -> WorkerResources {
    WorkerResources {
        cpu,
        memory_gb,
        disk_gb: None,
        disk_type: None,
    }
}

fn capacity(worker_count: u64, cpu: u32, memory_gb: u32) -> InitialCapacity {
    InitialCapacity {
        worker_count,
        worker: worker(cpu, memory_gb),
    }
}

fn configuration(classification: &str, properties: &[(&str, &str)]) -> Configuration {
    Configuration {
        classification: classification.to_string(),
        properties: properties
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect(),
        configurations: Vec::new(),
    }
}

/// An application that sets every field the API has, to non-default values,
/// on a release that has every feature.
pub(crate) fn rich_spec(name: &str) -> ApplicationSpec<DesiredImage> {
    let mut spec = spec(name);
    spec.release_label = "emr-7.13.0".to_string();
    spec.architecture = Some(Architecture::Arm64);
    spec.initial_capacity.insert(WorkerType::Driver, capacity(1, 2, 8));
    spec.initial_capacity.insert(WorkerType::Executor, capacity(2, 4, 16));
    spec.maximum_capacity = Some(MaximumCapacity {
        cpu: 64,
        memory_gb: 256,
        disk_gb: Some(1000),
    });
    spec.auto_start = Some(AutoStart { enabled: true });
    spec.auto_stop = Some(AutoStop {
        enabled: true,
        idle_timeout_minutes: 30,
    });
    spec.network = Some(NetworkConfiguration {
        subnet_ids: vec!["subnet-b".to_string(), "subnet-a".to_string()],
        security_group_ids: vec!["sg-1".to_string()],
    });
    spec.image = Some(uri_image("111111111111.dkr.ecr.us-east-1.amazonaws.com/base:v1"));
    spec.worker_type_specifications.insert(
        WorkerType::Executor,
        uri_image("111111111111.dkr.ecr.us-east-1.amazonaws.com/executor:v1"),
    );
    spec.runtime_configuration = vec![
        configuration("spark-defaults", &[("spark.executor.cores", "4")]),
        configuration("spark-driver-log4j2", &[("rootLogger.level", "info")]),
    ];
    spec.monitoring.s3 = Some(S3Monitoring {
        log_uri: Some("s3://logs/emr/".to_string()),
        encryption_key_arn: None,
    });
    spec.monitoring.cloudwatch = Some(CloudWatchLogging {
        enabled: true,
        log_group_name: Some("/aws/emr-serverless/dev".to_string()),
        log_stream_name_prefix: None,
        encryption_key_arn: None,
        log_types: BTreeMap::from([(
            "spark_driver".to_string(),
            vec!["stdout".to_string(), "stderr".to_string()],
        )]),
    });
    spec.monitoring.managed_persistence = Some(ManagedPersistence {
        enabled: false,
        encryption_key_arn: None,
    });
    spec.monitoring.prometheus = Some(PrometheusMonitoring {
        remote_write_url: Some(
            "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write".into(),
        ),
    });
    spec.interactive = Some(Interactive {
        studio_enabled: Some(true),
        livy_endpoint_enabled: None,
        session_enabled: None,
    });
    spec.scheduler = Some(Scheduler {
        max_concurrent_runs: Some(10),
        queue_timeout_minutes: None,
    });
    spec.disk_encryption = Some(DiskEncryption {
        encryption_key_arn: Some("arn:aws:kms:us-east-1:111111111111:key/disk".to_string()),
        encryption_context: BTreeMap::new(),
    });
    spec.identity_center = Some(IdentityCenter {
        instance_arn: Some("arn:aws:sso:::instance/ssoins-1234567890abcdef".to_string()),
        user_background_sessions_enabled: None,
    });
    spec.job_level_cost_allocation = Some(JobLevelCostAllocation { enabled: true });
    spec.tags.insert("team".to_string(), "data".to_string());
    spec
}

pub(crate) fn stack() -> Desired {
    Desired::empty(STACK)
}

pub(crate) fn declare(desired: &mut Desired, key: &str, spec: ApplicationSpec<DesiredImage>) {
    desired.applications.insert(
        key.to_string(),
        DesiredApplication {
            spec,
            network: None,
            prevent_destroy: false,
        },
    );
}

pub(crate) fn role(name: &str) -> DesiredRole {
    DesiredRole {
        name: name.to_string(),
        path: "/".to_string(),
        description: None,
        max_session_duration: 3600,
        permissions_boundary: None,
        inline_policies: BTreeMap::new(),
        managed_policy_arns: BTreeSet::new(),
        trust_applications: Vec::new(),
        tags: BTreeMap::new(),
        prevent_destroy: false,
    }
}

pub(crate) fn declare_repository(desired: &mut Desired, applications: &[&str]) {
    desired.repositories.insert(
        "spark".to_string(),
        DesiredRepository {
            name: REPO.to_string(),
            applications: applications.iter().map(|a| a.to_string()).collect(),
        },
    );
}

/// An account with nothing in it.
pub(crate) fn account() -> Actual {
    Actual {
        account_id: ACCOUNT.to_string(),
        region: REGION.to_string(),
        ..Actual::default()
    }
}

/// An account with the `analytics/spark` repository (no policy) holding
/// tags `v1` and `v2`.
pub(crate) fn account_with_repository(policy: Option<Value>) -> Actual {
    let mut actual = account();
    actual.repositories.insert(
        REPO.to_string(),
        ObservedRepository {
            name: REPO.to_string(),
            arn: format!("arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{REPO}"),
            registry_id: ACCOUNT.to_string(),
            uri: REPO_URI.to_string(),
            policy,
        },
    );
    actual.image_digests.insert(
        REPO.to_string(),
        BTreeMap::from([
            ("v1".to_string(), DIGEST_V1.to_string()),
            ("v2".to_string(), DIGEST_V2.to_string()),
        ]),
    );
    actual
}

/// What `GetApplication` returns for an application whose configuration is
/// `spec`: the same model of the service as `FakeCloud`'s.
pub(crate) fn server_echo(spec: &ApplicationSpec) -> ApplicationSpec {
    crate::cloud::fake::described(&crate::cloud::fake::stored_after_create(spec))
}

/// `UpdateApplication` as the executor sends it (`ApplicationUpdate`, live
/// when the plan says the application is STARTED and stays so) and as the
/// service stores it (`FakeCloud`'s model of PATCH).
fn patch(current: &ApplicationSpec, desired: &ApplicationSpec, target: &ApplicationTarget) -> ApplicationSpec {
    let live = target
        .current
        .as_ref()
        .is_some_and(|current| current.state == ApplicationState::Started)
        && !target.needs_stop;
    let delivery = if live { Delivery::Live } else { Delivery::Stopped };
    let update = ApplicationUpdate::new(current, desired, &target.update_fields, delivery)
        .unwrap_or_else(|error| panic!("{error}"));
    crate::cloud::fake::described(&crate::cloud::fake::stored_after_update(current, &update, live))
}

fn new_application_id(actual: &Actual, key: &str) -> String {
    let generation = actual
        .applications
        .iter()
        .filter(|app| app.id.starts_with(&format!("{key}-")))
        .count();
    format!("{key}-{}", generation + 1)
}

fn role_arn(spec: &crate::model::RoleSpec) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role{}{}", spec.path, spec.name)
}

/// The Actual after a successful apply of `changes`: what the executor does,
/// as AWS would answer it afterwards.
pub(crate) fn apply_changes(actual: &Actual, changes: &[Change]) -> Actual {
    let mut next = actual.clone();
    let mut arns: BTreeMap<String, String> = BTreeMap::new();
    for change in changes {
        let Target::Application(app) = &change.target else {
            continue;
        };
        let remove = |next: &mut Actual, id: &str| next.applications.retain(|observed| observed.id != id);
        match change.action {
            Action::Create | Action::Replace => {
                if let Some(current) = &app.current {
                    remove(&mut next, &current.id);
                }
                let desired = app.desired.as_ref().expect("create has a desired spec");
                let id = new_application_id(&next, &app.key);
                arns.insert(app.key.clone(), application_arn(&id));
                next.applications.push(ObservedApplication {
                    arn: application_arn(&id),
                    id,
                    state: ApplicationState::Created,
                    state_details: None,
                    created_at_ms: None,
                    spec: server_echo(desired),
                });
            }
            Action::Update => {
                let current = app.current.as_ref().expect("update has a current application");
                let desired = app.desired.as_ref().expect("update has a desired spec");
                arns.insert(app.key.clone(), current.arn.clone());
                let observed = next
                    .applications
                    .iter_mut()
                    .find(|observed| observed.id == current.id)
                    .expect("updated application exists");
                let mut spec = patch(&observed.spec, desired, app);
                spec.tags = desired.tags.clone();
                observed.spec = spec;
            }
            Action::Delete => {
                let current = app.current.as_ref().expect("delete has a current application");
                remove(&mut next, &current.id);
            }
            Action::NoOp => {
                if let Some(current) = &app.current {
                    arns.insert(app.key.clone(), current.arn.clone());
                }
            }
        }
    }
    for change in changes {
        match &change.target {
            Target::Role(role) => apply_role(&mut next, change.action, role, &arns),
            Target::Repository(target) => apply_repository(&mut next, change.action, target, &arns),
            Target::Application(_) => {}
        }
    }
    next
}

fn apply_role(next: &mut Actual, action: Action, role: &RoleTarget, arns: &BTreeMap<String, String>) {
    if let Some(current) = &role.current
        && matches!(action, Action::Replace | Action::Delete)
    {
        next.roles.retain(|observed| observed.arn != current.arn);
    }
    if !matches!(action, Action::Create | Action::Update | Action::Replace) {
        return;
    }
    let mut spec = role.desired.clone().expect("role change has a desired spec");
    spec.trust_policy = reference::substitute(&spec.trust_policy, arns);
    for document in spec.inline_policies.values_mut() {
        *document = reference::substitute(document, arns);
    }
    spec.tags.remove(tags::APPLIED_TAG);
    let record = super::role::applied_record(&spec);
    spec.tags.insert(tags::APPLIED_TAG.to_string(), record);
    let observed = ObservedRole {
        arn: role_arn(&spec),
        role_id: format!("AROA{}", spec.name.to_ascii_uppercase()),
        spec,
    };
    match next.roles.iter_mut().find(|existing| existing.arn == observed.arn) {
        Some(existing) => *existing = observed,
        None => next.roles.push(observed),
    }
}

fn apply_repository(next: &mut Actual, action: Action, target: &RepositoryTarget, arns: &BTreeMap<String, String>) {
    if action == Action::NoOp {
        return;
    }
    let observed = next
        .repositories
        .get_mut(&target.name)
        .expect("the repository of a policy change exists");
    let statement = target.statement.as_ref().map(|s| reference::substitute(s, arns));
    observed.policy = repository::merge_statement(observed.policy.as_ref(), &target.sid, statement);
}

/// Runs `diff` and checks the invariants of its output.
pub(crate) fn plan(desired: &Desired, actual: &Actual) -> DiffOutput {
    plan_mode(desired, actual, Mode::Apply)
}

pub(crate) fn plan_mode(desired: &Desired, actual: &Actual, mode: Mode) -> DiffOutput {
    let out = diff(desired, actual, mode);
    check_invariants(&out);
    out
}

/// Plans and applies `desired` onto `actual`, checks that planning again
/// finds nothing to do, and returns the new Actual.
pub(crate) fn deploy(desired: &Desired, actual: &Actual) -> Actual {
    let out = plan(desired, actual);
    assert!(!out.diagnostics.has_errors(), "{:#?}", out.diagnostics);
    let next = apply_changes(actual, &out.changes);
    let again = plan(desired, &next);
    let pending: Vec<String> = again
        .changes
        .iter()
        .filter(|change| change.action != Action::NoOp)
        .map(|change| format!("{} {} {:?}", change.action, change.address, change.fields))
        .collect();
    assert!(pending.is_empty(), "planning after apply is not empty: {pending:#?}");
    next
}

pub(crate) fn find<'a>(out: &'a DiffOutput, address: &str) -> &'a Change {
    out.changes
        .iter()
        .find(|change| change.address.to_string() == address)
        .unwrap_or_else(|| panic!("no change for {address}: {:#?}", out.changes))
}

pub(crate) fn find_all<'a>(out: &'a DiffOutput, address: &str) -> Vec<&'a Change> {
    out.changes
        .iter()
        .filter(|change| change.address.to_string() == address)
        .collect()
}

pub(crate) fn app_target(change: &Change) -> &ApplicationTarget {
    match &change.target {
        Target::Application(app) => app,
        other => panic!("not an application target: {other:?}"),
    }
}

fn role_target(change: &Change) -> &RoleTarget {
    match &change.target {
        Target::Role(role) => role,
        other => panic!("not a role target: {other:?}"),
    }
}

fn repository_target(change: &Change) -> &RepositoryTarget {
    match &change.target {
        Target::Repository(repository) => repository,
        other => panic!("not a repository target: {other:?}"),
    }
}

pub(crate) fn codes(out: &DiffOutput) -> Vec<String> {
    out.diagnostics.iter().map(|d| d.code.clone()).collect()
}

fn diagnostic<'a>(out: &'a DiffOutput, code: &str) -> &'a Diagnostic {
    out.diagnostics
        .iter()
        .find(|d| d.code == code)
        .unwrap_or_else(|| panic!("no `{code}` diagnostic: {:#?}", out.diagnostics))
}

fn paths(change: &Change) -> Vec<&str> {
    change.fields.iter().map(|field| field.path.as_str()).collect()
}

fn field<'a>(change: &'a Change, path: &str) -> &'a FieldChange {
    change
        .fields
        .iter()
        .find(|field| field.path == path)
        .unwrap_or_else(|| panic!("no field `{path}` in {:#?}", change.fields))
}

fn top_level(path: &str) -> &str {
    path.split('.').next().unwrap_or(path)
}

fn application_field(name: &str) -> ApplicationField {
    ApplicationField::ALL
        .into_iter()
        .find(|field| field.as_str() == name)
        .unwrap_or_else(|| panic!("`{name}` is not an application field"))
}

fn set_state(actual: &mut Actual, key: &str, state: ApplicationState) {
    for app in &mut actual.applications {
        if app.spec.tags.get(tags::ADDRESS_TAG) == Some(&format!("application.{key}")) {
            app.state = state;
        }
    }
}

fn observed_app<'a>(actual: &'a mut Actual, key: &str) -> &'a mut ObservedApplication {
    actual
        .applications
        .iter_mut()
        .find(|app| app.spec.tags.get(tags::ADDRESS_TAG) == Some(&format!("application.{key}")))
        .unwrap_or_else(|| panic!("no application {key}"))
}

fn observed_role<'a>(actual: &'a mut Actual, name: &str) -> &'a mut ObservedRole {
    actual
        .roles
        .iter_mut()
        .find(|role| role.spec.name == name)
        .unwrap_or_else(|| panic!("no role {name}"))
}

/// What the executor relies on, for every change `diff` returns.
fn check_invariants(out: &DiffOutput) {
    for change in &out.changes {
        let context = format!("{} {}: {change:#?}", change.action, change.address);
        if change.action == Action::NoOp {
            assert!(change.fields.is_empty() && change.steps.is_empty(), "{context}");
            assert_eq!(change.reason, Reason::UpToDate, "{context}");
        }
        match &change.target {
            Target::Application(app) => check_application_invariants(change, app, &context),
            Target::Role(role) => {
                assert_eq!(role.desired.is_some(), change.action != Action::Delete, "{context}");
                assert_eq!(role.current.is_some(), change.action != Action::Create, "{context}");
            }
            Target::Repository(target) => {
                assert_eq!(target.sid, repository::statement_sid(STACK), "{context}");
            }
        }
        if change.action == Action::Replace {
            assert!(change.fields.iter().any(|f| f.forces_replacement), "{context}");
        } else {
            assert!(change.fields.iter().all(|f| !f.forces_replacement), "{context}");
        }
    }
}

fn check_application_invariants(change: &Change, app: &ApplicationTarget, context: &str) {
    // Application specs are sent to AWS as they are: no placeholder may
    // survive in them.
    let text = serde_json::to_string(app).expect("targets serialise");
    assert!(!reference::contains_placeholder(&text), "placeholder in {context}");
    assert_eq!(app.desired.is_some(), change.action != Action::Delete, "{context}");
    assert_eq!(app.current.is_some(), change.action != Action::Create, "{context}");
    if let Some(desired) = &app.desired {
        assert!(desired.tags.contains_key(tags::STACK_TAG), "{context}");
        assert!(desired.tags.contains_key(tags::ADDRESS_TAG), "{context}");
    }
    if change.action != Action::Update {
        assert!(app.update_fields.is_empty(), "{context}");
    }
    if change.action == Action::Update {
        let state = app.current.as_ref().map(|c| c.state).expect("update has current");
        assert!(app.update_fields.iter().all(|f| f.is_updatable()), "{context}");
        // Every changed field is either sent or a tag.
        let changed: BTreeSet<ApplicationField> = change
            .fields
            .iter()
            .map(|f| application_field(top_level(&f.path)))
            .collect();
        let mut expected = changed.clone();
        expected.remove(&ApplicationField::Tags);
        assert_eq!(app.update_fields, expected, "{context}");
        // A stop is needed exactly when some sent field is not live.
        let needs_stop = change
            .fields
            .iter()
            .any(|f| application_field(top_level(&f.path)).is_updatable() && !f.live);
        assert_eq!(app.needs_stop, needs_stop, "{context}");
        // The executor cannot clear maximum_capacity.
        if app.update_fields.contains(&ApplicationField::MaximumCapacity) {
            assert!(
                app.desired.as_ref().is_some_and(|d| d.maximum_capacity.is_some()),
                "{context}"
            );
        }
        let running = matches!(state, ApplicationState::Started | ApplicationState::Starting);
        let has = |wanted: fn(&Step) -> bool| change.steps.iter().any(wanted);
        assert_eq!(
            has(|s| matches!(s, Step::Stop { .. })),
            needs_stop && running,
            "{context}"
        );
        assert_eq!(has(|s| matches!(s, Step::Start)), needs_stop && running, "{context}");
        let update_step = change.steps.iter().find_map(|s| match s {
            Step::Update { fields } => Some(fields.clone()),
            _ => None,
        });
        let names: Vec<String> = app.update_fields.iter().map(|f| f.as_str().to_string()).collect();
        match update_step {
            Some(fields) => assert_eq!(fields, names, "{context}"),
            None => assert!(names.is_empty(), "{context}"),
        }
        assert_eq!(
            has(|s| matches!(s, Step::Wait { .. })),
            state.is_transitional(),
            "{context}"
        );
    }
}

// ---------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------

/// A resolved spec with initial capacity and an enabled scheduler with one
/// member, so that the defaults inside them can be tested.
fn normal_base() -> ApplicationSpec {
    let mut spec: ApplicationSpec = ApplicationSpec::new("a", Engine::Spark, "emr-7.2.0");
    spec.initial_capacity.insert(WorkerType::Driver, capacity(1, 4, 16));
    spec.scheduler = Some(Scheduler {
        max_concurrent_runs: Some(15),
        queue_timeout_minutes: None,
    });
    spec
}

#[test]
fn normalize_makes_every_omitted_field_equal_its_server_default() {
    let check = |name: &str, edit: fn(&mut ApplicationSpec)| {
        let omitted = normal_base();
        let mut explicit = omitted.clone();
        edit(&mut explicit);
        assert_eq!(
            normalize::application(&omitted),
            normalize::application(&explicit),
            "{name}"
        );
        for field in ApplicationField::ALL {
            assert_eq!(
                field_value(&normalize::application(&omitted), field),
                field_value(&normalize::application(&explicit), field),
                "{name}: {field}"
            );
        }
        assert_eq!(
            super::application::applied_record(&omitted),
            super::application::applied_record(&explicit),
            "{name}"
        );
    };
    check("architecture", |s| s.architecture = Some(Architecture::X86_64));
    check("auto start", |s| s.auto_start = Some(AutoStart { enabled: true }));
    check("auto stop", |s| {
        s.auto_stop = Some(AutoStop {
            enabled: true,
            idle_timeout_minutes: 15,
        })
    });
    check("worker disk", |s| {
        let driver = s.initial_capacity.get_mut(&WorkerType::Driver).expect("driver");
        driver.worker.disk_gb = Some(20);
        driver.worker.disk_type = Some(DiskType::Standard);
    });
    check("worker disk size only", |s| {
        s.initial_capacity
            .get_mut(&WorkerType::Driver)
            .expect("driver")
            .worker
            .disk_gb = Some(20)
    });
    check("scheduler", |s| {
        s.scheduler = Some(Scheduler {
            max_concurrent_runs: Some(15),
            queue_timeout_minutes: Some(360),
        })
    });
    check("managed persistence", |s| {
        s.monitoring.managed_persistence = Some(ManagedPersistence {
            enabled: true,
            encryption_key_arn: None,
        })
    });
    check("cloudwatch disabled", |s| {
        s.monitoring.cloudwatch = Some(CloudWatchLogging {
            enabled: false,
            log_group_name: Some("/ignored".to_string()),
            ..CloudWatchLogging::default()
        })
    });
    check("empty s3 monitoring", |s| {
        s.monitoring.s3 = Some(S3Monitoring::default())
    });
    check("empty prometheus", |s| {
        s.monitoring.prometheus = Some(PrometheusMonitoring::default())
    });
    check("interactive all false", |s| {
        s.interactive = Some(Interactive {
            studio_enabled: Some(false),
            livy_endpoint_enabled: Some(false),
            session_enabled: Some(false),
        })
    });
    check("interactive empty", |s| s.interactive = Some(Interactive::default()));
    check("job-level cost allocation", |s| {
        s.job_level_cost_allocation = Some(JobLevelCostAllocation { enabled: false })
    });
    check("empty disk encryption", |s| {
        s.disk_encryption = Some(DiskEncryption::default())
    });
    check("empty identity center", |s| {
        s.identity_center = Some(IdentityCenter::default())
    });
    check("blank image", |s| {
        s.image = Some(ImageConfig {
            image_uri: String::new(),
            application_level_digest_resolution: None,
        })
    });
    check("blank worker image", |s| {
        s.worker_type_specifications.insert(
            WorkerType::Driver,
            ImageConfig {
                image_uri: String::new(),
                application_level_digest_resolution: None,
            },
        );
    });
    check("empty network", |s| s.network = Some(NetworkConfiguration::default()));
    check("ownership record", |s| {
        s.tags.insert(tags::APPLIED_TAG.to_string(), "ab=123456".to_string());
    });
    check("AWS-reserved tags", |s| {
        s.tags
            .insert("aws:cloudformation:stack-name".to_string(), "legacy".to_string());
    });
}

#[test]
fn normalize_keeps_every_real_difference() {
    let check = |name: &str, edit: fn(&mut ApplicationSpec)| {
        let base = normal_base();
        let mut edited = base.clone();
        edit(&mut edited);
        assert_ne!(normalize::application(&base), normalize::application(&edited), "{name}");
        assert_ne!(
            super::application::applied_record(&base),
            super::application::applied_record(&edited),
            "{name}"
        );
    };
    check("arm64", |s| s.architecture = Some(Architecture::Arm64));
    check("auto start off", |s| s.auto_start = Some(AutoStart { enabled: false }));
    check("auto stop 30", |s| {
        s.auto_stop = Some(AutoStop {
            enabled: true,
            idle_timeout_minutes: 30,
        })
    });
    check("auto stop off", |s| {
        s.auto_stop = Some(AutoStop {
            enabled: false,
            idle_timeout_minutes: 15,
        })
    });
    check("disk 40", |s| {
        s.initial_capacity
            .get_mut(&WorkerType::Driver)
            .expect("driver")
            .worker
            .disk_gb = Some(40)
    });
    check("shuffle optimized", |s| {
        s.initial_capacity
            .get_mut(&WorkerType::Driver)
            .expect("driver")
            .worker
            .disk_type = Some(DiskType::ShuffleOptimized)
    });
    check("worker count", |s| {
        s.initial_capacity
            .get_mut(&WorkerType::Driver)
            .expect("driver")
            .worker_count = 2
    });
    check("scheduler off", |s| s.scheduler = None);
    check("scheduler runs", |s| {
        s.scheduler = Some(Scheduler {
            max_concurrent_runs: Some(16),
            queue_timeout_minutes: None,
        })
    });
    check("managed persistence off", |s| {
        s.monitoring.managed_persistence = Some(ManagedPersistence {
            enabled: false,
            encryption_key_arn: None,
        })
    });
    check("managed persistence key", |s| {
        s.monitoring.managed_persistence = Some(ManagedPersistence {
            enabled: true,
            encryption_key_arn: Some("arn:aws:kms:us-east-1:111111111111:key/k".to_string()),
        })
    });
    check("cloudwatch on", |s| {
        s.monitoring.cloudwatch = Some(CloudWatchLogging {
            enabled: true,
            ..CloudWatchLogging::default()
        })
    });
    check("s3 logs", |s| {
        s.monitoring.s3 = Some(S3Monitoring {
            log_uri: Some("s3://b/".to_string()),
            encryption_key_arn: None,
        })
    });
    check("studio", |s| {
        s.interactive = Some(Interactive {
            studio_enabled: Some(true),
            ..Interactive::default()
        })
    });
    check("cost allocation on", |s| {
        s.job_level_cost_allocation = Some(JobLevelCostAllocation { enabled: true })
    });
    check("disk encryption", |s| {
        s.disk_encryption = Some(DiskEncryption {
            encryption_key_arn: Some("arn:k".to_string()),
            encryption_context: BTreeMap::new(),
        })
    });
    check("identity center", |s| {
        s.identity_center = Some(IdentityCenter {
            instance_arn: Some("arn:aws:sso:::instance/ssoins-1".to_string()),
            user_background_sessions_enabled: None,
        })
    });
    check("image", |s| {
        s.image = Some(ImageConfig {
            image_uri: "x.dkr.ecr.us-east-1.amazonaws.com/r:t".to_string(),
            application_level_digest_resolution: None,
        })
    });
    check("runtime property", |s| {
        s.runtime_configuration = vec![configuration("spark-defaults", &[("a", "1")])]
    });
    check("user tag", |s| {
        s.tags.insert("team".to_string(), "x".to_string());
    });
}

#[test]
fn normalize_ignores_the_order_of_sets() {
    let mut a = normal_base();
    a.network = Some(NetworkConfiguration {
        subnet_ids: vec!["subnet-b".into(), "subnet-a".into(), "subnet-a".into()],
        security_group_ids: vec!["sg-2".into(), "sg-1".into()],
    });
    let nested = |order: [&str; 2]| Configuration {
        classification: "spark-env".to_string(),
        properties: BTreeMap::new(),
        configurations: order.iter().map(|c| configuration(c, &[("k", "v")])).collect(),
    };
    a.runtime_configuration = vec![
        configuration("spark-defaults", &[("x", "1"), ("y", "2")]),
        configuration("hive-site", &[]),
        nested(["export", "java"]),
    ];
    a.monitoring.cloudwatch = Some(CloudWatchLogging {
        enabled: true,
        log_types: BTreeMap::from([("spark_driver".to_string(), vec!["stderr".into(), "STDOUT".into()])]),
        ..CloudWatchLogging::default()
    });
    let mut b = a.clone();
    let network = b.network.as_mut().expect("network");
    network.subnet_ids = vec!["subnet-a".into(), "subnet-b".into()];
    network.security_group_ids.reverse();
    b.runtime_configuration = vec![
        nested(["java", "export"]),
        configuration("hive-site", &[]),
        configuration("spark-defaults", &[("y", "2"), ("x", "1")]),
    ];
    b.monitoring.cloudwatch = Some(CloudWatchLogging {
        enabled: true,
        log_types: BTreeMap::from([("SPARK_DRIVER".to_string(), vec!["STDOUT".into(), "STDERR".into()])]),
        ..CloudWatchLogging::default()
    });
    assert_eq!(normalize::application(&a), normalize::application(&b));
    assert_eq!(
        super::application::applied_record(&a),
        super::application::applied_record(&b)
    );
}

#[test]
fn field_values_show_capacities_in_display_units() {
    let mut spec = normal_base();
    spec.initial_capacity
        .get_mut(&WorkerType::Driver)
        .expect("driver")
        .worker
        .disk_type = Some(DiskType::ShuffleOptimized);
    spec.maximum_capacity = Some(MaximumCapacity {
        cpu: 64,
        memory_gb: 256,
        disk_gb: Some(1000),
    });
    let spec = normalize::application(&spec);
    let check = |field: ApplicationField, expect: Value| assert_eq!(field_value(&spec, field), expect, "{field}");
    check(
        ApplicationField::InitialCapacity,
        json!({"driver": {"worker_count": 1, "cpu": "4 vCPU", "memory": "16 GB", "disk": "20 GB", "disk_type": "SHUFFLE_OPTIMIZED"}}),
    );
    check(
        ApplicationField::MaximumCapacity,
        json!({"cpu": "64 vCPU", "memory": "256 GB", "disk": "1000 GB"}),
    );
    check(ApplicationField::Architecture, json!("X86_64"));
    check(ApplicationField::Engine, json!("SPARK"));
    check(
        ApplicationField::Scheduler,
        json!({"max_concurrent_runs": 15, "queue_timeout_minutes": 360}),
    );
    check(ApplicationField::Network, Value::Null);
    check(ApplicationField::Monitoring, Value::Null);
}

#[test]
fn adopt_unmanaged_takes_what_the_stack_leaves_to_the_service() {
    let image = |uri: &str, resolution: Option<bool>| ImageConfig {
        image_uri: uri.to_string(),
        application_level_digest_resolution: resolution,
    };
    let maximum = |cpu| MaximumCapacity {
        cpu,
        memory_gb: 4 * cpu,
        disk_gb: None,
    };
    let mut actual = normal_base();
    actual.maximum_capacity = Some(maximum(400));
    actual.image = Some(image("r:1", Some(true)));
    actual
        .worker_type_specifications
        .insert(WorkerType::Executor, image("e:1", Some(false)));

    // The stack is silent: the actual values stand.
    let mut silent = normal_base();
    silent.image = Some(image("r:2", None));
    silent
        .worker_type_specifications
        .insert(WorkerType::Executor, image("e:2", None));
    silent
        .worker_type_specifications
        .insert(WorkerType::Driver, image("d:2", None));
    adopt_unmanaged(&mut silent, &actual);
    assert_eq!(silent.maximum_capacity, Some(maximum(400)));
    assert_eq!(silent.image, Some(image("r:2", Some(true))));
    assert_eq!(
        silent.worker_type_specifications[&WorkerType::Executor],
        image("e:2", Some(false))
    );
    // No actual image for the driver: nothing to adopt.
    assert_eq!(
        silent.worker_type_specifications[&WorkerType::Driver],
        image("d:2", None)
    );

    // The stack speaks: its values stand.
    let mut explicit = normal_base();
    explicit.maximum_capacity = Some(maximum(8));
    explicit.image = Some(image("r:2", Some(false)));
    adopt_unmanaged(&mut explicit, &actual);
    assert_eq!(explicit.maximum_capacity, Some(maximum(8)));
    assert_eq!(explicit.image, Some(image("r:2", Some(false))));
}

// ---------------------------------------------------------------------------
// Policy equivalence
// ---------------------------------------------------------------------------

#[test]
fn policy_equivalences_of_awspolicyequivalence() {
    let statement = |extra: Value| {
        let mut base = json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"});
        if let (Value::Object(base), Value::Object(extra)) = (&mut base, extra) {
            base.extend(extra);
        }
        base
    };
    let doc = |statements: Value| json!({"Version": "2012-10-17", "Statement": statements});
    let check = |name: &str, a: Value, b: Value, expect: bool| {
        assert_eq!(equivalent(&a, &b), expect, "{name}\n{a}\n{b}");
        assert_eq!(equivalent(&b, &a), expect, "{name} (reversed)");
    };
    check(
        "key order and whitespace",
        serde_json::from_str(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"a:b","Resource":"*"}]}"#)
            .expect("json"),
        serde_json::from_str(
            r#"{ "Statement" : [ { "Resource" : "*", "Action" : "a:b", "Effect" : "Allow" } ], "Version" : "2012-10-17" }"#,
        )
        .expect("json"),
        true,
    );
    check(
        "statement order",
        doc(json!([statement(json!({"Sid": "A"})), statement(json!({"Sid": "B"}))])),
        doc(json!([statement(json!({"Sid": "B"})), statement(json!({"Sid": "A"}))])),
        true,
    );
    check(
        "statement order with differently ordered keys",
        serde_json::from_str(
            r#"{"Statement": [{"Effect": "Allow", "Action": "a:x"}, {"Action": "a:y", "Effect": "Deny"}]}"#,
        )
        .expect("json"),
        serde_json::from_str(
            r#"{"Statement": [{"Effect": "Deny", "Action": "a:y"}, {"Action": "a:x", "Effect": "Allow"}]}"#,
        )
        .expect("json"),
        true,
    );
    check(
        "statement object versus list",
        json!({"Version": "2012-10-17", "Statement": statement(json!({}))}),
        doc(json!([statement(json!({}))])),
        true,
    );
    check(
        "string versus one-element list",
        doc(json!([statement(json!({}))])),
        doc(json!([{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]}])),
        true,
    );
    check(
        "action order",
        doc(json!([statement(json!({"Action": ["s3:GetObject", "s3:PutObject"]}))])),
        doc(json!([statement(json!({"Action": ["s3:PutObject", "s3:GetObject"]}))])),
        true,
    );
    check(
        "not-action and not-resource order",
        doc(json!([{"Effect": "Deny", "NotAction": ["b:b", "a:a"], "NotResource": ["y", "x"]}])),
        doc(json!([{"Effect": "Deny", "NotAction": ["a:a", "b:b"], "NotResource": ["x", "y"]}])),
        true,
    );
    check(
        "effect case",
        doc(json!([statement(json!({"Effect": "allow"}))])),
        doc(json!([statement(json!({}))])),
        true,
    );
    check(
        "account ID versus root ARN",
        doc(json!([statement(json!({"Principal": {"AWS": "222222222222"}}))])),
        doc(json!([statement(
            json!({"Principal": {"AWS": ["arn:aws:iam::222222222222:root"]}})
        )])),
        true,
    );
    check(
        "principal order and service as string",
        doc(json!([statement(
            json!({"Principal": {"AWS": ["arn:aws:iam::1:role/b", "arn:aws:iam::1:role/a"], "Service": "emr-serverless.amazonaws.com"}})
        )])),
        doc(json!([statement(
            json!({"Principal": {"Service": ["emr-serverless.amazonaws.com"], "AWS": ["arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b"]}})
        )])),
        true,
    );
    check(
        "star principal",
        doc(json!([statement(json!({"Principal": "*"}))])),
        doc(json!([statement(json!({"Principal": {"AWS": "*"}}))])),
        true,
    );
    check(
        "condition with several operators and value order",
        doc(json!([statement(json!({"Condition": {
            "StringEquals": {"aws:SourceAccount": "111111111111", "aws:PrincipalTag/team": ["b", "a"]},
            "ArnLike": {"aws:SourceArn": ["arn:x/*", "arn:x"]}
        }}))])),
        doc(json!([statement(json!({"Condition": {
            "ArnLike": {"aws:SourceArn": ["arn:x", "arn:x/*"]},
            "StringEquals": {"aws:PrincipalTag/team": ["a", "b"], "aws:SourceAccount": ["111111111111"]}
        }}))])),
        true,
    );
    check(
        "condition booleans and numbers versus their strings",
        doc(json!([statement(
            json!({"Condition": {"Bool": {"aws:SecureTransport": false}, "NumericLessThan": {"s3:max-keys": 10}}})
        )])),
        doc(json!([statement(
            json!({"Condition": {"Bool": {"aws:SecureTransport": "false"}, "NumericLessThan": {"s3:max-keys": ["10"]}}})
        )])),
        true,
    );

    // What AWS treats as significant.
    check(
        "sid",
        doc(json!([statement(json!({"Sid": "A"}))])),
        doc(json!([statement(json!({"Sid": "B"}))])),
        false,
    );
    check(
        "missing sid",
        doc(json!([statement(json!({"Sid": "A"}))])),
        doc(json!([statement(json!({}))])),
        false,
    );
    check(
        "version",
        json!({"Version": "2012-10-17", "Statement": [statement(json!({}))]}),
        json!({"Version": "2008-10-17", "Statement": [statement(json!({}))]}),
        false,
    );
    check(
        "missing version",
        json!({"Version": "2012-10-17", "Statement": [statement(json!({}))]}),
        json!({"Statement": [statement(json!({}))]}),
        false,
    );
    check(
        "id",
        json!({"Id": "a", "Statement": [statement(json!({}))]}),
        json!({"Id": "b", "Statement": [statement(json!({}))]}),
        false,
    );
    check(
        "action case",
        doc(json!([statement(json!({}))])),
        doc(json!([statement(json!({"Action": "s3:getobject"}))])),
        false,
    );
    check(
        "different resource",
        doc(json!([statement(json!({}))])),
        doc(json!([statement(json!({"Resource": "arn:aws:s3:::c/*"}))])),
        false,
    );
    check(
        "effect",
        doc(json!([statement(json!({}))])),
        doc(json!([statement(json!({"Effect": "Deny"}))])),
        false,
    );
    check(
        "condition value",
        doc(json!([statement(
            json!({"Condition": {"StringEquals": {"aws:SourceAccount": "1"}}})
        )])),
        doc(json!([statement(
            json!({"Condition": {"StringEquals": {"aws:SourceAccount": "2"}}})
        )])),
        false,
    );
    check(
        "condition operator",
        doc(json!([statement(json!({"Condition": {"StringEquals": {"k": "v"}}}))])),
        doc(json!([statement(json!({"Condition": {"StringLike": {"k": "v"}}}))])),
        false,
    );
    check(
        "principal kind",
        doc(json!([statement(
            json!({"Principal": {"AWS": "arn:aws:iam::1:role/a"}})
        )])),
        doc(json!([statement(
            json!({"Principal": {"Federated": "arn:aws:iam::1:role/a"}})
        )])),
        false,
    );
    check(
        "an extra statement",
        doc(json!([statement(json!({}))])),
        doc(json!([statement(json!({})), statement(json!({"Sid": "B"}))])),
        false,
    );
    check(
        "action versus not-action",
        doc(json!([{"Effect": "Allow", "Action": "a:b"}])),
        doc(json!([{"Effect": "Allow", "NotAction": "a:b"}])),
        false,
    );
}

#[test]
fn canonical_policy_is_stable_and_itself_a_policy() {
    let a: Value = serde_json::from_str(
        r#"{"Statement": [{"Effect": "Allow", "Action": "a:x"}, {"Action": "a:y", "Effect": "Deny"}], "Version": "2012-10-17"}"#,
    )
    .expect("json");
    let b: Value = serde_json::from_str(
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": ["a:y"]}, {"Action": "a:x", "Effect": "Allow"}]}"#,
    )
    .expect("json");
    let canonical_a = super::policy::canonical(&a);
    assert_eq!(canonical_a.to_string(), super::policy::canonical(&b).to_string());
    assert_eq!(super::policy::canonical(&canonical_a), canonical_a);
    assert!(equivalent(&canonical_a, &a));
}

// ---------------------------------------------------------------------------
// Resolution: ownership, conflicts, duplicates, images, ARNs
// ---------------------------------------------------------------------------

/// An application owned by `stack` at `address`, as AWS returns it: with
/// the ownership tags and the applied record emrstack writes.
fn foreign_application(id: &str, name: &str, owner: Option<(&str, &str)>) -> ObservedApplication {
    let mut spec: ApplicationSpec = ApplicationSpec::new(name, Engine::Spark, "emr-7.2.0");
    if let Some((stack, address)) = owner {
        spec.tags.insert(tags::STACK_TAG.to_string(), stack.to_string());
        spec.tags.insert(tags::ADDRESS_TAG.to_string(), address.to_string());
        let record = super::application::applied_record(&spec);
        spec.tags.insert(tags::APPLIED_TAG.to_string(), record);
    }
    ObservedApplication {
        id: id.to_string(),
        arn: application_arn(id),
        state: ApplicationState::Created,
        state_details: None,
        created_at_ms: None,
        spec: server_echo(&spec),
    }
}

#[test]
fn ownership_is_read_from_tags() {
    // (owner of an application named `etl`, expected action on application.etl, conflict?)
    let check = |owner: Option<(&str, &str)>, expect_action: Action, expect_conflict: bool| {
        let mut desired = stack();
        declare(&mut desired, "etl", spec("etl"));
        let mut actual = account();
        actual.applications.push(foreign_application("00f1", "etl", owner));
        let out = plan(&desired, &actual);
        let changes = find_all(&out, "application.etl");
        assert_eq!(changes[0].action, expect_action, "{owner:?}");
        let conflicts: Vec<&Diagnostic> = out.diagnostics.iter().filter(|d| d.code == "plan.conflict").collect();
        assert_eq!(!conflicts.is_empty(), expect_conflict, "{owner:?}: {conflicts:#?}");
        if let Some(conflict) = conflicts.first() {
            assert!(conflict.is_error());
            let help = conflict.help.as_deref().unwrap_or_default();
            assert!(help.contains("emrstack import application.etl 00f1"), "{help}");
            let subject = conflict.subject.as_ref().expect("subject");
            assert_eq!(subject.address, "application.etl");
        }
    };
    // Owned and matching: nothing to do.
    check(Some((STACK, "application.etl")), Action::NoOp, false);
    check(Some(("prod", "application.etl")), Action::Create, true);
    check(None, Action::Create, true);
    // Owned by this stack under another address: that address deletes it.
    check(Some((STACK, "application.old")), Action::Create, false);
}

#[test]
fn conflict_messages_name_the_owner() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    desired.roles.insert("etl".to_string(), role("etl-role"));
    let mut actual = account();
    actual
        .applications
        .push(foreign_application("00f1", "etl", Some(("prod", "application.etl"))));
    let mut foreign_role = deployed_role_of(&role("etl-role"));
    foreign_role.spec.tags.clear();
    actual.roles.push(foreign_role);
    let out = plan(&desired, &actual);
    let messages: Vec<&str> = out
        .diagnostics
        .iter()
        .filter(|d| d.code == "plan.conflict")
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert!(
        messages.iter().any(|m| m.contains("owned by stack `prod`")),
        "{messages:#?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("role `etl-role`") && m.contains("not managed by emrstack")),
        "{messages:#?}"
    );
}

#[test]
fn of_two_owned_duplicates_the_matching_one_is_kept() {
    // (ids, states, names) of two applications tagged `application.etl`.
    let check = |first: (&str, ApplicationState, &str), second: (&str, ApplicationState, &str), kept: &str| {
        let mut desired = stack();
        declare(&mut desired, "etl", spec("etl"));
        let mut actual = deploy(&desired, &account());
        let template = actual.applications[0].clone();
        actual.applications.clear();
        for (id, state, name) in [first, second] {
            let mut app = template.clone();
            app.id = id.to_string();
            app.arn = application_arn(id);
            app.state = state;
            app.spec.name = name.to_string();
            rebind_application(&mut app);
            actual.applications.push(app);
        }
        let out = plan(&desired, &actual);
        let changes = find_all(&out, "application.etl");
        assert_eq!(changes.len(), 2, "{changes:#?}");
        let deleted: Vec<&str> = changes
            .iter()
            .filter(|c| c.reason == Reason::Duplicate)
            .map(|c| app_target(c).current.as_ref().expect("current").id.as_str())
            .collect();
        let main = changes
            .iter()
            .find(|c| c.reason != Reason::Duplicate)
            .expect("main change");
        assert_eq!(app_target(main).current.as_ref().expect("current").id, kept);
        assert_eq!(deleted.len(), 1);
        assert_ne!(deleted[0], kept);
        let duplicate = changes
            .iter()
            .find(|c| c.reason == Reason::Duplicate)
            .expect("duplicate");
        assert_eq!(duplicate.action, Action::Delete);
        assert!(
            duplicate.notes.iter().any(|n| n.contains(&format!("keeping {kept}"))),
            "{duplicate:#?}"
        );
    };
    use ApplicationState::{Started, Stopped};
    check(("a", Stopped, "etl"), ("b", Started, "etl-old"), "a");
    check(("a", Stopped, "etl-old"), ("b", Stopped, "etl"), "b");
    // Both match and neither says when it was created: the smaller ID.
    check(("a", Stopped, "etl"), ("b", Started, "etl"), "a");
    check(("b", Stopped, "etl"), ("a", Stopped, "etl"), "a");
}

/// Rewrites the binding of `record` (the first token) to `binding`.
fn with_binding(record: &str, binding: String) -> String {
    match record.split_once(' ') {
        Some((_, rest)) => format!("{binding} {rest}"),
        None => binding,
    }
}

/// The application's applied record, bound to it as it is now: what
/// emrstack writes on an application of that name (a duplicate an
/// interrupted run left under another name carries its own name's binding).
fn rebind_application(app: &mut ObservedApplication) {
    let binding = tags::binding_token(tags::Identity::of_application(&app.spec), &app.spec.tags);
    let record = with_binding(&app.spec.tags[tags::APPLIED_TAG], binding);
    app.spec.tags.insert(tags::APPLIED_TAG.to_string(), record);
}

/// The same for a role.
fn rebind_role(role: &mut ObservedRole) {
    let binding = tags::binding_token(tags::Identity::of_role(&role.spec), &role.spec.tags);
    let record = with_binding(&role.spec.tags[tags::APPLIED_TAG], binding);
    role.spec.tags.insert(tags::APPLIED_TAG.to_string(), record);
}

/// Two applications with the address, name and record of `application.etl`:
/// `older` was created first.
fn two_duplicates(older: &str, newer: &str) -> (Desired, Actual) {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let mut actual = deploy(&desired, &account());
    let template = actual.applications[0].clone();
    actual.applications.clear();
    for (id, created) in [(newer, 2_000), (older, 1_000)] {
        let mut app = template.clone();
        app.id = id.to_string();
        app.arn = application_arn(id);
        app.created_at_ms = Some(created);
        actual.applications.push(app);
    }
    (desired, actual)
}

/// The ID a plan keeps (its main change) and the one it deletes as a
/// duplicate, with the duplicate's note.
fn kept_and_duplicate(out: &DiffOutput) -> (String, String, String) {
    let changes = find_all(out, "application.etl");
    let id = |change: &Change| app_target(change).current.as_ref().expect("current").id.clone();
    let main = changes.iter().find(|c| c.reason != Reason::Duplicate).expect("main");
    let duplicate = changes
        .iter()
        .find(|c| c.reason == Reason::Duplicate)
        .expect("duplicate");
    (id(main), id(duplicate), duplicate.notes.join("\n"))
}

#[test]
fn of_two_duplicates_the_older_is_kept_and_the_plan_says_why() {
    // The newer one has the smaller ID: age decides, not the ID.
    let (desired, actual) = two_duplicates("b", "a");
    let (kept, deleted, note) = kept_and_duplicate(&plan(&desired, &actual));
    assert_eq!((kept.as_str(), deleted.as_str()), ("b", "a"));
    assert!(note.contains("keeping b: it is the oldest"), "{note}");
}

/// `plan` and `plan --destroy` name the same application as the one kept
/// (before, destroy compared without the declaration and kept the other).
#[test]
fn plan_and_destroy_pick_the_same_duplicate() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let mut actual = deploy(&desired, &account());
    let template = actual.applications[0].clone();
    actual.applications.clear();
    // `a` sorts first by ID and is older, but only `b` has the declared name.
    for (id, name, created) in [("a", "etl-renamed", 1_000), ("b", "etl", 2_000)] {
        let mut app = template.clone();
        app.id = id.to_string();
        app.arn = application_arn(id);
        app.spec.name = name.to_string();
        app.created_at_ms = Some(created);
        rebind_application(&mut app);
        actual.applications.push(app);
    }
    let applied = kept_and_duplicate(&plan(&desired, &actual));
    let destroyed = kept_and_duplicate(&diff(&desired, &actual, Mode::Destroy));
    assert_eq!((applied.0.as_str(), applied.1.as_str()), ("b", "a"));
    assert_eq!((&destroyed.0, &destroyed.1), (&applied.0, &applied.1));
    assert!(
        applied.2.contains("keeping b: it has the declared name and type"),
        "{}",
        applied.2
    );
    assert!(
        destroyed.2.contains("as b (it has the declared name and type)"),
        "{}",
        destroyed.2
    );
}

/// A look-alike: the stack's ownership tags set by hand, no applied record.
/// It is never changed or deleted; the plan says why, naming it and its
/// tags: an error when its address is declared, a warning when not (nothing
/// would be planned for it but its deletion, which it is spared anyway, so
/// it must not block the stack's applies and destroys).
#[test]
fn a_hand_tagged_look_alike_is_never_changed_or_deleted_and_blocks_only_a_declared_address() {
    let lookalike = |id: &str, address: &str| {
        let mut app = foreign_application(id, "etl", Some((STACK, address)));
        app.spec.tags.remove(tags::APPLIED_TAG);
        app.spec.tags.insert("team".to_string(), "data".to_string());
        app
    };
    for (address, declared) in [("application.etl", true), ("application.gone", false)] {
        let mut desired = stack();
        declare(&mut desired, "etl", spec("etl"));
        let mut actual = account();
        actual.applications.push(lookalike("00f1", address));
        for mode in [Mode::Apply, Mode::Destroy] {
            let out = diff(&desired, &actual, mode);
            let touched: Vec<&Change> = out
                .changes
                .iter()
                .filter(|change| {
                    matches!(&change.target, Target::Application(app)
                        if app.current.as_ref().is_some_and(|current| current.id == "00f1"))
                })
                .collect();
            assert!(touched.is_empty(), "{address} {mode:?}: {touched:#?}");
            let errors: Vec<&Diagnostic> = out
                .diagnostics
                .iter()
                .filter(|d| d.code == "plan.unproven-ownership")
                .collect();
            assert_eq!(errors.len(), 1, "{address} {mode:?}: {:#?}", out.diagnostics);
            let error = errors[0];
            assert_eq!(error.is_error(), declared, "{address} {mode:?}");
            assert_eq!(out.diagnostics.has_errors(), declared, "{address} {mode:?}");
            assert!(error.message.contains("application `etl` (00f1)"), "{}", error.message);
            assert!(
                error.message.contains(&format!("`emrstack:address={address}`"))
                    && error.message.contains(&format!("`emrstack:stack={STACK}`"))
                    && error.message.contains("`team=data`"),
                "{}",
                error.message
            );
            let help = error.help.as_deref().unwrap_or_default();
            assert!(help.contains(&format!("emrstack import {address} 00f1")), "{help}");
            assert!(help.contains("remove its `emrstack:` tags"), "{help}");
            assert!(
                help.contains("an emrstack version from before records proved ownership"),
                "{help}"
            );
            assert_eq!(error.subject.is_some(), declared);
        }
    }
    // A role too, by name.
    let mut desired = stack();
    desired.roles.insert("etl".to_string(), role("etl-role"));
    let mut actual = deploy(&desired, &account());
    observed_role(&mut actual, "etl-role")
        .spec
        .tags
        .remove(tags::APPLIED_TAG);
    for mode in [Mode::Apply, Mode::Destroy] {
        let out = diff(&desired, &actual, mode);
        assert!(
            out.changes
                .iter()
                .all(|c| !matches!(&c.target, Target::Role(r) if r.current.is_some())),
            "{:#?}",
            out.changes
        );
        assert!(
            out.diagnostics
                .iter()
                .any(|d| d.code == "plan.unproven-ownership" && d.message.contains("role `etl-role` carries")),
            "{:#?}",
            out.diagnostics
        );
    }
}

/// Every tag of the stack's application, its record included, copied onto
/// an application with another name: the record was not written for it, so
/// it is a look-alike, not a duplicate to delete. A copy onto an
/// application with the same name and type cannot be told from what an
/// interrupted run leaves: a duplicate.
#[test]
fn a_copy_of_all_the_tags_onto_another_name_proves_nothing() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let mut actual = deploy(&desired, &account());
    let mut copy = actual.applications[0].clone();
    copy.id = "00fcopy".to_string();
    copy.arn = application_arn("00fcopy");
    copy.spec.name = "copy-of-etl".to_string();
    actual.applications.push(copy);
    for mode in [Mode::Apply, Mode::Destroy] {
        let out = diff(&desired, &actual, mode);
        assert!(
            !out.changes.iter().any(|c| matches!(&c.target, Target::Application(app)
                if app.current.as_ref().is_some_and(|current| current.id == "00fcopy"))),
            "{mode:?}: {:#?}",
            out.changes
        );
        let error = out
            .diagnostics
            .iter()
            .find(|d| d.code == "plan.unproven-ownership")
            .expect("the copy is reported");
        assert!(error.is_error());
        assert!(
            error.message.contains("application `copy-of-etl` (00fcopy)")
                && error.message.contains("record emrstack did not write for it"),
            "{}",
            error.message
        );
    }
    let same_name = actual.applications.last_mut().expect("the copy");
    same_name.spec.name = "etl".to_string();
    let out = plan(&desired, &actual);
    assert!(!out.diagnostics.has_errors(), "{:#?}", out.diagnostics);
    let reasons: Vec<Reason> = find_all(&out, "application.etl").iter().map(|c| c.reason).collect();
    assert!(reasons.contains(&Reason::Duplicate), "{reasons:?}");
}

#[test]
fn duplicates_of_an_undeclared_address_are_all_deleted() {
    let mut actual = account();
    actual
        .applications
        .push(foreign_application("a", "etl", Some((STACK, "application.etl"))));
    actual
        .applications
        .push(foreign_application("b", "etl", Some((STACK, "application.etl"))));
    let out = plan(&stack(), &actual);
    let reasons: Vec<Reason> = find_all(&out, "application.etl").iter().map(|c| c.reason).collect();
    assert_eq!(reasons, vec![Reason::RemovedFromStack, Reason::Duplicate]);
}

#[test]
fn images_resolve_to_uris_or_report_what_is_missing() {
    // (image, worker image, account has repository, expected image URI or diagnostic codes with paths)
    let check = |image: DesiredImage, with_repository: bool, expect: Result<&str, &[(&str, &str)]>| {
        let mut desired = stack();
        let mut spec = spec("etl");
        spec.image = Some(image);
        declare(&mut desired, "etl", spec);
        declare_repository(&mut desired, &[]);
        let actual = if with_repository {
            account_with_repository(None)
        } else {
            account()
        };
        let out = plan(&desired, &actual);
        match expect {
            Ok(uri) => {
                assert!(
                    !codes(&out).iter().any(|c| c.starts_with("image.")),
                    "{:#?}",
                    out.diagnostics
                );
                let change = find(&out, "application.etl");
                let desired = app_target(change).desired.as_ref().expect("desired");
                assert_eq!(desired.image.as_ref().map(|i| i.image_uri.as_str()), Some(uri));
            }
            Err(expected) => {
                let found: Vec<(String, String)> = out
                    .diagnostics
                    .iter()
                    .filter(|d| d.code.starts_with("image."))
                    .map(|d| {
                        let subject = d.subject.as_ref().expect("subject");
                        assert_eq!(subject.address, "application.etl");
                        (d.code.clone(), subject.path.clone())
                    })
                    .collect();
                let expected: Vec<(String, String)> =
                    expected.iter().map(|(c, p)| (c.to_string(), p.to_string())).collect();
                assert_eq!(found, expected);
                assert!(find_all(&out, "application.etl").is_empty(), "{:#?}", out.changes);
            }
        }
    };
    check(
        repository_image("v1", true),
        true,
        Ok(format!("{REPO_URI}@{DIGEST_V1}").as_str()),
    );
    check(
        repository_image("v2", false),
        true,
        Ok(format!("{REPO_URI}:v2").as_str()),
    );
    check(uri_image("public.ecr.aws/x/y:1"), false, Ok("public.ecr.aws/x/y:1"));
    check(
        repository_image("v1", true),
        false,
        Err(&[("image.repository-not-found", "image.repository")]),
    );
    check(
        repository_image("v9", true),
        true,
        Err(&[("image.tag-not-found", "image.tag")]),
    );
    check(
        repository_image("v9", false),
        true,
        Err(&[("image.tag-not-found", "image.tag")]),
    );
}

#[test]
fn every_missing_image_is_reported_not_just_the_first() {
    let mut desired = stack();
    let mut spec = spec("etl");
    spec.image = Some(repository_image("v8", true));
    spec.worker_type_specifications
        .insert(WorkerType::Executor, repository_image("v9", true));
    declare(&mut desired, "etl", spec);
    declare_repository(&mut desired, &[]);
    let out = plan(&desired, &account_with_repository(None));
    let paths: Vec<String> = out
        .diagnostics
        .iter()
        .filter(|d| d.code == "image.tag-not-found")
        .map(|d| d.subject.as_ref().expect("subject").path.clone())
        .collect();
    assert_eq!(
        paths,
        vec!["image.tag", "worker_type_specifications.executor.image.tag"]
    );
}

#[test]
fn arns_are_known_for_kept_applications_and_placeholders_otherwise() {
    let mut desired = stack();
    declare(&mut desired, "kept", spec("kept"));
    declare(&mut desired, "renamed", spec("renamed"));
    let actual = deploy(&desired, &account());
    declare(&mut desired, "new", spec("new"));
    desired.applications.get_mut("renamed").expect("renamed").spec.name = "renamed-2".to_string();
    let mut errors = super::Diagnostics::new();
    let resolved = super::resolve::resolve(&desired, &actual, Mode::Apply, &mut errors);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(resolved.arn_or_placeholder("kept"), application_arn("kept-1"));
    assert_eq!(resolved.arn_or_placeholder("renamed"), "${application.renamed.arn}");
    assert_eq!(resolved.arn_or_placeholder("new"), "${application.new.arn}");
    assert_eq!(
        resolved.known_arns.keys().collect::<Vec<_>>(),
        vec!["kept"],
        "replaced and new applications have no ARN yet"
    );
}

#[test]
fn role_trust_policy_is_generated_from_trust_applications() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let actual = deploy(&desired, &account());
    declare(&mut desired, "adhoc", spec("adhoc"));
    let mut scoped = role("scoped");
    scoped.trust_applications = vec!["etl".to_string(), "adhoc".to_string()];
    desired.roles.insert("scoped".to_string(), scoped);
    desired.roles.insert("open".to_string(), role("open"));
    let out = plan(&desired, &actual);
    let trust = |address: &str| {
        role_target(find(&out, address))
            .desired
            .as_ref()
            .expect("desired")
            .trust_policy
            .clone()
    };
    let etl = application_arn("etl-1");
    let expected_scoped = json!({"Version": "2012-10-17", "Statement": [{
        "Sid": crate::model::repository::statement_sid(STACK),
        "Effect": "Allow",
        "Principal": {"Service": "emr-serverless.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": [etl.clone(), format!("{etl}/*"), "${application.adhoc.arn}", "${application.adhoc.arn}/*"]}
        }
    }]});
    assert!(
        equivalent(&trust("role.scoped"), &expected_scoped),
        "{}",
        trust("role.scoped")
    );
    let open = trust("role.open");
    assert_eq!(
        open["Statement"][0]["Condition"],
        json!({"StringEquals": {"aws:SourceAccount": ACCOUNT}})
    );
}

#[test]
fn inline_policy_placeholders_are_substituted_when_known() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let actual = deploy(&desired, &account());
    declare(&mut desired, "adhoc", spec("adhoc"));
    let mut with_policy = role("etl");
    with_policy.inline_policies.insert(
        "jobs".to_string(),
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "emr-serverless:GetJobRun",
            "Resource": ["${application.etl.arn}/jobruns/*", "${application.adhoc.arn}/jobruns/*"]}]}),
    );
    desired.roles.insert("etl".to_string(), with_policy);
    let out = plan(&desired, &actual);
    let change = find(&out, "role.etl");
    let document = &role_target(change).desired.as_ref().expect("desired").inline_policies["jobs"];
    assert_eq!(
        document["Statement"][0]["Resource"],
        json!([
            format!("{}/jobruns/*", application_arn("etl-1")),
            "${application.adhoc.arn}/jobruns/*"
        ])
    );
    assert_eq!(change.references(), vec!["adhoc".to_string()]);
    assert!(field(change, "policies.jobs").after_unknown);
}

// ---------------------------------------------------------------------------
// Application changes
// ---------------------------------------------------------------------------

#[test]
fn create_lists_every_field_and_carries_the_applied_record() {
    let mut desired = stack();
    declare(&mut desired, "etl", rich_spec("etl"));
    let out = plan(&desired, &account());
    let change = find(&out, "application.etl");
    assert_eq!((change.action, change.reason), (Action::Create, Reason::Missing));
    assert_eq!(change.steps, vec![Step::Create]);
    let listed: BTreeSet<&str> = change.fields.iter().map(|f| top_level(&f.path)).collect();
    let every: BTreeSet<&str> = ApplicationField::ALL.iter().map(|f| f.as_str()).collect();
    assert_eq!(listed, every);
    assert!(change.fields.iter().all(|f| f.before.is_null() && !f.after.is_null()));
    assert_eq!(field(change, "release_label").after, json!("emr-7.13.0"));
    let target = app_target(change);
    let desired_spec = target.desired.as_ref().expect("desired");
    assert_eq!(desired_spec.tags[tags::STACK_TAG], STACK);
    assert_eq!(desired_spec.tags[tags::ADDRESS_TAG], "application.etl");
    assert_eq!(
        desired_spec.tags.get(tags::APPLIED_TAG),
        Some(&super::application::applied_record(desired_spec))
    );
    // Ownership tags are shown like any tag, the record is not.
    let tag_paths: Vec<&str> = paths(change).into_iter().filter(|p| p.starts_with("tags")).collect();
    assert_eq!(tag_paths, vec!["tags"]);
    assert!(field(change, "tags").after.get(tags::APPLIED_TAG).is_none());
}

#[test]
fn a_minimal_create_shows_the_defaults_it_gets() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let out = plan(&desired, &account());
    let change = find(&out, "application.etl");
    assert_eq!(
        paths(change),
        vec![
            "name",
            "type",
            "release_label",
            "architecture",
            "auto_start",
            "auto_stop",
            "tags"
        ]
    );
}

#[test]
fn applications_read_back_with_server_defaults_are_up_to_date() {
    for (name, spec) in [("minimal", spec("etl")), ("rich", rich_spec("etl"))] {
        let mut desired = stack();
        declare(&mut desired, "etl", spec);
        let actual = deploy(&desired, &account());
        let out = plan(&desired, &actual);
        let change = find(&out, "application.etl");
        assert_eq!(change.action, Action::NoOp, "{name}: {change:#?}");
        // The AWS spelling of the same values changes nothing either.
        let mut respelled = actual.clone();
        let app = observed_app(&mut respelled, "etl");
        if let Some(network) = app.spec.network.as_mut() {
            network.subnet_ids.reverse();
        }
        app.spec.runtime_configuration.reverse();
        if let Some(cloudwatch) = app.spec.monitoring.cloudwatch.as_mut() {
            cloudwatch.log_types = BTreeMap::from([(
                "SPARK_DRIVER".to_string(),
                vec!["STDERR".to_string(), "STDOUT".to_string()],
            )]);
        }
        assert_eq!(
            find(&plan(&desired, &respelled), "application.etl").action,
            Action::NoOp,
            "{name} respelled"
        );
    }
}

/// One change to the rich application: what it edits, the field it touches
/// and whether a STARTED application accepts it.
type FieldCase = (
    &'static str,
    fn(&mut ApplicationSpec<DesiredImage>),
    ApplicationField,
    bool,
);

fn case(
    name: &'static str,
    edit: fn(&mut ApplicationSpec<DesiredImage>),
    field: ApplicationField,
    live: bool,
) -> FieldCase {
    (name, edit, field, live)
}

fn field_cases() -> Vec<FieldCase> {
    vec![
        case(
            "release label",
            |s| s.release_label = "emr-7.3.0".to_string(),
            ApplicationField::ReleaseLabel,
            false,
        ),
        case(
            "architecture",
            |s| s.architecture = Some(Architecture::X86_64),
            ApplicationField::Architecture,
            false,
        ),
        case(
            "initial capacity",
            |s| {
                s.initial_capacity
                    .get_mut(&WorkerType::Executor)
                    .expect("executor")
                    .worker_count = 4;
            },
            ApplicationField::InitialCapacity,
            false,
        ),
        case(
            "maximum capacity",
            |s| s.maximum_capacity.as_mut().expect("maximum").cpu = 128,
            ApplicationField::MaximumCapacity,
            true,
        ),
        case(
            "auto start",
            |s| s.auto_start = Some(AutoStart { enabled: false }),
            ApplicationField::AutoStart,
            false,
        ),
        case(
            "auto stop",
            |s| s.auto_stop.as_mut().expect("auto stop").idle_timeout_minutes = 60,
            ApplicationField::AutoStop,
            false,
        ),
        case(
            "network",
            |s| {
                s.network
                    .as_mut()
                    .expect("network")
                    .subnet_ids
                    .push("subnet-c".to_string())
            },
            ApplicationField::Network,
            false,
        ),
        // The rich application has pre-initialized capacity: the service
        // does not update its images while STARTED.
        case(
            "image",
            |s| s.image = Some(uri_image("111111111111.dkr.ecr.us-east-1.amazonaws.com/base:v2")),
            ApplicationField::Image,
            false,
        ),
        case(
            "worker image",
            |s| {
                s.worker_type_specifications.insert(
                    WorkerType::Driver,
                    uri_image("111111111111.dkr.ecr.us-east-1.amazonaws.com/driver:v1"),
                );
            },
            ApplicationField::WorkerTypeSpecifications,
            false,
        ),
        case(
            "runtime configuration",
            |s| {
                s.runtime_configuration[0]
                    .properties
                    .insert("spark.executor.cores".into(), "8".into());
            },
            ApplicationField::RuntimeConfiguration,
            false,
        ),
        case(
            "monitoring",
            |s| {
                s.monitoring.s3 = Some(S3Monitoring {
                    log_uri: Some("s3://other/".into()),
                    encryption_key_arn: None,
                })
            },
            ApplicationField::Monitoring,
            false,
        ),
        case(
            "interactive",
            |s| s.interactive.as_mut().expect("interactive").livy_endpoint_enabled = Some(true),
            ApplicationField::Interactive,
            false,
        ),
        case(
            "scheduler max concurrent runs",
            |s| s.scheduler.as_mut().expect("scheduler").max_concurrent_runs = Some(20),
            ApplicationField::Scheduler,
            true,
        ),
        case(
            "scheduler queue timeout",
            |s| s.scheduler.as_mut().expect("scheduler").queue_timeout_minutes = Some(720),
            ApplicationField::Scheduler,
            false,
        ),
        case(
            "disk encryption",
            |s| {
                s.disk_encryption
                    .as_mut()
                    .expect("disk encryption")
                    .encryption_context
                    .insert("team".into(), "data".into());
            },
            ApplicationField::DiskEncryption,
            false,
        ),
        case(
            "identity center",
            |s| {
                s.identity_center
                    .as_mut()
                    .expect("identity center")
                    .user_background_sessions_enabled = Some(true)
            },
            ApplicationField::IdentityCenter,
            false,
        ),
        case(
            "job-level cost allocation",
            |s| s.job_level_cost_allocation = None,
            ApplicationField::JobLevelCostAllocation,
            false,
        ),
    ]
}

#[test]
fn each_field_change_is_an_update_of_that_field_live_or_with_a_stop() {
    let mut desired = stack();
    declare(&mut desired, "etl", rich_spec("etl"));
    let deployed = deploy(&desired, &account());
    for (name, edit, expect_field, live) in field_cases() {
        let mut changed = desired.clone();
        edit(&mut changed.applications.get_mut("etl").expect("etl").spec);
        for state in [ApplicationState::Stopped, ApplicationState::Started] {
            let mut actual = deployed.clone();
            set_state(&mut actual, "etl", state);
            let out = plan(&changed, &actual);
            let change = find(&out, "application.etl");
            let context = format!("{name} in {state}: {change:#?}");
            assert_eq!(
                (change.action, change.reason),
                (Action::Update, Reason::Changed),
                "{context}"
            );
            let target = app_target(change);
            assert_eq!(target.update_fields, BTreeSet::from([expect_field]), "{context}");
            assert_eq!(target.needs_stop, !live, "{context}");
            assert!(change.fields.iter().all(|f| f.live == live && !f.drift), "{context}");
            let update = Step::Update {
                fields: vec![expect_field.as_str().to_string()],
            };
            let expected_steps = match (state, live) {
                (ApplicationState::Started, false) => vec![
                    Step::Stop {
                        running_jobs: 0,
                        running_sessions: 0,
                    },
                    update,
                    Step::Start,
                ],
                _ => vec![update],
            };
            // The record changes with the field, so the tags are refreshed too.
            let mut expected_steps = expected_steps;
            expected_steps.push(Step::Tag);
            assert_eq!(change.steps, expected_steps, "{context}");
            // Applying it converges.
            let next = apply_changes(&actual, &out.changes);
            assert_eq!(
                find(&plan(&changed, &next), "application.etl").action,
                Action::NoOp,
                "{name} does not converge"
            );
        }
    }
}

#[test]
fn update_steps_depend_on_the_application_state() {
    use ApplicationState::*;
    let stop = Step::Stop {
        running_jobs: 0,
        running_sessions: 0,
    };
    let update = |field: &str| Step::Update {
        fields: vec![field.to_string()],
    };
    // (state, field to change, expected steps before the tag refresh)
    let check = |state: ApplicationState, live: bool, expect: Vec<Step>| {
        let mut desired = stack();
        declare(&mut desired, "etl", rich_spec("etl"));
        let mut actual = deploy(&desired, &account());
        set_state(&mut actual, "etl", state);
        let app = &mut desired.applications.get_mut("etl").expect("etl").spec;
        if live {
            app.maximum_capacity.as_mut().expect("maximum").cpu = 128;
        } else {
            app.release_label = "emr-7.3.0".to_string();
        }
        let out = plan(&desired, &actual);
        let change = find(&out, "application.etl");
        let mut expect = expect;
        expect.push(Step::Tag);
        assert_eq!(change.steps, expect, "{state} live={live}");
    };
    check(Created, false, vec![update("release_label")]);
    check(Stopped, false, vec![update("release_label")]);
    check(Created, true, vec![update("maximum_capacity")]);
    check(Started, true, vec![update("maximum_capacity")]);
    check(Started, false, vec![stop.clone(), update("release_label"), Step::Start]);
    check(
        Creating,
        false,
        vec![Step::Wait { state: Creating }, update("release_label")],
    );
    check(
        Creating,
        true,
        vec![Step::Wait { state: Creating }, update("maximum_capacity")],
    );
    check(
        Starting,
        false,
        vec![
            Step::Wait { state: Starting },
            stop,
            update("release_label"),
            Step::Start,
        ],
    );
    check(
        Starting,
        true,
        vec![Step::Wait { state: Starting }, update("maximum_capacity")],
    );
    check(
        Stopping,
        false,
        vec![Step::Wait { state: Stopping }, update("release_label")],
    );
}

#[test]
fn mixed_live_and_stop_fields_need_a_stop_and_notes_say_so() {
    let mut desired = stack();
    declare(&mut desired, "etl", rich_spec("etl"));
    let mut actual = deploy(&desired, &account());
    set_state(&mut actual, "etl", ApplicationState::Started);
    let app = &mut desired.applications.get_mut("etl").expect("etl").spec;
    app.maximum_capacity.as_mut().expect("maximum").cpu = 128;
    app.release_label = "emr-7.3.0".to_string();
    let out = plan(&desired, &actual);
    let change = find(&out, "application.etl");
    assert!(app_target(change).needs_stop);
    assert!(field(change, "maximum_capacity.cpu").live);
    assert!(!field(change, "release_label").live);
    assert!(
        change
            .notes
            .iter()
            .any(|n| n.contains("stopped, updated and started again")),
        "{:?}",
        change.notes
    );

    // Live changes only: said to apply without a stop.
    desired.applications.get_mut("etl").expect("etl").spec.release_label = "emr-7.13.0".to_string();
    let out = plan(&desired, &actual);
    let change = find(&out, "application.etl");
    assert!(
        change.notes.iter().any(|n| n.contains("without stopping")),
        "{:?}",
        change.notes
    );
}

#[test]
fn stopping_a_started_application_counts_its_running_jobs() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let mut actual = deploy(&desired, &account());
    set_state(&mut actual, "etl", ApplicationState::Started);
    let id = observed_app(&mut actual, "etl").id.clone();
    let jobs = vec![
        JobRun {
            id: "j1".to_string(),
            name: None,
            state: JobRunState::Running,
            mode: crate::model::JobRunMode::Batch,
        },
        JobRun {
            id: "j2".to_string(),
            name: Some("nightly".to_string()),
            state: JobRunState::Queued,
            mode: crate::model::JobRunMode::Batch,
        },
    ];
    actual.running_work.insert(
        id,
        crate::model::RunningWork {
            job_runs: jobs.clone(),
            sessions: Vec::new(),
        },
    );

    desired.applications.get_mut("etl").expect("etl").spec.release_label = "emr-7.3.0".to_string();
    let out = plan(&desired, &actual);
    let change = find(&out, "application.etl");
    assert_eq!(
        change.steps[0],
        Step::Stop {
            running_jobs: 2,
            running_sessions: 0,
        }
    );
    assert_eq!(app_target(change).running_jobs, jobs);

    // Deleting it stops it too, with the same count.
    let out = plan(&stack(), &actual);
    let change = find(&out, "application.etl");
    assert_eq!(
        change.steps,
        vec![
            Step::Stop {
                running_jobs: 2,
                running_sessions: 0,
            },
            Step::Delete
        ]
    );
    assert_eq!(app_target(change).running_jobs, jobs);
}

#[test]
fn a_name_or_type_change_replaces_the_application() {
    use ApplicationState::*;
    // (edit, state, forcing path, expected steps)
    let check = |edit: fn(&mut ApplicationSpec<DesiredImage>), state, forcing: &str, steps: Vec<Step>| {
        let mut desired = stack();
        declare(&mut desired, "etl", spec("etl"));
        let mut actual = deploy(&desired, &account());
        set_state(&mut actual, "etl", state);
        let app = &mut desired.applications.get_mut("etl").expect("etl").spec;
        edit(app);
        app.release_label = "emr-7.3.0".to_string();
        let out = plan(&desired, &actual);
        let change = find(&out, "application.etl");
        assert_eq!((change.action, change.reason), (Action::Replace, Reason::ReplaceFields));
        assert_eq!(change.steps, steps, "{forcing} {state}");
        let forced: Vec<&str> = change
            .fields
            .iter()
            .filter(|f| f.forces_replacement)
            .map(|f| f.path.as_str())
            .collect();
        assert_eq!(forced, vec![forcing]);
        assert!(!field(change, "release_label").forces_replacement);
        assert!(change.fields.iter().all(|f| !f.live));
        let target = app_target(change);
        assert_eq!(target.current.as_ref().expect("current").id, "etl-1");
        assert!(target.update_fields.is_empty() && !target.needs_stop);
        assert!(!out.diagnostics.has_errors());
    };
    check(
        |s| s.name = "etl-2".to_string(),
        Stopped,
        "name",
        vec![Step::CreateReplacement, Step::DeleteReplaced],
    );
    check(
        |s| s.engine = Engine::Hive,
        Started,
        "type",
        vec![
            Step::CreateReplacement,
            Step::Stop {
                running_jobs: 0,
                running_sessions: 0,
            },
            Step::DeleteReplaced,
        ],
    );
    check(
        |s| s.name = "etl-2".to_string(),
        Creating,
        "name",
        vec![
            Step::CreateReplacement,
            Step::Wait { state: Creating },
            Step::DeleteReplaced,
        ],
    );
}

#[test]
fn prevent_destroy_refuses_replacement_and_deletion() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    desired.applications.get_mut("etl").expect("etl").prevent_destroy = true;
    let actual = deploy(&desired, &account());

    let mut renamed = desired.clone();
    renamed.applications.get_mut("etl").expect("etl").spec.name = "etl-2".to_string();
    let out = plan(&renamed, &actual);
    let error = diagnostic(&out, "plan.prevent-destroy");
    assert!(
        error.is_error() && error.message.contains("replace `application.etl`"),
        "{error:#?}"
    );

    let out = plan_mode(&desired, &actual, Mode::Destroy);
    let error = diagnostic(&out, "plan.prevent-destroy");
    assert!(error.message.contains("delete `application.etl`"), "{error:#?}");
}

#[test]
fn an_application_removed_from_the_stack_is_deleted_stopping_it_first() {
    use ApplicationState::*;
    let check = |state: ApplicationState, steps: Vec<Step>| {
        let mut desired = stack();
        declare(&mut desired, "etl", rich_spec("etl"));
        declare(&mut desired, "kept", spec("kept"));
        let mut actual = deploy(&desired, &account());
        set_state(&mut actual, "etl", state);
        desired.applications.remove("etl");
        let out = plan(&desired, &actual);
        let change = find(&out, "application.etl");
        assert_eq!(
            (change.action, change.reason),
            (Action::Delete, Reason::RemovedFromStack)
        );
        assert_eq!(change.steps, steps, "{state}");
        assert!(change.fields.iter().all(|f| f.after.is_null() && !f.before.is_null()));
        assert!(paths(change).contains(&"release_label"));
        let target = app_target(change);
        assert_eq!(target.needs_stop, steps.iter().any(|s| matches!(s, Step::Stop { .. })));
        assert_eq!(find(&out, "application.kept").action, Action::NoOp);
    };
    check(Created, vec![Step::Delete]);
    check(Stopped, vec![Step::Delete]);
    check(
        Started,
        vec![
            Step::Stop {
                running_jobs: 0,
                running_sessions: 0,
            },
            Step::Delete,
        ],
    );
    check(
        Starting,
        vec![
            Step::Wait { state: Starting },
            Step::Stop {
                running_jobs: 0,
                running_sessions: 0,
            },
            Step::Delete,
        ],
    );
    check(Creating, vec![Step::Wait { state: Creating }, Step::Delete]);
}

#[test]
fn destroy_deletes_everything_the_stack_owns() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let mut trusted = role("etl");
    trusted.trust_applications = vec!["etl".to_string()];
    desired.roles.insert("etl".to_string(), trusted);
    declare_repository(&mut desired, &["etl"]);
    let mut actual = deploy(&desired, &account_with_repository(None));
    actual.applications.push(foreign_application(
        "other",
        "other",
        Some(("prod", "application.other")),
    ));
    let out = plan_mode(&desired, &actual, Mode::Destroy);
    assert!(!out.diagnostics.has_errors(), "{:#?}", out.diagnostics);
    let summary: Vec<(String, Action, Reason)> = out
        .changes
        .iter()
        .map(|c| (c.address.to_string(), c.action, c.reason))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("application.etl".to_string(), Action::Delete, Reason::Destroy),
            ("role.etl".to_string(), Action::Delete, Reason::Destroy),
            ("repository.spark".to_string(), Action::Delete, Reason::Destroy),
        ]
    );
    assert_eq!(find(&out, "repository.spark").steps, vec![Step::DeletePolicy]);
    // After destroy, destroying again finds nothing.
    let gone = apply_changes(&actual, &out.changes);
    assert!(plan_mode(&desired, &gone, Mode::Destroy).changes.is_empty());
}

#[test]
fn destroy_honours_prevent_destroy_on_roles() {
    let mut desired = stack();
    let mut kept = role("etl");
    kept.prevent_destroy = true;
    desired.roles.insert("etl".to_string(), kept);
    let actual = deploy(&desired, &account());
    let out = plan_mode(&desired, &actual, Mode::Destroy);
    let error = diagnostic(&out, "plan.prevent-destroy");
    assert!(error.message.contains("`role.etl`"), "{error:#?}");
}

#[test]
fn tag_changes_use_the_tagging_api_and_keep_ownership_tags() {
    let mut desired = stack();
    declare(&mut desired, "etl", rich_spec("etl"));
    let deployed = deploy(&desired, &account());

    // A user tag changed in the stack.
    let mut changed = desired.clone();
    changed
        .applications
        .get_mut("etl")
        .expect("etl")
        .spec
        .tags
        .insert("team".to_string(), "platform".to_string());
    let out = plan(&changed, &deployed);
    let change = find(&out, "application.etl");
    assert_eq!((change.action, change.reason), (Action::Update, Reason::Changed));
    assert_eq!(change.steps, vec![Step::Tag]);
    assert_eq!(paths(change), vec!["tags.team"]);
    assert_eq!(
        (
            field(change, "tags.team").before.clone(),
            field(change, "tags.team").after.clone()
        ),
        (json!("data"), json!("platform"))
    );
    let target = app_target(change);
    assert!(target.update_fields.is_empty() && !target.needs_stop);
    assert_eq!(
        target.desired.as_ref().expect("desired").tags[tags::ADDRESS_TAG],
        "application.etl"
    );

    // A tag added outside emrstack is removed, and that is drift.
    let mut tagged = deployed.clone();
    observed_app(&mut tagged, "etl")
        .spec
        .tags
        .insert("owner".to_string(), "someone".to_string());
    let out = plan(&desired, &tagged);
    let change = find(&out, "application.etl");
    assert_eq!((change.action, change.reason), (Action::Update, Reason::Drift));
    assert_eq!(paths(change), vec!["tags.owner"]);
    assert!(field(change, "tags.owner").drift);
    assert_eq!(field(change, "tags.owner").after, Value::Null);
    assert_eq!(change.steps, vec![Step::Tag]);

    // Tags AWS reserves cannot be removed, so they are not a difference.
    let mut reserved = deployed.clone();
    observed_app(&mut reserved, "etl")
        .spec
        .tags
        .insert("aws:cloudformation:stack-name".to_string(), "legacy".to_string());
    assert_eq!(find(&plan(&desired, &reserved), "application.etl").action, Action::NoOp);
}

#[test]
fn a_removed_block_is_cleared() {
    // (edit removing a block, cleared path, field sent, live)
    let check = |edit: fn(&mut ApplicationSpec<DesiredImage>), path: &str, sent: ApplicationField, live: bool| {
        let mut desired = stack();
        declare(&mut desired, "etl", rich_spec("etl"));
        let actual = deploy(&desired, &account());
        edit(&mut desired.applications.get_mut("etl").expect("etl").spec);
        let out = plan(&desired, &actual);
        let change = find(&out, "application.etl");
        let cleared = field(change, path);
        assert!(!cleared.before.is_null(), "{path}");
        assert_eq!(cleared.after, Value::Null, "{path}");
        assert_eq!(cleared.live, live, "{path}");
        assert_eq!(app_target(change).update_fields, BTreeSet::from([sent]), "{path}");
        let next = apply_changes(&actual, &out.changes);
        assert_eq!(
            find(&plan(&desired, &next), "application.etl").action,
            Action::NoOp,
            "{path}"
        );
    };
    check(
        |s| s.monitoring.cloudwatch = None,
        "monitoring.cloudwatch",
        ApplicationField::Monitoring,
        false,
    );
    // Not live: the rich application has pre-initialized capacity.
    check(|s| s.image = None, "image", ApplicationField::Image, false);
    check(
        |s| s.worker_type_specifications.clear(),
        "worker_type_specifications",
        ApplicationField::WorkerTypeSpecifications,
        false,
    );
    check(
        |s| s.initial_capacity.clear(),
        "initial_capacity",
        ApplicationField::InitialCapacity,
        false,
    );
    check(|s| s.network = None, "network", ApplicationField::Network, false);
    check(
        |s| s.runtime_configuration.clear(),
        "runtime_configuration",
        ApplicationField::RuntimeConfiguration,
        false,
    );
    check(
        |s| s.disk_encryption = None,
        "disk_encryption",
        ApplicationField::DiskEncryption,
        false,
    );
    check(
        |s| s.identity_center = None,
        "identity_center",
        ApplicationField::IdentityCenter,
        false,
    );
    check(
        |s| s.interactive = None,
        "interactive",
        ApplicationField::Interactive,
        false,
    );
}

#[test]
fn an_absent_scheduler_is_never_a_difference_on_any_release() {
    for release in ["emr-6.15.0", "emr-7.2.0", "emr-7.5.0"] {
        let mut desired = stack();
        let mut app = spec("etl");
        app.release_label = release.to_string();
        declare(&mut desired, "etl", app);
        // Created without a scheduler: nothing about it in the plan.
        let out = plan(&desired, &account());
        let create = find(&out, "application.etl");
        assert!(!paths(create).iter().any(|p| p.starts_with("scheduler")), "{release}");
        let deployed = deploy(&desired, &account());
        // Whatever AWS holds (its default, a value set elsewhere, off), it stands.
        for held in [
            None,
            Some(Scheduler::ENABLED_DEFAULTS),
            Some(Scheduler {
                max_concurrent_runs: Some(3),
                queue_timeout_minutes: Some(30),
            }),
            Some(Scheduler::DISABLED),
        ] {
            let mut actual = deployed.clone();
            observed_app(&mut actual, "etl").spec.scheduler = held.clone();
            let out = plan(&desired, &actual);
            assert_eq!(find(&out, "application.etl").action, Action::NoOp, "{release} {held:?}");
            assert!(out.diagnostics.is_empty(), "{release} {held:?}: {:?}", out.diagnostics);
        }
    }
    // The service turns queueing on by default from emr-7.3.0.
    let mut desired = stack();
    let mut app = spec("etl");
    app.release_label = "emr-7.5.0".to_string();
    declare(&mut desired, "etl", app);
    let deployed = deploy(&desired, &account());
    assert_eq!(
        observed_app(&mut deployed.clone(), "etl").spec.scheduler,
        Some(Scheduler::ENABLED_DEFAULTS)
    );
}

#[test]
fn scheduler_false_turns_queueing_off_and_the_plan_says_so() {
    let mut desired = stack();
    let mut app = spec("etl");
    app.release_label = "emr-7.5.0".to_string();
    declare(&mut desired, "etl", app);
    let actual = deploy(&desired, &account());
    desired.applications.get_mut("etl").expect("etl").spec.scheduler = Some(Scheduler::DISABLED);
    let out = plan(&desired, &actual);
    let change = find(&out, "application.etl");
    assert_eq!(change.action, Action::Update);
    let scheduler = field(change, "scheduler");
    assert_eq!(
        (scheduler.before.clone(), scheduler.after.clone()),
        (
            json!({"max_concurrent_runs": 15, "queue_timeout_minutes": 360}),
            json!(false)
        )
    );
    assert!(!scheduler.live, "turning queueing off needs a stopped application");
    assert!(
        change.notes.iter().any(|n| n.contains("job queueing is turned off")),
        "{:?}",
        change.notes
    );
    let next = apply_changes(&actual, &out.changes);
    assert_eq!(observed_app(&mut next.clone(), "etl").spec.scheduler, None);
    assert_eq!(find(&plan(&desired, &next), "application.etl").action, Action::NoOp);
}

#[test]
fn a_scheduler_the_stack_stops_setting_is_kept_with_a_warning() {
    let mut desired = stack();
    let mut app = spec("etl");
    app.scheduler = Some(Scheduler {
        max_concurrent_runs: Some(5),
        queue_timeout_minutes: None,
    });
    declare(&mut desired, "etl", app);
    let actual = deploy(&desired, &account());
    desired.applications.get_mut("etl").expect("etl").spec.scheduler = None;
    let out = plan(&desired, &actual);
    let change = find(&out, "application.etl");
    // Only the record is refreshed: it then says the stack leaves it to AWS.
    assert!(change.fields.is_empty(), "{change:#?}");
    let warning = diagnostic(&out, "plan.scheduler-kept");
    assert!(
        warning
            .message
            .contains("keeps job queueing on with `max_concurrent_runs = 5`"),
        "{}",
        warning.message
    );
    let next = apply_changes(&actual, &out.changes);
    let again = plan(&desired, &next);
    assert_eq!(find(&again, "application.etl").action, Action::NoOp);
    assert!(again.diagnostics.is_empty(), "warned once: {:?}", again.diagnostics);
}

/// An application with an image and no pre-initialized capacity.
fn image_app(release: &str, resolution: Option<bool>) -> ApplicationSpec<DesiredImage> {
    let mut app = spec("etl");
    app.release_label = release.to_string();
    let mut image = uri_image("111111111111.dkr.ecr.us-east-1.amazonaws.com/base:v1");
    image.application_level_digest_resolution = resolution;
    app.image = Some(image);
    app
}

#[test]
fn image_changes_are_live_without_initial_capacity_and_say_when_jobs_get_them() {
    // (release, digest resolution in the stack, new jobs wait for a restart)
    for (release, resolution, restart) in [
        ("emr-7.5.0", None, true),
        ("emr-7.5.0", Some(false), false),
        ("emr-7.14.0", None, false),
        ("emr-7.14.0", Some(true), true),
    ] {
        let mut desired = stack();
        declare(&mut desired, "etl", image_app(release, resolution));
        let mut actual = deploy(&desired, &account());
        set_state(&mut actual, "etl", ApplicationState::Started);
        let app = desired.applications.get_mut("etl").expect("etl");
        app.spec.image.as_mut().expect("image").source = ImageSource::Uri {
            uri: "111111111111.dkr.ecr.us-east-1.amazonaws.com/base:v2".to_string(),
        };
        let out = plan(&desired, &actual);
        let change = find(&out, "application.etl");
        let context = format!("{release} {resolution:?}: {change:#?}");
        assert!(field(change, "image.uri").live, "{context}");
        assert!(!app_target(change).needs_stop, "{context}");
        assert_eq!(app_target(change).image_needs_restart, restart, "{context}");
        assert_eq!(
            change.notes.iter().any(|n| n.contains("only after it is restarted")),
            restart,
            "{context}"
        );
    }
}

#[test]
fn image_changes_with_initial_capacity_stop_the_application_and_say_why() {
    let mut desired = stack();
    let mut app = image_app("emr-7.5.0", None);
    app.initial_capacity.insert(WorkerType::Driver, capacity(1, 4, 16));
    declare(&mut desired, "etl", app);
    let mut actual = deploy(&desired, &account());
    set_state(&mut actual, "etl", ApplicationState::Started);
    desired.applications.get_mut("etl").expect("etl").spec.image =
        Some(uri_image("111111111111.dkr.ecr.us-east-1.amazonaws.com/base:v2"));
    let out = plan(&desired, &actual);
    let change = find(&out, "application.etl");
    assert!(!field(change, "image.uri").live);
    let target = app_target(change);
    assert!(target.needs_stop && !target.image_needs_restart);
    assert!(
        change
            .notes
            .iter()
            .any(|n| n.contains("does not update the image of a STARTED application with pre-initialized capacity")),
        "{:?}",
        change.notes
    );
    let next = apply_changes(&actual, &out.changes);
    assert_eq!(find(&plan(&desired, &next), "application.etl").action, Action::NoOp);
}

#[test]
fn a_stop_counts_streaming_runs_and_sessions() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let mut actual = deploy(&desired, &account());
    set_state(&mut actual, "etl", ApplicationState::Started);
    let id = observed_app(&mut actual, "etl").id.clone();
    let work = crate::model::RunningWork {
        job_runs: vec![JobRun {
            id: "j1".to_string(),
            name: None,
            state: JobRunState::Running,
            mode: crate::model::JobRunMode::Streaming,
        }],
        sessions: vec![crate::model::Session {
            id: "s1".to_string(),
            name: Some("notebook".to_string()),
            state: crate::model::SessionState::Idle,
        }],
    };
    actual.running_work.insert(id, work.clone());
    desired.applications.get_mut("etl").expect("etl").spec.release_label = "emr-7.3.0".to_string();
    let out = plan(&desired, &actual);
    let change = find(&out, "application.etl");
    assert_eq!(
        change.steps[0],
        Step::Stop {
            running_jobs: 1,
            running_sessions: 1,
        }
    );
    assert_eq!(change.steps[0].describe(), "stop (1 running job, 1 session)");
    let target = app_target(change);
    assert_eq!(
        (target.running_jobs.clone(), target.running_sessions.clone()),
        (work.job_runs, work.sessions)
    );
}

#[test]
fn removing_a_default_valued_block_changes_nothing() {
    // Going back to the default is not a change when AWS already has it.
    let mut desired = stack();
    let mut with_defaults = spec("etl");
    with_defaults.auto_stop = Some(AutoStop::default());
    with_defaults.architecture = Some(Architecture::X86_64);
    declare(&mut desired, "etl", with_defaults);
    let actual = deploy(&desired, &account());
    desired.applications.get_mut("etl").expect("etl").spec = spec("etl");
    assert_eq!(find(&plan(&desired, &actual), "application.etl").action, Action::NoOp);
}

#[test]
fn an_unset_maximum_capacity_is_left_as_aws_has_it() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let mut actual = deploy(&desired, &account());
    observed_app(&mut actual, "etl").spec.maximum_capacity = Some(MaximumCapacity {
        cpu: 400,
        memory_gb: 3000,
        disk_gb: Some(20000),
    });
    assert_eq!(find(&plan(&desired, &actual), "application.etl").action, Action::NoOp);
}

#[test]
fn drift_is_told_from_configuration_changes_by_the_applied_record() {
    // (stack release, AWS release, expected reason, field drift)
    let check = |stack_release: &str, aws_release: &str, reason: Reason, drift: bool| {
        let mut desired = stack();
        declare(&mut desired, "etl", spec("etl"));
        let mut actual = deploy(&desired, &account());
        observed_app(&mut actual, "etl").spec.release_label = aws_release.to_string();
        desired.applications.get_mut("etl").expect("etl").spec.release_label = stack_release.to_string();
        let out = plan(&desired, &actual);
        let change = find(&out, "application.etl");
        assert_eq!(change.reason, reason, "{stack_release} {aws_release}");
        let release = field(change, "release_label");
        assert_eq!(release.drift, drift);
        assert_eq!(release.before, json!(aws_release));
        assert_eq!(release.after, json!(stack_release));
        assert!(change.has_drift() == drift);
    };
    check("emr-7.3.0", "emr-7.2.0", Reason::Changed, false);
    check("emr-7.2.0", "emr-7.3.0", Reason::Drift, true);
    check("emr-7.4.0", "emr-7.3.0", Reason::ChangedAndDrift, true);
}

#[test]
fn drift_and_a_change_in_different_fields_are_both_reported() {
    let mut desired = stack();
    declare(&mut desired, "etl", rich_spec("etl"));
    let mut actual = deploy(&desired, &account());
    observed_app(&mut actual, "etl").spec.auto_stop = Some(AutoStop {
        enabled: false,
        idle_timeout_minutes: 15,
    });
    desired.applications.get_mut("etl").expect("etl").spec.release_label = "emr-7.3.0".to_string();
    let out = plan(&desired, &actual);
    let change = find(&out, "application.etl");
    assert_eq!(change.reason, Reason::ChangedAndDrift);
    assert!(!field(change, "release_label").drift);
    assert!(field(change, "auto_stop.enabled").drift);
}

#[test]
fn a_record_without_a_fields_hash_counts_differences_as_changes() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let mut actual = deploy(&desired, &account());
    let app = observed_app(&mut actual, "etl");
    // A record that knows no field (as after an import of a record that
    // did not fit): proof of ownership, but no history.
    let binding = tags::binding_token(tags::Identity::of_application(&app.spec), &app.spec.tags);
    app.spec.tags.insert(tags::APPLIED_TAG.to_string(), binding);
    app.spec.release_label = "emr-7.3.0".to_string();
    let out = plan(&desired, &actual);
    let change = find(&out, "application.etl");
    assert_eq!(change.reason, Reason::Changed);
    assert!(!change.has_drift());
    // The record is written with the update.
    assert_eq!(change.steps.last(), Some(&Step::Tag));
}

#[test]
fn a_stale_record_alone_only_refreshes_the_tags() {
    // Records from before bindings (the next apply binds them) and a bound
    // one whose fields are stale.
    for stale in ["abcd=000000", "abcd=000000 1111=111111", "BOUND 1111=111111"] {
        let mut desired = stack();
        declare(&mut desired, "etl", rich_spec("etl"));
        let mut actual = deploy(&desired, &account());
        let app = observed_app(&mut actual, "etl");
        let binding = tags::binding_token(tags::Identity::of_application(&app.spec), &app.spec.tags);
        app.spec
            .tags
            .insert(tags::APPLIED_TAG.to_string(), stale.replace("BOUND", &binding));
        let out = plan(&desired, &actual);
        let change = find(&out, "application.etl");
        assert_eq!(change.action, Action::Update, "{stale:?}");
        assert!(change.fields.is_empty());
        assert_eq!(change.steps, vec![Step::Tag]);
        assert!(app_target(change).update_fields.is_empty());
        assert!(change.notes.iter().any(|n| n.contains("only the applied record tag")));
        assert_eq!(
            change.notes.iter().any(|n| n.contains("binds it to this resource")),
            !stale.starts_with("BOUND"),
            "{stale}: {:?}",
            change.notes
        );
        let next = apply_changes(&actual, &out.changes);
        assert_eq!(find(&plan(&desired, &next), "application.etl").action, Action::NoOp);
    }
}

#[test]
fn an_application_with_the_tags_but_no_record_is_not_compared() {
    // Created out of band with the ownership tags, exactly as declared:
    // emrstack cannot prove it wrote it, so it neither updates it nor
    // refreshes its record; `emrstack import` adopts it.
    let mut desired = stack();
    declare(&mut desired, "etl", rich_spec("etl"));
    let mut actual = deploy(&desired, &account());
    observed_app(&mut actual, "etl").spec.tags.remove(tags::APPLIED_TAG);
    let out = plan(&desired, &actual);
    assert!(out.diagnostics.iter().any(|d| d.code == "plan.unproven-ownership"));
    assert!(
        find_all(&out, "application.etl")
            .iter()
            .all(|c| app_target(c).current.is_none())
    );
}

#[test]
fn the_applied_record_is_stable_and_matches_the_next_plan() {
    let mut desired = stack();
    declare(&mut desired, "etl", rich_spec("etl"));
    let first = plan(&desired, &account());
    let second = plan(&desired, &account());
    let record = |out: &DiffOutput| {
        app_target(find(out, "application.etl"))
            .desired
            .as_ref()
            .and_then(|d| d.tags.get(tags::APPLIED_TAG).cloned())
            .expect("record")
    };
    assert_eq!(record(&first), record(&second));
    // Deploying (create, then AWS fills defaults) and planning again is a no-op:
    // `deploy` asserts it.
    let actual = deploy(&desired, &account());
    assert_eq!(
        actual.applications[0].spec.tags.get(tags::APPLIED_TAG),
        Some(&record(&first))
    );
}

#[test]
fn an_image_change_where_aws_reports_digest_resolution_is_not_drift() {
    // AWS fills `applicationLevelDigestResolution` from the release when the
    // stack leaves it out; that is not a change made outside emrstack.
    let mut desired = stack();
    let mut with_image = spec("etl");
    with_image.image = Some(uri_image("111111111111.dkr.ecr.us-east-1.amazonaws.com/base:v1"));
    declare(&mut desired, "etl", with_image);
    let mut actual = deploy(&desired, &account());
    observed_app(&mut actual, "etl")
        .spec
        .image
        .as_mut()
        .expect("image")
        .application_level_digest_resolution = Some(true);
    assert_eq!(find(&plan(&desired, &actual), "application.etl").action, Action::NoOp);

    desired.applications.get_mut("etl").expect("etl").spec.image =
        Some(uri_image("111111111111.dkr.ecr.us-east-1.amazonaws.com/base:v2"));
    let out = plan(&desired, &actual);
    let change = find(&out, "application.etl");
    assert_eq!(change.reason, Reason::Changed, "{change:#?}");
    assert!(!change.has_drift(), "{change:#?}");
}

#[test]
fn setting_a_maximum_capacity_aws_chose_is_a_change_not_drift() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let mut actual = deploy(&desired, &account());
    observed_app(&mut actual, "etl").spec.maximum_capacity = Some(MaximumCapacity {
        cpu: 400,
        memory_gb: 3000,
        disk_gb: None,
    });
    desired.applications.get_mut("etl").expect("etl").spec.maximum_capacity = Some(MaximumCapacity {
        cpu: 64,
        memory_gb: 256,
        disk_gb: None,
    });
    let out = plan(&desired, &actual);
    let change = find(&out, "application.etl");
    assert_eq!(change.reason, Reason::Changed, "{change:#?}");
    assert!(!change.has_drift());
}

#[test]
fn origin_of_a_field_compares_both_sides_with_the_record() {
    let applied = json!({"cpu": "4 vCPU"});
    let record = Record::decode(&encode_record(
        "0000=abcdef",
        &BTreeMap::from([("maximum_capacity".to_string(), applied.clone())]),
    ));
    let other = json!({"cpu": "8 vCPU"});
    let third = json!({"cpu": "16 vCPU"});
    let check = |desired: &Value, actual: &Value, expect: Origin| {
        assert_eq!(origin(&record, "maximum_capacity", desired, actual), expect);
    };
    check(&other, &applied, Origin::Config);
    check(&applied, &other, Origin::Drift);
    check(&other, &third, Origin::Both);
    assert_eq!(
        origin(&record, "release_label", &other, &applied),
        Origin::Unknown,
        "a field the record does not hold"
    );
    use super::application::reason_from;
    assert_eq!(reason_from(&[Origin::Config]), Reason::Changed);
    assert_eq!(reason_from(&[Origin::Unknown]), Reason::Changed);
    assert_eq!(reason_from(&[Origin::Drift]), Reason::Drift);
    assert_eq!(reason_from(&[Origin::Drift, Origin::Unknown]), Reason::ChangedAndDrift);
    assert_eq!(reason_from(&[Origin::Both]), Reason::ChangedAndDrift);
    assert_eq!(reason_from(&[]), Reason::Changed);
}

// ---------------------------------------------------------------------------
// Roles
// ---------------------------------------------------------------------------

/// The observed role a successful create of `declared` leaves (no placeholders).
fn deployed_role_of(declared: &DesiredRole) -> ObservedRole {
    let mut desired = stack();
    desired.roles.insert("r".to_string(), declared.clone());
    let actual = deploy(&desired, &account());
    actual.roles[0].clone()
}

fn read_policy() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"}]})
}

#[test]
fn role_create_lists_its_fields_and_converges() {
    let mut desired = stack();
    let mut full = role("etl-role");
    full.description = Some("ETL jobs".to_string());
    full.inline_policies.insert("read".to_string(), read_policy());
    full.managed_policy_arns
        .insert("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".to_string());
    full.permissions_boundary = Some("arn:aws:iam::111111111111:policy/boundary".to_string());
    full.tags.insert("team".to_string(), "data".to_string());
    desired.stack.tags.insert("env".to_string(), "dev".to_string());
    desired.roles.insert("etl".to_string(), full);
    let out = plan(&desired, &account());
    let change = find(&out, "role.etl");
    assert_eq!((change.action, change.reason), (Action::Create, Reason::Missing));
    assert_eq!(change.steps, vec![Step::Create]);
    assert_eq!(
        paths(change),
        vec![
            "description",
            "managed_policy_arns",
            "max_session_duration",
            "name",
            "path",
            "permissions_boundary",
            "policies.read",
            "tags",
            "trust_policy"
        ]
    );
    let tags_after = &field(change, "tags").after;
    assert_eq!(tags_after["env"], "dev");
    assert_eq!(tags_after["team"], "data");
    assert_eq!(tags_after[tags::STACK_TAG], STACK);
    assert_eq!(tags_after[tags::ADDRESS_TAG], "role.etl");
    let actual = deploy(&desired, &account());
    assert_eq!(find(&plan(&desired, &actual), "role.etl").action, Action::NoOp);
}

/// A role written before trust policies carried the stack marker plans an
/// update of its trust policy, which writes the marker: later plans then find
/// the role from `ListRoles` alone (docs/observe.md, "Roles").
#[test]
fn a_role_without_the_stack_marker_gets_it_with_an_update() {
    let mut desired = stack();
    desired.roles.insert("etl".to_string(), role("etl-role"));
    let mut actual = deploy(&desired, &account());
    let observed = observed_role(&mut actual, "etl-role");
    observed.spec.trust_policy["Statement"][0]["Sid"] = json!(crate::model::role::LEGACY_TRUST_SID);
    let change = find(&plan(&desired, &actual), "role.etl").clone();
    assert_eq!(change.action, Action::Update);
    let paths: Vec<&str> = change.fields.iter().map(|field| field.path.as_str()).collect();
    assert_eq!(paths, ["trust_policy.Statement"]);
}

#[test]
fn equivalent_policies_as_aws_returns_them_are_not_changes() {
    let mut desired = stack();
    let mut with_policy = role("etl-role");
    with_policy.inline_policies.insert("read".to_string(), read_policy());
    desired.roles.insert("etl".to_string(), with_policy);
    let mut actual = deploy(&desired, &account());
    let observed = observed_role(&mut actual, "etl-role");
    // IAM hands documents back reordered, with lists for single values.
    observed.spec.trust_policy = json!({"Statement": [{
        "Condition": {"StringEquals": {"aws:SourceAccount": [ACCOUNT]}},
        "Action": ["sts:AssumeRole"],
        "Principal": {"Service": ["emr-serverless.amazonaws.com"]},
        "Effect": "Allow",
        "Sid": crate::model::repository::statement_sid(STACK)
    }], "Version": "2012-10-17"});
    observed.spec.inline_policies.insert(
        "read".to_string(),
        json!({"Statement": {"Resource": ["arn:aws:s3:::data/*"], "Action": ["s3:GetObject"], "Effect": "allow"}, "Version": "2012-10-17"}),
    );
    assert_eq!(find(&plan(&desired, &actual), "role.etl").action, Action::NoOp);
}

#[test]
fn role_updates_name_each_changed_part() {
    // (edit of the declared role, changed paths, expected parts)
    let check = |edit: fn(&mut DesiredRole), expect_paths: &[&str], parts: &[&str]| {
        let mut base = role("etl-role");
        base.inline_policies.insert("read".to_string(), read_policy());
        base.managed_policy_arns.insert("arn:aws:iam::aws:policy/A".to_string());
        base.description = Some("first".to_string());
        base.permissions_boundary = Some("arn:aws:iam::111111111111:policy/b1".to_string());
        let mut desired = stack();
        desired.roles.insert("etl".to_string(), base);
        let actual = deploy(&desired, &account());
        edit(desired.roles.get_mut("etl").expect("etl"));
        let out = plan(&desired, &actual);
        let change = find(&out, "role.etl");
        assert_eq!(
            (change.action, change.reason),
            (Action::Update, Reason::Changed),
            "{change:#?}"
        );
        let changed_paths: Vec<&str> = paths(change);
        assert_eq!(changed_paths, expect_paths);
        let parts: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
        assert_eq!(change.steps, vec![Step::UpdateRole { parts }]);
        let target = role_target(change);
        assert!(target.current.is_some() && target.desired.is_some());
        let next = apply_changes(&actual, &out.changes);
        assert_eq!(find(&plan(&desired, &next), "role.etl").action, Action::NoOp);
    };
    check(
        |r| {
            r.inline_policies.insert("write".to_string(), read_policy());
        },
        &["policies.write"],
        &["inline policy `write`"],
    );
    check(
        |r| {
            r.inline_policies.remove("read");
        },
        &["policies.read"],
        &["inline policy `read`"],
    );
    check(
        |r| {
            r.inline_policies.insert(
                "read".to_string(),
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other/*"}]}),
            );
        },
        &["policies.read.Statement"],
        &["inline policy `read`"],
    );
    check(
        |r| {
            r.managed_policy_arns.insert("arn:aws:iam::aws:policy/B".to_string());
        },
        &["managed_policy_arns"],
        &["managed policy attachments"],
    );
    check(
        |r| r.managed_policy_arns.clear(),
        &["managed_policy_arns"],
        &["managed policy attachments"],
    );
    check(
        |r| r.permissions_boundary = Some("arn:aws:iam::111111111111:policy/b2".to_string()),
        &["permissions_boundary"],
        &["permissions boundary"],
    );
    check(
        |r| r.permissions_boundary = None,
        &["permissions_boundary"],
        &["permissions boundary"],
    );
    check(
        |r| r.description = Some("second".to_string()),
        &["description"],
        &["role settings"],
    );
    check(
        |r| {
            r.description = None;
            r.max_session_duration = 7200;
        },
        &["description", "max_session_duration"],
        &["role settings"],
    );
    check(
        |r| {
            r.tags.insert("team".to_string(), "data".to_string());
        },
        &["tags.team"],
        &["tags"],
    );
}

#[test]
fn a_role_name_or_path_change_replaces_it() {
    let check = |edit: fn(&mut DesiredRole), forcing: &str, prevent_destroy: bool| {
        let mut desired = stack();
        let mut declared = role("etl-role");
        declared.prevent_destroy = prevent_destroy;
        desired.roles.insert("etl".to_string(), declared);
        let actual = deploy(&desired, &account());
        edit(desired.roles.get_mut("etl").expect("etl"));
        let out = plan(&desired, &actual);
        let change = find(&out, "role.etl");
        assert_eq!((change.action, change.reason), (Action::Replace, Reason::ReplaceFields));
        // Not pinned for a path change: IAM role names are unique whatever
        // the path, so the replacement cannot be created before the old role
        // is deleted. Which order the executor should use is still open.
        if forcing == "name" {
            assert_eq!(change.steps, vec![Step::CreateReplacement, Step::DeleteReplaced]);
        }
        assert!(field(change, forcing).forces_replacement);
        assert_eq!(out.diagnostics.has_errors(), prevent_destroy);
        if prevent_destroy {
            diagnostic(&out, "plan.prevent-destroy");
        }
    };
    check(|r| r.name = "etl-role-2".to_string(), "name", false);
    check(|r| r.path = "/jobs/".to_string(), "path", false);
    check(|r| r.name = "etl-role-2".to_string(), "name", true);
}

#[test]
fn a_role_removed_from_the_stack_is_deleted() {
    let mut desired = stack();
    desired.roles.insert("etl".to_string(), role("etl-role"));
    let actual = deploy(&desired, &account());
    let out = plan(&stack(), &actual);
    let change = find(&out, "role.etl");
    assert_eq!(
        (change.action, change.reason),
        (Action::Delete, Reason::RemovedFromStack)
    );
    assert_eq!(change.steps, vec![Step::Delete]);
    assert!(change.fields.iter().all(|f| f.after.is_null()));
}

#[test]
fn role_placeholders_are_unknown_after_apply() {
    // A new application: the role is created with a placeholder.
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let mut trusted = role("etl-role");
    trusted.trust_applications = vec!["etl".to_string()];
    desired.roles.insert("etl".to_string(), trusted);
    let out = plan(&desired, &account());
    let change = find(&out, "role.etl");
    assert_eq!(change.action, Action::Create);
    assert!(field(change, "trust_policy").after_unknown);
    assert!(!field(change, "name").after_unknown);
    assert_eq!(change.references(), vec!["etl".to_string()]);
    let actual = deploy(&desired, &account());

    // The application is replaced: the role moves to the new ARN.
    desired.applications.get_mut("etl").expect("etl").spec.name = "etl-2".to_string();
    let out = plan(&desired, &actual);
    let change = find(&out, "role.etl");
    assert_eq!(
        (change.action, change.reason),
        (Action::Update, Reason::ReferenceReplaced)
    );
    assert!(change.fields.iter().all(|f| f.after_unknown));
    assert!(!change.has_drift());
    assert_eq!(
        change.steps,
        vec![Step::UpdateRole {
            parts: vec!["trust policy".to_string()]
        }]
    );
    let next = apply_changes(&actual, &out.changes);
    assert!(plan(&desired, &next).changes.iter().all(|c| c.action == Action::NoOp));
}

#[test]
fn role_drift_is_told_by_its_record() {
    let mut desired = stack();
    let mut declared = role("etl-role");
    declared.description = Some("first".to_string());
    desired.roles.insert("etl".to_string(), declared);
    let mut actual = deploy(&desired, &account());
    observed_role(&mut actual, "etl-role").spec.description = Some("edited in the console".to_string());
    let out = plan(&desired, &actual);
    let change = find(&out, "role.etl");
    assert_eq!((change.action, change.reason), (Action::Update, Reason::Drift));
    assert!(field(change, "description").drift);

    // With a record that knows no field, the same difference is a change.
    let observed = observed_role(&mut actual, "etl-role");
    let binding = tags::binding_token(tags::Identity::of_role(&observed.spec), &observed.spec.tags);
    observed.spec.tags.insert(tags::APPLIED_TAG.to_string(), binding);
    let change = find(&plan(&desired, &actual), "role.etl").clone();
    assert_eq!(change.reason, Reason::Changed);
    assert!(!change.has_drift());

    // A stale record alone refreshes the tags.
    let mut stale = deploy(&desired, &account());
    observed_role(&mut stale, "etl-role")
        .spec
        .tags
        .insert(tags::APPLIED_TAG.to_string(), "abcd=000000".to_string());
    let out = plan(&desired, &stale);
    let change = find(&out, "role.etl");
    assert_eq!(change.action, Action::Update);
    assert!(change.fields.is_empty());
    assert_eq!(
        change.steps,
        vec![Step::UpdateRole {
            parts: vec!["tags".to_string()]
        }]
    );
}

// ---------------------------------------------------------------------------
// Repositories
// ---------------------------------------------------------------------------

fn foreign_statement() -> Value {
    json!({"Sid": "Team", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": "ecr:BatchGetImage"})
}

#[test]
fn repository_statement_is_created_updated_and_deleted() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    declare(&mut desired, "adhoc", spec("adhoc"));
    declare_repository(&mut desired, &["etl"]);
    let out = plan(&desired, &account_with_repository(None));
    let change = find(&out, "repository.spark");
    assert_eq!((change.action, change.reason), (Action::Create, Reason::Missing));
    assert_eq!(change.steps, vec![Step::SetPolicy]);
    assert!(change.fields.iter().any(|f| f.after_unknown));
    assert_eq!(change.references(), vec!["etl".to_string()]);
    let actual = deploy(&desired, &account_with_repository(None));

    // Another (existing) application: the statement is updated with its ARN.
    declare_repository(&mut desired, &["etl", "adhoc"]);
    let out = plan(&desired, &actual);
    let change = find(&out, "repository.spark");
    assert_eq!((change.action, change.reason), (Action::Update, Reason::Changed));
    assert!(change.fields.iter().all(|f| !f.after_unknown));
    let statement = repository_target(change).statement.as_ref().expect("statement");
    assert_eq!(
        statement["Condition"]["StringEquals"]["aws:SourceArn"],
        json!([application_arn("adhoc-1"), application_arn("etl-1")])
    );
    let actual = apply_changes(&actual, &out.changes);

    // No application any more: the statement goes, and with it the policy.
    declare_repository(&mut desired, &[]);
    let out = plan(&desired, &actual);
    let change = find(&out, "repository.spark");
    assert_eq!(change.action, Action::Delete);
    assert_eq!(change.steps, vec![Step::DeletePolicy]);
    assert_eq!(repository_target(change).statement, None);
    let actual = apply_changes(&actual, &out.changes);
    assert_eq!(actual.repositories[REPO].policy, None);
    assert!(find_all(&plan(&desired, &actual), "repository.spark").is_empty());
}

#[test]
fn foreign_statements_are_kept() {
    let foreign_policy = json!({"Version": "2012-10-17", "Statement": [foreign_statement()]});
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    declare_repository(&mut desired, &["etl"]);
    let actual = deploy(&desired, &account_with_repository(Some(foreign_policy.clone())));
    let policy = actual.repositories[REPO].policy.clone().expect("policy");
    assert_eq!(repository::statements(&policy).len(), 2);
    assert_eq!(repository::statements(&policy)[0], &foreign_statement());

    // Up to date with a foreign statement next to ours: a no-op.
    let out = plan(&desired, &actual);
    assert_eq!(find(&out, "repository.spark").action, Action::NoOp);

    // Removing ours keeps the foreign one: the policy is set, not deleted.
    declare_repository(&mut desired, &[]);
    let out = plan(&desired, &actual);
    let change = find(&out, "repository.spark");
    assert_eq!(change.action, Action::Delete);
    assert_eq!(change.steps, vec![Step::SetPolicy]);
    assert!(
        change.notes.iter().any(|n| n.contains("1 other statement")),
        "{:?}",
        change.notes
    );
    let next = apply_changes(&actual, &out.changes);
    assert_eq!(next.repositories[REPO].policy, Some(foreign_policy));
}

#[test]
fn an_undeclared_repository_holding_our_statement_loses_it() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    declare_repository(&mut desired, &["etl"]);
    let actual = deploy(&desired, &account_with_repository(None));
    desired.repositories.clear();
    let out = plan(&desired, &actual);
    let change = find(&out, &format!("repository.{REPO}"));
    assert_eq!(
        (change.action, change.reason),
        (Action::Delete, Reason::RemovedFromStack)
    );
    assert_eq!(change.steps, vec![Step::DeletePolicy]);
    // A repository with only foreign statements is none of our business.
    let mut foreign = account_with_repository(Some(
        json!({"Version": "2012-10-17", "Statement": [foreign_statement()]}),
    ));
    foreign.applications = actual.applications.clone();
    assert!(find_all(&plan(&desired, &foreign), &format!("repository.{REPO}")).is_empty());
}

#[test]
fn a_missing_repository_is_an_error() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    declare_repository(&mut desired, &["etl"]);
    let out = plan(&desired, &account());
    let error = diagnostic(&out, "repository.not-found");
    assert!(error.is_error());
    assert_eq!(error.subject.as_ref().expect("subject").address, "repository.spark");
    assert!(find_all(&out, "repository.spark").is_empty());
    // Destroy does not care.
    assert!(!codes(&plan_mode(&desired, &account(), Mode::Destroy)).contains(&"repository.not-found".to_string()));
}

#[test]
fn a_replaced_application_moves_the_repository_statement() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    declare_repository(&mut desired, &["etl"]);
    let actual = deploy(&desired, &account_with_repository(None));
    desired.applications.get_mut("etl").expect("etl").spec.name = "etl-2".to_string();
    let out = plan(&desired, &actual);
    let change = find(&out, "repository.spark");
    assert_eq!(
        (change.action, change.reason),
        (Action::Update, Reason::ReferenceReplaced)
    );
    assert_eq!(change.steps, vec![Step::SetPolicy]);
}

// ---------------------------------------------------------------------------
// Network checks
// ---------------------------------------------------------------------------

fn subnet(id: &str, vpc: &str, zone: &str, zone_id: &str, free: u32) -> SubnetInfo {
    SubnetInfo {
        id: id.to_string(),
        vpc_id: vpc.to_string(),
        availability_zone: zone.to_string(),
        availability_zone_id: zone_id.to_string(),
        cidr_block: "10.0.0.0/24".to_string(),
        available_ip_address_count: free,
    }
}

fn security_group(id: &str, vpc: &str) -> SecurityGroupInfo {
    SecurityGroupInfo {
        id: id.to_string(),
        vpc_id: vpc.to_string(),
        name: id.to_string(),
    }
}

#[test]
fn networks_are_checked_against_ec2() {
    // (subnets, groups, maximum vCPU and worker vCPU of the application, expected codes)
    type Case<'a> = (
        Vec<SubnetInfo>,
        Vec<SecurityGroupInfo>,
        Option<(u32, Option<u32>)>,
        &'a [&'a str],
    );
    let a = subnet("subnet-a", "vpc-1", "us-east-1a", "use1-az1", 250);
    let b = subnet("subnet-b", "vpc-1", "us-east-1b", "use1-az2", 250);
    let other_vpc = subnet("subnet-b", "vpc-2", "us-east-1b", "use1-az2", 250);
    let unsupported = subnet("subnet-b", "vpc-1", "us-east-1c", "use1-az3", 250);
    let small = subnet("subnet-b", "vpc-1", "us-east-1b", "use1-az2", 10);
    let sg = security_group("sg-1", "vpc-1");
    let sg_other = security_group("sg-1", "vpc-2");
    let cases: Vec<Case> = vec![
        (vec![a.clone(), b.clone()], vec![sg.clone()], Some((64, None)), &[]),
        (
            vec![a.clone()],
            vec![sg.clone()],
            None,
            &["network.subnet-not-found", "network.single-zone"],
        ),
        (
            vec![a.clone(), b.clone()],
            vec![],
            None,
            &["network.security-group-not-found"],
        ),
        (
            vec![a.clone(), other_vpc],
            vec![sg.clone()],
            None,
            &["network.mixed-vpcs"],
        ),
        (
            vec![a.clone(), b.clone()],
            vec![sg_other],
            None,
            &["network.mixed-vpcs"],
        ),
        (
            vec![a.clone(), unsupported],
            vec![sg.clone()],
            None,
            &["network.unsupported-zone"],
        ),
        // 64 vCPU of 4-vCPU workers is 16 workers: more than 10 free addresses.
        (
            vec![a.clone(), small.clone()],
            vec![sg.clone()],
            Some((64, None)),
            &["network.subnet-too-small"],
        ),
        // With 8-vCPU workers it is 8 workers, which fit.
        (
            vec![a.clone(), small.clone()],
            vec![sg.clone()],
            Some((64, Some(8))),
            &[],
        ),
        // 16 vCPU of 1-vCPU workers is 16 workers.
        (
            vec![a.clone(), small],
            vec![sg.clone()],
            Some((16, Some(1))),
            &["network.subnet-too-small"],
        ),
    ];
    for (subnets, groups, maximum, expect) in cases {
        let mut desired = stack();
        desired.networks.insert(
            "private".to_string(),
            DesiredNetwork {
                subnet_ids: vec!["subnet-a".to_string(), "subnet-b".to_string()],
                security_group_ids: vec!["sg-1".to_string()],
            },
        );
        let mut app = spec("etl");
        app.network = Some(NetworkConfiguration {
            subnet_ids: vec!["subnet-a".to_string(), "subnet-b".to_string()],
            security_group_ids: vec!["sg-1".to_string()],
        });
        if let Some((cpu, worker_cpu)) = maximum {
            app.maximum_capacity = Some(MaximumCapacity {
                cpu,
                memory_gb: cpu * 4,
                disk_gb: None,
            });
            if let Some(worker_cpu) = worker_cpu {
                app.initial_capacity
                    .insert(WorkerType::Executor, capacity(1, worker_cpu, worker_cpu * 4));
            }
        }
        declare(&mut desired, "etl", app);
        desired.applications.get_mut("etl").expect("etl").network = Some("private".to_string());
        let mut actual = account();
        for subnet in &subnets {
            actual.subnets.insert(subnet.id.clone(), subnet.clone());
        }
        for group in &groups {
            actual.security_groups.insert(group.id.clone(), group.clone());
        }
        let out = plan(&desired, &actual);
        let mut found = codes(&out);
        found.dedup();
        assert_eq!(found, expect, "{subnets:?} {groups:?} {maximum:?}");
        for diagnostic in out.diagnostics.iter() {
            assert_eq!(diagnostic.subject.as_ref().expect("subject").address, "network.private");
            let warning = matches!(
                diagnostic.code.as_str(),
                "network.single-zone" | "network.subnet-too-small"
            );
            assert_eq!(!diagnostic.is_error(), warning, "{diagnostic:#?}");
        }
    }
}

#[test]
fn unsupported_zones_name_the_supported_ones() {
    let mut desired = stack();
    desired.networks.insert(
        "private".to_string(),
        DesiredNetwork {
            subnet_ids: vec!["subnet-c".to_string()],
            security_group_ids: Vec::new(),
        },
    );
    let mut actual = account();
    actual.subnets.insert(
        "subnet-c".to_string(),
        subnet("subnet-c", "vpc-1", "us-east-1c", "use1-az3", 250),
    );
    let out = plan(&desired, &actual);
    let error = diagnostic(&out, "network.unsupported-zone");
    assert!(error.message.contains("use1-az3"), "{}", error.message);
    assert!(error.help.as_deref().unwrap_or_default().contains("use1-az1"));
    assert_eq!(error.subject.as_ref().expect("subject").path, "subnet_ids[0]");
    // Another region has no such restriction.
    actual.region = "eu-west-1".to_string();
    assert!(!codes(&plan(&desired, &actual)).contains(&"network.unsupported-zone".to_string()));
}

#[test]
fn renaming_a_role_key_keeps_the_role_it_names() {
    // IAM role names are unique in an account: creating `etl-role` again
    // under the new key would fail while the old key's role exists.
    let mut desired = stack();
    desired.roles.insert("old".to_string(), role("etl-role"));
    let actual = deploy(&desired, &account());
    let declared = desired.roles.remove("old").expect("old");
    desired.roles.insert("new".to_string(), declared);
    let out = plan(&desired, &actual);
    let summary: Vec<(String, Action)> = out.changes.iter().map(|c| (c.address.to_string(), c.action)).collect();
    assert_eq!(summary, vec![("role.new".to_string(), Action::Update)]);
    let change = find(&out, "role.new");
    assert_eq!(paths(change), vec![format!("tags.{}", tags::ADDRESS_TAG)]);
    assert_eq!(
        field(change, &format!("tags.{}", tags::ADDRESS_TAG)).after,
        json!("role.new")
    );
    let next = apply_changes(&actual, &out.changes);
    assert!(plan(&desired, &next).changes.iter().all(|c| c.action == Action::NoOp));

    // While the old key is still declared, it keeps its role.
    let mut both = desired.clone();
    both.roles.insert("old".to_string(), role("etl-role"));
    let out = plan(&both, &actual);
    assert_eq!(find(&out, "role.old").action, Action::NoOp);
    assert_eq!(find(&out, "role.new").action, Action::Create);
}

#[test]
fn removing_maximum_capacity_warns_that_aws_keeps_it() {
    // docs/api-semantics.md: `maximumCapacity` cannot be cleared, so
    // emrstack warns instead of planning a change it cannot make.
    let mut desired = stack();
    declare(&mut desired, "etl", rich_spec("etl"));
    let actual = deploy(&desired, &account());
    desired.applications.get_mut("etl").expect("etl").spec.maximum_capacity = None;
    let out = plan(&desired, &actual);
    let warning = diagnostic(&out, "plan.maximum-capacity-kept");
    assert!(!warning.is_error());
    assert!(warning.message.contains("64 vCPU"), "{}", warning.message);
    assert_eq!(warning.subject.as_ref().expect("subject").path, "maximum_capacity");
    // Nothing can be sent; only the record learns the stack no longer sets it.
    let change = find(&out, "application.etl");
    assert!(change.fields.is_empty(), "{change:#?}");
    assert_eq!(change.steps, vec![Step::Tag]);
    // Once recorded, the warning is not repeated.
    let next = apply_changes(&actual, &out.changes);
    let again = plan(&desired, &next);
    assert!(again.diagnostics.is_empty(), "{:#?}", again.diagnostics);
    assert_eq!(find(&again, "application.etl").action, Action::NoOp);
    // A capacity the stack never set is not worth a warning.
    let mut never = stack();
    declare(&mut never, "etl", spec("etl"));
    let mut chosen = deploy(&never, &account());
    observed_app(&mut chosen, "etl").spec.maximum_capacity = Some(MaximumCapacity {
        cpu: 400,
        memory_gb: 3000,
        disk_gb: None,
    });
    assert!(plan(&never, &chosen).diagnostics.is_empty());
}

#[test]
fn an_existing_application_whose_image_cannot_be_resolved_is_left_alone() {
    let mut desired = stack();
    let mut with_image = spec("etl");
    with_image.image = Some(repository_image("v1", true));
    declare(&mut desired, "etl", with_image);
    declare_repository(&mut desired, &["etl"]);
    let actual = deploy(&desired, &account_with_repository(None));
    desired.applications.get_mut("etl").expect("etl").spec.image = Some(repository_image("v9", true));
    let out = plan(&desired, &actual);
    assert_eq!(codes(&out), vec!["image.tag-not-found"]);
    assert!(find_all(&out, "application.etl").is_empty(), "{:#?}", out.changes);
}

#[test]
fn a_duplicate_role_under_the_same_address_is_deleted() {
    let mut desired = stack();
    desired.roles.insert("etl".to_string(), role("etl-role"));
    let mut actual = deploy(&desired, &account());
    let mut leftover = actual.roles[0].clone();
    leftover.spec.name = "etl-role-old".to_string();
    leftover.arn = format!("arn:aws:iam::{ACCOUNT}:role/etl-role-old");
    leftover.role_id = "AROA0000".to_string();
    rebind_role(&mut leftover);
    actual.roles.push(leftover);
    let out = plan(&desired, &actual);
    let changes = find_all(&out, "role.etl");
    let summary: Vec<(Action, Reason, &str)> = changes
        .iter()
        .map(|c| {
            let current = role_target(c).current.as_ref().expect("current");
            (c.action, c.reason, current.spec.name.as_str())
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (Action::NoOp, Reason::UpToDate, "etl-role"),
            (Action::Delete, Reason::Duplicate, "etl-role-old")
        ]
    );
}

#[test]
fn hive_applications_round_trip_too() {
    let mut desired = stack();
    let mut hive: ApplicationSpec<DesiredImage> = ApplicationSpec::new("warehouse", Engine::Hive, "emr-7.2.0");
    hive.initial_capacity.insert(WorkerType::HiveDriver, capacity(1, 2, 8));
    hive.initial_capacity.insert(WorkerType::TezTask, capacity(4, 4, 16));
    hive.worker_type_specifications.insert(
        WorkerType::TezTask,
        uri_image("111111111111.dkr.ecr.us-east-1.amazonaws.com/tez:v1"),
    );
    hive.runtime_configuration = vec![configuration("hive-site", &[("hive.exec.parallel", "true")])];
    declare(&mut desired, "warehouse", hive);
    let out = plan(&desired, &account());
    let change = find(&out, "application.warehouse");
    assert!(paths(change).contains(&"worker_type_specifications"));
    assert_eq!(
        field(change, "initial_capacity").after["tez_task"]["worker_count"],
        json!(4)
    );
    deploy(&desired, &account());
}

#[test]
fn a_terminated_application_counts_as_gone() {
    // GetApplication can return an application deleted since it was listed;
    // TERMINATED accepts neither updates nor deletion.
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let mut actual = deploy(&desired, &account());
    set_state(&mut actual, "etl", ApplicationState::Terminated);
    let out = plan(&desired, &actual);
    let changes = find_all(&out, "application.etl");
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(changes[0].action, Action::Create);
    assert!(plan(&stack(), &actual).changes.is_empty());
}

#[test]
fn a_role_whose_record_does_not_fit_in_a_tag_still_converges() {
    let mut desired = stack();
    let mut large = role("etl-role");
    for i in 0..20 {
        large.inline_policies.insert(format!("p{i:02}"), read_policy());
    }
    desired.roles.insert("etl".to_string(), large);
    let actual = deploy(&desired, &account());
    // The record keeps the fields that fit, and still proves ownership.
    let record = &actual.roles[0].spec.tags[tags::APPLIED_TAG];
    assert!(record.len() <= 256 && tags::is_applied_record(record), "{record}");
    // Fields left out of the record cannot be told from drift: a change.
    let mut edited = actual.clone();
    // `policies.p19` sorts after the tokens that fit.
    observed_role(&mut edited, "etl-role").spec.inline_policies.insert(
        "p19".to_string(),
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
    );
    let change = find(&plan(&desired, &edited), "role.etl").clone();
    assert_eq!((change.action, change.reason), (Action::Update, Reason::Changed));
}

/// An apply killed between CreateRole and PutRolePolicy leaves the role
/// with the mark of a creation under way: the next plan says so.
#[test]
fn a_role_whose_creation_did_not_finish_says_so() {
    let mut desired = stack();
    let mut declared = role("etl-role");
    declared.inline_policies.insert("read".to_string(), read_policy());
    desired.roles.insert("etl".to_string(), declared);
    let mut actual = deploy(&desired, &account());
    let observed = observed_role(&mut actual, "etl-role");
    observed.spec.inline_policies.clear();
    observed
        .spec
        .tags
        .insert(tags::APPLIED_TAG.to_string(), tags::APPLIED_CREATING.to_string());
    let out = plan(&desired, &actual);
    let change = find(&out, "role.etl");
    assert_eq!((change.action, change.reason), (Action::Update, Reason::Unfinished));
    assert_eq!(
        change.reason.describe(),
        "the previous apply did not finish (or is still running)"
    );
    assert!(
        change.notes.iter().any(|n| n.contains("stopped before it finished")),
        "{change:#?}"
    );
    let next = apply_changes(&actual, &out.changes);
    assert_eq!(find(&plan(&desired, &next), "role.etl").action, Action::NoOp);
}

/// IAM role names are unique regardless of case: an unmanaged `OWN2-ETL`
/// takes the name `own2-etl`, which IAM would refuse to create at apply time.
#[test]
fn a_role_name_taken_in_another_case_is_a_conflict() {
    let mut desired = stack();
    desired.roles.insert("etl".to_string(), role("own2-etl"));
    let mut actual = account();
    let mut foreign = deployed_role_of(&role("OWN2-ETL"));
    foreign.spec.tags.clear();
    actual.roles.push(foreign);
    let out = plan(&desired, &actual);
    let conflicts: Vec<&Diagnostic> = out.diagnostics.iter().filter(|d| d.code == "plan.conflict").collect();
    assert_eq!(conflicts.len(), 1, "{:#?}", out.diagnostics);
    assert!(
        conflicts[0].message.contains("role `OWN2-ETL`"),
        "{}",
        conflicts[0].message
    );
}

/// A declared role of the stack without the stack's marker in its trust
/// policy (imported, or the marker removed by hand) is found by its name
/// while declared, but would not be found once removed from the stack: the
/// plan writes the marker and warns to apply it first. A marked role, or
/// one with emrstack's trust policy from before markers, is found either
/// way.
#[test]
fn a_declared_role_without_the_marker_is_updated_with_a_warning() {
    let mut desired = stack();
    desired.roles.insert("etl".to_string(), role("etl-role"));
    let deployed = deploy(&desired, &account());
    let warned = |actual: &Actual| {
        plan(&desired, actual)
            .diagnostics
            .iter()
            .any(|d| d.code == "plan.role-unmarked")
    };
    assert!(!warned(&deployed));
    let mut legacy = deployed.clone();
    legacy.roles[0].spec.trust_policy["Statement"][0]["Sid"] = json!(crate::model::role::LEGACY_TRUST_SID);
    assert!(!warned(&legacy));

    let mut imported = deployed.clone();
    imported.roles[0].spec.trust_policy = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "emr-serverless.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let out = plan(&desired, &imported);
    let warning = out
        .diagnostics
        .iter()
        .find(|d| d.code == "plan.role-unmarked")
        .expect("a warning");
    assert!(!warning.is_error());
    assert!(
        warning.message.contains("role `etl-role` is `role.etl`")
            && warning
                .help
                .as_deref()
                .unwrap_or_default()
                .contains("apply before removing `role.etl`"),
        "{warning:?}"
    );
    let change = find(&out, "role.etl");
    assert_eq!(change.action, Action::Update);
    assert!(
        paths(change).iter().any(|p| p.starts_with("trust_policy")),
        "{change:#?}"
    );
    // Once applied, the marker is there and the warning gone.
    let next = apply_changes(&imported, &out.changes);
    assert!(!warned(&next));
}
