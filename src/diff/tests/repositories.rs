//! Repositories.

use super::*;

fn foreign_statement() -> Value {
    json!({"Sid": "Team", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": "ecr:BatchGetImage"})
}

#[test]
fn repository_statement_is_created_updated_and_deleted() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    declare(&mut desired, "adhoc", spec("adhoc"));
    declare_repository(&mut desired, &["etl"]);
    let out = plan(&desired, &account_with_repository(None));
    let change = find(&out, "repository.spark");
    assert_eq!((change.action, change.reason), (Action::Create, Reason::Missing));
    assert_eq!(change.steps, vec![Step::SetPolicy]);
    assert!(change.fields.iter().any(|f| f.after_unknown));
    assert_eq!(change.references(), vec!["etl".to_string()]);
    let actual = deploy(&desired, &account_with_repository(None));

    // Another (existing) application: the statement is updated with its ARN.
    declare_repository(&mut desired, &["etl", "adhoc"]);
    let out = plan(&desired, &actual);
    let change = find(&out, "repository.spark");
    assert_eq!((change.action, change.reason), (Action::Update, Reason::Changed));
    assert!(change.fields.iter().all(|f| !f.after_unknown));
    let statement = repository_target(change).statement.as_ref().expect("statement");
    let mut arns = vec![
        deployed(&actual, "adhoc").arn.clone(),
        deployed(&actual, "etl").arn.clone(),
    ];
    arns.sort();
    assert_eq!(statement["Condition"]["StringEquals"]["aws:SourceArn"], json!(arns));
    let actual = apply_changes(&actual, &out.changes);

    // No application any more: the statement goes, and with it the policy.
    declare_repository(&mut desired, &[]);
    let out = plan(&desired, &actual);
    let change = find(&out, "repository.spark");
    assert_eq!(change.action, Action::Delete);
    assert_eq!(change.steps, vec![Step::DeletePolicy]);
    assert_eq!(repository_target(change).statement, None);
    let actual = apply_changes(&actual, &out.changes);
    assert_eq!(actual.repositories[REPO].policy, None);
    assert!(find_all(&plan(&desired, &actual), "repository.spark").is_empty());
}

#[test]
fn foreign_statements_are_kept() {
    let foreign_policy = json!({"Version": "2012-10-17", "Statement": [foreign_statement()]});
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    declare_repository(&mut desired, &["etl"]);
    let actual = deploy(&desired, &account_with_repository(Some(foreign_policy.clone())));
    let policy = actual.repositories[REPO].policy.clone().expect("policy");
    assert_eq!(repository::statements(&policy).len(), 2);
    assert_eq!(repository::statements(&policy)[0], &foreign_statement());

    // Up to date with a foreign statement next to ours: a no-op.
    let out = plan(&desired, &actual);
    assert_eq!(find(&out, "repository.spark").action, Action::NoOp);

    // Removing ours keeps the foreign one: the policy is set, not deleted.
    declare_repository(&mut desired, &[]);
    let out = plan(&desired, &actual);
    let change = find(&out, "repository.spark");
    assert_eq!(change.action, Action::Delete);
    assert_eq!(change.steps, vec![Step::SetPolicy]);
    assert!(
        change.notes.iter().any(|n| n.contains("1 other statement")),
        "{:?}",
        change.notes
    );
    let next = apply_changes(&actual, &out.changes);
    assert_eq!(next.repositories[REPO].policy, Some(foreign_policy));
}

#[test]
fn an_undeclared_repository_holding_our_statement_loses_it() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    declare_repository(&mut desired, &["etl"]);
    let actual = deploy(&desired, &account_with_repository(None));
    desired.repositories.clear();
    let out = plan(&desired, &actual);
    let change = find(&out, &format!("repository.{REPO}"));
    assert_eq!(
        (change.action, change.reason),
        (Action::Delete, Reason::RemovedFromStack)
    );
    assert_eq!(change.steps, vec![Step::DeletePolicy]);
    // A repository with only foreign statements is none of our business.
    let mut foreign = account_with_repository(Some(
        json!({"Version": "2012-10-17", "Statement": [foreign_statement()]}),
    ));
    foreign.applications = actual.applications.clone();
    assert!(find_all(&plan(&desired, &foreign), &format!("repository.{REPO}")).is_empty());
}

#[test]
fn a_missing_repository_is_an_error() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    declare_repository(&mut desired, &["etl"]);
    let out = plan(&desired, &account());
    let error = diagnostic(&out, "repository.not-found");
    assert!(error.is_error());
    assert_eq!(error.subject.as_ref().expect("subject").address, "repository.spark");
    assert!(find_all(&out, "repository.spark").is_empty());
    // Destroy does not care.
    assert!(!codes(&plan_mode(&desired, &account(), Mode::Destroy)).contains(&"repository.not-found".to_string()));
}

#[test]
fn a_replaced_application_moves_the_repository_statement() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    declare_repository(&mut desired, &["etl"]);
    let actual = deploy(&desired, &account_with_repository(None));
    desired.applications.get_mut("etl").expect("etl").spec.name = "etl-2".to_string();
    let out = plan(&desired, &actual);
    let change = find(&out, "repository.spark");
    assert_eq!(
        (change.action, change.reason),
        (Action::Update, Reason::ReferenceReplaced)
    );
    assert_eq!(change.steps, vec![Step::SetPolicy]);
}
