"""The request validator: every request held against its service's botocore model.

It runs in the front layer before moto or our EMR Serverless see a request,
and refuses exactly what the model's own traits refuse (``check``), in the
service's own words (``answer``). It never adds a rule of its own: a request
the model allows always passes, and behaviour beyond the model (release
gates, worker sizes, state rules) lives with the service implementation.

The source of truth is the service-2.json of the pinned botocore, loaded at
run time; nothing is copied out of it. Which services are validated, and how
each words a refusal, is the data in ``SERVICES``. Adding one is a line
there, plus a reader in ``wire`` if its protocol is new (smithy-rpc-v2-cbor):
a request in a protocol ``wire`` cannot read passes unvalidated.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import botocore.session
from botocore.model import ServiceModel

from . import answer, check, wire
from .wire import HttpRequest


@dataclass(frozen=True)
class ServiceRules:
    """How one service is validated and how it refuses."""

    model: str  # the botocore service name
    style: str  # answer.CORAL, answer.ECR, answer.EC2 or answer.S3
    code: str  # the error code of a refusal (EC2's depends on the violation)
    # Whether a Coral refusal quotes the offending value. IAM's did until at
    # least 2022 ("Value 'devproto-...' at 'roleName' ...",
    # aws-samples/aws-last-mile-delivery-hyperlocal #115) and no longer did in
    # 2024 ("Value at 'roleName' failed to satisfy constraint: Member must have
    # length less than or equal to 64", aws/eks-hybrid #113); the newer
    # capture wins.
    echo_values: bool = True


SERVICES: dict[str, ServiceRules] = {
    # credential-scope service name -> rules
    "emr-serverless": ServiceRules("emr-serverless", answer.CORAL, "ValidationException"),
    "iam": ServiceRules("iam", answer.CORAL, "ValidationError", echo_values=False),
    "sts": ServiceRules("sts", answer.CORAL, "ValidationError"),
    "ecr": ServiceRules("ecr", answer.ECR, "InvalidParameterException"),
    "ec2": ServiceRules("ec2", answer.EC2, "InvalidParameterValue"),
    "s3": ServiceRules("s3", answer.S3, "InvalidArgument"),
    # The Resource Groups Tagging API (tagging.py): a Coral JSON service whose
    # model documents InvalidParameterException for bad parameters (moto
    # raises the same code). No public capture of its constraint wording was
    # found, so Coral's standard wording is a belief (tests/emulator/README.md).
    "tagging": ServiceRules("resourcegroupstaggingapi", answer.CORAL, "InvalidParameterException"),
}


@dataclass(frozen=True)
class Refusal:
    """What the service answers instead of serving the request."""

    status: int
    code: str
    message: str
    # Further elements of the error document (S3's ArgumentName, ArgumentValue).
    extra: dict[str, str] = field(default_factory=dict)


@functools.cache
def service_model(name: str) -> ServiceModel:
    """The pinned botocore's model of ``name`` (loaded once, on first use)."""
    return botocore.session.get_session().get_service_model(name)


def validate(service: str | None, request: HttpRequest) -> Refusal | None:
    """The service's refusal of ``request``, or None when the model allows it
    (or the request is not one this module can read)."""
    rules = SERVICES.get(service or "")
    if rules is None:
        return None
    read = wire.read(service_model(rules.model), request)
    if read is None or read.operation.input_shape is None:
        return None
    if read.type_problems:
        # The body does not parse into the input shape: JSON protocols answer
        # SerializationException before any constraint is looked at.
        return Refusal(400, "SerializationException", answer.serialization_message(read.type_problems[0]))
    violations = check.Checker().input(read.operation.input_shape, read.params)
    if not violations:
        return None
    code, message, extra = answer.refusal(rules.style, rules.code, violations, echo_values=rules.echo_values)
    return Refusal(400, code, message, extra)
