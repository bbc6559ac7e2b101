//! IAM job runtime roles: their specification and the trust policy emrstack generates.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The service principal that assumes job runtime roles and pulls custom images.
pub const EMR_SERVERLESS_PRINCIPAL: &str = "emr-serverless.amazonaws.com";

/// Every configurable field of an IAM role as emrstack manages it.
///
/// Policy documents are parsed JSON. They may contain ARN placeholders
/// (see [`crate::model::reference`]) for applications that do not exist yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleSpec {
    /// Role name, 1 to 64 of `[\w+=,.@-]`. Changing it replaces the role.
    pub name: String,
    /// IAM path, `/` by default. Changing it replaces the role.
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Maximum session duration in seconds, 3600 to 43200.
    pub max_session_duration: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
    /// The assume-role (trust) policy document.
    pub trust_policy: Value,
    /// Inline policies by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inline_policies: BTreeMap<String, Value>,
    /// ARNs of attached managed policies.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub managed_policy_arns: BTreeSet<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// A role as declared in the stack file, before the planner generates its
/// trust policy (which needs application ARNs and the account ID).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredRole {
    pub name: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub max_session_duration: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inline_policies: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub managed_policy_arns: BTreeSet<String>,
    /// Application keys (`etl` for `application.etl`) the trust policy is scoped
    /// to with `aws:SourceArn`. Empty means any EMR Serverless application of
    /// the account may assume the role.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trust_applications: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub prevent_destroy: bool,
}

/// The `Sid` emrstack gave its trust statement before it marked roles with
/// their stack ([`trust_policy`]). Roles written then are recognised by this
/// `Sid` together with the rest of emrstack's statement
/// ([`is_legacy_trust_policy`]), because the name alone is common.
pub const LEGACY_TRUST_SID: &str = "EMRServerlessTrustPolicy";

/// Whether a trust policy carries the stack marker that emrstack writes as
/// the `Sid` of its statement: [`crate::model::repository::statement_sid`]
/// of the stack. `ListRoles` returns trust policies but not tags, so this is
/// how a plan finds a stack's roles among every role of the account from the
/// listing alone (docs/observe.md, "Roles").
pub fn has_stack_marker(trust_policy: &Value, stack: &str) -> bool {
    let marker = super::repository::statement_sid(stack);
    super::repository::find_statement(trust_policy, &marker).is_some()
}

/// Whether a trust policy is the one emrstack wrote before stack markers:
/// the legacy `Sid`, the EMR Serverless principal, and the
/// `aws:SourceAccount` condition emrstack always adds. Such roles may belong
/// to any stack (their tags tell); a plan reads them until an apply has
/// replaced their trust policy with a marked one.
pub fn is_legacy_trust_policy(trust_policy: &Value) -> bool {
    super::repository::statements(trust_policy)
        .into_iter()
        .any(|statement| {
            statement.get("Sid").and_then(Value::as_str) == Some(LEGACY_TRUST_SID)
                && statement.pointer("/Principal/Service").and_then(Value::as_str) == Some(EMR_SERVERLESS_PRINCIPAL)
                && statement.pointer("/Condition/StringEquals/aws:SourceAccount").is_some()
        })
}

/// The trust policy of a job runtime role of `stack`.
///
/// The statement lets EMR Serverless assume the role, restricted to the
/// stack's account with `aws:SourceAccount` (the confused-deputy guard AWS
/// recommends for service principals) and, when `application_arns` is not
/// empty, to those applications and their job runs with `aws:SourceArn`.
/// Its `Sid` is the stack marker ([`has_stack_marker`]).
pub fn trust_policy(stack: &str, account_id: &str, application_arns: &[String]) -> Value {
    let mut condition = serde_json::Map::new();
    condition.insert("StringEquals".to_string(), json!({ "aws:SourceAccount": account_id }));
    if !application_arns.is_empty() {
        // Job runs carry the ARN of their job run, which sits under the
        // application ARN, so allow both the application and its children.
        let mut patterns = Vec::new();
        for arn in application_arns {
            patterns.push(Value::String(arn.clone()));
            patterns.push(Value::String(format!("{arn}/*")));
        }
        condition.insert("ArnLike".to_string(), json!({ "aws:SourceArn": patterns }));
    }
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": super::repository::statement_sid(stack),
            "Effect": "Allow",
            "Principal": { "Service": EMR_SERVERLESS_PRINCIPAL },
            "Action": "sts:AssumeRole",
            "Condition": Value::Object(condition),
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trust_statement_is_marked_with_its_stack() {
        let policy = trust_policy("analytics-dev", "123456789012", &[]);
        assert!(has_stack_marker(&policy, "analytics-dev"));
        assert!(!has_stack_marker(&policy, "analytics-prod"));
        assert!(!is_legacy_trust_policy(&policy));
    }

    #[test]
    fn the_legacy_statement_needs_emrstacks_whole_shape() {
        let mut legacy = trust_policy("dev", "123456789012", &[]);
        legacy["Statement"][0]["Sid"] = json!(LEGACY_TRUST_SID);
        assert!(is_legacy_trust_policy(&legacy));
        assert!(!has_stack_marker(&legacy, "dev"));
        // The same Sid without emrstack's account condition is someone else's.
        let mut plain = legacy.clone();
        plain["Statement"][0].as_object_mut().unwrap().remove("Condition");
        assert!(!is_legacy_trust_policy(&plain));
    }
}
