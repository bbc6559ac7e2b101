"""Rules beyond the API model: normalisation, defaults, engines, sizes, gates.

Each rule names its source as docs/api-semantics.md does (API, GUIDE, TF,
BELIEF); tests/emulator/README.md lists the BELIEFs.
"""

from __future__ import annotations

import re
from typing import Any

from . import errors

# --- engines and worker types ------------------------------------------------

# CreateApplication's `type` is a free string in the model (EngineType, 1 to
# 64 characters); the service accepts any casing: terraform-provider-aws's
# acceptance tests create applications with "hive" and "spark" against real
# AWS (internal/service/emrserverless/application_test.go). GetApplication
# and ListApplications return "Spark" and "Hive" (AWS documentation examples;
# a ListApplications summary with `Type: "Spark"` from a real account in
# ekristen/aws-nuke PR #778). Other engines are refused (the message is the
# emulator's; AWS's wording is not verified).
ENGINE_NAMES = {"SPARK": "Spark", "HIVE": "Hive"}

# Worker types per engine and map. initialCapacity: the user guide's keys
# (Spark DRIVER/EXECUTOR, Hive DRIVER/TEZ_TASK, the user guide's "Pre-initialized capacity") and the
# capitalised names: terraform-provider-aws's acceptance test
# TestAccEMRServerlessApplication_initialCapacity creates a Hive application
# with initialCapacity key "HiveDriver" against real AWS and reads it back
# unchanged, so the service accepts both spellings and returns the one sent
# (the capitalised Spark names by analogy: BELIEF). workerTypeSpecifications:
# the names of the model's documentation (Driver/Executor, HiveDriver/TezTask).
# Keys match case-insensitively and are stored in the spelling listed here
# (BELIEF).
ENGINES: dict[str, dict[str, tuple[str, ...]]] = {
    "SPARK": {
        "initialCapacity": ("DRIVER", "EXECUTOR", "Driver", "Executor"),
        "workerTypeSpecifications": ("Driver", "Executor"),
    },
    "HIVE": {
        "initialCapacity": ("DRIVER", "TEZ_TASK", "HiveDriver", "TezTask"),
        "workerTypeSpecifications": ("HiveDriver", "TezTask"),
    },
}


def normalize_type(value: str) -> str:
    """SPARK or HIVE, from any casing."""
    upper = value.upper()
    if upper not in ENGINES:
        raise errors.validation(f"Unsupported engine {value}. Supported engines: SPARK, HIVE")
    return upper


def canonical_worker_type(engine: str, field: str, key: str) -> str:
    allowed = ENGINES[engine][field]
    for name in allowed:
        if name == key:
            return name
    for name in allowed:
        if name.lower() == key.lower():
            return name
    raise errors.validation(
        f"Worker type {key} is not supported in {field} for application type {engine}. "
        f"Supported worker types: {', '.join(allowed)}"
    )


# --- release labels ----------------------------------------------------------

_RELEASE = re.compile(r"emr-(\d+)\.(\d+)\.(\d+)")
FIRST_RELEASE = (6, 6, 0)  # the user guide's "Amazon EMR Serverless release versions": EMR Serverless starts at emr-6.6.0


def parse_release(label: str) -> tuple[int, int, int]:
    m = _RELEASE.fullmatch(label)
    if not m:
        raise errors.validation(
            f"Release label {label} is not valid: a release label has the form emr-<major>.<minor>.<patch>"
        )
    version = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if version < FIRST_RELEASE:
        raise errors.validation(f"Release label {label} is not supported: EMR Serverless supports emr-6.6.0 and later")
    return version


# --- capacity strings ----------------------------------------------------------

# The model's patterns (CpuSize, MemorySize, DiskSize); the number is kept and
# the unit spelled `vCPU` / `GB` with one space (BELIEF: AWS echoes `2 vCPU`).
_CPU = re.compile(r"([1-9][0-9]*)\s?(?:vCPU|vcpu|VCPU)?")
_MEMORY = re.compile(r"([1-9][0-9]*)\s?(?:GB|gb|gB|Gb)?")
_DISK = re.compile(r"([1-9][0-9]*)\s?(?:GB|gb|gB|Gb)")


def _amount(pattern: re.Pattern[str], value: str, what: str) -> int:
    m = pattern.fullmatch(value)
    if not m:
        raise errors.validation(f"{what} {value} is not valid")
    return int(m.group(1))


def cpu_amount(value: str) -> int:
    return _amount(_CPU, value, "CPU size")


def memory_amount(value: str) -> int:
    return _amount(_MEMORY, value, "Memory size")


def disk_amount(value: str) -> int:
    return _amount(_DISK, value, "Disk size")


def normalize_cpu(value: str) -> str:
    return f"{cpu_amount(value)} vCPU"


def normalize_memory(value: str) -> str:
    return f"{memory_amount(value)} GB"


def normalize_disk(value: str) -> str:
    return f"{disk_amount(value)} GB"


def normalize_disk_type(value: str) -> str:
    # The model accepts SHUFFLE_OPTIMIZED, Shuffle_optimized, STANDARD, ...
    return value.upper()


DEFAULT_DISK = "20 GB"  # the user guide's "Spark job properties": 20G default per worker


def normalize_worker_configuration(cfg: dict[str, Any]) -> dict[str, Any]:
    out = {"cpu": normalize_cpu(cfg["cpu"]), "memory": normalize_memory(cfg["memory"])}
    out["disk"] = normalize_disk(cfg["disk"]) if cfg.get("disk") is not None else DEFAULT_DISK
    if cfg.get("diskType") is not None:
        out["diskType"] = normalize_disk_type(cfg["diskType"])
    return out


def normalize_initial_capacity(engine: str, value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, entry in value.items():
        name = canonical_worker_type(engine, "initialCapacity", key)
        if name in out:
            raise errors.validation(f"Worker type {name} appears more than once in initialCapacity")
        item: dict[str, Any] = {"workerCount": entry["workerCount"]}
        if entry.get("workerConfiguration") is not None:
            item["workerConfiguration"] = normalize_worker_configuration(entry["workerConfiguration"])
        out[name] = item
    return out


def normalize_maximum_capacity(value: dict[str, Any]) -> dict[str, Any]:
    out = {"cpu": normalize_cpu(value["cpu"]), "memory": normalize_memory(value["memory"])}
    if value.get("disk") is not None:
        out["disk"] = normalize_disk(value["disk"])
    return out


# --- worker sizes (the user guide's "Supported worker configurations") -------------------------------------------------

# vCPU -> (min memory GB, max memory GB, step GB)
WORKER_MEMORY: dict[int, tuple[int, int, int]] = {
    1: (2, 8, 1),
    2: (4, 16, 1),
    4: (8, 30, 1),
    8: (16, 60, 4),
    16: (32, 120, 8),
}
DISK_RANGE = {"STANDARD": (20, 200), "SHUFFLE_OPTIMIZED": (20, 2000)}


def check_worker_size(worker_type: str, cfg: dict[str, Any]) -> None:
    cpu = cpu_amount(cfg["cpu"])
    memory = memory_amount(cfg["memory"])
    if cpu not in WORKER_MEMORY:
        raise errors.validation(
            f"Worker configuration of {worker_type} is not valid: {cpu} vCPU is not supported; "
            "a worker has 1, 2, 4, 8 or 16 vCPU"
        )
    low, high, step = WORKER_MEMORY[cpu]
    if not low <= memory <= high or (memory - low) % step:
        raise errors.validation(
            f"Worker configuration of {worker_type} is not valid: {memory} GB of memory is not supported "
            f"with {cpu} vCPU; supported: {low} GB to {high} GB in {step} GB increments"
        )
    disk_type = cfg.get("diskType", "STANDARD")
    disk = disk_amount(cfg.get("disk", DEFAULT_DISK))
    low, high = DISK_RANGE[disk_type]
    if not low <= disk <= high:
        raise errors.validation(
            f"Worker configuration of {worker_type} is not valid: {disk} GB of {disk_type} disk is not supported; "
            f"supported: {low} GB to {high} GB"
        )


# --- tags (API patterns; the user guide's "Tag restrictions") -----------------------------------

MAX_USER_TAGS = 50


def check_tags(tags: dict[str, str], field: str = "tags") -> None:
    """The checks on tags that the model does not make."""
    if len(tags) > MAX_USER_TAGS:
        raise errors.validation(
            f"Too many tags: {len(tags)} tags in {field}; a resource can have at most {MAX_USER_TAGS} user tags"
        )
    for key, value in tags.items():
        if key.lower().startswith("aws:"):
            raise errors.validation(f"Tag key {key} is not valid: the aws: prefix is reserved for AWS use")
        if isinstance(value, str) and value.lower().startswith("aws:"):
            raise errors.validation(f"Tag value {value} of tag {key} is not valid: the aws: prefix is reserved for AWS use")


def check_tag_keys(keys: list[str]) -> None:
    for key in keys:
        if key.lower().startswith("aws:"):
            raise errors.validation(f"Tag key {key} is not valid: the aws: prefix is reserved for AWS use")


# --- scheduler ----------------------------------------------------------------

SCHEDULER_DEFAULTS = {"maxConcurrentRuns": 15, "queueTimeoutMinutes": 360}
# The ranges the model's documentation of SchedulerConfiguration states ("The
# valid range is 1 to 1000", "from 15 to 720"); the model has no min/max
# traits for them, so the front layer's validator cannot check them. Refused
# here in the standard wording (BELIEF on the wording).
SCHEDULER_RANGES = {"maxConcurrentRuns": (1, 1000), "queueTimeoutMinutes": (15, 720)}
# "Job concurrency and queuing is enabled by default when you create a new EMR
# Serverless application on Amazon EMR release 7.3.0 or higher" (user guide,
# EMR Serverless 7.3.0 release notes, and the considerations of "Job
# concurrency and queuing").
SCHEDULER_DEFAULT_FROM = (7, 3, 0)


def check_scheduler(value: dict[str, Any]) -> None:
    problems = []
    for key, (low, high) in SCHEDULER_RANGES.items():
        n = value.get(key)
        if n is None:
            continue
        path = f"schedulerConfiguration.{key}"
        if n > high:
            problems.append(f"Value '{n}' at '{path}' failed to satisfy constraint: Member must have value less than or equal to {high}")
        if n < low:
            problems.append(f"Value '{n}' at '{path}' failed to satisfy constraint: Member must have value greater than or equal to {low}")
    if problems:
        noun = "error" if len(problems) == 1 else "errors"
        raise errors.validation(f"{len(problems)} validation {noun} detected: " + "; ".join(problems))


def scheduler_on_by_default(release_label: str) -> bool:
    return parse_release(release_label) >= SCHEDULER_DEFAULT_FROM


# --- custom images ------------------------------------------------------------

# "Image digest resolution behavior: EMR 7.13 and earlier:
# applicationLevelDigestResolution = true ... EMR 7.14 and later:
# applicationLevelDigestResolution = false" (user guide, "Updating running
# applications").
DIGEST_RESOLUTION_OFF_FROM = (7, 14, 0)


def digest_resolution_default(release_label: str) -> bool:
    return parse_release(release_label) < DIGEST_RESOLUTION_OFF_FROM


# --- whole-application checks --------------------------------------------------

# No release or engine gates are enforced. The user guide states many ("custom
# images from emr-6.9.0", "ARM64 from emr-6.9.0", "interactive from
# emr-6.14.0", "the application must have a release label emr-7.0.0 or later"
# for the scheduler, SHUFFLE_OPTIMIZED and Prometheus from emr-7.1.0,
# Prometheus and interactive for Spark only), but a statement of support is
# no evidence that the API refuses the rest, and where there is evidence it
# accepts: terraform-provider-aws's acceptance test
# TestAccEMRServerlessApplication_arch creates an ARM64 application on
# emr-6.6.0 against real AWS. An emulator that refused them would refuse
# what AWS accepts.


def check_application(cfg: dict[str, Any]) -> None:
    """Checks an application's complete (created or merged) configuration."""
    parse_release(cfg["releaseLabel"])
    for worker_type, entry in cfg.get("initialCapacity", {}).items():
        worker = entry.get("workerConfiguration")
        if worker is not None:
            check_worker_size(worker_type, worker)
