"""Call counts per ``service:operation``, overall and per account.

Every call that the front layer routes to a service lands in exactly one of
three outcomes:

- ``served``: it reached the service (whatever the service answered);
- ``faulted``: a fault rule answered it or dropped it instead;
- ``throttled``: the rate limiter refused it.

``delayed`` additionally counts served or faulted calls that a latency rule
slowed down. Control API calls are never counted.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

OUTCOMES = ("served", "faulted", "throttled", "delayed")


def call_key(service: str | None, operation: str | None) -> str:
    return f"{service or 'unknown'}:{operation or 'unknown'}"


class CallCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total: dict[str, Counter[str]] = {o: Counter() for o in OUTCOMES}
        self._accounts: dict[str, dict[str, Counter[str]]] = {}

    def record(self, outcome: str, service: str | None, operation: str | None, account: str) -> None:
        key = call_key(service, operation)
        with self._lock:
            self._total[outcome][key] += 1
            per_account = self._accounts.setdefault(account, {o: Counter() for o in OUTCOMES})
            per_account[outcome][key] += 1

    def reset(self) -> None:
        with self._lock:
            self._total = {o: Counter() for o in OUTCOMES}
            self._accounts = {}

    def to_json(self, account: str | None = None) -> dict[str, Any]:
        with self._lock:
            if account is not None:
                counts = self._accounts.get(account, {o: Counter() for o in OUTCOMES})
                return _view(counts)
            out = _view(self._total)
            out["byAccount"] = {acct: _view(c) for acct, c in sorted(self._accounts.items())}
            return out


def _view(counts: dict[str, Counter[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {o: dict(sorted(counts[o].items())) for o in OUTCOMES}
    out["totals"] = {o: sum(counts[o].values()) for o in OUTCOMES}
    return out
