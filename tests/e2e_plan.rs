//! `emrstack plan` end to end: the built binary against the emulator, one
//! fresh account per test, as a user runs it. Together these tests are the
//! "done when" of issue #4: creation from an empty account, an empty plan
//! once AWS matches the file, each kind of out-of-band change as exactly
//! one field change, deletion of what the file no longer declares,
//! conflicts and `emrstack import`, stop/update/start of a STARTED
//! application, saved plans, the account check, network checks, image
//! digests, the number of API calls, and `emrstack output`.
//!
//! Assertions use `--format json` (docs/plan-format.md); human text is
//! checked by substring where the words matter. No test waits on a clock:
//! application transitions are completed with the emulator's `release`.

mod support;

use std::collections::BTreeMap;

use serde_json::{Value, json};
use support::cli::{Run, Workspace};
use support::cloud::{sdk_config, shared_emulator};
use support::emulator::Emulator;
use support::fixtures::{self, Network};

// ---- helpers ---------------------------------------------------------------

/// The JSON document a run printed on stdout.
fn json_of(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\n--- stderr ---\n{}",
            run.stdout, run.stderr
        )
    })
}

/// The one change at `address` (panics when there is none or more than one).
fn change<'a>(plan: &'a Value, address: &str) -> &'a Value {
    let found: Vec<&Value> = plan["changes"]
        .as_array()
        .expect("changes is an array")
        .iter()
        .filter(|change| change["address"] == address)
        .collect();
    assert_eq!(found.len(), 1, "expected one change of {address} in {plan:#}");
    found[0]
}

/// `(address, action)` of every change that does something, in plan order.
fn actions(plan: &Value) -> Vec<(String, String)> {
    plan["changes"]
        .as_array()
        .expect("changes is an array")
        .iter()
        .filter(|change| change["action"] != "no-op")
        .map(|change| {
            (
                change["address"].as_str().unwrap_or_default().to_string(),
                change["action"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

/// `(path, before, after, drift)` of every field of a change.
fn fields(change: &Value) -> Vec<(String, Value, Value, bool)> {
    change["fields"]
        .as_array()
        .expect("fields is an array")
        .iter()
        .map(|field| {
            (
                field["path"].as_str().unwrap_or_default().to_string(),
                field["before"].clone(),
                field["after"].clone(),
                field["drift"].as_bool().unwrap_or_default(),
            )
        })
        .collect()
}

fn field(path: &str, before: Value, after: Value, drift: bool) -> (String, Value, Value, bool) {
    (path.to_string(), before, after, drift)
}

/// The `step` codes of a change.
fn steps(change: &Value) -> Vec<String> {
    change["steps"]
        .as_array()
        .expect("steps is an array")
        .iter()
        .map(|step| step["step"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The diagnostic codes of a plan document.
fn codes(plan: &Value) -> Vec<String> {
    plan["diagnostics"]
        .as_array()
        .expect("diagnostics is an array")
        .iter()
        .map(|d| d["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// `args` followed by `extra`, as the `&[&str]` that `Workspace::run` takes.
fn with<'a>(args: &'a [String], extra: &[&'a str]) -> Vec<&'a str> {
    extra.iter().copied().chain(args.iter().map(String::as_str)).collect()
}

/// Replaces `from` with `to` in a workspace file; `from` must occur.
fn edit(ws: &Workspace<'_>, file: &str, from: &str, to: &str) {
    let path = ws.dir().join(file);
    let text = std::fs::read_to_string(&path).expect("read stack file");
    assert!(text.contains(from), "{file} does not contain {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write stack file");
}

/// The 1-based line and column of the first occurrence of `needle` in a workspace file.
fn position(ws: &Workspace<'_>, file: &str, needle: &str) -> (usize, usize) {
    let text = std::fs::read_to_string(ws.dir().join(file)).expect("read stack file");
    let offset = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} is not in {file}"));
    let line = text[..offset].matches('\n').count() + 1;
    let column = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

async fn emr(emulator: &Emulator, account: &str) -> aws_sdk_emrserverless::Client {
    aws_sdk_emrserverless::Client::new(&sdk_config(emulator, account).await)
}

async fn iam(emulator: &Emulator, account: &str) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&sdk_config(emulator, account).await)
}

async fn ecr(emulator: &Emulator, account: &str) -> aws_sdk_ecr::Client {
    aws_sdk_ecr::Client::new(&sdk_config(emulator, account).await)
}

/// The `analytics` example in a fresh account: a VPC with two subnets in two
/// zones and a security group, the `analytics/spark` repository with the
/// `dev` tag pushed, and the arguments that point the example at them.
struct Analytics {
    ws: Workspace<'static>,
    network: Network,
    /// The digest of `analytics/spark:dev`.
    digest: String,
    /// `--var-file dev.vars.toml --var subnet_a=... ...`
    args: Vec<String>,
}

impl Analytics {
    async fn new() -> Analytics {
        let ws = Workspace::new(shared_emulator());
        ws.copy_example("examples/analytics");
        let network = fixtures::network(ws.emulator, &ws.account).await;
        fixtures::repository(ws.emulator, &ws.account, "analytics/spark").await;
        let digest = fixtures::push_image(ws.emulator, &ws.account, "analytics/spark", "dev", 'a').await;
        let args = vec![
            "--var-file".to_string(),
            "dev.vars.toml".to_string(),
            "--var".to_string(),
            format!("subnet_a={}", network.subnets[0]),
            "--var".to_string(),
            format!("subnet_b={}", network.subnets[1]),
            "--var".to_string(),
            format!("security_group={}", network.security_group),
        ];
        Analytics {
            ws,
            network,
            digest,
            args,
        }
    }

    fn run(&self, extra: &[&str]) -> Run {
        self.ws.run(&with(&self.args, extra))
    }

    /// `plan --format json`, which must exit 0.
    fn plan(&self) -> Value {
        json_of(&self.run(&["plan", "--format", "json"]).ok())
    }

    /// `apply --auto-approve`, then a plan that must be empty.
    fn apply(&self) {
        self.run(&["apply", "--auto-approve"]).ok();
        self.run(&["plan", "--detailed-exitcode"]).ok();
    }

    /// `output --format json`.
    fn output(&self) -> Value {
        json_of(&self.run(&["output", "--format", "json"]).ok())
    }

    fn application_id(&self) -> String {
        self.output()["applications"]["etl"]["id"]
            .as_str()
            .expect("application.etl exists")
            .to_string()
    }

    fn image_uri(&self, digest: &str) -> String {
        format!(
            "{}.dkr.ecr.us-east-1.amazonaws.com/analytics/spark@{digest}",
            self.ws.account
        )
    }
}

// ---- creation, and the empty plan ------------------------------------------

#[tokio::test]
async fn an_empty_account_plans_every_declared_resource_for_creation() {
    let env = Analytics::new().await;
    let run = env
        .run(&["plan", "--format", "json", "--detailed-exitcode"])
        .expect_code(2);
    let plan = json_of(&run);
    assert_eq!(plan["account_id"], env.ws.account);
    assert_eq!(plan["stack"], "analytics-dev");
    assert_eq!(
        plan["summary"],
        json!({"create": 3, "update": 0, "replace": 0, "delete": 0, "no_op": 0})
    );
    assert_eq!(
        actions(&plan),
        pairs(&[
            ("application.etl", "create"),
            ("role.etl", "create"),
            ("repository.spark", "create"),
        ])
    );
    for change in plan["changes"].as_array().unwrap() {
        assert_eq!(change["reason"], "missing", "{change:#}");
        assert!(
            change["fields"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["before"].is_null()),
            "a creation has no before values: {change:#}"
        );
    }
    let etl = change(&plan, "application.etl");
    let by_path: BTreeMap<String, Value> = fields(etl).into_iter().map(|(p, _, after, _)| (p, after)).collect();
    assert_eq!(by_path["name"], "analytics-dev-etl");
    assert_eq!(by_path["release_label"], "emr-7.2.0");
    // A created block is one field with the whole block as its value.
    // Subnets are a set: shown sorted.
    let mut subnets = env.network.subnets.clone();
    subnets.sort();
    assert_eq!(by_path["network"]["subnet_ids"], json!(subnets));
    assert_eq!(
        by_path["network"]["security_group_ids"],
        json!([env.network.security_group])
    );
    assert_eq!(by_path["image"]["uri"], env.image_uri(&env.digest));
    assert_eq!(by_path["tags"]["emrstack:stack"], "analytics-dev");
    assert_eq!(by_path["tags"]["emrstack:address"], "application.etl");
    // The role and the repository statement name the ARN of an application
    // that does not exist yet, so they wait for it.
    for address in ["role.etl", "repository.spark"] {
        assert_eq!(change(&plan, address)["depends_on"], json!(["application.etl"]));
    }
    assert!(plan["diagnostics"].as_array().unwrap().is_empty(), "{plan:#}");

    // The other examples plan creations too (no network, no images).
    for (example, stack, address) in [
        ("examples/quickstart", "quickstart", "application.spark"),
        ("examples/hive", "warehouse", "application.hive"),
    ] {
        let ws = Workspace::new(shared_emulator());
        ws.copy_example(example);
        let plan = json_of(
            &ws.run(&["plan", "--format", "json", "--detailed-exitcode"])
                .expect_code(2),
        );
        assert_eq!(plan["stack"], stack);
        assert_eq!(actions(&plan), pairs(&[(address, "create")]), "{example}");
    }
}

#[tokio::test]
async fn after_apply_the_plan_is_empty_and_a_file_change_exits_2() {
    let env = Analytics::new().await;
    env.run(&["apply", "--auto-approve"]).ok();
    let run = env.run(&["plan", "--detailed-exitcode"]).ok();
    assert!(
        run.stdout.contains("No changes. AWS matches the stack."),
        "{}",
        run.stdout
    );
    let plan = json_of(&env.run(&["plan", "--format", "json", "--detailed-exitcode"]).ok());
    assert_eq!(plan["applyable"], false);
    assert_eq!(plan["summary"]["no_op"], 3);
    // Without --detailed-exitcode a plan with changes still exits 0.
    env.run(&["plan", "--var", "max_vcpu=32"]).ok();
    env.run(&["plan", "--var", "max_vcpu=32", "--detailed-exitcode"])
        .expect_code(2);
}

/// The stack of the out-of-band test: every kind of resource, small enough
/// to create by hand.
const HAND_MADE: &str = r#"
[stack]
name = "handmade"
region = "us-east-1"

[tags]
team = "data"

[networks.private]
subnet_ids = ["${var.subnet_a}", "${var.subnet_b}"]
security_group_ids = ["${var.security_group}"]

[repositories.spark]
name = "handmade/spark"
applications = ["etl"]

[roles.etl]
trust_applications = ["etl"]

[roles.etl.policies.logs]
document = { Version = "2012-10-17", Statement = [
  { Sid = "WriteLogs", Effect = "Allow", Action = "s3:PutObject", Resource = "arn:aws:s3:::handmade-logs/*" },
] }

[applications.etl]
type = "SPARK"
release_label = "emr-7.2.0"
network = "private"
image = { repository = "spark", tag = "v1" }
maximum_capacity = { cpu = "16 vCPU", memory = "64 GB" }
auto_stop = { idle_timeout_minutes = 30 }
"#;

/// Resources created with the SDK, exactly as the stack describes them and
/// with the ownership tags, are found and match field for field: the plan
/// has no field change, no creation and no deletion.
///
/// They lack `emrstack:applied`, emrstack's record of what it last applied
/// (the tag that tells drift from a change of the file), so today the plan
/// refreshes that record (an `update` with no fields); one apply writes it,
/// with no UpdateApplication, PutRolePolicy or SetRepositoryPolicy, and the
/// plan is then empty. See the report of issue #4 on whether a missing
/// record alone should count as a change.
#[tokio::test]
async fn resources_created_out_of_band_to_match_the_file_have_no_differences() {
    let emulator = shared_emulator();
    let ws = Workspace::new(emulator);
    let account = ws.account.clone();
    let network = fixtures::network(emulator, &account).await;
    fixtures::repository(emulator, &account, "handmade/spark").await;
    let digest = fixtures::push_image(emulator, &account, "handmade/spark", "v1", 'b').await;
    ws.write("emrstack.toml", HAND_MADE);
    let vars = [
        format!("subnet_a={}", network.subnets[0]),
        format!("subnet_b={}", network.subnets[1]),
        format!("security_group={}", network.security_group),
    ];
    let args: Vec<String> = vars.iter().flat_map(|v| ["--var".to_string(), v.clone()]).collect();

    // The statement the stack adds to the repository policy, as the plan shows it.
    let empty = json_of(&ws.run(&with(&args, &["plan", "--format", "json"])).ok());
    let statement = change(&empty, "repository.spark")["fields"][0]["after"].clone();
    assert_eq!(change(&empty, "repository.spark")["fields"][0]["path"], "statement");

    // The application, as declared, with the ownership tags.
    let emr = emr(emulator, &account).await;
    let image = format!("{account}.dkr.ecr.us-east-1.amazonaws.com/handmade/spark@{digest}");
    use aws_sdk_emrserverless::types as t;
    let created = emr
        .create_application()
        .name("handmade-etl")
        .r#type("SPARK")
        .release_label("emr-7.2.0")
        .network_configuration(
            t::NetworkConfiguration::builder()
                .set_subnet_ids(Some(network.subnets.clone()))
                .security_group_ids(&network.security_group)
                .build(),
        )
        .image_configuration(t::ImageConfigurationInput::builder().image_uri(&image).build())
        .maximum_capacity(
            t::MaximumAllowedResources::builder()
                .cpu("16 vCPU")
                .memory("64 GB")
                .build()
                .unwrap(),
        )
        .auto_stop_configuration(
            t::AutoStopConfig::builder()
                .enabled(true)
                .idle_timeout_minutes(30)
                .build(),
        )
        .tags("team", "data")
        .tags("emrstack:stack", "handmade")
        .tags("emrstack:address", "application.etl")
        .send()
        .await
        .expect("create_application");
    let (id, arn) = (created.application_id, created.arn);
    emulator.release(&account, &id);

    // The role: the trust policy emrstack writes, the inline policy, the tags.
    let iam = iam(emulator, &account).await;
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "EMRServerlessTrustPolicy",
            "Effect": "Allow",
            "Principal": {"Service": "emr-serverless.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": [arn.clone(), format!("{arn}/*")]},
            },
        }],
    });
    let tag = |k: &str, v: &str| aws_sdk_iam::types::Tag::builder().key(k).value(v).build().unwrap();
    iam.create_role()
        .role_name("handmade-etl")
        .assume_role_policy_document(trust.to_string())
        .tags(tag("team", "data"))
        .tags(tag("emrstack:stack", "handmade"))
        .tags(tag("emrstack:address", "role.etl"))
        .send()
        .await
        .expect("create_role");
    let logs = json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "WriteLogs", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::handmade-logs/*"}],
    });
    iam.put_role_policy()
        .role_name("handmade-etl")
        .policy_name("logs")
        .policy_document(logs.to_string())
        .send()
        .await
        .expect("put_role_policy");

    // The repository policy: the plan's statement with the application's ARN.
    let statement: Value =
        serde_json::from_str(&statement.to_string().replace("${application.etl.arn}", &arn)).unwrap();
    let policy = json!({"Version": "2012-10-17", "Statement": [statement]});
    ecr(emulator, &account)
        .await
        .set_repository_policy()
        .repository_name("handmade/spark")
        .policy_text(policy.to_string())
        .send()
        .await
        .expect("set_repository_policy");

    // Exactly as declared: nothing to do, and the CI gate says so.
    ws.run(&with(&args, &["plan", "--detailed-exitcode"])).ok();
    let plan = json_of(&ws.run(&with(&args, &["plan", "--format", "json"])).ok());
    for kind in ["create", "update", "replace", "delete"] {
        assert_eq!(plan["summary"][kind], 0, "{plan:#}");
    }
    for change in plan["changes"].as_array().unwrap() {
        assert_eq!(change["fields"], json!([]), "no field differs: {change:#}");
        assert_eq!(change["action"], "no-op", "{change:#}");
    }
    assert_eq!(plan["drift"], json!([]));
    assert_eq!(change(&plan, "application.etl")["application"]["id"], id);

    // Applying changes nothing.
    let before = emulator.call_counts(Some(&account));
    ws.run(&with(&args, &["apply", "--auto-approve"])).ok();
    let after = emulator.call_counts(Some(&account));
    for key in [
        "emr-serverless:UpdateApplication",
        "emr-serverless:CreateApplication",
        "emr-serverless:TagResource",
        "iam:PutRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "ecr:SetRepositoryPolicy",
    ] {
        assert_eq!(before["served"][key], after["served"][key], "apply called {key}");
    }
}

// ---- each kind of change as exactly one field change ----------------------

#[tokio::test]
async fn release_label_changed_outside_is_drift_of_release_label() {
    let env = Analytics::new().await;
    env.apply();
    let id = env.application_id();
    emr(env.ws.emulator, &env.ws.account)
        .await
        .update_application()
        .application_id(&id)
        .release_label("emr-7.1.0")
        .send()
        .await
        .expect("update_application");
    let plan = env.plan();
    assert_eq!(actions(&plan), pairs(&[("application.etl", "update")]));
    let etl = change(&plan, "application.etl");
    assert_eq!(etl["reason"], "drift");
    assert_eq!(
        fields(etl),
        vec![field("release_label", json!("emr-7.1.0"), json!("emr-7.2.0"), true)]
    );
    assert_eq!(
        plan["drift"],
        json!([{"address": "application.etl", "path": "release_label", "before": "emr-7.1.0", "after": "emr-7.2.0"}])
    );
    // A CREATED application is updated without a stop; the applied record
    // still holds what the file says, so it needs no new tag.
    assert_eq!(steps(etl), ["update"]);
    let human = env.run(&["plan"]).ok().stdout;
    assert!(human.contains("~ release_label"), "{human}");
    assert!(human.contains("# changed outside emrstack"), "{human}");
    assert!(human.contains("Objects have changed outside of emrstack"), "{human}");
}

#[tokio::test]
async fn maximum_capacity_changed_outside_is_a_live_change_of_that_field() {
    let env = Analytics::new().await;
    env.apply();
    let id = env.application_id();
    emr(env.ws.emulator, &env.ws.account)
        .await
        .update_application()
        .application_id(&id)
        .maximum_capacity(
            aws_sdk_emrserverless::types::MaximumAllowedResources::builder()
                .cpu("32 vCPU")
                .memory("256 GB")
                .disk("1000 GB")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("update_application");
    let plan = env.plan();
    assert_eq!(actions(&plan), pairs(&[("application.etl", "update")]));
    let etl = change(&plan, "application.etl");
    assert_eq!(
        fields(etl),
        vec![field("maximum_capacity.cpu", json!("32 vCPU"), json!("64 vCPU"), true)]
    );
    assert_eq!(etl["fields"][0]["live"], true);
    assert_eq!(etl["fields"][0]["forces_replacement"], false);
}

#[tokio::test]
async fn a_statement_added_to_an_inline_policy_is_drift_of_that_policy() {
    let env = Analytics::new().await;
    env.apply();
    let iam = iam(env.ws.emulator, &env.ws.account).await;
    let current = iam
        .get_role_policy()
        .role_name("analytics-dev-etl")
        .policy_name("logs")
        .send()
        .await
        .expect("get_role_policy");
    let text = percent_decode(&current.policy_document);
    let mut document: Value = serde_json::from_str(&text).expect("policy JSON");
    let original = document["Statement"].clone();
    let added = json!({"Sid": "Extra", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"});
    document["Statement"].as_array_mut().unwrap().push(added);
    iam.put_role_policy()
        .role_name("analytics-dev-etl")
        .policy_name("logs")
        .policy_document(document.to_string())
        .send()
        .await
        .expect("put_role_policy");

    let plan = env.plan();
    assert_eq!(actions(&plan), pairs(&[("role.etl", "update")]));
    let role = change(&plan, "role.etl");
    assert_eq!(role["reason"], "drift");
    let found = fields(role);
    assert_eq!(found.len(), 1, "{role:#}");
    let (path, before, after, drift) = &found[0];
    assert_eq!(path, "policies.logs.Statement");
    assert!(drift);
    assert_eq!(before.as_array().unwrap().len(), 2, "{before:#}");
    assert_eq!(after.as_array().unwrap().len(), 1, "{after:#}");
    assert_eq!(after[0]["Sid"], original[0]["Sid"]);
    assert!(before.as_array().unwrap().iter().any(|s| s["Sid"] == "Extra"));
    assert_eq!(role["steps"][0]["parts"], json!(["inline policy `logs`"]));
}

/// IAM returns policy documents URL-encoded.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("UTF-8 policy")
}

#[tokio::test]
async fn a_tag_added_or_changed_on_the_application_is_drift_of_that_tag() {
    let env = Analytics::new().await;
    env.apply();
    let arn = env.output()["applications"]["etl"]["arn"].as_str().unwrap().to_string();
    emr(env.ws.emulator, &env.ws.account)
        .await
        .tag_resource()
        .resource_arn(&arn)
        .tags("owner", "someone")
        .tags("environment", "prod")
        .send()
        .await
        .expect("tag_resource");
    let plan = env.plan();
    assert_eq!(actions(&plan), pairs(&[("application.etl", "update")]));
    let etl = change(&plan, "application.etl");
    assert_eq!(
        fields(etl),
        vec![
            field("tags.environment", json!("prod"), json!("dev"), true),
            field("tags.owner", json!("someone"), Value::Null, true),
        ]
    );
    // Tags need no UpdateApplication, only tagging.
    assert_eq!(steps(etl), ["tag"]);
}

#[tokio::test]
async fn a_block_removed_from_the_file_is_cleared() {
    let env = Analytics::new().await;
    env.apply();
    // The CloudWatch block of the shared config, and the image.
    edit(&env.ws, "emrstack.toml", "cloudwatch = {", "# cloudwatch = {");
    edit(&env.ws, "emrstack.toml", "image = {", "# image = {");
    let plan = env.plan();
    let etl = change(&plan, "application.etl");
    assert_eq!(etl["reason"], "changed");
    let found = fields(etl);
    let paths: Vec<&str> = found.iter().map(|(p, ..)| p.as_str()).collect();
    assert_eq!(paths, ["image", "monitoring.cloudwatch"], "{etl:#}");
    for (path, before, after, drift) in &found {
        assert!(after.is_null(), "{path} is cleared: {after}");
        assert!(!before.is_null(), "{path} was set");
        assert!(!drift, "{path} is a change of the file, not drift");
    }
    assert_eq!(found[0].1["uri"], env.image_uri(&env.digest));
    assert_eq!(found[1].1["log_group_name"], "/aws/emr-serverless/analytics-dev");
    assert_eq!(etl["steps"][0]["fields"], json!(["image", "monitoring"]));
}

#[tokio::test]
async fn a_change_of_the_file_is_not_drift() {
    let env = Analytics::new().await;
    env.apply();
    edit(
        &env.ws,
        "emrstack.toml",
        "release_label = \"emr-7.2.0\"",
        "release_label = \"emr-7.3.0\"",
    );
    let plan = env.plan();
    assert_eq!(actions(&plan), pairs(&[("application.etl", "update")]));
    let etl = change(&plan, "application.etl");
    assert_eq!(etl["reason"], "changed");
    assert_eq!(
        fields(etl),
        vec![field("release_label", json!("emr-7.2.0"), json!("emr-7.3.0"), false)]
    );
    assert_eq!(plan["drift"], json!([]));
}

// ---- deletion, conflicts, import -------------------------------------------

const TWO_APPLICATIONS: &str = r#"
[stack]
name = "pair"
region = "us-east-1"

[roles.etl]
trust_applications = ["etl"]

[applications.etl]
type = "SPARK"
release_label = "emr-7.2.0"

[applications.adhoc]
type = "SPARK"
release_label = "emr-7.2.0"
"#;

#[test]
fn an_owned_resource_removed_from_the_file_plans_a_delete() {
    let ws = Workspace::new(shared_emulator());
    ws.write("emrstack.toml", TWO_APPLICATIONS);
    ws.run(&["apply", "--auto-approve"]).ok();
    let adhoc_id = json_of(&ws.run(&["output", "--format", "json"]).ok())["applications"]["adhoc"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let without = TWO_APPLICATIONS.split("[applications.adhoc]").next().unwrap();
    ws.write("emrstack.toml", without);
    let plan = json_of(
        &ws.run(&["plan", "--format", "json", "--detailed-exitcode"])
            .expect_code(2),
    );
    assert_eq!(actions(&plan), pairs(&[("application.adhoc", "delete")]));
    let adhoc = change(&plan, "application.adhoc");
    assert_eq!(adhoc["reason"], "removed-from-stack");
    assert_eq!(adhoc["application"]["id"], adhoc_id);
    assert_eq!(steps(adhoc), ["delete"]);
    assert!(
        fields(adhoc)
            .iter()
            .all(|(_, before, after, _)| !before.is_null() && after.is_null()),
        "{adhoc:#}"
    );

    // A role too: removing it (and what trusts it) deletes it.
    let without_role = without.replace("[roles.etl]\ntrust_applications = [\"etl\"]\n", "");
    ws.write("emrstack.toml", &without_role);
    let plan = json_of(&ws.run(&["plan", "--format", "json"]).ok());
    assert_eq!(
        actions(&plan),
        pairs(&[("application.adhoc", "delete"), ("role.etl", "delete")])
    );
    assert_eq!(change(&plan, "role.etl")["reason"], "removed-from-stack");
}

const FOREIGN: &str = r#"[stack]
name = "foreign"
region = "us-east-1"

[roles.etl]
trust_applications = ["spark"]

[applications.spark]
type = "SPARK"
release_label = "emr-7.2.0"
"#;

#[tokio::test]
async fn a_foreign_resource_with_a_declared_name_is_a_conflict_until_imported() {
    let emulator = shared_emulator();
    let ws = Workspace::new(emulator);
    ws.write("emrstack.toml", FOREIGN);
    // Made by someone else: the declared names, no ownership tags, an older release.
    let id = emr(emulator, &ws.account)
        .await
        .create_application()
        .name("foreign-spark")
        .r#type("SPARK")
        .release_label("emr-7.1.0")
        .send()
        .await
        .expect("create_application")
        .application_id;
    emulator.release(&ws.account, &id);
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "emr-serverless.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    });
    iam(emulator, &ws.account)
        .await
        .create_role()
        .role_name("foreign-etl")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("create_role");

    let run = ws.run(&["plan", "--detailed-exitcode"]).expect_code(1);
    let (line, column) = position(&ws, "emrstack.toml", "[applications.spark]");
    for expected in [
        format!(
            "error[plan.conflict]: application `foreign-spark` ({id}) already exists and is not managed by emrstack"
        ),
        format!(" --> emrstack.toml:{line}:{column}"),
        format!("help: run `emrstack import application.spark {id}` to adopt it"),
        "error[plan.conflict]: role `foreign-etl`".to_string(),
        "help: run `emrstack import role.etl foreign-etl` to adopt it".to_string(),
        "error: the plan has errors; fix them and plan again".to_string(),
    ] {
        assert!(
            run.stderr.contains(&expected),
            "missing {expected:?} in\n{}",
            run.stderr
        );
    }
    let (line, column) = position(&ws, "emrstack.toml", "[roles.etl]");
    assert!(
        run.stderr.contains(&format!("emrstack.toml:{line}:{column}")),
        "{}",
        run.stderr
    );
    // A plan with errors is not shown and not saved; JSON says why instead.
    assert_eq!(run.stdout, "");
    let run = ws.run(&["plan", "--format", "json"]).expect_code(1);
    let document: Value = serde_json::from_str(&run.stdout).expect("JSON on stdout");
    assert_eq!(document["applyable"], false);
    assert!(document.get("changes").is_none(), "{document:#}");
    let found: Vec<&str> = document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert_eq!(found, ["plan.conflict", "plan.conflict"]);
    assert_eq!(run.stderr.matches("error[plan.conflict]").count(), 2, "{}", run.stderr);
    ws.run(&["plan", "--out", "conflict.plan"]).expect_code(1);
    assert!(!ws.dir().join("conflict.plan").exists());

    // Import adopts both; the next plan shows only the real differences:
    // the release label, and the trust policy emrstack writes.
    let imported = ws.run(&["import", "application.spark", &id]).ok();
    assert!(imported.stderr.contains("Imported application"), "{}", imported.stderr);
    ws.run(&["import", "role.etl", "foreign-etl"]).ok();
    let plan = json_of(&ws.run(&["plan", "--format", "json"]).ok());
    assert_eq!(codes(&plan), Vec::<String>::new());
    assert_eq!(
        actions(&plan),
        pairs(&[("application.spark", "update"), ("role.etl", "update")])
    );
    let spark = change(&plan, "application.spark");
    assert_eq!(spark["application"]["id"], id);
    // No record yet, so the origin of a difference cannot be told: not drift.
    assert_eq!(
        fields(spark),
        vec![field("release_label", json!("emr-7.1.0"), json!("emr-7.2.0"), false)]
    );
    let role = change(&plan, "role.etl");
    let paths: Vec<String> = fields(role).into_iter().map(|(p, ..)| p).collect();
    assert_eq!(paths, ["trust_policy.Statement"], "{role:#}");

    // Importing again under another ID is refused.
    let other = ws
        .run(&["import", "application.spark", "00zzzzzzzzzzzzzz"])
        .expect_code(1);
    assert!(other.stderr.contains("already"), "{}", other.stderr);
}

// ---- a STARTED application --------------------------------------------------

#[tokio::test]
async fn a_started_application_with_a_release_change_is_stopped_updated_and_started() {
    let env = Analytics::new().await;
    env.apply();
    let id = env.application_id();
    let emulator = env.ws.emulator;
    // Start it and complete the transition now; one job that runs until cancelled.
    emr(emulator, &env.ws.account)
        .await
        .start_application()
        .application_id(&id)
        .send()
        .await
        .expect("start_application");
    emulator.release(&env.ws.account, &id);
    let job = emulator.inject_job(&env.ws.account, &id, Some(json!([["RUNNING"]])));
    assert_eq!(env.output()["applications"]["etl"]["state"], "STARTED");
    // Live state alone is never a change.
    env.run(&["plan", "--detailed-exitcode"]).ok();

    edit(
        &env.ws,
        "emrstack.toml",
        "release_label = \"emr-7.2.0\"",
        "release_label = \"emr-7.3.0\"",
    );
    let plan = env.plan();
    let etl = change(&plan, "application.etl");
    assert_eq!(steps(etl), ["stop", "update", "start", "tag"]);
    assert_eq!(etl["steps"][0]["running_jobs"], 1);
    assert_eq!(etl["steps"][1]["fields"], json!(["release_label"]));
    assert_eq!(etl["fields"][0]["live"], false);
    assert_eq!(etl["application"]["state"], "STARTED");
    assert_eq!(etl["application"]["running_jobs"][0]["id"], job);
    assert_eq!(etl["application"]["running_jobs"][0]["state"], "RUNNING");

    let human = env.run(&["plan"]).ok().stdout;
    for expected in [
        format!(
            "# {id} is STARTED: these changes need a stopped application, so it is stopped, updated and started again"
        ),
        "# steps: stop (1 running job) -> update release_label -> start -> tag".to_string(),
        "# forces a stop".to_string(),
    ] {
        assert!(human.contains(&expected), "missing {expected:?} in\n{human}");
    }
    let markdown = env.run(&["plan", "--format", "markdown"]).ok().stdout;
    assert!(markdown.contains("running job"), "{markdown}");

    // A live change (maximum capacity) of the same STARTED application needs no stop.
    edit(
        &env.ws,
        "emrstack.toml",
        "release_label = \"emr-7.3.0\"",
        "release_label = \"emr-7.2.0\"",
    );
    let plan = json_of(&env.run(&["plan", "--format", "json", "--var", "max_vcpu=32"]).ok());
    let etl = change(&plan, "application.etl");
    assert_eq!(steps(etl), ["update", "tag"]);
    assert_eq!(etl["fields"][0]["live"], true);
}

// ---- saved plans ------------------------------------------------------------

#[tokio::test]
async fn a_saved_plan_renders_the_same_in_every_format_without_secrets() {
    let env = Analytics::new().await;
    let secret = "hunter2-do-not-print-me";
    edit(
        &env.ws,
        "configs/spark-defaults.json",
        "\"spark.driver.cores\": \"2\",",
        &format!("\"spark.driver.cores\": \"2\",\n      \"spark.hadoop.fs.s3a.secret.key\": \"{secret}\","),
    );
    let saved = env.run(&["plan", "--out", "tonight.plan"]).ok();
    assert!(
        saved.stderr.contains("Saved the plan to tonight.plan"),
        "{}",
        saved.stderr
    );
    let file = std::fs::read_to_string(env.ws.dir().join("tonight.plan")).expect("plan file");
    assert!(!file.contains(secret), "the plan file holds the secret");
    for format in ["human", "json", "markdown"] {
        let live = env.run(&["plan", "--format", format]).ok();
        let shown = env.ws.run(&["show", "tonight.plan", "--format", format]).ok();
        assert_eq!(shown.stdout, live.stdout, "show --format {format} differs from plan");
        assert!(!shown.stdout.contains(secret), "{format} shows the secret");
        assert!(shown.stdout.contains("(sensitive value)"), "{format}: {}", shown.stdout);
    }
    let plan = json_of(&env.run(&["plan", "--format", "json"]).ok());
    let secret_field = change(&plan, "application.etl")["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["sensitive"] == true)
        .cloned()
        .expect("a sensitive field");
    assert_eq!(secret_field["path"], "runtime_configuration", "{secret_field:#}");
    assert_eq!(
        secret_field["after"]["spark-defaults"]["properties"]["spark.hadoop.fs.s3a.secret.key"],
        "(sensitive value)"
    );
    assert_eq!(
        secret_field["after"]["spark-defaults"]["properties"]["spark.driver.cores"],
        "2"
    );
    // A file that is not a plan is an error.
    env.ws.write("garbage.plan", "{}");
    env.ws.run(&["show", "garbage.plan"]).expect_code(1);
}

// ---- the account check ------------------------------------------------------

#[test]
fn a_stack_for_another_account_is_refused_before_anything_else() {
    let ws = Workspace::new(shared_emulator());
    let other = if ws.account == "999999999999" {
        "999999999998"
    } else {
        "999999999999"
    };
    ws.write(
        "emrstack.toml",
        &format!(
            "[stack]\nname = \"elsewhere\"\nregion = \"us-east-1\"\naccount_id = \"{other}\"\n\n\
             [networks.private]\nsubnet_ids = [\"subnet-0123456789abcdef0\"]\nsecurity_group_ids = [\"sg-0123456789abcdef0\"]\n\n\
             [applications.spark]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\nnetwork = \"private\"\n"
        ),
    );
    let run = ws.run(&["plan", "--detailed-exitcode"]).expect_code(1);
    let expected = format!(
        "error[stack.wrong-account]: the stack is for account {other}, but the credentials are for account {}",
        ws.account
    );
    assert!(
        run.stderr.contains(&expected),
        "missing {expected:?} in\n{}",
        run.stderr
    );
    // It points at `account_id` in `[stack]` (line 4, after `account_id = `).
    assert!(run.stderr.contains("--> emrstack.toml:4:14"), "{}", run.stderr);
    // Nothing but the identity was read: no network errors, no listing.
    assert!(!run.stderr.contains("error[network."), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    let counts = ws.emulator.call_counts(Some(&ws.account));
    assert_eq!(counts["served"], json!({"sts:GetCallerIdentity": 1}), "{counts:#}");

    // A program asking for JSON learns why there is no plan.
    let run = ws.run(&["plan", "--format", "json"]).expect_code(1);
    let document: Value = serde_json::from_str(&run.stdout).expect("JSON on stdout");
    assert_eq!(document["applyable"], false);
    assert_eq!(document["diagnostics"][0]["code"], "stack.wrong-account");
    assert_eq!(document["diagnostics"][0]["line"], 4);
}

// ---- network checks ---------------------------------------------------------

#[tokio::test]
async fn a_missing_subnet_is_an_error_at_its_position_and_one_zone_a_warning() {
    let emulator = shared_emulator();
    let ws = Workspace::new(emulator);
    let network = fixtures::network(emulator, &ws.account).await;
    let missing = "subnet-0badbadbadbadbad0";
    let stack = |subnets: &[&str]| {
        format!(
            "[stack]\nname = \"net\"\nregion = \"us-east-1\"\n\n[networks.private]\n\
             subnet_ids = [{}]\nsecurity_group_ids = [\"{}\"]\n\n\
             [applications.spark]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\nnetwork = \"private\"\n",
            subnets
                .iter()
                .map(|s| format!("\"{s}\""))
                .collect::<Vec<_>>()
                .join(", "),
            network.security_group
        )
    };
    ws.write("emrstack.toml", &stack(&[&network.subnets[0], missing]));
    let run = ws.run(&["plan", "--detailed-exitcode"]).expect_code(1);
    let (line, column) = position(&ws, "emrstack.toml", &format!("\"{missing}\""));
    for expected in [
        format!("error[network.subnet-not-found]: subnet `{missing}` does not exist"),
        format!(" --> emrstack.toml:{line}:{column}"),
        // With one of two subnets found, the network covers one zone.
        "warning[network.single-zone]".to_string(),
    ] {
        assert!(
            run.stderr.contains(&expected),
            "missing {expected:?} in\n{}",
            run.stderr
        );
    }
    assert_eq!(run.stdout, "", "a plan with errors is not shown");

    // One existing subnet: a warning only, and the plan goes on.
    ws.write("emrstack.toml", &stack(&[&network.subnets[0]]));
    let run = ws.run(&["plan", "--detailed-exitcode"]).expect_code(2);
    assert!(run.stderr.contains("warning[network.single-zone]"), "{}", run.stderr);
    let (line, column) = position(&ws, "emrstack.toml", "[\"subnet-");
    assert!(
        run.stderr.contains(&format!("emrstack.toml:{line}:{column}")),
        "{}",
        run.stderr
    );
    let plan = json_of(&ws.run(&["plan", "--format", "json"]).ok());
    assert_eq!(codes(&plan), ["network.single-zone"]);
    assert_eq!(plan["applyable"], true);
}

// ---- image digests ----------------------------------------------------------

#[tokio::test]
async fn image_tags_are_pinned_to_digests_and_a_new_push_is_an_image_change() {
    let env = Analytics::new().await;
    env.apply();
    let output = env.output();
    assert_eq!(
        output["repositories"]["spark"]["uri"],
        format!("{}.dkr.ecr.us-east-1.amazonaws.com/analytics/spark", env.ws.account)
    );
    let pushed = fixtures::push_image(env.ws.emulator, &env.ws.account, "analytics/spark", "dev", 'd').await;
    assert_ne!(pushed, env.digest);
    let plan = json_of(
        &env.run(&["plan", "--format", "json", "--detailed-exitcode"])
            .expect_code(2),
    );
    assert_eq!(actions(&plan), pairs(&[("application.etl", "update")]));
    let etl = change(&plan, "application.etl");
    assert_eq!(
        fields(etl),
        vec![field(
            "image.uri",
            json!(env.image_uri(&env.digest)),
            json!(env.image_uri(&pushed)),
            false
        )]
    );
    // Not live: the example's application has pre-initialized capacity, and
    // the service does not update its image while STARTED.
    assert_eq!(etl["fields"][0]["live"], false);
    // A tag that does not exist is an error at the image's tag.
    let run = env.run(&["plan", "--var", "image_tag=nope"]).expect_code(1);
    assert!(
        run.stderr.contains(
            "error[image.tag-not-found]: image tag `nope` does not exist in ECR repository `analytics/spark`"
        ),
        "{}",
        run.stderr
    );
}

// ---- API calls --------------------------------------------------------------

/// A stack of `applications` Spark applications and `roles` roles, each
/// role trusting one application and holding `policies` inline policies,
/// one repository whose image the first application uses, one network.
fn generated_stack(applications: usize, roles: usize, policies: usize) -> String {
    let mut text = String::from(
        "[stack]\nname = \"counted\"\nregion = \"us-east-1\"\n\n\
         [networks.private]\nsubnet_ids = [\"${var.subnet_a}\", \"${var.subnet_b}\"]\n\
         security_group_ids = [\"${var.security_group}\"]\n\n\
         [repositories.spark]\nname = \"counted/spark\"\napplications = [\"app0\"]\n\n",
    );
    for index in 0..applications {
        text.push_str(&format!(
            "[applications.app{index}]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\nnetwork = \"private\"\n"
        ));
        if index == 0 {
            text.push_str("image = { repository = \"spark\", tag = \"v1\" }\n");
        }
        text.push('\n');
    }
    for index in 0..roles {
        text.push_str(&format!(
            "[roles.role{index}]\ntrust_applications = [\"app{index}\"]\n\n"
        ));
        for policy in 0..policies {
            text.push_str(&format!(
                "[roles.role{index}.policies.p{policy}]\ndocument = {{ Version = \"2012-10-17\", Statement = [\
                 {{ Effect = \"Allow\", Action = \"s3:GetObject\", Resource = \"arn:aws:s3:::b{policy}/*\" }}] }}\n\n"
            ));
        }
    }
    text
}

/// The documented number of calls of one plan (docs/observe.md) for a stack
/// whose resources all exist: `a` applications in the region, `m` roles with
/// `k` inline policies each and no managed-policy pages beyond the first,
/// one declared repository whose images use one tag, one network with
/// subnets and security groups, no application to stop.
fn documented_calls(a: u64, m: u64, k: u64) -> BTreeMap<&'static str, u64> {
    BTreeMap::from([
        ("sts:GetCallerIdentity", 1),
        ("emr-serverless:ListApplications", a.div_ceil(50).max(1)),
        ("emr-serverless:GetApplication", a),
        ("iam:ListRoles", 1),
        ("iam:GetRole", m),
        ("iam:ListRolePolicies", m),
        ("iam:GetRolePolicy", m * k),
        ("iam:ListAttachedRolePolicies", m),
        ("ecr:DescribeRepositories", 1),
        ("ecr:GetRepositoryPolicy", 1),
        ("ecr:BatchGetImage", 1),
        ("ec2:DescribeSubnets", 1),
        ("ec2:DescribeSecurityGroups", 1),
    ])
    .into_iter()
    .filter(|(_, count)| *count > 0)
    .collect()
}

#[tokio::test]
async fn a_plan_makes_the_documented_number_of_calls() {
    let emulator = shared_emulator();
    let ws = Workspace::new(emulator);
    let network = fixtures::network(emulator, &ws.account).await;
    fixtures::repository(emulator, &ws.account, "counted/spark").await;
    fixtures::push_image(emulator, &ws.account, "counted/spark", "v1", 'e').await;
    // 60 applications: two pages of ListApplications.
    let (n, m, k) = (60_u64, 6_u64, 2_u64);
    ws.write("emrstack.toml", &generated_stack(n as usize, m as usize, k as usize));
    let vars = [
        format!("subnet_a={}", network.subnets[0]),
        format!("subnet_b={}", network.subnets[1]),
        format!("security_group={}", network.security_group),
    ];
    let args: Vec<String> = vars.iter().flat_map(|v| ["--var".to_string(), v.clone()]).collect();
    ws.run(&with(&args, &["apply", "--auto-approve", "--parallelism", "20"]))
        .ok();

    let served = |ws: &Workspace<'_>| -> BTreeMap<String, u64> {
        let counts = ws.emulator.call_counts(Some(&ws.account));
        serde_json::from_value(counts["served"].clone()).expect("served counts")
    };
    let delta = |before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>| -> BTreeMap<String, u64> {
        after
            .iter()
            .map(|(key, count)| (key.clone(), count - before.get(key).copied().unwrap_or(0)))
            .filter(|(_, count)| *count > 0)
            .collect()
    };
    let expected: BTreeMap<String, u64> = documented_calls(n, m, k)
        .into_iter()
        .map(|(key, count)| (key.to_string(), count))
        .collect();
    for parallelism in ["10", "1"] {
        let before = served(&ws);
        ws.run(&with(
            &args,
            &["plan", "--detailed-exitcode", "--parallelism", parallelism],
        ))
        .ok();
        let calls = delta(&before, &served(&ws));
        assert_eq!(calls, expected, "calls of a plan at --parallelism {parallelism}");
        let totals = ws.emulator.call_counts(Some(&ws.account))["totals"].clone();
        assert_eq!(
            (totals["faulted"].clone(), totals["throttled"].clone()),
            (json!(0), json!(0))
        );
    }

    // An application of another tool in the same region costs one more
    // GetApplication: only the full application has the ownership tags.
    let id = emr(emulator, &ws.account)
        .await
        .create_application()
        .name("not-ours")
        .r#type("HIVE")
        .release_label("emr-7.2.0")
        .send()
        .await
        .expect("create_application")
        .application_id;
    emulator.release(&ws.account, &id);
    let before = served(&ws);
    ws.run(&with(&args, &["plan", "--detailed-exitcode"])).ok();
    let calls = delta(&before, &served(&ws));
    let expected: BTreeMap<String, u64> = documented_calls(n + 1, m, k)
        .into_iter()
        .map(|(key, count)| (key.to_string(), count))
        .collect();
    assert_eq!(calls, expected, "A counts every application in the region");
}

// ---- output -----------------------------------------------------------------

#[tokio::test]
async fn output_prints_ids_arns_and_uris() {
    let env = Analytics::new().await;
    let before = env.output();
    assert_eq!(before["applications"]["etl"], Value::Null);
    assert_eq!(before["roles"]["etl"]["arn"], Value::Null);
    env.apply();
    let output = env.output();
    let account = &env.ws.account;
    assert_eq!(output["stack"], "analytics-dev");
    assert_eq!(output["account_id"], *account);
    assert_eq!(output["region"], "us-east-1");
    let app = &output["applications"]["etl"];
    let id = app["id"].as_str().expect("id");
    assert_eq!(id.len(), 16);
    assert_eq!(
        app["arn"],
        format!("arn:aws:emr-serverless:us-east-1:{account}:/applications/{id}")
    );
    assert_eq!(app["name"], "analytics-dev-etl");
    assert_eq!(app["state"], "CREATED");
    assert_eq!(
        output["roles"]["etl"],
        json!({"name": "analytics-dev-etl", "arn": format!("arn:aws:iam::{account}:role/analytics-dev-etl")})
    );
    assert_eq!(
        output["repositories"]["spark"],
        json!({
            "name": "analytics/spark",
            "uri": format!("{account}.dkr.ecr.us-east-1.amazonaws.com/analytics/spark"),
            "arn": format!("arn:aws:ecr:us-east-1:{account}:repository/analytics/spark"),
        })
    );
    let human = env.run(&["output"]).ok().stdout;
    assert!(human.contains(&format!("  id    = {id}")), "{human}");
}
