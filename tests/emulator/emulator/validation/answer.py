"""How each service words a refusal of a request that breaks its model.

Three wordings, each from public captures of the real services:

- CORAL: the validation layer behind most AWS APIs. HTTP 400, every
  violation joined by "; " after "N validation error(s) detected: ", each
  "Value '<v>' at '<path>' failed to satisfy constraint: <constraint>".
  A missing member is "Value null at ..."; a member whose shape is
  sensitive has no value ("Value at 'environment.variables' ...": Lambda),
  nor has any member in IAM's answers today (``ServiceRules.echo_values``).
  EMR Serverless answers ValidationException this way (TF #49109 and the
  API reference's ValidationException); IAM and STS answer ValidationError in
  the query error document, Type Sender (the whole document in NixOS/nixops
  #328: "<Code>ValidationError</Code><Message>1 validation error detected:
  Value '...' at 'roleName' failed to satisfy constraint: Member must have
  length less than or equal to 64</Message>"; STS's "at 'roleArn'" in
  newscorpaus/consigliere #18).
- ECR: HTTP 400 InvalidParameterException, one violation:
  "Invalid parameter at 'repositoryName' failed to satisfy constraint:
  'must satisfy regular expression '<pattern>''" (jenkins-x/jx #1344,
  int128/create-ecr-repository-action #231) and "... 'must have length
  greater than or equal to 2'" (aws/aws-dotnet-deploy #549).
- S3: HTTP 400, one violation, in S3's XML error document: a storage class
  outside the model's enum is InvalidStorageClass "The storage class you
  specified is not valid" (S3's error code list, with the
  StorageClassRequested element); anything else InvalidArgument with the
  ArgumentName and ArgumentValue elements S3 adds to it ("<Code>InvalidArgument</Code>
  <Message>...</Message><ArgumentName>key-marker</ArgumentName><ArgumentValue>..."
  in a captured ListObjectVersions answer). The message of that
  InvalidArgument is the emulator's: S3 words each argument its own way.
- EC2: HTTP 400, one violation: a missing member is MissingParameter "The
  request must contain the parameter <Name>" (the wire name: "... the
  parameter SpotInstanceRequestId", "... ImageId"); anything else is
  InvalidParameterValue "Value (<v>) for parameter <name> is invalid."
  ("Value (toto) for parameter instanceTenancy is invalid."), a number below
  its minimum "Value ( 3 ) for parameter maxResults is invalid. Expecting a
  value greater than 5." (a DescribeInstances capture in a public log).

tests/emulator/README.md gives the sources with links and the confidence of
each wording.
"""

from __future__ import annotations

import base64
from typing import Any

from . import check
from .check import Constraint, Violation
from .wire import TypeProblem

CORAL = "coral"
ECR = "ecr"
EC2 = "ec2"
S3 = "s3"


def constraint_text(constraint: Constraint) -> str:
    """A constraint in the Coral wording ("Member must ...")."""
    kind, arg = constraint.kind, constraint.arg
    if kind == check.REQUIRED:
        return "Member must not be null"
    if kind == check.MAX_LENGTH:
        return f"Member must have length less than or equal to {arg}"
    if kind == check.MIN_LENGTH:
        return f"Member must have length greater than or equal to {arg}"
    if kind == check.PATTERN:
        return f"Member must satisfy regular expression pattern: {arg}"
    if kind == check.ENUM:
        return f"Member must satisfy enum value set: [{', '.join(arg)}]"
    if kind == check.MAX_VALUE:
        return f"Member must have value less than or equal to {arg}"
    if kind == check.MIN_VALUE:
        return f"Member must have value greater than or equal to {arg}"
    inner = ", ".join(constraint_text(c) for c in arg)
    if kind == check.MEMBER:
        return f"Member must satisfy constraint: [{inner}]"
    if kind == check.MAP_KEYS:
        return f"Map keys must satisfy constraint: [{inner}]"
    if kind == check.MAP_VALUES:
        return f"Map value must satisfy constraint: [{inner}]"
    raise AssertionError(f"invariant: unknown constraint kind {kind}")


def show(value: Any) -> str:
    """A value the way AWS's Java services print it: lists [a, b], maps {k=v}."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{show(k)}={show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if value is None:
        return "null"
    return str(value)


def coral_item(v: Violation, echo_values: bool = True) -> str:
    if v.constraint.kind == check.REQUIRED:
        head = f"Value null at '{v.path}'"
    elif v.sensitive or not echo_values:
        head = f"Value at '{v.path}'"
    else:
        head = f"Value '{show(v.value)}' at '{v.path}'"
    return f"{head} failed to satisfy constraint: {constraint_text(v.constraint)}"


def coral_message(violations: list[Violation], echo_values: bool = True) -> str:
    count = len(violations)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(coral_item(v, echo_values) for v in violations)


def ecr_message(v: Violation) -> str:
    kind, arg = v.constraint.kind, v.constraint.arg
    if kind == check.PATTERN:
        text = f"must satisfy regular expression '{arg}'"
    else:
        coral = constraint_text(v.constraint)
        text = coral[len("Member "):] if coral.startswith("Member ") else coral
    return f"Invalid parameter at '{v.path}' failed to satisfy constraint: '{text}'"


def ec2_answer(v: Violation) -> tuple[str, str]:
    """(code, message) of EC2's refusal."""
    if v.constraint.kind == check.REQUIRED:
        return "MissingParameter", f"The request must contain the parameter {v.wire}"
    name = v.path.replace(".member", "")
    if v.constraint.kind == check.MIN_VALUE:
        return (
            "InvalidParameterValue",
            f"Value ( {show(v.value)} ) for parameter {name} is invalid. Expecting a value greater than {v.constraint.arg}.",
        )
    if v.constraint.kind == check.MAX_VALUE:
        return (
            "InvalidParameterValue",
            f"Value ( {show(v.value)} ) for parameter {name} is invalid. "
            f"Expecting a value less than or equal to {v.constraint.arg}.",
        )
    return "InvalidParameterValue", f"Value ({show(v.value)}) for parameter {name} is invalid."


# How Coral's JSON parser reports a value of the wrong JSON type, as DynamoDB
# answers it ("STRING_VALUE can not be converted to an Integer", "Start of
# structure or map found where not expected."). Whether EMR Serverless and ECR
# word it the same is not verified; the status and the code are the JSON
# protocols' SerializationException.
_JSON_TYPE_NAMES = {
    "string": "a String",
    "integer": "an Integer",
    "long": "a Long",
    "float": "a Float",
    "double": "a Double",
    "boolean": "a Boolean",
    "blob": "a ByteBuffer",
}


def serialization_message(problem: TypeProblem) -> str:
    """SerializationException's message for a JSON value of the wrong type."""
    value = problem.value
    if isinstance(value, dict):
        return "Start of structure or map found where not expected."
    if isinstance(value, list):
        return "Start of list found where not expected."
    if problem.expected in ("structure", "map", "list"):
        return "Unexpected token received from parser"
    token = "STRING_VALUE" if isinstance(value, str) else "BOOLEAN_VALUE" if isinstance(value, bool) else "NUMBER_VALUE"
    return f"{token} can not be converted to {_JSON_TYPE_NAMES.get(problem.expected, 'a ' + problem.expected)}"


def s3_answer(v: Violation) -> tuple[str, str, dict[str, str]]:
    """(code, message, extra XML elements) of S3's refusal."""
    if v.location_name == "x-amz-storage-class":
        return "InvalidStorageClass", "The storage class you specified is not valid", {"StorageClassRequested": show(v.value)}
    text = constraint_text(v.constraint)
    text = text[len("Member "):] if text.startswith("Member ") else text
    extra = {"ArgumentName": v.location_name}
    if v.value is not None:
        extra["ArgumentValue"] = show(v.value)
    return "InvalidArgument", f"Invalid argument: {v.location_name} {text}", extra


def refusal(
    style: str, code: str, violations: list[Violation], echo_values: bool = True
) -> tuple[str, str, dict[str, str]]:
    """(error code, message, extra error elements) of the service's answer to
    ``violations`` (not empty). Only S3 adds elements to its error document."""
    if style == CORAL:
        return code, coral_message(violations, echo_values), {}
    if style == ECR:
        return code, ecr_message(violations[0]), {}
    if style == EC2:
        return (*ec2_answer(violations[0]), {})
    if style == S3:
        return s3_answer(violations[0])
    raise AssertionError(f"invariant: unknown answer style {style}")
