"""CreateApplication -> GetApplication: every field, defaults, normalisation, shapes."""

from __future__ import annotations

import json
import re

import botocore.loaders
import pytest
from conftest import create_app, error_of, push_image, raw_request

INSTANCE_ARN = "arn:aws:sso:::instance/ssoins-1234567890abcdef"


def full_request(image_uri: str, driver_image: str) -> dict:
    """A CreateApplication request that sets every member of the model."""
    return {
        "name": "etl-full",
        "releaseLabel": "emr-7.2.0",
        "type": "Spark",
        "clientToken": "token-full-1",
        "initialCapacity": {
            "DRIVER": {"workerCount": 2, "workerConfiguration": {"cpu": "2vCPU", "memory": "4GB"}},
            "EXECUTOR": {
                "workerCount": 10,
                "workerConfiguration": {"cpu": "4 vcpu", "memory": "16 gb", "disk": "500GB", "diskType": "SHUFFLE_OPTIMIZED"},
            },
        },
        "maximumCapacity": {"cpu": "400vCPU", "memory": "1024GB", "disk": "1000 GB"},
        "tags": {"team": "data", "cost-center": "42", "empty": ""},
        "autoStartConfiguration": {"enabled": False},
        "autoStopConfiguration": {"enabled": True, "idleTimeoutMinutes": 30},
        "networkConfiguration": {"subnetIds": ["subnet-0a", "subnet-0b"], "securityGroupIds": ["sg-01"]},
        "architecture": "ARM64",
        "imageConfiguration": {"imageUri": image_uri, "applicationLevelDigestResolution": True},
        "workerTypeSpecifications": {"Driver": {"imageConfiguration": {"imageUri": driver_image}}},
        "runtimeConfiguration": [
            {"classification": "spark-defaults", "properties": {"spark.executor.memory": "12g"}},
            {
                "classification": "spark-env",
                "configurations": [{"classification": "export", "properties": {"PYSPARK_PYTHON": "/usr/bin/python3"}}],
            },
        ],
        "monitoringConfiguration": {
            "s3MonitoringConfiguration": {
                "logUri": "s3://logs/emr/",
                "encryptionKeyArn": "arn:aws:kms:us-east-1:111122223333:key/abcd-1234",
            },
            "managedPersistenceMonitoringConfiguration": {"enabled": False},
            "cloudWatchLoggingConfiguration": {
                "enabled": True,
                "logGroupName": "/aws/emr-serverless",
                "logStreamNamePrefix": "etl",
                "encryptionKeyArn": "arn:aws:kms:us-east-1:111122223333:key/abcd-1234",
                "logTypes": {"SPARK_DRIVER": ["STDOUT", "STDERR"]},
            },
            "prometheusMonitoringConfiguration": {
                "remoteWriteUrl": "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write"
            },
        },
        "diskEncryptionConfiguration": {
            "encryptionKeyArn": "arn:aws:kms:us-east-1:111122223333:key/disk-1",
            "encryptionContext": {"purpose": "scratch"},
        },
        "interactiveConfiguration": {"studioEnabled": True, "livyEndpointEnabled": True, "sessionEnabled": False},
        "schedulerConfiguration": {"maxConcurrentRuns": 20, "queueTimeoutMinutes": 120},
        "identityCenterConfiguration": {"identityCenterInstanceArn": INSTANCE_ARN, "userBackgroundSessionsEnabled": True},
        "jobLevelCostAllocationConfiguration": {"enabled": True},
    }


def test_the_full_request_covers_every_member_of_the_model():
    model = botocore.loaders.Loader().load_service_model("emr-serverless", "service-2")
    members = set(model["shapes"]["CreateApplicationRequest"]["members"])
    assert set(full_request("u", "u")) == members


def test_every_create_field_round_trips(aws, emr, account):
    image_uri, digest = push_image(aws, "spark", "v1")
    driver_image, _ = push_image(aws, "spark-driver", "v2")
    request = full_request(image_uri, driver_image)
    created = emr.create_application(**request)
    app_id = created["applicationId"]
    assert created["name"] == "etl-full"
    assert created["arn"] == f"arn:aws:emr-serverless:us-east-1:{account}:/applications/{app_id}"

    app = emr.get_application(applicationId=app_id)["application"]
    expected = {
        "applicationId": app_id,
        "name": "etl-full",
        "arn": created["arn"],
        "releaseLabel": "emr-7.2.0",
        "type": "Spark",
        "initialCapacity": {
            "DRIVER": {"workerCount": 2, "workerConfiguration": {"cpu": "2 vCPU", "memory": "4 GB", "disk": "20 GB"}},
            "EXECUTOR": {
                "workerCount": 10,
                "workerConfiguration": {"cpu": "4 vCPU", "memory": "16 GB", "disk": "500 GB", "diskType": "SHUFFLE_OPTIMIZED"},
            },
        },
        "maximumCapacity": {"cpu": "400 vCPU", "memory": "1024 GB", "disk": "1000 GB"},
        "tags": request["tags"],
        "autoStartConfiguration": {"enabled": False},
        "autoStopConfiguration": {"enabled": True, "idleTimeoutMinutes": 30},
        "networkConfiguration": request["networkConfiguration"],
        "architecture": "ARM64",
        "imageConfiguration": {"imageUri": image_uri, "applicationLevelDigestResolution": True},
        # The driver's image did not say how its digest resolves: GetApplication
        # shows the release's default (on up to emr-7.13).
        "workerTypeSpecifications": {"Driver": {"imageConfiguration": {"imageUri": driver_image,
                                                                       "applicationLevelDigestResolution": True}}},
        "runtimeConfiguration": request["runtimeConfiguration"],
        "monitoringConfiguration": request["monitoringConfiguration"],
        "diskEncryptionConfiguration": request["diskEncryptionConfiguration"],
        "interactiveConfiguration": request["interactiveConfiguration"],
        "schedulerConfiguration": request["schedulerConfiguration"],
        "jobLevelCostAllocationConfiguration": {"enabled": True},
    }
    identity = app.pop("identityCenterConfiguration")
    assert identity["identityCenterInstanceArn"] == INSTANCE_ARN
    assert identity["userBackgroundSessionsEnabled"] is True
    assert re.fullmatch(
        rf"arn:aws:sso::{account}:application/ssoins-1234567890abcdef/apl-[a-z0-9]{{16}}",
        identity["identityCenterApplicationArn"],
    )
    for key in ("state", "createdAt", "updatedAt"):
        assert key in app
        app.pop(key)
    assert app == expected


def test_defaults_when_optional_fields_are_omitted(emr):
    created = emr.create_application(releaseLabel="emr-6.6.0", type="HIVE")
    app = emr.get_application(applicationId=created["applicationId"])["application"]
    assert "name" not in created and "name" not in app
    assert app["type"] == "Hive"
    assert app["architecture"] == "X86_64"
    assert app["autoStartConfiguration"] == {"enabled": True}
    assert app["autoStopConfiguration"] == {"enabled": True, "idleTimeoutMinutes": 15}
    assert app["tags"] == {}
    for absent in (
        "initialCapacity", "maximumCapacity", "networkConfiguration", "imageConfiguration",
        "workerTypeSpecifications", "runtimeConfiguration", "monitoringConfiguration",
        "interactiveConfiguration", "schedulerConfiguration", "diskEncryptionConfiguration",
        "identityCenterConfiguration", "jobLevelCostAllocationConfiguration", "stateDetails",
    ):
        assert absent not in app, absent


def test_partial_auto_stop_gets_defaults(emr):
    app_id = create_app(emr, wait=None, autoStopConfiguration={"enabled": False})
    app = emr.get_application(applicationId=app_id)["application"]
    assert app["autoStopConfiguration"] == {"enabled": False, "idleTimeoutMinutes": 15}
    app_id = create_app(emr, wait=None, autoStopConfiguration={"idleTimeoutMinutes": 60}, autoStartConfiguration={})
    app = emr.get_application(applicationId=app_id)["application"]
    assert app["autoStopConfiguration"] == {"enabled": True, "idleTimeoutMinutes": 60}
    assert app["autoStartConfiguration"] == {"enabled": True}


@pytest.mark.parametrize(
    "cpu, memory, disk, expected",
    [
        ("4", "16", "20GB", ("4 vCPU", "16 GB", "20 GB")),
        ("4vCPU", "16GB", "30gb", ("4 vCPU", "16 GB", "30 GB")),
        ("4 vcpu", "16 gb", "30 Gb", ("4 vCPU", "16 GB", "30 GB")),
        ("4 VCPU", "16 Gb", "200 gB", ("4 vCPU", "16 GB", "200 GB")),
        ("16vCPU", "120GB", None, ("16 vCPU", "120 GB", "20 GB")),
    ],
)
def test_capacity_strings_are_normalised(emr, cpu, memory, disk, expected):
    worker = {"cpu": cpu, "memory": memory}
    if disk:
        worker["disk"] = disk
    app_id = create_app(
        emr, wait=None,
        initialCapacity={"EXECUTOR": {"workerCount": 1, "workerConfiguration": worker}},
        maximumCapacity={"cpu": cpu, "memory": memory},
    )
    app = emr.get_application(applicationId=app_id)["application"]
    assert app["initialCapacity"]["EXECUTOR"]["workerConfiguration"] == dict(zip(("cpu", "memory", "disk"), expected))
    assert app["maximumCapacity"] == {"cpu": expected[0], "memory": expected[1]}


def test_disk_type_is_returned_upper_case(emr):
    worker = {"cpu": "2", "memory": "8", "diskType": "Shuffle_optimized", "disk": "100GB"}
    app_id = create_app(emr, wait=None, initialCapacity={"DRIVER": {"workerCount": 1, "workerConfiguration": worker}})
    got = emr.get_application(applicationId=app_id)["application"]["initialCapacity"]["DRIVER"]["workerConfiguration"]
    assert got["diskType"] == "SHUFFLE_OPTIMIZED"
    worker = {"cpu": "2", "memory": "8", "diskType": "standard"}
    app_id = create_app(emr, wait=None, initialCapacity={"DRIVER": {"workerCount": 1, "workerConfiguration": worker}})
    got = emr.get_application(applicationId=app_id)["application"]["initialCapacity"]["DRIVER"]["workerConfiguration"]
    assert got["diskType"] == "STANDARD"


def test_initial_capacity_without_worker_configuration_keeps_only_the_count(emr):
    app_id = create_app(emr, wait=None, initialCapacity={"DRIVER": {"workerCount": 3}})
    assert emr.get_application(applicationId=app_id)["application"]["initialCapacity"] == {"DRIVER": {"workerCount": 3}}


@pytest.mark.parametrize("sent, returned", [("spark", "Spark"), ("Spark", "Spark"), ("SPARK", "Spark"), ("hive", "Hive"), ("HIVE", "Hive")])
def test_type_is_accepted_in_any_case_and_returned_as_spark_or_hive(emr, sent, returned):
    app_id = create_app(emr, wait=None, type=sent)
    assert emr.get_application(applicationId=app_id)["application"]["type"] == returned
    summaries = emr.list_applications()["applications"]
    assert [s["type"] for s in summaries if s["id"] == app_id] == [returned]


def test_an_unknown_engine_is_refused(emr):
    with pytest.raises(emr.exceptions.ValidationException) as excinfo:
        create_app(emr, wait=None, type="FLINK")
    assert "FLINK" in error_of(excinfo)[2]


def test_worker_type_keys_are_matched_in_any_case_and_stored_in_a_known_spelling(aws, emr):
    image, _ = push_image(aws, "img", "v1")
    app_id = create_app(
        emr, wait=None,
        initialCapacity={"driver": {"workerCount": 1}, "EXECUTOR": {"workerCount": 2}},
        workerTypeSpecifications={"DRIVER": {"imageConfiguration": {"imageUri": image}}},
    )
    app = emr.get_application(applicationId=app_id)["application"]
    assert set(app["initialCapacity"]) == {"DRIVER", "EXECUTOR"}
    assert set(app["workerTypeSpecifications"]) == {"Driver"}
    hive_id = create_app(
        emr, wait=None, type="HIVE",
        initialCapacity={"tez_task": {"workerCount": 1}, "DRIVER": {"workerCount": 1}},
        workerTypeSpecifications={"teztask": {"imageConfiguration": {"imageUri": image}},
                                  "HIVEDRIVER": {"imageConfiguration": {"imageUri": image}}},
    )
    hive = emr.get_application(applicationId=hive_id)["application"]
    assert set(hive["initialCapacity"]) == {"DRIVER", "TEZ_TASK"}
    assert set(hive["workerTypeSpecifications"]) == {"HiveDriver", "TezTask"}


def test_hive_initial_capacity_takes_the_capitalised_worker_names_too(emr):
    # terraform-provider-aws's TestAccEMRServerlessApplication_initialCapacity
    # creates a Hive application with the key "HiveDriver" against real AWS and
    # reads it back unchanged.
    app_id = create_app(emr, wait=None, type="hive", releaseLabel="emr-6.6.0",
                        initialCapacity={"HiveDriver": {"workerCount": 1, "workerConfiguration": {"cpu": "2 vCPU", "memory": "10 GB"}}})
    app = emr.get_application(applicationId=app_id)["application"]
    assert app["initialCapacity"] == {
        "HiveDriver": {"workerCount": 1, "workerConfiguration": {"cpu": "2 vCPU", "memory": "10 GB", "disk": "20 GB"}}
    }


@pytest.mark.parametrize(
    "sent, returned",
    [
        ({"maxConcurrentRuns": 5}, {"maxConcurrentRuns": 5, "queueTimeoutMinutes": 360}),
        ({"queueTimeoutMinutes": 60}, {"maxConcurrentRuns": 15, "queueTimeoutMinutes": 60}),
        ({"maxConcurrentRuns": 1000, "queueTimeoutMinutes": 720}, {"maxConcurrentRuns": 1000, "queueTimeoutMinutes": 720}),
        ({}, None),
    ],
)
@pytest.mark.parametrize("release", ["emr-7.1.0", "emr-7.5.0"])
def test_scheduler_defaults_are_filled_in_when_the_block_is_sent(emr, sent, returned, release):
    # TF PR #44589: a missing member gets its default; `{}` turns queuing off,
    # also on a release where it is on by default.
    app_id = create_app(emr, wait=None, releaseLabel=release, schedulerConfiguration=sent)
    app = emr.get_application(applicationId=app_id)["application"]
    assert app.get("schedulerConfiguration") == returned


@pytest.mark.parametrize(
    "release, returned",
    [
        ("emr-6.6.0", None),
        ("emr-7.0.0", None),
        ("emr-7.2.0", None),
        ("emr-7.3.0", {"maxConcurrentRuns": 15, "queueTimeoutMinutes": 360}),
        ("emr-7.12.0", {"maxConcurrentRuns": 15, "queueTimeoutMinutes": 360}),
    ],
)
def test_queuing_is_on_by_default_from_emr_7_3_0(emr, release, returned):
    # User guide: "Job concurrency and queuing is enabled by default when you
    # create a new EMR Serverless application on Amazon EMR release 7.3.0 or higher."
    app_id = create_app(emr, wait=None, releaseLabel=release)
    assert emr.get_application(applicationId=app_id)["application"].get("schedulerConfiguration") == returned


def test_the_scheduler_is_accepted_before_emr_7_0_0(emr):
    # "Supported with release labels emr-7.0.0 and above" is no evidence of a
    # refusal, so the emulator stores what it is sent.
    app_id = create_app(emr, wait=None, releaseLabel="emr-6.15.0", schedulerConfiguration={"maxConcurrentRuns": 2})
    got = emr.get_application(applicationId=app_id)["application"]["schedulerConfiguration"]
    assert got == {"maxConcurrentRuns": 2, "queueTimeoutMinutes": 360}


def test_ids_arns_and_summaries(emr, account):
    app_id = create_app(emr, wait=None, architecture="ARM64")
    assert re.fullmatch(r"[0-9a-z]{16}", app_id)
    summaries = emr.list_applications()["applications"]
    assert len(summaries) == 1
    summary = summaries[0]
    assert set(summary) == {"id", "name", "arn", "releaseLabel", "type", "state", "createdAt", "updatedAt", "architecture"}
    assert summary["id"] == app_id
    assert summary["arn"] == f"arn:aws:emr-serverless:us-east-1:{account}:/applications/{app_id}"
    assert summary["architecture"] == "ARM64"
    assert summary["type"] == "Spark"


def test_timestamps_are_epoch_seconds_on_the_wire(server, account):
    body = json.dumps({"releaseLabel": "emr-7.1.0", "type": "SPARK", "clientToken": "t1"}).encode()
    status, _, payload = raw_request(server.port, "POST", "/applications", account=account, body=body)
    assert status == 200
    app_id = json.loads(payload)["applicationId"]
    status, headers, payload = raw_request(server.port, "GET", f"/applications/{app_id}", account=account)
    assert status == 200 and headers["content-type"] == "application/json"
    app = json.loads(payload)["application"]
    assert isinstance(app["createdAt"], (int, float)) and isinstance(app["updatedAt"], (int, float))
    assert app["createdAt"] > 1_600_000_000


def test_unknown_application_is_a_404_in_the_rest_json_shape(server, emr, account):
    status, headers, payload = raw_request(server.port, "GET", "/applications/00nosuchapp00000", account=account)
    assert status == 404
    assert headers["x-amzn-errortype"] == "ResourceNotFoundException"
    assert json.loads(payload) == {"message": "Application 00nosuchapp00000 does not exist"}
    with pytest.raises(emr.exceptions.ResourceNotFoundException) as excinfo:
        emr.get_application(applicationId="00nosuchapp00000")
    assert error_of(excinfo)[:2] == (404, "ResourceNotFoundException")
    for call in (
        lambda: emr.start_application(applicationId="00nosuchapp00000"),
        lambda: emr.stop_application(applicationId="00nosuchapp00000"),
        lambda: emr.delete_application(applicationId="00nosuchapp00000"),
        lambda: emr.update_application(applicationId="00nosuchapp00000", clientToken="x"),
    ):
        with pytest.raises(emr.exceptions.ResourceNotFoundException):
            call()


def test_a_malformed_application_id_is_a_validation_error(emr):
    with pytest.raises(emr.exceptions.ValidationException) as excinfo:
        emr.get_application(applicationId="BAD_ID!")
    assert error_of(excinfo)[:2] == (400, "ValidationException")


def test_unimplemented_operations_say_so(server, account):
    path = "/applications/00abc/dashboard?resourceId=00def&resourceType=SESSION"
    status, headers, payload = raw_request(server.port, "GET", path, account=account)
    assert status == 501
    assert headers["x-amzn-errortype"] == "NotImplementedException"
    assert "GetResourceDashboard" in json.loads(payload)["message"]
