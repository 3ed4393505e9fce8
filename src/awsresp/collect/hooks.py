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

    def call_in(self, region: str, service: str, operation: str, params: Mapping[str, Any]) -> Any:
        """Like call, in another region (a trail's home region, a log group's region)."""

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
    # Operations the hook makes only for what an earlier read found (a detector's details,
    # a hub's standards, a trail's status): the spec-derived minimum leaves them out.
    conditional: tuple[tuple[str, str], ...] = ()


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


def iam_credential_report(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    rows = list(_credential_report(ctx).values())
    return [rows for _ in items]


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


_PRINCIPAL_LISTS = (
    ("UserDetailList", "UserName", "Users"),
    ("GroupDetailList", "GroupName", "Groups"),
    ("RoleDetailList", "RoleName", "Roles"),
)


def iam_aws_managed_policy_attachments(
    ctx: HookContext, items: Sequence[Mapping[str, Any]]
) -> list[Any]:
    """The AWS-managed policies attached to users, groups and roles, each with the names of
    its principals, joined from the GetAccountAuthorizationDetails answer the IAM
    collectors already read (no call of its own; the answer lists AWS-managed policies only
    by name and ARN inside each principal)."""
    pages = ctx.call("iam", "GetAccountAuthorizationDetails", AUTHORIZATION_DETAILS_PARAMS)
    by_arn: dict[str, dict[str, Any]] = {}
    for page in _pages(pages):
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


# --- EC2 and ELBv2: joins across resource types ------------------------------------------


def _pages(answer: Any) -> list[Any]:
    """A cached call's answer as pages (paginated operations answer a list of pages)."""
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


def ec2_vpc_endpoints(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    """Each VPC's endpoints (service name, type, state), from one DescribeVpcEndpoints read
    per region (the same call the ec2.vpc-endpoint collector makes)."""
    if not items:
        return []
    by_vpc: dict[str, list[dict[str, Any]]] = {}
    for page in _pages(ctx.call("ec2", "DescribeVpcEndpoints", {})):
        for endpoint in page.get("VpcEndpoints", []):
            by_vpc.setdefault(str(endpoint.get("VpcId")), []).append(
                {
                    key: endpoint.get(key)
                    for key in ("VpcEndpointId", "ServiceName", "VpcEndpointType", "State")
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
    "iam_aws_managed_policy_attachments": Hook(
        iam_aws_managed_policy_attachments,
        (("iam", "GetAccountAuthorizationDetails"),),
        ("iam:GetAccountAuthorizationDetails",),
    ),
    "iam_user_credentials": Hook(iam_user_credentials, _REPORT_OPS, _REPORT_ACTIONS),
    "iam_credential_report": Hook(iam_credential_report, _REPORT_OPS, _REPORT_ACTIONS),
    "ec2_vpc_flow_logs": Hook(
        ec2_vpc_flow_logs, (("ec2", "DescribeFlowLogs"),), ("ec2:DescribeFlowLogs",)
    ),
    "ec2_vpc_endpoints": Hook(
        ec2_vpc_endpoints, (("ec2", "DescribeVpcEndpoints"),), ("ec2:DescribeVpcEndpoints",)
    ),
    "elbv2_web_acl": Hook(
        elbv2_web_acl, (("wafv2", "GetWebACLForResource"),), ("wafv2:GetWebACLForResource",)
    ),
}


# --- KMS: key aliases; Lambda: subnet zones; DynamoDB: auto scaling; WorkSpaces: IP groups ----


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


def lambda_vpc_zones(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    """The Availability Zones of each function's VPC subnets, sorted and without repeats
    (None for a function outside a VPC). DescribeSubnets is read once per region, and only
    when some function is attached to a VPC."""
    wanted = [
        [str(s) for s in (item.get("VpcConfig") or {}).get("SubnetIds") or []] for item in items
    ]
    if not any(wanted):
        return [None for _ in items]
    zones: dict[str, str] = {}
    for page in _pages(ctx.call("ec2", "DescribeSubnets", {})):
        for subnet in page.get("Subnets", []):
            if subnet.get("AvailabilityZone"):
                zones[str(subnet.get("SubnetId"))] = str(subnet["AvailabilityZone"])
    return [sorted({zones[s] for s in ids if s in zones}) if ids else None for ids in wanted]


def _on_demand(table: Mapping[str, Any]) -> bool:
    return (table.get("BillingModeSummary") or {}).get("BillingMode") == "PAY_PER_REQUEST"


def dynamodb_table_autoscaling(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    """The capacity dimensions registered with Application Auto Scaling for each table and
    each of its global secondary indexes (from the DescribeTable answers the table's own
    detail reads, so no call is repeated). DescribeScalableTargets is read once per region,
    and only when some table has provisioned capacity."""
    tables: list[Mapping[str, Any] | None] = []
    for item in items:
        try:
            answer = ctx.call("dynamodb", "DescribeTable", {"TableName": item["Value"]})
        except ClientError:
            # The table's own Table detail fails with the same error and records it; without
            # the table's indexes its scaling is not known either.
            tables.append(None)
            continue
        tables.append(answer.get("Table", {}))
    targets: dict[str, list[str]] = {}
    if any(t is not None and not _on_demand(t) for t in tables):
        params = {"ServiceNamespace": "dynamodb"}
        for page in _pages(ctx.call("application-autoscaling", "DescribeScalableTargets", params)):
            for target in page.get("ScalableTargets", []):
                targets.setdefault(str(target.get("ResourceId")), []).append(
                    str(target.get("ScalableDimension"))
                )
    out: list[Any] = []
    for item, table in zip(items, tables, strict=True):
        if table is None:
            out.append(None)
            continue
        resource = f"table/{item['Value']}"
        out.append(
            {
                "Table": sorted(targets.get(resource, [])),
                "Indexes": [
                    {
                        "IndexName": index.get("IndexName"),
                        "Dimensions": sorted(
                            targets.get(f"{resource}/index/{index.get('IndexName')}", [])
                        ),
                    }
                    for index in table.get("GlobalSecondaryIndexes") or []
                ],
            }
        )
    return out


HOOKS.update(
    {
        "kms_key_aliases": Hook(kms_key_aliases, (("kms", "ListAliases"),), ("kms:ListAliases",)),
        "dynamodb_table_autoscaling": Hook(
            dynamodb_table_autoscaling,
            (("dynamodb", "DescribeTable"), ("application-autoscaling", "DescribeScalableTargets")),
            ("dynamodb:DescribeTable", "application-autoscaling:DescribeScalableTargets"),
            # DescribeTable is the table detail's own call (same parameters, made once);
            # DescribeScalableTargets only when some table has provisioned capacity.
            conditional=(
                ("dynamodb", "DescribeTable"),
                ("application-autoscaling", "DescribeScalableTargets"),
            ),
        ),
        "lambda_vpc_zones": Hook(
            lambda_vpc_zones,
            (("ec2", "DescribeSubnets"),),
            ("ec2:DescribeSubnets",),
            conditional=(("ec2", "DescribeSubnets"),),  # only when a function is in a VPC
        ),
        "workspaces_directory_ip_groups": Hook(
            workspaces_directory_ip_groups,
            (("workspaces", "DescribeIpGroups"),),
            ("workspaces:DescribeIpGroups",),
            conditional=(("workspaces", "DescribeIpGroups"),),  # only for directories naming groups
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


# --- logging, detection and governance: CloudTrail, metric filters, GuardDuty, Security Hub,
# --- Inspector, Firewall Manager ------------------------------------------------------


def _page_list(answer: Any) -> list[Mapping[str, Any]]:
    return answer if isinstance(answer, list) else [answer]


def _arn_region(arn: str, default: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else default


def _records_all_management_events(selectors: Mapping[str, Any]) -> bool:
    """Whether a trail's (basic or advanced) event selectors log read and write
    management events."""
    for sel in selectors.get("EventSelectors") or []:
        if sel.get("IncludeManagementEvents") and sel.get("ReadWriteType") == "All":
            return True
    for adv in selectors.get("AdvancedEventSelectors") or []:
        fields = {f.get("Field"): f for f in adv.get("FieldSelectors") or []}
        category = fields.get("eventCategory", {})
        if "Management" in (category.get("Equals") or []) and "readOnly" not in fields:
            return True
    return False


def _trail_descriptions(ctx: HookContext) -> list[Mapping[str, Any]]:
    """Every trail of the account: DescribeTrails in the home region answers its own trails
    and every multi-region or organization trail; ListTrails names the single-region trails
    of other regions, which are described in their own home region."""
    described = list(
        ctx.call("cloudtrail", "DescribeTrails", {"includeShadowTrails": True}).get("trailList", [])
    )
    seen = {str(t.get("TrailARN")) for t in described}
    elsewhere: dict[str, set[str]] = {}
    for page in _page_list(ctx.call("cloudtrail", "ListTrails", {})):
        for listed in page.get("Trails", []):
            arn, home = str(listed.get("TrailARN")), listed.get("HomeRegion")
            if arn not in seen and home and home != ctx.region:
                elsewhere.setdefault(str(home), set()).add(arn)
    for home in sorted(elsewhere):
        answer = ctx.call_in(home, "cloudtrail", "DescribeTrails", {"includeShadowTrails": False})
        for trail in answer.get("trailList", []):
            if str(trail.get("TrailARN")) in elsewhere[home]:
                described.append(trail)
    return described


def _trails(ctx: HookContext) -> list[dict[str, Any]]:
    """Every trail of the account, with its status and event selectors read in the
    trail's home region."""
    out = []
    for trail in _trail_descriptions(ctx):
        arn = str(trail.get("TrailARN"))
        home = str(trail.get("HomeRegion") or ctx.region)
        status = ctx.call_in(home, "cloudtrail", "GetTrailStatus", {"Name": arn})
        selectors = ctx.call_in(home, "cloudtrail", "GetEventSelectors", {"TrailName": arn})
        out.append(
            {
                "Name": trail.get("Name"),
                "TrailARN": arn,
                "HomeRegion": home,
                "IsMultiRegionTrail": bool(trail.get("IsMultiRegionTrail")),
                "IsOrganizationTrail": bool(trail.get("IsOrganizationTrail")),
                "IsLogging": bool(status.get("IsLogging")),
                "LogFileValidationEnabled": bool(trail.get("LogFileValidationEnabled")),
                "KmsKeyId": trail.get("KmsKeyId"),
                "S3BucketName": trail.get("S3BucketName"),
                "CloudWatchLogsLogGroupArn": trail.get("CloudWatchLogsLogGroupArn"),
                "LatestCloudWatchLogsDeliveryTime": status.get("LatestCloudWatchLogsDeliveryTime"),
                "LatestCloudWatchLogsDeliveryError": status.get(
                    "LatestCloudWatchLogsDeliveryError"
                ),
                "RecordsAllManagementEvents": _records_all_management_events(selectors),
                # As CloudTrail answers them: data events (S3 object-level logging) are
                # judged by the controls, not here.
                "EventSelectors": selectors.get("EventSelectors") or [],
                "AdvancedEventSelectors": selectors.get("AdvancedEventSelectors") or [],
            }
        )
    return out


def cloudtrail_trails(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    trails = ctx.once("cloudtrail-trails", lambda: _trails(ctx))
    return [trails for _ in items]


_PUBLIC_GRANTEES = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)
_PUBLIC_ACCESS_BLOCK = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)
_NO_PUBLIC_ACCESS_BLOCK = "NoSuchPublicAccessBlockConfiguration"


def _absent_on(code: str, read: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    """A read whose "not configured" error is data (None), as a spec's `absent_on`."""
    try:
        return read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == code:
            return None
        raise


def _account_buckets(ctx: HookContext) -> dict[str, str | None]:
    """The account's buckets and their regions, from the ListBuckets answer the S3
    collector reads (None where the answer carries no region)."""
    buckets: dict[str, str | None] = {}
    for page in _page_list(ctx.call("s3", "ListBuckets", {})):
        for bucket in page.get("Buckets", []):
            buckets[str(bucket.get("Name"))] = bucket.get("BucketRegion")
    return buckets


def _trail_bucket(ctx: HookContext, name: str, region: str | None) -> dict[str, Any]:
    """One of the account's trail buckets: its access logging and what makes it public.
    Each read is the S3 collector's own call (same operation, parameters and region), so
    a scan that also lists S3 reads nothing twice."""
    if not region:
        located = ctx.call("s3", "GetBucketLocation", {"Bucket": name})
        region = str(s3_location_region(located.get("LocationConstraint")))
    params = {"Bucket": name}
    logging = ctx.call_in(region, "s3", "GetBucketLogging", params).get("LoggingEnabled")
    status = _absent_on(
        "NoSuchBucketPolicy", lambda: ctx.call_in(region, "s3", "GetBucketPolicyStatus", params)
    )
    acl = ctx.call_in(region, "s3", "GetBucketAcl", params)
    block = _absent_on(
        _NO_PUBLIC_ACCESS_BLOCK,
        lambda: ctx.call_in(region, "s3", "GetPublicAccessBlock", params),
    )
    grants = sorted(
        {
            str(g.get("Grantee", {}).get("URI"))
            for g in acl.get("Grants", [])
            if g.get("Grantee", {}).get("URI") in _PUBLIC_GRANTEES
        }
    )
    return {
        "Bucket": name,
        "InAccount": True,
        "Region": region,
        "Logging": logging,
        "PolicyIsPublic": bool(((status or {}).get("PolicyStatus") or {}).get("IsPublic")),
        "PublicGrants": grants,
        "BucketPublicAccessBlock": (block or {}).get("PublicAccessBlockConfiguration"),
    }


def _trail_buckets(ctx: HookContext) -> list[dict[str, Any]]:
    names = sorted({str(t["S3BucketName"]) for t in _trails_once(ctx) if t.get("S3BucketName")})
    if not names:
        return []
    owned = _account_buckets(ctx)
    out = []
    account_block: dict[str, Any] | None = None
    if any(name in owned for name in names):
        answer = _absent_on(
            _NO_PUBLIC_ACCESS_BLOCK,
            lambda: ctx.call("s3control", "GetPublicAccessBlock", {"AccountId": ctx.account}),
        )
        account_block = (answer or {}).get("PublicAccessBlockConfiguration") or {}
    for name in names:
        if name not in owned:
            # Another account's bucket (an organization's log archive): that account
            # judges it; it is not read from here.
            out.append({"Bucket": name, "InAccount": False})
            continue
        bucket = _trail_bucket(ctx, name, owned[name])
        own = bucket["BucketPublicAccessBlock"] or {}
        # What AWS enforces: a setting is on when the bucket or the account turns it on.
        bucket["EffectivePublicAccessBlock"] = {
            key: bool(own.get(key)) or bool((account_block or {}).get(key))
            for key in _PUBLIC_ACCESS_BLOCK
        }
        out.append(bucket)
    return out


def cloudtrail_trail_buckets(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    buckets = _trail_buckets(ctx)
    return [buckets for _ in items]


def _sns_subscriptions(ctx: HookContext, topic: str) -> list[dict[str, Any]]:
    """A topic's subscriptions (ARN and protocol; the endpoint, an address, is not kept),
    read in the topic's region."""
    pages = ctx.call_in(
        _arn_region(topic, ctx.region), "sns", "ListSubscriptionsByTopic", {"TopicArn": topic}
    )
    return [
        {"SubscriptionArn": s.get("SubscriptionArn"), "Protocol": s.get("Protocol")}
        for page in _page_list(pages)
        for s in page.get("Subscriptions", [])
    ]


def _alarm(ctx: HookContext, alarm: Mapping[str, Any]) -> dict[str, Any]:
    actions = [str(a) for a in alarm.get("AlarmActions") or []]
    return {
        "AlarmName": alarm.get("AlarmName"),
        "ActionsEnabled": alarm.get("ActionsEnabled"),
        "AlarmActions": actions,
        "SnsSubscriptions": [
            {"TopicArn": topic, **sub}
            for topic in actions
            if topic.split(":")[2:3] == ["sns"]
            for sub in _sns_subscriptions(ctx, topic)
        ],
    }


def _metric_filters(ctx: HookContext) -> dict[str, Any]:
    """The metric filters of every log group a trail delivers to, each with the trails
    that feed the group and the alarms on the filter's metrics (with the subscriptions of
    the SNS topics they notify), read in the log group's region."""
    feeding: dict[str, list[dict[str, Any]]] = {}
    for trail in _trails_once(ctx):
        if trail.get("CloudWatchLogsLogGroupArn"):
            feeding.setdefault(str(trail["CloudWatchLogsLogGroupArn"]), []).append(
                {
                    key: trail.get(key)
                    for key in (
                        "Name",
                        "IsMultiRegionTrail",
                        "IsLogging",
                        "RecordsAllManagementEvents",
                    )
                }
            )
    out: list[dict[str, Any]] = []
    for arn, trails in feeding.items():
        region = _arn_region(arn, ctx.region)
        name = arn.split(":")[6] if len(arn.split(":")) > 6 else arn
        filters = [
            f
            for page in _page_list(
                ctx.call_in(region, "logs", "DescribeMetricFilters", {"logGroupName": name})
            )
            for f in page.get("metricFilters", [])
        ]
        if not filters:
            continue
        alarms = [
            a
            for page in _page_list(ctx.call_in(region, "cloudwatch", "DescribeAlarms", {}))
            for a in page.get("MetricAlarms", [])
        ]
        for filt in filters:
            metrics = {
                (m.get("metricName"), m.get("metricNamespace"))
                for m in filt.get("metricTransformations", [])
            }
            out.append(
                {
                    "LogGroupArn": arn,
                    "LogGroupName": name,
                    "Region": region,
                    "FilterName": filt.get("filterName"),
                    "FilterPattern": filt.get("filterPattern"),
                    "Trails": trails,
                    "Alarms": [
                        _alarm(ctx, a)
                        for a in alarms
                        if (a.get("MetricName"), a.get("Namespace")) in metrics
                    ],
                }
            )
    return {"MetricFilters": out}


def _trails_once(ctx: HookContext) -> list[dict[str, Any]]:
    trails: list[dict[str, Any]] = ctx.once("cloudtrail-trails", lambda: _trails(ctx))
    return trails


def cloudwatch_trail_metric_filters(
    ctx: HookContext, items: Sequence[Mapping[str, Any]]
) -> list[Any]:
    result = _metric_filters(ctx)
    return [result for _ in items]


def _status_of(node: Any, *path: str) -> Any:
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def guardduty_detectors(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    """Each detector with its protection plans: `Features` (with their additional
    configuration, such as the EC2 runtime agent) and the statuses of the older
    `DataSources` answer, which detectors created before features still carry."""
    detectors = []
    for page in _page_list(ctx.call("guardduty", "ListDetectors", {})):
        for detector_id in page.get("DetectorIds", []):
            detail = ctx.call("guardduty", "GetDetector", {"DetectorId": detector_id})
            sources = detail.get("DataSources") or {}
            detectors.append(
                {
                    "DetectorId": detector_id,
                    "Status": detail.get("Status"),
                    "Features": [
                        {
                            "Name": f.get("Name"),
                            "Status": f.get("Status"),
                            "AdditionalConfiguration": [
                                {"Name": a.get("Name"), "Status": a.get("Status")}
                                for a in f.get("AdditionalConfiguration") or []
                            ],
                        }
                        for f in detail.get("Features") or []
                    ],
                    "DataSources": {
                        "S3Logs": _status_of(sources, "S3Logs", "Status"),
                        "KubernetesAuditLogs": _status_of(
                            sources, "Kubernetes", "AuditLogs", "Status"
                        ),
                        "MalwareProtectionEbs": _status_of(
                            sources,
                            "MalwareProtection",
                            "ScanEc2InstanceWithFindings",
                            "EbsVolumes",
                            "Status",
                        ),
                    },
                }
            )
    return [detectors for _ in items]


_NO_HUB = ("InvalidAccessException", "ResourceNotFoundException")


def securityhub_standards(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    """The enabled standards, read only when the region has a hub (without one there are
    none, and AWS refuses the call)."""
    try:
        ctx.call("securityhub", "DescribeHub", {})
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _NO_HUB:
            return [None for _ in items]
        raise
    standards = [
        {"StandardsArn": s.get("StandardsArn"), "StandardsStatus": s.get("StandardsStatus")}
        for page in _page_list(ctx.call("securityhub", "GetEnabledStandards", {}))
        for s in page.get("StandardsSubscriptions", [])
    ]
    return [standards for _ in items]


def config_recorders(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    """The region's configuration recorders, each with its own status joined by name: a
    region can hold a customer recorder and service-linked ones, and "recording" means
    something only for the recorder it belongs to."""
    recorders = ctx.call("config", "DescribeConfigurationRecorders", {}).get(
        "ConfigurationRecorders", []
    )
    statuses = {
        str(s.get("name")): s
        for s in ctx.call("config", "DescribeConfigurationRecorderStatus", {}).get(
            "ConfigurationRecordersStatus", []
        )
    }
    out = []
    for recorder in recorders:
        status = statuses.get(str(recorder.get("name"))) or {}
        out.append(
            {
                **recorder,
                "recording": bool(status.get("recording")),
                "lastStatus": status.get("lastStatus"),
                "lastErrorCode": status.get("lastErrorCode"),
            }
        )
    return [out for _ in items]


def ssm_ec2_instances(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    """The region's EC2 instances and their states, from the DescribeInstances answer the
    EC2 collector reads (no read of its own), for controls that join them with the
    managed instances."""
    instances = [
        {
            "InstanceId": instance.get("InstanceId"),
            "State": (instance.get("State") or {}).get("Name"),
        }
        for page in _page_list(ctx.call("ec2", "DescribeInstances", {}))
        for reservation in page.get("Reservations", [])
        for instance in reservation.get("Instances", [])
    ]
    return [instances for _ in items]


def inspector2_account_status(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    answer = ctx.call("inspector2", "BatchGetAccountStatus", {"accountIds": [ctx.account]})
    for account in answer.get("accounts", []):
        if account.get("accountId") == ctx.account:
            return [account for _ in items]
    # AWS always answers for the caller's own account; an answer without it says nothing.
    failed = answer.get("failedAccounts") or [{}]
    raise ClientError(
        {
            "Error": {
                "Code": str(failed[0].get("errorCode") or "AccountStatusMissing"),
                "Message": str(failed[0].get("errorMessage") or "no status for the account"),
            }
        },
        "BatchGetAccountStatus",
    )


def fms_policies(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    """Firewall Manager policies, each with this account's violators."""
    policies = []
    for page in _page_list(ctx.call("fms", "ListPolicies", {})):
        for policy in page.get("PolicyList", []):
            detail = ctx.call(
                "fms",
                "GetComplianceDetail",
                {"PolicyId": policy.get("PolicyId"), "MemberAccount": ctx.account},
            ).get("PolicyComplianceDetail", {})
            policies.append(
                {
                    "PolicyId": policy.get("PolicyId"),
                    "PolicyName": policy.get("PolicyName"),
                    "SecurityServiceType": policy.get("SecurityServiceType"),
                    "RemediationEnabled": policy.get("RemediationEnabled"),
                    "Violators": detail.get("Violators", []),
                    "EvaluationLimitExceeded": detail.get("EvaluationLimitExceeded"),
                }
            )
    return [policies for _ in items]


# Every trail of the account (cloudtrail_trails), shared by the hooks that start from it.
_TRAIL_OPS = (
    ("cloudtrail", "DescribeTrails"),
    ("cloudtrail", "ListTrails"),
    ("cloudtrail", "GetTrailStatus"),
    ("cloudtrail", "GetEventSelectors"),
)
_TRAIL_ACTIONS = (
    "cloudtrail:DescribeTrails",
    "cloudtrail:ListTrails",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:GetEventSelectors",
)
_TRAIL_CONDITIONAL = (("cloudtrail", "GetTrailStatus"), ("cloudtrail", "GetEventSelectors"))
_TRAIL_BUCKET_OPS = (
    ("s3", "ListBuckets"),
    ("s3", "GetBucketLocation"),
    ("s3", "GetBucketLogging"),
    ("s3", "GetBucketPolicyStatus"),
    ("s3", "GetBucketAcl"),
    ("s3", "GetPublicAccessBlock"),
    ("s3control", "GetPublicAccessBlock"),
)

HOOKS.update(
    {
        "cloudtrail_trails": Hook(
            cloudtrail_trails, _TRAIL_OPS, _TRAIL_ACTIONS, conditional=_TRAIL_CONDITIONAL
        ),
        "cloudwatch_trail_metric_filters": Hook(
            cloudwatch_trail_metric_filters,
            (
                *_TRAIL_OPS,
                ("logs", "DescribeMetricFilters"),
                ("cloudwatch", "DescribeAlarms"),
                ("sns", "ListSubscriptionsByTopic"),
            ),
            (
                *_TRAIL_ACTIONS,
                "logs:DescribeMetricFilters",
                "cloudwatch:DescribeAlarms",
                "sns:ListSubscriptionsByTopic",
            ),
            conditional=(
                *_TRAIL_CONDITIONAL,
                ("logs", "DescribeMetricFilters"),
                ("cloudwatch", "DescribeAlarms"),
                ("sns", "ListSubscriptionsByTopic"),
            ),
        ),
        "cloudtrail_trail_buckets": Hook(
            cloudtrail_trail_buckets,
            (*_TRAIL_OPS, *_TRAIL_BUCKET_OPS),
            (
                *_TRAIL_ACTIONS,
                "s3:ListAllMyBuckets",
                "s3:GetBucketLocation",
                "s3:GetBucketLogging",
                "s3:GetBucketPolicyStatus",
                "s3:GetBucketAcl",
                "s3:GetBucketPublicAccessBlock",
                "s3:GetAccountPublicAccessBlock",
            ),
            # Only for trails that deliver to a bucket.
            conditional=(*_TRAIL_CONDITIONAL, *_TRAIL_BUCKET_OPS),
        ),
        "config_recorders": Hook(
            config_recorders,
            (
                ("config", "DescribeConfigurationRecorders"),
                ("config", "DescribeConfigurationRecorderStatus"),
            ),
            (
                "config:DescribeConfigurationRecorders",
                "config:DescribeConfigurationRecorderStatus",
            ),
        ),
        "ssm_ec2_instances": Hook(
            ssm_ec2_instances, (("ec2", "DescribeInstances"),), ("ec2:DescribeInstances",)
        ),
        "guardduty_detectors": Hook(
            guardduty_detectors,
            (("guardduty", "ListDetectors"), ("guardduty", "GetDetector")),
            ("guardduty:ListDetectors", "guardduty:GetDetector"),
            conditional=(("guardduty", "GetDetector"),),
        ),
        "securityhub_standards": Hook(
            securityhub_standards,
            (("securityhub", "DescribeHub"), ("securityhub", "GetEnabledStandards")),
            ("securityhub:DescribeHub", "securityhub:GetEnabledStandards"),
            conditional=(("securityhub", "GetEnabledStandards"),),
        ),
        "inspector2_account_status": Hook(
            inspector2_account_status,
            (("inspector2", "BatchGetAccountStatus"),),
            ("inspector2:BatchGetAccountStatus",),
        ),
        "fms_policies": Hook(
            fms_policies,
            (("fms", "ListPolicies"), ("fms", "GetComplianceDetail")),
            ("fms:ListPolicies", "fms:GetComplianceDetail"),
            conditional=(("fms", "GetComplianceDetail"),),
        ),
    }
)
