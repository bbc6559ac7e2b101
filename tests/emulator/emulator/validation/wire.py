"""Reading a request's input members off the wire, per protocol, from the model.

Every protocol ends in the same place: a dict from member name to value in
the shape the model declares (str, int, bool, float, bytes, list, dict),
which ``validation.check`` then holds against the model's constraints.

- rest-json (EMR Serverless): the operation is the model route whose method
  and ``requestUri`` template match; members come from the path labels, the
  query string, headers and the JSON body, by each member's ``location``.
- json (ECR): the operation is the tail of ``X-Amz-Target``; the body is the
  input structure.
- query (IAM, STS) and ec2 (EC2): the operation is ``Action``; members are
  flattened form parameters, read by walking the input shape the way
  botocore's serializers write them: ``A.B`` for structures, ``A.member.N``
  (query) or ``A.N`` (ec2, and flattened query lists) for lists,
  ``A.entry.N.key``/``.value`` for maps, names from ``locationName`` and,
  for ec2, ``queryName``.

A value the wire form does not let us read as its shape's type (``maxResults=abc``
in a query string) becomes ``Unreadable``: the checker skips it and the
service behind decides what to answer. In JSON bodies a value of the wrong
JSON type is a ``TypeProblem`` (AWS answers those with a SerializationException).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import parse_qs, unquote

from botocore.model import OperationModel, ServiceModel, Shape

REST_JSON = "rest-json"
JSON = "json"
QUERY = "query"
EC2 = "ec2"
READABLE_PROTOCOLS = (REST_JSON, JSON, QUERY, EC2)


@dataclass(frozen=True)
class Unreadable:
    """A wire value that cannot be read as its shape's type; never checked."""

    raw: Any


@dataclass(frozen=True)
class TypeProblem:
    """A JSON value of the wrong JSON type for its shape."""

    path: str
    expected: str  # the shape's type: string, integer, structure, ...
    value: Any


@dataclass(frozen=True)
class HttpRequest:
    method: str
    raw_path: str  # as sent, still percent-encoded
    query_string: str
    headers: Mapping[str, str]
    body: bytes


@dataclass
class ReadRequest:
    operation: OperationModel
    params: dict[str, Any]
    type_problems: list[TypeProblem] = field(default_factory=list)


_ABSENT = object()


def lower_first(name: str) -> str:
    """The member name as AWS's validation messages print it (``RoleName`` -> ``roleName``)."""
    return name[:1].lower() + name[1:]


def read(model: ServiceModel, request: HttpRequest) -> ReadRequest | None:
    """The operation and its input members, or None when the request cannot be read."""
    protocol = model.metadata.get("protocol")
    if protocol == REST_JSON:
        return _read_rest_json(model, request)
    if protocol == JSON:
        return _read_json(model, request)
    if protocol in (QUERY, EC2):
        return _read_query(model, request, ec2=protocol == EC2)
    return None


def _operation(model: ServiceModel, name: str | None) -> OperationModel | None:
    if not name or name not in model.operation_names:
        return None
    return model.operation_model(name)


# --- rest-json -------------------------------------------------------------------


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    required_query: tuple[str, ...]
    literal_length: int
    operation: str


_LABEL = re.compile(r"\{([^}+]+)(\+?)\}")


@functools.cache
def _routes(model: ServiceModel) -> tuple[_Route, ...]:
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http.get("requestUri", "/")
        path, _, query = uri.partition("?")
        regex_parts, last, literal = [], 0, 0
        for m in _LABEL.finditer(path):
            regex_parts.append(re.escape(path[last:m.start()]))
            literal += m.start() - last
            group = re.sub(r"\W", "_", m.group(1))
            regex_parts.append(f"(?P<{group}>.+)" if m.group(2) else f"(?P<{group}>[^/]+)")
            last = m.end()
        regex_parts.append(re.escape(path[last:]))
        literal += len(path) - last
        required = tuple(p.split("=", 1)[0] for p in query.split("&") if p)
        routes.append(_Route(http.get("method", "POST"), re.compile("".join(regex_parts)), required, literal, name))
    # The most literal template wins: /applications/{id}/start before /applications/{id}.
    return tuple(sorted(routes, key=lambda r: -r.literal_length))


def _route(model: ServiceModel, request: HttpRequest) -> tuple[str, dict[str, str]] | None:
    path = request.raw_path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    query = parse_qs(request.query_string, keep_blank_values=True)
    for route in _routes(model):
        if route.method != request.method:
            continue
        m = route.pattern.fullmatch(path)
        if m and all(k in query for k in route.required_query):
            return route.operation, {k: unquote(v) for k, v in m.groupdict().items()}
    return None


def _read_rest_json(model: ServiceModel, request: HttpRequest) -> ReadRequest | None:
    found = _route(model, request)
    if found is None:
        return None
    operation = model.operation_model(found[0])
    labels = found[1]
    result = ReadRequest(operation, {})
    shape = operation.input_shape
    if shape is None:
        return result
    query = parse_qs(request.query_string, keep_blank_values=True)
    headers = {k.lower(): v for k, v in request.headers.items()}
    claimed_query = set()
    body_members = {}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri":
            group = re.sub(r"\W", "_", wire)
            if group in labels:
                result.params[name] = _scalar_from_text(member, labels[group])
        elif location == "querystring":
            if member.type_name == "map":
                continue  # takes the parameters no other member claims; read below
            claimed_query.add(wire)
            if wire not in query:
                continue
            if member.type_name == "list":
                result.params[name] = [_scalar_from_text(member.member, v) for v in query[wire]]
            else:
                result.params[name] = _scalar_from_text(member, query[wire][0])
        elif location == "header":
            if wire.lower() in headers:
                result.params[name] = _scalar_from_text(member, headers[wire.lower()])
        elif location == "headers":
            prefix = wire.lower()
            found_headers = {k[len(prefix):]: v for k, v in headers.items() if k.startswith(prefix)}
            if found_headers:
                result.params[name] = found_headers
        else:
            body_members[name] = member
    for name, member in shape.members.items():
        if member.serialization.get("location") == "querystring" and member.type_name == "map":
            rest = {k: v[0] for k, v in query.items() if k not in claimed_query}
            if rest:
                result.params[name] = rest
    if body_members:
        body = _json_body(request.body)
        if body is None:
            return None  # not JSON: the service answers SerializationException
        payload = shape.serialization.get("payload")
        if payload:
            member = shape.members[payload]
            value = _from_json(member, body, lower_first(payload), result.type_problems)
            if value is not _ABSENT:
                result.params[payload] = value
        elif isinstance(body, dict):
            _structure_from_json(body_members, body, "", result.params, result.type_problems)
    return result


def _json_body(raw: bytes) -> Any:
    """The parsed body: {} when empty, None when it is not JSON (the service answers that)."""
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return None


# --- json (awsJson 1.0 / 1.1) ------------------------------------------------------------


def _read_json(model: ServiceModel, request: HttpRequest) -> ReadRequest | None:
    target = {k.lower(): v for k, v in request.headers.items()}.get("x-amz-target", "")
    prefix, _, name = target.rpartition(".")
    expected_prefix = model.metadata.get("targetPrefix")
    if expected_prefix and prefix != expected_prefix:
        return None
    operation = _operation(model, name)
    if operation is None:
        return None
    result = ReadRequest(operation, {})
    shape = operation.input_shape
    if shape is None:
        return result
    body = _json_body(request.body)
    if not isinstance(body, dict):
        return result if body is not None else None
    _structure_from_json(shape.members, body, "", result.params, result.type_problems)
    return result


def _structure_from_json(
    members: Mapping[str, Shape], body: Mapping[str, Any], path: str, out: dict[str, Any], problems: list[TypeProblem]
) -> None:
    for name, member in members.items():
        wire = member.serialization.get("name", name)
        if wire not in body:
            continue
        member_path = f"{path}.{lower_first(name)}" if path else lower_first(name)
        value = _from_json(member, body[wire], member_path, problems)
        if value is not _ABSENT:
            out[name] = value


def _from_json(shape: Shape, value: Any, path: str, problems: list[TypeProblem]) -> Any:
    """A JSON value as its shape's type; a wrong JSON type is a TypeProblem."""
    if value is None:
        return _ABSENT  # JSON null is an absent member
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            problems.append(TypeProblem(path, kind, value))
            return _ABSENT
        out: dict[str, Any] = {}
        _structure_from_json(shape.members, value, path, out, problems)
        return out
    if kind == "list":
        if not isinstance(value, list):
            problems.append(TypeProblem(path, kind, value))
            return _ABSENT
        items = []
        for i, item in enumerate(value, 1):
            converted = _from_json(shape.member, item, f"{path}.{i}.member", problems)
            items.append(None if converted is _ABSENT else converted)
        return items
    if kind == "map":
        if not isinstance(value, dict):
            problems.append(TypeProblem(path, kind, value))
            return _ABSENT
        entries = {}
        for key, item in value.items():
            converted = _from_json(shape.value, item, f"{path}.{key}.member", problems)
            entries[key] = None if converted is _ABSENT else converted
        return entries
    if kind == "string":
        if not isinstance(value, str):
            problems.append(TypeProblem(path, kind, value))
            return _ABSENT
        return value
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            isinstance(value, float) and not value.is_integer()
        ):
            problems.append(TypeProblem(path, kind, value))
            return _ABSENT
        return int(value)
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(TypeProblem(path, kind, value))
            return _ABSENT
        return float(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            problems.append(TypeProblem(path, kind, value))
            return _ABSENT
        return value
    if kind == "blob":
        if not isinstance(value, str):
            problems.append(TypeProblem(path, kind, value))
            return _ABSENT
        return _base64(value)
    return value  # timestamps and documents carry no constraints


def _base64(text: str) -> bytes | Unreadable:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return Unreadable(text)


def _scalar_from_text(shape: Shape, text: str) -> Any:
    """A path label, query parameter, header or form value as its shape's type."""
    kind = shape.type_name
    if kind == "string":
        return text
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            return Unreadable(text)
    if kind in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            return Unreadable(text)
    if kind == "boolean":
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        return Unreadable(text)
    if kind == "blob":
        return _base64(text)
    return text


# --- query and ec2 -----------------------------------------------------------------


def _form(request: HttpRequest) -> dict[str, str]:
    params: dict[str, str] = {}
    for source in (request.query_string, _form_text(request)):
        for key, values in parse_qs(source, keep_blank_values=True).items():
            params[key] = values[0]
    return params


def _form_text(request: HttpRequest) -> str:
    content_type = {k.lower(): v for k, v in request.headers.items()}.get("content-type", "")
    if request.body and content_type.startswith("application/x-www-form-urlencoded"):
        try:
            return request.body.decode("utf-8")
        except UnicodeDecodeError:
            return ""
    return ""


def _read_query(model: ServiceModel, request: HttpRequest, *, ec2: bool) -> ReadRequest | None:
    params = _form(request)
    operation = _operation(model, params.get("Action"))
    if operation is None:
        return None
    result = ReadRequest(operation, {})
    shape = operation.input_shape
    if shape is None:
        return result
    reader = _QueryReader(params, ec2)
    value = reader.structure(shape, "")
    if value is not _ABSENT:
        result.params = value
    return result


class _QueryReader:
    def __init__(self, params: Mapping[str, str], ec2: bool) -> None:
        self.params = params
        self.ec2 = ec2
        # Every key split once, for finding the indexes of list and map entries.
        self.keys = tuple(params)

    def name(self, shape: Shape, default: str) -> str:
        """The member's wire name, as botocore's Query/EC2 serializers write it."""
        if self.ec2:
            if "queryName" in shape.serialization:
                return shape.serialization["queryName"]
            if "name" in shape.serialization:
                name = shape.serialization["name"]
                return name[:1].upper() + name[1:]
            return default
        return shape.serialization.get("name", default)

    def value(self, shape: Shape, key: str) -> Any:
        kind = shape.type_name
        if kind == "structure":
            return self.structure(shape, key)
        if kind == "list":
            return self.list(shape, key)
        if kind == "map":
            return self.map(shape, key)
        if key not in self.params:
            return _ABSENT
        return _scalar_from_text(shape, self.params[key])

    def structure(self, shape: Shape, prefix: str) -> Any:
        out = {}
        for name, member in shape.members.items():
            wire = self.name(member, name)
            value = self.value(member, f"{prefix}.{wire}" if prefix else wire)
            if value is not _ABSENT:
                out[name] = value
        return out if out or not prefix else _ABSENT

    def indexes(self, base: str) -> list[int]:
        dotted = base + "."
        found = set()
        for key in self.keys:
            if key.startswith(dotted):
                head = key[len(dotted):].split(".", 1)[0]
                if head.isdigit():
                    found.add(int(head))
        return sorted(found)

    def list(self, shape: Shape, key: str) -> Any:
        if self.ec2 or shape.serialization.get("flattened"):
            base = key
            member_name = shape.member.serialization.get("name")
            if not self.ec2 and member_name:
                base = ".".join(key.split(".")[:-1] + [member_name])
        else:
            base = f"{key}.{shape.member.serialization.get('name', 'member')}"
        indexes = self.indexes(base)
        if not indexes:
            # The query protocol writes an empty list as a bare `Name=`.
            return [] if self.params.get(key) == "" else _ABSENT
        items = []
        for i in indexes:
            item = self.value(shape.member, f"{base}.{i}")
            items.append(None if item is _ABSENT else item)
        return items

    def map(self, shape: Shape, key: str) -> Any:
        base = key if shape.serialization.get("flattened") else f"{key}.entry"
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        indexes = self.indexes(base)
        if not indexes:
            return _ABSENT
        out = {}
        for i in indexes:
            k = self.value(shape.key, f"{base}.{i}.{key_name}")
            v = self.value(shape.value, f"{base}.{i}.{value_name}")
            if k is _ABSENT or isinstance(k, Unreadable):
                continue
            out[k] = None if v is _ABSENT else v
        return out

