"""S3 as emrstack's artifact store and stack lock use it (emulator.s3).

moto serves S3; the emulator adds atomic conditional writes, conditional
deletes with If-Match: *, the redirect for a bucket in another region, the
refusal of another account's bucket, S3's error documents for faults and
validation, and deny rules by action and key prefix.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import botocore.exceptions
import pytest
from conftest import error_of, raw_request

from emulator import s3


def new_bucket(aws, region: str = "us-east-1") -> tuple[Any, str]:
    """A fresh bucket (names are global, as in S3) and a client in its region."""
    client = aws("s3", region=region)
    name = f"emrstack-test-{random.getrandbits(48):012x}"
    params: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        params["CreateBucketConfiguration"] = {"LocationConstraint": region}
    client.create_bucket(**params)
    return client, name


def s3_error(excinfo) -> tuple[int, str, str]:
    return error_of(excinfo)


# --- addressing ----------------------------------------------------------------------


def test_sdks_use_path_style_against_an_ip_endpoint(aws):
    """The endpoint rules shared by the SDKs build path-style URLs when the
    endpoint is an IP address; the Rust SDK gets the same URL from the same
    ruleset (force_path_style(true) makes it explicit)."""
    client, bucket = new_bucket(aws)
    urls: list[str] = []
    client.meta.events.register("before-send.s3.PutObject", lambda request, **_: urls.append(request.url))
    client.put_object(Bucket=bucket, Key="dir/a.txt", Body=b"x")
    port = client.meta.endpoint_url.rsplit(":", 1)[1]
    assert urls == [f"http://127.0.0.1:{port}/{bucket}/dir/a.txt"]


def test_virtual_hosted_requests_are_read_too(server, aws, account):
    client, bucket = new_bucket(aws)
    client.put_object(Bucket=bucket, Key="k", Body=b"hello")
    status, headers, body = raw_request(
        server.port, "GET", "/k", service="s3", account=account, headers={"Host": f"{bucket}.localhost:{server.port}"},
    )
    assert status == 200 and body == b"hello"
    assert s3.request_path("/k", f"{bucket}.localhost:{server.port}") == f"/{bucket}/k"
    assert s3.request_path(f"/{bucket}/k", f"127.0.0.1:{server.port}") == f"/{bucket}/k"


def test_bucket_requests_may_end_in_a_slash(server, control, account):
    """The Rust SDK (aws-sdk-s3 1.157.0, measured against the emulator) sends
    `PUT /bucket/` for CreateBucket and `GET /bucket/?location`; keys are
    never empty, so `/bucket/` names the bucket."""
    assert s3.request_path("/b/", "127.0.0.1:1") == "/b"
    assert s3.request_path("/b/k/", "127.0.0.1:1") == "/b/k/"
    assert s3.target("PUT", "/b/", "", {"Host": "127.0.0.1:1"}).operation == "CreateBucket"
    assert s3.target("GET", "/b/", "location", {"Host": "127.0.0.1:1"}).operation == "GetBucketLocation"
    bucket = f"emrstack-slash-{random.getrandbits(40):010x}"
    assert raw_request(server.port, "PUT", f"/{bucket}/", service="s3", account=account)[0] == 200
    status, _, body = raw_request(server.port, "GET", f"/{bucket}/?location", service="s3", account=account)
    assert status == 200 and b"LocationConstraint" in body
    assert control.calls(account)["served"] == {"s3:CreateBucket": 1, "s3:GetBucketLocation": 1}


def test_operations_are_named_from_the_model(control, aws, account):
    client, bucket = new_bucket(aws)
    client.put_object(Bucket=bucket, Key="k", Body=b"x")
    client.head_object(Bucket=bucket, Key="k")
    client.get_object(Bucket=bucket, Key="k")["Body"].read()
    client.list_objects_v2(Bucket=bucket, Prefix="k")
    client.head_bucket(Bucket=bucket)
    client.get_bucket_location(Bucket=bucket)
    client.copy_object(Bucket=bucket, Key="k2", CopySource={"Bucket": bucket, "Key": "k"})
    client.delete_object(Bucket=bucket, Key="k")
    served = control.calls(account)["served"]
    for operation in ("CreateBucket", "PutObject", "HeadObject", "GetObject", "ListObjectsV2", "HeadBucket",
                      "GetBucketLocation", "CopyObject", "DeleteObject"):
        assert served.get(f"s3:{operation}") == 1, (operation, served)


# --- the operations emrstack calls ------------------------------------------------------


def test_the_artifact_and_lock_operations(aws):
    client, bucket = new_bucket(aws)
    put = client.put_object(Bucket=bucket, Key="lock/stack.lock", Body=b'{"id": "1"}', IfNoneMatch="*")
    etag = put["ETag"]
    head = client.head_object(Bucket=bucket, Key="lock/stack.lock")
    assert head["ETag"] == etag and head["ContentLength"] == 11
    got = client.get_object(Bucket=bucket, Key="lock/stack.lock")
    assert got["Body"].read() == b'{"id": "1"}' and got["ETag"] == etag
    listed = client.list_objects_v2(Bucket=bucket, Prefix="lock/")
    assert [o["Key"] for o in listed["Contents"]] == ["lock/stack.lock"]
    assert client.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    # us-east-1 is the null LocationConstraint (S3 API GetBucketLocation).
    assert client.get_bucket_location(Bucket=bucket).get("LocationConstraint") is None
    client.delete_object(Bucket=bucket, Key="lock/stack.lock", IfMatch=etag)
    with pytest.raises(client.exceptions.ClientError) as excinfo:
        client.head_object(Bucket=bucket, Key="lock/stack.lock")
    assert s3_error(excinfo)[:2] == (404, "404")  # a HEAD error has no body


def test_a_missing_bucket_is_no_such_bucket_for_every_operation(aws):
    client = aws("s3")
    bucket = f"emrstack-missing-{random.getrandbits(40):010x}"
    calls = {
        "PutObject": lambda: client.put_object(Bucket=bucket, Key="k", Body=b"x", IfNoneMatch="*"),
        "GetObject": lambda: client.get_object(Bucket=bucket, Key="k"),
        "DeleteObject": lambda: client.delete_object(Bucket=bucket, Key="k"),
        "ListObjectsV2": lambda: client.list_objects_v2(Bucket=bucket),
        "GetBucketLocation": lambda: client.get_bucket_location(Bucket=bucket),
    }
    for name, call in calls.items():
        with pytest.raises(client.exceptions.ClientError) as excinfo:
            call()
        assert s3_error(excinfo)[:2] == (404, "NoSuchBucket"), name
    for call in (lambda: client.head_object(Bucket=bucket, Key="k"), lambda: client.head_bucket(Bucket=bucket)):
        with pytest.raises(client.exceptions.ClientError) as excinfo:
            call()
        assert s3_error(excinfo)[0] == 404


def test_missing_keys(aws):
    client, bucket = new_bucket(aws)
    with pytest.raises(client.exceptions.NoSuchKey):
        client.get_object(Bucket=bucket, Key="nope")
    # An unconditional delete of a missing key succeeds (S3 API DeleteObject).
    assert client.delete_object(Bucket=bucket, Key="nope")["ResponseMetadata"]["HTTPStatusCode"] == 204


# --- conditional writes and deletes -------------------------------------------------------


def test_if_none_match_star_refuses_an_existing_key(aws):
    client, bucket = new_bucket(aws)
    client.put_object(Bucket=bucket, Key="a.lock", Body=b"first", IfNoneMatch="*")
    with pytest.raises(client.exceptions.ClientError) as excinfo:
        client.put_object(Bucket=bucket, Key="a.lock", Body=b"second", IfNoneMatch="*")
    status, code, message = s3_error(excinfo)
    assert (status, code) == (412, "PreconditionFailed")
    assert message == "At least one of the pre-conditions you specified did not hold"
    assert excinfo.value.response["Error"]["Condition"] == "If-None-Match"
    assert client.get_object(Bucket=bucket, Key="a.lock")["Body"].read() == b"first"


def test_if_match_replaces_only_the_object_with_that_etag(aws):
    client, bucket = new_bucket(aws)
    first = client.put_object(Bucket=bucket, Key="a.lock", Body=b"v1")["ETag"]
    second = client.put_object(Bucket=bucket, Key="a.lock", Body=b"v2", IfMatch=first)["ETag"]
    assert second != first
    with pytest.raises(client.exceptions.ClientError) as excinfo:
        client.put_object(Bucket=bucket, Key="a.lock", Body=b"v3", IfMatch=first)
    assert s3_error(excinfo)[:2] == (412, "PreconditionFailed")
    # The ETag may be sent with or without its quotes.
    client.put_object(Bucket=bucket, Key="a.lock", Body=b"v3", IfMatch=second.strip('"'))
    assert client.get_object(Bucket=bucket, Key="a.lock")["Body"].read() == b"v3"


def test_if_match_on_a_missing_key_is_not_found(aws):
    """"If there's no current object version with the same name ... the
    operation fails with a 404 Not Found error" (user guide, conditional writes)."""
    client, bucket = new_bucket(aws)
    with pytest.raises(client.exceptions.ClientError) as excinfo:
        client.put_object(Bucket=bucket, Key="gone.lock", Body=b"x", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert s3_error(excinfo)[:2] == (404, "NoSuchKey")


def test_if_none_match_takes_only_the_asterisk(aws):
    client, bucket = new_bucket(aws)
    with pytest.raises(client.exceptions.ClientError) as excinfo:
        client.put_object(Bucket=bucket, Key="k", Body=b"x", IfNoneMatch='"abc"')
    status, code, _ = s3_error(excinfo)
    assert (status, code) == (501, "NotImplemented")
    assert excinfo.value.response["Error"]["Header"] == "If-None-Match"
    with pytest.raises(client.exceptions.NoSuchKey):
        client.get_object(Bucket=bucket, Key="k")


def test_conditional_deletes(aws):
    client, bucket = new_bucket(aws)
    etag = client.put_object(Bucket=bucket, Key="a.lock", Body=b"mine")["ETag"]
    with pytest.raises(client.exceptions.ClientError) as excinfo:
        client.delete_object(Bucket=bucket, Key="a.lock", IfMatch='"ffffffffffffffffffffffffffffffff"')
    assert s3_error(excinfo)[:2] == (412, "PreconditionFailed")
    assert client.head_object(Bucket=bucket, Key="a.lock")["ETag"] == etag
    assert client.delete_object(Bucket=bucket, Key="a.lock", IfMatch=etag)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(client.exceptions.ClientError) as excinfo:
        client.delete_object(Bucket=bucket, Key="a.lock", IfMatch=etag)
    assert s3_error(excinfo)[:2] == (404, "NoSuchKey")


def test_if_match_star_deletes_an_object_that_exists(aws):
    """"You can use the If-Match header with the * value to check if the
    object exists before attempting to delete it" (user guide, conditional
    deletes); moto alone answers 412."""
    client, bucket = new_bucket(aws)
    client.put_object(Bucket=bucket, Key="a.lock", Body=b"x")
    assert client.delete_object(Bucket=bucket, Key="a.lock", IfMatch="*")["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(client.exceptions.ClientError) as excinfo:
        client.delete_object(Bucket=bucket, Key="a.lock", IfMatch="*")
    assert s3_error(excinfo)[:2] == (404, "NoSuchKey")


def _race(n: int, attempt) -> tuple[list[int], list[str]]:
    """Runs attempt(i) in n threads released together; (winners, error codes)."""
    winners: list[int] = []
    codes: list[str] = []
    barrier = threading.Barrier(n)
    guard = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            attempt(i)
        except botocore.exceptions.ClientError as e:
            with guard:
                codes.append(e.response["Error"]["Code"])
        else:
            with guard:
                winners.append(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return winners, codes


def test_concurrent_acquirers_have_exactly_one_winner(aws):
    base, bucket = new_bucket(aws)
    clients = [aws("s3") for _ in range(8)]
    for trial in range(15):
        key = f"locks/stack-{trial}.lock"
        winners, codes = _race(8, lambda i: clients[i].put_object(
            Bucket=bucket, Key=key, Body=f"holder {i}".encode(), IfNoneMatch="*"))
        assert len(winners) == 1, (trial, winners, codes)
        assert codes == ["PreconditionFailed"] * 7
        assert base.get_object(Bucket=bucket, Key=key)["Body"].read() == f"holder {winners[0]}".encode()


def test_concurrent_takeovers_of_an_expired_lease_have_exactly_one_winner(aws):
    base, bucket = new_bucket(aws)
    clients = [aws("s3") for _ in range(8)]
    for trial in range(15):
        key = f"locks/stack-{trial}.lock"
        expired = base.put_object(Bucket=bucket, Key=key, Body=b"expired holder")["ETag"]
        winners, codes = _race(8, lambda i: clients[i].put_object(
            Bucket=bucket, Key=key, Body=f"new holder {i}".encode(), IfMatch=expired))
        assert len(winners) == 1, (trial, winners, codes)
        assert codes == ["PreconditionFailed"] * 7
        assert base.get_object(Bucket=bucket, Key=key)["Body"].read() == f"new holder {winners[0]}".encode()


class _RacyStore:
    """A WSGI app that checks a condition, yields the CPU, then writes: the
    shape of moto's conditional PutObject, with the window made wide."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def __call__(self, environ, start_response):
        key = environ["PATH_INFO"]
        exists = key in self.objects
        time.sleep(0.01)
        if environ.get("HTTP_IF_NONE_MATCH") == "*" and exists:
            start_response("412 Precondition Failed", [])
            return [b""]
        self.objects[key] = environ["wsgi.input"].read()
        start_response("200 OK", [])
        return [b""]


def _racy_acquirers(app, n: int = 6) -> int:
    wins: list[str] = []
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        import io

        environ = {"PATH_INFO": "/b/k", "HTTP_IF_NONE_MATCH": "*", "wsgi.input": io.BytesIO(str(i).encode())}
        statuses: list[str] = []
        barrier.wait()
        app(environ, lambda status, headers: statuses.append(status))
        if statuses[0].startswith("200"):
            wins.append(str(i))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(wins)


def test_the_key_lock_closes_the_check_then_write_window():
    # Without the lock every acquirer passes the check: the race is real.
    assert _racy_acquirers(_RacyStore()) > 1
    front = s3.S3Front(_RacyStore())
    target = s3.Target(operation="PutObject", bucket="b", key="k", actions=("s3:PutObject",),
                       headers={"if-none-match": "*"})
    # Through S3Front (no bucket in moto: no redirect or ownership refusal).
    wrapped = lambda environ, start_response: front(environ, start_response, target, "123456789012", "us-east-1")
    assert _racy_acquirers(wrapped) == 1


# --- buckets in other regions and accounts ---------------------------------------------------


def test_a_bucket_in_another_region_is_a_permanent_redirect(server, aws, account):
    _, bucket = new_bucket(aws, region="eu-west-1")
    status, headers, body = raw_request(server.port, "PUT", f"/{bucket}/lock/a.lock", service="s3",
                                        account=account, region="us-east-1", body=b"x")
    assert status == 301
    assert headers["x-amz-bucket-region"] == "eu-west-1"
    text = body.decode()
    assert "<Code>PermanentRedirect</Code>" in text
    assert ("<Message>The bucket you are attempting to access must be addressed using the specified endpoint. "
            "Please send all future requests to this endpoint.</Message>") in text
    assert f"<Endpoint>{bucket}.s3-eu-west-1.amazonaws.com</Endpoint><Bucket>{bucket}</Bucket>" in text
    # HEAD: the status and the region header, no body.
    status, headers, body = raw_request(server.port, "HEAD", f"/{bucket}", service="s3", account=account)
    assert (status, headers["x-amz-bucket-region"], body) == (301, "eu-west-1", b"")
    # GetBucketLocation answers from any region.
    status, _, body = raw_request(server.port, "GET", f"/{bucket}?location", service="s3", account=account)
    assert status == 200 and b"eu-west-1" in body


def test_botocore_follows_the_redirect_the_rust_sdk_reports(control, aws, account):
    """botocore's S3 region redirector recognises the 301 and retries signed for
    eu-west-1: the answer is AWS's. The Rust SDK does not follow it and reports
    the code PermanentRedirect (awslabs/aws-sdk-rust #183)."""
    _, bucket = new_bucket(aws, region="eu-west-1")
    aws("s3", region="us-east-1").put_object(Bucket=bucket, Key="k", Body=b"x")
    assert control.calls(account)["served"]["s3:PutObject"] == 2


def test_another_accounts_bucket_is_access_denied(aws, server):
    _, bucket = new_bucket(aws)
    stranger = str(random.randint(100_000_000_000, 999_999_999_999))
    client = aws("s3", account_id=stranger)
    with pytest.raises(client.exceptions.ClientError) as excinfo:
        client.put_object(Bucket=bucket, Key="k", Body=b"x")
    status, code, message = s3_error(excinfo)
    assert (status, code) == (403, "AccessDenied")
    assert message == (
        f'User: arn:aws:sts::{stranger}:user/moto is not authorized to perform: s3:PutObject on resource: '
        f'"arn:aws:s3:::{bucket}/k" because no resource-based policy allows the s3:PutObject action'
    )
    with pytest.raises(client.exceptions.ClientError) as excinfo:
        client.head_bucket(Bucket=bucket)
    assert s3_error(excinfo)[0] == 403


# --- faults --------------------------------------------------------------------------------


def test_deny_an_action_under_a_key_prefix(control, aws, account):
    client, bucket = new_bucket(aws)
    control.add_fault(service="s3", kind="deny", action="s3:PutObject", bucket=bucket, keyPrefix="locks/")
    with pytest.raises(client.exceptions.ClientError) as excinfo:
        client.put_object(Bucket=bucket, Key="locks/stack.lock", Body=b"x", IfNoneMatch="*")
    status, code, message = s3_error(excinfo)
    assert (status, code) == (403, "AccessDenied")
    assert message == (
        f'User: arn:aws:sts::{account}:user/moto is not authorized to perform: s3:PutObject on resource: '
        f'"arn:aws:s3:::{bucket}/locks/stack.lock" because no identity-based policy allows the s3:PutObject action'
    )
    # Other prefixes, other actions and other buckets are unaffected.
    client.put_object(Bucket=bucket, Key="artifacts/a.py", Body=b"x")
    with pytest.raises(client.exceptions.NoSuchKey):
        client.get_object(Bucket=bucket, Key="locks/stack.lock")
    other_client, other = new_bucket(aws)
    other_client.put_object(Bucket=other, Key="locks/stack.lock", Body=b"x")


def test_a_conditional_put_needs_get_object_too(control, aws, account):
    """If-Match needs s3:PutObject and s3:GetObject (user guide, conditional
    writes); If-None-Match needs s3:PutObject only."""
    client, bucket = new_bucket(aws)
    etag = client.put_object(Bucket=bucket, Key="l.lock", Body=b"x")["ETag"]
    control.add_fault(service="s3", kind="deny", action="s3:GetObject", bucket=bucket)
    with pytest.raises(client.exceptions.ClientError) as excinfo:
        client.put_object(Bucket=bucket, Key="l.lock", Body=b"y", IfMatch=etag)
    status, code, message = s3_error(excinfo)
    assert (status, code) == (403, "AccessDenied") and "perform: s3:GetObject on" in message
    client.put_object(Bucket=bucket, Key="m.lock", Body=b"y", IfNoneMatch="*")
    # A HEAD error has no body: status only.
    with pytest.raises(client.exceptions.ClientError) as excinfo:
        client.head_object(Bucket=bucket, Key="m.lock")
    assert s3_error(excinfo)[0] == 403
    # Deleting with If-Match: <etag> needs s3:GetObject too; with If-Match: * it does not.
    with pytest.raises(client.exceptions.ClientError):
        client.delete_object(Bucket=bucket, Key="l.lock", IfMatch=etag)
    client.delete_object(Bucket=bucket, Key="l.lock", IfMatch="*")


def test_deny_patterns_and_every_action(control, aws):
    client, bucket = new_bucket(aws)
    client.put_object(Bucket=bucket, Key="a", Body=b"x")
    rule = control.add_fault(service="s3", kind="deny", action="s3:*", bucket=bucket, count=2)
    for call in (lambda: client.list_objects_v2(Bucket=bucket), lambda: client.get_object(Bucket=bucket, Key="a")):
        with pytest.raises(client.exceptions.ClientError) as excinfo:
            call()
        assert s3_error(excinfo)[:2] == (403, "AccessDenied")
    client.get_object(Bucket=bucket, Key="a")
    faults = control.ok("GET", "/_emulator/faults")["rules"]
    assert [(r["id"], r["fired"], r["bucket"], r["action"]) for r in faults] == [(rule["id"], 2, bucket, ["s3:*"])]


def test_s3_faults_have_s3s_error_document(server, control, aws, account):
    client, bucket = new_bucket(aws)
    control.add_fault(service="s3", operation="PutObject", kind="error", status=409,
                      code="ConditionalRequestConflict",
                      message="A conflicting conditional operation is currently in progress against this resource. Try again.",
                      count=1)
    with pytest.raises(client.exceptions.ClientError) as excinfo:
        client.put_object(Bucket=bucket, Key="a.lock", Body=b"x", IfNoneMatch="*")
    assert s3_error(excinfo)[:2] == (409, "ConditionalRequestConflict")
    control.add_fault(service="s3", kind="throttle", count=1)
    status, headers, body = raw_request(server.port, "GET", f"/{bucket}?list-type=2", service="s3", account=account)
    assert status == 503 and headers["content-type"] == "application/xml"
    assert b"<Code>SlowDown</Code><Message>Please reduce your request rate.</Message>" in body
    assert headers["x-amz-request-id"] and headers["x-amz-id-2"]
    control.add_fault(service="s3", kind="server_error", count=1)
    status, _, body = raw_request(server.port, "GET", f"/{bucket}?list-type=2", service="s3", account=account)
    assert status == 500 and b"<Code>InternalError</Code>" in body


def test_botocore_retries_slow_down(control, aws):
    client, bucket = new_bucket(aws)
    retrying = aws("s3", retries={"total_max_attempts": 3, "mode": "standard"})
    control.add_fault(service="s3", operation="HeadObject", kind="throttle", count=2)
    client.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert retrying.head_object(Bucket=bucket, Key="k")["ResponseMetadata"]["RetryAttempts"] == 2


def test_an_authorization_header_for_the_wrong_region_can_be_injected(control, aws):
    """What AWS answers when a request reaches the bucket's regional endpoint
    signed for another region; one endpoint serves every region here, so a
    test that wants it says so."""
    client, bucket = new_bucket(aws)
    control.add_fault(service="s3", bucket=bucket, kind="error", status=400, code="AuthorizationHeaderMalformed",
                      message="The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'")
    with pytest.raises(client.exceptions.ClientError) as excinfo:
        client.list_objects_v2(Bucket=bucket)
    assert s3_error(excinfo)[:2] == (400, "AuthorizationHeaderMalformed")


@pytest.mark.parametrize("rule", [
    {"kind": "deny"},
    {"kind": "deny", "service": "iam"},
    {"kind": "throttle", "service": "iam", "bucket": "b"},
    {"kind": "deny", "service": "s3", "action": []},
    {"kind": "deny", "service": "s3", "action": 3},
    {"kind": "throttle", "service": "dynamodb"},
])
def test_bad_s3_rules_are_refused(control, rule):
    status, body = control.call("POST", "/_emulator/faults", rule)
    assert status == 400 and body["error"]


# --- validation ------------------------------------------------------------------------------


def test_a_storage_class_outside_the_model(aws):
    client, bucket = new_bucket(aws)
    with pytest.raises(client.exceptions.ClientError) as excinfo:
        client.put_object(Bucket=bucket, Key="k", Body=b"x", StorageClass="COLD")
    assert s3_error(excinfo) == (400, "InvalidStorageClass", "The storage class you specified is not valid")
    assert excinfo.value.response["Error"]["StorageClassRequested"] == "COLD"


def test_other_model_violations_are_invalid_argument(aws):
    client, bucket = new_bucket(aws)
    with pytest.raises(client.exceptions.ClientError) as excinfo:
        client.put_object(Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="rot13")
    status, code, _ = s3_error(excinfo)
    assert (status, code) == (400, "InvalidArgument")
    error = excinfo.value.response["Error"]
    assert (error["ArgumentName"], error["ArgumentValue"]) == ("x-amz-server-side-encryption", "rot13")
    with pytest.raises(client.exceptions.ClientError) as excinfo:
        client.list_objects_v2(Bucket=bucket, EncodingType="base64")
    assert excinfo.value.response["Error"]["ArgumentName"] == "encoding-type"
    # Values the model allows pass.
    client.put_object(Bucket=bucket, Key="k", Body=b"x", StorageClass="STANDARD_IA", ServerSideEncryption="AES256")
