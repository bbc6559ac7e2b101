//! Plans for the render tests, built through the real pipeline (config ->
//! diff -> graph -> Plan) against hand-built Actuals with fixed account,
//! region and IDs, so every rendering is deterministic.
//!
//! `converge` stands in for apply: it turns the Actual a plan was made
//! against into the Actual that applying the plan would leave, so a scenario
//! can start from "the stack as last applied" and then change the stack
//! file, AWS, or both.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use emrstack::config::{LoadOptions, load, load_str};
use emrstack::diff::{Action, Mode, Target};
use emrstack::model::{
    Actual, ApplicationState, Desired, ImageSource, JobRun, JobRunMode, JobRunState, ObservedApplication,
    ObservedRepository, ObservedRole, RoleSpec, RunningWork, SecurityGroupInfo, Session, SessionState, SubnetInfo,
    reference, repository, tags,
};
use emrstack::plan::Plan;

pub const ACCOUNT: &str = "111122223333";
pub const REGION: &str = "us-east-1";
/// The digest every image tag resolves to.
pub const DIGEST: &str = "sha256:4f3c2b1a09e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2";

/// The stack the hand-built scenarios start from: a Spark ETL application
/// with a custom image, its job runtime role, the repository it pulls from,
/// and an ad-hoc application.
pub const BASE: &str = r#"[stack]
name = "shop"
region = "us-east-1"

[tags]
team = "data"

[roles.etl]
description = "Job runtime role of the ETL application"
trust_applications = ["etl"]

[roles.etl.policies.data]
document = { Version = "2012-10-17", Statement = [
  { Sid = "ReadRaw", Effect = "Allow", Action = ["s3:GetObject"], Resource = ["arn:aws:s3:::shop-raw/*"] },
] }

[repositories.spark]
name = "shop/spark"
applications = ["etl"]

[applications.etl]
type = "SPARK"
release_label = "emr-7.2.0"
image = { repository = "spark", tag = "v1" }
maximum_capacity = { cpu = "64 vCPU", memory = "256 GB" }
auto_stop = { idle_timeout_minutes = 30 }

[applications.etl.initial_capacity.driver]
worker_count = 1
cpu = "2 vCPU"
memory = "8 GB"

[applications.adhoc]
type = "SPARK"
release_label = "emr-7.2.0"
maximum_capacity = { cpu = "16 vCPU", memory = "64 GB" }
"#;

/// The root of the crate (for `examples/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// A stack from TOML text; it must load without errors.
pub fn stack(text: &str) -> Desired {
    let loaded = load_str(Path::new("emrstack.toml"), text, &LoadOptions::new("emrstack.toml"));
    match loaded.desired {
        Some(desired) => desired,
        None => panic!("stack does not load: {:#?}", loaded.diagnostics),
    }
}

/// An example stack (`examples/<name>/emrstack.toml`) with an optional var file.
pub fn example(name: &str, var_file: Option<&str>) -> Desired {
    let dir = root().join("examples").join(name);
    let mut options = LoadOptions::new(dir.join("emrstack.toml"));
    options.var_files.extend(var_file.map(|file| dir.join(file)));
    let loaded = load(&options);
    match loaded.desired {
        Some(desired) => desired,
        None => panic!("example {name} does not load: {:#?}", loaded.diagnostics),
    }
}

/// The ECR URI of a repository in the fixed account and region.
pub fn repository_uri(name: &str) -> String {
    format!("{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{name}")
}

/// An account where none of the stack exists yet, but everything it refers
/// to does: its repositories (with every image tag it names), its subnets
/// (in two supported zones, with room to spare) and security groups.
pub fn empty_account(desired: &Desired) -> Actual {
    let mut actual = Actual {
        account_id: ACCOUNT.to_string(),
        region: desired.stack.region.clone().unwrap_or_else(|| REGION.to_string()),
        ..Actual::default()
    };
    for repository in desired.repositories.values() {
        actual.repositories.insert(
            repository.name.clone(),
            ObservedRepository {
                name: repository.name.clone(),
                arn: format!("arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{}", repository.name),
                registry_id: ACCOUNT.to_string(),
                uri: repository_uri(&repository.name),
                policy: None,
            },
        );
    }
    for application in desired.applications.values() {
        let images = application
            .spec
            .image
            .iter()
            .chain(application.spec.worker_type_specifications.values());
        for image in images {
            if let ImageSource::Repository { repository, tag, .. } = &image.source
                && let Some(declared) = desired.repositories.get(repository)
            {
                actual
                    .image_digests
                    .entry(declared.name.clone())
                    .or_default()
                    .insert(tag.clone(), DIGEST.to_string());
            }
        }
    }
    for network in desired.networks.values() {
        for (index, id) in network.subnet_ids.iter().enumerate() {
            let zone = ["a", "b", "c"][index % 3];
            actual.subnets.insert(
                id.clone(),
                SubnetInfo {
                    id: id.clone(),
                    vpc_id: "vpc-0123456789abcdef0".to_string(),
                    availability_zone: format!("{}{zone}", actual.region),
                    availability_zone_id: format!("use1-az{}", index % 3 + 1),
                    cidr_block: format!("10.0.{index}.0/22"),
                    available_ip_address_count: 1000,
                },
            );
        }
        for id in &network.security_group_ids {
            actual.security_groups.insert(
                id.clone(),
                SecurityGroupInfo {
                    id: id.clone(),
                    vpc_id: "vpc-0123456789abcdef0".to_string(),
                    name: "workers".to_string(),
                },
            );
        }
    }
    actual
}

/// A plan through the real pipeline (`plan::make`: diff, graph, Plan).
pub fn plan(desired: &Desired, actual: &Actual, mode: Mode) -> Plan {
    let made = emrstack::plan::make(desired, actual, mode);
    let Some(mut plan) = made.plan else {
        panic!("no plan: {:?}", made.diagnostics);
    };
    // Snapshots must not change with every release.
    plan.emrstack_version = "0.0.0-test".to_string();
    plan
}

/// The fixed ID of the `n`th application converge creates.
fn application_id(n: usize) -> String {
    format!("00fhq3ma7v0dfa{n:02}")
}

/// The application ARN of an ID in the fixed account and region.
pub fn application_arn(id: &str) -> String {
    format!("arn:aws:emr-serverless:{REGION}:{ACCOUNT}:/applications/{id}")
}

/// The `emrstack:applied` record of a role as apply writes it (its binding
/// token, then the fields of `diff::role::role_fields` except name and
/// path).
fn role_record(spec: &RoleSpec) -> String {
    let visible: BTreeMap<&String, &String> = spec
        .tags
        .iter()
        .filter(|(key, _)| key.as_str() != tags::APPLIED_TAG)
        .collect();
    let mut fields = BTreeMap::new();
    fields.insert("description".to_string(), json!(spec.description));
    fields.insert("max_session_duration".to_string(), json!(spec.max_session_duration));
    fields.insert("permissions_boundary".to_string(), json!(spec.permissions_boundary));
    fields.insert(
        "trust_policy".to_string(),
        emrstack::diff::policy::canonical(&spec.trust_policy),
    );
    fields.insert("managed_policy_arns".to_string(), json!(spec.managed_policy_arns));
    for (name, document) in &spec.inline_policies {
        fields.insert(format!("policies.{name}"), emrstack::diff::policy::canonical(document));
    }
    fields.insert("tags".to_string(), json!(visible));
    let binding = tags::binding_token(tags::Identity::of_role(spec), &spec.tags);
    emrstack::diff::fields::encode_record(&binding, &fields)
}

/// The Actual that applying `desired` to `actual` would leave: created
/// applications get fixed IDs and the given state, placeholders become
/// ARNs, and every resource carries its applied record.
pub fn converge(desired: &Desired, actual: &Actual, state: ApplicationState) -> Actual {
    let plan = plan(desired, actual, Mode::Apply);
    let mut out = actual.clone();
    let mut arns: BTreeMap<String, String> = BTreeMap::new();
    let mut created = out.applications.len();
    for change in &plan.changes {
        if let Target::Application(app) = &change.target
            && let Some(spec) = &app.desired
        {
            match change.action {
                Action::Create | Action::Replace => {
                    created += 1;
                    let id = application_id(created);
                    arns.insert(app.key.clone(), application_arn(&id));
                    if let Some(current) = &app.current {
                        out.applications.retain(|observed| observed.id != current.id);
                    }
                    out.applications.push(ObservedApplication {
                        arn: application_arn(&id),
                        id,
                        state,
                        state_details: None,
                        created_at_ms: None,
                        spec: spec.clone(),
                    });
                }
                Action::Update => {
                    if let Some(current) = &app.current {
                        arns.insert(app.key.clone(), current.arn.clone());
                        for observed in out.applications.iter_mut().filter(|o| o.id == current.id) {
                            observed.spec = spec.clone();
                        }
                    }
                }
                _ => {}
            }
        }
    }
    for change in &plan.changes {
        match (&change.target, change.action) {
            (Target::Role(role), Action::Create | Action::Update | Action::Replace) => {
                let Some(spec) = &role.desired else { continue };
                let mut spec = spec.clone();
                spec.trust_policy = reference::substitute(&spec.trust_policy, &arns);
                for document in spec.inline_policies.values_mut() {
                    *document = reference::substitute(document, &arns);
                }
                let record = role_record(&spec);
                spec.tags.insert(tags::APPLIED_TAG.to_string(), record);
                out.roles.retain(|observed| observed.spec.name != spec.name);
                out.roles.push(ObservedRole {
                    arn: format!("arn:aws:iam::{ACCOUNT}:role{}{}", spec.path, spec.name),
                    role_id: format!("AROA{}", spec.name.to_ascii_uppercase().replace('-', "")),
                    spec,
                });
            }
            (Target::Repository(target), Action::Create | Action::Update | Action::Delete) => {
                let statement = target
                    .statement
                    .as_ref()
                    .map(|statement| reference::substitute(statement, &arns));
                if let Some(observed) = out.repositories.get_mut(&target.name) {
                    observed.policy = repository::merge_statement(observed.policy.as_ref(), &target.sid, statement);
                }
            }
            _ => {}
        }
    }
    out
}

/// The observed application of `key` (by its address tag).
pub fn application_mut<'a>(actual: &'a mut Actual, key: &str) -> &'a mut ObservedApplication {
    let address = format!("application.{key}");
    match actual
        .applications
        .iter_mut()
        .find(|app| app.spec.tags.get(tags::ADDRESS_TAG) == Some(&address))
    {
        Some(app) => app,
        None => panic!("no application {key}"),
    }
}

/// The observed role of `key` (by its address tag).
pub fn role_mut<'a>(actual: &'a mut Actual, key: &str) -> &'a mut ObservedRole {
    let address = format!("role.{key}");
    match actual
        .roles
        .iter_mut()
        .find(|role| role.spec.tags.get(tags::ADDRESS_TAG) == Some(&address))
    {
        Some(role) => role,
        None => panic!("no role {key}"),
    }
}

/// `BASE` with `from` replaced by `to` (which must occur).
pub fn base_with(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "BASE has no {from:?}");
    BASE.replacen(from, to, 1)
}

/// The base stack as last applied, with both applications STARTED and the
/// repository holding another team's statement besides the stack's.
pub fn applied_base() -> (Desired, Actual) {
    let desired = stack(BASE);
    let mut empty = empty_account(&desired);
    if let Some(repository) = empty.repositories.get_mut("shop/spark") {
        repository.policy = Some(json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "CiPush",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/ci")},
                "Action": ["ecr:PutImage", "ecr:InitiateLayerUpload"],
            }]
        }));
    }
    let actual = converge(&desired, &empty, ApplicationState::Started);
    (desired, actual)
}

/// Two unfinished job runs, one of them streaming, and an idle interactive
/// session: the work a stop must deal with.
pub fn running_work() -> RunningWork {
    RunningWork {
        job_runs: vec![
            JobRun {
                id: "00fhq3mjob00001".to_string(),
                name: Some("nightly-orders".to_string()),
                state: JobRunState::Running,
                mode: JobRunMode::Batch,
            },
            JobRun {
                id: "00fhq3mjob00002".to_string(),
                name: None,
                state: JobRunState::Pending,
                mode: JobRunMode::Streaming,
            },
        ],
        sessions: vec![Session {
            id: "00fhq3mses00001".to_string(),
            name: Some("notebook".to_string()),
            state: SessionState::Idle,
        }],
    }
}

/// Every scenario by name, for tests that check all of them.
pub fn all() -> Vec<(&'static str, Plan)> {
    let mut out = vec![
        ("quickstart", example_plan("quickstart", None)),
        ("hive", example_plan("hive", None)),
        ("analytics_prod", example_plan("analytics", Some("prod.vars.toml"))),
    ];
    out.extend([
        ("stopped_update_with_drift", stopped_update_with_drift()),
        ("live_update", live_update()),
        ("replacement_cascade", replacement_cascade()),
        ("deletion", deletion()),
        ("role_policy_drift", role_policy_drift()),
        ("secret_property", secret_property()),
        ("network_warnings", network_warnings()),
        ("no_changes", no_changes()),
        ("destroy", destroy()),
    ]);
    out
}

/// The snapshot tests every rendering of a plan has, one per scenario of
/// [`all`], named as the scenario (the snapshot files are
/// `it__<module>__<name>.snap`). The argument is the function from `&Plan` to
/// the text (`json::plan`, or `plain`); the caller has `render_scenarios`
/// in scope as `scenarios`.
macro_rules! plan_snapshots {
    ($($render:ident)::+) => {
        $crate::render_scenarios::plan_snapshots!(@scenarios [$($render)::+]
            stopped_update_with_drift,
            live_update,
            replacement_cascade,
            deletion,
            role_policy_drift,
            secret_property,
            network_warnings,
            no_changes,
            destroy,
        );

        #[test]
        fn example_quickstart() {
            insta::assert_snapshot!($($render)::+(&scenarios::example_plan("quickstart", None)));
        }

        #[test]
        fn example_hive() {
            insta::assert_snapshot!($($render)::+(&scenarios::example_plan("hive", None)));
        }

        #[test]
        fn example_analytics_prod() {
            insta::assert_snapshot!($($render)::+(&scenarios::example_plan("analytics", Some("prod.vars.toml"))));
        }
    };
    (@scenarios $render:tt $($name:ident),* $(,)?) => {
        $(
            $crate::render_scenarios::plan_snapshots!(@one $render $name);
        )*
    };
    (@one [$($render:ident)::+] $name:ident) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!($($render)::+(&scenarios::$name()));
        }
    };
}
pub(crate) use plan_snapshots;

/// An example planned against an empty account.
pub fn example_plan(name: &str, var_file: Option<&str>) -> Plan {
    let desired = example(name, var_file);
    let actual = empty_account(&desired);
    plan(&desired, &actual, Mode::Apply)
}

/// `application.etl` is STARTED with two running jobs and a session. The stack moves it
/// to a new release (which needs a stopped application) while someone
/// lowered its idle timeout in the console.
pub fn stopped_update_with_drift() -> Plan {
    let (_, mut actual) = applied_base();
    let etl = application_mut(&mut actual, "etl");
    let id = etl.id.clone();
    if let Some(auto_stop) = etl.spec.auto_stop.as_mut() {
        auto_stop.idle_timeout_minutes = 5;
    }
    actual.running_work.insert(id, running_work());
    let desired = stack(&base_with(
        "release_label = \"emr-7.2.0\"",
        "release_label = \"emr-7.3.0\"",
    ));
    plan(&desired, &actual, Mode::Apply)
}

/// Raising the maximum capacity of a STARTED application: the service
/// takes it without a stop.
pub fn live_update() -> Plan {
    let (_, actual) = applied_base();
    let desired = stack(&base_with(
        "maximum_capacity = { cpu = \"64 vCPU\", memory = \"256 GB\" }",
        "maximum_capacity = { cpu = \"128 vCPU\", memory = \"512 GB\" }",
    ));
    plan(&desired, &actual, Mode::Apply)
}

/// Renaming `application.etl` replaces it; the role's trust policy and the
/// repository statement name its ARN, which is known only after apply.
pub fn replacement_cascade() -> Plan {
    let (_, actual) = applied_base();
    let desired = stack(&base_with(
        "release_label = \"emr-7.2.0\"\nimage",
        "name = \"shop-etl-v2\"\nrelease_label = \"emr-7.2.0\"\nimage",
    ));
    plan(&desired, &actual, Mode::Apply)
}

/// `application.adhoc` is no longer in the stack.
pub fn deletion() -> Plan {
    let (_, actual) = applied_base();
    let text = match BASE.split_once("[applications.adhoc]") {
        Some((before, _)) => before.to_string(),
        None => panic!("BASE declares adhoc"),
    };
    let desired = stack(&text);
    plan(&desired, &actual, Mode::Apply)
}

/// Someone widened a statement of the role's inline policy in the console.
pub fn role_policy_drift() -> Plan {
    let (desired, mut actual) = applied_base();
    let role = role_mut(&mut actual, "etl");
    if let Some(document) = role.spec.inline_policies.get_mut("data") {
        document["Statement"][0]["Action"] = json!(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]);
        document["Statement"][0]["Resource"] = json!(["arn:aws:s3:::shop-raw/*", "arn:aws:s3:::shop-curated/*"]);
    }
    plan(&desired, &actual, Mode::Apply)
}

/// A Spark property whose key names a secret, added next to an ordinary one.
pub fn secret_property() -> Plan {
    let (_, actual) = applied_base();
    let desired = stack(&base_with(
        "auto_stop = { idle_timeout_minutes = 30 }\n",
        "auto_stop = { idle_timeout_minutes = 30 }\nruntime = [{ classification = \"spark-defaults\", properties = { \"spark.hadoop.fs.s3a.secret.key\" = \"hunter2\", \"spark.executor.memory\" = \"8g\" } }]\n",
    ));
    plan(&desired, &actual, Mode::Apply)
}

/// `application.adhoc` moves into a VPC whose two subnets share one zone
/// and have few free addresses: an update with warnings.
pub fn network_warnings() -> Plan {
    let (_, mut actual) = applied_base();
    let text = base_with(
        "maximum_capacity = { cpu = \"16 vCPU\", memory = \"64 GB\" }",
        "maximum_capacity = { cpu = \"16 vCPU\", memory = \"64 GB\" }\nnetwork = \"private\"",
    ) + "\n[networks.private]\nsubnet_ids = [\"subnet-0123456789abcdef0\", \"subnet-0fedcba9876543210\"]\nsecurity_group_ids = [\"sg-0123456789abcdef0\"]\n";
    let desired = stack(&text);
    for (index, id) in ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
        .into_iter()
        .enumerate()
    {
        actual.subnets.insert(
            id.to_string(),
            SubnetInfo {
                id: id.to_string(),
                vpc_id: "vpc-0123456789abcdef0".to_string(),
                availability_zone: "us-east-1a".to_string(),
                availability_zone_id: "use1-az1".to_string(),
                cidr_block: format!("10.0.{index}.0/28"),
                available_ip_address_count: 3,
            },
        );
    }
    actual.security_groups.insert(
        "sg-0123456789abcdef0".to_string(),
        SecurityGroupInfo {
            id: "sg-0123456789abcdef0".to_string(),
            vpc_id: "vpc-0123456789abcdef0".to_string(),
            name: "workers".to_string(),
        },
    );
    plan(&desired, &actual, Mode::Apply)
}

/// The stack as applied: nothing to do.
pub fn no_changes() -> Plan {
    let (desired, actual) = applied_base();
    plan(&desired, &actual, Mode::Apply)
}

/// `emrstack destroy` of the applied base stack.
pub fn destroy() -> Plan {
    let (desired, actual) = applied_base();
    plan(&desired, &actual, Mode::Destroy)
}

/// A value in a plan's JSON rendering (for assertions).
pub fn get<'a>(value: &'a Value, pointer: &str) -> &'a Value {
    match value.pointer(pointer) {
        Some(found) => found,
        None => panic!("no {pointer} in {value:#}"),
    }
}
