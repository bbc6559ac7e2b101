"""UpdateApplication is PATCH: untouched fields stay, and each clearing form clears."""

from __future__ import annotations

import time

import pytest
from conftest import create_app, error_of, pull_policy, push_image, wait_state

INSTANCE = "arn:aws:sso:::instance/ssoins-1234567890abcdef"
OTHER_INSTANCE = "arn:aws:sso:::instance/ssoins-abcdef1234567890"


def get(emr, app_id):
    return emr.get_application(applicationId=app_id)["application"]


def update(emr, app_id, **fields):
    return emr.update_application(applicationId=app_id, **fields)["application"]


@pytest.fixture
def rich_app(aws, emr):
    image, _ = push_image(aws, "spark", "v1")
    app_id = create_app(
        emr,
        releaseLabel="emr-7.2.0",
        initialCapacity={"DRIVER": {"workerCount": 1, "workerConfiguration": {"cpu": "2", "memory": "4"}}},
        maximumCapacity={"cpu": "100", "memory": "400"},
        networkConfiguration={"subnetIds": ["subnet-1"], "securityGroupIds": ["sg-1"]},
        imageConfiguration={"imageUri": image},
        workerTypeSpecifications={
            "Driver": {"imageConfiguration": {"imageUri": image}},
            "Executor": {"imageConfiguration": {"imageUri": image}},
        },
        runtimeConfiguration=[{"classification": "spark-defaults", "properties": {"a": "b"}}],
        monitoringConfiguration={
            "s3MonitoringConfiguration": {"logUri": "s3://logs/"},
            "managedPersistenceMonitoringConfiguration": {"enabled": False},
            "cloudWatchLoggingConfiguration": {"enabled": True, "logGroupName": "/emr"},
            "prometheusMonitoringConfiguration": {
                "remoteWriteUrl": "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write"
            },
        },
        interactiveConfiguration={"studioEnabled": True, "livyEndpointEnabled": True},
        schedulerConfiguration={"maxConcurrentRuns": 3, "queueTimeoutMinutes": 30},
        diskEncryptionConfiguration={"encryptionKeyArn": "arn:aws:kms:us-east-1:111122223333:key/k1"},
        identityCenterConfiguration={"identityCenterInstanceArn": INSTANCE},
        jobLevelCostAllocationConfiguration={"enabled": True},
        autoStartConfiguration={"enabled": False},
        autoStopConfiguration={"enabled": False, "idleTimeoutMinutes": 99},
    )
    return app_id


def test_an_update_changes_only_the_fields_it_sends(emr, rich_app):
    before = get(emr, rich_app)
    time.sleep(0.01)
    after = update(emr, rich_app, clientToken="t1", maximumCapacity={"cpu": "200vCPU", "memory": "800GB"})
    assert after["maximumCapacity"] == {"cpu": "200 vCPU", "memory": "800 GB"}
    assert after["updatedAt"] > before["updatedAt"]
    for key in set(before) - {"maximumCapacity", "updatedAt"}:
        assert after[key] == before[key], key
    assert get(emr, rich_app) == after


def test_release_label_and_architecture_are_updatable(emr, rich_app):
    after = update(emr, rich_app, clientToken="t1", releaseLabel="emr-7.1.0", architecture="ARM64")
    assert after["releaseLabel"] == "emr-7.1.0"
    assert after["architecture"] == "ARM64"


@pytest.mark.parametrize(
    "field, clearing, expected",
    [
        ("initialCapacity", {}, None),
        ("networkConfiguration", {"subnetIds": [], "securityGroupIds": []}, None),
        ("imageConfiguration", {}, None),
        ("runtimeConfiguration", [], None),
        ("schedulerConfiguration", {}, None),
        ("diskEncryptionConfiguration", {}, None),
        ("identityCenterConfiguration", {}, None),
        ("jobLevelCostAllocationConfiguration", {"enabled": False}, {"enabled": False}),
        ("interactiveConfiguration",
         {"studioEnabled": False, "livyEndpointEnabled": False, "sessionEnabled": False},
         {"studioEnabled": False, "livyEndpointEnabled": False, "sessionEnabled": False}),
        ("autoStartConfiguration", {"enabled": True}, {"enabled": True}),
        ("autoStopConfiguration", {"enabled": True, "idleTimeoutMinutes": 15}, {"enabled": True, "idleTimeoutMinutes": 15}),
    ],
)
def test_each_clearing_form_clears(emr, rich_app, field, clearing, expected):
    after = update(emr, rich_app, clientToken="t-clear", **{field: clearing})
    assert after.get(field) == expected
    assert get(emr, rich_app).get(field) == expected


def test_worker_type_images_are_removed_one_type_at_a_time(emr, rich_app):
    after = update(emr, rich_app, clientToken="t1", workerTypeSpecifications={"Executor": {"imageConfiguration": {}}})
    assert set(after["workerTypeSpecifications"]) == {"Driver"}
    after = update(emr, rich_app, clientToken="t2", workerTypeSpecifications={"Driver": {}})
    assert "workerTypeSpecifications" not in after


def test_a_partial_worker_type_map_leaves_the_other_types_alone(aws, emr, rich_app):
    # The model says the map "must contain all valid worker types"; nothing
    # public shows a partial map refused, so the emulator merges it.
    image2, _ = push_image(aws, "spark", "v2")
    after = update(emr, rich_app, clientToken="t1", workerTypeSpecifications={"Driver": {"imageConfiguration": {"imageUri": image2}}})
    assert after["workerTypeSpecifications"]["Driver"]["imageConfiguration"]["imageUri"] == image2
    assert after["workerTypeSpecifications"]["Executor"] == get(emr, rich_app)["workerTypeSpecifications"]["Executor"]


@pytest.mark.parametrize(
    "fields, path",
    [
        ({"imageConfiguration": {"imageUri": ""}}, "imageConfiguration.imageUri"),
        ({"workerTypeSpecifications": {"Executor": {"imageConfiguration": {"imageUri": ""}}}},
         "workerTypeSpecifications.Executor.member.imageConfiguration.imageUri"),
    ],
)
def test_an_empty_image_uri_is_refused_and_changes_nothing(emr, rich_app, fields, path):
    # ImageUri has min length 1 in the model.
    before = get(emr, rich_app)
    with pytest.raises(emr.exceptions.ValidationException) as excinfo:
        update(emr, rich_app, clientToken="t1", **fields)
    message = error_of(excinfo)[2]
    assert message.startswith(
        f"2 validation errors detected: Value '' at '{path}' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1; "
    )
    assert get(emr, rich_app) == before


def test_monitoring_is_merged_per_sub_configuration(emr, rich_app):
    after = update(emr, rich_app, clientToken="t1", monitoringConfiguration={"s3MonitoringConfiguration": {"logUri": "s3://other/"}})
    monitoring = after["monitoringConfiguration"]
    assert monitoring["s3MonitoringConfiguration"] == {"logUri": "s3://other/"}
    assert monitoring["cloudWatchLoggingConfiguration"] == {"enabled": True, "logGroupName": "/emr"}
    assert monitoring["managedPersistenceMonitoringConfiguration"] == {"enabled": False}
    assert "prometheusMonitoringConfiguration" in monitoring


def test_monitoring_clearing_forms(emr, rich_app):
    after = update(emr, rich_app, clientToken="t1", monitoringConfiguration={
        "s3MonitoringConfiguration": {},
        "managedPersistenceMonitoringConfiguration": {"enabled": True},
        "cloudWatchLoggingConfiguration": {"enabled": False},
        "prometheusMonitoringConfiguration": {},
    })
    assert after["monitoringConfiguration"] == {
        "managedPersistenceMonitoringConfiguration": {"enabled": True},
        "cloudWatchLoggingConfiguration": {"enabled": False},
    }
    after = update(emr, rich_app, clientToken="t2", monitoringConfiguration={"managedPersistenceMonitoringConfiguration": {}})
    assert after["monitoringConfiguration"] == {"cloudWatchLoggingConfiguration": {"enabled": False}}


def test_initial_capacity_is_replaced_as_a_whole(emr, rich_app):
    after = update(emr, rich_app, clientToken="t1", initialCapacity={"EXECUTOR": {"workerCount": 4}})
    assert after["initialCapacity"] == {"EXECUTOR": {"workerCount": 4}}


def test_runtime_configuration_is_replaced_as_a_whole(emr, rich_app):
    new = [{"classification": "spark-defaults", "properties": {"x": "y"}}, {"classification": "hive-site", "properties": {}}]
    assert update(emr, rich_app, clientToken="t1", runtimeConfiguration=new)["runtimeConfiguration"] == new


def test_network_configuration_is_replaced_as_a_block(emr, rich_app):
    after = update(emr, rich_app, clientToken="t1", networkConfiguration={"subnetIds": ["subnet-9"]})
    assert after["networkConfiguration"] == {"subnetIds": ["subnet-9"]}


def test_scheduler_update_in_created_state_fills_defaults(emr, rich_app):
    after = update(emr, rich_app, clientToken="t1", schedulerConfiguration={"maxConcurrentRuns": 7})
    assert after["schedulerConfiguration"] == {"maxConcurrentRuns": 7, "queueTimeoutMinutes": 360}


def test_identity_center_application_arn_survives_updates_of_the_same_instance(emr, rich_app):
    first = get(emr, rich_app)["identityCenterConfiguration"]["identityCenterApplicationArn"]
    after = update(emr, rich_app, clientToken="t1",
                   identityCenterConfiguration={"identityCenterInstanceArn": INSTANCE, "userBackgroundSessionsEnabled": False})
    assert after["identityCenterConfiguration"] == {
        "identityCenterInstanceArn": INSTANCE,
        "identityCenterApplicationArn": first,
        "userBackgroundSessionsEnabled": False,
    }
    after = update(emr, rich_app, clientToken="t2", identityCenterConfiguration={"identityCenterInstanceArn": OTHER_INSTANCE})
    assert after["identityCenterConfiguration"]["identityCenterApplicationArn"] != first
    assert "ssoins-abcdef1234567890" in after["identityCenterConfiguration"]["identityCenterApplicationArn"]


def test_release_gates_are_not_enforced_on_update(emr, rich_app):
    # The guide's "supported from release X" statements are no evidence that
    # the API refuses older releases (and TF's acceptance tests show ARM64 on
    # emr-6.6.0 accepted), so a downgrade below them is accepted.
    after = update(emr, rich_app, clientToken="t1", releaseLabel="emr-6.8.0")
    assert after["releaseLabel"] == "emr-6.8.0"
    assert after["schedulerConfiguration"] == {"maxConcurrentRuns": 3, "queueTimeoutMinutes": 30}


def test_a_refused_update_changes_nothing(emr, rich_app):
    before = get(emr, rich_app)
    with pytest.raises(emr.exceptions.ValidationException):
        update(emr, rich_app, clientToken="t1", maximumCapacity={"cpu": "8"}, initialCapacity={"DRIVER": {"workerCount": 0}})
    with pytest.raises(emr.exceptions.ValidationException):
        update(emr, rich_app, clientToken="t2", maximumCapacity={"cpu": "8", "memory": "16"},
               initialCapacity={"DRIVER": {"workerCount": 1, "workerConfiguration": {"cpu": "3", "memory": "4"}}})
    assert get(emr, rich_app) == before


def test_resolved_image_digest_is_dropped_when_the_image_changes(aws, emr, account):
    image, digest = push_image(aws, "repo1", "v1")
    image2, digest2 = push_image(aws, "repo1", "v2")
    app_id = create_app(emr, imageConfiguration={"imageUri": image})
    app_arn = get(emr, app_id)["arn"]
    aws("ecr").set_repository_policy(repositoryName="repo1", policyText=pull_policy(app_arn))
    emr.start_application(applicationId=app_id)
    wait_state(emr, app_id, "STARTED")
    assert get(emr, app_id)["imageConfiguration"]["resolvedImageDigest"] == digest
    emr.stop_application(applicationId=app_id)
    wait_state(emr, app_id, "STOPPED")
    assert get(emr, app_id)["imageConfiguration"]["resolvedImageDigest"] == digest
    after = update(emr, app_id, clientToken="t1", imageConfiguration={"imageUri": image2})
    assert after["imageConfiguration"] == {"imageUri": image2, "applicationLevelDigestResolution": True}
    emr.start_application(applicationId=app_id)
    wait_state(emr, app_id, "STARTED")
    assert get(emr, app_id)["imageConfiguration"]["resolvedImageDigest"] == digest2


@pytest.mark.parametrize("release, resolution", [("emr-7.1.0", False), ("emr-7.14.0", None)])
def test_an_image_update_resolving_per_workload_takes_effect_at_once(aws, emr, release, resolution):
    # "EMR 7.14 and later: applicationLevelDigestResolution = false. New custom
    # images take effect for new workloads immediately."
    image, _ = push_image(aws, "live", "v1")
    image2, digest2 = push_image(aws, "live", "v2")
    block = {"imageUri": image}
    if resolution is not None:
        block["applicationLevelDigestResolution"] = resolution
    app_id = create_app(emr, releaseLabel=release, imageConfiguration=block)
    aws("ecr").set_repository_policy(repositoryName="live", policyText=pull_policy(get(emr, app_id)["arn"]))
    emr.start_application(applicationId=app_id)
    wait_state(emr, app_id, "STARTED")
    after = update(emr, app_id, clientToken="t1", imageConfiguration={"imageUri": image2, "applicationLevelDigestResolution": False})
    assert after["imageConfiguration"] == {"imageUri": image2, "applicationLevelDigestResolution": False,
                                           "resolvedImageDigest": digest2}
    assert after["state"] == "STARTED"


def test_an_image_update_resolving_at_application_start_waits_for_a_restart(aws, emr):
    # "EMR 7.13 and earlier: applicationLevelDigestResolution = true. Custom
    # images are resolved to a digest at application start; that digest is
    # used for all jobs until the application restarts."
    image, digest = push_image(aws, "live", "v1")
    image2, digest2 = push_image(aws, "live", "v2")
    app_id = create_app(emr, releaseLabel="emr-7.13.0", imageConfiguration={"imageUri": image})
    aws("ecr").set_repository_policy(repositoryName="live", policyText=pull_policy(get(emr, app_id)["arn"]))
    emr.start_application(applicationId=app_id)
    wait_state(emr, app_id, "STARTED")
    after = update(emr, app_id, clientToken="t1", imageConfiguration={"imageUri": image2})
    assert after["state"] == "STARTED"
    assert after["imageConfiguration"] == {"imageUri": image2, "applicationLevelDigestResolution": True,
                                           "resolvedImageDigest": digest}
    emr.stop_application(applicationId=app_id)
    wait_state(emr, app_id, "STOPPED")
    emr.start_application(applicationId=app_id)
    wait_state(emr, app_id, "STARTED")
    assert get(emr, app_id)["imageConfiguration"]["resolvedImageDigest"] == digest2


@pytest.mark.parametrize(
    "release, expected",
    [("emr-6.9.0", True), ("emr-7.13.0", True), ("emr-7.13.5", True), ("emr-7.14.0", False), ("emr-7.20.0", False)],
)
def test_digest_resolution_is_reported_with_the_release_default(aws, emr, release, expected):
    image, _ = push_image(aws, "img", "v1")
    app_id = create_app(emr, wait=None, releaseLabel=release, imageConfiguration={"imageUri": image},
                        workerTypeSpecifications={"Driver": {"imageConfiguration": {"imageUri": image}}})
    app = get(emr, app_id)
    assert app["imageConfiguration"] == {"imageUri": image, "applicationLevelDigestResolution": expected}
    assert app["workerTypeSpecifications"]["Driver"]["imageConfiguration"]["applicationLevelDigestResolution"] is expected
    sent = create_app(emr, wait=None, releaseLabel=release,
                      imageConfiguration={"imageUri": image, "applicationLevelDigestResolution": not expected})
    assert get(emr, sent)["imageConfiguration"]["applicationLevelDigestResolution"] is (not expected)


def test_an_image_update_on_a_started_application_without_pull_rights_changes_nothing(aws, emr):
    image, _ = push_image(aws, "live", "v1")
    other, _ = push_image(aws, "no-policy", "v1")
    app_id = create_app(emr, imageConfiguration={"imageUri": image, "applicationLevelDigestResolution": False})
    aws("ecr").set_repository_policy(repositoryName="live", policyText=pull_policy(get(emr, app_id)["arn"]))
    emr.start_application(applicationId=app_id)
    wait_state(emr, app_id, "STARTED")
    before = get(emr, app_id)
    with pytest.raises(emr.exceptions.ValidationException) as excinfo:
        update(emr, app_id, clientToken="t1", imageConfiguration={"imageUri": other, "applicationLevelDigestResolution": False})
    assert "not authorized to perform: ecr:DescribeImages" in error_of(excinfo)[2]
    assert get(emr, app_id) == before


def test_an_update_can_set_every_member_of_the_model(aws, emr):
    import botocore.loaders
    from test_applications import full_request

    image, _ = push_image(aws, "spark", "v1")
    driver, _ = push_image(aws, "spark-driver", "v2")
    request = full_request(image, driver)
    created = get(emr, emr.create_application(**request)["applicationId"])

    updatable = {k: v for k, v in request.items() if k not in ("name", "type", "tags", "clientToken")}
    model = botocore.loaders.Loader().load_service_model("emr-serverless", "service-2")
    members = set(model["shapes"]["UpdateApplicationRequest"]["members"]) - {"applicationId", "clientToken"}
    assert set(updatable) == members

    plain = create_app(emr, name="etl-full", releaseLabel="emr-6.6.0", type="SPARK")
    updated = update(emr, plain, clientToken="t-all", **updatable)
    ignored = ("applicationId", "arn", "createdAt", "updatedAt", "tags", "state", "identityCenterConfiguration")
    assert {k: v for k, v in updated.items() if k not in ignored} == {k: v for k, v in created.items() if k not in ignored}
    identity = updated["identityCenterConfiguration"]
    assert identity["identityCenterInstanceArn"] == INSTANCE and identity["identityCenterApplicationArn"]
