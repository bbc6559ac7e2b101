//! The checked-in JSON Schema is the one the code generates, and every
//! example, converted to JSON, validates against it.
//!
//! The validator below is deliberately independent of the loader's
//! structural checker: a small reading of the JSON Schema keywords the
//! schema uses (`$ref`, `allOf`, `anyOf`, `oneOf`, `type`, `enum`, `const`,
//! `properties`, `required`, `additionalProperties`, `items`).

use std::path::Path;

use serde_json::Value;

fn schema_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/emrstack.schema.json")
}

fn generated() -> String {
    let text = serde_json::to_string_pretty(&emrstack::config::schema()).expect("schema serializes");
    format!("{text}\n")
}

#[test]
fn checked_in_schema_is_up_to_date() {
    let path = schema_path();
    let expected = generated();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir schemas/");
        std::fs::write(&path, &expected).expect("write schema");
        return;
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "schemas/emrstack.schema.json is out of date with the stack language; regenerate it with `UPDATE_SCHEMA=1 cargo test --test it config_schema::` (or `emrstack schema > schemas/emrstack.schema.json`)"
    );
}

fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => root
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("unresolved {reference}")),
        None => schema,
    }
}

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "null" => value.is_null(),
        _ => false,
    }
}

/// Every violation of `schema` by `value`, as `path: problem`.
fn validate(root: &Value, schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let schema = resolve(root, schema);
    if let Some(Value::Array(all)) = schema.get("allOf") {
        for item in all {
            validate(root, item, value, path, errors);
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = schema.get(key) {
            let passing = branches
                .iter()
                .filter(|branch| {
                    let mut inner = Vec::new();
                    validate(root, branch, value, path, &mut inner);
                    inner.is_empty()
                })
                .count();
            let ok = if key == "oneOf" { passing == 1 } else { passing >= 1 };
            if !ok {
                errors.push(format!("{path}: matches {passing} branches of {key}"));
            }
        }
    }
    match schema.get("type") {
        Some(Value::String(name)) if !type_matches(name, value) => errors.push(format!("{path}: not {name}")),
        Some(Value::Array(names)) if !names.iter().filter_map(Value::as_str).any(|n| type_matches(n, value)) => {
            errors.push(format!("{path}: not any of {names:?}"))
        }
        _ => {}
    }
    if let Some(Value::Array(allowed)) = schema.get("enum")
        && !allowed.contains(value)
    {
        errors.push(format!("{path}: {value} not in enum"));
    }
    if let Some(constant) = schema.get("const")
        && constant != value
    {
        errors.push(format!("{path}: {value} is not {constant}"));
    }
    if let Value::Object(map) = value {
        let properties = schema.get("properties").and_then(Value::as_object);
        if let Some(Value::Array(required)) = schema.get("required") {
            for name in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(name) {
                    errors.push(format!("{path}: missing {name}"));
                }
            }
        }
        for (key, item) in map {
            let item_path = format!("{path}/{key}");
            match (properties.and_then(|p| p.get(key)), schema.get("additionalProperties")) {
                (Some(property), _) => validate(root, property, item, &item_path, errors),
                (None, Some(Value::Bool(false))) => errors.push(format!("{item_path}: not allowed")),
                (None, Some(additional @ Value::Object(_))) => validate(root, additional, item, &item_path, errors),
                _ => {}
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            validate(root, item_schema, item, &format!("{path}/{i}"), errors);
        }
    }
}

fn toml_to_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("read example");
    let value: toml::Value = toml::from_str(&text).expect("example parses");
    serde_json::to_value(value).expect("json")
}

#[test]
fn every_example_validates_against_the_schema() {
    let root: Value = serde_json::from_str(&generated()).expect("schema is JSON");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(&examples).expect("examples/") {
        let dir = entry.expect("entry").path();
        let file = dir.join("emrstack.toml");
        if !file.exists() {
            continue;
        }
        let mut errors = Vec::new();
        validate(&root, &root, &toml_to_json(&file), "", &mut errors);
        assert!(
            errors.is_empty(),
            "{} does not match the schema:\n{}",
            file.display(),
            errors.join("\n")
        );
        checked += 1;
    }
    assert_eq!(checked, 3);
}

#[test]
fn the_validator_rejects_what_the_loader_rejects() {
    let root: Value = serde_json::from_str(&generated()).expect("schema is JSON");
    let check = |toml_text: &str| {
        let value: toml::Value = toml::from_str(toml_text).expect("parses");
        let mut errors = Vec::new();
        validate(
            &root,
            &root,
            &serde_json::to_value(value).expect("json"),
            "",
            &mut errors,
        );
        errors
    };
    assert!(check("[stack]\nname = \"s\"\n").is_empty());
    assert!(!check("[stack]\nname = \"s\"\ncolour = \"x\"\n").is_empty());
    // `type` takes any letter case (a pattern this validator does not read);
    // `architecture` is an exact enumeration.
    assert!(
        check("[stack]\nname = \"s\"\n[applications.a]\ntype = \"spark\"\nrelease_label = \"emr-7.2.0\"\n").is_empty()
    );
    assert!(
        !check("[stack]\nname = \"s\"\n[applications.a]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\narchitecture = \"arm64\"\n")
            .is_empty()
    );
    assert!(!check("[stack]\nname = \"s\"\n[applications.a]\ntype = \"SPARK\"\n").is_empty());
    assert!(
        check("[stack]\nname = \"s\"\n[applications.a]\ntype = \"SPARK\"\nrelease_label = \"x\"\nauto_stop = false\n")
            .is_empty()
    );
    assert!(
        !check("[stack]\nname = \"s\"\n[applications.a]\ntype = \"SPARK\"\nrelease_label = \"x\"\nauto_stop = 5\n")
            .is_empty()
    );
}

#[test]
fn schema_has_descriptions_for_every_property() {
    let root: Value = serde_json::from_str(&generated()).expect("schema is JSON");
    let mut missing = Vec::new();
    let mut visit = |name: &str, schema: &Value| {
        if let Some(Value::Object(properties)) = schema.get("properties") {
            for (key, property) in properties {
                if property.get("description").is_none() {
                    missing.push(format!("{name}.{key}"));
                }
            }
        }
    };
    visit("(root)", &root);
    for (name, definition) in root["definitions"].as_object().expect("definitions") {
        visit(name, definition);
    }
    assert!(missing.is_empty(), "properties without a `///` doc: {missing:?}");
}
