"""An application's stored configuration and how requests change it.

The stored configuration is a dict in the API's own shapes and member names,
normalised (capacity strings, worker-type keys, engine type) and with the
server defaults filled in (docs/api-semantics.md, "What GetApplication
returns"). ``apply_fields`` implements UpdateApplication's PATCH semantics and
the clearing forms of the "Update is PATCH" table; CreateApplication uses the
same function on top of the defaults, so a clearing form sent on create simply
leaves the field absent.
"""

from __future__ import annotations

import copy
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

from . import errors, rules
from .jobs import JobRun
from .sessions import Session

# Members of CreateApplication/UpdateApplication that are configuration
# (everything but identifiers, clientToken and tags).
UPDATABLE = (
    "releaseLabel",
    "architecture",
    "initialCapacity",
    "maximumCapacity",
    "autoStartConfiguration",
    "autoStopConfiguration",
    "networkConfiguration",
    "imageConfiguration",
    "workerTypeSpecifications",
    "runtimeConfiguration",
    "monitoringConfiguration",
    "interactiveConfiguration",
    "schedulerConfiguration",
    "diskEncryptionConfiguration",
    "identityCenterConfiguration",
    "jobLevelCostAllocationConfiguration",
)

# The only update a STARTED application accepts, in the service's words
# (hashicorp/terraform-provider-aws #49109, 2026-07: the whole message as
# UpdateApplication answered it). extendedSupportConfiguration is not in the
# botocore 1.44.5 model, so no request can name it.
STARTED_UPDATE_MESSAGE = (
    "Only the following configurations can be updated when an application is in STARTED state: "
    "schedulerConfiguration.maxConcurrentRuns, extendedSupportConfiguration, imageConfiguration, "
    "workerTypeSpecifications.imageConfiguration, maximumCapacity."
)
# A scheduler update on a STARTED application that names more than
# maxConcurrentRuns, in the service's words: aws/aws-cdk #35488 and
# aws-cloudformation/cloudformation-coverage-roadmap #2370 (2025-09), where a
# CloudFormation update that changed only tags, and so re-sent the unchanged
# schedulerConfiguration with both members, was refused with this text. So the
# refusal is by presence of queueTimeoutMinutes, not by a change of its value.
STARTED_SCHEDULER_MESSAGE = (
    "Only MaxConcurrentRuns from SchedulerConfiguration can be updated when application is in STARTED state."
)
# "Custom image updates on running applications are not supported on
# applications with pre-initialized capacity configured" (user guide,
# "Updating running applications"). The service's wording of the refusal is
# not public; this text is the emulator's, in the style of the two above.
STARTED_IMAGE_WITH_CAPACITY_MESSAGE = (
    "Image configuration can not be updated when an application is in STARTED state "
    "with pre-initialized capacity configured."
)

# Output order of GetApplication's members after the identifying ones.
_OUTPUT_ORDER = (
    "architecture",
    "initialCapacity",
    "maximumCapacity",
    "autoStartConfiguration",
    "autoStopConfiguration",
    "networkConfiguration",
    "imageConfiguration",
    "workerTypeSpecifications",
    "runtimeConfiguration",
    "monitoringConfiguration",
    "interactiveConfiguration",
    "schedulerConfiguration",
    "diskEncryptionConfiguration",
    "identityCenterConfiguration",
    "jobLevelCostAllocationConfiguration",
)

_ID_ALPHABET = string.digits + string.ascii_lowercase


def new_id() -> str:
    """16 lowercase alphanumerics, starting with 00 like the service's IDs."""
    return "00" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(14))


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


@dataclass
class Application:
    id: str
    arn: str
    account: str
    region: str
    seq: int
    config: dict[str, Any]
    tags: dict[str, str]
    state: str
    created_at: float
    updated_at: float
    state_details: str | None = None
    # (target state, due time); a due time of None holds the transition
    # until the control API releases it.
    pending: tuple[str, float | None] | None = None
    # Image digests resolved when the application last started, per image
    # slot: "" for imageConfiguration, else the worker type.
    resolved_digests: dict[str, str] = field(default_factory=dict)
    # Digests resolved by the StartApplication call, applied at STARTED.
    starting_digests: dict[str, str] = field(default_factory=dict)
    jobs: dict[str, JobRun] = field(default_factory=dict)
    job_seq: int = 0
    sessions: dict[str, Session] = field(default_factory=dict)
    session_seq: int = 0
    # Queued job runs are not admitted before this time (a live change of
    # maxConcurrentRuns does not apply to the past).
    schedule_floor: float = 0.0

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"applicationId": self.id}
        if "name" in self.config:
            out["name"] = self.config["name"]
        out["arn"] = self.arn
        out["releaseLabel"] = self.config["releaseLabel"]
        out["type"] = rules.ENGINE_NAMES[self.config["type"]]
        out["state"] = self.state
        if self.state_details:
            out["stateDetails"] = self.state_details
        out["createdAt"] = round(self.created_at, 3)
        out["updatedAt"] = round(self.updated_at, 3)
        digest_default = rules.digest_resolution_default(self.config["releaseLabel"])
        for key in _OUTPUT_ORDER:
            if key not in self.config:
                continue
            value = copy.deepcopy(self.config[key])
            if key == "imageConfiguration":
                _describe_image(value, self.resolved_digests.get(""), digest_default)
            if key == "workerTypeSpecifications":
                for worker_type, spec in value.items():
                    _describe_image(spec["imageConfiguration"], self.resolved_digests.get(worker_type), digest_default)
            out[key] = value
        out["tags"] = dict(self.tags)
        return out

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id}
        if "name" in self.config:
            out["name"] = self.config["name"]
        out["arn"] = self.arn
        out["releaseLabel"] = self.config["releaseLabel"]
        out["type"] = rules.ENGINE_NAMES[self.config["type"]]
        out["state"] = self.state
        if self.state_details:
            out["stateDetails"] = self.state_details
        out["createdAt"] = round(self.created_at, 3)
        out["updatedAt"] = round(self.updated_at, 3)
        out["architecture"] = self.config["architecture"]
        return out

    def image_slots(self) -> dict[str, str]:
        return image_slots(self.config)


def _describe_image(block: dict[str, Any], digest: str | None, digest_default: bool) -> None:
    """An image block as GetApplication shows it: the digest resolved at the
    last start, and applicationLevelDigestResolution as the service applies it,
    the release's default when the request left it out (BELIEF that the
    service reports the default it applies; the defaults are the user guide's)."""
    block.setdefault("applicationLevelDigestResolution", digest_default)
    if digest is not None:
        block["resolvedImageDigest"] = digest


def digest_resolution(cfg: dict[str, Any], slot: str) -> bool:
    """Whether the image of ``slot`` ("" or a worker type) resolves at application start."""
    block = cfg["imageConfiguration"] if slot == "" else cfg["workerTypeSpecifications"][slot]["imageConfiguration"]
    value = block.get("applicationLevelDigestResolution")
    return rules.digest_resolution_default(cfg["releaseLabel"]) if value is None else value


def image_slots(cfg: dict[str, Any]) -> dict[str, str]:
    """Image URI per slot ("" = application level, else worker type)."""
    slots = {}
    image = cfg.get("imageConfiguration")
    if image:
        slots[""] = image["imageUri"]
    for worker_type, spec in cfg.get("workerTypeSpecifications", {}).items():
        slots[worker_type] = spec["imageConfiguration"]["imageUri"]
    return slots


def defaults(body: dict[str, Any]) -> dict[str, Any]:
    """The configuration of a new application before its optional fields."""
    cfg: dict[str, Any] = {}
    if body.get("name") is not None:
        cfg["name"] = body["name"]
    cfg["releaseLabel"] = body["releaseLabel"]
    cfg["type"] = rules.normalize_type(body["type"])
    cfg["architecture"] = "X86_64"  # GUIDE
    cfg["autoStartConfiguration"] = {"enabled": True}  # API
    cfg["autoStopConfiguration"] = {"enabled": True, "idleTimeoutMinutes": 15}  # API
    if rules.scheduler_on_by_default(cfg["releaseLabel"]):
        # Queuing is on by default from emr-7.3.0 with the documented defaults
        # (user guide, "Job concurrency and queuing"); a schedulerConfiguration
        # in the request then replaces it, and `{}` turns it off (TF PR #44589).
        cfg["schedulerConfiguration"] = dict(rules.SCHEDULER_DEFAULTS)
    return cfg


def started_update_refusal(cfg: dict[str, Any], body: dict[str, Any]) -> str | None:
    """Why a STARTED application refuses this update, or None when it accepts it.

    By presence of members, as the service decides (TF #49109: an update that
    re-sent unchanged members was refused)."""
    allowed = {"applicationId", "clientToken", "maximumCapacity", "imageConfiguration", "workerTypeSpecifications"}
    scheduler = body.get("schedulerConfiguration")
    others = [k for k, v in body.items() if v is not None and k not in allowed and k != "schedulerConfiguration"]
    if others:
        return STARTED_UPDATE_MESSAGE
    if scheduler is not None and set(k for k, v in scheduler.items() if v is not None) != {"maxConcurrentRuns"}:
        return STARTED_SCHEDULER_MESSAGE
    images = body.get("imageConfiguration") is not None or body.get("workerTypeSpecifications") is not None
    if images and cfg.get("initialCapacity"):
        return STARTED_IMAGE_WITH_CAPACITY_MESSAGE
    return None


def apply_fields(
    cfg: dict[str, Any], body: dict[str, Any], account: str, *, started: bool = False
) -> dict[str, Any]:
    """Returns a copy of ``cfg`` with the request's fields applied (PATCH)."""
    new = copy.deepcopy(cfg)
    engine = new["type"]
    for key in UPDATABLE:
        value = body.get(key)
        if value is None:
            continue
        _APPLY[key](new, value, engine=engine, account=account, started=started)
    return new


def _set_or_clear(cfg: dict[str, Any], key: str, value: Any) -> None:
    if value:
        cfg[key] = value
    else:
        cfg.pop(key, None)


def _release_label(cfg, value, **_):
    cfg["releaseLabel"] = value


def _architecture(cfg, value, **_):
    cfg["architecture"] = value


def _initial_capacity(cfg, value, *, engine, **_):
    # The whole map, never a delta (GUIDE); {} clears it (BELIEF).
    _set_or_clear(cfg, "initialCapacity", rules.normalize_initial_capacity(engine, value))


def _maximum_capacity(cfg, value, **_):
    cfg["maximumCapacity"] = rules.normalize_maximum_capacity(value)


def _auto_start(cfg, value, **_):
    cfg["autoStartConfiguration"] = {"enabled": value.get("enabled", True)}


def _auto_stop(cfg, value, **_):
    cfg["autoStopConfiguration"] = {
        "enabled": value.get("enabled", True),
        "idleTimeoutMinutes": value.get("idleTimeoutMinutes", 15),
    }


def _network(cfg, value, **_):
    # {subnetIds: [], securityGroupIds: []} clears it (BELIEF).
    block = {k: list(value[k]) for k in ("subnetIds", "securityGroupIds") if value.get(k)}
    _set_or_clear(cfg, "networkConfiguration", block)


def _image_block(value: dict[str, Any]) -> dict[str, Any] | None:
    uri = value.get("imageUri")
    if uri is None:
        # "If you leave this field blank in an update, Amazon EMR will remove
        # the image configuration" (API, ImageConfigurationInput.imageUri). The
        # model's ImageUri has min length 1, so an empty string is refused by
        # the validator before it gets here: leaving it blank can only mean
        # leaving it out, `imageConfiguration: {}` (BELIEF on the form).
        return None
    block: dict[str, Any] = {"imageUri": uri}
    if value.get("applicationLevelDigestResolution") is not None:
        block["applicationLevelDigestResolution"] = value["applicationLevelDigestResolution"]
    return block


def _image(cfg, value, **_):
    _set_or_clear(cfg, "imageConfiguration", _image_block(value))


def _worker_types(cfg, value, *, engine, **_):
    # Per worker type, merged into the stored map (BELIEF: the model's "must
    # contain all valid worker types" is ambiguous and nothing public shows a
    # partial map refused); an entry without an imageUri, `{}` or
    # `{imageConfiguration: {}}`, removes that type's image (BELIEF, the
    # ImageConfigurationInput documentation applied per worker type).
    specs = cfg.get("workerTypeSpecifications", {})
    for key, spec in value.items():
        name = rules.canonical_worker_type(engine, "workerTypeSpecifications", key)
        image = _image_block(spec.get("imageConfiguration") or {})
        if image is None:
            specs.pop(name, None)
        else:
            specs[name] = {"imageConfiguration": image}
    _set_or_clear(cfg, "workerTypeSpecifications", specs)


def _runtime(cfg, value, **_):
    # The whole list; [] clears it (BELIEF).
    _set_or_clear(cfg, "runtimeConfiguration", copy.deepcopy(value))


def _monitoring(cfg, value, **_):
    # Merged per sub-configuration (GUIDE); the clearing forms are S3 {},
    # managed persistence {} or {enabled: true}, CloudWatch {enabled: false},
    # Prometheus {}. {enabled: ...} forms are kept as sent.
    block = cfg.get("monitoringConfiguration", {})
    for sub in (
        "s3MonitoringConfiguration",
        "managedPersistenceMonitoringConfiguration",
        "cloudWatchLoggingConfiguration",
        "prometheusMonitoringConfiguration",
    ):
        if value.get(sub) is None:
            continue
        _set_or_clear(block, sub, copy.deepcopy(value[sub]))
    _set_or_clear(cfg, "monitoringConfiguration", block)


def _interactive(cfg, value, **_):
    _set_or_clear(cfg, "interactiveConfiguration", dict(value))


def _scheduler(cfg, value, *, started, **_):
    rules.check_scheduler(value)
    if not any(v is not None for v in value.values()):
        # `{}` disables queuing (TF PR #44589: "specifying an empty
        # SchedulerConfiguration{} (without any attributes) disables the feature").
        cfg.pop("schedulerConfiguration", None)
        return
    if started:
        # A STARTED application takes maxConcurrentRuns alone
        # (STARTED_UPDATE_MESSAGE) and keeps its queue timeout (BELIEF: the
        # alternative, a reset to 360, would make the documented live update
        # of maxConcurrentRuns change the queue timeout too).
        block = dict(cfg.get("schedulerConfiguration") or rules.SCHEDULER_DEFAULTS)
        block.update({k: v for k, v in value.items() if v is not None})
    else:
        # A missing member gets its default, 15 or 360, not its current value
        # (TF PR #44589: "if only one of the two parameters ... is provided,
        # the other parameter is automatically set to its default value").
        block = {k: value[k] if value.get(k) is not None else d for k, d in rules.SCHEDULER_DEFAULTS.items()}
    cfg["schedulerConfiguration"] = block


def _disk_encryption(cfg, value, **_):
    _set_or_clear(cfg, "diskEncryptionConfiguration", copy.deepcopy(value))


def _identity_center(cfg, value, *, account, **_):
    instance = value.get("identityCenterInstanceArn")
    if not instance:
        cfg.pop("identityCenterConfiguration", None)  # {} removes it (BELIEF)
        return
    old = cfg.get("identityCenterConfiguration") or {}
    block: dict[str, Any] = {"identityCenterInstanceArn": instance}
    if old.get("identityCenterInstanceArn") == instance:
        block["identityCenterApplicationArn"] = old["identityCenterApplicationArn"]
    else:
        # The service creates an Identity Center application for the instance.
        instance_id = instance.rsplit("/", 1)[1]
        part = instance.split(":")[1]
        suffix = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(16))
        block["identityCenterApplicationArn"] = f"arn:{part}:sso::{account}:application/{instance_id}/apl-{suffix}"
    if value.get("userBackgroundSessionsEnabled") is not None:
        block["userBackgroundSessionsEnabled"] = value["userBackgroundSessionsEnabled"]
    cfg["identityCenterConfiguration"] = block


def _cost_allocation(cfg, value, **_):
    _set_or_clear(cfg, "jobLevelCostAllocationConfiguration", dict(value))


_APPLY = {
    "releaseLabel": _release_label,
    "architecture": _architecture,
    "initialCapacity": _initial_capacity,
    "maximumCapacity": _maximum_capacity,
    "autoStartConfiguration": _auto_start,
    "autoStopConfiguration": _auto_stop,
    "networkConfiguration": _network,
    "imageConfiguration": _image,
    "workerTypeSpecifications": _worker_types,
    "runtimeConfiguration": _runtime,
    "monitoringConfiguration": _monitoring,
    "interactiveConfiguration": _interactive,
    "schedulerConfiguration": _scheduler,
    "diskEncryptionConfiguration": _disk_encryption,
    "identityCenterConfiguration": _identity_center,
    "jobLevelCostAllocationConfiguration": _cost_allocation,
}

assert set(_APPLY) == set(UPDATABLE), "invariant: every updatable field has an apply function"


def check_state_for_update(app: Application, body: dict[str, Any]) -> bool:
    """Raises unless the update is allowed now; returns whether the app is STARTED."""
    if app.state in ("CREATED", "STOPPED"):
        return False
    if app.state == "STARTED":
        refusal = started_update_refusal(app.config, body)
        if refusal is not None:
            raise errors.validation(refusal)
        return True
    # The service's wording for the other states (2023, quoted in
    # aws-solutions-library-samples/guidance-for-clickstream-analytics-on-aws #60,
    # then about a STARTED application, before the STARTED subset existed).
    raise errors.validation(
        f"Application {app.id} must be in one of the statuses to be updated: [STOPPED, CREATED]. "
        f"Current status: {app.state}"
    )
