"""Job runs whose lifecycle follows a script.

A script is a list of steps ``[state, seconds]``: the job stays ``seconds`` in
``state`` and moves on. The last step is either a terminal state (SUCCESS,
FAILED, CANCELLED) or a non-terminal state without a duration, where the job
then stays until cancelled. Example: ``[["SUBMITTED", 0.05], ["RUNNING", 5],
["SUCCESS"]]``.

The first step's clock starts when the application is STARTED: a job
submitted while its application is starting waits in its first state.
Cancelling truncates the script: CANCELLING at once, CANCELLED after the
configured cancel delay.

States are computed from timestamps when asked for, so a job never needs a
thread and every timestamp is exact. Interactive sessions (``emr.sessions``)
follow scripts the same way (``parse_script``, ``script_events``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import model

TERMINAL = ("SUCCESS", "FAILED", "CANCELLED")
# States that block StopApplication and DeleteApplication (API: "All scheduled
# and running jobs must be completed or cancelled").
ACTIVE = ("SUBMITTED", "PENDING", "SCHEDULED", "RUNNING", "QUEUED", "CANCELLING")


class ScriptError(ValueError):
    pass


@dataclass(frozen=True)
class Step:
    state: str
    seconds: float | None


def parse_script(
    value: Any, states: tuple[str, ...] | None = None, terminal: tuple[str, ...] = TERMINAL, what: str = "job run"
) -> tuple[Step, ...]:
    """Parses ``[[state, seconds], ..., [terminal]]``; also accepts
    ``{"state", "seconds"}`` objects and bare state strings. ``states`` are the
    allowed states (default: the API's JobRunState), ``terminal`` the ones a
    script may end in with nothing after them."""
    if not isinstance(value, list) or not value:
        raise ScriptError(f"a {what} script is a non-empty list of steps")
    if states is None:
        states = tuple(model.enum_values("JobRunState"))
    steps = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            state, seconds = item, None
        elif isinstance(item, list) and 1 <= len(item) <= 2:
            state = item[0]
            seconds = item[1] if len(item) == 2 else None
        elif isinstance(item, dict):
            state, seconds = item.get("state"), item.get("seconds")
        else:
            raise ScriptError(f"step {i + 1} must be [state, seconds], {{state, seconds}} or a state")
        if state not in states:
            raise ScriptError(f"step {i + 1}: {state!r} is not a {what} state ({', '.join(states)})")
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0):
            raise ScriptError(f"step {i + 1}: seconds must be a non-negative number")
        last = i == len(value) - 1
        if state in terminal and not last:
            raise ScriptError(f"step {i + 1}: the terminal state {state} must be the last step")
        if not last and seconds is None:
            raise ScriptError(f"step {i + 1}: every step but the last needs a duration")
        if last and state not in terminal and seconds is not None:
            raise ScriptError("the last step must be a terminal state, or a state without a duration to stay in")
        steps.append(Step(state, None if seconds is None else float(seconds)))
    return tuple(steps)


def script_to_json(script: tuple[Step, ...]) -> list[list[Any]]:
    return [[s.state] if s.seconds is None else [s.state, s.seconds] for s in script]


DEFAULT_SCRIPT = parse_script([["SUBMITTED", 0.05], ["PENDING", 0.05], ["RUNNING", 1.0], ["SUCCESS"]])


@dataclass
class JobRun:
    id: str
    arn: str
    application_id: str
    account: str
    region: str
    seq: int
    created_at: float
    created_by: str
    execution_role: str
    release_label: str
    job_driver: dict[str, Any]
    script: tuple[Step, ...]
    name: str | None = None
    mode: str = "BATCH"
    configuration_overrides: dict[str, Any] | None = None
    execution_timeout_minutes: int = 720
    retry_policy: dict[str, Any] | None = None
    network_configuration: dict[str, Any] | None = None
    execution_iam_policy: dict[str, Any] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    # When the script's clock started (the application was STARTED); None
    # while the job waits for its application.
    clock_start: float | None = None
    cancel_requested_at: float | None = None
    # None with a cancel request means CANCELLING until released (delay -1).
    cancel_done_at: float | None = None

    def events(self, now: float) -> list[tuple[str, float]]:
        return script_events(self, now, TERMINAL, "CANCELLING", "CANCELLED")

    def state(self, now: float) -> str:
        return self.events(now)[-1][0]

    def is_active(self, now: float) -> bool:
        return self.state(now) in ACTIVE

    def summary(self, now: float) -> dict[str, Any]:
        events = self.events(now)
        state, updated = events[-1]
        out: dict[str, Any] = {
            "applicationId": self.application_id,
            "id": self.id,
            "arn": self.arn,
            "createdBy": self.created_by,
            "createdAt": _ts(self.created_at),
            "updatedAt": _ts(updated),
            "executionRole": self.execution_role,
            "state": state,
            "stateDetails": _details(state),
            "releaseLabel": self.release_label,
            "mode": self.mode,
            "attempt": 1,
            "attemptCreatedAt": _ts(self.created_at),
            "attemptUpdatedAt": _ts(updated),
        }
        if self.name is not None:
            out["name"] = self.name
        return out

    def describe(self, now: float) -> dict[str, Any]:
        events = self.events(now)
        state, updated = events[-1]
        started = next((t for s, t in events if s == "RUNNING"), None)
        ended = events[-1][1] if state in TERMINAL else None
        duration = 0
        if started is not None:
            duration = int(round((ended if ended is not None else now) - started))
        out: dict[str, Any] = {
            "applicationId": self.application_id,
            "jobRunId": self.id,
            "arn": self.arn,
            "createdBy": self.created_by,
            "createdAt": _ts(self.created_at),
            "updatedAt": _ts(updated),
            "executionRole": self.execution_role,
            "state": state,
            "stateDetails": _details(state),
            "releaseLabel": self.release_label,
            "jobDriver": self.job_driver,
            "tags": dict(self.tags),
            "totalResourceUtilization": {"vCPUHour": 0.0, "memoryGBHour": 0.0, "storageGBHour": 0.0},
            "billedResourceUtilization": {"vCPUHour": 0.0, "memoryGBHour": 0.0, "storageGBHour": 0.0},
            "totalExecutionDurationSeconds": duration,
            "executionTimeoutMinutes": self.execution_timeout_minutes,
            "mode": self.mode,
            "attempt": 1,
            "attemptCreatedAt": _ts(self.created_at),
            "attemptUpdatedAt": _ts(updated),
        }
        if self.name is not None:
            out["name"] = self.name
        if self.configuration_overrides is not None:
            out["configurationOverrides"] = self.configuration_overrides
        if self.network_configuration:
            out["networkConfiguration"] = self.network_configuration
        if self.retry_policy is not None:
            out["retryPolicy"] = self.retry_policy
        if self.execution_iam_policy is not None:
            out["executionIamPolicy"] = self.execution_iam_policy
        if started is not None:
            out["startedAt"] = _ts(started)
        if ended is not None:
            out["endedAt"] = _ts(ended)
        return out


def script_events(
    run: Any, now: float, terminal: tuple[str, ...], stopping: str, stopped: str
) -> list[tuple[str, float]]:
    """(state, entered at) for every state a scripted run (job run or session)
    entered up to ``now``. The script's clock starts at ``run.clock_start`` (the
    application is STARTED); a stop request (CancelJobRun, TerminateSession)
    truncates it: ``stopping`` at once, ``stopped`` at ``run.cancel_done_at``."""
    out: list[tuple[str, float]] = []
    limit = now if run.cancel_requested_at is None else min(now, run.cancel_requested_at)
    first = run.script[0]
    out.append((first.state, run.created_at))
    if run.clock_start is not None:
        # Every step but the last has a duration (parse_script checks it);
        # the last step is terminal or lasts until the run is stopped.
        t = run.clock_start
        for i in range(len(run.script) - 1):
            t += run.script[i].seconds or 0.0
            if t > limit:
                break
            out.append((run.script[i + 1].state, max(t, run.created_at)))
    if run.cancel_requested_at is not None and run.cancel_requested_at <= now:
        if out[-1][0] not in terminal:
            out.append((stopping, run.cancel_requested_at))
            if run.cancel_done_at is not None and run.cancel_done_at <= now:
                out.append((stopped, run.cancel_done_at))
    return out


def _ts(t: float) -> float:
    return round(t, 3)


def _details(state: str) -> str:
    return {
        "SUBMITTED": "Job run submitted",
        "PENDING": "Job run pending",
        "SCHEDULED": "Job run scheduled",
        "RUNNING": "Job run running",
        "QUEUED": "Job run queued",
        "SUCCESS": "Job run succeeded",
        "FAILED": "Job run failed (emulated)",
        "CANCELLING": "Job run cancellation requested",
        "CANCELLED": "Job run cancelled",
    }[state]
