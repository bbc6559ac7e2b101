"""Custom images: existence on create/update, repository policy on start."""

from __future__ import annotations

import json

import pytest
from conftest import app_state, create_app, error_of, new_account, pull_policy, push_image, runtime_role, wait_state

DENIED = "EMR Serverless service principal is not authorized to perform: ecr:DescribeImages"
# A file in the image: the emulator does not look for it in S3.
LOCAL_DRIVER = {"sparkSubmit": {"entryPoint": "local:///usr/lib/spark/examples/src/main/python/pi.py"}}


def arn_of(emr, app_id):
    return emr.get_application(applicationId=app_id)["application"]["arn"]


def start_refused(emr, app_id) -> str:
    with pytest.raises(emr.exceptions.ValidationException) as excinfo:
        emr.start_application(applicationId=app_id)
    assert error_of(excinfo)[:2] == (400, "ValidationException")
    assert app_state(emr, app_id) == "CREATED"
    return error_of(excinfo)[2]


def test_an_existing_image_is_accepted_by_tag_and_by_digest(aws, emr, account):
    uri, digest = push_image(aws, "spark", "v1")
    create_app(emr, wait=None, imageConfiguration={"imageUri": uri})
    by_digest = f"{account}.dkr.ecr.us-east-1.amazonaws.com/spark@{digest}"
    create_app(emr, wait=None, imageConfiguration={"imageUri": by_digest})


@pytest.mark.parametrize(
    "uri, fragment",
    [
        ("{account}.dkr.ecr.us-east-1.amazonaws.com/missing:v1", "repository missing does not exist"),
        ("{account}.dkr.ecr.us-east-1.amazonaws.com/spark:v9", "no image with tag v9"),
        ("{account}.dkr.ecr.us-east-1.amazonaws.com/spark@sha256:" + "0" * 64, "no image with digest"),
        ("{account}.dkr.ecr.eu-west-1.amazonaws.com/spark:v1", "same region"),
        ("999999999999.dkr.ecr.eu-west-1.amazonaws.com/spark:v1", "same region"),
    ],
)
def test_a_missing_or_foreign_region_image_is_refused(aws, emr, account, uri, fragment):
    push_image(aws, "spark", "v1")
    uri = uri.format(account=account)
    with pytest.raises(emr.exceptions.ValidationException) as excinfo:
        create_app(emr, wait=None, imageConfiguration={"imageUri": uri})
    assert fragment in error_of(excinfo)[2]
    with pytest.raises(emr.exceptions.ValidationException):
        create_app(emr, wait=None, workerTypeSpecifications={"Executor": {"imageConfiguration": {"imageUri": uri}}})


def test_an_image_in_another_region_of_emulated_ecr_is_still_refused(aws, emr, account):
    uri, _ = push_image(aws, "spark", "v1", region="us-west-2")
    with pytest.raises(emr.exceptions.ValidationException) as excinfo:
        create_app(emr, wait=None, imageConfiguration={"imageUri": uri})
    assert "same region" in error_of(excinfo)[2]


def test_another_accounts_image_cannot_be_checked_and_is_accepted(emr):
    create_app(emr, wait=None, imageConfiguration={"imageUri": "999999999999.dkr.ecr.us-east-1.amazonaws.com/shared:v1"})


def test_update_checks_the_image_too(aws, emr, account):
    app_id = create_app(emr)
    with pytest.raises(emr.exceptions.ValidationException):
        emr.update_application(applicationId=app_id, clientToken="t",
                               imageConfiguration={"imageUri": f"{account}.dkr.ecr.us-east-1.amazonaws.com/nope:v1"})
    uri, _ = push_image(aws)
    emr.update_application(applicationId=app_id, clientToken="t2", imageConfiguration={"imageUri": uri})


def test_start_without_a_repository_policy_is_refused(aws, emr):
    uri, _ = push_image(aws)
    app_id = create_app(emr, imageConfiguration={"imageUri": uri})
    assert DENIED in start_refused(emr, app_id)


def test_start_with_a_policy_scoped_to_the_application_succeeds_and_resolves_the_digest(aws, emr):
    uri, digest = push_image(aws)
    app_id = create_app(emr, imageConfiguration={"imageUri": uri})
    aws("ecr").set_repository_policy(repositoryName="spark", policyText=pull_policy(arn_of(emr, app_id)))
    app = emr.get_application(applicationId=app_id)["application"]
    assert "resolvedImageDigest" not in app["imageConfiguration"]
    emr.start_application(applicationId=app_id)
    wait_state(emr, app_id, "STARTED")
    assert emr.get_application(applicationId=app_id)["application"]["imageConfiguration"] == {
        "imageUri": uri, "applicationLevelDigestResolution": True, "resolvedImageDigest": digest,
    }


def test_a_policy_for_another_application_is_refused(aws, emr, account):
    uri, _ = push_image(aws)
    app_id = create_app(emr, imageConfiguration={"imageUri": uri})
    other = f"arn:aws:emr-serverless:us-east-1:{account}:/applications/00someotherapp00"
    aws("ecr").set_repository_policy(repositoryName="spark", policyText=pull_policy(other))
    assert DENIED in start_refused(emr, app_id)


@pytest.mark.parametrize(
    "actions, missing",
    [
        (["ecr:DescribeImages"], "ecr:BatchGetImage"),
        (["ecr:DescribeImages", "ecr:BatchGetImage"], "ecr:GetDownloadUrlForLayer"),
        (["ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], "ecr:DescribeImages"),
    ],
)
def test_every_pull_action_is_needed(aws, emr, actions, missing):
    uri, _ = push_image(aws)
    app_id = create_app(emr, imageConfiguration={"imageUri": uri})
    aws("ecr").set_repository_policy(repositoryName="spark", policyText=pull_policy(arn_of(emr, app_id), actions=actions))
    message = start_refused(emr, app_id)
    assert f"is not authorized to perform: {missing}" in message


@pytest.mark.parametrize(
    "policy",
    [
        # No condition at all.
        lambda arn, acct: pull_policy(),
        # Wildcards in actions and an ArnLike pattern.
        lambda arn, acct: pull_policy(f"arn:aws:emr-serverless:us-east-1:{acct}:/applications/*",
                                      actions=["ecr:*"], operator="ArnLike"),
        lambda arn, acct: pull_policy(arn, actions=["ecr:Describe*", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                                      operator="ArnEquals"),
        # A principal of "*".
        lambda arn, acct: json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "ecr:*"}]}),
        # The actions split over two statements, one with aws:SourceAccount.
        lambda arn, acct: json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": ["emr-serverless.amazonaws.com"]}, "Action": "ecr:DescribeImages"},
            {"Effect": "Allow", "Principal": {"Service": "emr-serverless.amazonaws.com"},
             "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
             "Condition": {"StringEquals": {"aws:SourceAccount": acct}}}]}),
    ],
)
def test_policies_that_allow_the_pull(aws, emr, account, policy):
    uri, _ = push_image(aws)
    app_id = create_app(emr, imageConfiguration={"imageUri": uri})
    aws("ecr").set_repository_policy(repositoryName="spark", policyText=policy(arn_of(emr, app_id), account))
    emr.start_application(applicationId=app_id)
    wait_state(emr, app_id, "STARTED")


@pytest.mark.parametrize(
    "policy",
    [
        # Allowed, but a Deny wins.
        lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "emr-serverless.amazonaws.com"}, "Action": "ecr:*"},
            {"Effect": "Deny", "Principal": "*", "Action": "ecr:DescribeImages"}]}),
        # Another service principal.
        lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "ecr:*"}]}),
        # A condition key the service does not send.
        lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "emr-serverless.amazonaws.com"}, "Action": "ecr:*",
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-123"}}}]}),
        # Only an account principal.
        lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "ecr:*"}]}),
    ],
)
def test_policies_that_do_not_allow_the_pull(aws, emr, policy):
    uri, _ = push_image(aws)
    app_id = create_app(emr, imageConfiguration={"imageUri": uri})
    aws("ecr").set_repository_policy(repositoryName="spark", policyText=policy(arn_of(emr, app_id)))
    assert DENIED in start_refused(emr, app_id)


def test_worker_type_images_are_checked_on_start(aws, emr):
    app_image, app_digest = push_image(aws, "app-image", "v1")
    driver_image, driver_digest = push_image(aws, "driver-image", "v1")
    app_id = create_app(emr, imageConfiguration={"imageUri": app_image},
                        workerTypeSpecifications={"Driver": {"imageConfiguration": {"imageUri": driver_image}}})
    arn = arn_of(emr, app_id)
    aws("ecr").set_repository_policy(repositoryName="app-image", policyText=pull_policy(arn))
    assert "repository/driver-image" in start_refused(emr, app_id)
    aws("ecr").set_repository_policy(repositoryName="driver-image", policyText=pull_policy(arn))
    emr.start_application(applicationId=app_id)
    wait_state(emr, app_id, "STARTED")
    app = emr.get_application(applicationId=app_id)["application"]
    assert app["imageConfiguration"]["resolvedImageDigest"] == app_digest
    assert app["workerTypeSpecifications"]["Driver"]["imageConfiguration"]["resolvedImageDigest"] == driver_digest


def test_auto_start_by_a_job_checks_the_policy_too(aws, emr):
    uri, _ = push_image(aws)
    role = runtime_role(aws)
    app_id = create_app(emr, imageConfiguration={"imageUri": uri})
    with pytest.raises(emr.exceptions.ValidationException) as excinfo:
        emr.start_job_run(applicationId=app_id, executionRoleArn=role,
                          jobDriver=LOCAL_DRIVER)
    assert DENIED in error_of(excinfo)[2]
    assert app_state(emr, app_id) == "CREATED"
    assert emr.list_job_runs(applicationId=app_id)["jobRuns"] == []
    aws("ecr").set_repository_policy(repositoryName="spark", policyText=pull_policy(arn_of(emr, app_id)))
    emr.start_job_run(applicationId=app_id, executionRoleArn=role, jobDriver=LOCAL_DRIVER)
    wait_state(emr, app_id, "STARTED")


def test_an_image_deleted_after_create_fails_the_start(aws, emr):
    uri, _ = push_image(aws)
    app_id = create_app(emr, imageConfiguration={"imageUri": uri})
    ecr = aws("ecr")
    ecr.set_repository_policy(repositoryName="spark", policyText=pull_policy(arn_of(emr, app_id)))
    ecr.batch_delete_image(repositoryName="spark", imageIds=[{"imageTag": "v1"}])
    assert "does not exist" in start_refused(emr, app_id)


def test_images_of_other_accounts_are_not_checked_on_start(emr):
    app_id = create_app(emr, imageConfiguration={"imageUri": f"{new_account()}.dkr.ecr.us-east-1.amazonaws.com/shared:v1"})
    emr.start_application(applicationId=app_id)
    wait_state(emr, app_id, "STARTED")
    assert "resolvedImageDigest" not in emr.get_application(applicationId=app_id)["application"]["imageConfiguration"]
