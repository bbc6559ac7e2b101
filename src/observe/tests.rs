//! Tests of observation against the in-memory fake.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::cloud::fake::{FakeCloud, FakeTimings};
use crate::model::{
    Address, ApplicationSpec, ApplicationState, DesiredApplication, DesiredImage, DesiredRepository, DesiredRole,
    Engine, ImageConfig, ObservedRole, RoleSpec, tags,
};

fn owned_tags(stack: &str, address: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (tags::STACK_TAG.to_string(), stack.to_string()),
        (tags::ADDRESS_TAG.to_string(), address.to_string()),
    ])
}

fn app(name: &str, tags: BTreeMap<String, String>) -> ApplicationSpec {
    let mut spec = ApplicationSpec::new(name, Engine::Spark, "emr-7.2.0");
    spec.tags = tags;
    spec
}

fn desired_with_app(key: &str, name: &str) -> Desired {
    let mut desired = Desired::empty("dev");
    desired.applications.insert(
        key.to_string(),
        DesiredApplication {
            spec: ApplicationSpec::<DesiredImage>::new(name, Engine::Spark, "emr-7.2.0"),
            network: None,
            prevent_destroy: false,
        },
    );
    desired
}

fn role(name: &str, tags: BTreeMap<String, String>) -> ObservedRole {
    ObservedRole {
        arn: format!("arn:aws:iam::123456789012:role/{name}"),
        role_id: format!("AROA{name}"),
        spec: RoleSpec {
            name: name.to_string(),
            path: "/".to_string(),
            description: None,
            max_session_duration: 3600,
            permissions_boundary: None,
            trust_policy: crate::model::role::trust_policy("123456789012", &[]),
            inline_policies: BTreeMap::new(),
            managed_policy_arns: Default::default(),
            tags,
        },
    }
}

#[tokio::test(start_paused = true)]
async fn keeps_owned_and_same_named_applications_only() {
    let cloud = FakeCloud::new();
    let owned = cloud.insert_application(
        app("dev-etl", owned_tags("dev", "application.etl")),
        ApplicationState::Created,
    );
    let removed = cloud.insert_application(
        app("dev-old", owned_tags("dev", "application.old")),
        ApplicationState::Stopped,
    );
    let foreign = cloud.insert_application(app("dev-adhoc", BTreeMap::new()), ApplicationState::Created);
    cloud.insert_application(app("unrelated", BTreeMap::new()), ApplicationState::Created);
    cloud.insert_application(
        app("other", owned_tags("prod", "application.etl")),
        ApplicationState::Created,
    );
    let desired = {
        let mut desired = desired_with_app("etl", "dev-etl");
        desired
            .applications
            .extend(desired_with_app("adhoc", "dev-adhoc").applications);
        desired
    };
    let observation = observe(&cloud, &desired, &ObserveOptions::default()).await.unwrap();
    let mut ids: Vec<&str> = observation.actual.applications.iter().map(|a| a.id.as_str()).collect();
    ids.sort();
    let mut expect = vec![owned.id.as_str(), removed.id.as_str(), foreign.id.as_str()];
    expect.sort();
    assert_eq!(ids, expect);
    assert!(observation.diagnostics.is_empty());
}

#[tokio::test(start_paused = true)]
async fn terminated_applications_are_absent() {
    let cloud = FakeCloud::new();
    let gone = cloud.insert_application(
        app("dev-etl", owned_tags("dev", "application.etl")),
        ApplicationState::Stopped,
    );
    cloud.delete_application(&gone.id).await.unwrap();
    let observation = observe(&cloud, &desired_with_app("etl", "dev-etl"), &ObserveOptions::default())
        .await
        .unwrap();
    assert!(observation.actual.applications.is_empty());
}

#[tokio::test(start_paused = true)]
async fn wrong_account_stops_before_reading_anything_else() {
    let cloud = FakeCloud::new();
    let mut desired = desired_with_app("etl", "dev-etl");
    desired.stack.account_id = Some("999999999999".to_string());
    let observation = observe(&cloud, &desired, &ObserveOptions::default()).await.unwrap();
    let codes: Vec<&str> = observation.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, vec!["stack.wrong-account"]);
    assert_eq!(cloud.calls().len(), 1, "{:?}", cloud.calls());
}

#[tokio::test(start_paused = true)]
async fn calls_in_flight_never_exceed_the_parallelism() {
    let cloud = FakeCloud::new();
    for i in 0..40 {
        cloud.insert_application(
            app(&format!("a{i}"), owned_tags("dev", &format!("application.a{i}"))),
            ApplicationState::Created,
        );
    }
    let options = ObserveOptions { parallelism: 4 };
    observe(&cloud, &Desired::empty("dev"), &options).await.unwrap();
    assert_eq!(cloud.peak_in_flight(), 4);
    let options = ObserveOptions { parallelism: 1 };
    cloud.reset_counters();
    observe(&cloud, &Desired::empty("dev"), &options).await.unwrap();
    assert_eq!(cloud.peak_in_flight(), 1);
}

#[tokio::test(start_paused = true)]
async fn call_count_is_one_get_per_application_and_role_plus_the_lists() {
    let cloud = FakeCloud::new();
    let mut desired = Desired::empty("dev");
    for i in 0..7 {
        cloud.insert_application(
            app(&format!("a{i}"), owned_tags("dev", &format!("application.a{i}"))),
            ApplicationState::Created,
        );
    }
    for i in 0..3 {
        let name = format!("dev-r{i}");
        cloud.insert_role(role(&name, owned_tags("dev", &format!("role.r{i}"))));
        desired.roles.insert(
            format!("r{i}"),
            DesiredRole {
                name,
                path: "/".to_string(),
                description: None,
                max_session_duration: 3600,
                permissions_boundary: None,
                inline_policies: BTreeMap::new(),
                managed_policy_arns: Default::default(),
                trust_applications: Vec::new(),
                tags: BTreeMap::new(),
                prevent_destroy: false,
            },
        );
    }
    observe(&cloud, &desired, &ObserveOptions::default()).await.unwrap();
    assert_eq!(cloud.call_count("GetCallerIdentity"), 1);
    assert_eq!(cloud.call_count("ListApplications"), 1);
    assert_eq!(cloud.call_count("GetApplication"), 7);
    assert_eq!(cloud.call_count("ListRoles"), 1);
    assert_eq!(cloud.call_count("GetRole"), 3);
    assert_eq!(cloud.calls().len(), 13, "{:?}", cloud.calls());
}

#[tokio::test(start_paused = true)]
async fn undeclared_roles_are_kept_only_when_owned() {
    let cloud = FakeCloud::new();
    cloud.insert_role(role("dev-gone", owned_tags("dev", "role.gone")));
    cloud.insert_role(role("someone-elses", BTreeMap::new()));
    cloud.insert_role(role("prod-etl", owned_tags("prod", "role.etl")));
    let observation = observe(&cloud, &Desired::empty("dev"), &ObserveOptions::default())
        .await
        .unwrap();
    let names: Vec<&str> = observation.actual.roles.iter().map(|r| r.spec.name.as_str()).collect();
    assert_eq!(names, vec!["dev-gone"]);
}

#[tokio::test(start_paused = true)]
async fn repositories_are_read_with_the_digests_of_the_tags_in_use() {
    let cloud = FakeCloud::new();
    cloud.insert_repository(
        "analytics/spark",
        Some(json!({"Version": "2012-10-17", "Statement": []})),
    );
    cloud.insert_image("analytics/spark", "v1", "sha256:aaaa");
    cloud.insert_image("analytics/spark", "v2", "sha256:bbbb");
    let mut desired = desired_with_app("etl", "dev-etl");
    desired.repositories.insert(
        "spark".to_string(),
        DesiredRepository {
            name: "analytics/spark".to_string(),
            applications: vec!["etl".to_string()],
        },
    );
    desired.applications.get_mut("etl").unwrap().spec.image = Some(DesiredImage {
        source: ImageSource::Repository {
            repository: "spark".to_string(),
            tag: "v1".to_string(),
            pin_digest: true,
        },
        application_level_digest_resolution: None,
    });
    let observation = observe(&cloud, &desired, &ObserveOptions::default()).await.unwrap();
    assert!(observation.actual.repositories.contains_key("analytics/spark"));
    assert_eq!(
        observation.actual.image_digests["analytics/spark"],
        BTreeMap::from([("v1".to_string(), "sha256:aaaa".to_string())])
    );
}

#[tokio::test(start_paused = true)]
async fn repositories_of_owned_images_are_found_after_they_leave_the_stack() {
    let cloud = FakeCloud::new();
    cloud.insert_repository("analytics/spark", None);
    let mut spec = app("dev-etl", owned_tags("dev", "application.etl"));
    spec.image = Some(ImageConfig {
        image_uri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/analytics/spark@sha256:aaaa".to_string(),
        application_level_digest_resolution: None,
    });
    cloud.insert_application(spec, ApplicationState::Created);
    let observation = observe(&cloud, &Desired::empty("dev"), &ObserveOptions::default())
        .await
        .unwrap();
    assert!(observation.actual.repositories.contains_key("analytics/spark"));
}

#[tokio::test(start_paused = true)]
async fn running_work_lists_unfinished_runs_of_both_modes_and_active_sessions() {
    let cloud = FakeCloud::with_timings(FakeTimings::default());
    let running = cloud.insert_application(app("a", BTreeMap::new()), ApplicationState::Started);
    let idle = cloud.insert_application(app("b", BTreeMap::new()), ApplicationState::Started);
    let job = cloud.add_job(&running.id, None);
    let streaming = cloud.add_job_run(&running.id, crate::model::JobRunMode::Streaming, None);
    let finished = cloud.add_job(&running.id, Some(std::time::Duration::from_secs(1)));
    let session = cloud.add_session(&running.id);
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let work = running_work(
        &cloud,
        &[running.id.clone(), idle.id.clone()],
        &ObserveOptions::default(),
    )
    .await
    .unwrap();
    let runs: Vec<String> = work[&running.id].job_runs.iter().map(|j| j.id.clone()).collect();
    assert_eq!(runs, vec![job, streaming]);
    assert!(!runs.contains(&finished));
    assert_eq!(work[&running.id].sessions[0].id, session);
    assert!(work[&idle.id].is_empty());
    let _ = Address::application("a");
}
