"""CloudTrail: every trail of the account (its own of every region, and every multi-region
and organization trail) with status and selectors read in its home region, and the
buckets they deliver to."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from awsresp.collect.hooks.registry import HookContext, hook, pages
from awsresp.collect.transforms import s3_location_region

TRAIL_OPERATIONS = [
    ("cloudtrail", "DescribeTrails"),
    ("cloudtrail", "ListTrails"),
    ("cloudtrail", "GetTrailStatus"),
    ("cloudtrail", "GetEventSelectors"),
]
# Made only for the trails found.
TRAIL_CONDITIONAL = [("cloudtrail", "GetTrailStatus"), ("cloudtrail", "GetEventSelectors")]
_TRAIL_BUCKET_OPS = [
    ("s3", "ListBuckets"),
    ("s3", "GetBucketLocation"),
    ("s3", "GetBucketLogging"),
    ("s3", "GetBucketPolicyStatus"),
    ("s3", "GetBucketAcl"),
    ("s3", "GetPublicAccessBlock"),
    ("s3control", "GetPublicAccessBlock"),
]


def _trail_descriptions(ctx: HookContext) -> list[Mapping[str, Any]]:
    """Every trail of the account: DescribeTrails in the home region answers its own trails
    and every multi-region or organization trail; ListTrails names the single-region trails
    of other regions, which are described in their own home region."""
    described = list(
        ctx.call("cloudtrail", "DescribeTrails", {"includeShadowTrails": True}).get("trailList", [])
    )
    seen = {str(t.get("TrailARN")) for t in described}
    elsewhere: dict[str, set[str]] = {}
    for page in pages(ctx.call("cloudtrail", "ListTrails", {})):
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
                # As CloudTrail answers them: which selectors log all management events
                # (records_all_management_events()) and data events (S3 object-level
                # logging) is judged by the controls, not here.
                "EventSelectors": selectors.get("EventSelectors") or [],
                "AdvancedEventSelectors": selectors.get("AdvancedEventSelectors") or [],
            }
        )
    return out


@hook("cloudtrail", TRAIL_OPERATIONS, conditional=TRAIL_CONDITIONAL)
def cloudtrail_trails(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    trails = ctx.once("cloudtrail-trails", lambda: _trails(ctx))
    return [trails for _ in items]


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
    for page in pages(ctx.call("s3", "ListBuckets", {})):
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
    return {
        "Bucket": name,
        "InAccount": True,
        "Region": region,
        "Logging": logging,
        # As S3 answers them: what makes the bucket public (a grant to everyone, a public
        # policy that Block Public Access does not neutralize) is the control's to judge.
        "PolicyStatus": (status or {}).get("PolicyStatus"),
        "Grants": [
            {
                "Grantee": {k: v for k, v in g.get("Grantee", {}).items() if k in ("Type", "URI")},
                "Permission": g.get("Permission"),
            }
            for g in acl.get("Grants", [])
        ],
        "BucketPublicAccessBlock": (block or {}).get("PublicAccessBlockConfiguration"),
    }


def _trail_buckets(ctx: HookContext) -> list[dict[str, Any]]:
    names = sorted({str(t["S3BucketName"]) for t in trails_once(ctx) if t.get("S3BucketName")})
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
        # AWS enforces a setting the bucket or the account turns on: both are kept.
        bucket["AccountPublicAccessBlock"] = account_block
        out.append(bucket)
    return out


@hook(
    "cloudtrail",
    [*TRAIL_OPERATIONS, *_TRAIL_BUCKET_OPS],
    # Only for trails that deliver to a bucket.
    conditional=[*TRAIL_CONDITIONAL, *_TRAIL_BUCKET_OPS],
)
def cloudtrail_trail_buckets(ctx: HookContext, items: Sequence[Mapping[str, Any]]) -> list[Any]:
    buckets = _trail_buckets(ctx)
    return [buckets for _ in items]


def trails_once(ctx: HookContext) -> list[dict[str, Any]]:
    trails: list[dict[str, Any]] = ctx.once("cloudtrail-trails", lambda: _trails(ctx))
    return trails
