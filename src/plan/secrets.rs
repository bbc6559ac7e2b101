//! Secret-looking configuration values: recognised by their property key,
//! never printed, and never written to a plan file.
//!
//! Runtime configuration properties whose key names a password, secret,
//! token, credential or private/access/API key are secret-looking. Every
//! renderer shows them as `(sensitive value)`. A saved plan holds them as
//! `<redacted sha256:...>`; `apply PLANFILE` restores them from the stack
//! file and refuses if a value no longer hashes the same, so a plan file can
//! be stored as a CI artifact without leaking credentials. Values of the
//! form `EMR.secret@<name>` are references to Secrets Manager, not secrets,
//! and are shown.

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Plan;
use crate::diff::{FieldChange, Target};
use crate::model::{ApplicationSpec, Configuration, Desired};

/// What renderers print instead of a secret-looking value.
pub const SENSITIVE: &str = "(sensitive value)";

const REDACTED_PREFIX: &str = "<redacted sha256:";

/// Key fragments that mark a property as secret-looking (compared in lower
/// case, with `.`, `-` and `_` removed).
const SECRET_WORDS: [&str; 9] = [
    "password",
    "passwd",
    "secret",
    "token",
    "credential",
    "privatekey",
    "accesskey",
    "apikey",
    "sessionkey",
];

/// Whether a configuration property key looks like it holds a secret.
pub fn is_secret_key(key: &str) -> bool {
    let folded: String = key
        .chars()
        .filter(|c| !matches!(c, '.' | '-' | '_'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    SECRET_WORDS.iter().any(|word| folded.contains(word))
}

/// Whether a value is a Secrets Manager reference rather than a secret.
fn is_reference(value: &str) -> bool {
    value.starts_with("EMR.secret@")
}

fn redacted(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{REDACTED_PREFIX}{hex}>")
}

fn is_redacted(value: &str) -> bool {
    value.starts_with(REDACTED_PREFIX)
}

/// Whether a property `key` with `value` must be hidden.
pub fn must_hide(key: &str, value: &str) -> bool {
    is_secret_key(key) && !is_reference(value)
}

/// A JSON value with every secret-looking entry of every `properties` map
/// replaced by `replacement(value)`.
fn scrub_value(value: &Value, replacement: &dyn Fn(&str) -> String) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, item)| {
                    let item = if key == "properties" {
                        scrub_properties(item, replacement)
                    } else {
                        scrub_value(item, replacement)
                    };
                    (key.clone(), item)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|item| scrub_value(item, replacement)).collect()),
        other => other.clone(),
    }
}

/// A `properties` map with every secret-looking entry replaced.
fn scrub_properties(value: &Value, replacement: &dyn Fn(&str) -> String) -> Value {
    match value {
        Value::Object(properties) => Value::Object(
            properties
                .iter()
                .map(|(name, property)| {
                    let hidden = match property.as_str() {
                        Some(text) if must_hide(name, text) => Value::String(replacement(text)),
                        _ => scrub_value(property, replacement),
                    };
                    (name.clone(), hidden)
                })
                .collect(),
        ),
        other => scrub_value(other, replacement),
    }
}

/// The property key a field path ends in, if the path is inside a
/// `properties` map (`runtime_configuration.spark-defaults.properties.<key>`).
fn property_key_of(path: &str) -> Option<&str> {
    path.rfind(".properties.").map(|at| &path[at + ".properties.".len()..])
}

fn scrub_field(field: &FieldChange, replacement: &dyn Fn(&str) -> String) -> FieldChange {
    let mut out = field.clone();
    // A leaf is one property (`...properties.<key>`), a whole `properties`
    // map (when a classification gains its first properties), or a larger
    // block holding `properties` maps.
    let whole_map = field.path == "properties" || field.path.ends_with(".properties");
    let scrub_leaf = |value: &Value| match (property_key_of(&field.path), value.as_str()) {
        (Some(key), Some(text)) if must_hide(key, text) => Value::String(replacement(text)),
        _ if whole_map => scrub_properties(value, replacement),
        _ => scrub_value(value, replacement),
    };
    out.before = scrub_leaf(&field.before);
    out.after = scrub_leaf(&field.after);
    out
}

fn scrub_configurations(list: &mut [Configuration], replacement: &dyn Fn(&str) -> String) {
    for configuration in list {
        for (key, value) in configuration.properties.iter_mut() {
            if must_hide(key, value) {
                *value = replacement(value);
            }
        }
        scrub_configurations(&mut configuration.configurations, replacement);
    }
}

fn scrub_spec<I>(spec: &mut ApplicationSpec<I>, replacement: &dyn Fn(&str) -> String) {
    scrub_configurations(&mut spec.runtime_configuration, replacement);
}

/// A field change as renderers must show it.
pub fn display_field(field: &FieldChange) -> FieldChange {
    scrub_field(field, &|_| SENSITIVE.to_string())
}

/// A JSON value as renderers must show it.
pub fn display_value(value: &Value) -> Value {
    scrub_value(value, &|_| SENSITIVE.to_string())
}

/// Replaces every secret-looking value in the plan by its hash.
pub fn redact_plan(plan: &mut Plan) {
    let replacement = |text: &str| {
        if is_redacted(text) {
            text.to_string()
        } else {
            redacted(text)
        }
    };
    for change in &mut plan.changes {
        for field in &mut change.fields {
            *field = scrub_field(field, &replacement);
        }
        if let Target::Application(app) = &mut change.target {
            if let Some(desired) = app.desired.as_mut() {
                scrub_spec(desired, &replacement);
            }
            if let Some(current) = app.current.as_mut() {
                scrub_spec(&mut current.spec, &replacement);
            }
        }
    }
    for application in plan.desired.applications.values_mut() {
        scrub_spec(&mut application.spec, &replacement);
    }
}

/// Every secret-looking property of a spec, by `classification/.../key`.
fn secret_values<I>(spec: &ApplicationSpec<I>) -> BTreeMap<String, String> {
    fn walk(prefix: &str, list: &[Configuration], out: &mut BTreeMap<String, String>) {
        for configuration in list {
            let path = format!("{prefix}{}/", configuration.classification);
            for (key, value) in &configuration.properties {
                if must_hide(key, value) {
                    out.insert(format!("{path}{key}"), value.clone());
                }
            }
            walk(&path, &configuration.configurations, out);
        }
    }
    let mut out = BTreeMap::new();
    walk("", &spec.runtime_configuration, &mut out);
    out
}

fn restore_configurations(
    prefix: &str,
    list: &mut [Configuration],
    values: &BTreeMap<String, String>,
    missing: &mut Vec<String>,
) {
    for configuration in list {
        let path = format!("{prefix}{}/", configuration.classification);
        for (key, value) in configuration.properties.iter_mut() {
            if !is_redacted(value) {
                continue;
            }
            let id = format!("{path}{key}");
            match values.get(&id) {
                Some(real) if redacted(real) == *value => *value = real.clone(),
                _ => missing.push(id),
            }
        }
        restore_configurations(&path, &mut configuration.configurations, values, missing);
    }
}

/// Puts the real secret values back into a loaded plan, taking them from
/// `stack` (the stack file loaded again). Returns the properties whose value
/// is missing from the stack file or no longer matches the plan.
pub fn restore_plan(plan: &mut Plan, stack: &Desired) -> Result<(), Vec<String>> {
    let mut missing = Vec::new();
    let mut values_by_app: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (key, application) in &stack.applications {
        values_by_app.insert(key.clone(), secret_values(&application.spec));
    }
    let empty = BTreeMap::new();
    for (key, application) in plan.desired.applications.iter_mut() {
        let values = values_by_app.get(key).unwrap_or(&empty);
        let mut local = Vec::new();
        restore_configurations("", &mut application.spec.runtime_configuration, values, &mut local);
        missing.extend(local.into_iter().map(|id| format!("application.{key}: {id}")));
    }
    for change in &mut plan.changes {
        if let Target::Application(app) = &mut change.target
            && let Some(desired) = app.desired.as_mut()
        {
            let values = values_by_app.get(&app.key).unwrap_or(&empty);
            let mut ignored = Vec::new();
            restore_configurations("", &mut desired.runtime_configuration, values, &mut ignored);
        }
    }
    missing.sort();
    missing.dedup();
    if missing.is_empty() { Ok(()) } else { Err(missing) }
}

/// Whether a plan still holds redacted values (it was loaded from a file
/// and not restored).
pub fn has_redacted(plan: &Plan) -> bool {
    fn walk(list: &[Configuration]) -> bool {
        list.iter()
            .any(|c| c.properties.values().any(|v| is_redacted(v)) || walk(&c.configurations))
    }
    plan.desired
        .applications
        .values()
        .any(|application| walk(&application.spec.runtime_configuration))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_keys_are_recognised_by_their_words() {
        for key in [
            "spark.hadoop.fs.s3a.secret.key",
            "javax.jdo.option.ConnectionPassword",
            "fs.s3a.access.key",
            "spark.datasource.token",
            "db_credentials",
            "api-key",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in ["spark.executor.memory", "hive.metastore.uris", "spark.keystore.type"] {
            assert!(!is_secret_key(key), "{key}");
        }
    }

    #[test]
    fn references_to_secrets_manager_are_shown() {
        assert!(!must_hide(
            "javax.jdo.option.ConnectionPassword",
            "EMR.secret@db-password"
        ));
        assert!(must_hide("javax.jdo.option.ConnectionPassword", "hunter2"));
    }

    #[test]
    fn display_hides_secret_properties_in_whole_blocks_and_leaves() {
        let value = json!({"hive-site": {"properties": {"javax.jdo.option.ConnectionPassword": "hunter2", "a": "b"}}});
        let shown = display_value(&value);
        assert_eq!(
            shown["hive-site"]["properties"]["javax.jdo.option.ConnectionPassword"],
            json!(SENSITIVE)
        );
        assert_eq!(shown["hive-site"]["properties"]["a"], json!("b"));
        let field = FieldChange {
            path: "runtime_configuration.hive-site.properties.javax.jdo.option.ConnectionPassword".to_string(),
            before: json!("old"),
            after: json!("new"),
            after_unknown: false,
            forces_replacement: false,
            live: false,
            drift: false,
        };
        let shown = display_field(&field);
        assert_eq!(shown.before, json!(SENSITIVE));
        assert_eq!(shown.after, json!(SENSITIVE));
    }
}
