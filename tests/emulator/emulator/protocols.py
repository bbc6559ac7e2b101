"""What each AWS protocol looks like on the wire, for the front layer.

Three things live here because they differ per service and protocol:

- which service, region and access key a request is for (the SigV4
  credential scope of the ``Authorization`` header, as moto routes it);
- the operation name (rest-json: method and path; rest-xml (S3): method,
  path, query and headers against the model's routes; awsJson: the
  ``X-Amz-Target`` header; query and ec2-query: the ``Action`` parameter);
- the error shapes: a fault must look exactly like the service's own errors
  or the SDKs misclassify it.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, quote
from xml.sax.saxutils import escape

from werkzeug.wrappers import Response

from .emr import routes as emr_routes

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"

# Protocols of the services emrstack uses (botocore metadata.protocol).
REST_JSON = "rest-json"
REST_XML = "rest-xml"
AWS_JSON = "json"
QUERY = "query"
EC2_QUERY = "ec2"

PROTOCOLS = {
    "emr-serverless": REST_JSON,
    "ecr": AWS_JSON,
    "iam": QUERY,
    "sts": QUERY,
    "ec2": EC2_QUERY,
    "s3": REST_XML,
    "tagging": AWS_JSON,  # the Resource Groups Tagging API (tagging.py)
}

# XML namespaces of the query-protocol services' error documents.
_QUERY_NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}

_CREDENTIAL = re.compile(r"Credential=([^/,\s]*)/(\d{8})/([^/]+)/([^/]+)/aws4_request")
_ACCOUNT_ID = re.compile(r"\d{12}")


@dataclass(frozen=True)
class Scope:
    """What the SigV4 credential scope says about a request."""

    access_key: str | None
    region: str | None
    service: str | None


def parse_authorization(header: str | None) -> Scope:
    """Reads access key, region and service from a SigV4 Authorization header."""
    if not header:
        return Scope(None, None, None)
    m = _CREDENTIAL.search(header)
    if not m:
        return Scope(None, None, None)
    access_key, _date, region, service = m.groups()
    return Scope(access_key or None, region, service.lower())


def account_from_access_key(access_key: str | None) -> str | None:
    """An access key ID of exactly 12 digits names the account to emulate."""
    if access_key and _ACCOUNT_ID.fullmatch(access_key):
        return access_key
    return None


def operation_name(service: str | None, method: str, path: str, headers, body: bytes, query_string: str) -> str | None:
    """Derives the operation name from the request, per protocol."""
    protocol = PROTOCOLS.get(service or "")
    if protocol == REST_JSON:
        found = emr_routes.match(method, path)
        return found[0] if found else None
    if protocol == REST_XML:
        from . import s3

        return s3.operation_name(method, quote(path), headers, query_string)
    target = headers.get("X-Amz-Target")
    if target and "." in target:
        return target.rsplit(".", 1)[1]
    # Query protocols: Action in the form body or in the query string.
    for source in (_form_text(headers, body), query_string):
        if source:
            action = parse_qs(source, keep_blank_values=True).get("Action")
            if action:
                return action[0]
    return None


def _form_text(headers, body: bytes) -> str:
    content_type = headers.get("Content-Type", "")
    if body and content_type.startswith("application/x-www-form-urlencoded"):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return ""
    return ""


def new_request_id() -> str:
    return str(uuid.uuid4())


def error_response(
    service: str | None, status: int, code: str, message: str, extra: dict[str, str] | None = None
) -> Response:
    """An error in the wire shape of ``service``'s protocol (``extra``: further
    elements of S3's error document)."""
    request_id = new_request_id()
    protocol = PROTOCOLS.get(service or "", REST_JSON)
    if protocol == REST_XML:
        from . import s3

        return s3.error_response(status, code, message, extra)
    if protocol == REST_JSON:
        # rest-json: the code in X-Amzn-ErrorType, the message in the body.
        return Response(
            json.dumps({"message": message}),
            status=status,
            headers={"X-Amzn-ErrorType": code, "x-amzn-RequestId": request_id},
            content_type="application/json",
        )
    if protocol == AWS_JSON:
        return Response(
            json.dumps({"__type": code, "message": message}),
            status=status,
            headers={"X-Amzn-ErrorType": code, "x-amzn-RequestId": request_id},
            content_type="application/x-amz-json-1.1",
        )
    if protocol == EC2_QUERY:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{escape(code)}</Code>"
            f"<Message>{escape(message)}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
        return Response(body, status=status, content_type="text/xml;charset=UTF-8")
    # query (IAM, STS)
    namespace = _QUERY_NAMESPACES.get(service or "", "https://iam.amazonaws.com/doc/2010-05-08/")
    fault_type = "Receiver" if status >= 500 else "Sender"
    body = (
        f'<ErrorResponse xmlns="{namespace}">'
        f"<Error><Type>{fault_type}</Type><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return Response(body, status=status, headers={"x-amzn-RequestId": request_id}, content_type="text/xml")


# Throttling as each service reports it. EMR Serverless does not model a
# throttling error; 429 ThrottlingException is what the SDKs' retry
# classifiers recognise (docs/api-semantics.md, BELIEF).
_THROTTLE = {
    "emr-serverless": (429, "ThrottlingException", "Rate exceeded"),
    "ecr": (400, "ThrottlingException", "Rate exceeded"),
    "iam": (400, "Throttling", "Rate exceeded"),
    "sts": (400, "Throttling", "Rate exceeded"),
    "ec2": (503, "RequestLimitExceeded", "Request limit exceeded."),
    # S3's error code list: SlowDown, 503, "Please reduce your request rate."
    "s3": (503, "SlowDown", "Please reduce your request rate."),
    # The Tagging API's modelled throttling error (botocore model).
    "tagging": (400, "ThrottledException", "The request was denied to limit the frequency of submitted requests."),
}

# Server-side failures as each service reports them (the modelled 5xx error
# where there is one, AWS's common InternalFailure otherwise).
_SERVER_ERROR = {
    "emr-serverless": (500, "InternalServerException", "Internal server error"),
    "ecr": (500, "ServerException", "Internal server error"),
    "iam": (500, "ServiceFailure", "The request processing has failed because of an unknown error, exception or failure."),
    "sts": (500, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure."),
    "ec2": (500, "InternalError", "An internal error has occurred."),
    # S3's error code list: InternalError, 500.
    "s3": (500, "InternalError", "We encountered an internal error. Please try again."),
    "tagging": (500, "InternalServiceException", "The request processing failed because of an unknown error."),
}


def throttle_response(service: str | None) -> Response:
    status, code, message = _THROTTLE.get(service or "", (400, "ThrottlingException", "Rate exceeded"))
    return error_response(service, status, code, message)


def server_error_response(service: str | None, status: int | None = None) -> Response:
    default_status, code, message = _SERVER_ERROR.get(service or "", (500, "InternalFailure", "Internal failure"))
    return error_response(service, status or default_status, code, message)
