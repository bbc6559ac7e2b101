//! Executor tests on the in-memory fake: ordering, the parallelism cap,
//! failures skipping only their dependents, the EMR Serverless lifecycle
//! (live updates, stop/update/start, running jobs, stop before delete),
//! replacement cascades, idempotent re-runs and convergence.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::cloud::ErrorKind;
use crate::cloud::fake::{FakeCloud, FakeTimings};
use crate::diff::Mode;
use crate::model::{
    ApplicationSpec, ApplicationState, Desired, DesiredApplication, DesiredImage, DesiredRepository, DesiredRole,
    Engine, MaximumCapacity, ResourceKind,
};
use crate::planning::plan_without_errors as plan;

fn options() -> ApplyOptions {
    ApplyOptions {
        poll_interval: Duration::from_secs(1),
        max_poll_interval: Duration::from_secs(5),
        retry: RetryPolicy {
            attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
        },
        ..ApplyOptions::default()
    }
}

fn application(name: &str) -> DesiredApplication {
    DesiredApplication {
        spec: ApplicationSpec::<DesiredImage>::new(name, Engine::Spark, "emr-7.2.0"),
        network: None,
        prevent_destroy: false,
    }
}

fn role(name: &str, trust: &[&str]) -> DesiredRole {
    DesiredRole {
        name: name.to_string(),
        path: "/".to_string(),
        description: None,
        max_session_duration: 3600,
        permissions_boundary: None,
        inline_policies: BTreeMap::from([(
            "s3".to_string(),
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}),
        )]),
        managed_policy_arns: Default::default(),
        trust_applications: trust.iter().map(|s| s.to_string()).collect(),
        trust_policy: None,
        tags: BTreeMap::new(),
        prevent_destroy: false,
    }
}

/// Applies until the plan is empty (at most `rounds` times), asserting each apply succeeds.
async fn converge(cloud: &FakeCloud, desired: &Desired, options: &ApplyOptions) {
    let first = plan(cloud, desired, Mode::Apply).await;
    let report = execute(cloud, &first, options, &SilentObserver).await;
    assert!(report.is_success(), "{:?}", report.outcomes);
    let again = plan(cloud, desired, Mode::Apply).await;
    let pending: Vec<String> = again
        .actionable()
        .map(|c| format!("{} {} {:?}", c.address, c.action, c.fields))
        .collect();
    assert!(pending.is_empty(), "not converged: {pending:#?}");
}

fn stack_with_apps(n: usize) -> Desired {
    let mut desired = Desired::empty("dev");
    for i in 0..n {
        desired
            .applications
            .insert(format!("a{i:02}"), application(&format!("dev-a{i:02}")));
    }
    desired
}

#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<Event>>,
}

impl Observer for Recorder {
    fn event(&self, event: &Event) {
        self.events.lock().unwrap().push(event.clone());
    }
}

impl Recorder {
    fn started(&self) -> Vec<String> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter_map(|event| match event {
                Event::Started { address, phase, .. } => Some(format!("{address} {phase:?}")),
                _ => None,
            })
            .collect()
    }
}

#[tokio::test(start_paused = true)]
async fn creates_everything_and_a_second_plan_is_empty() {
    let cloud = FakeCloud::new();
    let mut desired = stack_with_apps(2);
    desired.roles.insert("etl".to_string(), role("dev-etl", &["a00"]));
    converge(&cloud, &desired, &options()).await;
    assert_eq!(cloud.applications().len(), 2);
    let roles = cloud.roles();
    assert_eq!(roles.len(), 1);
    let trust = roles[0].spec.trust_policy.to_string();
    let apps = cloud.applications();
    let arn = &apps.iter().find(|a| a.spec.name == "dev-a00").unwrap().arn;
    assert!(trust.contains(arn.as_str()), "{trust}");
}

#[tokio::test(start_paused = true)]
async fn never_more_changes_in_flight_than_the_parallelism() {
    let cloud = FakeCloud::new();
    let desired = stack_with_apps(20);
    let plan = plan(&cloud, &desired, Mode::Apply).await;
    cloud.reset_counters();
    let options = ApplyOptions {
        parallelism: 3,
        ..options()
    };
    let report = execute(&cloud, &plan, &options, &SilentObserver).await;
    assert_eq!(report.applied(), 20);
    assert_eq!(cloud.peak_in_flight(), 3);
    let one = ApplyOptions {
        parallelism: 1,
        ..options.clone()
    };
    let cloud = FakeCloud::new();
    let plan = super::tests::plan(&cloud, &desired, Mode::Apply).await;
    cloud.reset_counters();
    execute(&cloud, &plan, &one, &SilentObserver).await;
    assert_eq!(cloud.peak_in_flight(), 1);
}

#[tokio::test(start_paused = true)]
async fn parallelism_shortens_the_wall_time() {
    let desired = stack_with_apps(10);
    let mut elapsed = Vec::new();
    for parallelism in [1, 10] {
        let cloud = FakeCloud::new();
        let plan = plan(&cloud, &desired, Mode::Apply).await;
        let started = tokio::time::Instant::now();
        let options = ApplyOptions {
            parallelism,
            ..options()
        };
        assert!(execute(&cloud, &plan, &options, &SilentObserver).await.is_success());
        elapsed.push(started.elapsed());
    }
    // Each create waits about 2 s for CREATED; ten in a row take ten times as long.
    assert!(elapsed[0] >= elapsed[1] * 5, "{elapsed:?}");
}

#[tokio::test(start_paused = true)]
async fn a_failed_change_skips_only_its_dependents() {
    let cloud = FakeCloud::new();
    let mut desired = stack_with_apps(2);
    desired.roles.insert("etl".to_string(), role("dev-etl", &["a00"]));
    desired.roles.insert("other".to_string(), role("dev-other", &[]));
    let plan = plan(&cloud, &desired, Mode::Apply).await;
    cloud.fail("CreateApplication", Some("dev-a00"), ErrorKind::Invalid, 10);
    let recorder = Recorder::default();
    let report = execute(&cloud, &plan, &options(), &recorder).await;
    let outcome = |address: &str| {
        report
            .outcomes
            .iter()
            .find(|o| o.address.as_ref().map(|a| a.to_string()).as_deref() == Some(address))
            .map(|o| o.outcome.clone())
            .unwrap()
    };
    // The failure keeps the kind of the AWS error.
    assert!(
        matches!(outcome("application.a00"), Outcome::Failed(ChangeError::Cloud(ref error)) if error.kind == ErrorKind::Invalid)
    );
    assert!(matches!(outcome("role.etl"), Outcome::Skipped(ref why) if why.contains("application.a00")));
    assert_eq!(outcome("application.a01"), Outcome::Applied);
    assert_eq!(outcome("role.other"), Outcome::Applied);
    assert_eq!((report.applied(), report.failed(), report.skipped()), (2, 1, 1));
    assert!(!recorder.started().iter().any(|s| s.starts_with("role.etl")));
}

#[tokio::test(start_paused = true)]
async fn release_label_change_on_a_started_application_stops_updates_and_restarts_it() {
    let cloud = FakeCloud::new();
    let mut desired = stack_with_apps(1);
    converge(&cloud, &desired, &options()).await;
    let id = cloud.applications()[0].id.clone();
    cloud.set_application_state(&id, ApplicationState::Started);
    desired.applications.get_mut("a00").unwrap().spec.release_label = "emr-7.3.0".to_string();
    cloud.reset_counters();
    converge(&cloud, &desired, &options()).await;
    let app = &cloud.applications()[0];
    assert_eq!(app.spec.release_label, "emr-7.3.0");
    assert_eq!(app.state, ApplicationState::Started);
    assert_eq!(cloud.call_count("StopApplication"), 1);
    assert_eq!(cloud.call_count("StartApplication"), 1);
}

#[tokio::test(start_paused = true)]
async fn live_changes_do_not_stop_a_started_application() {
    let cloud = FakeCloud::new();
    let mut desired = stack_with_apps(1);
    converge(&cloud, &desired, &options()).await;
    let id = cloud.applications()[0].id.clone();
    cloud.set_application_state(&id, ApplicationState::Started);
    desired.applications.get_mut("a00").unwrap().spec.maximum_capacity = Some(MaximumCapacity {
        cpu: 100,
        memory_gb: 400,
        disk_gb: None,
    });
    cloud.reset_counters();
    converge(&cloud, &desired, &options()).await;
    assert_eq!(cloud.call_count("StopApplication"), 0);
    assert_eq!(cloud.applications()[0].state, ApplicationState::Started);
}

async fn started_app_with_job(runs_for: Option<Duration>) -> (FakeCloud, Desired, String, String) {
    let cloud = FakeCloud::new();
    let mut desired = stack_with_apps(1);
    converge(&cloud, &desired, &options()).await;
    let id = cloud.applications()[0].id.clone();
    cloud.set_application_state(&id, ApplicationState::Started);
    let job = cloud.add_job(&id, runs_for);
    desired.applications.get_mut("a00").unwrap().spec.release_label = "emr-7.3.0".to_string();
    (cloud, desired, id, job)
}

#[tokio::test(start_paused = true)]
async fn a_running_job_fails_the_stop_by_default_naming_the_job() {
    let (cloud, desired, _, job) = started_app_with_job(None).await;
    let plan = plan(&cloud, &desired, Mode::Apply).await;
    let report = execute(&cloud, &plan, &options(), &SilentObserver).await;
    let Outcome::Failed(error) = &report.outcomes[0].outcome else {
        panic!("{:?}", report.outcomes)
    };
    assert_eq!(error.kind_name(), "running jobs");
    let message = error.to_string();
    assert!(message.contains(&job), "{message}");
    assert!(message.contains("--on-running"), "{message}");
    assert_eq!(cloud.call_count("StopApplication"), 0);
    assert_eq!(cloud.applications()[0].spec.release_label, "emr-7.2.0");
}

#[tokio::test(start_paused = true)]
async fn on_running_wait_waits_for_the_job_to_finish() {
    let (cloud, desired, _, _) = started_app_with_job(Some(Duration::from_secs(120))).await;
    let options = ApplyOptions {
        on_running: OnRunning::Wait,
        ..options()
    };
    let started = tokio::time::Instant::now();
    converge(&cloud, &desired, &options).await;
    assert!(started.elapsed() >= Duration::from_secs(120));
    assert_eq!(cloud.call_count("CancelJobRun"), 0);
}

#[tokio::test(start_paused = true)]
async fn on_running_wait_gives_up_after_the_job_timeout() {
    let (cloud, desired, _, _) = started_app_with_job(None).await;
    let options = ApplyOptions {
        on_running: OnRunning::Wait,
        job_timeout: Duration::from_secs(60),
        ..options()
    };
    let plan = plan(&cloud, &desired, Mode::Apply).await;
    let report = execute(&cloud, &plan, &options, &SilentObserver).await;
    assert!(matches!(&report.outcomes[0].outcome, Outcome::Failed(m) if m.to_string().contains("still has 1")));
}

#[tokio::test(start_paused = true)]
async fn on_running_cancel_cancels_the_job_then_updates() {
    let (cloud, desired, _, job) = started_app_with_job(None).await;
    let options = ApplyOptions {
        on_running: OnRunning::Cancel,
        ..options()
    };
    converge(&cloud, &desired, &options).await;
    assert_eq!(cloud.call_count("CancelJobRun"), 1);
    assert!(
        cloud
            .calls()
            .iter()
            .any(|(op, subject)| op == "CancelJobRun" && subject == &job)
    );
}

/// A STARTED application with a streaming job run and an interactive
/// session, and a release bump that needs a stop.
async fn started_app_with_streaming_run_and_session() -> (FakeCloud, Desired, String, String) {
    let cloud = FakeCloud::new();
    let mut desired = stack_with_apps(1);
    converge(&cloud, &desired, &options()).await;
    let id = cloud.applications()[0].id.clone();
    cloud.set_application_state(&id, ApplicationState::Started);
    let run = cloud.add_job_run(&id, crate::model::JobRunMode::Streaming, None);
    let session = cloud.add_session(&id);
    desired.applications.get_mut("a00").unwrap().spec.release_label = "emr-7.3.0".to_string();
    (cloud, desired, run, session)
}

#[tokio::test(start_paused = true)]
async fn a_streaming_run_and_a_session_fail_the_stop_by_default_naming_both() {
    let (cloud, desired, run, session) = started_app_with_streaming_run_and_session().await;
    let plan = plan(&cloud, &desired, Mode::Apply).await;
    let report = execute(&cloud, &plan, &options(), &SilentObserver).await;
    let Outcome::Failed(error) = &report.outcomes[0].outcome else {
        panic!("{:?}", report.outcomes)
    };
    let message = error.to_string();
    assert!(message.contains(&run) && message.contains("STREAMING"), "{message}");
    assert!(message.contains(&session), "{message}");
    assert!(message.contains("1 job run and 1 session"), "{message}");
    assert_eq!(cloud.call_count("StopApplication"), 0);
}

#[tokio::test(start_paused = true)]
async fn on_running_cancel_cancels_runs_and_terminates_sessions_then_updates() {
    let (cloud, desired, run, session) = started_app_with_streaming_run_and_session().await;
    let options = ApplyOptions {
        on_running: OnRunning::Cancel,
        ..options()
    };
    converge(&cloud, &desired, &options).await;
    let calls = cloud.calls();
    assert!(
        calls
            .iter()
            .any(|(op, subject)| op == "CancelJobRun" && subject == &run)
    );
    assert!(
        calls
            .iter()
            .any(|(op, subject)| op == "TerminateSession" && subject == &session)
    );
    let app = &cloud.applications()[0];
    assert_eq!(
        (app.spec.release_label.as_str(), app.state),
        ("emr-7.3.0", ApplicationState::Started)
    );
}

#[tokio::test(start_paused = true)]
async fn on_running_wait_gives_up_on_a_session_after_the_job_timeout() {
    let (cloud, desired, _, session) = started_app_with_streaming_run_and_session().await;
    let options = ApplyOptions {
        on_running: OnRunning::Wait,
        job_timeout: Duration::from_secs(60),
        ..options()
    };
    let plan = plan(&cloud, &desired, Mode::Apply).await;
    let report = execute(&cloud, &plan, &options, &SilentObserver).await;
    assert!(
        matches!(&report.outcomes[0].outcome, Outcome::Failed(m) if m.to_string().contains(&session)),
        "{:?}",
        report.outcomes
    );
}

#[tokio::test(start_paused = true)]
async fn a_max_concurrent_runs_change_is_sent_alone_to_a_started_application() {
    let cloud = FakeCloud::new();
    let mut desired = stack_with_apps(1);
    desired.applications.get_mut("a00").unwrap().spec.scheduler = Some(crate::model::Scheduler {
        max_concurrent_runs: Some(5),
        queue_timeout_minutes: Some(60),
    });
    converge(&cloud, &desired, &options()).await;
    let id = cloud.applications()[0].id.clone();
    cloud.set_application_state(&id, ApplicationState::Started);
    desired
        .applications
        .get_mut("a00")
        .unwrap()
        .spec
        .scheduler
        .as_mut()
        .unwrap()
        .max_concurrent_runs = Some(8);
    cloud.reset_counters();
    // The fake refuses a STARTED scheduler update that names the queue
    // timeout, as the service does.
    converge(&cloud, &desired, &options()).await;
    assert_eq!(cloud.call_count("StopApplication"), 0);
    let app = &cloud.applications()[0];
    assert_eq!(app.state, ApplicationState::Started);
    assert_eq!(
        app.spec.scheduler,
        Some(crate::model::Scheduler {
            max_concurrent_runs: Some(8),
            queue_timeout_minutes: Some(60),
        })
    );
}

#[tokio::test(start_paused = true)]
async fn a_live_image_change_resolved_at_start_is_reported_in_the_summary() {
    let cloud = FakeCloud::new();
    let mut desired = stack_with_apps(1);
    let image = |tag: &str| DesiredImage {
        source: crate::model::ImageSource::Uri {
            uri: format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/spark:{tag}"),
        },
        application_level_digest_resolution: None,
    };
    desired.applications.get_mut("a00").unwrap().spec.image = Some(image("v1"));
    converge(&cloud, &desired, &options()).await;
    let id = cloud.applications()[0].id.clone();
    cloud.set_application_state(&id, ApplicationState::Started);
    desired.applications.get_mut("a00").unwrap().spec.image = Some(image("v2"));
    cloud.reset_counters();
    let plan = plan(&cloud, &desired, Mode::Apply).await;
    let report = execute(&cloud, &plan, &options(), &SilentObserver).await;
    assert!(report.is_success(), "{:?}", report.outcomes);
    assert_eq!(cloud.call_count("StopApplication"), 0);
    assert_eq!(report.notices.len(), 1, "{:?}", report.notices);
    assert_eq!(report.notices[0].address.to_string(), "application.a00");
    assert!(
        report.notices[0].text.contains("only after it is restarted"),
        "{:?}",
        report.notices
    );
}

#[tokio::test(start_paused = true)]
async fn replacement_rewrites_the_trust_policy_and_repository_then_deletes_the_old_application() {
    let cloud = FakeCloud::new();
    cloud.insert_repository("analytics/spark", None);
    let mut desired = stack_with_apps(1);
    desired.roles.insert("etl".to_string(), role("dev-etl", &["a00"]));
    desired.repositories.insert(
        "spark".to_string(),
        DesiredRepository {
            name: "analytics/spark".to_string(),
            applications: vec!["a00".to_string()],
        },
    );
    converge(&cloud, &desired, &options()).await;
    let old = cloud.applications()[0].clone();
    cloud.set_application_state(&old.id, ApplicationState::Started);
    desired.applications.get_mut("a00").unwrap().spec.name = "dev-a00-v2".to_string();
    let plan = plan(&cloud, &desired, Mode::Apply).await;
    let recorder = Recorder::default();
    let report = execute(&cloud, &plan, &options(), &recorder).await;
    assert!(report.is_success(), "{:?}", report.outcomes);
    let started = recorder.started();
    let position = |what: &str| started.iter().position(|s| s == what).unwrap();
    assert!(position("application.a00 Main") < position("role.etl Main"));
    assert!(position("role.etl Main") < position("application.a00 Cleanup"));
    assert!(position("repository.spark Main") < position("application.a00 Cleanup"));
    let apps = cloud.applications();
    let new = apps.iter().find(|a| a.spec.name == "dev-a00-v2").unwrap();
    assert_eq!(
        apps.iter().find(|a| a.id == old.id).unwrap().state,
        ApplicationState::Terminated
    );
    let trust = cloud.roles()[0].spec.trust_policy.to_string();
    assert!(trust.contains(&new.arn) && !trust.contains(&old.arn), "{trust}");
    let policy = cloud.repository("analytics/spark").unwrap().policy.unwrap().to_string();
    assert!(policy.contains(&new.arn) && !policy.contains(&old.arn), "{policy}");
    converge(&cloud, &desired, &options()).await;
}

#[tokio::test(start_paused = true)]
async fn rerunning_a_plan_after_an_interruption_creates_nothing_twice() {
    let cloud = FakeCloud::new();
    let desired = stack_with_apps(3);
    let plan = plan(&cloud, &desired, Mode::Apply).await;
    // The first run dies after one create is sent: the answer is lost, so
    // the same plan is applied again.
    cloud.fail("GetApplication", None, ErrorKind::Other, 1);
    let first = execute(&cloud, &plan, &options(), &SilentObserver).await;
    assert_eq!(first.failed(), 1);
    let second = execute(&cloud, &plan, &options(), &SilentObserver).await;
    assert!(second.is_success(), "{:?}", second.outcomes);
    assert_eq!(cloud.applications().len(), 3);
    converge(&cloud, &desired, &options()).await;
}

#[tokio::test(start_paused = true)]
async fn throttling_is_retried_and_still_converges() {
    let cloud = FakeCloud::new();
    let mut desired = stack_with_apps(2);
    desired.roles.insert("etl".to_string(), role("dev-etl", &["a00"]));
    cloud.fail("CreateApplication", None, ErrorKind::Throttled, 2);
    cloud.fail("PutRolePolicy", None, ErrorKind::Transient, 1);
    converge(&cloud, &desired, &options()).await;
}

#[tokio::test(start_paused = true)]
async fn a_new_role_not_yet_visible_is_retried_within_the_propagation_window() {
    let cloud = FakeCloud::new();
    let mut desired = Desired::empty("dev");
    desired.roles.insert("etl".to_string(), role("dev-etl", &[]));
    cloud.fail("PutRolePolicy", None, ErrorKind::NotFound, 3);
    converge(&cloud, &desired, &options()).await;
    let short = ApplyOptions {
        propagation_timeout: Duration::from_millis(1),
        ..options()
    };
    let cloud = FakeCloud::new();
    cloud.fail("PutRolePolicy", None, ErrorKind::NotFound, 100);
    let plan = plan(&cloud, &desired, Mode::Apply).await;
    assert_eq!(execute(&cloud, &plan, &short, &SilentObserver).await.failed(), 1);
}

#[tokio::test(start_paused = true)]
async fn destroy_stops_and_deletes_in_reverse_order_and_leaves_foreign_statements() {
    let cloud = FakeCloud::new();
    let foreign = json!({"Sid": "Team", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "ecr:*"});
    cloud.insert_repository(
        "analytics/spark",
        Some(json!({"Version": "2012-10-17", "Statement": [foreign.clone()]})),
    );
    let mut desired = stack_with_apps(2);
    desired.roles.insert("etl".to_string(), role("dev-etl", &["a00"]));
    desired.repositories.insert(
        "spark".to_string(),
        DesiredRepository {
            name: "analytics/spark".to_string(),
            applications: vec!["a00".to_string(), "a01".to_string()],
        },
    );
    converge(&cloud, &desired, &options()).await;
    for app in cloud.applications() {
        cloud.set_application_state(&app.id, ApplicationState::Started);
    }
    let plan = plan(&cloud, &desired, Mode::Destroy).await;
    let recorder = Recorder::default();
    let report = execute(&cloud, &plan, &options(), &recorder).await;
    assert!(report.is_success(), "{:?}", report.outcomes);
    let started = recorder.started();
    let position = |what: &str| started.iter().position(|s| s == what).unwrap();
    assert!(position("role.etl Main") < position("application.a00 Main"));
    assert!(position("repository.spark Main") < position("application.a00 Main"));
    assert!(
        cloud
            .applications()
            .iter()
            .all(|a| a.state == ApplicationState::Terminated)
    );
    assert!(cloud.roles().is_empty());
    assert_eq!(
        cloud.repository("analytics/spark").unwrap().policy,
        Some(json!({"Version": "2012-10-17", "Statement": [foreign]}))
    );
    let after = super::tests::plan(&cloud, &desired, Mode::Destroy).await;
    assert!(!after.has_changes());
}

#[tokio::test(start_paused = true)]
async fn an_application_removed_from_the_stack_is_stopped_and_deleted() {
    let cloud = FakeCloud::with_timings(FakeTimings::default());
    let mut desired = stack_with_apps(2);
    converge(&cloud, &desired, &options()).await;
    let gone = cloud
        .applications()
        .into_iter()
        .find(|a| a.spec.name == "dev-a01")
        .unwrap();
    cloud.set_application_state(&gone.id, ApplicationState::Started);
    desired.applications.remove("a01");
    converge(&cloud, &desired, &options()).await;
    let states: Vec<ApplicationState> = cloud.applications().iter().map(|a| a.state).collect();
    assert_eq!(states.iter().filter(|s| **s == ApplicationState::Terminated).count(), 1);
    let _ = ResourceKind::Application;
}

#[tokio::test(start_paused = true)]
async fn a_halt_starts_nothing_new_and_abandons_the_changes_in_flight() {
    let cloud = FakeCloud::new();
    let mut desired = stack_with_apps(3);
    desired.roles.insert("etl".to_string(), role("dev-etl", &["a00"]));
    let plan = plan(&cloud, &desired, Mode::Apply).await;
    let options = ApplyOptions {
        parallelism: 1,
        ..options()
    };
    let (tx, rx) = tokio::sync::watch::channel(None);
    let recorder = Recorder::default();
    let halter = async {
        // Halt while the second change is in flight.
        while recorder.started().len() < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tx.send(Some("the stack lock was lost".to_string())).unwrap();
    };
    let (report, ()) = tokio::join!(execute_until(&cloud, &plan, &options, &recorder, Halt::new(rx)), halter);
    assert_eq!(report.halted.as_deref(), Some("the stack lock was lost"));
    assert!(!report.is_success());
    assert_eq!((report.applied(), report.failed(), report.skipped()), (1, 1, 2));
    let texts: Vec<String> = report
        .outcomes
        .iter()
        .filter_map(|outcome| match &outcome.outcome {
            Outcome::Failed(error) => Some(error.to_string()),
            Outcome::Skipped(text) => Some(text.clone()),
            Outcome::Applied => None,
        })
        .collect();
    assert!(texts[0].starts_with("abandoned: the stack lock was lost"), "{texts:?}");
    assert!(
        texts[1..].iter().all(|text| text.starts_with("not started: ")),
        "{texts:?}"
    );
    assert_eq!(recorder.started().len(), 2, "nothing starts after the halt");
    // The abandoned change makes no further calls.
    let creates = cloud.call_count("CreateApplication");
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(cloud.call_count("CreateApplication"), creates);
    // The next apply finishes the job.
    converge(&cloud, &desired, &options).await;
    assert_eq!(cloud.applications().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn an_apply_halted_before_it_starts_changes_nothing() {
    let cloud = FakeCloud::new();
    let desired = stack_with_apps(2);
    let plan = plan(&cloud, &desired, Mode::Apply).await;
    cloud.reset_counters();
    let (_tx, rx) = tokio::sync::watch::channel(Some("interrupted".to_string()));
    let report = execute_until(&cloud, &plan, &options(), &SilentObserver, Halt::new(rx)).await;
    assert_eq!(report.halted.as_deref(), Some("interrupted"));
    assert_eq!((report.applied(), report.failed(), report.skipped()), (0, 0, 2));
    assert!(cloud.calls().is_empty(), "{:?}", cloud.calls());
}

/// A role created with the stack's ownership tags, but no applied record,
/// between plan and apply: the create meets it and refuses to take it
/// over, saying what it is (it carries the address, not emrstack's record)
/// rather than that it is not the stack's; a role of another address is
/// refused as not this stack's.
#[tokio::test(start_paused = true)]
async fn a_role_created_meanwhile_with_the_address_but_no_record_is_not_taken_over() {
    let check = async |address: &str, expect: &str| {
        let cloud = FakeCloud::new();
        let mut desired = Desired::empty("dev");
        desired.roles.insert("etl".to_string(), role("dev-etl", &[]));
        let plan = plan(&cloud, &desired, Mode::Apply).await;
        cloud.insert_role(crate::model::ObservedRole {
            arn: "arn:aws:iam::123456789012:role/dev-etl".to_string(),
            role_id: "AROADEVETL".to_string(),
            spec: crate::model::RoleSpec {
                name: "dev-etl".to_string(),
                path: "/".to_string(),
                description: None,
                max_session_duration: 3600,
                permissions_boundary: None,
                trust_policy: json!({}),
                inline_policies: BTreeMap::new(),
                managed_policy_arns: Default::default(),
                tags: BTreeMap::from([
                    (crate::model::tags::STACK_TAG.to_string(), "dev".to_string()),
                    (crate::model::tags::ADDRESS_TAG.to_string(), address.to_string()),
                ]),
            },
        });
        let report = execute(&cloud, &plan, &options(), &SilentObserver).await;
        let Outcome::Failed(error) = &report.outcomes[0].outcome else {
            panic!("{:?}", report.outcomes);
        };
        let message = error.to_string();
        assert!(message.contains(expect), "{message}");
        assert!(
            !message.contains(if address == "role.etl" { "is not" } else { "carries" }),
            "{message}"
        );
        assert_eq!(cloud.call_count("TagRole") + cloud.call_count("PutRolePolicy"), 0);
    };
    check(
        "role.etl",
        "carries the address `role.etl` of this stack but no applied record",
    )
    .await;
    check("role.other", "is not `role.etl` of this stack").await;
}

/// The plan decides what an update changes and the executor only does it:
/// a field that drifts after the plan was made is left for the next plan,
/// and applying the plan again makes no call for what is already done.
#[tokio::test(start_paused = true)]
async fn a_role_update_changes_the_planned_fields_only_and_reruns_skip_what_is_done() {
    let cloud = FakeCloud::new();
    let mut desired = Desired::empty("dev");
    desired.roles.insert("etl".to_string(), role("dev-etl", &[]));
    converge(&cloud, &desired, &options()).await;
    let policy =
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]});
    let declared = desired.roles.get_mut("etl").unwrap();
    declared.inline_policies.insert("s3".to_string(), policy.clone());
    let planned = plan(&cloud, &desired, Mode::Apply).await;
    let change = planned
        .changes
        .iter()
        .find(|c| c.address.to_string() == "role.etl")
        .unwrap();
    let crate::diff::Target::Role(target) = &change.target else {
        panic!("not a role change")
    };
    assert_eq!(
        target.update_fields.iter().map(|f| f.key()).collect::<Vec<_>>(),
        vec!["policies.s3"]
    );
    // Changed by hand after the plan was made.
    cloud.update_role("dev-etl", Some("by hand"), 7200).await.unwrap();
    cloud.reset_counters();
    let report = execute(&cloud, &planned, &options(), &SilentObserver).await;
    assert!(report.is_success(), "{:?}", report.outcomes);
    assert_eq!(cloud.call_count("PutRolePolicy"), 1);
    assert_eq!(cloud.call_count("UpdateRole"), 0);
    let role = &cloud.roles()[0];
    assert_eq!(role.spec.inline_policies["s3"], policy);
    assert_eq!(role.spec.description.as_deref(), Some("by hand"));
    cloud.reset_counters();
    let again = execute(&cloud, &planned, &options(), &SilentObserver).await;
    assert!(again.is_success(), "{:?}", again.outcomes);
    assert_eq!(cloud.call_count("PutRolePolicy"), 0);
    assert_eq!(cloud.call_count("TagRole"), 0);
    assert_eq!(cloud.call_count("UpdateRole"), 0);
    // The next plan finds the drift.
    let next = plan(&cloud, &desired, Mode::Apply).await;
    let pending: Vec<String> = next.actionable().map(|c| c.address.to_string()).collect();
    assert_eq!(pending, vec!["role.etl"]);
}
