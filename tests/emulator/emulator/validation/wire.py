"""Reading a request's input members off the wire, per protocol, from the model.

Every protocol ends in the same place: a dict from member name to value in
the shape the model declares (str, int, bool, float, bytes, list, dict),
which ``validation.check`` then holds against the model's constraints.

- rest-json (EMR Serverless) and rest-xml (S3): the operation is the model
  route whose method and ``requestUri`` template match (the most literal
  template; among operations sharing one, such as S3's PutObject, CopyObject
  and UploadPart on ``/{Bucket}/{Key+}``, the one whose required query and
  header members the request carries); members come from the path labels,
  the query string, headers and the body (JSON, or for rest-xml the XML
  payload structure; a blob payload such as an object's bytes is not read),
  by each member's ``location``. S3 requests are read in path style: the
  front layer rewrites a virtual-hosted request's path first (``emulator.s3``).
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
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import parse_qs, unquote

from botocore.model import OperationModel, ServiceModel, Shape

REST_JSON = "rest-json"
REST_XML = "rest-xml"
JSON = "json"
QUERY = "query"
EC2 = "ec2"
READABLE_PROTOCOLS = (REST_JSON, REST_XML, JSON, QUERY, EC2)


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
    if protocol in (REST_JSON, REST_XML):
        return _read_rest(model, request, xml=protocol == REST_XML)
    if protocol == JSON:
        return _read_json(model, request)
    if protocol in (QUERY, EC2):
        return _read_query(model, request, ec2=protocol == EC2)
    return None


def _operation(model: ServiceModel, name: str | None) -> OperationModel | None:
    if not name or name not in model.operation_names:
        return None
    return model.operation_model(name)


# --- rest-json and rest-xml ---------------------------------------------------------


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    # Literal query parameters of the template: name -> value ("" when the
    # template names the parameter alone, as S3's `?location`).
    literal_query: tuple[tuple[str, str], ...]
    literal_length: int
    operation: str
    # Required members the request must carry in its query string or headers
    # (S3's UploadPart needs uploadId and partNumber, CopyObject
    # x-amz-copy-source): (location, wire name).
    required_wire: tuple[tuple[str, str], ...]


_LABEL = re.compile(r"\{([^}+]+)(\+?)\}")


@functools.cache
def _routes(model: ServiceModel) -> tuple[_Route, ...]:
    routes = []
    for name in model.operation_names:
        op = model.operation_model(name)
        http = op.http
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
        literal_query = tuple((p.partition("=")[0], p.partition("=")[2]) for p in query.split("&") if p)
        required_wire = []
        shape = op.input_shape
        if shape is not None:
            for member_name in shape.required_members:
                member = shape.members[member_name]
                location = member.serialization.get("location")
                if location in ("querystring", "header"):
                    required_wire.append((location, member.serialization.get("name", member_name)))
        routes.append(_Route(
            http.get("method", "POST"), re.compile("".join(regex_parts)), literal_query, literal, name, tuple(required_wire),
        ))
    # The most literal template first: /applications/{id}/start before
    # /applications/{id}; S3's /{Bucket}?list-type=2 before /{Bucket}.
    return tuple(sorted(routes, key=lambda r: (-r.literal_length, -len(r.literal_query))))


def _route(model: ServiceModel, request: HttpRequest, *, strip_slash: bool = True) -> tuple[str, dict[str, str]] | None:
    """The operation of a request and its path labels (still percent-encoded
    in the request, decoded here), or None when no route of the model fits."""
    path = request.raw_path or "/"
    if strip_slash and len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    query = parse_qs(request.query_string, keep_blank_values=True)
    headers = {k.lower() for k in request.headers.keys()}
    best: tuple[tuple[int, int, int, int], _Route, dict[str, str]] | None = None
    for route in _routes(model):
        if route.method != request.method:
            continue
        if not all(k in query and (not v or query[k][0] == v) for k, v in route.literal_query):
            continue
        m = route.pattern.fullmatch(path)
        if not m:
            continue
        present = sum(
            1 for location, wire in route.required_wire
            if (wire in query if location == "querystring" else wire.lower() in headers)
        )
        complete = int(present == len(route.required_wire))
        score = (route.literal_length, len(route.literal_query), complete, present)
        if best is None or score > best[0]:
            best = (score, route, m.groupdict())
    if best is None:
        return None
    return best[1].operation, {k: unquote(v) for k, v in best[2].items()}


def _read_rest(model: ServiceModel, request: HttpRequest, *, xml: bool) -> ReadRequest | None:
    # An S3 key may end in '/', so rest-xml paths are taken as sent.
    found = _route(model, request, strip_slash=not xml)
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
                if member.type_name == "list":
                    result.params[name] = [_scalar_from_text(member.member, v.strip()) for v in headers[wire.lower()].split(",")]
                else:
                    result.params[name] = _scalar_from_text(member, headers[wire.lower()])
        elif location == "headers":
            prefix = wire.lower()
            found_headers = {k[len(prefix):]: v for k, v in headers.items() if k.startswith(prefix)}
            if found_headers:
                result.params[name] = found_headers
        elif location is None:
            body_members[name] = member
    for name, member in shape.members.items():
        if member.serialization.get("location") == "querystring" and member.type_name == "map":
            rest = {k: v[0] for k, v in query.items() if k not in claimed_query}
            if rest:
                result.params[name] = rest
    if not body_members:
        return result
    if xml:
        return _xml_body(shape, body_members, request.body, result)
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


# --- rest-xml bodies ------------------------------------------------------------------


def _xml_body(shape: Shape, body_members: dict[str, Shape], raw: bytes, result: ReadRequest) -> ReadRequest | None:
    """The XML payload of a rest-xml request (S3's CreateBucketConfiguration,
    Delete, Tagging, ...). A blob or string payload (an object's bytes) is not
    read: nothing in the model constrains it. A body that is not XML: None,
    and the service answers it (S3: MalformedXML)."""
    payload = shape.serialization.get("payload")
    if not payload:
        return result  # rest-xml members outside a payload are not used by S3
    member = shape.members[payload]
    if member.type_name != "structure" or not raw.strip():
        return result
    try:
        root = ET.fromstring(raw)
    except ET.ParseError:
        return None
    value = _xml_structure(member, root)
    result.params[payload] = value
    return result


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_children(elem: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in elem if _local(child.tag) == name]


def _xml_structure(shape: Shape, elem: ET.Element) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, member in shape.members.items():
        if member.serialization.get("xmlAttribute") or member.serialization.get("location"):
            continue
        wire = member.serialization.get("name", name)
        if member.type_name in ("list", "map") and member.serialization.get("flattened"):
            items = _xml_children(elem, wire)
            if items:
                out[name] = _xml_flattened(member, items)
            continue
        children = _xml_children(elem, wire)
        if children:
            out[name] = _xml_value(member, children[0])
    return out


def _xml_flattened(shape: Shape, items: list[ET.Element]) -> Any:
    if shape.type_name == "list":
        return [_xml_value(shape.member, item) for item in items]
    return _xml_map_entries(shape, items)


def _xml_map_entries(shape: Shape, entries: list[ET.Element]) -> dict[Any, Any]:
    key_name = shape.key.serialization.get("name", "key")
    value_name = shape.value.serialization.get("name", "value")
    out = {}
    for entry in entries:
        keys, values = _xml_children(entry, key_name), _xml_children(entry, value_name)
        if keys:
            out[_xml_value(shape.key, keys[0])] = _xml_value(shape.value, values[0]) if values else None
    return out


def _xml_value(shape: Shape, elem: ET.Element) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return _xml_structure(shape, elem)
    if kind == "list":
        member_name = shape.member.serialization.get("name", "member")
        return [_xml_value(shape.member, item) for item in _xml_children(elem, member_name)]
    if kind == "map":
        return _xml_map_entries(shape, _xml_children(elem, "entry"))
    return _scalar_from_text(shape, elem.text or "")


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

