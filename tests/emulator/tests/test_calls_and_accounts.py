"""Call counts, and accounts and regions as the front layer derives them."""

from __future__ import annotations

import json

import pytest
from conftest import client, create_app, new_account, raw_request


def test_calls_are_counted_per_service_and_operation(aws, control, account):
    emr = aws("emr-serverless")
    app_id = create_app(emr, wait=None)
    emr.get_application(applicationId=app_id)
    emr.get_application(applicationId=app_id)
    aws("iam").list_roles()
    aws("sts").get_caller_identity()
    aws("ecr").describe_repositories()
    aws("ec2").describe_subnets()
    calls = control.calls(account)
    assert calls["served"] == {
        "ec2:DescribeSubnets": 1,
        "ecr:DescribeRepositories": 1,
        "emr-serverless:CreateApplication": 1,
        "emr-serverless:GetApplication": 2,
        "iam:ListRoles": 1,
        "sts:GetCallerIdentity": 1,
    }
    assert calls["totals"] == {"served": 7, "faulted": 0, "throttled": 0, "delayed": 0}


def test_errors_from_the_service_count_as_served(emr, control, account):
    with pytest.raises(emr.exceptions.ResourceNotFoundException):
        emr.get_application(applicationId="00abc")
    assert control.calls(account)["served"] == {"emr-serverless:GetApplication": 1}


def test_counts_are_kept_per_account_and_overall(aws, control, account):
    other = new_account()
    aws("sts").get_caller_identity()
    aws("sts", account_id=other).get_caller_identity()
    aws("sts", account_id=other).get_caller_identity()
    everything = control.calls()
    assert everything["byAccount"][account]["served"] == {"sts:GetCallerIdentity": 1}
    assert everything["byAccount"][other]["served"] == {"sts:GetCallerIdentity": 2}
    assert everything["served"]["sts:GetCallerIdentity"] >= 3


def test_faulted_calls_are_counted_separately(aws, control, account):
    control.add_fault(service="sts", account=account, kind="throttle", count=1)
    control.add_fault(service="iam", account=account, kind="drop", count=1)
    for call in (lambda: aws("sts").get_caller_identity(), lambda: aws("iam").list_roles()):
        with pytest.raises(Exception):
            call()
    aws("sts").get_caller_identity()
    calls = control.calls(account)
    assert calls["faulted"] == {"iam:ListRoles": 1, "sts:GetCallerIdentity": 1}
    assert calls["served"] == {"sts:GetCallerIdentity": 1}


def test_counts_reset_and_control_calls_are_not_counted(aws, control, account):
    aws("sts").get_caller_identity()
    control.ok("DELETE", "/_emulator/calls")
    control.ok("GET", "/_emulator/health")
    control.ok("GET", "/_emulator/faults")
    assert control.calls(account)["totals"]["served"] == 0
    assert control.calls()["byAccount"] == {}


def test_a_twelve_digit_access_key_is_the_account(aws, account):
    assert aws("sts").get_caller_identity()["Account"] == account
    role = aws("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    assert role == f"arn:aws:iam::{account}:role/r"
    app_arn = aws("emr-serverless").create_application(releaseLabel="emr-7.1.0", type="SPARK")["arn"]
    assert f":{account}:/applications/" in app_arn


def test_accounts_are_isolated(server, account):
    mine = client(server.endpoint, "emr-serverless", account)
    theirs = client(server.endpoint, "emr-serverless", new_account())
    app_id = create_app(mine, wait=None)
    assert theirs.list_applications()["applications"] == []
    with pytest.raises(theirs.exceptions.ResourceNotFoundException):
        theirs.get_application(applicationId=app_id)
    client(server.endpoint, "iam", account).create_role(RoleName="only-mine", AssumeRolePolicyDocument="{}")
    other_iam = client(server.endpoint, "iam", new_account())
    with pytest.raises(other_iam.exceptions.NoSuchEntityException):
        other_iam.get_role(RoleName="only-mine")


def test_the_moto_header_wins_over_the_access_key(server, account):
    explicit = new_account()
    sts = client(server.endpoint, "sts", account)
    sts.meta.events.register("before-sign.sts.*", lambda request, **_: request.headers.__setitem__("x-moto-account-id", explicit))
    assert sts.get_caller_identity()["Account"] == explicit
    status, _, payload = raw_request(server.port, "POST", "/applications", account="AKIDEXAMPLE",
                                     body=json.dumps({"releaseLabel": "emr-7.1.0", "type": "SPARK", "clientToken": "x"}).encode(),
                                     headers={"x-moto-account-id": explicit})
    assert status == 200 and f":{explicit}:" in json.loads(payload)["arn"]


def test_other_access_keys_use_the_default_account(server):
    sts = client(server.endpoint, "sts", "AKIAIOSFODNN7EXAMPLE")
    assert sts.get_caller_identity()["Account"] == "123456789012"
    assert client(server.endpoint, "sts", "12345").get_caller_identity()["Account"] == "123456789012"


def test_the_region_comes_from_the_credential_scope(aws, account):
    west = aws("emr-serverless", region="us-west-2")
    created = west.create_application(releaseLabel="emr-7.1.0", type="SPARK")
    assert created["arn"].startswith(f"arn:aws:emr-serverless:us-west-2:{account}:")
    assert aws("emr-serverless").list_applications()["applications"] == []
    assert [a["id"] for a in west.list_applications()["applications"]] == [created["applicationId"]]
