"""Pure functions a spec names to apply to a detail call's result (`transform: parse_json`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def s3_location_region(value: Any) -> Any:
    # GetBucketLocation answers null for us-east-1 and the legacy "EU" for eu-west-1.
    if value in (None, ""):
        return "us-east-1"
    if value == "EU":
        return "eu-west-1"
    return value


def parse_json(value: Any) -> Any:
    # Some answers carry a JSON document as text (S3 bucket policies, KMS key policies).
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def sorted_set(value: Any) -> Any:
    # Values joined from several entries (the zones of a function's subnets), once each.
    if isinstance(value, list):
        return sorted({str(v) for v in value if v is not None})
    return value


# The credential report's words for "nothing": a key never used, MFA's columns for the root
# user, a report column the account has no data for.
_REPORT_NULLS = ("N/A", "not_supported", "no_information", "")


def _report_value(raw: Any) -> Any:
    if raw in ("true", "false"):
        return raw == "true"
    if raw in _REPORT_NULLS:
        return None
    return raw


def credential_report_values(value: Any) -> Any:
    # IAM's credential report (CSV: every value text), a row or a list of rows: "true" and
    # "false" as booleans, its words for "nothing" as null; dates stay ISO 8601 text.
    if isinstance(value, list):
        return [credential_report_values(row) for row in value]
    if isinstance(value, dict):
        return {k: _report_value(v) for k, v in value.items()}
    return value


TRANSFORMS: dict[str, Callable[[Any], Any]] = {
    "s3_location_region": s3_location_region,
    "parse_json": parse_json,
    "sorted_set": sorted_set,
    "credential_report_values": credential_report_values,
}
