"""Holding an operation's input against the constraints of its model.

The checks are the model's own traits, nothing else: ``required``, ``min``
and ``max`` (string and blob length, list and map size, numeric range),
``pattern`` (whole value, Java semantics: ``validation.patterns``) and
``enum``, recursing through structures, lists and maps.

Each violation records where it is in AWS's notation, which the public
record shows for the Coral validation layer behind most AWS services:

- a member is its name with the first letter lowered, joined by dots:
  ``imageConfiguration.imageUri``, ``roleName``, ``roleARN``;
- an element of a list of structures is ``list.N.member``
  (``targets.1.member.inputTransformer.inputPathsMap`` in an EventBridge
  answer), an entry of a map of structures ``map.KEY.member``
  (``requestItems.users.member.keys`` in DynamoDB's, as moto's tests quote it);
- a list of scalars that breaks its member's constraints is one violation on
  the list, "Member must satisfy constraint: [...]" listing every constraint
  of the member (Lambda's "Value '[]' at 'layers' failed to satisfy
  constraint: Member must satisfy constraint: [Member must have length less
  than or equal to 2048, ...]", appleboy/lambda-action #83); a map's keys and
  scalar values likewise, "Map keys must satisfy constraint: [...]" and "Map
  value must satisfy constraint: [...]", keys first, once each however many
  entries break them (probed on Firehose by floci);
- a string breaking both a length and its pattern gives two violations; an
  empty string is held against the pattern too (STS's "2 validation errors
  detected: Value '' at 'roleArn' ... pattern ...; Value '' at 'roleArn' ...
  length greater than or equal to 20", newscorpaus/consigliere #18). Which of
  the two comes first differs between captures; here length comes first.

Violations come out in the model's member order. Values of ``Unreadable``
wire input are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.model import Shape

from . import patterns
from .wire import Unreadable, lower_first

# Constraint kinds.
REQUIRED = "required"
MAX_LENGTH = "max-length"
MIN_LENGTH = "min-length"
PATTERN = "pattern"
ENUM = "enum"
MAX_VALUE = "max-value"
MIN_VALUE = "min-value"
# A collection's elements: args is the tuple of the element shape's constraints.
MEMBER = "member"
MAP_KEYS = "map-keys"
MAP_VALUES = "map-values"


@dataclass(frozen=True)
class Constraint:
    kind: str
    arg: Any = None  # the bound, pattern or enum list; for collections, a tuple of Constraints


@dataclass(frozen=True)
class Violation:
    path: str  # AWS's notation: imageConfiguration.imageUri, tags.1.member.key
    wire: str  # the query-protocol parameter name (EC2's MissingParameter names it)
    value: Any  # None for a missing member
    constraint: Constraint
    sensitive: bool = False
    # The member's own wire name (its locationName: S3's `x-amz-storage-class`
    # header, `max-keys` query parameter), for the answers that name it.
    location_name: str = ""


@dataclass
class Checker:
    violations: list[Violation] = field(default_factory=list)

    def input(self, shape: Shape, params: dict[str, Any]) -> list[Violation]:
        self.structure(shape, params, "", "")
        return self.violations

    def add(self, path: str, wire: str, value: Any, constraint: Constraint, shape: Shape) -> None:
        location_name = shape.serialization.get("name") or path.rsplit(".", 1)[-1]
        self.violations.append(Violation(path, wire, value, constraint, _sensitive(shape), location_name))

    def value(self, shape: Shape, value: Any, path: str, wire: str) -> None:
        if value is None or isinstance(value, Unreadable):
            return
        kind = shape.type_name
        if kind == "structure":
            if isinstance(value, dict):
                self.structure(shape, value, path, wire)
        elif kind == "list":
            if isinstance(value, list):
                self.list(shape, value, path, wire)
        elif kind == "map":
            if isinstance(value, dict):
                self.map(shape, value, path, wire)
        else:
            for constraint in broken(shape, value):
                self.add(path, wire, value, constraint, shape)

    def structure(self, shape: Shape, value: dict[str, Any], path: str, wire: str) -> None:
        required = set(shape.required_members)
        for name, member in shape.members.items():
            member_path = f"{path}.{lower_first(name)}" if path else lower_first(name)
            member_wire = _ec2_name(member, name)
            member_wire = f"{wire}.{member_wire}" if wire else member_wire
            if value.get(name) is None:
                if name in required:
                    self.add(member_path, member_wire, None, Constraint(REQUIRED), member)
                continue
            self.value(member, value[name], member_path, member_wire)

    def list(self, shape: Shape, value: list[Any], path: str, wire: str) -> None:
        self.size(shape, value, path, wire)
        element = shape.member
        if _is_scalar(element):
            readable = [v for v in value if v is not None and not isinstance(v, Unreadable)]
            if any(broken(element, v) for v in readable):
                self.add(path, wire, value, Constraint(MEMBER, constraints(element)), shape)
            return
        for i, item in enumerate(value, 1):
            self.value(element, item, f"{path}.{i}.member", f"{wire}.{i}")

    def map(self, shape: Shape, value: dict[Any, Any], path: str, wire: str) -> None:
        self.size(shape, value, path, wire)
        keys = [k for k in value if not isinstance(k, Unreadable)]
        if any(broken(shape.key, k) for k in keys):
            self.add(path, wire, value, Constraint(MAP_KEYS, constraints(shape.key)), shape)
        element = shape.value
        if _is_scalar(element):
            readable = [v for v in value.values() if v is not None and not isinstance(v, Unreadable)]
            if any(broken(element, v) for v in readable):
                self.add(path, wire, value, Constraint(MAP_VALUES, constraints(element)), shape)
            return
        for key, item in value.items():
            self.value(element, item, f"{path}.{key}.member", f"{wire}.{key}")

    def size(self, shape: Shape, value: Any, path: str, wire: str) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if high is not None and len(value) > high:
            self.add(path, wire, value, Constraint(MAX_LENGTH, high), shape)
        if low is not None and len(value) < low:
            self.add(path, wire, value, Constraint(MIN_LENGTH, low), shape)


def constraints(shape: Shape) -> tuple[Constraint, ...]:
    """Every constraint of a scalar shape, in the order AWS lists them in brackets:
    maximum before minimum, then the pattern ("[Member must have length less than
    or equal to 2048, Member must have length greater than or equal to 1, Member
    must satisfy regular expression pattern: ...]")."""
    meta = shape.metadata
    if shape.enum:
        return (Constraint(ENUM, tuple(shape.enum)),)
    out = []
    if shape.type_name in ("string", "blob"):
        if "max" in meta:
            out.append(Constraint(MAX_LENGTH, meta["max"]))
        if "min" in meta:
            out.append(Constraint(MIN_LENGTH, meta["min"]))
        if "pattern" in meta and shape.type_name == "string":
            out.append(Constraint(PATTERN, meta["pattern"]))
    elif shape.type_name in ("integer", "long", "float", "double"):
        if "max" in meta:
            out.append(Constraint(MAX_VALUE, _number(shape, meta["max"])))
        if "min" in meta:
            out.append(Constraint(MIN_VALUE, _number(shape, meta["min"])))
    return tuple(out)


def broken(shape: Shape, value: Any) -> list[Constraint]:
    """The constraints of a scalar shape that ``value`` breaks, in reporting order."""
    if isinstance(value, Unreadable):
        return []
    meta = shape.metadata
    kind = shape.type_name
    out: list[Constraint] = []
    if kind == "string":
        if not isinstance(value, str):
            return []
        if shape.enum:
            if value not in shape.enum:
                out.append(Constraint(ENUM, tuple(shape.enum)))
            return out
        out.extend(_length(meta, len(value)))
        if "pattern" in meta and not patterns.matches(meta["pattern"], value):
            out.append(Constraint(PATTERN, meta["pattern"]))
    elif kind == "blob":
        if isinstance(value, (bytes, str)):
            out.extend(_length(meta, len(value)))
    elif kind in ("integer", "long", "float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return []
        if "max" in meta and value > meta["max"]:
            out.append(Constraint(MAX_VALUE, _number(shape, meta["max"])))
        if "min" in meta and value < meta["min"]:
            out.append(Constraint(MIN_VALUE, _number(shape, meta["min"])))
    return out


def _length(meta: dict[str, Any], length: int) -> list[Constraint]:
    if "max" in meta and length > meta["max"]:
        return [Constraint(MAX_LENGTH, meta["max"])]
    if "min" in meta and length < meta["min"]:
        return [Constraint(MIN_LENGTH, meta["min"])]
    return []


def _number(shape: Shape, bound: Any) -> Any:
    # Java prints a double bound as 1.0; an integer one as 1.
    return float(bound) if shape.type_name in ("float", "double") else int(bound)


def _is_scalar(shape: Shape) -> bool:
    return shape.type_name not in ("structure", "list", "map")


def _sensitive(shape: Shape) -> bool:
    return bool(shape.metadata.get("sensitive"))


def _ec2_name(shape: Shape, default: str) -> str:
    """EC2's parameter name for a member (queryName, else locationName capitalised)."""
    if "queryName" in shape.serialization:
        return shape.serialization["queryName"]
    if "name" in shape.serialization:
        name = shape.serialization["name"]
        return name[:1].upper() + name[1:]
    return default
