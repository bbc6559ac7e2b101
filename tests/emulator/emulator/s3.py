"""S3: moto's, with the behaviours of real S3 that emrstack's artifact store
and stack lock depend on added in front of it.

moto 5.2.5 serves S3 itself (buckets, objects, ETags, NoSuchBucket,
NoSuchKey, PreconditionFailed for ``If-None-Match: *`` and ``If-Match`` on
PutObject, ``If-Match`` on DeleteObject). This module adds, each with its
source:

- **Addressing.** Path style (``http://127.0.0.1:PORT/bucket/key``), which
  every SDK uses against an endpoint that is an IP address: the S3 endpoint
  rules shared by the SDKs (botocore's and the Rust SDK's ruleset) build
  ``{url#scheme}://{url#authority}/{bucket}`` when ``url#isIp`` is true.
  Virtual-hosted requests (``Host: bucket.localhost:PORT``) are read too, as
  moto reads them; ``request_path`` turns them into path style for routing
  and validation.
- **Atomic conditional writes.** moto checks a condition and then writes, two
  steps another thread can come between; S3 evaluates them atomically: "If
  multiple conditional writes or copies occur for the same object name, the
  first write operation to finish succeeds. Amazon S3 then fails subsequent
  writes with a 412 Precondition Failed response" (user guide, "How to
  prevent object overwrites with conditional writes", Conditional write
  behavior). Every write and delete of one key is serialised here (a lock per
  bucket and key), so two acquirers of a lock object never both win.
- **Conditional deletes.** ``If-Match: *`` deletes an object that exists
  (moto answers 412): "You can use the If-Match header with the * value to
  check if the object exists before attempting to delete it ... the operation
  will only succeed with a 204 No Content if the object exists"; a missing
  object is a Not Found (user guide, "How to perform conditional deletes").
- **If-None-Match other than ``*``** on PutObject: the API expects "the '*'
  (asterisk) character" (PutObject, IfNoneMatch). moto ignores any other value
  and writes; here it is 501 NotImplemented "A header you provided implies
  functionality that is not implemented" (S3's error code list), BELIEF, low:
  no capture of AWS's answer to this header was found.
- **A bucket in another region**: 301 PermanentRedirect, the
  ``x-amz-bucket-region`` header and an ``Endpoint`` element, for every
  request on a bucket whose region is not the request's signing region
  (CreateBucket and GetBucketLocation excepted). PUBLIC: yanganto/s3rs #18
  (2019, a us-east-1 client on an ap-northeast-1 bucket: "301 Moved
  Permanently", ``x-amz-bucket-region: ap-northeast-1``, "<Code>PermanentRedirect</Code>
  <Message>The bucket you are attempting to access must be addressed using
  the specified endpoint. Please send all future requests to this
  endpoint.</Message><Endpoint>ant-lab.s3-ap-northeast-1.amazonaws.com</Endpoint>
  <Bucket>ant-lab</Bucket>"), awslabs/mountpoint-s3 #1 (2022, the same for
  ListObjectsV2 on us-west-2), aws/aws-sdk-js #285 (the global endpoint does
  the same). The Rust SDK does not follow it (dacort/s3grep #4) and reports
  the code PermanentRedirect (awslabs/aws-sdk-rust #183). A HEAD request gets
  the status and header without a body, as every HEAD error. AWS answers
  AuthorizationHeaderMalformed instead when a request reaches the bucket's
  own regional endpoint signed for another region; one endpoint serves every
  region here, so that case needs a fault rule.
- **A bucket of another account**: 403 AccessDenied, as for any S3 resource
  without a policy granting access ("By default, all Amazon S3 resources are
  private"; BELIEF, high). moto lets any account use any bucket.

The error document is S3's: ``<Error><Code/><Message/>...<RequestId/><HostId/></Error>``,
``application/xml``, ``x-amz-request-id`` and ``x-amz-id-2`` headers.
"""

from __future__ import annotations

import base64
import contextlib
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping
from urllib.parse import quote, unquote
from xml.sax.saxutils import escape

from werkzeug.wrappers import Response

# Operations that write or delete one object; they hold that key's lock while
# moto serves them.
_OBJECT_WRITES = ("PutObject", "CopyObject", "DeleteObject", "CompleteMultipartUpload")
# Bucket-scoped operations that a bucket in another region redirects. CreateBucket
# creates it where the request says; GetBucketLocation is how a client finds
# the region (BELIEF: it answers from any region); ListBuckets names no bucket.
_NOT_REDIRECTED = ("CreateBucket", "GetBucketLocation", "ListBuckets")

# The IAM action each operation needs (S3's authorization reference); the
# operations emrstack uses, then the general rule s3:<Operation>.
_ACTIONS = {
    "HeadObject": "s3:GetObject",
    "GetObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "CopyObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "DeleteObject": "s3:DeleteObject",
    "DeleteObjects": "s3:DeleteObject",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
    "ListBuckets": "s3:ListAllMyBuckets",
}


@dataclass(frozen=True)
class Target:
    """What an S3 request is about."""

    operation: str | None
    bucket: str | None
    key: str | None
    # IAM actions the request needs, in the order S3 is assumed to check them.
    actions: tuple[str, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def resource(self) -> str:
        if self.bucket is None:
            return "*"
        if self.key is None:
            return f"arn:aws:s3:::{self.bucket}"
        return f"arn:aws:s3:::{self.bucket}/{self.key}"


# --- addressing -----------------------------------------------------------------------


class _HeaderView:
    def __init__(self, host: str) -> None:
        self.headers = {"host": host, "Host": host}
        self.url = f"http://{host}/"


def virtual_host_bucket(host: str | None) -> str | None:
    """The bucket a virtual-hosted request names in its Host, as moto reads it."""
    if not host:
        return None
    from moto.s3.responses import S3Response
    from moto.s3.utils import bucket_name_from_url

    if not S3Response.subdomain_based_buckets(_HeaderView(host)):
        return None
    return bucket_name_from_url(f"http://{host}/")


def request_path(raw_path: str, host: str | None) -> str:
    """The request's path in path style (still percent-encoded). A bucket
    request may end in '/' (the Rust SDK sends ``PUT /bucket/`` for
    CreateBucket and ``GET /bucket/?location``); a key is never empty, so
    ``/bucket/`` is ``/bucket``."""
    bucket = virtual_host_bucket(host)
    if bucket is None:
        path = raw_path or "/"
    else:
        rest = raw_path if raw_path.startswith("/") else "/" + raw_path
        path = "/" + quote(bucket, safe="") + (rest if rest != "/" else "")
    if re.fullmatch(r"/[^/]+/", path):
        path = path[:-1]
    return path


def target(method: str, raw_path: str, query_string: str, headers: Mapping[str, str]) -> Target:
    """Operation, bucket, key and IAM actions of an S3 request."""
    from . import validation
    from .validation import wire

    host = headers.get("Host") or headers.get("host")
    path = request_path(raw_path, host)
    request = wire.HttpRequest(method=method, raw_path=path, query_string=query_string, headers=headers, body=b"")
    found = wire._route(validation.service_model("s3"), request, strip_slash=False)
    operation, labels = (found if found is not None else (None, {}))
    if found is None:
        # Not an operation of the model: still name the bucket and key from the path.
        parts = path.lstrip("/").split("/", 1)
        labels = {"Bucket": unquote(parts[0])} if parts[0] else {}
        if len(parts) == 2 and parts[1]:
            labels["Key"] = unquote(parts[1])
    lowered = {k.lower(): v for k, v in headers.items()}
    return Target(
        operation=operation,
        bucket=labels.get("Bucket"),
        key=labels.get("Key"),
        actions=_actions(operation, lowered),
        headers=lowered,
    )


def _actions(operation: str | None, headers: Mapping[str, str]) -> tuple[str, ...]:
    if operation is None:
        return ()
    action = _ACTIONS.get(operation, f"s3:{operation}")
    if_match = headers.get("if-match")
    # "To perform conditional writes with an HTTP If-Match header you must have
    # the s3:PutObject and s3:GetObject permissions" (user guide, conditional
    # writes); "To perform conditional deletes with the If-Match header with
    # the ETag value, you must have the s3:DeleteObject and s3:GetObject
    # permissions"; with If-Match: * s3:DeleteObject alone (conditional deletes).
    if operation in ("PutObject", "CompleteMultipartUpload") and if_match:
        return (action, "s3:GetObject")
    if operation == "DeleteObject" and if_match and if_match.strip() != "*":
        return (action, "s3:GetObject")
    return (action,)


def operation_name(method: str, raw_path: str, headers: Mapping[str, str], query_string: str) -> str | None:
    return target(method, raw_path, query_string, headers).operation


# --- errors -----------------------------------------------------------------------------


def new_host_id() -> str:
    return base64.b64encode(secrets.token_bytes(48)).decode()


def error_response(status: int, code: str, message: str, extra: Mapping[str, str] | None = None,
                   headers: Mapping[str, str] | None = None) -> Response:
    """An error in S3's XML document (a HEAD request gets the status and headers only)."""
    request_id = secrets.token_hex(8).upper()
    host_id = new_host_id()
    elements = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in (extra or {}).items())
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>{elements}"
        f"<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>"
    )
    all_headers = {"x-amz-request-id": request_id, "x-amz-id-2": host_id}
    all_headers.update(headers or {})
    return Response(body, status=status, headers=all_headers, content_type="application/xml")


def principal(account: str) -> str:
    """The caller as the emulated STS names it (moto's GetCallerIdentity)."""
    return f"arn:aws:sts::{account}:user/moto"


def access_denied(account: str, action: str, resource: str, policy: str = "identity-based") -> Response:
    """S3's AccessDenied as AWS words it since 2024 for requests in the bucket's
    account: "User: arn:aws:iam::178735646603:user/Jane_Billing is not
    authorized to perform: s3:PutObject on resource:
    \\"arn:aws:s3:::mys3billingstorage/test-write.txt\\" because no
    identity-based policy allows the s3:PutObject action" (an AWS CLI capture
    in a public README; the same wording in several others, with the resource
    quoted). For another account's bucket the reason is "no resource-based
    policy" (BELIEF, AWS's documented access-denied message forms)."""
    message = (
        f'User: {principal(account)} is not authorized to perform: {action} on resource: "{resource}" '
        f"because no {policy} policy allows the {action} action"
    )
    return error_response(403, "AccessDenied", message)


# --- state in moto ----------------------------------------------------------------------


_locks_guard = threading.Lock()
_locks: dict[tuple[str, str], threading.Lock] = {}


@contextlib.contextmanager
def key_lock(bucket: str, key: str) -> Iterator[None]:
    """Serialises every write and delete of one object (see the module doc)."""
    with _locks_guard:
        lock = _locks.setdefault((bucket, key), threading.Lock())
    with lock:
        yield


def bucket_owner(bucket: str) -> tuple[str, str] | None:
    """(partition, account) of an existing bucket; bucket names are global."""
    from moto.s3.models import s3_backends

    return s3_backends.bucket_accounts.get(bucket)


def _bucket(bucket: str) -> Any:
    from moto.s3.models import s3_backends

    owner = bucket_owner(bucket)
    if owner is None:
        return None
    partition, account = owner
    return s3_backends[account][partition].buckets.get(bucket)


def _backend(account: str, partition: str = "aws") -> Any:
    from moto.s3.models import s3_backends

    return s3_backends[account][partition]


def object_status(account: str, bucket: str, key: str) -> str | None:
    """None when ``account`` can read the object, else the S3 error code
    (NoSuchBucket, NoSuchKey, AccessDenied for another account's bucket)."""
    owner = bucket_owner(bucket)
    if owner is None:
        return "NoSuchBucket"
    if owner[1] != account:
        return "AccessDenied"
    found = _bucket(bucket)
    if found is None:
        return "NoSuchBucket"
    return None if key in found.keys else "NoSuchKey"


def write_object(account: str, bucket: str, key: str, data: bytes) -> str | None:
    """Puts an object as ``account`` would (EMR Serverless writing a job's
    logs); None on success, else the S3 error code that stopped it."""
    owner = bucket_owner(bucket)
    if owner is None:
        return "NoSuchBucket"
    if owner[1] != account:
        return "AccessDenied"
    with key_lock(bucket, key):
        _backend(account, owner[0]).put_object(bucket, key, data)
    return None


def read_object(account: str, bucket: str, key: str) -> bytes | None:
    if object_status(account, bucket, key) is not None:
        return None
    found = _bucket(bucket)
    return bytes(found.keys[key].value)


# --- serving ------------------------------------------------------------------------------


class S3Front:
    """Serves one S3 request: the checks above, then moto."""

    def __init__(self, moto_app: Any) -> None:
        self.moto = moto_app

    def __call__(self, environ: dict[str, Any], start_response: Any, t: Target, account: str, region: str):
        early = self._refusal(t, account, region)
        if early is not None:
            return early(environ, start_response)
        if t.operation in _OBJECT_WRITES and t.bucket and t.key:
            with key_lock(t.bucket, t.key):
                early = self._conditional(environ, t, account)
                if early is not None:
                    return early(environ, start_response)
                # moto's response is built in full inside the lock.
                return list(self.moto(environ, start_response))
        return self.moto(environ, start_response)

    def _refusal(self, t: Target, account: str, region: str) -> Response | None:
        if t.bucket is None or t.operation in ("CreateBucket", "ListBuckets"):
            return None
        owner = bucket_owner(t.bucket)
        if owner is None:
            return None  # moto answers NoSuchBucket
        found = _bucket(t.bucket)
        if found is not None and t.operation not in _NOT_REDIRECTED and found.region_name != region:
            return redirect(t.bucket, found.region_name)
        if owner[1] != account:
            action = t.actions[0] if t.actions else "s3:*"
            return access_denied(account, action, t.resource, policy="resource-based")
        if t.operation == "PutObject":
            if_none_match = t.headers.get("if-none-match")
            if if_none_match is not None and if_none_match.strip() != "*":
                return error_response(
                    501, "NotImplemented", "A header you provided implies functionality that is not implemented",
                    {"Header": "If-None-Match"},
                )
        return None

    def _conditional(self, environ: dict[str, Any], t: Target, account: str) -> Response | None:
        """DeleteObject with If-Match: * (under the key's lock)."""
        if t.operation != "DeleteObject" or (t.headers.get("if-match") or "").strip() != "*":
            return None
        found = _bucket(t.bucket)
        current = found.keys.get(t.key) if found is not None else None
        if current is None:
            return error_response(404, "NoSuchKey", "The specified key does not exist.", {"Key": t.key})
        environ["HTTP_IF_MATCH"] = current.etag
        return None


def redirect(bucket: str, bucket_region: str) -> Response:
    endpoint = f"{bucket}.s3.amazonaws.com" if bucket_region == "us-east-1" else f"{bucket}.s3-{bucket_region}.amazonaws.com"
    return error_response(
        301, "PermanentRedirect",
        "The bucket you are attempting to access must be addressed using the specified endpoint. "
        "Please send all future requests to this endpoint.",
        {"Endpoint": endpoint, "Bucket": bucket},
        headers={"x-amz-bucket-region": bucket_region},
    )
