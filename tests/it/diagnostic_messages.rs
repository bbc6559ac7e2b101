//! The message of every diagnostic code, as `emrstack validate` and
//! `emrstack plan` print it: one minimal input per code, rendered with its
//! position and help, snapshotted per stage and family
//! (`snapshots/it__diagnostic_messages__<offline|plan>-<family>.snap`, e.g.
//! `..__offline-capacity.snap` for `capacity.*`). A code documented in
//! docs/config-reference.md ("Diagnostic codes") or docs/plan-format.md
//! ("Plan-time diagnostic codes") without a case here fails
//! `every_documented_code_has_a_message_case`. Review changes with
//! `cargo insta review`.
//!
//! The offline inputs are those of `config_rules` and `config_jobs`, built
//! with their helpers; the plan-time ones run the planning stages (observe
//! on FakeCloud, diff, graph) on hand-built accounts from `render_scenarios`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::json;

use emrstack::cloud::error::ErrorKind;
use emrstack::cloud::fake::FakeCloud;
use emrstack::config::{LoadOptions, Loaded, SpanIndex, load, load_str};
use emrstack::diag::Diagnostics;
use emrstack::diff::{self, Mode};
use emrstack::model::{Actual, Address, ApplicationState, tags};
use emrstack::observe::{ObserveOptions, observe};
use emrstack::render::diagnostics;

use crate::config_jobs::base;
use crate::config_rules::{
    STACK, STATEMENT, hive, monitoring, network, role, runtime, spark, spark_defaults, spark_on, worker,
};
use crate::render_scenarios::{
    BASE, application_arn, application_mut, applied_base, base_with, converge, empty_account, role_mut, stack,
};

/// Documented codes no input can produce.
const UNREACHABLE: &[(&str, &str)] = &[(
    "config.invalid",
    "the fallback for reader errors the structural check cannot foresee; no valid TOML input is known to reach it (config_docs)",
)];

/// An offline case: a stack file, plus files beside it, var files and `--var` flags.
struct Case {
    code: &'static str,
    stack: String,
    files: Vec<(&'static str, String)>,
    var_files: Vec<&'static str>,
    vars: Vec<&'static str>,
}

fn case(code: &'static str, stack: impl Into<String>) -> Case {
    Case {
        code,
        stack: stack.into(),
        files: Vec::new(),
        var_files: Vec::new(),
        vars: Vec::new(),
    }
}

impl Case {
    fn file(mut self, path: &'static str, text: impl Into<String>) -> Case {
        self.files.push((path, text.into()));
        self
    }

    fn var_file(mut self, path: &'static str, text: impl Into<String>) -> Case {
        self.var_files.push(path);
        self.file(path, text)
    }

    fn var(mut self, flag: &'static str) -> Case {
        self.vars.push(flag);
        self
    }

    /// The diagnostics of this case's code, rendered as `emrstack validate`
    /// prints them. Cases with files run in a temporary directory, whose
    /// path is shown as `<dir>`.
    fn render(&self) -> Result<String, String> {
        if self.files.is_empty() && self.vars.is_empty() {
            let loaded = load_str(
                Path::new("emrstack.toml"),
                &self.stack,
                &LoadOptions::new("emrstack.toml"),
            );
            return only(self.code, &loaded);
        }
        let dir = tempfile::tempdir().expect("temp dir");
        for (path, text) in &self.files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, text).expect("write");
        }
        let stack = dir.path().join("emrstack.toml");
        std::fs::write(&stack, &self.stack).expect("write stack");
        let mut options = LoadOptions::new(&stack);
        options
            .var_files
            .extend(self.var_files.iter().map(|f| dir.path().join(f)));
        options.vars.extend(self.vars.iter().map(|v| v.to_string()));
        let text = only(self.code, &load(&options))?;
        let prefix = format!("{}{}", dir.path().display(), std::path::MAIN_SEPARATOR);
        Ok(text.replace(&prefix, "<dir>/"))
    }
}

/// The rendering of the diagnostics with `code`; panics if there is none.
fn only(code: &str, loaded: &Loaded) -> Result<String, String> {
    let list: Vec<_> = loaded.diagnostics.iter().filter(|d| d.code == code).cloned().collect();
    if list.is_empty() {
        return Err(format!(
            "the case for `{code}` does not produce it; it produces {:?}",
            loaded.diagnostics.iter().map(|d| d.code.as_str()).collect::<Vec<_>>()
        ));
    }
    Ok(diagnostics::human(&Diagnostics(list), &loaded.sources, false))
}

/// A job `[jobs.a]` with `body`, in the stack of `config_jobs` (with `[stack] artifacts` if `artifacts`).
fn job(artifacts: bool, body: &str) -> Case {
    case("", base(artifacts, &format!("[jobs.a]\n{body}")))
        .file("jobs/main.py", "print(1)\n")
        .file("jobs/deps/a.py", "A = 1\n")
        .file("more/main.py", "x\n")
}

fn with_code(mut case: Case, code: &'static str) -> Case {
    case.code = code;
    case
}

fn offline_cases() -> Vec<Case> {
    vec![
        // config_rules::java_home_for_the_wrong_architecture
        case(
            "application.java-home",
            spark(&format!(
                "architecture = \"ARM64\"\n{}",
                spark_defaults(
                    "\"spark.emr-serverless.driverEnv.JAVA_HOME\" = \"/usr/lib/jvm/java-17-amazon-corretto.x86_64/\""
                )
            )),
        ),
        // config_rules::application_name
        case("application.name", spark("name = \"my app!\"\n")),
        // config_rules::worker_type_of_the_other_engine
        case(
            "application.worker-type",
            hive("initial_capacity = { executor = { worker_count = 1, cpu = 2, memory = 4 } }\n"),
        ),
        // config_rules::auto_stop_idle_timeout
        case(
            "auto-stop.idle-timeout",
            spark("auto_stop = { idle_timeout_minutes = 0 }\n"),
        ),
        // config_rules::capacity_cpu
        case("capacity.cpu", worker("\"3vCPU\"", "8", "")),
        // config_rules::capacity_disk
        case("capacity.disk", worker("4", "16", "disk = \"19 GB\"\n")),
        // config_rules::initial_capacity_beyond_maximum
        case(
            "capacity.exceeds-maximum",
            spark(
                "maximum_capacity = { cpu = \"8 vCPU\", memory = \"64 GB\", disk = \"100 GB\" }\n[applications.a.initial_capacity.executor]\nworker_count = 3\ncpu = 4\nmemory = 16\n",
            ),
        ),
        // config_rules::capacity_format
        case("capacity.format", worker("\"4 cores\"", "16", "")),
        // config_rules::capacity_memory_range
        case("capacity.memory", worker("\"4vCPU\"", "\"31GB\"", "")),
        // config_rules::capacity_memory_step
        case("capacity.memory-step", worker("\"8 vCPU\"", "\"18 GB\"", "")),
        // config_rules::default_spark_container_on_a_small_worker
        case(
            "capacity.spark-container",
            spark("[applications.a.initial_capacity.driver]\nworker_count = 1\ncpu = 2\nmemory = 4\n"),
        ),
        // config_rules::spark_memory_overhead_beyond_the_worker
        case(
            "capacity.spark-memory",
            format!(
                "{}\nruntime = [{{ classification = \"spark-defaults\", properties = {{ \"spark.executor.memory\" = \"28g\" }} }}]\n[applications.a.initial_capacity.executor]\nworker_count = 1\ncpu = 4\nmemory = 30\n",
                spark("")
            ),
        ),
        // config_rules::capacity_worker_count
        case(
            "capacity.worker-count",
            spark("initial_capacity = { executor = { worker_count = 0, cpu = 4, memory = 16 } }\n"),
        ),
        // config_rules::classification_emr_on_ec2_only
        case(
            "classification.emr-on-ec2-only",
            runtime("{ classification = \"yarn-site\" }"),
        ),
        // config_rules::classification_engine_mismatch
        case(
            "classification.engine",
            hive("runtime = [{ classification = \"spark-defaults\" }]\n"),
        ),
        // config_rules::hive_required_properties
        case("classification.hive-required", hive("")),
        // config_rules::forbidden_log4j2_keys
        case(
            "classification.log4j2-key",
            runtime(
                "{ classification = \"spark-executor-log4j2\", properties = { \"appender.console.type\" = \"Console\" } }",
            ),
        ),
        // config_rules::classification_name_blank
        case("classification.name", runtime("{ classification = \" \" }")),
        // config_rules::property_key_and_value_limits
        case("classification.property-key", {
            let long = "x".repeat(1025);
            runtime(&format!(
                "{{ classification = \"spark-defaults\", properties = {{ \"{long}\" = \"v\" }} }}"
            ))
        }),
        // config_rules::property_key_and_value_limits
        case("classification.property-value", {
            let long = "x".repeat(1025);
            runtime(&format!(
                "{{ classification = \"spark-defaults\", properties = {{ k = \"{long}\" }} }}"
            ))
        }),
        // config_rules::secrets_are_noted_and_must_name_a_secret
        case(
            "classification.secret",
            runtime(
                "{ classification = \"spark-defaults\", properties = { \"spark.x.password\" = \"EMR.secret@db-password-AbCdEf\" } }",
            ),
        ),
        // config_rules::secrets_are_noted_and_must_name_a_secret
        case(
            "classification.secret-reference",
            runtime("{ classification = \"spark-defaults\", properties = { \"spark.x.password\" = \"EMR.secret@\" } }"),
        ),
        // config_rules::too_many_classifications
        case("classification.too-many", {
            let entries: Vec<String> = (0..101)
                .map(|_| "{ classification = \"spark-defaults\" }".to_string())
                .collect();
            let entries: Vec<String> = entries
                .iter()
                .enumerate()
                .map(|(i, e)| e.replace("spark-defaults", &format!("c{i}")))
                .collect();
            runtime(&entries.join(", "))
        }),
        // config_rules::classification_unknown_with_suggestion
        case(
            "classification.unknown",
            runtime("{ classification = \"spark-default\" }"),
        ),
        // config_rules::empty_variable
        case(
            "config.empty-variable",
            format!(
                "{STACK}[vars]\nnet = \"\"\n\n[applications.a]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\nname = \"x${{var.net}}\"\n"
            ),
        ),
        // config_rules::invalid_engine_suggests_the_closest
        case(
            "config.invalid-value",
            format!("{STACK}\n[applications.a]\ntype = \"sprak\"\nrelease_label = \"emr-7.2.0\"\n"),
        ),
        // config_rules::missing_required_key
        case(
            "config.missing-key",
            format!("{STACK}\n[applications.a]\ntype = \"SPARK\"\n"),
        ),
        // config_rules::unreadable_runtime_file
        case("config.read", spark("runtime_file = \"missing.json\"\n")),
        // config_rules::resource_key
        case(
            "config.resource-key",
            format!("{STACK}\n[applications.\"my app\"]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\n"),
        ),
        // config_rules::undefined_variable_points_inside_the_string
        case(
            "config.undefined-variable",
            spark("image_uri = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/spark:${var.tagg}\"\n"),
        ),
        // config_rules::unknown_key_suggests_the_closest_key
        case("config.unknown-key", spark("relase_label = \"x\"\n")),
        // config_rules::invalid_variable_name
        case("config.variable-name", format!("{STACK}[vars]\n\"my-var\" = \"x\"\n")),
        // config_rules::malformed_variable_reference
        case("config.variable-syntax", spark("network = \"${var.x\"\n")),
        // config_rules::wrong_type
        case("config.wrong-type", spark("architecture = 64\n")),
        // config_rules::disk_encryption_context
        case("disk-encryption.context", {
            let entries: Vec<String> = (0..9).map(|i| format!("k{i} = \"v\"")).collect();
            spark(&format!(
                "disk_encryption = {{ encryption_key_arn = \"arn:aws:kms:us-east-1:123456789012:key/abc\", encryption_context = {{ {} }} }}\n",
                entries.join(", ")
            ))
        }),
        // config_rules::identity_center_instance_arn
        case(
            "identity-center.instance-arn",
            spark_on(
                "emr-7.8.0",
                "identity_center = { instance_arn = \"arn:aws:sso:::instance/x\" }\n",
            ),
        ),
        // config_rules::image_and_image_uri_together
        case(
            "image.conflict",
            spark(
                "image = { uri = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/spark:v1\" }\nimage_uri = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/spark:v2\"\n",
            ),
        ),
        // config_rules::image_without_source
        case("image.incomplete", spark("image = { pin_digest = true }\n")),
        // config_rules::repository_that_does_not_grant_the_application
        case(
            "image.not-granted",
            format!(
                "{}\n[repositories.r]\nname = \"team/spark\"\n",
                spark("image = { repository = \"r\", tag = \"v1\" }\n")
            ),
        ),
        // config_rules::image_region_differs_from_the_stack
        case(
            "image.region",
            spark("image_uri = \"123456789012.dkr.ecr.us-west-2.amazonaws.com/spark:v1\"\n"),
        ),
        // config_rules::image_tag
        case(
            "image.tag",
            format!(
                "{}\n[repositories.r]\nname = \"team/spark\"\napplications = [\"a\"]\n",
                spark("image = { repository = \"r\", tag = \"-bad\" }\n")
            ),
        ),
        // config_rules::image_uri_form
        case("image.uri", spark("image_uri = \"docker.io/library/spark:3\"\n")),
        // config_rules::interactive_on_hive
        case(
            "interactive.engine",
            hive(&format!(
                "interactive = {{ studio_enabled = true }}\n{}",
                "runtime = [{ classification = \"hive-site\", properties = { \"hive.exec.scratchdir\" = \"s3://b/s\", \"hive.metastore.warehouse.dir\" = \"s3://b/w\" } }]\n"
            )),
        ),
        // config_rules::kms_key_arn
        case(
            "kms.key-arn",
            spark("disk_encryption = { encryption_key_arn = \"alias/x\" }\n"),
        ),
        // config_rules::lake_formation_with_a_custom_image
        case(
            "lake-formation.custom-image",
            spark(&format!(
                "image_uri = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/spark:v1\"\n{}",
                spark_defaults("\"spark.emr-serverless.lakeformation.enabled\" = \"true\"")
            )),
        ),
        // config_rules::log_group_and_stream_prefix
        case(
            "monitoring.log-group",
            monitoring("{ cloudwatch = { log_group_name = \"my group\" } }"),
        ),
        // config_rules::log_group_and_stream_prefix
        case(
            "monitoring.log-stream-prefix",
            monitoring("{ cloudwatch = { log_stream_name_prefix = \"a:b\" } }"),
        ),
        // config_rules::log_types_values_and_counts
        case(
            "monitoring.log-type",
            monitoring("{ cloudwatch = { log_types = { spark_driver = [\"stdlog\"] } } }"),
        ),
        // config_rules::log_types_of_the_other_engine
        case(
            "monitoring.log-type-worker",
            hive("monitoring = { cloudwatch = { log_types = { spark_driver = [\"stdout\"] } } }\n"),
        ),
        // config_rules::log_types_values_and_counts
        case(
            "monitoring.log-types",
            monitoring("{ cloudwatch = { log_types = { spark_driver = [] } } }"),
        ),
        // config_rules::no_logs_at_all
        case("monitoring.no-logs", monitoring("{ managed_persistence = false }")),
        // config_rules::prometheus_url_and_engine
        case("monitoring.prometheus-engine", {
            let url = "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write";
            hive(&format!("monitoring = {{ prometheus_remote_write_url = \"{url}\" }}\n"))
        }),
        // config_rules::prometheus_url_and_engine
        case(
            "monitoring.prometheus-url",
            monitoring("{ prometheus_remote_write_url = \"https://example.com/write\" }"),
        ),
        // config_rules::s3_log_uri
        case("monitoring.s3-uri", monitoring("{ s3_log_uri = \"logs/emr\" }")),
        // config_rules::duplicate_default_name_and_explicit_name
        case(
            "name.duplicate",
            format!(
                "{}\n[applications.b]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\nname = \"s-a\"\n",
                spark("")
            ),
        ),
        // config_rules::security_group_count
        case("network.security-group-count", {
            let many: Vec<String> = (0..6).map(|i| format!("\"sg-{i:017x}\"")).collect();
            network(
                "[\"subnet-0123456789abcdef0\", \"subnet-0123456789abcdef1\"]",
                &format!("[{}]", many.join(", ")),
            )
        }),
        // config_rules::security_group_id_format
        case(
            "network.security-group-id",
            network(
                "[\"subnet-0123456789abcdef0\", \"subnet-0123456789abcdef1\"]",
                "[\"sg-1\"]",
            ),
        ),
        // config_rules::single_subnet_is_a_warning
        case(
            "network.single-subnet",
            network("[\"subnet-0123456789abcdef0\"]", "[\"sg-0123456789abcdef0\"]"),
        ),
        // config_rules::subnet_count
        case("network.subnet-count", {
            let many: Vec<String> = (0..17).map(|i| format!("\"subnet-{i:017x}\"")).collect();
            network(&format!("[{}]", many.join(", ")), "[\"sg-0123456789abcdef0\"]")
        }),
        // config_rules::subnet_id_format
        case(
            "network.subnet-id",
            network(
                "[\"subnet-0123456789abcdef0\", \"subnet-xyz\"]",
                "[\"sg-0123456789abcdef0\"]",
            ),
        ),
        // config_rules::policy_effect_action_resource_principal_sid_in_a_json_string
        case(
            "policy.action",
            role(
                "[roles.r.policies.p]\ndocument = '{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"a-b\", \"Effect\": \"allow\", \"Action\": \"s3GetObject\", \"Principal\": \"*\"}]}'\n",
            ),
        ),
        // config_rules::policy_characters
        case(
            "policy.characters",
            role(
                "[roles.r.policies.p]\ndocument = { Version = \"2012-10-17\", Statement = [{ Sid = \"A\", Effect = \"Allow\", Action = \"s3:GetObject\", Resource = \"arn:aws:s3:::bücket→\" }] }\n",
            ),
        ),
        // config_rules::policy_document_must_be_an_object
        case("policy.document", role("[roles.r.policies.p]\ndocument = \"[1]\"\n")),
        // config_rules::policy_effect_action_resource_principal_sid_in_a_json_string
        case(
            "policy.effect",
            role(
                "[roles.r.policies.p]\ndocument = '{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"a-b\", \"Effect\": \"allow\", \"Action\": \"s3GetObject\", \"Principal\": \"*\"}]}'\n",
            ),
        ),
        // config_rules::policy_name
        case(
            "policy.name",
            role(&format!(
                "[roles.r.policies.\"bad name\"]\ndocument = {{ Version = \"2012-10-17\", Statement = [{STATEMENT}] }}\n"
            )),
        ),
        // config_rules::policy_placeholder_must_name_a_declared_application_arn
        case(
            "policy.placeholder",
            format!(
                "{}\n[roles.r.policies.p]\ndocument = {{ Version = \"2012-10-17\", Statement = [{{ Effect = \"Allow\", Action = \"emr-serverless:GetJobRun\", Resource = [\"${{application.b.arn}}/*\", \"${{application.a.id}}\"] }}] }}\n",
                spark("")
            ),
        ),
        // config_rules::policy_effect_action_resource_principal_sid_in_a_json_string
        case(
            "policy.principal",
            role(
                "[roles.r.policies.p]\ndocument = '{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"a-b\", \"Effect\": \"allow\", \"Action\": \"s3GetObject\", \"Principal\": \"*\"}]}'\n",
            ),
        ),
        // config_rules::policy_effect_action_resource_principal_sid_in_a_json_string
        case(
            "policy.resource",
            role(
                "[roles.r.policies.p]\ndocument = '{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"a-b\", \"Effect\": \"allow\", \"Action\": \"s3GetObject\", \"Principal\": \"*\"}]}'\n",
            ),
        ),
        // config_rules::policy_effect_action_resource_principal_sid_in_a_json_string
        case(
            "policy.sid",
            role(
                "[roles.r.policies.p]\ndocument = '{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"a-b\", \"Effect\": \"allow\", \"Action\": \"s3GetObject\", \"Principal\": \"*\"}]}'\n",
            ),
        ),
        // config_rules::policy_size
        case("policy.size", {
            let actions: Vec<String> = (0..400).map(|i| format!("\"s3:GetObjectVersion{i:04}\"")).collect();
            role(&format!(
                "[roles.r.policies.big]\ndocument = {{ Version = \"2012-10-17\", Statement = [{{ Effect = \"Allow\", Action = [{}], Resource = \"*\" }}] }}\n",
                actions.join(", ")
            ))
        }),
        // config_rules::policy_source_missing_or_both
        case("policy.source", role("[roles.r.policies.p]\n")),
        // config_rules::policy_statement
        case(
            "policy.statement",
            role("[roles.r.policies.p]\ndocument = { Version = \"2012-10-17\" }\n"),
        ),
        // config_rules::role_trust_policy
        case("policy.unknown-key", {
            let stated =
                |document: &str| format!("{}\n[roles.r]\ntrust_policy = {{ document = {document} }}\n", spark(""));
            stated(
                r#"{ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Resource = "*" }, { Effect = "Allow", Principal = { Servce = "x" }, Action = "sts:AssumeRole" }] }"#,
            )
        }),
        // config_rules::policy_version
        case(
            "policy.version",
            role(&format!(
                "[roles.r.policies.p]\ndocument = {{ Version = \"2020-01-01\", Statement = [{STATEMENT}] }}\n"
            )),
        ),
        // config_rules::quota_warning_for_two_applications
        case(
            "quota.vcpu",
            format!(
                "{}\n[applications.b]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\ninitial_capacity = {{ executor = {{ worker_count = 5, cpu = 4, memory = 16 }} }}\n",
                spark("initial_capacity = { executor = { worker_count = 5, cpu = 4, memory = 16 } }\n")
            ),
        ),
        // config_rules::reference_placeholder_outside_policy_is_an_error
        case(
            "reference.placeholder-outside-policy",
            spark(
                "runtime = [{ classification = \"spark-defaults\", properties = { \"x.arn\" = \"${application.a.arn}\" } }]\n",
            ),
        ),
        // config_rules::undeclared_network_with_suggestion
        case(
            "reference.undeclared",
            format!(
                "{}\n[networks.private]\nsubnet_ids = [\"subnet-0123456789abcdef0\", \"subnet-0123456789abcdef1\"]\nsecurity_group_ids = [\"sg-0123456789abcdef0\"]\n",
                spark("network = \"privat\"\n")
            ),
        ),
        // config_rules::hive_on_the_spark_runtime
        case(
            "release.engine",
            format!("{STACK}\n[applications.h]\ntype = \"HIVE\"\nrelease_label = \"emr-spark-8.0.0\"\n"),
        ),
        // config_rules::image_on_emr_6_8_0
        case(
            "release.feature",
            spark_on(
                "emr-6.8.0",
                "image_uri = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/spark:v1\"\n",
            ),
        ),
        // config_rules::release_format
        case("release.format", spark_on("emr 7.2.0", "")),
        // config_rules::property_removed_after_6_10
        case(
            "release.property-removed",
            hive(
                "runtime = [{ classification = \"tez-site\", properties = { \"tez.am.speculation.enabled\" = \"true\" } }]\n",
            ),
        ),
        // config_rules::unknown_newer_release_is_a_warning
        case("release.unknown", spark_on("emr-7.20.0", "")),
        // config_rules::release_older_than_emr_serverless
        case("release.unsupported", spark_on("emr-6.5.0", "")),
        // config_rules::repository_name
        case(
            "repository.name",
            format!("{STACK}\n[repositories.r]\nname = \"Team/Spark\"\n"),
        ),
        // config_rules::role_description
        case("role.description", {
            let long = "d".repeat(1001);
            role(&format!("description = \"{long}\"\n"))
        }),
        // config_rules::role_managed_policy_arn
        case(
            "role.managed-policy-arn",
            role("managed_policy_arns = [\"arn:aws:s3:::bucket\"]\n"),
        ),
        // config_rules::role_managed_policy_count
        case("role.managed-policy-count", {
            let arns: Vec<String> = (0..21)
                .map(|i| format!("\"arn:aws:iam::123456789012:policy/p{i}\""))
                .collect();
            role(&format!("managed_policy_arns = [{}]\n", arns.join(", ")))
        }),
        // config_rules::role_max_session_duration
        case("role.max-session-duration", role("max_session_duration = 60\n")),
        // config_rules::role_name
        case("role.name", role("name = \"bad name\"\n")),
        // config_rules::role_path
        case("role.path", role("path = \"emr\"\n")),
        // config_rules::role_permissions_boundary
        case(
            "role.permissions-boundary",
            role("permissions_boundary = \"boundary\"\n"),
        ),
        // config_rules::role_trust_policy
        case(
            "role.trust-policy-conflict",
            format!(
                "{}\n[roles.r]\ntrust_applications = [\"a\"]\ntrust_policy = {{ file = \"trust.json\" }}\n",
                spark("")
            ),
        ),
        // config_rules::role_trust_policy
        case("role.trust-policy-service", {
            let stated =
                |document: &str| format!("{}\n[roles.r]\ntrust_policy = {{ document = {document} }}\n", spark(""));
            stated(
                r#"{ Version = "2012-10-17", Statement = [{ Effect = "Allow", Principal = { Service = "ec2.amazonaws.com" }, Action = "sts:AssumeRole" }] }"#,
            )
        }),
        // config_rules::scheduler_ranges
        case(
            "scheduler.max-concurrent-runs",
            spark("scheduler = { max_concurrent_runs = 1001 }\n"),
        ),
        // config_rules::scheduler_ranges
        case(
            "scheduler.queue-timeout",
            spark("scheduler = { queue_timeout_minutes = 10 }\n"),
        ),
        // config_rules::stack_account_id
        case("stack.account-id", "[stack]\nname = \"s\"\naccount_id = \"1234\"\n"),
        // config_rules::stack_lock_under_the_artifacts
        case("stack.artifacts", "[stack]\nname = \"s\"\nartifacts = \"bucket/x\"\n"),
        // config_rules::stack_lock
        case("stack.lock", "[stack]\nname = \"s\"\nlock = \"locks-bucket/prefix\"\n"),
        // config_rules::stack_lock_bucket_name
        case(
            "stack.lock-bucket-name",
            "[stack]\nname = \"s\"\nlock = \"s3://Legacy_Bucket/locks\"\n",
        ),
        // config_rules::stack_name
        case("stack.name", "[stack]\nname = \"my stack\"\n"),
        // config_rules::stack_region
        case("stack.region", "[stack]\nname = \"s\"\nregion = \"useast1\"\n"),
        // config_rules::tag_characters
        case("tag.characters", spark("tags = { \"a#b\" = \"v\" }\n")),
        // config_rules::tag_key_too_long
        case("tag.key-length", {
            let key = "k".repeat(129);
            spark(&format!("tags = {{ {key} = \"v\" }}\n"))
        }),
        // config_rules::tag_reserved_emrstack_key
        case("tag.reserved-key", spark("tags = { \"emrstack:stack\" = \"x\" }\n")),
        // config_rules::tag_reserved_prefix_in_key_any_case
        case("tag.reserved-prefix", spark("tags = { \"AWS:owner\" = \"v\" }\n")),
        // config_rules::too_many_tags_after_merging_stack_tags
        case("tag.too-many", {
            let stack_tags: String = (0..30).map(|i| format!("s{i} = \"v\"\n")).collect();
            let app_tags: String = (0..18).map(|i| format!("a{i} = \"v\"")).collect::<Vec<_>>().join(", ");
            format!(
                "{STACK}[tags]\n{stack_tags}\n[applications.a]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\ntags = {{ {app_tags} }}\n"
            )
        }),
        // config_rules::tag_value_too_long
        case("tag.value-length", {
            let value = "v".repeat(257);
            spark(&format!("tags = {{ k = \"{value}\" }}\n"))
        }),
        // config_rules::duplicate_classification_is_a_warning
        case(
            "classification.duplicate",
            runtime("{ classification = \"spark-defaults\" }, { classification = \"spark-defaults\" }"),
        ),
        // config_rules: 60 properties from a config and 41 of the application's own
        case("classification.too-many-properties", {
            let bundle: Vec<String> = (0..60).map(|i| format!("\"p{i}\" = \"v\"")).collect();
            let own: Vec<String> = (60..101).map(|i| format!("\"p{i}\" = \"v\"")).collect();
            format!(
                "{STACK}\n[configs.c]\nruntime = [{{ classification = \"spark-defaults\", properties = {{ {} }} }}]\n\n[applications.a]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\nconfigs = [\"c\"]\nruntime = [{{ classification = \"spark-defaults\", properties = {{ {} }} }}]\n",
                bundle.join(", "),
                own.join(", ")
            )
        }),
        // config_rules::nesting_deeper_than_the_limit
        case(
            "config.depth",
            format!(
                "{STACK}\n[roles.r.policies.p.document.Id.{}]\nb = 1\n",
                vec!["a"; 70].join(".")
            ),
        ),
        // config_rules::var_flag_without_equals
        case("config.invalid-var", STACK).var("tag"),
        // config_rules::undeclared_variable_from_a_var_file_points_into_it
        case("config.undeclared-variable", format!("{STACK}[vars]\ntag = \"x\"\n"))
            .var_file("dev.vars.toml", "# dev\nimage_tag = \"v1\"\n"),
        // config_rules::nesting_deeper_than_the_limit
        case("json.depth", {
            let condition = format!("{}1{}", "{\"a\": ".repeat(70), "}".repeat(70));
            format!(
                "{STACK}\n[roles.r.policies.p]\ndocument = '{{\"Version\": \"2012-10-17\", \"Statement\": [{{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\", \"Condition\": {condition}}}]}}'\n"
            )
        }),
        // config_rules::json_duplicate_key_and_null
        case("json.duplicate-key", spark("runtime_file = \"configs/spark.json\"\n")).file(
            "configs/spark.json",
            "[{\"classification\": \"spark-defaults\", \"properties\": {\"a\": \"1\", \"a\": \"2\"}}]",
        ),
        case("json.null", spark("runtime_file = \"configs/spark.json\"\n")).file(
            "configs/spark.json",
            "[{\"classification\": \"spark-defaults\", \"properties\": {\"b\": null}}]",
        ),
        // config_rules::json_syntax_error_points_into_the_file
        case("json.syntax", spark("runtime_file = \"configs/spark.json\"\n")).file(
            "configs/spark.json",
            "[\n  {\"classification\": \"spark-defaults\",}\n]\n",
        ),
        // config_rules::duplicate_network_ids
        case(
            "network.duplicate-id",
            network(
                "[\"subnet-0123456789abcdef0\", \"subnet-0123456789abcdef0\"]",
                "[\"sg-0123456789abcdef0\"]",
            ),
        ),
        // config_rules::duplicate_reference_is_a_warning
        case(
            "reference.duplicate",
            format!("{}\n[roles.r]\ntrust_applications = [\"a\", \"a\"]\n", spark("")),
        ),
        // config_rules::toml_syntax_errors_are_all_reported
        case(
            "toml.syntax",
            format!("{STACK}\n[applications.a]\ntype = SPARK\nrelease_label = \"emr-7.2.0\n"),
        ),
        // config_jobs: the rules of `[jobs.*]`
        with_code(
            job(
                false,
                "application = \"nope\"\nrole = \"runner\"\nentry_point = \"s3://b/m.py\"\n",
            ),
            "job.unknown-application",
        ),
        with_code(
            job(
                false,
                "application = \"spark\"\nrole = \"ghost\"\nentry_point = \"s3://b/m.py\"\n",
            ),
            "job.unknown-role",
        ),
        with_code(
            job(
                false,
                "application = \"spark\"\nrole = \"runner\"\nentry_point = \"s3://b/m.py\"\nconfigs = [\"missing\"]\n",
            ),
            "job.unknown-config",
        ),
        with_code(
            job(
                false,
                "application = \"spark\"\nrole = \"arn:aws:iam::12:role/x\"\nentry_point = \"s3://b/m.py\"\n",
            ),
            "job.role-arn",
        ),
        with_code(
            job(
                false,
                "application = \"hive\"\nrole = \"runner\"\nquery = \"s3://b/q.sql\"\n",
            ),
            "job.role-trust",
        ),
        with_code(
            job(
                false,
                "application = \"spark\"\nrole = \"runner\"\nentry_point = \"s3://b/m.py\"\nquery = \"s3://b/q.sql\"\n",
            ),
            "job.engine",
        ),
        with_code(
            job(
                false,
                "application = \"hive\"\nrole = \"open\"\nspark_submit_parameters = \"--conf a=b\"\n",
            ),
            "job.driver",
        ),
        with_code(
            job(
                false,
                "application = \"spark\"\nrole = \"runner\"\nentry_point = \"jobs/main.py\"\n",
            ),
            "job.artifacts-required",
        ),
        with_code(
            job(
                true,
                "application = \"spark\"\nrole = \"runner\"\nentry_point = \"jobs/missing.py\"\n",
            ),
            "job.local-file",
        ),
        with_code(
            job(
                true,
                "application = \"spark\"\nrole = \"runner\"\nentry_point = \"jobs/main.py\"\nfiles = [\"jobs/main.py\", \"more/main.py\"]\n",
            ),
            "job.file-name",
        ),
        with_code(
            job(
                true,
                "application = \"spark\"\nrole = \"runner\"\nentry_point = \"jobs/main.py\"\narguments = [\"${job.a.files.nope.zip}\"]\n",
            ),
            "job.file-reference",
        ),
        with_code(
            job(
                false,
                "application = \"spark\"\nrole = \"runner\"\nentry_point = \"s3://b/m.py\"\nspark_submit_parameters = \"--conf spark.executor.cores=8 --conf spark.executor.memory=40g\"\n",
            ),
            "job.spark-resources",
        ),
        with_code(
            job(
                false,
                &format!(
                    "application = \"spark\"\nrole = \"runner\"\nentry_point = \"s3://b/m.py\"\nname = \"{}\"\n",
                    "x".repeat(257)
                ),
            ),
            "job.name",
        ),
        with_code(
            job(
                false,
                "application = \"spark\"\nrole = \"runner\"\nentry_point = \"s3://b/m.py\"\ntimeout_minutes = -5\n",
            ),
            "job.timeout",
        ),
        with_code(
            job(
                false,
                "application = \"spark\"\nrole = \"runner\"\nentry_point = \"s3://b/m.py\"\ntimeout_minutes = 20000\n",
            ),
            "job.timeout-long",
        ),
    ]
}

/// Snapshots the rendering of each case, one snapshot per family (the
/// code's prefix before the first `.`), cases in code order.
fn snapshot_families(stage: &str, cases: Vec<(String, String)>) {
    let mut families: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (code, text) in cases {
        let family = code.split('.').next().unwrap_or("").to_string();
        families.entry(family).or_default().push((code, text));
    }
    for (family, mut list) in families {
        list.sort();
        let text: String = list
            .iter()
            .map(|(code, text)| format!("==== {code}\n{}\n", text.trim_end()))
            .collect();
        insta::assert_snapshot!(format!("{stage}-{family}"), text);
    }
}

#[test]
fn offline_messages() {
    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    let mut cases = Vec::new();
    for case in offline_cases() {
        assert!(seen.insert(case.code), "two cases for `{}`", case.code);
        match case.render() {
            Ok(text) => cases.push((case.code.to_string(), text)),
            Err(failure) => failures.push(failure),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    snapshot_families("offline", cases);
}

/// Every code documented in either table has a case here.
#[test]
fn every_documented_code_has_a_message_case() {
    let mut documented = crate::config_docs::documented();
    documented.extend(crate::plan_codes_documented::documented());
    let mut covered: BTreeSet<String> = offline_cases().iter().map(|c| c.code.to_string()).collect();
    covered.extend(plan_time_codes().into_iter().map(str::to_string));
    covered.extend(UNREACHABLE.iter().map(|(code, _)| code.to_string()));
    let cycle = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/graph/snapshots/emrstack__graph__tests__the_cycle_message.snap");
    let cycle = std::fs::read_to_string(&cycle).unwrap_or_default();
    assert!(
        cycle.contains("error[plan.cycle]"),
        "the snapshot of graph::tests::the_cycle_message is missing"
    );
    let missing: Vec<_> = documented.difference(&covered).collect();
    let stale: Vec<_> = covered.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "documented codes without a case in tests/it/diagnostic_messages.rs: {missing:?}"
    );
    assert!(stale.is_empty(), "cases for codes no table documents: {stale:?}");
}

// ---------------------------------------------------------------- plan time

/// Gives plan-time diagnostics the position of the field they are about, as
/// `emrstack plan` does (`cli::session::place`, which is crate-private).
fn place(list: &mut Diagnostics, spans: &SpanIndex) {
    for diagnostic in &mut list.0 {
        let Some(subject) = diagnostic.subject.clone() else {
            continue;
        };
        if diagnostic.span.is_none() {
            diagnostic.span = match subject.address.parse::<Address>() {
                Ok(address) => spans.field(&address, &subject.path),
                Err(_) if subject.address == "stack" => spans.stack_field(&subject.path),
                Err(_) => None,
            };
        }
    }
    list.sort();
}

/// The rendering of the diagnostics with `code` that the planning stages
/// found for the stack `text`, placed in it.
fn rendered(code: &'static str, text: &str, mut found: Diagnostics) -> (String, Result<String, String>) {
    let loaded = load_str(Path::new("emrstack.toml"), text, &LoadOptions::new("emrstack.toml"));
    place(&mut found, &loaded.spans);
    let list = Loaded {
        diagnostics: found,
        ..loaded
    };
    (code.to_string(), only(code, &list))
}

/// A diff of the stack `text` against `actual`.
fn diffed(code: &'static str, text: &str, actual: &Actual) -> (String, Result<String, String>) {
    let output = diff::diff(&stack(text), actual, Mode::Apply);
    rendered(code, text, output.diagnostics)
}

/// The account after applying the stack `text` to an account that holds
/// what it refers to.
fn applied(text: &str) -> Actual {
    let desired = stack(text);
    converge(&desired, &empty_account(&desired), ApplicationState::Started)
}

/// `BASE` with `application.adhoc` in a VPC of two subnets.
fn base_with_network() -> String {
    base_with(ADHOC_CAPACITY, &format!("{ADHOC_CAPACITY}\nnetwork = \"private\""))
        + "\n[networks.private]\nsubnet_ids = [\"subnet-0123456789abcdef0\", \"subnet-0fedcba9876543210\"]\nsecurity_group_ids = [\"sg-0123456789abcdef0\"]\n"
}

const ADHOC_CAPACITY: &str = "maximum_capacity = { cpu = \"16 vCPU\", memory = \"64 GB\" }";

/// The cases the diff finds, each on the base stack of `render_scenarios`.
fn diff_cases() -> Vec<(String, Result<String, String>)> {
    let mut cases = Vec::new();

    let mut missing = empty_account(&stack(BASE));
    missing.repositories.clear();
    missing.image_digests.clear();
    cases.push(diffed("repository.not-found", BASE, &missing));
    cases.push(diffed("image.repository-not-found", BASE, &missing));
    cases.push(diffed(
        "image.tag-not-found",
        &base_with("tag = \"v1\"", "tag = \"v9\""),
        &empty_account(&stack(BASE)),
    ));

    let networked = base_with_network();
    let account = empty_account(&stack(&networked));
    let mut edited = account.clone();
    edited.subnets.clear();
    cases.push(diffed("network.subnet-not-found", &networked, &edited));
    let mut edited = account.clone();
    edited.security_groups.clear();
    cases.push(diffed("network.security-group-not-found", &networked, &edited));
    let mut edited = account.clone();
    for group in edited.security_groups.values_mut() {
        group.vpc_id = "vpc-0fedcba9876543210".to_string();
    }
    cases.push(diffed("network.mixed-vpcs", &networked, &edited));
    let mut edited = account.clone();
    if let Some(subnet) = edited.subnets.values_mut().next() {
        subnet.availability_zone_id = "use1-az3".to_string();
    }
    cases.push(diffed("network.unsupported-zone", &networked, &edited));
    let mut edited = account.clone();
    for subnet in edited.subnets.values_mut() {
        subnet.availability_zone = "us-east-1a".to_string();
        subnet.availability_zone_id = "use1-az1".to_string();
        subnet.cidr_block = "10.0.0.0/28".to_string();
        subnet.available_ip_address_count = 3;
    }
    cases.push(diffed("network.single-zone", &networked, &edited));
    cases.push(diffed("network.subnet-too-small", &networked, &edited));

    let (_, base) = applied_base();
    let mut edited = base.clone();
    application_mut(&mut edited, "adhoc").spec.tags.clear();
    cases.push(diffed("plan.conflict", BASE, &edited));
    let mut edited = base.clone();
    application_mut(&mut edited, "adhoc")
        .spec
        .tags
        .remove(tags::APPLIED_TAG);
    cases.push(diffed("plan.unproven-ownership", BASE, &edited));
    let mut edited = base.clone();
    role_mut(&mut edited, "etl").spec.trust_policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "Imported",
            "Effect": "Allow",
            "Principal": {"Service": "emr-serverless.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }],
    });
    cases.push(diffed("plan.role-unmarked", BASE, &edited));
    cases.push(diffed(
        "plan.maximum-capacity-kept",
        &base_with(&format!("{ADHOC_CAPACITY}\n"), ""),
        &base,
    ));
    let scheduled = base_with(
        ADHOC_CAPACITY,
        &format!("{ADHOC_CAPACITY}\nscheduler = {{ max_concurrent_runs = 5 }}"),
    );
    cases.push(diffed("plan.scheduler-kept", BASE, &applied(&scheduled)));

    let protected = base_with(ADHOC_CAPACITY, &format!("{ADHOC_CAPACITY}\nprevent_destroy = true"));
    let account = applied(&protected);
    cases.push(diffed(
        "plan.prevent-destroy",
        &base_with(
            ADHOC_CAPACITY,
            &format!("{ADHOC_CAPACITY}\nprevent_destroy = true\nname = \"shop-adhoc-2\""),
        ),
        &account,
    ));
    let mut twins = account.clone();
    let mut twin = application_mut(&mut twins, "adhoc").clone();
    twin.id = "00fhq3ma7v0dfa99".to_string();
    twin.arn = application_arn(&twin.id);
    twins.applications.push(twin);
    cases.push(diffed("plan.duplicate-protected", &protected, &twins));
    cases
}

/// The cases observe finds, on FakeCloud.
async fn observe_cases() -> Vec<(String, Result<String, String>)> {
    let mut cases = Vec::new();
    let observed = async |cloud: &FakeCloud, text: &str| -> Diagnostics {
        match observe(cloud, &stack(text), &ObserveOptions::default()).await {
            Ok(observation) => observation.diagnostics,
            Err(error) => panic!("observe failed: {error}"),
        }
    };

    let foreign = BASE.replacen(
        "region = \"us-east-1\"\n",
        "region = \"us-east-1\"\naccount_id = \"999999999999\"\n",
        1,
    );
    let cloud = FakeCloud::new();
    cases.push(rendered(
        "stack.wrong-account",
        &foreign,
        observed(&cloud, &foreign).await,
    ));

    let cloud = FakeCloud::new();
    cloud.fail_with_code("GetResources", ErrorKind::AccessDenied, "AccessDeniedException", 1);
    cases.push(rendered(
        "observe.tagging-unavailable",
        BASE,
        observed(&cloud, BASE).await,
    ));

    let cloud = FakeCloud::new();
    let (_, base) = applied_base();
    let adhoc = application_mut(&mut base.clone(), "adhoc").spec.clone();
    cloud.insert_application(adhoc, ApplicationState::Created);
    cloud.set_tag_index_empty(true);
    cases.push(rendered(
        "observe.tagging-incomplete",
        BASE,
        observed(&cloud, BASE).await,
    ));
    cases
}

#[tokio::test(start_paused = true)]
async fn plan_time_messages() {
    let mut cases = diff_cases();
    cases.extend(observe_cases().await);
    let mut failures = Vec::new();
    let mut rendered = Vec::new();
    for (code, result) in cases {
        match result {
            Ok(text) => rendered.push((code, text)),
            Err(failure) => failures.push(failure),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    snapshot_families("plan", rendered);
}

/// The plan-time codes with a case: those of `diff_cases` and
/// `observe_cases`, and `plan.cycle`, which only a change graph built by
/// hand has (`graph::assemble` is crate-private): its message is
/// snapshotted by `graph::tests::the_cycle_message`.
fn plan_time_codes() -> Vec<&'static str> {
    vec![
        "repository.not-found",
        "image.repository-not-found",
        "image.tag-not-found",
        "network.subnet-not-found",
        "network.security-group-not-found",
        "network.mixed-vpcs",
        "network.unsupported-zone",
        "network.single-zone",
        "network.subnet-too-small",
        "plan.conflict",
        "plan.unproven-ownership",
        "plan.role-unmarked",
        "plan.maximum-capacity-kept",
        "plan.scheduler-kept",
        "plan.prevent-destroy",
        "plan.duplicate-protected",
        "stack.wrong-account",
        "observe.tagging-unavailable",
        "observe.tagging-incomplete",
        "plan.cycle",
    ]
}
