"""Job runs as `emrstack run` and smoke runs see them: lifecycle, outcome
rules, utilization, the dashboard, driver logs in S3, the files a run reads."""

from __future__ import annotations

import gzip
import http.client
import json
import random
import time
from typing import Any
from urllib.parse import urlparse

import botocore.session
import pytest
from conftest import (
    app_state, create_app, error_of, job_state, running_server, runtime_role, started_app, wait_for, wait_job,
    wait_state,
)

from emulator.emr import jobs, outcomes, runtime

FAILED_PREFIX = "Job failed, please check complete logs in configured logging destination. ExitCode: 1. Last few exceptions: "
LOCAL = "local:///usr/lib/spark/examples/src/main/python/pi.py"


def bucket_for(aws) -> tuple[Any, str]:
    s3 = aws("s3")
    name = f"emrstack-jobs-{random.getrandbits(48):012x}"
    s3.create_bucket(Bucket=name)
    return s3, name


def upload(aws, key: str = "code/job.py", body: bytes = b"print('hi')\n") -> tuple[Any, str, str]:
    s3, bucket = bucket_for(aws)
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return s3, bucket, f"s3://{bucket}/{key}"


def start(emr, app_id, role, entry_point=LOCAL, **extra) -> str:
    params: dict[str, Any] = {
        "applicationId": app_id, "executionRoleArn": role,
        "jobDriver": {"sparkSubmit": {"entryPoint": entry_point}},
    }
    params.update(extra)
    return emr.start_job_run(**params)["jobRunId"]


def finish(emr, app_id, job_id, timeout: float = 5.0) -> dict[str, Any]:
    wait_for(lambda: job_state(emr, app_id, job_id) in jobs.TERMINAL, timeout, what=f"job {job_id} to end")
    return emr.get_job_run(applicationId=app_id, jobRunId=job_id)["jobRun"]


def read_log(s3, uri_or_bucket: str, key: str | None = None) -> str:
    if key is None:
        bucket, key = runtime.split_s3(uri_or_bucket)
    else:
        bucket = uri_or_bucket
    return gzip.decompress(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).decode()


def logs_uri(prefix: str, bucket: str) -> dict[str, Any]:
    """configurationOverrides sending the driver logs to s3://bucket/prefix."""
    return {"monitoringConfiguration": {"s3MonitoringConfiguration": {"logUri": f"s3://{bucket}/{prefix}"}}}


# --- lifecycle ------------------------------------------------------------------------


def test_the_default_script_passes_through_every_state_of_a_job_run():
    assert [s.state for s in jobs.DEFAULT_SCRIPT] == ["SUBMITTED", "PENDING", "SCHEDULED", "RUNNING", "SUCCESS"]
    assert all(s.seconds <= 1.0 for s in jobs.DEFAULT_SCRIPT[:-1])


def test_a_run_is_seen_in_each_state_with_per_state_timing(aws, emr, control):
    control.set_job_script([["SUBMITTED", 0.15], ["PENDING", 0.15], ["SCHEDULED", 0.15], ["RUNNING", 0.3], ["SUCCESS"]])
    role = runtime_role(aws)
    app_id = started_app(emr)
    job_id = start(emr, app_id, role)
    seen = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        state = job_state(emr, app_id, job_id)
        if not seen or seen[-1] != state:
            seen.append(state)
        if state in jobs.TERMINAL:
            break
        time.sleep(0.02)
    assert seen == ["SUBMITTED", "PENDING", "SCHEDULED", "RUNNING", "SUCCESS"]


def test_get_job_run_uses_only_the_models_members(aws, emr):
    role = runtime_role(aws)
    app_id = started_app(emr)
    job_id = start(emr, app_id, role, name="n", tags={"k": "v"}, flexExecution={"enabled": True},
                   retryPolicy={"maxAttempts": 1}, executionIamPolicy={"policyArns": ["arn:aws:iam::aws:policy/x"]})
    running = emr.get_job_run(applicationId=app_id, jobRunId=job_id)["jobRun"]
    # Duration and utilization only once the run has ended (API totalExecutionDurationSeconds).
    assert not {"totalExecutionDurationSeconds", "totalResourceUtilization", "billedResourceUtilization"} & set(running)
    run = finish(emr, app_id, job_id)
    shape = botocore.session.get_session().get_service_model("emr-serverless").shape_for("JobRun")
    assert set(run) <= set(shape.members)
    assert set(shape.required_members) <= set(run)
    for key in ("name", "tags", "flexExecution", "retryPolicy", "executionIamPolicy", "startedAt", "endedAt",
                "totalExecutionDurationSeconds", "totalResourceUtilization", "billedResourceUtilization", "attempt",
                "attemptCreatedAt", "attemptUpdatedAt", "mode", "executionTimeoutMinutes"):
        assert key in run, key
    summary = emr.list_job_runs(applicationId=app_id)["jobRuns"][0]
    assert summary["type"] == "Spark" and summary["flexExecution"] == {"enabled": True}
    summary_shape = botocore.session.get_session().get_service_model("emr-serverless").shape_for("JobRunSummary")
    assert set(summary) <= set(summary_shape.members)


def test_the_applications_image_is_the_runs_applied_image(aws, emr, control, account):
    from conftest import pull_policy, push_image

    uri, digest = push_image(aws)
    role = runtime_role(aws)
    app_id = create_app(emr, imageConfiguration={"imageUri": uri})
    arn = emr.get_application(applicationId=app_id)["application"]["arn"]
    aws("ecr").set_repository_policy(repositoryName="spark", policyText=pull_policy(arn))
    job_id = start(emr, app_id, role)
    wait_state(emr, app_id, "STARTED")
    image = finish(emr, app_id, job_id)["imageConfiguration"]
    # The image the run used: resolved when the application started.
    assert (image["imageUri"], image["resolvedImageDigest"]) == (uri, digest)


def test_a_runs_application_kept_starting_holds_it_in_its_first_state(aws, emr, control, account):
    """Issue 11's lease-renewal test: startMs keeps an application in STARTING
    for as long as it says (or, with -1, until /_emulator/transitions)."""
    control.set_delays(startMs=1200)
    role = runtime_role(aws)
    app_id = create_app(emr)
    t0 = time.monotonic()
    job_id = start(emr, app_id, role)
    time.sleep(0.8)
    assert app_state(emr, app_id) == "STARTING" and job_state(emr, app_id, job_id) == "SUBMITTED"
    wait_state(emr, app_id, "STARTED")
    assert time.monotonic() - t0 >= 1.2
    control.set_delays(startMs=-1)
    held = create_app(emr)
    emr.start_application(applicationId=held)
    time.sleep(0.3)
    assert app_state(emr, held) == "STARTING"
    control.release(account, held)
    assert app_state(emr, held) == "STARTED"


def test_execution_timeouts_for_batch_runs(aws, emr):
    role = runtime_role(aws)
    app_id = started_app(emr, releaseLabel="emr-7.11.0")
    with pytest.raises(emr.exceptions.ValidationException) as excinfo:
        start(emr, app_id, role, executionTimeoutMinutes=0)
    assert "BATCH" in error_of(excinfo)[2]
    with pytest.raises(emr.exceptions.ValidationException):
        start(emr, app_id, role, executionTimeoutMinutes=10081)
    start(emr, app_id, role, executionTimeoutMinutes=10080)
    start(emr, app_id, role, executionTimeoutMinutes=0, mode="STREAMING")
    older = started_app(emr, releaseLabel="emr-7.10.0")
    start(emr, older, role, executionTimeoutMinutes=20000)


# --- outcome rules ------------------------------------------------------------------------


def test_a_rule_fails_runs_by_name_with_aws_words(aws, emr, control):
    control.ok("POST", "/_emulator/job-outcomes",
               {"name": "smoke-*", "state": "FAILED", "error": "ValueError: the smoke check found 0 rows"})
    role = runtime_role(aws)
    app_id = started_app(emr)
    failed = finish(emr, app_id, start(emr, app_id, role, name="smoke-release"))
    assert failed["state"] == "FAILED"
    assert failed["stateDetails"] == FAILED_PREFIX + "ValueError: the smoke check found 0 rows"
    passed = finish(emr, app_id, start(emr, app_id, role, name="nightly"))
    assert passed["state"] == "SUCCESS"
    assert control.ok("GET", "/_emulator/job-outcomes")["rules"][0]["matched"] == 1


def test_rules_match_entry_points_tags_and_modes(aws, emr, control, account):
    control.ok("POST", "/_emulator/job-outcomes", [
        {"entryPoint": "*/broken.py", "state": "FAILED"},
        {"tags": {"release": "bad"}, "state": "FAILED", "stateDetails": "custom details"},
        {"mode": "STREAMING", "account": account, "state": "CANCELLED"},
    ])
    role = runtime_role(aws)
    app_id = started_app(emr)
    by_entry = finish(emr, app_id, start(emr, app_id, role, entry_point="local:///code/broken.py"))
    assert (by_entry["state"], by_entry["stateDetails"]) == ("FAILED", FAILED_PREFIX + outcomes.DEFAULT_ERROR)
    by_tag = finish(emr, app_id, start(emr, app_id, role, tags={"release": "bad", "x": "y"}))
    assert (by_tag["state"], by_tag["stateDetails"]) == ("FAILED", "custom details")
    streaming = finish(emr, app_id, start(emr, app_id, role, mode="STREAMING"))
    assert streaming["state"] == "CANCELLED"
    assert finish(emr, app_id, start(emr, app_id, role, tags={"release": "good"}))["state"] == "SUCCESS"


def test_a_counted_rule_fails_only_the_next_runs(aws, emr, control):
    control.ok("POST", "/_emulator/job-outcomes", {"state": "FAILED", "count": 1})
    role = runtime_role(aws)
    app_id = started_app(emr)
    assert finish(emr, app_id, start(emr, app_id, role))["state"] == "FAILED"
    assert finish(emr, app_id, start(emr, app_id, role))["state"] == "SUCCESS"


def test_a_rule_can_set_the_timing_of_its_runs(aws, emr, control):
    control.ok("POST", "/_emulator/job-outcomes",
               {"name": "slow", "state": "FAILED", "script": [["SUBMITTED", 0.05], ["RUNNING", 0.8], ["SUCCESS"]]})
    role = runtime_role(aws)
    app_id = started_app(emr)
    run = finish(emr, app_id, start(emr, app_id, role, name="slow"))
    # The rule's state replaces the script's last one.
    assert run["state"] == "FAILED"
    assert (run["endedAt"] - run["startedAt"]).total_seconds() == pytest.approx(0.8, abs=0.002)


def test_state_details_are_cut_to_the_models_256_characters(aws, emr, control):
    control.ok("POST", "/_emulator/job-outcomes", {"state": "FAILED", "error": "E: " + "x" * 400})
    role = runtime_role(aws)
    app_id = started_app(emr)
    details = finish(emr, app_id, start(emr, app_id, role))["stateDetails"]
    assert len(details) == 256 and details.endswith("...") and details.startswith(FAILED_PREFIX + "E: xxx")


@pytest.mark.parametrize("rule, fragment", [
    ({"state": "RUNNING"}, "state"),
    ({"state": "FAILED", "colour": "red"}, "unknown"),
    ({"tags": ["a"]}, "tags"),
    ({"mode": "MICRO"}, "mode"),
    ({"count": 0}, "count"),
    ({"script": [["SUCCESS"], ["RUNNING"]]}, "terminal"),
    ({"stateDetails": ""}, "stateDetails"),
    ([{"state": "FAILED"}, {"state": "NOPE"}], "state"),
])
def test_bad_outcome_rules_are_refused_whole(control, rule, fragment):
    status, body = control.call("POST", "/_emulator/job-outcomes", rule)
    assert status == 400 and fragment in body["error"]
    assert control.ok("GET", "/_emulator/job-outcomes")["rules"] == []


def test_outcome_rules_are_listed_removed_cleared_and_reset(control):
    added = control.ok("POST", "/_emulator/job-outcomes", {"rules": [{"id": "a", "state": "FAILED"}, {"name": "b"}]})
    ids = [r["id"] for r in added["rules"]]
    assert ids[0] == "a" and ids[1].startswith("outcome-")
    assert added["rules"][1] == {"id": ids[1], "state": "SUCCESS", "name": "b", "matched": 0}
    status, _ = control.call("POST", "/_emulator/job-outcomes", {"id": "a"})
    assert status == 400
    assert control.ok("DELETE", "/_emulator/job-outcomes/a") == {"removed": "a"}
    assert control.call("DELETE", "/_emulator/job-outcomes/a")[0] == 404
    assert len(control.ok("GET", "/_emulator/config")["jobOutcomes"]) == 1
    control.ok("DELETE", "/_emulator/job-outcomes")
    assert control.ok("GET", "/_emulator/job-outcomes")["rules"] == []
    control.ok("POST", "/_emulator/job-outcomes", {"state": "FAILED"})
    control.ok("POST", "/_emulator/reset", {"state": False})
    assert control.ok("GET", "/_emulator/job-outcomes")["rules"] == []


def test_outcome_rules_from_the_environment_at_start():
    rules = [{"name": "smoke", "state": "FAILED", "error": "boom"}]
    with running_server({"EMULATOR_JOB_OUTCOMES": json.dumps(rules)}) as srv:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
        conn.request("GET", "/_emulator/job-outcomes")
        listed = json.loads(conn.getresponse().read())["rules"]
        conn.close()
    assert [(r["name"], r["state"], r["error"]) for r in listed] == [("smoke", "FAILED", "boom")]


def test_a_bad_outcome_rule_at_start_stops_the_start(tmp_path):
    import subprocess
    import sys

    from conftest import EMULATOR_DIR

    result = subprocess.run(
        [sys.executable, "-m", "emulator", "--port", "0"], cwd=EMULATOR_DIR, capture_output=True, timeout=30,
        env={"PYTHONPATH": str(EMULATOR_DIR), "EMULATOR_JOB_OUTCOMES": json.dumps([{"state": "DONE"}]),
             "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2 and b"state" in result.stderr


# --- utilization -----------------------------------------------------------------------------


def test_utilization_from_the_applications_workers(aws, emr, control):
    control.set_job_script([["SUBMITTED", 0.02], ["RUNNING", 1.2], ["SUCCESS"]])
    role = runtime_role(aws)
    app_id = started_app(emr, initialCapacity={
        "Driver": {"workerCount": 1, "workerConfiguration": {"cpu": "2 vCPU", "memory": "4 GB"}},
        "Executor": {"workerCount": 2, "workerConfiguration": {"cpu": "4 vCPU", "memory": "8 GB", "disk": "50 GB"}},
    })
    run = finish(emr, app_id, start(emr, app_id, role))
    assert run["totalExecutionDurationSeconds"] == 2  # 1.2 s, rounded up
    # 10 vCPU, 20 GB, 120 GB of disk for 2 s; billed for the 1-minute minimum,
    # storage only above 20 GB per worker (2 x 30 GB).
    assert run["totalResourceUtilization"] == {"vCPUHour": 0.006, "memoryGBHour": 0.011, "storageGBHour": 0.067}
    assert run["billedResourceUtilization"] == {"vCPUHour": 0.167, "memoryGBHour": 0.333, "storageGBHour": 1.0}


def test_utilization_from_spark_defaults_and_the_jobs_conf(aws, emr, control):
    control.set_job_script([["RUNNING", 0.5], ["SUCCESS"]])
    role = runtime_role(aws)
    app_id = started_app(emr)
    default = finish(emr, app_id, start(emr, app_id, role))
    # 1 driver and 3 executors of 4 vCPU and 16 GB, billed for 60 s.
    assert default["billedResourceUtilization"] == {"vCPUHour": 0.267, "memoryGBHour": 1.067, "storageGBHour": 0.0}
    params = ("--conf spark.executor.instances=1 --conf spark.executor.cores=2 --conf spark.executor.memory=6g "
              "--conf spark.emr-serverless.executor.disk=80g")
    tuned = finish(emr, app_id, emr.start_job_run(
        applicationId=app_id, executionRoleArn=role,
        jobDriver={"sparkSubmit": {"entryPoint": LOCAL, "sparkSubmitParameters": params}})["jobRunId"])
    # driver 4 vCPU/16 GB/20 GB + 1 executor 2 vCPU/6 GB/80 GB.
    assert tuned["billedResourceUtilization"] == {"vCPUHour": 0.1, "memoryGBHour": 0.367, "storageGBHour": 1.0}


def test_a_run_cancelled_before_it_ran_used_nothing(aws, emr, control, account):
    role = runtime_role(aws)
    app_id = started_app(emr)
    control.set_job_script([["PENDING"]])
    job_id = start(emr, app_id, role)
    emr.cancel_job_run(applicationId=app_id, jobRunId=job_id)
    run = finish(emr, app_id, job_id)
    assert run["state"] == "CANCELLED" and run["totalExecutionDurationSeconds"] == 0
    assert run["billedResourceUtilization"] == {"vCPUHour": 0.0, "memoryGBHour": 0.0, "storageGBHour": 0.0}


def test_the_utilization_formula():
    used = (runtime.Workers("Driver", 1, 4, 16, 20), runtime.Workers("Executor", 3, 4, 16, 20))
    total, billed = runtime.utilization(used, 3600)
    assert total == {"vCPUHour": 16.0, "memoryGBHour": 64.0, "storageGBHour": 80.0}
    assert billed == {"vCPUHour": 16.0, "memoryGBHour": 64.0, "storageGBHour": 0.0}
    assert runtime.utilization(used, 0) == ({"vCPUHour": 0.0, "memoryGBHour": 0.0, "storageGBHour": 0.0},) * 2


# --- dashboard and attempts ----------------------------------------------------------------


def test_the_dashboard_is_refused_before_the_run_has_a_driver(aws, emr, control):
    control.set_job_script([["SUBMITTED", 0.3], ["PENDING"]])
    role = runtime_role(aws)
    app_id = started_app(emr)
    job_id = start(emr, app_id, role)
    for state in ("SUBMITTED", "PENDING"):
        wait_job(emr, app_id, job_id, state)
        with pytest.raises(emr.exceptions.ValidationException) as excinfo:
            emr.get_dashboard_for_job_run(applicationId=app_id, jobRunId=job_id)
        assert error_of(excinfo)[2] == f"Dashboard cannot be served for job in {state} state"


def test_the_dashboard_url_points_at_the_emulator(server, aws, emr):
    role = runtime_role(aws)
    app_id = started_app(emr)
    job_id = start(emr, app_id, role, name="dash")
    finish(emr, app_id, job_id)
    url = emr.get_dashboard_for_job_run(applicationId=app_id, jobRunId=job_id)["url"]
    parsed = urlparse(url)
    assert (parsed.scheme, parsed.hostname, parsed.port) == ("http", "127.0.0.1", server.port)
    assert parsed.path == f"/_emulator/dashboard/{app_id}/{job_id}" and "authToken=" in parsed.query
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", f"{parsed.path}?{parsed.query}")
    response = conn.getresponse()
    page = response.read().decode()
    conn.close()
    assert response.status == 200 and response.getheader("Content-Type").startswith("text/html")
    assert job_id in page and "SUCCESS" in page
    with pytest.raises(emr.exceptions.ResourceNotFoundException):
        emr.get_dashboard_for_job_run(applicationId=app_id, jobRunId=job_id, attempt=2)


def test_one_attempt_per_run(aws, emr):
    role = runtime_role(aws)
    app_id = started_app(emr)
    job_id = start(emr, app_id, role, name="once")
    run = finish(emr, app_id, job_id)
    attempts = emr.list_job_run_attempts(applicationId=app_id, jobRunId=job_id)["jobRunAttempts"]
    assert len(attempts) == 1
    assert (attempts[0]["attempt"], attempts[0]["state"], attempts[0]["name"], attempts[0]["jobCreatedAt"]) == (
        1, "SUCCESS", "once", run["createdAt"])
    assert emr.get_job_run(applicationId=app_id, jobRunId=job_id, attempt=1)["jobRun"]["attempt"] == 1
    with pytest.raises(emr.exceptions.ResourceNotFoundException):
        emr.get_job_run(applicationId=app_id, jobRunId=job_id, attempt=2)


# --- driver logs ---------------------------------------------------------------------------


def test_a_failing_run_writes_its_traceback_under_the_job_log_uri(aws, emr, control, account):
    s3, bucket = bucket_for(aws)
    control.ok("POST", "/_emulator/job-outcomes", {"name": "smoke", "state": "FAILED", "error": "KeyError: 'day'"})
    role = runtime_role(aws)
    app_id = started_app(emr)
    job_id = start(emr, app_id, role, name="smoke", entry_point="local:///code/smoke.py",
                   configurationOverrides=logs_uri("logs/", bucket))
    wait_for(lambda: job_state(emr, app_id, job_id) == "FAILED", what="the run to fail")
    base = f"logs/applications/{app_id}/jobs/{job_id}/SPARK_DRIVER"
    stderr = read_log(s3, bucket, f"{base}/stderr.gz")
    assert stderr.splitlines()[-3:] == [
        "Traceback (most recent call last):", f'  File "/tmp/spark-{job_id}/smoke.py", line 1, in <module>',
        "KeyError: 'day'",
    ]
    assert "FAILED" in read_log(s3, bucket, f"{base}/stdout.gz")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(keys) == [f"{base}/stderr.gz", f"{base}/stdout.gz"]
    info = control.ok("GET", f"/_emulator/jobs/{app_id}/{job_id}")
    assert info["logs"]["status"] == "written" and info["logs"]["stderr"] == f"s3://{bucket}/{base}/stderr.gz"
    assert info["outcome"]["state"] == "FAILED" and info["account"] == account


def test_logs_are_in_s3_as_soon_as_the_run_has_ended(aws, emr, control):
    """Nobody has to look at the run first: an S3 request finds them."""
    s3, bucket = bucket_for(aws)
    control.set_job_script([["RUNNING", 0.2], ["SUCCESS"]])
    role = runtime_role(aws)
    app_id = started_app(emr, monitoringConfiguration={"s3MonitoringConfiguration": {"logUri": f"s3://{bucket}"}})
    job_id = start(emr, app_id, role)
    time.sleep(0.4)
    text = read_log(s3, bucket, f"applications/{app_id}/jobs/{job_id}/SPARK_DRIVER/stdout.gz")
    assert "SUCCESS" in text


def test_a_rule_sets_the_log_texts(aws, emr, control):
    s3, bucket = bucket_for(aws)
    stderr = "line one\nException in thread \"main\" java.lang.IllegalStateException: bad table\n"
    control.ok("POST", "/_emulator/job-outcomes", {"state": "FAILED", "stderr": stderr, "stdout": "rows: 0\n"})
    role = runtime_role(aws)
    app_id = started_app(emr)
    job_id = start(emr, app_id, role, configurationOverrides=logs_uri("l", bucket))
    run = finish(emr, app_id, job_id)
    assert run["stateDetails"] == FAILED_PREFIX + 'Exception in thread "main" java.lang.IllegalStateException: bad table'
    base = f"l/applications/{app_id}/jobs/{job_id}/SPARK_DRIVER"
    assert read_log(s3, bucket, f"{base}/stderr.gz") == stderr
    assert read_log(s3, bucket, f"{base}/stdout.gz") == "rows: 0\n"
    # gzip with a fixed timestamp: the same text is the same object.
    raw = s3.get_object(Bucket=bucket, Key=f"{base}/stderr.gz")["Body"].read()
    assert raw == runtime.gzipped(stderr)


def test_the_jobs_log_uri_overrides_the_applications(aws, emr):
    s3, app_bucket = bucket_for(aws)
    _, job_bucket = bucket_for(aws)
    role = runtime_role(aws)
    app_id = started_app(emr, monitoringConfiguration={"s3MonitoringConfiguration": {"logUri": f"s3://{app_bucket}/app/"}})
    job_id = start(emr, app_id, role, configurationOverrides=logs_uri("job/", job_bucket))
    finish(emr, app_id, job_id)
    assert read_log(s3, job_bucket, f"job/applications/{app_id}/jobs/{job_id}/SPARK_DRIVER/stdout.gz")
    assert "Contents" not in s3.list_objects_v2(Bucket=app_bucket)


def test_hive_and_retried_runs_have_their_own_log_paths(aws, emr):
    s3, bucket = bucket_for(aws)
    role = runtime_role(aws)
    hive = started_app(emr, type="HIVE")
    job_id = emr.start_job_run(applicationId=hive, executionRoleArn=role, jobDriver={"hive": {"query": "SELECT 1"}},
                               configurationOverrides=logs_uri("h", bucket))["jobRunId"]
    finish(emr, hive, job_id)
    assert read_log(s3, bucket, f"h/applications/{hive}/jobs/{job_id}/HIVE_DRIVER/stderr.gz")
    spark = started_app(emr)
    retried = start(emr, spark, role, retryPolicy={"maxAttempts": 3}, configurationOverrides=logs_uri("r", bucket))
    finish(emr, spark, retried)
    assert read_log(s3, bucket, f"r/applications/{spark}/jobs/{retried}/attempts/1/SPARK_DRIVER/stderr.gz")


def test_logs_to_a_missing_bucket_are_lost_and_the_run_is_unchanged(aws, emr, control):
    role = runtime_role(aws)
    app_id = started_app(emr)
    job_id = start(emr, app_id, role, configurationOverrides=logs_uri("x", f"no-such-{random.getrandbits(40):x}"))
    assert finish(emr, app_id, job_id)["state"] == "SUCCESS"
    assert control.ok("GET", f"/_emulator/jobs/{app_id}/{job_id}")["logs"]["status"] == "NoSuchBucket"


def test_no_logs_without_a_driver(aws, emr, control):
    s3, bucket = bucket_for(aws)
    control.set_job_script([["PENDING"]])
    role = runtime_role(aws)
    app_id = started_app(emr)
    job_id = start(emr, app_id, role, configurationOverrides=logs_uri("x", bucket))
    emr.cancel_job_run(applicationId=app_id, jobRunId=job_id)
    finish(emr, app_id, job_id)
    assert control.ok("GET", f"/_emulator/jobs/{app_id}/{job_id}")["logs"]["status"] == "skipped"
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_log_keys():
    assert runtime.log_keys("s3://b", "a1", "j1", "SPARK", None) == (
        "b", "applications/a1/jobs/j1/SPARK_DRIVER/stdout.gz", "applications/a1/jobs/j1/SPARK_DRIVER/stderr.gz")
    assert runtime.log_keys("s3://b/x//y/", "a1", "j1", "HIVE", 1)[2] == "x/y/applications/a1/jobs/j1/attempts/1/HIVE_DRIVER/stderr.gz"
    assert runtime.log_keys("https://b/x", "a", "j", "SPARK", None) is None


# --- files the run reads -----------------------------------------------------------------------


def test_a_missing_entry_point_fails_the_run(aws, emr):
    s3, bucket = bucket_for(aws)
    role = runtime_role(aws)
    app_id = started_app(emr)
    uri = f"s3://{bucket}/artifacts/abc/job.py"
    run = finish(emr, app_id, start(emr, app_id, role, entry_point=uri, configurationOverrides=logs_uri("l", bucket)))
    error = f"Exception in thread \"main\" java.io.FileNotFoundException: No such file or directory '{uri}'"
    assert (run["state"], run["stateDetails"]) == ("FAILED", FAILED_PREFIX + error)
    assert "startedAt" in run  # the driver started, then failed
    stderr = read_log(s3, bucket, f"l/applications/{app_id}/jobs/{run['jobRunId']}/SPARK_DRIVER/stderr.gz")
    assert stderr.splitlines()[-1] == error
    s3.put_object(Bucket=bucket, Key="artifacts/abc/job.py", Body=b"print(1)")
    assert finish(emr, app_id, start(emr, app_id, role, entry_point=uri))["state"] == "SUCCESS"


def test_every_file_the_driver_reads_must_exist(aws, emr, control):
    s3, bucket, entry = upload(aws)
    role = runtime_role(aws)
    app_id = started_app(emr)
    # A rule cannot make a run with a missing file succeed.
    control.ok("POST", "/_emulator/job-outcomes", {"state": "SUCCESS"})
    deps = f"s3://{bucket}/deps/lib.zip"
    params = f"--py-files {deps} --conf spark.executor.cores=2 --archives s3://{bucket}/env.tar.gz#environment"
    run = finish(emr, app_id, emr.start_job_run(
        applicationId=app_id, executionRoleArn=role,
        jobDriver={"sparkSubmit": {"entryPoint": entry, "sparkSubmitParameters": params}})["jobRunId"])
    assert run["state"] == "FAILED" and deps in run["stateDetails"]
    s3.put_object(Bucket=bucket, Key="deps/lib.zip", Body=b"zip")
    run = finish(emr, app_id, emr.start_job_run(
        applicationId=app_id, executionRoleArn=role,
        jobDriver={"sparkSubmit": {"entryPoint": entry, "sparkSubmitParameters": params}})["jobRunId"])
    assert run["state"] == "FAILED" and f"s3://{bucket}/env.tar.gz" in run["stateDetails"]
    s3.put_object(Bucket=bucket, Key="env.tar.gz", Body=b"tar")
    run = finish(emr, app_id, emr.start_job_run(
        applicationId=app_id, executionRoleArn=role,
        jobDriver={"sparkSubmit": {"entryPoint": entry, "sparkSubmitParameters": params}})["jobRunId"])
    assert run["state"] == "SUCCESS"


def test_hive_query_files_and_another_accounts_bucket(aws, emr):
    s3, bucket = bucket_for(aws)
    role = runtime_role(aws)
    hive = started_app(emr, type="HIVE")
    query = f"s3://{bucket}/q.sql"
    run = finish(emr, hive, emr.start_job_run(
        applicationId=hive, executionRoleArn=role, jobDriver={"hive": {"query": query}})["jobRunId"])
    assert run["state"] == "FAILED" and "FileNotFoundException" in run["stateDetails"]
    # Inline queries are not files.
    run = finish(emr, hive, emr.start_job_run(
        applicationId=hive, executionRoleArn=role, jobDriver={"hive": {"query": "SELECT 1"}})["jobRunId"])
    assert run["state"] == "SUCCESS"
    # A bucket of another account: the runtime role is denied (no bucket policy).
    other_s3 = aws("s3", account_id=str(random.randint(100_000_000_000, 999_999_999_999)))
    foreign = f"emrstack-foreign-{random.getrandbits(40):x}"
    other_s3.create_bucket(Bucket=foreign)
    other_s3.put_object(Bucket=foreign, Key="job.py", Body=b"x")
    spark = started_app(emr)
    run = finish(emr, spark, start(emr, spark, role, entry_point=f"s3://{foreign}/job.py"))
    assert run["state"] == "FAILED" and "AccessDenied" in run["stateDetails"]


def test_the_files_a_driver_reads():
    driver = {"sparkSubmit": {
        "entryPoint": "s3://b/main.py",
        "sparkSubmitParameters": "--jars s3://b/a.jar,local:///x.jar --files=s3://b/f.txt --conf spark.x=1 "
                                 "--archives s3://b/env.tar.gz#env --py-files 's3://b/dep.zip'",
    }}
    assert runtime.files_read(driver) == [
        "s3://b/main.py", "s3://b/a.jar", "s3://b/f.txt", "s3://b/env.tar.gz", "s3://b/dep.zip"]
    assert runtime.files_read({"hive": {"query": "s3://b/q.sql", "initQueryFile": "s3://b/init.sql"}}) == [
        "s3://b/q.sql", "s3://b/init.sql"]
    assert runtime.files_read({"sparkSubmit": {"entryPoint": "s3://bucket-only"}}) == []


# --- concurrency and queuing -------------------------------------------------------------------


def queued_app(emr, runs: int) -> str:
    return started_app(emr, releaseLabel="emr-7.3.0",
                       schedulerConfiguration={"maxConcurrentRuns": runs, "queueTimeoutMinutes": 30})


def test_runs_over_max_concurrent_runs_wait_in_queued(aws, emr, control):
    control.set_job_script([["SUBMITTED", 0.05], ["PENDING", 0.05], ["RUNNING", 0.5], ["SUCCESS"]])
    role = runtime_role(aws)
    app_id = queued_app(emr, 1)
    first = start(emr, app_id, role)
    second = start(emr, app_id, role)
    assert job_state(emr, app_id, second) == "QUEUED"
    wait_job(emr, app_id, first, "SUCCESS")
    # Admitted the moment the first ended, then the rest of its script.
    wait_job(emr, app_id, second, "RUNNING")
    a = finish(emr, app_id, first)
    b = finish(emr, app_id, second)
    assert b["state"] == "SUCCESS"
    assert b["queuedDurationMilliseconds"] == pytest.approx(
        (a["endedAt"] - b["createdAt"]).total_seconds() * 1000, abs=2)
    assert "queuedDurationMilliseconds" not in a
    queued = [j for j in emr.list_job_runs(applicationId=app_id, states=["QUEUED"])["jobRuns"]]
    assert queued == []


def test_the_queue_is_first_in_first_out_and_cancellable(aws, emr, control):
    control.set_job_script([["SUBMITTED", 0.02], ["RUNNING", 0.3], ["SUCCESS"]])
    role = runtime_role(aws)
    app_id = queued_app(emr, 2)
    running = [start(emr, app_id, role) for _ in range(2)]
    waiting = [start(emr, app_id, role) for _ in range(3)]
    assert [job_state(emr, app_id, j) for j in waiting] == ["QUEUED"] * 3
    # A queued run blocks StopApplication like any active run, and can be cancelled.
    with pytest.raises(emr.exceptions.ValidationException):
        emr.stop_application(applicationId=app_id)
    emr.cancel_job_run(applicationId=app_id, jobRunId=waiting[0])
    wait_job(emr, app_id, waiting[0], "CANCELLED")
    for job_id in running + waiting[1:]:
        wait_job(emr, app_id, job_id, "SUCCESS")
    runs = {j: emr.get_job_run(applicationId=app_id, jobRunId=j)["jobRun"] for j in running + waiting[1:]}
    assert "startedAt" not in emr.get_job_run(applicationId=app_id, jobRunId=waiting[0])["jobRun"]
    # The two queued runs started as the two running ones ended, in order.
    assert runs[waiting[1]]["startedAt"] <= runs[waiting[2]]["startedAt"]
    assert runs[waiting[1]]["startedAt"] >= min(runs[j]["endedAt"] for j in running)


def test_without_queuing_every_run_starts(aws, emr, control):
    role = runtime_role(aws)
    app_id = started_app(emr, releaseLabel="emr-7.3.0", schedulerConfiguration={})
    jobs_started = [start(emr, app_id, role) for _ in range(3)]
    assert all(job_state(emr, app_id, j) != "QUEUED" for j in jobs_started)


def test_runs_waiting_for_a_starting_application_queue_when_it_starts(aws, emr, control):
    control.set_delays(startMs=300)
    control.set_job_script([["SUBMITTED", 0.02], ["RUNNING", 0.3], ["SUCCESS"]])
    role = runtime_role(aws)
    app_id = create_app(emr, releaseLabel="emr-7.3.0", schedulerConfiguration={"maxConcurrentRuns": 1,
                                                                               "queueTimeoutMinutes": 30})
    first, second = start(emr, app_id, role), start(emr, app_id, role)
    assert [job_state(emr, app_id, j) for j in (first, second)] == ["SUBMITTED", "SUBMITTED"]
    wait_state(emr, app_id, "STARTED")
    assert job_state(emr, app_id, second) == "QUEUED"
    wait_job(emr, app_id, second, "SUCCESS")


def test_raising_max_concurrent_runs_admits_queued_runs_from_then_on(aws, emr, control):
    control.set_job_script([["RUNNING"]])
    role = runtime_role(aws)
    app_id = queued_app(emr, 1)
    start(emr, app_id, role)
    waiting = start(emr, app_id, role)
    assert job_state(emr, app_id, waiting) == "QUEUED"
    emr.update_application(applicationId=app_id, schedulerConfiguration={"maxConcurrentRuns": 2})
    assert job_state(emr, app_id, waiting) == "RUNNING"
