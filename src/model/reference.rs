//! Values that are known only after apply: the ARN of an application that the
//! plan creates or replaces.
//!
//! The planner writes such a value as a placeholder string inside policy
//! documents; the renderer prints it as `(known after apply)` and the executor
//! substitutes the real ARN once the application exists.

use std::collections::BTreeMap;

use serde_json::Value;

/// The placeholder for the ARN of `application.<name>`.
pub fn application_arn_placeholder(name: &str) -> String {
    format!("${{application.{name}.arn}}")
}

/// The application name of a placeholder, if `text` is one.
pub fn placeholder_application(text: &str) -> Option<&str> {
    text.strip_prefix("${application.")?.strip_suffix(".arn}")
}

/// Whether `text` contains a placeholder (possibly with a suffix such as `/*`).
pub fn contains_placeholder(text: &str) -> bool {
    text.contains("${application.")
}

/// The application names whose ARN placeholders appear anywhere in `value`.
pub fn placeholders_in(value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    collect(value, &mut found);
    found.sort();
    found.dedup();
    found
}

fn collect(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::String(text) => {
            let mut rest = text.as_str();
            while let Some(start) = rest.find("${application.") {
                let tail = &rest[start + "${application.".len()..];
                match tail.find(".arn}") {
                    Some(end) => {
                        found.push(tail[..end].to_string());
                        rest = &tail[end + ".arn}".len()..];
                    }
                    None => break,
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect(item, found)),
        Value::Object(map) => map.values().for_each(|item| collect(item, found)),
        _ => {}
    }
}

/// `value` with every placeholder whose application is in `arns` replaced by
/// the ARN. Placeholders of other applications are left in place.
pub fn substitute(value: &Value, arns: &BTreeMap<String, String>) -> Value {
    match value {
        Value::String(text) => {
            let mut out = text.clone();
            for (name, arn) in arns {
                out = out.replace(&application_arn_placeholder(name), arn);
            }
            Value::String(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|item| substitute(item, arns)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, item)| (key.clone(), substitute(item, arns)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders_are_found_and_substituted() {
        let doc = json!({"a": ["${application.etl.arn}", "${application.etl.arn}/*", "${application.adhoc.arn}"]});
        assert_eq!(placeholders_in(&doc), vec!["adhoc".to_string(), "etl".to_string()]);
        let arns = BTreeMap::from([("etl".to_string(), "arn:1".to_string())]);
        assert_eq!(
            substitute(&doc, &arns),
            json!({"a": ["arn:1", "arn:1/*", "${application.adhoc.arn}"]})
        );
        assert_eq!(placeholder_application("${application.etl.arn}"), Some("etl"));
    }
}
