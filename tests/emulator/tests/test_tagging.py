"""The Resource Groups Tagging API's GetResources (emulator/tagging.py): what
it returns for EMR Serverless, filters, pages, stale entries, errors.

Each behaviour cites its evidence in emulator/tagging.py and in the README
("Resource Groups Tagging API")."""

from __future__ import annotations

import time

import pytest
from conftest import create_app, error_of, runtime_role

APPS = ["emr-serverless:applications"]


@pytest.fixture
def tagging(aws):
    return aws("resourcegroupstaggingapi")


def arn_of(emr, app_id):
    return emr.get_application(applicationId=app_id)["application"]["arn"]


def arns(response):
    return [entry["ResourceARN"] for entry in response["ResourceTagMappingList"]]


def by_stack(tagging, stack, **extra):
    return tagging.get_resources(
        ResourceTypeFilters=APPS, TagFilters=[{"Key": "emrstack:stack", "Values": [stack]}], **extra
    )


def test_finds_applications_by_tag_with_their_tags_and_ends_with_an_empty_token(emr, tagging):
    ours = create_app(emr, wait=None, name="ours", tags={"emrstack:stack": "dev", "team": "data"})
    create_app(emr, wait=None, name="theirs", tags={"emrstack:stack": "prod"})
    create_app(emr, wait=None, name="untagged")
    response = by_stack(tagging, "dev")
    assert response["PaginationToken"] == ""
    assert response["ResourceTagMappingList"] == [{
        "ResourceARN": arn_of(emr, ours),
        "Tags": [{"Key": "emrstack:stack", "Value": "dev"}, {"Key": "team", "Value": "data"}],
    }]


def test_filters_are_and_across_keys_or_across_values_and_a_key_alone_matches_any_value(emr, tagging):
    a = arn_of(emr, create_app(emr, wait=None, name="a", tags={"k1": "v1", "k2": "x"}))
    b = arn_of(emr, create_app(emr, wait=None, name="b", tags={"k1": "v1", "k2": "y"}))
    c = arn_of(emr, create_app(emr, wait=None, name="c", tags={"k1": "v2"}))
    d = arn_of(emr, create_app(emr, wait=None, name="d", tags={"k2": ""}))

    def query(*filters):
        return sorted(arns(tagging.get_resources(TagFilters=list(filters))))

    assert query({"Key": "k1", "Values": ["v1"]}) == sorted([a, b])
    assert query({"Key": "k1", "Values": ["v1", "v2"]}) == sorted([a, b, c])
    assert query({"Key": "k1", "Values": ["v1"]}, {"Key": "k2", "Values": ["y"]}) == [b]
    assert query({"Key": "k2"}) == sorted([a, b, d])  # any value, the empty one included
    assert query({"Key": "k3"}) == []


def test_untagged_resources_are_never_returned_and_previously_tagged_ones_only_without_a_filter(emr, tagging):
    never = arn_of(emr, create_app(emr, wait=None, name="never"))
    once = arn_of(emr, create_app(emr, wait=None, name="once", tags={"emrstack:stack": "dev"}))
    emr.untag_resource(resourceArn=once, tagKeys=["emrstack:stack"])
    everything = tagging.get_resources()["ResourceTagMappingList"]
    assert {"ResourceARN": once, "Tags": []} in everything
    assert never not in [entry["ResourceARN"] for entry in everything]
    # With a tag filter, only current tags count.
    assert arns(by_stack(tagging, "dev")) == []
    assert arns(tagging.get_resources(TagFilters=[{"Key": "emrstack:stack"}])) == []


def test_later_tagged_resources_are_found(emr, tagging):
    app = arn_of(emr, create_app(emr, wait=None, name="late"))
    assert arns(by_stack(tagging, "dev")) == []
    emr.tag_resource(resourceArn=app, tags={"emrstack:stack": "dev"})
    assert arns(by_stack(tagging, "dev")) == [app]


def test_type_filter_keeps_emr_serverless_and_assumes_job_runs_match_too(emr, tagging, aws, control, account):
    app_id = create_app(emr, wait=None, name="app", tags={"emrstack:stack": "dev"})
    job = control.inject_job(account, app_id, tags={"emrstack:stack": "dev"}, force=True)
    found = arns(by_stack(tagging, "dev"))
    assert found[0] == arn_of(emr, app_id)
    assert len(found) == 2 and found[1].endswith(f"/jobruns/{job}")
    assert arns(tagging.get_resources(ResourceTypeFilters=["emr-serverless"],
                                      TagFilters=[{"Key": "emrstack:stack"}])) == found
    assert arns(tagging.get_resources(ResourceTypeFilters=["ec2:instance"],
                                      TagFilters=[{"Key": "emrstack:stack"}])) == []


def test_iam_roles_are_never_returned(aws, tagging):
    iam = aws("iam")
    runtime_role(aws, "tagged-role")
    iam.tag_role(RoleName="tagged-role", Tags=[{"Key": "emrstack:stack", "Value": "dev"}])
    assert tagging.get_resources(TagFilters=[{"Key": "emrstack:stack"}])["ResourceTagMappingList"] == []
    assert tagging.get_resources(ResourceTypeFilters=["iam:role"])["ResourceTagMappingList"] == []


def test_pages_of_resources_per_page_end_with_an_empty_token(emr, tagging):
    created = [arn_of(emr, create_app(emr, wait=None, name=f"a{i}", tags={"emrstack:stack": "dev"})) for i in range(7)]
    seen, token, pages = [], None, 0
    while True:
        extra = {"PaginationToken": token} if token else {}
        page = by_stack(tagging, "dev", ResourcesPerPage=3, **extra)
        pages += 1
        assert len(page["ResourceTagMappingList"]) <= 3
        seen += arns(page)
        token = page["PaginationToken"]
        if token == "":
            break
    assert (pages, seen) == (3, created)


def test_tags_per_page_never_splits_a_resource(emr, tagging):
    for i in range(3):
        create_app(emr, wait=None, name=f"t{i}", tags={f"k{j}": "v" for j in range(45)} | {"emrstack:stack": "dev"})
    page = tagging.get_resources(TagFilters=[{"Key": "emrstack:stack"}], TagsPerPage=100)
    # 46 tags each: two resources fit in 100, the third does not.
    assert len(page["ResourceTagMappingList"]) == 2 and page["PaginationToken"] != ""
    rest = tagging.get_resources(TagFilters=[{"Key": "emrstack:stack"}], TagsPerPage=100,
                                 PaginationToken=page["PaginationToken"])
    assert len(rest["ResourceTagMappingList"]) == 1 and rest["PaginationToken"] == ""


def test_deleted_applications_stay_for_a_while_then_go(emr, tagging, control):
    control.ok("POST", "/_emulator/tagging", {"staleSeconds": 0.5})
    app_id = create_app(emr, name="gone", tags={"emrstack:stack": "dev"})
    arn = arn_of(emr, app_id)
    emr.delete_application(applicationId=app_id)
    # Stale: GetResources still lists it, with its tags; GetApplication says TERMINATED.
    assert arns(by_stack(tagging, "dev")) == [arn]
    assert emr.get_application(applicationId=app_id)["application"]["state"] == "TERMINATED"
    time.sleep(0.6)
    assert arns(by_stack(tagging, "dev")) == []
    assert control.ok("GET", "/_emulator/tagging")["staleSeconds"] == 0.5


def test_settings_are_reset_with_the_configuration(control):
    control.ok("POST", "/_emulator/tagging", {"staleSeconds": 9, "indexDelaySeconds": 5, "pageSizes": [0]})
    control.ok("POST", "/_emulator/tagging", {"account": "111111111111", "indexDelaySeconds": 5})
    control.ok("POST", "/_emulator/reset", {"state": False})
    assert control.ok("GET", "/_emulator/tagging") == {
        "staleSeconds": 3.0, "indexDelaySeconds": 0.0, "pageSizes": [], "accounts": {},
    }
    for bad in ({"staleSeconds": -1}, {"indexDelaySeconds": "5"}, {"pageSizes": [101]}, {"pageSizes": 3},
                {"account": 5}, {"other": 1}):
        status, body = control.call("POST", "/_emulator/tagging", bad)
        assert status == 400, bad


def test_short_and_empty_pages_still_carry_a_token_until_the_end(emr, tagging, control, account):
    # "A query can return fewer than this maximum, even if there are more
    # results still to return. You should always check the PaginationToken"
    # (API, ResourcesPerPage).
    created = [arn_of(emr, create_app(emr, wait=None, name=f"s{i}", tags={"emrstack:stack": "dev"})) for i in range(5)]
    control.ok("POST", "/_emulator/tagging", {"account": account, "pageSizes": [0, 1, 0, 0, 2]})
    sizes, seen, token = [], [], None
    while True:
        extra = {"PaginationToken": token} if token else {}
        page = by_stack(tagging, "dev", ResourcesPerPage=100, **extra)
        sizes.append(len(page["ResourceTagMappingList"]))
        seen += arns(page)
        token = page["PaginationToken"]
        if token == "":
            break
    # The listed sizes, then full pages for the rest.
    assert (sizes, seen) == ([0, 1, 0, 0, 2, 2], created)
    # Without ResourcesPerPage, the default page is cut the same way.
    assert arns(by_stack(tagging, "dev")) == []


def test_with_an_index_delay_new_tags_show_only_after_it(emr, tagging, control, account):
    old = arn_of(emr, create_app(emr, wait=None, name="old", tags={"emrstack:stack": "dev"}))
    control.ok("POST", "/_emulator/tagging", {"account": account, "indexDelaySeconds": 0.5})
    # Created before the delay was set, but less than 0.5 s ago: not yet.
    assert arns(by_stack(tagging, "dev")) == []
    time.sleep(0.6)
    assert arns(by_stack(tagging, "dev")) == [old]
    new = arn_of(emr, create_app(emr, wait=None, name="new", tags={"emrstack:stack": "dev"}))
    emr.untag_resource(resourceArn=old, tagKeys=["emrstack:stack"])
    # The index still holds the old tags of both.
    assert arns(by_stack(tagging, "dev")) == [old]
    time.sleep(0.6)
    assert arns(by_stack(tagging, "dev")) == [new]
    # Without a filter, the once-tagged one comes back with no tags.
    assert {"ResourceARN": old, "Tags": []} in tagging.get_resources()["ResourceTagMappingList"]


def test_settings_of_one_account_leave_the_others_alone(emr, tagging, control, account, aws):
    control.ok("POST", "/_emulator/tagging", {"account": "999999999999", "indexDelaySeconds": 60, "pageSizes": [0]})
    app = arn_of(emr, create_app(emr, wait=None, name="mine", tags={"emrstack:stack": "dev"}))
    assert arns(by_stack(tagging, "dev")) == [app]
    assert control.ok("GET", "/_emulator/tagging")["accounts"] == {
        "999999999999": {"indexDelaySeconds": 60.0, "pageSizes": [0]},
    }


def test_backdate_moves_created_at_and_the_index_with_it(emr, tagging, control, account):
    app_id = create_app(emr, wait=None, name="aged", tags={"emrstack:stack": "dev"})
    before = emr.get_application(applicationId=app_id)["application"]
    control.ok("POST", "/_emulator/tagging", {"account": account, "indexDelaySeconds": 3600})
    assert arns(by_stack(tagging, "dev")) == []
    moved = control.ok("POST", "/_emulator/backdate", {"account": account, "seconds": 7200})
    assert moved["applications"] == 1
    after = emr.get_application(applicationId=app_id)["application"]
    assert (before["createdAt"] - after["createdAt"]).total_seconds() == pytest.approx(7200, abs=0.01)
    listed = emr.list_applications()["applications"][0]
    assert listed["createdAt"] == after["createdAt"]
    # Tagged two hours ago, as far as the index knows: past its hour of lag.
    assert arns(by_stack(tagging, "dev")) == [before["arn"]]
    status, _ = control.call("POST", "/_emulator/backdate", {"account": account, "seconds": -1})
    assert status == 400


def test_arn_list_returns_known_arns_and_cannot_be_combined_with_filters(emr, tagging, account):
    arn = arn_of(emr, create_app(emr, wait=None, name="x", tags={"a": "b"}))
    missing = f"arn:aws:emr-serverless:us-east-1:{account}:/applications/00nosuchapp00000"
    assert arns(tagging.get_resources(ResourceARNList=[arn, missing])) == [arn]
    with pytest.raises(tagging.exceptions.InvalidParameterException):
        tagging.get_resources(ResourceARNList=[arn], ResourcesPerPage=10)


@pytest.mark.parametrize("params", [
    {"ResourcesPerPage": 0}, {"ResourcesPerPage": 101}, {"TagsPerPage": 99}, {"TagsPerPage": 501},
    {"TagFilters": [{"Key": f"k{i}"} for i in range(51)]},
    {"TagFilters": [{"Key": "k", "Values": [str(i) for i in range(21)]}]},
    {"TagFilters": [{"Key": ""}]},
    {"PaginationToken": "not-a-token"},
])
def test_invalid_parameters(tagging, params):
    with pytest.raises(tagging.exceptions.InvalidParameterException) as excinfo:
        tagging.get_resources(**params)
    assert error_of(excinfo)[0] == 400


def test_a_token_of_another_query_is_refused(emr, tagging):
    for i in range(3):
        create_app(emr, wait=None, name=f"p{i}", tags={"emrstack:stack": "dev"})
    token = by_stack(tagging, "dev", ResourcesPerPage=1)["PaginationToken"]
    with pytest.raises(tagging.exceptions.InvalidParameterException):
        by_stack(tagging, "prod", ResourcesPerPage=1, PaginationToken=token)


def test_access_denied_by_a_fault_rule_looks_like_aws(control, tagging):
    control.add_fault(service="tagging", operation="GetResources", kind="error", status=400,
                      code="AccessDeniedException",
                      message="User: arn:aws:iam::123456789012:user/ci is not authorized to perform: tag:GetResources")
    with pytest.raises(tagging.exceptions.ClientError) as excinfo:
        tagging.get_resources()
    status, code, message = error_of(excinfo)
    assert (status, code) == (400, "AccessDeniedException")
    assert "tag:GetResources" in message


def test_rate_limited_at_fifteen_a_second_with_the_modelled_throttling_error(control, tagging, account):
    control.rate_limit(enabled=True)
    assert control.ok("GET", "/_emulator/rate-limit")["effective"]["GetResources"] == {"rate": 15, "burst": 15}
    # A burst of 15, then 15 a second: back-to-back calls run out of tokens
    # within a few more calls (each takes a few milliseconds).
    with pytest.raises(tagging.exceptions.ThrottledException) as excinfo:
        for _ in range(60):
            tagging.get_resources()
    assert error_of(excinfo)[0] == 400
    counts = control.calls(account)
    assert counts["throttled"] == {"tagging:GetResources": 1}
    assert 15 <= counts["served"]["tagging:GetResources"] < 60


def test_calls_are_counted_per_account(control, tagging, account):
    tagging.get_resources()
    assert control.calls(account)["served"] == {"tagging:GetResources": 1}
