//! Resolution: ownership, conflicts, duplicates, images, ARNs.

use super::*;

#[test]
fn ownership_is_read_from_tags() {
    // (owner of an application named `etl`, expected action on application.etl, conflict?)
    let check = |owner: Option<(&str, &str)>, expect_action: Action, expect_conflict: bool| {
        let mut desired = stack();
        declare(&mut desired, "etl", spec("etl"));
        let mut actual = account();
        actual.applications.push(foreign_application("00f1", "etl", owner));
        let out = plan(&desired, &actual);
        let changes = find_all(&out, "application.etl");
        assert_eq!(changes[0].action, expect_action, "{owner:?}");
        let conflicts: Vec<&Diagnostic> = out.diagnostics.iter().filter(|d| d.code == "plan.conflict").collect();
        assert_eq!(!conflicts.is_empty(), expect_conflict, "{owner:?}: {conflicts:#?}");
        if let Some(conflict) = conflicts.first() {
            assert!(conflict.is_error());
            let help = conflict.help.as_deref().unwrap_or_default();
            assert!(help.contains("emrstack import application.etl 00f1"), "{help}");
            let subject = conflict.subject.as_ref().expect("subject");
            assert_eq!(subject.address, "application.etl");
        }
    };
    // Owned and matching: nothing to do.
    check(Some((STACK, "application.etl")), Action::NoOp, false);
    check(Some(("prod", "application.etl")), Action::Create, true);
    check(None, Action::Create, true);
    // Owned by this stack under another address: that address deletes it.
    check(Some((STACK, "application.old")), Action::Create, false);
}

#[test]
fn conflict_messages_name_the_owner() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    desired.roles.insert("etl".to_string(), role("etl-role"));
    let mut actual = account();
    actual
        .applications
        .push(foreign_application("00f1", "etl", Some(("prod", "application.etl"))));
    let mut foreign_role = deployed_role_of(&role("etl-role"));
    foreign_role.spec.tags.clear();
    actual.roles.push(foreign_role);
    let out = plan(&desired, &actual);
    let messages: Vec<&str> = out
        .diagnostics
        .iter()
        .filter(|d| d.code == "plan.conflict")
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert!(
        messages.iter().any(|m| m.contains("owned by stack `prod`")),
        "{messages:#?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("role `etl-role`") && m.contains("not managed by emrstack")),
        "{messages:#?}"
    );
}

#[test]
fn of_two_owned_duplicates_the_matching_one_is_kept() {
    // (ids, states, names) of two applications tagged `application.etl`.
    let check = |first: (&str, ApplicationState, &str), second: (&str, ApplicationState, &str), kept: &str| {
        let mut desired = stack();
        declare(&mut desired, "etl", spec("etl"));
        let mut actual = deploy(&desired, &account());
        let template = actual.applications[0].clone();
        actual.applications.clear();
        for (id, state, name) in [first, second] {
            let mut app = template.clone();
            app.id = id.to_string();
            app.arn = application_arn(id);
            app.state = state;
            app.spec.name = name.to_string();
            rebind_application(&mut app);
            actual.applications.push(app);
        }
        let out = plan(&desired, &actual);
        let changes = find_all(&out, "application.etl");
        assert_eq!(changes.len(), 2, "{changes:#?}");
        let deleted: Vec<&str> = changes
            .iter()
            .filter(|c| c.reason == Reason::Duplicate)
            .map(|c| app_target(c).current.as_ref().expect("current").id.as_str())
            .collect();
        let main = changes
            .iter()
            .find(|c| c.reason != Reason::Duplicate)
            .expect("main change");
        assert_eq!(app_target(main).current.as_ref().expect("current").id, kept);
        assert_eq!(deleted.len(), 1);
        assert_ne!(deleted[0], kept);
        let duplicate = changes
            .iter()
            .find(|c| c.reason == Reason::Duplicate)
            .expect("duplicate");
        assert_eq!(duplicate.action, Action::Delete);
        assert!(
            duplicate.notes.iter().any(|n| n.contains(&format!("keeping {kept}"))),
            "{duplicate:#?}"
        );
    };
    use ApplicationState::{Started, Stopped};
    check(("a", Stopped, "etl"), ("b", Started, "etl-old"), "a");
    check(("a", Stopped, "etl-old"), ("b", Stopped, "etl"), "b");
    // Both match and neither says when it was created: the smaller ID.
    check(("a", Stopped, "etl"), ("b", Started, "etl"), "a");
    check(("b", Stopped, "etl"), ("a", Stopped, "etl"), "a");
}

/// Rewrites the binding of `record` (the first token) to `binding`.
fn with_binding(record: &str, binding: String) -> String {
    match record.split_once(' ') {
        Some((_, rest)) => format!("{binding} {rest}"),
        None => binding,
    }
}

/// The application's applied record, bound to it as it is now: what
/// emrstack writes on an application of that name (a duplicate an
/// interrupted run left under another name carries its own name's binding).
fn rebind_application(app: &mut ObservedApplication) {
    let binding = tags::binding_token(tags::Identity::of_application(&app.spec), &app.spec.tags);
    let record = with_binding(&app.spec.tags[tags::APPLIED_TAG], binding);
    app.spec.tags.insert(tags::APPLIED_TAG.to_string(), record);
}

/// The same for a role.
fn rebind_role(role: &mut ObservedRole) {
    let binding = tags::binding_token(tags::Identity::of_role(&role.spec), &role.spec.tags);
    let record = with_binding(&role.spec.tags[tags::APPLIED_TAG], binding);
    role.spec.tags.insert(tags::APPLIED_TAG.to_string(), record);
}

/// Two applications with the address, name and record of `application.etl`:
/// `older` was created first.
fn two_duplicates(older: &str, newer: &str) -> (Desired, Actual) {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let mut actual = deploy(&desired, &account());
    let template = actual.applications[0].clone();
    actual.applications.clear();
    for (id, created) in [(newer, 2_000), (older, 1_000)] {
        let mut app = template.clone();
        app.id = id.to_string();
        app.arn = application_arn(id);
        app.created_at_ms = Some(created);
        actual.applications.push(app);
    }
    (desired, actual)
}

/// The ID a plan keeps (its main change) and the one it deletes as a
/// duplicate, with the duplicate's note.
fn kept_and_duplicate(out: &DiffOutput) -> (String, String, String) {
    let changes = find_all(out, "application.etl");
    let id = |change: &Change| app_target(change).current.as_ref().expect("current").id.clone();
    let main = changes.iter().find(|c| c.reason != Reason::Duplicate).expect("main");
    let duplicate = changes
        .iter()
        .find(|c| c.reason == Reason::Duplicate)
        .expect("duplicate");
    (id(main), id(duplicate), duplicate.notes.join("\n"))
}

#[test]
fn of_two_duplicates_the_older_is_kept_and_the_plan_says_why() {
    // The newer one has the smaller ID: age decides, not the ID.
    let (desired, actual) = two_duplicates("b", "a");
    let (kept, deleted, note) = kept_and_duplicate(&plan(&desired, &actual));
    assert_eq!((kept.as_str(), deleted.as_str()), ("b", "a"));
    assert!(note.contains("keeping b: it is the oldest"), "{note}");
}

/// `plan` and `plan --destroy` name the same application as the one kept
/// (before, destroy compared without the declaration and kept the other).
#[test]
fn plan_and_destroy_pick_the_same_duplicate() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let mut actual = deploy(&desired, &account());
    let template = actual.applications[0].clone();
    actual.applications.clear();
    // `a` sorts first by ID and is older, but only `b` has the declared name.
    for (id, name, created) in [("a", "etl-renamed", 1_000), ("b", "etl", 2_000)] {
        let mut app = template.clone();
        app.id = id.to_string();
        app.arn = application_arn(id);
        app.spec.name = name.to_string();
        app.created_at_ms = Some(created);
        rebind_application(&mut app);
        actual.applications.push(app);
    }
    let applied = kept_and_duplicate(&plan(&desired, &actual));
    let destroyed = kept_and_duplicate(&diff(&desired, &actual, Mode::Destroy));
    assert_eq!((applied.0.as_str(), applied.1.as_str()), ("b", "a"));
    assert_eq!((&destroyed.0, &destroyed.1), (&applied.0, &applied.1));
    assert!(
        applied.2.contains("keeping b: it has the declared name and type"),
        "{}",
        applied.2
    );
    assert!(
        destroyed.2.contains("as b (it has the declared name and type)"),
        "{}",
        destroyed.2
    );
}

/// A look-alike: the stack's ownership tags set by hand, no applied record.
/// It is never changed or deleted; the plan says why, naming it and its
/// tags: an error when its address is declared, a warning when not (nothing
/// would be planned for it but its deletion, which it is spared anyway, so
/// it must not block the stack's applies and destroys).
#[test]
fn a_hand_tagged_look_alike_is_never_changed_or_deleted_and_blocks_only_a_declared_address() {
    let lookalike = |id: &str, address: &str| {
        let mut app = foreign_application(id, "etl", Some((STACK, address)));
        app.spec.tags.remove(tags::APPLIED_TAG);
        app.spec.tags.insert("team".to_string(), "data".to_string());
        app
    };
    for (address, declared) in [("application.etl", true), ("application.gone", false)] {
        let mut desired = stack();
        declare(&mut desired, "etl", spec("etl"));
        let mut actual = account();
        actual.applications.push(lookalike("00f1", address));
        for mode in [Mode::Apply, Mode::Destroy] {
            let out = diff(&desired, &actual, mode);
            let touched: Vec<&Change> = out
                .changes
                .iter()
                .filter(|change| {
                    matches!(&change.target, Target::Application(app)
                        if app.current.as_ref().is_some_and(|current| current.id == "00f1"))
                })
                .collect();
            assert!(touched.is_empty(), "{address} {mode:?}: {touched:#?}");
            let errors: Vec<&Diagnostic> = out
                .diagnostics
                .iter()
                .filter(|d| d.code == "plan.unproven-ownership")
                .collect();
            assert_eq!(errors.len(), 1, "{address} {mode:?}: {:#?}", out.diagnostics);
            let error = errors[0];
            assert_eq!(error.is_error(), declared, "{address} {mode:?}");
            assert_eq!(out.diagnostics.has_errors(), declared, "{address} {mode:?}");
            assert!(error.message.contains("application `etl` (00f1)"), "{}", error.message);
            assert!(
                error.message.contains(&format!("`emrstack:address={address}`"))
                    && error.message.contains(&format!("`emrstack:stack={STACK}`"))
                    && error.message.contains("`team=data`"),
                "{}",
                error.message
            );
            let help = error.help.as_deref().unwrap_or_default();
            assert!(help.contains(&format!("emrstack import {address} 00f1")), "{help}");
            assert!(help.contains("remove its `emrstack:` tags"), "{help}");
            assert!(
                help.contains("an emrstack version from before records proved ownership"),
                "{help}"
            );
            assert_eq!(error.subject.is_some(), declared);
        }
    }
    // A role too, by name.
    let mut desired = stack();
    desired.roles.insert("etl".to_string(), role("etl-role"));
    let mut actual = deploy(&desired, &account());
    observed_role(&mut actual, "etl-role")
        .spec
        .tags
        .remove(tags::APPLIED_TAG);
    for mode in [Mode::Apply, Mode::Destroy] {
        let out = diff(&desired, &actual, mode);
        assert!(
            out.changes
                .iter()
                .all(|c| !matches!(&c.target, Target::Role(r) if r.current.is_some())),
            "{:#?}",
            out.changes
        );
        assert!(
            out.diagnostics
                .iter()
                .any(|d| d.code == "plan.unproven-ownership" && d.message.contains("role `etl-role` carries")),
            "{:#?}",
            out.diagnostics
        );
    }
}

/// Every tag of the stack's application, its record included, copied onto
/// an application with another name: the record was not written for it, so
/// it is a look-alike, not a duplicate to delete. A copy onto an
/// application with the same name and type cannot be told from what an
/// interrupted run leaves: a duplicate.
#[test]
fn a_copy_of_all_the_tags_onto_another_name_proves_nothing() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let mut actual = deploy(&desired, &account());
    let mut copy = actual.applications[0].clone();
    copy.id = "00fcopy".to_string();
    copy.arn = application_arn("00fcopy");
    copy.spec.name = "copy-of-etl".to_string();
    actual.applications.push(copy);
    for mode in [Mode::Apply, Mode::Destroy] {
        let out = diff(&desired, &actual, mode);
        assert!(
            !out.changes.iter().any(|c| matches!(&c.target, Target::Application(app)
                if app.current.as_ref().is_some_and(|current| current.id == "00fcopy"))),
            "{mode:?}: {:#?}",
            out.changes
        );
        let error = out
            .diagnostics
            .iter()
            .find(|d| d.code == "plan.unproven-ownership")
            .expect("the copy is reported");
        assert!(error.is_error());
        assert!(
            error.message.contains("application `copy-of-etl` (00fcopy)")
                && error.message.contains("record emrstack did not write for it"),
            "{}",
            error.message
        );
    }
    let same_name = actual.applications.last_mut().expect("the copy");
    same_name.spec.name = "etl".to_string();
    let out = plan(&desired, &actual);
    assert!(!out.diagnostics.has_errors(), "{:#?}", out.diagnostics);
    let reasons: Vec<Reason> = find_all(&out, "application.etl").iter().map(|c| c.reason).collect();
    assert!(reasons.contains(&Reason::Duplicate), "{reasons:?}");
}

#[test]
fn duplicates_of_an_undeclared_address_are_all_deleted() {
    let mut actual = account();
    actual
        .applications
        .push(foreign_application("a", "etl", Some((STACK, "application.etl"))));
    actual
        .applications
        .push(foreign_application("b", "etl", Some((STACK, "application.etl"))));
    let out = plan(&stack(), &actual);
    let reasons: Vec<Reason> = find_all(&out, "application.etl").iter().map(|c| c.reason).collect();
    assert_eq!(reasons, vec![Reason::RemovedFromStack, Reason::Duplicate]);
}

#[test]
fn images_resolve_to_uris_or_report_what_is_missing() {
    // (image, worker image, account has repository, expected image URI or diagnostic codes with paths)
    let check = |image: DesiredImage, with_repository: bool, expect: Result<&str, &[(&str, &str)]>| {
        let mut desired = stack();
        let mut spec = spec("etl");
        spec.image = Some(image);
        declare(&mut desired, "etl", spec);
        declare_repository(&mut desired, &[]);
        let actual = if with_repository {
            account_with_repository(None)
        } else {
            account()
        };
        let out = plan(&desired, &actual);
        match expect {
            Ok(uri) => {
                assert!(
                    !codes(&out).iter().any(|c| c.starts_with("image.")),
                    "{:#?}",
                    out.diagnostics
                );
                let change = find(&out, "application.etl");
                let desired = app_target(change).desired.as_ref().expect("desired");
                assert_eq!(desired.image.as_ref().map(|i| i.image_uri.as_str()), Some(uri));
            }
            Err(expected) => {
                let found: Vec<(String, String)> = out
                    .diagnostics
                    .iter()
                    .filter(|d| d.code.starts_with("image."))
                    .map(|d| {
                        let subject = d.subject.as_ref().expect("subject");
                        assert_eq!(subject.address, "application.etl");
                        (d.code.clone(), subject.path.clone())
                    })
                    .collect();
                let expected: Vec<(String, String)> =
                    expected.iter().map(|(c, p)| (c.to_string(), p.to_string())).collect();
                assert_eq!(found, expected);
                assert!(find_all(&out, "application.etl").is_empty(), "{:#?}", out.changes);
            }
        }
    };
    check(
        repository_image("v1", true),
        true,
        Ok(format!("{REPO_URI}@{DIGEST_V1}").as_str()),
    );
    check(
        repository_image("v2", false),
        true,
        Ok(format!("{REPO_URI}:v2").as_str()),
    );
    check(uri_image("public.ecr.aws/x/y:1"), false, Ok("public.ecr.aws/x/y:1"));
    check(
        repository_image("v1", true),
        false,
        Err(&[("image.repository-not-found", "image.repository")]),
    );
    check(
        repository_image("v9", true),
        true,
        Err(&[("image.tag-not-found", "image.tag")]),
    );
    check(
        repository_image("v9", false),
        true,
        Err(&[("image.tag-not-found", "image.tag")]),
    );
}

#[test]
fn every_missing_image_is_reported_not_just_the_first() {
    let mut desired = stack();
    let mut spec = spec("etl");
    spec.image = Some(repository_image("v8", true));
    spec.worker_type_specifications
        .insert(WorkerType::Executor, repository_image("v9", true));
    declare(&mut desired, "etl", spec);
    declare_repository(&mut desired, &[]);
    let out = plan(&desired, &account_with_repository(None));
    let paths: Vec<String> = out
        .diagnostics
        .iter()
        .filter(|d| d.code == "image.tag-not-found")
        .map(|d| d.subject.as_ref().expect("subject").path.clone())
        .collect();
    assert_eq!(
        paths,
        vec!["image.tag", "worker_type_specifications.executor.image.tag"]
    );
}

#[test]
fn arns_are_known_for_kept_applications_and_placeholders_otherwise() {
    let mut desired = stack();
    declare(&mut desired, "kept", spec("kept"));
    declare(&mut desired, "renamed", spec("renamed"));
    let actual = deploy(&desired, &account());
    declare(&mut desired, "new", spec("new"));
    desired.applications.get_mut("renamed").expect("renamed").spec.name = "renamed-2".to_string();
    let mut errors = crate::diff::Diagnostics::new();
    let resolved = crate::diff::resolve::resolve(&desired, &actual, Mode::Apply, &mut errors);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(resolved.arn_or_placeholder("kept"), deployed(&actual, "kept").arn);
    assert_eq!(resolved.arn_or_placeholder("renamed"), "${application.renamed.arn}");
    assert_eq!(resolved.arn_or_placeholder("new"), "${application.new.arn}");
    assert_eq!(
        resolved.known_arns.keys().collect::<Vec<_>>(),
        vec!["kept"],
        "replaced and new applications have no ARN yet"
    );
}

#[test]
fn role_trust_policy_is_generated_from_trust_applications() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let actual = deploy(&desired, &account());
    declare(&mut desired, "adhoc", spec("adhoc"));
    let mut scoped = role("scoped");
    scoped.trust_applications = vec!["etl".to_string(), "adhoc".to_string()];
    desired.roles.insert("scoped".to_string(), scoped);
    desired.roles.insert("open".to_string(), role("open"));
    let out = plan(&desired, &actual);
    let trust = |address: &str| {
        role_target(find(&out, address))
            .desired
            .as_ref()
            .expect("desired")
            .trust_policy
            .clone()
    };
    let etl = deployed(&actual, "etl").arn.clone();
    let expected_scoped = json!({"Version": "2012-10-17", "Statement": [{
        "Sid": crate::model::repository::statement_sid(STACK),
        "Effect": "Allow",
        "Principal": {"Service": "emr-serverless.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": [etl.clone(), format!("{etl}/*"), "${application.adhoc.arn}", "${application.adhoc.arn}/*"]}
        }
    }]});
    assert!(
        equivalent(&trust("role.scoped"), &expected_scoped),
        "{}",
        trust("role.scoped")
    );
    let open = trust("role.open");
    assert_eq!(
        open["Statement"][0]["Condition"],
        json!({"StringEquals": {"aws:SourceAccount": ACCOUNT}})
    );
}

#[test]
fn inline_policy_placeholders_are_substituted_when_known() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let actual = deploy(&desired, &account());
    declare(&mut desired, "adhoc", spec("adhoc"));
    let mut with_policy = role("etl");
    with_policy.inline_policies.insert(
        "jobs".to_string(),
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "emr-serverless:GetJobRun",
            "Resource": ["${application.etl.arn}/jobruns/*", "${application.adhoc.arn}/jobruns/*"]}]}),
    );
    desired.roles.insert("etl".to_string(), with_policy);
    let out = plan(&desired, &actual);
    let change = find(&out, "role.etl");
    let document = &role_target(change).desired.as_ref().expect("desired").inline_policies["jobs"];
    assert_eq!(
        document["Statement"][0]["Resource"],
        json!([
            format!("{}/jobruns/*", deployed(&actual, "etl").arn),
            "${application.adhoc.arn}/jobruns/*"
        ])
    );
    assert_eq!(change.references(), vec!["adhoc".to_string()]);
    assert!(field(change, "policies.jobs").after_unknown);
}

#[test]
fn an_existing_application_whose_image_cannot_be_resolved_is_left_alone() {
    let mut desired = stack();
    let mut with_image = spec("etl");
    with_image.image = Some(repository_image("v1", true));
    declare(&mut desired, "etl", with_image);
    declare_repository(&mut desired, &["etl"]);
    let actual = deploy(&desired, &account_with_repository(None));
    desired.applications.get_mut("etl").expect("etl").spec.image = Some(repository_image("v9", true));
    let out = plan(&desired, &actual);
    assert_eq!(codes(&out), vec!["image.tag-not-found"]);
    assert!(find_all(&out, "application.etl").is_empty(), "{:#?}", out.changes);
}

#[test]
fn a_duplicate_role_under_the_same_address_is_deleted() {
    let mut desired = stack();
    desired.roles.insert("etl".to_string(), role("etl-role"));
    let mut actual = deploy(&desired, &account());
    let mut leftover = actual.roles[0].clone();
    leftover.spec.name = "etl-role-old".to_string();
    leftover.arn = format!("arn:aws:iam::{ACCOUNT}:role/etl-role-old");
    leftover.role_id = "AROA0000".to_string();
    rebind_role(&mut leftover);
    actual.roles.push(leftover);
    let out = plan(&desired, &actual);
    let changes = find_all(&out, "role.etl");
    let summary: Vec<(Action, Reason, &str)> = changes
        .iter()
        .map(|c| {
            let current = role_target(c).current.as_ref().expect("current");
            (c.action, c.reason, current.spec.name.as_str())
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (Action::NoOp, Reason::UpToDate, "etl-role"),
            (Action::Delete, Reason::Duplicate, "etl-role-old")
        ]
    );
}
