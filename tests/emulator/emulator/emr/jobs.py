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

How a run ends (its terminal state, ``stateDetails``, driver logs) is its
``Outcome`` (``emr.outcomes``); what it reads, writes and costs is
``emr.runtime``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import model

if TYPE_CHECKING:
    from .outcomes import Outcome
    from .runtime import Workers

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


# The states a job run passes through on AWS (GUIDE, Job run states; PUBLIC:
# awslabs/amazon-emr-cli #32 shows PENDING, SCHEDULED, RUNNING, FAILED), fast.
DEFAULT_SCRIPT = parse_script(
    [["SUBMITTED", 0.05], ["PENDING", 0.05], ["SCHEDULED", 0.05], ["RUNNING", 1.0], ["SUCCESS"]]
)


def with_terminal(script: tuple[Step, ...], state: str) -> tuple[Step, ...]:
    """``script`` ending in the terminal ``state`` instead of its own; a script
    that stays in a non-terminal state for good is kept as it is."""
    if script[-1].state not in TERMINAL:
        return script
    return script[:-1] + (Step(state, None),)


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
    engine: str = "SPARK"
    outcome: "Outcome | None" = None
    used_workers: "tuple[Workers, ...]" = ()
    flex_execution: dict[str, Any] | None = None
    image_configuration: dict[str, Any] | None = None
    # (bucket, stdout key, stderr key) of the driver logs, if S3 logging is on.
    log_target: tuple[str, str, str] | None = None
    # "none" (no S3 logging), "pending", "written", "skipped" (the driver never
    # ran) or the S3 error code that stopped the write.
    log_status: str = "none"
    # When the run found the application's concurrency full and was queued
    # (QUEUED until ``clock_start``, when the scheduler admits it).
    queued_since: float | None = None

    def events(self, now: float) -> list[tuple[str, float]]:
        if self.queued_since is None:
            return script_events(self, now, TERMINAL, "CANCELLING", "CANCELLED")
        return self._queued_events(now)

    def _queued_events(self, now: float) -> list[tuple[str, float]]:
        """A queued run: its first state, QUEUED, then, once admitted, the rest
        of its script (SUBMITTED -> QUEUED -> PENDING -> ... on AWS)."""
        limit = now if self.cancel_requested_at is None else min(now, self.cancel_requested_at)
        out = [(self.script[0].state, self.created_at)]
        if self.queued_since <= limit:
            out.append(("QUEUED", self.queued_since))
        if self.clock_start is not None and self.clock_start <= limit:
            rest = self.script[1:] or self.script
            t = self.clock_start
            out.append((rest[0].state, t))
            for i in range(len(rest) - 1):
                t += rest[i].seconds or 0.0
                if t > limit:
                    break
                out.append((rest[i + 1].state, t))
        if self.cancel_requested_at is not None and self.cancel_requested_at <= now and out[-1][0] not in TERMINAL:
            out.append(("CANCELLING", self.cancel_requested_at))
            if self.cancel_done_at is not None and self.cancel_done_at <= now:
                out.append(("CANCELLED", self.cancel_done_at))
        return out

    def ended_at(self, now: float) -> float | None:
        """When the run reached its terminal state, if it has by ``now``."""
        state, at = self.events(now)[-1]
        return at if state in TERMINAL else None

    def holds_a_slot(self, t: float, now: float) -> bool:
        """Whether the run counts against the application's concurrency at ``t``:
        admitted by then and not yet ended."""
        if self.clock_start is None or self.clock_start > t:
            return False
        end = self.ended_at(now)
        return end is None or end > t

    def state(self, now: float) -> str:
        return self.events(now)[-1][0]

    def is_active(self, now: float) -> bool:
        return self.state(now) in ACTIVE

    def cancelled_by_request(self, now: float) -> bool:
        return self.cancel_requested_at is not None and self.cancel_requested_at <= now and self.state(now) in (
            "CANCELLING", "CANCELLED")

    def details(self, state: str, now: float) -> str:
        """stateDetails: the outcome's words for the state the script ends in."""
        from .outcomes import failure_details

        if state in TERMINAL and self.outcome is not None and not self.cancelled_by_request(now):
            if self.outcome.state_details:
                return self.outcome.state_details
            if state == "FAILED":
                return failure_details(self.error_line())
        return _details(state)

    def error_line(self) -> str:
        from .outcomes import DEFAULT_ERROR
        from .runtime import last_line

        if self.outcome is not None and self.outcome.error:
            return self.outcome.error
        if self.outcome is not None and self.outcome.stderr:
            return last_line(self.outcome.stderr) or DEFAULT_ERROR
        return DEFAULT_ERROR

    def running_seconds(self, now: float) -> int | None:
        """Seconds from RUNNING to the end, rounded up; None until the run ends."""
        events = self.events(now)
        state = events[-1][0]
        if state not in TERMINAL:
            return None
        started = next((t for s, t in events if s == "RUNNING"), None)
        if started is None:
            return 0
        return max(0, math.ceil(round(events[-1][1] - started, 3)))

    def entry_point(self) -> str | None:
        if "sparkSubmit" in self.job_driver:
            return self.job_driver["sparkSubmit"].get("entryPoint")
        if "hive" in self.job_driver:
            return self.job_driver["hive"].get("query")
        return None

    def driver_logs(self, now: float) -> tuple[str, str]:
        """(stdout, stderr) of the driver, for a run that has ended."""
        from .runtime import default_logs

        state = self.state(now)
        default_out, default_err = default_logs(
            self.id, self.engine, self.entry_point(), state, self.error_line() if state == "FAILED" else None)
        outcome = self.outcome
        stdout = outcome.stdout if outcome is not None and outcome.stdout is not None else default_out
        stderr = outcome.stderr if outcome is not None and outcome.stderr is not None else default_err
        return stdout, stderr

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
            "stateDetails": self.details(state, now),
            "releaseLabel": self.release_label,
            "type": "Hive" if self.engine == "HIVE" else "Spark",
            "mode": self.mode,
            "attempt": 1,
            "attemptCreatedAt": _ts(self.created_at),
            "attemptUpdatedAt": _ts(updated),
        }
        if self.name is not None:
            out["name"] = self.name
        if self.flex_execution is not None:
            out["flexExecution"] = self.flex_execution
        return out

    def attempt_summary(self, now: float) -> dict[str, Any]:
        """ListJobRunAttempts' JobRunAttemptSummary of the one attempt."""
        summary = self.summary(now)
        out = {k: summary[k] for k in ("applicationId", "id", "arn", "createdBy", "executionRole", "state",
                                        "stateDetails", "releaseLabel", "type", "mode", "attempt")}
        out["jobCreatedAt"] = summary["createdAt"]
        out["createdAt"] = summary["attemptCreatedAt"]
        out["updatedAt"] = summary["attemptUpdatedAt"]
        for key in ("name", "flexExecution"):
            if key in summary:
                out[key] = summary[key]
        return out

    def describe(self, now: float) -> dict[str, Any]:
        from .runtime import utilization

        events = self.events(now)
        state, updated = events[-1]
        started = next((t for s, t in events if s == "RUNNING"), None)
        ended = events[-1][1] if state in TERMINAL else None
        out: dict[str, Any] = {
            "applicationId": self.application_id,
            "jobRunId": self.id,
            "arn": self.arn,
            "createdBy": self.created_by,
            "createdAt": _ts(self.created_at),
            "updatedAt": _ts(updated),
            "executionRole": self.execution_role,
            "state": state,
            "stateDetails": self.details(state, now),
            "releaseLabel": self.release_label,
            "jobDriver": self.job_driver,
            "tags": dict(self.tags),
            "executionTimeoutMinutes": self.execution_timeout_minutes,
            "mode": self.mode,
            "attempt": 1,
            "attemptCreatedAt": _ts(self.created_at),
            "attemptUpdatedAt": _ts(updated),
        }
        seconds = self.running_seconds(now)
        if seconds is not None:
            # "only available for job runs in a COMPLETED, FAILED, or
            # CANCELLED state" (API, totalExecutionDurationSeconds).
            total, billed = utilization(self.used_workers, seconds)
            out["totalExecutionDurationSeconds"] = seconds
            out["totalResourceUtilization"] = total
            out["billedResourceUtilization"] = billed
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
        if self.flex_execution is not None:
            out["flexExecution"] = self.flex_execution
        if self.image_configuration is not None:
            out["imageConfiguration"] = self.image_configuration
        if self.queued_since is not None:
            left = self.clock_start if self.clock_start is not None else (ended if ended is not None else now)
            out["queuedDurationMilliseconds"] = max(0, int(round((left - self.queued_since) * 1000)))
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
