//! IAM job runtime roles: their specification and the trust policy emrstack generates.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The service principal that assumes job runtime roles and pulls custom images.
pub const EMR_SERVERLESS_PRINCIPAL: &str = "emr-serverless.amazonaws.com";

/// The path IAM gives a role created without one.
pub const DEFAULT_PATH: &str = "/";

/// The maximum session duration IAM gives a role created without one (seconds).
pub const DEFAULT_MAX_SESSION_DURATION: u32 = 3600;

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

/// The fields of a role as plans show them, as `emrstack:applied` records
/// them, and as a planned update names the ones it changes: one per IAM
/// call that changes it. The variants are declared in the order of their
/// keys, so a map by field lists them as a map by key would.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum RoleField {
    Description,
    ManagedPolicyArns,
    MaxSessionDuration,
    Name,
    Path,
    PermissionsBoundary,
    /// An inline policy, by its name.
    InlinePolicy(String),
    Tags,
    TrustPolicy,
}

impl RoleField {
    /// The fields every role has (inline policies come by name).
    pub const FIXED: [RoleField; 8] = [
        RoleField::Description,
        RoleField::ManagedPolicyArns,
        RoleField::MaxSessionDuration,
        RoleField::Name,
        RoleField::Path,
        RoleField::PermissionsBoundary,
        RoleField::Tags,
        RoleField::TrustPolicy,
    ];

    /// Every field of `spec`: the fixed ones and one per inline policy.
    pub fn all_of(spec: &RoleSpec) -> impl Iterator<Item = RoleField> + '_ {
        RoleField::FIXED
            .into_iter()
            .chain(spec.inline_policies.keys().cloned().map(RoleField::InlinePolicy))
    }

    /// The field's key in plan field paths and in the applied record:
    /// `policies.<name>` for an inline policy.
    pub fn key(&self) -> String {
        match self {
            RoleField::InlinePolicy(name) => format!("policies.{name}"),
            fixed => fixed.fixed_key().to_string(),
        }
    }

    fn fixed_key(&self) -> &'static str {
        match self {
            RoleField::Description => "description",
            RoleField::ManagedPolicyArns => "managed_policy_arns",
            RoleField::MaxSessionDuration => "max_session_duration",
            RoleField::Name => "name",
            RoleField::Path => "path",
            RoleField::PermissionsBoundary => "permissions_boundary",
            RoleField::InlinePolicy(_) => "policies",
            RoleField::Tags => "tags",
            RoleField::TrustPolicy => "trust_policy",
        }
    }

    /// The field with key `key`, if there is one.
    pub fn from_key(key: &str) -> Option<RoleField> {
        if let Some(name) = key.strip_prefix("policies.") {
            return Some(RoleField::InlinePolicy(name.to_string()));
        }
        RoleField::FIXED.into_iter().find(|field| field.fixed_key() == key)
    }

    /// Whether a change to this field replaces the role.
    pub fn forces_replacement(&self) -> bool {
        matches!(self, RoleField::Name | RoleField::Path)
    }

    /// The human name of the IAM call that changes the field (`update-role`
    /// step parts, docs/plan-format.md).
    pub fn part(&self) -> String {
        match self {
            RoleField::Description | RoleField::MaxSessionDuration => "role settings".to_string(),
            RoleField::TrustPolicy => "trust policy".to_string(),
            RoleField::PermissionsBoundary => "permissions boundary".to_string(),
            RoleField::ManagedPolicyArns => "managed policy attachments".to_string(),
            RoleField::Tags => "tags".to_string(),
            RoleField::InlinePolicy(name) => format!("inline policy `{name}`"),
            RoleField::Name | RoleField::Path => self.fixed_key().to_string(),
        }
    }
}

impl fmt::Display for RoleField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

impl From<RoleField> for String {
    fn from(field: RoleField) -> String {
        field.key()
    }
}

impl TryFrom<String> for RoleField {
    type Error = String;

    fn try_from(key: String) -> Result<RoleField, String> {
        RoleField::from_key(&key).ok_or_else(|| format!("`{key}` is not a field of a role"))
    }
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
    /// The trust policy as the stack file states it (`trust_policy`), instead
    /// of the one emrstack generates from `trust_applications`; the planner
    /// adds the stack's [`marker_statement`] to it. It may name application
    /// ARNs as placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_policy: Option<Value>,
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

/// Whether a trust policy is exactly of the shape emrstack wrote before
/// stack markers: a `Version` of `2012-10-17` and one statement, with the
/// legacy `Sid`, `Allow`, the EMR Serverless principal as a plain string,
/// `sts:AssumeRole`, and a condition of `aws:SourceAccount` under
/// `StringEquals`, optionally with `aws:SourceArn` under `ArnLike` as
/// emrstack wrote it: pairs of an application ARN and that ARN followed by
/// `/*`. Such roles may belong to any stack (their tags tell); a plan reads
/// them until an apply has replaced their trust policy with a marked one.
///
/// The `Sid` alone is common (AWS's guide uses it), and so is the account
/// condition that AWS advises against the confused deputy, so only the
/// whole shape counts; a policy written by hand in exactly this shape is
/// read too (docs/observe.md, "Roles").
pub fn is_legacy_trust_policy(trust_policy: &Value) -> bool {
    let Some(document) = trust_policy.as_object() else {
        return false;
    };
    let Some([statement]) = document.get("Statement").and_then(Value::as_array).map(Vec::as_slice) else {
        return false;
    };
    let Some(statement) = statement.as_object() else {
        return false;
    };
    let keys: BTreeSet<&str> = statement.keys().map(String::as_str).collect();
    document.len() == 2
        && document.get("Version") == Some(&json!("2012-10-17"))
        && keys == BTreeSet::from(["Sid", "Effect", "Principal", "Action", "Condition"])
        && statement.get("Sid") == Some(&json!(LEGACY_TRUST_SID))
        && statement.get("Effect") == Some(&json!("Allow"))
        && statement.get("Principal") == Some(&json!({ "Service": EMR_SERVERLESS_PRINCIPAL }))
        && statement.get("Action") == Some(&json!("sts:AssumeRole"))
        && statement
            .get("Condition")
            .and_then(Value::as_object)
            .is_some_and(is_legacy_condition)
}

/// The condition of emrstack's trust statement from before markers (see
/// [`is_legacy_trust_policy`]).
fn is_legacy_condition(condition: &serde_json::Map<String, Value>) -> bool {
    let account = condition
        .get("StringEquals")
        .and_then(Value::as_object)
        .is_some_and(|equals| equals.len() == 1 && equals.get("aws:SourceAccount").is_some_and(Value::is_string));
    let sources = match condition.get("ArnLike") {
        None => true,
        Some(like) => like
            .as_object()
            .filter(|like| like.len() == 1)
            .and_then(|like| like.get("aws:SourceArn"))
            .and_then(Value::as_array)
            .is_some_and(|arns| {
                !arns.is_empty()
                    && arns.len() % 2 == 0
                    && arns.chunks(2).all(|pair| match (pair[0].as_str(), pair[1].as_str()) {
                        (Some(arn), Some(children)) => {
                            arn.contains(":emr-serverless:")
                                && arn.contains(":/applications/")
                                && children == format!("{arn}/*")
                        }
                        _ => false,
                    })
            }),
    };
    account && sources && condition.keys().all(|key| key == "StringEquals" || key == "ArnLike")
}

/// The value of `aws:SourceAccount` in [`marker_statement`]: never an
/// account ID (those are 12 digits), so the statement never applies.
pub const MARKER_SOURCE_ACCOUNT: &str = "emrstack-marker";

/// The statement that marks a role whose trust policy the stack states
/// (`trust_policy` in the stack file) as the stack's, so that a plan finds
/// it from `ListRoles` after it leaves the stack (docs/observe.md, "Roles").
/// Its `Sid` is the stack's marker ([`has_stack_marker`]); it grants and
/// denies nothing: it denies `sts:AssumeRole` to EMR Serverless only when
/// `aws:SourceAccount` is [`MARKER_SOURCE_ACCOUNT`], which no account is.
/// emrstack adds it to the stated trust policy, as it adds ownership tags
/// (docs/ownership.md, "Roles and the marker").
pub fn marker_statement(stack: &str) -> Value {
    json!({
        "Sid": super::repository::statement_sid(stack),
        "Effect": "Deny",
        "Principal": { "Service": EMR_SERVERLESS_PRINCIPAL },
        "Action": "sts:AssumeRole",
        "Condition": { "StringEquals": { "aws:SourceAccount": MARKER_SOURCE_ACCOUNT } },
    })
}

/// `trust_policy` with [`marker_statement`] added as its last statement,
/// unless it already carries the stack's marker; every other statement is
/// kept as it is.
pub fn with_marker(trust_policy: &Value, stack: &str) -> Value {
    if has_stack_marker(trust_policy, stack) {
        return trust_policy.clone();
    }
    let mut document = trust_policy.as_object().cloned().unwrap_or_default();
    let mut statements: Vec<Value> = match document.remove("Statement") {
        Some(Value::Array(list)) => list,
        Some(single) => vec![single],
        None => Vec::new(),
    };
    statements.push(marker_statement(stack));
    document.insert("Statement".to_string(), Value::Array(statements));
    Value::Object(document)
}

/// `trust_policy` without the [`marker_statement`] of `stack`, when it
/// carries exactly that statement: the trust policy as the stack file states
/// it. Anything else is returned unchanged.
pub fn without_marker(trust_policy: &Value, stack: &str) -> Value {
    let marker = marker_statement(stack);
    let Some(Value::Array(list)) = trust_policy.get("Statement") else {
        return trust_policy.clone();
    };
    if !list.contains(&marker) || list.len() < 2 {
        return trust_policy.clone();
    }
    let mut document = trust_policy.clone();
    let kept: Vec<Value> = list.iter().filter(|statement| **statement != marker).cloned().collect();
    document["Statement"] = Value::Array(kept);
    document
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

    /// Fields sort as their keys do (plans list a role's fields in key
    /// order), and every key reads back as its field.
    #[test]
    fn role_fields_sort_as_their_keys_and_round_trip() {
        let mut fields: Vec<RoleField> = RoleField::FIXED.to_vec();
        fields.extend(["a", "a.b", "z"].map(|name| RoleField::InlinePolicy(name.to_string())));
        fields.sort();
        let keys: Vec<String> = fields.iter().map(RoleField::key).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        for field in fields {
            assert_eq!(RoleField::from_key(&field.key()), Some(field.clone()));
            let json = serde_json::to_value(&field).unwrap();
            assert_eq!(json, json!(field.key()));
            assert_eq!(serde_json::from_value::<RoleField>(json).unwrap(), field);
        }
        assert_eq!(RoleField::from_key("nope"), None);
    }

    #[test]
    fn the_trust_statement_is_marked_with_its_stack() {
        let policy = trust_policy("analytics-dev", "123456789012", &[]);
        assert!(has_stack_marker(&policy, "analytics-dev"));
        assert!(!has_stack_marker(&policy, "analytics-prod"));
        assert!(!is_legacy_trust_policy(&policy));
    }

    #[test]
    fn a_stated_trust_policy_gets_the_marker_once_and_loses_only_it() {
        let stated = json!({
            "Version": "2012-10-17",
            "Statement": {"Effect": "Allow", "Principal": {"Service": EMR_SERVERLESS_PRINCIPAL}, "Action": "sts:AssumeRole"},
        });
        let marked = with_marker(&stated, "dev");
        assert!(has_stack_marker(&marked, "dev"));
        assert!(!has_stack_marker(&marked, "prod"));
        assert_eq!(marked["Statement"][0], stated["Statement"]);
        assert_eq!(marked["Statement"][1], marker_statement("dev"));
        assert_eq!(with_marker(&marked, "dev"), marked);
        let unmarked = without_marker(&marked, "dev");
        assert_eq!(unmarked["Statement"], json!([stated["Statement"].clone()]));
        // Only the exact marker statement goes; another stack's stays.
        assert_eq!(without_marker(&marked, "prod"), marked);
        let generated = trust_policy("dev", "123456789012", &[]);
        assert_eq!(without_marker(&generated, "dev"), generated);
    }

    #[test]
    fn the_legacy_statement_needs_emrstacks_whole_shape() {
        let arn = "arn:aws:emr-serverless:us-east-1:123456789012:/applications/00f1".to_string();
        for arns in [vec![], vec![arn.clone()]] {
            let mut legacy = trust_policy("dev", "123456789012", &arns);
            legacy["Statement"][0]["Sid"] = json!(LEGACY_TRUST_SID);
            assert!(is_legacy_trust_policy(&legacy), "{legacy}");
            assert!(!has_stack_marker(&legacy, "dev"));
        }
        let mut legacy = trust_policy("dev", "123456789012", &[arn]);
        legacy["Statement"][0]["Sid"] = json!(LEGACY_TRUST_SID);
        let check = |edit: &dyn Fn(&mut Value), expect: bool| {
            let mut policy = legacy.clone();
            edit(&mut policy);
            assert_eq!(is_legacy_trust_policy(&policy), expect, "{policy}");
        };
        // The same Sid without emrstack's account condition is someone else's.
        check(
            &|p| drop(p["Statement"][0].as_object_mut().unwrap().remove("Condition")),
            false,
        );
        // AWS's advice against the confused deputy, written by hand: the
        // application ARNs under StringLike, or a wildcard.
        check(
            &|p| {
                p["Statement"][0]["Condition"] = json!({
                    "StringEquals": {"aws:SourceAccount": "123456789012"},
                    "StringLike": {"aws:SourceArn": "arn:aws:emr-serverless:us-east-1:123456789012:/applications/*"},
                })
            },
            false,
        );
        check(
            &|p| {
                p["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"] =
                    json!(["arn:aws:emr-serverless:us-east-1:123456789012:/applications/*"])
            },
            false,
        );
        check(&|p| p["Statement"][0]["Action"] = json!(["sts:AssumeRole"]), false);
        check(
            &|p| p["Statement"][0]["Principal"]["Service"] = json!([EMR_SERVERLESS_PRINCIPAL]),
            false,
        );
        check(
            &|p| {
                let statement = p["Statement"][0].clone();
                p["Statement"].as_array_mut().unwrap().push(statement);
            },
            false,
        );
        check(&|p| p["Id"] = json!("mine"), false);
        check(
            &|p| p["Statement"][0]["Condition"]["StringEquals"]["aws:PrincipalAccount"] = json!("1"),
            false,
        );
    }
}
