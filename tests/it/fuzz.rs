//! Fuzz targets, one per reader of user input: the stack file end to end
//! through `config::load`, var files, JSON policy and classification files
//! (the JSON reader and end to end), and saved plans (`Plan::load`). Each
//! feeds arbitrary bytes, and mutations of real inputs (the examples, saved
//! plans of every render scenario), and checks that the reader returns
//! instead of crashing or hanging, that every position it reports lies in
//! the file it names, and that every diagnostic renders.
//!
//! In the test suite each target runs a few hundred cases (seconds);
//! `scripts/fuzz` runs them for longer (`PROPTEST_CASES`, see its header).
//! A failing case is shrunk by proptest and printed; fix it and keep it as
//! a regression test.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

use emrstack::config::{LoadOptions, Loaded, json, load};
use emrstack::plan::Plan;
use emrstack::render::diagnostics;

use crate::render_scenarios;

/// Cases per target: `PROPTEST_CASES`, or 256 in the normal test suite.
fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(256);
    Config {
        cases,
        // Failures are printed, not written into the source tree.
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    }
}

/// The example stacks and the files they refer to, as (relative path, text).
fn example_files() -> &'static Vec<(String, String)> {
    static FILES: OnceLock<Vec<(String, String)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let mut out = Vec::new();
        collect(&root, &root, &mut out);
        out.sort();
        out
    })
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("examples/") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect(root, &path, out);
        } else {
            let relative = path.strip_prefix(root).expect("under examples/").display().to_string();
            out.push((relative, std::fs::read_to_string(&path).expect("example file")));
        }
    }
}

/// Saved plan files of every render scenario.
fn plan_files() -> &'static Vec<String> {
    static FILES: OnceLock<Vec<String>> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        render_scenarios::all()
            .into_iter()
            .map(|(name, plan)| {
                let path = dir.path().join(format!("{name}.plan"));
                plan.save(&path).expect("saved");
                std::fs::read_to_string(&path).expect("plan file")
            })
            .collect()
    })
}

/// `text` with `insert` spliced in at `at` (as a fraction of its length),
/// replacing `remove` bytes; cut at character boundaries.
fn mutate(text: &str, at: f64, remove: usize, insert: &str) -> String {
    let mut start = ((text.len() as f64) * at) as usize;
    start = start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + remove).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    format!("{}{}{}", &text[..start], insert, &text[end..])
}

/// Fragments that matter to the readers: delimiters, nesting, variables,
/// placeholders, keys of the language, numbers at the edges, secrets.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::sample::select(vec![
            "[",
            "]",
            "{",
            "}",
            "[[",
            "]]",
            "\"",
            "'",
            "\"\"\"",
            "=",
            ",",
            ".",
            "\n",
            "\r\n",
            "\t",
            "#",
            "\\",
            "${var.",
            "${var.env}",
            "$${",
            "${application.etl.arn}",
            "${application.",
            "null",
            "true",
            "-0",
            "1e999",
            "99999999999999999999",
            "0x1",
            "1979-05-27T07:32:00Z",
            "\u{0}",
            "\u{feff}",
            "é",
            "😀",
            "[applications.x]",
            "[[applications.x.runtime]]",
            "[roles.r.policies.p]",
            "type = \"SPARK\"",
            "release_label = \"emr-7.2.0\"",
            "runtime_file = \"runtime.json\"",
            "file = \"policy.json\"",
            "file = \"/dev/zero\"",
            "file = \".\"",
            "configurations = [",
            "properties = {",
            "password=x",
            "https://u:p@h",
            "EMR.secret@",
            "classification = \"spark-defaults\"",
        ])
        .prop_map(str::to_string),
        // Deep nesting of each kind.
        (
            1usize..200,
            prop::sample::select(vec![("[", "]"), ("{\"a\":", "}"), ("{a=", "}")])
        )
            .prop_map(|(depth, (open, close))| format!("{}1{}", open.repeat(depth), close.repeat(depth))),
    ]
}

/// Checks what every reader must guarantee about a load.
fn check_loaded(loaded: &Loaded) {
    for diagnostic in loaded.diagnostics.iter() {
        let spans = diagnostic
            .span
            .iter()
            .chain(diagnostic.labels.iter().map(|label| &label.span));
        for span in spans {
            let file = loaded.sources.get(span.file);
            assert!(
                span.range.start <= span.range.end && span.range.end <= file.text.len(),
                "{} at {:?} is outside `{}` ({} bytes)",
                diagnostic.code,
                span.range,
                file.path.display(),
                file.text.len()
            );
        }
    }
    let _ = diagnostics::human(&loaded.diagnostics, &loaded.sources, false);
    let _ = diagnostics::json(&loaded.diagnostics, &loaded.sources);
    assert_eq!(loaded.desired.is_some(), !loaded.diagnostics.has_errors());
}

/// Loads `stack` (bytes) in a directory with `files`, with var files.
fn load_project(stack: &[u8], files: &[(String, Vec<u8>)], var_files: &[&str]) -> Loaded {
    let dir = tempfile::tempdir().expect("temp dir");
    for (relative, bytes) in files {
        let path = dir.path().join(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, bytes).expect("write");
    }
    let path = dir.path().join("emrstack.toml");
    std::fs::write(&path, stack).expect("write");
    let mut options = LoadOptions::new(&path);
    options.var_files = var_files
        .iter()
        .map(|name| dir.path().join(name))
        .collect::<Vec<PathBuf>>();
    options.vars = vec!["env=dev".to_string()];
    let loaded = load(&options);
    check_loaded(&loaded);
    loaded
}

/// An example directory (`analytics`) as files to write, mutated at `which`.
fn example_project(example: &str) -> Vec<(String, Vec<u8>)> {
    example_files()
        .iter()
        .filter_map(|(path, text)| {
            path.strip_prefix(&format!("{example}/"))
                .map(|relative| (relative.to_string(), text.clone().into_bytes()))
        })
        .collect()
}

proptest! {
    #![proptest_config(config())]

    /// The stack file, end to end: arbitrary bytes.
    #[test]
    fn stack_file_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        load_project(&bytes, &[], &[]);
    }

    /// The stack file, end to end: an example with a fragment spliced in.
    #[test]
    fn stack_file_mutated_example(
        example in prop::sample::select(vec!["quickstart", "hive", "analytics"]),
        at in 0.0f64..1.0,
        remove in 0usize..40,
        insert in fragment(),
    ) {
        let mut files = example_project(example);
        let stack = files
            .iter()
            .position(|(path, _)| path == "emrstack.toml")
            .map(|i| files.remove(i).1)
            .unwrap_or_default();
        let mutated = mutate(&String::from_utf8_lossy(&stack), at, remove, &insert);
        let var_files: &[&str] = if example == "analytics" { &["prod.vars.toml"] } else { &[] };
        load_project(mutated.as_bytes(), &files, var_files);
    }

    /// Var files: arbitrary bytes, and a real one with a fragment spliced in.
    #[test]
    fn var_file(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        at in 0.0f64..1.0,
        insert in fragment(),
    ) {
        let mut files = example_project("analytics");
        files.push(("random.vars.toml".to_string(), bytes));
        let prod = files
            .iter()
            .find(|(path, _)| path == "prod.vars.toml")
            .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
            .unwrap_or_default();
        files.push(("mutated.vars.toml".to_string(), mutate(&prod, at, 0, &insert).into_bytes()));
        let stack = files
            .iter()
            .find(|(path, _)| path == "emrstack.toml")
            .map(|(_, bytes)| bytes.clone())
            .unwrap_or_default();
        load_project(&stack, &files, &["random.vars.toml", "mutated.vars.toml"]);
    }

    /// The JSON reader on its own: arbitrary text, and JSON of random shape.
    #[test]
    fn json_reader(text in any::<String>(), value in json_value()) {
        for input in [text, value.to_string()] {
            let (tree, errors) = json::parse(&input, &|range| range);
            for error in &errors {
                prop_assert!(error.range.start <= error.range.end && error.range.end <= input.len());
            }
            if let Some(tree) = tree {
                let _ = json::to_json(tree.get_ref());
            }
        }
    }

    /// Policy files and runtime files, end to end: the analytics example's
    /// with a fragment spliced in, or replaced by random JSON.
    #[test]
    fn json_files(
        which in prop::sample::select(vec!["policies/etl-data.json", "configs/spark-defaults.json"]),
        at in 0.0f64..1.0,
        remove in 0usize..20,
        insert in fragment(),
        value in json_value(),
        replace in any::<bool>(),
    ) {
        let mut files = example_project("analytics");
        let stack = files
            .iter()
            .find(|(path, _)| path == "emrstack.toml")
            .map(|(_, bytes)| bytes.clone())
            .unwrap_or_default();
        if let Some((_, bytes)) = files.iter_mut().find(|(path, _)| path == which) {
            *bytes = if replace {
                value.to_string().into_bytes()
            } else {
                mutate(&String::from_utf8_lossy(bytes), at, remove, &insert).into_bytes()
            };
        }
        load_project(&stack, &files, &["prod.vars.toml"]);
    }

    /// Saved plans: arbitrary bytes, and real plan files with a fragment
    /// spliced in. A plan that loads must render in every format.
    #[test]
    fn saved_plan(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        which in any::<prop::sample::Index>(),
        at in 0.0f64..1.0,
        remove in 0usize..40,
        insert in fragment(),
    ) {
        let files = plan_files();
        let original = &files[which.index(files.len())];
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, content) in [
            ("random.plan", bytes),
            ("mutated.plan", mutate(original, at, remove, &insert).into_bytes()),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, content).expect("write");
            if let Ok(plan) = Plan::load(&path) {
                let _ = emrstack::render::plan::human(&plan, &emrstack::render::plan::HumanOptions { color: false });
                let _ = emrstack::render::json::plan(&plan);
                let _ = emrstack::render::markdown::plan(&plan);
            }
        }
    }
}

/// JSON values of random shape, up to about 100 levels deep.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, serde_json::Value::Number)),
        any::<String>().prop_map(serde_json::Value::String),
        prop::sample::select(vec![
            "Allow",
            "s3:GetObject",
            "*",
            "2012-10-17",
            "spark-defaults",
            "${var.env}"
        ])
        .prop_map(|s| serde_json::Value::String(s.to_string())),
    ];
    leaf.prop_recursive(100, 400, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "Version",
                        "Statement",
                        "Effect",
                        "Action",
                        "Resource",
                        "Condition",
                        "Sid",
                        "classification",
                        "properties",
                        "configurations",
                        "Classification",
                        "a",
                    ])
                    .prop_map(str::to_string),
                    inner
                ),
                0..6
            )
            .prop_map(|entries| serde_json::Value::Object(entries.into_iter().collect())),
        ]
    })
}

#[test]
fn every_target_has_real_inputs_to_mutate() {
    let examples: Vec<&str> = example_files().iter().map(|(path, _)| path.as_str()).collect();
    for needed in [
        "quickstart/emrstack.toml",
        "hive/emrstack.toml",
        "analytics/emrstack.toml",
        "analytics/prod.vars.toml",
        "analytics/policies/etl-data.json",
        "analytics/configs/spark-defaults.json",
    ] {
        assert!(
            examples.contains(&needed),
            "{needed} is missing from examples/: {examples:?}"
        );
    }
    assert!(plan_files().len() >= 10);
}

/// The limits compose: a policy nested as deeply as a stack may nest it
/// loads, is put in canonical form (a recursive walk), and makes a plan
/// that saves and loads again within the saved plan's own depth limit.
#[test]
fn the_deepest_policy_a_stack_accepts_survives_planning_and_a_saved_plan() {
    let depth = emrstack::input::MAX_DEPTH;
    // The document, its list of statements and a statement are three
    // levels; the condition's nested objects are the rest.
    let inner = depth - 3;
    let condition = format!("{}\"v\"{}", "{\"a\": ".repeat(inner), "}".repeat(inner));
    let policy = format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {condition}}}]}}"#
    );
    let stack = "[stack]\nname = \"deep\"\nregion = \"us-east-1\"\n\n[roles.r.policies.p]\nfile = \"deep.json\"\n";
    let files = vec![("deep.json".to_string(), policy.clone().into_bytes())];
    let loaded = load_project(stack.as_bytes(), &files, &[]);
    let desired = loaded
        .desired
        .unwrap_or_else(|| panic!("{}", diagnostics::human(&loaded.diagnostics, &loaded.sources, false)));
    let document = &desired.roles["r"].inline_policies["p"];
    let canonical = emrstack::diff::policy::canonical(document);
    assert!(canonical.to_string().contains("\"v\""));
    // One level more is refused, at the bracket that opens it.
    let deeper = policy
        .replacen("{\"a\": ", "{\"a\": {\"a\": ", 1)
        .replacen("}]}", "}}]}", 1);
    let refused = load_project(stack.as_bytes(), &[("deep.json".to_string(), deeper.into_bytes())], &[]);
    assert!(refused.diagnostics.iter().any(|d| d.code == "json.depth"));

    let actual = render_scenarios::empty_account(&desired);
    let plan = render_scenarios::plan(&desired, &actual, emrstack::diff::Mode::Apply);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("deep.plan");
    plan.save(&path).expect("saved");
    let loaded = Plan::load(&path).expect("a plan of the deepest stack loads");
    assert_eq!(loaded, plan);
}
