"""The request validator generated from the botocore models (emulator.validation).

Every kind of constraint is refused with the service's exact answer and its
edge value passes, for each protocol: rest-json (EMR Serverless), query (IAM,
STS), json (ECR) and ec2 (EC2). The requests go over the wire from boto3 with
client-side validation off, as the Rust SDK sends them (it checks no ranges).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import botocore.session
import pytest
from botocore.model import ServiceModel
from botocore.serialize import create_serializer
from conftest import create_app, error_of, raw_request

from emulator import validation
from emulator.validation import check, patterns, wire

BASE = {"releaseLabel": "emr-7.1.0", "type": "SPARK"}
IMAGE_PATTERN = (
    r"([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+).([a-z0-9._-]+)\/((?:[a-z0-9]+(?:[-._][a-z0-9]+)*/)*[a-z0-9]+"
    r"(?:[-._][a-z0-9]+)*)(?::([a-zA-Z0-9_]+[a-zA-Z0-9-._]*)|@(sha256:[0-9a-f]{64}))"
)


def refused(client, call, code="ValidationException") -> str:
    with pytest.raises(client.exceptions.ClientError) as excinfo:
        call()
    status, got_code, message = error_of(excinfo)
    assert (status, got_code) == (400, code), message
    return message


def one(path: str, value: str | None, constraint: str, echo: bool = True) -> str:
    head = "Value null" if value is None else f"Value '{value}'" if echo else "Value"
    return f"1 validation error detected: {head} at '{path}' failed to satisfy constraint: {constraint}"


def iam(path: str, value: str | None, constraint: str) -> str:
    # IAM no longer quotes the value (aws/eks-hybrid #113, 2024).
    return one(path, value, constraint, echo=False)


# --- EMR Serverless: rest-json ----------------------------------------------------------


def test_an_empty_image_uri_breaks_min_length_and_pattern(emr):
    message = refused(emr, lambda: emr.create_application(**BASE, imageConfiguration={"imageUri": ""}))
    assert message == (
        "2 validation errors detected: "
        "Value '' at 'imageConfiguration.imageUri' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1; "
        "Value '' at 'imageConfiguration.imageUri' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {IMAGE_PATTERN}"
    )


def test_an_empty_worker_image_uri_is_named_by_its_map_entry(emr):
    message = refused(emr, lambda: emr.create_application(
        **BASE, workerTypeSpecifications={"Driver": {"imageConfiguration": {"imageUri": ""}}}))
    assert message.startswith(
        "2 validation errors detected: Value '' at 'workerTypeSpecifications.Driver.member.imageConfiguration.imageUri' "
        "failed to satisfy constraint: Member must have length greater than or equal to 1; "
    )


def test_an_unknown_enum_value(emr):
    message = refused(emr, lambda: emr.create_application(**BASE, architecture="RISCV"))
    assert message == one("architecture", "RISCV", "Member must satisfy enum value set: [ARM64, X86_64]")
    create_app(emr, wait=None, architecture="ARM64")


def test_a_name_over_its_maximum_length(emr):
    message = refused(emr, lambda: emr.create_application(**BASE, name="n" * 65))
    assert message == one("name", "n" * 65, "Member must have length less than or equal to 64")
    create_app(emr, wait=None, name="n" * 64)


def test_a_name_under_its_minimum_length_breaks_its_pattern_too(emr):
    message = refused(emr, lambda: emr.create_application(**BASE, name=""))
    assert message == (
        "2 validation errors detected: "
        "Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1; "
        "Value '' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [A-Za-z0-9._/#-]+"
    )
    create_app(emr, wait=None, name="a")


def test_a_pattern(emr):
    message = refused(emr, lambda: emr.create_application(**BASE, name="etl job"))
    assert message == one("name", "etl job", "Member must satisfy regular expression pattern: [A-Za-z0-9._/#-]+")
    create_app(emr, wait=None, name="etl/job_#1-a.b")


def test_a_missing_required_member(server, account):
    body = json.dumps({"type": "SPARK", "clientToken": "t"}).encode()
    status, headers, payload = raw_request(server.port, "POST", "/applications", account=account, body=body)
    assert status == 400 and headers["x-amzn-errortype"] == "ValidationException"
    assert json.loads(payload) == {
        "message": one("releaseLabel", None, "Member must not be null")
    }


def test_json_null_is_a_missing_member(server, account):
    body = json.dumps({"releaseLabel": None, "type": "SPARK", "clientToken": "t"}).encode()
    status, _, payload = raw_request(server.port, "POST", "/applications", account=account, body=body)
    assert status == 400 and json.loads(payload)["message"] == one("releaseLabel", None, "Member must not be null")


def test_numeric_ranges_inside_a_map_of_structures(emr):
    message = refused(emr, lambda: emr.create_application(**BASE, initialCapacity={"DRIVER": {"workerCount": 0}}))
    assert message == one("initialCapacity.DRIVER.member.workerCount", "0", "Member must have value greater than or equal to 1")
    message = refused(emr, lambda: emr.create_application(**BASE, initialCapacity={"DRIVER": {"workerCount": 1_000_001}}))
    assert message == one("initialCapacity.DRIVER.member.workerCount", "1000001",
                          "Member must have value less than or equal to 1000000")
    create_app(emr, wait=None, initialCapacity={"DRIVER": {"workerCount": 1}, "EXECUTOR": {"workerCount": 1_000_000}})


def test_map_keys_against_the_key_shape(emr):
    message = refused(emr, lambda: emr.create_application(**BASE, initialCapacity={"DRIVER_": {"workerCount": 1}}))
    assert message == one(
        "initialCapacity", "{DRIVER_={workerCount=1}}",
        "Map keys must satisfy constraint: [Member must have length less than or equal to 50, "
        "Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: "
        "[a-zA-Z]+[-_]*[a-zA-Z]+]",
    )


def test_map_values_against_the_value_shape(emr):
    message = refused(emr, lambda: emr.create_application(**BASE, tags={"team": "a" * 257}))
    assert message == one(
        "tags", "{team=" + "a" * 257 + "}",
        "Map value must satisfy constraint: [Member must have length less than or equal to 256, "
        "Member must have length greater than or equal to 0, Member must satisfy regular expression pattern: "
        "[A-Za-z0-9 /_.:=+@-]*]",
    )
    create_app(emr, wait=None, tags={"team": "a" * 256, "empty": ""})


def test_map_and_list_sizes(emr):
    log_types = {"SPARK_DRIVER": ["STDOUT"], "SPARK_EXECUTOR": ["STDOUT"], "HIVE_DRIVER": ["STDOUT"], "TEZ_TASK": ["STDOUT"]}
    monitoring = {"cloudWatchLoggingConfiguration": {"enabled": True, "logTypes": {**log_types, "EXTRA": ["STDOUT"]}}}
    message = refused(emr, lambda: emr.create_application(**BASE, monitoringConfiguration=monitoring))
    assert message.endswith(
        "at 'monitoringConfiguration.cloudWatchLoggingConfiguration.logTypes' failed to satisfy constraint: "
        "Member must have length less than or equal to 4"
    )
    create_app(emr, wait=None, monitoringConfiguration={"cloudWatchLoggingConfiguration": {"enabled": True, "logTypes": log_types}})
    subnets = [f"subnet-{i}" for i in range(17)]
    message = refused(emr, lambda: emr.create_application(**BASE, networkConfiguration={"subnetIds": subnets}))
    assert message == one("networkConfiguration.subnetIds", "[" + ", ".join(subnets) + "]",
                          "Member must have length less than or equal to 16")
    create_app(emr, wait=None, networkConfiguration={"subnetIds": subnets[:16]})


def test_a_list_of_scalars_breaking_its_member_constraints(emr):
    message = refused(emr, lambda: emr.list_applications(states=["CREATED", "RUNNING"]))
    assert message == one(
        "states", "[CREATED, RUNNING]",
        "Member must satisfy constraint: [Member must satisfy enum value set: "
        "[CREATING, CREATED, STARTING, STARTED, STOPPING, STOPPED, TERMINATED]]",
    )
    emr.list_applications(states=["CREATED", "TERMINATED"])


def test_query_string_members(emr):
    message = refused(emr, lambda: emr.list_applications(maxResults=51))
    assert message == one("maxResults", "51", "Member must have value less than or equal to 50")
    message = refused(emr, lambda: emr.list_applications(maxResults=0))
    assert message == one("maxResults", "0", "Member must have value greater than or equal to 1")
    emr.list_applications(maxResults=50)
    emr.list_applications(maxResults=1)


def test_path_labels(emr):
    message = refused(emr, lambda: emr.get_application(applicationId="BAD_ID"))
    assert message == one("applicationId", "BAD_ID", "Member must satisfy regular expression pattern: [0-9a-z]+")


def test_a_sensitive_member_is_not_echoed(emr):
    runtime = [{"classification": "spark-defaults", "properties": {" ": "secret"}}]
    message = refused(emr, lambda: emr.create_application(**BASE, runtimeConfiguration=runtime))
    assert message == (
        "1 validation error detected: Value at 'runtimeConfiguration.1.member.properties' failed to satisfy constraint: "
        "Map keys must satisfy constraint: [Member must have length less than or equal to 1024, "
        "Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: .*\\S.*]"
    )
    assert "secret" not in message


def test_every_violation_is_reported_at_once_in_model_order(emr):
    message = refused(emr, lambda: emr.create_application(
        name="x y", releaseLabel="emr-7.1.0", type="SPARK", architecture="X", autoStopConfiguration={"idleTimeoutMinutes": 0}))
    assert message.startswith("3 validation errors detected: Value 'x y' at 'name'")
    # The model declares autoStopConfiguration before architecture.
    assert message.index("'autoStopConfiguration.idleTimeoutMinutes'") < message.index("'architecture'")
    assert message.count("; ") == 2


def test_a_request_the_model_allows_reaches_the_service(emr):
    # Everything at its edge at once.
    create_app(
        emr, wait=None, name="n" * 64, clientToken="t" * 64,
        initialCapacity={"DRIVER": {"workerCount": 1_000_000}},
        autoStopConfiguration={"idleTimeoutMinutes": 10080},
        networkConfiguration={"subnetIds": [f"s-{i}" for i in range(16)], "securityGroupIds": [f"g-{i}" for i in range(5)]},
    )


def test_a_wrong_json_type_is_a_serialization_error(server, emr, account):
    message = refused(emr, lambda: emr.create_application(**BASE, initialCapacity={"DRIVER": {"workerCount": "1"}}),
                      code="SerializationException")
    assert message == "STRING_VALUE can not be converted to a Long"  # workerCount is a long in the model
    body = json.dumps({**BASE, "clientToken": "t", "initialCapacity": []}).encode()
    status, headers, payload = raw_request(server.port, "POST", "/applications", account=account, body=body)
    assert (status, headers["x-amzn-errortype"]) == (400, "SerializationException")
    assert json.loads(payload) == {"message": "Start of list found where not expected."}


# --- IAM and STS: query ---------------------------------------------------------------


def query_error(excinfo) -> tuple[int, str, str]:
    response = excinfo.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


def test_iam_refuses_in_its_query_error_document(server, account):
    form = urlencode({"Action": "CreateRole", "Version": "2010-05-08", "RoleName": "r" * 65, "AssumeRolePolicyDocument": "{}"})
    status, _, payload = raw_request(server.port, "POST", "/", service="iam", account=account, body=form.encode(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    assert status == 400
    ns = {"i": "https://iam.amazonaws.com/doc/2010-05-08/"}
    error = ET.fromstring(payload).find("i:Error", ns)
    assert error.findtext("i:Type", namespaces=ns) == "Sender"
    assert error.findtext("i:Code", namespaces=ns) == "ValidationError"
    assert error.findtext("i:Message", namespaces=ns) == iam("roleName", "r" * 65, "Member must have length less than or equal to 64")


def test_iam_lengths_patterns_ranges_and_required_members(aws):
    client = aws("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    message = refused(client, lambda: client.create_role(RoleName="r" * 65, AssumeRolePolicyDocument=trust), "ValidationError")
    assert message == iam("roleName", "r" * 65, "Member must have length less than or equal to 64")
    client.create_role(RoleName="r" * 64, AssumeRolePolicyDocument=trust)
    # Java's \w is ASCII: "é" is not a word character in a role name.
    message = refused(client, lambda: client.create_role(RoleName="rôle", AssumeRolePolicyDocument=trust), "ValidationError")
    assert message == iam("roleName", "rôle", r"Member must satisfy regular expression pattern: [\w+=,.@-]+")
    client.create_role(RoleName="a+=,.@_-1", AssumeRolePolicyDocument=trust)
    for duration, bound in ((3599, "greater than or equal to 3600"), (43201, "less than or equal to 43200")):
        message = refused(client, lambda: client.create_role(RoleName="d", AssumeRolePolicyDocument=trust,
                                                             MaxSessionDuration=duration), "ValidationError")
        assert message == iam("maxSessionDuration", str(duration), f"Member must have value {bound}")
    client.create_role(RoleName="d", AssumeRolePolicyDocument=trust, MaxSessionDuration=43200)
    message = refused(client, lambda: client.create_role(RoleName="n"), "ValidationError")
    assert message == iam("assumeRolePolicyDocument", None, "Member must not be null")


def test_iam_lists_of_structures_and_unicode_properties(aws):
    client = aws("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    message = refused(client, lambda: client.create_role(RoleName="t", AssumeRolePolicyDocument=trust,
                                                         Tags=[{"Key": "ok", "Value": "v"}, {"Key": "a#b", "Value": "v"}]),
                      "ValidationError")
    assert message == iam("tags.2.member.key", "a#b", r"Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+")
    # \p{L} is any letter, not only ASCII ones.
    client.create_role(RoleName="t", AssumeRolePolicyDocument=trust, Tags=[{"Key": "équipe", "Value": "données"}])


def test_sts_refuses_as_iam_does(aws):
    sts = aws("sts")
    message = refused(sts, lambda: sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/r", RoleSessionName="s"),
                      "ValidationError")
    assert message == one("roleSessionName", "s", "Member must have length greater than or equal to 2")
    message = refused(sts, lambda: sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/r", RoleSessionName="ss",
                                                   DurationSeconds=899), "ValidationError")
    assert message == one("durationSeconds", "899", "Member must have value greater than or equal to 900")
    sts.get_caller_identity()


# --- ECR: json ------------------------------------------------------------------------


def test_ecr_refuses_with_invalid_parameter_exception(aws):
    ecr = aws("ecr")
    message = refused(ecr, lambda: ecr.create_repository(repositoryName="a"), "InvalidParameterException")
    # aws/aws-dotnet-deploy #549 quotes this answer word for word.
    assert message == "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have length greater than or equal to 2'"
    ecr.create_repository(repositoryName="ab")
    message = refused(ecr, lambda: ecr.create_repository(repositoryName="Bad_Name"), "InvalidParameterException")
    assert message == (
        "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression "
        r"'[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*''"
    )
    message = refused(ecr, lambda: ecr.describe_repositories(maxResults=1001), "InvalidParameterException")
    assert message == "Invalid parameter at 'maxResults' failed to satisfy constraint: 'must have value less than or equal to 1000'"
    ecr.describe_repositories(maxResults=1000)
    message = refused(ecr, lambda: ecr.create_repository(repositoryName="ab", imageTagMutability="SOMETIMES"),
                      "InvalidParameterException")
    assert message.startswith("Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'must satisfy enum value set: [")


def test_ecr_answers_in_the_aws_json_shape(server, account):
    body = json.dumps({"repositoryName": "a"}).encode()
    status, headers, payload = raw_request(
        server.port, "POST", "/", service="ecr", account=account, body=body,
        headers={"Content-Type": "application/x-amz-json-1.1",
                 "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.CreateRepository"},
    )
    assert status == 400 and headers["x-amzn-errortype"] == "InvalidParameterException"
    assert json.loads(payload)["__type"] == "InvalidParameterException"


# --- EC2: ec2 query ------------------------------------------------------------------


def test_ec2_ranges_enums_and_missing_parameters(aws):
    ec2 = aws("ec2")
    message = refused(ec2, lambda: ec2.describe_subnets(MaxResults=4), "InvalidParameterValue")
    assert message == "Value ( 4 ) for parameter maxResults is invalid. Expecting a value greater than 5."
    ec2.describe_subnets(MaxResults=5)
    message = refused(ec2, lambda: ec2.describe_subnets(MaxResults=1001), "InvalidParameterValue")
    assert message == "Value ( 1001 ) for parameter maxResults is invalid. Expecting a value less than or equal to 1000."
    message = refused(ec2, lambda: ec2.create_vpc(CidrBlock="10.0.0.0/16", InstanceTenancy="shared"), "InvalidParameterValue")
    assert message == "Value (shared) for parameter instanceTenancy is invalid."
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", InstanceTenancy="default")["Vpc"]["VpcId"]
    message = refused(ec2, lambda: ec2.create_security_group(GroupName="g", VpcId=vpc), "MissingParameter")
    assert message == "The request must contain the parameter GroupDescription"
    ec2.create_security_group(GroupName="g", VpcId=vpc, Description="d")


def test_ec2_answers_in_its_error_document(server, account):
    form = urlencode({"Action": "DescribeSubnets", "Version": "2016-11-15", "MaxResults": "4"})
    status, _, payload = raw_request(server.port, "POST", "/", service="ec2", account=account, body=form.encode(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    assert status == 400
    root = ET.fromstring(payload)
    assert root.tag == "Response"
    assert root.findtext("Errors/Error/Code") == "InvalidParameterValue"


# --- the validator's pieces ----------------------------------------------------------------


@pytest.mark.parametrize(
    "java, python",
    [
        (r"[\w+=,.@-]+", r"[A-Za-z0-9_+=,.@-]+"),
        (r"\d{12}", r"[0-9]{12}"),
        (r".*\S.*", r".*[^ \t\n\x0B\f\r].*"),
        (r"[\s\S]*", r"[ \t\n\x0B\f\r\S]*"),
        (r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+", r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+"),
        (r"[]a]", r"[\]a]"),
        (r"a\.b", r"a\.b"),
    ],
)
def test_java_patterns_are_rewritten_for_python(java, python):
    assert patterns.java_to_python(java) == python


def test_patterns_match_the_whole_value():
    assert patterns.matches("[0-9a-z]+", "abc1")
    assert not patterns.matches("[0-9a-z]+", "abc1!")
    assert not patterns.matches(r"[\w]+", "é")
    assert patterns.matches(r"[\p{L}]+", "é")


SYNTHETIC = {
    "version": "2.0",
    "metadata": {"apiVersion": "2020-01-01", "protocol": "json", "jsonVersion": "1.1", "targetPrefix": "Synthetic",
                 "serviceId": "Synthetic", "endpointPrefix": "synthetic", "signatureVersion": "v4"},
    "operations": {"Put": {"name": "Put", "http": {"method": "POST", "requestUri": "/"}, "input": {"shape": "PutInput"}}},
    "shapes": {
        "PutInput": {"type": "structure", "members": {
            "levels": {"shape": "LevelMap"}, "blob": {"shape": "SmallBlob"}, "ratio": {"shape": "Ratio"}}},
        "LevelMap": {"type": "map", "key": {"shape": "Level"}, "value": {"shape": "Name"}},
        "Level": {"type": "string", "enum": ["LOW", "HIGH"]},
        "Name": {"type": "string"},
        "SmallBlob": {"type": "blob", "min": 1, "max": 3},
        "Ratio": {"type": "double", "min": 0, "max": 1},
    },
}


def synthetic_violations(params):
    model = ServiceModel(SYNTHETIC, "synthetic")
    return check.Checker().input(model.operation_model("Put").input_shape, params)


def test_a_map_key_outside_its_enum():
    # No input map of the five validated models has an enum key shape, so a
    # small model of our own stands in for one.
    (violation,) = synthetic_violations({"levels": {"LOW": "a", "MEDIUM": "b"}})
    assert validation.answer.coral_item(violation) == (
        "Value '{LOW=a, MEDIUM=b}' at 'levels' failed to satisfy constraint: "
        "Map keys must satisfy constraint: [Member must satisfy enum value set: [LOW, HIGH]]"
    )
    assert synthetic_violations({"levels": {"LOW": "a", "HIGH": "b"}}) == []


def test_blob_lengths_and_double_ranges():
    texts = [validation.answer.coral_item(v) for v in synthetic_violations({"blob": b"abcd", "ratio": 1.5})]
    assert texts == [
        "Value 'YWJjZA==' at 'blob' failed to satisfy constraint: Member must have length less than or equal to 3",
        "Value '1.5' at 'ratio' failed to satisfy constraint: Member must have value less than or equal to 1.0",
    ]
    assert synthetic_violations({"blob": b"abc", "ratio": 1.0}) == []


def test_every_service_the_front_layer_routes_is_validated():
    from emulator import protocols

    assert set(validation.SERVICES) == set(protocols.PROTOCOLS)


@pytest.mark.parametrize("service", sorted(validation.SERVICES))
def test_every_operation_of_every_validated_service_can_be_checked(service):
    # An empty request breaks at most the required members, never the checker.
    model = validation.service_model(validation.SERVICES[service].model)
    for name in model.operation_names:
        shape = model.operation_model(name).input_shape
        if shape is None:
            continue
        violations = check.Checker().input(shape, {})
        assert {v.constraint.kind for v in violations} <= {check.REQUIRED}, name
        assert sorted(v.path for v in violations) == sorted(wire.lower_first(m) for m in shape.required_members), name


ROUND_TRIPS = [
    ("emr-serverless", "CreateApplication", {
        "releaseLabel": "emr-7.1.0", "type": "SPARK", "clientToken": "t", "tags": {"a": "b"},
        "initialCapacity": {"DRIVER": {"workerCount": 2, "workerConfiguration": {"cpu": "2 vCPU", "memory": "4 GB"}}},
        "networkConfiguration": {"subnetIds": ["s-1", "s-2"]},
        "runtimeConfiguration": [{"classification": "c", "properties": {"k": "v"}, "configurations": [{"classification": "d"}]}],
        "autoStopConfiguration": {"enabled": False, "idleTimeoutMinutes": 30},
    }),
    ("emr-serverless", "ListJobRuns", {"applicationId": "00abc", "states": ["RUNNING", "QUEUED"], "maxResults": 5, "mode": "STREAMING"}),
    ("emr-serverless", "UntagResource", {"resourceArn": "arn:aws:emr-serverless:us-east-1:123456789012:/applications/00abc",
                                         "tagKeys": ["a", "b"]}),
    ("iam", "CreateRole", {"RoleName": "r", "AssumeRolePolicyDocument": "{}", "MaxSessionDuration": 3600,
                           "Tags": [{"Key": "k", "Value": "v"}, {"Key": "k2", "Value": ""}]}),
    ("iam", "UntagRole", {"RoleName": "r", "TagKeys": ["a", "b"]}),
    ("sts", "AssumeRole", {"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "s1",
                           "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}], "DurationSeconds": 900}),
    ("ecr", "BatchGetImage", {"repositoryName": "r", "imageIds": [{"imageTag": "v1"}], "acceptedMediaTypes": ["a/b"]}),
    ("ec2", "DescribeSubnets", {"SubnetIds": ["subnet-1", "subnet-2"], "Filters": [{"Name": "vpc-id", "Values": ["vpc-1"]}],
                                "MaxResults": 5, "DryRun": False}),
    ("ec2", "CreateSecurityGroup", {"GroupName": "g", "Description": "d", "VpcId": "vpc-1",
                                    "TagSpecifications": [{"ResourceType": "security-group", "Tags": [{"Key": "k", "Value": "v"}]}]}),
    ("s3", "PutObject", {"Bucket": "b", "Key": "locks/a b+c.lock", "IfNoneMatch": "*", "StorageClass": "STANDARD",
                         "Metadata": {"owner": "emrstack"}, "ContentType": "application/json"}),
    ("s3", "PutObject", {"Bucket": "b", "Key": "dir/", "IfMatch": '"abc"'}),
    ("s3", "CopyObject", {"Bucket": "b", "Key": "k", "CopySource": "src/k"}),
    ("s3", "UploadPart", {"Bucket": "b", "Key": "k", "PartNumber": 2, "UploadId": "u"}),
    ("s3", "DeleteObject", {"Bucket": "b", "Key": "k", "IfMatch": "*"}),
    ("s3", "AbortMultipartUpload", {"Bucket": "b", "Key": "k", "UploadId": "u"}),
    ("s3", "HeadObject", {"Bucket": "b", "Key": "k"}),
    ("s3", "GetObject", {"Bucket": "b", "Key": "k", "IfNoneMatch": '"e"'}),
    ("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "locks/", "MaxKeys": 10, "ContinuationToken": "t"}),
    ("s3", "ListObjects", {"Bucket": "b", "Prefix": "p"}),
    ("s3", "HeadBucket", {"Bucket": "b"}),
    ("s3", "GetBucketLocation", {"Bucket": "b"}),
    ("s3", "CreateBucket", {"Bucket": "b", "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}}),
    ("s3", "DeleteObjects", {"Bucket": "b", "Delete": {"Objects": [{"Key": "a", "ETag": "*"}, {"Key": "b"}], "Quiet": True}}),
    ("s3", "PutObjectTagging", {"Bucket": "b", "Key": "k", "Tagging": {"TagSet": [{"Key": "a", "Value": "1"}]}}),
]


@pytest.mark.parametrize("service, operation, params", ROUND_TRIPS, ids=[f"{s}:{o}" for s, o, _ in ROUND_TRIPS])
def test_the_wire_reader_reads_what_botocore_writes(service, operation, params):
    model = botocore.session.get_session().get_service_model(service)
    op = model.operation_model(operation)
    serialized = create_serializer(model.metadata["protocol"], include_validation=False).serialize_to_request(params, op)
    body = serialized["body"]
    if isinstance(body, dict):
        body = urlencode(body).encode()
    elif isinstance(body, str):
        body = body.encode()
    query = serialized["query_string"]
    query = urlencode(query, doseq=True) if isinstance(query, dict) else query
    # rest-xml templates carry literal query parameters (S3's `?tagging`),
    # which botocore leaves in the path and the URL sends as the query.
    path, _, literal = serialized["url_path"].partition("?")
    request = wire.HttpRequest(
        method=serialized["method"],
        raw_path=path,
        query_string="&".join(q for q in (literal, query) if q),
        headers=serialized["headers"],
        body=body or b"",
    )
    read = wire.read(model, request)
    assert read is not None and read.operation.name == operation
    assert read.params == params
    assert read.type_problems == []
