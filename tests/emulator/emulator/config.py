"""Start-up configuration: defaults, then a JSON config file, then env vars.

Config file (``--config PATH`` or ``EMULATOR_CONFIG=PATH``), every key optional::

    {"delays": {"createMs": 200, "startMs": 300, "stopMs": 300, "cancelMs": 200},
     "jobScript": [["SUBMITTED", 0.05], ["RUNNING", 5], ["SUCCESS"]],
     "faults": [{"service": "iam", "operation": "GetRole", "kind": "throttle", "count": 2}],
     "seed": 42,
     "rateLimit": {"enabled": true, "rate": 1, "burst": 2},
     "jobOutcomes": [{"name": "smoke-*", "state": "FAILED", "error": "ValueError: boom"}]}

Environment variables (override the file):

- ``EMULATOR_DELAY_CREATE_MS``, ``EMULATOR_DELAY_START_MS``,
  ``EMULATOR_DELAY_STOP_MS``, ``EMULATOR_DELAY_CANCEL_MS``: integers, -1 holds;
- ``EMULATOR_JOB_SCRIPT``: a job script as JSON;
- ``EMULATOR_FAULTS``: a JSON list of fault rules, or ``{"seed", "rules"}``;
- ``EMULATOR_FAULT_SEED``: the fault RNG's seed;
- ``EMULATOR_RATE_LIMIT``: ``1``/``true``/``on`` to enable the documented
  limits, or a JSON object like the control API's ``/_emulator/rate-limit``;
- ``EMULATOR_JOB_OUTCOMES``: job outcome rules, a JSON list (or one rule).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Mapping

from .emr import jobs
from .emr.backend import DELAY_KEYS, Settings
from .emr.outcomes import OutcomeBook, OutcomeError
from .faults import FaultEngine, RuleError
from .ratelimit import RateLimiter, RateLimitError


class ConfigError(ValueError):
    pass


@dataclass
class StartupConfig:
    delays: dict[str, int] = field(default_factory=lambda: Settings().delays_json())
    job_script: Any = field(default_factory=lambda: jobs.script_to_json(jobs.DEFAULT_SCRIPT))
    faults: list[Any] = field(default_factory=list)
    seed: int | None = None
    rate_limit: dict[str, Any] = field(default_factory=lambda: {"enabled": False})
    job_outcomes: list[Any] = field(default_factory=list)

    def settings(self) -> Settings:
        settings = Settings(job_script=jobs.parse_script(self.job_script))
        apply_delays(settings, self.delays)
        return settings

    def check(self) -> None:
        """Fails early, at start-up, on anything the components would refuse."""
        try:
            self.settings()
            FaultEngine().add(self.faults)
            RateLimiter().configure(self.rate_limit)
            OutcomeBook().add(self.job_outcomes)
        except (jobs.ScriptError, RuleError, RateLimitError, OutcomeError, ValueError) as e:
            raise ConfigError(str(e)) from None


def apply_delays(settings: Settings, delays: Any) -> None:
    if not isinstance(delays, dict):
        raise ValueError("delays are a JSON object like {\"startMs\": 300}")
    unknown = sorted(set(delays) - set(DELAY_KEYS))
    if unknown:
        raise ValueError(f"unknown delay keys: {', '.join(unknown)} (known: {', '.join(DELAY_KEYS)})")
    for key, value in delays.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < -1:
            raise ValueError(f"{key} must be an integer number of milliseconds, or -1 to hold")
    for key, value in delays.items():
        setattr(settings, DELAY_KEYS[key], value)


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as e:
        raise ConfigError(f"{what} is not valid JSON: {e}") from None


def load(config_path: str | None, env: Mapping[str, str] = os.environ) -> StartupConfig:
    cfg = StartupConfig()
    path = config_path or env.get("EMULATOR_CONFIG")
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                data = _json(f.read(), f"config file {path}")
        except OSError as e:
            raise ConfigError(f"cannot read config file {path}: {e}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"config file {path} must hold a JSON object")
        unknown = sorted(set(data) - {"delays", "jobScript", "faults", "seed", "rateLimit", "jobOutcomes"})
        if unknown:
            raise ConfigError(f"unknown keys in config file {path}: {', '.join(unknown)}")
        if "delays" in data:
            if not isinstance(data["delays"], dict):
                raise ConfigError("delays must be a JSON object")
            cfg.delays = {**cfg.delays, **data["delays"]}
        if "jobScript" in data:
            cfg.job_script = data["jobScript"]
        if "faults" in data:
            cfg.faults = list(data["faults"]) if isinstance(data["faults"], list) else [data["faults"]]
        if "seed" in data:
            cfg.seed = data["seed"]
        if "rateLimit" in data:
            cfg.rate_limit = data["rateLimit"]
        if "jobOutcomes" in data:
            outcomes = data["jobOutcomes"]
            cfg.job_outcomes = list(outcomes) if isinstance(outcomes, list) else [outcomes]

    for name, key in (
        ("EMULATOR_DELAY_CREATE_MS", "createMs"),
        ("EMULATOR_DELAY_START_MS", "startMs"),
        ("EMULATOR_DELAY_STOP_MS", "stopMs"),
        ("EMULATOR_DELAY_CANCEL_MS", "cancelMs"),
    ):
        if env.get(name):
            try:
                cfg.delays[key] = int(env[name])
            except ValueError:
                raise ConfigError(f"{name} must be an integer") from None
    if env.get("EMULATOR_JOB_SCRIPT"):
        cfg.job_script = _json(env["EMULATOR_JOB_SCRIPT"], "EMULATOR_JOB_SCRIPT")
    if env.get("EMULATOR_FAULTS"):
        faults = _json(env["EMULATOR_FAULTS"], "EMULATOR_FAULTS")
        if isinstance(faults, dict) and "rules" in faults:
            if "seed" in faults:
                cfg.seed = faults["seed"]
            faults = faults["rules"]
        cfg.faults = faults if isinstance(faults, list) else [faults]
    if env.get("EMULATOR_FAULT_SEED"):
        try:
            cfg.seed = int(env["EMULATOR_FAULT_SEED"])
        except ValueError:
            raise ConfigError("EMULATOR_FAULT_SEED must be an integer") from None
    if env.get("EMULATOR_RATE_LIMIT"):
        text = env["EMULATOR_RATE_LIMIT"].strip()
        if text.lower() in ("1", "true", "on", "yes"):
            cfg.rate_limit = {"enabled": True}
        elif text.lower() in ("0", "false", "off", "no"):
            cfg.rate_limit = {"enabled": False}
        else:
            cfg.rate_limit = _json(text, "EMULATOR_RATE_LIMIT")
    if env.get("EMULATOR_JOB_OUTCOMES"):
        outcomes = _json(env["EMULATOR_JOB_OUTCOMES"], "EMULATOR_JOB_OUTCOMES")
        cfg.job_outcomes = outcomes if isinstance(outcomes, list) else [outcomes]
    if cfg.seed is not None and (isinstance(cfg.seed, bool) or not isinstance(cfg.seed, int)):
        raise ConfigError("seed must be an integer")
    cfg.check()
    return cfg
