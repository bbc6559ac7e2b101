//! Role rules: IAM name, path, description, session duration, policy ARNs,
//! inline policy names and the aggregate inline policy size.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Diagnostics};
use crate::model::reference;

use super::super::pipeline::{Parsed, Resource};
use super::super::raw::RawRole;
use super::super::text::{is_iam_description_char, is_iam_name, is_iam_path, is_managed_policy_arn};
use super::references::aws_name;

/// IAM's limit on the aggregate size of a role's inline policies, in
/// characters, not counting whitespace.
pub(crate) const MAX_INLINE_POLICY_SIZE: usize = 10240;

/// The most managed policies IAM can attach to one role (the quota's maximum).
pub(crate) const MAX_MANAGED_POLICIES: usize = 20;

/// IAM's default quota of managed policies per role.
pub(crate) const DEFAULT_MANAGED_POLICY_QUOTA: usize = 10;

pub(super) fn check(parsed: &Parsed, diagnostics: &mut Diagnostics) {
    for role in &parsed.roles {
        check_role(parsed, role, diagnostics);
    }
}

fn check_role(parsed: &Parsed, role: &Resource<RawRole>, diagnostics: &mut Diagnostics) {
    let raw = &role.value;
    match (&raw.name, aws_name(parsed, &role.key, raw.name.as_ref())) {
        (Some(name), _) if !is_iam_name(name.get(), 64) => diagnostics.push(
            Diagnostic::error("role.name", format!("`{}` is not a valid IAM role name", name.get()))
                .at(parsed.span(name))
                .with_help("role names are 1 to 64 letters, digits and `+ = , . @ _ -`"),
        ),
        (None, Some((name, _))) if !is_iam_name(&name, 64) => diagnostics.push(
            Diagnostic::error(
                "role.name",
                format!("the default role name `{name}` is not a valid IAM role name"),
            )
            .at(role.header.clone())
            .with_help("role names are 1 to 64 letters, digits and `+ = , . @ _ -`; set `name`"),
        ),
        _ => {}
    }
    if let Some(path) = &raw.path
        && !is_iam_path(path.get())
    {
        diagnostics.push(
            Diagnostic::error("role.path", format!("`{}` is not a valid IAM path", path.get()))
                .at(parsed.span(path))
                .with_help(
                    "a path is `/` or starts and ends with `/` (`/emr/`), at most 512 printable ASCII characters",
                ),
        );
    }
    if let Some(description) = &raw.description {
        let length = description.chars().count();
        if length > 1000 {
            diagnostics.push(
                Diagnostic::error(
                    "role.description",
                    format!("description is {length} characters long; at most 1000 are allowed"),
                )
                .at(parsed.span(description)),
            );
        }
        if let Some(bad) = description.chars().find(|c| !is_iam_description_char(*c)) {
            diagnostics.push(
                Diagnostic::error(
                    "role.description",
                    format!("description contains `{bad}`, which IAM does not allow"),
                )
                .at(parsed.span(description))
                .with_help("IAM descriptions use printable ASCII and Latin-1 characters"),
            );
        }
    }
    if let Some(duration) = &raw.max_session_duration
        && !(3600..=43200).contains(duration.get())
    {
        diagnostics.push(
            Diagnostic::error(
                "role.max-session-duration",
                format!(
                    "`max_session_duration` is {} seconds; it must be 3600 to 43200",
                    duration.get()
                ),
            )
            .at(parsed.span(duration))
            .with_help("use 1 to 12 hours, in seconds"),
        );
    }
    if let Some(boundary) = &raw.permissions_boundary
        && !is_managed_policy_arn(boundary.get())
    {
        diagnostics.push(
            Diagnostic::error(
                "role.permissions-boundary",
                format!("`{}` is not a managed policy ARN", boundary.get()),
            )
            .at(parsed.span(boundary))
            .with_help("write `arn:aws:iam::123456789012:policy/NAME` or `arn:aws:iam::aws:policy/NAME`"),
        );
    }
    if let Some(arns) = &raw.managed_policy_arns {
        let mut seen: BTreeMap<&str, crate::diag::Span> = BTreeMap::new();
        for arn in arns.iter() {
            if !is_managed_policy_arn(arn.get()) {
                diagnostics.push(
                    Diagnostic::error(
                        "role.managed-policy-arn",
                        format!("`{}` is not a managed policy ARN", arn.get()),
                    )
                    .at(parsed.span(arn))
                    .with_help("write `arn:aws:iam::123456789012:policy/NAME` or `arn:aws:iam::aws:policy/NAME`"),
                );
            }
            if let Some(first) = seen.get(arn.get().as_str()) {
                diagnostics.push(
                    Diagnostic::warning("reference.duplicate", format!("policy `{}` is listed twice", arn.get()))
                        .at(parsed.span(arn))
                        .with_label(first.clone(), "first listed here")
                        .with_help("remove the duplicate"),
                );
            } else {
                seen.insert(arn.get(), parsed.span(arn));
            }
        }
        if seen.len() > MAX_MANAGED_POLICIES {
            diagnostics.push(
                Diagnostic::error(
                    "role.managed-policy-count",
                    format!(
                        "`role.{}` attaches {} managed policies; IAM allows at most {MAX_MANAGED_POLICIES}",
                        role.key,
                        seen.len()
                    ),
                )
                .at(parsed.span(arns))
                .with_help("combine policies, or move statements into inline policies"),
            );
        } else if seen.len() > DEFAULT_MANAGED_POLICY_QUOTA {
            diagnostics.push(
                Diagnostic::warning(
                    "role.managed-policy-count",
                    format!(
                        "`role.{}` attaches {} managed policies; the default IAM quota is {DEFAULT_MANAGED_POLICY_QUOTA} per role",
                        role.key,
                        seen.len()
                    ),
                )
                .at(parsed.span(arns))
                .with_help("ask for a higher \"Managed policies per role\" quota before applying, or combine policies"),
            );
        }
    }
    trust(parsed, role, diagnostics);
    let mut total = 0;
    for name in raw.policies.keys() {
        if !is_iam_name(name.get(), 128) {
            diagnostics.push(
                Diagnostic::error(
                    "policy.name",
                    format!("`{}` is not a valid IAM policy name", name.get()),
                )
                .at(parsed.span(name))
                .with_help("policy names are 1 to 128 letters, digits and `+ = , . @ _ -`"),
            );
        }
        if let Some(policy) = parsed.policies.get(&(role.key.clone(), name.get().clone())) {
            total += policy_size(parsed, &policy.document);
        }
    }
    if total > MAX_INLINE_POLICY_SIZE {
        let first = raw
            .policies
            .keys()
            .next()
            .map(|name| parsed.span(name))
            .unwrap_or_else(|| role.header.clone());
        diagnostics.push(
            Diagnostic::error(
                "policy.size",
                format!(
                    "inline policies of `role.{}` take {total} characters; IAM allows {MAX_INLINE_POLICY_SIZE} per role",
                    role.key
                ),
            )
            .at(first)
            .with_help("move statements into a managed policy and list it in `managed_policy_arns` (sizes count application ARNs at full length and ignore whitespace)"),
        );
    }
}

/// A stated `trust_policy`: not together with `trust_applications` (which
/// shapes the generated one), and a warning when no statement lets EMR
/// Serverless assume the role (its job runs could not use it).
fn trust(parsed: &Parsed, role: &Resource<RawRole>, diagnostics: &mut Diagnostics) {
    let raw = &role.value;
    let Some(stated) = &raw.trust_policy else {
        return;
    };
    if let Some(applications) = &raw.trust_applications {
        diagnostics.push(
            Diagnostic::error(
                "role.trust-policy-conflict",
                format!("`role.{}` has both `trust_applications` and `trust_policy`", role.key),
            )
            .at(parsed.span(applications))
            .with_label(parsed.span(stated), "the trust policy is stated here")
            .with_help(
                "`trust_applications` shapes the trust policy emrstack generates; with `trust_policy`, write the \
                 applications' ARNs (`${application.<key>.arn}`) in its conditions instead",
            ),
        );
    }
    if let Some(document) = parsed.trust_policies.get(&role.key)
        && !lets_emr_serverless_assume(&document.document)
    {
        diagnostics.push(
            Diagnostic::warning(
                "role.trust-policy-service",
                format!(
                    "the `trust_policy` of `role.{}` has no statement that lets `{}` assume the role",
                    role.key,
                    crate::model::role::EMR_SERVERLESS_PRINCIPAL
                ),
            )
            .at(parsed.span(stated))
            .with_help("EMR Serverless job runs cannot use the role as their runtime role without one"),
        );
    }
}

/// Whether a trust policy has an `Allow` statement whose principal is the
/// EMR Serverless service (or anyone).
fn lets_emr_serverless_assume(document: &serde_json::Value) -> bool {
    use serde_json::Value;
    let names = |value: Option<&Value>| match value {
        Some(Value::String(text)) => vec![text.clone()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    };
    crate::model::repository::statements(document)
        .into_iter()
        .any(|statement| {
            let allows = statement.get("Effect").and_then(Value::as_str) == Some("Allow");
            let principal = statement.get("Principal");
            let trusted = principal.and_then(Value::as_str) == Some("*")
                || names(principal.and_then(|p| p.get("Service")))
                    .iter()
                    .any(|service| service == crate::model::role::EMR_SERVERLESS_PRINCIPAL)
                || names(principal.and_then(|p| p.get("AWS"))).iter().any(|aws| aws == "*");
            allows && trusted
        })
}

/// The size IAM counts for a policy: minified JSON, with each application ARN
/// placeholder at the length of a real ARN.
fn policy_size(parsed: &Parsed, document: &serde_json::Value) -> usize {
    let region = parsed.region.clone().unwrap_or_else(|| "ap-southeast-1".to_string());
    let account = parsed
        .stack
        .as_ref()
        .and_then(|s| s.account_id.as_ref())
        .map(|a| a.get().clone())
        .unwrap_or_else(|| "123456789012".to_string());
    let arns = reference::placeholders_in(document)
        .into_iter()
        .map(|app| {
            (
                app,
                format!("arn:aws:emr-serverless:{region}:{account}:/applications/00f1abcdefghij25"),
            )
        })
        .collect();
    let resolved = reference::substitute(document, &arns);
    serde_json::to_string(&resolved).map(|text| text.len()).unwrap_or(0)
}
