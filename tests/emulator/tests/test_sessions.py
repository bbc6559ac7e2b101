"""Interactive sessions: the API's session operations, sessionEnabled, and
sessions as running work that blocks StopApplication and DeleteApplication."""

from __future__ import annotations

import pytest
from conftest import app_state, create_app, error_of, runtime_role, started_app, wait_for, wait_state

ENABLED = {"interactiveConfiguration": {"sessionEnabled": True}}


def session_state(emr, app_id, session_id):
    return emr.get_session(applicationId=app_id, sessionId=session_id)["session"]["state"]


def wait_session(emr, app_id, session_id, state):
    wait_for(lambda: session_state(emr, app_id, session_id) == state, what=f"session {session_id} to be {state}")


def test_a_session_starts_idles_and_is_terminated(aws, emr, control, account):
    control.set_delays(cancelMs=-1)
    role = runtime_role(aws)
    app_id = started_app(emr, releaseLabel="emr-7.13.0", **ENABLED)
    started = emr.start_session(applicationId=app_id, executionRoleArn=role, name="notebook", tags={"team": "bi"},
                                idleTimeoutMinutes=30)
    session_id = started["sessionId"]
    assert started["arn"] == f"arn:aws:emr-serverless:us-east-1:{account}:/applications/{app_id}/sessions/{session_id}"
    wait_session(emr, app_id, session_id, "IDLE")
    session = emr.get_session(applicationId=app_id, sessionId=session_id)["session"]
    assert session["executionRoleArn"] == role
    assert session["releaseLabel"] == "emr-7.13.0"
    assert session["name"] == "notebook" and session["tags"] == {"team": "bi"}
    assert session["idleTimeoutMinutes"] == 30
    assert "startedAt" in session and "idleSince" in session
    endpoint = emr.get_session_endpoint(applicationId=app_id, sessionId=session_id)
    assert endpoint["sessionId"] == session_id and endpoint["endpoint"] and endpoint["authToken"]

    out = emr.terminate_session(applicationId=app_id, sessionId=session_id)
    assert out == {"applicationId": app_id, "sessionId": session_id, "ResponseMetadata": out["ResponseMetadata"]}
    assert session_state(emr, app_id, session_id) == "TERMINATING"
    control.release(account, app_id)
    assert session_state(emr, app_id, session_id) == "TERMINATED"
    assert "endedAt" in emr.get_session(applicationId=app_id, sessionId=session_id)["session"]
    with pytest.raises(emr.exceptions.ValidationException) as excinfo:
        emr.terminate_session(applicationId=app_id, sessionId=session_id)
    assert "TERMINATED" in error_of(excinfo)[2]


def test_sessions_need_session_enabled(aws, emr):
    role = runtime_role(aws)
    app_id = started_app(emr, releaseLabel="emr-7.13.0")
    with pytest.raises(emr.exceptions.ValidationException) as excinfo:
        emr.start_session(applicationId=app_id, executionRoleArn=role)
    assert "sessionEnabled" in error_of(excinfo)[2]
    assert emr.list_sessions(applicationId=app_id)["sessions"] == []


def test_a_session_auto_starts_its_application(aws, emr, control):
    control.set_delays(startMs=300)
    role = runtime_role(aws)
    app_id = create_app(emr, releaseLabel="emr-7.13.0", **ENABLED)
    session_id = emr.start_session(applicationId=app_id, executionRoleArn=role)["sessionId"]
    assert app_state(emr, app_id) == "STARTING"
    assert session_state(emr, app_id, session_id) == "SUBMITTED"
    wait_state(emr, app_id, "STARTED")
    wait_session(emr, app_id, session_id, "IDLE")


def test_start_session_checks_the_execution_role_and_its_client_token(aws, emr):
    role = runtime_role(aws)
    app_id = started_app(emr, releaseLabel="emr-7.13.0", **ENABLED)
    with pytest.raises(emr.exceptions.ValidationException):
        emr.start_session(applicationId=app_id, executionRoleArn=role.replace("job-runtime", "missing"))
    first = emr.start_session(applicationId=app_id, executionRoleArn=role, clientToken="tok")
    again = emr.start_session(applicationId=app_id, executionRoleArn=role, clientToken="tok")
    assert first["sessionId"] == again["sessionId"]
    assert len(emr.list_sessions(applicationId=app_id)["sessions"]) == 1


@pytest.mark.parametrize("state", ["SUBMITTED", "STARTING", "STARTED", "IDLE", "BUSY"])
def test_an_active_session_blocks_stop(emr, control, account, state):
    app_id = started_app(emr)
    session_id = control.inject_session(account, app_id, [[state]])
    with pytest.raises(emr.exceptions.ValidationException) as excinfo:
        emr.stop_application(applicationId=app_id)
    message = error_of(excinfo)[2]
    assert session_id in message and state in message
    assert app_state(emr, app_id) == "STARTED"


def test_a_terminated_session_no_longer_blocks_stop(emr, control, account):
    app_id = started_app(emr)
    session_id = control.inject_session(account, app_id)
    emr.terminate_session(applicationId=app_id, sessionId=session_id)
    wait_session(emr, app_id, session_id, "TERMINATED")
    emr.stop_application(applicationId=app_id)
    wait_state(emr, app_id, "STOPPED")


def test_an_active_session_blocks_delete(emr, control, account):
    app_id = create_app(emr)
    session_id = control.inject_session(account, app_id, force=True)
    assert app_state(emr, app_id) == "CREATED"
    with pytest.raises(emr.exceptions.ValidationException) as excinfo:
        emr.delete_application(applicationId=app_id)
    assert session_id in error_of(excinfo)[2]
    emr.terminate_session(applicationId=app_id, sessionId=session_id)
    wait_session(emr, app_id, session_id, "TERMINATED")
    emr.delete_application(applicationId=app_id)


def test_failed_sessions_do_not_block(emr, control, account):
    app_id = started_app(emr)
    session_id = control.inject_session(account, app_id, [["STARTING", 0.01], ["FAILED"]])
    wait_session(emr, app_id, session_id, "FAILED")
    emr.stop_application(applicationId=app_id)


def test_list_sessions_filters_and_paginates_newest_first(emr, control, account):
    app_id = started_app(emr)
    idle = [control.inject_session(account, app_id, [["IDLE"]]) for _ in range(3)]
    failed = control.inject_session(account, app_id, [["FAILED"]])
    listed = [s["sessionId"] for s in emr.list_sessions(applicationId=app_id)["sessions"]]
    assert listed == [failed, *reversed(idle)]
    assert [s["sessionId"] for s in emr.list_sessions(applicationId=app_id, states=["FAILED"])["sessions"]] == [failed]
    page = emr.list_sessions(applicationId=app_id, maxResults=2)
    assert len(page["sessions"]) == 2 and page["nextToken"]
    rest = emr.list_sessions(applicationId=app_id, maxResults=2, nextToken=page["nextToken"])
    assert [s["sessionId"] for s in page["sessions"] + rest["sessions"]] == listed
    summary = page["sessions"][0]
    assert set(summary) >= {"applicationId", "sessionId", "arn", "state", "stateDetails", "releaseLabel",
                            "executionRoleArn", "createdBy", "createdAt", "updatedAt"}
    with pytest.raises(emr.exceptions.ValidationException):
        emr.list_sessions(applicationId=app_id, states=["RUNNING"])


def test_sessions_are_taggable(emr, control, account):
    app_id = started_app(emr)
    session_id = control.inject_session(account, app_id, tags={"a": "1"})
    arn = emr.get_session(applicationId=app_id, sessionId=session_id)["session"]["arn"]
    emr.tag_resource(resourceArn=arn, tags={"b": "2"})
    assert emr.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "1", "b": "2"}


def test_unknown_sessions_are_404(emr):
    app_id = create_app(emr)
    with pytest.raises(emr.exceptions.ResourceNotFoundException):
        emr.get_session(applicationId=app_id, sessionId="00nosuchsession0")
    with pytest.raises(emr.exceptions.ResourceNotFoundException):
        emr.terminate_session(applicationId=app_id, sessionId="00nosuchsession0")


def test_the_control_api_injects_sessions(control, emr, account):
    app_id = started_app(emr)
    out = control.ok("POST", "/_emulator/sessions", {"account": account, "applicationId": app_id, "script": [["BUSY"]],
                                                     "name": "seeded"})
    assert set(out) == {"applicationId", "sessionId", "arn"}
    session = emr.get_session(applicationId=app_id, sessionId=out["sessionId"])["session"]
    assert session["state"] == "BUSY" and session["name"] == "seeded"
    for bad in ({"script": [["RUNNING"]]}, {"script": [["TERMINATED"], ["IDLE"]]}, {"force": "yes"}, {"bogus": 1}):
        status, body = control.call("POST", "/_emulator/sessions", {"account": account, "applicationId": app_id, **bad})
        assert status == 400, bad
    status, _ = control.call("POST", "/_emulator/sessions", {"account": account, "applicationId": "00nosuchapp00000"})
    assert status == 404
