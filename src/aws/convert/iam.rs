//! IAM roles and policy documents: IAM returns documents URL-encoded (RFC 3986
//! percent-encoding of the JSON text); they are decoded and parsed here.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_iam::types as sdk;
use percent_encoding::percent_decode_str;
use serde_json::Value;

use crate::cloud::{CloudError, ErrorKind};
use crate::model::repository::statements;
use crate::model::role::EMR_SERVERLESS_PRINCIPAL;
use crate::model::{ObservedRole, RoleSpec, RoleSummary};

/// The maximum session duration IAM applies when a role does not say (seconds).
const DEFAULT_MAX_SESSION_DURATION: u32 = 3600;

/// A policy document as IAM returns it: percent-encoded JSON. A document that
/// is already plain JSON (some emulators) is parsed as is.
pub(crate) fn decode_document(text: &str) -> Result<Value, String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{')
        && let Ok(value) = serde_json::from_str(trimmed)
    {
        return Ok(value);
    }
    let decoded = percent_decode_str(text)
        .decode_utf8()
        .map_err(|err| format!("not valid UTF-8 after URL-decoding: {err}"))?;
    serde_json::from_str(&decoded).map_err(|err| format!("not valid JSON after URL-decoding: {err}"))
}

/// Whether a trust policy lets the EMR Serverless service principal in: a
/// statement whose `Principal.Service` is that principal or a list holding it.
pub(crate) fn trusts_emr_serverless(trust_policy: &Value) -> bool {
    statements(trust_policy).into_iter().any(|statement| {
        match statement
            .get("Principal")
            .and_then(|principal| principal.get("Service"))
        {
            Some(Value::String(service)) => service == EMR_SERVERLESS_PRINCIPAL,
            Some(Value::Array(services)) => services
                .iter()
                .any(|service| service.as_str() == Some(EMR_SERVERLESS_PRINCIPAL)),
            _ => false,
        }
    })
}

/// A `ListRoles` entry. A trust policy that is missing or cannot be decoded
/// is `null` (such a role cannot be a job runtime role).
pub(crate) fn role_summary(role: sdk::Role) -> RoleSummary {
    let trust_policy = role
        .assume_role_policy_document
        .as_deref()
        .and_then(|text| decode_document(text).ok())
        .unwrap_or(Value::Null);
    RoleSummary {
        name: role.role_name,
        arn: role.arn,
        path: role.path,
        trusts_emr_serverless: trusts_emr_serverless(&trust_policy),
        trust_policy,
    }
}

/// `GetRole`'s role plus its inline and attached policies.
pub(crate) fn observed_role(
    role: sdk::Role,
    inline_policies: BTreeMap<String, Value>,
    managed_policy_arns: BTreeSet<String>,
) -> Result<ObservedRole, CloudError> {
    let trust_policy = match role.assume_role_policy_document.as_deref() {
        Some(text) => decode_document(text).map_err(|problem| {
            CloudError::new(
                ErrorKind::Other,
                "GetRole",
                format!("`AssumeRolePolicyDocument` of role `{}` is {problem}", role.role_name),
            )
        })?,
        None => Value::Null,
    };
    let max_session_duration = match role.max_session_duration {
        Some(seconds) => u32::try_from(seconds).map_err(|_| {
            CloudError::new(
                ErrorKind::Other,
                "GetRole",
                format!(
                    "unexpected value `{seconds}` in `MaxSessionDuration` of role `{}`",
                    role.role_name
                ),
            )
        })?,
        None => DEFAULT_MAX_SESSION_DURATION,
    };
    let tags = role
        .tags
        .unwrap_or_default()
        .into_iter()
        .map(|tag| (tag.key, tag.value))
        .collect();
    Ok(ObservedRole {
        arn: role.arn,
        role_id: role.role_id,
        spec: RoleSpec {
            name: role.role_name,
            path: role.path,
            description: role.description.filter(|description| !description.is_empty()),
            max_session_duration,
            permissions_boundary: role
                .permissions_boundary
                .and_then(|boundary| boundary.permissions_boundary_arn),
            trust_policy,
            inline_policies,
            managed_policy_arns,
            tags,
        },
    })
}

/// IAM tags for a tag map.
pub(crate) fn tags(map: &BTreeMap<String, String>) -> Result<Vec<sdk::Tag>, CloudError> {
    map.iter()
        .map(|(key, value)| {
            sdk::Tag::builder().key(key).value(value).build().map_err(|err| {
                CloudError::new(
                    ErrorKind::Invalid,
                    "TagRole",
                    format!("could not build the request: {err}"),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::DateTime;
    use serde_json::json;

    const ENCODED_TRUST: &str = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22emr-serverless.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";

    #[test]
    fn documents_are_url_decoded_then_parsed() {
        let value = decode_document(ENCODED_TRUST).unwrap();
        assert_eq!(
            value["Statement"][0]["Principal"]["Service"],
            "emr-serverless.amazonaws.com"
        );
        // A space is %20 and a literal plus stays a plus.
        assert_eq!(
            decode_document("%7B%22a%22%3A%22x%20y+z%22%7D").unwrap(),
            json!({"a": "x y+z"})
        );
        // Plain JSON, including a literal percent sign, is taken as is.
        assert_eq!(decode_document("{\"a\": \"100%25\"}").unwrap(), json!({"a": "100%25"}));
        assert!(decode_document("%7Bnot json").is_err());
    }

    #[test]
    fn trust_principal_may_be_a_string_or_a_list() {
        let check = |policy: Value, expect: bool| assert_eq!(trusts_emr_serverless(&policy), expect, "{policy}");
        check(
            json!({"Statement": [{"Principal": {"Service": "emr-serverless.amazonaws.com"}}]}),
            true,
        );
        check(
            json!({"Statement": {"Principal": {"Service": ["glue.amazonaws.com", "emr-serverless.amazonaws.com"]}}}),
            true,
        );
        check(
            json!({"Statement": [{"Principal": {"Service": "glue.amazonaws.com"}}]}),
            false,
        );
        check(
            json!({"Statement": [{"Principal": {"AWS": "emr-serverless.amazonaws.com"}}]}),
            false,
        );
        check(json!({"Statement": [{"Principal": "*"}]}), false);
        check(json!({}), false);
    }

    fn role(trust: Option<&str>) -> sdk::Role {
        sdk::Role::builder()
            .path("/jobs/")
            .role_name("etl")
            .role_id("AROA1")
            .arn("arn:aws:iam::111122223333:role/jobs/etl")
            .create_date(DateTime::from_secs(0))
            .set_assume_role_policy_document(trust.map(str::to_string))
            .description("")
            .max_session_duration(7200)
            .permissions_boundary(
                sdk::AttachedPermissionsBoundary::builder()
                    .permissions_boundary_arn("arn:aws:iam::111122223333:policy/boundary")
                    .build(),
            )
            .tags(sdk::Tag::builder().key("team").value("data").build().unwrap())
            .build()
            .unwrap()
    }

    #[test]
    fn list_roles_entries_say_whether_they_trust_emr_serverless() {
        let summary = role_summary(role(Some(ENCODED_TRUST)));
        assert_eq!((summary.name.as_str(), summary.path.as_str()), ("etl", "/jobs/"));
        assert!(summary.trusts_emr_serverless);
        for broken in [None, Some("%7Bbroken")] {
            let summary = role_summary(role(broken));
            assert_eq!(summary.trust_policy, Value::Null);
            assert!(!summary.trusts_emr_serverless);
        }
    }

    #[test]
    fn observed_role_has_every_field() {
        let inline = BTreeMap::from([("s3".to_string(), json!({"Version": "2012-10-17"}))]);
        let managed = BTreeSet::from(["arn:aws:iam::111122223333:policy/p".to_string()]);
        let observed = observed_role(role(Some(ENCODED_TRUST)), inline.clone(), managed.clone()).unwrap();
        assert_eq!(observed.role_id, "AROA1");
        assert_eq!(observed.spec.description, None);
        assert_eq!(observed.spec.max_session_duration, 7200);
        assert_eq!(
            observed.spec.permissions_boundary.as_deref(),
            Some("arn:aws:iam::111122223333:policy/boundary")
        );
        assert_eq!(observed.spec.inline_policies, inline);
        assert_eq!(observed.spec.managed_policy_arns, managed);
        assert_eq!(observed.spec.tags["team"], "data");
        assert!(trusts_emr_serverless(&observed.spec.trust_policy));
        let err = observed_role(role(Some("%7Bbroken")), BTreeMap::new(), BTreeSet::new()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Other);
        assert!(err.message.contains("AssumeRolePolicyDocument"), "{}", err.message);
    }
}
