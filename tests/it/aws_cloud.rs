//! `AwsCloud` against the local emulator (tests/emulator): every `Cloud`
//! method through the real SDK, its retries and error classification, and
//! the client-side rate limiter; and the `ObjectStore` methods against the
//! emulator's S3 (conditional writes and deletes, a race of writers, a
//! bucket in another region, a denied action).
//!
//! Tests share one emulator and isolate themselves by account (a fresh
//! 12-digit access key each); fault rules are always scoped to the test's
//! account.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::cloud::{TEST_MAX_ATTEMPTS, connect, connect_with, sdk_config, settings, shared_emulator};
use crate::support::emulator::Emulator;
use crate::support::fixtures;
use emrstack::aws::{AwsCloud, CallEvent, Rate, RateLimits, Service};
use emrstack::cloud::fake::{FakeCloud, FakeTimings, described};
use emrstack::cloud::{Cloud, ErrorKind};
use emrstack::model::repository::{merge_statement, pull_statement, statement_sid};
use emrstack::model::role::trust_policy;
use emrstack::model::{
    ApplicationField, ApplicationSpec, ApplicationState, ApplicationUpdate, Architecture, AutoStart, AutoStop,
    CloudWatchLogging, Configuration, Delivery, DiskEncryption, DiskType, Engine, IdentityCenter, ImageConfig,
    InitialCapacity, Interactive, JobLevelCostAllocation, JobRunMode, JobRunState, ManagedPersistence, MaximumCapacity,
    Monitoring, NetworkConfiguration, ObservedApplication, PrometheusMonitoring, RoleSpec, S3Monitoring, Scheduler,
    SessionState, WorkerResources, WorkerType,
};
use serde_json::json;

// ---- helpers ------------------------------------------------------------------

/// Polls GetApplication until the application is in `state`.
async fn wait_for(cloud: &AwsCloud, id: &str, state: ApplicationState) -> ObservedApplication {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let app = cloud.get_application(id).await.expect("get_application");
        if app.state == state {
            return app;
        }
        assert!(
            Instant::now() < deadline,
            "application {id} stayed {} instead of {state}",
            app.state
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The emulator's call counts of one kind (`served`, `faulted`, `throttled`) for `key`.
fn count(emulator: &Emulator, account: &str, kind: &str, key: &str) -> u64 {
    emulator.call_counts(Some(account))[kind][key].as_u64().unwrap_or(0)
}

fn kms(name: &str) -> String {
    format!("arn:aws:kms:us-east-1:111122223333:key/{name}")
}

/// An image in an account the emulator does not hold, which it accepts unchecked.
fn foreign_image(tag: &str) -> String {
    format!("999999999999.dkr.ecr.us-east-1.amazonaws.com/spark:{tag}")
}

fn worker(cpu: u32, memory_gb: u32, disk_gb: u32, disk_type: Option<DiskType>) -> WorkerResources {
    WorkerResources {
        cpu,
        memory_gb,
        disk_gb: Some(disk_gb),
        disk_type,
    }
}

/// A Spark application with every field set to a value the emulator accepts
/// and returns unchanged (explicit disks, so no server default is filled in).
fn full_spec(name: &str) -> ApplicationSpec {
    let mut spec = ApplicationSpec::new(name, Engine::Spark, "emr-7.5.0");
    spec.architecture = Some(Architecture::Arm64);
    spec.initial_capacity = BTreeMap::from([
        (
            WorkerType::Driver,
            InitialCapacity {
                worker_count: 1,
                worker: worker(4, 16, 40, Some(DiskType::ShuffleOptimized)),
            },
        ),
        (
            WorkerType::Executor,
            InitialCapacity {
                worker_count: 4,
                worker: worker(2, 8, 20, None),
            },
        ),
    ]);
    spec.maximum_capacity = Some(MaximumCapacity {
        cpu: 64,
        memory_gb: 256,
        disk_gb: Some(1000),
    });
    spec.auto_start = Some(AutoStart { enabled: false });
    spec.auto_stop = Some(AutoStop {
        enabled: true,
        idle_timeout_minutes: 30,
    });
    spec.network = Some(NetworkConfiguration {
        subnet_ids: vec!["subnet-0a1".to_string(), "subnet-0b2".to_string()],
        security_group_ids: vec!["sg-0c3".to_string()],
    });
    spec.image = Some(ImageConfig {
        image_uri: foreign_image("7.5"),
        application_level_digest_resolution: Some(true),
    });
    spec.worker_type_specifications = BTreeMap::from([(
        WorkerType::Executor,
        ImageConfig {
            image_uri: foreign_image("exec"),
            application_level_digest_resolution: None,
        },
    )]);
    spec.runtime_configuration = vec![Configuration {
        classification: "spark-defaults".to_string(),
        properties: BTreeMap::from([("spark.executor.cores".to_string(), "2".to_string())]),
        configurations: vec![Configuration {
            classification: "export".to_string(),
            properties: BTreeMap::from([("JAVA_HOME".to_string(), "/usr/lib/jvm/java-17".to_string())]),
            configurations: Vec::new(),
        }],
    }];
    spec.monitoring = Monitoring {
        s3: Some(S3Monitoring {
            log_uri: Some("s3://logs/etl/".to_string()),
            encryption_key_arn: Some(kms("s3")),
        }),
        managed_persistence: Some(ManagedPersistence {
            enabled: false,
            encryption_key_arn: None,
        }),
        cloudwatch: Some(CloudWatchLogging {
            enabled: true,
            log_group_name: Some("/emr/etl".to_string()),
            log_stream_name_prefix: Some("etl".to_string()),
            encryption_key_arn: Some(kms("logs")),
            log_types: BTreeMap::from([(
                "SPARK_DRIVER".to_string(),
                vec!["STDOUT".to_string(), "STDERR".to_string()],
            )]),
        }),
        prometheus: Some(PrometheusMonitoring {
            remote_write_url: Some(
                "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write".to_string(),
            ),
        }),
    };
    spec.interactive = Some(Interactive {
        studio_enabled: Some(true),
        livy_endpoint_enabled: Some(true),
        session_enabled: None,
    });
    spec.scheduler = Some(Scheduler {
        max_concurrent_runs: Some(20),
        queue_timeout_minutes: Some(120),
    });
    spec.disk_encryption = Some(DiskEncryption {
        encryption_key_arn: Some(kms("disk")),
        encryption_context: BTreeMap::from([("team".to_string(), "data".to_string())]),
    });
    spec.identity_center = Some(IdentityCenter {
        instance_arn: Some("arn:aws:sso:::instance/ssoins-1234567890abcdef".to_string()),
        user_background_sessions_enabled: Some(true),
    });
    spec.job_level_cost_allocation = Some(JobLevelCostAllocation { enabled: true });
    spec.tags = BTreeMap::from([
        ("emrstack:stack".to_string(), "test".to_string()),
        ("team".to_string(), "data".to_string()),
    ]);
    spec
}

fn updatable_fields() -> BTreeSet<ApplicationField> {
    ApplicationField::ALL
        .into_iter()
        .filter(|field| field.is_updatable())
        .collect()
}

// ---- EMR Serverless -------------------------------------------------------------

/// An `ApplicationUpdate` of `fields`, from `current` to `desired`.
fn update(
    current: &ApplicationSpec,
    desired: &ApplicationSpec,
    fields: &[ApplicationField],
    delivery: Delivery,
) -> ApplicationUpdate {
    ApplicationUpdate::new(current, desired, &fields.iter().copied().collect(), delivery).expect("update")
}

#[tokio::test]
async fn application_lifecycle_round_trips_every_field() {
    let emulator = shared_emulator();
    let account = Emulator::new_account();
    let cloud = connect(emulator, &account).await;
    let spec = full_spec("etl");

    // Create with every field; the same client token returns the same application.
    let created = cloud.create_application(&spec, "create-etl-1").await.expect("create");
    let again = cloud
        .create_application(&spec, "create-etl-1")
        .await
        .expect("repeated create");
    assert_eq!(again, created);
    assert!(created.arn.contains(&account), "{}", created.arn);

    // Every field comes back as sent, with the digest resolution the
    // release implies for the image sent without one.
    let observed = wait_for(&cloud, &created.id, ApplicationState::Created).await;
    assert_eq!(observed.id, created.id);
    assert_eq!(observed.arn, created.arn);
    assert_eq!(observed.spec, described(&spec));
    let listed = cloud.list_applications().await.expect("list");
    assert!(
        listed
            .iter()
            .any(|summary| summary.id == created.id && summary.name.as_deref() == Some("etl"))
    );

    // While STARTED only the live subset may change.
    cloud.start_application(&created.id).await.expect("start");
    let current = wait_for(&cloud, &created.id, ApplicationState::Started).await.spec;
    let mut refused = spec.clone();
    refused.auto_stop = Some(AutoStop {
        enabled: true,
        idle_timeout_minutes: 60,
    });
    let err = cloud
        .update_application(
            &created.id,
            &update(&current, &refused, &[ApplicationField::AutoStop], Delivery::Live),
            "update-refused",
        )
        .await
        .expect_err("auto_stop is not updatable while STARTED");
    assert_eq!(err.kind, ErrorKind::Conflict, "{err}");
    assert_eq!(err.code.as_deref(), Some("ValidationException"));
    assert!(err.request_id.is_some(), "{err:?}");
    // The application has pre-initialized capacity: no live image change.
    let mut image = spec.clone();
    image.image = Some(ImageConfig {
        image_uri: foreign_image("7.5-patched"),
        application_level_digest_resolution: Some(true),
    });
    let err = cloud
        .update_application(
            &created.id,
            &update(&current, &image, &[ApplicationField::Image], Delivery::Live),
            "update-image-refused",
        )
        .await
        .expect_err("no image update while STARTED with initial capacity");
    assert_eq!(err.kind, ErrorKind::Conflict, "{err}");
    // The scheduler's timeout may not be named while STARTED, even unchanged.
    let mut scheduler = spec.clone();
    scheduler.scheduler = Some(Scheduler {
        max_concurrent_runs: Some(25),
        queue_timeout_minutes: Some(120),
    });
    let err = cloud
        .update_application(
            &created.id,
            &update(&current, &scheduler, &[ApplicationField::Scheduler], Delivery::Stopped),
            "update-scheduler-refused",
        )
        .await
        .expect_err("queueTimeoutMinutes is refused while STARTED");
    assert_eq!(err.kind, ErrorKind::Conflict, "{err}");
    let mut live = scheduler.clone();
    live.maximum_capacity = Some(MaximumCapacity {
        cpu: 128,
        memory_gb: 512,
        disk_gb: None,
    });
    cloud
        .update_application(
            &created.id,
            &update(
                &current,
                &live,
                &[ApplicationField::MaximumCapacity, ApplicationField::Scheduler],
                Delivery::Live,
            ),
            "update-live",
        )
        .await
        .expect("live update");
    let observed = cloud.get_application(&created.id).await.expect("get");
    assert_eq!(observed.state, ApplicationState::Started);
    assert_eq!(observed.spec.maximum_capacity, live.maximum_capacity);
    assert_eq!(observed.spec.scheduler, live.scheduler, "the queue timeout is kept");

    // After a stop every field can change.
    cloud.stop_application(&created.id).await.expect("stop");
    let current = wait_for(&cloud, &created.id, ApplicationState::Stopped).await.spec;
    let mut changed = live.clone();
    changed.release_label = "emr-7.6.0".to_string();
    changed.architecture = Some(Architecture::X86_64);
    changed.initial_capacity = BTreeMap::from([(
        WorkerType::Driver,
        InitialCapacity {
            worker_count: 2,
            worker: worker(2, 8, 30, Some(DiskType::Standard)),
        },
    )]);
    changed.auto_start = Some(AutoStart { enabled: true });
    changed.auto_stop = Some(AutoStop {
        enabled: false,
        idle_timeout_minutes: 45,
    });
    changed.network = Some(NetworkConfiguration {
        subnet_ids: vec!["subnet-0d4".to_string()],
        security_group_ids: vec!["sg-0e5".to_string(), "sg-0f6".to_string()],
    });
    // The executor's image is dropped (cleared), the driver's is new.
    changed.worker_type_specifications = BTreeMap::from([(
        WorkerType::Driver,
        ImageConfig {
            image_uri: foreign_image("driver"),
            application_level_digest_resolution: Some(false),
        },
    )]);
    changed.runtime_configuration = vec![Configuration {
        classification: "spark-defaults".to_string(),
        properties: BTreeMap::from([("spark.dynamicAllocation.enabled".to_string(), "false".to_string())]),
        configurations: Vec::new(),
    }];
    changed.monitoring.s3 = None;
    changed.monitoring.prometheus = None;
    changed.interactive = Some(Interactive {
        studio_enabled: Some(false),
        livy_endpoint_enabled: Some(true),
        session_enabled: None,
    });
    changed.scheduler = Some(Scheduler {
        max_concurrent_runs: Some(5),
        queue_timeout_minutes: Some(60),
    });
    changed.disk_encryption = Some(DiskEncryption {
        encryption_key_arn: Some(kms("disk-2")),
        encryption_context: BTreeMap::new(),
    });
    changed.job_level_cost_allocation = Some(JobLevelCostAllocation { enabled: false });
    let every: Vec<ApplicationField> = updatable_fields().into_iter().collect();
    cloud
        .update_application(
            &created.id,
            &update(&current, &changed, &every, Delivery::Stopped),
            "update-full",
        )
        .await
        .expect("full update");
    let observed = cloud.get_application(&created.id).await.expect("get");
    assert_eq!(observed.state, ApplicationState::Stopped);
    assert_eq!(observed.spec, described(&changed));

    // Every absent field is sent in its clearing form; a scheduler the
    // stack leaves out is not sent, so it stays.
    let mut bare = ApplicationSpec::new("etl", Engine::Spark, "emr-7.6.0");
    bare.maximum_capacity = changed.maximum_capacity.clone();
    bare.tags = changed.tags.clone();
    let clearing: Vec<ApplicationField> = every
        .iter()
        .copied()
        .filter(|field| *field != ApplicationField::MaximumCapacity)
        .collect();
    let current = observed.spec.clone();
    cloud
        .update_application(
            &created.id,
            &update(&current, &bare, &clearing, Delivery::Stopped),
            "update-clear",
        )
        .await
        .expect("clearing update");
    let observed = cloud.get_application(&created.id).await.expect("get");
    let mut expected = bare.clone();
    // What the clearing forms leave behind: the defaults, and the
    // `{enabled: ...}` forms the service stores as sent.
    expected.architecture = Some(Architecture::X86_64);
    expected.auto_start = Some(AutoStart::default());
    expected.auto_stop = Some(AutoStop::default());
    expected.monitoring = Monitoring {
        managed_persistence: Some(ManagedPersistence {
            enabled: true,
            encryption_key_arn: None,
        }),
        cloudwatch: Some(CloudWatchLogging::default()),
        ..Monitoring::default()
    };
    // emr-7.6.0 has no sessions: the clearing form does not name them.
    expected.interactive = Some(Interactive {
        studio_enabled: Some(false),
        livy_endpoint_enabled: Some(false),
        session_enabled: None,
    });
    expected.scheduler = changed.scheduler.clone();
    // Nor Identity Center (emr-7.8.0): its clearing form is never sent.
    expected.identity_center = changed.identity_center.clone();
    expected.job_level_cost_allocation = Some(JobLevelCostAllocation { enabled: false });
    assert_eq!(observed.spec, expected);

    // Tags change through the tagging API.
    cloud
        .tag_application(
            &created.arn,
            &BTreeMap::from([("owner".to_string(), "ana".to_string())]),
        )
        .await
        .expect("tag");
    cloud
        .untag_application(&created.arn, &["team".to_string()])
        .await
        .expect("untag");
    let observed = cloud.get_application(&created.id).await.expect("get");
    assert_eq!(
        observed.spec.tags,
        BTreeMap::from([
            ("emrstack:stack".to_string(), "test".to_string()),
            ("owner".to_string(), "ana".to_string()),
        ])
    );

    // Delete: TERMINATED, and gone from the list.
    cloud.delete_application(&created.id).await.expect("delete");
    let observed = cloud.get_application(&created.id).await.expect("get after delete");
    assert_eq!(observed.state, ApplicationState::Terminated);
    let listed = cloud.list_applications().await.expect("list");
    assert!(listed.iter().all(|summary| summary.id != created.id), "{listed:?}");
}

#[tokio::test]
async fn list_applications_reads_every_page() {
    let emulator = shared_emulator();
    let account = Emulator::new_account();
    let cloud = connect(emulator, &account).await;
    let mut ids = BTreeSet::new();
    for n in 0..53 {
        let spec = ApplicationSpec::new(format!("app-{n}"), Engine::Hive, "emr-6.15.0");
        ids.insert(
            cloud
                .create_application(&spec, &format!("c-{n}"))
                .await
                .expect("create")
                .id,
        );
    }
    let listed: BTreeSet<String> = cloud
        .list_applications()
        .await
        .expect("list")
        .into_iter()
        .map(|summary| summary.id)
        .collect();
    assert_eq!(listed, ids);
    // 53 applications at 50 per page.
    assert_eq!(
        count(emulator, &account, "served", "emr-serverless:ListApplications"),
        2
    );
}

/// `find_tagged_applications` against the emulator's Tagging API: every
/// page of 100, short and empty pages too, application ARNs only (a tagged
/// job run is left out), the tags with each, and AccessDenied without
/// `tag:GetResources`.
#[tokio::test]
async fn find_tagged_applications_reads_every_page_and_keeps_applications_only() {
    let emulator = shared_emulator();
    let account = Emulator::new_account();
    let cloud = connect(emulator, &account).await;
    let mut ours = BTreeSet::new();
    for n in 0..101 {
        let mut spec = ApplicationSpec::new(format!("app-{n}"), Engine::Hive, "emr-6.15.0");
        spec.tags.insert("emrstack:stack".to_string(), "s".to_string());
        ours.insert(
            cloud
                .create_application(&spec, &format!("t-{n}"))
                .await
                .expect("create")
                .id,
        );
    }
    let mut other = ApplicationSpec::new("other", Engine::Hive, "emr-6.15.0");
    other.tags.insert("emrstack:stack".to_string(), "t".to_string());
    cloud.create_application(&other, "t-other").await.expect("create");
    let first = ours.iter().next().expect("an application").clone();
    emulator.control_ok(
        "POST",
        "/_emulator/jobs",
        Some(&json!({"account": account, "applicationId": first, "force": true,
                     "tags": {"emrstack:stack": "s"}, "script": [["RUNNING"]]})),
    );
    let found = cloud
        .find_tagged_applications("emrstack:stack", "s")
        .await
        .expect("search");
    let ids: BTreeSet<String> = found.iter().map(|hit| hit.id.clone()).collect();
    assert_eq!(ids, ours);
    assert!(
        found
            .iter()
            .all(|hit| hit.arn.ends_with(&format!("/applications/{}", hit.id)))
    );
    assert!(found.iter().all(|hit| hit.tags["emrstack:stack"] == "s"));
    // 102 hits (the job run included) at 100 per page.
    assert_eq!(count(emulator, &account, "served", "tagging:GetResources"), 2);

    // AWS may answer fewer results than asked for, even none, with a token
    // while more remain: every page is followed until the token is empty.
    emulator.set_tagging(&account, json!({"pageSizes": [0, 3, 0]}));
    let short = cloud
        .find_tagged_applications("emrstack:stack", "s")
        .await
        .expect("search");
    let ids: BTreeSet<String> = short.iter().map(|hit| hit.id.clone()).collect();
    assert_eq!(ids, ours);
    assert_eq!(short.len(), ours.len(), "no application twice");
    // Pages of 0, 3, 0 and then the remaining 99.
    assert_eq!(count(emulator, &account, "served", "tagging:GetResources"), 2 + 4);
    emulator.set_tagging(&account, json!({"pageSizes": []}));

    let rule = emulator.add_fault(json!({
        "account": account, "service": "tagging", "operation": "GetResources", "kind": "error",
        "status": 400, "code": "AccessDeniedException",
        "message": "User: x is not authorized to perform: tag:GetResources",
    }));
    let denied = cloud
        .find_tagged_applications("emrstack:stack", "s")
        .await
        .expect_err("denied");
    emulator.remove_fault(&rule);
    assert_eq!(denied.kind, ErrorKind::AccessDenied, "{denied}");
    assert_eq!(denied.operation, "GetResources");
}

#[tokio::test]
async fn active_job_runs_block_stop_until_cancelled() {
    let emulator = shared_emulator();
    let account = Emulator::new_account();
    let cloud = connect(emulator, &account).await;
    let spec = ApplicationSpec::new("jobs", Engine::Spark, "emr-7.5.0");
    let app = cloud.create_application(&spec, "create-jobs").await.expect("create");
    wait_for(&cloud, &app.id, ApplicationState::Created).await;
    assert_eq!(cloud.list_active_job_runs(&app.id).await.expect("list jobs"), vec![]);
    cloud.start_application(&app.id).await.expect("start");
    wait_for(&cloud, &app.id, ApplicationState::Started).await;

    let job = emulator.inject_job(&account, &app.id, Some(json!([["RUNNING"]])));
    let active = cloud.list_active_job_runs(&app.id).await.expect("list jobs");
    assert_eq!(active.len(), 1);
    assert_eq!(
        (active[0].id.as_str(), active[0].state),
        (job.as_str(), JobRunState::Running)
    );

    let err = cloud
        .stop_application(&app.id)
        .await
        .expect_err("stop refused while a job runs");
    assert_eq!(err.kind, ErrorKind::Conflict, "{err}");

    cloud.cancel_job_run(&app.id, &job).await.expect("cancel");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cloud.list_active_job_runs(&app.id).await.expect("list jobs").is_empty() {
        assert!(Instant::now() < deadline, "the job never finished cancelling");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    cloud.stop_application(&app.id).await.expect("stop after cancel");
    wait_for(&cloud, &app.id, ApplicationState::Stopped).await;
}

#[tokio::test]
async fn streaming_runs_and_sessions_are_listed_and_block_stop_until_ended() {
    let emulator = shared_emulator();
    let account = Emulator::new_account();
    let cloud = connect(emulator, &account).await;
    let spec = ApplicationSpec::new("work", Engine::Spark, "emr-7.13.0");
    let app = cloud.create_application(&spec, "create-work").await.expect("create");
    wait_for(&cloud, &app.id, ApplicationState::Created).await;
    cloud.start_application(&app.id).await.expect("start");
    wait_for(&cloud, &app.id, ApplicationState::Started).await;

    let streaming = emulator.inject_job_run(&account, &app.id, "STREAMING", Some(json!([["RUNNING"]])));
    let batch = emulator.inject_job_run(&account, &app.id, "BATCH", Some(json!([["RUNNING"]])));
    let session = emulator.inject_session(&account, &app.id, None);
    let runs = cloud.list_active_job_runs(&app.id).await.expect("list runs");
    let modes: BTreeMap<String, JobRunMode> = runs.iter().map(|run| (run.id.clone(), run.mode)).collect();
    assert_eq!(
        modes,
        BTreeMap::from([
            (streaming.clone(), JobRunMode::Streaming),
            (batch.clone(), JobRunMode::Batch)
        ])
    );
    // One listing per mode.
    assert_eq!(count(emulator, &account, "served", "emr-serverless:ListJobRuns"), 2);
    let deadline = Instant::now() + Duration::from_secs(10);
    let sessions = loop {
        let sessions = cloud.list_active_sessions(&app.id).await.expect("list sessions");
        if sessions.iter().any(|s| s.state == SessionState::Idle) || Instant::now() > deadline {
            break sessions;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert_eq!(sessions.len(), 1);
    assert_eq!(
        (sessions[0].id.as_str(), sessions[0].state),
        (session.as_str(), SessionState::Idle)
    );

    let err = cloud.stop_application(&app.id).await.expect_err("work blocks the stop");
    assert_eq!(err.kind, ErrorKind::Conflict, "{err}");
    cloud
        .cancel_job_run(&app.id, &streaming)
        .await
        .expect("cancel streaming");
    cloud.cancel_job_run(&app.id, &batch).await.expect("cancel batch");
    // Runs alone ended, the session still blocks.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cloud.list_active_job_runs(&app.id).await.expect("list runs").is_empty() {
        assert!(Instant::now() < deadline, "the runs never finished cancelling");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(
        cloud
            .stop_application(&app.id)
            .await
            .expect_err("the session blocks")
            .kind,
        ErrorKind::Conflict
    );
    cloud.terminate_session(&app.id, &session).await.expect("terminate");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cloud
        .list_active_sessions(&app.id)
        .await
        .expect("list sessions")
        .is_empty()
    {
        assert!(Instant::now() < deadline, "the session never terminated");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    cloud
        .stop_application(&app.id)
        .await
        .expect("stop after the work ended");
    wait_for(&cloud, &app.id, ApplicationState::Stopped).await;
}

// ---- FakeCloud and the emulator agree ---------------------------------------------

/// A step of the agreement scenario: its name, the edit of the desired spec
/// and the fields the update sends.
type Step = (&'static str, Box<dyn Fn(&mut ApplicationSpec)>, Vec<ApplicationField>);

/// One application in both clouds.
struct Twin<'a> {
    fake: &'a FakeCloud,
    aws: &'a AwsCloud,
    fake_id: String,
    aws_id: String,
}

impl Twin<'_> {
    /// What both answer to GetApplication, which must be the same.
    async fn agree(&self, step: &str) -> ObservedApplication {
        let fake = self.fake.get_application(&self.fake_id).await.expect("fake get");
        let aws = self.aws.get_application(&self.aws_id).await.expect("emulator get");
        assert_eq!(fake.state, aws.state, "{step}: state");
        assert_eq!(
            fake.spec, aws.spec,
            "{step}: FakeCloud (left) and the emulator (right) differ"
        );
        aws
    }

    /// Sends `update` to both; both accept it, or both refuse it with the same kind.
    async fn update(&self, step: &str, update: &ApplicationUpdate) -> Option<ErrorKind> {
        let token = format!("agree-{}", step.replace(' ', "-"));
        let fake = self.fake.update_application(&self.fake_id, update, &token).await;
        let aws = self.aws.update_application(&self.aws_id, update, &token).await;
        let kinds = (fake.err().map(|e| e.kind), aws.err().map(|e| e.kind));
        assert_eq!(
            kinds.0, kinds.1,
            "{step}: FakeCloud (left) and the emulator (right) answer differently"
        );
        kinds.0
    }

    async fn set_state(&self, start: bool) {
        let (wanted, fake, aws) = if start {
            (
                ApplicationState::Started,
                self.fake.start_application(&self.fake_id).await,
                self.aws.start_application(&self.aws_id).await,
            )
        } else {
            (
                ApplicationState::Stopped,
                self.fake.stop_application(&self.fake_id).await,
                self.aws.stop_application(&self.aws_id).await,
            )
        };
        fake.expect("fake state change");
        aws.expect("emulator state change");
        wait_for(self.aws, &self.aws_id, wanted).await;
    }
}

/// FakeCloud is what the executor tests run on, the emulator what the
/// end-to-end tests run on; both model the same service. The same requests
/// through both leave the same application, step by step.
#[tokio::test]
async fn fake_cloud_and_the_emulator_agree_on_what_get_application_returns() {
    let emulator = shared_emulator();
    let account = Emulator::new_account();
    let aws = connect(emulator, &account).await;
    let fake = FakeCloud::with_timings(FakeTimings {
        create: Duration::ZERO,
        start: Duration::ZERO,
        stop: Duration::ZERO,
        cancel: Duration::ZERO,
        call_latency: Duration::ZERO,
    });
    let mut spec = ApplicationSpec::new("agree", Engine::Spark, "emr-7.5.0");
    spec.tags = BTreeMap::from([("emrstack:stack".to_string(), "agree".to_string())]);
    let fake_id = fake
        .create_application(&spec, "agree-create")
        .await
        .expect("fake create")
        .id;
    let aws_id = aws
        .create_application(&spec, "agree-create")
        .await
        .expect("emulator create")
        .id;
    wait_for(&aws, &aws_id, ApplicationState::Created).await;
    let twin = Twin {
        fake: &fake,
        aws: &aws,
        fake_id,
        aws_id,
    };
    // Created without a scheduler on emr-7.5.0: queueing on by default.
    let current = twin.agree("create").await.spec;
    assert_eq!(current.scheduler, Some(Scheduler::ENABLED_DEFAULTS));

    let stopped = |current: &ApplicationSpec, desired: &ApplicationSpec, fields: &[ApplicationField]| {
        update(current, desired, fields, Delivery::Stopped)
    };
    let steps: Vec<Step> = vec![
        (
            "partial scheduler",
            Box::new(|s| {
                s.scheduler = Some(Scheduler {
                    max_concurrent_runs: Some(5),
                    queue_timeout_minutes: None,
                })
            }),
            vec![ApplicationField::Scheduler],
        ),
        (
            "scheduler off",
            Box::new(|s| s.scheduler = Some(Scheduler::DISABLED)),
            vec![ApplicationField::Scheduler],
        ),
        (
            "images",
            Box::new(|s| {
                s.scheduler = Some(Scheduler::ENABLED_DEFAULTS);
                s.image = Some(ImageConfig {
                    image_uri: foreign_image("base"),
                    application_level_digest_resolution: None,
                });
                s.worker_type_specifications = BTreeMap::from([
                    (
                        WorkerType::Driver,
                        ImageConfig {
                            image_uri: foreign_image("driver"),
                            application_level_digest_resolution: Some(false),
                        },
                    ),
                    (
                        WorkerType::Executor,
                        ImageConfig {
                            image_uri: foreign_image("executor"),
                            application_level_digest_resolution: None,
                        },
                    ),
                ]);
            }),
            vec![
                ApplicationField::Scheduler,
                ApplicationField::Image,
                ApplicationField::WorkerTypeSpecifications,
            ],
        ),
        (
            "clear images",
            Box::new(|s| {
                s.image = None;
                s.worker_type_specifications.remove(&WorkerType::Executor);
            }),
            vec![ApplicationField::Image, ApplicationField::WorkerTypeSpecifications],
        ),
        (
            "monitoring and interactive",
            Box::new(|s| {
                s.monitoring.s3 = Some(S3Monitoring {
                    log_uri: Some("s3://logs/agree/".to_string()),
                    encryption_key_arn: None,
                });
                s.interactive = Some(Interactive {
                    studio_enabled: Some(true),
                    livy_endpoint_enabled: None,
                    session_enabled: None,
                });
            }),
            vec![ApplicationField::Monitoring, ApplicationField::Interactive],
        ),
        (
            "clear monitoring and interactive",
            Box::new(|s| {
                s.monitoring = Monitoring::default();
                s.interactive = None;
            }),
            vec![ApplicationField::Monitoring, ApplicationField::Interactive],
        ),
    ];
    let mut desired = current.clone();
    let mut current = current;
    for (step, edit, fields) in &steps {
        edit(&mut desired);
        assert_eq!(
            twin.update(step, &stopped(&current, &desired, fields)).await,
            None,
            "{step}"
        );
        current = twin.agree(step).await.spec;
    }

    // While STARTED: the scheduler's maximum alone is live and keeps the
    // timeout; naming the timeout is refused; with pre-initialized
    // capacity, so is an image change.
    desired.scheduler = Some(Scheduler {
        max_concurrent_runs: Some(30),
        queue_timeout_minutes: Some(90),
    });
    twin.update("timeout", &stopped(&current, &desired, &[ApplicationField::Scheduler]))
        .await;
    current = twin.agree("timeout").await.spec;
    twin.set_state(true).await;
    desired.scheduler.as_mut().expect("scheduler").max_concurrent_runs = Some(12);
    let live = update(&current, &desired, &[ApplicationField::Scheduler], Delivery::Live);
    assert_eq!(twin.update("live scheduler", &live).await, None);
    let both = stopped(&current, &desired, &[ApplicationField::Scheduler]);
    assert_eq!(
        twin.update("scheduler both members", &both).await,
        Some(ErrorKind::Conflict)
    );
    current = twin.agree("live scheduler").await.spec;
    assert_eq!(current.scheduler, desired.scheduler);
    twin.set_state(false).await;
    desired.initial_capacity = BTreeMap::from([(
        WorkerType::Driver,
        InitialCapacity {
            worker_count: 1,
            worker: worker(4, 16, 20, None),
        },
    )]);
    twin.update(
        "capacity",
        &stopped(&current, &desired, &[ApplicationField::InitialCapacity]),
    )
    .await;
    current = twin.agree("capacity").await.spec;
    twin.set_state(true).await;
    desired.image = Some(ImageConfig {
        image_uri: foreign_image("new"),
        application_level_digest_resolution: None,
    });
    let image = update(&current, &desired, &[ApplicationField::Image], Delivery::Live);
    assert_eq!(twin.update("live image", &image).await, Some(ErrorKind::Conflict));
    twin.set_state(false).await;

    // A release that changes the image's default digest resolution.
    assert_eq!(
        twin.update("image", &stopped(&current, &desired, &[ApplicationField::Image]))
            .await,
        None
    );
    let before = twin.agree("image").await.spec;
    assert_eq!(
        before
            .image
            .as_ref()
            .and_then(|i| i.application_level_digest_resolution),
        Some(true)
    );
    desired.release_label = "emr-7.14.0".to_string();
    let release = stopped(&before, &desired, &[ApplicationField::ReleaseLabel]);
    assert_eq!(twin.update("release", &release).await, None);
    let after = twin.agree("release").await.spec;
    assert_eq!(
        after.image.and_then(|i| i.application_level_digest_resolution),
        Some(false)
    );
}

// ---- retries and classification -----------------------------------------------

#[tokio::test]
async fn throttled_call_is_retried_by_the_sdk() {
    let emulator = shared_emulator();
    let account = Emulator::new_account();
    let cloud = connect(emulator, &account).await;
    let app = cloud
        .create_application(&ApplicationSpec::new("throttled", Engine::Spark, "emr-7.5.0"), "c")
        .await
        .expect("create");
    let rule = emulator.add_fault(json!({
        "service": "emr-serverless", "operation": "GetApplication", "account": account,
        "kind": "throttle", "count": 2,
    }));
    let observed = cloud
        .get_application(&app.id)
        .await
        .expect("get succeeds after two throttles");
    emulator.remove_fault(&rule);
    assert_eq!(observed.id, app.id);
    assert_eq!(count(emulator, &account, "faulted", "emr-serverless:GetApplication"), 2);
    assert_eq!(count(emulator, &account, "served", "emr-serverless:GetApplication"), 1);
    // One logical call on our side; the attempts are the SDK's, and each
    // retry is counted as one.
    assert_eq!(cloud.call_counts()["emr-serverless:GetApplication"], 1);
    assert_eq!(cloud.retry_counts()["emr-serverless:GetApplication"], 2);
}

#[tokio::test]
async fn persistent_server_error_surfaces_as_transient() {
    let emulator = shared_emulator();
    let account = Emulator::new_account();
    let cloud = connect(emulator, &account).await;
    let rule = emulator.add_fault(json!({
        "service": "emr-serverless", "operation": "ListApplications", "account": account, "kind": "server_error",
    }));
    let err = cloud.list_applications().await.expect_err("every attempt fails");
    emulator.remove_fault(&rule);
    assert_eq!(err.kind, ErrorKind::Transient, "{err}");
    assert_eq!(err.code.as_deref(), Some("InternalServerException"));
    assert_eq!(
        count(emulator, &account, "faulted", "emr-serverless:ListApplications"),
        u64::from(TEST_MAX_ATTEMPTS)
    );
}

#[tokio::test]
async fn persistent_throttling_surfaces_as_throttled() {
    let emulator = shared_emulator();
    let account = Emulator::new_account();
    let cloud = connect(emulator, &account).await;
    let rule =
        emulator.add_fault(json!({"service": "iam", "operation": "ListRoles", "account": account, "kind": "throttle"}));
    let err = cloud.list_roles().await.expect_err("every attempt is throttled");
    emulator.remove_fault(&rule);
    assert_eq!(err.kind, ErrorKind::Throttled, "{err}");
    assert_eq!(
        count(emulator, &account, "faulted", "iam:ListRoles"),
        u64::from(TEST_MAX_ATTEMPTS)
    );
}

#[tokio::test]
async fn dropped_connections_and_server_errors_are_retried_for_every_service() {
    let emulator = shared_emulator();
    let account = Emulator::new_account();
    let cloud = connect(emulator, &account).await;
    let cases = [
        ("emr-serverless", "ListApplications"),
        ("iam", "ListRoles"),
        ("ecr", "DescribeRepositories"),
        ("ec2", "DescribeSubnets"),
        ("sts", "GetCallerIdentity"),
    ];
    for (service, operation) in cases {
        // Three attempts in all: the first loses its connection (closed, or
        // reset for ECR), the second gets a 5xx, the third succeeds.
        let drop = emulator.add_fault(json!({
            "service": service, "operation": operation, "account": account, "kind": "drop", "count": 1, "reset": service == "ecr",
        }));
        let server_error = emulator.add_fault(json!({
            "service": service, "operation": operation, "account": account, "kind": "server_error", "count": 1,
        }));
        let result = match service {
            "emr-serverless" => cloud.list_applications().await.map(|_| ()),
            "iam" => cloud.list_roles().await.map(|_| ()),
            // A missing repository: the call gets through, and the answer is NotFound.
            "ecr" => match cloud.get_repository("none").await {
                Err(err) if err.kind == ErrorKind::NotFound => Ok(()),
                other => other.map(|_| ()),
            },
            "ec2" => cloud
                .describe_subnets(&["subnet-00000000".to_string()])
                .await
                .map(|_| ()),
            _ => cloud.caller_identity().await.map(|_| ()),
        };
        emulator.remove_fault(&drop);
        emulator.remove_fault(&server_error);
        result.unwrap_or_else(|err| panic!("{service}:{operation} was not retried: {err}"));
        let key = format!("{service}:{operation}");
        assert_eq!(count(emulator, &account, "faulted", &key), 2, "{key}");
        assert!(count(emulator, &account, "served", &key) >= 1, "{key}");
        // Each retry is charged to the client-side rate limiter, EC2's
        // (its own Query client, src/aws/ec2_query.rs) like the SDK clients'.
        assert_eq!(cloud.retry_counts().get(&key), Some(&2), "{key}");
    }
}

#[tokio::test]
async fn missing_resources_are_not_found_in_every_service() {
    let emulator = shared_emulator();
    let account = Emulator::new_account();
    let cloud = connect(emulator, &account).await;
    let check = |result: Result<(), emrstack::cloud::CloudError>, code: &str| {
        let err = result.expect_err("missing resource");
        assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
        assert_eq!(err.code.as_deref(), Some(code), "{err}");
    };
    check(
        cloud.get_application("0000000000000000").await.map(|_| ()),
        "ResourceNotFoundException",
    );
    check(
        cloud.delete_application("0000000000000000").await,
        "ResourceNotFoundException",
    );
    check(cloud.get_role("no-such-role").await.map(|_| ()), "NoSuchEntity");
    check(cloud.delete_role("no-such-role").await, "NoSuchEntity");
    check(
        cloud.get_repository("no-such-repository").await.map(|_| ()),
        "RepositoryNotFoundException",
    );
    check(
        cloud
            .set_repository_policy("no-such-repository", &json!({"Version": "2012-10-17", "Statement": []}))
            .await,
        "RepositoryNotFoundException",
    );
    // EC2's describe calls filter by ID and never fail for a missing one, so
    // the error path is exercised with an injected `.NotFound` code.
    let rule = emulator.add_fault(json!({
        "service": "ec2", "operation": "DescribeSecurityGroups", "account": account, "kind": "error",
        "status": 400, "code": "InvalidGroup.NotFound", "message": "The security group 'sg-1' does not exist",
    }));
    let result = cloud.describe_security_groups(&["sg-1".to_string()]).await.map(|_| ());
    emulator.remove_fault(&rule);
    check(result, "InvalidGroup.NotFound");
}

#[tokio::test]
async fn propagation_errors_are_classified_for_retry_by_the_executor() {
    let emulator = shared_emulator();
    let account = Emulator::new_account();
    let cloud = connect(emulator, &account).await;
    let rule = emulator.add_fault(json!({
        "service": "ecr", "operation": "SetRepositoryPolicy", "account": account, "kind": "error", "status": 400,
        "code": "InvalidParameterException",
        "message": "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Principal not found'",
    }));
    let err = cloud
        .set_repository_policy("any", &json!({"Version": "2012-10-17", "Statement": []}))
        .await
        .expect_err("injected");
    emulator.remove_fault(&rule);
    assert_eq!(err.kind, ErrorKind::Propagation, "{err}");
    let rule = emulator.add_fault(json!({
        "service": "iam", "operation": "UpdateAssumeRolePolicy", "account": account, "kind": "error", "status": 400,
        "code": "MalformedPolicyDocument", "message": "Invalid principal in policy: \"AWS\":\"arn:aws:iam::1:role/new\"",
    }));
    let err = cloud
        .update_trust_policy("any", &json!({}))
        .await
        .expect_err("injected");
    emulator.remove_fault(&rule);
    assert_eq!(err.kind, ErrorKind::Propagation, "{err}");
}

#[tokio::test]
async fn call_hook_sees_every_call_with_its_outcome() {
    let emulator = shared_emulator();
    let account = Emulator::new_account();
    /// `service:Operation` and the error kind of each call, in order.
    type Seen = Arc<Mutex<Vec<(String, Option<ErrorKind>)>>>;
    let seen: Seen = Arc::default();
    let mut with_hook = settings(emulator, &account);
    let sink = Arc::clone(&seen);
    with_hook.on_call = Some(Arc::new(move |event: &CallEvent<'_>| {
        sink.lock().expect("hook lock").push((
            format!("{}:{}", event.service, event.operation),
            event.error.map(|err| err.kind),
        ));
    }));
    let cloud = connect_with(with_hook).await;
    cloud.caller_identity().await.expect("identity");
    let _ = cloud.get_role("missing").await;
    assert_eq!(
        *seen.lock().expect("lock"),
        vec![
            ("sts:GetCallerIdentity".to_string(), None),
            ("iam:GetRole".to_string(), Some(ErrorKind::NotFound)),
        ]
    );
    assert_eq!(cloud.total_calls(), 2);
}

// ---- client-side rate limiting --------------------------------------------------

/// An `AwsCloud` for `account` with the default client-side limits and
/// `rate` for one EMR Serverless operation.
async fn connect_limited(emulator: &Emulator, account: &str, operation: &str, rate: Rate) -> AwsCloud {
    let mut limited = settings(emulator, account);
    limited.rate_limits = RateLimits {
        overrides: BTreeMap::from([((Service::EmrServerless, operation.to_string()), rate)]),
        ..RateLimits::default()
    };
    connect_with(limited).await
}

#[tokio::test]
async fn a_retry_takes_a_token_from_the_client_side_bucket() {
    // GetApplication limited to 5 per second with a bucket of 1 token: the
    // first call takes it; its retry after a throttle takes the next one
    // (into debt), so a second call has to wait for two refills (0.4 s), not
    // one (0.2 s) as it would if the client counted only first attempts.
    let emulator = shared_emulator();
    let account = Emulator::new_account();
    let cloud = connect_limited(emulator, &account, "GetApplication", Rate::new(5.0, 1)).await;
    let app = cloud
        .create_application(&ApplicationSpec::new("charged", Engine::Spark, "emr-7.5.0"), "c")
        .await
        .expect("create");
    let rule = emulator.add_fault(json!({
        "service": "emr-serverless", "operation": "GetApplication", "account": account,
        "kind": "throttle", "count": 1,
    }));
    let started = Instant::now();
    cloud.get_application(&app.id).await.expect("get after one throttle");
    emulator.remove_fault(&rule);
    cloud.get_application(&app.id).await.expect("second get");
    let elapsed = started.elapsed();
    assert_eq!(cloud.retry_counts()["emr-serverless:GetApplication"], 1);
    assert_eq!(count(emulator, &account, "served", "emr-serverless:GetApplication"), 2);
    assert!(
        elapsed >= Duration::from_millis(380),
        "the second call went out after {elapsed:?}, before the retry's token was refilled"
    );
}

#[tokio::test]
async fn client_side_rate_limiter_keeps_a_burst_of_mutations_within_the_rate() {
    // An emulator of its own, with the server-side limiter on for
    // StartApplication. Its bucket holds one token more than the client's:
    // two buckets of exactly the same size throttle now and then, because a
    // request can reach the server a little earlier, relative to the first
    // one, than the client scheduled it.
    let rate = Rate::new(5.0, 2);
    let emulator = Emulator::builder()
        .env(
            "EMULATOR_RATE_LIMIT",
            &json!({"enabled": true, "operations": {"StartApplication": {"rate": rate.per_second, "burst": rate.burst + 1}}})
                .to_string(),
        )
        .start();
    const CALLS: u32 = 8;

    // With the same limit on the client, a burst is paced and never throttled.
    let paced_account = Emulator::new_account();
    let cloud = connect_limited(&emulator, &paced_account, "StartApplication", rate).await;
    let app = cloud
        .create_application(&ApplicationSpec::new("paced", Engine::Spark, "emr-7.5.0"), "c")
        .await
        .expect("create");
    wait_for(&cloud, &app.id, ApplicationState::Created).await;
    let started = Instant::now();
    let results = futures::future::join_all((0..CALLS).map(|_| cloud.start_application(&app.id))).await;
    let elapsed = started.elapsed();
    for result in results {
        result.expect("paced start");
    }
    let minimum = Duration::from_secs_f64(f64::from(CALLS - rate.burst) / rate.per_second);
    assert!(
        elapsed >= minimum - Duration::from_millis(50),
        "{CALLS} calls took {elapsed:?}"
    );
    assert_eq!(
        count(
            &emulator,
            &paced_account,
            "throttled",
            "emr-serverless:StartApplication"
        ),
        0
    );
    assert_eq!(
        count(&emulator, &paced_account, "served", "emr-serverless:StartApplication"),
        u64::from(CALLS)
    );

    // Without it, the same burst is throttled by the service.
    let unpaced_account = Emulator::new_account();
    let cloud = connect(&emulator, &unpaced_account).await;
    let app = cloud
        .create_application(&ApplicationSpec::new("unpaced", Engine::Spark, "emr-7.5.0"), "c")
        .await
        .expect("create");
    wait_for(&cloud, &app.id, ApplicationState::Created).await;
    let _ = futures::future::join_all((0..CALLS).map(|_| cloud.start_application(&app.id))).await;
    assert!(
        count(
            &emulator,
            &unpaced_account,
            "throttled",
            "emr-serverless:StartApplication"
        ) > 0
    );
}

// ---- IAM ----------------------------------------------------------------------

fn role_spec(account: &str, name: &str, boundary: &str) -> RoleSpec {
    RoleSpec {
        name: name.to_string(),
        path: "/jobs/".to_string(),
        description: Some("job role".to_string()),
        max_session_duration: 7200,
        permissions_boundary: Some(boundary.to_string()),
        trust_policy: trust_policy("test", account, &[]),
        inline_policies: BTreeMap::new(),
        managed_policy_arns: BTreeSet::new(),
        tags: BTreeMap::from([
            ("emrstack:stack".to_string(), "test".to_string()),
            ("team".to_string(), "data".to_string()),
        ]),
    }
}

async fn create_managed_policy(emulator: &Emulator, account: &str, name: &str) -> String {
    let iam = aws_sdk_iam::Client::new(&sdk_config(emulator, account).await);
    let document = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]});
    iam.create_policy()
        .policy_name(name)
        .policy_document(document.to_string())
        .send()
        .await
        .expect("create_policy")
        .policy
        .and_then(|policy| policy.arn)
        .expect("policy arn")
}

#[tokio::test]
async fn iam_role_lifecycle() {
    let emulator = shared_emulator();
    let account = Emulator::new_account();
    let cloud = connect(emulator, &account).await;
    let boundary = create_managed_policy(emulator, &account, "boundary").await;
    let managed = create_managed_policy(emulator, &account, "read-logs").await;
    let spec = role_spec(&account, "etl-job", &boundary);

    let arn = cloud.create_role(&spec).await.expect("create_role");
    assert_eq!(arn, format!("arn:aws:iam::{account}:role/jobs/etl-job"));
    let observed = cloud.get_role("etl-job").await.expect("get_role");
    assert_eq!(observed.arn, arn);
    assert!(!observed.role_id.is_empty());
    assert_eq!(observed.spec, spec);
    let err = cloud.create_role(&spec).await.expect_err("duplicate");
    assert_eq!(err.kind, ErrorKind::Conflict, "{err}");

    // Inline policies come back URL-encoded and are decoded; characters that
    // encoding changes survive.
    let inline = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": "arn:aws:s3:::bucket/a b+c%20d/*",
        "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}},
    }]});
    cloud
        .put_role_policy("etl-job", "s3", &inline)
        .await
        .expect("put_role_policy");
    cloud.attach_role_policy("etl-job", &managed).await.expect("attach");
    let observed = cloud.get_role("etl-job").await.expect("get_role");
    assert_eq!(
        observed.spec.inline_policies,
        BTreeMap::from([("s3".to_string(), inline.clone())])
    );
    assert_eq!(observed.spec.managed_policy_arns, BTreeSet::from([managed.clone()]));

    // Trust policy, description, session duration, boundary and tags change in place.
    let trust = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": ["emr-serverless.amazonaws.com", "glue.amazonaws.com"]},
        "Action": "sts:AssumeRole",
    }]});
    cloud
        .update_trust_policy("etl-job", &trust)
        .await
        .expect("update trust");
    cloud.update_role("etl-job", None, 3600).await.expect("update_role");
    cloud
        .set_permissions_boundary("etl-job", None)
        .await
        .expect("remove boundary");
    cloud
        .tag_role("etl-job", &BTreeMap::from([("owner".to_string(), "ana".to_string())]))
        .await
        .expect("tag");
    cloud.untag_role("etl-job", &["team".to_string()]).await.expect("untag");
    let observed = cloud.get_role("etl-job").await.expect("get_role");
    assert_eq!(observed.spec.trust_policy, trust);
    assert_eq!(observed.spec.description, None);
    assert_eq!(observed.spec.max_session_duration, 3600);
    assert_eq!(observed.spec.permissions_boundary, None);
    assert_eq!(
        observed.spec.tags,
        BTreeMap::from([
            ("emrstack:stack".to_string(), "test".to_string()),
            ("owner".to_string(), "ana".to_string()),
        ])
    );
    cloud
        .set_permissions_boundary("etl-job", Some(&boundary))
        .await
        .expect("set boundary");
    assert_eq!(
        cloud
            .get_role("etl-job")
            .await
            .expect("get")
            .spec
            .permissions_boundary
            .as_deref(),
        Some(boundary.as_str())
    );

    // IAM refuses to delete a role that still has policies.
    let err = cloud.delete_role("etl-job").await.expect_err("policies still attached");
    assert_eq!(err.kind, ErrorKind::Conflict, "{err}");
    cloud.delete_role_policy("etl-job", "s3").await.expect("delete inline");
    cloud.detach_role_policy("etl-job", &managed).await.expect("detach");
    cloud.delete_role("etl-job").await.expect("delete_role");
    let err = cloud.get_role("etl-job").await.expect_err("deleted");
    assert_eq!(err.kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn get_role_reads_many_inline_policies() {
    let emulator = shared_emulator();
    let account = Emulator::new_account();
    let cloud = connect(emulator, &account).await;
    let boundary = create_managed_policy(emulator, &account, "boundary").await;
    let mut spec = role_spec(&account, "many", &boundary);
    cloud.create_role(&spec).await.expect("create");
    for n in 0..9 {
        let document = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::b{n}/*")}]});
        cloud
            .put_role_policy("many", &format!("p{n}"), &document)
            .await
            .expect("put");
        spec.inline_policies.insert(format!("p{n}"), document);
    }
    let observed = cloud.get_role("many").await.expect("get");
    assert_eq!(observed.spec.inline_policies, spec.inline_policies);
    assert_eq!(count(emulator, &account, "served", "iam:GetRolePolicy"), 9);
}

#[tokio::test]
async fn list_roles_says_which_roles_trust_emr_serverless() {
    let emulator = shared_emulator();
    let account = Emulator::new_account();
    let cloud = connect(emulator, &account).await;
    let boundary = create_managed_policy(emulator, &account, "boundary").await;
    let job = role_spec(&account, "emr-job", &boundary);
    let mut listed_principal = role_spec(&account, "shared-job", &boundary);
    listed_principal.trust_policy = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": ["glue.amazonaws.com", "emr-serverless.amazonaws.com"]},
        "Action": "sts:AssumeRole",
    }]});
    let mut other = role_spec(&account, "glue-job", &boundary);
    other.trust_policy = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole",
    }]});
    for spec in [&job, &listed_principal, &other] {
        cloud.create_role(spec).await.expect("create");
    }
    let mut names: Vec<String> = cloud
        .list_roles()
        .await
        .expect("list")
        .into_iter()
        .filter(|summary| summary.trusts_emr_serverless)
        .map(|summary| {
            assert_eq!(summary.path, "/jobs/");
            summary.name
        })
        .collect();
    names.sort();
    assert_eq!(names, ["emr-job", "shared-job"]);
}

// ---- ECR ----------------------------------------------------------------------

fn manifest(layer: char) -> String {
    let digest = |c: char| format!("sha256:{}", c.to_string().repeat(64));
    json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023, "digest": digest('c')},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 32654, "digest": digest(layer)}],
    })
    .to_string()
}

#[tokio::test]
async fn ecr_repository_policy_and_image_digests() {
    let emulator = shared_emulator();
    let account = Emulator::new_account();
    let cloud = connect(emulator, &account).await;
    let ecr = aws_sdk_ecr::Client::new(&sdk_config(emulator, &account).await);
    ecr.create_repository()
        .repository_name("team/spark")
        .send()
        .await
        .expect("create_repository");

    let repository = cloud.get_repository("team/spark").await.expect("get_repository");
    assert_eq!(repository.name, "team/spark");
    assert_eq!(repository.registry_id, account);
    assert_eq!(
        repository.arn,
        format!("arn:aws:ecr:us-east-1:{account}:repository/team/spark")
    );
    assert!(repository.uri.ends_with("/team/spark"), "{}", repository.uri);
    assert_eq!(repository.policy, None);
    cloud
        .delete_repository_policy("team/spark")
        .await
        .expect("deleting no policy succeeds");

    let application_arn = format!("arn:aws:emr-serverless:us-east-1:{account}:/applications/00f1");
    let policy = merge_statement(None, &statement_sid("test"), pull_statement("test", &[application_arn]))
        .expect("a policy with one statement");
    cloud
        .set_repository_policy("team/spark", &policy)
        .await
        .expect("set policy");
    assert_eq!(
        cloud.get_repository("team/spark").await.expect("get").policy,
        Some(policy)
    );
    cloud
        .delete_repository_policy("team/spark")
        .await
        .expect("delete policy");
    assert_eq!(cloud.get_repository("team/spark").await.expect("get").policy, None);

    let mut expected = BTreeMap::new();
    for (tag, layer) in [("v1", 'a'), ("v2", 'b')] {
        let pushed = ecr
            .put_image()
            .repository_name("team/spark")
            .image_manifest(manifest(layer))
            .image_tag(tag)
            .send()
            .await
            .expect("put_image");
        let digest = pushed
            .image
            .and_then(|image| image.image_id)
            .and_then(|id| id.image_digest)
            .expect("digest");
        assert!(digest.starts_with("sha256:"), "{digest}");
        expected.insert(tag.to_string(), digest);
    }
    let before = count(emulator, &account, "served", "ecr:BatchGetImage");
    let digests = cloud
        .image_digests(
            "team/spark",
            &["v1".to_string(), "v2".to_string(), "missing".to_string()],
        )
        .await
        .expect("image_digests");
    assert_eq!(digests, expected);
    assert_eq!(count(emulator, &account, "served", "ecr:BatchGetImage") - before, 1);
    let err = cloud
        .image_digests("no-such-repository", &["v1".to_string()])
        .await
        .expect_err("missing");
    assert_eq!(err.kind, ErrorKind::NotFound);

    // The other way round: the tags of a digest, one DescribeImages. A
    // second tag on v1's image is listed with it; an unknown digest has none.
    ecr.put_image()
        .repository_name("team/spark")
        .image_manifest(manifest('a'))
        .image_tag("stable")
        .send()
        .await
        .expect("put_image");
    let before = count(emulator, &account, "served", "ecr:DescribeImages");
    assert_eq!(
        cloud
            .image_tags("team/spark", &expected["v1"])
            .await
            .expect("image_tags"),
        ["stable", "v1"]
    );
    assert_eq!(count(emulator, &account, "served", "ecr:DescribeImages") - before, 1);
    let unknown = format!("sha256:{}", "0".repeat(64));
    assert_eq!(
        cloud.image_tags("team/spark", &unknown).await.expect("image_tags"),
        Vec::<String>::new()
    );
}

// ---- EC2 and STS --------------------------------------------------------------

#[tokio::test]
async fn ec2_describe_reports_existing_ids_and_omits_missing_ones() {
    let emulator = shared_emulator();
    let account = Emulator::new_account();
    let cloud = connect(emulator, &account).await;
    let vpc = fixtures::create_vpc(emulator, &account, "10.20.0.0/16");
    let subnet = fixtures::create_subnet(emulator, &account, &vpc, "10.20.1.0/24", "us-east-1a");
    let group = fixtures::create_security_group(emulator, &account, &vpc, "emr", "emr serverless");

    let subnets = cloud
        .describe_subnets(&[subnet.clone(), "subnet-0123456789abcdef0".to_string()])
        .await
        .expect("describe_subnets");
    assert_eq!(subnets.len(), 1, "{subnets:?}");
    let info = &subnets[0];
    assert_eq!(
        (info.id.as_str(), info.vpc_id.as_str()),
        (subnet.as_str(), vpc.as_str())
    );
    assert_eq!(info.availability_zone, "us-east-1a");
    assert!(
        info.availability_zone_id.starts_with("use1-az"),
        "{}",
        info.availability_zone_id
    );
    assert_eq!(info.cidr_block, "10.20.1.0/24");
    assert_eq!(info.available_ip_address_count, 251);

    let groups = cloud
        .describe_security_groups(&[group.clone(), "sg-0123456789abcdef0".to_string()])
        .await
        .expect("describe_security_groups");
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(
        (
            groups[0].id.as_str(),
            groups[0].vpc_id.as_str(),
            groups[0].name.as_str()
        ),
        (group.as_str(), vpc.as_str(), "emr")
    );

    // No IDs, no call: an empty filter would match everything.
    let before = count(emulator, &account, "served", "ec2:DescribeSubnets");
    assert_eq!(cloud.describe_subnets(&[]).await.expect("empty"), vec![]);
    assert_eq!(count(emulator, &account, "served", "ec2:DescribeSubnets"), before);
}

#[tokio::test]
async fn ec2_throttling_is_retried_charged_and_finally_throttled() {
    // EC2 answers throttling with 503 `RequestLimitExceeded` (the emulator's
    // throttle fault for ec2): the Query client retries it like the SDK
    // clients, charges each retry to the rate limiter, and reports
    // `Throttled` when every attempt is throttled.
    let emulator = shared_emulator();
    let account = Emulator::new_account();
    let cloud = connect(emulator, &account).await;
    let ids = ["sg-0123456789abcdef0".to_string()];
    let once = emulator.add_fault(json!({
        "service": "ec2", "operation": "DescribeSecurityGroups", "account": account, "kind": "throttle", "count": 1,
    }));
    let groups = cloud.describe_security_groups(&ids).await;
    emulator.remove_fault(&once);
    assert_eq!(groups.expect("retried after one throttle"), vec![]);
    assert_eq!(cloud.call_counts()["ec2:DescribeSecurityGroups"], 1);
    assert_eq!(cloud.retry_counts()["ec2:DescribeSecurityGroups"], 1);

    let always = emulator.add_fault(json!({
        "service": "ec2", "operation": "DescribeSecurityGroups", "account": account, "kind": "throttle",
    }));
    let err = cloud
        .describe_security_groups(&ids)
        .await
        .expect_err("always throttled");
    emulator.remove_fault(&always);
    assert_eq!(err.kind, ErrorKind::Throttled, "{err}");
    assert_eq!(err.code.as_deref(), Some("RequestLimitExceeded"), "{err}");
    assert!(err.request_id.is_some(), "{err:?}");
    assert_eq!(
        count(emulator, &account, "faulted", "ec2:DescribeSecurityGroups"),
        1 + u64::from(TEST_MAX_ATTEMPTS)
    );
}

#[tokio::test]
async fn caller_identity_is_the_account_of_the_access_key() {
    let emulator = shared_emulator();
    let account = Emulator::new_account();
    let cloud = connect(emulator, &account).await;
    let identity = cloud.caller_identity().await.expect("caller_identity");
    assert_eq!(identity.account_id, account);
    assert!(identity.arn.contains(&account), "{}", identity.arn);
    assert_eq!(cloud.region(), "us-east-1");
}

// ---- S3 (ObjectStore) ------------------------------------------------------------

async fn bucket(emulator: &Emulator, account: &str, name: &str) {
    let config = sdk_config(emulator, account).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket()
        .bucket(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateBucket {name}: {e:?}"));
}

#[tokio::test]
async fn object_store_conditional_writes_and_deletes_follow_s3() {
    use emrstack::cloud::{DeleteCondition, DeleteOutcome, ObjectStore, StoreError, WriteCondition, WriteOutcome};
    use emrstack::model::S3Object;

    let emulator = shared_emulator();
    let account = Emulator::new_account();
    let cloud = connect(emulator, &account).await;
    let name = format!("store-{account}");
    let object = S3Object {
        bucket: name.clone(),
        key: "locks/stack.lock".to_string(),
    };
    // No bucket yet.
    assert!(matches!(
        cloud.get_object(&object, 1024).await,
        Err(StoreError::NoSuchBucket { .. })
    ));
    bucket(emulator, &account, &name).await;
    assert_eq!(cloud.get_object(&object, 1024).await.unwrap(), None);
    assert_eq!(cloud.head_object(&object).await.unwrap(), None);

    let put = |body: &str, condition: WriteCondition| {
        let cloud = &cloud;
        let object = &object;
        let body = body.as_bytes().to_vec();
        async move { cloud.put_object(object, body, "application/json", &condition).await }
    };
    let WriteOutcome::Written { etag: first } = put("one", WriteCondition::IfAbsent).await.unwrap() else {
        panic!("the first conditional write wins")
    };
    assert_eq!(
        put("two", WriteCondition::IfAbsent).await.unwrap(),
        WriteOutcome::ConditionFailed
    );
    assert_eq!(
        put("two", WriteCondition::IfMatch("\"0000\"".to_string()))
            .await
            .unwrap(),
        WriteOutcome::ConditionFailed
    );
    let read = cloud.get_object(&object, 1024).await.unwrap().expect("object");
    assert_eq!(
        (read.body.as_slice(), read.etag.as_str()),
        (b"one".as_slice(), first.as_str())
    );
    // The emulator's clock, as S3's: both times, the age a few seconds at most.
    let age = read
        .server_time
        .expect("Date")
        .duration_since(read.last_modified.expect("Last-Modified"))
        .unwrap_or_default();
    assert!(age <= Duration::from_secs(5), "{age:?}");
    let meta = cloud.head_object(&object).await.unwrap().expect("head");
    assert_eq!((meta.etag.as_str(), meta.size), (first.as_str(), 3));
    // A read larger than its bound fails instead of reading on.
    assert_eq!(
        cloud.get_object(&object, 2).await.unwrap_err().cloud().kind,
        ErrorKind::Invalid
    );

    let WriteOutcome::Written { etag: second } = put("two", WriteCondition::IfMatch(first.clone())).await.unwrap()
    else {
        panic!("If-Match on the current ETag writes")
    };
    assert_ne!(first, second);
    assert_eq!(
        cloud
            .delete_object(&object, &DeleteCondition::IfMatch(first.clone()))
            .await
            .unwrap(),
        DeleteOutcome::ConditionFailed
    );
    assert_eq!(
        cloud
            .delete_object(&object, &DeleteCondition::IfMatch(second.clone()))
            .await
            .unwrap(),
        DeleteOutcome::Deleted
    );
    // If-Match on a missing key: S3's 404 NoSuchKey, a condition that failed.
    assert_eq!(
        put("three", WriteCondition::IfMatch(second.clone())).await.unwrap(),
        WriteOutcome::ConditionFailed
    );
    assert_eq!(
        cloud
            .delete_object(&object, &DeleteCondition::IfMatch(second))
            .await
            .unwrap(),
        DeleteOutcome::ConditionFailed
    );
    assert_eq!(
        cloud.delete_object(&object, &DeleteCondition::Always).await.unwrap(),
        DeleteOutcome::Deleted
    );
    assert_eq!(count(emulator, &account, "served", "s3:PutObject"), 5);
}

#[tokio::test]
async fn of_many_concurrent_conditional_writers_exactly_one_wins() {
    use emrstack::cloud::{ObjectStore, WriteCondition, WriteOutcome};
    use emrstack::model::S3Object;

    let emulator = shared_emulator();
    let account = Emulator::new_account();
    let name = format!("race-{account}");
    bucket(emulator, &account, &name).await;
    let object = S3Object {
        bucket: name,
        key: "race.lock".to_string(),
    };
    // Separate clients, as separate processes would be.
    let mut clients = Vec::new();
    for _ in 0..8 {
        clients.push(connect(emulator, &account).await);
    }
    let writes = clients.iter().enumerate().map(|(i, cloud)| {
        let object = object.clone();
        async move {
            cloud
                .put_object(
                    &object,
                    format!("writer {i}").into_bytes(),
                    "text/plain",
                    &WriteCondition::IfAbsent,
                )
                .await
                .expect("put_object")
        }
    });
    let outcomes = futures::future::join_all(writes).await;
    let winners = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, WriteOutcome::Written { .. }))
        .count();
    assert_eq!(winners, 1, "{outcomes:?}");
}

#[tokio::test]
async fn object_store_names_a_bucket_in_another_region_and_a_missing_permission() {
    use emrstack::cloud::{ObjectStore, StoreError, WriteCondition};
    use emrstack::model::S3Object;

    let emulator = shared_emulator();
    let account = Emulator::new_account();
    let elsewhere = format!("eu-{account}");
    let config = sdk_config(emulator, &account).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket()
        .bucket(&elsewhere)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .expect("CreateBucket in eu-west-1");
    let cloud = connect(emulator, &account).await;
    let object = S3Object {
        bucket: elsewhere.clone(),
        key: "x.lock".to_string(),
    };
    for result in [
        cloud.get_object(&object, 10).await.map(|_| ()),
        cloud
            .put_object(&object, b"x".to_vec(), "text/plain", &WriteCondition::IfAbsent)
            .await
            .map(|_| ()),
        cloud.head_object(&object).await.map(|_| ()),
    ] {
        match result {
            Err(StoreError::WrongRegion {
                bucket_region,
                client_region,
                ..
            }) => {
                assert_eq!(bucket_region.as_deref(), Some("eu-west-1"));
                assert_eq!(client_region, "us-east-1");
            }
            other => panic!("{other:?}"),
        }
    }

    let name = format!("denied-{account}");
    bucket(emulator, &account, &name).await;
    emulator.add_fault(json!({
        "account": account, "service": "s3", "kind": "deny", "action": "s3:PutObject", "bucket": name,
    }));
    let denied = cloud
        .put_object(
            &S3Object {
                bucket: name,
                key: "x.lock".to_string(),
            },
            b"x".to_vec(),
            "text/plain",
            &WriteCondition::IfAbsent,
        )
        .await
        .unwrap_err();
    assert_eq!(denied.cloud().kind, ErrorKind::AccessDenied);
    assert!(denied.to_string().contains("s3:PutObject"), "{denied}");
}

// ---- scripts/aws-contract ---------------------------------------------------------

/// `scripts/aws-contract` with `args`, as `account` of `emulator` when given.
fn contract(python: &std::path::Path, emulator: Option<(&Emulator, &str)>, args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(python);
    command
        .arg(
            crate::support::emulator::repo_root()
                .join("scripts")
                .join("aws-contract"),
        )
        .args(args)
        .stdin(std::process::Stdio::null());
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            command.env_remove(key);
        }
    }
    if let Some((emulator, account)) = emulator {
        command.envs(emulator.aws_env(account));
    }
    command
}

/// Spawning with SIGINT at its default disposition: a test run started in
/// the background by a shell without job control inherits SIGINT ignored,
/// and Python then installs no KeyboardInterrupt handler, so the Ctrl-C this
/// test sends would be lost.
trait SpawnWithSigint {
    fn spawn_with_sigint(&mut self) -> std::io::Result<std::process::Child>;
}

impl SpawnWithSigint for std::process::Command {
    fn spawn_with_sigint(&mut self) -> std::io::Result<std::process::Child> {
        use std::os::unix::process::CommandExt;
        // SAFETY: signal(2) is async-signal-safe, as pre_exec requires.
        unsafe {
            self.pre_exec(|| {
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                Ok(())
            });
        }
        self.spawn()
    }
}

fn venv_python() -> std::path::PathBuf {
    // The shared emulator builds the virtualenv (it has boto3).
    shared_emulator();
    crate::support::emulator::venv_dir().join("bin").join("python")
}

/// Applications of the account that are not TERMINATED.
async fn live_applications(emulator: &Emulator, account: &str) -> Vec<String> {
    let cloud = connect(emulator, account).await;
    cloud
        .list_applications()
        .await
        .expect("list")
        .into_iter()
        .map(|summary| summary.name.unwrap_or(summary.id))
        .collect()
}

#[test]
fn aws_contract_refuses_to_run_without_consent_and_an_account() {
    let python = venv_python();
    for args in [
        vec!["--profile", "sandbox"],
        vec!["--i-understand-this-creates-resources"],
        vec![
            "--i-understand-this-creates-resources",
            "--endpoint-url",
            "https://emr-serverless.us-east-1.amazonaws.com",
        ],
    ] {
        let output = contract(&python, None, &args).output().expect("run aws-contract");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("refusing to run"), "{args:?}: {stderr}");
    }
}

#[tokio::test]
async fn aws_contract_checks_every_belief_against_the_emulator_and_deletes_what_it_created() {
    let emulator = shared_emulator();
    let account = Emulator::new_account();
    // An image EMR Serverless may pull, and a job runtime role.
    crate::support::fixtures::repository(emulator, &account, "contract/spark").await;
    crate::support::fixtures::push_image(emulator, &account, "contract/spark", "v1", 'a').await;
    let config = sdk_config(emulator, &account).await;
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "EmrServerlessPull",
            "Effect": "Allow",
            "Principal": {"Service": "emr-serverless.amazonaws.com"},
            "Action": ["ecr:BatchGetImage", "ecr:DescribeImages", "ecr:GetDownloadUrlForLayer"],
        }],
    });
    aws_sdk_ecr::Client::new(&config)
        .set_repository_policy()
        .repository_name("contract/spark")
        .policy_text(policy.to_string())
        .send()
        .await
        .expect("SetRepositoryPolicy");
    let role = aws_sdk_iam::Client::new(&config)
        .create_role()
        .role_name("contract-job-role")
        .assume_role_policy_document(trust_policy("contract", &account, &[]).to_string())
        .send()
        .await
        .expect("CreateRole")
        .role
        .expect("role")
        .arn;
    let image = format!("{account}.dkr.ecr.us-east-1.amazonaws.com/contract/spark:v1");
    let endpoint = emulator.endpoint();
    let args = [
        "--i-understand-this-creates-resources",
        "--endpoint-url",
        endpoint.as_str(),
        "--region",
        "us-east-1",
        "--image-uri",
        image.as_str(),
        "--execution-role-arn",
        role.as_str(),
        "--poll",
        "0.05",
        "--timeout",
        "60",
    ];
    let mut command = contract(&venv_python(), Some((emulator, &account)), &args);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("join")
        .expect("run aws-contract");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let rows: Vec<&str> = stdout.lines().filter(|line| line.starts_with('[')).collect();
    assert_eq!(rows.len(), 13, "one row per belief:\n{stdout}");
    for row in &rows {
        assert!(row.trim_end().ends_with("PASS"), "{row}\n{stderr}");
    }
    assert!(stderr.contains("deleted the"), "{stderr}");
    assert_eq!(live_applications(emulator, &account).await, Vec::<String>::new());
}

#[tokio::test]
async fn aws_contract_deletes_what_it_created_when_interrupted() {
    // Its own emulator: starts take long enough to interrupt one.
    let emulator = Emulator::builder()
        .env("EMULATOR_DELAY_START_MS", "3000")
        .quiet()
        .start();
    let account = Emulator::new_account();
    let endpoint = emulator.endpoint();
    let child = contract(
        &venv_python(),
        Some((&emulator, &account)),
        &[
            "--i-understand-this-creates-resources",
            "--endpoint-url",
            &endpoint,
            "--only",
            "scheduler-started",
            "--poll",
            "0.05",
            "--timeout",
            "60",
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn_with_sigint()
    .expect("spawn aws-contract");
    // Wait until its application is starting, then press Ctrl-C.
    let cloud = connect(&emulator, &account).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let listed = cloud.list_applications().await.expect("list");
        if listed.iter().any(|app| app.state == ApplicationState::Starting) {
            break;
        }
        assert!(Instant::now() < deadline, "the script never started an application");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let signal = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(signal.success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("wait for aws-contract");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_eq!(
        live_applications(&emulator, &account).await,
        Vec::<String>::new(),
        "{stderr}"
    );
}
