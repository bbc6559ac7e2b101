//! The corpus: real-world EMR Serverless application definitions from public
//! repositories and the AWS documentation, each converted faithfully into a
//! stack file under `tests/corpus/` (its source in a comment header; the
//! list and the conversion rules are in `tests/corpus/README.md`).
//!
//! Offline validation must never reject what AWS accepts: every corpus stack
//! validates without errors (warnings allowed), except the few whose source
//! really is invalid, which are listed with their evidence in the README and
//! must fail with exactly the listed errors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use emrstack::config::{LoadOptions, Loaded, load};
use emrstack::diff::{Action, Mode};
use emrstack::model::{ApplicationState, Architecture, DiskType, Engine, ReleaseLabel, WorkerType};

/// Corpus files whose source is really invalid, with the error codes
/// validation must report for them (and no others). The evidence for each is
/// in `tests/corpus/README.md`.
const REALLY_INVALID: [(&str, &[&str]); 2] = [
    (
        "terraform-provider-aws-docs-monitoring.toml",
        &["monitoring.prometheus-url"],
    ),
    ("user-guide-hive-shuffle-optimized.toml", &["application.worker-type"]),
];

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn corpus_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("tests/corpus exists")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

fn file_name(path: &Path) -> String {
    path.file_name().expect("file name").to_string_lossy().to_string()
}

fn load_file(path: &Path) -> Loaded {
    load(&LoadOptions::new(path))
}

/// `code at line:column: message` for every error of a load.
fn errors(loaded: &Loaded) -> Vec<(String, String)> {
    loaded
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let place = d
                .span
                .as_ref()
                .map(|span| {
                    let (_, line, column) = loaded.sources.locate(span);
                    format!("{line}:{column}")
                })
                .unwrap_or_default();
            (d.code.clone(), format!("{} at {place}: {}", d.code, d.message))
        })
        .collect()
}

#[test]
fn the_corpus_has_at_least_25_application_definitions() {
    let files = corpus_files();
    let applications: usize = files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).expect("read corpus file");
            text.lines()
                .filter(|line| {
                    line.starts_with("[applications.")
                        && !line.trim_start_matches("[applications.").contains(['.', '['])
                })
                .count()
        })
        .sum();
    assert!(files.len() >= 25, "{} corpus files", files.len());
    assert!(applications >= 25, "{applications} applications in the corpus");
}

#[test]
fn every_corpus_stack_validates_except_the_really_invalid_ones() {
    let expected: BTreeMap<&str, &[&str]> = REALLY_INVALID.into_iter().collect();
    let mut failures = Vec::new();
    for path in corpus_files() {
        let name = file_name(&path);
        let loaded = load_file(&path);
        let found = errors(&loaded);
        let mut codes: Vec<&str> = found.iter().map(|(code, _)| code.as_str()).collect();
        codes.sort();
        let mut want: Vec<&str> = expected.get(name.as_str()).copied().unwrap_or(&[]).to_vec();
        want.sort();
        if codes != want {
            let shown: Vec<&str> = found.iter().map(|(_, line)| line.as_str()).collect();
            failures.push(format!(
                "{name}: expected errors {want:?}, found:\n    {}",
                if shown.is_empty() {
                    "none".to_string()
                } else {
                    shown.join("\n    ")
                }
            ));
        }
        if want.is_empty() && loaded.desired.is_none() {
            failures.push(format!("{name}: no errors, but the stack was not lowered"));
        }
    }
    // Print every failing file at once, so one run shows the whole picture.
    for failure in &failures {
        eprintln!("{failure}");
    }
    assert!(
        failures.is_empty(),
        "{} corpus files failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_really_invalid_list_matches_the_readme() {
    let readme = std::fs::read_to_string(corpus_dir().join("README.md")).expect("tests/corpus/README.md");
    let section = readme
        .split("## Sources that are really invalid")
        .nth(1)
        .expect("a `## Sources that are really invalid` section");
    let listed: Vec<&str> = section
        .lines()
        .take_while(|line| !line.starts_with("## "))
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .filter(|name| name.ends_with(".toml"))
        .collect();
    let mut expected: Vec<&str> = REALLY_INVALID.iter().map(|(name, _)| *name).collect();
    expected.sort();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort();
    assert_eq!(listed_sorted, expected);
    for (name, codes) in REALLY_INVALID {
        let row = section
            .lines()
            .find(|line| line.starts_with(&format!("| `{name}`")))
            .expect("a row per file");
        for code in codes {
            assert!(row.contains(code), "the README row of {name} names `{code}`");
        }
    }
}

#[test]
fn every_corpus_file_names_its_source_and_what_was_converted() {
    for path in corpus_files() {
        let text = std::fs::read_to_string(&path).expect("read corpus file");
        let name = file_name(&path);
        assert!(text.starts_with("# Source: "), "{name} starts with a `# Source:` line");
        assert!(text.contains("\n# Converted: "), "{name} has a `# Converted:` line");
        assert!(
            text.contains("https://") || text.contains("shared reference seeds"),
            "{name} gives a URL or the seed it was read from"
        );
    }
}

#[test]
fn the_corpus_covers_the_language() {
    let mut engines = Vec::new();
    let mut releases: Vec<ReleaseLabel> = Vec::new();
    let mut covered: BTreeMap<&str, usize> = BTreeMap::new();
    let mut count = |what: &'static str, yes: bool| {
        if yes {
            *covered.entry(what).or_default() += 1;
        }
    };
    for path in corpus_files() {
        let loaded = load_file(&path);
        let Some(desired) = loaded.desired else { continue };
        for app in desired.applications.values() {
            let spec = &app.spec;
            engines.push(spec.engine);
            if let Some(release) = ReleaseLabel::parse(&spec.release_label) {
                releases.push(release);
            }
            count("arm64", spec.architecture == Some(Architecture::Arm64));
            count("initial capacity", !spec.initial_capacity.is_empty());
            count("maximum capacity", spec.maximum_capacity.is_some());
            count("network", spec.network.is_some());
            count("image", spec.image.is_some());
            count("per-worker images", !spec.worker_type_specifications.is_empty());
            count("runtime configuration", !spec.runtime_configuration.is_empty());
            count("monitoring", !spec.monitoring.is_empty());
            count("interactive", spec.interactive.is_some());
            count("scheduler", spec.scheduler.is_some());
            count(
                "disk type",
                spec.initial_capacity.values().any(|c| c.worker.disk_type.is_some()),
            );
            count("tags", !spec.tags.is_empty());
        }
    }
    assert!(engines.contains(&Engine::Spark) && engines.contains(&Engine::Hive));
    releases.sort();
    assert_eq!(releases.first().map(ToString::to_string).as_deref(), Some("emr-6.6.0"));
    assert!(
        releases.iter().any(|r| r.to_string().starts_with("emr-spark-")),
        "the newest release family (emr-spark-*) is covered"
    );
    for what in [
        "arm64",
        "initial capacity",
        "maximum capacity",
        "network",
        "image",
        "per-worker images",
        "runtime configuration",
        "monitoring",
        "interactive",
        "scheduler",
        "disk type",
        "tags",
    ] {
        assert!(
            covered.get(what).is_some_and(|n| *n > 0),
            "no valid corpus stack has {what}: {covered:?}"
        );
    }
}

/// A stack in the language's canonical spelling.
const CANONICAL: &str = r#"[stack]
name = "spelling"
region = "us-east-1"

[networks.private]
subnet_ids = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
security_group_ids = ["sg-0123456789abcdef0"]

[applications.spark]
type = "SPARK"
release_label = "emr-7.2.0"
network = "private"
monitoring = { cloudwatch = { log_types = { spark_driver = ["STDOUT", "STDERR"] } } }

[applications.spark.initial_capacity.driver]
worker_count = 1
cpu = "4 vCPU"
memory = "16 GB"

[applications.spark.initial_capacity.executor]
worker_count = 2
cpu = "4 vCPU"
memory = "16 GB"
disk = "500 GB"
disk_type = "SHUFFLE_OPTIMIZED"

[applications.hive]
type = "HIVE"
release_label = "emr-7.2.0"
runtime = [{ classification = "hive-site", properties = { "hive.exec.scratchdir" = "s3://b/scratch", "hive.metastore.warehouse.dir" = "s3://b/warehouse" } }]
monitoring = { cloudwatch = { log_types = { hive_driver = ["HIVE_LOG"], tez_task = ["SYSTEM_LOGS"] } } }
worker_type_specifications.hive_driver = { image_uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/hive:v1" }
worker_type_specifications.tez_task = { image_uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/hive:v1" }

[applications.hive.initial_capacity.hive_driver]
worker_count = 1
cpu = "2 vCPU"
memory = "8 GB"
disk_type = "STANDARD"

[applications.hive.initial_capacity.tez_task]
worker_count = 2
cpu = "4 vCPU"
memory = "16 GB"
"#;

/// The same stack spelled the way CloudFormation, Terraform and the CLI
/// examples spell it.
const SPELLED: &str = r#"[stack]
name = "spelling"
region = "us-east-1"

[networks.private]
subnet_ids = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210", "subnet-0123456789abcdef0"]
security_group_ids = ["sg-0123456789abcdef0"]

[applications.spark]
type = "Spark"
release_label = "emr-7.2.0"
network = "private"
monitoring = { cloudwatch = { log_types = { SPARK_DRIVER = ["stdout", "Stderr"] } } }

[applications.spark.initial_capacity.Driver]
worker_count = 1
cpu = "4vCPU"
memory = "16gb"

[applications.spark.initial_capacity.EXECUTOR]
worker_count = 2
cpu = "4 VCPU"
memory = "16 GB"
disk = "500GB"
disk_type = "shuffle_optimized"

[applications.hive]
type = "hive"
release_label = "emr-7.2.0"
runtime = [{ classification = "hive-site", properties = { "hive.exec.scratchdir" = "s3://b/scratch", "hive.metastore.warehouse.dir" = "s3://b/warehouse" } }]
monitoring = { cloudwatch = { log_types = { HIVE_DRIVER = ["hive_log"], TEZ_TASK = ["system_logs"] } } }
worker_type_specifications.HiveDriver = { image_uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/hive:v1" }
worker_type_specifications.TEZ_TASK = { image_uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/hive:v1" }

[applications.hive.initial_capacity.DRIVER]
worker_count = 1
cpu = 2
memory = 8
disk_type = "Standard"

[applications.hive.initial_capacity.TezTask]
worker_count = 2
cpu = "4 vCPU"
memory = "16 GB"
"#;

// Regression (issue 16): every spelling lowers to the canonical form, so the
// plan shows it and a stack applied in one spelling re-plans as a no-op in
// another.
#[test]
fn spelling_never_makes_a_diff() {
    let canonical = crate::render_scenarios::stack(CANONICAL);
    let spelled = crate::render_scenarios::stack(SPELLED);
    assert_eq!(spelled.applications, canonical.applications);
    assert_eq!(spelled.networks, canonical.networks);

    let spark = &spelled.applications["spark"].spec;
    assert_eq!(spark.engine, Engine::Spark);
    assert_eq!(
        spark.initial_capacity[&WorkerType::Executor].worker.disk_type,
        Some(DiskType::ShuffleOptimized)
    );
    let hive = &spelled.applications["hive"].spec;
    assert_eq!(hive.engine, Engine::Hive);
    assert!(hive.initial_capacity.contains_key(&WorkerType::HiveDriver));
    assert!(hive.worker_type_specifications.contains_key(&WorkerType::TezTask));
    let log_types = &hive.monitoring.cloudwatch.as_ref().expect("cloudwatch").log_types;
    assert_eq!(log_types["HIVE_DRIVER"], vec!["HIVE_LOG".to_string()]);

    // Applied in the canonical spelling, planned again in the other one.
    let actual = crate::render_scenarios::converge(
        &canonical,
        &crate::render_scenarios::empty_account(&canonical),
        ApplicationState::Created,
    );
    let plan = crate::render_scenarios::plan(&spelled, &actual, Mode::Apply);
    let changes: Vec<String> = plan
        .changes
        .iter()
        .filter(|change| change.action != Action::NoOp)
        .map(|change| format!("{} {:?}", change.address, change.action))
        .collect();
    assert!(changes.is_empty(), "spelling made changes: {changes:?}");
    // And the other way round.
    let actual = crate::render_scenarios::converge(
        &spelled,
        &crate::render_scenarios::empty_account(&spelled),
        ApplicationState::Started,
    );
    let plan = crate::render_scenarios::plan(&canonical, &actual, Mode::Apply);
    assert!(plan.changes.iter().all(|change| change.action == Action::NoOp));
}
