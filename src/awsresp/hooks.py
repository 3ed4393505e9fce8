"""Named Python hooks for AWS shapes too odd for declarative specs, and value transforms.

A spec names a hook (`hook: iam_credential_report`); the hook declares every operation
it may call so the read-only test and `awsresp policy` see them.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError


class HookContext(Protocol):
    account: str
    partition: str
    region: str

    def call(self, service: str, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """A read call, at most once per scan for the same parameters."""

    def call_uncached(
        self, service: str, operation: str, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A read call made every time (for polling)."""

    def once(self, key: str, compute: Callable[[], Any]) -> Any:
        """Computes a value once per scan, whichever thread asks first."""


# A detail hook returns one value per item, aligned with `items`.
DetailHook = Callable[[HookContext, Sequence[Mapping[str, Any]]], list[Any]]


@dataclass(frozen=True)
class Hook:
    fn: DetailHook
    operations: tuple[tuple[str, str], ...]
    iam_actions: tuple[str, ...]


# --- IAM credential report -------------------------------------------------------------

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


def iam_user_credentials(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    report = _credential_report(ctx)
    return [report.get(str(item.get("UserName"))) for item in items]


def iam_root_credentials(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    root = _credential_report(ctx).get("<root_account>")
    return [root for _ in items]


# --- IAM: documents of the customer-managed policies attached to a principal ----------

AUTHORIZATION_DETAILS_PARAMS = {"Filter": ["User", "Role", "Group", "LocalManagedPolicy"]}


def iam_attached_policy_documents(
    ctx: HookContext, items: Sequence[Mapping[str, Any]]
) -> list[Any]:
    """Resolves AttachedManagedPolicies to their default-version documents, from the
    same GetAccountAuthorizationDetails answer the IAM collectors already read (one call).
    AWS-managed policies are not in that answer and keep only their name."""
    pages = ctx.call("iam", "GetAccountAuthorizationDetails", AUTHORIZATION_DETAILS_PARAMS)
    documents: dict[str, Any] = {}
    for page in pages if isinstance(pages, list) else [pages]:
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


# --- EC2 and ELBv2: joins across resource types ------------------------------------------


def _pages(answer: Any) -> list[Any]:
    return answer if isinstance(answer, list) else [answer]


def ec2_vpc_flow_logs(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    """The flow logs attached to each VPC itself (not to its subnets or interfaces), from
    one DescribeFlowLogs read per region (the same call the ec2.flow-log collector makes)."""
    by_vpc: dict[str, list[dict[str, Any]]] = {}
    for page in _pages(ctx.call("ec2", "DescribeFlowLogs", {})):
        for log in page.get("FlowLogs", []):
            by_vpc.setdefault(str(log.get("ResourceId")), []).append(
                {
                    key: log.get(key)
                    for key in (
                        "FlowLogId",
                        "FlowLogStatus",
                        "DeliverLogsStatus",
                        "TrafficType",
                        "LogDestinationType",
                        "LogDestination",
                        "LogGroupName",
                    )
                }
            )
    return [by_vpc.get(str(item.get("VpcId")), []) for item in items]


def elbv2_web_acl(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    """The WAFv2 web ACL associated with each Application Load Balancer (None when there
    is none). Only ALBs can carry a web ACL, so other load balancers get None unasked."""
    out: list[Any] = []
    for item in items:
        if item.get("Type") != "application":
            out.append(None)
            continue
        answer = ctx.call("wafv2", "GetWebACLForResource", {"ResourceArn": item["LoadBalancerArn"]})
        acl = answer.get("WebACL")
        out.append({k: acl.get(k) for k in ("Name", "Id", "ARN")} if acl else None)
    return out


_REPORT_OPS = (("iam", "GenerateCredentialReport"), ("iam", "GetCredentialReport"))
_REPORT_ACTIONS = ("iam:GenerateCredentialReport", "iam:GetCredentialReport")

HOOKS: dict[str, Hook] = {
    "iam_attached_policy_documents": Hook(
        iam_attached_policy_documents,
        (("iam", "GetAccountAuthorizationDetails"),),
        ("iam:GetAccountAuthorizationDetails",),
    ),
    "iam_user_credentials": Hook(iam_user_credentials, _REPORT_OPS, _REPORT_ACTIONS),
    "iam_root_credentials": Hook(iam_root_credentials, _REPORT_OPS, _REPORT_ACTIONS),
    "ec2_vpc_flow_logs": Hook(
        ec2_vpc_flow_logs, (("ec2", "DescribeFlowLogs"),), ("ec2:DescribeFlowLogs",)
    ),
    "elbv2_web_acl": Hook(
        elbv2_web_acl, (("wafv2", "GetWebACLForResource"),), ("wafv2:GetWebACLForResource",)
    ),
}


# --- KMS: key aliases; WorkSpaces: the IP access groups of a directory -----------------


def _pages(answer: Any) -> list[Mapping[str, Any]]:
    return answer if isinstance(answer, list) else [answer]


def kms_key_aliases(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    """The alias names of each key, from one ListAliases call per region (not one per key)."""
    if not items:
        return []
    by_key: dict[str, list[str]] = {}
    for page in _pages(ctx.call("kms", "ListAliases", {})):
        for alias in page.get("Aliases", []):
            if alias.get("TargetKeyId"):
                by_key.setdefault(str(alias["TargetKeyId"]), []).append(str(alias["AliasName"]))
    return [sorted(by_key.get(str(item.get("KeyId")), [])) for item in items]


def workspaces_directory_ip_groups(
    ctx: HookContext, items: Sequence[Mapping[str, Any]]
) -> list[Any]:
    """The IP access groups (with their rules) each directory names. DescribeIpGroups is
    read once per region, and only when some directory names a group."""
    wanted = [[str(g) for g in item.get("ipGroupIds") or []] for item in items]
    if not any(wanted):
        return [[] for _ in items]
    groups: dict[str, Any] = {}
    for page in _pages(ctx.call("workspaces", "DescribeIpGroups", {})):
        for group in page.get("Result", []):
            groups[str(group.get("groupId"))] = group
    return [[groups.get(gid, {"groupId": gid}) for gid in ids] for ids in wanted]


HOOKS.update(
    {
        "kms_key_aliases": Hook(kms_key_aliases, (("kms", "ListAliases"),), ("kms:ListAliases",)),
        "workspaces_directory_ip_groups": Hook(
            workspaces_directory_ip_groups,
            (("workspaces", "DescribeIpGroups"),),
            ("workspaces:DescribeIpGroups",),
        ),
    }
)


# --- transforms: pure functions applied to a detail call's result -----------------------


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


TRANSFORMS: dict[str, Callable[[Any], Any]] = {
    "s3_location_region": s3_location_region,
    "parse_json": parse_json,
}
