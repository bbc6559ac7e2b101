//! Declared jobs end to end, through the built binary, against the emulator:
//! local files uploaded content-addressed once, `emrstack run` and its exit
//! codes, driver log tails, idempotency keys, SIGINT, `apply --run` with
//! `--rollback-on-failure`, and the `output` StartJobRun request submitted
//! as is with boto3.
//!
//! One emulator serves the whole file; each test is a fresh account.

use std::process::Stdio;

use crate::apply_support::{Project, bounded, command};
use crate::support::cli::Workspace;
use crate::support::cloud::{sdk_config, shared_emulator};
use crate::support::emulator::{Emulator, venv_dir};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

/// The S3 client of an account (path-style, as against any endpoint).
async fn s3(emulator: &Emulator, account: &str) -> aws_sdk_s3::Client {
    let config = sdk_config(emulator, account).await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    )
}

/// A stack with a Spark application logging to S3, a role it trusts, and
/// jobs: `smoke` (a local entry point and a `files` directory), `broken`
/// (fails by an outcome rule) and `forever` (runs until cancelled).
fn stack(bucket: &str, release: &str) -> String {
    format!(
        r#"[stack]
name = "rel"
region = "us-east-1"
artifacts = "s3://{bucket}/artifacts"

[roles.runner]
trust_applications = ["spark"]

[applications.spark]
type = "SPARK"
release_label = "{release}"
monitoring = {{ s3_log_uri = "s3://{bucket}/logs/" }}

[jobs.smoke]
application = "spark"
role = "runner"
entry_point = "jobs/main.py"
files = ["jobs/deps"]
arguments = ["--deps", "${{job.smoke.files.deps.zip}}"]
spark_submit_parameters = "--py-files ${{job.smoke.files.deps.zip}} --conf spark.executor.cores=2"
tags = {{ purpose = "smoke" }}

[jobs.broken]
application = "spark"
role = "runner"
entry_point = "jobs/main.py"

[jobs.forever]
application = "spark"
role = "runner"
entry_point = "jobs/main.py"
"#
    )
}

/// A fresh account with a bucket, the stack and its job files; outcome
/// rules for `rel-broken` (fails) and `rel-forever` (runs until cancelled).
async fn project(emulator: &'static Emulator) -> (Project<'static>, String) {
    let mut ws = Workspace::new(emulator);
    let bucket = format!("rel-{}", ws.account);
    s3(emulator, &ws.account)
        .await
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("CreateBucket");
    ws.write("emrstack.toml", &stack(&bucket, "emr-7.2.0"));
    ws.write("jobs/main.py", "import sys\nprint('smoke', sys.argv)\n");
    ws.write("jobs/deps/helpers/__init__.py", "X = 1\n");
    ws.write("jobs/deps/helpers/util.py", "def f():\n    return 2\n");
    ws.env("EMRSTACK_JOB_POLL_INTERVAL_MS", "100");
    let account = ws.account.clone();
    emulator.control_ok(
        "POST",
        "/_emulator/job-outcomes",
        Some(&json!([
            {"account": account, "name": "rel-broken", "state": "FAILED", "error": "ValueError: the smoke check found 0 rows"},
            {"account": account, "name": "rel-forever", "script": [["SUBMITTED", 0.05], ["RUNNING"]]},
            // Each state outlasts a few polls (EMRSTACK_JOB_POLL_INTERVAL_MS),
            // so the progress lines can show every one of them.
            {"account": account, "name": "rel-smoke", "script": [["SUBMITTED", 0.4], ["PENDING", 0.4], ["SCHEDULED", 0.4], ["RUNNING", 0.4], ["SUCCESS"]]},
        ])),
    );
    (Project::new(ws), bucket)
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("not JSON ({error}):\n{text}"))
}

/// The emulator's record of a run.
fn job_run(emulator: &Emulator, app_id: &str, run_id: &str) -> Value {
    emulator.control_ok("GET", &format!("/_emulator/jobs/{app_id}/{run_id}"), None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_files_are_uploaded_once_and_the_job_runs_them() {
    bounded(async {
        let (project, bucket) = project(shared_emulator()).await;
        let plan = project.plan(&[]).await.expect_code(2);
        assert!(plan.stdout.contains("Job artifacts:"), "{}", plan.stdout);
        assert!(
            plan.stdout.contains("Artifacts: 2 to upload, 0 already in S3."),
            "{}",
            plan.stdout
        );
        let apply = project.apply(&[]).await.ok();
        assert!(
            apply.stderr.contains("Converged: AWS matches the stack."),
            "{}",
            apply.stderr
        );
        assert_eq!(apply.stderr.matches("Uploaded ").count(), 2, "{}", apply.stderr);
        // The stack lock lives under `artifacts` too: one PutObject to take
        // it and one DeleteObject to release it per apply (a run takes no
        // lock, and no apply here lasts long enough to renew the lease).
        let uploads = || project.served("s3:PutObject") - project.served("s3:DeleteObject");
        let puts = uploads();
        assert_eq!(puts, 2);

        // A second apply, and a run, upload nothing.
        let again = project.apply(&[]).await.ok();
        assert!(!again.stderr.contains("Uploaded "), "{}", again.stderr);
        let plan = project.plan(&[]).await.ok();
        assert!(
            plan.stdout.contains("Artifacts: 0 to upload, 2 already in S3."),
            "{}",
            plan.stdout
        );
        let run = project.run(&["run", "smoke", "--format", "json"]).await.ok();
        assert!(!run.stderr.contains("Uploaded "), "{}", run.stderr);
        assert_eq!(uploads(), puts);

        // The run used the uploaded files, and the emulator found them (a
        // missing `--py-files` or entry point fails the run).
        let report = json_of(&run.stdout);
        assert_eq!(report["state"], "SUCCESS", "{report}");
        assert!(
            report["dashboard_url"]
                .as_str()
                .is_some_and(|u| u.contains("/_emulator/dashboard/")),
            "{report}"
        );
        assert!(
            report["billed_resource_utilization"]["vcpu_hours"].as_f64().is_some(),
            "{report}"
        );
        for state in ["SUBMITTED", "PENDING", "SCHEDULED", "RUNNING", "SUCCESS"] {
            assert!(
                run.stderr.contains(&format!("job.smoke: {state} after")),
                "{state}: {}",
                run.stderr
            );
        }
        let app_id = report["application_id"].as_str().expect("application id");
        let recorded = job_run(
            project.emulator(),
            app_id,
            report["job_run_id"].as_str().expect("run id"),
        );
        let spark = &recorded["jobRun"]["jobDriver"]["sparkSubmit"];
        let entry = spark["entryPoint"].as_str().expect("entry point");
        let main = std::fs::read(project.ws.dir().join("jobs/main.py")).expect("main.py");
        let digest = emrstack::artifact::sha256(&main);
        assert_eq!(entry, format!("s3://{bucket}/artifacts/{digest}/main.py"));
        let parameters = spark["sparkSubmitParameters"].as_str().expect("parameters");
        assert!(
            parameters.starts_with(&format!("--py-files s3://{bucket}/artifacts/")),
            "{parameters}"
        );
        assert!(parameters.contains("/deps.zip --conf"), "{parameters}");
        assert_eq!(spark["entryPointArguments"][0], "--deps");
        assert!(
            spark["entryPointArguments"][1]
                .as_str()
                .is_some_and(|a| a.ends_with("/deps.zip"))
        );
        assert_eq!(recorded["jobRun"]["tags"]["purpose"], "smoke");
        assert_eq!(recorded["outcome"]["state"], "SUCCESS");

        // The zip holds the directory's files under their relative names.
        let key = parameters
            .trim_start_matches(&format!("--py-files s3://{bucket}/"))
            .split_whitespace()
            .next()
            .expect("key")
            .to_string();
        let object = s3(project.emulator(), project.account())
            .await
            .get_object()
            .bucket(&bucket)
            .key(&key)
            .send()
            .await
            .expect("GetObject");
        let body = object.body.collect().await.expect("body").into_bytes();
        let digest = emrstack::artifact::sha256(&body);
        assert!(key.contains(&digest), "{key} is named by its content");
        let names = String::from_utf8_lossy(&body);
        assert!(names.contains("helpers/__init__.py") && names.contains("helpers/util.py"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_exits_1_with_the_driver_log_tail_for_a_failing_job() {
    bounded(async {
        let (project, _) = project(shared_emulator()).await;
        project.apply(&[]).await.ok();
        let failed = project.run(&["run", "broken"]).await.expect_code(1);
        assert!(failed.stdout.contains("state      FAILED"), "{}", failed.stdout);
        assert!(
            failed
                .stdout
                .contains("details    Job failed, please check complete logs"),
            "{}",
            failed.stdout
        );
        assert!(failed.stdout.contains("/SPARK_DRIVER/stderr.gz"), "{}", failed.stdout);
        assert!(
            failed.stdout.contains("lines of the driver's stderr:"),
            "{}",
            failed.stdout
        );
        assert!(
            failed.stdout.contains("| ValueError: the smoke check found 0 rows"),
            "{}",
            failed.stdout
        );
        assert!(failed.stdout.contains("Traceback"), "{}", failed.stdout);
        let json = project.run(&["run", "broken", "--format", "json"]).await.expect_code(1);
        let report = json_of(&json.stdout);
        assert_eq!(report["state"], "FAILED");
        let tail = report["driver_log"]["stderr_tail"].as_array().expect("tail");
        assert!(!tail.is_empty() && tail.len() <= 50, "{report}");
        assert_eq!(tail.last(), Some(&json!("ValueError: the smoke check found 0 rows")));

        let ok = project.run(&["run", "smoke"]).await.ok();
        assert!(ok.stdout.contains("state      SUCCESS"), "{}", ok.stdout);
        assert!(!ok.stdout.contains("driver's stderr"), "{}", ok.stdout);
        let no_wait = project.run(&["run", "smoke", "--no-wait"]).await.ok();
        assert!(no_wait.stdout.contains("(not waited for)"), "{}", no_wait.stdout);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_refuses_an_unapplied_application_and_an_unknown_job() {
    bounded(async {
        let (project, _) = project(shared_emulator()).await;
        let run = project.run(&["run", "smoke"]).await.expect_code(1);
        assert!(run.stderr.contains("has not been applied"), "{}", run.stderr);
        assert!(run.stderr.contains("run `emrstack apply` first"), "{}", run.stderr);
        assert_eq!(project.served("emr-serverless:StartJobRun"), 0);
        let unknown = project.run(&["run", "nightly"]).await.expect_code(1);
        assert!(
            unknown
                .stderr
                .contains("no job `nightly`; its jobs are: broken, forever, smoke"),
            "{}",
            unknown.stderr
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_run_twice_starts_one_run() {
    bounded(async {
        let (project, _) = project(shared_emulator()).await;
        project.apply(&[]).await.ok();
        let args = ["run", "smoke", "--idempotency-key", "ci-1234", "--format", "json"];
        let first = json_of(&project.run(&args).await.ok().stdout);
        let second = json_of(&project.run(&args).await.ok().stdout);
        assert_eq!(first["job_run_id"], second["job_run_id"]);
        assert_eq!(project.served("emr-serverless:StartJobRun"), 2);
        // Without a key every invocation is a new run.
        let third = json_of(&project.run(&["run", "smoke", "--format", "json"]).await.ok().stdout);
        assert_ne!(first["job_run_id"], third["job_run_id"]);
        // Another key is another run.
        let other = json_of(
            &project
                .run(&["run", "smoke", "--idempotency-key", "ci-1235", "--format", "json"])
                .await
                .ok()
                .stdout,
        );
        assert_ne!(first["job_run_id"], other["job_run_id"]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_cancels_the_run_and_exits_130() {
    bounded(async {
        let (project, _) = project(shared_emulator()).await;
        project.apply(&[]).await.ok();
        let mut child = command(&project.ws, &["run", "forever", "--format", "json"])
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn");
        let pid = child.id().expect("pid");
        let mut stdout = child.stdout.take().expect("stdout");
        let out = tokio::spawn(async move {
            let mut text = String::new();
            let _ = tokio::io::AsyncReadExt::read_to_string(&mut stdout, &mut text).await;
            text
        });
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let mut seen = String::new();
        while let Ok(Some(line)) = stderr.next_line().await {
            seen.push_str(&line);
            seen.push('\n');
            if line.contains("job.forever: RUNNING") {
                break;
            }
        }
        assert!(seen.contains("RUNNING"), "{seen}");
        let status = std::process::Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let rest = tokio::spawn(async move {
            let mut text = String::new();
            while let Ok(Some(line)) = stderr.next_line().await {
                text.push_str(&line);
                text.push('\n');
            }
            text
        });
        let status = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait())
            .await
            .expect("run exits after SIGINT")
            .expect("wait");
        let stdout = out.await.unwrap_or_default();
        let stderr = rest.await.unwrap_or_default();
        assert_eq!(status.code(), Some(130), "{stdout}\n{stderr}");
        let run = crate::support::cli::Run {
            code: 130,
            stdout,
            stderr: stderr.clone(),
        };
        let report = json_of(&run.stdout);
        assert_eq!(report["state"], "CANCELLED", "{report}");
        assert_eq!(report["cancelled_by"], "interrupted (SIGINT)");
        assert!(stderr.contains("job.forever: CANCELLED"), "{stderr}");
        let recorded = job_run(
            project.emulator(),
            report["application_id"].as_str().expect("app"),
            report["job_run_id"].as_str().expect("run"),
        );
        assert_eq!(recorded["jobRun"]["state"], "CANCELLED");
        assert_eq!(project.served("emr-serverless:CancelJobRun"), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_cancels_the_run_and_exits_1() {
    bounded(async {
        let (project, _) = project(shared_emulator()).await;
        project.apply(&[]).await.ok();
        let run = project
            .run(&["run", "forever", "--timeout", "1", "--format", "json"])
            .await
            .expect_code(1);
        let report = json_of(&run.stdout);
        assert_eq!(report["state"], "CANCELLED", "{report}");
        assert_eq!(report["cancelled_by"], "timeout");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_smoke_run_rolls_the_release_back() {
    bounded(async {
        let (project, bucket) = project(shared_emulator()).await;
        project.apply(&[]).await.ok();
        let aws = project.aws().await;
        let before = aws.app_named("rel-spark").await;
        assert_eq!(before.release_label, "emr-7.2.0");

        // A release that passes its smoke run stays.
        project.ws.write("emrstack.toml", &stack(&bucket, "emr-7.3.0"));
        let good = project.apply(&["--run", "smoke", "--rollback-on-failure"]).await.ok();
        assert!(good.stderr.contains("Runs succeeded:"), "{}", good.stderr);
        assert_eq!(aws.app_named("rel-spark").await.release_label, "emr-7.3.0");

        // A release whose smoke run fails is rolled back.
        project.ws.write("emrstack.toml", &stack(&bucket, "emr-7.5.0"));
        let bad = project
            .apply(&["--run", "broken", "--run", "smoke", "--rollback-on-failure"])
            .await
            .expect_code(1);
        assert!(bad.stderr.contains("Runs failed:"), "{}", bad.stderr);
        assert!(bad.stderr.contains("job.broken: FAILED"), "{}", bad.stderr);
        assert!(bad.stderr.contains("job.smoke: SUCCESS"), "{}", bad.stderr);
        assert!(
            bad.stdout.contains("ValueError: the smoke check found 0 rows"),
            "{}",
            bad.stdout
        );
        assert!(bad.stderr.contains("Rolling back this apply"), "{}", bad.stderr);
        assert!(
            bad.stderr.contains("application.spark (update reverted): update"),
            "{}",
            bad.stderr
        );
        assert!(
            bad.stderr.contains("Rollback complete: 1 rolled back, 0 failed."),
            "{}",
            bad.stderr
        );
        let after = aws.app_named("rel-spark").await;
        assert_eq!(after.release_label, "emr-7.3.0");
        assert_eq!(after.id, before.id);

        // A re-plan shows the release again.
        let plan = project.plan(&[]).await.expect_code(2);
        assert!(
            plan.stdout.contains("emr-7.3.0") && plan.stdout.contains("emr-7.5.0"),
            "{}",
            plan.stdout
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_deletes_what_the_apply_created() {
    bounded(async {
        let (project, _) = project(shared_emulator()).await;
        let run = project
            .apply(&["--run", "broken", "--rollback-on-failure"])
            .await
            .expect_code(1);
        assert!(
            run.stderr.contains("(created, to be deleted): delete"),
            "{}",
            run.stderr
        );
        let aws = project.aws().await;
        assert!(aws.apps().await.is_empty(), "the created application is deleted");
        assert!(aws.role("rel-runner").await.is_none(), "the created role is deleted");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_output_request_submitted_with_boto3_starts_the_same_job() {
    bounded(async {
        let (project, bucket) = project(shared_emulator()).await;
        let before = json_of(&project.run(&["output", "--format", "json"]).await.ok().stdout);
        assert!(before["jobs"]["smoke"]["start_job_run"].is_null());
        assert!(
            before["jobs"]["smoke"]["not_ready"].as_str().is_some_and(|r| r.contains("has not been applied")),
            "{before}"
        );
        project.apply(&[]).await.ok();
        let output = json_of(&project.run(&["output", "--format", "json"]).await.ok().stdout);
        let request = &output["jobs"]["smoke"]["start_job_run"];
        assert_eq!(request["applicationId"], output["applications"]["spark"]["id"]);
        assert_eq!(request["executionRoleArn"], output["roles"]["runner"]["arn"]);
        assert_eq!(request["name"], "rel-smoke");
        assert_eq!(request["mode"], "BATCH");
        assert!(
            request["jobDriver"]["sparkSubmit"]["entryPoint"]
                .as_str()
                .is_some_and(|e| e.starts_with(&format!("s3://{bucket}/artifacts/"))),
            "{request}"
        );
        assert!(output["jobs"]["smoke"]["artifacts"].as_array().is_some_and(|a| a.iter().all(|x| x["uploaded"] == true)));

        // Submitted as is by boto3, as an orchestrator would.
        let python = venv_dir().join("bin/python");
        let script = "import json, sys, boto3\n\
            request = json.loads(sys.stdin.read())\n\
            client = boto3.client('emr-serverless', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id=sys.argv[2], aws_secret_access_key='x')\n\
            started = client.start_job_run(**request)\n\
            print(json.dumps({'applicationId': started['applicationId'], 'jobRunId': started['jobRunId']}))\n";
        let mut child = std::process::Command::new(python)
            .args(["-c", script, &project.emulator().endpoint(), project.account()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            stdin.write_all(request.to_string().as_bytes()).expect("write request");
        }
        let finished = child.wait_with_output().expect("python finished");
        assert!(finished.status.success(), "{}", String::from_utf8_lossy(&finished.stderr));
        let started = json_of(&String::from_utf8_lossy(&finished.stdout));
        let app_id = started["applicationId"].as_str().expect("app");
        let run_id = started["jobRunId"].as_str().expect("run");

        // The same job as `emrstack run` starts.
        let ours = json_of(&project.run(&["run", "smoke", "--format", "json"]).await.ok().stdout);
        let theirs = job_run(project.emulator(), app_id, run_id)["jobRun"].clone();
        let mine = job_run(project.emulator(), app_id, ours["job_run_id"].as_str().expect("run"))["jobRun"].clone();
        for member in ["jobDriver", "executionRole", "name", "tags", "configurationOverrides", "mode"] {
            assert_eq!(theirs[member], mine[member], "{member}");
        }
        // And it runs to SUCCESS like ours.
        for _ in 0..100 {
            if job_run(project.emulator(), app_id, run_id)["jobRun"]["state"] == "SUCCESS" {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the boto3 run did not succeed: {}", job_run(project.emulator(), app_id, run_id));
    })
    .await;
}
