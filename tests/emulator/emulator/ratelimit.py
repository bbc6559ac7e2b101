"""EMR Serverless (and Tagging API) rate limits: token buckets per account, region and operation.

The default numbers are the documented ones (docs/api-semantics.md, the user guide's
"Endpoints and quotas", API limits); the tag operations are undocumented and get the 10/50 that emrstack
assumes. Off by default. Tests lower ``rate`` and ``burst`` so that a handful
of calls reaches the limit.
"""

from __future__ import annotations

import threading
import time
from typing import Any

# operation -> (steady requests per second, burst)
DEFAULT_LIMITS: dict[str, tuple[float, int]] = {
    "ListApplications": (10, 50),
    "GetApplication": (10, 50),
    "GetJobRun": (10, 50),
    "CreateApplication": (1, 25),
    "DeleteApplication": (1, 25),
    "UpdateApplication": (1, 25),
    "StartApplication": (1, 25),
    "StopApplication": (1, 25),
    "ListJobRuns": (1, 25),
    "StartJobRun": (1, 25),
    "CancelJobRun": (1, 25),
    "GetDashboardForJobRun": (1, 2),
    "TagResource": (10, 50),
    "UntagResource": (10, 50),
    "ListTagsForResource": (10, 50),
    # The Resource Groups Tagging API (tagging.py): "Maximum of 15 calls per
    # second", not adjustable (Tag Editor quotas); the burst is not
    # documented, one second's worth is assumed.
    "GetResources": (15, 15),
}


class RateLimitError(ValueError):
    pass


class RateLimiter:
    def __init__(self, enabled: bool = False) -> None:
        self._lock = threading.Lock()
        self.enabled = enabled
        self._rate: float | None = None
        self._burst: int | None = None
        self._operations: dict[str, tuple[float, int]] = {}
        # (account, region, operation) -> [tokens, last refill (monotonic)]
        self._buckets: dict[tuple[str, str, str], list[float]] = {}

    def configure(self, data: Any) -> None:
        """Applies ``{"enabled", "rate", "burst", "operations": {op: {rate, burst}}}``.

        Keys left out keep their value; ``"rate": null`` / ``"burst": null``
        drop a global override. Every change refills all buckets.
        """
        if not isinstance(data, dict):
            raise RateLimitError("rate limit settings are a JSON object")
        unknown = sorted(set(data) - {"enabled", "rate", "burst", "operations"})
        if unknown:
            raise RateLimitError(f"unknown rate limit keys: {', '.join(unknown)}")
        with self._lock:
            if "enabled" in data:
                if not isinstance(data["enabled"], bool):
                    raise RateLimitError("enabled must be true or false")
                self.enabled = data["enabled"]
            if "rate" in data:
                self._rate = None if data["rate"] is None else _rate(data["rate"])
            if "burst" in data:
                self._burst = None if data["burst"] is None else _burst(data["burst"])
            if "operations" in data:
                ops = data["operations"]
                if not isinstance(ops, dict):
                    raise RateLimitError("operations maps an operation name to {rate, burst}")
                parsed = {}
                for op, spec in ops.items():
                    if op not in DEFAULT_LIMITS:
                        raise RateLimitError(f"unknown EMR Serverless operation {op!r}")
                    if not isinstance(spec, dict):
                        raise RateLimitError(f"operations.{op} must be {{rate, burst}}")
                    default_rate, default_burst = DEFAULT_LIMITS[op]
                    parsed[op] = (
                        _rate(spec.get("rate", default_rate)),
                        _burst(spec.get("burst", default_burst)),
                    )
                self._operations = parsed
            self._buckets.clear()

    def reset(self, enabled: bool = False) -> None:
        with self._lock:
            self.enabled = enabled
            self._rate = None
            self._burst = None
            self._operations = {}
            self._buckets.clear()

    def limits(self, operation: str) -> tuple[float, int] | None:
        if operation in self._operations:
            return self._operations[operation]
        default = DEFAULT_LIMITS.get(operation)
        if default is None:
            return None
        rate = self._rate if self._rate is not None else default[0]
        burst = self._burst if self._burst is not None else default[1]
        return rate, burst

    def allow(self, account: str, region: str, operation: str | None) -> bool:
        """Takes one token; False means the call is throttled."""
        if not self.enabled or operation is None:
            return True
        with self._lock:
            limits = self.limits(operation)
            if limits is None:
                return True
            rate, burst = limits
            now = time.monotonic()
            key = (account, region, operation)
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = [float(burst), now]
            tokens = min(float(burst), bucket[0] + (now - bucket[1]) * rate)
            bucket[1] = now
            if tokens >= 1:
                bucket[0] = tokens - 1
                return True
            bucket[0] = tokens
            return False

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "enabled": self.enabled,
                "rate": self._rate,
                "burst": self._burst,
                "operations": {op: {"rate": r, "burst": b} for op, (r, b) in self._operations.items()},
                "effective": {op: {"rate": lim[0], "burst": lim[1]} for op in DEFAULT_LIMITS if (lim := self.limits(op))},
            }


def _rate(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise RateLimitError("rate must be a non-negative number of requests per second")
    return float(value)


def _burst(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RateLimitError("burst must be a positive integer")
    return value
