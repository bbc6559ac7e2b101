//! Snapshots of what a user reads when a stack is broken: the human
//! rendering (as `emrstack validate` prints it) and the JSON document of
//! `--format json`. Review changes with `cargo insta review`.

use std::path::Path;

use emrstack::config::{LoadOptions, Loaded, load_str};
use emrstack::render::diagnostics;

const BROKEN: &str = r#"[stack]
name = "analytics-dev"
region = "us-east-1"

[vars]
image_tag = "v1"

[tags]
team = "data-platform"
"aws:owner" = "me"

[networks.private]
subnet_ids = ["subnet-0123456789abcdef0", "subnet-12"]
security_group_ids = ["sg-0123456789abcdef0"]

[repositories.spark]
name = "analytics/spark"

[applications.etl]
type = "SPARK"
release_label = "emr-7.0.0"
network = "privat"
relase = "x"
image = { repository = "spark", tag = "${var.image_tagg}" }
maximum_capacity = { cpu = "8 vCPU", memory = "64 GB" }
runtime = [{ classification = "spark-defaults", properties = { "spark.executor.memory" = "28g" } }]

[applications.etl.initial_capacity.executor]
worker_count = 4
cpu = "4 vCPU"
memory = "30 GB"
disk = "300 GB"
disk_type = "SHUFFLE_OPTIMIZED"

[applications.hive]
type = "HIVE"
release_label = "emr-7.2.0"
interactive = { livy_endpoint_enabled = true }
initial_capacity = { executor = { worker_count = 1, cpu = 2, memory = "4 GB" } }
"#;

fn broken() -> Loaded {
    load_str(Path::new("emrstack.toml"), BROKEN, &LoadOptions::new("emrstack.toml"))
}

#[test]
fn human_output_of_a_broken_stack() {
    let loaded = broken();
    insta::assert_snapshot!(diagnostics::human(&loaded.diagnostics, &loaded.sources, false));
}

#[test]
fn json_output_of_a_broken_stack() {
    let loaded = broken();
    let document = diagnostics::json(&loaded.diagnostics, &loaded.sources);
    insta::assert_snapshot!(serde_json::to_string_pretty(&document).expect("json"));
}

#[test]
fn human_output_with_colour_is_stable() {
    let loaded = load_str(
        Path::new("emrstack.toml"),
        "[stack]\nname = \"s\"\nregion = \"nowhere\"\n",
        &LoadOptions::new("emrstack.toml"),
    );
    insta::assert_snapshot!(diagnostics::human(&loaded.diagnostics, &loaded.sources, true));
}
