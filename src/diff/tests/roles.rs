//! Roles.

use super::*;

fn read_policy() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"}]})
}

#[test]
fn role_create_lists_its_fields_and_converges() {
    let mut desired = stack();
    let mut full = role("etl-role");
    full.description = Some("ETL jobs".to_string());
    full.inline_policies.insert("read".to_string(), read_policy());
    full.managed_policy_arns
        .insert("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".to_string());
    full.permissions_boundary = Some("arn:aws:iam::111111111111:policy/boundary".to_string());
    full.tags.insert("team".to_string(), "data".to_string());
    desired.stack.tags.insert("env".to_string(), "dev".to_string());
    desired.roles.insert("etl".to_string(), full);
    let out = plan(&desired, &account());
    let change = find(&out, "role.etl");
    assert_eq!((change.action, change.reason), (Action::Create, Reason::Missing));
    assert_eq!(change.steps, vec![Step::Create]);
    assert_eq!(
        paths(change),
        vec![
            "description",
            "managed_policy_arns",
            "max_session_duration",
            "name",
            "path",
            "permissions_boundary",
            "policies.read",
            "tags",
            "trust_policy"
        ]
    );
    let tags_after = &field(change, "tags").after;
    assert_eq!(tags_after["env"], "dev");
    assert_eq!(tags_after["team"], "data");
    assert_eq!(tags_after[tags::STACK_TAG], STACK);
    assert_eq!(tags_after[tags::ADDRESS_TAG], "role.etl");
    let actual = deploy(&desired, &account());
    assert_eq!(find(&plan(&desired, &actual), "role.etl").action, Action::NoOp);
}

/// A role written before trust policies carried the stack marker plans an
/// update of its trust policy, which writes the marker: later plans then find
/// the role from `ListRoles` alone (docs/observe.md, "Roles").
#[test]
fn a_role_without_the_stack_marker_gets_it_with_an_update() {
    let mut desired = stack();
    desired.roles.insert("etl".to_string(), role("etl-role"));
    let mut actual = deploy(&desired, &account());
    let observed = observed_role(&mut actual, "etl-role");
    observed.spec.trust_policy["Statement"][0]["Sid"] = json!(crate::model::role::LEGACY_TRUST_SID);
    let change = find(&plan(&desired, &actual), "role.etl").clone();
    assert_eq!(change.action, Action::Update);
    let paths: Vec<&str> = change.fields.iter().map(|field| field.path.as_str()).collect();
    assert_eq!(paths, ["trust_policy.Statement"]);
}

#[test]
fn equivalent_policies_as_aws_returns_them_are_not_changes() {
    let mut desired = stack();
    let mut with_policy = role("etl-role");
    with_policy.inline_policies.insert("read".to_string(), read_policy());
    desired.roles.insert("etl".to_string(), with_policy);
    let mut actual = deploy(&desired, &account());
    let observed = observed_role(&mut actual, "etl-role");
    // IAM hands documents back reordered, with lists for single values.
    observed.spec.trust_policy = json!({"Statement": [{
        "Condition": {"StringEquals": {"aws:SourceAccount": [ACCOUNT]}},
        "Action": ["sts:AssumeRole"],
        "Principal": {"Service": ["emr-serverless.amazonaws.com"]},
        "Effect": "Allow",
        "Sid": crate::model::repository::statement_sid(STACK)
    }], "Version": "2012-10-17"});
    observed.spec.inline_policies.insert(
        "read".to_string(),
        json!({"Statement": {"Resource": ["arn:aws:s3:::data/*"], "Action": ["s3:GetObject"], "Effect": "allow"}, "Version": "2012-10-17"}),
    );
    assert_eq!(find(&plan(&desired, &actual), "role.etl").action, Action::NoOp);
}

#[test]
fn role_updates_name_each_changed_part() {
    // (edit of the declared role, changed paths, expected parts)
    let check = |edit: fn(&mut DesiredRole), expect_paths: &[&str], parts: &[&str]| {
        let mut base = role("etl-role");
        base.inline_policies.insert("read".to_string(), read_policy());
        base.managed_policy_arns.insert("arn:aws:iam::aws:policy/A".to_string());
        base.description = Some("first".to_string());
        base.permissions_boundary = Some("arn:aws:iam::111111111111:policy/b1".to_string());
        let mut desired = stack();
        desired.roles.insert("etl".to_string(), base);
        let actual = deploy(&desired, &account());
        edit(desired.roles.get_mut("etl").expect("etl"));
        let out = plan(&desired, &actual);
        let change = find(&out, "role.etl");
        assert_eq!(
            (change.action, change.reason),
            (Action::Update, Reason::Changed),
            "{change:#?}"
        );
        let changed_paths: Vec<&str> = paths(change);
        assert_eq!(changed_paths, expect_paths);
        let parts: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
        assert_eq!(change.steps, vec![Step::UpdateRole { parts }]);
        let target = role_target(change);
        assert!(target.current.is_some() && target.desired.is_some());
        let next = apply_changes(&actual, &out.changes);
        assert_eq!(find(&plan(&desired, &next), "role.etl").action, Action::NoOp);
    };
    check(
        |r| {
            r.inline_policies.insert("write".to_string(), read_policy());
        },
        &["policies.write"],
        &["inline policy `write`"],
    );
    check(
        |r| {
            r.inline_policies.remove("read");
        },
        &["policies.read"],
        &["inline policy `read`"],
    );
    check(
        |r| {
            r.inline_policies.insert(
                "read".to_string(),
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other/*"}]}),
            );
        },
        &["policies.read.Statement"],
        &["inline policy `read`"],
    );
    check(
        |r| {
            r.managed_policy_arns.insert("arn:aws:iam::aws:policy/B".to_string());
        },
        &["managed_policy_arns"],
        &["managed policy attachments"],
    );
    check(
        |r| r.managed_policy_arns.clear(),
        &["managed_policy_arns"],
        &["managed policy attachments"],
    );
    check(
        |r| r.permissions_boundary = Some("arn:aws:iam::111111111111:policy/b2".to_string()),
        &["permissions_boundary"],
        &["permissions boundary"],
    );
    check(
        |r| r.permissions_boundary = None,
        &["permissions_boundary"],
        &["permissions boundary"],
    );
    check(
        |r| r.description = Some("second".to_string()),
        &["description"],
        &["role settings"],
    );
    check(
        |r| {
            r.description = None;
            r.max_session_duration = 7200;
        },
        &["description", "max_session_duration"],
        &["role settings"],
    );
    check(
        |r| {
            r.tags.insert("team".to_string(), "data".to_string());
        },
        &["tags.team"],
        &["tags"],
    );
}

#[test]
fn a_role_name_or_path_change_replaces_it() {
    let check = |edit: fn(&mut DesiredRole), forcing: &str, prevent_destroy: bool| {
        let mut desired = stack();
        let mut declared = role("etl-role");
        declared.prevent_destroy = prevent_destroy;
        desired.roles.insert("etl".to_string(), declared);
        let actual = deploy(&desired, &account());
        edit(desired.roles.get_mut("etl").expect("etl"));
        let out = plan(&desired, &actual);
        let change = find(&out, "role.etl");
        assert_eq!((change.action, change.reason), (Action::Replace, Reason::ReplaceFields));
        // Not pinned for a path change: IAM role names are unique whatever
        // the path, so the replacement cannot be created before the old role
        // is deleted. Which order the executor should use is still open.
        if forcing == "name" {
            assert_eq!(change.steps, vec![Step::CreateReplacement, Step::DeleteReplaced]);
        }
        assert!(field(change, forcing).forces_replacement);
        assert_eq!(out.diagnostics.has_errors(), prevent_destroy);
        if prevent_destroy {
            diagnostic(&out, "plan.prevent-destroy");
        }
    };
    check(|r| r.name = "etl-role-2".to_string(), "name", false);
    check(|r| r.path = "/jobs/".to_string(), "path", false);
    check(|r| r.name = "etl-role-2".to_string(), "name", true);
}

#[test]
fn a_role_removed_from_the_stack_is_deleted() {
    let mut desired = stack();
    desired.roles.insert("etl".to_string(), role("etl-role"));
    let actual = deploy(&desired, &account());
    let out = plan(&stack(), &actual);
    let change = find(&out, "role.etl");
    assert_eq!(
        (change.action, change.reason),
        (Action::Delete, Reason::RemovedFromStack)
    );
    assert_eq!(change.steps, vec![Step::Delete]);
    assert!(change.fields.iter().all(|f| f.after.is_null()));
}

#[test]
fn role_placeholders_are_unknown_after_apply() {
    // A new application: the role is created with a placeholder.
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let mut trusted = role("etl-role");
    trusted.trust_applications = vec!["etl".to_string()];
    desired.roles.insert("etl".to_string(), trusted);
    let out = plan(&desired, &account());
    let change = find(&out, "role.etl");
    assert_eq!(change.action, Action::Create);
    assert!(field(change, "trust_policy").after_unknown);
    assert!(!field(change, "name").after_unknown);
    assert_eq!(change.references(), vec!["etl".to_string()]);
    let actual = deploy(&desired, &account());

    // The application is replaced: the role moves to the new ARN.
    desired.applications.get_mut("etl").expect("etl").spec.name = "etl-2".to_string();
    let out = plan(&desired, &actual);
    let change = find(&out, "role.etl");
    assert_eq!(
        (change.action, change.reason),
        (Action::Update, Reason::ReferenceReplaced)
    );
    assert!(change.fields.iter().all(|f| f.after_unknown));
    assert!(!change.has_drift());
    assert_eq!(
        change.steps,
        vec![Step::UpdateRole {
            parts: vec!["trust policy".to_string()]
        }]
    );
    let next = apply_changes(&actual, &out.changes);
    let again = plan(&desired, &next);
    assert!(
        again.changes.iter().all(|c| c.action == Action::NoOp),
        "{:#?}",
        again.changes
    );
}

#[test]
fn role_drift_is_told_by_its_record() {
    let mut desired = stack();
    let mut declared = role("etl-role");
    declared.description = Some("first".to_string());
    desired.roles.insert("etl".to_string(), declared);
    let mut actual = deploy(&desired, &account());
    observed_role(&mut actual, "etl-role").spec.description = Some("edited in the console".to_string());
    let out = plan(&desired, &actual);
    let change = find(&out, "role.etl");
    assert_eq!((change.action, change.reason), (Action::Update, Reason::Drift));
    assert!(field(change, "description").drift);

    // With a record that knows no field, the same difference is a change.
    let observed = observed_role(&mut actual, "etl-role");
    let binding = tags::binding_token(tags::Identity::of_role(&observed.spec), &observed.spec.tags);
    observed.spec.tags.insert(tags::APPLIED_TAG.to_string(), binding);
    let change = find(&plan(&desired, &actual), "role.etl").clone();
    assert_eq!(change.reason, Reason::Changed);
    assert!(!change.has_drift());

    // A stale record alone refreshes the tags.
    let mut stale = deploy(&desired, &account());
    observed_role(&mut stale, "etl-role")
        .spec
        .tags
        .insert(tags::APPLIED_TAG.to_string(), "abcd=000000".to_string());
    let out = plan(&desired, &stale);
    let change = find(&out, "role.etl");
    assert_eq!(change.action, Action::Update);
    assert!(change.fields.is_empty());
    assert_eq!(
        change.steps,
        vec![Step::UpdateRole {
            parts: vec!["tags".to_string()]
        }]
    );
}

#[test]
fn renaming_a_role_key_keeps_the_role_it_names() {
    // IAM role names are unique in an account: creating `etl-role` again
    // under the new key would fail while the old key's role exists.
    let mut desired = stack();
    desired.roles.insert("old".to_string(), role("etl-role"));
    let actual = deploy(&desired, &account());
    let declared = desired.roles.remove("old").expect("old");
    desired.roles.insert("new".to_string(), declared);
    let out = plan(&desired, &actual);
    let summary: Vec<(String, Action)> = out.changes.iter().map(|c| (c.address.to_string(), c.action)).collect();
    assert_eq!(summary, vec![("role.new".to_string(), Action::Update)]);
    let change = find(&out, "role.new");
    assert_eq!(paths(change), vec![format!("tags.{}", tags::ADDRESS_TAG)]);
    assert_eq!(
        field(change, &format!("tags.{}", tags::ADDRESS_TAG)).after,
        json!("role.new")
    );
    let next = apply_changes(&actual, &out.changes);
    assert!(plan(&desired, &next).changes.iter().all(|c| c.action == Action::NoOp));

    // While the old key is still declared, it keeps its role.
    let mut both = desired.clone();
    both.roles.insert("old".to_string(), role("etl-role"));
    let out = plan(&both, &actual);
    assert_eq!(find(&out, "role.old").action, Action::NoOp);
    assert_eq!(find(&out, "role.new").action, Action::Create);
}

#[test]
fn a_role_whose_record_does_not_fit_in_a_tag_still_converges() {
    let mut desired = stack();
    let mut large = role("etl-role");
    for i in 0..20 {
        large.inline_policies.insert(format!("p{i:02}"), read_policy());
    }
    desired.roles.insert("etl".to_string(), large);
    let actual = deploy(&desired, &account());
    // The record keeps the fields that fit, and still proves ownership.
    let record = &actual.roles[0].spec.tags[tags::APPLIED_TAG];
    assert!(record.len() <= 256 && tags::is_applied_record(record), "{record}");
    // Fields left out of the record cannot be told from drift: a change.
    let mut edited = actual.clone();
    // `policies.p19` sorts after the tokens that fit.
    observed_role(&mut edited, "etl-role").spec.inline_policies.insert(
        "p19".to_string(),
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
    );
    let change = find(&plan(&desired, &edited), "role.etl").clone();
    assert_eq!((change.action, change.reason), (Action::Update, Reason::Changed));
}

/// An apply killed between CreateRole and PutRolePolicy leaves the role
/// with the mark of a creation under way: the next plan says so.
#[test]
fn a_role_whose_creation_did_not_finish_says_so() {
    let mut desired = stack();
    let mut declared = role("etl-role");
    declared.inline_policies.insert("read".to_string(), read_policy());
    desired.roles.insert("etl".to_string(), declared);
    let mut actual = deploy(&desired, &account());
    let observed = observed_role(&mut actual, "etl-role");
    observed.spec.inline_policies.clear();
    observed
        .spec
        .tags
        .insert(tags::APPLIED_TAG.to_string(), tags::APPLIED_CREATING.to_string());
    let out = plan(&desired, &actual);
    let change = find(&out, "role.etl");
    assert_eq!((change.action, change.reason), (Action::Update, Reason::Unfinished));
    assert_eq!(
        change.reason.describe(),
        "the previous apply did not finish (or is still running)"
    );
    assert!(
        change.notes.iter().any(|n| n.contains("stopped before it finished")),
        "{change:#?}"
    );
    let next = apply_changes(&actual, &out.changes);
    assert_eq!(find(&plan(&desired, &next), "role.etl").action, Action::NoOp);
}

/// IAM role names are unique regardless of case: an unmanaged `OWN2-ETL`
/// takes the name `own2-etl`, which IAM would refuse to create at apply time.
#[test]
fn a_role_name_taken_in_another_case_is_a_conflict() {
    let mut desired = stack();
    desired.roles.insert("etl".to_string(), role("own2-etl"));
    let mut actual = account();
    let mut foreign = deployed_role_of(&role("OWN2-ETL"));
    foreign.spec.tags.clear();
    actual.roles.push(foreign);
    let out = plan(&desired, &actual);
    let conflicts: Vec<&Diagnostic> = out.diagnostics.iter().filter(|d| d.code == "plan.conflict").collect();
    assert_eq!(conflicts.len(), 1, "{:#?}", out.diagnostics);
    assert!(
        conflicts[0].message.contains("role `OWN2-ETL`"),
        "{}",
        conflicts[0].message
    );
}

/// A declared role of the stack without the stack's marker in its trust
/// policy (imported, or the marker removed by hand) is found by its name
/// while declared, but would not be found once removed from the stack: the
/// plan writes the marker and warns to apply it first. A marked role, or
/// one with emrstack's trust policy from before markers, is found either
/// way.
#[test]
fn a_declared_role_without_the_marker_is_updated_with_a_warning() {
    let mut desired = stack();
    desired.roles.insert("etl".to_string(), role("etl-role"));
    let deployed = deploy(&desired, &account());
    let warned = |actual: &Actual| {
        plan(&desired, actual)
            .diagnostics
            .iter()
            .any(|d| d.code == "plan.role-unmarked")
    };
    assert!(!warned(&deployed));
    let mut legacy = deployed.clone();
    legacy.roles[0].spec.trust_policy["Statement"][0]["Sid"] = json!(crate::model::role::LEGACY_TRUST_SID);
    assert!(!warned(&legacy));

    let mut imported = deployed.clone();
    imported.roles[0].spec.trust_policy = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "emr-serverless.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let out = plan(&desired, &imported);
    let warning = out
        .diagnostics
        .iter()
        .find(|d| d.code == "plan.role-unmarked")
        .expect("a warning");
    assert!(!warning.is_error());
    assert!(
        warning.message.contains("role `etl-role` is `role.etl`")
            && warning
                .help
                .as_deref()
                .unwrap_or_default()
                .contains("apply before removing `role.etl`"),
        "{warning:?}"
    );
    let change = find(&out, "role.etl");
    assert_eq!(change.action, Action::Update);
    assert!(
        paths(change).iter().any(|p| p.starts_with("trust_policy")),
        "{change:#?}"
    );
    // Once applied, the marker is there and the warning gone.
    let next = apply_changes(&imported, &out.changes);
    assert!(!warned(&next));
}
