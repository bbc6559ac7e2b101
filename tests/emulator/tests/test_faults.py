"""Fault injection: the right error shape per service, drops, latency, selection."""

from __future__ import annotations

import json
import socket
import time

import botocore.exceptions
import pytest
from conftest import Control, client, create_app, error_of, new_account, raw_request, running_server

IAM_NOT_FOUND = {"kind": "error", "status": 404, "code": "NoSuchEntity", "message": "The role with name r cannot be found."}

# (service, operation, a call that makes it)
CALLS = {
    "emr-serverless": ("ListApplications", lambda aws: aws("emr-serverless").list_applications()),
    "ecr": ("DescribeRepositories", lambda aws: aws("ecr").describe_repositories()),
    "iam": ("ListRoles", lambda aws: aws("iam").list_roles()),
    "sts": ("GetCallerIdentity", lambda aws: aws("sts").get_caller_identity()),
    "ec2": ("DescribeSecurityGroups", lambda aws: aws("ec2").describe_security_groups()),
}


def fail_with(call, aws):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call(aws)
    return error_of(excinfo)


@pytest.mark.parametrize(
    "service, status, code",
    [
        ("emr-serverless", 429, "ThrottlingException"),
        ("ecr", 400, "ThrottlingException"),
        ("iam", 400, "Throttling"),
        ("sts", 400, "Throttling"),
        ("ec2", 503, "RequestLimitExceeded"),
    ],
)
def test_throttle_has_each_services_shape(aws, control, account, service, status, code):
    operation, call = CALLS[service]
    control.add_fault(service=service, operation=operation, account=account, kind="throttle", count=1)
    assert fail_with(call, aws)[:2] == (status, code)
    call(aws)  # count 1: the next call is served


def test_botocore_retries_an_injected_throttle(aws, control, account):
    control.add_fault(service="iam", operation="ListRoles", account=account, kind="throttle", count=1)
    iam = aws("iam", retries={"total_max_attempts": 2, "mode": "standard"})
    response = iam.list_roles()
    assert response["ResponseMetadata"]["RetryAttempts"] == 1


@pytest.mark.parametrize(
    "service, status, code",
    [
        ("emr-serverless", 500, "InternalServerException"),
        ("ecr", 500, "ServerException"),
        ("iam", 500, "ServiceFailure"),
        ("sts", 500, "InternalFailure"),
        ("ec2", 500, "InternalError"),
    ],
)
def test_server_error_has_each_services_shape(aws, control, account, service, status, code):
    operation, call = CALLS[service]
    control.add_fault(service=service, operation=operation, account=account, kind="server_error", count=1)
    assert fail_with(call, aws)[:2] == (status, code)


def test_server_error_status_can_be_chosen(aws, control, account):
    control.add_fault(service="emr-serverless", account=account, kind="server_error", status=503, count=1)
    assert fail_with(CALLS["emr-serverless"][1], aws)[:2] == (503, "InternalServerException")


def test_error_simulates_iam_eventual_consistency(aws, control, account):
    iam = aws("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    control.add_fault(service="iam", operation="GetRole", account=account, count=2, **IAM_NOT_FOUND)
    for _ in range(2):
        with pytest.raises(iam.exceptions.NoSuchEntityException) as excinfo:
            iam.get_role(RoleName="r")
        assert error_of(excinfo) == (404, "NoSuchEntity", "The role with name r cannot be found.")
    assert iam.get_role(RoleName="r")["Role"]["RoleName"] == "r"


def test_error_in_ecr_json_shape(aws, control, account):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName="repo")
    control.add_fault(service="ecr", operation="SetRepositoryPolicy", account=account, kind="error", status=400,
                      code="InvalidParameterException", message="Invalid parameter at 'PolicyText': Principal not found")
    with pytest.raises(ecr.exceptions.InvalidParameterException) as excinfo:
        ecr.set_repository_policy(repositoryName="repo", policyText="{}")
    assert "Principal not found" in error_of(excinfo)[2]


def test_error_in_emr_rest_json_shape(server, control, account):
    control.add_fault(service="emr-serverless", operation="GetApplication", account=account, kind="error",
                      status=409, code="ConflictException", message="busy")
    status, headers, payload = raw_request(server.port, "GET", "/applications/00abc", account=account)
    assert status == 409
    assert headers["x-amzn-errortype"] == "ConflictException"
    assert json.loads(payload) == {"message": "busy"}


def test_ec2_and_query_error_documents(server, control, account):
    control.add_fault(service="ec2", account=account, kind="throttle")
    status, headers, payload = raw_request(server.port, "POST", "/", service="ec2", account=account,
                                           body=b"Action=DescribeSubnets&Version=2016-11-15",
                                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 503
    text = payload.decode()
    assert "<Response><Errors><Error><Code>RequestLimitExceeded</Code>" in text and "<RequestID>" in text
    control.add_fault(service="sts", account=account, kind="throttle")
    status, _, payload = raw_request(server.port, "POST", "/", service="sts", account=account,
                                     body=b"Action=GetCallerIdentity&Version=2011-06-15",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    text = payload.decode()
    assert status == 400
    assert '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">' in text
    assert "<Type>Sender</Type><Code>Throttling</Code>" in text


def _raw_exchange(port: int, account: str) -> bytes:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        request = (
            "GET /applications HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\n"
            f"Authorization: AWS4-HMAC-SHA256 Credential={account}/20240101/us-east-1/emr-serverless/aws4_request, "
            "SignedHeaders=host, Signature=0\r\n"
            "\r\n"
        )
        sock.sendall(request.encode())
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)
    finally:
        sock.close()


def test_drop_closes_the_tcp_connection_without_a_response(server, control, account):
    control.add_fault(service="emr-serverless", account=account, kind="drop", count=1)
    assert _raw_exchange(server.port, account) == b""
    assert _raw_exchange(server.port, account).startswith(b"HTTP/1.1 200")


def test_drop_with_reset_sends_rst(server, control, account):
    control.add_fault(service="emr-serverless", account=account, kind="drop", reset=True, count=1)
    with pytest.raises(ConnectionResetError):
        _raw_exchange(server.port, account)
    assert _raw_exchange(server.port, account).startswith(b"HTTP/1.1 200")


def test_botocore_sees_a_dropped_connection(aws, control, account):
    control.add_fault(service="sts", account=account, kind="drop", count=1)
    with pytest.raises((botocore.exceptions.ConnectionClosedError, botocore.exceptions.EndpointConnectionError)):
        aws("sts").get_caller_identity()
    control.add_fault(service="sts", account=account, kind="drop", count=1)
    retried = aws("sts", retries={"total_max_attempts": 2, "mode": "standard"}).get_caller_identity()
    assert retried["Account"] == account


def test_latency_delays_then_serves(aws, control, account):
    control.add_fault(service="sts", account=account, kind="latency", latencyMs=500, count=1)
    sts = aws("sts")
    started = time.monotonic()
    assert sts.get_caller_identity()["Account"] == account
    assert time.monotonic() - started >= 0.5
    started = time.monotonic()
    sts.get_caller_identity()
    assert time.monotonic() - started < 0.5
    calls = control.calls(account)
    assert calls["delayed"] == {"sts:GetCallerIdentity": 1}
    assert calls["served"] == {"sts:GetCallerIdentity": 2}


def test_latency_longer_than_the_client_timeout(aws, control, account):
    control.add_fault(service="sts", account=account, kind="latency", latencyMs=1500, count=1)
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        aws("sts", read_timeout=0.5).get_caller_identity()


def test_latency_combines_with_an_error(aws, control, account):
    control.add_fault(service="sts", account=account, kind="latency", latencyMs=200, count=1)
    control.add_fault(service="sts", account=account, kind="throttle", count=1)
    started = time.monotonic()
    assert fail_with(CALLS["sts"][1], aws)[1] == "Throttling"
    assert time.monotonic() - started >= 0.2


def test_count_fires_on_the_first_n_matching_calls(aws, control, account):
    rule = control.add_fault(service="sts", account=account, kind="throttle", count=3)
    outcomes = []
    for _ in range(5):
        try:
            aws("sts").get_caller_identity()
            outcomes.append("ok")
        except botocore.exceptions.ClientError:
            outcomes.append("throttled")
    assert outcomes == ["throttled"] * 3 + ["ok"] * 2
    listed = control.ok("GET", "/_emulator/faults")["rules"]
    assert [(r["id"], r["matched"], r["fired"]) for r in listed] == [(rule["id"], 5, 3)]


def test_skip_lets_the_first_calls_through(aws, control, account):
    control.add_fault(service="sts", account=account, kind="throttle", skip=2, count=1)
    outcomes = []
    for _ in range(4):
        try:
            aws("sts").get_caller_identity()
            outcomes.append("ok")
        except botocore.exceptions.ClientError:
            outcomes.append("throttled")
    assert outcomes == ["ok", "ok", "throttled", "ok"]


def _pattern(aws, control, account, n=40):
    out = []
    for _ in range(n):
        try:
            aws("sts").get_caller_identity()
            out.append(0)
        except botocore.exceptions.ClientError:
            out.append(1)
    return out


def test_probability_is_reproducible_with_a_seed(aws, control, account):
    control.ok("POST", "/_emulator/faults", {"seed": 1234, "rules": [
        {"service": "sts", "account": account, "kind": "throttle", "probability": 0.5}]})
    first = _pattern(aws, control, account)
    control.ok("DELETE", "/_emulator/faults")
    control.ok("POST", "/_emulator/seed", {"seed": 1234})
    control.add_fault(service="sts", account=account, kind="throttle", probability=0.5)
    second = _pattern(aws, control, account)
    assert first == second
    assert 5 < sum(first) < 35


def test_probability_with_count_fires_at_most_count_times(aws, control, account):
    control.ok("POST", "/_emulator/seed", {"seed": 7})
    control.add_fault(service="sts", account=account, kind="throttle", probability=0.5, count=3)
    assert sum(_pattern(aws, control, account)) == 3


def test_probability_zero_and_one(aws, control, account):
    control.add_fault(service="sts", account=account, kind="throttle", probability=0)
    assert sum(_pattern(aws, control, account, 10)) == 0
    control.ok("DELETE", "/_emulator/faults")
    control.add_fault(service="sts", account=account, kind="throttle", probability=1)
    assert sum(_pattern(aws, control, account, 10)) == 10


def test_rules_match_service_operation_account_and_region(aws, control, account):
    control.add_fault(service="emr-serverless", operation="GetApplication", account=account, region="us-east-1",
                      kind="throttle")
    emr = aws("emr-serverless")
    emr.list_applications()  # another operation
    aws("emr-serverless", region="us-west-2").list_applications()
    with pytest.raises(botocore.exceptions.ClientError):
        emr.get_application(applicationId="00abc")
    # Other account, other region: untouched (404 is the service's answer).
    for other in (aws("emr-serverless", account_id=new_account()), aws("emr-serverless", region="eu-west-1")):
        with pytest.raises(other.exceptions.ResourceNotFoundException):
            other.get_application(applicationId="00abc")


@pytest.mark.parametrize(
    "service, operation, call",
    [
        ("iam", "CreateRole", lambda aws: aws("iam").create_role(RoleName="x", AssumeRolePolicyDocument="{}")),
        ("ec2", "DescribeSubnets", lambda aws: aws("ec2").describe_subnets()),
        ("ecr", "CreateRepository", lambda aws: aws("ecr").create_repository(repositoryName="x")),
        ("sts", "GetCallerIdentity", lambda aws: aws("sts").get_caller_identity()),
        ("emr-serverless", "StopApplication", lambda aws: aws("emr-serverless").stop_application(applicationId="00abc")),
        ("emr-serverless", "ListTagsForResource", lambda aws: aws("emr-serverless").list_tags_for_resource(
            resourceArn="arn:aws:emr-serverless:us-east-1:123456789012:/applications/00abcdefghijklmn")),
    ],
)
def test_operation_names_are_derived_per_protocol(aws, control, account, service, operation, call):
    control.add_fault(service=service, operation=operation, account=account, kind="error", status=418,
                      code="Teapot", message="matched")
    status, code, _ = fail_with(call, aws)
    assert (status, code) == (418, "Teapot")
    assert control.calls(account)["faulted"] == {f"{service}:{operation}": 1}


def test_rules_are_listed_removed_and_cleared(control, account):
    rule = control.add_fault(id="mine", service="iam", account=account, kind="throttle")
    assert rule["id"] == "mine"
    status, _ = control.call("POST", "/_emulator/faults", {"id": "mine", "kind": "throttle"})
    assert status == 400
    control.ok("DELETE", "/_emulator/faults/mine")
    assert control.call("DELETE", "/_emulator/faults/mine")[0] == 404
    control.add_fault(kind="throttle", account=account)
    control.add_fault(kind="drop", account=account)
    assert len(control.ok("GET", "/_emulator/faults")["rules"]) == 2
    control.ok("DELETE", "/_emulator/faults")
    assert control.ok("GET", "/_emulator/faults")["rules"] == []


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "explode"},
        {"kind": "error", "code": "X"},
        {"kind": "error", "status": 200, "code": "X"},
        {"kind": "error", "status": 400},
        {"kind": "throttle", "probability": 1.5},
        {"kind": "throttle", "count": -1},
        {"kind": "latency"},
        {"kind": "throttle", "colour": "red"},
        {"kind": "server_error", "status": 404},
        [{"kind": "throttle"}, {"kind": "nope"}],
    ],
)
def test_bad_rules_are_refused_whole(control, rule):
    status, body = control.call("POST", "/_emulator/faults", rule)
    assert status == 400 and body["error"]
    assert control.ok("GET", "/_emulator/faults")["rules"] == []


def test_faults_from_the_environment_at_start():
    rules = [{"service": "sts", "kind": "throttle", "count": 1}]
    with running_server({"EMULATOR_FAULTS": json.dumps({"seed": 9, "rules": rules})}) as srv:
        control = Control(srv.endpoint)
        assert control.ok("GET", "/_emulator/faults")["seed"] == 9
        sts = client(srv.endpoint, "sts", "111111111111")
        with pytest.raises(botocore.exceptions.ClientError):
            sts.get_caller_identity()
        assert sts.get_caller_identity()["Account"] == "111111111111"
        # A reset restores the start-up rules, counters and all.
        control.ok("POST", "/_emulator/reset", {"state": False})
        with pytest.raises(botocore.exceptions.ClientError):
            sts.get_caller_identity()


def test_faults_from_a_config_file(tmp_path):
    config = tmp_path / "emulator.json"
    config.write_text(json.dumps({
        "faults": [{"service": "iam", "operation": "ListRoles", "kind": "server_error", "count": 1}],
        "delays": {"startMs": 5},
    }))
    with running_server(args=["--config", str(config)], fast=False) as srv:
        iam = client(srv.endpoint, "iam", "111111111111")
        with pytest.raises(botocore.exceptions.ClientError) as excinfo:
            iam.list_roles()
        assert error_of(excinfo)[:2] == (500, "ServiceFailure")
        assert Control(srv.endpoint).ok("GET", "/_emulator/delays") == {
            "createMs": 200, "startMs": 5, "stopMs": 300, "cancelMs": 200}
    # Environment variables override the file.
    with running_server({"EMULATOR_DELAY_START_MS": "7"}, args=["--config", str(config)], fast=False) as srv:
        assert Control(srv.endpoint).ok("GET", "/_emulator/delays")["startMs"] == 7


def test_a_faulted_call_never_reaches_the_service(aws, control, account):
    control.add_fault(service="emr-serverless", operation="CreateApplication", account=account, kind="server_error", count=1)
    with pytest.raises(botocore.exceptions.ClientError):
        create_app(aws("emr-serverless"), wait=None)
    assert aws("emr-serverless").list_applications()["applications"] == []
