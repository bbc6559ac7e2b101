"""EMR Serverless input validation: one failing case per rule, each a 400
ValidationException, from the model (the front layer's validator) or from the
rules beyond it (emr.rules). test_model_validation.py pins the validator's
exact wording for every kind of constraint and protocol.

The botocore clients here skip client-side validation, so every case reaches
the server, as it would from the Rust SDK (which checks no ranges).
"""

from __future__ import annotations

import json

import pytest
from conftest import create_app, error_of, push_image, raw_request

BASE = {"name": "v", "releaseLabel": "emr-7.1.0", "type": "SPARK"}


def worker(cpu="2", memory="4", **extra):
    return {"DRIVER": {"workerCount": 1, "workerConfiguration": {"cpu": cpu, "memory": memory, **extra}}}


PROMETHEUS = {"prometheusMonitoringConfiguration": {
    "remoteWriteUrl": "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write"}}
IMAGE = "{account}.dkr.ecr.us-east-1.amazonaws.com/img:v1"

CASES = [
    # (id, fields over BASE, fragment of the message)
    ("name pattern", {"name": "bad name!"}, "at 'name'"),
    ("name length", {"name": "n" * 65}, "length less than or equal to 64"),
    ("name empty", {"name": ""}, "at 'name'"),
    ("release label form", {"releaseLabel": "emr-7.1"}, "emr-<major>.<minor>.<patch>"),
    ("release label pattern", {"releaseLabel": "emr 7.1.0"}, "at 'releaseLabel'"),
    ("release label length", {"releaseLabel": "emr-" + "1" * 61}, "at 'releaseLabel'"),
    ("release label too old", {"releaseLabel": "emr-5.36.0"}, "emr-6.6.0"),
    ("release label missing", {"releaseLabel": None}, "at 'releaseLabel'"),
    ("type unknown", {"type": "FLINK"}, "Unsupported engine FLINK"),
    ("type missing", {"type": None}, "at 'type'"),
    ("architecture enum", {"architecture": "BOGUS"}, "enum value set"),
    ("cpu pattern", {"initialCapacity": worker(cpu="banana")}, "at 'initialCapacity.DRIVER.member.workerConfiguration.cpu'"),
    ("memory pattern", {"initialCapacity": worker(memory="4 TB")}, "workerConfiguration.memory"),
    ("disk needs a unit", {"initialCapacity": worker(disk="20")}, "workerConfiguration.disk"),
    ("disk type pattern", {"initialCapacity": worker(diskType="FAST")}, "workerConfiguration.diskType"),
    ("worker count zero", {"initialCapacity": {"DRIVER": {"workerCount": 0}}}, "greater than or equal to 1"),
    ("worker count too big", {"initialCapacity": {"DRIVER": {"workerCount": 1_000_001}}}, "less than or equal to 1000000"),
    ("worker count missing", {"initialCapacity": {"DRIVER": {}}}, "workerCount"),
    ("too many initial capacity entries", {"initialCapacity": {f"W{chr(65 + i)}x": {"workerCount": 1} for i in range(11)}}, "less than or equal to 10"),
    ("idle timeout zero", {"autoStopConfiguration": {"idleTimeoutMinutes": 0}}, "greater than or equal to 1"),
    ("idle timeout too big", {"autoStopConfiguration": {"idleTimeoutMinutes": 10081}}, "less than or equal to 10080"),
    ("max concurrent runs zero", {"schedulerConfiguration": {"maxConcurrentRuns": 0}},
     "Value '0' at 'schedulerConfiguration.maxConcurrentRuns' failed to satisfy constraint: Member must have value greater than or equal to 1"),
    ("max concurrent runs too big", {"schedulerConfiguration": {"maxConcurrentRuns": 1001}},
     "at 'schedulerConfiguration.maxConcurrentRuns' failed to satisfy constraint: Member must have value less than or equal to 1000"),
    ("queue timeout too small", {"schedulerConfiguration": {"queueTimeoutMinutes": 14}},
     "at 'schedulerConfiguration.queueTimeoutMinutes' failed to satisfy constraint: Member must have value greater than or equal to 15"),
    ("queue timeout too big", {"schedulerConfiguration": {"queueTimeoutMinutes": 721}},
     "at 'schedulerConfiguration.queueTimeoutMinutes' failed to satisfy constraint: Member must have value less than or equal to 720"),
    ("too many subnets", {"networkConfiguration": {"subnetIds": [f"subnet-{i}" for i in range(17)]}}, "less than or equal to 16"),
    ("too many security groups", {"networkConfiguration": {"securityGroupIds": [f"sg-{i}" for i in range(6)]}}, "less than or equal to 5"),
    ("too many runtime configurations", {"runtimeConfiguration": [{"classification": f"c{i}"} for i in range(101)]}, "less than or equal to 100"),
    ("runtime classification missing", {"runtimeConfiguration": [{"properties": {}}]}, "classification"),
    ("maximum capacity needs memory", {"maximumCapacity": {"cpu": "4"}}, "maximumCapacity.memory"),
    ("maximum capacity cpu pattern", {"maximumCapacity": {"cpu": "0", "memory": "4"}}, "maximumCapacity.cpu"),
    ("too many tags", {"tags": {f"k{i}": "v" for i in range(51)}}, "at most 50 user tags"),
    ("tag key too long", {"tags": {"k" * 129: "v"}}, "less than or equal to 128"),
    ("tag value too long", {"tags": {"k": "v" * 257}}, "less than or equal to 256"),
    ("tag key characters", {"tags": {"a#b": "v"}}, "regular expression"),
    ("tag key empty", {"tags": {"": "v"}}, "greater than or equal to 1"),
    ("tag key aws prefix", {"tags": {"aws:owner": "v"}}, "aws: prefix"),
    ("tag key aws prefix any case", {"tags": {"AWS:Owner": "v"}}, "aws: prefix"),
    ("tag value aws prefix", {"tags": {"owner": "Aws:x"}}, "aws: prefix"),
    ("client token pattern", {"clientToken": "bad token!"}, "at 'clientToken'"),
    ("spark worker type", {"initialCapacity": {"TEZ_TASK": {"workerCount": 1}}}, "Worker type TEZ_TASK"),
    ("hive worker type", {"type": "HIVE", "initialCapacity": {"EXECUTOR": {"workerCount": 1}}}, "Worker type EXECUTOR"),
    ("spark worker type specification", {"workerTypeSpecifications": {"TezTask": {"imageConfiguration": {"imageUri": IMAGE}}}}, "Worker type TezTask"),
    ("hive worker type specification", {"type": "HIVE", "workerTypeSpecifications": {"Driver": {"imageConfiguration": {"imageUri": IMAGE}}}}, "Worker type Driver"),
    ("prometheus url pattern", {"monitoringConfiguration": {"prometheusMonitoringConfiguration": {"remoteWriteUrl": "http://example.com"}}}, "remoteWriteUrl"),
    ("cloudwatch enabled missing", {"monitoringConfiguration": {"cloudWatchLoggingConfiguration": {"logGroupName": "/x"}}}, "enabled"),
    ("kms key arn pattern", {"monitoringConfiguration": {"s3MonitoringConfiguration": {"logUri": "s3://x/", "encryptionKeyArn": "not-an-arn"}}}, "encryptionKeyArn"),
    ("cpu size", {"initialCapacity": worker(cpu="3", memory="6")}, "3 vCPU is not supported"),
    ("memory above range", {"initialCapacity": worker(cpu="4", memory="31")}, "31 GB of memory is not supported with 4 vCPU"),
    ("memory below range", {"initialCapacity": worker(cpu="1", memory="1")}, "1 GB of memory is not supported with 1 vCPU"),
    ("memory step 4", {"initialCapacity": worker(cpu="8", memory="18")}, "4 GB increments"),
    ("memory step 8", {"initialCapacity": worker(cpu="16", memory="36")}, "8 GB increments"),
    ("one vcpu too much memory", {"initialCapacity": worker(cpu="1", memory="9")}, "with 1 vCPU"),
    ("disk too small", {"initialCapacity": worker(disk="19GB")}, "19 GB of STANDARD disk"),
    ("disk too big", {"initialCapacity": worker(disk="201GB")}, "201 GB of STANDARD disk"),
    ("shuffle disk too big", {"initialCapacity": worker(disk="2001GB", diskType="SHUFFLE_OPTIMIZED")}, "2001 GB of SHUFFLE_OPTIMIZED disk"),
    ("image uri pattern", {"imageConfiguration": {"imageUri": "docker.io/library/spark:latest"}}, "imageUri"),
    ("image uri empty", {"imageConfiguration": {"imageUri": ""}},
     "Value '' at 'imageConfiguration.imageUri' failed to satisfy constraint: Member must have length greater than or equal to 1"),
    ("image uri missing on create", {"imageConfiguration": {}},
     "Value null at 'imageConfiguration.imageUri' failed to satisfy constraint: Member must not be null"),
    ("worker image uri missing on create", {"workerTypeSpecifications": {"Driver": {}}},
     "Value null at 'workerTypeSpecifications.Driver.member.imageConfiguration.imageUri'"),
    ("identity center arn pattern", {"identityCenterConfiguration": {"identityCenterInstanceArn": "arn:aws:sso:::instance/bad"}}, "identityCenterInstanceArn"),
]


@pytest.mark.parametrize("fields, fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_create_is_refused(emr, account, fields, fragment):
    # Image URIs name the test account's registry.
    fields = json.loads(json.dumps(fields).replace("{account}", account))
    request = {k: v for k, v in {**BASE, **fields}.items() if v is not None}
    with pytest.raises(emr.exceptions.ValidationException) as excinfo:
        emr.create_application(**request)
    status, code, message = error_of(excinfo)
    assert (status, code) == (400, "ValidationException")
    assert fragment in message, message
    assert emr.list_applications()["applications"] == []


@pytest.mark.parametrize(
    "cpu, memory, disk, disk_type, release",
    [
        ("4", "30", "200GB", None, "emr-6.6.0"),
        ("16", "120", None, None, "emr-6.6.0"),
        ("8", "60", None, None, "emr-6.6.0"),
        ("16", "40", None, None, "emr-6.6.0"),
        ("1", "2", "20GB", None, "emr-6.6.0"),
        ("2", "16", "20GB", "SHUFFLE_OPTIMIZED", "emr-7.1.0"),
        ("4", "8", "2000GB", "SHUFFLE_OPTIMIZED", "emr-7.1.0"),
    ],
)
def test_valid_worker_sizes_are_accepted(emr, cpu, memory, disk, disk_type, release):
    extra = {}
    if disk:
        extra["disk"] = disk
    if disk_type:
        extra["diskType"] = disk_type
    create_app(emr, wait=None, releaseLabel=release, initialCapacity=worker(cpu=cpu, memory=memory, **extra))


@pytest.mark.parametrize(
    "fields",
    [
        {"releaseLabel": "emr-6.6.0", "architecture": "ARM64"},
        {"releaseLabel": "emr-6.8.0", "imageConfiguration": {"imageUri": IMAGE}},
        {"releaseLabel": "emr-6.8.0", "workerTypeSpecifications": {"Driver": {"imageConfiguration": {"imageUri": IMAGE}}}},
        {"releaseLabel": "emr-6.13.0", "interactiveConfiguration": {"livyEndpointEnabled": True}},
        {"type": "HIVE", "interactiveConfiguration": {"studioEnabled": True}},
        {"releaseLabel": "emr-6.15.0", "schedulerConfiguration": {"maxConcurrentRuns": 5}},
        {"releaseLabel": "emr-7.0.0", "initialCapacity": worker(diskType="SHUFFLE_OPTIMIZED", disk="500GB")},
        {"releaseLabel": "emr-7.0.0", "monitoringConfiguration": PROMETHEUS},
        {"type": "HIVE", "monitoringConfiguration": PROMETHEUS},
        {"releaseLabel": "emr-7.12.0", "interactiveConfiguration": {"sessionEnabled": True}},
    ],
)
def test_release_and_engine_gates_are_not_enforced(aws, emr, account, fields):
    # The user guide's "supported from release X" and "Spark only" statements
    # are no evidence that the API refuses the rest; for ARM64 there is
    # evidence that it accepts (terraform-provider-aws's
    # TestAccEMRServerlessApplication_arch, ARM64 on emr-6.6.0 against AWS).
    push_image(aws, "img", "v1")
    fields = json.loads(json.dumps(fields).replace("{account}", account))
    app_id = create_app(emr, wait=None, **{**BASE, **fields})
    app = emr.get_application(applicationId=app_id)["application"]
    for key in set(fields) - {"type", "releaseLabel", "initialCapacity"}:
        assert key in app, key


def test_update_is_validated_too(emr):
    app_id = create_app(emr)
    for fields in (
        {"initialCapacity": {"DRIVER": {"workerCount": 0}}},
        {"autoStopConfiguration": {"idleTimeoutMinutes": 0}},
        {"releaseLabel": "emr-7"},
        {"schedulerConfiguration": {"maxConcurrentRuns": 0}},
        {"initialCapacity": {"TEZ_TASK": {"workerCount": 1}}},
        {"architecture": "BOGUS"},
        {"imageConfiguration": {"imageUri": ""}},
    ):
        with pytest.raises(emr.exceptions.ValidationException):
            emr.update_application(applicationId=app_id, clientToken="t", **fields)


def test_update_needs_a_client_token(server, account):
    emr_app = raw_request(server.port, "POST", "/applications", account=account,
                          body=b'{"releaseLabel": "emr-7.1.0", "type": "SPARK", "clientToken": "c"}')
    app_id = json.loads(emr_app[2])["applicationId"]
    status, headers, payload = raw_request(server.port, "PATCH", f"/applications/{app_id}", account=account, body=b"{}")
    assert status == 400 and headers["x-amzn-errortype"] == "ValidationException"
    assert "clientToken" in json.loads(payload)["message"]


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"maxResults": 0}, "greater than or equal to 1"),
        ({"maxResults": 51}, "less than or equal to 50"),
        ({"states": ["BOGUS"]}, "enum value set"),
        ({"nextToken": "bm90LWEtdG9rZW4="}, "pagination token"),
    ],
)
def test_list_applications_parameters_are_validated(emr, params, fragment):
    with pytest.raises(emr.exceptions.ValidationException) as excinfo:
        emr.list_applications(**params)
    assert fragment in error_of(excinfo)[2]


def test_list_job_runs_parameters_are_validated(emr):
    app_id = create_app(emr)
    for params in ({"maxResults": 0}, {"maxResults": 51}, {"states": ["DONE"]}, {"mode": "FAST"}, {"nextToken": "x-y"}):
        with pytest.raises(emr.exceptions.ValidationException):
            emr.list_job_runs(applicationId=app_id, **params)


def test_a_body_that_is_not_json_is_a_serialization_error(server, account):
    status, headers, _ = raw_request(server.port, "POST", "/applications", account=account, body=b"{not json")
    assert status == 400 and headers["x-amzn-errortype"] == "SerializationException"


def test_a_member_of_the_wrong_json_type_is_a_serialization_error(emr):
    with pytest.raises(emr.exceptions.ClientError) as excinfo:
        emr.create_application(**BASE, autoStartConfiguration={"enabled": "yes"})
    assert error_of(excinfo) == (400, "SerializationException", "STRING_VALUE can not be converted to a Boolean")
