"""CloudTrail: every trail read in its home region, data events, and the trail buckets."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from awsresp.collect.session import Target

from ..stubs import ACCOUNT, REGION, answering, collect_only
from .conftest import (
    EU,
    collect_inventory,
    judge,
    make_trail,
    one_fact,
)


def _stub_in(target: Target, service: str, region: str) -> Stubber:
    """A stubbed client where the collector looks for (service, region)."""
    client = boto3.Session(region_name=region).client(service, region_name=region)
    target._clients[(service, region)] = client
    return Stubber(client)


def _trail_answer(name: str, region: str, multi: bool, bucket: str = "logs") -> dict[str, Any]:
    return {
        "Name": name,
        "TrailARN": f"arn:aws:cloudtrail:{region}:{ACCOUNT}:trail/{name}",
        "HomeRegion": region,
        "IsMultiRegionTrail": multi,
        "S3BucketName": bucket,
        "LogFileValidationEnabled": False,
    }


def _listed(*trails: dict[str, Any]) -> dict[str, Any]:
    keys = ("TrailARN", "Name", "HomeRegion")
    return {"Trails": [{k: t[k] for k in keys} for t in trails]}


def _by_arn(answers: dict[str, dict[str, Any]], key: str) -> Any:
    return lambda params: answers[params[key]]


def _home_region_answers(target: Target, main: dict[str, Any], listed: dict[str, Any]) -> None:
    """The home region describes `main` (logging, no selectors); ListTrails says `listed`."""
    answering(
        target,
        "cloudtrail",
        REGION,
        {
            "DescribeTrails": lambda _p: {"trailList": [main]},
            "ListTrails": lambda _p: listed,
            "GetTrailStatus": lambda _p: {"IsLogging": True},
            "GetEventSelectors": lambda _p: {"EventSelectors": []},
        },
    )


def test_single_region_trails_of_other_regions_are_read_in_their_region() -> None:
    # DescribeTrails in the home region answers its own and multi-region trails only;
    # ListTrails names the eu-west-1 trail, which is described (and read) in eu-west-1.
    target = Target(boto3.Session(region_name=REGION))
    main = _trail_answer("main", REGION, True)
    local = _trail_answer("eu-local", EU, False)
    selectors = {
        "AdvancedEventSelectors": [
            {
                "Name": "s3",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                ],
            }
        ]
    }
    us = answering(
        target,
        "cloudtrail",
        REGION,
        {
            "DescribeTrails": lambda _p: {"trailList": [main]},
            "ListTrails": lambda _p: _listed(main, local),
            "GetTrailStatus": _by_arn({main["TrailARN"]: {"IsLogging": True}}, "Name"),
            "GetEventSelectors": lambda _p: {"EventSelectors": []},
        },
    )
    eu = answering(
        target,
        "cloudtrail",
        EU,
        {
            "DescribeTrails": lambda _p: {"trailList": [local]},
            "GetTrailStatus": _by_arn({local["TrailARN"]: {"IsLogging": True}}, "Name"),
            "GetEventSelectors": lambda _p: selectors,
        },
    )
    inv = collect_only(target, "cloudtrail.account", "Trails")
    assert inv.complete, inv.issues
    # The home region describes its trails once (with their shadows); eu-west-1 describes
    # the trail ListTrails added, with the same parameters (a member account's organization
    # trail is a shadow there too).
    assert sorted(op for op, _p in us) == [
        "DescribeTrails",
        "GetEventSelectors",
        "GetTrailStatus",
        "ListTrails",
    ]
    assert sorted(op for op, _p in eu) == ["DescribeTrails", "GetEventSelectors", "GetTrailStatus"]
    assert {"includeShadowTrails": True} in [p for op, p in us + eu if op == "DescribeTrails"]
    fact = one_fact(inv, "cloudtrail.account")
    trails = {t["Name"]: t for t in fact.config["Trails"]}
    assert set(trails) == {"main", "eu-local"} and trails["eu-local"]["HomeRegion"] == EU
    assert trails["eu-local"]["IsMultiRegionTrail"] is False
    assert trails["eu-local"]["AdvancedEventSelectors"][0]["Name"] == "s3"
    assert judge("logging-detection.cloudtrail.trail-logging", fact) == "pass"
    # S3 data events on a single-region trail do not meet CIS 3.8.
    assert judge("logging-detection.cloudtrail.s3-object-write-events", fact) == "fail"


def test_a_trail_its_home_region_does_not_describe_leaves_the_list_unreadable() -> None:
    # A trail ListTrails names that DescribeTrails in its home region does not answer: the
    # list would be short, so it is unreadable (the controls are unknown), never a pass.
    target = Target(boto3.Session(region_name=REGION))
    main = _trail_answer("main", REGION, True)
    gone = _trail_answer("eu-gone", EU, False)
    _home_region_answers(target, main, _listed(main, gone))
    answering(
        target,
        "cloudtrail",
        EU,
        {
            "DescribeTrails": lambda _p: {"trailList": []},
            "GetTrailStatus": lambda _p: {"IsLogging": False},
            "GetEventSelectors": lambda _p: {"EventSelectors": []},
        },
    )
    inv = collect_only(target, "cloudtrail.account", "Trails")
    fact = one_fact(inv, "cloudtrail.account")
    assert fact.config["Trails"] is None and "Trails" in fact.unreadable
    (issue,) = inv.issues
    assert (issue.region, issue.operation, issue.error_code) == (
        EU,
        "DescribeTrails",
        "MissingResult",
    )
    assert issue.message == f"the answer has no entry whose TrailARN is {gone['TrailARN']}"
    assert judge("logging-detection.cloudtrail.trail-logging", fact) == "unknown"


def test_a_denied_listtrails_leaves_the_list_unreadable() -> None:
    target = Target(boto3.Session(region_name=REGION))
    main = _trail_answer("main", REGION, True)

    def denied(_p: dict[str, Any]) -> dict[str, Any]:
        return {"Error": {"Code": "AccessDeniedException", "Message": "no"}}

    stub = _stub_in(target, "cloudtrail", REGION)
    stub.add_response("describe_trails", {"trailList": [main]}, {"includeShadowTrails": True})
    stub.add_client_error("list_trails", "AccessDeniedException", "no", 400)
    with stub:
        inv = collect_only(target, "cloudtrail.account", "Trails", "TrailBuckets")
    fact = one_fact(inv, "cloudtrail.account")
    assert fact.config["Trails"] is None and "Trails" in fact.unreadable
    # The buckets come from the trails: unknown too, never an empty list.
    assert fact.config["TrailBuckets"] is None and "TrailBuckets" in fact.unreadable
    assert judge("logging-detection.cloudtrail.trail-bucket-access-logging", fact) == "unknown"
    (issue,) = inv.issues
    assert (issue.operation, issue.iam_action) == ("ListTrails", "cloudtrail:ListTrails")


def test_a_denied_bucket_listing_leaves_only_the_trail_buckets_unknown() -> None:
    target = Target(boto3.Session(region_name=REGION))
    main = _trail_answer("main", REGION, True)
    _home_region_answers(target, main, _listed(main))

    def denied(_p: dict[str, Any]) -> dict[str, Any]:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "ListBuckets")

    answering(target, "s3", REGION, {"ListBuckets": denied})
    inv = collect_only(target, "cloudtrail.account", "Trails", "TrailBuckets")
    fact = one_fact(inv, "cloudtrail.account")
    assert fact.unreadable == {"TrailBuckets"} and fact.config["TrailBuckets"] is None
    assert judge("logging-detection.cloudtrail.trail-logging", fact) == "pass"
    assert judge("logging-detection.cloudtrail.trail-bucket-not-public", fact) == "unknown"
    (issue,) = inv.issues
    assert (issue.operation, issue.iam_action) == ("ListBuckets", "s3:ListAllMyBuckets")


@mock_aws
def test_s3_data_events_and_cloudwatch_delivery_from_moto() -> None:
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName="g")
    make_trail(REGION, "main", "g", IsMultiRegionTrail=True)
    boto3.client("cloudtrail", region_name=REGION).put_event_selectors(
        TrailName="main",
        AdvancedEventSelectors=[
            {
                "Name": "mgmt",
                "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
            },
            {
                "Name": "s3-writes",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                    {"Field": "readOnly", "Equals": ["false"]},
                ],
            },
        ],
    )
    inv = collect_inventory({"cloudtrail"})
    fact = one_fact(inv, "cloudtrail.account")
    assert judge("logging-detection.cloudtrail.s3-object-write-events", fact) == "pass"
    assert judge("logging-detection.cloudtrail.s3-object-read-events", fact) == "fail"
    (trail,) = fact.config["Trails"]
    # All management events through an advanced selector (records_all_management_events()).
    assert trail["AdvancedEventSelectors"] and not trail["EventSelectors"]
    assert judge("logging-detection.cloudtrail.multi-region-trail-logging", fact) == "pass"
    # moto reports no CloudWatch Logs delivery time: judged on the log group alone.
    assert trail["LatestCloudWatchLogsDeliveryTime"] is None
    assert judge("logging-detection.cloudtrail.cloudwatch-logs-delivery", fact) == "pass"


@mock_aws
def test_trail_buckets_reuse_the_s3_collectors_reads() -> None:
    s3 = boto3.client("s3", region_name=REGION)
    make_trail(REGION, "main", None, IsMultiRegionTrail=True)  # delivers to main-bucket
    s3.create_bucket(Bucket="access-logs", ACL="log-delivery-write")
    s3.put_bucket_logging(
        Bucket="main-bucket",
        BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": "access-logs", "TargetPrefix": "t/"}
        },
    )
    s3.put_bucket_acl(Bucket="main-bucket", ACL="authenticated-read")
    target = Target(boto3.Session(region_name=REGION))
    inv = collect_inventory({"cloudtrail", "s3"}, target=target)
    assert inv.complete, inv.issues
    fact = one_fact(inv, "cloudtrail.account")
    (bucket,) = fact.config["TrailBuckets"]
    # moto's ListBuckets carries no BucketRegion: GetBucketLocation (the S3 collector's) says.
    assert (bucket["Bucket"], bucket["InAccount"], bucket["Region"], bucket["Location"]) == (
        "main-bucket",
        True,
        None,
        REGION,
    )
    assert bucket["Logging"]["TargetBucket"] == "access-logs"
    uris = {g["Grantee"].get("URI") for g in bucket["Grants"]}
    assert "http://acs.amazonaws.com/groups/global/AuthenticatedUsers" in uris
    assert judge("logging-detection.cloudtrail.trail-bucket-access-logging", fact) == "pass"
    assert judge("logging-detection.cloudtrail.trail-bucket-not-public", fact) == "fail"
    # The trail bucket's reads are the S3 collector's: one call per bucket, not two.
    buckets = len([r for r in inv.resources if r.type == "s3.bucket"])
    for op in ("GetBucketLogging", "GetBucketAcl", "GetBucketPolicyStatus", "GetPublicAccessBlock"):
        assert target.stats.calls[("s3", op)] == buckets, op
    assert target.stats.calls[("s3", "ListBuckets")] == 1


@mock_aws
def test_a_trail_bucket_of_another_account_is_named_not_read() -> None:
    make_trail(REGION, "org", None, IsMultiRegionTrail=True)
    # The bucket is gone from this account's listing (as another account's would be).
    boto3.client("s3", region_name=REGION).delete_bucket(Bucket="org-bucket")
    target = Target(boto3.Session(region_name=REGION))
    inv = collect_inventory({"cloudtrail"}, target=target)
    fact = one_fact(inv, "cloudtrail.account")
    (bucket,) = fact.config["TrailBuckets"]
    assert (bucket["Bucket"], bucket["InAccount"]) == ("org-bucket", False)
    assert not any(bucket[k] for k in ("Logging", "PolicyStatus", "Grants", "Location"))
    assert judge("logging-detection.cloudtrail.trail-bucket-access-logging", fact) == (
        "not-applicable"
    )
    assert not any(op.startswith("GetBucket") for _svc, op in target.stats.calls)
