//! `emrstack apply` end to end when things get in the way: job runs that
//! keep an application from stopping, throttling and server errors on every
//! service, IAM eventual consistency, and a change that fails while
//! independent changes go on.
//!
//! One emulator serves the whole file; each test is a fresh account, and
//! every fault rule is scoped to the test's account (and removed by ID), so
//! tests running side by side do not see each other's faults.

use crate::apply_support::{ANALYTICS_REPOSITORY, Aws, Project, analytics, bounded, quickstart, statements};
use crate::support::cli::Workspace;
use crate::support::cloud::shared_emulator;
use crate::support::fixtures;
use serde_json::{Value, json};

/// Quickstart applied, its application STARTED, and the release label
/// bumped in the stack file, so the next apply has to stop it.
async fn started_quickstart_with_release_bump(
    emulator: &crate::support::emulator::Emulator,
) -> (Project<'_>, Aws, String) {
    let project = quickstart(emulator);
    project.apply(&[]).await.ok();
    let aws = project.aws().await;
    let app = aws.app_named("quickstart-spark").await;
    aws.start(emulator, project.account(), &app.id).await;
    project.edit("emrstack.toml", "emr-7.2.0", "emr-7.3.0");
    (project, aws, app.id)
}

async fn job_state(aws: &Aws, application: &str, job: &str) -> String {
    aws.emr
        .get_job_run()
        .application_id(application)
        .job_run_id(job)
        .send()
        .await
        .expect("GetJobRun")
        .job_run
        .expect("job run")
        .state
        .as_str()
        .to_string()
}

// ---------------------------------------------------------------------------
// Running jobs and `--on-running`.
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_with_a_running_job_fails_by_default_and_cancels_with_on_running_cancel() {
    bounded(async {
        let emulator = shared_emulator();
        let (project, aws, id) = started_quickstart_with_release_bump(emulator).await;
        // A job that runs until it is cancelled.
        let job = emulator.inject_job(project.account(), &id, Some(json!([["RUNNING"]])));

        let plan = project.plan(&[]).await.expect_code(2);
        assert!(plan.stdout.contains("1 running job"), "{}", plan.stdout);

        let run = project.apply(&[]).await.expect_code(1);
        assert!(run.stderr.contains(&job), "names the job run: {}", run.stderr);
        assert!(
            run.stderr.contains("--on-running"),
            "says how to proceed: {}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("Apply failed: 0 applied, 1 failed (running jobs), 0 skipped."),
            "{}",
            run.stderr
        );
        let app = aws.app(&id).await;
        assert_eq!(
            (app.state.as_str(), app.release_label.as_str()),
            ("STARTED", "emr-7.2.0")
        );
        assert_eq!(project.served("emr-serverless:StopApplication"), 0);
        assert_eq!(job_state(&aws, &id, &job).await, "RUNNING");

        let run = project.apply(&["--on-running", "cancel"]).await.ok();
        assert!(run.stderr.contains("cancelling 1 job run:"), "{}", run.stderr);
        assert_eq!(job_state(&aws, &id, &job).await, "CANCELLED");
        let app = aws.app(&id).await;
        assert_eq!(
            (app.state.as_str(), app.release_label.as_str()),
            ("STARTED", "emr-7.3.0")
        );
        assert_eq!(project.served("emr-serverless:StopApplication"), 1);
        project.assert_converged().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_with_a_running_job_waits_for_it_with_on_running_wait() {
    bounded(async {
        let emulator = shared_emulator();
        let (project, aws, id) = started_quickstart_with_release_bump(emulator).await;
        // A job that succeeds on its own after a few seconds: long enough to
        // still be running when the apply (a second or less) gets to it.
        let job = emulator.inject_job(project.account(), &id, Some(json!([["RUNNING", 5], ["SUCCESS"]])));

        let run = project.apply(&["--on-running", "wait"]).await.ok();
        assert!(run.stderr.contains("waiting for 1 job run to finish"), "{}", run.stderr);
        assert_eq!(
            job_state(&aws, &id, &job).await,
            "SUCCESS",
            "it finished, it was not cancelled"
        );
        assert_eq!(project.served("emr-serverless:CancelJobRun"), 0);
        let app = aws.app(&id).await;
        assert_eq!(
            (app.state.as_str(), app.release_label.as_str()),
            ("STARTED", "emr-7.3.0")
        );
        project.assert_converged().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_with_a_running_job_fails_by_default_and_cancels_with_on_running_cancel() {
    bounded(async {
        let emulator = shared_emulator();
        let project = quickstart(emulator);
        project.apply(&[]).await.ok();
        let aws = project.aws().await;
        let id = aws.app_named("quickstart-spark").await.id;
        aws.start(emulator, project.account(), &id).await;
        let job = emulator.inject_job(project.account(), &id, Some(json!([["RUNNING"]])));

        let run = project.destroy(&[]).await.expect_code(1);
        assert!(
            run.stderr.contains(&job) && run.stderr.contains("--on-running"),
            "{}",
            run.stderr
        );
        assert_eq!(aws.app(&id).await.state, "STARTED");

        project.destroy(&["--on-running", "cancel"]).await.ok();
        assert_eq!(job_state(&aws, &id, &job).await, "CANCELLED");
        assert_eq!(aws.app(&id).await.state, "TERMINATED");
        assert!(aws.apps().await.is_empty());
    })
    .await;
}

// ---------------------------------------------------------------------------
// Throttling, server errors and dropped connections everywhere.
// ---------------------------------------------------------------------------

/// Adds rules scoped to `account` (all or none) and returns their IDs.
fn add_rules(emulator: &crate::support::emulator::Emulator, rules: Value) -> Vec<String> {
    let added = emulator.control_ok("POST", "/_emulator/faults", Some(&json!({ "rules": rules })));
    added["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|rule| rule["id"].as_str().expect("id").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_converges_under_throttling_server_errors_and_dropped_connections() {
    bounded(async {
        let emulator = shared_emulator();
        let mut project = analytics(emulator, "dev.vars.toml").await;
        // More attempts than the fast test default: a call now fails about
        // four times in ten, and a few calls in a run fail several times.
        project.ws.env("EMRSTACK_AWS_MAX_ATTEMPTS", "10");
        let account = project.account().to_string();
        // Probability rules draw from one RNG; the fixed seed makes the run
        // reproducible (calls of other tests never match these rules).
        emulator.set_fault_seed(20_240_611);
        let rules = add_rules(
            emulator,
            json!([
                {"account": account, "kind": "throttle", "probability": 0.3},
                {"account": account, "kind": "server_error", "probability": 0.05},
                {"account": account, "kind": "drop", "probability": 0.03},
                {"account": account, "kind": "drop", "reset": true, "probability": 0.02},
                // And certainly once per service, whatever the random draws.
                {"account": account, "service": "iam", "kind": "throttle", "count": 1},
                {"account": account, "service": "ecr", "kind": "server_error", "count": 1},
                {"account": account, "service": "emr-serverless", "kind": "drop", "count": 1},
                {"account": account, "service": "sts", "kind": "throttle", "count": 1},
            ]),
        );

        let run = project.apply(&[]).await;
        let plan = project.plan(&[]).await;
        let counts = emulator.call_counts(Some(&account));
        for id in &rules {
            emulator.remove_fault(id);
        }
        let run = run.ok();
        assert!(
            run.stderr.contains("Converged: AWS matches the stack."),
            "{}",
            run.stderr
        );
        assert_eq!(plan.code, 0, "plan under faults: {}\n{}", plan.stdout, plan.stderr);
        let faulted = counts["totals"]["faulted"].as_u64().unwrap_or(0);
        assert!(faulted >= 10, "the faults fired: {counts}");
        for service in ["iam", "ecr", "emr-serverless", "sts"] {
            let prefix = format!("{service}:");
            let hit = counts["faulted"]
                .as_object()
                .is_some_and(|ops| ops.keys().any(|op| op.starts_with(&prefix)));
            assert!(hit, "no fault on {service}: {counts}");
        }

        let aws = project.aws().await;
        assert_eq!(aws.apps().await.len(), 1, "one application, even with retried creates");
        assert_eq!(
            statements(aws.repository_policy(ANALYTICS_REPOSITORY).await.as_ref()).len(),
            1
        );
        project.assert_converged().await;
    })
    .await;
}

// ---------------------------------------------------------------------------
// IAM and ECR eventual consistency.
// ---------------------------------------------------------------------------

fn no_such_role(account: &str, operation: &str, count: u64) -> Value {
    json!({
        "service": "iam", "operation": operation, "account": account,
        "kind": "error", "status": 404, "code": "NoSuchEntity",
        "message": "The role with name analytics-dev-etl cannot be found.",
        "count": count,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_role_that_iam_does_not_know_yet_is_retried_until_it_propagates() {
    bounded(async {
        let emulator = shared_emulator();
        let project = analytics(emulator, "dev.vars.toml").await;
        let account = project.account().to_string();
        let rules = add_rules(
            emulator,
            json!([
                // GetRole right after CreateRole (the plan's own GetRole of
                // the missing role may take one: it is NoSuchEntity anyway).
                no_such_role(&account, "GetRole", 3),
                no_such_role(&account, "PutRolePolicy", 3),
                // ECR does not know the new application's principal yet.
                {"service": "ecr", "operation": "SetRepositoryPolicy", "account": account,
                 "kind": "error", "status": 400, "code": "InvalidParameterException",
                 "message": "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Principal not found'",
                 "count": 2},
            ]),
        );
        let run = project.apply(&["-v"]).await;
        let counts = emulator.call_counts(Some(&account));
        for id in &rules {
            emulator.remove_fault(id);
        }
        let run = run.ok();
        assert!(run.stderr.contains("retrying PutRolePolicy"), "{}", run.stderr);
        assert!(run.stderr.contains("retrying SetRepositoryPolicy"), "{}", run.stderr);
        assert_eq!(counts["faulted"]["iam:PutRolePolicy"], 3, "{counts}");
        assert_eq!(counts["faulted"]["iam:GetRole"], 3, "{counts}");
        assert_eq!(counts["faulted"]["ecr:SetRepositoryPolicy"], 2, "{counts}");
        let role = project.aws().await.role("analytics-dev-etl").await.expect("role");
        assert_eq!(role.inline_policies.len(), 2);
        project.assert_converged().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_propagation_time_a_role_iam_does_not_know_yet_fails_clearly() {
    bounded(async {
        let emulator = shared_emulator();
        let project = analytics(emulator, "dev.vars.toml").await;
        let account = project.account().to_string();
        let rules = add_rules(emulator, json!([no_such_role(&account, "PutRolePolicy", 1000)]));
        let run = project.apply(&["--propagation-timeout", "0"]).await;
        for id in &rules {
            emulator.remove_fault(id);
        }
        let run = run.expect_code(1);
        assert!(run.stderr.contains("role.etl: FAILED"), "{}", run.stderr);
        assert!(run.stderr.contains("NoSuchEntity"), "{}", run.stderr);
        assert!(run.stderr.contains("for IAM to propagate"), "{}", run.stderr);
        assert!(run.stderr.contains("--propagation-timeout"), "{}", run.stderr);
        assert!(
            run.stderr
                .contains("Apply failed: 2 applied, 1 failed (not found), 0 skipped."),
            "{}",
            run.stderr
        );

        // Once IAM has caught up, applying again finishes the role.
        project.apply(&[]).await.ok();
        project.assert_converged().await;
    })
    .await;
}

// ---------------------------------------------------------------------------
// A failed change skips its dependents; independent changes go on.
// ---------------------------------------------------------------------------

const PARTIAL_BASE: &str = r#"
[stack]
name = "partial"
region = "us-east-1"

[applications.adhoc]
type = "SPARK"
release_label = "emr-7.2.0"
maximum_capacity = { cpu = "16 vCPU", memory = "64 GB" }
"#;

const PARTIAL_MORE: &str = r#"
[applications.etl]
type = "SPARK"
release_label = "emr-7.2.0"
image = { repository = "spark", tag = "dev" }

[repositories.spark]
name = "partial/spark"
applications = ["etl"]

[roles.etl]
trust_applications = ["etl"]

[roles.etl.policies.runs]
document = { Version = "2012-10-17", Statement = [
  { Effect = "Allow", Action = ["emr-serverless:GetJobRun"], Resource = ["${application.etl.arn}/jobruns/*"] },
] }

[roles.shared]
description = "trusted by every application of the account"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_create_skips_its_dependents_while_independent_changes_are_applied() {
    bounded(async {
        let emulator = shared_emulator();
        let ws = Workspace::new(emulator);
        fixtures::repository(emulator, &ws.account, "partial/spark").await;
        fixtures::push_image(emulator, &ws.account, "partial/spark", "dev", 'a').await;
        ws.write("emrstack.toml", PARTIAL_BASE);
        let project = Project::new(ws);
        project.apply(&[]).await.ok();
        let aws = project.aws().await;
        let adhoc = aws.app_named("partial-adhoc").await;

        // Now: a new application with a role and a repository statement that
        // name it, an independent role, and an update of the existing one.
        // The only CreateApplication of this apply is the new application's.
        let stack = format!("{PARTIAL_BASE}{PARTIAL_MORE}").replace("cpu = \"16 vCPU\"", "cpu = \"32 vCPU\"");
        project.ws.write("emrstack.toml", &stack);
        let account = project.account().to_string();
        let rules = add_rules(
            emulator,
            json!([{
                "service": "emr-serverless", "operation": "CreateApplication", "account": account,
                "kind": "error", "status": 400, "code": "ValidationException",
                "message": "1 validation error detected: Value at 'name' failed to satisfy constraint",
                "count": 1,
            }]),
        );
        let run = project.apply(&[]).await;
        for id in &rules {
            emulator.remove_fault(id);
        }
        let run = run.expect_code(1);
        let log = &run.stderr;
        assert!(log.contains("application.etl: FAILED"), "{log}");
        assert!(log.contains("ValidationException"), "{log}");
        assert!(log.contains("role.etl: skipped: `application.etl` failed"), "{log}");
        assert!(
            log.contains("repository.spark: skipped: `application.etl` failed"),
            "{log}"
        );
        assert!(log.contains("application.adhoc: done"), "{log}");
        assert!(log.contains("role.shared: done"), "{log}");
        assert!(
            log.contains("Apply failed: 2 applied, 1 failed (invalid request), 2 skipped."),
            "{log}"
        );

        assert_eq!(aws.apps().await.len(), 1, "no application `etl`");
        assert_eq!(aws.app(&adhoc.id).await.maximum_cpu.as_deref(), Some("32 vCPU"));
        assert!(aws.role("partial-shared").await.is_some());
        assert!(aws.role("partial-etl").await.is_none());
        assert_eq!(aws.repository_policy("partial/spark").await, None);

        // The next apply does what was skipped.
        let run = project.apply(&[]).await.ok();
        assert!(
            run.stderr.contains("Apply complete: 3 applied, 0 failed, 0 skipped."),
            "{}",
            run.stderr
        );
        project.assert_converged().await;
    })
    .await;
}
