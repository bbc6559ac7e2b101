"""Custom images against the emulated ECR (moto's ECR backend, in-process).

Two checks, following the user guide's "Customizing an EMR Serverless
image" and docs/api-semantics.md:

- on create and update, an image in the application's own account and region
  must exist (repository and tag or digest); an image in another region is
  refused. Images in other accounts cannot be seen and are accepted.
- on start, EMR Serverless pulls the image, so the repository policy must let
  the service principal ``emr-serverless.amazonaws.com`` perform
  ecr:DescribeImages, ecr:BatchGetImage and ecr:GetDownloadUrlForLayer, with
  any ``aws:SourceArn`` condition matching the application's ARN.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from typing import Any

from . import errors

SERVICE_PRINCIPAL = "emr-serverless.amazonaws.com"
# The order in which the service needs the actions: it describes the image
# before pulling it, so a policy that allows nothing fails on DescribeImages.
PULL_ACTIONS = ("ecr:DescribeImages", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")

# The model's ImageUri pattern, with names for the parts.
_IMAGE_URI = re.compile(
    r"(?P<account>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+).(?P<domain>[a-z0-9._-]+)\/"
    r"(?P<repository>(?:[a-z0-9]+(?:[-._][a-z0-9]+)*/)*[a-z0-9]+(?:[-._][a-z0-9]+)*)"
    r"(?::(?P<tag>[a-zA-Z0-9_]+[a-zA-Z0-9-._]*)|@(?P<digest>sha256:[0-9a-f]{64}))"
)


@dataclass(frozen=True)
class ImageRef:
    uri: str
    account: str
    region: str
    repository: str
    tag: str | None
    digest: str | None


def parse_image_uri(uri: str) -> ImageRef:
    m = _IMAGE_URI.fullmatch(uri)
    if not m:
        raise errors.validation(f"Image URI {uri} is not valid")
    return ImageRef(uri, m["account"], m["region"], m["repository"], m["tag"], m["digest"])


def _ecr_backend(account: str, region: str):
    from moto.ecr.models import ecr_backends

    try:
        return ecr_backends[account][region]
    except KeyError:
        return None


def _find(ref: ImageRef):
    """(repository, image) in the emulated ECR, either possibly None."""
    backend = _ecr_backend(ref.account, ref.region)
    if backend is None:
        return None, None
    repo = backend.repositories.get(ref.repository)
    if repo is None or repo.registry_id != ref.account:
        return None, None
    for image in list(repo.images):
        if ref.tag is not None and ref.tag in image.image_tags:
            return repo, image
        if ref.digest is not None and image.get_image_digest() == ref.digest:
            return repo, image
    return repo, None


def is_emulated(ref: ImageRef, account: str, region: str) -> bool:
    """Whether the emulator can see this image's repository (same account and region)."""
    return ref.account == account and ref.region == region


def check_exists(uri: str, account: str, region: str) -> None:
    """The create/update check: right region, and existing when we can see it."""
    ref = parse_image_uri(uri)
    if ref.region != region:
        raise errors.validation(
            f"Image {uri} is not valid: the image must be in the same region as the application ({region})"
        )
    if not is_emulated(ref, account, region):
        return
    repo, image = _find(ref)
    if repo is None:
        raise errors.validation(f"Image {uri} is not valid: repository {ref.repository} does not exist")
    if image is None:
        which = f"tag {ref.tag}" if ref.tag is not None else f"digest {ref.digest}"
        raise errors.validation(f"Image {uri} is not valid: no image with {which} in repository {ref.repository}")


def resolve_for_start(uri: str, account: str, region: str, application_arn: str) -> str | None:
    """The start check; returns the image digest when the image is emulated."""
    ref = parse_image_uri(uri)
    if not is_emulated(ref, account, region):
        return None
    repo, image = _find(ref)
    if repo is None or image is None:
        raise errors.validation(f"Application could not be started: image {uri} does not exist")
    repository_arn = f"arn:aws:ecr:{region}:{account}:repository/{ref.repository}"
    context = {"aws:sourcearn": application_arn, "aws:sourceaccount": account}
    for action in PULL_ACTIONS:
        if not policy_allows(repo.policy, action, context):
            raise errors.validation(
                f"Application could not be started: EMR Serverless service principal is not authorized to perform: "
                f"{action} on resource: {repository_arn} because no resource-based policy allows the {action} action"
            )
    return image.get_image_digest()


# --- a small evaluator for repository policies ---------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _principal_matches(statement: dict[str, Any]) -> bool:
    if "NotPrincipal" in statement:
        return False  # not modelled: such a statement never applies
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if "*" in _as_list(principal.get("AWS")):
        return True
    services = _as_list(principal.get("Service"))
    return "*" in services or SERVICE_PRINCIPAL in services


def _action_matches(statement: dict[str, Any], action: str) -> bool:
    def hit(patterns: Any) -> bool:
        return any(fnmatch.fnmatchcase(action.lower(), str(p).lower()) for p in _as_list(patterns))

    if "NotAction" in statement:
        return not hit(statement["NotAction"])
    return hit(statement.get("Action"))


_NEGATED = ("StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike")


def _condition_matches(condition: Any, context: dict[str, str]) -> bool:
    """True when every condition holds; an operator we do not model fails closed."""
    if not condition:
        return True
    if not isinstance(condition, dict):
        return False
    for operator, clauses in condition.items():
        if not isinstance(clauses, dict):
            return False
        op = operator
        for prefix in ("ForAnyValue:", "ForAllValues:"):
            if op.startswith(prefix):
                op = op[len(prefix):]
        if_exists = op.endswith("IfExists")
        if if_exists:
            op = op[: -len("IfExists")]
        for key, expected in clauses.items():
            actual = context.get(key.lower())
            values = [str(v) for v in _as_list(expected)]
            if op == "Null":
                wants_null = any(v.lower() == "true" for v in values)
                if wants_null != (actual is None):
                    return False
                continue
            if actual is None:
                if if_exists or op in _NEGATED:
                    continue
                return False
            if not _compare(op, actual, values):
                return False
    return True


def _compare(op: str, actual: str, values: list[str]) -> bool:
    if op in ("StringEquals", "ArnEquals"):
        return actual in values
    if op == "StringEqualsIgnoreCase":
        return actual.lower() in (v.lower() for v in values)
    if op in ("StringLike", "ArnLike"):
        return any(fnmatch.fnmatchcase(actual, v) for v in values)
    if op in ("StringNotEquals", "ArnNotEquals"):
        return actual not in values
    if op == "StringNotEqualsIgnoreCase":
        return actual.lower() not in (v.lower() for v in values)
    if op in ("StringNotLike", "ArnNotLike"):
        return not any(fnmatch.fnmatchcase(actual, v) for v in values)
    return False


def policy_allows(policy_text: str | None, action: str, context: dict[str, str]) -> bool:
    """Whether the repository policy lets the EMR Serverless principal do ``action``."""
    if not policy_text:
        return False
    try:
        policy = json.loads(policy_text)
    except ValueError:
        return False
    allowed = False
    for statement in _as_list(policy.get("Statement") if isinstance(policy, dict) else None):
        if not isinstance(statement, dict):
            continue
        if not (_principal_matches(statement) and _action_matches(statement, action)):
            continue
        if not _condition_matches(statement.get("Condition"), context):
            continue
        effect = statement.get("Effect")
        if effect == "Deny":
            return False
        if effect == "Allow":
            allowed = True
    return allowed
