"""clientToken on CreateApplication and UpdateApplication."""

from __future__ import annotations

import pytest
from conftest import create_app, error_of, wait_state


def test_same_token_same_request_returns_the_first_result_and_creates_nothing(emr):
    first = emr.create_application(name="a", releaseLabel="emr-7.1.0", type="SPARK", clientToken="tok-1")
    again = emr.create_application(name="a", releaseLabel="emr-7.1.0", type="SPARK", clientToken="tok-1")
    for key in ("applicationId", "name", "arn"):
        assert again[key] == first[key]
    assert len(emr.list_applications()["applications"]) == 1


def test_same_token_different_request_is_a_conflict(emr):
    emr.create_application(name="a", releaseLabel="emr-7.1.0", type="SPARK", clientToken="tok-1")
    with pytest.raises(emr.exceptions.ConflictException) as excinfo:
        emr.create_application(name="b", releaseLabel="emr-7.1.0", type="SPARK", clientToken="tok-1")
    assert error_of(excinfo)[:2] == (409, "ConflictException")
    assert len(emr.list_applications()["applications"]) == 1


def test_tokens_are_scoped_per_account(aws, emr, account):
    from conftest import new_account

    other = aws("emr-serverless", account_id=new_account())
    mine = emr.create_application(name="a", releaseLabel="emr-7.1.0", type="SPARK", clientToken="shared")
    theirs = other.create_application(name="b", releaseLabel="emr-7.1.0", type="SPARK", clientToken="shared")
    assert mine["applicationId"] != theirs["applicationId"]


def test_a_failed_request_does_not_consume_its_token(emr):
    with pytest.raises(emr.exceptions.ValidationException):
        emr.create_application(name="a", releaseLabel="emr-7", type="SPARK", clientToken="tok-2")
    created = emr.create_application(name="a", releaseLabel="emr-7.1.0", type="SPARK", clientToken="tok-2")
    assert created["applicationId"]


def test_update_with_the_same_token_and_request_is_not_applied_again(emr):
    app_id = create_app(emr)
    first = emr.update_application(applicationId=app_id, clientToken="up-1", maximumCapacity={"cpu": "8", "memory": "32"})
    # Change the application in between: a replay must not undo this.
    emr.update_application(applicationId=app_id, clientToken="up-2", maximumCapacity={"cpu": "16", "memory": "64"})
    emr.start_application(applicationId=app_id)
    wait_state(emr, app_id, "STARTED")
    again = emr.update_application(applicationId=app_id, clientToken="up-1", maximumCapacity={"cpu": "8", "memory": "32"})
    assert again["application"] == first["application"]
    now = emr.get_application(applicationId=app_id)["application"]
    assert now["maximumCapacity"] == {"cpu": "16 vCPU", "memory": "64 GB"}


def test_update_with_the_same_token_and_a_different_request_is_a_conflict(emr):
    app_id = create_app(emr)
    emr.update_application(applicationId=app_id, clientToken="up-1", maximumCapacity={"cpu": "8", "memory": "32"})
    with pytest.raises(emr.exceptions.ConflictException):
        emr.update_application(applicationId=app_id, clientToken="up-1", maximumCapacity={"cpu": "4", "memory": "32"})
    other = create_app(emr)
    with pytest.raises(emr.exceptions.ConflictException):
        emr.update_application(applicationId=other, clientToken="up-1", maximumCapacity={"cpu": "8", "memory": "32"})


def test_create_and_update_tokens_are_separate(emr):
    app_id = emr.create_application(name="a", releaseLabel="emr-7.1.0", type="SPARK", clientToken="same")["applicationId"]
    wait_state(emr, app_id, "CREATED")
    emr.update_application(applicationId=app_id, clientToken="same", architecture="ARM64")


def test_botocore_fills_in_a_fresh_token(emr):
    # Without an explicit token every call is a new request.
    a = emr.create_application(name="a", releaseLabel="emr-7.1.0", type="SPARK")
    b = emr.create_application(name="a", releaseLabel="emr-7.1.0", type="SPARK")
    assert a["applicationId"] != b["applicationId"]
