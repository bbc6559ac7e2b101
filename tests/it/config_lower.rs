//! Lowering to `Desired` (defaults, merging, canonical forms) and the span
//! index later stages use to point online problems at the stack file.

use std::collections::BTreeMap;
use std::path::Path;

use emrstack::config::{LoadOptions, Loaded, load_str};
use emrstack::model::{
    Address, Architecture, AutoStop, DiskType, Engine, ImageSource, JobLevelCostAllocation, ManagedPersistence,
    Scheduler, WorkerType,
};

fn load(input: &str) -> Loaded {
    load_str(Path::new("emrstack.toml"), input, &LoadOptions::new("emrstack.toml"))
}

const STACK: &str = r#"[stack]
name = "dev"
region = "us-east-1"
account_id = "123456789012"

[tags]
team = "data"
owner = "stack"

[networks.private]
subnet_ids = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
security_group_ids = ["sg-0123456789abcdef0"]

[configs.base]
runtime = [{ classification = "spark-defaults", properties = { "spark.executor.cores" = "2", "spark.executor.memory" = "4g" } }]
monitoring = { s3_log_uri = "s3://logs/emr/", managed_persistence = { encryption_key_arn = "arn:aws:kms:us-east-1:123456789012:key/abc" } }

[repositories.spark]
name = "team/spark"
applications = ["etl"]

[roles.etl]
trust_applications = ["etl"]
[roles.etl.policies.read]
document = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "${application.etl.arn}"}]}'

[applications.etl]
type = "SPARK"
release_label = "emr-7.2.0"
architecture = "ARM64"
network = "private"
configs = ["base"]
runtime = [{ classification = "spark-defaults", properties = { "spark.executor.memory" = "6g" } }]
monitoring = { cloudwatch = { log_types = { spark_driver = ["stdout", "STDERR"] } } }
image = { repository = "spark", tag = "v1", application_level_digest_resolution = true }
maximum_capacity = { cpu = "32 vCPU", memory = 128, disk = "500GB" }
auto_stop = false
scheduler = {}
job_level_cost_allocation = true
tags = { owner = "etl" }

[applications.etl.initial_capacity.executor]
worker_count = 2
cpu = "4vCPU"
memory = "16 GB"
disk = 100
disk_type = "SHUFFLE_OPTIMIZED"

[applications.adhoc]
name = "dev-adhoc-explicit"
type = "SPARK"
release_label = "emr-7.2.0"
image_uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/spark:v2"
worker_type_specifications = {}
"#;

#[test]
fn lowers_defaults_merges_and_canonical_forms() {
    let loaded = load(STACK);
    let desired = loaded.desired.unwrap_or_else(|| panic!("{:?}", loaded.diagnostics));
    assert_eq!(desired.stack.account_id.as_deref(), Some("123456789012"));

    let etl = &desired.applications["etl"];
    let spec = &etl.spec;
    assert_eq!(spec.name, "dev-etl");
    assert_eq!(spec.engine, Engine::Spark);
    assert_eq!(spec.architecture, Some(Architecture::Arm64));
    assert_eq!(etl.network.as_deref(), Some("private"));
    assert_eq!(
        spec.network.as_ref().map(|n| n.security_group_ids.clone()),
        Some(vec!["sg-0123456789abcdef0".to_string()])
    );
    // Resource tags win over stack tags.
    assert_eq!(
        spec.tags,
        BTreeMap::from([
            ("owner".to_string(), "etl".to_string()),
            ("team".to_string(), "data".to_string())
        ])
    );
    // Not written: server defaults, left as `None`.
    assert_eq!(spec.auto_start, None);
    assert_eq!(
        spec.auto_stop,
        Some(AutoStop {
            enabled: false,
            idle_timeout_minutes: 15
        })
    );
    assert_eq!(
        spec.scheduler,
        Some(Scheduler {
            max_concurrent_runs: Some(15),
            queue_timeout_minutes: Some(360)
        })
    );
    assert_eq!(
        spec.job_level_cost_allocation,
        Some(JobLevelCostAllocation { enabled: true })
    );
    // Capacities as integers.
    let executor = &spec.initial_capacity[&WorkerType::Executor];
    assert_eq!(
        (executor.worker_count, executor.worker.cpu, executor.worker.memory_gb),
        (2, 4, 16)
    );
    assert_eq!(
        (executor.worker.disk_gb, executor.worker.disk_type),
        (Some(100), Some(DiskType::ShuffleOptimized))
    );
    let maximum = spec.maximum_capacity.as_ref().expect("maximum");
    assert_eq!((maximum.cpu, maximum.memory_gb, maximum.disk_gb), (32, 128, Some(500)));
    // Config bundle first, the application's own properties on top.
    let defaults = &spec.runtime_configuration[0];
    assert_eq!(defaults.classification, "spark-defaults");
    assert_eq!(defaults.properties["spark.executor.cores"], "2");
    assert_eq!(defaults.properties["spark.executor.memory"], "6g");
    // Monitoring merged per key; log types in the API's spelling.
    assert_eq!(
        spec.monitoring.s3.as_ref().and_then(|s| s.log_uri.clone()).as_deref(),
        Some("s3://logs/emr/")
    );
    assert_eq!(
        spec.monitoring.managed_persistence,
        Some(ManagedPersistence {
            enabled: true,
            encryption_key_arn: Some("arn:aws:kms:us-east-1:123456789012:key/abc".into())
        })
    );
    let cloudwatch = spec.monitoring.cloudwatch.as_ref().expect("cloudwatch");
    assert!(cloudwatch.enabled);
    assert_eq!(
        cloudwatch.log_types["SPARK_DRIVER"],
        vec!["STDOUT".to_string(), "STDERR".to_string()]
    );
    // Images from a declared repository keep the repository key.
    let image = spec.image.as_ref().expect("image");
    assert_eq!(
        image.source,
        ImageSource::Repository {
            repository: "spark".into(),
            tag: "v1".into(),
            pin_digest: true
        }
    );
    assert_eq!(image.application_level_digest_resolution, Some(true));

    let adhoc = &desired.applications["adhoc"].spec;
    assert_eq!(adhoc.name, "dev-adhoc-explicit");
    assert_eq!(
        adhoc.image.as_ref().map(|i| i.source.clone()),
        Some(ImageSource::Uri {
            uri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/spark:v2".into()
        })
    );
    assert_eq!(adhoc.auto_stop, None);
    assert!(adhoc.monitoring.is_empty());

    let role = &desired.roles["etl"];
    assert_eq!(
        (role.name.as_str(), role.path.as_str(), role.max_session_duration),
        ("dev-etl", "/", 3600)
    );
    assert_eq!(role.trust_applications, vec!["etl".to_string()]);
    // Placeholders stay for the planner to resolve.
    assert_eq!(
        role.inline_policies["read"]["Statement"][0]["Resource"],
        "${application.etl.arn}"
    );
    assert_eq!(role.tags["owner"], "stack");
    assert_eq!(desired.repositories["spark"].name, "team/spark");
    assert_eq!(desired.networks["private"].subnet_ids.len(), 2);
}

#[test]
fn span_index_points_at_resources_and_fields() {
    let loaded = load(STACK);
    let file = loaded.sources.get(emrstack::diag::FileId(0));
    let text = |span: Option<emrstack::diag::Span>| span.map(|s| file.text[s.range].to_string());
    let network = Address::network("private");
    assert_eq!(
        text(loaded.spans.resource(&network)).as_deref(),
        Some("[networks.private]")
    );
    assert_eq!(
        text(loaded.spans.field(&network, "subnet_ids[1]")).as_deref(),
        Some("\"subnet-0fedcba9876543210\"")
    );
    let etl = Address::application("etl");
    assert_eq!(text(loaded.spans.field(&etl, "image.tag")).as_deref(), Some("\"v1\""));
    assert_eq!(
        text(loaded.spans.field(&etl, "release_label")).as_deref(),
        Some("\"emr-7.2.0\"")
    );
    assert_eq!(
        text(loaded.spans.field(&etl, "initial_capacity.executor.memory")).as_deref(),
        Some("\"16 GB\"")
    );
    // A field that is not written falls back to the resource header.
    assert_eq!(
        text(loaded.spans.field(&etl, "auto_start")).as_deref(),
        Some("[applications.etl]")
    );
    assert_eq!(
        text(
            loaded
                .spans
                .field(&etl, "runtime[0].properties.\"spark.executor.memory\"")
        )
        .as_deref(),
        Some("\"6g\"")
    );
    let role = Address::role("etl");
    assert_eq!(text(loaded.spans.resource(&role)).as_deref(), Some("[roles.etl]"));
}

#[test]
fn the_lock_location_is_lowered_and_kept_in_plans() {
    let loaded = load("[stack]\nname = \"shop\"\nlock = \"s3://locks-bucket/ci/locks/\"\n");
    let desired = loaded.desired.expect("valid");
    let lock = desired.stack.lock.clone().expect("a lock location");
    assert_eq!(
        (lock.bucket.as_str(), lock.prefix.as_str()),
        ("locks-bucket", "ci/locks")
    );
    // A plan file carries it (in its resolved Desired); a stack without one
    // writes no `lock` key at all.
    let json = serde_json::to_value(&desired.stack).unwrap();
    assert_eq!(
        json["lock"],
        serde_json::json!({"bucket": "locks-bucket", "prefix": "ci/locks"})
    );
    let unlocked = load("[stack]\nname = \"shop\"\n").desired.expect("valid");
    assert!(serde_json::to_value(&unlocked.stack).unwrap().get("lock").is_none());
}

#[test]
fn without_a_lock_the_lock_lives_under_the_artifacts() {
    let location = |input: &str| {
        let lock = load(input).desired.expect("valid").stack.lock.expect("a lock location");
        (lock.bucket, lock.prefix)
    };
    assert_eq!(
        location("[stack]\nname = \"shop\"\nartifacts = \"s3://shop-ci/artifacts\"\n"),
        ("shop-ci".to_string(), "artifacts".to_string())
    );
    // An explicit lock wins.
    assert_eq!(
        location("[stack]\nname = \"shop\"\nartifacts = \"s3://shop-ci/artifacts\"\nlock = \"s3://locks/x\"\n"),
        ("locks".to_string(), "x".to_string())
    );
}

#[test]
fn diagnostics_are_sorted_by_position() {
    let loaded = load("[stack]\nname = \"bad name\"\nregion = \"nowhere\"\naccount_id = \"1\"\n");
    let codes: Vec<&str> = loaded.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, vec!["stack.name", "stack.region", "stack.account-id"]);
    assert!(loaded.desired.is_none());
}

/// `scheduler` left out is the service's; a table turns queueing on with
/// both members; `true` is `{}`; `false` turns it off (`{}` on the wire).
#[test]
fn scheduler_forms_lower_to_what_is_sent() {
    let check = |scheduler: &str, expect: Option<Scheduler>| {
        let input = format!(
            "[stack]\nname = \"dev\"\nregion = \"us-east-1\"\n\n[applications.etl]\ntype = \"SPARK\"\nrelease_label = \"emr-7.5.0\"\n{scheduler}\n"
        );
        let loaded = load(&input);
        assert!(
            !loaded.diagnostics.has_errors(),
            "{scheduler}: {:?}",
            loaded.diagnostics
        );
        let desired = loaded.desired.expect("desired");
        assert_eq!(desired.applications["etl"].spec.scheduler, expect, "{scheduler}");
    };
    check("", None);
    check("scheduler = {}", Some(Scheduler::ENABLED_DEFAULTS));
    check("scheduler = true", Some(Scheduler::ENABLED_DEFAULTS));
    check("scheduler = false", Some(Scheduler::DISABLED));
    check(
        "scheduler = { max_concurrent_runs = 5 }",
        Some(Scheduler {
            max_concurrent_runs: Some(5),
            queue_timeout_minutes: Some(360),
        }),
    );
    check(
        "scheduler = { queue_timeout_minutes = 60 }",
        Some(Scheduler {
            max_concurrent_runs: Some(15),
            queue_timeout_minutes: Some(60),
        }),
    );
}
