"""What a job run does while it runs: the files it reads, the driver logs it
writes, the workers it uses and what they cost.

**Files.** A job run reads its entry point and the files its
``sparkSubmitParameters`` name (``--py-files``, ``--jars``, ``--files``,
``--archives``, comma-separated), or its Hive ``query`` and ``initQueryFile``
when they are ``s3://`` URIs. StartJobRun does not look at them (the API
takes any string); the driver fails when it cannot read one, so the run goes
through its states and ends FAILED (GUIDE, Job run states: "Failed: EMR
Serverless failed to submit the job run to the application, or it completed
unsuccessfully"). The driver's last line is EMRFS's
``java.io.FileNotFoundException: No such file or directory '<uri>'``
(BELIEF, low: the wording of EMRFS is from memory, no EMR Serverless capture
was found; S3A writes "No such file or directory: s3a://...").

**Driver logs.** With an S3 log URI (the job's
``configurationOverrides.monitoringConfiguration.s3MonitoringConfiguration.logUri``,
else the application's), the driver's ``stdout.gz`` and ``stderr.gz`` are
written under ``<logUri>/applications/<applicationId>/jobs/<jobRunId>/SPARK_DRIVER/``
(GUIDE, "Rotating logs": "<example-S3-logUri>/applications/<application-id>/jobs/<job-id>/SPARK_DRIVER/stderr.gz";
PUBLIC: many scripts read exactly that path), ``HIVE_DRIVER`` for Hive (the
worker type's name in the API's LogTypeMap; BELIEF, medium, by analogy),
with ``attempts/<n>/`` after the job run ID when the run has a retry policy
("EMR Serverless adds a prefix to the log path ...
'/applications/<applicationId>/jobs/<jobId>/attempts/<attemptNumber>/'",
same page; BELIEF that any retryPolicy counts). They are written when the run
ends (AWS refreshes them every 15 seconds while it runs, same page). A log
bucket that does not exist or belongs to another account gets no logs and the
run's outcome is unchanged (BELIEF, medium: log delivery is not part of the
job's success).

**Utilization** is the emulator's formula, not AWS's (AWS meters the workers
it really ran):

- duration ``d`` = seconds from RUNNING to the end, rounded up ("rounded up to
  the nearest second", API TotalResourceUtilization); 0 if it never ran;
- workers: each worker type of the application's ``initialCapacity`` with its
  count and size; without it the engine's defaults, Spark 1 driver and 3
  executors of 4 vCPU, 16 GB, Hive 1 driver and 1 Tez task of 2 vCPU, 8 GB;
  a Spark job's ``--conf spark.executor.instances``, ``spark.{driver,executor}.cores``,
  ``.memory`` and ``spark.emr-serverless.{driver,executor}.disk`` override
  count and size; disk 20 GB unless set;
- ``totalResourceUtilization``: Σ count × vCPU (GB, disk GB) × d / 3600;
- ``billedResourceUtilization``: the same with ``max(d, 60)`` ("a 1-minute
  minimum usage for workers") and storage only above 20 GB per worker ("plus
  additional storage over 20 GB per worker", API ResourceUtilization);
- rounded to 3 decimals.
"""

from __future__ import annotations

import gzip
import math
import re
import shlex
from dataclasses import dataclass
from typing import Any

from . import rules

# --- files ------------------------------------------------------------------------------

_FILE_OPTIONS = ("--py-files", "--jars", "--files", "--archives")


def split_s3(uri: str) -> tuple[str, str] | None:
    """(bucket, key) of an s3:// URI naming an object, else None."""
    if not uri.startswith("s3://"):
        return None
    bucket, _, key = uri[len("s3://"):].partition("/")
    if not bucket or not key:
        return None
    return bucket, key


def files_read(job_driver: dict[str, Any]) -> list[str]:
    """The s3:// objects a job run reads before its code runs, in that order."""
    uris: list[str] = []
    spark = job_driver.get("sparkSubmit")
    if spark:
        uris.append(spark.get("entryPoint", ""))
        for option, value in _options(spark.get("sparkSubmitParameters") or ""):
            if option in _FILE_OPTIONS:
                # --archives takes `uri#alias`.
                uris.extend(item.split("#", 1)[0] for item in value.split(",") if item)
    hive = job_driver.get("hive")
    if hive:
        uris.extend([hive.get("query", ""), hive.get("initQueryFile") or ""])
    return [u for u in uris if split_s3(u) is not None]


def _options(parameters: str) -> list[tuple[str, str]]:
    """``--option value`` and ``--option=value`` pairs of a spark-submit line."""
    try:
        words = shlex.split(parameters)
    except ValueError:
        words = parameters.split()
    out = []
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("--") and "=" in word:
            name, _, value = word.partition("=")
            out.append((name, value))
        elif word.startswith("--") and i + 1 < len(words):
            out.append((word, words[i + 1]))
            i += 1
        i += 1
    return out


def spark_conf(parameters: str) -> dict[str, str]:
    """The ``--conf key=value`` settings of a spark-submit line."""
    out = {}
    for option, value in _options(parameters):
        if option == "--conf" and "=" in value:
            key, _, setting = value.partition("=")
            out[key.strip()] = setting.strip()
    return out


def unreadable_file_error(uri: str, status: str) -> str:
    """The driver's last line when it cannot read ``uri`` (S3 said ``status``)."""
    if status == "AccessDenied":
        return (f'Exception in thread "main" java.nio.file.AccessDeniedException: {uri}: '
                "Access Denied (Service: Amazon S3; Status Code: 403; Error Code: AccessDenied)")
    return f"Exception in thread \"main\" java.io.FileNotFoundException: No such file or directory '{uri}'"


# --- driver logs --------------------------------------------------------------------------


def driver_worker_type(engine: str) -> str:
    return "HIVE_DRIVER" if engine == "HIVE" else "SPARK_DRIVER"


def log_keys(log_uri: str, app_id: str, job_id: str, engine: str, attempt: int | None) -> tuple[str, str, str] | None:
    """(bucket, stdout key, stderr key) for an s3:// log URI, else None."""
    if not log_uri.startswith("s3://"):
        return None
    bucket, _, prefix = log_uri[len("s3://"):].partition("/")
    if not bucket:
        return None
    parts = [p for p in prefix.split("/") if p]
    parts += ["applications", app_id, "jobs", job_id]
    if attempt is not None:
        parts += ["attempts", str(attempt)]
    parts.append(driver_worker_type(engine))
    base = "/".join(parts)
    return bucket, f"{base}/stdout.gz", f"{base}/stderr.gz"


def default_logs(job_id: str, engine: str, entry_point: str | None, state: str, error: str | None) -> tuple[str, str]:
    """The emulator's stdout and stderr of a driver that ended in ``state``."""
    name = (entry_point or "").rsplit("/", 1)[-1] or "job"
    if engine == "HIVE":
        stderr = [
            "Hive Session ID = emulated",
            f"Logging initialized using configuration in emulated hive-log4j2.properties (job run {job_id})",
        ]
        if state == "FAILED":
            stderr.append(f"FAILED: {error}")
        stdout = ["OK"] if state == "SUCCESS" else []
    else:
        stderr = [
            f"INFO SparkContext: Running Spark version 3.5.0-amzn-emulated (job run {job_id})",
            f"INFO SparkContext: Submitted application: {name}",
        ]
        if state == "FAILED":
            if name.endswith(".py") and not error.startswith("Exception in thread"):
                stderr += [
                    "Traceback (most recent call last):",
                    f'  File "/tmp/spark-{job_id}/{name}", line 1, in <module>',
                    error,
                ]
            else:
                stderr.append(error)
        else:
            stderr.append("INFO SparkContext: Successfully stopped SparkContext")
        stdout = [f"emulated job run {job_id} of {name}: {state}"]
    return "".join(line + "\n" for line in stdout), "".join(line + "\n" for line in stderr)


def gzipped(text: str) -> bytes:
    """gzip with a fixed timestamp, so the same text is the same object."""
    return gzip.compress(text.encode("utf-8"), mtime=0)


def last_line(text: str) -> str | None:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else None


# --- workers and utilization ----------------------------------------------------------------


@dataclass(frozen=True)
class Workers:
    worker_type: str
    count: int
    vcpu: int
    memory_gb: int
    disk_gb: int

    def to_json(self) -> dict[str, Any]:
        return {"workerType": self.worker_type, "count": self.count, "cpu": f"{self.vcpu} vCPU",
                "memory": f"{self.memory_gb} GB", "disk": f"{self.disk_gb} GB"}


_DEFAULT_WORKERS = {
    "SPARK": (("Driver", 1, 4, 16), ("Executor", 3, 4, 16)),
    "HIVE": (("HiveDriver", 1, 2, 8), ("TezTask", 1, 2, 8)),
}
_SIZE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)b?", re.IGNORECASE)


def _gigabytes(value: str) -> int | None:
    m = _SIZE.fullmatch(value.strip())
    if not m:
        return None
    number = float(m.group(1))
    scale = {"": 1 / 1024**3, "k": 1 / 1024**2, "m": 1 / 1024, "g": 1, "t": 1024}[m.group(2).lower()]
    return max(1, math.ceil(number * scale))


def workers(app_config: dict[str, Any], engine: str, job_driver: dict[str, Any]) -> tuple[Workers, ...]:
    """The workers a run uses, by the formula in the module doc."""
    out: dict[str, list[int]] = {}
    capacity = app_config.get("initialCapacity") or {}
    if capacity:
        for worker_type, entry in capacity.items():
            cfg = entry.get("workerConfiguration") or {}
            out[worker_type] = [
                entry.get("workerCount", 1),
                rules.cpu_amount(cfg["cpu"]) if cfg.get("cpu") else 4,
                rules.memory_amount(cfg["memory"]) if cfg.get("memory") else 16,
                rules.disk_amount(cfg["disk"]) if cfg.get("disk") else 20,
            ]
    else:
        for worker_type, count, vcpu, memory in _DEFAULT_WORKERS[engine]:
            out[worker_type] = [count, vcpu, memory, 20]
    spark = job_driver.get("sparkSubmit")
    if engine == "SPARK" and spark:
        conf = spark_conf(spark.get("sparkSubmitParameters") or "")
        for role in ("driver", "executor"):
            key = next((k for k in out if k.lower() == role), None)
            if key is None:
                continue
            entry = out[key]
            if role == "executor" and conf.get("spark.executor.instances", "").isdigit():
                entry[0] = int(conf["spark.executor.instances"])
            if conf.get(f"spark.{role}.cores", "").isdigit():
                entry[1] = int(conf[f"spark.{role}.cores"])
            memory = _gigabytes(conf.get(f"spark.{role}.memory", ""))
            if memory:
                entry[2] = memory
            disk = _gigabytes(conf.get(f"spark.emr-serverless.{role}.disk", ""))
            if disk:
                entry[3] = disk
    return tuple(Workers(t, *values) for t, values in out.items())


def utilization(used: tuple[Workers, ...], seconds: int) -> tuple[dict[str, float], dict[str, float]]:
    """(totalResourceUtilization, billedResourceUtilization) for ``seconds`` of running."""
    billed_seconds = max(seconds, 60) if seconds > 0 else 0
    vcpu = sum(w.count * w.vcpu for w in used)
    memory = sum(w.count * w.memory_gb for w in used)
    disk = sum(w.count * w.disk_gb for w in used)
    extra_disk = sum(w.count * max(w.disk_gb - 20, 0) for w in used)
    total = {
        "vCPUHour": round(vcpu * seconds / 3600, 3),
        "memoryGBHour": round(memory * seconds / 3600, 3),
        "storageGBHour": round(disk * seconds / 3600, 3),
    }
    billed = {
        "vCPUHour": round(vcpu * billed_seconds / 3600, 3),
        "memoryGBHour": round(memory * billed_seconds / 3600, 3),
        "storageGBHour": round(extra_disk * billed_seconds / 3600, 3),
    }
    return total, billed
