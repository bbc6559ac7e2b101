"""The EMR Serverless API model: botocore's ``emr-serverless/2021-07-13/service-2.json``
of the pinned botocore.

Every request is held against the model's constraints by
``emulator.validation`` in the front layer before it reaches this package,
so the code here can rely on required members being present, on lengths,
patterns, enums and ranges, and on JSON types. Rules the model does not state
(worker sizes, engines, state rules) live in ``emr.rules`` and the backend.
"""

from __future__ import annotations

from botocore.model import ServiceModel

from .. import validation


def service_model() -> ServiceModel:
    return validation.service_model("emr-serverless")


def enum_values(shape: str) -> list[str]:
    return list(service_model().shape_for(shape).enum)
