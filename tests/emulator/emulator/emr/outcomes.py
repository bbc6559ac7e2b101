"""Job outcome rules: which job runs succeed and which fail, and with what.

A rule matches job runs at submission (StartJobRun, or the control API's
injected jobs) by name, entry point, tags, application, account and mode,
and decides how the run ends: its terminal state, its ``stateDetails`` and the
driver's stdout and stderr (written to S3 when the run has an S3 log URI).
The first matching rule wins; without one a run succeeds. A rule may also
give the run its own script (its timing), and ``count`` limits it to the next
N matching runs (a flaky job that fails once).

How a failure reads is AWS's: ``stateDetails`` is "Job failed, please check
complete logs in configured logging destination. ExitCode: 1. Last few
exceptions: <the last line of the driver's stderr>" (PUBLIC:
awslabs/amazon-emr-cli #32, "EMR Serverless job failed: Job failed, please
check complete logs in configured logging destination. ExitCode: 1. Last few
exceptions: Caused by: java.io.IOException: ..."; the same prefix in
awslabs/clickstream-analytics-on-aws docs/en/troubleshooting.md and
Soname-Solutions/salmon's EMR Serverless mapper, which strips it), cut to the
model's 256 characters (String256) with "..." as the emr-cli capture ends.
The driver's log texts are the emulator's.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

from ..rulebook import RuleBook
from .jobs import TERMINAL, ScriptError, Step, parse_script

FAILED_PREFIX = "Job failed, please check complete logs in configured logging destination. ExitCode: 1. Last few exceptions: "
DEFAULT_ERROR = "RuntimeError: job run failed (emulated)"
STATE_DETAILS_MAX = 256  # the model's String256


class OutcomeError(ValueError):
    """A rule that cannot be accepted; the message says why."""


def failure_details(error: str) -> str:
    """FAILED's stateDetails for a driver whose last stderr line is ``error``."""
    text = FAILED_PREFIX + " ".join(error.split())
    if len(text) > STATE_DETAILS_MAX:
        text = text[: STATE_DETAILS_MAX - 3] + "..."
    return text


@dataclass
class Outcome:
    """How one job run ends."""

    state: str = "SUCCESS"
    state_details: str | None = None  # None: the default for the state
    error: str | None = None  # the exception line a failing driver ends with
    stdout: str | None = None  # None: the emulator's default text
    stderr: str | None = None
    script: tuple[Step, ...] | None = None
    rule_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"state": self.state}
        for key, value in (("stateDetails", self.state_details), ("error", self.error), ("rule", self.rule_id)):
            if value is not None:
                out[key] = value
        return out


@dataclass
class JobFacts:
    """What a rule can match on."""

    name: str | None
    entry_point: str | None  # sparkSubmit.entryPoint, or hive.query
    tags: dict[str, str]
    application_id: str
    account: str
    mode: str


@dataclass
class OutcomeRule:
    id: str
    state: str = "SUCCESS"
    name: str | None = None
    entry_point: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    application_id: str | None = None
    account: str | None = None
    mode: str | None = None
    state_details: str | None = None
    error: str | None = None
    stdout: str | None = None
    stderr: str | None = None
    script: tuple[Step, ...] | None = None
    script_json: Any = None
    count: int | None = None
    matched: int = 0

    KEYS = ("id", "state", "name", "entryPoint", "tags", "applicationId", "account", "mode", "stateDetails",
            "error", "stdout", "stderr", "script", "count")

    @classmethod
    def from_json(cls, data: Any, rule_id: str) -> "OutcomeRule":
        if not isinstance(data, dict):
            raise OutcomeError("a job outcome rule is a JSON object")
        unknown = sorted(set(data) - set(cls.KEYS))
        if unknown:
            raise OutcomeError(f"unknown job outcome keys: {', '.join(unknown)} (known: {', '.join(cls.KEYS)})")
        rule = cls(id=str(data.get("id") or rule_id))
        state = data.get("state", "SUCCESS")
        if state not in TERMINAL:
            raise OutcomeError(f"state must be one of {', '.join(TERMINAL)}")
        rule.state = state
        for key, attr in (("name", "name"), ("entryPoint", "entry_point"), ("applicationId", "application_id"),
                          ("account", "account"), ("stateDetails", "state_details"), ("error", "error"),
                          ("stdout", "stdout"), ("stderr", "stderr")):
            value = data.get(key)
            if value is not None:
                if not isinstance(value, str):
                    raise OutcomeError(f"{key} must be a string")
                setattr(rule, attr, value)
        if rule.state_details is not None and not 1 <= len(rule.state_details) <= STATE_DETAILS_MAX:
            raise OutcomeError(f"stateDetails must have 1 to {STATE_DETAILS_MAX} characters (the model's String256)")
        mode = data.get("mode")
        if mode is not None and mode not in ("BATCH", "STREAMING"):
            raise OutcomeError("mode must be BATCH or STREAMING")
        rule.mode = mode
        tags = data.get("tags")
        if tags is not None:
            if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
                raise OutcomeError("tags must be an object of strings")
            rule.tags = dict(tags)
        if data.get("script") is not None:
            try:
                rule.script = parse_script(data["script"])
            except ScriptError as e:
                raise OutcomeError(str(e)) from None
            rule.script_json = data["script"]
        count = data.get("count")
        if count is not None:
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise OutcomeError("count must be a positive integer")
            rule.count = count
        return rule

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "state": self.state}
        for key, value in (("name", self.name), ("entryPoint", self.entry_point), ("applicationId", self.application_id),
                           ("account", self.account), ("mode", self.mode), ("stateDetails", self.state_details),
                           ("error", self.error), ("stdout", self.stdout), ("stderr", self.stderr),
                           ("script", self.script_json), ("count", self.count)):
            if value is not None:
                out[key] = value
        if self.tags:
            out["tags"] = dict(self.tags)
        out["matched"] = self.matched
        return out

    def matches(self, facts: JobFacts) -> bool:
        if self.count is not None and self.matched >= self.count:
            return False
        if self.name is not None and (facts.name is None or not fnmatch.fnmatchcase(facts.name, self.name)):
            return False
        if self.entry_point is not None and (
            facts.entry_point is None or not fnmatch.fnmatchcase(facts.entry_point, self.entry_point)
        ):
            return False
        if any(facts.tags.get(k) != v for k, v in self.tags.items()):
            return False
        if self.application_id is not None and facts.application_id != self.application_id:
            return False
        if self.account is not None and facts.account != self.account:
            return False
        if self.mode is not None and facts.mode != self.mode:
            return False
        return True

    def outcome(self) -> Outcome:
        return Outcome(
            state=self.state, state_details=self.state_details, error=self.error, stdout=self.stdout,
            stderr=self.stderr, script=self.script, rule_id=self.id,
        )


class OutcomeBook(RuleBook[OutcomeRule]):
    """The rules, in the order added."""

    def __init__(self) -> None:
        super().__init__(OutcomeRule.from_json, "outcome", OutcomeError, "job outcome rule")

    def to_json(self) -> dict[str, Any]:
        return {"rules": self.rules_json()}

    def resolve(self, facts: JobFacts) -> Outcome:
        """The outcome of a new job run; counts the rule that decided it."""
        with self.lock:
            for rule in self.rules:
                if rule.matches(facts):
                    rule.matched += 1
                    return rule.outcome()
        return Outcome()
