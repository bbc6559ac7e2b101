//! `emrstack validate` and `emrstack schema` through the built binary: exit
//! codes, and data on stdout versus messages on stderr.

use std::path::Path;
use std::process::{Command, Output};

fn emrstack(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_emrstack"));
    command.current_dir(dir).args(args).env("NO_COLOR", "1");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("run emrstack")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

const VALID: &str = "[stack]\nname = \"cli-${var.env}\"\n\n[vars]\nenv = \"dev\"\n\n[applications.a]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\n";
// `emr 7.2` is outside the API model's `ReleaseLabel` pattern, so an error;
// `emr-7.2` would only be a warning (the model allows it).
const BROKEN: &str = "[stack]\nname = \"cli\"\n\n[applications.a]\ntype = \"SPARK\"\nrelease_label = \"emr 7.2\"\n";

fn project(stack: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("emrstack.toml"), stack).expect("write");
    dir
}

#[test]
fn valid_stack_exits_zero_and_prints_only_to_stderr() {
    let dir = project(VALID);
    let output = emrstack(dir.path(), &["validate"], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "");
    assert_eq!(text(&output.stderr), "stack `cli-dev` is valid (1 resource)\n");
}

#[test]
fn broken_stack_exits_one_with_diagnostics_on_stderr() {
    let dir = project(BROKEN);
    let output = emrstack(dir.path(), &["validate", "--file", "emrstack.toml"], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stdout), "");
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("error[release.format]: `emr 7.2` is not a release label\n --> emrstack.toml:6:17\n"),
        "{stderr}"
    );
    assert!(stderr.ends_with("1 error\n"), "{stderr}");
    assert!(!stderr.contains('\x1b'), "NO_COLOR must turn colour off");
}

#[test]
fn json_format_prints_the_document_on_stdout_only() {
    let dir = project(BROKEN);
    let output = emrstack(dir.path(), &["validate", "--format", "json"], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stderr), "");
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).expect("stdout is JSON");
    assert_eq!(document["valid"], false);
    assert_eq!(document["diagnostics"][0]["code"], "release.format");
    assert_eq!(document["diagnostics"][0]["line"], 6);
    assert_eq!(document["diagnostics"][0]["column"], 17);

    let dir = project(VALID);
    let output = emrstack(dir.path(), &["validate", "--format", "json"], &[]);
    assert_eq!(output.status.code(), Some(0));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).expect("stdout is JSON");
    assert_eq!(document, serde_json::json!({"valid": true, "diagnostics": []}));
}

#[test]
fn warnings_do_not_fail_validation() {
    let dir = project(&format!(
        "{VALID}\n[applications.b]\ntype = \"SPARK\"\nrelease_label = \"emr-7.99.0\"\n"
    ));
    let output = emrstack(dir.path(), &["validate"], &[]);
    assert_eq!(output.status.code(), Some(0));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("warning[release.unknown]"), "{stderr}");
    assert!(
        stderr.ends_with("1 warning\nstack `cli-dev` is valid (2 resources)\n"),
        "{stderr}"
    );
}

#[test]
fn missing_stack_file_is_an_error_without_position() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = emrstack(dir.path(), &["validate"], &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("error[config.read]: cannot read `emrstack.toml`"),
        "{stderr}"
    );
}

#[test]
fn environment_variables_override_var_flags_and_var_files() {
    let dir = project(VALID);
    std::fs::write(dir.path().join("prod.vars.toml"), "env = \"file\"\n").expect("write");
    let output = emrstack(dir.path(), &["validate", "--var-file", "prod.vars.toml"], &[]);
    assert!(text(&output.stderr).contains("`cli-file`"), "{}", text(&output.stderr));
    let output = emrstack(
        dir.path(),
        &["validate", "--var-file", "prod.vars.toml", "--var", "env=flag"],
        &[],
    );
    assert!(text(&output.stderr).contains("`cli-flag`"), "{}", text(&output.stderr));
    let output = emrstack(
        dir.path(),
        &["validate", "--var-file", "prod.vars.toml", "--var", "env=flag"],
        &[("EMRSTACK_VAR_env", "environment")],
    );
    assert!(
        text(&output.stderr).contains("`cli-environment`"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn region_flag_applies_to_offline_region_checks() {
    let dir = project(&format!(
        "{VALID}image_uri = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/spark:v1\"\n"
    ));
    let output = emrstack(dir.path(), &["validate"], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let output = emrstack(dir.path(), &["--region", "eu-west-1", "validate"], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("error[image.region]"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn schema_prints_the_checked_in_schema_on_stdout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = emrstack(dir.path(), &["schema"], &[]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(text(&output.stderr), "");
    let checked_in =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/emrstack.schema.json"))
            .expect("schema file");
    assert_eq!(text(&output.stdout), checked_in);
}

#[test]
fn usage_errors_exit_one_so_they_are_never_mistaken_for_changes() {
    let dir = project(VALID);
    for args in [
        &["plan", "--no-such-flag"][..],
        &["validate", "--format", "markdown"][..],
        &["frobnicate"][..],
    ] {
        let output = emrstack(dir.path(), args, &[]);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {}", text(&output.stderr));
    }
    let help = emrstack(dir.path(), &["--help"], &[]);
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help.stdout).contains("Usage"));
}
