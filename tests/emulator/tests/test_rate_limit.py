"""EMR Serverless rate limits: token buckets per account, region and operation."""

from __future__ import annotations

import time

import botocore.exceptions
import pytest
from conftest import Control, client, new_account, raw_request, running_server

DOCUMENTED = {
    "ListApplications": (10, 50), "GetApplication": (10, 50), "GetJobRun": (10, 50),
    "CreateApplication": (1, 25), "DeleteApplication": (1, 25), "UpdateApplication": (1, 25),
    "StartApplication": (1, 25), "StopApplication": (1, 25), "ListJobRuns": (1, 25),
    "StartJobRun": (1, 25), "CancelJobRun": (1, 25),
    "TagResource": (10, 50), "UntagResource": (10, 50), "ListTagsForResource": (10, 50),
}


def outcomes(call, n):
    out = []
    for _ in range(n):
        try:
            call()
            out.append("ok")
        except botocore.exceptions.ClientError as e:
            assert e.response["Error"]["Code"] == "ThrottlingException"
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 429
            out.append("throttled")
    return out


def test_off_by_default_and_the_documented_limits(control, emr):
    state = control.ok("GET", "/_emulator/rate-limit")
    assert state["enabled"] is False
    for op, (rate, burst) in DOCUMENTED.items():
        assert state["effective"][op] == {"rate": rate, "burst": burst}, op
    control.rate_limit(rate=0, burst=1)  # tiny, but still off
    assert outcomes(emr.list_applications, 5) == ["ok"] * 5


def test_the_burst_is_served_then_calls_are_throttled(control, emr):
    control.rate_limit(enabled=True, rate=0, burst=3)
    assert outcomes(emr.list_applications, 5) == ["ok"] * 3 + ["throttled"] * 2


def test_buckets_are_per_account_per_operation_and_per_region(aws, control, emr):
    control.rate_limit(enabled=True, rate=0, burst=2)
    assert outcomes(emr.list_applications, 3) == ["ok", "ok", "throttled"]
    other_op = lambda: emr.list_tags_for_resource(  # noqa: E731
        resourceArn="arn:aws:emr-serverless:us-east-1:123456789012:/applications/00abcdefghijklmn")
    with pytest.raises(emr.exceptions.ResourceNotFoundException):
        other_op()
    assert outcomes(aws("emr-serverless", account_id=new_account()).list_applications, 2) == ["ok", "ok"]
    assert outcomes(aws("emr-serverless", region="us-west-2").list_applications, 2) == ["ok", "ok"]


def test_tokens_refill_at_the_rate(control, emr):
    control.rate_limit(enabled=True, rate=2, burst=1)
    assert outcomes(emr.list_applications, 2) == ["ok", "throttled"]
    time.sleep(0.6)
    assert outcomes(emr.list_applications, 1) == ["ok"]


def test_per_operation_overrides(control, emr):
    control.rate_limit(enabled=True, operations={"ListApplications": {"rate": 0, "burst": 1}})
    assert outcomes(emr.list_applications, 2) == ["ok", "throttled"]
    # Other operations keep the documented numbers.
    app = emr.create_application(releaseLabel="emr-7.1.0", type="SPARK")
    assert outcomes(lambda: emr.get_application(applicationId=app["applicationId"]), 10) == ["ok"] * 10
    state = control.ok("GET", "/_emulator/rate-limit")
    assert state["effective"]["ListApplications"] == {"rate": 0.0, "burst": 1}
    assert state["effective"]["GetApplication"] == {"rate": 10, "burst": 50}


def test_only_emr_serverless_is_rate_limited(aws, control):
    control.rate_limit(enabled=True, rate=0, burst=1)
    sts = aws("sts")
    assert all(sts.get_caller_identity()["Account"] for _ in range(3))


def test_throttled_calls_are_counted_as_throttled(control, emr, account):
    control.rate_limit(enabled=True, rate=0, burst=1)
    outcomes(emr.list_applications, 3)
    calls = control.calls(account)
    assert calls["served"] == {"emr-serverless:ListApplications": 1}
    assert calls["throttled"] == {"emr-serverless:ListApplications": 2}


def test_switching_off_and_bad_settings(control, emr):
    control.rate_limit(enabled=True, rate=0, burst=1)
    outcomes(emr.list_applications, 2)
    control.rate_limit(enabled=False)
    assert outcomes(emr.list_applications, 3) == ["ok"] * 3
    for bad in ({"enabled": "yes"}, {"rate": -1}, {"burst": 0}, {"operations": {"Nope": {}}}, {"speed": 1}):
        status, body = control.call("POST", "/_emulator/rate-limit", bad)
        assert status == 400 and body["error"]


def test_enabled_from_the_environment():
    with running_server({"EMULATOR_RATE_LIMIT": '{"enabled": true, "rate": 0, "burst": 2}'}) as srv:
        emr = client(srv.endpoint, "emr-serverless", "111111111111")
        assert outcomes(emr.list_applications, 3) == ["ok", "ok", "throttled"]
    with running_server({"EMULATOR_RATE_LIMIT": "1"}) as srv:
        assert Control(srv.endpoint).ok("GET", "/_emulator/rate-limit")["enabled"] is True


def test_error_shape_of_a_throttle(server, control, account):
    control.rate_limit(enabled=True, rate=0, burst=1)
    raw_request(server.port, "GET", "/applications", account=account)
    status, headers, payload = raw_request(server.port, "GET", "/applications", account=account)
    assert status == 429
    assert headers["x-amzn-errortype"] == "ThrottlingException"
    assert b'"message": "Rate exceeded"' in payload
