"""EMR Serverless over rest-json: request parsing, dispatch, response shapes.

Path and query members follow the model's ``location`` traits; bodies and
responses use the model's member names; timestamps are epoch seconds;
errors carry ``X-Amzn-ErrorType`` and ``{"message": ...}``. Requests arrive
here already held against the model by the front layer's validator.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from .. import protocols
from . import errors, routes
from .backend import EmrBackend


class EmrApi:
    def __init__(self, backend: EmrBackend) -> None:
        self.backend = backend

    def handle(self, request: Request, account: str, region: str) -> Response:
        self.backend.flush_logs()
        try:
            found = routes.match(request.method, request.path)
            if found is None:
                raise errors.ApiError(404, "UnknownOperationException", f"No operation for {request.method} {request.path}")
            operation, params = found
            handler = getattr(self, "_" + operation, None)
            if handler is None:
                raise errors.not_implemented(operation)
            result = handler(request, account, region, **params)
            return Response(
                json.dumps(result),
                status=200,
                headers={"x-amzn-RequestId": protocols.new_request_id()},
                content_type="application/json",
            )
        except errors.ApiError as e:
            return protocols.error_response("emr-serverless", e.status, e.code, e.message)

    # --- applications ---------------------------------------------------------

    def _CreateApplication(self, request, account, region):
        return self.backend.create_application(account, region, _body(request))

    def _GetApplication(self, request, account, region, applicationId):
        return self.backend.get_application(account, region, applicationId)

    def _ListApplications(self, request, account, region):
        return self.backend.list_applications(
            account, region, request.args.getlist("states"),
            _int_param(request, "maxResults"),
            request.args.get("nextToken"),
        )

    def _UpdateApplication(self, request, account, region, applicationId):
        return self.backend.update_application(account, region, applicationId, _body(request))

    def _DeleteApplication(self, request, account, region, applicationId):
        return self.backend.delete_application(account, region, applicationId)

    def _StartApplication(self, request, account, region, applicationId):
        return self.backend.start_application(account, region, applicationId)

    def _StopApplication(self, request, account, region, applicationId):
        return self.backend.stop_application(account, region, applicationId)

    # --- job runs ---------------------------------------------------------------

    def _StartJobRun(self, request, account, region, applicationId):
        return self.backend.start_job_run(account, region, applicationId, _body(request))

    def _GetJobRun(self, request, account, region, applicationId, jobRunId):
        return self.backend.get_job_run(account, region, applicationId, jobRunId, _int_param(request, "attempt"))

    def _GetDashboardForJobRun(self, request, account, region, applicationId, jobRunId):
        # The URL points at the emulator itself, at the address the client used.
        return self.backend.get_dashboard(
            account, region, applicationId, jobRunId, _int_param(request, "attempt"), f"http://{request.host}",
        )

    def _ListJobRunAttempts(self, request, account, region, applicationId, jobRunId):
        return self.backend.list_job_run_attempts(
            account, region, applicationId, jobRunId, _int_param(request, "maxResults"), request.args.get("nextToken"),
        )

    def _ListJobRuns(self, request, account, region, applicationId):
        return self.backend.list_job_runs(
            account, region, applicationId, request.args.getlist("states"),
            _int_param(request, "maxResults"),
            request.args.get("nextToken"),
            _time_param(request, "createdAtAfter"),
            _time_param(request, "createdAtBefore"),
            request.args.get("mode"),
        )

    def _CancelJobRun(self, request, account, region, applicationId, jobRunId):
        return self.backend.cancel_job_run(account, region, applicationId, jobRunId)

    # --- sessions -----------------------------------------------------------------

    def _StartSession(self, request, account, region, applicationId):
        return self.backend.start_session(account, region, applicationId, _body(request))

    def _GetSession(self, request, account, region, applicationId, sessionId):
        return self.backend.get_session(account, region, applicationId, sessionId)

    def _GetSessionEndpoint(self, request, account, region, applicationId, sessionId):
        return self.backend.get_session_endpoint(account, region, applicationId, sessionId)

    def _ListSessions(self, request, account, region, applicationId):
        return self.backend.list_sessions(
            account, region, applicationId, request.args.getlist("states"),
            _int_param(request, "maxResults"),
            request.args.get("nextToken"),
            _time_param(request, "createdAtAfter"),
            _time_param(request, "createdAtBefore"),
        )

    def _TerminateSession(self, request, account, region, applicationId, sessionId):
        return self.backend.terminate_session(account, region, applicationId, sessionId)

    # --- tags -------------------------------------------------------------------

    def _TagResource(self, request, account, region, resourceArn):
        return self.backend.tag_resource(account, region, resourceArn, _body(request))

    def _UntagResource(self, request, account, region, resourceArn):
        return self.backend.untag_resource(account, region, resourceArn, request.args.getlist("tagKeys"))

    def _ListTagsForResource(self, request, account, region, resourceArn):
        return self.backend.list_tags(account, region, resourceArn)


def _body(request: Request) -> dict[str, Any]:
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise errors.serialization("The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise errors.serialization("The request body must be a JSON object")
    return body


def _int_param(request: Request, name: str) -> int | None:
    """An integer query parameter (its range was checked in the front layer)."""
    text = request.args.get(name)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise errors.serialization(f"STRING_VALUE can not be converted to an Integer: '{text}' at '{name}'") from None


def _time_param(request: Request, name: str) -> float | None:
    """Query timestamps: ISO 8601 (what the SDKs send) or epoch seconds."""
    text = request.args.get(name)
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise errors.validation(f"Value '{text}' at '{name}' failed to satisfy constraint: Member must be a timestamp") from None
