//! ECR repository policies: the one statement per stack that lets EMR
//! Serverless pull custom images, merged into whatever else the policy holds.
//!
//! The repository itself is not created or deleted by emrstack. A stack owns
//! exactly one statement in each repository policy it manages, recognised by
//! its `Sid` (see [`statement_sid`]); statements written by anyone else are
//! kept byte for byte.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::role::EMR_SERVERLESS_PRINCIPAL;

/// The ECR actions EMR Serverless needs to pull an image.
pub const PULL_ACTIONS: [&str; 3] = ["ecr:BatchGetImage", "ecr:DescribeImages", "ecr:GetDownloadUrlForLayer"];

/// A repository as declared in the stack file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredRepository {
    /// The ECR repository name (`analytics/spark`).
    pub name: String,
    /// Application keys granted pull access, scoped by `aws:SourceArn`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applications: Vec<String>,
}

/// The `Sid` of the statement a stack owns in a repository policy.
///
/// IAM restricts `Sid` to ASCII letters and digits, so the stack name is
/// reduced to those and a short hash of the full name keeps two stacks whose
/// names differ only in punctuation (`a-b`, `ab`) apart.
pub fn statement_sid(stack: &str) -> String {
    let letters: String = stack
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect();
    let digest = Sha256::digest(stack.as_bytes());
    let hash: String = digest.iter().take(3).map(|b| format!("{b:02x}")).collect();
    format!("Emrstack{letters}{hash}")
}

/// The statement a stack owns: pull access for EMR Serverless, limited to the
/// given application ARNs. Returns `None` when no application is granted.
pub fn pull_statement(stack: &str, application_arns: &[String]) -> Option<Value> {
    if application_arns.is_empty() {
        return None;
    }
    let mut arns: Vec<Value> = application_arns.iter().cloned().map(Value::String).collect();
    arns.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    arns.dedup();
    let source_arn = if arns.len() == 1 {
        arns.remove(0)
    } else {
        Value::Array(arns)
    };
    Some(json!({
        "Sid": statement_sid(stack),
        "Effect": "Allow",
        "Principal": { "Service": EMR_SERVERLESS_PRINCIPAL },
        "Action": PULL_ACTIONS,
        "Condition": { "StringEquals": { "aws:SourceArn": source_arn } },
    }))
}

/// The statements of a policy document, whether `Statement` is a list or a
/// single object.
pub fn statements(policy: &Value) -> Vec<&Value> {
    match policy.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(single @ Value::Object(_)) => vec![single],
        _ => Vec::new(),
    }
}

/// The statement with the given `Sid`, if the policy has one.
pub fn find_statement<'a>(policy: &'a Value, sid: &str) -> Option<&'a Value> {
    statements(policy)
        .into_iter()
        .find(|statement| statement.get("Sid").and_then(Value::as_str) == Some(sid))
}

/// The policy that results from replacing (or removing, with `None`) the
/// stack's statement in `current`, keeping every other statement unchanged.
///
/// Returns `None` when no statement would remain, which means the repository
/// policy should be deleted rather than set to an empty document.
pub fn merge_statement(current: Option<&Value>, sid: &str, statement: Option<Value>) -> Option<Value> {
    let mut document = match current {
        Some(Value::Object(map)) => map.clone(),
        _ => {
            let mut map = Map::new();
            map.insert("Version".to_string(), Value::String("2012-10-17".to_string()));
            map
        }
    };
    let mut kept: Vec<Value> = match document.remove("Statement") {
        Some(Value::Array(list)) => list,
        Some(single @ Value::Object(_)) => vec![single],
        _ => Vec::new(),
    };
    let position = kept
        .iter()
        .position(|existing| existing.get("Sid").and_then(Value::as_str) == Some(sid));
    match (position, statement) {
        (Some(index), Some(statement)) => kept[index] = statement,
        (Some(index), None) => {
            kept.remove(index);
        }
        (None, Some(statement)) => kept.push(statement),
        (None, None) => {}
    }
    if kept.is_empty() {
        return None;
    }
    document.insert("Statement".to_string(), Value::Array(kept));
    Some(Value::Object(document))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sid_is_alphanumeric_and_tells_similar_stacks_apart() {
        let a = statement_sid("analytics-dev");
        let b = statement_sid("analyticsdev");
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert!(a.starts_with("EmrstackAnalyticsDev"), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn merge_keeps_foreign_statements_and_replaces_ours() {
        let foreign = json!({"Sid": "Team", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "ecr:*"});
        let current = json!({"Version": "2012-10-17", "Statement": [foreign.clone()]});
        let ours = pull_statement(
            "dev",
            &["arn:aws:emr-serverless:us-east-1:111111111111:/applications/abc".to_string()],
        );
        let merged = merge_statement(Some(&current), &statement_sid("dev"), ours.clone()).unwrap();
        assert_eq!(statements(&merged), vec![&foreign, ours.as_ref().unwrap()]);
        let removed = merge_statement(Some(&merged), &statement_sid("dev"), None).unwrap();
        assert_eq!(removed, current);
    }

    #[test]
    fn merge_removing_the_last_statement_deletes_the_policy() {
        let ours = pull_statement("dev", &["arn:x".to_string()]);
        let merged = merge_statement(None, &statement_sid("dev"), ours).unwrap();
        assert_eq!(merge_statement(Some(&merged), &statement_sid("dev"), None), None);
    }

    #[test]
    fn pull_statement_sorts_arns_and_needs_at_least_one() {
        assert_eq!(pull_statement("dev", &[]), None);
        let statement = pull_statement("dev", &["b".to_string(), "a".to_string()]).unwrap();
        assert_eq!(
            statement["Condition"]["StringEquals"]["aws:SourceArn"],
            json!(["a", "b"])
        );
    }
}
