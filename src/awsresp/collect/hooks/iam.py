"""IAM: the credential report (generated, polled and parsed as CSV), and policy documents
and AWS-managed attachments joined from GetAccountAuthorizationDetails."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from awsresp.collect.hooks.registry import HookContext, hook, pages

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


AUTHORIZATION_DETAILS_PARAMS = {"Filter": ["User", "Role", "Group", "LocalManagedPolicy"]}


@hook("iam", operations=[("iam", "GetAccountAuthorizationDetails")])
def iam_attached_policy_documents(
    ctx: HookContext, items: Sequence[Mapping[str, Any]]
) -> list[Any]:
    """Resolves AttachedManagedPolicies to their default-version documents, from the
    same GetAccountAuthorizationDetails answer the IAM collectors already read (one call).
    AWS-managed policies are not in that answer and keep only their name."""
    answer = ctx.call("iam", "GetAccountAuthorizationDetails", AUTHORIZATION_DETAILS_PARAMS)
    documents: dict[str, Any] = {}
    for page in pages(answer):
        for policy in page.get("Policies", []):
            for version in policy.get("PolicyVersionList", []):
                if version.get("IsDefaultVersion"):
                    documents[policy["Arn"]] = version.get("Document")
    return [
        [
            {
                "PolicyName": attached.get("PolicyName"),
                "PolicyArn": attached.get("PolicyArn"),
                "Document": documents.get(str(attached.get("PolicyArn"))),
            }
            for attached in item.get("AttachedManagedPolicies", [])
        ]
        for item in items
    ]


_PRINCIPAL_LISTS = (
    ("UserDetailList", "UserName", "Users"),
    ("GroupDetailList", "GroupName", "Groups"),
    ("RoleDetailList", "RoleName", "Roles"),
)


@hook("iam", operations=[("iam", "GetAccountAuthorizationDetails")])
def iam_aws_managed_policy_attachments(
    ctx: HookContext, items: Sequence[Mapping[str, Any]]
) -> list[Any]:
    """The AWS-managed policies attached to users, groups and roles, each with the names of
    its principals, joined from the GetAccountAuthorizationDetails answer the IAM
    collectors already read (no call of its own; the answer lists AWS-managed policies only
    by name and ARN inside each principal)."""
    answer = ctx.call("iam", "GetAccountAuthorizationDetails", AUTHORIZATION_DETAILS_PARAMS)
    by_arn: dict[str, dict[str, Any]] = {}
    for page in pages(answer):
        for list_key, name_key, kind in _PRINCIPAL_LISTS:
            for principal in page.get(list_key, []):
                for attached in principal.get("AttachedManagedPolicies", []):
                    arn = str(attached.get("PolicyArn") or "")
                    # arn:<partition>:iam::aws:policy/...: AWS's, not the account's own.
                    if arn.split(":")[4:5] != ["aws"]:
                        continue
                    entry = by_arn.setdefault(
                        arn,
                        {"PolicyName": attached.get("PolicyName"), "PolicyArn": arn}
                        | {k: [] for _l, _n, k in _PRINCIPAL_LISTS},
                    )
                    entry[kind].append(principal.get(name_key))
    attachments = [by_arn[arn] for arn in sorted(by_arn)]
    return [attachments for _ in items]
