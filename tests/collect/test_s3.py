"""S3: what the bucket controls read (lifecycle, ACL grants, Block Public Access)."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws

from awsresp.collect.executor import Collector
from awsresp.collect.session import Target
from awsresp.collect.specs import load_specs
from awsresp.model import Inventory, Resource

from ..stubs import ACCOUNT, REGION
from .conftest import (
    judge,
)

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def _buckets() -> tuple[dict[str, Resource], Inventory, Target]:
    specs = [s for s in load_specs() if s.service == "s3"]
    target = Target(boto3.Session(region_name=REGION))
    inv = Collector(target, specs, ACCOUNT, "aws", [REGION]).run()
    return {r.id: r for r in inv.resources if r.type == "s3.bucket"}, inv, target


@mock_aws
def test_lifecycle_rules_are_read_and_a_missing_configuration_is_data() -> None:
    s3 = boto3.client("s3", region_name=REGION)
    for name in ("with-rules", "without-rules"):
        s3.create_bucket(Bucket=name)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(
        Bucket="with-rules",
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "old-versions",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                }
            ]
        },
    )
    buckets, inv, target = _buckets()
    (rule,) = buckets["with-rules"].config["Lifecycle"]
    assert (rule["ID"], rule["Status"]) == ("old-versions", "Enabled")
    assert buckets["without-rules"].config["Lifecycle"] is None
    assert not buckets["without-rules"].unreadable and inv.complete
    for control in (
        "data.s3.bucket-lifecycle-configured",
        "data.s3.versioned-bucket-lifecycle-configured",
    ):
        assert judge(control, buckets["with-rules"]) == "pass"
        assert judge(control, buckets["without-rules"]) == "fail"
    # One lifecycle read per bucket.
    assert target.stats.calls[("s3", "GetBucketLifecycleConfiguration")] == 2


@mock_aws
def test_public_write_is_told_from_public_read() -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="site", ACL="public-read")
    s3.create_bucket(Bucket="drop")
    owner = s3.get_bucket_acl(Bucket="drop")["Owner"]["ID"]
    s3.put_bucket_acl(
        Bucket="drop", GrantFullControl=f'id="{owner}"', GrantWrite=f'uri="{ALL_USERS}"'
    )
    s3.create_bucket(Bucket="upload-policy")
    s3.put_bucket_policy(
        Bucket="upload-policy",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:PutObject",
                        "Resource": "arn:aws:s3:::upload-policy/*",
                    }
                ],
            }
        ),
    )
    buckets, _, _ = _buckets()
    write, public = "data.s3.bucket-no-public-write", "data.s3.bucket-not-public"
    assert (judge(public, buckets["site"]), judge(write, buckets["site"])) == ("fail", "pass")
    assert (judge(public, buckets["drop"]), judge(write, buckets["drop"])) == ("fail", "fail")
    assert buckets["upload-policy"].config["PolicyStatus"] == {"IsPublic": True}
    assert judge(write, buckets["upload-policy"]) == "fail"


@mock_aws
def test_bucket_block_public_access_neutralises_public_grants() -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="blocked-site", ACL="public-read")
    s3.put_public_access_block(
        Bucket="blocked-site",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    buckets, _, _ = _buckets()
    assert judge("data.s3.bucket-not-public", buckets["blocked-site"]) == "pass"
