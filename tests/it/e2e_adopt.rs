//! Adopting an existing account end to end (issue #12, "Done when"): random
//! accounts built in the emulator the way other tools build them (the raw
//! EMR Serverless API, the IAM and ECR SDKs), then, as a user runs it,
//! `emrstack generate` → `validate` (no errors) → `import --all
//! --auto-approve` → `plan --detailed-exitcode` (exit 0), and AWS is as it
//! was apart from the stack's marks.
//!
//! The accounts are property-based: each case is built from a seed by a
//! small deterministic generator. A failing case prints its seed; replay it
//! alone with `EMRSTACK_ADOPT_SEED=<seed> EMRSTACK_ADOPT_CASES=1 cargo test
//! --test e2e_adopt`. `EMRSTACK_ADOPT_CASES` sets the number of cases (50
//! by default); without `EMRSTACK_ADOPT_SEED` the first seed comes from the
//! clock, so every run explores new accounts. `EMRSTACK_ADOPT_JOBS` sets
//! how many cases run at once (2 by default). `EMRSTACK_ADOPT_SHOW=1` prints
//! each generated file and report.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::support::cli::Workspace;
use crate::support::cloud::{REGION, connect, sdk_config, shared_emulator};
use crate::support::emulator::http;
use crate::support::fixtures::{self, Network};
use emrstack::cloud::Cloud;
use emrstack::model::role;
use serde_json::{Value, json};

const STACK: &str = "adopt";

// ---- a small deterministic generator -----------------------------------------

/// SplitMix64: a seed gives the same account on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..=high`.
    fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

/// Release labels across 6.x and 7.x, around every release gate.
const RELEASES: &[&str] = &[
    "emr-6.6.0",
    "emr-6.9.0",
    "emr-6.14.0",
    "emr-6.15.0",
    "emr-7.0.0",
    "emr-7.1.0",
    "emr-7.2.0",
    "emr-7.3.0",
    "emr-7.5.0",
    "emr-7.8.0",
    "emr-7.13.0",
    "emr-7.14.0",
];

fn version(label: &str) -> (u32, u32) {
    let mut parts = label.trim_start_matches("emr-").split('.');
    let major = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (major, minor)
}

/// An image of the account: a URI by tag or by digest.
#[derive(Clone, Debug)]
struct Image {
    uri: String,
}

/// What a case's account holds besides applications, for the generator.
struct Setting {
    network: Network,
    second_group: String,
    images: Vec<Image>,
    kms_key: String,
    /// A tag every application and role of the case carries (`[tags]`).
    common_tag: Option<String>,
}

/// Worker sizes the service accepts: (vCPU, GB).
const SIZES: &[(u32, u32)] = &[(1, 4), (2, 8), (2, 16), (4, 16), (4, 30), (8, 32), (16, 64)];

fn worker(rng: &mut Rng, spark: bool, release: (u32, u32)) -> Value {
    let (cpu, memory) = *rng.pick(SIZES);
    let mut configuration = json!({"cpu": format!("{cpu} vCPU"), "memory": format!("{memory} GB")});
    if rng.chance(30) {
        configuration["disk"] = json!(rng.pick(&["20 GB", "40 GB", "100 GB"]));
    }
    if spark && release >= (7, 1) && rng.chance(25) {
        configuration["diskType"] = json!("SHUFFLE_OPTIMIZED");
        configuration["disk"] = json!(rng.pick(&["20 GB", "500 GB"]));
    } else if rng.chance(10) {
        configuration["diskType"] = json!("STANDARD");
    }
    configuration
}

/// Runtime configurations, a few per engine, so that several applications
/// of a case share one now and then.
fn runtime(rng: &mut Rng, spark: bool) -> Value {
    if spark {
        rng.pick(&[
            json!([{"classification": "spark-defaults", "properties": {"spark.executor.memory": "4g", "spark.dynamicAllocation.enabled": "false"}}]),
            json!([{"classification": "spark-defaults", "properties": {"spark.sql.shuffle.partitions": "200"}},
                   {"classification": "spark-env", "configurations": [{"classification": "export", "properties": {"PYSPARK_PYTHON": "/usr/bin/python3"}}]}]),
            json!([{"classification": "spark-driver-log4j2", "properties": {"rootLogger.level": "error"}}]),
        ])
        .clone()
    } else {
        rng.pick(&[
            json!([{"classification": "hive-site", "properties": {"hive.exec.dynamic.partition.mode": "nonstrict"}}]),
            json!([{"classification": "hive-site", "properties": {"hive.exec.parallel": "true"}},
                   {"classification": "tez-site", "properties": {"tez.task.resource.memory.mb": "4096"}}]),
        ])
        .clone()
    }
}

/// A CreateApplication request with a random valid combination of every
/// field the stack language models.
fn application(rng: &mut Rng, setting: &Setting, index: usize) -> Value {
    let spark = rng.chance(70);
    let label = *rng.pick(RELEASES);
    let release = version(label);
    // Names in several styles; `etl.N`, `etl_N.` and `ETL_N` make the
    // same key, so generate must make them unique.
    let n = index / 2;
    let name = match rng.range(0, 5) {
        0 => format!("{STACK}-etl-{index}"),
        1 => format!("etl-{index}"),
        2 => format!("Nightly.Report_{index}"),
        3 => format!("team/ml#{index}"),
        4 => format!("etl.{n}{}", if index.is_multiple_of(2) { "" } else { "_" }),
        _ => format!("ETL_{n}{}", if index.is_multiple_of(2) { "" } else { "." }),
    };
    let mut body = json!({
        "clientToken": format!("token-{}-{index}", rng.next()),
        "name": name,
        "releaseLabel": label,
        "type": if spark { "SPARK" } else { "HIVE" },
    });
    if release >= (6, 9) && rng.chance(30) {
        body["architecture"] = json!("ARM64");
    } else if rng.chance(15) {
        body["architecture"] = json!("X86_64");
    }
    let (driver, other) = if spark {
        *rng.pick(&[("DRIVER", "EXECUTOR"), ("Driver", "Executor")])
    } else {
        *rng.pick(&[("DRIVER", "TEZ_TASK"), ("HiveDriver", "TezTask")])
    };
    if rng.chance(35) {
        let mut capacity = serde_json::Map::new();
        for worker_type in [driver, other] {
            if capacity.is_empty() || rng.chance(60) {
                capacity.insert(
                    worker_type.to_string(),
                    json!({"workerCount": rng.range(1, 4), "workerConfiguration": worker(rng, spark, release)}),
                );
            }
        }
        body["initialCapacity"] = Value::Object(capacity);
    }
    if rng.chance(50) {
        let mut maximum =
            json!({"cpu": rng.pick(&["400 vCPU", "1000 vCPU"]), "memory": rng.pick(&["3000 GB", "4000 GB"])});
        if rng.chance(50) {
            maximum["disk"] = json!("20000 GB");
        }
        body["maximumCapacity"] = maximum;
    }
    match rng.range(0, 9) {
        0 | 1 => body["autoStartConfiguration"] = json!({"enabled": false}),
        2 => body["autoStartConfiguration"] = json!({"enabled": true}),
        _ => {}
    }
    match rng.range(0, 9) {
        0 | 1 => body["autoStopConfiguration"] = json!({"enabled": false}),
        2..=4 => {
            body["autoStopConfiguration"] = json!({"enabled": true, "idleTimeoutMinutes": rng.pick(&[15, 30, 60, 240])})
        }
        _ => {}
    }
    match rng.range(0, 9) {
        0..=2 => {
            body["networkConfiguration"] = json!({
                "subnetIds": setting.network.subnets,
                "securityGroupIds": [setting.network.security_group],
            })
        }
        3 => {
            body["networkConfiguration"] = json!({
                "subnetIds": [setting.network.subnets[0]],
                "securityGroupIds": [setting.network.security_group, setting.second_group],
            })
        }
        _ => {}
    }
    // One image for all workers, or images per worker type: the API
    // reference of `imageConfiguration` says "either", and the stack
    // language refuses both (`image.conflict`).
    if release >= (6, 9) && !setting.images.is_empty() {
        let mut image = json!({"imageUri": rng.pick(&setting.images).uri.clone()});
        if rng.chance(20) {
            image["applicationLevelDigestResolution"] = json!(rng.chance(50));
        }
        match rng.range(0, 9) {
            0..=3 => body["imageConfiguration"] = image,
            4 | 5 => {
                let mut specifications = serde_json::Map::new();
                for worker_type in if spark {
                    ["Driver", "Executor"]
                } else {
                    ["HiveDriver", "TezTask"]
                } {
                    if specifications.is_empty() || rng.chance(50) {
                        let image = json!({"imageUri": rng.pick(&setting.images).uri.clone()});
                        specifications.insert(worker_type.to_string(), json!({"imageConfiguration": image}));
                    }
                }
                body["workerTypeSpecifications"] = Value::Object(specifications);
            }
            _ => {}
        }
    }
    if rng.chance(50) {
        body["runtimeConfiguration"] = runtime(rng, spark);
    }
    if rng.chance(50) {
        let mut monitoring = serde_json::Map::new();
        if rng.chance(60) {
            let mut s3 = json!({"logUri": format!("s3://{STACK}-logs-{}/emr/", rng.range(1, 3))});
            if rng.chance(30) {
                s3["encryptionKeyArn"] = json!(setting.kms_key);
            }
            monitoring.insert("s3MonitoringConfiguration".to_string(), s3);
        }
        if rng.chance(30) {
            let persistence = match rng.range(0, 2) {
                0 => json!({"enabled": false}),
                1 => json!({"enabled": true, "encryptionKeyArn": setting.kms_key}),
                _ => json!({"enabled": false, "encryptionKeyArn": setting.kms_key}),
            };
            monitoring.insert("managedPersistenceMonitoringConfiguration".to_string(), persistence);
        }
        if rng.chance(40) {
            let mut cloudwatch = json!({"enabled": true});
            if rng.chance(60) {
                cloudwatch["logGroupName"] = json!(format!("/aws/emr-serverless/{index}"));
            }
            if rng.chance(30) {
                cloudwatch["logStreamNamePrefix"] = json!("jobs");
            }
            if rng.chance(20) {
                cloudwatch["encryptionKeyArn"] = json!(setting.kms_key);
            }
            if spark && rng.chance(40) {
                cloudwatch["logTypes"] = json!({"SPARK_DRIVER": ["STDOUT", "STDERR"]});
            }
            monitoring.insert("cloudWatchLoggingConfiguration".to_string(), cloudwatch);
        }
        if spark && release >= (7, 1) && rng.chance(30) {
            monitoring.insert(
                "prometheusMonitoringConfiguration".to_string(),
                json!({"remoteWriteUrl": "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write"}),
            );
        }
        if !monitoring.is_empty() {
            body["monitoringConfiguration"] = Value::Object(monitoring);
        }
    }
    if spark && release >= (6, 14) && rng.chance(30) {
        let mut interactive = json!({"studioEnabled": rng.chance(50), "livyEndpointEnabled": rng.chance(50)});
        if release >= (7, 13) && rng.chance(50) {
            interactive["sessionEnabled"] = json!(true);
        }
        body["interactiveConfiguration"] = interactive;
    }
    if release >= (7, 0) && rng.chance(40) {
        body["schedulerConfiguration"] = match rng.range(0, 3) {
            0 => json!({}),
            1 => json!({"maxConcurrentRuns": rng.pick(&[5, 15, 50]), "queueTimeoutMinutes": rng.pick(&[60, 360, 720])}),
            2 => json!({"maxConcurrentRuns": rng.pick(&[5, 50])}),
            _ => json!({"maxConcurrentRuns": 15, "queueTimeoutMinutes": 360}),
        };
    }
    if rng.chance(15) {
        let mut encryption = json!({"encryptionKeyArn": setting.kms_key});
        if rng.chance(50) {
            encryption["encryptionContext"] = json!({"team": "data", "purpose": "shuffle"});
        }
        body["diskEncryptionConfiguration"] = encryption;
    }
    if release >= (7, 8) && rng.chance(15) {
        let mut identity = json!({"identityCenterInstanceArn": "arn:aws:sso:::instance/ssoins-1234567890abcdef"});
        if rng.chance(50) {
            identity["userBackgroundSessionsEnabled"] = json!(true);
        }
        body["identityCenterConfiguration"] = identity;
    }
    if rng.chance(15) {
        body["jobLevelCostAllocationConfiguration"] = json!({"enabled": true});
    }
    let mut tags = serde_json::Map::new();
    if let Some(owner) = &setting.common_tag {
        tags.insert("owner".to_string(), json!(owner));
    }
    if rng.chance(60) {
        tags.insert("team".to_string(), json!(rng.pick(&["data", "ml"])));
    }
    if rng.chance(25) {
        tags.insert("cost-center".to_string(), json!("42"));
    }
    if !tags.is_empty() {
        body["tags"] = Value::Object(tags);
    }
    body
}

// ---- the account ---------------------------------------------------------------

/// An EMR Serverless API call as the CLI or the console makes it, JSON in
/// and out, signed for `account` (the emulator reads the account from the
/// credential scope).
fn emr(ws: &Workspace<'_>, method: &str, path: &str, body: Option<&Value>) -> Value {
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={}/20260101/{REGION}/emr-serverless/aws4_request, SignedHeaders=host, Signature=0",
        ws.account
    );
    let text = body.map(Value::to_string);
    let (status, answer) = http(
        ws.emulator.port(),
        method,
        path,
        text.as_deref(),
        &[("Authorization", &authorization)],
    )
    .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    assert!(status < 300, "{method} {path}: {status} {answer}\nrequest: {text:?}");
    serde_json::from_str(&answer).unwrap_or(Value::Null)
}

/// What a case built.
struct Built {
    applications: usize,
    /// Whether generate writes inline policies to files.
    policy_files: bool,
}

/// Builds a random account for `seed` in `ws`'s account.
async fn build(ws: &Workspace<'_>, seed: u64) -> Built {
    let mut rng = Rng(seed);
    let account = ws.account.clone();
    let config = sdk_config(ws.emulator, &account).await;
    let network = fixtures::network(ws.emulator, &account).await;
    let second_group =
        fixtures::create_security_group(ws.emulator, &account, &network.vpc, "emr-serverless-extra", "more");

    // Repositories with images by tag, by a digest a tag points to, and by
    // a digest no tag points to; their policies hold foreign statements.
    let ecr = aws_sdk_ecr::Client::new(&config);
    let mut images = Vec::new();
    let mut repositories = Vec::new();
    for index in 0..rng.range(0, 2) {
        let name = format!("team/spark-{index}");
        fixtures::repository(ws.emulator, &account, &name).await;
        let host = format!("{account}.dkr.ecr.{REGION}.amazonaws.com/{name}");
        let v1 = fixtures::push_image(ws.emulator, &account, &name, "v1", 'a').await;
        let v2 = fixtures::push_image(ws.emulator, &account, &name, "v2", 'b').await;
        ecr.put_image()
            .repository_name(&name)
            .image_manifest(fixtures::manifest('b'))
            .image_tag("latest")
            .send()
            .await
            .expect("put_image latest");
        let untagged = ecr
            .put_image()
            .repository_name(&name)
            .image_manifest(fixtures::manifest('d'))
            .send()
            .await
            .expect("put_image untagged")
            .image
            .and_then(|image| image.image_id)
            .and_then(|id| id.image_digest)
            .expect("digest");
        for uri in [
            format!("{host}:v1"),
            format!("{host}:latest"),
            format!("{host}@{v1}"),
            format!("{host}@{v2}"),
            format!("{host}@{untagged}"),
        ] {
            images.push(Image { uri });
        }
        repositories.push(name);
    }
    // Another account's image, which only a URI can name.
    if rng.chance(50) {
        images.push(Image {
            uri: "999999999999.dkr.ecr.us-east-1.amazonaws.com/shared/spark:7.2".to_string(),
        });
    }
    let setting = Setting {
        network,
        second_group,
        images,
        kms_key: format!("arn:aws:kms:{REGION}:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
        common_tag: rng.chance(25).then(|| "platform".to_string()),
    };

    // Applications, each ended its creation.
    let count = rng.range(1, 20) as usize;
    let mut arns = Vec::new();
    for index in 0..count {
        let body = application(&mut rng, &setting, index);
        let created = emr(ws, "POST", "/applications", Some(&body));
        let id = created["applicationId"].as_str().expect("applicationId").to_string();
        arns.push(created["arn"].as_str().expect("arn").to_string());
        ws.emulator.release(&account, &id);
        // Some run: adoption changes nothing, so it stops nothing.
        if rng.chance(15) && body.get("imageConfiguration").is_none() && body.get("workerTypeSpecifications").is_none()
        {
            emr(ws, "POST", &format!("/applications/{id}/start"), None);
            ws.emulator.release(&account, &id);
        }
    }

    // Repository policies: a foreign account's pull, EMR Serverless's pull
    // through a statement of the team's own.
    for name in &repositories {
        let mut statements = Vec::new();
        if rng.chance(60) {
            statements.push(json!({"Sid": "CrossAccountPull", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}));
        }
        if rng.chance(60) {
            statements.push(json!({"Sid": "EmrServerlessPull", "Effect": "Allow", "Principal": {"Service": "emr-serverless.amazonaws.com"}, "Action": ["ecr:BatchGetImage", "ecr:DescribeImages", "ecr:GetDownloadUrlForLayer"]}));
        }
        if !statements.is_empty() {
            ecr.set_repository_policy()
                .repository_name(name)
                .policy_text(json!({"Version": "2012-10-17", "Statement": statements}).to_string())
                .send()
                .await
                .expect("set_repository_policy");
        }
    }

    // Roles: trusted by EMR Serverless generally, for some applications, in
    // emrstack's form, with another service too; one it does not trust.
    let iam = aws_sdk_iam::Client::new(&config);
    let managed = iam
        .create_policy()
        .policy_name("emr-read")
        .policy_document(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}).to_string())
        .send()
        .await
        .expect("create_policy")
        .policy
        .and_then(|policy| policy.arn)
        .expect("policy arn");
    let roles = rng.range(0, 4) as usize;
    for index in 0..roles {
        let emr_statement = |condition: Value| json!({"Effect": "Allow", "Principal": {"Service": "emr-serverless.amazonaws.com"}, "Action": "sts:AssumeRole", "Condition": condition});
        let arn = rng.pick(&arns).clone();
        let trust = match rng.range(0, 4) {
            0 => {
                json!({"Version": "2012-10-17", "Statement": [emr_statement(json!({"StringEquals": {"aws:SourceAccount": account}}))]})
            }
            1 => {
                json!({"Version": "2012-10-17", "Statement": [emr_statement(json!({"ArnLike": {"aws:SourceArn": [arn.clone(), format!("{arn}/*")]}}))]})
            }
            2 => role::trust_policy(STACK, &account, std::slice::from_ref(&arn)),
            3 => json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": ["emr-serverless.amazonaws.com", "glue.amazonaws.com"]}, "Action": "sts:AssumeRole"},
            ]}),
            _ => {
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
            }
        };
        let name = match rng.range(0, 2) {
            0 => format!("{STACK}-runtime-{index}"),
            1 => format!("EMRServerless_Runtime{index}"),
            _ => format!("job.role@{index}"),
        };
        let mut request = iam
            .create_role()
            .role_name(&name)
            .assume_role_policy_document(trust.to_string());
        if rng.chance(30) {
            request = request.description(format!("job runtime role {index}"));
        }
        if rng.chance(20) {
            request = request.max_session_duration(7200);
        }
        if rng.chance(20) {
            request = request.path("/emr/");
        }
        if rng.chance(15) {
            request = request.permissions_boundary(&managed);
        }
        if let Some(owner) = &setting.common_tag {
            request = request.tags(
                aws_sdk_iam::types::Tag::builder()
                    .key("owner")
                    .value(owner)
                    .build()
                    .expect("tag"),
            );
        }
        if rng.chance(50) {
            request = request.tags(
                aws_sdk_iam::types::Tag::builder()
                    .key("team")
                    .value(*rng.pick(&["data", "ml"]))
                    .build()
                    .expect("tag"),
            );
        }
        request.send().await.expect("create_role");
        for policy in 0..rng.range(0, 2) {
            let document = match rng.range(0, 2) {
                0 => {
                    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": [format!("arn:aws:s3:::{STACK}-data/${{aws:username}}/*")]}]})
                }
                1 => {
                    json!({"Version": "2012-10-17", "Statement": [{"Sid": "Glue", "Effect": "Allow", "Action": "glue:GetTable", "Resource": "*"}]})
                }
                _ => {
                    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "emr-serverless:GetJobRun", "Resource": [format!("{arn}/jobruns/*")]}]})
                }
            };
            iam.put_role_policy()
                .role_name(&name)
                .policy_name(format!("inline-{policy}"))
                .policy_document(document.to_string())
                .send()
                .await
                .expect("put_role_policy");
        }
        if rng.chance(40) {
            iam.attach_role_policy()
                .role_name(&name)
                .policy_arn(&managed)
                .send()
                .await
                .expect("attach_role_policy");
        }
    }
    Built {
        applications: count,
        policy_files: rng.chance(30),
    }
}

// ---- what AWS holds ----------------------------------------------------------------

/// Everything the case created, as AWS returns it, without the stack's
/// marks: the `emrstack:` tags and the marker statement of a trust policy.
async fn snapshot(ws: &Workspace<'_>) -> Value {
    let mut applications = BTreeMap::new();
    for summary in emr(ws, "GET", "/applications?maxResults=50", None)["applications"]
        .as_array()
        .expect("applications")
    {
        let id = summary["id"].as_str().expect("id");
        let mut application = emr(ws, "GET", &format!("/applications/{id}"), None)["application"].clone();
        if let Some(Value::Object(tags)) = application.get_mut("tags") {
            tags.retain(|key, _| !key.starts_with("emrstack:"));
        }
        if let Some(object) = application.as_object_mut() {
            object.remove("updatedAt");
        }
        applications.insert(id.to_string(), application);
    }
    let cloud = connect(ws.emulator, &ws.account).await;
    let mut roles = BTreeMap::new();
    for summary in cloud.list_roles().await.expect("list_roles") {
        let mut observed = cloud.get_role(&summary.name).await.expect("get_role");
        observed.spec.tags.retain(|key, _| !key.starts_with("emrstack:"));
        observed.spec.trust_policy = role::without_marker(&observed.spec.trust_policy, STACK);
        roles.insert(
            summary.name.clone(),
            serde_json::to_value(&observed).expect("role as JSON"),
        );
    }
    let ecr = aws_sdk_ecr::Client::new(&sdk_config(ws.emulator, &ws.account).await);
    let mut repositories = BTreeMap::new();
    for repository in ecr
        .describe_repositories()
        .send()
        .await
        .expect("describe_repositories")
        .repositories()
    {
        let name = repository.repository_name().unwrap_or_default().to_string();
        let policy = cloud.get_repository(&name).await.expect("get_repository");
        repositories.insert(name, serde_json::to_value(&policy).expect("repository as JSON"));
    }
    json!({"applications": applications, "roles": roles, "repositories": repositories})
}

// ---- the property ----------------------------------------------------------------

/// Prints the seed of the case being run when it fails.
struct Replay(u64);

impl Drop for Replay {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "\nthe failing case's seed is {0}: replay it with\n  EMRSTACK_ADOPT_SEED={0} EMRSTACK_ADOPT_CASES=1 cargo test --test it e2e_adopt::generated_stacks\n",
                self.0
            );
        }
    }
}

async fn adopt_case(seed: u64) {
    let ws = Workspace::new(shared_emulator());
    let built = build(&ws, seed).await;
    let before = snapshot(&ws).await;

    let mut args = vec!["generate", "--stack-name", STACK, "-o", "emrstack.toml"];
    if built.policy_files {
        args.push("--policy-files");
    }
    let generated = ws.run(&args).ok();
    let file = std::fs::read_to_string(ws.dir().join("emrstack.toml")).expect("the stack file");
    let context = |what: &str| {
        format!(
            "{what}\n--- emrstack.toml ---\n{file}\n--- generate's stderr ---\n{}",
            generated.stderr
        )
    };
    if std::env::var_os("EMRSTACK_ADOPT_SHOW").is_some() {
        eprintln!("--- seed {seed} ---\n{file}\n--- stderr ---\n{}", generated.stderr);
    }
    // Everything of these accounts is modelled: nothing is left out and
    // nothing would differ.
    for line in generated.stderr.lines() {
        assert!(
            !line.starts_with("left out:") && !line.starts_with("differs:"),
            "{}",
            context(&format!("generate reported `{line}`"))
        );
    }
    assert_eq!(
        file.lines()
            .filter(|line| line.starts_with("[applications.") && line[1..line.len() - 1].split('.').count() == 2)
            .count(),
        built.applications,
        "{}",
        context("one [applications.*] per application")
    );

    let validated = ws.run(&["validate"]);
    assert_eq!(
        validated.code,
        0,
        "{}",
        context(&format!("validate: {}{}", validated.stdout, validated.stderr))
    );
    assert!(!validated.stderr.contains("error["), "{}", context(&validated.stderr));

    let imported = ws.run(&["import", "--all", "--auto-approve"]);
    assert_eq!(
        imported.code,
        0,
        "{}",
        context(&format!("import: {}{}", imported.stdout, imported.stderr))
    );
    // Every declared application and role is adopted, one line each.
    let declared = file
        .lines()
        .filter(|line| {
            (line.starts_with("[applications.") || line.starts_with("[roles."))
                && line[1..line.len() - 1].split('.').count() == 2
        })
        .count();
    let adopted = imported
        .stderr
        .lines()
        .filter(|line| line.starts_with("Imported "))
        .count();
    assert_eq!(
        adopted,
        declared,
        "{}",
        context(&format!("import: {}", imported.stderr))
    );
    let plan = ws.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(
        plan.code,
        0,
        "{}",
        context(&format!("plan after import:\n{}{}", plan.stdout, plan.stderr))
    );

    // Generated again, the adopted stack is the same file: keys come back
    // from the address tags, the marker statement is not part of a stated
    // trust policy.
    let mut again_args = vec!["generate", "--stack-name", STACK, "-o", "again.toml"];
    if built.policy_files {
        again_args.extend(["--policy-files", "--force"]);
    }
    let regenerated = ws.run(&again_args).ok();
    let again_file = std::fs::read_to_string(ws.dir().join("again.toml")).expect("the second stack file");
    assert_eq!(
        again_file,
        file,
        "{}",
        context(&format!("generated again after the import:\n{}", regenerated.stderr))
    );

    // Import only marked what it adopted; a second import has nothing to do.
    let after = snapshot(&ws).await;
    assert_eq!(before, after, "{}", context("AWS changed beyond the stack's marks"));
    let again = ws.run(&["import", "--all", "--auto-approve"]).ok();
    assert!(
        again.stderr.contains("Nothing to import."),
        "{}",
        context(&again.stderr)
    );
}

/// A number from the environment, or `default`.
fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The cases run `EMRSTACK_ADOPT_JOBS` at a time (2 by default), each on
/// its own thread and account, against the one shared emulator: most of a
/// case is spent waiting on the CLI's processes and the emulator.
#[test]
fn generated_stacks_adopt_random_accounts_with_an_empty_plan() {
    let cases = env_number("EMRSTACK_ADOPT_CASES", 50);
    let jobs = env_number("EMRSTACK_ADOPT_JOBS", 2).max(1);
    let first = env_number(
        "EMRSTACK_ADOPT_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    );
    shared_emulator();
    let started = Instant::now();
    let failed = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs)
            .map(|job| {
                scope.spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("a runtime");
                    for case in (job..cases).step_by(jobs as usize) {
                        let seed = first.wrapping_add(case);
                        let replay = Replay(seed);
                        runtime.block_on(adopt_case(seed));
                        drop(replay);
                    }
                })
            })
            .collect();
        workers.into_iter().filter_map(|worker| worker.join().err()).count()
    });
    assert_eq!(failed, 0, "{failed} of the runs failed: their seeds are printed above");
    eprintln!(
        "{cases} random accounts adopted in {:.1} s, {jobs} at a time (first seed {first})",
        started.elapsed().as_secs_f64()
    );
}

/// An application the stack language cannot state in full (one image for
/// all workers and another per worker type, which the API reference calls
/// either-or and the language refuses) is still written, with what the
/// language refuses left out and reported on stderr with the resource and
/// the field; the first plan's difference too. The file is not overwritten
/// without `--force`.
#[tokio::test]
async fn what_the_language_cannot_state_is_reported_on_stderr() {
    let ws = Workspace::new(shared_emulator());
    let account = ws.account.clone();
    fixtures::repository(ws.emulator, &account, "team/spark").await;
    fixtures::push_image(ws.emulator, &account, "team/spark", "v1", 'a').await;
    let uri = format!("{account}.dkr.ecr.{REGION}.amazonaws.com/team/spark:v1");
    let body = json!({
        "clientToken": "both-images",
        "name": "both-images",
        "releaseLabel": "emr-7.2.0",
        "type": "SPARK",
        "imageConfiguration": {"imageUri": uri},
        "workerTypeSpecifications": {"Driver": {"imageConfiguration": {"imageUri": uri}}},
    });
    let created = emr(&ws, "POST", "/applications", Some(&body));
    let id = created["applicationId"].as_str().expect("applicationId").to_string();
    ws.emulator.release(&account, &id);

    let run = ws.run(&["generate", "--stack-name", STACK, "-o", "emrstack.toml"]).ok();
    let file = std::fs::read_to_string(ws.dir().join("emrstack.toml")).expect("the stack file");
    assert!(file.contains("[applications.both-images]"), "{file}");
    assert!(file.contains(&format!("# application {id} (CREATED)")), "{file}");
    assert!(!file.contains("worker_type_specifications"), "{file}");
    assert!(
        run.stderr.contains(
            "left out: application.both-images: `worker_type_specifications.driver`: the stack language refuses it (error[image.conflict]"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("differs: application.both-images: `worker_type_specifications`: the stack language cannot state AWS's value"),
        "{}",
        run.stderr
    );
    // The file validates; the plan after adoption shows the one difference.
    ws.run(&["validate"]).ok();
    ws.run(&["import", "--all", "--auto-approve"]).ok();
    ws.run(&["plan", "--detailed-exitcode"]).expect_code(2);

    // An existing file is kept unless --force.
    let refused = ws
        .run(&["generate", "--stack-name", STACK, "-o", "emrstack.toml"])
        .expect_code(1);
    assert!(refused.stderr.contains("pass --force"), "{}", refused.stderr);
    ws.run(&["generate", "--stack-name", STACK, "-o", "emrstack.toml", "--force"])
        .ok();
    // To stdout by default.
    let printed = ws.run(&["generate", "--stack-name", STACK]).ok();
    assert!(
        printed.stdout.contains("[applications.both-images]"),
        "{}",
        printed.stdout
    );
}

/// `--name`, `--tag`, `--state` select applications, and with them the
/// roles EMR Serverless may assume for them (or for any application);
/// `--role` names the roles instead.
#[tokio::test]
async fn flags_select_applications_and_their_roles() {
    let ws = Workspace::new(shared_emulator());
    let account = ws.account.clone();
    let mut arns = BTreeMap::new();
    for (name, team, start) in [("etl-daily", "data", false), ("ml-train", "ml", true)] {
        let body = json!({"clientToken": name, "name": name, "releaseLabel": "emr-7.2.0", "type": "SPARK", "tags": {"team": team}});
        let created = emr(&ws, "POST", "/applications", Some(&body));
        let id = created["applicationId"].as_str().expect("applicationId").to_string();
        ws.emulator.release(&account, &id);
        if start {
            emr(&ws, "POST", &format!("/applications/{id}/start"), None);
            ws.emulator.release(&account, &id);
        }
        arns.insert(name, created["arn"].as_str().expect("arn").to_string());
    }
    let iam = aws_sdk_iam::Client::new(&sdk_config(ws.emulator, &account).await);
    let statement = |condition: Value| json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "emr-serverless.amazonaws.com"}, "Action": "sts:AssumeRole", "Condition": condition}]});
    for (role, trust) in [
        (
            "etl-runner",
            statement(json!({"ArnLike": {"aws:SourceArn": format!("{}/*", arns["etl-daily"])}})),
        ),
        (
            "ml-runner",
            statement(json!({"ArnLike": {"aws:SourceArn": format!("{}/*", arns["ml-train"])}})),
        ),
        (
            "any-runner",
            statement(json!({"StringEquals": {"aws:SourceAccount": account}})),
        ),
    ] {
        iam.create_role()
            .role_name(role)
            .assume_role_policy_document(trust.to_string())
            .send()
            .await
            .expect("create_role");
    }
    let headers = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["generate", "--stack-name", STACK];
        all.extend_from_slice(args);
        let run = ws.run(&all).ok();
        run.stdout
            .lines()
            .filter(|line| line.starts_with('[') && line[1..line.len() - 1].split('.').count() == 2)
            .filter(|line| !line.starts_with("[networks.") && !line.starts_with("[configs."))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        headers(&["--name", "etl-*"]),
        ["[roles.any-runner]", "[roles.etl-runner]", "[applications.etl-daily]"]
    );
    assert_eq!(
        headers(&["--state", "STARTED"]),
        ["[roles.any-runner]", "[roles.ml-runner]", "[applications.ml-train]"]
    );
    assert_eq!(
        headers(&["--tag", "team=data", "--role", "ml-runner"]),
        ["[roles.ml-runner]", "[applications.etl-daily]"]
    );
    assert_eq!(headers(&["--name", "nothing-*"]), ["[roles.any-runner]"]);
}
