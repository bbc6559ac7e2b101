//! Application changes.

use super::*;

#[test]
fn create_lists_every_field_and_carries_the_applied_record() {
    let mut desired = stack();
    declare(&mut desired, "etl", rich_spec("etl"));
    let out = plan(&desired, &account());
    let change = find(&out, "application.etl");
    assert_eq!((change.action, change.reason), (Action::Create, Reason::Missing));
    assert_eq!(change.steps, vec![Step::Create]);
    let listed: BTreeSet<&str> = change.fields.iter().map(|f| top_level(&f.path)).collect();
    let every: BTreeSet<&str> = ApplicationField::ALL.iter().map(|f| f.as_str()).collect();
    assert_eq!(listed, every);
    assert!(change.fields.iter().all(|f| f.before.is_null() && !f.after.is_null()));
    assert_eq!(field(change, "release_label").after, json!("emr-7.13.0"));
    let target = app_target(change);
    let desired_spec = target.desired.as_ref().expect("desired");
    assert_eq!(desired_spec.tags[tags::STACK_TAG], STACK);
    assert_eq!(desired_spec.tags[tags::ADDRESS_TAG], "application.etl");
    assert_eq!(
        desired_spec.tags.get(tags::APPLIED_TAG),
        Some(&crate::diff::application::applied_record(desired_spec))
    );
    // Ownership tags are shown like any tag, the record is not.
    let tag_paths: Vec<&str> = paths(change).into_iter().filter(|p| p.starts_with("tags")).collect();
    assert_eq!(tag_paths, vec!["tags"]);
    assert!(field(change, "tags").after.get(tags::APPLIED_TAG).is_none());
}

#[test]
fn a_minimal_create_shows_the_defaults_it_gets() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let out = plan(&desired, &account());
    let change = find(&out, "application.etl");
    assert_eq!(
        paths(change),
        vec![
            "name",
            "type",
            "release_label",
            "architecture",
            "auto_start",
            "auto_stop",
            "tags"
        ]
    );
}

#[test]
fn applications_read_back_with_server_defaults_are_up_to_date() {
    for (name, spec) in [("minimal", spec("etl")), ("rich", rich_spec("etl"))] {
        let mut desired = stack();
        declare(&mut desired, "etl", spec);
        let actual = deploy(&desired, &account());
        let out = plan(&desired, &actual);
        let change = find(&out, "application.etl");
        assert_eq!(change.action, Action::NoOp, "{name}: {change:#?}");
        // The AWS spelling of the same values changes nothing either.
        let mut respelled = actual.clone();
        let app = observed_app(&mut respelled, "etl");
        if let Some(network) = app.spec.network.as_mut() {
            network.subnet_ids.reverse();
        }
        app.spec.runtime_configuration.reverse();
        if let Some(cloudwatch) = app.spec.monitoring.cloudwatch.as_mut() {
            cloudwatch.log_types = BTreeMap::from([(
                "SPARK_DRIVER".to_string(),
                vec!["STDERR".to_string(), "STDOUT".to_string()],
            )]);
        }
        assert_eq!(
            find(&plan(&desired, &respelled), "application.etl").action,
            Action::NoOp,
            "{name} respelled"
        );
    }
}

/// One change to the rich application: what it edits, the field it touches
/// and whether a STARTED application accepts it.
type FieldCase = (
    &'static str,
    fn(&mut ApplicationSpec<DesiredImage>),
    ApplicationField,
    bool,
);

fn case(
    name: &'static str,
    edit: fn(&mut ApplicationSpec<DesiredImage>),
    field: ApplicationField,
    live: bool,
) -> FieldCase {
    (name, edit, field, live)
}

fn field_cases() -> Vec<FieldCase> {
    vec![
        case(
            "release label",
            |s| s.release_label = "emr-7.3.0".to_string(),
            ApplicationField::ReleaseLabel,
            false,
        ),
        case(
            "architecture",
            |s| s.architecture = Some(Architecture::X86_64),
            ApplicationField::Architecture,
            false,
        ),
        case(
            "initial capacity",
            |s| {
                s.initial_capacity
                    .get_mut(&WorkerType::Executor)
                    .expect("executor")
                    .worker_count = 4;
            },
            ApplicationField::InitialCapacity,
            false,
        ),
        case(
            "maximum capacity",
            |s| s.maximum_capacity.as_mut().expect("maximum").cpu = 128,
            ApplicationField::MaximumCapacity,
            true,
        ),
        case(
            "auto start",
            |s| s.auto_start = Some(AutoStart { enabled: false }),
            ApplicationField::AutoStart,
            false,
        ),
        case(
            "auto stop",
            |s| s.auto_stop.as_mut().expect("auto stop").idle_timeout_minutes = 60,
            ApplicationField::AutoStop,
            false,
        ),
        case(
            "network",
            |s| {
                s.network
                    .as_mut()
                    .expect("network")
                    .subnet_ids
                    .push("subnet-c".to_string())
            },
            ApplicationField::Network,
            false,
        ),
        // The rich application has pre-initialized capacity: the service
        // does not update its images while STARTED.
        case(
            "image",
            |s| s.image = Some(uri_image("111111111111.dkr.ecr.us-east-1.amazonaws.com/base:v2")),
            ApplicationField::Image,
            false,
        ),
        case(
            "worker image",
            |s| {
                s.worker_type_specifications.insert(
                    WorkerType::Driver,
                    uri_image("111111111111.dkr.ecr.us-east-1.amazonaws.com/driver:v1"),
                );
            },
            ApplicationField::WorkerTypeSpecifications,
            false,
        ),
        case(
            "runtime configuration",
            |s| {
                s.runtime_configuration[0]
                    .properties
                    .insert("spark.executor.cores".into(), "8".into());
            },
            ApplicationField::RuntimeConfiguration,
            false,
        ),
        case(
            "monitoring",
            |s| {
                s.monitoring.s3 = Some(S3Monitoring {
                    log_uri: Some("s3://other/".into()),
                    encryption_key_arn: None,
                })
            },
            ApplicationField::Monitoring,
            false,
        ),
        case(
            "interactive",
            |s| s.interactive.as_mut().expect("interactive").livy_endpoint_enabled = Some(true),
            ApplicationField::Interactive,
            false,
        ),
        case(
            "scheduler max concurrent runs",
            |s| s.scheduler.as_mut().expect("scheduler").max_concurrent_runs = Some(20),
            ApplicationField::Scheduler,
            true,
        ),
        case(
            "scheduler queue timeout",
            |s| s.scheduler.as_mut().expect("scheduler").queue_timeout_minutes = Some(720),
            ApplicationField::Scheduler,
            false,
        ),
        case(
            "disk encryption",
            |s| {
                s.disk_encryption
                    .as_mut()
                    .expect("disk encryption")
                    .encryption_context
                    .insert("team".into(), "data".into());
            },
            ApplicationField::DiskEncryption,
            false,
        ),
        case(
            "identity center",
            |s| {
                s.identity_center
                    .as_mut()
                    .expect("identity center")
                    .user_background_sessions_enabled = Some(true)
            },
            ApplicationField::IdentityCenter,
            false,
        ),
        case(
            "job-level cost allocation",
            |s| s.job_level_cost_allocation = None,
            ApplicationField::JobLevelCostAllocation,
            false,
        ),
    ]
}

#[test]
fn each_field_change_is_an_update_of_that_field_live_or_with_a_stop() {
    let mut desired = stack();
    declare(&mut desired, "etl", rich_spec("etl"));
    let deployed = deploy(&desired, &account());
    for (name, edit, expect_field, live) in field_cases() {
        let mut changed = desired.clone();
        edit(&mut changed.applications.get_mut("etl").expect("etl").spec);
        for state in [ApplicationState::Stopped, ApplicationState::Started] {
            let mut actual = deployed.clone();
            set_state(&mut actual, "etl", state);
            let out = plan(&changed, &actual);
            let change = find(&out, "application.etl");
            let context = format!("{name} in {state}: {change:#?}");
            assert_eq!(
                (change.action, change.reason),
                (Action::Update, Reason::Changed),
                "{context}"
            );
            let target = app_target(change);
            assert_eq!(target.update_fields, BTreeSet::from([expect_field]), "{context}");
            assert_eq!(target.needs_stop, !live, "{context}");
            assert!(change.fields.iter().all(|f| f.live == live && !f.drift), "{context}");
            let update = Step::Update {
                fields: vec![expect_field.as_str().to_string()],
            };
            let expected_steps = match (state, live) {
                (ApplicationState::Started, false) => vec![
                    Step::Stop {
                        running_jobs: 0,
                        running_sessions: 0,
                    },
                    update,
                    Step::Start,
                ],
                _ => vec![update],
            };
            // The record changes with the field, so the tags are refreshed too.
            let mut expected_steps = expected_steps;
            expected_steps.push(Step::Tag);
            assert_eq!(change.steps, expected_steps, "{context}");
            // Applying it converges.
            let next = apply_changes(&actual, &out.changes);
            assert_eq!(
                find(&plan(&changed, &next), "application.etl").action,
                Action::NoOp,
                "{name} does not converge"
            );
        }
    }
}

#[test]
fn update_steps_depend_on_the_application_state() {
    use ApplicationState::*;
    let stop = Step::Stop {
        running_jobs: 0,
        running_sessions: 0,
    };
    let update = |field: &str| Step::Update {
        fields: vec![field.to_string()],
    };
    // (state, field to change, expected steps before the tag refresh)
    let check = |state: ApplicationState, live: bool, expect: Vec<Step>| {
        let mut desired = stack();
        declare(&mut desired, "etl", rich_spec("etl"));
        let mut actual = deploy(&desired, &account());
        set_state(&mut actual, "etl", state);
        let app = &mut desired.applications.get_mut("etl").expect("etl").spec;
        if live {
            app.maximum_capacity.as_mut().expect("maximum").cpu = 128;
        } else {
            app.release_label = "emr-7.3.0".to_string();
        }
        let out = plan(&desired, &actual);
        let change = find(&out, "application.etl");
        let mut expect = expect;
        expect.push(Step::Tag);
        assert_eq!(change.steps, expect, "{state} live={live}");
    };
    check(Created, false, vec![update("release_label")]);
    check(Stopped, false, vec![update("release_label")]);
    check(Created, true, vec![update("maximum_capacity")]);
    check(Started, true, vec![update("maximum_capacity")]);
    check(Started, false, vec![stop.clone(), update("release_label"), Step::Start]);
    check(
        Creating,
        false,
        vec![Step::Wait { state: Creating }, update("release_label")],
    );
    check(
        Creating,
        true,
        vec![Step::Wait { state: Creating }, update("maximum_capacity")],
    );
    check(
        Starting,
        false,
        vec![
            Step::Wait { state: Starting },
            stop,
            update("release_label"),
            Step::Start,
        ],
    );
    check(
        Starting,
        true,
        vec![Step::Wait { state: Starting }, update("maximum_capacity")],
    );
    check(
        Stopping,
        false,
        vec![Step::Wait { state: Stopping }, update("release_label")],
    );
}

#[test]
fn mixed_live_and_stop_fields_need_a_stop_and_notes_say_so() {
    let mut desired = stack();
    declare(&mut desired, "etl", rich_spec("etl"));
    let mut actual = deploy(&desired, &account());
    set_state(&mut actual, "etl", ApplicationState::Started);
    let app = &mut desired.applications.get_mut("etl").expect("etl").spec;
    app.maximum_capacity.as_mut().expect("maximum").cpu = 128;
    app.release_label = "emr-7.3.0".to_string();
    let out = plan(&desired, &actual);
    let change = find(&out, "application.etl");
    assert!(app_target(change).needs_stop);
    assert!(field(change, "maximum_capacity.cpu").live);
    assert!(!field(change, "release_label").live);
    assert!(
        change
            .notes
            .iter()
            .any(|n| n.contains("stopped, updated and started again")),
        "{:?}",
        change.notes
    );

    // Live changes only: said to apply without a stop.
    desired.applications.get_mut("etl").expect("etl").spec.release_label = "emr-7.13.0".to_string();
    let out = plan(&desired, &actual);
    let change = find(&out, "application.etl");
    assert!(
        change.notes.iter().any(|n| n.contains("without stopping")),
        "{:?}",
        change.notes
    );
}

#[test]
fn stopping_a_started_application_counts_its_running_jobs() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let mut actual = deploy(&desired, &account());
    set_state(&mut actual, "etl", ApplicationState::Started);
    let id = observed_app(&mut actual, "etl").id.clone();
    let jobs = vec![
        JobRun {
            id: "j1".to_string(),
            name: None,
            state: JobRunState::Running,
            mode: crate::model::JobRunMode::Batch,
        },
        JobRun {
            id: "j2".to_string(),
            name: Some("nightly".to_string()),
            state: JobRunState::Queued,
            mode: crate::model::JobRunMode::Batch,
        },
    ];
    actual.running_work.insert(
        id,
        crate::model::RunningWork {
            job_runs: jobs.clone(),
            sessions: Vec::new(),
        },
    );

    desired.applications.get_mut("etl").expect("etl").spec.release_label = "emr-7.3.0".to_string();
    let out = plan(&desired, &actual);
    let change = find(&out, "application.etl");
    assert_eq!(
        change.steps[0],
        Step::Stop {
            running_jobs: 2,
            running_sessions: 0,
        }
    );
    assert_eq!(app_target(change).running_jobs, jobs);

    // Deleting it stops it too, with the same count.
    let out = plan(&stack(), &actual);
    let change = find(&out, "application.etl");
    assert_eq!(
        change.steps,
        vec![
            Step::Stop {
                running_jobs: 2,
                running_sessions: 0,
            },
            Step::Delete
        ]
    );
    assert_eq!(app_target(change).running_jobs, jobs);
}

#[test]
fn a_name_or_type_change_replaces_the_application() {
    use ApplicationState::*;
    // (edit, state, forcing path, expected steps)
    let check = |edit: fn(&mut ApplicationSpec<DesiredImage>), state, forcing: &str, steps: Vec<Step>| {
        let mut desired = stack();
        declare(&mut desired, "etl", spec("etl"));
        let mut actual = deploy(&desired, &account());
        set_state(&mut actual, "etl", state);
        let app = &mut desired.applications.get_mut("etl").expect("etl").spec;
        edit(app);
        app.release_label = "emr-7.3.0".to_string();
        let out = plan(&desired, &actual);
        let change = find(&out, "application.etl");
        assert_eq!((change.action, change.reason), (Action::Replace, Reason::ReplaceFields));
        assert_eq!(change.steps, steps, "{forcing} {state}");
        let forced: Vec<&str> = change
            .fields
            .iter()
            .filter(|f| f.forces_replacement)
            .map(|f| f.path.as_str())
            .collect();
        assert_eq!(forced, vec![forcing]);
        assert!(!field(change, "release_label").forces_replacement);
        assert!(change.fields.iter().all(|f| !f.live));
        let target = app_target(change);
        assert_eq!(
            target.current.as_ref().expect("current").id,
            deployed(&actual, "etl").id
        );
        assert!(target.update_fields.is_empty() && !target.needs_stop);
        assert!(!out.diagnostics.has_errors());
    };
    check(
        |s| s.name = "etl-2".to_string(),
        Stopped,
        "name",
        vec![Step::CreateReplacement, Step::DeleteReplaced],
    );
    check(
        |s| s.engine = Engine::Hive,
        Started,
        "type",
        vec![
            Step::CreateReplacement,
            Step::Stop {
                running_jobs: 0,
                running_sessions: 0,
            },
            Step::DeleteReplaced,
        ],
    );
    check(
        |s| s.name = "etl-2".to_string(),
        Creating,
        "name",
        vec![
            Step::CreateReplacement,
            Step::Wait { state: Creating },
            Step::DeleteReplaced,
        ],
    );
}

#[test]
fn prevent_destroy_refuses_replacement_and_deletion() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    desired.applications.get_mut("etl").expect("etl").prevent_destroy = true;
    let actual = deploy(&desired, &account());

    let mut renamed = desired.clone();
    renamed.applications.get_mut("etl").expect("etl").spec.name = "etl-2".to_string();
    let out = plan(&renamed, &actual);
    let error = diagnostic(&out, "plan.prevent-destroy");
    assert!(
        error.is_error() && error.message.contains("replace `application.etl`"),
        "{error:#?}"
    );

    let out = plan_mode(&desired, &actual, Mode::Destroy);
    let error = diagnostic(&out, "plan.prevent-destroy");
    assert!(error.message.contains("delete `application.etl`"), "{error:#?}");
}

#[test]
fn an_application_removed_from_the_stack_is_deleted_stopping_it_first() {
    use ApplicationState::*;
    let check = |state: ApplicationState, steps: Vec<Step>| {
        let mut desired = stack();
        declare(&mut desired, "etl", rich_spec("etl"));
        declare(&mut desired, "kept", spec("kept"));
        let mut actual = deploy(&desired, &account());
        set_state(&mut actual, "etl", state);
        desired.applications.remove("etl");
        let out = plan(&desired, &actual);
        let change = find(&out, "application.etl");
        assert_eq!(
            (change.action, change.reason),
            (Action::Delete, Reason::RemovedFromStack)
        );
        assert_eq!(change.steps, steps, "{state}");
        assert!(change.fields.iter().all(|f| f.after.is_null() && !f.before.is_null()));
        assert!(paths(change).contains(&"release_label"));
        let target = app_target(change);
        assert_eq!(target.needs_stop, steps.iter().any(|s| matches!(s, Step::Stop { .. })));
        assert_eq!(find(&out, "application.kept").action, Action::NoOp);
    };
    check(Created, vec![Step::Delete]);
    check(Stopped, vec![Step::Delete]);
    check(
        Started,
        vec![
            Step::Stop {
                running_jobs: 0,
                running_sessions: 0,
            },
            Step::Delete,
        ],
    );
    check(
        Starting,
        vec![
            Step::Wait { state: Starting },
            Step::Stop {
                running_jobs: 0,
                running_sessions: 0,
            },
            Step::Delete,
        ],
    );
    check(Creating, vec![Step::Wait { state: Creating }, Step::Delete]);
}

#[test]
fn destroy_deletes_everything_the_stack_owns() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let mut trusted = role("etl");
    trusted.trust_applications = vec!["etl".to_string()];
    desired.roles.insert("etl".to_string(), trusted);
    declare_repository(&mut desired, &["etl"]);
    let mut actual = deploy(&desired, &account_with_repository(None));
    actual.applications.push(foreign_application(
        "other",
        "other",
        Some(("prod", "application.other")),
    ));
    let out = plan_mode(&desired, &actual, Mode::Destroy);
    assert!(!out.diagnostics.has_errors(), "{:#?}", out.diagnostics);
    let summary: Vec<(String, Action, Reason)> = out
        .changes
        .iter()
        .map(|c| (c.address.to_string(), c.action, c.reason))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("application.etl".to_string(), Action::Delete, Reason::Destroy),
            ("role.etl".to_string(), Action::Delete, Reason::Destroy),
            ("repository.spark".to_string(), Action::Delete, Reason::Destroy),
        ]
    );
    assert_eq!(find(&out, "repository.spark").steps, vec![Step::DeletePolicy]);
    // After destroy, destroying again finds nothing.
    let gone = apply_changes(&actual, &out.changes);
    assert!(plan_mode(&desired, &gone, Mode::Destroy).changes.is_empty());
}

#[test]
fn destroy_honours_prevent_destroy_on_roles() {
    let mut desired = stack();
    let mut kept = role("etl");
    kept.prevent_destroy = true;
    desired.roles.insert("etl".to_string(), kept);
    let actual = deploy(&desired, &account());
    let out = plan_mode(&desired, &actual, Mode::Destroy);
    let error = diagnostic(&out, "plan.prevent-destroy");
    assert!(error.message.contains("`role.etl`"), "{error:#?}");
}

#[test]
fn tag_changes_use_the_tagging_api_and_keep_ownership_tags() {
    let mut desired = stack();
    declare(&mut desired, "etl", rich_spec("etl"));
    let deployed = deploy(&desired, &account());

    // A user tag changed in the stack.
    let mut changed = desired.clone();
    changed
        .applications
        .get_mut("etl")
        .expect("etl")
        .spec
        .tags
        .insert("team".to_string(), "platform".to_string());
    let out = plan(&changed, &deployed);
    let change = find(&out, "application.etl");
    assert_eq!((change.action, change.reason), (Action::Update, Reason::Changed));
    assert_eq!(change.steps, vec![Step::Tag]);
    assert_eq!(paths(change), vec!["tags.team"]);
    assert_eq!(
        (
            field(change, "tags.team").before.clone(),
            field(change, "tags.team").after.clone()
        ),
        (json!("data"), json!("platform"))
    );
    let target = app_target(change);
    assert!(target.update_fields.is_empty() && !target.needs_stop);
    assert_eq!(
        target.desired.as_ref().expect("desired").tags[tags::ADDRESS_TAG],
        "application.etl"
    );

    // A tag added outside emrstack is removed, and that is drift.
    let mut tagged = deployed.clone();
    observed_app(&mut tagged, "etl")
        .spec
        .tags
        .insert("owner".to_string(), "someone".to_string());
    let out = plan(&desired, &tagged);
    let change = find(&out, "application.etl");
    assert_eq!((change.action, change.reason), (Action::Update, Reason::Drift));
    assert_eq!(paths(change), vec!["tags.owner"]);
    assert!(field(change, "tags.owner").drift);
    assert_eq!(field(change, "tags.owner").after, Value::Null);
    assert_eq!(change.steps, vec![Step::Tag]);

    // Tags AWS reserves cannot be removed, so they are not a difference.
    let mut reserved = deployed.clone();
    observed_app(&mut reserved, "etl")
        .spec
        .tags
        .insert("aws:cloudformation:stack-name".to_string(), "legacy".to_string());
    assert_eq!(find(&plan(&desired, &reserved), "application.etl").action, Action::NoOp);
}

#[test]
fn a_removed_block_is_cleared() {
    // (edit removing a block, cleared path, field sent, live)
    let check = |edit: fn(&mut ApplicationSpec<DesiredImage>), path: &str, sent: ApplicationField, live: bool| {
        let mut desired = stack();
        declare(&mut desired, "etl", rich_spec("etl"));
        let actual = deploy(&desired, &account());
        edit(&mut desired.applications.get_mut("etl").expect("etl").spec);
        let out = plan(&desired, &actual);
        let change = find(&out, "application.etl");
        let cleared = field(change, path);
        assert!(!cleared.before.is_null(), "{path}");
        assert_eq!(cleared.after, Value::Null, "{path}");
        assert_eq!(cleared.live, live, "{path}");
        assert_eq!(app_target(change).update_fields, BTreeSet::from([sent]), "{path}");
        let next = apply_changes(&actual, &out.changes);
        assert_eq!(
            find(&plan(&desired, &next), "application.etl").action,
            Action::NoOp,
            "{path}"
        );
    };
    check(
        |s| s.monitoring.cloudwatch = None,
        "monitoring.cloudwatch",
        ApplicationField::Monitoring,
        false,
    );
    // Not live: the rich application has pre-initialized capacity.
    check(|s| s.image = None, "image", ApplicationField::Image, false);
    check(
        |s| s.worker_type_specifications.clear(),
        "worker_type_specifications",
        ApplicationField::WorkerTypeSpecifications,
        false,
    );
    check(
        |s| s.initial_capacity.clear(),
        "initial_capacity",
        ApplicationField::InitialCapacity,
        false,
    );
    check(|s| s.network = None, "network", ApplicationField::Network, false);
    check(
        |s| s.runtime_configuration.clear(),
        "runtime_configuration",
        ApplicationField::RuntimeConfiguration,
        false,
    );
    check(
        |s| s.disk_encryption = None,
        "disk_encryption",
        ApplicationField::DiskEncryption,
        false,
    );
    check(
        |s| s.identity_center = None,
        "identity_center",
        ApplicationField::IdentityCenter,
        false,
    );
    check(
        |s| s.interactive = None,
        "interactive",
        ApplicationField::Interactive,
        false,
    );
}

#[test]
fn an_absent_scheduler_is_never_a_difference_on_any_release() {
    for release in ["emr-6.15.0", "emr-7.2.0", "emr-7.5.0"] {
        let mut desired = stack();
        let mut app = spec("etl");
        app.release_label = release.to_string();
        declare(&mut desired, "etl", app);
        // Created without a scheduler: nothing about it in the plan.
        let out = plan(&desired, &account());
        let create = find(&out, "application.etl");
        assert!(!paths(create).iter().any(|p| p.starts_with("scheduler")), "{release}");
        let deployed = deploy(&desired, &account());
        // Whatever AWS holds (its default, a value set elsewhere, off), it stands.
        for held in [
            None,
            Some(Scheduler::ENABLED_DEFAULTS),
            Some(Scheduler {
                max_concurrent_runs: Some(3),
                queue_timeout_minutes: Some(30),
            }),
            Some(Scheduler::DISABLED),
        ] {
            let mut actual = deployed.clone();
            observed_app(&mut actual, "etl").spec.scheduler = held.clone();
            let out = plan(&desired, &actual);
            assert_eq!(find(&out, "application.etl").action, Action::NoOp, "{release} {held:?}");
            assert!(out.diagnostics.is_empty(), "{release} {held:?}: {:?}", out.diagnostics);
        }
    }
    // The service turns queueing on by default from emr-7.3.0.
    let mut desired = stack();
    let mut app = spec("etl");
    app.release_label = "emr-7.5.0".to_string();
    declare(&mut desired, "etl", app);
    let deployed = deploy(&desired, &account());
    assert_eq!(
        observed_app(&mut deployed.clone(), "etl").spec.scheduler,
        Some(Scheduler::ENABLED_DEFAULTS)
    );
}

#[test]
fn scheduler_false_turns_queueing_off_and_the_plan_says_so() {
    let mut desired = stack();
    let mut app = spec("etl");
    app.release_label = "emr-7.5.0".to_string();
    declare(&mut desired, "etl", app);
    let actual = deploy(&desired, &account());
    desired.applications.get_mut("etl").expect("etl").spec.scheduler = Some(Scheduler::DISABLED);
    let out = plan(&desired, &actual);
    let change = find(&out, "application.etl");
    assert_eq!(change.action, Action::Update);
    let scheduler = field(change, "scheduler");
    assert_eq!(
        (scheduler.before.clone(), scheduler.after.clone()),
        (
            json!({"max_concurrent_runs": 15, "queue_timeout_minutes": 360}),
            json!(false)
        )
    );
    assert!(!scheduler.live, "turning queueing off needs a stopped application");
    assert!(
        change.notes.iter().any(|n| n.contains("job queueing is turned off")),
        "{:?}",
        change.notes
    );
    let next = apply_changes(&actual, &out.changes);
    assert_eq!(observed_app(&mut next.clone(), "etl").spec.scheduler, None);
    assert_eq!(find(&plan(&desired, &next), "application.etl").action, Action::NoOp);
}

#[test]
fn a_scheduler_the_stack_stops_setting_is_kept_with_a_warning() {
    let mut desired = stack();
    let mut app = spec("etl");
    app.scheduler = Some(Scheduler {
        max_concurrent_runs: Some(5),
        queue_timeout_minutes: None,
    });
    declare(&mut desired, "etl", app);
    let actual = deploy(&desired, &account());
    desired.applications.get_mut("etl").expect("etl").spec.scheduler = None;
    let out = plan(&desired, &actual);
    let change = find(&out, "application.etl");
    // Only the record is refreshed: it then says the stack leaves it to AWS.
    assert!(change.fields.is_empty(), "{change:#?}");
    let warning = diagnostic(&out, "plan.scheduler-kept");
    assert!(
        warning
            .message
            .contains("keeps job queueing on with `max_concurrent_runs = 5`"),
        "{}",
        warning.message
    );
    let next = apply_changes(&actual, &out.changes);
    let again = plan(&desired, &next);
    assert_eq!(find(&again, "application.etl").action, Action::NoOp);
    assert!(again.diagnostics.is_empty(), "warned once: {:?}", again.diagnostics);
}

/// An application with an image and no pre-initialized capacity.
fn image_app(release: &str, resolution: Option<bool>) -> ApplicationSpec<DesiredImage> {
    let mut app = spec("etl");
    app.release_label = release.to_string();
    let mut image = uri_image("111111111111.dkr.ecr.us-east-1.amazonaws.com/base:v1");
    image.application_level_digest_resolution = resolution;
    app.image = Some(image);
    app
}

#[test]
fn image_changes_are_live_without_initial_capacity_and_say_when_jobs_get_them() {
    // (release, digest resolution in the stack, new jobs wait for a restart)
    for (release, resolution, restart) in [
        ("emr-7.5.0", None, true),
        ("emr-7.5.0", Some(false), false),
        ("emr-7.14.0", None, false),
        ("emr-7.14.0", Some(true), true),
    ] {
        let mut desired = stack();
        declare(&mut desired, "etl", image_app(release, resolution));
        let mut actual = deploy(&desired, &account());
        set_state(&mut actual, "etl", ApplicationState::Started);
        let app = desired.applications.get_mut("etl").expect("etl");
        app.spec.image.as_mut().expect("image").source = ImageSource::Uri {
            uri: "111111111111.dkr.ecr.us-east-1.amazonaws.com/base:v2".to_string(),
        };
        let out = plan(&desired, &actual);
        let change = find(&out, "application.etl");
        let context = format!("{release} {resolution:?}: {change:#?}");
        assert!(field(change, "image.uri").live, "{context}");
        assert!(!app_target(change).needs_stop, "{context}");
        assert_eq!(app_target(change).image_needs_restart, restart, "{context}");
        assert_eq!(
            change.notes.iter().any(|n| n.contains("only after it is restarted")),
            restart,
            "{context}"
        );
    }
}

#[test]
fn image_changes_with_initial_capacity_stop_the_application_and_say_why() {
    let mut desired = stack();
    let mut app = image_app("emr-7.5.0", None);
    app.initial_capacity.insert(WorkerType::Driver, capacity(1, 4, 16));
    declare(&mut desired, "etl", app);
    let mut actual = deploy(&desired, &account());
    set_state(&mut actual, "etl", ApplicationState::Started);
    desired.applications.get_mut("etl").expect("etl").spec.image =
        Some(uri_image("111111111111.dkr.ecr.us-east-1.amazonaws.com/base:v2"));
    let out = plan(&desired, &actual);
    let change = find(&out, "application.etl");
    assert!(!field(change, "image.uri").live);
    let target = app_target(change);
    assert!(target.needs_stop && !target.image_needs_restart);
    assert!(
        change
            .notes
            .iter()
            .any(|n| n.contains("does not update the image of a STARTED application with pre-initialized capacity")),
        "{:?}",
        change.notes
    );
    let next = apply_changes(&actual, &out.changes);
    assert_eq!(find(&plan(&desired, &next), "application.etl").action, Action::NoOp);
}

#[test]
fn a_stop_counts_streaming_runs_and_sessions() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let mut actual = deploy(&desired, &account());
    set_state(&mut actual, "etl", ApplicationState::Started);
    let id = observed_app(&mut actual, "etl").id.clone();
    let work = crate::model::RunningWork {
        job_runs: vec![JobRun {
            id: "j1".to_string(),
            name: None,
            state: JobRunState::Running,
            mode: crate::model::JobRunMode::Streaming,
        }],
        sessions: vec![crate::model::Session {
            id: "s1".to_string(),
            name: Some("notebook".to_string()),
            state: crate::model::SessionState::Idle,
        }],
    };
    actual.running_work.insert(id, work.clone());
    desired.applications.get_mut("etl").expect("etl").spec.release_label = "emr-7.3.0".to_string();
    let out = plan(&desired, &actual);
    let change = find(&out, "application.etl");
    assert_eq!(
        change.steps[0],
        Step::Stop {
            running_jobs: 1,
            running_sessions: 1,
        }
    );
    assert_eq!(change.steps[0].describe(), "stop (1 running job, 1 session)");
    let target = app_target(change);
    assert_eq!(
        (target.running_jobs.clone(), target.running_sessions.clone()),
        (work.job_runs, work.sessions)
    );
}

#[test]
fn removing_a_default_valued_block_changes_nothing() {
    // Going back to the default is not a change when AWS already has it.
    let mut desired = stack();
    let mut with_defaults = spec("etl");
    with_defaults.auto_stop = Some(AutoStop::default());
    with_defaults.architecture = Some(Architecture::X86_64);
    declare(&mut desired, "etl", with_defaults);
    let actual = deploy(&desired, &account());
    desired.applications.get_mut("etl").expect("etl").spec = spec("etl");
    assert_eq!(find(&plan(&desired, &actual), "application.etl").action, Action::NoOp);
}

#[test]
fn an_unset_maximum_capacity_is_left_as_aws_has_it() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let mut actual = deploy(&desired, &account());
    observed_app(&mut actual, "etl").spec.maximum_capacity = Some(MaximumCapacity {
        cpu: 400,
        memory_gb: 3000,
        disk_gb: Some(20000),
    });
    assert_eq!(find(&plan(&desired, &actual), "application.etl").action, Action::NoOp);
}

#[test]
fn drift_is_told_from_configuration_changes_by_the_applied_record() {
    // (stack release, AWS release, expected reason, field drift)
    let check = |stack_release: &str, aws_release: &str, reason: Reason, drift: bool| {
        let mut desired = stack();
        declare(&mut desired, "etl", spec("etl"));
        let mut actual = deploy(&desired, &account());
        observed_app(&mut actual, "etl").spec.release_label = aws_release.to_string();
        desired.applications.get_mut("etl").expect("etl").spec.release_label = stack_release.to_string();
        let out = plan(&desired, &actual);
        let change = find(&out, "application.etl");
        assert_eq!(change.reason, reason, "{stack_release} {aws_release}");
        let release = field(change, "release_label");
        assert_eq!(release.drift, drift);
        assert_eq!(release.before, json!(aws_release));
        assert_eq!(release.after, json!(stack_release));
        assert!(change.has_drift() == drift);
    };
    check("emr-7.3.0", "emr-7.2.0", Reason::Changed, false);
    check("emr-7.2.0", "emr-7.3.0", Reason::Drift, true);
    check("emr-7.4.0", "emr-7.3.0", Reason::ChangedAndDrift, true);
}

#[test]
fn drift_and_a_change_in_different_fields_are_both_reported() {
    let mut desired = stack();
    declare(&mut desired, "etl", rich_spec("etl"));
    let mut actual = deploy(&desired, &account());
    observed_app(&mut actual, "etl").spec.auto_stop = Some(AutoStop {
        enabled: false,
        idle_timeout_minutes: 15,
    });
    desired.applications.get_mut("etl").expect("etl").spec.release_label = "emr-7.3.0".to_string();
    let out = plan(&desired, &actual);
    let change = find(&out, "application.etl");
    assert_eq!(change.reason, Reason::ChangedAndDrift);
    assert!(!field(change, "release_label").drift);
    assert!(field(change, "auto_stop.enabled").drift);
}

#[test]
fn a_record_without_a_fields_hash_counts_differences_as_changes() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let mut actual = deploy(&desired, &account());
    let app = observed_app(&mut actual, "etl");
    // A record that knows no field (as after an import of a record that
    // did not fit): proof of ownership, but no history.
    let binding = tags::binding_token(tags::Identity::of_application(&app.spec), &app.spec.tags);
    app.spec.tags.insert(tags::APPLIED_TAG.to_string(), binding);
    app.spec.release_label = "emr-7.3.0".to_string();
    let out = plan(&desired, &actual);
    let change = find(&out, "application.etl");
    assert_eq!(change.reason, Reason::Changed);
    assert!(!change.has_drift());
    // The record is written with the update.
    assert_eq!(change.steps.last(), Some(&Step::Tag));
}

#[test]
fn a_stale_record_alone_only_refreshes_the_tags() {
    // Records from before bindings (the next apply binds them) and a bound
    // one whose fields are stale.
    for stale in ["abcd=000000", "abcd=000000 1111=111111", "BOUND 1111=111111"] {
        let mut desired = stack();
        declare(&mut desired, "etl", rich_spec("etl"));
        let mut actual = deploy(&desired, &account());
        let app = observed_app(&mut actual, "etl");
        let binding = tags::binding_token(tags::Identity::of_application(&app.spec), &app.spec.tags);
        app.spec
            .tags
            .insert(tags::APPLIED_TAG.to_string(), stale.replace("BOUND", &binding));
        let out = plan(&desired, &actual);
        let change = find(&out, "application.etl");
        assert_eq!(change.action, Action::Update, "{stale:?}");
        assert!(change.fields.is_empty());
        assert_eq!(change.steps, vec![Step::Tag]);
        assert!(app_target(change).update_fields.is_empty());
        assert!(change.notes.iter().any(|n| n.contains("only the applied record tag")));
        assert_eq!(
            change.notes.iter().any(|n| n.contains("binds it to this resource")),
            !stale.starts_with("BOUND"),
            "{stale}: {:?}",
            change.notes
        );
        let next = apply_changes(&actual, &out.changes);
        assert_eq!(find(&plan(&desired, &next), "application.etl").action, Action::NoOp);
    }
}

#[test]
fn an_application_with_the_tags_but_no_record_is_not_compared() {
    // Created out of band with the ownership tags, exactly as declared:
    // emrstack cannot prove it wrote it, so it neither updates it nor
    // refreshes its record; `emrstack import` adopts it.
    let mut desired = stack();
    declare(&mut desired, "etl", rich_spec("etl"));
    let mut actual = deploy(&desired, &account());
    observed_app(&mut actual, "etl").spec.tags.remove(tags::APPLIED_TAG);
    let out = plan(&desired, &actual);
    assert!(out.diagnostics.iter().any(|d| d.code == "plan.unproven-ownership"));
    assert!(
        find_all(&out, "application.etl")
            .iter()
            .all(|c| app_target(c).current.is_none())
    );
}

#[test]
fn the_applied_record_is_stable_and_matches_the_next_plan() {
    let mut desired = stack();
    declare(&mut desired, "etl", rich_spec("etl"));
    let first = plan(&desired, &account());
    let second = plan(&desired, &account());
    let record = |out: &DiffOutput| {
        app_target(find(out, "application.etl"))
            .desired
            .as_ref()
            .and_then(|d| d.tags.get(tags::APPLIED_TAG).cloned())
            .expect("record")
    };
    assert_eq!(record(&first), record(&second));
    // Deploying (create, then AWS fills defaults) and planning again is a no-op:
    // `deploy` asserts it.
    let actual = deploy(&desired, &account());
    assert_eq!(
        actual.applications[0].spec.tags.get(tags::APPLIED_TAG),
        Some(&record(&first))
    );
}

#[test]
fn an_image_change_where_aws_reports_digest_resolution_is_not_drift() {
    // AWS fills `applicationLevelDigestResolution` from the release when the
    // stack leaves it out; that is not a change made outside emrstack.
    let mut desired = stack();
    let mut with_image = spec("etl");
    with_image.image = Some(uri_image("111111111111.dkr.ecr.us-east-1.amazonaws.com/base:v1"));
    declare(&mut desired, "etl", with_image);
    let mut actual = deploy(&desired, &account());
    observed_app(&mut actual, "etl")
        .spec
        .image
        .as_mut()
        .expect("image")
        .application_level_digest_resolution = Some(true);
    assert_eq!(find(&plan(&desired, &actual), "application.etl").action, Action::NoOp);

    desired.applications.get_mut("etl").expect("etl").spec.image =
        Some(uri_image("111111111111.dkr.ecr.us-east-1.amazonaws.com/base:v2"));
    let out = plan(&desired, &actual);
    let change = find(&out, "application.etl");
    assert_eq!(change.reason, Reason::Changed, "{change:#?}");
    assert!(!change.has_drift(), "{change:#?}");
}

#[test]
fn setting_a_maximum_capacity_aws_chose_is_a_change_not_drift() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let mut actual = deploy(&desired, &account());
    observed_app(&mut actual, "etl").spec.maximum_capacity = Some(MaximumCapacity {
        cpu: 400,
        memory_gb: 3000,
        disk_gb: None,
    });
    desired.applications.get_mut("etl").expect("etl").spec.maximum_capacity = Some(MaximumCapacity {
        cpu: 64,
        memory_gb: 256,
        disk_gb: None,
    });
    let out = plan(&desired, &actual);
    let change = find(&out, "application.etl");
    assert_eq!(change.reason, Reason::Changed, "{change:#?}");
    assert!(!change.has_drift());
}

#[test]
fn origin_of_a_field_compares_both_sides_with_the_record() {
    let applied = json!({"cpu": "4 vCPU"});
    let record = Record::decode(&encode_record(
        "0000=abcdef",
        &BTreeMap::from([("maximum_capacity".to_string(), applied.clone())]),
    ));
    let other = json!({"cpu": "8 vCPU"});
    let third = json!({"cpu": "16 vCPU"});
    let check = |desired: &Value, actual: &Value, expect: Origin| {
        assert_eq!(origin(&record, "maximum_capacity", desired, actual), expect);
    };
    check(&other, &applied, Origin::Config);
    check(&applied, &other, Origin::Drift);
    check(&other, &third, Origin::Both);
    assert_eq!(
        origin(&record, "release_label", &other, &applied),
        Origin::Unknown,
        "a field the record does not hold"
    );
    use crate::diff::application::reason_from;
    assert_eq!(reason_from(&[Origin::Config]), Reason::Changed);
    assert_eq!(reason_from(&[Origin::Unknown]), Reason::Changed);
    assert_eq!(reason_from(&[Origin::Drift]), Reason::Drift);
    assert_eq!(reason_from(&[Origin::Drift, Origin::Unknown]), Reason::ChangedAndDrift);
    assert_eq!(reason_from(&[Origin::Both]), Reason::ChangedAndDrift);
    assert_eq!(reason_from(&[]), Reason::Changed);
}

#[test]
fn removing_maximum_capacity_warns_that_aws_keeps_it() {
    // docs/api-semantics.md: `maximumCapacity` cannot be cleared, so
    // emrstack warns instead of planning a change it cannot make.
    let mut desired = stack();
    declare(&mut desired, "etl", rich_spec("etl"));
    let actual = deploy(&desired, &account());
    desired.applications.get_mut("etl").expect("etl").spec.maximum_capacity = None;
    let out = plan(&desired, &actual);
    let warning = diagnostic(&out, "plan.maximum-capacity-kept");
    assert!(!warning.is_error());
    assert!(warning.message.contains("64 vCPU"), "{}", warning.message);
    assert_eq!(warning.subject.as_ref().expect("subject").path, "maximum_capacity");
    // Nothing can be sent; only the record learns the stack no longer sets it.
    let change = find(&out, "application.etl");
    assert!(change.fields.is_empty(), "{change:#?}");
    assert_eq!(change.steps, vec![Step::Tag]);
    // Once recorded, the warning is not repeated.
    let next = apply_changes(&actual, &out.changes);
    let again = plan(&desired, &next);
    assert!(again.diagnostics.is_empty(), "{:#?}", again.diagnostics);
    assert_eq!(find(&again, "application.etl").action, Action::NoOp);
    // A capacity the stack never set is not worth a warning.
    let mut never = stack();
    declare(&mut never, "etl", spec("etl"));
    let mut chosen = deploy(&never, &account());
    observed_app(&mut chosen, "etl").spec.maximum_capacity = Some(MaximumCapacity {
        cpu: 400,
        memory_gb: 3000,
        disk_gb: None,
    });
    assert!(plan(&never, &chosen).diagnostics.is_empty());
}

#[test]
fn hive_applications_round_trip_too() {
    let mut desired = stack();
    let mut hive: ApplicationSpec<DesiredImage> = ApplicationSpec::new("warehouse", Engine::Hive, "emr-7.2.0");
    hive.initial_capacity.insert(WorkerType::HiveDriver, capacity(1, 2, 8));
    hive.initial_capacity.insert(WorkerType::TezTask, capacity(4, 4, 16));
    hive.worker_type_specifications.insert(
        WorkerType::TezTask,
        uri_image("111111111111.dkr.ecr.us-east-1.amazonaws.com/tez:v1"),
    );
    hive.runtime_configuration = vec![configuration("hive-site", &[("hive.exec.parallel", "true")])];
    declare(&mut desired, "warehouse", hive);
    let out = plan(&desired, &account());
    let change = find(&out, "application.warehouse");
    assert!(paths(change).contains(&"worker_type_specifications"));
    assert_eq!(
        field(change, "initial_capacity").after["tez_task"]["worker_count"],
        json!(4)
    );
    deploy(&desired, &account());
}

#[test]
fn a_terminated_application_counts_as_gone() {
    // GetApplication can return an application deleted since it was listed;
    // TERMINATED accepts neither updates nor deletion.
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let mut actual = deploy(&desired, &account());
    set_state(&mut actual, "etl", ApplicationState::Terminated);
    let out = plan(&desired, &actual);
    let changes = find_all(&out, "application.etl");
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(changes[0].action, Action::Create);
    assert!(plan(&stack(), &actual).changes.is_empty());
}
