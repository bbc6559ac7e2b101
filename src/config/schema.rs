//! The JSON Schema of the stack language, generated from the types in
//! [`super::raw`] and tidied for editors (draft-07, no `null`, which TOML
//! cannot express).

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};

use super::raw::RawStackFile;

/// The JSON Schema (draft-07) of a stack file.
pub fn schema() -> Value {
    let generator = SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<RawStackFile>();
    let mut value = schema.to_value();
    tidy(&mut value);
    if let Value::Object(map) = &mut value {
        // Put `$schema`, `title` and `description` first so the file reads well.
        let mut ordered = Map::new();
        for key in ["$schema", "title", "description"] {
            if let Some(item) = map.remove(key) {
                ordered.insert(key.to_string(), item);
            }
        }
        ordered.append(map);
        value = Value::Object(ordered);
    }
    value
}

/// Removes what TOML cannot express (`null`) and the integer `format`
/// annotations that only matter to code generators.
fn tidy(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".to_string(), only);
                }
            }
            for key in ["anyOf", "oneOf"] {
                if let Some(Value::Array(branches)) = map.get_mut(key) {
                    branches.retain(|branch| branch.get("type").and_then(Value::as_str) != Some("null"));
                    if branches.len() == 1 && key == "anyOf" {
                        let only = branches.remove(0);
                        map.remove(key);
                        match only {
                            Value::Object(inner) => {
                                for (k, v) in inner {
                                    map.entry(k).or_insert(v);
                                }
                            }
                            other => {
                                map.insert("allOf".to_string(), Value::Array(vec![other]));
                            }
                        }
                    }
                }
            }
            if let Some(Value::Array(items)) = map.get_mut("enum") {
                items.retain(|item| !item.is_null());
            }
            if map.get("type").and_then(Value::as_str) == Some("integer") {
                map.remove("format");
            }
            for item in map.values_mut() {
                tidy(item);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(tidy),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find_null(value: &Value, path: &str, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if map
                    .get("type")
                    .is_some_and(|t| t == "null" || t.as_array().is_some_and(|a| a.contains(&Value::from("null"))))
                {
                    found.push(path.to_string());
                }
                for (key, item) in map {
                    find_null(item, &format!("{path}/{key}"), found);
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    find_null(item, &format!("{path}/{index}"), found);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn schema_is_draft07_without_null() {
        let schema = schema();
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
        assert_eq!(schema["title"], "emrstack stack file");
        assert_eq!(schema["additionalProperties"], false);
        let mut found = Vec::new();
        find_null(&schema, "", &mut found);
        assert!(found.is_empty(), "null types left at {found:?}");
    }
}
