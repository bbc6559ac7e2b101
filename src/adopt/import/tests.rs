//! Tests of `emrstack import` on FakeCloud: what each import decides and
//! writes, that failures of AWS are never taken for a missing resource,
//! and that a stack stating the resources exactly plans nothing after
//! `import --all`.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::cloud::ErrorKind;
use crate::cloud::fake::FakeCloud;
use crate::diff::{Action, Mode};
use crate::model::{
    ApplicationSpec, DesiredApplication, DesiredImage, DesiredRole, Engine, ObservedRole, RoleSpec, Scheduler,
};

const STACK: &str = "dev";

fn declared_app(name: &str, release: &str) -> DesiredApplication {
    DesiredApplication {
        spec: ApplicationSpec::<DesiredImage>::new(name, Engine::Spark, release),
        network: None,
        prevent_destroy: false,
    }
}

fn declared_role(name: &str) -> DesiredRole {
    crate::diff::tests::role(name)
}

fn stack() -> Desired {
    let mut desired = Desired::empty(STACK);
    desired
        .applications
        .insert("etl".to_string(), declared_app("dev-etl", "emr-7.5.0"));
    desired.roles.insert("etl".to_string(), declared_role("dev-etl"));
    desired
}

pub(crate) fn observed_role(
    cloud: &FakeCloud,
    name: &str,
    trust_policy: Value,
    tags: BTreeMap<String, String>,
) -> ObservedRole {
    ObservedRole {
        arn: format!("arn:aws:iam::{}:role/{name}", cloud.account_id()),
        role_id: format!("AROA{}", name.to_uppercase()),
        spec: RoleSpec {
            name: name.to_string(),
            path: "/".to_string(),
            description: None,
            max_session_duration: 3600,
            permissions_boundary: None,
            trust_policy,
            inline_policies: BTreeMap::new(),
            managed_policy_arns: Default::default(),
            tags,
        },
    }
}

fn tags_of(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// An account holding what `stack()` declares, made by hand: the
/// application created without a scheduler on emr-7.5.0 (so the service
/// turned queueing on), the role with the trust policy emrstack generates.
fn account() -> (FakeCloud, String) {
    let cloud = FakeCloud::new();
    let app = cloud.insert_application(
        ApplicationSpec::new("dev-etl", Engine::Spark, "emr-7.5.0"),
        ApplicationState::Created,
    );
    let trust = role::trust_policy(STACK, cloud.account_id(), &[]);
    cloud.insert_role(observed_role(&cloud, "dev-etl", trust, BTreeMap::new()));
    (cloud, app.id)
}

/// Plans `desired` against the fake and returns each change's action.
async fn plan(cloud: &FakeCloud, desired: &Desired) -> Vec<(String, Action)> {
    crate::planning::plan_without_errors(cloud, desired, Mode::Apply)
        .await
        .changes
        .into_iter()
        .map(|change| (change.address.to_string(), change.action))
        .collect()
}

fn no_ops(addresses: &[&str]) -> Vec<(String, Action)> {
    addresses.iter().map(|a| (a.to_string(), Action::NoOp)).collect()
}

#[tokio::test(start_paused = true)]
async fn an_imported_application_that_the_stack_states_exactly_plans_nothing() {
    let (cloud, id) = account();
    let desired = stack();
    // The service's scheduler, which the stack leaves to it, is recorded
    // as the stack sees it: unset. A record of AWS's value would make the
    // next plan rewrite the record.
    let stored = cloud.applications()[0].spec.scheduler.clone();
    assert_eq!(stored, Some(Scheduler::ENABLED_DEFAULTS));
    let address = Address::application("etl");
    let adoption = prepare(&cloud, &desired, &address, &id, &ObserveOptions::default())
        .await
        .expect("prepare");
    assert_eq!(adoption.trust_policy, None);
    assert_eq!(adoption.tags.get(tags::STACK_TAG).map(String::as_str), Some(STACK));
    cloud.reset_counters();
    adoption.write(&cloud).await.expect("write");
    assert_eq!(
        cloud.calls(),
        [("TagResource".to_string(), cloud.applications()[0].arn.clone())]
    );
    let adoption = prepare(
        &cloud,
        &desired,
        &Address::role("etl"),
        "dev-etl",
        &ObserveOptions::default(),
    )
    .await
    .expect("prepare role");
    adoption.write(&cloud).await.expect("write role");
    assert_eq!(plan(&cloud, &desired).await, no_ops(&["application.etl", "role.etl"]));
}

#[tokio::test(start_paused = true)]
async fn access_denied_is_reported_as_such_never_as_a_missing_resource() {
    let (cloud, id) = account();
    let desired = stack();
    let options = ObserveOptions::default();
    cloud.fail_with_code("GetApplication", ErrorKind::AccessDenied, "AccessDeniedException", 1);
    let error = prepare(&cloud, &desired, &Address::application("etl"), &id, &options)
        .await
        .expect_err("denied");
    assert!(
        matches!(&error, ImportError::Cloud(e) if e.kind == ErrorKind::AccessDenied),
        "{error:?}"
    );
    assert!(!error.to_string().contains("does not exist"), "{error}");

    cloud.fail_with_code("GetRole", ErrorKind::AccessDenied, "AccessDenied", 1);
    let error = prepare(&cloud, &desired, &Address::role("etl"), "dev-etl", &options)
        .await
        .expect_err("denied");
    assert!(
        matches!(&error, ImportError::Cloud(e) if e.kind == ErrorKind::AccessDenied),
        "{error:?}"
    );

    // Reading the region's applications fails the same way, not as "already taken".
    cloud.fail_with_code("ListApplications", ErrorKind::AccessDenied, "AccessDeniedException", 1);
    let error = prepare(&cloud, &desired, &Address::application("etl"), &id, &options)
        .await
        .expect_err("denied");
    assert!(
        matches!(&error, ImportError::Cloud(e) if e.kind == ErrorKind::AccessDenied),
        "{error:?}"
    );

    // What does not exist says so, with the region for applications.
    let error = prepare(&cloud, &desired, &Address::application("etl"), "00fnothere", &options)
        .await
        .expect_err("missing");
    assert_eq!(
        error.to_string(),
        "application `00fnothere` does not exist in us-east-1"
    );
    let mut renamed = stack();
    renamed.roles.insert("etl".to_string(), declared_role("gone"));
    let error = prepare(&cloud, &renamed, &Address::role("etl"), "gone", &options)
        .await
        .expect_err("missing");
    assert_eq!(error.to_string(), "role `gone` does not exist");
    assert!(cloud.calls().iter().all(|(operation, _)| !operation.starts_with("Tag")));
}

#[tokio::test(start_paused = true)]
async fn refusals_say_why_and_write_nothing() {
    let cloud = FakeCloud::new();
    let options = ObserveOptions::default();
    let desired = stack();
    let theirs = cloud.insert_application(
        {
            let mut spec = ApplicationSpec::new("dev-etl", Engine::Spark, "emr-7.5.0");
            spec.tags = tags_of(&[(tags::STACK_TAG, "prod"), (tags::ADDRESS_TAG, "application.etl")]);
            spec
        },
        ApplicationState::Created,
    );
    let hive = cloud.insert_application(
        ApplicationSpec::new("dev-hive", Engine::Hive, "emr-7.5.0"),
        ApplicationState::Created,
    );
    let check = async |address: Address, id: &str, expected: &str| {
        let error = prepare(&cloud, &desired, &address, id, &options)
            .await
            .expect_err("refused");
        assert_eq!(error.to_string(), expected);
    };
    check(
        Address::application("etl"),
        &theirs.id,
        &format!(
            "cannot import application `{}`: it already belongs to `application.etl` of stack `prod`",
            theirs.id
        ),
    )
    .await;
    check(
        Address::application("etl"),
        &hive.id,
        &format!(
            "application `{}` is a HIVE application, but `application.etl` declares type SPARK",
            hive.id
        ),
    )
    .await;
    check(
        Address::application("other"),
        &hive.id,
        "`application.other` is not declared in the stack file; declare it first (without a declaration, only a \
         resource that already carries `application.other` of stack `dev` can be imported, to be deleted by the \
         next apply)",
    )
    .await;
    check(
        Address::role("etl"),
        "someone",
        "`role.etl` declares role name `dev-etl`; import that role (roles are identified by name)",
    )
    .await;
    check(
        Address::repository("spark"),
        "x",
        "only applications and roles are owned by a stack; `repository.spark` needs no import (emrstack manages \
         only its own statement in a repository policy)",
    )
    .await;
    assert!(cloud.calls().iter().all(|(operation, _)| !operation.starts_with("Tag")));
}

#[tokio::test(start_paused = true)]
async fn a_second_application_for_an_address_is_refused() {
    let (cloud, first) = account();
    let desired = stack();
    let options = ObserveOptions::default();
    prepare(&cloud, &desired, &Address::application("etl"), &first, &options)
        .await
        .expect("prepare")
        .write(&cloud)
        .await
        .expect("write");
    let second = cloud.insert_application(
        ApplicationSpec::new("dev-etl-copy", Engine::Spark, "emr-7.5.0"),
        ApplicationState::Created,
    );
    let error = prepare(&cloud, &desired, &Address::application("etl"), &second.id, &options)
        .await
        .expect_err("taken");
    assert_eq!(
        error.to_string(),
        format!(
            "`application.etl` is already `{first}`; remove it from the stack or delete it before importing another"
        )
    );
}

#[tokio::test(start_paused = true)]
async fn import_all_adopts_what_exists_skips_what_is_owned_and_can_run_again() {
    let (cloud, id) = account();
    let mut desired = stack();
    desired
        .applications
        .insert("new".to_string(), declared_app("dev-new", "emr-7.5.0"));
    desired.roles.insert("new".to_string(), declared_role("dev-new-role"));
    let options = ObserveOptions::default();
    let survey = super::survey(&cloud, &desired, &options).await.expect("survey");
    let outcomes: Vec<(String, &str)> = survey
        .entries
        .iter()
        .map(|entry| {
            let kind = match &entry.outcome {
                Outcome::Adopt(_) => "adopt",
                Outcome::Owned { .. } => "owned",
                Outcome::Missing { .. } => "missing",
                Outcome::Refused(_) => "refused",
            };
            (entry.address.to_string(), kind)
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("application.etl".to_string(), "adopt"),
            ("application.new".to_string(), "missing"),
            ("role.etl".to_string(), "adopt"),
            ("role.new".to_string(), "missing"),
        ]
    );
    for adoption in survey.adoptions() {
        adoption.write(&cloud).await.expect("write");
    }
    let again = super::survey(&cloud, &desired, &options).await.expect("survey");
    assert_eq!(again.adoptions().count(), 0);
    assert!(
        again
            .entries
            .iter()
            .any(|entry| entry.outcome == Outcome::Owned { id: id.clone() })
    );
    assert!(again.entries.iter().any(|entry| entry.outcome
        == Outcome::Owned {
            id: "dev-etl".to_string()
        }));
    desired.applications.remove("new");
    desired.roles.remove("new");
    assert_eq!(plan(&cloud, &desired).await, no_ops(&["application.etl", "role.etl"]));
}

#[tokio::test(start_paused = true)]
async fn import_all_refuses_another_stacks_resource_and_two_of_one_name() {
    let cloud = FakeCloud::new();
    let mut desired = stack();
    desired
        .applications
        .insert("twice".to_string(), declared_app("dev-twice", "emr-7.5.0"));
    cloud.insert_application(
        {
            let mut spec = ApplicationSpec::new("dev-etl", Engine::Spark, "emr-7.5.0");
            spec.tags = tags_of(&[(tags::STACK_TAG, "prod"), (tags::ADDRESS_TAG, "application.etl")]);
            spec
        },
        ApplicationState::Created,
    );
    let ids: Vec<String> = (0..2)
        .map(|_| {
            cloud
                .insert_application(
                    ApplicationSpec::new("dev-twice", Engine::Spark, "emr-7.5.0"),
                    ApplicationState::Created,
                )
                .id
        })
        .collect();
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "emr-serverless.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    cloud.insert_role(observed_role(
        &cloud,
        "dev-etl",
        trust,
        tags_of(&[(tags::STACK_TAG, "dev"), (tags::ADDRESS_TAG, "role.other")]),
    ));
    let survey = super::survey(&cloud, &desired, &ObserveOptions::default())
        .await
        .expect("survey");
    let refusals: Vec<String> = survey
        .refusals()
        .map(|(address, error)| format!("{address}: {error}"))
        .collect();
    assert_eq!(
        refusals,
        [
            format!(
                "application.etl: cannot import application `{}`: it already belongs to `application.etl` of stack `prod`",
                cloud.applications()[0].id
            ),
            format!(
                "application.twice: 2 applications are named `dev-twice` ({}, {}); import the one `application.twice` \
                 means with `emrstack import application.twice <id>`",
                ids[0], ids[1]
            ),
            "role.etl: cannot import role `dev-etl`: it already belongs to `role.other` of stack `dev`".to_string(),
        ]
    );
}

/// A role whose trust policy the stack states keeps it: import adds the
/// stack's marker statement (so that a plan finds the role once it leaves
/// the stack) with the tags, the plan after it is empty, and a stated
/// policy that differs from the role's shows as a change before any apply.
#[tokio::test(start_paused = true)]
async fn a_role_with_a_stated_trust_policy_is_marked_by_the_import_and_plans_nothing() {
    let cloud = FakeCloud::new();
    let handmade = json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "", "Effect": "Allow", "Principal": {"Service": "emr-serverless.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    });
    cloud.insert_role(observed_role(&cloud, "dev-etl", handmade.clone(), BTreeMap::new()));
    let mut desired = Desired::empty(STACK);
    let mut declaration = declared_role("dev-etl");
    declaration.trust_policy = Some(handmade.clone());
    desired.roles.insert("etl".to_string(), declaration);
    let survey = super::survey(&cloud, &desired, &ObserveOptions::default())
        .await
        .expect("survey");
    let adoption = survey.adoptions().next().expect("an adoption").clone();
    assert_eq!(adoption.trust_policy, Some(role::with_marker(&handmade, STACK)));
    assert!(
        adoption.describe().contains("marker statement"),
        "{}",
        adoption.describe()
    );
    adoption.write(&cloud).await.expect("write");
    let written = cloud.roles()[0].spec.trust_policy.clone();
    assert!(role::has_stack_marker(&written, STACK));
    assert_eq!(role::without_marker(&written, STACK), handmade);
    assert_eq!(plan(&cloud, &desired).await, no_ops(&["role.etl"]));
    // Found by the marker alone once the stack no longer declares it: the
    // plan deletes it rather than forgetting it.
    let emptied = Desired::empty(STACK);
    assert_eq!(
        plan(&cloud, &emptied).await,
        vec![("role.etl".to_string(), Action::Delete)]
    );

    let mut changed = desired.clone();
    if let Some(role) = changed.roles.get_mut("etl") {
        let mut stated = handmade.clone();
        stated["Statement"][0]["Condition"] = json!({"StringEquals": {"aws:SourceAccount": cloud.account_id()}});
        role.trust_policy = Some(stated);
    }
    assert_eq!(
        plan(&cloud, &changed).await,
        vec![("role.etl".to_string(), Action::Update)]
    );
}
