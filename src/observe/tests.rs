//! Tests of observation against the in-memory fake.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::cloud::ErrorKind;
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
            trust_policy: crate::model::role::trust_policy("dev", "123456789012", &[]),
            inline_policies: BTreeMap::new(),
            managed_policy_arns: Default::default(),
            tags,
        },
    }
}

/// A declared role with the defaults (the diff tests' helper).
fn desired_role(name: &str) -> DesiredRole {
    crate::diff::tests::role(name)
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
    assert_eq!(cloud.call_count("GetResources"), 1);
    assert_eq!(cloud.call_count("GetApplication"), 7);
    assert_eq!(cloud.call_count("ListRoles"), 1);
    assert_eq!(cloud.call_count("GetRole"), 3);
    assert_eq!(cloud.calls().len(), 14, "{:?}", cloud.calls());
}

/// A role as emrstack writes it for `stack` (the trust policy carries the
/// stack marker), with the ownership tags of `address`.
fn stack_role(name: &str, stack: &str, address: &str) -> ObservedRole {
    let mut role = role(name, owned_tags(stack, address));
    role.spec.trust_policy = crate::model::role::trust_policy(stack, "123456789012", &[]);
    role
}

/// A job runtime role of someone else: it trusts EMR Serverless, with
/// AWS's usual statement and no emrstack tags.
fn foreign_role(name: &str) -> ObservedRole {
    let mut role = role(name, BTreeMap::new());
    role.spec.trust_policy = json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "EMRServerlessTrustPolicy", "Effect": "Allow",
        "Principal": {"Service": "emr-serverless.amazonaws.com"}, "Action": "sts:AssumeRole",
    }]});
    role
}

#[tokio::test(start_paused = true)]
async fn foreign_applications_and_roles_cost_their_list_entry_only() {
    let cloud = FakeCloud::new();
    let ours = cloud.insert_application(
        app("dev-etl", owned_tags("dev", "application.etl")),
        ApplicationState::Created,
    );
    let gone = cloud.insert_application(
        app("dev-old", owned_tags("dev", "application.old")),
        ApplicationState::Stopped,
    );
    for i in 0..30 {
        cloud.insert_application(app(&format!("other-{i}"), BTreeMap::new()), ApplicationState::Created);
        cloud.insert_role(foreign_role(&format!("other-{i}")));
    }
    cloud.insert_application(
        app("prod-etl", owned_tags("prod", "application.etl")),
        ApplicationState::Created,
    );
    cloud.insert_role(stack_role("dev-etl", "dev", "role.etl"));
    cloud.insert_role(stack_role("dev-gone", "dev", "role.gone"));
    cloud.insert_role(stack_role("prod-etl", "prod", "role.etl"));
    let mut desired = desired_with_app("etl", "dev-etl");
    desired.roles.insert("etl".to_string(), desired_role("dev-etl"));
    let observation = observe(&cloud, &desired, &ObserveOptions::default()).await.unwrap();

    let mut ids: Vec<&str> = observation.actual.applications.iter().map(|a| a.id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, [ours.id.as_str(), gone.id.as_str()]);
    let names: Vec<&str> = observation.actual.roles.iter().map(|r| r.spec.name.as_str()).collect();
    assert_eq!(names, ["dev-etl", "dev-gone"]);
    // Reads: the stack's two applications (found by tag, one also by name),
    // its declared role and its removed one (found by the marker).
    let mut read: Vec<String> = cloud
        .calls()
        .into_iter()
        .filter(|(operation, _)| operation == "GetApplication" || operation == "GetRole")
        .map(|(_, subject)| subject)
        .collect();
    read.sort();
    let mut expect = vec![
        ours.id.clone(),
        gone.id.clone(),
        "dev-etl".to_string(),
        "dev-gone".to_string(),
    ];
    expect.sort();
    assert_eq!(read, expect);
    assert!(observation.diagnostics.is_empty());
    let discovery = &observation.discovery;
    assert_eq!(discovery.applications, ApplicationStrategy::ByTag);
    assert_eq!(
        (
            discovery.listed_applications,
            discovery.tagged_applications,
            discovery.named_applications
        ),
        (33, 2, 1)
    );
    assert_eq!(
        (discovery.listed_roles, discovery.marked_roles, discovery.read_roles),
        (33, 2, 2)
    );
}

#[tokio::test(start_paused = true)]
async fn a_stale_tag_index_entry_of_a_deleted_application_is_read_and_dropped() {
    let cloud = FakeCloud::new();
    cloud.set_tag_index_staleness(std::time::Duration::from_secs(600));
    let gone = cloud.insert_application(
        app("dev-old", owned_tags("dev", "application.old")),
        ApplicationState::Stopped,
    );
    cloud.delete_application(&gone.id).await.unwrap();
    let observation = observe(&cloud, &Desired::empty("dev"), &ObserveOptions::default())
        .await
        .unwrap();
    assert!(observation.actual.applications.is_empty());
    assert_eq!(observation.discovery.tagged_applications, 1);
    assert_eq!(cloud.call_count("GetApplication"), 1);
}

#[tokio::test(start_paused = true)]
async fn without_tag_get_resources_every_application_is_read_with_one_warning() {
    let cloud = FakeCloud::new();
    let ours = cloud.insert_application(
        app("dev-etl", owned_tags("dev", "application.etl")),
        ApplicationState::Created,
    );
    for i in 0..5 {
        cloud.insert_application(app(&format!("other-{i}"), BTreeMap::new()), ApplicationState::Created);
    }
    let by_tag = observe(&cloud, &Desired::empty("dev"), &ObserveOptions::default())
        .await
        .unwrap();
    cloud.reset_counters();
    cloud.fail_with_code("GetResources", ErrorKind::AccessDenied, "AccessDeniedException", 1);
    let observation = observe(&cloud, &Desired::empty("dev"), &ObserveOptions::default())
        .await
        .unwrap();
    assert_eq!(observation.actual, by_tag.actual);
    assert_eq!(observation.actual.applications[0].id, ours.id);
    assert_eq!(cloud.call_count("GetApplication"), 6);
    let warnings: Vec<&Diagnostic> = observation.diagnostics.iter().collect();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].code, "observe.tagging-unavailable");
    assert!(!warnings[0].is_error());
    assert!(
        warnings[0]
            .message
            .contains("`tag:GetResources` is not allowed (AccessDeniedException)"),
        "{}",
        warnings[0].message
    );
    assert!(
        warnings[0].message.contains("all 6 applications"),
        "{}",
        warnings[0].message
    );
    assert!(!warnings[0].message.contains('\n'));
    assert!(matches!(
        observation.discovery.applications,
        ApplicationStrategy::ReadAll { .. }
    ));
}

#[tokio::test(start_paused = true)]
async fn roles_from_before_the_marker_and_names_in_another_case_are_read() {
    let cloud = FakeCloud::new();
    let mut legacy = stack_role("dev-old", "dev", "role.old");
    legacy.spec.trust_policy["Statement"][0]["Sid"] = json!(crate::model::role::LEGACY_TRUST_SID);
    cloud.insert_role(legacy);
    cloud.insert_role(foreign_role("DEV-ETL"));
    cloud.insert_role(foreign_role("unrelated"));
    let mut desired = Desired::empty("dev");
    desired.roles.insert("etl".to_string(), desired_role("dev-etl"));
    let observation = observe(&cloud, &desired, &ObserveOptions::default()).await.unwrap();
    let names: Vec<&str> = observation.actual.roles.iter().map(|r| r.spec.name.as_str()).collect();
    assert_eq!(names, ["DEV-ETL", "dev-old"]);
    let mut read: Vec<String> = cloud
        .calls()
        .into_iter()
        .filter(|(operation, _)| operation == "GetRole")
        .map(|(_, subject)| subject)
        .collect();
    read.sort();
    assert_eq!(read, ["DEV-ETL", "dev-etl", "dev-old"]);
    assert_eq!(observation.discovery.legacy_roles, 1);
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

/// `count` applications of someone else, created long ago.
fn insert_others(cloud: &FakeCloud, count: usize) {
    for i in 0..count {
        cloud.insert_application(app(&format!("other-{i}"), BTreeMap::new()), ApplicationState::Created);
    }
}

/// Ownership tags with an applied record: what emrstack leaves on an
/// application it wrote.
fn proven_tags(stack: &str, address: &str) -> BTreeMap<String, String> {
    let mut tags = owned_tags(stack, address);
    tags.insert(tags::APPLIED_TAG.to_string(), "1a2b=abcdef".to_string());
    tags
}

/// A search by tag that fails for a reason that says nothing about the
/// search (throttled or transient after the SDK's retries, credentials that
/// expired, a bad request) fails the plan: reading every application
/// instead would spend the `GetApplication` budget the search saves. Only a
/// refused permission or an operation the endpoint does not offer falls
/// back.
#[tokio::test(start_paused = true)]
async fn only_a_refused_permission_or_a_missing_operation_makes_the_plan_read_everything() {
    let check = async |kind: ErrorKind, code: &str, falls_back: Option<&str>| {
        let cloud = FakeCloud::new();
        cloud.insert_application(
            app("dev-etl", owned_tags("dev", "application.etl")),
            ApplicationState::Created,
        );
        insert_others(&cloud, 3);
        cloud.fail_with_code("GetResources", kind, code, 1);
        let result = observe(&cloud, &Desired::empty("dev"), &ObserveOptions::default()).await;
        match falls_back {
            Some(reason) => {
                let observation = result.unwrap_or_else(|error| panic!("{code}: {error}"));
                assert_eq!(observation.actual.applications.len(), 1, "{code}");
                assert_eq!(cloud.call_count("GetApplication"), 4, "{code}");
                let warning = observation.diagnostics.iter().next().expect("a warning");
                assert_eq!(warning.code, "observe.tagging-unavailable", "{code}");
                assert!(warning.message.starts_with(reason), "{code}: {}", warning.message);
            }
            None => {
                let error = result.expect_err(code);
                assert_eq!((error.kind, error.code.as_deref()), (kind, Some(code)));
                assert_eq!(cloud.call_count("GetApplication"), 0, "{code}");
            }
        }
    };
    check(
        ErrorKind::AccessDenied,
        "AccessDeniedException",
        Some("`tag:GetResources` is not allowed (AccessDeniedException)"),
    )
    .await;
    check(
        ErrorKind::Other,
        "UnknownOperationException",
        Some("the Resource Groups Tagging API does not offer `GetResources` here (UnknownOperationException)"),
    )
    .await;
    check(ErrorKind::Throttled, "ThrottledException", None).await;
    check(ErrorKind::Transient, "InternalServiceException", None).await;
    check(ErrorKind::AccessDenied, "ExpiredTokenException", None).await;
    check(ErrorKind::AccessDenied, "UnrecognizedClientException", None).await;
    check(ErrorKind::Invalid, "InvalidParameterException", None).await;
}

/// An application a killed run created a moment ago, then removed from
/// the stack (so no declared name finds it), before the tag index shows
/// it: read because it is that new, so the plan deletes it.
#[tokio::test(start_paused = true)]
async fn an_application_created_within_the_index_lag_is_read_before_the_index_shows_it() {
    let cloud = FakeCloud::new();
    cloud.set_tag_index_delay(std::time::Duration::from_secs(300));
    insert_others(&cloud, 3);
    let created = cloud
        .create_application(&app("dev-adhoc", proven_tags("dev", "application.adhoc")), "token")
        .await
        .unwrap();
    cloud.reset_counters();
    let observation = observe(&cloud, &Desired::empty("dev"), &ObserveOptions::default())
        .await
        .unwrap();
    let ids: Vec<&str> = observation.actual.applications.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, [created.id.as_str()]);
    assert_eq!(observation.discovery.tagged_applications, 0);
    assert_eq!(observation.discovery.recent_applications, 1);
    // Only the new one is read, and a new application the search left out
    // is no sign of an incomplete search.
    assert_eq!(cloud.call_count("GetApplication"), 1);
    assert!(observation.diagnostics.is_empty());
    assert_eq!(observation.discovery.applications, ApplicationStrategy::ByTag);

    // Past the lag it is found by tag, and no longer read for being new.
    tokio::time::advance(std::time::Duration::from_millis(TAG_INDEX_LAG_MS as u64 + 1)).await;
    let observation = observe(&cloud, &Desired::empty("dev"), &ObserveOptions::default())
        .await
        .unwrap();
    assert_eq!(observation.actual.applications.len(), 1);
    assert_eq!(
        (
            observation.discovery.tagged_applications,
            observation.discovery.recent_applications
        ),
        (1, 0)
    );
}

/// A search that answers without an application of the stack older than
/// the index's lag (here the declared one, read by its name) cannot be
/// trusted to have found the others: a wrong type string or a region where
/// the index lacks EMR Serverless answers with nothing. Everything is read,
/// so the application removed from the stack is still found, and the plan
/// says why once.
#[tokio::test(start_paused = true)]
async fn an_old_application_of_the_stack_the_search_left_out_makes_the_plan_read_everything() {
    let cloud = FakeCloud::new();
    cloud.insert_application(
        app("dev-etl", proven_tags("dev", "application.etl")),
        ApplicationState::Created,
    );
    let removed = cloud.insert_application(
        app("dev-gone", proven_tags("dev", "application.gone")),
        ApplicationState::Created,
    );
    insert_others(&cloud, 3);
    cloud.set_tag_index_empty(true);
    let observation = observe(&cloud, &desired_with_app("etl", "dev-etl"), &ObserveOptions::default())
        .await
        .unwrap();
    assert!(
        observation.actual.applications.iter().any(|a| a.id == removed.id),
        "{:?}",
        observation.actual.applications
    );
    assert_eq!(cloud.call_count("GetApplication"), 5);
    let warnings: Vec<&Diagnostic> = observation.diagnostics.iter().collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].code, "observe.tagging-incomplete");
    assert!(!warnings[0].is_error());
    assert!(
        warnings[0].message.contains("application `dev-etl`") && warnings[0].message.contains("all 5 applications"),
        "{}",
        warnings[0].message
    );
    assert!(matches!(
        observation.discovery.applications,
        ApplicationStrategy::ReadAll { .. }
    ));
    assert_eq!(observation.discovery.read_applications, 5);

    // A declared application that only carries the stack's tags, without
    // emrstack's record (a look-alike), says nothing about the search.
    let cloud = FakeCloud::new();
    cloud.insert_application(
        app("dev-etl", owned_tags("dev", "application.etl")),
        ApplicationState::Created,
    );
    cloud.insert_application(app("other", BTreeMap::new()), ApplicationState::Created);
    cloud.set_tag_index_empty(true);
    let observation = observe(&cloud, &desired_with_app("etl", "dev-etl"), &ObserveOptions::default())
        .await
        .unwrap();
    assert!(observation.diagnostics.is_empty());
    assert_eq!(cloud.call_count("GetApplication"), 1);
}
