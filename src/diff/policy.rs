//! IAM policy documents in a canonical form, so that documents AWS considers
//! the same compare equal.
//!
//! The equivalences are those of `hashicorp/awspolicyequivalence`, which the
//! Terraform AWS provider uses to suppress false diffs: whitespace and key
//! order, statement order, a string versus a one-element list, the order of
//! values inside `Action`, `Resource`, `Principal` and `Condition`, the case
//! of `Effect`, and a bare account ID versus `arn:aws:iam::<id>:root` as an
//! AWS principal. `Sid`, `Version`, `Id` and the case of actions are kept,
//! as AWS treats them as significant.

use serde_json::{Map, Value};

/// The canonical form of a policy document. Documents that are equivalent
/// have equal canonical forms; the form is itself a valid policy document,
/// suitable for display.
pub fn canonical(document: &Value) -> Value {
    let Value::Object(map) = document else {
        return document.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        if key == "Statement" {
            // Keys are sorted inside each statement before statements are
            // ordered by their text: with `preserve_order`, the text of a
            // statement otherwise depends on the key order it was written in.
            let mut statements: Vec<Value> = match value {
                Value::Array(list) => list.iter().map(|s| sort_keys(canonical_statement(s))).collect(),
                single => vec![sort_keys(canonical_statement(single))],
            };
            statements.sort_by_key(|statement| statement.to_string());
            out.insert(key.clone(), Value::Array(statements));
        } else {
            out.insert(key.clone(), value.clone());
        }
    }
    sort_keys(Value::Object(out))
}

/// Whether two policy documents are equivalent.
pub fn equivalent(a: &Value, b: &Value) -> bool {
    canonical(a) == canonical(b)
}

/// The canonical form of one statement (see [`canonical`]).
pub fn canonical_statement_of(statement: &Value) -> Value {
    sort_keys(canonical_statement(statement))
}

fn canonical_statement(statement: &Value) -> Value {
    let Value::Object(map) = statement else {
        return statement.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        let canonical_value = match key.as_str() {
            "Effect" => match value.as_str() {
                Some(effect) => Value::String(capitalize(effect)),
                None => value.clone(),
            },
            "Action" | "NotAction" | "Resource" | "NotResource" => string_set(value),
            "Principal" | "NotPrincipal" => canonical_principal(value),
            "Condition" => canonical_condition(value),
            _ => value.clone(),
        };
        out.insert(key.clone(), canonical_value);
    }
    Value::Object(out)
}

fn capitalize(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// A string or list of strings as a sorted, de-duplicated list.
fn string_set(value: &Value) -> Value {
    let mut items: Vec<Value> = match value {
        Value::Array(list) => list.clone(),
        other => vec![other.clone()],
    };
    items.sort_by_key(|item| item.to_string());
    items.dedup();
    Value::Array(items)
}

fn canonical_principal(value: &Value) -> Value {
    match value {
        // `"*"` and `{"AWS": "*"}` grant the same.
        Value::String(star) if star == "*" => {
            let mut map = Map::new();
            map.insert("AWS".to_string(), Value::Array(vec![Value::String("*".to_string())]));
            Value::Object(map)
        }
        Value::Object(map) => {
            let mut out = Map::new();
            for (kind, principals) in map {
                let list = match principals {
                    Value::Array(list) => list.clone(),
                    other => vec![other.clone()],
                };
                let mut list: Vec<Value> = list
                    .into_iter()
                    .map(|principal| match (kind.as_str(), &principal) {
                        ("AWS", Value::String(id)) if id.len() == 12 && id.chars().all(|c| c.is_ascii_digit()) => {
                            Value::String(format!("arn:aws:iam::{id}:root"))
                        }
                        _ => principal,
                    })
                    .collect();
                list.sort_by_key(|item| item.to_string());
                list.dedup();
                out.insert(kind.clone(), Value::Array(list));
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn canonical_condition(value: &Value) -> Value {
    let Value::Object(operators) = value else {
        return value.clone();
    };
    let mut out = Map::new();
    for (operator, keys) in operators {
        let canonical_keys = match keys {
            Value::Object(keys) => {
                let mut inner = Map::new();
                for (key, values) in keys {
                    inner.insert(key.clone(), string_set(&condition_strings(values)));
                }
                Value::Object(inner)
            }
            other => other.clone(),
        };
        out.insert(operator.clone(), canonical_keys);
    }
    Value::Object(out)
}

/// Condition values with booleans and numbers as the strings IAM reads them
/// as (`false` is `"false"`, `10` is `"10"`), as awspolicyequivalence does.
fn condition_strings(values: &Value) -> Value {
    let as_string = |value: &Value| match value {
        Value::Bool(flag) => Value::String(flag.to_string()),
        Value::Number(number) => Value::String(number.to_string()),
        other => other.clone(),
    };
    match values {
        Value::Array(list) => Value::Array(list.iter().map(as_string).collect()),
        single => as_string(single),
    }
}

/// `value` with every object's keys in sorted order, for stable output.
pub fn sort_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sort_keys(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(a: Value, b: Value, expect: bool) {
        assert_eq!(equivalent(&a, &b), expect, "{a}\n{b}");
    }

    #[test]
    fn equivalences_of_awspolicyequivalence_hold() {
        let base = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}
        ]});
        // Statement order, action order, string vs one-element list, effect case, key order.
        check(
            base.clone(),
            json!({"Statement": [
                {"Resource": "*", "Action": ["s3:DeleteObject"], "Effect": "deny"},
                {"Action": ["s3:PutObject", "s3:GetObject"], "Effect": "Allow", "Resource": ["arn:aws:s3:::b/*"]}
            ], "Version": "2012-10-17"}),
            true,
        );
        // A different resource is a real difference.
        check(
            base.clone(),
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::c/*"},
                {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}
            ]}),
            false,
        );
        // A single statement object equals a list of one.
        check(
            json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "a:b", "Resource": "*"}}),
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["a:b"], "Resource": ["*"]}]}),
            true,
        );
    }

    #[test]
    fn principals_and_conditions_are_order_insensitive() {
        check(
            json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["111111111111", "arn:aws:iam::222222222222:root"]},
                   "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:SourceArn": ["b", "a"]}}}]}),
            json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::222222222222:root", "arn:aws:iam::111111111111:root"]},
                   "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:SourceArn": ["a", "b"]}}}]}),
            true,
        );
        check(
            json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "x:y"}]}),
            json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "x:y"}]}),
            true,
        );
    }

    #[test]
    fn sid_and_action_case_are_significant() {
        check(
            json!({"Statement": [{"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject"}]}),
            json!({"Statement": [{"Sid": "B", "Effect": "Allow", "Action": "s3:GetObject"}]}),
            false,
        );
        check(
            json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "s3:getobject"}]}),
            false,
        );
    }
}
