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

use std::collections::BTreeMap;

use crate::support::cli::{Run, Workspace};
use crate::support::cloud::{sdk_config, shared_emulator};
use crate::support::emulator::Emulator;
use crate::support::fixtures::{self, Network};
use serde_json::{Value, json};

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

/// Creates a Spark application named `name` with `tags` in `ws`'s account
/// directly with the SDK, as someone else would (or an earlier emrstack),
/// ends its creation, and returns its ID.
async fn sdk_application(ws: &Workspace<'_>, name: &str, tags: &[(&str, &str)]) -> String {
    let mut request = emr(ws.emulator, &ws.account)
        .await
        .create_application()
        .name(name)
        .r#type("SPARK")
        .release_label("emr-7.2.0");
    for (key, value) in tags {
        request = request.tags(*key, *value);
    }
    let id = request.send().await.expect("create_application").application_id;
    ws.emulator.release(&ws.account, &id);
    id
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
/// with the ownership tags set by hand, but without `emrstack:applied`:
/// emrstack cannot prove it created them, so the plan is an error naming
/// them (never an update or a delete). `emrstack import` adopts each one,
/// writing the record; then they match field for field: no field change,
/// no creation and no deletion, and an apply calls nothing that writes.
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

    // The role: the trust policy emrstack writes (its `Sid` is the stack's
    // marker), the inline policy, the tags.
    let iam = iam(emulator, &account).await;
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": emrstack::model::repository::statement_sid("handmade"),
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

    // Hand-tagged: not provably emrstack's. Both are named, with their tags.
    let refused = ws.run(&with(&args, &["plan"])).expect_code(1);
    for expected in [
        format!("error[plan.unproven-ownership]: application `handmade-etl` ({id}) carries the tags"),
        "error[plan.unproven-ownership]: role `handmade-etl` carries the tags".to_string(),
        format!("emrstack import application.etl {id}"),
        "emrstack import role.etl handmade-etl".to_string(),
        "`emrstack:address=role.etl`".to_string(),
    ] {
        assert!(refused.stderr.contains(&expected), "{expected}\n{}", refused.stderr);
    }
    ws.run(&with(&args, &["import", "application.etl", &id])).ok();
    ws.run(&with(&args, &["import", "role.etl", "handmade-etl"])).ok();

    // Adopted, and exactly as declared: nothing to do, and the CI gate says so.
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
    // The role's trust policy gets the stack's marker with the next apply:
    // import and every plan until then say to apply before removing it.
    let imported = ws.run(&["import", "role.etl", "foreign-etl"]).ok();
    assert!(
        imported
            .stderr
            .contains("apply before removing `role.etl` from the stack"),
        "{}",
        imported.stderr
    );
    let plan = json_of(&ws.run(&["plan", "--format", "json"]).ok());
    assert_eq!(codes(&plan), ["plan.role-unmarked"]);
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
    let other = sdk_application(&ws, "foreign-spark-2", &[]).await;
    let again = ws.run(&["import", "application.spark", &other]).expect_code(1);
    assert!(
        again.stderr.contains(&format!("`application.spark` is already `{id}`")),
        "{}",
        again.stderr
    );

    // Once applied, the role carries the marker and the warning is gone.
    ws.run(&["apply", "--auto-approve"]).ok();
    let plan = json_of(&ws.run(&["plan", "--format", "json"]).ok());
    assert_eq!(codes(&plan), Vec::<String>::new());
}

/// Two imports of one address while the tag index lags behind: the first
/// application has a name the stack does not declare and was created long
/// ago, so neither the search by tag nor the declared name nor its age
/// shows it to the second import, which must still refuse: import checks
/// every application of the region directly.
#[tokio::test]
async fn a_second_import_of_an_address_is_refused_before_the_tag_index_shows_the_first() {
    let emulator = shared_emulator();
    let ws = Workspace::new(emulator);
    ws.write(
        "emrstack.toml",
        "[stack]\nname = \"twice\"\nregion = \"us-east-1\"\n\n[applications.spark]\nname = \"twice-spark\"\n\
         type = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\n",
    );
    let emr = emr(emulator, &ws.account).await;
    let ids = [
        sdk_application(&ws, "old-spark-1", &[]).await,
        sdk_application(&ws, "old-spark-2", &[]).await,
    ];
    emulator.backdate(&ws.account, 3600);
    emulator.set_tagging(&ws.account, json!({"indexDelaySeconds": 600}));
    ws.run(&["import", "application.spark", &ids[0]]).ok();
    let before = served_calls(&ws);
    let second = ws.run(&["import", "application.spark", &ids[1]]).expect_code(1);
    assert!(
        second
            .stderr
            .contains(&format!("`application.spark` is already `{}`", ids[0])),
        "{}",
        second.stderr
    );
    assert_eq!(calls_since(&ws, &before, "emr-serverless:TagResource"), 0);
    let untouched = emr.get_application().application_id(&ids[1]).send().await.expect("get");
    assert!(
        untouched
            .application
            .expect("application")
            .tags
            .unwrap_or_default()
            .is_empty()
    );
}

/// Upgrading: an application an emrstack version from before records proved
/// ownership created carries the stack's tags without a record. Once it is
/// no longer declared, the plan warns and leaves it alone, naming the
/// import that writes its record; that import works without a declaration,
/// and the next apply deletes the application. Without the address, or for
/// a role a plan could not find (no stack marker), such an import is
/// refused.
#[tokio::test]
async fn a_resource_from_before_records_is_imported_after_it_left_the_stack_then_deleted() {
    let emulator = shared_emulator();
    let ws = Workspace::new(emulator);
    let without = CUSTOM_NAMES.replace(
        "[applications.adhoc]\nname = \"team-a-adhoc\"\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\n",
        "",
    );
    ws.write("emrstack.toml", &without);
    ws.run(&["apply", "--auto-approve"]).ok();
    let emr = emr(emulator, &ws.account).await;
    let old = sdk_application(
        &ws,
        "team-a-adhoc",
        &[("emrstack:stack", "shared"), ("emrstack:address", "application.adhoc")],
    )
    .await;
    let plan = ws.run(&["plan"]).ok();
    assert!(
        plan.stderr.contains("warning[plan.unproven-ownership]")
            && plan
                .stderr
                .contains("an emrstack version from before records proved ownership")
            && plan
                .stderr
                .contains(&format!("emrstack import application.adhoc {old}")),
        "{}",
        plan.stderr
    );

    let imported = ws.run(&["import", "application.adhoc", &old]).ok();
    assert!(
        imported
            .stderr
            .contains("is not declared in the stack file, so the next apply deletes it"),
        "{}",
        imported.stderr
    );
    let plan = json_of(&ws.run(&["plan", "--format", "json"]).ok());
    assert_eq!(actions(&plan), pairs(&[("application.adhoc", "delete")]));
    assert_eq!(change(&plan, "application.adhoc")["reason"], "removed-from-stack");
    ws.run(&["apply", "--auto-approve"]).ok();
    let gone = emr.get_application().application_id(&old).send().await.expect("get");
    assert_eq!(gone.application.expect("application").state.as_str(), "TERMINATED");

    // Not carrying the address: an undeclared address needs a declaration.
    let stranger = sdk_application(&ws, "someone", &[]).await;
    let refused = ws.run(&["import", "application.other", &stranger]).expect_code(1);
    assert!(refused.stderr.contains("declare it first"), "{}", refused.stderr);
    // A role without the stack's marker would not be found to be deleted.
    let tag = |k: &str, v: &str| aws_sdk_iam::types::Tag::builder().key(k).value(v).build().unwrap();
    iam(emulator, &ws.account)
        .await
        .create_role()
        .role_name("team-a-old")
        .assume_role_policy_document(FOREIGN_TRUST)
        .tags(tag("emrstack:stack", "shared"))
        .tags(tag("emrstack:address", "role.old"))
        .send()
        .await
        .expect("create_role");
    let refused = ws.run(&["import", "role.old", "team-a-old"]).expect_code(1);
    assert!(
        refused.stderr.contains("does not carry the stack's marker"),
        "{}",
        refused.stderr
    );
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

/// The documented number of calls of one plan (docs/observe.md, "The
/// formula", the common case) for a stack whose resources all exist: `n`
/// applications of the stack (found by tag, in full pages of 100, as the
/// emulator answers), `a` applications in the region in all (the stack's
/// and anyone else's, none created in the last 15 minutes but the stack's),
/// `m` roles with `k` inline policies each and no managed-policy pages
/// beyond the first, one declared repository whose images use one tag, one
/// network with subnets and security groups, no application to stop.
fn documented_calls(n: u64, a: u64, m: u64, k: u64) -> BTreeMap<&'static str, u64> {
    BTreeMap::from([
        ("sts:GetCallerIdentity", 1),
        ("emr-serverless:ListApplications", a.div_ceil(50).max(1)),
        ("tagging:GetResources", n.div_ceil(100).max(1)),
        ("emr-serverless:GetApplication", n),
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
    let documented = |a: u64| -> BTreeMap<String, u64> {
        documented_calls(n, a, m, k)
            .into_iter()
            .map(|(key, count)| (key.to_string(), count))
            .collect()
    };
    let expected = documented(n);
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

    // Applications and EMR Serverless roles of someone else in the same
    // region cost nothing but their entries in the listings once they are
    // older than the tag index's lag (issue 14); until then each costs one
    // read, the term for applications created in the last 15 minutes. Nine
    // applications keep the listing at two pages of 50.
    let emr = emr(emulator, &ws.account).await;
    let iam = iam(emulator, &ws.account).await;
    for index in 0..9 {
        let id = emr
            .create_application()
            .name(format!("not-ours-{index}"))
            .r#type("HIVE")
            .release_label("emr-7.2.0")
            .tags("team", "other")
            .send()
            .await
            .expect("create_application")
            .application_id;
        emulator.release(&ws.account, &id);
        iam.create_role()
            .role_name(format!("not-ours-{index}"))
            .assume_role_policy_document(FOREIGN_TRUST)
            .send()
            .await
            .expect("create_role");
    }
    let expected = documented(n + 9);
    let before = served(&ws);
    ws.run(&with(&args, &["plan", "--detailed-exitcode"])).ok();
    let calls = delta(&before, &served(&ws));
    let mut with_new = expected.clone();
    with_new.insert("emr-serverless:GetApplication".to_string(), n + 9);
    assert_eq!(calls, with_new, "others' applications created a moment ago are read");
    ws.emulator.backdate(&ws.account, 3600);
    let before = served(&ws);
    ws.run(&with(&args, &["plan", "--detailed-exitcode"])).ok();
    let calls = delta(&before, &served(&ws));
    assert_eq!(calls, expected, "the same calls with others' resources in the account");

    // `-vv` shows the strategy and the calls per operation.
    let run = ws.run(&with(&args, &["plan", "-vv"])).ok();
    assert!(
        run.stderr.contains(
            "discovery: applications: by tag (tag:GetResources): 60 tagged with the stack, 60 listed with a declared \
             name, 0 created in the last 15 minutes; read 60 of 69 listed"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("discovery: roles: by trust-policy marker: 6 marked"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("aws calls: 100 in all: ") && run.stderr.contains("emr-serverless:GetApplication 60"),
        "{}",
        run.stderr
    );
}

/// The trust policy AWS's guide gives job runtime roles: someone else's
/// EMR Serverless role, with no emrstack marker and no emrstack tags.
const FOREIGN_TRUST: &str = r#"{"Version": "2012-10-17", "Statement": [{"Sid": "EMRServerlessTrustPolicy",
  "Effect": "Allow", "Principal": {"Service": "emr-serverless.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;

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

// ---- shared accounts: a plan reads what the stack owns (issue 14) -----------

/// Custom names everywhere: pruning cannot rely on the default
/// `<stack>-<key>` names.
const CUSTOM_NAMES: &str = r#"[stack]
name = "shared"
region = "us-east-1"

[roles.runner]
name = "team-a-runner"
trust_applications = ["nightly"]

[roles.reader]
name = "team-a-reader"

[applications.nightly]
name = "team-a-nightly"
type = "SPARK"
release_label = "emr-7.2.0"

[applications.adhoc]
name = "team-a-adhoc"
type = "SPARK"
release_label = "emr-7.2.0"
"#;

/// `count` applications and EMR Serverless roles of other teams, one
/// application tagged by another stack, and one job run tagged with this
/// stack's name (job runs are taggable; they must not pass for
/// applications), all created an hour ago (every application of the account
/// is backdated, past the tag index's lag). Returns the application IDs.
async fn others(ws: &Workspace<'_>, count: usize) -> Vec<String> {
    let emr = emr(ws.emulator, &ws.account).await;
    let iam = iam(ws.emulator, &ws.account).await;
    let mut ids = Vec::new();
    for index in 0..count {
        let stack = if index == 0 { "someone-else" } else { "none" };
        let id = emr
            .create_application()
            .name(format!("team-b-{index}"))
            .r#type("SPARK")
            .release_label("emr-7.2.0")
            .tags("emrstack:stack", stack)
            .send()
            .await
            .expect("create_application")
            .application_id;
        ws.emulator.release(&ws.account, &id);
        iam.create_role()
            .role_name(format!("team-b-{index}"))
            .assume_role_policy_document(FOREIGN_TRUST)
            .send()
            .await
            .expect("create_role");
        ids.push(id);
    }
    ws.emulator.control_ok(
        "POST",
        "/_emulator/jobs",
        Some(&json!({"account": ws.account, "applicationId": ids[0], "force": true,
                     "tags": {"emrstack:stack": "shared"}, "script": [["RUNNING"]]})),
    );
    ws.emulator.backdate(&ws.account, 3600);
    ids
}

/// The served calls of `ws`'s account by `service:Operation`.
fn served_calls(ws: &Workspace<'_>) -> BTreeMap<String, u64> {
    serde_json::from_value(ws.emulator.call_counts(Some(&ws.account))["served"].clone()).expect("served counts")
}

fn calls_since(ws: &Workspace<'_>, before: &BTreeMap<String, u64>, key: &str) -> u64 {
    served_calls(ws).get(key).copied().unwrap_or(0) - before.get(key).copied().unwrap_or(0)
}

#[tokio::test]
async fn custom_named_resources_removed_from_the_stack_are_deleted_and_others_only_listed() {
    let ws = Workspace::new(shared_emulator());
    ws.write("emrstack.toml", CUSTOM_NAMES);
    ws.run(&["apply", "--auto-approve"]).ok();
    let foreign = others(&ws, 12).await;

    let without = CUSTOM_NAMES
        .replace("[roles.reader]\nname = \"team-a-reader\"\n", "")
        .replace(
            "[applications.adhoc]\nname = \"team-a-adhoc\"\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\n",
            "",
        );
    ws.write("emrstack.toml", &without);
    let before = served_calls(&ws);
    let plan = json_of(&ws.run(&["plan", "--format", "json"]).ok());
    assert_eq!(
        actions(&plan),
        pairs(&[("application.adhoc", "delete"), ("role.reader", "delete")])
    );
    for address in ["application.adhoc", "role.reader"] {
        assert_eq!(change(&plan, address)["reason"], "removed-from-stack");
    }
    // Read in full: the stack's two applications and two roles, nothing of
    // team B's (their list entries only), and one search by tag.
    assert_eq!(calls_since(&ws, &before, "emr-serverless:GetApplication"), 2);
    assert_eq!(calls_since(&ws, &before, "iam:GetRole"), 2);
    assert_eq!(calls_since(&ws, &before, "tagging:GetResources"), 1);
    assert_eq!(calls_since(&ws, &before, "emr-serverless:ListApplications"), 1);
    assert_eq!(calls_since(&ws, &before, "iam:ListRoles"), 1);

    let before = served_calls(&ws);
    ws.run(&["apply", "--auto-approve"]).ok();
    ws.run(&["plan", "--detailed-exitcode"]).ok();
    // Nothing of team B's was written, and all of it is still there.
    for key in [
        "emr-serverless:UpdateApplication",
        "emr-serverless:TagResource",
        "emr-serverless:UntagResource",
        "emr-serverless:StopApplication",
    ] {
        assert_eq!(calls_since(&ws, &before, key), 0, "{key}");
    }
    assert_eq!(calls_since(&ws, &before, "emr-serverless:DeleteApplication"), 1);
    assert_eq!(calls_since(&ws, &before, "iam:DeleteRole"), 1);
    let emr = emr(ws.emulator, &ws.account).await;
    for id in &foreign {
        let app = emr.get_application().application_id(id).send().await.expect("get");
        let app = app.application.expect("application");
        assert_eq!(app.state.as_str(), "CREATED", "{id}");
    }
    let iam = iam(ws.emulator, &ws.account).await;
    let roles = iam.list_roles().send().await.expect("list_roles").roles;
    let names: Vec<&str> = roles.iter().map(|role| role.role_name.as_str()).collect();
    assert!(!names.contains(&"team-a-reader"), "{names:?}");
    assert_eq!(names.iter().filter(|name| name.starts_with("team-b-")).count(), 12);

    // A name team B already uses is still a conflict: names are read from
    // the listings, not from the search by tag.
    ws.write(
        "emrstack.toml",
        &format!(
            "{without}\n[applications.late]\nname = \"team-b-3\"\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\n\n\
             [roles.late]\nname = \"team-b-4\"\n"
        ),
    );
    let run = ws.run(&["plan", "--format", "json"]).expect_code(1);
    let document = json_of(&run);
    assert_eq!(codes(&document), ["plan.conflict", "plan.conflict"], "{document:#}");
    assert!(run.stderr.contains("application `team-b-3`"), "{}", run.stderr);
    assert!(run.stderr.contains("role `team-b-4`"), "{}", run.stderr);
}

/// An application a run created a moment ago and the stack then no longer
/// declares (a killed run's, or one removed right after its apply), while
/// the tag index lags ten minutes behind and does not show it: found
/// because it is that new, and deleted; everyone else's older applications
/// are still only listed.
#[tokio::test]
async fn an_application_removed_from_the_stack_before_the_tag_index_shows_it_is_still_deleted() {
    let ws = Workspace::new(shared_emulator());
    others(&ws, 6).await;
    ws.emulator.set_tagging(&ws.account, json!({"indexDelaySeconds": 600}));
    ws.write("emrstack.toml", CUSTOM_NAMES);
    ws.run(&["apply", "--auto-approve"]).ok();
    let without = CUSTOM_NAMES.replace(
        "[applications.adhoc]\nname = \"team-a-adhoc\"\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\n",
        "",
    );
    ws.write("emrstack.toml", &without);
    let before = served_calls(&ws);
    let verbose = ws.run(&["plan", "-vv"]).ok();
    assert!(
        verbose.stderr.contains(
            "discovery: applications: by tag (tag:GetResources): 0 tagged with the stack, 1 listed with a declared \
             name, 2 created in the last 15 minutes; read 2 of 8 listed"
        ),
        "{}",
        verbose.stderr
    );
    assert_eq!(calls_since(&ws, &before, "emr-serverless:GetApplication"), 2);
    let plan = json_of(&ws.run(&["plan", "--format", "json"]).ok());
    assert_eq!(actions(&plan), pairs(&[("application.adhoc", "delete")]));
    assert_eq!(change(&plan, "application.adhoc")["reason"], "removed-from-stack");
    ws.run(&["apply", "--auto-approve"]).ok();
    ws.run(&["plan", "--detailed-exitcode"]).ok();
}

#[tokio::test]
async fn without_tag_get_resources_the_plan_is_the_same_with_one_warning() {
    let ws = Workspace::new(shared_emulator());
    ws.write("emrstack.toml", CUSTOM_NAMES);
    ws.run(&["apply", "--auto-approve"]).ok();
    others(&ws, 5).await;
    let without = CUSTOM_NAMES.replace(
        "[applications.adhoc]\nname = \"team-a-adhoc\"\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\n",
        "",
    );
    ws.write("emrstack.toml", &without);
    let by_tag = json_of(&ws.run(&["plan", "--format", "json"]).ok());

    // As AWS answers a caller without `tag:GetResources` (HTTP 400).
    let denied = ws.emulator.add_fault(json!({
        "account": ws.account, "service": "tagging", "operation": "GetResources", "kind": "error",
        "status": 400, "code": "AccessDeniedException",
        "message": format!("User: arn:aws:iam::{}:user/ci is not authorized to perform: tag:GetResources because no identity-based policy allows the tag:GetResources action", ws.account),
    }));
    let before = served_calls(&ws);
    let run = ws.run(&["plan", "--format", "json"]).ok();
    let fallback = json_of(&run);
    assert_eq!(fallback["changes"], by_tag["changes"]);
    assert_eq!(fallback["fingerprint"], by_tag["fingerprint"]);
    // Every listed application was read: the stack's two and team B's five.
    assert_eq!(calls_since(&ws, &before, "emr-serverless:GetApplication"), 7);
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.contains("observe.tagging-unavailable"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", run.stderr);
    assert!(
        warnings[0].contains("`tag:GetResources` is not allowed")
            && warnings[0].contains("reading all 7 applications in the region"),
        "{}",
        warnings[0]
    );

    // `-vv` says which strategy ran; apply (which plans twice) warns once.
    let verbose = ws.run(&["plan", "-vv"]).ok();
    assert!(
        verbose.stderr.contains(
            "discovery: applications: read all 7 listed (`tag:GetResources` is not allowed (AccessDeniedException))"
        ),
        "{}",
        verbose.stderr
    );
    let applied = ws.run(&["apply", "--auto-approve"]).ok();
    assert_eq!(
        applied.stderr.matches("observe.tagging-unavailable").count(),
        1,
        "{}",
        applied.stderr
    );
    assert!(applied.stderr.contains("Converged"), "{}", applied.stderr);
    // By ID: clearing every rule would remove other tests' rules too.
    ws.emulator.remove_fault(&denied);
}

/// A search by tag that keeps failing for a reason that says nothing about
/// the permission (throttled after every retry; credentials that expired,
/// which AWS answers with another code than a refusal) fails the plan with
/// that error: reading every application instead would spend the
/// `GetApplication` budget of the account the search exists to spare.
#[tokio::test]
async fn a_throttled_or_unauthenticated_search_by_tag_fails_the_plan_instead_of_reading_everything() {
    let ws = Workspace::new(shared_emulator());
    ws.write("emrstack.toml", CUSTOM_NAMES);
    ws.run(&["apply", "--auto-approve"]).ok();
    others(&ws, 5).await;
    for (rule, expect) in [
        (
            json!({"kind": "throttle"}),
            "GetResources failed (throttled): ThrottledException",
        ),
        (
            json!({"kind": "error", "status": 400, "code": "ExpiredTokenException",
                   "message": "The security token included in the request is expired"}),
            "GetResources failed (access denied): ExpiredTokenException",
        ),
    ] {
        let mut rule = rule;
        rule["account"] = json!(ws.account);
        rule["service"] = json!("tagging");
        rule["operation"] = json!("GetResources");
        let id = ws.emulator.add_fault(rule);
        let before = served_calls(&ws);
        let run = ws.run(&["plan"]).expect_code(1);
        ws.emulator.remove_fault(&id);
        assert!(run.stderr.contains(expect), "{expect}\n{}", run.stderr);
        assert!(!run.stderr.contains("observe.tagging-unavailable"), "{}", run.stderr);
        assert_eq!(calls_since(&ws, &before, "emr-serverless:GetApplication"), 0);
    }
}

/// What an interrupted run leaves: a second application with the declared
/// name, type and every tag of the stack's (its record included, bound to
/// that name), created a moment ago, while the tag index lags ten minutes
/// behind and shows neither. It is found by the declared name (and as an
/// application created in the last 15 minutes), and deleted as a duplicate;
/// the older one is kept, the same in `plan --destroy`.
/// (tests/e2e_apply_kill.rs makes one with a real killed apply.)
#[tokio::test]
async fn a_duplicate_made_a_moment_ago_is_found_and_deleted_before_the_tag_index_shows_it() {
    let ws = Workspace::new(shared_emulator());
    ws.emulator.set_tagging(&ws.account, json!({"indexDelaySeconds": 600}));
    ws.write("emrstack.toml", CUSTOM_NAMES);
    ws.run(&["apply", "--auto-approve"]).ok();
    let output = json_of(&ws.run(&["output", "--format", "json"]).ok());
    let kept = output["applications"]["nightly"]["id"].as_str().unwrap().to_string();
    let emr = emr(ws.emulator, &ws.account).await;
    let tags = emr
        .get_application()
        .application_id(&kept)
        .send()
        .await
        .expect("get")
        .application
        .expect("application")
        .tags
        .expect("tags");
    let duplicate = emr
        .create_application()
        .name("team-a-nightly")
        .r#type("SPARK")
        .release_label("emr-7.2.0")
        .set_tags(Some(tags))
        .send()
        .await
        .expect("create_application")
        .application_id;
    ws.emulator.release(&ws.account, &duplicate);
    let verbose = ws.run(&["plan", "-vv"]).ok();
    assert!(
        verbose
            .stderr
            .contains("discovery: applications: by tag (tag:GetResources): 0 tagged with the stack"),
        "{}",
        verbose.stderr
    );
    let plan = json_of(&ws.run(&["plan", "--format", "json"]).ok());
    assert_eq!(actions(&plan), pairs(&[("application.nightly", "delete")]));
    let delete = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["action"] == "delete")
        .unwrap();
    assert_eq!(delete["reason"], "duplicate");
    // The older one is kept, and the plan says so; `plan --destroy` names
    // the same one as the duplicate.
    assert_eq!(delete["application"]["id"], duplicate);
    let notes = delete["notes"].to_string();
    assert!(notes.contains(&format!("keeping {kept}: it is the oldest")), "{notes}");
    let destroy = json_of(&ws.run(&["plan", "--destroy", "--format", "json"]).ok());
    let duplicates: Vec<&Value> = destroy["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["reason"] == "duplicate")
        .collect();
    assert_eq!(duplicates.len(), 1, "{destroy:#}");
    assert_eq!(duplicates[0]["application"]["id"], duplicate);
}

// ---- ownership: only what emrstack can prove it wrote (issue 13) -------------

/// The stack's ownership tags, set by hand on resources emrstack never
/// created: one with a declared address, one with an address the stack does
/// not declare, and a role. None of them is changed or deleted by plan,
/// apply or destroy, and every command names them: the declared addresses
/// as errors (nothing is applied), the undeclared one as a warning, which
/// blocks nothing once the others are gone. A hand-tagged role with neither
/// the stack's marker nor a declared name is not even read.
#[tokio::test]
async fn hand_tagged_look_alikes_survive_plan_apply_and_destroy_untouched() {
    let ws = Workspace::new(shared_emulator());
    ws.write("emrstack.toml", CUSTOM_NAMES);
    ws.run(&["apply", "--auto-approve"]).ok();
    let emr = emr(ws.emulator, &ws.account).await;
    let iam = iam(ws.emulator, &ws.account).await;
    let mut lookalikes = Vec::new();
    for (name, address) in [
        ("copy-of-nightly", "application.nightly"),
        ("old-thing", "application.gone"),
    ] {
        let id = emr
            .create_application()
            .name(name)
            .r#type("SPARK")
            .release_label("emr-7.2.0")
            .tags("emrstack:stack", "shared")
            .tags("emrstack:address", address)
            .send()
            .await
            .expect("create_application")
            .application_id;
        ws.emulator.release(&ws.account, &id);
        lookalikes.push(id);
    }
    // A copy of the stack's role, trust policy (with the stack's marker) and
    // tags included, is read and reported. A hand-tagged role without the
    // marker and with a name the stack does not declare is not even read
    // (docs/observe.md), which the count of `GetRole` shows.
    let trust = iam
        .get_role()
        .role_name("team-a-runner")
        .send()
        .await
        .expect("get_role")
        .role
        .expect("role")
        .assume_role_policy_document
        .expect("trust policy");
    let trust = percent_decode(&trust);
    let tag = |k: &str, v: &str| aws_sdk_iam::types::Tag::builder().key(k).value(v).build().unwrap();
    for (name, trust) in [("copy-of-runner", trust.as_str()), ("unmarked-copy", FOREIGN_TRUST)] {
        iam.create_role()
            .role_name(name)
            .assume_role_policy_document(trust)
            .tags(tag("emrstack:stack", "shared"))
            .tags(tag("emrstack:address", "role.runner"))
            .send()
            .await
            .expect("create_role");
    }

    let before = served_calls(&ws);
    let expect_names = |run: &Run| {
        for expected in [
            format!("application `copy-of-nightly` ({})", lookalikes[0]),
            format!("application `old-thing` ({})", lookalikes[1]),
            "role `copy-of-runner`".to_string(),
            "`emrstack:address=application.gone`".to_string(),
            format!("emrstack import application.nightly {}", lookalikes[0]),
        ] {
            assert!(run.stderr.contains(&expected), "{expected}\n{}", run.stderr);
        }
        assert_eq!(
            run.stderr.matches("error[plan.unproven-ownership]").count(),
            2,
            "{}",
            run.stderr
        );
        assert_eq!(
            run.stderr.matches("warning[plan.unproven-ownership]").count(),
            1,
            "{}",
            run.stderr
        );
    };
    expect_names(&ws.run(&["plan"]).expect_code(1));
    // The two declared roles and the marked copy: not `unmarked-copy`.
    assert_eq!(calls_since(&ws, &before, "iam:GetRole"), 3);
    expect_names(&ws.run(&["apply", "--auto-approve"]).expect_code(1));
    expect_names(&ws.run(&["destroy", "--auto-approve"]).expect_code(1));
    for key in [
        "emr-serverless:DeleteApplication",
        "emr-serverless:UpdateApplication",
        "emr-serverless:StopApplication",
        "emr-serverless:TagResource",
        "emr-serverless:UntagResource",
        "iam:DeleteRole",
        "iam:TagRole",
        "iam:UntagRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:PutRolePolicy",
    ] {
        assert_eq!(calls_since(&ws, &before, key), 0, "{key}");
    }
    for id in &lookalikes {
        let app = emr.get_application().application_id(id).send().await.expect("get");
        let app = app.application.expect("application");
        assert_eq!(app.state.as_str(), "CREATED");
        assert!(!app.tags.unwrap_or_default().contains_key("emrstack:applied"));
    }
    for name in ["copy-of-runner", "unmarked-copy"] {
        let role = iam
            .get_role()
            .role_name(name)
            .send()
            .await
            .expect("the role is still there");
        let tags = role.role.expect("role").tags.unwrap_or_default();
        assert!(tags.iter().all(|tag| tag.key != "emrstack:applied"), "{name}");
    }

    // Without the look-alikes of declared addresses, the one of an
    // undeclared address blocks nothing: apply and destroy run, name it,
    // and leave it alone.
    emr.delete_application()
        .application_id(&lookalikes[0])
        .send()
        .await
        .expect("delete_application");
    iam.untag_role()
        .role_name("copy-of-runner")
        .tag_keys("emrstack:stack")
        .tag_keys("emrstack:address")
        .send()
        .await
        .expect("untag_role");
    let before = served_calls(&ws);
    for args in [&["apply", "--auto-approve"][..], &["destroy", "--auto-approve"][..]] {
        let run = ws.run(args).ok();
        assert!(
            run.stderr.contains(&format!(
                "warning[plan.unproven-ownership]: application `old-thing` ({})",
                lookalikes[1]
            )),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("error["), "{}", run.stderr);
    }
    assert_eq!(calls_since(&ws, &before, "emr-serverless:DeleteApplication"), 2);
    let app = emr
        .get_application()
        .application_id(&lookalikes[1])
        .send()
        .await
        .expect("get");
    let app = app.application.expect("application");
    assert_eq!(app.state.as_str(), "CREATED");
    assert!(!app.tags.unwrap_or_default().contains_key("emrstack:applied"));
}

/// IAM refuses a role whose name differs from another's only in case, so a
/// plan that would create one is a conflict, found case-insensitively.
#[tokio::test]
async fn a_role_name_taken_in_another_case_is_a_conflict() {
    let ws = Workspace::new(shared_emulator());
    iam(ws.emulator, &ws.account)
        .await
        .create_role()
        .role_name("OWN2-ETL")
        .assume_role_policy_document(FOREIGN_TRUST)
        .send()
        .await
        .expect("create_role");
    ws.write(
        "emrstack.toml",
        "[stack]\nname = \"own2\"\nregion = \"us-east-1\"\n\n[roles.etl]\nname = \"own2-etl\"\n",
    );
    let run = ws.run(&["plan"]).expect_code(1);
    assert!(
        run.stderr
            .contains("error[plan.conflict]: role `OWN2-ETL` already exists and is not managed by emrstack"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("not distinguished by case"), "{}", run.stderr);
}

/// An apply that stops between CreateRole and PutRolePolicy (here the
/// policy is refused; a kill at that point leaves the same) leaves a role
/// emrstack can still prove it created; the next plan says the previous
/// apply did not finish, and the next apply finishes it.
#[tokio::test]
async fn a_role_left_between_create_and_policy_is_finished_by_the_next_apply() {
    let ws = Workspace::new(shared_emulator());
    ws.write(
        "emrstack.toml",
        "[stack]\nname = \"halfway\"\nregion = \"us-east-1\"\n\n[roles.etl]\n\n[roles.etl.policies.read]\n\
         document = { Version = \"2012-10-17\", Statement = [{ Effect = \"Allow\", Action = \"s3:GetObject\", Resource = \"*\" }] }\n",
    );
    let rule = ws.emulator.add_fault(json!({
        "account": ws.account, "service": "iam", "operation": "PutRolePolicy", "kind": "error",
        "status": 400, "code": "MalformedPolicyDocument", "message": "injected",
    }));
    ws.run(&["apply", "--auto-approve"]).expect_code(1);
    ws.emulator.remove_fault(&rule);
    let plan = json_of(&ws.run(&["plan", "--format", "json"]).ok());
    let role = change(&plan, "role.etl");
    assert_eq!(role["action"], "update", "{role:#}");
    assert_eq!(role["reason"], "unfinished", "{role:#}");
    let human = ws.run(&["plan"]).ok();
    assert!(
        human
            .stdout
            .contains("the previous apply did not finish (or is still running)"),
        "{}",
        human.stdout
    );
    assert!(!human.stdout.contains("the stack changed"), "{}", human.stdout);
    ws.run(&["apply", "--auto-approve"]).ok();
    ws.run(&["plan", "--detailed-exitcode"]).ok();
}
