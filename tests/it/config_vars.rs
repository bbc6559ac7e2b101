//! Variable sources and their precedence: `[vars]` defaults < `--var-file`
//! files (in order) < `--var` < `EMRSTACK_VAR_*`.

use std::collections::BTreeMap;

use emrstack::config::{LoadOptions, load};

const STACK: &str = "[stack]\nname = \"s-${var.env}\"\n\n[vars]\nenv = \"default\"\n";

fn stack_name(options: impl FnOnce(&mut LoadOptions, &std::path::Path)) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("a.vars.toml"), "env = \"file-a\"\n").expect("write");
    std::fs::write(dir.path().join("b.vars.toml"), "env = \"file-b\"\n").expect("write");
    let file = dir.path().join("emrstack.toml");
    std::fs::write(&file, STACK).expect("write");
    let mut load_options = LoadOptions::new(&file);
    options(&mut load_options, dir.path());
    let loaded = load(&load_options);
    let desired = loaded
        .desired
        .unwrap_or_else(|| panic!("invalid: {:?}", loaded.diagnostics));
    desired.stack.name
}

#[test]
fn defaults_apply_without_overrides() {
    assert_eq!(stack_name(|_, _| {}), "s-default");
}

#[test]
fn later_var_files_override_earlier_ones() {
    assert_eq!(
        stack_name(|o, dir| o.var_files.push(dir.join("a.vars.toml"))),
        "s-file-a"
    );
    assert_eq!(
        stack_name(|o, dir| {
            o.var_files.push(dir.join("a.vars.toml"));
            o.var_files.push(dir.join("b.vars.toml"));
        }),
        "s-file-b"
    );
}

#[test]
fn var_flags_override_var_files_and_later_flags_win() {
    assert_eq!(
        stack_name(|o, dir| {
            o.var_files.push(dir.join("b.vars.toml"));
            o.vars.push("env=flag-1".into());
            o.vars.push("env=flag-2".into());
        }),
        "s-flag-2"
    );
}

#[test]
fn environment_overrides_everything() {
    assert_eq!(
        stack_name(|o, dir| {
            o.var_files.push(dir.join("b.vars.toml"));
            o.vars.push("env=flag".into());
            o.env.insert("env".into(), "environment".into());
        }),
        "s-environment"
    );
}

#[test]
fn var_values_may_contain_equals_signs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("emrstack.toml");
    std::fs::write(
        &file,
        "[stack]\nname = \"s\"\n\n[vars]\nnote = \"\"\n\n[tags]\nnote = \"${var.note}\"\n",
    )
    .expect("write");
    let mut options = LoadOptions::new(&file);
    options.vars.push("note=a=b".into());
    let desired = load(&options).desired.expect("valid");
    assert_eq!(desired.stack.tags["note"], "a=b");
}

#[test]
fn env_prefix_is_stripped() {
    let env = LoadOptions::env_from(vec![
        ("EMRSTACK_VAR_image_tag".to_string(), "v1".to_string()),
        ("EMRSTACK_VAR_".to_string(), "ignored".to_string()),
        ("PATH".to_string(), "/bin".to_string()),
    ]);
    assert_eq!(env, BTreeMap::from([("image_tag".to_string(), "v1".to_string())]));
}

#[test]
fn undeclared_variables_from_flags_and_environment_are_warnings() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("emrstack.toml");
    std::fs::write(&file, STACK).expect("write");
    let mut options = LoadOptions::new(&file);
    options.vars.push("colour=blue".into());
    options.env.insert("size".into(), "xl".into());
    let loaded = load(&options);
    assert!(loaded.desired.is_some());
    let warnings: Vec<&str> = loaded.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        warnings,
        vec![
            "variable `colour` is set by `--var` but not declared in `[vars]`",
            "variable `size` is set by `EMRSTACK_VAR_size` but not declared in `[vars]`",
        ]
    );
}

#[test]
fn dollar_escape_keeps_a_literal_placeholder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("emrstack.toml");
    std::fs::write(&file, "[stack]\nname = \"s\"\n\n[tags]\nnote = \"$${var.env}\"\n").expect("write");
    let loaded = load(&LoadOptions::new(&file));
    // `${` is not a valid tag character, so the literal reaches the tag rules.
    assert!(
        loaded
            .diagnostics
            .iter()
            .any(|d| d.code == "tag.characters" && d.message.contains("`$`"))
    );
}
