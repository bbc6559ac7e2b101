//! Reading what `emrstack generate` adopts: the selected applications, the
//! IAM roles their job runs assume, the ECR repositories of their images
//! with the tags and digests that matter, and the subnets of their
//! networks. Only reads; every call through the `Cloud` trait, at most
//! `parallelism` at once.

use std::collections::{BTreeMap, BTreeSet};

use futures::stream::{self, StreamExt, TryStreamExt};
use serde_json::Value;

use crate::cloud::{Cloud, CloudError};
use crate::config::text::parse_image_uri;
use crate::model::role::EMR_SERVERLESS_PRINCIPAL;
use crate::model::{ObservedApplication, ObservedRepository, ObservedRole, Owner, SubnetInfo, repository};
use crate::observe::absent_if_not_found;

use super::{GenerateOptions, Report, ReportKind};

/// Everything generate read.
#[derive(Clone, Debug, Default)]
pub(super) struct Account {
    pub account_id: String,
    pub region: String,
    /// The selected applications, by name.
    pub applications: Vec<ObservedApplication>,
    /// The selected roles, by name.
    pub roles: Vec<ObservedRole>,
    /// Repositories of the selected applications' images in this account
    /// and region, by name.
    pub repositories: BTreeMap<String, ObservedRepository>,
    /// Tags of each image digest the applications use, by repository and digest.
    pub digest_tags: BTreeMap<(String, String), Vec<String>>,
    /// Digests of the image tags the applications use, by repository and tag.
    pub tag_digests: BTreeMap<String, BTreeMap<String, String>>,
    /// The subnets of the applications' networks, by ID.
    pub subnets: BTreeMap<String, SubnetInfo>,
    /// What was not read into the stack, and why.
    pub reports: Vec<Report>,
}

/// `text` matches the glob `pattern`: `*` any run of characters, `?` one.
pub(super) fn glob(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    // Iterative matching with backtracking to the last `*`.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// The strings of a policy value that is a string or a list of strings.
fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(text)) => vec![text.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// How a trust policy lets EMR Serverless assume a role: not at all, for
/// any application (no `aws:SourceArn` condition), or for the applications
/// whose ARNs its `aws:SourceArn` conditions match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Trust {
    None,
    Generally,
    SourceArns(Vec<String>),
}

pub(super) fn emr_serverless_trust(trust_policy: &Value) -> Trust {
    let mut patterns = Vec::new();
    let mut generally = false;
    for statement in repository::statements(trust_policy) {
        let allows = statement.get("Effect").and_then(Value::as_str) == Some("Allow");
        let principal = statement.get("Principal");
        let service = strings(principal.and_then(|p| p.get("Service")));
        if !allows || !service.contains(&EMR_SERVERLESS_PRINCIPAL) {
            continue;
        }
        let mut arns = Vec::new();
        if let Some(Value::Object(condition)) = statement.get("Condition") {
            for operator in condition.values() {
                if let Some(arn) = operator.get("aws:SourceArn") {
                    arns.extend(strings(Some(arn)).into_iter().map(str::to_string));
                }
            }
        }
        if arns.is_empty() {
            generally = true;
        }
        patterns.extend(arns);
    }
    match (generally, patterns.is_empty()) {
        (true, _) => Trust::Generally,
        (false, true) => Trust::None,
        (false, false) => Trust::SourceArns(patterns),
    }
}

/// Whether an `aws:SourceArn` pattern (`*` and `?` wildcards, as `ArnLike`
/// reads them) names the application or its job runs.
pub(super) fn names_application(pattern: &str, application_arn: &str) -> bool {
    glob(pattern, application_arn) || glob(pattern, &format!("{application_arn}/jobruns/x"))
}

fn owned_by_another(owner: &Owner, stack: &str) -> Option<String> {
    match owner {
        Owner::Stack { stack: other, .. } if other != stack => Some(other.clone()),
        _ => None,
    }
}

/// Reads the account as `options` select it.
pub(super) async fn read<C: Cloud>(cloud: &C, options: &GenerateOptions) -> Result<Account, CloudError> {
    let parallelism = options.parallelism.max(1);
    let identity = cloud.caller_identity().await?;
    let mut account = Account {
        account_id: identity.account_id.clone(),
        region: cloud.region().to_string(),
        ..Account::default()
    };
    let stack = options.stack_name.as_str();

    // Applications: the listing, filtered by name and state, then each read
    // in full and filtered by tag.
    let summaries = cloud.list_applications().await?;
    let chosen: Vec<String> = summaries
        .iter()
        .filter(|summary| {
            let name = summary.name.as_deref().unwrap_or("");
            (options.names.is_empty() || options.names.iter().any(|pattern| glob(pattern, name)))
                && (options.states.is_empty() || options.states.contains(&summary.state))
        })
        .map(|summary| summary.id.clone())
        .collect();
    let fetched: Vec<Option<ObservedApplication>> = stream::iter(chosen)
        .map(|id| async move { absent_if_not_found(cloud.get_application(&id).await) })
        .buffer_unordered(parallelism)
        .try_collect()
        .await?;
    let mut applications: Vec<ObservedApplication> = fetched
        .into_iter()
        .flatten()
        .filter(|app| app.state != crate::model::ApplicationState::Terminated)
        .filter(|app| {
            options
                .tags
                .iter()
                .all(|(key, value)| app.spec.tags.get(key) == Some(value))
        })
        .collect();
    applications.sort_by(|a, b| (&a.spec.name, a.created_at_ms, &a.id).cmp(&(&b.spec.name, b.created_at_ms, &b.id)));
    let mut kept: Vec<ObservedApplication> = Vec::new();
    for app in applications {
        let subject = format!("application {} (`{}`)", app.id, app.spec.name);
        if let Some(other) = owned_by_another(&app.owner(), stack) {
            account.reports.push(Report::new(
                ReportKind::LeftOut,
                subject,
                None,
                format!("it belongs to stack `{other}` (its `emrstack:` tags); generate that stack instead"),
            ));
            continue;
        }
        if let Some(first) = kept.iter().find(|first| first.spec.name == app.spec.name) {
            account.reports.push(Report::new(
                ReportKind::LeftOut,
                subject,
                Some("name".to_string()),
                format!(
                    "EMR Serverless allows two applications of one name, a stack does not (it finds applications \
                     by name, `name.duplicate`): only the older {} is written; adopt this one in another stack, \
                     or rename or delete it",
                    first.id
                ),
            ));
            continue;
        }
        kept.push(app);
    }
    account.applications = kept;

    // Roles: those named with --role, or every role EMR Serverless may
    // assume for a selected application or for any application.
    let role_names: Vec<String> = if options.roles.is_empty() {
        let arns: Vec<&str> = account.applications.iter().map(|app| app.arn.as_str()).collect();
        cloud
            .list_roles()
            .await?
            .into_iter()
            .filter(|summary| summary.trusts_emr_serverless)
            .filter(|summary| match emr_serverless_trust(&summary.trust_policy) {
                Trust::Generally => true,
                Trust::SourceArns(patterns) => patterns
                    .iter()
                    .any(|pattern| arns.iter().any(|arn| names_application(pattern, arn))),
                Trust::None => false,
            })
            .map(|summary| summary.name)
            .collect()
    } else {
        options.roles.clone()
    };
    let fetched: Vec<Result<ObservedRole, (String, CloudError)>> = stream::iter(role_names)
        .map(|name| async move {
            match cloud.get_role(&name).await {
                Ok(role) => Ok(Ok(role)),
                Err(error) if error.is_not_found() => Ok(Err((name, error))),
                Err(error) => Err(error),
            }
        })
        .buffer_unordered(parallelism)
        .try_collect()
        .await?;
    let mut roles = Vec::new();
    for result in fetched {
        match result {
            Ok(role) => match owned_by_another(&role.owner(), stack) {
                Some(other) => account.reports.push(Report::new(
                    ReportKind::LeftOut,
                    format!("role `{}`", role.spec.name),
                    None,
                    format!("it belongs to stack `{other}` (its `emrstack:` tags); generate that stack instead"),
                )),
                None => roles.push(role),
            },
            Err((name, _)) => account.reports.push(Report::new(
                ReportKind::LeftOut,
                format!("role `{name}`"),
                None,
                "it does not exist (named with `--role`)".to_string(),
            )),
        }
    }
    roles.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
    account.roles = roles;

    // Images: the repositories of this account and region, the tags of
    // each pinned digest, and the digests of each tag.
    let mut wanted_tags: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut wanted_digests: BTreeSet<(String, String)> = BTreeSet::new();
    for app in &account.applications {
        for image in app
            .spec
            .image
            .iter()
            .chain(app.spec.worker_type_specifications.values())
        {
            let Ok(uri) = parse_image_uri(&image.image_uri) else {
                continue;
            };
            if uri.account != account.account_id || uri.region != account.region {
                continue;
            }
            if uri.reference.starts_with("sha256:") {
                wanted_digests.insert((uri.repository.clone(), uri.reference.clone()));
            } else {
                wanted_tags
                    .entry(uri.repository.clone())
                    .or_default()
                    .insert(uri.reference.clone());
            }
            wanted_tags.entry(uri.repository).or_default();
        }
    }
    let found: Vec<Option<ObservedRepository>> = stream::iter(wanted_tags.keys().cloned().collect::<Vec<_>>())
        .map(|name| async move { absent_if_not_found(cloud.get_repository(&name).await) })
        .buffer_unordered(parallelism)
        .try_collect()
        .await?;
    for repository in found.into_iter().flatten() {
        account.repositories.insert(repository.name.clone(), repository);
    }
    for (name, tags) in &wanted_tags {
        if !account.repositories.contains_key(name) || tags.is_empty() {
            continue;
        }
        let tags: Vec<String> = tags.iter().cloned().collect();
        let digests = cloud.image_digests(name, &tags).await?;
        account.tag_digests.insert(name.clone(), digests);
    }
    for (name, digest) in wanted_digests {
        if !account.repositories.contains_key(&name) {
            continue;
        }
        let tags = cloud.image_tags(&name, &digest).await?;
        account.digest_tags.insert((name, digest), tags);
    }

    // Subnets, to name networks after their VPC.
    let subnet_ids: BTreeSet<String> = account
        .applications
        .iter()
        .filter_map(|app| app.spec.network.as_ref())
        .flat_map(|network| network.subnet_ids.iter().cloned())
        .collect();
    if !subnet_ids.is_empty() {
        let ids: Vec<String> = subnet_ids.into_iter().collect();
        for subnet in cloud.describe_subnets(&ids).await? {
            account.subnets.insert(subnet.id.clone(), subnet);
        }
    }
    Ok(account)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn globs_match_whole_names() {
        assert!(glob("etl-*", "etl-daily"));
        assert!(glob("*", ""));
        assert!(glob("e?l", "etl"));
        assert!(glob("*-prod-*", "shop-prod-etl"));
        assert!(!glob("etl", "etl-daily"));
        assert!(!glob("etl-*", "daily-etl"));
        assert!(glob("a*b*c", "aXbYbZc"));
    }

    #[test]
    fn trust_says_for_which_applications() {
        let arn = "arn:aws:emr-serverless:us-east-1:111122223333:/applications/00f1";
        let statement = |condition: Value| json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": EMR_SERVERLESS_PRINCIPAL}, "Action": "sts:AssumeRole", "Condition": condition}]});
        assert_eq!(
            emr_serverless_trust(&statement(
                json!({"StringEquals": {"aws:SourceAccount": "111122223333"}})
            )),
            Trust::Generally
        );
        let scoped = statement(json!({"ArnLike": {"aws:SourceArn": [arn, format!("{arn}/*")]}}));
        let Trust::SourceArns(patterns) = emr_serverless_trust(&scoped) else {
            panic!("scoped");
        };
        assert!(patterns.iter().any(|p| names_application(p, arn)));
        assert!(!patterns.iter().any(|p| names_application(p, &format!("{arn}9"))));
        let wildcard = "arn:aws:emr-serverless:us-east-1:111122223333:/applications/*";
        assert!(names_application(wildcard, arn));
        let ec2 = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        assert_eq!(emr_serverless_trust(&ec2), Trust::None);
    }
}
