"""Tags: on create, TagResource, UntagResource, ListTagsForResource, limits."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from conftest import create_app, error_of, new_account, raw_request


def arn_of(emr, app_id):
    return emr.get_application(applicationId=app_id)["application"]["arn"]


def test_tags_from_create_are_returned_by_get_and_list(emr):
    app_id = create_app(emr, wait=None, tags={"team": "data", "empty": ""})
    assert emr.get_application(applicationId=app_id)["application"]["tags"] == {"team": "data", "empty": ""}
    assert emr.list_tags_for_resource(resourceArn=arn_of(emr, app_id))["tags"] == {"team": "data", "empty": ""}


def test_tag_adds_and_overwrites_and_untag_removes(emr):
    app_id = create_app(emr, wait=None, tags={"a": "1", "b": "2"})
    arn = arn_of(emr, app_id)
    emr.tag_resource(resourceArn=arn, tags={"b": "two", "c": "3"})
    assert emr.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "1", "b": "two", "c": "3"}
    emr.untag_resource(resourceArn=arn, tagKeys=["a", "c", "not-there"])
    assert emr.get_application(applicationId=app_id)["application"]["tags"] == {"b": "two"}


def test_tagging_does_not_change_updated_at(emr):
    app_id = create_app(emr)
    before = emr.get_application(applicationId=app_id)["application"]["updatedAt"]
    emr.tag_resource(resourceArn=arn_of(emr, app_id), tags={"x": "y"})
    assert emr.get_application(applicationId=app_id)["application"]["updatedAt"] == before


def test_at_most_fifty_user_tags_after_merging(emr):
    app_id = create_app(emr, wait=None, tags={f"k{i}": "v" for i in range(49)})
    arn = arn_of(emr, app_id)
    emr.tag_resource(resourceArn=arn, tags={"k0": "overwrite", "k49": "v"})  # 50: fine
    with pytest.raises(emr.exceptions.ValidationException) as excinfo:
        emr.tag_resource(resourceArn=arn, tags={"k50": "v"})
    assert "at most 50" in error_of(excinfo)[2]
    assert len(emr.list_tags_for_resource(resourceArn=arn)["tags"]) == 50


@pytest.mark.parametrize(
    "tags",
    [{"aws:owner": "x"}, {"AWS:owner": "x"}, {"Aws:Owner": "x"}, {"owner": "aws:x"}, {"owner": "AWS:X"},
     {"a#b": "x"}, {"k" * 129: "x"}, {"k": "v" * 257}, {"": "x"}],
)
def test_tag_resource_validates_tags(emr, tags):
    app_id = create_app(emr, wait=None)
    arn = arn_of(emr, app_id)
    with pytest.raises(emr.exceptions.ValidationException):
        emr.tag_resource(resourceArn=arn, tags=tags)
    assert emr.list_tags_for_resource(resourceArn=arn)["tags"] == {}


def test_untag_refuses_reserved_keys_and_needs_keys(emr):
    app_id = create_app(emr, wait=None)
    arn = arn_of(emr, app_id)
    with pytest.raises(emr.exceptions.ValidationException):
        emr.untag_resource(resourceArn=arn, tagKeys=["aws:cloudformation:stack-name"])
    with pytest.raises(emr.exceptions.ValidationException):
        emr.untag_resource(resourceArn=arn, tagKeys=[])


def test_unknown_resources_are_404(emr, account):
    missing = f"arn:aws:emr-serverless:us-east-1:{account}:/applications/00nosuchapp00000"
    for call in (
        lambda: emr.list_tags_for_resource(resourceArn=missing),
        lambda: emr.tag_resource(resourceArn=missing, tags={"a": "b"}),
        lambda: emr.untag_resource(resourceArn=missing, tagKeys=["a"]),
    ):
        with pytest.raises(emr.exceptions.ResourceNotFoundException) as excinfo:
            call()
        assert error_of(excinfo)[0] == 404


def test_another_accounts_arn_is_not_found(aws, emr):
    theirs = aws("emr-serverless", account_id=new_account())
    app_id = create_app(theirs, wait=None)
    with pytest.raises(emr.exceptions.ResourceNotFoundException):
        emr.list_tags_for_resource(resourceArn=arn_of(theirs, app_id))


def test_a_malformed_arn_is_a_validation_error(emr):
    with pytest.raises(emr.exceptions.ValidationException):
        emr.list_tags_for_resource(resourceArn="arn:aws:s3:::bucket-name-long-enough-for-the-minimum-length-of-sixty")


def test_the_arn_travels_url_encoded_in_the_path(server, emr, account):
    app_id = create_app(emr, wait=None, tags={"k": "v"})
    arn = arn_of(emr, app_id)
    encoded = quote(arn, safe="")
    assert "%2F" in encoded and "%3A" in encoded
    status, _, payload = raw_request(server.port, "GET", f"/tags/{encoded}", account=account)
    assert status == 200 and json.loads(payload) == {"tags": {"k": "v"}}
    status, _, _ = raw_request(server.port, "POST", f"/tags/{encoded}", account=account, body=b'{"tags": {"n": "1"}}')
    assert status == 200
    status, _, _ = raw_request(server.port, "DELETE", f"/tags/{encoded}?tagKeys=k&tagKeys=n", account=account)
    assert status == 200
    assert emr.list_tags_for_resource(resourceArn=arn)["tags"] == {}


def test_terminated_applications_keep_their_tags(emr):
    app_id = create_app(emr, tags={"k": "v"})
    emr.delete_application(applicationId=app_id)
    assert emr.list_tags_for_resource(resourceArn=arn_of(emr, app_id))["tags"] == {"k": "v"}
