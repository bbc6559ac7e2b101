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

// ------------------------------------------------------- hostile input

/// Runs emrstack, killing it if it has not exited after `limit`; the test
/// fails then. A run that reads without bound or spins would otherwise hang
/// the suite (the bound is generous for a debug build on a busy machine; a
/// release build answers these in milliseconds).
fn emrstack_within(dir: &Path, args: &[&str], limit: std::time::Duration) -> Output {
    use std::process::Stdio;
    // Files rather than pipes: a child blocked on a full pipe would look hung.
    let outputs = tempfile::tempdir().expect("temp dir");
    let stdout = std::fs::File::create(outputs.path().join("stdout")).expect("create");
    let stderr = std::fs::File::create(outputs.path().join("stderr")).expect("create");
    let mut child = Command::new(env!("CARGO_BIN_EXE_emrstack"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("run emrstack");
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("emrstack {args:?} did not exit within {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    Output {
        status,
        stdout: std::fs::read(outputs.path().join("stdout")).expect("read"),
        stderr: std::fs::read(outputs.path().join("stderr")).expect("read"),
    }
}

const LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

fn assert_error(output: &Output, expect: &str) {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(expect), "expected `{expect}` in:\n{stderr}");
}

const ROLE: &str = "[stack]\nname = \"hostile\"\n\n[roles.r]\n";

#[test]
fn device_files_are_refused_without_reading_them() {
    // Each of these read /dev/zero until memory ran out (over 10 GB in 10 s).
    let dir = project(&format!("{ROLE}[roles.r.policies.p]\nfile = \"/dev/zero\"\n"));
    let output = emrstack_within(dir.path(), &["validate"], LIMIT);
    assert_error(
        &output,
        "error[config.read]: cannot read `/dev/zero`: it is a character device, not a regular file\n --> emrstack.toml:6:8\n",
    );
    let output = emrstack_within(dir.path(), &["validate", "-f", "/dev/zero"], LIMIT);
    assert_error(
        &output,
        "error[config.read]: cannot read `/dev/zero`: it is a character device, not a regular file",
    );
    let output = emrstack_within(dir.path(), &["validate", "--var-file", "/dev/zero"], LIMIT);
    assert_error(
        &output,
        "error[config.read]: cannot read var file `/dev/zero`: it is a character device, not a regular file",
    );
    let dir = project(&format!("{VALID}runtime_file = \"/dev/zero\"\n"));
    let output = emrstack_within(dir.path(), &["validate"], LIMIT);
    assert_error(
        &output,
        "cannot read `/dev/zero`: it is a character device, not a regular file\n  --> emrstack.toml:10:16\n",
    );
}

#[cfg(unix)]
#[test]
fn fifos_and_directories_are_refused_at_the_reference() {
    let dir = project(&format!("{VALID}runtime_file = \"fifo\"\n"));
    let status = Command::new("mkfifo")
        .arg(dir.path().join("fifo"))
        .status()
        .expect("mkfifo");
    assert!(status.success());
    // A FIFO with no writer blocked the reader forever.
    let output = emrstack_within(dir.path(), &["validate"], LIMIT);
    assert_error(&output, "it is a FIFO, not a regular file\n  --> emrstack.toml:10:16\n");
    let output = emrstack_within(dir.path(), &["validate", "--var-file", "fifo"], LIMIT);
    assert_error(&output, "cannot read var file `fifo`: it is a FIFO, not a regular file");
    std::fs::create_dir(dir.path().join("policies")).expect("mkdir");
    std::fs::write(
        dir.path().join("emrstack.toml"),
        format!("{ROLE}[roles.r.policies.p]\nfile = \"policies\"\n"),
    )
    .expect("write");
    let output = emrstack_within(dir.path(), &["validate"], LIMIT);
    assert_error(
        &output,
        "it is a directory, not a regular file\n --> emrstack.toml:6:8\n",
    );
}

#[test]
fn files_over_the_size_limit_are_refused() {
    let dir = project(&format!("{ROLE}[roles.r.policies.p]\nfile = \"big.json\"\n"));
    let big = std::fs::File::create(dir.path().join("big.json")).expect("create");
    big.set_len(emrstack::input::MAX_SOURCE_BYTES + 1).expect("grow");
    let output = emrstack_within(dir.path(), &["validate"], LIMIT);
    assert_error(
        &output,
        "cannot read `big.json`: it is larger than 8 MiB\n --> emrstack.toml:6:8\n",
    );
}

/// `{"a": {"a": ... 1 ... }}`, `levels` objects deep.
fn nested_objects(levels: usize) -> String {
    format!("{}1{}", "{\"a\": ".repeat(levels), "}".repeat(levels))
}

#[test]
fn deeply_nested_json_is_a_diagnostic_not_a_stack_overflow() {
    // About 7,300 levels aborted the process ("has overflowed its stack",
    // exit 134, no output) in each of these places.
    let deep = nested_objects(7300);
    let statement = |condition: &str| {
        format!(
            r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {condition}}}]}}"#
        )
    };
    // A policy file.
    let dir = project(&format!("{ROLE}[roles.r.policies.p]\nfile = \"deep.json\"\n"));
    std::fs::write(dir.path().join("deep.json"), statement(&deep)).expect("write");
    let output = emrstack_within(dir.path(), &["validate"], LIMIT);
    assert_error(
        &output,
        "error[json.depth]: objects and arrays nest more than 64 deep here\n --> deep.json:1:",
    );
    // A policy document written as a JSON string.
    let dir = project(&format!(
        "{ROLE}[roles.r.policies.p]\ndocument = '{}'\n",
        statement(&deep)
    ));
    let output = emrstack_within(dir.path(), &["validate"], LIMIT);
    assert_error(
        &output,
        "error[json.depth]: objects and arrays nest more than 64 deep here\n --> emrstack.toml:6:",
    );
    // A classification file with nested `configurations`.
    let mut configurations = String::from("[]");
    for _ in 0..4000 {
        configurations = format!(r#"[{{"classification": "spark-defaults", "configurations": {configurations}}}]"#);
    }
    let dir = project(&format!("{VALID}runtime_file = \"runtime.json\"\n"));
    std::fs::write(dir.path().join("runtime.json"), &configurations).expect("write");
    let output = emrstack_within(dir.path(), &["validate"], LIMIT);
    assert_error(
        &output,
        "error[json.depth]: objects and arrays nest more than 64 deep here\n --> runtime.json:1:",
    );
    // A condition written in TOML, under a long dotted table header: the
    // TOML reader's own limits apply to each part, not to their sum.
    let header = vec!["a"; 70].join(".");
    let dir = project(&format!(
        "{ROLE}[roles.r.policies.p.document]\nVersion = \"2012-10-17\"\nStatement = [{{ Effect = \"Allow\", Action = \"s3:GetObject\", Resource = \"*\" }}]\n[roles.r.policies.p.document.Id.{header}]\nb = 1\n"
    ));
    let output = emrstack_within(dir.path(), &["validate"], LIMIT);
    assert_error(
        &output,
        "error[config.depth]: tables and arrays nest more than 64 deep here\n --> emrstack.toml:8:147\n",
    );
}

#[test]
fn a_saved_plan_nested_too_deeply_is_refused_with_its_position() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = format!(r#"{{"format_version": 1, "x": {}}}"#, nested_objects(7300));
    std::fs::write(dir.path().join("deep.emrplan"), plan).expect("write");
    let output = emrstack_within(dir.path(), &["show", "deep.emrplan"], LIMIT);
    assert_error(&output, "values nest deeper than 128 levels at line 1, column 790");
    let output = emrstack_within(dir.path(), &["show", "/dev/zero"], LIMIT);
    assert_error(
        &output,
        "cannot read plan file `/dev/zero`: it is a character device, not a regular file",
    );
}
