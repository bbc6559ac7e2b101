"""Interactive sessions (StartSession, GetSession, ListSessions, TerminateSession,
GetSessionEndpoint), whose lifecycle follows a script like a job run's.

API (botocore 1.44.5): ``SessionState`` is SUBMITTED, STARTING, STARTED, IDLE,
BUSY, FAILED, TERMINATING, TERMINATED. StartSession's documentation: "The
application must be in the STARTED state or have AutoStart enabled, and have
interactive sessions enabled" (``interactiveConfiguration.sessionEnabled``:
"When set to true, you can start interactive sessions using the StartSession
operation"). A session in any state but FAILED and TERMINATED is running work
on the application: like a job run, it blocks StopApplication and
DeleteApplication (BELIEF, from "All scheduled and running jobs must be
completed or cancelled before stopping an application" and sessions being
work on the application's capacity).

TerminateSession: TERMINATING at once, TERMINATED after the cancel delay (the
delay job cancellations use); terminating a finished session is refused like
cancelling a finished job run (BELIEF). Idle timeouts are stored, not enforced.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from . import model
from .jobs import Step, parse_script, script_events

TERMINAL = ("FAILED", "TERMINATED")
ACTIVE = ("SUBMITTED", "STARTING", "STARTED", "IDLE", "BUSY", "TERMINATING")


def parse_session_script(value: Any) -> tuple[Step, ...]:
    return parse_script(value, tuple(model.enum_values("SessionState")), TERMINAL, what="session")


# Submitted, starting, then idle until terminated (an IDLE session still holds
# its driver, so it is running work).
DEFAULT_SCRIPT = parse_session_script([["SUBMITTED", 0.05], ["STARTING", 0.1], ["IDLE"]])

_DETAILS = {
    "SUBMITTED": "Session submitted",
    "STARTING": "Session starting",
    "STARTED": "Session started",
    "IDLE": "Session idle",
    "BUSY": "Session busy",
    "FAILED": "Session failed (emulated)",
    "TERMINATING": "Session termination requested",
    "TERMINATED": "Session terminated",
}


@dataclass
class Session:
    id: str
    arn: str
    application_id: str
    seq: int
    created_at: float
    created_by: str
    execution_role: str
    release_label: str
    script: tuple[Step, ...]
    name: str | None = None
    configuration_overrides: dict[str, Any] | None = None
    network_configuration: dict[str, Any] | None = None
    idle_timeout_minutes: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    clock_start: float | None = None
    cancel_requested_at: float | None = None
    cancel_done_at: float | None = None
    auth_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def events(self, now: float) -> list[tuple[str, float]]:
        return script_events(self, now, TERMINAL, "TERMINATING", "TERMINATED")

    def state(self, now: float) -> str:
        return self.events(now)[-1][0]

    def is_active(self, now: float) -> bool:
        return self.state(now) in ACTIVE

    def summary(self, now: float) -> dict[str, Any]:
        state, updated = self.events(now)[-1]
        out: dict[str, Any] = {
            "applicationId": self.application_id,
            "sessionId": self.id,
            "arn": self.arn,
        }
        if self.name is not None:
            out["name"] = self.name
        out.update({
            "state": state,
            "stateDetails": _DETAILS[state],
            "releaseLabel": self.release_label,
            "executionRoleArn": self.execution_role,
            "createdBy": self.created_by,
            "createdAt": _ts(self.created_at),
            "updatedAt": _ts(updated),
        })
        return out

    def describe(self, now: float) -> dict[str, Any]:
        events = self.events(now)
        out = self.summary(now)
        state, updated = events[-1]
        started = next((t for s, t in events if s in ("STARTED", "IDLE", "BUSY")), None)
        ended = updated if state in TERMINAL else None
        if started is not None:
            out["startedAt"] = _ts(started)
        if ended is not None:
            out["endedAt"] = _ts(ended)
        if state == "IDLE":
            out["idleSince"] = _ts(updated)
        if self.configuration_overrides is not None:
            out["configurationOverrides"] = self.configuration_overrides
        if self.network_configuration:
            out["networkConfiguration"] = self.network_configuration
        if self.idle_timeout_minutes is not None:
            out["idleTimeoutMinutes"] = self.idle_timeout_minutes
        out["tags"] = dict(self.tags)
        out["totalResourceUtilization"] = {"vCPUHour": 0.0, "memoryGBHour": 0.0, "storageGBHour": 0.0}
        out["billedResourceUtilization"] = {"vCPUHour": 0.0, "memoryGBHour": 0.0, "storageGBHour": 0.0}
        duration = 0
        if started is not None:
            duration = int(round((ended if ended is not None else now) - started))
        out["totalExecutionDurationSeconds"] = duration
        return out

    def endpoint(self, region: str, now: float) -> dict[str, Any]:
        """GetSessionEndpoint's answer (API shape; the URL form is the emulator's)."""
        return {
            "applicationId": self.application_id,
            "sessionId": self.id,
            "endpoint": f"sc://{self.id}.{self.application_id}.emr-serverless-sessions.{region}.emulator.invalid:443",
            "authToken": self.auth_token,
            "authTokenExpiresAt": _ts(now + 3600),
        }


def _ts(t: float) -> float:
    return round(t, 3)
