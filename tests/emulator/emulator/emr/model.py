"""The EMR Serverless API model and the constraints it states.

The model is botocore's ``emr-serverless/2021-07-13/service-2.json`` from the
pinned botocore in the emulator's virtualenv, so the emulator checks exactly
what the model declares: required members, types, string lengths and
patterns, enums, numeric ranges and list/map sizes. Patterns are matched
against the whole value, as AWS services do.

Rules that the model does not state (release gates, worker sizes, tag
prefixes, ...) live in ``emr.rules``.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import botocore.loaders

from . import errors


@functools.cache
def service_model() -> dict[str, Any]:
    return botocore.loaders.Loader().load_service_model("emr-serverless", "service-2")


def shape(name: str) -> dict[str, Any]:
    return service_model()["shapes"][name]


def input_shape(operation: str) -> str:
    return service_model()["operations"][operation]["input"]["shape"]


def enum_values(name: str) -> list[str]:
    return list(shape(name)["enum"])


@functools.cache
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


class ModelValidator:
    """Collects every constraint violation of one request, AWS style."""

    def __init__(self, allow_blank_image_uri: bool = False) -> None:
        self.problems: list[str] = []
        # UpdateApplication uses an empty imageUri to remove an image (API
        # documentation of ImageConfigurationInput), below the model's min 1.
        self.allow_blank_image_uri = allow_blank_image_uri

    def fail(self, value: Any, path: str, constraint: str) -> None:
        self.problems.append(f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: {constraint}")

    def check(self, shape_name: str, value: Any, path: str) -> None:
        s = shape(shape_name)
        kind = s["type"]
        if kind == "structure":
            self._structure(shape_name, s, value, path)
        elif kind == "list":
            if not isinstance(value, list):
                self.fail(value, path, "Member must be a list")
                return
            self._size(s, value, path)
            for i, item in enumerate(value):
                self.check(s["member"]["shape"], item, f"{path}.{i + 1}.member")
        elif kind == "map":
            if not isinstance(value, dict):
                self.fail(value, path, "Member must be a map")
                return
            self._size(s, value, path)
            for key, item in value.items():
                self.check(s["key"]["shape"], key, f"{path}.{key}.key")
                self.check(s["value"]["shape"], item, f"{path}.{key}.member")
        elif kind == "string":
            self._string(shape_name, s, value, path)
        elif kind in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, int):
                self.fail(value, path, "Member must be an integer")
                return
            if "min" in s and value < s["min"]:
                self.fail(value, path, f"Member must have value greater than or equal to {s['min']}")
            if "max" in s and value > s["max"]:
                self.fail(value, path, f"Member must have value less than or equal to {s['max']}")
        elif kind == "boolean":
            if not isinstance(value, bool):
                self.fail(value, path, "Member must be a boolean")
        elif kind in ("double", "float", "timestamp"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.fail(value, path, "Member must be a number")

    def _structure(self, name: str, s: dict[str, Any], value: Any, path: str) -> None:
        if not isinstance(value, dict):
            self.fail(value, path, "Member must be a structure")
            return
        prefix = f"{path}." if path else ""
        for member in s.get("required", []):
            if s["members"][member].get("location"):
                continue  # path and query members are checked by the router
            if value.get(member) is None:
                self.problems.append(f"Value null at '{prefix}{member}' failed to satisfy constraint: Member must not be null")
        if s.get("union"):
            present = [k for k in s["members"] if value.get(k) is not None]
            if len(present) != 1:
                self.problems.append(f"Value at '{path}' failed to satisfy constraint: exactly one member must be set")
        for member, ref in s["members"].items():
            if ref.get("location") or value.get(member) is None:
                continue
            self.check(ref["shape"], value[member], f"{prefix}{member}")

    def _size(self, s: dict[str, Any], value: Any, path: str) -> None:
        if "min" in s and len(value) < s["min"]:
            self.fail(value, path, f"Member must have length greater than or equal to {s['min']}")
        if "max" in s and len(value) > s["max"]:
            self.fail(value, path, f"Member must have length less than or equal to {s['max']}")

    def _string(self, name: str, s: dict[str, Any], value: Any, path: str) -> None:
        if not isinstance(value, str):
            self.fail(value, path, "Member must be a string")
            return
        if name == "ImageUri" and value == "" and self.allow_blank_image_uri:
            return
        if "enum" in s:
            if value not in s["enum"]:
                self.fail(value, path, f"Member must satisfy enum value set: [{', '.join(s['enum'])}]")
            return
        self._size(s, value, path)
        pattern = s.get("pattern")
        if pattern and value and not _pattern(pattern).fullmatch(value):
            self.fail(value, path, f"Member must satisfy regular expression pattern: {pattern}")

    def raise_if_failed(self) -> None:
        if self.problems:
            count = len(self.problems)
            noun = "error" if count == 1 else "errors"
            raise errors.validation(f"{count} validation {noun} detected: " + "; ".join(self.problems))


def validate_input(operation: str, body: dict[str, Any], allow_blank_image_uri: bool = False) -> None:
    """Checks a request body against the operation's input shape."""
    validator = ModelValidator(allow_blank_image_uri=allow_blank_image_uri)
    validator.check(input_shape(operation), body, "")
    validator.raise_if_failed()


def validate_value(shape_name: str, value: Any, path: str) -> None:
    """Checks one value (a path or query parameter) against a shape."""
    validator = ModelValidator()
    validator.check(shape_name, value, path)
    validator.raise_if_failed()
