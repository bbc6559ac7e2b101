"""The front WSGI layer: every request passes here first.

For each request it works out service, region, account and operation, then
in this order:

1. ``/_emulator/...`` goes to the control API (never faulted or counted);
2. fault rules may delay it, answer it with an error or drop the connection;
3. the EMR Serverless rate limiter may throttle it;
4. the request validator (``emulator.validation``) holds it against its
   service's botocore model and answers a violation as the service would;
5. EMR Serverless goes to our implementation, the Resource Groups Tagging
   API (``tagging``) to ``tagging.py``, S3 to ``emulator.s3`` (real S3's
   behaviours in front of moto's), everything else to moto.

Accounts: the ``x-moto-account-id`` header if the client sent one, else the
access key ID when it is exactly 12 digits, else moto's default
123456789012. The front layer writes the result into ``x-moto-account-id`` so
that moto and our EMR Serverless agree on it.
"""

from __future__ import annotations

import io
import time
from typing import Any, Callable, Iterable
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from . import iam_names, protocols, s3, validation
from .config import StartupConfig
from .counters import CallCounter
from .emr.api import EmrApi
from .emr.backend import EmrBackend
from .faults import FaultEngine
from .ratelimit import RateLimiter
from .tagging import TaggingApi

DROP_CONNECTION = "emulator.drop_connection"

# Services the rate limiter applies to: EMR Serverless, and the Tagging API
# (served by tagging.py, whose GetResources has a documented rate).
RATE_LIMITED = ("emr-serverless", "tagging")

# EMR Serverless operations that can change tags, after which the Tagging
# API remembers the resource as (previously) tagged, and when its tags
# changed (for the index's lag).
TAGS_CHANGED_BY = ("CreateApplication", "TagResource", "UntagResource", "StartJobRun")


class Emulator:
    """The whole emulator as one WSGI application."""

    def __init__(self, startup: StartupConfig) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        from .control import ControlApi

        self.startup = startup
        self.emr_backend = EmrBackend(startup.settings())
        self.emr_backend.outcomes.add(startup.job_outcomes)
        self.emr_api = EmrApi(self.emr_backend)
        self.tagging = TaggingApi(self.emr_backend.taggable)
        self.faults = FaultEngine(startup.seed)
        self.faults.add(startup.faults)
        self.rate_limiter = RateLimiter()
        self.rate_limiter.configure(startup.rate_limit)
        self.calls = CallCounter()
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.s3 = s3.S3Front(self.moto)
        self.control = ControlApi(self)
        self.started_at = time.time()

    def reset_config(self) -> None:
        """Faults, seed, delays, job script and rate limits as at start-up."""
        settings = self.startup.settings()
        current = self.emr_backend.settings
        for name in ("create_ms", "start_ms", "stop_ms", "cancel_ms", "job_script"):
            setattr(current, name, getattr(settings, name))
        self.faults.clear()
        self.faults.set_seed(self.startup.seed)
        self.faults.add(self.startup.faults)
        self.emr_backend.outcomes.clear()
        self.emr_backend.outcomes.add(self.startup.job_outcomes)
        self.rate_limiter.reset()
        self.rate_limiter.configure(self.startup.rate_limit)
        self.tagging.reset_config()

    def reset_state(self) -> None:
        from moto.moto_api._internal.models import moto_api_backend

        self.emr_backend.reset()
        self.tagging.reset_state()
        moto_api_backend.reset()

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/_emulator" or path.startswith("/_emulator/"):
            return self.control(environ, start_response)

        body = _buffer_body(environ)
        scope = protocols.parse_authorization(environ.get("HTTP_AUTHORIZATION"))
        service = scope.service
        region = scope.region or protocols.DEFAULT_REGION
        account = (
            environ.get("HTTP_X_MOTO_ACCOUNT_ID")
            or protocols.account_from_access_key(scope.access_key)
            or protocols.DEFAULT_ACCOUNT
        )
        environ["HTTP_X_MOTO_ACCOUNT_ID"] = account

        if path.startswith("/moto-api"):
            return self.moto(environ, start_response)

        method = environ.get("REQUEST_METHOD", "GET")
        headers = Request(environ).headers
        target: s3.Target | None = None
        if service == "s3":
            target = s3.target(method, _raw_path(environ), environ.get("QUERY_STRING", ""), headers)
            operation = target.operation
        else:
            operation = protocols.operation_name(
                service, method, path, headers, body, environ.get("QUERY_STRING", ""),
            )

        decision = self.faults.decide(service, operation, account, region, target)
        if decision.latency_ms:
            self.calls.record("delayed", service, operation, account)
            time.sleep(decision.latency_ms / 1000.0)
        rule = decision.rule
        if rule is not None:
            self.calls.record("faulted", service, operation, account)
            if rule.kind == "drop":
                drop = environ.get(DROP_CONNECTION)
                if drop is None:
                    raise RuntimeError("invariant: the emulator's request handler provides drop_connection")
                drop(rule.reset)
                raise ConnectionAbortedError("connection dropped by a fault rule")
            return _fault_response(service, rule, account, target)(environ, start_response)

        if service in RATE_LIMITED and not self.rate_limiter.allow(account, region, operation):
            self.calls.record("throttled", service, operation, account)
            return protocols.throttle_response(service)(environ, start_response)

        self.calls.record("served", service, operation, account)
        raw_path = _raw_path(environ)
        if service == "s3":
            raw_path = s3.request_path(raw_path, headers.get("Host"))
        refusal = validation.validate(service, _http_request(environ, body, raw_path))
        if refusal is not None:
            return protocols.error_response(service, refusal.status, refusal.code, refusal.message, refusal.extra)(
                environ, start_response
            )
        if service == "emr-serverless":
            response = self.emr_api.handle(Request(environ), account, region)
            if operation in TAGS_CHANGED_BY:
                self.tagging.remember(account, region)
            return response(environ, start_response)
        if service == "tagging":
            return self.tagging.handle(Request(environ), account, region)(environ, start_response)
        if service == "iam" and operation == "CreateRole":
            refusal = iam_names.create_role_conflict(account, body, environ.get("QUERY_STRING", ""))
            if refusal is not None:
                return refusal(environ, start_response)
        if service == "s3" and target is not None:
            # Driver logs of runs that have ended are in S3 before anyone reads it.
            self.emr_backend.flush_logs()
            return self.s3(environ, start_response, target, account, region)
        return self.moto(environ, start_response)


def _fault_response(service: str | None, rule, account: str, target: s3.Target | None) -> Response:
    if rule.kind == "throttle":
        return protocols.throttle_response(service)
    if rule.kind == "server_error":
        return protocols.server_error_response(service, rule.status)
    if rule.kind == "deny":
        assert target is not None, "invariant: deny rules match S3 requests only"
        return s3.access_denied(account, rule.denied_action(target), target.resource)
    return protocols.error_response(service, rule.status, rule.code, rule.message)


def _raw_path(environ: dict[str, Any]) -> str:
    """The path as sent: it keeps percent-encoded labels (an ARN's `/` as
    %2F), which PATH_INFO has already decoded."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    return raw.split("?", 1)[0] if raw else quote(environ.get("PATH_INFO", ""))


def _http_request(environ: dict[str, Any], body: bytes, raw_path: str) -> validation.HttpRequest:
    return validation.HttpRequest(
        method=environ.get("REQUEST_METHOD", "GET"),
        raw_path=raw_path,
        query_string=environ.get("QUERY_STRING", ""),
        headers=Request(environ).headers,
        body=body,
    )


def _buffer_body(environ: dict[str, Any]) -> bytes:
    """Reads the body once and puts it back, so every layer can read it."""
    body = Request(environ).get_data(cache=False)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ["wsgi.input_terminated"] = False
    return body
