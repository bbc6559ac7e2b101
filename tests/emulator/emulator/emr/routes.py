"""The EMR Serverless rest-json route table: (method, path) -> operation.

It follows the ``http`` traits of the public API model (botocore
``emr-serverless/2021-07-13/service-2.json``). The front layer uses it to
name operations for fault rules, rate limits and call counts; the EMR API
uses it to dispatch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Path labels other than the tag ARN are IDs matching [0-9a-z]+ in the model;
# the routes accept any segment so that a malformed ID reaches the handler and
# gets the model's ValidationException instead of a routing error.
_SEGMENT = r"(?P<{name}>[^/]+)"


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    operation: str


def _route(method: str, template: str, operation: str) -> Route:
    regex = re.escape(template)
    for name in ("applicationId", "jobRunId", "sessionId"):
        regex = regex.replace(re.escape("{" + name + "}"), _SEGMENT.format(name=name))
    # The tag routes take the whole ARN, which contains '/' once decoded.
    regex = regex.replace(re.escape("{resourceArn}"), r"(?P<resourceArn>.+)")
    return Route(method, re.compile(regex), operation)


ROUTES: tuple[Route, ...] = (
    _route("POST", "/applications", "CreateApplication"),
    _route("GET", "/applications", "ListApplications"),
    _route("GET", "/applications/{applicationId}", "GetApplication"),
    _route("PATCH", "/applications/{applicationId}", "UpdateApplication"),
    _route("DELETE", "/applications/{applicationId}", "DeleteApplication"),
    _route("POST", "/applications/{applicationId}/start", "StartApplication"),
    _route("POST", "/applications/{applicationId}/stop", "StopApplication"),
    _route("POST", "/applications/{applicationId}/jobruns", "StartJobRun"),
    _route("GET", "/applications/{applicationId}/jobruns", "ListJobRuns"),
    _route("GET", "/applications/{applicationId}/jobruns/{jobRunId}", "GetJobRun"),
    _route("DELETE", "/applications/{applicationId}/jobruns/{jobRunId}", "CancelJobRun"),
    _route("GET", "/applications/{applicationId}/jobruns/{jobRunId}/attempts", "ListJobRunAttempts"),
    _route("GET", "/applications/{applicationId}/jobruns/{jobRunId}/dashboard", "GetDashboardForJobRun"),
    _route("GET", "/applications/{applicationId}/dashboard", "GetResourceDashboard"),
    _route("POST", "/applications/{applicationId}/sessions", "StartSession"),
    _route("GET", "/applications/{applicationId}/sessions", "ListSessions"),
    _route("GET", "/applications/{applicationId}/sessions/{sessionId}", "GetSession"),
    _route("DELETE", "/applications/{applicationId}/sessions/{sessionId}", "TerminateSession"),
    _route("GET", "/applications/{applicationId}/sessions/{sessionId}/endpoint", "GetSessionEndpoint"),
    _route("GET", "/tags/{resourceArn}", "ListTagsForResource"),
    _route("POST", "/tags/{resourceArn}", "TagResource"),
    _route("DELETE", "/tags/{resourceArn}", "UntagResource"),
)


def match(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """Returns (operation, path parameters) for a request, or None.

    ``path`` is the decoded path (WSGI ``PATH_INFO``); a trailing slash is
    tolerated as the SDKs never send one but curl users might.
    """
    if len(path) > 1 and path.endswith("/") and not path.startswith("/tags/"):
        path = path[:-1]
    for route in ROUTES:
        if route.method != method:
            continue
        m = route.pattern.fullmatch(path)
        if m:
            return route.operation, m.groupdict()
    return None
