//! `[jobs.*]` and `[stack] artifacts`: one failing case per rule, asserted
//! on the code and its position, and the lowering of a valid job.

use std::path::{Path, PathBuf};

use emrstack::config::{LoadOptions, Loaded, load};
use emrstack::model::{JobDriverSpec, JobRole, JobRunMode, JobSource};

use crate::config_rules::position;

/// A directory with the stack file `text` and the files jobs refer to.
struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    fn new() -> Dir {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("jobs/deps")).expect("mkdir");
        std::fs::write(dir.path().join("jobs/main.py"), "print(1)\n").expect("write");
        std::fs::write(dir.path().join("jobs/q.sql"), "select 1;\n").expect("write");
        std::fs::write(dir.path().join("jobs/deps/a.py"), "A = 1\n").expect("write");
        Dir { dir }
    }

    fn load(&self, text: &str) -> Loaded {
        let path: PathBuf = self.dir.path().join("emrstack.toml");
        std::fs::write(&path, text).expect("write stack");
        load(&LoadOptions::new(path))
    }
}

pub(crate) fn base(artifacts: bool, jobs: &str) -> String {
    format!(
        r#"[stack]
name = "s"
region = "us-east-1"
{}

[roles.runner]
trust_applications = ["spark"]

[roles.open]

[applications.spark]
type = "SPARK"
release_label = "emr-7.2.0"
maximum_capacity = {{ cpu = "8 vCPU", memory = "32 GB" }}

[applications.hive]
type = "HIVE"
release_label = "emr-7.2.0"
runtime = [{{ classification = "hive-site", properties = {{ "hive.exec.scratchdir" = "s3://hive-data/scratch", "hive.metastore.warehouse.dir" = "s3://hive-data/warehouse" }} }}]

[configs.logs]
monitoring = {{ s3_log_uri = "s3://logs/x/" }}
runtime = [{{ classification = "spark-defaults", properties = {{ "spark.a" = "1" }} }}]

{jobs}"#,
        if artifacts {
            "artifacts = \"s3://bucket/art/\""
        } else {
            ""
        }
    )
}

/// `code@line:column` for every diagnostic of the stack file.
fn found(loaded: &Loaded) -> Vec<String> {
    loaded
        .diagnostics
        .iter()
        .map(|d| match &d.span {
            Some(span) => {
                let (_, line, column) = loaded.sources.locate(span);
                format!("{} {}@{line}:{column}", d.severity, d.code)
            }
            None => format!("{} {}", d.severity, d.code),
        })
        .collect()
}

/// Asserts `severity code` at the first `needle`.
fn expect(text: &str, severity: &str, code: &str, needle: &str) {
    let dir = Dir::new();
    let loaded = dir.load(text);
    let (line, column) = position(text, needle);
    let wanted = format!("{severity} {code}@{line}:{column}");
    let all = found(&loaded);
    assert!(
        all.contains(&wanted),
        "expected `{wanted}`, found:\n  {}",
        all.join("\n  ")
    );
}

#[test]
fn a_valid_job_lowers_to_its_spec() {
    let dir = Dir::new();
    let text = base(
        true,
        r#"[jobs.etl]
application = "spark"
role = "runner"
entry_point = "jobs/main.py"
files = ["jobs/deps"]
arguments = ["--in", "s3://data/in", "${job.etl.files.deps.zip}"]
spark_submit_parameters = "--py-files ${job.etl.files.deps.zip} --conf spark.executor.cores=4 --conf spark.executor.memory=14g"
configs = ["logs"]
runtime = [{ classification = "spark-defaults", properties = { "spark.b" = "2" } }]
timeout_minutes = 30
tags = { team = "data" }

[jobs.report]
application = "hive"
role = "arn:aws:iam::123456789012:role/reports"
name = "nightly report"
query = "s3://q/report.sql"
init_query_file = "jobs/q.sql"
parameters = "--hiveconf a=b"
mode = "BATCH"
"#,
    );
    let loaded = dir.load(&text);
    assert!(loaded.is_valid(), "{:?}", found(&loaded));
    assert!(loaded.diagnostics.is_empty(), "{:?}", found(&loaded));
    let desired = loaded.desired.expect("valid");
    assert_eq!(
        desired.stack.artifacts.as_ref().map(|a| a.to_string()).as_deref(),
        Some("s3://bucket/art")
    );
    let etl = &desired.jobs["etl"];
    assert_eq!(etl.name, "s-etl");
    assert_eq!(etl.role, JobRole::Key { key: "runner".into() });
    assert_eq!(etl.timeout_minutes, Some(30));
    assert_eq!(etl.mode, JobRunMode::Batch);
    assert_eq!(etl.tags.get("team").map(String::as_str), Some("data"));
    assert_eq!(etl.files, vec![dir.dir.path().join("jobs/deps")]);
    match &etl.driver {
        JobDriverSpec::Spark {
            entry_point, arguments, ..
        } => {
            assert_eq!(
                entry_point,
                &JobSource::Local {
                    path: dir.dir.path().join("jobs/main.py")
                }
            );
            assert_eq!(arguments[2], "${job.etl.files.deps.zip}");
        }
        other => panic!("{other:?}"),
    }
    // The config bundle's runtime and monitoring, under the job's own.
    let defaults = &etl.runtime[0];
    assert_eq!(defaults.properties.get("spark.a").map(String::as_str), Some("1"));
    assert_eq!(defaults.properties.get("spark.b").map(String::as_str), Some("2"));
    assert_eq!(
        etl.monitoring.s3.as_ref().and_then(|s| s.log_uri.as_deref()),
        Some("s3://logs/x/")
    );
    let report = &desired.jobs["report"];
    assert_eq!(report.name, "nightly report");
    assert!(matches!(&report.role, JobRole::Arn { arn } if arn.ends_with("role/reports")));
    assert!(matches!(
        &report.driver,
        JobDriverSpec::Hive {
            query: JobSource::S3 { .. },
            init_query_file: Some(JobSource::Local { .. }),
            ..
        }
    ));
    assert_eq!(desired.applications.len(), 2, "jobs are not resources");
}

#[test]
fn references_to_applications_roles_and_configs() {
    let text = base(
        false,
        "[jobs.a]\napplication = \"nope\"\nrole = \"ghost\"\nentry_point = \"s3://b/m.py\"\nconfigs = [\"missing\"]\n",
    );
    expect(&text, "error", "job.unknown-application", "\"nope\"");
    expect(&text, "error", "job.unknown-role", "\"ghost\"");
    expect(&text, "error", "job.unknown-config", "\"missing\"");
    let text = base(
        false,
        "[jobs.a]\napplication = \"spark\"\nrole = \"arn:aws:iam::12:role/x\"\nentry_point = \"s3://b/m.py\"\n",
    );
    expect(&text, "error", "job.role-arn", "\"arn:aws:iam::12");
}

#[test]
fn the_role_must_trust_the_application() {
    let text = base(
        false,
        "[jobs.a]\napplication = \"hive\"\nrole = \"runner\"\nquery = \"s3://b/q.sql\"\n",
    );
    expect(&text, "error", "job.role-trust", "\"runner\"\nquery");
    // A role that trusts every application of the account is fine.
    let dir = Dir::new();
    let ok = base(
        false,
        "[jobs.a]\napplication = \"hive\"\nrole = \"open\"\nquery = \"s3://b/q.sql\"\n",
    );
    assert!(dir.load(&ok).is_valid(), "{:?}", found(&dir.load(&ok)));
}

#[test]
fn the_driver_must_match_the_engine() {
    let text = base(
        false,
        "[jobs.a]\napplication = \"spark\"\nrole = \"runner\"\nentry_point = \"s3://b/m.py\"\nquery = \"s3://b/q.sql\"\n",
    );
    expect(&text, "error", "job.engine", "\"s3://b/q.sql\"");
    let text = base(
        false,
        "[jobs.a]\napplication = \"hive\"\nrole = \"open\"\nspark_submit_parameters = \"--conf a=b\"\n",
    );
    expect(&text, "error", "job.engine", "\"--conf a=b\"");
    expect(&text, "error", "job.driver", "[jobs.a]");
}

#[test]
fn local_files_need_artifacts_and_must_exist() {
    let text = base(
        false,
        "[jobs.a]\napplication = \"spark\"\nrole = \"runner\"\nentry_point = \"jobs/main.py\"\n",
    );
    expect(&text, "error", "job.artifacts-required", "\"jobs/main.py\"");
    let text = base(
        true,
        "[jobs.a]\napplication = \"spark\"\nrole = \"runner\"\nentry_point = \"jobs/missing.py\"\nfiles = [\"s3://b/x.zip\", \"jobs/deps\", \"other/deps\"]\n",
    );
    expect(&text, "error", "job.local-file", "\"jobs/missing.py\"");
    expect(&text, "error", "job.local-file", "\"s3://b/x.zip\"");
    expect(&text, "error", "job.local-file", "\"other/deps\"");
    let text = base(
        true,
        "[jobs.a]\napplication = \"spark\"\nrole = \"runner\"\nentry_point = \"jobs/deps\"\n",
    );
    expect(&text, "error", "job.local-file", "\"jobs/deps\"");
    let text = base(
        true,
        "[jobs.a]\napplication = \"spark\"\nrole = \"runner\"\nentry_point = \"https://x/m.py\"\n",
    );
    expect(&text, "error", "job.local-file", "\"https://x/m.py\"");
    let text = "[stack]\nname = \"s\"\nartifacts = \"bucket/prefix\"\n";
    expect(text, "error", "stack.artifacts", "\"bucket/prefix\"");
}

#[test]
fn file_names_and_references() {
    let dir = Dir::new();
    std::fs::create_dir_all(dir.dir.path().join("more")).expect("mkdir");
    std::fs::write(dir.dir.path().join("more/main.py"), "x").expect("write");
    let text = base(
        true,
        "[jobs.a]\napplication = \"spark\"\nrole = \"runner\"\nentry_point = \"jobs/main.py\"\nfiles = [\"jobs/main.py\", \"more/main.py\"]\narguments = [\"${job.a.files.nope.zip}\", \"${job.b.files.main.py}\"]\n",
    );
    let loaded = dir.load(&text);
    let all = found(&loaded);
    let at = |code: &str, needle: &str| {
        let (line, column) = position(&text, needle);
        format!("error {code}@{line}:{column}")
    };
    for wanted in [
        at("job.file-name", "\"more/main.py\""),
        at("job.file-reference", "\"${job.a.files.nope"),
        at("job.file-reference", "\"${job.b"),
    ] {
        assert!(all.contains(&wanted), "expected `{wanted}` in {all:?}");
    }
}

#[test]
fn spark_resources_must_fit_a_worker_and_the_maximum_capacity() {
    let job = |conf: &str| {
        base(
            false,
            &format!(
                "[jobs.a]\napplication = \"spark\"\nrole = \"runner\"\nentry_point = \"s3://b/m.py\"\nspark_submit_parameters = \"{conf}\"\n"
            ),
        )
    };
    for conf in [
        "--conf spark.executor.cores=3",
        "--conf spark.driver.cores=4 --conf spark.driver.memory=40g",
        "--conf spark.executor.cores=16",
        "--conf spark.executor.cores=8 --conf spark.executor.memory=40g",
        "--conf spark.driver.memory=lots",
    ] {
        expect(&job(conf), "error", "job.spark-resources", &format!("\"{conf}\""));
    }
    let dir = Dir::new();
    let ok = job("--conf spark.executor.cores=4 --conf spark.executor.memory=14g --conf spark.driver.cores=2");
    assert!(dir.load(&ok).diagnostics.is_empty(), "{:?}", found(&dir.load(&ok)));
}

#[test]
fn names_and_timeouts() {
    let long = "x".repeat(257);
    let text = base(
        false,
        &format!(
            "[jobs.a]\napplication = \"spark\"\nrole = \"runner\"\nentry_point = \"s3://b/m.py\"\nname = \"{long}\"\ntimeout_minutes = -5\n"
        ),
    );
    expect(&text, "error", "job.name", &format!("\"{long}\""));
    expect(&text, "error", "job.timeout", "-5");
    let text = base(
        false,
        "[jobs.a]\napplication = \"spark\"\nrole = \"runner\"\nentry_point = \"s3://b/m.py\"\ntimeout_minutes = 20000\n",
    );
    expect(&text, "warning", "job.timeout-long", "20000");
    let dir = Dir::new();
    let streaming = base(
        false,
        "[jobs.a]\napplication = \"spark\"\nrole = \"runner\"\nentry_point = \"s3://b/m.py\"\nmode = \"STREAMING\"\ntimeout_minutes = 0\n",
    );
    assert!(
        dir.load(&streaming).diagnostics.is_empty(),
        "{:?}",
        found(&dir.load(&streaming))
    );
}

#[test]
fn unknown_keys_in_a_job_are_reported() {
    let text = base(
        false,
        "[jobs.a]\napplication = \"spark\"\nrole = \"runner\"\nentry_point = \"s3://b/m.py\"\nentrypoint = \"x\"\n",
    );
    expect(&text, "error", "config.unknown-key", "entrypoint");
    let _ = Path::new("");
}
