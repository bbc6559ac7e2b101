"""Fault rules: make chosen calls fail, hang or vanish.

A rule matches calls by service, operation, account and region (each
optional), then decides whether to fire:

- ``skip``: let the first N matching calls through untouched;
- ``count``: fire at most N times (with no ``probability``, that is exactly
  the next N matching calls);
- ``probability``: fire on each matching call with this probability, drawn
  from one RNG that ``seed`` makes reproducible.

A rule with neither ``count`` nor ``probability`` fires on every matching
call. Rules are evaluated in the order they were added: every firing
``latency`` rule adds its delay and evaluation goes on; the first other rule
that fires decides the response.
"""

from __future__ import annotations

import itertools
import random
import threading
from dataclasses import dataclass, field
from typing import Any

KINDS = ("throttle", "error", "server_error", "drop", "latency")
SERVICES = ("emr-serverless", "iam", "ecr", "ec2", "sts")


class RuleError(ValueError):
    """A fault rule that cannot be accepted; the message says why."""


@dataclass
class FaultRule:
    id: str
    kind: str
    service: str | None = None
    operation: str | None = None
    account: str | None = None
    region: str | None = None
    probability: float | None = None
    count: int | None = None
    skip: int = 0
    status: int | None = None
    code: str | None = None
    message: str | None = None
    latency_ms: int = 0
    reset: bool = False
    matched: int = 0
    fired: int = 0

    @classmethod
    def from_json(cls, data: Any, rule_id: str) -> "FaultRule":
        if not isinstance(data, dict):
            raise RuleError("a fault rule is a JSON object")
        known = {
            "id", "kind", "service", "operation", "account", "region", "probability",
            "count", "skip", "status", "code", "message", "latencyMs", "reset",
        }
        unknown = sorted(set(data) - known)
        if unknown:
            raise RuleError(f"unknown fault rule keys: {', '.join(unknown)}")
        kind = data.get("kind")
        if kind not in KINDS:
            raise RuleError(f"kind must be one of {', '.join(KINDS)}")
        rule = cls(id=str(data.get("id") or rule_id), kind=kind)
        rule.service = _optional_str(data, "service")
        if rule.service is not None:
            rule.service = rule.service.lower()
        rule.operation = _optional_str(data, "operation")
        rule.account = _optional_str(data, "account")
        rule.region = _optional_str(data, "region")
        if data.get("probability") is not None:
            p = data["probability"]
            if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
                raise RuleError("probability must be a number from 0 to 1")
            rule.probability = float(p)
        if data.get("count") is not None:
            rule.count = _non_negative_int(data, "count")
        if data.get("skip") is not None:
            rule.skip = _non_negative_int(data, "skip")
        if kind == "error":
            status = data.get("status")
            if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
                raise RuleError("an error rule needs a status from 400 to 599")
            if not isinstance(data.get("code"), str) or not data["code"]:
                raise RuleError("an error rule needs a code")
            rule.status = status
            rule.code = data["code"]
            rule.message = str(data.get("message") or data["code"])
        elif kind == "server_error":
            if data.get("status") is not None:
                status = data["status"]
                if isinstance(status, bool) or not isinstance(status, int) or not 500 <= status <= 599:
                    raise RuleError("a server_error status must be from 500 to 599")
                rule.status = status
        elif kind == "latency":
            rule.latency_ms = _non_negative_int(data, "latencyMs")
        elif kind == "drop":
            rule.reset = bool(data.get("reset", False))
        return rule

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind}
        for key in ("service", "operation", "account", "region", "probability", "count", "status", "code", "message"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.skip:
            out["skip"] = self.skip
        if self.kind == "latency":
            out["latencyMs"] = self.latency_ms
        if self.kind == "drop":
            out["reset"] = self.reset
        out["matched"] = self.matched
        out["fired"] = self.fired
        return out

    def matches(self, service: str | None, operation: str | None, account: str, region: str | None) -> bool:
        if self.service is not None and self.service != service:
            return False
        if self.operation is not None and (operation or "").lower() != self.operation.lower():
            return False
        if self.account is not None and self.account != account:
            return False
        if self.region is not None and self.region != region:
            return False
        return True


def _optional_str(data: dict, key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise RuleError(f"{key} must be a non-empty string")
    return value


def _non_negative_int(data: dict, key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RuleError(f"{key} must be a non-negative integer")
    return value


@dataclass
class Decision:
    """What the fault layer decided for one call."""

    latency_ms: int = 0
    rule: FaultRule | None = None
    delayed_by: list[str] = field(default_factory=list)


class FaultEngine:
    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self.seed = seed
        self._rng = random.Random(seed)

    def set_seed(self, seed: int | None) -> None:
        with self._lock:
            self.seed = seed
            self._rng = random.Random(seed)

    def add(self, data: Any) -> list[FaultRule]:
        """Adds one rule or a list of rules; all or nothing."""
        items = data if isinstance(data, list) else [data]
        with self._lock:
            rules = [FaultRule.from_json(item, f"rule-{next(self._ids)}") for item in items]
            taken = {r.id for r in self._rules}
            for rule in rules:
                if rule.id in taken:
                    raise RuleError(f"a rule with id {rule.id!r} already exists")
                taken.add(rule.id)
            self._rules.extend(rules)
            return rules

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return {"seed": self.seed, "rules": [r.to_json() for r in self._rules]}

    def decide(self, service: str | None, operation: str | None, account: str, region: str | None) -> Decision:
        decision = Decision()
        with self._lock:
            for rule in self._rules:
                if not rule.matches(service, operation, account, region):
                    continue
                rule.matched += 1
                if rule.matched <= rule.skip:
                    continue
                if rule.count is not None and rule.fired >= rule.count:
                    continue
                if rule.probability is not None and self._rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                if rule.kind == "latency":
                    decision.latency_ms += rule.latency_ms
                    decision.delayed_by.append(rule.id)
                    continue
                decision.rule = rule
                break
        return decision
