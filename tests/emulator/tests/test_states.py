"""The application state machine: every transition and every refusal."""

from __future__ import annotations

import pytest
from conftest import app_state, create_app, error_of, started_app, wait_state

# The service's own words, each from a public capture (see the README's table).
STARTED_MESSAGE = (  # hashicorp/terraform-provider-aws #49109
    "Only the following configurations can be updated when an application is in STARTED state: "
    "schedulerConfiguration.maxConcurrentRuns, extendedSupportConfiguration, imageConfiguration, "
    "workerTypeSpecifications.imageConfiguration, maximumCapacity."
)
STARTED_SCHEDULER_MESSAGE = (  # aws/aws-cdk #35488
    "Only MaxConcurrentRuns from SchedulerConfiguration can be updated when application is in STARTED state."
)
STOP_MESSAGE = (  # gchq/sleeper #1212
    "Application cannot be STOPPED. Applications must be in one of the following statuses: [STARTING, STARTED]"
)


def refused(emr, call, fragment: str | None = None) -> str:
    with pytest.raises(emr.exceptions.ValidationException) as excinfo:
        call()
    status, code, message = error_of(excinfo)
    assert (status, code) == (400, "ValidationException")
    if fragment:
        assert fragment in message
    return message


def test_create_goes_through_creating_to_created(emr, control, account):
    control.set_delays(createMs=-1)
    app_id = create_app(emr, wait=None)
    assert app_state(emr, app_id) == "CREATING"
    control.release(account, app_id)
    assert app_state(emr, app_id) == "CREATED"


def test_created_after_the_create_delay(emr, control):
    control.set_delays(createMs=500)
    app_id = create_app(emr, wait=None)
    assert app_state(emr, app_id) == "CREATING"
    wait_state(emr, app_id, "CREATED", timeout=2)


def test_start_goes_through_starting_to_started_and_stop_through_stopping(emr, control, account):
    control.set_delays(startMs=-1, stopMs=-1)
    app_id = create_app(emr)
    emr.start_application(applicationId=app_id)
    assert app_state(emr, app_id) == "STARTING"
    control.release(account, app_id)
    assert app_state(emr, app_id) == "STARTED"
    emr.stop_application(applicationId=app_id)
    assert app_state(emr, app_id) == "STOPPING"
    control.release(account, app_id)
    assert app_state(emr, app_id) == "STOPPED"
    emr.start_application(applicationId=app_id)
    assert app_state(emr, app_id) == "STARTING"


def test_start_and_stop_are_timed(emr, control):
    control.set_delays(startMs=500, stopMs=500)
    app_id = create_app(emr)
    emr.start_application(applicationId=app_id)
    assert app_state(emr, app_id) == "STARTING"
    wait_state(emr, app_id, "STARTED")
    emr.stop_application(applicationId=app_id)
    assert app_state(emr, app_id) == "STOPPING"
    wait_state(emr, app_id, "STOPPED")


def test_start_of_a_started_or_starting_application_is_accepted_without_change(emr, control):
    app_id = started_app(emr)
    before = emr.get_application(applicationId=app_id)["application"]
    emr.start_application(applicationId=app_id)
    assert emr.get_application(applicationId=app_id)["application"] == before
    control.set_delays(startMs=-1)
    other = create_app(emr)
    emr.start_application(applicationId=other)
    emr.start_application(applicationId=other)
    assert app_state(emr, other) == "STARTING"


@pytest.mark.parametrize("state", ["CREATING", "CREATED", "STOPPING", "STOPPED", "TERMINATED"])
def test_stop_is_refused_unless_starting_or_started(emr, control, state):
    control.set_delays(createMs=-1 if state == "CREATING" else 0, stopMs=-1 if state == "STOPPING" else 0)
    app_id = create_app(emr, wait=None)
    if state in ("STOPPING", "STOPPED"):
        emr.start_application(applicationId=app_id)
        wait_state(emr, app_id, "STARTED")
        emr.stop_application(applicationId=app_id)
    if state == "STOPPED":
        wait_state(emr, app_id, "STOPPED")
    if state == "TERMINATED":
        emr.delete_application(applicationId=app_id)
    assert app_state(emr, app_id) == state
    assert refused(emr, lambda: emr.stop_application(applicationId=app_id)) == STOP_MESSAGE
    assert app_state(emr, app_id) == state


def test_stop_of_a_starting_application_stops_it(emr, control):
    control.set_delays(startMs=-1)
    app_id = create_app(emr)
    emr.start_application(applicationId=app_id)
    emr.stop_application(applicationId=app_id)
    assert app_state(emr, app_id) == "STOPPING"
    wait_state(emr, app_id, "STOPPED")


def test_start_is_refused_while_creating_stopping_or_terminated(emr, control):
    control.set_delays(createMs=-1)
    creating = create_app(emr, wait=None)
    refused(emr, lambda: emr.start_application(applicationId=creating), "CREATING")
    control.set_delays(createMs=0, stopMs=-1)
    stopping = started_app(emr)
    emr.stop_application(applicationId=stopping)
    refused(emr, lambda: emr.start_application(applicationId=stopping), "STOPPING")
    terminated = create_app(emr)
    emr.delete_application(applicationId=terminated)
    refused(emr, lambda: emr.start_application(applicationId=terminated), "TERMINATED")


@pytest.mark.parametrize("state", ["CREATING", "STARTING", "STOPPING", "TERMINATED"])
def test_update_is_refused_in(emr, control, state):
    control.set_delays(createMs=-1 if state == "CREATING" else 0, startMs=-1 if state == "STARTING" else 0,
                       stopMs=-1 if state == "STOPPING" else 0)
    app_id = create_app(emr, wait=None)
    if state == "STARTING":
        emr.start_application(applicationId=app_id)
    elif state == "STOPPING":
        emr.start_application(applicationId=app_id)
        emr.stop_application(applicationId=app_id)
    elif state == "TERMINATED":
        emr.delete_application(applicationId=app_id)
    assert app_state(emr, app_id) == state
    message = refused(emr, lambda: emr.update_application(applicationId=app_id, clientToken="t", maximumCapacity={"cpu": "4", "memory": "8"}))
    # The service's wording (guidance-for-clickstream-analytics-on-aws #60).
    assert message == (
        f"Application {app_id} must be in one of the statuses to be updated: [STOPPED, CREATED]. Current status: {state}"
    )


def test_every_field_is_updatable_in_created_and_stopped(emr):
    app_id = create_app(emr)
    emr.update_application(applicationId=app_id, clientToken="t1", architecture="ARM64", releaseLabel="emr-7.0.0")
    emr.start_application(applicationId=app_id)
    wait_state(emr, app_id, "STARTED")
    emr.stop_application(applicationId=app_id)
    wait_state(emr, app_id, "STOPPED")
    app = emr.update_application(applicationId=app_id, clientToken="t2", autoStopConfiguration={"enabled": False})["application"]
    assert app["autoStopConfiguration"]["enabled"] is False and app["architecture"] == "ARM64"


@pytest.mark.parametrize(
    "fields",
    [
        {"maximumCapacity": {"cpu": "8", "memory": "32"}},
        {"schedulerConfiguration": {"maxConcurrentRuns": 9}},
        {"imageConfiguration": {}},
        {"workerTypeSpecifications": {"Driver": {"imageConfiguration": {}}}},
        {"maximumCapacity": {"cpu": "8", "memory": "32"}, "schedulerConfiguration": {"maxConcurrentRuns": 2}},
    ],
)
def test_a_started_application_accepts_the_documented_subset(emr, fields):
    app_id = started_app(emr, releaseLabel="emr-7.1.0", schedulerConfiguration={"maxConcurrentRuns": 3, "queueTimeoutMinutes": 60})
    app = emr.update_application(applicationId=app_id, clientToken="t", **fields)["application"]
    assert app["state"] == "STARTED"
    if "schedulerConfiguration" in fields:
        # The queue timeout is kept: a STARTED application takes maxConcurrentRuns alone.
        assert app["schedulerConfiguration"] == {"maxConcurrentRuns": fields["schedulerConfiguration"]["maxConcurrentRuns"],
                                                 "queueTimeoutMinutes": 60}


@pytest.mark.parametrize(
    "fields",
    [
        {"architecture": "X86_64"},
        {"releaseLabel": "emr-7.1.0"},
        {"initialCapacity": {}},
        {"autoStartConfiguration": {"enabled": True}},
        {"autoStopConfiguration": {"enabled": True}},
        {"networkConfiguration": {"subnetIds": []}},
        {"runtimeConfiguration": []},
        {"monitoringConfiguration": {}},
        {"interactiveConfiguration": {"studioEnabled": False}},
        {"diskEncryptionConfiguration": {}},
        {"identityCenterConfiguration": {}},
        {"jobLevelCostAllocationConfiguration": {"enabled": False}},
        {"maximumCapacity": {"cpu": "8", "memory": "32"}, "architecture": "X86_64"},
        {"schedulerConfiguration": {"maxConcurrentRuns": 4}, "architecture": "X86_64"},
    ],
)
def test_a_started_application_refuses_anything_else_with_the_service_message(emr, fields):
    app_id = started_app(emr)
    before = emr.get_application(applicationId=app_id)["application"]
    message = refused(emr, lambda: emr.update_application(applicationId=app_id, clientToken="t", **fields))
    assert message == STARTED_MESSAGE
    assert emr.get_application(applicationId=app_id)["application"] == before


@pytest.mark.parametrize(
    "scheduler",
    [
        # Unchanged values too: the CDK report re-sent the block unchanged.
        {"maxConcurrentRuns": 3, "queueTimeoutMinutes": 60},
        {"maxConcurrentRuns": 4, "queueTimeoutMinutes": 60},
        {"queueTimeoutMinutes": 90},
        {},
    ],
)
def test_a_started_application_refuses_a_scheduler_update_beyond_max_concurrent_runs(emr, scheduler):
    app_id = started_app(emr, releaseLabel="emr-7.1.0", schedulerConfiguration={"maxConcurrentRuns": 3, "queueTimeoutMinutes": 60})
    message = refused(emr, lambda: emr.update_application(applicationId=app_id, clientToken="t", schedulerConfiguration=scheduler))
    assert message == STARTED_SCHEDULER_MESSAGE
    got = emr.get_application(applicationId=app_id)["application"]["schedulerConfiguration"]
    assert got == {"maxConcurrentRuns": 3, "queueTimeoutMinutes": 60}


def test_delete_terminates_and_hides_the_application_from_unfiltered_lists(emr):
    keep = create_app(emr, name="keep")
    gone = create_app(emr, name="gone")
    emr.delete_application(applicationId=gone)
    assert app_state(emr, gone) == "TERMINATED"
    listed = [a["id"] for a in emr.list_applications()["applications"]]
    assert listed == [keep]
    terminated = emr.list_applications(states=["TERMINATED"])["applications"]
    assert [a["id"] for a in terminated] == [gone]
    both = emr.list_applications(states=["TERMINATED", "CREATED"])["applications"]
    assert {a["id"] for a in both} == {keep, gone}


def test_delete_from_stopped(emr):
    app_id = started_app(emr)
    emr.stop_application(applicationId=app_id)
    wait_state(emr, app_id, "STOPPED")
    emr.delete_application(applicationId=app_id)
    assert app_state(emr, app_id) == "TERMINATED"


@pytest.mark.parametrize("state", ["CREATING", "STARTING", "STARTED", "STOPPING", "TERMINATED"])
def test_delete_is_refused_in(emr, control, state):
    control.set_delays(createMs=-1 if state == "CREATING" else 0, startMs=-1 if state == "STARTING" else 0,
                       stopMs=-1 if state == "STOPPING" else 0)
    app_id = create_app(emr, wait=None)
    if state in ("STARTING", "STARTED", "STOPPING"):
        emr.start_application(applicationId=app_id)
    if state == "STOPPING":
        emr.stop_application(applicationId=app_id)
    if state == "TERMINATED":
        emr.delete_application(applicationId=app_id)
    assert app_state(emr, app_id) == state
    message = refused(emr, lambda: emr.delete_application(applicationId=app_id))
    # The service's words, its typo included (gchq/sleeper #2909).
    assert message == f"Application {app_id} must be in of the following statuses [CREATED, STOPPED]. Current status: {state}"


def test_state_timestamps_move_with_transitions(emr, control):
    control.set_delays(createMs=500)
    app_id = create_app(emr, wait=None)
    created = emr.get_application(applicationId=app_id)["application"]
    assert created["createdAt"] == created["updatedAt"]
    wait_state(emr, app_id, "CREATED")
    after = emr.get_application(applicationId=app_id)["application"]
    assert after["updatedAt"] > after["createdAt"]
    # The transition is stamped at its due time, not when it was observed.
    assert (after["updatedAt"] - after["createdAt"]).total_seconds() == pytest.approx(0.5, abs=0.002)


def test_list_applications_filters_and_paginates(emr):
    ids = [create_app(emr, wait=None, name=f"app-{i}") for i in range(7)]
    started = started_app(emr, name="started")
    pages, token = [], None
    while True:
        kwargs = {"maxResults": 3, "states": ["CREATING", "CREATED"]}
        if token:
            kwargs["nextToken"] = token
        page = emr.list_applications(**kwargs)
        pages.append([a["id"] for a in page["applications"]])
        token = page.get("nextToken")
        if not token:
            break
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [i for p in pages for i in p] == ids
    assert [a["id"] for a in emr.list_applications(states=["STARTED"])["applications"]] == [started]
    paginator = emr.get_paginator("list_applications")
    assert sum(len(p["applications"]) for p in paginator.paginate(PaginationConfig={"PageSize": 2})) == 8
    assert len(emr.list_applications(maxResults=50)["applications"]) == 8


@pytest.mark.parametrize(
    "fields",
    [
        {"imageConfiguration": {"imageUri": "{image}"}},
        {"workerTypeSpecifications": {"Driver": {"imageConfiguration": {"imageUri": "{image}"}}}},
        {"imageConfiguration": {}},
    ],
)
def test_image_updates_on_a_started_application_need_no_pre_initialized_capacity(aws, emr, fields):
    # User guide, "Updating running applications": "Custom image updates on
    # running applications are not supported on applications with
    # pre-initialized capacity configured."
    import json

    from conftest import pull_policy, push_image

    image, _ = push_image(aws, "live", "v1")
    image2, _ = push_image(aws, "live", "v2")
    fields = json.loads(json.dumps(fields).replace("{image}", image2))
    with_capacity = create_app(emr, imageConfiguration={"imageUri": image, "applicationLevelDigestResolution": True},
                               initialCapacity={"DRIVER": {"workerCount": 1}})
    without = create_app(emr, imageConfiguration={"imageUri": image, "applicationLevelDigestResolution": True})
    arns = [emr.get_application(applicationId=a)["application"]["arn"] for a in (with_capacity, without)]
    aws("ecr").set_repository_policy(repositoryName="live", policyText=pull_policy(*arns))
    for app_id in (with_capacity, without):
        emr.start_application(applicationId=app_id)
        wait_state(emr, app_id, "STARTED")

    before = emr.get_application(applicationId=with_capacity)["application"]
    message = refused(emr, lambda: emr.update_application(applicationId=with_capacity, clientToken="t", **fields))
    assert "pre-initialized capacity" in message
    assert emr.get_application(applicationId=with_capacity)["application"] == before
    app = emr.update_application(applicationId=without, clientToken="t", **fields)["application"]
    assert app["state"] == "STARTED"


def test_maximum_capacity_on_a_started_application_with_pre_initialized_capacity_is_live(emr):
    app_id = started_app(emr, initialCapacity={"DRIVER": {"workerCount": 1}})
    app = emr.update_application(applicationId=app_id, clientToken="t", maximumCapacity={"cpu": "8", "memory": "32"})["application"]
    assert app["state"] == "STARTED" and app["maximumCapacity"] == {"cpu": "8 vCPU", "memory": "32 GB"}
