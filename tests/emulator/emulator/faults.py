"""Fault rules: make chosen calls fail, hang or vanish.

A rule matches calls by service, operation, account and region (each
optional), then decides whether to fire:

- ``skip``: let the first N matching calls through untouched;
- ``count``: fire at most N times (with no ``probability``, that is exactly
  the next N matching calls);
- ``probability``: fire on each matching call with this probability, drawn
  from one RNG that ``seed`` makes reproducible.

A rule with neither ``count`` nor ``probability`` fires on every matching
call. S3 rules may also match the bucket (``bucket``), a key prefix
(``keyPrefix``: requests on an object whose key starts with it) and the IAM
actions the request needs (``action``: "s3:PutObject", a list, or patterns
like "s3:*"; a conditional PutObject with If-Match needs s3:PutObject and
s3:GetObject). The ``deny`` kind answers S3's AccessDenied naming the first
action the rule denies. Rules are evaluated in the order they were added: every firing
``latency`` rule adds its delay and evaluation goes on; the first other rule
that fires decides the response.
"""

from __future__ import annotations

import fnmatch
import random
from dataclasses import dataclass, field
from typing import Any

from .rulebook import RuleBook

KINDS = ("throttle", "error", "server_error", "drop", "latency", "deny")
SERVICES = ("emr-serverless", "iam", "ecr", "ec2", "sts", "s3", "tagging")


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
    bucket: str | None = None
    key_prefix: str | None = None
    actions: tuple[str, ...] = ()
    matched: int = 0
    fired: int = 0

    @classmethod
    def from_json(cls, data: Any, rule_id: str) -> "FaultRule":
        if not isinstance(data, dict):
            raise RuleError("a fault rule is a JSON object")
        known = {
            "id", "kind", "service", "operation", "account", "region", "probability",
            "count", "skip", "status", "code", "message", "latencyMs", "reset",
            "bucket", "keyPrefix", "action",
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
        if rule.service is not None and rule.service not in SERVICES:
            raise RuleError(f"service must be one of {', '.join(SERVICES)}")
        rule.operation = _optional_str(data, "operation")
        rule.account = _optional_str(data, "account")
        rule.region = _optional_str(data, "region")
        rule.bucket = _optional_str(data, "bucket")
        rule.key_prefix = _optional_str(data, "keyPrefix")
        action = data.get("action")
        if action is not None:
            items = action if isinstance(action, list) else [action]
            if not items or not all(isinstance(a, str) and a for a in items):
                raise RuleError("action is an IAM action like \"s3:PutObject\" (patterns allowed) or a list of them")
            rule.actions = tuple(items)
        if (rule.bucket or rule.key_prefix or rule.actions or kind == "deny") and rule.service != "s3":
            raise RuleError("bucket, keyPrefix, action and the deny kind are for S3 rules (service \"s3\")")
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
        if self.bucket is not None:
            out["bucket"] = self.bucket
        if self.key_prefix is not None:
            out["keyPrefix"] = self.key_prefix
        if self.actions:
            out["action"] = list(self.actions)
        if self.skip:
            out["skip"] = self.skip
        if self.kind == "latency":
            out["latencyMs"] = self.latency_ms
        if self.kind == "drop":
            out["reset"] = self.reset
        out["matched"] = self.matched
        out["fired"] = self.fired
        return out

    def matches(
        self, service: str | None, operation: str | None, account: str, region: str | None, target: Any = None
    ) -> bool:
        if self.service is not None and self.service != service:
            return False
        if self.bucket is not None and (target is None or target.bucket != self.bucket):
            return False
        if self.key_prefix is not None and (target is None or target.key is None or not target.key.startswith(self.key_prefix)):
            return False
        if self.actions and (target is None or not any(self._covers(a) for a in target.actions)):
            return False
        if self.operation is not None and (operation or "").lower() != self.operation.lower():
            return False
        if self.account is not None and self.account != account:
            return False
        if self.region is not None and self.region != region:
            return False
        return True


    def _covers(self, action: str) -> bool:
        return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in self.actions)

    def denied_action(self, target: Any) -> str:
        """The action a deny rule names: the first the request needs that the rule covers."""
        for action in target.actions:
            if not self.actions or self._covers(action):
                return action
        return target.actions[0] if target.actions else "s3:*"


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


class FaultEngine(RuleBook[FaultRule]):
    def __init__(self, seed: int | None = None) -> None:
        super().__init__(FaultRule.from_json, "rule", RuleError, "rule")
        self.seed = seed
        self._rng = random.Random(seed)

    def set_seed(self, seed: int | None) -> None:
        with self.lock:
            self.seed = seed
            self._rng = random.Random(seed)

    def to_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "rules": self.rules_json()}

    def decide(
        self, service: str | None, operation: str | None, account: str, region: str | None, target: Any = None
    ) -> Decision:
        """``target``: what an S3 request is about (``emulator.s3.Target``), else None."""
        decision = Decision()
        with self.lock:
            for rule in self.rules:
                if not rule.matches(service, operation, account, region, target):
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
