//! Every example validates, with each of its var files, and lowers to the
//! stack it describes.

use std::path::{Path, PathBuf};

use emrstack::config::{LoadOptions, load};
use emrstack::model::{ImageSource, ResourceKind};

fn examples() -> Vec<(PathBuf, Vec<PathBuf>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("examples/")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.join("emrstack.toml").exists())
        .collect();
    dirs.sort();
    for dir in dirs {
        let mut var_files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("example dir")
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.to_string_lossy().ends_with(".vars.toml"))
            .collect();
        var_files.sort();
        out.push((dir.join("emrstack.toml"), var_files));
    }
    out
}

fn check(file: &Path, var_file: Option<&Path>) {
    let mut options = LoadOptions::new(file);
    options.var_files.extend(var_file.map(Path::to_path_buf));
    let loaded = load(&options);
    let text = emrstack::render::diagnostics::human(&loaded.diagnostics, &loaded.sources, false);
    assert!(
        loaded.diagnostics.is_empty(),
        "{} {:?} should validate without diagnostics:\n{text}",
        file.display(),
        var_file
    );
    assert!(loaded.desired.is_some());
}

#[test]
fn every_example_validates_with_every_var_file() {
    let examples = examples();
    let names: Vec<String> = examples
        .iter()
        .map(|(file, _)| {
            file.parent()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(names, vec!["analytics", "hive", "quickstart"]);
    for (file, var_files) in &examples {
        check(file, None);
        for var_file in var_files {
            check(file, Some(var_file));
        }
    }
}

#[test]
fn analytics_lowers_per_environment() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/analytics");
    let mut options = LoadOptions::new(root.join("emrstack.toml"));
    options.var_files.push(root.join("prod.vars.toml"));
    let desired = load(&options).desired.expect("valid");
    assert_eq!(desired.stack.name, "analytics-prod");
    let etl = &desired.applications["etl"];
    assert_eq!(etl.spec.name, "analytics-prod-etl");
    assert_eq!(
        etl.spec.network.as_ref().map(|n| n.subnet_ids.clone()),
        Some(vec![
            "subnet-0a1b2c3d4e5f60718".to_string(),
            "subnet-0f1e2d3c4b5a69788".to_string()
        ])
    );
    match &etl.spec.image.as_ref().expect("image").source {
        ImageSource::Repository {
            repository,
            tag,
            pin_digest,
        } => {
            assert_eq!(
                (repository.as_str(), tag.as_str(), *pin_digest),
                ("spark", "v1.4.2", true)
            );
        }
        other => panic!("unexpected image {other:?}"),
    }
    assert_eq!(etl.spec.maximum_capacity.as_ref().map(|m| m.cpu), Some(400));
    assert!(
        etl.spec
            .runtime_configuration
            .iter()
            .any(|c| c.classification == "spark-defaults")
    );
    let role = &desired.roles["etl"];
    assert_eq!(role.trust_applications, vec!["etl".to_string()]);
    assert_eq!(role.inline_policies.len(), 2);
    assert_eq!(desired.repositories["spark"].applications, vec!["etl".to_string()]);
    assert_eq!(
        desired
            .addresses()
            .iter()
            .filter(|a| a.kind == ResourceKind::Network)
            .count(),
        1
    );
}

#[test]
fn hive_example_uses_hive_worker_types() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hive/emrstack.toml");
    let desired = load(&LoadOptions::new(file)).desired.expect("valid");
    let hive = &desired.applications["hive"].spec;
    let workers: Vec<&str> = hive.initial_capacity.keys().map(|w| w.as_str()).collect();
    assert_eq!(workers, vec!["hive_driver", "tez_task"]);
    let site = hive
        .runtime_configuration
        .iter()
        .find(|c| c.classification == "hive-site")
        .expect("hive-site");
    assert_eq!(
        site.properties["hive.exec.scratchdir"],
        "s3://warehouse-example/hive/scratch"
    );
}
