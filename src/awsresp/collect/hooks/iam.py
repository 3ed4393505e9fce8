"""IAM: the credential report (generated, polled and parsed as CSV)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from awsresp.collect.hooks.registry import HookContext, hook

_REPORT_NOT_READY = ("ReportInProgress", "ReportNotPresent", "ReportExpired")


_REPORT_POLL_SECONDS = 1.0


_REPORT_MAX_POLLS = 30


def _report_value(raw: str) -> Any:
    if raw in ("true", "false"):
        return raw == "true"
    if raw in ("N/A", "not_supported", "no_information", ""):
        return None
    return raw


def _fetch_credential_report(ctx: HookContext) -> dict[str, dict[str, Any]]:
    # The report is generated asynchronously by IAM; there is no botocore waiter for it,
    # so this is a bounded poll (about 30 s) and not a retry loop around failures.
    for _ in range(_REPORT_MAX_POLLS):
        ctx.call_uncached("iam", "GenerateCredentialReport", {})
        try:
            content = ctx.call_uncached("iam", "GetCredentialReport", {})["Content"]
            break
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in _REPORT_NOT_READY:
                raise
        time.sleep(_REPORT_POLL_SECONDS)
    else:
        raise ClientError(
            {"Error": {"Code": "ReportInProgress", "Message": "credential report not ready"}},
            "GetCredentialReport",
        )
    text = content.decode("utf-8") if isinstance(content, bytes) else str(content)
    rows = csv.DictReader(io.StringIO(text))
    return {row["user"]: {k: _report_value(v) for k, v in row.items()} for row in rows}


def _credential_report(ctx: HookContext) -> dict[str, dict[str, Any]]:
    report: dict[str, dict[str, Any]] = ctx.once(
        "iam-credential-report", lambda: _fetch_credential_report(ctx)
    )
    return report


@hook("iam", operations=[("iam", "GenerateCredentialReport"), ("iam", "GetCredentialReport")])
def iam_user_credentials(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    report = _credential_report(ctx)
    return [report.get(str(item.get("UserName"))) for item in items]


@hook("iam", operations=[("iam", "GenerateCredentialReport"), ("iam", "GetCredentialReport")])
def iam_credential_report(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    rows = list(_credential_report(ctx).values())
    return [rows for _ in items]
