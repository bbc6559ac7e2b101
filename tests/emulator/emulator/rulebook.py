"""An ordered, thread-safe list of rules with ids: what fault rules
(``emulator.faults``) and job outcome rules (``emulator.emr.outcomes``) share."""

from __future__ import annotations

import itertools
import threading
from typing import Any, Callable, Generic, Protocol, TypeVar


class _Rule(Protocol):
    id: str

    def to_json(self) -> dict[str, Any]: ...


R = TypeVar("R", bound=_Rule)


class RuleBook(Generic[R]):
    """Rules in the order added. ``lock`` guards the list and whatever the
    owner evaluates with it (counters, an RNG)."""

    def __init__(self, parse: Callable[[Any, str], R], id_prefix: str, error: type[ValueError], what: str) -> None:
        self.lock = threading.Lock()
        self.rules: list[R] = []
        self._parse = parse
        self._ids = itertools.count(1)
        self._id_prefix = id_prefix
        self._error = error
        self._what = what

    def add(self, data: Any) -> list[R]:
        """Adds one rule or a list of rules; all or nothing."""
        items = data if isinstance(data, list) else [data]
        with self.lock:
            rules = [self._parse(item, f"{self._id_prefix}-{next(self._ids)}") for item in items]
            taken = {r.id for r in self.rules}
            for rule in rules:
                if rule.id in taken:
                    raise self._error(f"a {self._what} with id {rule.id!r} already exists")
                taken.add(rule.id)
            self.rules.extend(rules)
            return rules

    def remove(self, rule_id: str) -> bool:
        with self.lock:
            before = len(self.rules)
            self.rules = [r for r in self.rules if r.id != rule_id]
            return len(self.rules) != before

    def clear(self) -> None:
        with self.lock:
            self.rules = []

    def rules_json(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r.to_json() for r in self.rules]
