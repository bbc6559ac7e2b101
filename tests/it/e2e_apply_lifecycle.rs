//! `emrstack apply` and `destroy` end to end, through the built binary,
//! against the emulator: every example converges, updates respect the
//! application state machine, saved plans apply exactly or not at all,
//! replacements move references before deleting, and destroy leaves the
//! account as it was.
//!
//! One emulator serves the whole file; each test is a fresh account.

use crate::apply_support::{
    ANALYTICS_REPOSITORY, ANALYTICS_TAGS, Aws, Project, Snapshot, analytics, bounded, line_of, quickstart, statements,
};
use crate::support::cli::Workspace;
use crate::support::cloud::shared_emulator;
use crate::support::emulator::Emulator;
use crate::support::fixtures;
use serde_json::json;

// ---------------------------------------------------------------------------
// Convergence of every example: apply creates everything, a second plan is empty.
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickstart_example_applies_and_converges() {
    bounded(async {
        let project = quickstart(shared_emulator());
        let run = project.apply(&[]).await.ok();
        assert!(
            run.stderr.contains("Apply complete: 1 applied, 0 failed, 0 skipped."),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("Converged: AWS matches the stack."),
            "{}",
            run.stderr
        );
        let aws = project.aws().await;
        let app = aws.app_named("quickstart-spark").await;
        assert_eq!(app.release_label, "emr-7.2.0");
        assert_eq!(app.tags.get("emrstack:stack").map(String::as_str), Some("quickstart"));
        assert_eq!(
            app.tags.get("emrstack:address").map(String::as_str),
            Some("application.spark")
        );
        assert!(app.tags.contains_key("emrstack:applied"), "{:?}", app.tags);
        assert_eq!(aws.apps().await.len(), 1);
        project.assert_converged().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hive_example_applies_and_converges() {
    bounded(async {
        let emulator = shared_emulator();
        let ws = Workspace::new(emulator);
        ws.copy_example("examples/hive");
        let project = Project::new(ws);
        project.apply(&[]).await.ok();
        // The example's region is us-west-2.
        let aws = Aws::connect(emulator, project.account(), "us-west-2").await;
        let app = aws.app_named("warehouse-hive").await;
        assert_eq!(app.tags.get("team").map(String::as_str), Some("analytics"));
        assert!(project.aws().await.apps().await.is_empty(), "nothing in us-east-1");
        project.assert_converged().await;
    })
    .await;
}

/// Checks what the analytics example creates for environment `env`.
async fn check_analytics(project: &Project<'_>, env: &str, tag: &str) {
    let aws = project.aws().await;
    let app = aws.app_named(&format!("analytics-{env}-etl")).await;
    assert_eq!(aws.apps().await.len(), 1);
    assert_eq!(app.tags.get("environment").map(String::as_str), Some(env));
    assert_eq!(app.tags.get("component").map(String::as_str), Some("etl"));
    let image = app.image_uri.clone().expect("a custom image");
    assert!(
        image.contains(".dkr.ecr.us-east-1.amazonaws.com/analytics/spark"),
        "{image}"
    );
    // Pinned by default: the tag is resolved to its digest at plan time.
    assert!(image.ends_with(&format!("@{}", project.digests[tag])), "{image}");

    let role = aws
        .role(&format!("analytics-{env}-etl"))
        .await
        .expect("the role exists");
    assert!(role.trust_policy.contains(&app.arn), "{}", role.trust_policy);
    assert_eq!(
        role.inline_policies,
        ["data", "logs"].into_iter().map(String::from).collect()
    );
    assert_eq!(role.tags.get("emrstack:address").map(String::as_str), Some("role.etl"));

    let policy = aws.repository_policy(ANALYTICS_REPOSITORY).await.expect("a policy");
    let statements = statements(Some(&policy));
    assert_eq!(statements.len(), 1, "{policy}");
    assert_eq!(
        statements[0]["Condition"]["StringEquals"]["aws:SourceArn"],
        json!(app.arn),
        "{policy}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analytics_example_with_dev_vars_applies_and_converges() {
    bounded(async {
        let project = analytics(shared_emulator(), "dev.vars.toml").await;
        let run = project.apply(&[]).await.ok();
        assert!(
            run.stderr.contains("Apply complete: 3 applied, 0 failed, 0 skipped."),
            "{}",
            run.stderr
        );
        check_analytics(&project, "dev", "dev").await;
        project.assert_converged().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analytics_example_with_prod_vars_applies_and_converges() {
    bounded(async {
        let project = analytics(shared_emulator(), "prod.vars.toml").await;
        project.apply(&[]).await.ok();
        check_analytics(&project, "prod", "v1.4.2").await;
        let app = project.aws().await.app_named("analytics-prod-etl").await;
        assert_eq!(app.maximum_cpu.as_deref(), Some("400 vCPU"));
        project.assert_converged().await;
    })
    .await;
}

// ---------------------------------------------------------------------------
// Updates and the state machine.
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_label_bump_on_a_started_application_stops_updates_and_restarts_it() {
    bounded(async {
        let project = quickstart(shared_emulator());
        project.apply(&[]).await.ok();
        let aws = project.aws().await;
        let app = aws.app_named("quickstart-spark").await;
        aws.start(project.emulator(), project.account(), &app.id).await;
        let stops = project.served("emr-serverless:StopApplication");
        let starts = project.served("emr-serverless:StartApplication");

        project.edit("emrstack.toml", "emr-7.2.0", "emr-7.3.0");
        let plan = project.plan(&[]).await.expect_code(2);
        assert!(plan.stdout.contains("stop"), "{}", plan.stdout);
        let run = project.apply(&[]).await.ok();
        assert!(run.stderr.contains("Converged"), "{}", run.stderr);

        let after = aws.app(&app.id).await;
        assert_eq!(after.release_label, "emr-7.3.0");
        assert_eq!(after.state, "STARTED", "it was STARTED before, so it is started again");
        assert_eq!(project.served("emr-serverless:StopApplication") - stops, 1);
        assert_eq!(project.served("emr-serverless:StartApplication") - starts, 1);
        assert_eq!(aws.apps().await.len(), 1, "updated in place, not replaced");
        project.assert_converged().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maximum_capacity_change_on_a_started_application_is_applied_without_stopping() {
    bounded(async {
        let project = quickstart(shared_emulator());
        project.apply(&[]).await.ok();
        let aws = project.aws().await;
        let app = aws.app_named("quickstart-spark").await;
        aws.start(project.emulator(), project.account(), &app.id).await;
        let starts = project.served("emr-serverless:StartApplication");

        project.edit("emrstack.toml", "cpu = \"16 vCPU\"", "cpu = \"32 vCPU\"");
        project.apply(&[]).await.ok();

        let after = aws.app(&app.id).await;
        assert_eq!(after.maximum_cpu.as_deref(), Some("32 vCPU"));
        assert_eq!(after.state, "STARTED");
        assert_eq!(project.served("emr-serverless:StopApplication"), 0);
        assert_eq!(project.served("emr-serverless:StartApplication"), starts);
        assert_eq!(project.served("emr-serverless:UpdateApplication"), 1);
        project.assert_converged().await;
    })
    .await;
}

/// Regression: the update's client token was derived from the plan's
/// fingerprint of the account, which repeats when a change is reverted and
/// made again, so the second UpdateApplication replayed the first one's
/// stored response and changed nothing ("Not converged", exit 1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reverting_a_change_and_making_it_again_updates_the_application_each_time() {
    bounded(async {
        let project = quickstart(shared_emulator());
        project.apply(&[]).await.ok();
        let aws = project.aws().await;
        let id = aws.app_named("quickstart-spark").await.id;
        for cpu in ["32", "16", "32", "16"] {
            let text = project.read("emrstack.toml");
            let start = text.find("cpu = \"").expect("a cpu line");
            let end = start + text[start..].find(" vCPU\"").expect("vCPU");
            project.ws.write(
                "emrstack.toml",
                &format!("{}cpu = \"{cpu}{}", &text[..start], &text[end..]),
            );
            let run = project.apply(&[]).await;
            assert_eq!(run.code, 0, "applying {cpu} vCPU:\n{}", run.stderr);
            assert_eq!(aws.app(&id).await.maximum_cpu, Some(format!("{cpu} vCPU")));
        }
        assert_eq!(project.served("emr-serverless:UpdateApplication"), 4);
    })
    .await;
}

// ---------------------------------------------------------------------------
// Confirmation.
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_without_a_terminal_and_without_auto_approve_refuses_and_changes_nothing() {
    bounded(async {
        let project = quickstart(shared_emulator());
        // `Workspace::command` gives the binary a null stdin: not a terminal.
        let run = project.run(&["apply"]).await.expect_code(1);
        assert!(run.stderr.contains("--auto-approve"), "{}", run.stderr);
        assert!(
            run.stdout.contains("will be created"),
            "the plan is still shown: {}",
            run.stdout
        );
        assert!(project.aws().await.apps().await.is_empty());
        assert_eq!(project.served("emr-serverless:CreateApplication"), 0);

        let run = project.run(&["destroy"]).await.expect_code(0);
        assert!(
            !run.stderr.contains("Destroy complete"),
            "nothing to destroy: {}",
            run.stderr
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_without_a_terminal_and_without_auto_approve_refuses_and_changes_nothing() {
    bounded(async {
        let project = quickstart(shared_emulator());
        project.apply(&[]).await.ok();
        let run = project.run(&["destroy"]).await.expect_code(1);
        assert!(run.stderr.contains("--auto-approve"), "{}", run.stderr);
        assert_eq!(project.aws().await.apps().await.len(), 1);
        assert_eq!(project.served("emr-serverless:DeleteApplication"), 0);
    })
    .await;
}

// ---------------------------------------------------------------------------
// Saved plans.
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_plan_applies_exactly_what_was_planned() {
    bounded(async {
        let project = quickstart(shared_emulator());
        project.plan(&["--out", "release.emrplan"]).await.expect_code(2);
        // The stack file changes after the plan was saved: the saved plan,
        // not the file, is what gets applied.
        project.edit("emrstack.toml", "emr-7.2.0", "emr-7.3.0");
        let run = project.run(&["apply", "release.emrplan", "--auto-approve"]).await.ok();
        assert!(run.stderr.contains("Apply complete: 1 applied"), "{}", run.stderr);
        let aws = project.aws().await;
        let app = aws.app_named("quickstart-spark").await;
        assert_eq!(app.release_label, "emr-7.2.0");
        assert_eq!(project.served("emr-serverless:CreateApplication"), 1);

        // The file now differs from what was applied.
        project.plan(&[]).await.expect_code(2);
        // Applying the same saved plan again is refused: AWS moved on.
        let again = project
            .run(&["apply", "release.emrplan", "--auto-approve"])
            .await
            .expect_code(1);
        assert!(again.stderr.contains("stale plan"), "{}", again.stderr);
        assert_eq!(aws.apps().await.len(), 1);
    })
    .await;
}

/// Applies quickstart, saves a plan raising the maximum capacity, runs
/// `tamper`, and checks that the saved plan is refused as stale with
/// nothing changed.
async fn check_stale_after<F, Fut>(tamper: F)
where
    F: FnOnce(Aws, String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let project = quickstart(shared_emulator());
    project.apply(&[]).await.ok();
    project.edit("emrstack.toml", "cpu = \"16 vCPU\"", "cpu = \"32 vCPU\"");
    project.plan(&["--out", "capacity.emrplan"]).await.expect_code(2);
    let aws = project.aws().await;
    let app = aws.app_named("quickstart-spark").await;
    tamper(project.aws().await, app.id.clone()).await;
    let tampered = aws.app(&app.id).await;
    let updates = project.served("emr-serverless:UpdateApplication");

    let run = project
        .run(&["apply", "capacity.emrplan", "--auto-approve"])
        .await
        .expect_code(1);
    assert!(run.stderr.contains("stale plan"), "{}", run.stderr);
    assert!(run.stderr.contains("emrstack plan"), "says what to do: {}", run.stderr);
    assert_eq!(aws.app(&app.id).await, tampered, "nothing changed");
    assert_eq!(project.served("emr-serverless:UpdateApplication"), updates);
    assert_eq!(aws.apps().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_plan_is_refused_as_stale_after_a_tag_is_edited_out_of_band() {
    bounded(check_stale_after(|aws, id| async move {
        let arn = aws.app(&id).await.arn;
        aws.emr
            .tag_resource()
            .resource_arn(arn)
            .tags("owner", "someone-else")
            .send()
            .await
            .expect("TagResource");
    }))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_plan_is_refused_as_stale_after_the_release_label_is_edited_out_of_band() {
    bounded(check_stale_after(|aws, id| async move {
        aws.emr
            .update_application()
            .application_id(id)
            .release_label("emr-7.1.0")
            .client_token("out-of-band-edit")
            .send()
            .await
            .expect("UpdateApplication");
    }))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_plan_made_against_an_empty_account_is_refused_once_someone_created_the_resources() {
    bounded(async {
        let project = analytics(shared_emulator(), "dev.vars.toml").await;
        project.plan(&["--out", "empty.emrplan"]).await.expect_code(2);
        // Someone else applies the same stack first.
        project.apply(&[]).await.ok();
        let aws = project.aws().await;
        let before = Snapshot::take(&aws, &[ANALYTICS_REPOSITORY]).await;

        let mut args = vec!["apply", "empty.emrplan", "--auto-approve"];
        args.extend(project.stack_args.iter().map(String::as_str));
        let run = crate::apply_support::run(&project.ws, &args).await.expect_code(1);
        assert!(run.stderr.contains("stale plan"), "{}", run.stderr);
        assert_eq!(
            Snapshot::take(&aws, &[ANALYTICS_REPOSITORY]).await,
            before,
            "nothing changed"
        );
        assert_eq!(project.served("emr-serverless:CreateApplication"), 1);
        assert_eq!(project.served("iam:CreateRole"), 1);
    })
    .await;
}

// ---------------------------------------------------------------------------
// Replacement.
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renaming_an_application_replaces_it_moving_references_before_deleting_the_old_one() {
    bounded(async {
        let project = analytics(shared_emulator(), "dev.vars.toml").await;
        project.apply(&[]).await.ok();
        let aws = project.aws().await;
        let old = aws.app_named("analytics-dev-etl").await;
        // A running old application must be stopped before it is deleted.
        aws.start(project.emulator(), project.account(), &old.id).await;

        project.edit(
            "emrstack.toml",
            "[applications.etl]\n",
            "[applications.etl]\nname = \"analytics-dev-etl-v2\"\n",
        );
        let plan = project.plan(&[]).await.expect_code(2);
        assert!(plan.stdout.contains("replace"), "{}", plan.stdout);
        let run = project.apply(&[]).await.ok();

        let new = aws.app_named("analytics-dev-etl-v2").await;
        assert_ne!(new.id, old.id);
        assert_eq!(aws.apps().await.len(), 1, "only the new application is left");
        assert_eq!(aws.app(&old.id).await.state, "TERMINATED");
        assert_eq!(project.served("emr-serverless:StopApplication"), 1);

        let policy = aws.repository_policy(ANALYTICS_REPOSITORY).await.expect("a policy");
        let statements = statements(Some(&policy));
        assert_eq!(statements.len(), 1, "{policy}");
        assert_eq!(
            statements[0]["Condition"]["StringEquals"]["aws:SourceArn"],
            json!(new.arn),
            "{policy}"
        );
        assert!(!policy.to_string().contains(&old.arn), "{policy}");
        let role = aws.role("analytics-dev-etl").await.expect("role");
        assert!(role.trust_policy.contains(&new.arn), "{}", role.trust_policy);
        assert!(!role.trust_policy.contains(&old.arn), "{}", role.trust_policy);

        // Order: the new application, then the references, then the old one.
        let log = &run.stderr;
        let created = line_of(log, "application.etl: done");
        let repository = line_of(log, "repository.spark: done");
        let role_done = line_of(log, "role.etl: done");
        let cleanup = line_of(log, "application.etl (old):");
        assert!(created < repository && created < role_done, "{log}");
        assert!(repository < cleanup && role_done < cleanup, "{log}");
        project.assert_converged().await;
    })
    .await;
}

// ---------------------------------------------------------------------------
// Destroy.
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_leaves_the_account_as_it_was_before_the_first_apply() {
    bounded(async {
        let project = analytics(shared_emulator(), "dev.vars.toml").await;
        let aws = project.aws().await;
        // What was there before and is not the stack's: a statement in the
        // repository policy, a role and an application.
        let foreign = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "CiPush",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                "Action": ["ecr:PutImage", "ecr:InitiateLayerUpload"],
            }],
        });
        aws.set_repository_policy(ANALYTICS_REPOSITORY, &foreign).await;
        aws.create_foreign_role("someone-elses-role").await;
        aws.emr
            .create_application()
            .name("someone-elses-app")
            .release_label("emr-7.2.0")
            .r#type("SPARK")
            .client_token("foreign")
            .send()
            .await
            .expect("CreateApplication");
        let before = Snapshot::take(&aws, &[ANALYTICS_REPOSITORY]).await;

        project.apply(&[]).await.ok();
        let applied = Snapshot::take(&aws, &[ANALYTICS_REPOSITORY]).await;
        assert_eq!(applied.applications.len(), 2);
        assert_eq!(applied.repository_statements[ANALYTICS_REPOSITORY].len(), 2);
        // Make the stack's application STARTED so destroy has to stop it.
        let etl = aws.app_named("analytics-dev-etl").await;
        aws.start(project.emulator(), project.account(), &etl.id).await;

        let run = project.destroy(&[]).await.ok();
        assert!(
            run.stderr.contains("Destroy complete: 3 applied, 0 failed, 0 skipped."),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("Converged: nothing the stack owns is left."),
            "{}",
            run.stderr
        );
        assert_eq!(Snapshot::take(&aws, &[ANALYTICS_REPOSITORY]).await, before);
        assert_eq!(aws.app(&etl.id).await.state, "TERMINATED");

        // Destroying again finds nothing to do.
        let again = project.destroy(&[]).await.ok();
        assert!(!again.stderr.contains("Destroy complete"), "{}", again.stderr);
    })
    .await;
}

/// Regression: the create's client token was derived from the plan's
/// fingerprint of the account, which is the same for an empty account
/// before the first apply and after a destroy, so CreateApplication
/// returned the destroyed (TERMINATED) application and every later apply
/// failed with "is TERMINATED after creation".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applying_again_after_destroy_creates_the_stack_again() {
    bounded(async {
        let project = quickstart(shared_emulator());
        let aws = project.aws().await;
        let mut ids = Vec::new();
        // Each round walks past one more destroyed application: five rounds
        // go beyond any small fixed number of replays.
        for round in 0..5 {
            let run = project.apply(&[]).await;
            assert_eq!(run.code, 0, "apply #{round}:\n{}", run.stderr);
            let app = aws.app_named("quickstart-spark").await;
            assert!(!ids.contains(&app.id), "a new application each time");
            ids.push(app.id);
            project.destroy(&[]).await.ok();
            assert!(aws.apps().await.is_empty());
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prevent_destroy_makes_destroy_and_a_replacing_plan_an_error() {
    bounded(async {
        let project = quickstart(shared_emulator());
        project.edit(
            "emrstack.toml",
            "[applications.spark]\n",
            "[applications.spark]\nprevent_destroy = true\n",
        );
        project.apply(&[]).await.ok();
        let aws = project.aws().await;
        let app = aws.app_named("quickstart-spark").await;

        let run = project.destroy(&[]).await.expect_code(1);
        assert!(run.stderr.contains("prevent_destroy"), "{}", run.stderr);
        assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);

        project.edit(
            "emrstack.toml",
            "[applications.spark]\n",
            "[applications.spark]\nname = \"quickstart-spark-v2\"\n",
        );
        let plan = project.plan(&[]).await.expect_code(1);
        assert!(plan.stderr.contains("prevent_destroy"), "{}", plan.stderr);
        let run = project.apply(&[]).await.expect_code(1);
        assert!(run.stderr.contains("prevent_destroy"), "{}", run.stderr);

        assert_eq!(aws.apps().await, vec![aws.app(&app.id).await]);
        assert_eq!(aws.app(&app.id).await.name, "quickstart-spark");
        assert_eq!(project.served("emr-serverless:CreateApplication"), 1);
        assert_eq!(project.served("emr-serverless:DeleteApplication"), 0);
    })
    .await;
}

// ---------------------------------------------------------------------------
// EMR Serverless semantics (docs/api-semantics.md): the scheduler, images,
// and the work that keeps an application from stopping.
// ---------------------------------------------------------------------------

/// A fresh account with the `analytics/spark` repository and its tagged
/// images, and `stack` (TOML after `[stack]`) as the stack file.
async fn semantics_project<'a>(emulator: &'a Emulator, stack: &str) -> Project<'a> {
    let ws = Workspace::new(emulator);
    fixtures::repository(emulator, &ws.account, ANALYTICS_REPOSITORY).await;
    let mut digests = std::collections::BTreeMap::new();
    for (tag, layer) in ANALYTICS_TAGS {
        let digest = fixtures::push_image(emulator, &ws.account, ANALYTICS_REPOSITORY, tag, layer).await;
        digests.insert(tag.to_string(), digest);
    }
    ws.write(
        "emrstack.toml",
        &format!("[stack]\nname = \"sem\"\nregion = \"us-east-1\"\n\n{stack}"),
    );
    let mut project = Project::new(ws);
    project.digests = digests;
    project
}

/// Applies, checks the apply converged (exit 0), and checks a new plan is empty.
async fn apply_and_converge(project: &Project<'_>, extra: &[&str]) -> crate::support::cli::Run {
    let run = project.apply(extra).await.ok();
    assert!(
        run.stderr.contains("Converged: AWS matches the stack."),
        "{}",
        run.stderr
    );
    project.assert_converged().await;
    run
}

const DEFAULT_QUEUEING: Option<(Option<i32>, Option<i32>)> = Some((Some(15), Some(360)));

/// Regression: emrstack read a missing `scheduler` as "off", so the first
/// apply of an emr-7.3.0+ application, where queueing is on by default,
/// ended "not converged" (exit 1), and the second sent `{}` and turned
/// queueing off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emr_7_5_application_without_a_scheduler_converges_on_the_first_apply_with_queueing_on() {
    bounded(async {
        let project = semantics_project(
            shared_emulator(),
            "[applications.spark]\ntype = \"SPARK\"\nrelease_label = \"emr-7.5.0\"\n",
        )
        .await;
        apply_and_converge(&project, &[]).await;
        let app = project.aws().await.app_named("sem-spark").await;
        assert_eq!(app.scheduler, DEFAULT_QUEUEING, "queueing is still on");
        // Nothing was ever sent about the scheduler: one create, no update.
        assert_eq!(project.served("emr-serverless:UpdateApplication"), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduler_tables_end_with_both_members_set_and_false_turns_queueing_off() {
    bounded(async {
        let base = "[applications.spark]\ntype = \"SPARK\"\nrelease_label = \"emr-7.2.0\"\n";
        let project = semantics_project(shared_emulator(), &format!("{base}scheduler = {{}}\n")).await;
        apply_and_converge(&project, &[]).await;
        let aws = project.aws().await;
        assert_eq!(aws.app_named("sem-spark").await.scheduler, DEFAULT_QUEUEING);

        project.edit(
            "emrstack.toml",
            "scheduler = {}",
            "scheduler = { max_concurrent_runs = 5 }",
        );
        apply_and_converge(&project, &[]).await;
        assert_eq!(aws.app_named("sem-spark").await.scheduler, Some((Some(5), Some(360))));

        project.edit(
            "emrstack.toml",
            "scheduler = { max_concurrent_runs = 5 }",
            "scheduler = false",
        );
        let plan = project.plan(&[]).await.expect_code(2);
        assert!(plan.stdout.contains("job queueing is turned off"), "{}", plan.stdout);
        apply_and_converge(&project, &[]).await;
        let scheduler = aws.app_named("sem-spark").await.scheduler;
        assert!(
            matches!(scheduler, None | Some((None, None))),
            "queueing is off: {scheduler:?}"
        );

        // Leaving the scheduler out leaves it as it is: no field changes,
        // only the applied record, and a warning that AWS keeps it off.
        project.edit("emrstack.toml", "scheduler = false\n", "");
        let plan = project.plan(&[]).await.expect_code(2);
        assert!(
            plan.stdout.contains("only the applied record tag is refreshed"),
            "{}",
            plan.stdout
        );
        assert!(plan.stderr.contains("plan.scheduler-kept"), "{}", plan.stderr);
        assert!(plan.stderr.contains("keeps job queueing off"), "{}", plan.stderr);
        let updates = project.served("emr-serverless:UpdateApplication");
        apply_and_converge(&project, &[]).await;
        assert_eq!(
            project.served("emr-serverless:UpdateApplication"),
            updates,
            "nothing sent"
        );
        let scheduler = aws.app_named("sem-spark").await.scheduler;
        assert!(matches!(scheduler, None | Some((None, None))), "{scheduler:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_max_concurrent_runs_change_on_a_started_application_does_not_stop_it() {
    bounded(async {
        let project = semantics_project(
            shared_emulator(),
            "[applications.spark]\ntype = \"SPARK\"\nrelease_label = \"emr-7.5.0\"\nscheduler = { max_concurrent_runs = 5, queue_timeout_minutes = 60 }\n",
        )
        .await;
        apply_and_converge(&project, &[]).await;
        let aws = project.aws().await;
        let app = aws.app_named("sem-spark").await;
        aws.start(project.emulator(), project.account(), &app.id).await;
        let starts = project.served("emr-serverless:StartApplication");

        project.edit("emrstack.toml", "max_concurrent_runs = 5", "max_concurrent_runs = 8");
        let plan = project.plan(&[]).await.expect_code(2);
        assert!(!plan.stdout.contains("forces a stop"), "{}", plan.stdout);
        apply_and_converge(&project, &[]).await;

        let after = aws.app(&app.id).await;
        assert_eq!(after.state, "STARTED");
        assert_eq!(after.scheduler, Some((Some(8), Some(60))), "the queue timeout is kept");
        assert_eq!(project.served("emr-serverless:StopApplication"), 0);
        assert_eq!(project.served("emr-serverless:StartApplication"), starts);

        // Any other scheduler change needs a stop.
        project.edit("emrstack.toml", "queue_timeout_minutes = 60", "queue_timeout_minutes = 90");
        let plan = project.plan(&[]).await.expect_code(2);
        assert!(plan.stdout.contains("forces a stop"), "{}", plan.stdout);
        apply_and_converge(&project, &[]).await;
        let after = aws.app(&app.id).await;
        assert_eq!((after.state.as_str(), after.scheduler), ("STARTED", Some((Some(8), Some(90)))));
        assert_eq!(project.served("emr-serverless:StopApplication"), 1);
    })
    .await;
}

/// Two STARTED applications with the same image, one with pre-initialized
/// capacity: an image tag bump is live for the other one only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_tag_bump_stops_only_the_started_application_with_initial_capacity() {
    bounded(async {
        let stack = "\
[repositories.spark]
name = \"analytics/spark\"
applications = [\"warm\", \"cold\"]

[applications.warm]
type = \"SPARK\"
release_label = \"emr-7.5.0\"
image = { repository = \"spark\", tag = \"dev\" }
initial_capacity = { driver = { worker_count = 1, cpu = \"4 vCPU\", memory = \"16 GB\" } }

[applications.cold]
type = \"SPARK\"
release_label = \"emr-7.5.0\"
image = { repository = \"spark\", tag = \"dev\" }
";
        let project = semantics_project(shared_emulator(), stack).await;
        apply_and_converge(&project, &[]).await;
        let aws = project.aws().await;
        let warm = aws.app_named("sem-warm").await;
        let cold = aws.app_named("sem-cold").await;
        aws.start(project.emulator(), project.account(), &warm.id).await;
        aws.start(project.emulator(), project.account(), &cold.id).await;
        let starts = project.served("emr-serverless:StartApplication");

        let text = project.read("emrstack.toml").replace("tag = \"dev\"", "tag = \"dev2\"");
        project.ws.write("emrstack.toml", &text);
        let plan = project.plan(&[]).await.expect_code(2);
        assert!(
            plan.stdout
                .contains("does not update the image of a STARTED application with pre-initialized capacity"),
            "{}",
            plan.stdout
        );
        assert!(plan.stdout.contains("only after it is restarted"), "{}", plan.stdout);
        let run = apply_and_converge(&project, &[]).await;

        for app in [&warm, &cold] {
            let after = aws.app(&app.id).await;
            let image = after.image_uri.clone().expect("an image");
            assert!(image.ends_with(&format!("@{}", project.digests["dev2"])), "{image}");
            assert_eq!(after.state, "STARTED", "{}", app.name);
        }
        // One stop and one start, both of the application with capacity.
        assert_eq!(project.served("emr-serverless:StopApplication"), 1);
        assert_eq!(project.served("emr-serverless:StartApplication") - starts, 1);
        assert!(run.stderr.contains(&format!("stopping {}", warm.id)), "{}", run.stderr);
        assert!(!run.stderr.contains(&format!("stopping {}", cold.id)), "{}", run.stderr);
        // The live one resolves its digest at start (the emr-7.5.0 default):
        // the summary says new jobs get the image after a restart.
        assert!(run.stderr.contains("application.cold"), "{}", run.stderr);
        assert!(run.stderr.contains("only after it is restarted"), "{}", run.stderr);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_an_image_converges() {
    bounded(async {
        let stack = "\
[repositories.spark]
name = \"analytics/spark\"
applications = [\"spark\"]

[applications.spark]
type = \"SPARK\"
release_label = \"emr-7.5.0\"
image = { repository = \"spark\", tag = \"dev\" }
";
        let project = semantics_project(shared_emulator(), stack).await;
        apply_and_converge(&project, &[]).await;
        let aws = project.aws().await;
        assert!(aws.app_named("sem-spark").await.image_uri.is_some());

        // From the application's image to one per worker type...
        project.edit(
            "emrstack.toml",
            "image = { repository = \"spark\", tag = \"dev\" }",
            "worker_type_specifications = { driver = { image = { repository = \"spark\", tag = \"dev\" } }, executor = { image = { repository = \"spark\", tag = \"dev2\" } } }",
        );
        apply_and_converge(&project, &[]).await;
        let app = aws.app_named("sem-spark").await;
        assert_eq!(app.image_uri, None);
        assert_eq!(app.worker_images.len(), 2, "{app:?}");

        // ... dropping one worker type's image ...
        project.edit(
            "emrstack.toml",
            ", executor = { image = { repository = \"spark\", tag = \"dev2\" } }",
            "",
        );
        apply_and_converge(&project, &[]).await;
        let app = aws.app_named("sem-spark").await;
        assert_eq!(app.worker_images.keys().collect::<Vec<_>>(), vec!["Driver"], "{app:?}");

        // ... and to no image at all.
        let text = project.read("emrstack.toml");
        let start = text.find("worker_type_specifications").expect("the line");
        let end = start + text[start..].find('\n').expect("end of line");
        project.ws.write("emrstack.toml", &format!("{}{}", &text[..start], &text[end + 1..]));
        apply_and_converge(&project, &[]).await;
        let app = aws.app_named("sem-spark").await;
        assert_eq!((app.image_uri, app.worker_images.len()), (None, 0));
    })
    .await;
}

/// A release bump needs a stop; a STREAMING job run and an interactive
/// session are work the stop must deal with, as batch runs are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streaming_run_and_a_session_block_a_stop_under_fail_and_are_ended_under_cancel() {
    bounded(async {
        let stack = "[applications.spark]\ntype = \"SPARK\"\nrelease_label = \"emr-7.5.0\"\n";
        let project = semantics_project(shared_emulator(), stack).await;
        apply_and_converge(&project, &[]).await;
        let aws = project.aws().await;
        let app = aws.app_named("sem-spark").await;
        aws.start(project.emulator(), project.account(), &app.id).await;
        let emulator = project.emulator();
        let streaming = emulator.inject_job_run(project.account(), &app.id, "STREAMING", Some(json!([["RUNNING"]])));
        let session = emulator.inject_session(project.account(), &app.id, None);

        project.edit("emrstack.toml", "emr-7.5.0", "emr-7.6.0");
        let plan = project.plan(&[]).await.expect_code(2);
        assert!(
            plan.stdout.contains(&streaming),
            "the plan lists the run: {}",
            plan.stdout
        );
        assert!(
            plan.stdout.contains(&session),
            "the plan lists the session: {}",
            plan.stdout
        );

        let run = project.apply(&[]).await.expect_code(1);
        assert!(
            run.stderr.contains(&streaming) && run.stderr.contains("STREAMING"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains(&session), "{}", run.stderr);
        assert_eq!(project.served("emr-serverless:StopApplication"), 0);
        assert_eq!(aws.app(&app.id).await.state, "STARTED");

        apply_and_converge(&project, &["--on-running", "cancel"]).await;
        let after = aws.app(&app.id).await;
        assert_eq!(
            (after.release_label.as_str(), after.state.as_str()),
            ("emr-7.6.0", "STARTED")
        );
        assert_eq!(project.served("emr-serverless:CancelJobRun"), 1);
        assert_eq!(project.served("emr-serverless:TerminateSession"), 1);
        let job = aws
            .emr
            .get_job_run()
            .application_id(&app.id)
            .job_run_id(&streaming)
            .send()
            .await
            .expect("GetJobRun")
            .job_run
            .expect("job run");
        assert_eq!(job.state.as_str(), "CANCELLED");
        let ended = aws
            .emr
            .get_session()
            .application_id(&app.id)
            .session_id(&session)
            .send()
            .await
            .expect("GetSession")
            .session
            .expect("session");
        assert_eq!(ended.state.as_str(), "TERMINATED");
    })
    .await;
}

// ---------------------------------------------------------------------------
// Secrets in every position never reach stdout, stderr or a plan file.
// ---------------------------------------------------------------------------

/// Each secret of the stack below, and where it is.
const SECRETS: [(&str, &str); 15] = [
    ("default-pass-0001", "a `[vars]` default of a secret-looking variable"),
    ("tag-token-0003", "an application tag with a secret-looking key"),
    ("tag-userinfo-0004", "the password of a URI in an application tag"),
    ("prop-secret-0005", "a property with a secret-looking key"),
    ("jvm-pass-0006", "a `-D...Password=` parameter inside a property"),
    (
        "var-file-pass-0007",
        "a var file value, substituted into a secret property",
    ),
    ("url-pass-0008", "a `password=` parameter of a JDBC URL"),
    ("userinfo-pass-0009", "the password of a URI's userinfo"),
    ("policy-pass-0010", "the password of a URI in a policy condition"),
    ("json-access-0011", "a secret property of a runtime file"),
    (
        "undeclared-var-0012",
        "an undeclared var file variable with a secret-looking name",
    ),
    ("flag-token-0013", "a `--var` value, substituted into a role tag"),
    (
        "env-secret-0014",
        "an `EMRSTACK_VAR_` value, substituted into a URL parameter",
    ),
    ("hive-pass-0015", "a secret property on a line that has a warning"),
    ("changed-pass-0016", "a var file value changed after the plan was saved"),
];

const SECRET_STACK: &str = r#"[stack]
name = "secrets"
region = "us-east-1"

[vars]
db_password = "default-pass-0001"
api_token = "default-token"
extra = "x"

[applications.etl]
type = "SPARK"
release_label = "emr-7.2.0"
runtime_file = "runtime.json"
tags = { deploy-token = "tag-token-0003", source = "https://ci:tag-userinfo-0004@git.example.com/repo" }

[[applications.etl.runtime]]
classification = "spark-defaults"
properties = { "spark.hadoop.fs.s3a.secret.key" = "prop-secret-0005", "spark.driver.extraJavaOptions" = "-Djavax.net.ssl.trustStorePassword=jvm-pass-0006 -Xss4m", "spark.datasource.password" = "${var.db_password}", "spark.x.url" = "https://h/api?user=u&token=${var.extra}" }

[[applications.etl.runtime]]
classification = "hive-site"
properties = { "hive.mapred.reduce.tasks.speculative.execution" = "false", "javax.jdo.option.ConnectionURL" = "jdbc:mysql://db:3306/hive?user=hive&password=url-pass-0008", "javax.jdo.option.ConnectionPassword" = "hive-pass-0015", "hive.metastore.uris" = "thrift://hive:userinfo-pass-0009@metastore:9083" }

[roles.etl]
trust_applications = ["etl"]
tags = { api-token = "${var.api_token}" }

[roles.etl.policies.data]
document = { Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "*", Condition = { StringLike = { "aws:Referer" = "https://u:policy-pass-0010@example.com/*" } } }] }
"#;

#[test]
fn secrets_in_every_position_never_reach_output_or_plan_files() {
    let mut ws = Workspace::new(shared_emulator());
    ws.write("emrstack.toml", SECRET_STACK);
    ws.write(
        "runtime.json",
        r#"[{"classification": "spark-defaults", "properties": {"spark.hadoop.fs.s3a.access.key": "json-access-0011"}}]"#,
    );
    ws.write(
        "prod.vars.toml",
        "db_password = \"var-file-pass-0007\"\nMY_PRIVATE_KEY = \"undeclared-var-0012\"\n",
    );
    ws.env("EMRSTACK_VAR_extra", "env-secret-0014");
    let stack = ["--var-file", "prod.vars.toml", "--var", "api_token=flag-token-0013"];
    let with = |args: &[&str]| -> Vec<String> { args.iter().chain(stack.iter()).map(|s| s.to_string()).collect() };
    let mut transcript = Vec::new();
    let mut run = |args: Vec<String>, code: i32| {
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = ws.run(&argv).expect_code(code);
        for (secret, place) in SECRETS {
            for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
                assert!(
                    !text.contains(secret),
                    "`emrstack {}` printed {place} (`{secret}`) on {stream}:\n{text}",
                    argv.join(" ")
                );
            }
        }
        transcript.push(format!("{}\n{}{}", argv.join(" "), run.stdout, run.stderr));
        run
    };

    // Offline: the warnings point at lines holding secrets.
    let validate = run(with(&["validate"]), 0);
    for expected in [
        "config.undeclared-variable",
        "release.property-removed",
        "MY_PRIVATE_KEY = \"(sensitive value)\"",
        "password=(sensitive value)",
    ] {
        assert!(validate.stderr.contains(expected), "{}", validate.stderr);
    }
    run(with(&["validate", "--format", "json"]), 0);
    run(vec!["schema".to_string()], 0);

    // Plans in every format, saved, shown.
    for format in ["human", "json", "markdown"] {
        let plan = run(with(&["plan", "--format", format]), 0);
        assert!(plan.stdout.contains("(sensitive value)"), "{}", plan.stdout);
    }
    run(with(&["plan", "--out", "saved.plan"]), 0);
    run(with(&["plan", "--out", "stale-secret.plan"]), 0);
    let file = std::fs::read_to_string(ws.dir().join("saved.plan")).expect("plan file");
    for (secret, place) in SECRETS {
        assert!(!file.contains(secret), "the plan file holds {place}");
    }
    assert!(file.contains("<redacted argon2id:"), "{file}");
    for format in ["human", "json", "markdown"] {
        run(
            vec!["show".into(), "saved.plan".into(), "--format".into(), format.into()],
            0,
        );
    }

    // Apply the saved plan: the secrets come back from the stack file.
    let applied = run(with(&["apply", "saved.plan"]), 0);
    assert!(applied.stderr.contains("Converged"), "{}", applied.stderr);
    run(with(&["plan", "--detailed-exitcode"]), 0);
    run(with(&["output"]), 0);
    run(with(&["output", "--format", "json"]), 0);

    // A secret changed since the plan was saved: refused, naming where.
    ws.write(
        "prod.vars.toml",
        "db_password = \"changed-pass-0016\"\nMY_PRIVATE_KEY = \"undeclared-var-0012\"\n",
    );
    let refused = run(with(&["apply", "stale-secret.plan"]), 1);
    assert!(
        refused
            .stderr
            .contains("secret values are missing from the stack file or differ from it"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("spark.datasource.password"),
        "{}",
        refused.stderr
    );

    // A live apply of the changed secret, then destroy.
    let updated = run(with(&["apply", "--auto-approve"]), 0);
    assert!(updated.stdout.contains("(sensitive value)"), "{}", updated.stdout);
    run(with(&["plan", "--detailed-exitcode"]), 0);
    let destroyed = run(with(&["destroy", "--auto-approve"]), 0);
    assert!(destroyed.stderr.contains("Converged"), "{}", destroyed.stderr);
    run(with(&["plan", "--destroy", "--detailed-exitcode"]), 0);
    assert!(transcript.len() > 15);
}
