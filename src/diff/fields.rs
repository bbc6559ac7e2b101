//! Field-level differences between two JSON views of a resource, and the
//! applied record that tells drift from configuration changes.

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

/// One leaf-level difference: the dotted path and the values on each side
/// (`Value::Null` for absent).
#[derive(Clone, Debug, PartialEq)]
pub struct LeafDiff {
    pub path: String,
    pub before: Value,
    pub after: Value,
}

/// The differences between `before` and `after` under `path`. Objects are
/// compared key by key so that a change deep inside a block is reported at
/// its own path (`initial_capacity.driver.memory`); arrays and scalars are
/// reported whole.
pub fn leaf_diffs(path: &str, before: &Value, after: &Value) -> Vec<LeafDiff> {
    let mut out = Vec::new();
    collect(path, before, after, &mut out);
    out
}

fn collect(path: &str, before: &Value, after: &Value, out: &mut Vec<LeafDiff>) {
    if before == after {
        return;
    }
    if let (Value::Object(a), Value::Object(b)) = (before, after) {
        let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            let child = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            collect(
                &child,
                a.get(key).unwrap_or(&Value::Null),
                b.get(key).unwrap_or(&Value::Null),
                out,
            );
        }
        return;
    }
    out.push(LeafDiff {
        path: path.to_string(),
        before: before.clone(),
        after: after.clone(),
    });
}

/// A short, stable hash of a value (6 hex digits of SHA-256 of its JSON).
pub fn short_hash(value: &Value) -> String {
    let digest = Sha256::digest(value.to_string().as_bytes());
    digest.iter().take(3).map(|b| format!("{b:02x}")).collect()
}

/// The hash a record keeps of a field's value: of its recorded form, which
/// holds no secret (`model::secrets::recorded_form`).
fn record_hash(field: &str, value: &Value) -> String {
    short_hash(&crate::model::secrets::recorded_form(field, value))
}

fn field_code(field: &str) -> String {
    let digest = Sha256::digest(field.as_bytes());
    digest.iter().take(2).map(|b| format!("{b:02x}")).collect()
}

/// The largest tag value AWS accepts.
const MAX_RECORD_LEN: usize = 256;

/// The `emrstack:applied` tag value for a set of fields: the resource's
/// binding token (`model::tags::binding_token`) first, then `code=hash`
/// tokens, where `code` identifies the field and `hash` its value as
/// applied.
///
/// The record is also emrstack's proof that it wrote the resource
/// (`model::tags::proves_ownership`), so it is always written: when every
/// token would not fit in a tag value (a role with many inline policies),
/// the binding and the tokens that fit are kept, in field order, and the
/// fields left out are judged as having no record (`Origin::Unknown`).
pub fn encode_record(binding: &str, fields: &BTreeMap<String, Value>) -> String {
    let mut record = binding.to_string();
    for (field, value) in fields {
        let token = format!("{}={}", field_code(field), record_hash(field, value));
        let separator = usize::from(!record.is_empty());
        if record.len() + separator + token.len() > MAX_RECORD_LEN {
            break;
        }
        if separator == 1 {
            record.push(' ');
        }
        record.push_str(&token);
    }
    record
}

/// A decoded `emrstack:applied` record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    hashes: BTreeMap<String, String>,
}

impl Record {
    /// The field hashes of a record; its binding token, which is no field,
    /// is left out.
    pub fn decode(text: &str) -> Record {
        let hashes = text
            .split_whitespace()
            .filter_map(|token| token.split_once('='))
            .filter(|(code, _)| *code != crate::model::tags::BINDING_CODE)
            .map(|(code, hash)| (code.to_string(), hash.to_string()))
            .collect();
        Record { hashes }
    }

    /// The hash recorded for a field when it was last applied.
    pub fn hash_of(&self, field: &str) -> Option<&str> {
        self.hashes.get(&field_code(field)).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }
}

/// Where a difference comes from, judged by the applied record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The stack file changed since the last apply; AWS did not.
    Config,
    /// AWS changed since the last apply; the stack file did not.
    Drift,
    /// Both changed.
    Both,
    /// No record, so it cannot be told.
    Unknown,
}

/// Classifies a differing field by comparing both sides with the record.
pub fn origin(record: &Record, field: &str, desired: &Value, actual: &Value) -> Origin {
    match record.hash_of(field) {
        None => Origin::Unknown,
        Some(applied) => {
            let config_changed = record_hash(field, desired) != applied;
            let aws_changed = record_hash(field, actual) != applied;
            match (config_changed, aws_changed) {
                (true, false) => Origin::Config,
                (false, true) => Origin::Drift,
                (true, true) => Origin::Both,
                // Both equal the record, so they are equal to each other:
                // the caller only asks about differing fields.
                (false, false) => Origin::Unknown,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_objects_report_leaf_paths() {
        let before = json!({"driver": {"cpu": "4 vCPU", "memory": "16 GB"}});
        let after = json!({"driver": {"cpu": "4 vCPU", "memory": "20 GB"}, "executor": {"cpu": "2 vCPU"}});
        let diffs = leaf_diffs("initial_capacity", &before, &after);
        let paths: Vec<&str> = diffs.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            vec!["initial_capacity.driver.memory", "initial_capacity.executor"]
        );
        assert_eq!(diffs[1].before, Value::Null);
    }

    #[test]
    fn arrays_and_scalars_are_reported_whole() {
        let diffs = leaf_diffs("network.subnet_ids", &json!(["a"]), &json!(["a", "b"]));
        assert_eq!(diffs.len(), 1);
        assert_eq!(diffs[0].path, "network.subnet_ids");
    }

    #[test]
    fn record_tells_drift_from_config_changes() {
        let applied = json!("emr-7.1.0");
        let fields = BTreeMap::from([("release_label".to_string(), applied.clone())]);
        let record = Record::decode(&encode_record("0000=abcdef", &fields));
        let check = |desired: Value, actual: Value, expect| {
            assert_eq!(origin(&record, "release_label", &desired, &actual), expect);
        };
        check(json!("emr-7.2.0"), applied.clone(), Origin::Config);
        check(applied.clone(), json!("emr-7.2.0"), Origin::Drift);
        check(json!("emr-7.2.0"), json!("emr-7.3.0"), Origin::Both);
        assert_eq!(
            origin(&Record::default(), "release_label", &applied, &json!("x")),
            Origin::Unknown
        );
    }

    #[test]
    fn an_oversized_record_keeps_the_tokens_that_fit_and_still_proves_ownership() {
        let fields: BTreeMap<String, Value> = (0..40).map(|i| (format!("policies.p{i:02}"), json!(i))).collect();
        let record = encode_record("0000=abcdef", &fields);
        assert!(record.len() <= MAX_RECORD_LEN);
        // The binding, always first, and the 20 fields that fit after it.
        assert_eq!(record.split(' ').count(), 21);
        assert!(record.starts_with("0000=abcdef "), "{record}");
        assert!(crate::model::tags::is_applied_record(&record), "{record}");
        let decoded = Record::decode(&record);
        assert!(decoded.hash_of("policies.p00").is_some());
        assert!(decoded.hash_of("policies.p19").is_some());
        assert!(decoded.hash_of("policies.p20").is_none());
        assert_eq!(encode_record("0000=abcdef", &BTreeMap::new()), "0000=abcdef");
    }

    /// A record written before bindings starts with a field's token; no
    /// field emrstack records by a fixed name has the binding's code, so
    /// such a record is never taken for a bound one (a user's policy name
    /// might, one in 65536, but policy tokens never come first: the
    /// `description` field sorts before every `policies.` one).
    #[test]
    fn no_fixed_field_has_the_binding_code() {
        let role_fields = crate::model::RoleField::FIXED.map(|field| field.key());
        let application_fields = crate::model::ApplicationField::ALL.map(|field| field.as_str().to_string());
        for field in role_fields.iter().chain(application_fields.iter()) {
            assert_ne!(field_code(field), crate::model::tags::BINDING_CODE, "{field}");
        }
    }
}
