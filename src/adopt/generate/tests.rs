//! Tests of `emrstack generate` on FakeCloud: the file it writes for an
//! account, that the file validates, that `import --all` of it leaves a plan
//! with nothing to do, and that what the file cannot state is reported.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value as Json, json};

use super::*;
use crate::cloud::fake::FakeCloud;
use crate::diff::Action;
use crate::model::{
    ApplicationSpec, Architecture, AutoStop, CloudWatchLogging, Configuration, Engine, ImageConfig, InitialCapacity,
    MaximumCapacity, NetworkConfiguration, ObservedRole, S3Monitoring, Scheduler, SecurityGroupInfo, SubnetInfo,
    WorkerResources, WorkerType, role,
};

const STACK: &str = "shop";

fn options() -> GenerateOptions {
    GenerateOptions {
        stack_name: STACK.to_string(),
        names: Vec::new(),
        tags: Vec::new(),
        states: Vec::new(),
        roles: Vec::new(),
        policy_files: false,
        path: "emrstack.toml".into(),
        parallelism: 4,
    }
}

fn emr_trust(condition: Option<Json>) -> Json {
    let mut statement = json!({"Effect": "Allow", "Principal": {"Service": "emr-serverless.amazonaws.com"}, "Action": "sts:AssumeRole"});
    if let Some(condition) = condition {
        statement["Condition"] = condition;
    }
    json!({"Version": "2012-10-17", "Statement": [statement]})
}

fn observed_role(cloud: &FakeCloud, name: &str, trust_policy: Json) -> ObservedRole {
    crate::adopt::import::tests::observed_role(cloud, name, trust_policy, BTreeMap::new())
}

const DIGEST_V1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

/// An account with a bit of everything: two Spark applications sharing a
/// network and a runtime configuration, one with a pinned image and
/// pre-initialized capacity, a Hive application, a role per kind of trust
/// policy, a repository whose policy lets EMR Serverless pull through a
/// statement of its own.
fn account() -> FakeCloud {
    let cloud = FakeCloud::new();
    let account = cloud.account_id().to_string();
    for (id, zone) in [("subnet-0aaa1111", "us-east-1a"), ("subnet-0bbb2222", "us-east-1b")] {
        cloud.insert_subnet(SubnetInfo {
            id: id.to_string(),
            vpc_id: "vpc-0abc".to_string(),
            availability_zone: zone.to_string(),
            availability_zone_id: "use1-az1".to_string(),
            cidr_block: "10.0.0.0/24".to_string(),
            available_ip_address_count: 200,
        });
    }
    cloud.insert_security_group(SecurityGroupInfo {
        id: "sg-0ccc3333".to_string(),
        vpc_id: "vpc-0abc".to_string(),
        name: "emr".to_string(),
    });
    cloud.insert_repository(
        "shop/spark",
        Some(json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "AllowPull", "Effect": "Allow", "Principal": {"Service": "emr-serverless.amazonaws.com"},
             "Action": ["ecr:BatchGetImage", "ecr:DescribeImages", "ecr:GetDownloadUrlForLayer"]},
            {"Sid": "Team", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{account}:root")}, "Action": "ecr:*"},
        ]})),
    );
    cloud.insert_image("shop/spark", "v1", DIGEST_V1);
    cloud.insert_image("shop/spark", "latest", DIGEST_V1);
    let network = NetworkConfiguration {
        subnet_ids: vec!["subnet-0bbb2222".to_string(), "subnet-0aaa1111".to_string()],
        security_group_ids: vec!["sg-0ccc3333".to_string()],
    };
    let runtime = vec![Configuration {
        classification: "spark-defaults".to_string(),
        properties: BTreeMap::from([
            ("spark.driver.cores".to_string(), "2".to_string()),
            ("spark.driver.memory".to_string(), "6g".to_string()),
        ]),
        configurations: Vec::new(),
    }];
    let mut etl = ApplicationSpec::new("shop-etl", Engine::Spark, "emr-7.5.0");
    etl.network = Some(network.clone());
    etl.runtime_configuration = runtime.clone();
    etl.architecture = Some(Architecture::Arm64);
    etl.maximum_capacity = Some(MaximumCapacity {
        cpu: 64,
        memory_gb: 256,
        disk_gb: None,
    });
    etl.auto_stop = Some(AutoStop {
        enabled: true,
        idle_timeout_minutes: 30,
    });
    etl.image = Some(ImageConfig {
        image_uri: format!("{account}.dkr.ecr.us-east-1.amazonaws.com/shop/spark@{DIGEST_V1}"),
        application_level_digest_resolution: None,
    });
    etl.initial_capacity.insert(
        WorkerType::Driver,
        InitialCapacity {
            worker_count: 1,
            worker: WorkerResources {
                cpu: 2,
                memory_gb: 8,
                disk_gb: None,
                disk_type: None,
            },
        },
    );
    etl.scheduler = Some(Scheduler {
        max_concurrent_runs: Some(30),
        queue_timeout_minutes: None,
    });
    etl.monitoring.s3 = Some(S3Monitoring {
        log_uri: Some("s3://shop-logs/etl/".to_string()),
        encryption_key_arn: None,
    });
    etl.monitoring.cloudwatch = Some(CloudWatchLogging {
        enabled: true,
        log_group_name: Some("/shop/etl".to_string()),
        ..CloudWatchLogging::default()
    });
    etl.tags = BTreeMap::from([
        ("team".to_string(), "data".to_string()),
        ("aws:cloudformation:stack-name".to_string(), "legacy".to_string()),
    ]);
    let etl = cloud.insert_application(etl, ApplicationState::Started);
    let mut daily = ApplicationSpec::new("Daily.Report/v2", Engine::Spark, "emr-7.2.0");
    daily.network = Some(network);
    daily.runtime_configuration = runtime;
    daily.image = Some(ImageConfig {
        image_uri: format!("{account}.dkr.ecr.us-east-1.amazonaws.com/shop/spark:v1"),
        application_level_digest_resolution: Some(false),
    });
    daily.tags = BTreeMap::from([("team".to_string(), "data".to_string())]);
    cloud.insert_application(daily, ApplicationState::Stopped);
    let mut hive = ApplicationSpec::new("shop-hive", Engine::Hive, "emr-6.15.0");
    hive.tags = BTreeMap::from([("team".to_string(), "data".to_string())]);
    cloud.insert_application(hive, ApplicationState::Created);

    // The generated trust policy, scoped to etl: written as trust_applications.
    let mut generated = observed_role(
        &cloud,
        "shop-etl",
        role::trust_policy(STACK, &account, std::slice::from_ref(&etl.arn)),
    );
    generated.spec.tags = BTreeMap::from([("team".to_string(), "data".to_string())]);
    generated.spec.inline_policies.insert(
        "data".to_string(),
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "emr-serverless:GetJobRun",
               "Resource": format!("{}/jobruns/*", etl.arn)}]}),
    );
    generated
        .spec
        .managed_policy_arns
        .insert("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".to_string());
    cloud.insert_role(generated);
    // A console-made role trusting every application: kept as trust_policy.
    let mut console = observed_role(&cloud, "EMRServerlessJobRole", emr_trust(None));
    console.spec.trust_policy["Statement"][0]["Sid"] = json!("");
    console.spec.tags = BTreeMap::from([("team".to_string(), "data".to_string())]);
    console.spec.max_session_duration = 7200;
    cloud.insert_role(console);
    // Not for EMR Serverless: not selected.
    cloud.insert_role(observed_role(
        &cloud,
        "ec2-role",
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
    ));
    cloud
}

/// Runs `import --all` for `text` and returns the plan's actions after it.
async fn adopt_and_plan(cloud: &FakeCloud, text: &str) -> Vec<(String, Action)> {
    let loaded = config::load_str(Path::new("emrstack.toml"), text, &LoadOptions::new("emrstack.toml"));
    let desired = loaded.desired.expect("the generated file is valid");
    let survey = import::survey(cloud, &desired, &ObserveOptions::default())
        .await
        .expect("survey");
    assert_eq!(survey.refusals().count(), 0, "{survey:?}");
    for adoption in survey.adoptions() {
        adoption.write(cloud).await.expect("import");
    }
    crate::planning::plan_without_errors(cloud, &desired, Mode::Apply)
        .await
        .changes
        .into_iter()
        .map(|change| (change.address.to_string(), change.action))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn an_account_becomes_a_stack_that_adopts_it_with_an_empty_plan() {
    let cloud = account();
    let generated = generate(&cloud, &options()).await.expect("generate");
    let text = &generated.stack_file;
    let differs: Vec<&Report> = generated
        .reports
        .iter()
        .filter(|r| r.kind != ReportKind::Note)
        .collect();
    assert!(differs.is_empty(), "{differs:#?}\n{text}");
    // Idiom: the stack prefix gives keys and default names; shared network,
    // runtime and tags are factored out; sizes in units; defaults left out.
    for expected in [
        "[stack]\nname = \"shop\"\nregion = \"us-east-1\"\n",
        "[tags]\nteam = \"data\"\n",
        "[networks.vpc_0abc]\nsubnet_ids = [\"subnet-0aaa1111\", \"subnet-0bbb2222\"]\n",
        "[configs.spark-defaults]\n",
        "[applications.etl]\ntype = \"SPARK\"\nrelease_label = \"emr-7.5.0\"\narchitecture = \"ARM64\"\n",
        "maximum_capacity = { cpu = \"64 vCPU\", memory = \"256 GB\" }\n",
        "auto_stop = { idle_timeout_minutes = 30 }\n",
        "image = { repository = \"shop_spark\", tag = \"v1\" }\n",
        "scheduler = { max_concurrent_runs = 30 }\n",
        "[applications.etl.initial_capacity.driver]\nworker_count = 1\ncpu = \"2 vCPU\"\nmemory = \"8 GB\"\n",
        "[applications.daily_report_v2]\nname = \"Daily.Report/v2\"\n",
        "image = { repository = \"shop_spark\", tag = \"v1\", pin_digest = false, application_level_digest_resolution = false }\n",
        "[roles.etl]\nmanaged_policy_arns = [\"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess\"]\ntrust_applications = [\"etl\"]\n",
        "\"${application.etl.arn}/jobruns/*\"",
        "[roles.emrserverlessjobrole]\nname = \"EMRServerlessJobRole\"\nmax_session_duration = 7200\n",
        "[roles.emrserverlessjobrole.trust_policy]\n",
        "[repositories.shop_spark]\nname = \"shop/spark\"\n",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    for absent in [
        "ec2-role",
        "scheduler = true",
        "architecture = \"X86_64\"",
        "aws:cloudformation",
        "disk =",
    ] {
        assert!(!text.contains(absent), "{absent:?} in\n{text}");
    }
    // The Hive application states its engine and release only (emr-6.15.0
    // has no scheduler); the warning about it is kept next to `type`.
    assert!(
        text.ends_with("[applications.hive]\n# warning[classification.hive-required]: `application.hive` does not set \
                        `hive.exec.scratchdir` or `hive.metastore.warehouse.dir` in `hive-site`, so every job run must set it in \
                        its own configuration overrides\n#   \
                        help: Hive jobs fail without an S3 scratch directory and warehouse directory; set them once in \
                        the application's `hive-site`\ntype = \"HIVE\"\nrelease_label = \"emr-6.15.0\"\n"),
        "{text}"
    );
    // A comment per resource with its ID or ARN.
    assert!(
        text.contains("# role arn:aws:iam::123456789012:role/shop-etl\n[roles.etl]"),
        "{text}"
    );
    assert!(
        text.contains("# ECR repository arn:aws:ecr:us-east-1:123456789012:repository/shop/spark"),
        "{text}"
    );
    // The pull statement the stack does not own, and the warning the file keeps.
    assert!(text.contains("# warning[image.not-granted]"), "{text}");
    assert!(text.contains("statement `AllowPull`"), "{text}");
    let notes: Vec<String> = generated.reports.iter().map(|r| r.to_string()).collect();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("note: role.emrserverlessjobrole: `trust_policy`")),
        "{notes:#?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("`aws:cloudformation:stack-name` left out")),
        "{notes:#?}"
    );

    let plan = adopt_and_plan(&cloud, text).await;
    assert!(
        plan.iter().all(|(_, action)| *action == Action::NoOp),
        "{plan:?}\n{text}"
    );
    // And generating again from the adopted account says the same.
    let again = generate(&cloud, &options()).await.expect("generate again");
    assert_eq!(again.stack_file, generated.stack_file);
}

#[tokio::test(start_paused = true)]
async fn filters_select_applications_and_the_roles_that_name_them() {
    let cloud = account();
    let mut only = options();
    only.names = vec!["shop-*".to_string()];
    only.states = vec![ApplicationState::Created];
    let generated = generate(&cloud, &only).await.expect("generate");
    let text = &generated.stack_file;
    assert!(text.contains("[applications.hive]"), "{text}");
    assert!(!text.contains("[applications.etl]"), "{text}");
    // The role scoped to etl does not name a selected application; the
    // console role trusts every application.
    assert!(!text.contains("[roles.etl]"), "{text}");
    assert!(text.contains("[roles.emrserverlessjobrole]"), "{text}");
    let mut tagged = options();
    tagged.tags = vec![("team".to_string(), "nobody".to_string())];
    tagged.roles = vec!["ec2-role".to_string(), "gone".to_string()];
    let generated = generate(&cloud, &tagged).await.expect("generate");
    assert!(
        !generated.stack_file.contains("[applications."),
        "{}",
        generated.stack_file
    );
    assert!(
        generated.stack_file.contains("[roles.ec2-role]"),
        "{}",
        generated.stack_file
    );
    assert!(
        generated.stack_file.contains("# warning[role.trust-policy-service]"),
        "{}",
        generated.stack_file
    );
    let reports: Vec<String> = generated.reports.iter().map(|r| r.to_string()).collect();
    assert!(
        reports.contains(&"left out: role `gone`: it does not exist (named with `--role`)".to_string()),
        "{reports:#?}"
    );
}

#[tokio::test(start_paused = true)]
async fn policy_files_hold_the_inline_policies() {
    let cloud = account();
    let mut files = options();
    files.policy_files = true;
    let generated = generate(&cloud, &files).await.expect("generate");
    assert!(
        generated
            .stack_file
            .contains("[roles.etl.policies.data]\nfile = \"policies/etl-data.json\"\n"),
        "{}",
        generated.stack_file
    );
    assert_eq!(generated.files.len(), 1);
    let (path, text) = &generated.files[0];
    assert_eq!(path, Path::new("policies/etl-data.json"));
    let document: Json = serde_json::from_str(text).expect("JSON");
    assert_eq!(document["Statement"][0]["Resource"], "${application.etl.arn}/jobruns/*");
}

/// What the language cannot state is reported with its resource and field,
/// never dropped silently: two applications of one name (a stack finds
/// applications by name), an application of another stack, an inline
/// policy IAM would hold but the language refuses.
#[tokio::test(start_paused = true)]
async fn what_the_language_cannot_state_is_reported() {
    let cloud = FakeCloud::new();
    let first = cloud.insert_application(
        ApplicationSpec::new("twice", Engine::Spark, "emr-7.2.0"),
        ApplicationState::Created,
    );
    let second = cloud.insert_application(
        ApplicationSpec::new("twice", Engine::Spark, "emr-7.2.0"),
        ApplicationState::Created,
    );
    let mut theirs = ApplicationSpec::new("theirs", Engine::Spark, "emr-7.2.0");
    theirs.tags = BTreeMap::from([
        ("emrstack:stack".to_string(), "other".to_string()),
        ("emrstack:address".to_string(), "application.theirs".to_string()),
    ]);
    let theirs = cloud.insert_application(theirs, ApplicationState::Created);
    let mut odd = observed_role(&cloud, "odd", emr_trust(None));
    odd.spec.inline_policies.insert(
        "spaces".to_string(),
        json!({"Version": "2012-10-17", "Statement": [{"Sid": "has spaces", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}),
    );
    cloud.insert_role(odd);
    let generated = generate(&cloud, &options()).await.expect("generate");
    let reports: Vec<String> = generated.reports.iter().map(|r| r.to_string()).collect();
    let has = |needle: &str| reports.iter().any(|r| r.contains(needle));
    assert!(
        has(&format!(
            "left out: application {} (`twice`): `name`: EMR Serverless allows two applications of one name",
            second.id
        )),
        "{reports:#?}"
    );
    assert!(has(&format!("only the older {} is written", first.id)), "{reports:#?}");
    assert!(
        has(&format!(
            "left out: application {} (`theirs`): it belongs to stack `other`",
            theirs.id
        )),
        "{reports:#?}"
    );
    assert!(
        has("left out: role.odd: `policies.spaces`: the stack language refuses it (error[policy.sid]"),
        "{reports:#?}"
    );
    // The policy left out is a difference the first plan would show.
    assert!(has("differs: role.odd: `policies.spaces`"), "{reports:#?}");
    assert!(!generated.stack_file.contains("has spaces"), "{}", generated.stack_file);
    let loaded = config::load_str(
        Path::new("emrstack.toml"),
        &generated.stack_file,
        &LoadOptions::new("emrstack.toml"),
    );
    assert!(loaded.desired.is_some(), "{:?}", loaded.diagnostics);
}

#[tokio::test(start_paused = true)]
async fn an_invalid_stack_name_and_access_denied_are_errors() {
    let cloud = account();
    let mut bad = options();
    bad.stack_name = "shop dev".to_string();
    assert!(matches!(generate(&cloud, &bad).await, Err(GenerateError::StackName(_))));
    cloud.fail_with_code("GetRole", crate::cloud::ErrorKind::AccessDenied, "AccessDenied", 1);
    let error = generate(&cloud, &options()).await.expect_err("denied");
    assert!(
        matches!(&error, GenerateError::Cloud(e) if e.kind == crate::cloud::ErrorKind::AccessDenied),
        "{error:?}"
    );
}
