//! Tests of the comparison: normalisation, policy equivalence, resolution,
//! and the changes of applications, roles and repositories.
//!
//! Most tests run the whole of [`diff`] on a Desired and an Actual built
//! here, and every run is checked against the invariants the executor relies
//! on (see [`check_invariants`]). [`apply_changes`] runs the executor on a
//! `FakeCloud` holding the Actual and reads the account back (server
//! defaults filled in, new IDs given out), so tests can start from
//! "deployed" and check that planning again finds nothing to do.
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

mod applications;
mod networks;
mod normalization;
mod policies;
mod repositories;
mod resolution;
mod roles;

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
        trust_policy: None,
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

/// The Actual after a successful apply of `changes`: the real executor
/// (`apply::execute`) run on a `FakeCloud` holding `actual`, and the
/// account read back from it.
pub(crate) fn apply_changes(actual: &Actual, changes: &[Change]) -> Actual {
    execute_on_fake(actual, changes, None)
}

/// [`apply_changes`]; with `desired`, also checks that the planning driver
/// (`planning::plan`, observing the fake as `emrstack plan` does) then
/// finds nothing to do.
fn execute_on_fake(actual: &Actual, changes: &[Change], desired: Option<&Desired>) -> Actual {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let cloud = crate::cloud::fake::FakeCloud::from_actual(actual);
        let graph = crate::graph::build(changes).unwrap_or_else(|cycle| panic!("{cycle:?}"));
        let plan = crate::plan::Plan::new(&stack(), actual, Mode::Apply, changes.to_vec(), &graph, Vec::new());
        let report = crate::apply::execute(
            &cloud,
            &plan,
            &crate::apply::ApplyOptions::default(),
            &crate::apply::SilentObserver,
        )
        .await;
        assert!(report.is_success(), "{:#?}", report.outcomes);
        if let Some(desired) = desired {
            let again = crate::planning::plan_without_errors(&cloud, desired, Mode::Apply).await;
            let pending: Vec<String> = again
                .actionable()
                .map(|change| format!("{} {} {:?}", change.action, change.address, change.fields))
                .collect();
            assert!(
                pending.is_empty(),
                "planning the fake after apply is not empty: {pending:#?}"
            );
        }
        cloud.read_back(actual)
    })
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

/// Plans and applies `desired` onto `actual` (the executor on a
/// `FakeCloud`), checks that planning again finds nothing to do, both on
/// the Actual read back and through the planning driver observing the
/// fake, and returns the new Actual.
pub(crate) fn deploy(desired: &Desired, actual: &Actual) -> Actual {
    let out = plan(desired, actual);
    assert!(!out.diagnostics.has_errors(), "{:#?}", out.diagnostics);
    let next = execute_on_fake(actual, &out.changes, Some(desired));
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

/// The application named `name` in `actual` (deployed by [`deploy`]).
pub(crate) fn deployed<'a>(actual: &'a Actual, name: &str) -> &'a ObservedApplication {
    actual
        .applications
        .iter()
        .find(|app| app.spec.name == name)
        .unwrap_or_else(|| panic!("no application named {name}: {:#?}", actual.applications))
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

/// An application owned by `stack` at `address`, as AWS returns it: with
/// the ownership tags and the applied record emrstack writes.
pub(super) fn foreign_application(id: &str, name: &str, owner: Option<(&str, &str)>) -> ObservedApplication {
    let mut spec: ApplicationSpec = ApplicationSpec::new(name, Engine::Spark, "emr-7.2.0");
    if let Some((stack, address)) = owner {
        spec.tags.insert(tags::STACK_TAG.to_string(), stack.to_string());
        spec.tags.insert(tags::ADDRESS_TAG.to_string(), address.to_string());
        let record = crate::diff::application::applied_record(&spec);
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

/// The observed role a successful create of `declared` leaves (no placeholders).
pub(super) fn deployed_role_of(declared: &DesiredRole) -> ObservedRole {
    let mut desired = stack();
    desired.roles.insert("r".to_string(), declared.clone());
    let actual = deploy(&desired, &account());
    actual.roles[0].clone()
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
