"""The control API under ``/_emulator/`` (JSON in, JSON out).

| Method and path | Body | Does |
|---|---|---|
| GET /_emulator/health | | liveness and versions |
| GET /_emulator/config | | delays, job script, rate limits, faults |
| GET /_emulator/faults | | the rules, with matched/fired counters |
| POST /_emulator/faults | a rule, a list, or {"rules": [...], "seed"?} | adds rules, returns them with ids |
| DELETE /_emulator/faults | | removes every rule |
| DELETE /_emulator/faults/{id} | | removes one rule |
| POST /_emulator/seed | {"seed": int or null} | reseeds the fault RNG |
| GET, POST /_emulator/delays | {"createMs"?, "startMs"?, "stopMs"?, "cancelMs"?} | state delays in ms, -1 holds |
| GET, POST /_emulator/job-script | {"script": [[state, seconds], ..., [terminal]]} | the default job script |
| POST /_emulator/jobs | {"applicationId", "account"?, "region"?, "script"?, "name"?, "tags"?, "jobDriver"?, "mode"?, "force"?, ...} | injects a job run (BATCH or STREAMING) |
| GET /_emulator/jobs/{applicationId}/{jobRunId} | | a run as GetJobRun shows it, its outcome, workers and driver logs |
| GET, POST, DELETE /_emulator/job-outcomes | a rule, a list, or {"rules": [...]} | job outcome rules (emr.outcomes) |
| DELETE /_emulator/job-outcomes/{id} | | removes one outcome rule |
| GET /_emulator/dashboard/{applicationId}/{jobRunId} | | the page GetDashboardForJobRun's URL opens (HTML) |
| POST /_emulator/sessions | {"applicationId", "account"?, "region"?, "script"?, "name"?, "tags"?, "executionRoleArn"?, "idleTimeoutMinutes"?, "force"?} | injects an interactive session |
| POST /_emulator/transitions | {"applicationId", "account"?, "region"?} | completes a held or pending transition now |
| GET /_emulator/calls[?account=] | | call counts |
| DELETE /_emulator/calls | | resets call counts |
| GET, POST /_emulator/rate-limit | {"enabled"?, "rate"?, "burst"?, "operations"?} | EMR Serverless rate limits |
| GET, POST /_emulator/tagging | {"account"?, "staleSeconds"?, "indexDelaySeconds"?, "pageSizes"?} | GetResources: how long a deleted resource stays, how far the index lags behind tag changes, shorter pages (tagging.py); the server's or one account's |
| POST /_emulator/backdate | {"account"?, "region"?, "seconds"} | moves every application's createdAt/updatedAt (and tag changes) that far into the past, as if created earlier |
| POST /_emulator/reset | {"state"?: bool} | config and counts as at start-up; with state (default true) also every resource |

Errors are ``{"error": "..."}`` with status 400 (bad input) or 404.
"""

from __future__ import annotations

import html
import json
import time
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, Callable, Iterable

from werkzeug.wrappers import Request, Response

from . import __version__, protocols
from .config import apply_delays
from .emr import errors as emr_errors
from .emr import jobs, sessions
from .emr.outcomes import OutcomeError
from .faults import RuleError
from .ratelimit import RateLimitError

if TYPE_CHECKING:
    from .front import Emulator


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _bad(message: str) -> ControlError:
    return ControlError(400, message)


def _package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


class ControlApi:
    def __init__(self, emulator: "Emulator") -> None:
        self.emulator = emulator

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        try:
            status, result = self._dispatch(request)
        except ControlError as e:
            status, result = e.status, {"error": e.message}
        except emr_errors.ApiError as e:
            status, result = e.status, {"error": e.message, "code": e.code}
        if isinstance(result, Response):
            return result(environ, start_response)
        response = Response(json.dumps(result, indent=None), status=status, content_type="application/json")
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> tuple[int, Any]:
        path = request.path.rstrip("/")
        method = request.method
        routes: dict[tuple[str, str], Callable[[Request], Any]] = {
            ("GET", "/_emulator/health"): self.health,
            ("GET", "/_emulator/config"): self.config,
            ("GET", "/_emulator/faults"): lambda r: self.emulator.faults.to_json(),
            ("POST", "/_emulator/faults"): self.add_faults,
            ("DELETE", "/_emulator/faults"): self.clear_faults,
            ("POST", "/_emulator/seed"): self.seed,
            ("GET", "/_emulator/delays"): lambda r: self.emulator.emr_backend.settings.delays_json(),
            ("POST", "/_emulator/delays"): self.set_delays,
            ("GET", "/_emulator/job-script"): self.job_script,
            ("POST", "/_emulator/job-script"): self.set_job_script,
            ("POST", "/_emulator/jobs"): self.inject_job,
            ("POST", "/_emulator/sessions"): self.inject_session,
            ("POST", "/_emulator/transitions"): self.release,
            ("GET", "/_emulator/calls"): self.calls,
            ("DELETE", "/_emulator/calls"): self.reset_calls,
            ("GET", "/_emulator/job-outcomes"): lambda r: self.emulator.emr_backend.outcomes.to_json(),
            ("POST", "/_emulator/job-outcomes"): self.add_outcomes,
            ("DELETE", "/_emulator/job-outcomes"): self.clear_outcomes,
            ("GET", "/_emulator/rate-limit"): lambda r: self.emulator.rate_limiter.to_json(),
            ("POST", "/_emulator/rate-limit"): self.set_rate_limit,
            ("POST", "/_emulator/reset"): self.reset,
            ("GET", "/_emulator/tagging"): lambda r: self.emulator.tagging.configure(None),
            ("POST", "/_emulator/tagging"): self.set_tagging,
            ("POST", "/_emulator/backdate"): self.backdate,
        }
        handler = routes.get((method, path))
        if handler is not None:
            return 200, handler(request)
        if method == "DELETE" and path.startswith("/_emulator/faults/"):
            rule_id = path[len("/_emulator/faults/"):]
            if not self.emulator.faults.remove(rule_id):
                raise ControlError(404, f"no fault rule {rule_id!r}")
            return 200, {"removed": rule_id}
        if method == "DELETE" and path.startswith("/_emulator/job-outcomes/"):
            rule_id = path[len("/_emulator/job-outcomes/"):]
            if not self.emulator.emr_backend.outcomes.remove(rule_id):
                raise ControlError(404, f"no job outcome rule {rule_id!r}")
            return 200, {"removed": rule_id}
        parts = path.split("/")
        if method == "GET" and len(parts) == 5 and parts[2] == "jobs":
            info = self.emulator.emr_backend.job_info(parts[3], parts[4])
            if info is None:
                raise ControlError(404, f"no job run {parts[4]} in application {parts[3]}")
            return 200, info
        if method == "GET" and len(parts) == 5 and parts[2] == "dashboard":
            return 200, self.dashboard(parts[3], parts[4])
        known_paths = {p for (_, p) in routes}
        if path in known_paths:
            raise ControlError(405, f"{method} is not supported on {path}")
        raise ControlError(404, f"no control endpoint {method} {path}")

    # --- endpoints --------------------------------------------------------------

    def health(self, request: Request) -> Any:
        return {
            "status": "ok",
            "emulator": __version__,
            "moto": _package_version("moto"),
            "botocore": _package_version("botocore"),
            "uptimeSeconds": round(time.time() - self.emulator.started_at, 3),
        }

    def config(self, request: Request) -> Any:
        settings = self.emulator.emr_backend.settings
        return {
            "delays": settings.delays_json(),
            "jobScript": jobs.script_to_json(settings.job_script),
            "rateLimit": self.emulator.rate_limiter.to_json(),
            "faults": self.emulator.faults.to_json(),
            "jobOutcomes": self.emulator.emr_backend.outcomes.to_json()["rules"],
        }

    def add_faults(self, request: Request) -> Any:
        body = _json_body(request)
        if isinstance(body, dict) and "rules" in body:
            if "seed" in body:
                self.seed_value(body["seed"])
            body = body["rules"]
        try:
            rules = self.emulator.faults.add(body)
        except RuleError as e:
            raise _bad(str(e)) from None
        return {"rules": [r.to_json() for r in rules]}

    def add_outcomes(self, request: Request) -> Any:
        body = _json_body(request)
        if isinstance(body, dict) and "rules" in body:
            body = body["rules"]
        try:
            rules = self.emulator.emr_backend.outcomes.add(body)
        except OutcomeError as e:
            raise _bad(str(e)) from None
        return {"rules": [r.to_json() for r in rules]}

    def clear_outcomes(self, request: Request) -> Any:
        self.emulator.emr_backend.outcomes.clear()
        return {"rules": []}

    def dashboard(self, app_id: str, job_id: str) -> Response:
        """A stand-in for the Spark UI / History Server: the run as the emulator
        sees it. Never an AWS page: tests must not send traffic elsewhere."""
        info = self.emulator.emr_backend.job_info(app_id, job_id)
        if info is None:
            raise ControlError(404, f"no job run {job_id} in application {app_id}")
        run = info["jobRun"]
        rows = "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(run[k]))}</td></tr>"
            for k in ("applicationId", "jobRunId", "name", "state", "stateDetails", "releaseLabel",
                      "totalExecutionDurationSeconds") if k in run
        )
        page = (
            "<!doctype html><html><head><title>Application UI (emulated)</title></head><body>"
            f"<h1>Job run {html.escape(job_id)} (emulated application UI)</h1><table>{rows}</table>"
            f"<pre>{html.escape(info['logs'].get('stderrText', ''))}</pre></body></html>"
        )
        return Response(page, status=200, content_type="text/html; charset=utf-8")

    def clear_faults(self, request: Request) -> Any:
        self.emulator.faults.clear()
        return {"rules": []}

    def seed(self, request: Request) -> Any:
        body = _json_body(request)
        if not isinstance(body, dict) or "seed" not in body:
            raise _bad('send {"seed": <integer or null>}')
        self.seed_value(body["seed"])
        return {"seed": self.emulator.faults.seed}

    def seed_value(self, seed: Any) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise _bad("seed must be an integer or null")
        self.emulator.faults.set_seed(seed)

    def set_delays(self, request: Request) -> Any:
        settings = self.emulator.emr_backend.settings
        try:
            apply_delays(settings, _json_body(request))
        except ValueError as e:
            raise _bad(str(e)) from None
        return settings.delays_json()

    def job_script(self, request: Request) -> Any:
        return {"script": jobs.script_to_json(self.emulator.emr_backend.settings.job_script)}

    def set_job_script(self, request: Request) -> Any:
        body = _json_body(request)
        if not isinstance(body, dict) or "script" not in body:
            raise _bad('send {"script": [[state, seconds], ..., [terminal state]]}')
        script = _script(body["script"])
        self.emulator.emr_backend.settings.job_script = script
        return {"script": jobs.script_to_json(script)}

    def inject_job(self, request: Request) -> Any:
        body = _json_body(request)
        account, region, app_id = _target(body)
        allowed = {"applicationId", "account", "region", "script", "name", "tags", "jobDriver", "force",
                   "configurationOverrides", "mode", "executionRoleArn"}
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise _bad(f"unknown keys: {', '.join(unknown)}")
        script = _script(body["script"]) if body.get("script") is not None else None
        force = body.get("force", False)
        if not isinstance(force, bool):
            raise _bad("force must be true or false")
        if body.get("mode", "BATCH") not in ("BATCH", "STREAMING"):
            raise _bad("mode must be BATCH or STREAMING")
        job_body = {k: body[k] for k in ("name", "tags", "jobDriver", "configurationOverrides", "mode", "executionRoleArn") if k in body}
        return self.emulator.emr_backend.inject_job(account, region, app_id, script, job_body, force)

    def inject_session(self, request: Request) -> Any:
        body = _json_body(request)
        account, region, app_id = _target(body)
        allowed = {"applicationId", "account", "region", "script", "name", "tags", "executionRoleArn",
                   "idleTimeoutMinutes", "configurationOverrides", "force"}
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise _bad(f"unknown keys: {', '.join(unknown)}")
        script = None
        if body.get("script") is not None:
            try:
                script = sessions.parse_session_script(body["script"])
            except jobs.ScriptError as e:
                raise _bad(str(e)) from None
        force = body.get("force", False)
        if not isinstance(force, bool):
            raise _bad("force must be true or false")
        session_body = {k: body[k] for k in ("name", "tags", "executionRoleArn", "idleTimeoutMinutes",
                                             "configurationOverrides") if k in body}
        return self.emulator.emr_backend.inject_session(account, region, app_id, script, session_body, force)

    def release(self, request: Request) -> Any:
        account, region, app_id = _target(_json_body(request))
        return self.emulator.emr_backend.release(account, region, app_id)

    def calls(self, request: Request) -> Any:
        return self.emulator.calls.to_json(request.args.get("account"))

    def reset_calls(self, request: Request) -> Any:
        self.emulator.calls.reset()
        return self.emulator.calls.to_json()

    def set_rate_limit(self, request: Request) -> Any:
        try:
            self.emulator.rate_limiter.configure(_json_body(request))
        except RateLimitError as e:
            raise _bad(str(e)) from None
        return self.emulator.rate_limiter.to_json()

    def set_tagging(self, request: Request) -> Any:
        try:
            return self.emulator.tagging.configure(_json_body(request))
        except ValueError as e:
            raise _bad(str(e)) from None

    def backdate(self, request: Request) -> Any:
        body = _json_body(request)
        if not isinstance(body, dict) or set(body) - {"account", "region", "seconds"}:
            raise _bad('send {"account"?, "region"?, "seconds"}')
        seconds = body.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise _bad("seconds must be a number, 0 or more")
        account = body.get("account") or protocols.DEFAULT_ACCOUNT
        region = body.get("region") or protocols.DEFAULT_REGION
        if not isinstance(account, str) or not isinstance(region, str):
            raise _bad("account and region are strings")
        moved = self.emulator.emr_backend.backdate(account, region, float(seconds))
        self.emulator.tagging.backdate(account, region, float(seconds))
        return {"applications": moved, "seconds": seconds}

    def reset(self, request: Request) -> Any:
        body = _json_body(request, default={})
        state = body.get("state", True) if isinstance(body, dict) else True
        self.emulator.reset_config()
        self.emulator.calls.reset()
        if state:
            self.emulator.reset_state()
        return {"reset": True, "state": bool(state)}


def _json_body(request: Request, default: Any = None) -> Any:
    raw = request.get_data(cache=True)
    if not raw.strip():
        if default is not None:
            return default
        raise _bad("this endpoint needs a JSON body")
    try:
        return json.loads(raw)
    except ValueError as e:
        raise _bad(f"the body is not valid JSON: {e}") from None


def _target(body: Any) -> tuple[str, str, str]:
    if not isinstance(body, dict) or not isinstance(body.get("applicationId"), str):
        raise _bad("applicationId is required")
    account = body.get("account") or protocols.DEFAULT_ACCOUNT
    region = body.get("region") or protocols.DEFAULT_REGION
    if not isinstance(account, str) or not isinstance(region, str):
        raise _bad("account and region are strings")
    return account, region, body["applicationId"]


def _script(value: Any) -> tuple[jobs.Step, ...]:
    try:
        return jobs.parse_script(value)
    except jobs.ScriptError as e:
        raise _bad(str(e)) from None
