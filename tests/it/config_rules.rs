//! One failing case per validation rule, asserted on the diagnostic code and
//! its position (line:column), plus stacks that must pass and a file with
//! many independent problems.

use std::path::{Path, PathBuf};

use emrstack::config::{LoadOptions, Loaded, load, load_str};

pub(crate) const STACK: &str = "[stack]\nname = \"s\"\nregion = \"us-east-1\"\n";

/// A stack with one Spark application `a` on `release`, plus `body` in its table.
pub(crate) fn spark_on(release: &str, body: &str) -> String {
    format!("{STACK}\n[applications.a]\ntype = \"SPARK\"\nrelease_label = \"{release}\"\n{body}")
}

pub(crate) fn spark(body: &str) -> String {
    spark_on("emr-7.2.0", body)
}

pub(crate) fn hive(body: &str) -> String {
    format!("{STACK}\n[applications.h]\ntype = \"HIVE\"\nrelease_label = \"emr-7.2.0\"\n{body}")
}

fn check_str(input: &str) -> Loaded {
    load_str(Path::new("emrstack.toml"), input, &LoadOptions::new("emrstack.toml"))
}

/// `severity code@file:line:column` for every diagnostic.
fn found(loaded: &Loaded) -> Vec<String> {
    loaded
        .diagnostics
        .iter()
        .map(|d| match &d.span {
            Some(span) => {
                let (path, line, column) = loaded.sources.locate(span);
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default();
                format!("{} {}@{name}:{line}:{column}", d.severity, d.code)
            }
            None => format!("{} {}", d.severity, d.code),
        })
        .collect()
}

/// 1-based line and column (in characters) of the first `needle` in `text`.
pub(crate) fn position(text: &str, needle: &str) -> (usize, usize) {
    let offset = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` is not in the input"));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

fn assert_found(loaded: &Loaded, file: &str, code: &str, line: usize, column: usize) {
    let all = found(loaded);
    let wanted = format!("{code}@{file}:{line}:{column}");
    assert!(
        all.iter().any(|d| d.ends_with(&wanted)),
        "expected `{wanted}`, found:\n  {}",
        all.join("\n  ")
    );
}

/// Asserts a diagnostic `code` at the first `needle` of the stack file.
fn expect(input: &str, code: &str, needle: &str) {
    let loaded = check_str(input);
    let (line, column) = position(input, needle);
    assert_found(&loaded, "emrstack.toml", code, line, column);
}

/// Asserts a diagnostic `code` of `severity` (`error` or `warning`) at the
/// first `needle` of the stack file.
fn expect_severity(input: &str, severity: &str, code: &str, needle: &str) {
    let loaded = check_str(input);
    let (line, column) = position(input, needle);
    let wanted = format!("{severity} {code}@emrstack.toml:{line}:{column}");
    let all = found(&loaded);
    assert!(
        all.iter().any(|d| d == &wanted),
        "expected `{wanted}`, found:\n  {}",
        all.join("\n  ")
    );
}

/// Asserts a warning `code` at the first `needle`, and that the stack is
/// still valid: the rule must not block what AWS accepts.
fn expect_warning(input: &str, code: &str, needle: &str) {
    expect_severity(input, "warning", code, needle);
    expect_valid(input);
}

/// Asserts that no diagnostic has one of `codes`.
fn expect_none(input: &str, codes: &[&str]) {
    let loaded = check_str(input);
    let all = found(&loaded);
    for code in codes {
        assert!(
            !all.iter()
                .any(|d| d.contains(&format!(" {code}@")) || d.ends_with(&format!(" {code}"))),
            "did not expect `{code}`, found:\n  {}",
            all.join("\n  ")
        );
    }
}

/// Asserts that the stack is valid (warnings allowed).
fn expect_valid(input: &str) {
    let loaded = check_str(input);
    assert!(
        loaded.desired.is_some(),
        "expected a valid stack, found:\n  {}",
        found(&loaded).join("\n  ")
    );
}

/// A temporary directory with a stack file and the files it refers to.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        Project {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn file(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
        path
    }

    fn load(&self, stack: &str, options: impl FnOnce(&mut LoadOptions)) -> Loaded {
        let path = self.file("emrstack.toml", stack);
        let mut load_options = LoadOptions::new(path);
        options(&mut load_options);
        load(&load_options)
    }
}

// ---------------------------------------------------------------- syntax and structure

#[test]
fn toml_syntax_errors_are_all_reported() {
    let input = format!("{STACK}\n[applications.a]\ntype = SPARK\nrelease_label = \"emr-7.2.0\n");
    let loaded = check_str(&input);
    let codes: Vec<String> = found(&loaded);
    assert!(
        codes.iter().filter(|c| c.contains("toml.syntax")).count() >= 2,
        "{codes:?}"
    );
    assert_found(&loaded, "emrstack.toml", "toml.syntax", 6, 8);
}

#[test]
fn unknown_key_suggests_the_closest_key() {
    let input = spark("relase_label = \"x\"\n");
    expect(&input, "config.unknown-key", "relase_label");
    let loaded = check_str(&input);
    let help = loaded
        .diagnostics
        .iter()
        .find(|d| d.code == "config.unknown-key")
        .and_then(|d| d.help.clone());
    assert_eq!(help.as_deref(), Some("did you mean `release_label`?"));
}

#[test]
fn unknown_top_level_table() {
    expect(
        &format!("{STACK}[aplications.a]\ntype = \"SPARK\"\n"),
        "config.unknown-key",
        "aplications",
    );
}

#[test]
fn wrong_type() {
    expect(&spark("architecture = 64\n"), "config.wrong-type", "64");
}

#[test]
fn missing_required_key() {
    let input = format!("{STACK}\n[applications.a]\ntype = \"SPARK\"\n");
    expect(&input, "config.missing-key", "[applications.a]");
}

#[test]
fn missing_stack_table() {
    let loaded = check_str("[applications.a]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\n");
    assert_found(&loaded, "emrstack.toml", "config.missing-key", 1, 1);
}

#[test]
fn invalid_engine_suggests_the_closest() {
    let input = format!("{STACK}\n[applications.a]\ntype = \"sprak\"\nrelease_label = \"emr-7.2.0\"\n");
    expect_severity(&input, "error", "config.invalid-value", "\"sprak\"");
    let loaded = check_str(&input);
    let help = loaded
        .diagnostics
        .iter()
        .find(|d| d.code == "config.invalid-value")
        .and_then(|d| d.help.clone());
    assert_eq!(
        help.as_deref(),
        Some("did you mean `SPARK`? (expected `SPARK` or `HIVE`, in any letter case)")
    );
    expect_severity(
        &format!("{STACK}\n[applications.a]\ntype = \"flink\"\nrelease_label = \"emr-7.2.0\"\n"),
        "error",
        "config.invalid-value",
        "\"flink\"",
    );
}

// Regression (issue 16): the API's `type` is a free string EMR Serverless
// reads in any case; the CloudFormation samples write `Spark`, the
// Terraform provider's tests `hive`.
#[test]
fn engine_in_any_letter_case_is_accepted() {
    for engine in ["Spark", "spark", "SPARK", "sPaRk", "Hive", "hive", "HIVE"] {
        let input = format!("{STACK}\n[applications.a]\ntype = \"{engine}\"\nrelease_label = \"emr-7.2.0\"\n");
        expect_valid(&input);
        expect_none(&input, &["config.invalid-value"]);
    }
}

// Regression (issue 16): disk types in every spelling of the API model's
// `DiskType` pattern; anything else is refused by the model.
#[test]
fn disk_type_in_the_api_spellings() {
    for disk_type in [
        "STANDARD",
        "Standard",
        "standard",
        "SHUFFLE_OPTIMIZED",
        "Shuffle_Optimized",
        "shuffle_optimized",
    ] {
        let input = spark(&format!(
            "initial_capacity = {{ executor = {{ worker_count = 1, cpu = 4, memory = 16, disk_type = \"{disk_type}\" }} }}\n"
        ));
        expect_valid(&input);
    }
    let input = spark(
        "initial_capacity = { executor = { worker_count = 1, cpu = 4, memory = 16, disk_type = \"sTaNdArD\" } }\n",
    );
    expect_severity(&input, "error", "config.invalid-value", "\"sTaNdArD\"");
    // The lower-case shuffle-optimized spelling is still shuffle-optimized: it allows 2000 GB.
    let input = spark(
        "initial_capacity = { executor = { worker_count = 1, cpu = 4, memory = 16, disk = \"500 GB\", disk_type = \"shuffle_optimized\" } }\n",
    );
    expect_none(&input, &["capacity.disk"]);
}

#[test]
fn resource_key() {
    let input = format!("{STACK}\n[applications.\"my app\"]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\n");
    expect(&input, "config.resource-key", "\"my app\"");
}

#[test]
fn unreadable_runtime_file() {
    expect(
        &spark("runtime_file = \"missing.json\"\n"),
        "config.read",
        "\"missing.json\"",
    );
}

#[test]
fn nesting_deeper_than_the_limit() {
    // A policy document as a JSON string: the 65th level opens at the
    // 62nd object of the condition (tests/cli_validate.rs runs the 7,300
    // levels that used to overflow the stack, in every place).
    let condition = format!("{}1{}", "{\"a\": ".repeat(70), "}".repeat(70));
    let input = format!(
        "{STACK}\n[roles.r.policies.p]\ndocument = '{{\"Version\": \"2012-10-17\", \"Statement\": [{{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\", \"Condition\": {condition}}}]}}'\n"
    );
    let loaded = check_str(&input);
    let (line, column) = position(&input, "\"Condition\"");
    let column = column + "\"Condition\": ".len() + "{\"a\": ".len() * 61;
    assert_found(&loaded, "emrstack.toml", "json.depth", line, column);
    // The same depth in TOML: the table that opens level 65 is reported
    // and emptied, so no later step walks deeper.
    let header = vec!["a"; 70].join(".");
    let input = format!("{STACK}\n[roles.r.policies.p.document.Id.{header}]\nb = 1\n");
    let (line, _) = position(&input, "[roles.r.policies");
    let column = "[roles.r.policies.p.document.Id.".len() + "a.".len() * 57 + 1;
    assert_found(&check_str(&input), "emrstack.toml", "config.depth", line, column);
}

// ---------------------------------------------------------------- variables

#[test]
fn undefined_variable_points_inside_the_string() {
    let input = spark("image_uri = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/spark:${var.tagg}\"\n");
    expect(&input, "config.undefined-variable", "${var.tagg}");
    // The value is not checked further: the variable error explains it.
    expect_none(&input, &["image.uri"]);
}

#[test]
fn malformed_variable_reference() {
    expect(&spark("network = \"${var.x\"\n"), "config.variable-syntax", "${var.x");
}

#[test]
fn empty_variable() {
    let input = format!(
        "{STACK}[vars]\nnet = \"\"\n\n[applications.a]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\nname = \"x${{var.net}}\"\n"
    );
    expect(&input, "config.empty-variable", "${var.net}");
}

#[test]
fn invalid_variable_name() {
    expect(
        &format!("{STACK}[vars]\n\"my-var\" = \"x\"\n"),
        "config.variable-name",
        "\"my-var\"",
    );
}

#[test]
fn undeclared_variable_from_a_var_file_points_into_it() {
    let project = Project::new();
    let var_file = project.file("dev.vars.toml", "# dev\nimage_tag = \"v1\"\n");
    let loaded = project.load(&format!("{STACK}[vars]\ntag = \"x\"\n"), |o| o.var_files.push(var_file));
    assert_found(&loaded, "dev.vars.toml", "config.undeclared-variable", 2, 1);
}

#[test]
fn var_file_values_must_be_strings() {
    let project = Project::new();
    let var_file = project.file("dev.vars.toml", "tag = 5\n");
    let loaded = project.load(&format!("{STACK}[vars]\ntag = \"x\"\n"), |o| o.var_files.push(var_file));
    assert_found(&loaded, "dev.vars.toml", "config.wrong-type", 1, 7);
}

#[test]
fn var_flag_without_equals() {
    let project = Project::new();
    let loaded = project.load(STACK, |o| o.vars.push("tag".into()));
    let diagnostic = loaded
        .diagnostics
        .iter()
        .find(|d| d.code == "config.invalid-var")
        .expect("config.invalid-var");
    assert!(diagnostic.span.is_none() && diagnostic.is_error());
}

// ---------------------------------------------------------------- JSON files

#[test]
fn json_syntax_error_points_into_the_file() {
    let project = Project::new();
    project.file(
        "configs/spark.json",
        "[\n  {\"classification\": \"spark-defaults\",}\n]\n",
    );
    let loaded = project.load(&spark("runtime_file = \"configs/spark.json\"\n"), |_| {});
    assert_found(&loaded, "spark.json", "json.syntax", 2, 39);
}

#[test]
fn json_duplicate_key_and_null() {
    let project = Project::new();
    project.file(
        "configs/spark.json",
        "[{\"classification\": \"spark-defaults\", \"properties\": {\"a\": \"1\", \"a\": \"2\", \"b\": null}}]",
    );
    let loaded = project.load(&spark("runtime_file = \"configs/spark.json\"\n"), |_| {});
    assert_found(&loaded, "spark.json", "json.duplicate-key", 1, 64);
    assert_found(&loaded, "spark.json", "json.null", 1, 79);
}

#[test]
fn runtime_file_structure_points_into_the_file() {
    let project = Project::new();
    project.file(
        "configs/spark.json",
        "[\n  {\"Classification\": \"spark-defaults\",\n   \"Properties\": {\"spark.executor.cores\": 4},\n   \"Extra\": 1}\n]\n",
    );
    let loaded = project.load(&spark("runtime_file = \"configs/spark.json\"\n"), |_| {});
    assert_found(&loaded, "spark.json", "config.wrong-type", 3, 43);
    assert_found(&loaded, "spark.json", "config.unknown-key", 4, 4);
}

// ---------------------------------------------------------------- stack

#[test]
fn stack_name() {
    expect("[stack]\nname = \"my stack\"\n", "stack.name", "\"my stack\"");
}

#[test]
fn stack_region() {
    expect(
        "[stack]\nname = \"s\"\nregion = \"useast1\"\n",
        "stack.region",
        "\"useast1\"",
    );
}

#[test]
fn stack_account_id() {
    expect(
        "[stack]\nname = \"s\"\naccount_id = \"1234\"\n",
        "stack.account-id",
        "\"1234\"",
    );
}

#[test]
fn stack_lock() {
    for bad in ["locks-bucket/prefix", "s3://", "s3:///prefix", "s3://my bucket/x"] {
        expect_severity(
            &format!("[stack]\nname = \"s\"\nlock = \"{bad}\"\n"),
            "error",
            "stack.lock",
            &format!("\"{bad}\""),
        );
    }
    // The key `<prefix>/<name>.lock` must fit S3's 1,024 bytes.
    let long = format!("s3://locks-bucket/{}", "p".repeat(1020));
    expect_severity(
        &format!("[stack]\nname = \"s\"\nlock = \"{long}\"\n"),
        "error",
        "stack.lock",
        "\"s3://",
    );
    for good in ["s3://locks-bucket", "s3://locks-bucket/", "s3://locks-bucket/ci/locks/"] {
        expect_valid(&format!("[stack]\nname = \"s\"\nlock = \"{good}\"\n"));
        expect_none(
            &format!("[stack]\nname = \"s\"\nlock = \"{good}\"\n"),
            &["stack.lock", "stack.lock-bucket-name"],
        );
    }
}

#[test]
fn stack_lock_under_the_artifacts() {
    // Without `lock`, the lock object goes under `artifacts`: its key must fit.
    let long = format!("s3://artifacts-bucket/{}", "p".repeat(1020));
    expect_severity(
        &format!("[stack]\nname = \"s\"\nartifacts = \"{long}\"\n"),
        "error",
        "stack.lock",
        "\"s3://",
    );
    // A location that does not parse is the artifacts rule's, reported once.
    expect_none("[stack]\nname = \"s\"\nartifacts = \"bucket/x\"\n", &["stack.lock"]);
    expect_severity(
        "[stack]\nname = \"s\"\nartifacts = \"bucket/x\"\n",
        "error",
        "stack.artifacts",
        "\"bucket/x\"",
    );
}

#[test]
fn stack_lock_bucket_name() {
    // A legacy us-east-1 bucket may have such a name: a warning only.
    for legacy in ["s3://Legacy_Bucket/locks", "s3://ab", "s3://xn--bucket"] {
        expect_warning(
            &format!("[stack]\nname = \"s\"\nlock = \"{legacy}\"\n"),
            "stack.lock-bucket-name",
            &format!("\"{legacy}\""),
        );
    }
}

// ---------------------------------------------------------------- tags (tag.*)

#[test]
fn tag_key_too_long() {
    let key = "k".repeat(129);
    expect(&spark(&format!("tags = {{ {key} = \"v\" }}\n")), "tag.key-length", &key);
}

#[test]
fn tag_key_empty() {
    expect(&spark("tags = { \"\" = \"v\" }\n"), "tag.key-length", "\"\" = ");
}

#[test]
fn tag_value_too_long() {
    let value = "v".repeat(257);
    expect(
        &spark(&format!("tags = {{ k = \"{value}\" }}\n")),
        "tag.value-length",
        &format!("\"{value}\""),
    );
}

#[test]
fn tag_characters() {
    expect(&spark("tags = { \"a#b\" = \"v\" }\n"), "tag.characters", "\"a#b\"");
}

#[test]
fn tag_reserved_prefix_in_key_any_case() {
    expect(
        &spark("tags = { \"AWS:owner\" = \"v\" }\n"),
        "tag.reserved-prefix",
        "\"AWS:owner\"",
    );
}

#[test]
fn tag_reserved_prefix_in_value() {
    expect(
        &spark("tags = { owner = \"aws:x\" }\n"),
        "tag.reserved-prefix",
        "\"aws:x\"",
    );
}

#[test]
fn tag_reserved_emrstack_key() {
    expect(
        &spark("tags = { \"emrstack:stack\" = \"x\" }\n"),
        "tag.reserved-key",
        "\"emrstack:stack\"",
    );
}

#[test]
fn too_many_tags_after_merging_stack_tags() {
    let stack_tags: String = (0..30).map(|i| format!("s{i} = \"v\"\n")).collect();
    let app_tags: String = (0..18).map(|i| format!("a{i} = \"v\"")).collect::<Vec<_>>().join(", ");
    let input = format!(
        "{STACK}[tags]\n{stack_tags}\n[applications.a]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\ntags = {{ {app_tags} }}\n"
    );
    expect(&input, "tag.too-many", "{ a0");
    // 47 tags in total is still fine.
    let app_tags: String = (0..17).map(|i| format!("a{i} = \"v\"")).collect::<Vec<_>>().join(", ");
    let input = format!(
        "{STACK}[tags]\n{stack_tags}\n[applications.a]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\ntags = {{ {app_tags} }}\n"
    );
    expect_none(&input, &["tag.too-many"]);
}

#[test]
fn empty_tag_value_is_fine() {
    expect_valid(&spark("tags = { owner = \"\" }\n"));
}

// ---------------------------------------------------------------- networks

pub(crate) fn network(subnets: &str, groups: &str) -> String {
    format!("{STACK}\n[networks.private]\nsubnet_ids = {subnets}\nsecurity_group_ids = {groups}\n")
}

#[test]
fn subnet_id_format() {
    expect(
        &network(
            "[\"subnet-0123456789abcdef0\", \"subnet-xyz\"]",
            "[\"sg-0123456789abcdef0\"]",
        ),
        "network.subnet-id",
        "\"subnet-xyz\"",
    );
}

#[test]
fn security_group_id_format() {
    expect(
        &network(
            "[\"subnet-0123456789abcdef0\", \"subnet-0123456789abcdef1\"]",
            "[\"sg-1\"]",
        ),
        "network.security-group-id",
        "\"sg-1\"",
    );
}

#[test]
fn subnet_count() {
    let many: Vec<String> = (0..17).map(|i| format!("\"subnet-{i:017x}\"")).collect();
    let input = network(&format!("[{}]", many.join(", ")), "[\"sg-0123456789abcdef0\"]");
    expect(&input, "network.subnet-count", "[\"subnet-");
    expect_severity(&input, "error", "network.subnet-count", "[\"subnet-");
    // The API model's minimum is 0: an empty list is only a warning.
    expect_warning(
        &network("[]", "[\"sg-0123456789abcdef0\"]"),
        "network.subnet-count",
        "[]",
    );
}

#[test]
fn security_group_count() {
    let many: Vec<String> = (0..6).map(|i| format!("\"sg-{i:017x}\"")).collect();
    let input = network(
        "[\"subnet-0123456789abcdef0\", \"subnet-0123456789abcdef1\"]",
        &format!("[{}]", many.join(", ")),
    );
    expect(&input, "network.security-group-count", "[\"sg-");
}

#[test]
fn duplicate_network_ids() {
    let input = network(
        "[\"subnet-0123456789abcdef0\", \"subnet-0123456789abcdef0\"]",
        "[\"sg-0123456789abcdef0\"]",
    );
    let loaded = check_str(&input);
    assert_found(&loaded, "emrstack.toml", "network.duplicate-id", 6, 43);
    // The API model does not forbid repeated IDs; emrstack sends each once.
    expect_valid(&input);
    let desired = loaded.desired.expect("valid");
    assert_eq!(desired.networks["private"].subnet_ids, vec!["subnet-0123456789abcdef0"]);
}

#[test]
fn single_subnet_is_a_warning() {
    let input = network("[\"subnet-0123456789abcdef0\"]", "[\"sg-0123456789abcdef0\"]");
    expect(&input, "network.single-subnet", "[\"subnet-");
    expect_valid(&input);
}

// ---------------------------------------------------------------- references and names

#[test]
fn undeclared_network_with_suggestion() {
    let input = format!(
        "{}\n[networks.private]\nsubnet_ids = [\"subnet-0123456789abcdef0\", \"subnet-0123456789abcdef1\"]\nsecurity_group_ids = [\"sg-0123456789abcdef0\"]\n",
        spark("network = \"privat\"\n")
    );
    expect(&input, "reference.undeclared", "\"privat\"");
    let loaded = check_str(&input);
    let help = loaded
        .diagnostics
        .iter()
        .find(|d| d.code == "reference.undeclared")
        .and_then(|d| d.help.clone());
    assert_eq!(help.as_deref(), Some("did you mean `private`?"));
}

#[test]
fn undeclared_config_repository_and_applications() {
    expect(&spark("configs = [\"nope\"]\n"), "reference.undeclared", "\"nope\"");
    expect(
        &spark("image = { repository = \"nope\", tag = \"v1\" }\n"),
        "reference.undeclared",
        "\"nope\"",
    );
    let input = format!("{}\n[roles.r]\ntrust_applications = [\"b\"]\n", spark(""));
    expect(&input, "reference.undeclared", "\"b\"");
    let input = format!(
        "{}\n[repositories.r]\nname = \"team/spark\"\napplications = [\"b\"]\n",
        spark("")
    );
    expect(&input, "reference.undeclared", "\"b\"");
}

#[test]
fn reference_to_a_broken_resource_is_not_undeclared() {
    // `b` exists but cannot be read (its value is not a table).
    let input = format!(
        "{}\n[roles.r]\ntrust_applications = [\"b\"]\n\n[applications]\nb = 5\n",
        spark("")
    );
    let loaded = check_str(&input);
    let all = found(&loaded);
    assert!(all.iter().any(|d| d.contains("config.wrong-type")), "{all:?}");
    assert!(!all.iter().any(|d| d.contains("reference.undeclared")), "{all:?}");
}

#[test]
fn duplicate_reference_is_a_warning() {
    let input = format!("{}\n[roles.r]\ntrust_applications = [\"a\", \"a\"]\n", spark(""));
    let loaded = check_str(&input);
    let (line, _) = position(&input, "trust_applications");
    assert_found(&loaded, "emrstack.toml", "reference.duplicate", line, 28);
}

#[test]
fn duplicate_application_names() {
    let input = format!(
        "{}name = \"shared\"\n\n[applications.b]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\nname = \"shared\"\n",
        spark("")
    );
    let loaded = check_str(&input);
    let (line, _) = position(&input, "[applications.b]");
    assert_found(&loaded, "emrstack.toml", "name.duplicate", line + 3, 8);
    let duplicate = loaded
        .diagnostics
        .iter()
        .find(|d| d.code == "name.duplicate")
        .expect("duplicate");
    assert_eq!(duplicate.labels[0].message, "first used here");
}

#[test]
fn duplicate_default_name_and_explicit_name() {
    // `s-a` is the default name of `applications.a`.
    let input = format!(
        "{}\n[applications.b]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\nname = \"s-a\"\n",
        spark("")
    );
    expect(&input, "name.duplicate", "\"s-a\"");
}

#[test]
fn duplicate_role_names_ignore_case() {
    let input = format!("{STACK}\n[roles.a]\nname = \"Etl\"\n\n[roles.b]\nname = \"etl\"\n");
    expect(&input, "name.duplicate", "\"etl\"");
}

#[test]
fn duplicate_repository_names() {
    let input =
        format!("{STACK}\n[repositories.a]\nname = \"team/spark\"\n\n[repositories.b]\nname = \"team/spark\"\n");
    let loaded = check_str(&input);
    assert_found(&loaded, "emrstack.toml", "name.duplicate", 9, 8);
}

// ---------------------------------------------------------------- repositories

#[test]
fn repository_name() {
    expect(
        &format!("{STACK}\n[repositories.r]\nname = \"Team/Spark\"\n"),
        "repository.name",
        "\"Team/Spark\"",
    );
}

// ---------------------------------------------------------------- roles and policies

pub(crate) fn role(body: &str) -> String {
    format!("{STACK}\n[roles.r]\n{body}")
}

#[test]
fn role_name() {
    expect(&role("name = \"bad name\"\n"), "role.name", "\"bad name\"");
}

#[test]
fn default_role_name_too_long() {
    let key = "r".repeat(64);
    let input = format!("{STACK}\n[roles.{key}]\n");
    expect(&input, "role.name", &format!("[roles.{key}]"));
}

#[test]
fn role_path() {
    expect(&role("path = \"emr\"\n"), "role.path", "\"emr\"");
}

#[test]
fn role_description() {
    let long = "d".repeat(1001);
    expect(
        &role(&format!("description = \"{long}\"\n")),
        "role.description",
        "\"ddd",
    );
}

#[test]
fn role_max_session_duration() {
    expect(&role("max_session_duration = 60\n"), "role.max-session-duration", "60");
}

#[test]
fn role_permissions_boundary() {
    expect(
        &role("permissions_boundary = \"boundary\"\n"),
        "role.permissions-boundary",
        "\"boundary\"",
    );
}

#[test]
fn role_managed_policy_arn() {
    expect(
        &role("managed_policy_arns = [\"arn:aws:s3:::bucket\"]\n"),
        "role.managed-policy-arn",
        "\"arn:aws:s3:::bucket\"",
    );
}

#[test]
fn role_managed_policy_count() {
    let arns: Vec<String> = (0..21)
        .map(|i| format!("\"arn:aws:iam::123456789012:policy/p{i}\""))
        .collect();
    let input = role(&format!("managed_policy_arns = [{}]\n", arns.join(", ")));
    expect(&input, "role.managed-policy-count", "[\"arn");
    let loaded = check_str(&input);
    assert!(
        loaded
            .diagnostics
            .iter()
            .any(|d| d.code == "role.managed-policy-count" && d.is_error())
    );
    // Above the default quota of 10 is a warning.
    let arns: Vec<String> = (0..11)
        .map(|i| format!("\"arn:aws:iam::123456789012:policy/p{i}\""))
        .collect();
    let input = role(&format!("managed_policy_arns = [{}]\n", arns.join(", ")));
    expect(&input, "role.managed-policy-count", "[\"arn");
    expect_valid(&input);
}

pub(crate) const STATEMENT: &str = "{ Effect = \"Allow\", Action = \"s3:GetObject\", Resource = \"*\" }";

#[test]
fn policy_name() {
    let input = role(&format!(
        "[roles.r.policies.\"bad name\"]\ndocument = {{ Version = \"2012-10-17\", Statement = [{STATEMENT}] }}\n"
    ));
    expect(&input, "policy.name", "\"bad name\"");
}

#[test]
fn policy_source_missing_or_both() {
    expect(&role("[roles.r.policies.p]\n"), "policy.source", "p]");
    let input = role("[roles.r.policies.p]\ndocument = \"{}\"\nfile = \"p.json\"\n");
    expect(&input, "policy.source", "\"p.json\"");
}

#[test]
fn policy_document_must_be_an_object() {
    expect(
        &role("[roles.r.policies.p]\ndocument = \"[1]\"\n"),
        "policy.document",
        "[1]",
    );
}

#[test]
fn policy_version() {
    let input = role(&format!(
        "[roles.r.policies.p]\ndocument = {{ Version = \"2020-01-01\", Statement = [{STATEMENT}] }}\n"
    ));
    expect(&input, "policy.version", "\"2020-01-01\"");
    let input = role(&format!(
        "[roles.r.policies.p]\ndocument = {{ Statement = [{STATEMENT}] }}\n"
    ));
    expect(&input, "policy.version", "{ Statement");
}

#[test]
fn policy_statement() {
    expect(
        &role("[roles.r.policies.p]\ndocument = { Version = \"2012-10-17\" }\n"),
        "policy.statement",
        "{ Version",
    );
    expect(
        &role("[roles.r.policies.p]\ndocument = { Version = \"2012-10-17\", Statement = [] }\n"),
        "policy.statement",
        "[]",
    );
}

#[test]
fn policy_effect_action_resource_principal_sid_in_a_json_string() {
    let input = role(
        "[roles.r.policies.p]\ndocument = '{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"a-b\", \"Effect\": \"allow\", \"Action\": \"s3GetObject\", \"Principal\": \"*\"}]}'\n",
    );
    expect(&input, "policy.effect", "\"allow\"");
    expect(&input, "policy.action", "\"s3GetObject\"");
    expect(&input, "policy.principal", "\"Principal\"");
    expect(&input, "policy.sid", "\"a-b\"");
    expect(&input, "policy.resource", "{\"Sid\"");
}

/// A trust policy a stack states: a principal and no resource, as IAM
/// requires; the console's empty `Sid` is accepted; placeholders name
/// declared applications; not with `trust_applications`.
#[test]
fn role_trust_policy() {
    let stated = |document: &str| format!("{}\n[roles.r]\ntrust_policy = {{ document = {document} }}\n", spark(""));
    expect_valid(&stated(
        r#"{ Version = "2012-10-17", Statement = [{ Sid = "", Effect = "Allow", Principal = { Service = "emr-serverless.amazonaws.com" }, Action = "sts:AssumeRole", Condition = { ArnLike = { "aws:SourceArn" = "${application.a.arn}/*" } } }] }"#,
    ));
    let input = stated(
        r#"{ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Resource = "*" }, { Effect = "Allow", Principal = { Servce = "x" }, Action = "sts:AssumeRole" }] }"#,
    );
    expect(&input, "policy.resource", "Resource");
    expect(&input, "policy.principal", "{ Effect = \"Allow\", Action");
    expect(&input, "policy.unknown-key", "Servce");
    expect_warning(
        &stated(
            r#"{ Version = "2012-10-17", Statement = [{ Effect = "Allow", Principal = { Service = "ec2.amazonaws.com" }, Action = "sts:AssumeRole" }] }"#,
        ),
        "role.trust-policy-service",
        "{ document",
    );
    let both = format!(
        "{}\n[roles.r]\ntrust_applications = [\"a\"]\ntrust_policy = {{ file = \"trust.json\" }}\n",
        spark("")
    );
    expect(&both, "role.trust-policy-conflict", "[\"a\"]");
    expect(
        &format!("{}\n[roles.r]\ntrust_policy = {{}}\n", spark("")),
        "policy.source",
        "{}",
    );
}

#[test]
fn policy_characters() {
    let input = role(
        "[roles.r.policies.p]\ndocument = { Version = \"2012-10-17\", Statement = [{ Sid = \"A\", Effect = \"Allow\", Action = \"s3:GetObject\", Resource = \"arn:aws:s3:::bücket→\" }] }\n",
    );
    expect(&input, "policy.characters", "\"arn:aws:s3:::bücket→\"");
}

#[test]
fn policy_unknown_key() {
    let input = role("[roles.r.policies.p]\ndocument = { Version = \"2012-10-17\", Statment = [] }\n");
    expect(&input, "policy.unknown-key", "Statment");
}

#[test]
fn policy_placeholder_must_name_a_declared_application_arn() {
    let input = format!(
        "{}\n[roles.r.policies.p]\ndocument = {{ Version = \"2012-10-17\", Statement = [{{ Effect = \"Allow\", Action = \"emr-serverless:GetJobRun\", Resource = [\"${{application.b.arn}}/*\", \"${{application.a.id}}\"] }}] }}\n",
        spark("")
    );
    expect(&input, "reference.undeclared", "\"${application.b.arn}/*\"");
    expect(&input, "policy.placeholder", "\"${application.a.id}\"");
}

#[test]
fn reference_placeholder_outside_policy_is_an_error() {
    let input = spark(
        "runtime = [{ classification = \"spark-defaults\", properties = { \"x.arn\" = \"${application.a.arn}\" } }]\n",
    );
    expect(
        &input,
        "reference.placeholder-outside-policy",
        "\"${application.a.arn}\"",
    );
}

#[test]
fn policy_file_positions_point_into_the_file() {
    let project = Project::new();
    project.file(
        "policies/p.json",
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"NotAction\": \"s3:*\", \"Action\": \"s3:Get*\", \"Resource\": \"*\"}]\n}\n",
    );
    let loaded = project.load(&role("[roles.r.policies.p]\nfile = \"policies/p.json\"\n"), |_| {});
    assert_found(&loaded, "p.json", "policy.action", 3, 37);
}

#[test]
fn policy_size() {
    let actions: Vec<String> = (0..400).map(|i| format!("\"s3:GetObjectVersion{i:04}\"")).collect();
    let input = role(&format!(
        "[roles.r.policies.big]\ndocument = {{ Version = \"2012-10-17\", Statement = [{{ Effect = \"Allow\", Action = [{}], Resource = \"*\" }}] }}\n",
        actions.join(", ")
    ));
    expect(&input, "policy.size", "big]");
}

// ---------------------------------------------------------------- applications

#[test]
fn application_name() {
    expect(&spark("name = \"my app!\"\n"), "application.name", "\"my app!\"");
}

#[test]
fn release_format() {
    // Outside the API model's `ReleaseLabel` pattern: refused by the service.
    expect_severity(&spark_on("emr 7.2.0", ""), "error", "release.format", "\"emr 7.2.0\"");
    // Inside it but of no documented form: emrstack cannot check it, AWS may accept it.
    expect_warning(&spark_on("emr-6.6", ""), "release.format", "\"emr-6.6\"");
    expect_warning(
        &spark_on("emr-7.2.0-latest", ""),
        "release.format",
        "\"emr-7.2.0-latest\"",
    );
}

// Regression (issue 16): emr-7.13.0 is a real release (the one sessions need).
#[test]
fn current_releases_are_known() {
    for release in [
        "emr-7.13.0",
        "emr-7.14.0",
        "emr-spark-8.0.0",
        "emr-spark-8.1.0",
        "emr-spark-8.0-preview",
    ] {
        let input = spark_on(release, "");
        expect_valid(&input);
        expect_none(&input, &["release.unknown", "release.format"]);
    }
}

#[test]
fn hive_on_the_spark_runtime() {
    let input = format!("{STACK}\n[applications.h]\ntype = \"HIVE\"\nrelease_label = \"emr-spark-8.0.0\"\n");
    expect_warning(&input, "release.engine", "\"emr-spark-8.0.0\"");
}

#[test]
fn release_older_than_emr_serverless() {
    expect(&spark_on("emr-6.5.0", ""), "release.unsupported", "\"emr-6.5.0\"");
}

#[test]
fn unknown_newer_release_is_a_warning() {
    let input = spark_on("emr-7.20.0", "");
    expect_warning(&input, "release.unknown", "\"emr-7.20.0\"");
    expect_warning(
        &spark_on("emr-spark-8.9.0", ""),
        "release.unknown",
        "\"emr-spark-8.9.0\"",
    );
}

#[test]
fn worker_type_of_the_other_engine() {
    let input = hive("initial_capacity = { executor = { worker_count = 1, cpu = 2, memory = 4 } }\n");
    expect_severity(&input, "error", "application.worker-type", "{ worker_count");
    let loaded = check_str(&input);
    let help = loaded
        .diagnostics
        .iter()
        .find(|d| d.code == "application.worker-type")
        .and_then(|d| d.help.clone());
    assert_eq!(
        help.as_deref(),
        Some("HIVE applications have `hive_driver` (or `driver`) and `tez_task`; did you mean `tez_task`?")
    );
    expect(
        &spark(
            "worker_type_specifications = { tez_task = { image_uri = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/s:v1\" } }\n",
        ),
        "application.worker-type",
        "{ image_uri",
    );
}

// Regression (issue 16): worker-type keys in every API spelling. `DRIVER` is
// the Hive driver in the user guide's Hive `initialCapacity` example.
#[test]
fn worker_type_keys_in_the_api_spellings() {
    for (key, other) in [("driver", "executor"), ("Driver", "Executor"), ("DRIVER", "EXECUTOR")] {
        expect_valid(&spark(&format!(
            "initial_capacity = {{ {key} = {{ worker_count = 1, cpu = 4, memory = 16 }}, {other} = {{ worker_count = 1, cpu = 4, memory = 16 }} }}\n"
        )));
    }
    for (key, other) in [
        ("hive_driver", "tez_task"),
        ("HiveDriver", "TezTask"),
        ("HIVE_DRIVER", "TEZ_TASK"),
        ("DRIVER", "TEZ_TASK"),
        ("driver", "tez_task"),
        ("Driver", "TezTask"),
    ] {
        expect_valid(&hive(&format!(
            "initial_capacity = {{ {key} = {{ worker_count = 1, cpu = 2, memory = 4 }}, {other} = {{ worker_count = 1, cpu = 2, memory = 4 }} }}\n"
        )));
    }
    expect_valid(&spark(
        "worker_type_specifications = { Driver = { image_uri = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/spark:v1\" }, Executor = { image_uri = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/spark:v1\" } }\n",
    ));
    // A key of no spelling is an unknown key, with the closest spelling.
    let input = spark("initial_capacity = { Drivr = { worker_count = 1, cpu = 4, memory = 16 } }\n");
    expect_severity(&input, "error", "config.unknown-key", "Drivr");
}

#[test]
fn two_spellings_of_one_worker_type() {
    let input = hive(
        "initial_capacity = { DRIVER = { worker_count = 1, cpu = 2, memory = 4 }, HiveDriver = { worker_count = 1, cpu = 2, memory = 4 } }\n",
    );
    expect_severity(&input, "error", "application.worker-type", "HiveDriver");
}

#[test]
fn auto_stop_idle_timeout() {
    expect(
        &spark("auto_stop = { idle_timeout_minutes = 0 }\n"),
        "auto-stop.idle-timeout",
        "0 }",
    );
    expect(
        &spark("auto_stop = { idle_timeout_minutes = 10081 }\n"),
        "auto-stop.idle-timeout",
        "10081",
    );
}

#[test]
fn scheduler_ranges() {
    expect(
        &spark("scheduler = { max_concurrent_runs = 1001 }\n"),
        "scheduler.max-concurrent-runs",
        "1001",
    );
    expect(
        &spark("scheduler = { queue_timeout_minutes = 10 }\n"),
        "scheduler.queue-timeout",
        "10 }",
    );
}

#[test]
fn interactive_on_hive() {
    expect_warning(
        &hive(&format!(
            "interactive = {{ studio_enabled = true }}\n{}",
            "runtime = [{ classification = \"hive-site\", properties = { \"hive.exec.scratchdir\" = \"s3://b/s\", \"hive.metastore.warehouse.dir\" = \"s3://b/w\" } }]\n"
        )),
        "interactive.engine",
        "{ studio_enabled",
    );
}

#[test]
fn kms_key_arn() {
    expect(
        &spark("disk_encryption = { encryption_key_arn = \"alias/x\" }\n"),
        "kms.key-arn",
        "\"alias/x\"",
    );
    expect(
        &spark("monitoring = { s3_log_uri = \"s3://logs/x/\", s3_encryption_key_arn = \"key\" }\n"),
        "kms.key-arn",
        "\"key\"",
    );
}

#[test]
fn disk_encryption_context() {
    let entries: Vec<String> = (0..9).map(|i| format!("k{i} = \"v\"")).collect();
    let input = spark(&format!(
        "disk_encryption = {{ encryption_key_arn = \"arn:aws:kms:us-east-1:123456789012:key/abc\", encryption_context = {{ {} }} }}\n",
        entries.join(", ")
    ));
    expect(&input, "disk-encryption.context", "{ k0");
}

#[test]
fn identity_center_instance_arn() {
    expect(
        &spark_on(
            "emr-7.8.0",
            "identity_center = { instance_arn = \"arn:aws:sso:::instance/x\" }\n",
        ),
        "identity-center.instance-arn",
        "\"arn:aws:sso",
    );
}

// ---------------------------------------------------------------- release gates (release.feature)

#[test]
fn image_on_emr_6_8_0() {
    expect_warning(
        &spark_on(
            "emr-6.8.0",
            "image_uri = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/spark:v1\"\n",
        ),
        "release.feature",
        "\"123456789012",
    );
}

#[test]
fn worker_images_on_emr_6_8_0() {
    let input = spark_on(
        "emr-6.8.0",
        "worker_type_specifications = { driver = { image_uri = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/spark:v1\" } }\n",
    );
    expect_warning(&input, "release.feature", "{ driver");
}

// Regression (issue 16): terraform-provider-aws's TestAccEMRServerlessApplication_arch
// creates an ARM64 application on emr-6.6.0 against real AWS.
#[test]
fn arm64_before_emr_6_9_0_is_a_warning() {
    expect_warning(
        &spark_on("emr-6.6.0", "architecture = \"ARM64\"\n"),
        "release.feature",
        "\"ARM64\"",
    );
}

#[test]
fn arm64_on_emr_6_8_0() {
    expect_warning(
        &spark_on("emr-6.8.0", "architecture = \"ARM64\"\n"),
        "release.feature",
        "\"ARM64\"",
    );
    expect_none(
        &spark_on("emr-6.9.0", "architecture = \"ARM64\"\n"),
        &["release.feature"],
    );
}

#[test]
fn livy_on_emr_6_13_0() {
    expect_warning(
        &spark_on("emr-6.13.0", "interactive = { livy_endpoint_enabled = true }\n"),
        "release.feature",
        "true",
    );
    expect_none(
        &spark_on("emr-6.14.0", "interactive = { livy_endpoint_enabled = true }\n"),
        &["release.feature"],
    );
}

#[test]
fn sessions_need_emr_7_13_0() {
    expect_warning(
        &spark_on("emr-7.12.0", "interactive = { session_enabled = true }\n"),
        "release.feature",
        "true",
    );
}

#[test]
fn scheduler_on_emr_6_15_0() {
    expect_warning(&spark_on("emr-6.15.0", "scheduler = {}\n"), "release.feature", "{}");
}

#[test]
fn prometheus_on_emr_7_0_0() {
    let url = "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write";
    expect_warning(
        &spark_on(
            "emr-7.0.0",
            &format!("monitoring = {{ prometheus_remote_write_url = \"{url}\" }}\n"),
        ),
        "release.feature",
        "\"https",
    );
    expect_none(
        &spark_on(
            "emr-7.1.0",
            &format!("monitoring = {{ prometheus_remote_write_url = \"{url}\" }}\n"),
        ),
        &["release.feature"],
    );
}

#[test]
fn identity_center_on_emr_7_7_0() {
    let input = spark_on(
        "emr-7.7.0",
        "identity_center = { instance_arn = \"arn:aws:sso:::instance/ssoins-1234567890abcdef\" }\n",
    );
    expect_warning(&input, "release.feature", "{ instance_arn");
}

#[test]
fn shuffle_optimized_disks_on_emr_7_0_0() {
    let capacity = "initial_capacity = { executor = { worker_count = 1, cpu = 4, memory = 16, disk = \"500 GB\", disk_type = \"SHUFFLE_OPTIMIZED\" } }\n";
    expect_warning(
        &spark_on("emr-7.0.0", capacity),
        "release.feature",
        "\"SHUFFLE_OPTIMIZED\"",
    );
    expect_none(&spark_on("emr-7.1.0", capacity), &["release.feature", "capacity.disk"]);
}

pub(crate) fn spark_defaults(properties: &str) -> String {
    format!("runtime = [{{ classification = \"spark-defaults\", properties = {{ {properties} }} }}]\n")
}

#[test]
fn lake_formation_property_on_emr_7_1_0() {
    let input = spark_on(
        "emr-7.1.0",
        &spark_defaults("\"spark.emr-serverless.lakeformation.enabled\" = \"true\""),
    );
    expect_warning(&input, "release.feature", "\"true\"");
}

#[test]
fn log4j2_classification_on_emr_6_7_0() {
    let input = spark_on(
        "emr-6.7.0",
        "runtime = [{ classification = \"spark-driver-log4j2\", properties = { \"rootLogger.level\" = \"info\" } }]\n",
    );
    expect_warning(&input, "release.feature", "\"spark-driver-log4j2\"");
}

#[test]
fn java_17_on_emr_6_10_0() {
    let input = spark_on(
        "emr-6.10.0",
        &spark_defaults("\"spark.executorEnv.JAVA_HOME\" = \"/usr/lib/jvm/java-17-amazon-corretto.x86_64/\""),
    );
    expect_warning(&input, "release.feature", "\"/usr/lib/jvm");
}

#[test]
fn mutual_tls_and_access_grants_on_emr_6_14_0() {
    let input = spark_on(
        "emr-6.14.0",
        &spark_defaults("\"spark.ssl.internode.enabled\" = \"true\""),
    );
    expect_warning(&input, "release.feature", "\"true\"");
    let input = spark_on(
        "emr-6.14.0",
        &spark_defaults("\"spark.hadoop.fs.s3.s3AccessGrants.enabled\" = \"true\""),
    );
    expect_warning(&input, "release.feature", "\"true\"");
}

#[test]
fn property_removed_after_6_10() {
    let input = hive(
        "runtime = [{ classification = \"tez-site\", properties = { \"tez.am.speculation.enabled\" = \"true\" } }]\n",
    );
    expect(&input, "release.property-removed", "\"tez.am.speculation.enabled\"");
}

// ---------------------------------------------------------------- cross-field

#[test]
fn java_home_for_the_wrong_architecture() {
    let input = spark(&format!(
        "architecture = \"ARM64\"\n{}",
        spark_defaults(
            "\"spark.emr-serverless.driverEnv.JAVA_HOME\" = \"/usr/lib/jvm/java-17-amazon-corretto.x86_64/\""
        )
    ));
    expect_warning(&input, "application.java-home", "\"/usr/lib/jvm");
    let input = spark(&spark_defaults(
        "\"spark.executorEnv.JAVA_HOME\" = \"/usr/lib/jvm/java-17-amazon-corretto.aarch64/\"",
    ));
    expect_warning(&input, "application.java-home", "\"/usr/lib/jvm");
}

#[test]
fn lake_formation_with_a_custom_image() {
    let input = spark(&format!(
        "image_uri = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/spark:v1\"\n{}",
        spark_defaults("\"spark.emr-serverless.lakeformation.enabled\" = \"true\"")
    ));
    expect_warning(&input, "lake-formation.custom-image", "\"123456789012");
}

// ---------------------------------------------------------------- images

#[test]
fn image_and_image_uri_together() {
    let input = spark(
        "image = { uri = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/spark:v1\" }\nimage_uri = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/spark:v2\"\n",
    );
    expect(
        &input,
        "image.conflict",
        "\"123456789012.dkr.ecr.us-east-1.amazonaws.com/spark:v2\"",
    );
}

#[test]
fn image_with_worker_type_specifications() {
    let input = spark(
        "image_uri = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/spark:v1\"\nworker_type_specifications = { driver = { image_uri = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/spark:v2\" } }\n",
    );
    expect(&input, "image.conflict", "{ driver");
}

#[test]
fn image_uri_with_repository() {
    let input = spark("image = { uri = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/spark:v1\", tag = \"v2\" }\n");
    expect(&input, "image.conflict", "\"v2\"");
}

#[test]
fn image_without_source() {
    expect(
        &spark("image = { pin_digest = true }\n"),
        "image.incomplete",
        "{ pin_digest",
    );
    let input = format!(
        "{}\n[repositories.r]\nname = \"team/spark\"\napplications = [\"a\"]\n",
        spark("image = { repository = \"r\" }\n")
    );
    expect(&input, "image.incomplete", "\"r\" }");
}

#[test]
fn image_uri_form() {
    expect(
        &spark("image_uri = \"docker.io/library/spark:3\"\n"),
        "image.uri",
        "\"docker.io",
    );
    expect(
        &spark("image_uri = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/spark\"\n"),
        "image.uri",
        "\"1234",
    );
}

#[test]
fn image_region_differs_from_the_stack() {
    expect(
        &spark("image_uri = \"123456789012.dkr.ecr.us-west-2.amazonaws.com/spark:v1\"\n"),
        "image.region",
        "\"1234",
    );
}

#[test]
fn image_region_uses_the_region_flag() {
    let input = spark("image_uri = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/spark:v1\"\n");
    let mut options = LoadOptions::new("emrstack.toml");
    options.region = Some("eu-west-1".into());
    let loaded = load_str(Path::new("emrstack.toml"), &input, &options);
    let (line, column) = position(&input, "\"1234");
    assert_found(&loaded, "emrstack.toml", "image.region", line, column);
}

#[test]
fn image_tag() {
    let input = format!(
        "{}\n[repositories.r]\nname = \"team/spark\"\napplications = [\"a\"]\n",
        spark("image = { repository = \"r\", tag = \"-bad\" }\n")
    );
    expect(&input, "image.tag", "\"-bad\"");
}

#[test]
fn repository_that_does_not_grant_the_application() {
    let input = format!(
        "{}\n[repositories.r]\nname = \"team/spark\"\n",
        spark("image = { repository = \"r\", tag = \"v1\" }\n")
    );
    expect(&input, "image.not-granted", "\"r\"");
    expect_valid(&input);
}

// ---------------------------------------------------------------- capacity (V-CAP)

pub(crate) fn worker(cpu: &str, memory: &str, extra: &str) -> String {
    spark(&format!(
        "[applications.a.initial_capacity.executor]\nworker_count = 1\ncpu = {cpu}\nmemory = {memory}\n{extra}"
    ))
}

#[test]
fn capacity_format() {
    expect(&worker("\"4 cores\"", "16", ""), "capacity.format", "\"4 cores\"");
    expect(&worker("4", "\"16G\"", ""), "capacity.format", "\"16G\"");
    expect(
        &spark("maximum_capacity = { cpu = \"lots\", memory = 10 }\n"),
        "capacity.format",
        "\"lots\"",
    );
}

#[test]
fn capacity_cpu() {
    expect(&worker("\"3vCPU\"", "8", ""), "capacity.cpu", "\"3vCPU\"");
}

#[test]
fn capacity_memory_range() {
    expect(&worker("\"4vCPU\"", "\"31GB\"", ""), "capacity.memory", "\"31GB\"");
    expect(&worker("1", "\"9 GB\"", ""), "capacity.memory", "\"9 GB\"");
}

#[test]
fn capacity_memory_step() {
    expect(
        &worker("\"8 vCPU\"", "\"18 GB\"", ""),
        "capacity.memory-step",
        "\"18 GB\"",
    );
    expect(
        &worker("\"16 vCPU\"", "\"36 GB\"", ""),
        "capacity.memory-step",
        "\"36 GB\"",
    );
}

#[test]
fn capacity_disk() {
    expect(&worker("4", "16", "disk = \"19 GB\"\n"), "capacity.disk", "\"19 GB\"");
    expect(&worker("4", "16", "disk = \"201 GB\"\n"), "capacity.disk", "\"201 GB\"");
    expect(
        &worker("4", "16", "disk = \"2001 GB\"\ndisk_type = \"SHUFFLE_OPTIMIZED\"\n"),
        "capacity.disk",
        "\"2001 GB\"",
    );
}

#[test]
fn capacity_worker_count() {
    let input = spark("initial_capacity = { executor = { worker_count = 0, cpu = 4, memory = 16 } }\n");
    expect(&input, "capacity.worker-count", "0,");
}

#[test]
fn initial_capacity_beyond_maximum() {
    let input = spark(
        "maximum_capacity = { cpu = \"8 vCPU\", memory = \"64 GB\", disk = \"100 GB\" }\n[applications.a.initial_capacity.executor]\nworker_count = 3\ncpu = 4\nmemory = 16\n",
    );
    expect_warning(&input, "capacity.exceeds-maximum", "\"8 vCPU\"");
    // 3 workers x 20 GB default disk = 60 GB, within 100 GB.
    let loaded = check_str(&input);
    assert_eq!(
        loaded
            .diagnostics
            .iter()
            .filter(|d| d.code == "capacity.exceeds-maximum")
            .count(),
        1
    );
}

#[test]
fn spark_memory_overhead_beyond_the_worker() {
    let input = format!(
        "{}\nruntime = [{{ classification = \"spark-defaults\", properties = {{ \"spark.executor.memory\" = \"28g\" }} }}]\n[applications.a.initial_capacity.executor]\nworker_count = 1\ncpu = 4\nmemory = 30\n",
        spark("")
    );
    expect_warning(&input, "capacity.spark-memory", "\"28g\"");
    let passing = input.replace("\"28g\"", "\"27g\"");
    expect_none(&passing, &["capacity.spark-memory", "capacity.spark-container"]);
}

#[test]
fn default_spark_container_on_a_small_worker() {
    let input = spark("[applications.a.initial_capacity.driver]\nworker_count = 1\ncpu = 2\nmemory = 4\n");
    expect(
        &input,
        "capacity.spark-container",
        "[applications.a.initial_capacity.driver]",
    );
    expect_valid(&input);
}

#[test]
fn quota_warning_for_two_applications() {
    let input = format!(
        "{}\n[applications.b]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\ninitial_capacity = {{ executor = {{ worker_count = 5, cpu = 4, memory = 16 }} }}\n",
        spark("initial_capacity = { executor = { worker_count = 5, cpu = 4, memory = 16 } }\n")
    );
    expect(&input, "quota.vcpu", "{ executor");
    expect_valid(&input);
}

// ---------------------------------------------------------------- runtime configuration (V-CFG)

pub(crate) fn runtime(entries: &str) -> String {
    spark(&format!("runtime = [{entries}]\n"))
}

#[test]
fn classification_name_blank() {
    expect(&runtime("{ classification = \" \" }"), "classification.name", "\" \"");
}

#[test]
fn classification_unknown_with_suggestion() {
    let input = runtime("{ classification = \"spark-default\" }");
    expect(&input, "classification.unknown", "\"spark-default\"");
    let loaded = check_str(&input);
    let help = loaded
        .diagnostics
        .iter()
        .find(|d| d.code == "classification.unknown")
        .and_then(|d| d.help.clone());
    assert_eq!(help.as_deref(), Some("did you mean `spark-defaults`?"));
}

#[test]
fn classification_emr_on_ec2_only() {
    expect(
        &runtime("{ classification = \"yarn-site\" }"),
        "classification.emr-on-ec2-only",
        "\"yarn-site\"",
    );
    expect(
        &runtime("{ classification = \"presto-config\" }"),
        "classification.emr-on-ec2-only",
        "\"presto-config\"",
    );
}

#[test]
fn classification_engine_mismatch() {
    expect(
        &hive("runtime = [{ classification = \"spark-defaults\" }]\n"),
        "classification.engine",
        "\"spark-defaults\"",
    );
    expect(
        &runtime("{ classification = \"tez-site\" }"),
        "classification.engine",
        "\"tez-site\"",
    );
    // Spark reads `hive-site` for the Glue catalog.
    expect_none(
        &runtime(
            "{ classification = \"hive-site\", properties = { \"hive.metastore.glue.catalogid\" = \"123456789012\" } }",
        ),
        &["classification.engine"],
    );
}

#[test]
fn forbidden_log4j2_keys() {
    let input = runtime(
        "{ classification = \"spark-executor-log4j2\", properties = { \"appender.console.type\" = \"Console\" } }",
    );
    expect_warning(&input, "classification.log4j2-key", "\"appender.console.type\"");
}

#[test]
fn hive_required_properties() {
    expect(&hive(""), "classification.hive-required", "\"HIVE\"");
}

#[test]
fn property_key_and_value_limits() {
    let long = "x".repeat(1025);
    expect(
        &runtime(&format!(
            "{{ classification = \"spark-defaults\", properties = {{ \"{long}\" = \"v\" }} }}"
        )),
        "classification.property-key",
        &format!("\"{long}\""),
    );
    expect(
        &runtime(&format!(
            "{{ classification = \"spark-defaults\", properties = {{ k = \"{long}\" }} }}"
        )),
        "classification.property-value",
        &format!("\"{long}\""),
    );
    expect(
        &runtime("{ classification = \"spark-defaults\", properties = { k = \" \" } }"),
        "classification.property-value",
        "\" \"",
    );
}

#[test]
fn too_many_properties_after_merging() {
    let bundle: Vec<String> = (0..60).map(|i| format!("\"p{i}\" = \"v\"")).collect();
    let own: Vec<String> = (60..101).map(|i| format!("\"p{i}\" = \"v\"")).collect();
    let input = format!(
        "{STACK}\n[configs.c]\nruntime = [{{ classification = \"spark-defaults\", properties = {{ {} }} }}]\n\n[applications.a]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\nconfigs = [\"c\"]\nruntime = [{{ classification = \"spark-defaults\", properties = {{ {} }} }}]\n",
        bundle.join(", "),
        own.join(", ")
    );
    let (line, _) = position(&input, "configs = [\"c\"]");
    let loaded = check_str(&input);
    assert_found(
        &loaded,
        "emrstack.toml",
        "classification.too-many-properties",
        line + 1,
        31,
    );
}

#[test]
fn too_many_classifications() {
    let entries: Vec<String> = (0..101)
        .map(|_| "{ classification = \"spark-defaults\" }".to_string())
        .collect();
    // Duplicates merge, so use distinct (unknown) names.
    let entries: Vec<String> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| e.replace("spark-defaults", &format!("c{i}")))
        .collect();
    let input = runtime(&entries.join(", "));
    expect(&input, "classification.too-many", "\"c100\"");
}

#[test]
fn duplicate_classification_is_a_warning() {
    let input = runtime("{ classification = \"spark-defaults\" }, { classification = \"spark-defaults\" }");
    let loaded = check_str(&input);
    let (line, _) = position(&input, "runtime");
    assert_found(&loaded, "emrstack.toml", "classification.duplicate", line, 70);
}

#[test]
fn secrets_are_noted_and_must_name_a_secret() {
    let input = runtime(
        "{ classification = \"spark-defaults\", properties = { \"spark.x.password\" = \"EMR.secret@db-password-AbCdEf\" } }",
    );
    expect(&input, "classification.secret", "\"EMR.secret@db");
    expect_valid(&input);
    let input =
        runtime("{ classification = \"spark-defaults\", properties = { \"spark.x.password\" = \"EMR.secret@\" } }");
    expect(&input, "classification.secret-reference", "\"EMR.secret@\"");
}

// ---------------------------------------------------------------- monitoring (V-MON)

pub(crate) fn monitoring(table: &str) -> String {
    spark(&format!("monitoring = {table}\n"))
}

#[test]
fn s3_log_uri() {
    expect_warning(
        &monitoring("{ s3_log_uri = \"logs/emr\" }"),
        "monitoring.s3-uri",
        "\"logs/emr\"",
    );
}

#[test]
fn log_group_and_stream_prefix() {
    expect(
        &monitoring("{ cloudwatch = { log_group_name = \"my group\" } }"),
        "monitoring.log-group",
        "\"my group\"",
    );
    expect(
        &monitoring("{ cloudwatch = { log_stream_name_prefix = \"a:b\" } }"),
        "monitoring.log-stream-prefix",
        "\"a:b\"",
    );
}

#[test]
fn log_types_values_and_counts() {
    expect_severity(
        &monitoring("{ cloudwatch = { log_types = { spark_driver = [\"stdlog\"] } } }"),
        "error",
        "monitoring.log-type",
        "\"stdlog\"",
    );
    // A value the API lists, but the guide not for this worker type: a warning.
    expect_warning(
        &monitoring("{ cloudwatch = { log_types = { spark_driver = [\"hive_log\"] } } }"),
        "monitoring.log-type",
        "\"hive_log\"",
    );
    expect(
        &monitoring("{ cloudwatch = { log_types = { spark_driver = [] } } }"),
        "monitoring.log-types",
        "[]",
    );
    // Values are case-insensitive.
    expect_valid(&monitoring(
        "{ cloudwatch = { log_types = { spark_driver = [\"STDOUT\", \"stderr\"] } } }",
    ));
    // Regression (issue 16): the API's upper-case keys, as CloudFormation and
    // Terraform write them.
    expect_valid(&monitoring(
        "{ cloudwatch = { log_types = { SPARK_DRIVER = [\"STDOUT\"], SPARK_EXECUTOR = [\"Stdout\"] } } }",
    ));
    expect_severity(
        &monitoring("{ cloudwatch = { log_types = { spark_driver = [\"stdout\"], SPARK_DRIVER = [\"stderr\"] } } }"),
        "error",
        "monitoring.log-types",
        "SPARK_DRIVER",
    );
}

#[test]
fn log_types_of_the_other_engine() {
    let input = hive("monitoring = { cloudwatch = { log_types = { spark_driver = [\"stdout\"] } } }\n");
    expect_severity(&input, "warning", "monitoring.log-type-worker", "[\"stdout\"]");
}

#[test]
fn prometheus_url_and_engine() {
    expect(
        &monitoring("{ prometheus_remote_write_url = \"https://example.com/write\" }"),
        "monitoring.prometheus-url",
        "\"https",
    );
    let url = "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write";
    expect_severity(
        &hive(&format!("monitoring = {{ prometheus_remote_write_url = \"{url}\" }}\n")),
        "warning",
        "monitoring.prometheus-engine",
        "\"https",
    );
}

#[test]
fn no_logs_at_all() {
    expect(
        &monitoring("{ managed_persistence = false }"),
        "monitoring.no-logs",
        "false",
    );
    expect_none(
        &monitoring("{ managed_persistence = false, s3_log_uri = \"s3://logs/emr/\" }"),
        &["monitoring.no-logs"],
    );
}

// ---------------------------------------------------------------- stacks that pass

#[test]
fn valid_worker_sizes_of_the_spec() {
    for (cpu, memory, disk) in [
        ("\"4vCPU\"", "\"30GB\"", "\"200GB\""),
        ("\"16vCPU\"", "\"120GB\"", "20"),
        ("\"8vCPU\"", "\"60GB\"", "20"),
        ("\"16 vCPU\"", "\"40 GB\"", "20"),
    ] {
        let input = spark(&format!(
            "runtime = [{{ classification = \"spark-defaults\", properties = {{ \"spark.executor.cores\" = \"4\", \"spark.executor.memory\" = \"4g\" }} }}]\n[applications.a.initial_capacity.executor]\nworker_count = 1\ncpu = {cpu}\nmemory = {memory}\ndisk = {disk}\n"
        ));
        expect_valid(&input);
        expect_none(
            &input,
            &[
                "capacity.cpu",
                "capacity.memory",
                "capacity.memory-step",
                "capacity.disk",
            ],
        );
    }
}

// ---------------------------------------------------------------- many problems at once

#[test]
fn every_independent_problem_is_reported() {
    let input = format!(
        "{STACK}[tags]\n\"aws:team\" = \"x\"\n\n\
[networks.private]\nsubnet_ids = [\"subnet-bad\"]\nsecurity_group_ids = [\"sg-0123456789abcdef0\"]\ncolour = \"blue\"\n\n\
[applications.a]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\nnetwork = \"privat\"\nfavourite = 1\ntags = {{ \"a#b\" = \"c\" }}\n\
initial_capacity = {{ executor = {{ worker_count = 1, cpu = 3, memory = 8 }} }}\n\n\
[applications.b]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\nconfigs = [\"missing\"]\nmaximum_capacity = {{ cpu = 0, memory = 10 }}\n"
    );
    let loaded = check_str(&input);
    let all = found(&loaded);
    for (code, needle) in [
        ("tag.reserved-prefix", "\"aws:team\""),
        ("network.subnet-id", "\"subnet-bad\""),
        ("config.unknown-key", "colour"),
        ("reference.undeclared", "\"privat\""),
        ("config.unknown-key", "favourite"),
        ("tag.characters", "\"a#b\""),
        ("capacity.cpu", "3,"),
        ("reference.undeclared", "\"missing\""),
        ("capacity.format", "0,"),
    ] {
        let (line, column) = position(&input, needle);
        assert_found(&loaded, "emrstack.toml", code, line, column);
    }
    assert!(loaded.desired.is_none());
    assert!(all.len() >= 9, "{all:?}");
}

// ---------------------------------------------------------------- scale

/// The seconds `load_str` takes on `input`, the best of `runs`.
fn seconds(input: &str, runs: usize) -> f64 {
    (0..runs)
        .map(|_| {
            let started = std::time::Instant::now();
            let loaded = check_str(input);
            assert!(!loaded.diagnostics.is_empty());
            started.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Asserts that four times the input takes less than ten times as long:
/// linear work takes about four times, quadratic work sixteen.
fn assert_linear(what: &str, make: impl Fn(usize) -> String, n: usize) {
    let small = seconds(&make(n), 2);
    let large = seconds(&make(4 * n), 1);
    assert!(
        large < 10.0 * small.max(0.005),
        "{what}: {n} took {small:.3} s, {} took {large:.3} s; validation must be linear",
        4 * n
    );
}

#[test]
fn validation_is_linear_in_classifications_and_references() {
    // 80,000 classifications took 24.6 s (10,000: 0.5 s, 40,000: 6.4 s):
    // each was looked for in the list before it, and merged the same way.
    // Every name twice, so duplicates are merged too.
    assert_linear(
        "classifications",
        |n| {
            let mut text = spark("");
            for i in 0..n {
                text.push_str(&format!(
                    "\n[[applications.a.runtime]]\nclassification = \"c{}\"\nproperties = {{ k = \"v\" }}\n",
                    i / 2
                ));
            }
            text
        },
        4000,
    );
    // An undeclared reference in each of many applications, among many
    // declared networks, and an unknown key and an undefined variable in each.
    assert_linear(
        "references",
        |n| {
            let mut text = STACK.to_string();
            for i in 0..n {
                text.push_str(&format!(
                    "\n[networks.n{i}]\nsubnet_ids = [\"subnet-0123456789abcdef0\"]\nsecurity_group_ids = [\"sg-0123456789abcdef0\"]\n"
                ));
            }
            for i in 0..n {
                text.push_str(&format!(
                    "\n[applications.a{i}]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\nnetwork = \"m{i}\"\nbogus = 1\nname = \"${{var.nope}}\"\nimage = {{ repository = \"spark\", tag = \"v1\" }}\n"
                ));
            }
            text.push_str("\n[repositories.spark]\nname = \"spark\"\napplications = [");
            for i in 0..n {
                text.push_str(&format!("\"a{i}\", "));
            }
            text.push_str("]\n");
            text
        },
        1000,
    );
}
