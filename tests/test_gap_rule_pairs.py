"""The gap rule on pairs of accounts that differ in one respect (issue 12, DESIGN's gap rule v2):
workload exposure moves service cells and the ranked list; account settings move only the
account row and the cells that show it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from awsresp.collect.session import Target
from awsresp.model import ACCOUNT_ROW, GapKind, ScanResult
from awsresp.scan import Definitions, scan_account

REGION = "us-east-1"
# In-process moto raises NotImplementedError for operations it lacks (Config's rule
# compliance among them), so the pairs use services it implements.
SERVICES = ["iam", "s3", "ec2", "cloudtrail", "cloudwatch", "guardduty", "securityhub"]


def _session(account: str) -> Any:
    """Credentials that act in `account` (moto keeps one backend per account id)."""
    if account == "123456789012":
        return boto3.Session(region_name=REGION)
    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/awsresp-scanner", RoleSessionName="awsresp-test"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )


def _account(session: Any) -> str:
    return str(session.client("sts").get_caller_identity()["Account"])


def _base_estate(session: Any) -> None:
    """The same workload in every account: a data bucket and a log bucket, a VPC whose
    security group allows HTTPS only, one console user."""
    s3 = session.client("s3")
    for name in ("data", "logs"):
        bucket = f"{name}-{_account(session)}"
        s3.create_bucket(Bucket=bucket)
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=BLOCKED)
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    web = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=web,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
             "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )  # fmt: skip
    iam = session.client("iam")
    iam.create_user(UserName="ops")
    iam.create_login_profile(UserName="ops", Password="Correct-Horse-Battery-9")


def _world_open_database(session: Any) -> None:
    ec2 = session.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.1.0.0/16"]}])["Vpcs"][0]
    db = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc["VpcId"])
    ec2.authorize_security_group_ingress(
        GroupId=db["GroupId"],
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
             "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )  # fmt: skip


def _public_bucket(session: Any) -> None:
    s3 = session.client("s3")
    s3.create_bucket(Bucket="public-site", ACL="public-read")


def _account_settings(session: Any) -> None:
    """Baseline settings: a strong password policy, a multi-region trail, GuardDuty."""
    session.client("iam").update_account_password_policy(
        MinimumPasswordLength=16, PasswordReusePrevention=24
    )
    logs = f"logs-{_account(session)}"
    trail = session.client("cloudtrail")
    trail.create_trail(Name="org", S3BucketName=logs, IsMultiRegionTrail=True)
    trail.put_event_selectors(
        TrailName="org", EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}]
    )
    trail.start_logging(Name="org")
    session.client("guardduty").create_detector(Enable=True)


def _scan(account: str) -> ScanResult:
    definitions = Definitions.load().select(SERVICES)
    return scan_account(Target(_session(account)), definitions, [REGION])


def _cells(result: ScanResult) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    return {
        (c.service, c.service_class.value, c.layer.value): (
            c.status.value,
            c.resources,
            c.controlled,
            c.exposed,
            c.weak,
            c.unreadable,
            c.worst,
            c.reason,
        )
        for c in result.cells
    }


BLOCKED = dict.fromkeys(
    ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
)
Setup = Callable[[Any], None]


@pytest.fixture
def pair() -> Iterator[Callable[[list[Setup], list[Setup]], tuple[ScanResult, ScanResult]]]:
    """Two accounts in one moto: the base estate in both, then each one's own setups."""

    def build(first: list[Setup], second: list[Setup]) -> tuple[ScanResult, ScanResult]:
        results = []
        for account, extra in (("123456789012", first), ("210987654321", second)):
            session = _session(account)
            _base_estate(session)
            for setup in extra:
                setup(session)
            results.append(_scan(account))
        return results[0], results[1]

    with mock_aws():
        yield build


def test_workload_exposure_moves_service_cells_and_the_ranked_list(pair: Any) -> None:
    plain, exposed = pair([], [_world_open_database, _public_bucket])
    assert plain.inventory.account != exposed.inventory.account
    before, after = _cells(plain), _cells(exposed)
    changed = {key for key in before if before[key] != after.get(key)}
    assert {(service, layer) for service, _cls, layer in changed} == {
        ("ec2", "network-controls"),
        ("s3", "data"),
        ("s3", "logging-detection"),  # one more bucket without access logs
    }
    network = after[("ec2", "infrastructure", "network-controls")]
    # One exposed group, worst critical (PostgreSQL open to the world, FSBP EC2.19).
    assert (network[3], network[6]) == (1, "critical")
    data = after[("s3", "abstracted", "data")]
    assert (data[3], data[6]) == (1, "critical")  # the public bucket
    # The account rows are the same: nothing about the baseline changed.
    assert {k: v for k, v in before.items() if k[0] == ACCOUNT_ROW} == {
        k: v for k, v in after.items() if k[0] == ACCOUNT_ROW
    }
    # Both exposures are new in the ranked list, both critical: the tie goes to the cell with
    # more units failing (the VPC's groups, endpoints and defaults outnumber two buckets).
    already = {(g.cell.service, g.cell.layer) for g in plain.ranked if g.cell.exposed}
    new = [
        (g.cell.service, g.cell.layer.value, g.cell.worst)
        for g in exposed.ranked
        if g.cell.exposed and (g.cell.service, g.cell.layer) not in already
    ]
    assert new == [("ec2", "network-controls", "critical"), ("s3", "data", "critical")]


def test_account_settings_move_only_the_account_row_and_what_shows_it(pair: Any) -> None:
    bare, configured = pair([], [_account_settings])
    before, after = _cells(bare), _cells(configured)
    changed = {key for key in before if before[key] != after.get(key)}
    assert changed, "the settings must change something"
    for service, cls, layer in changed:
        if service == ACCOUNT_ROW:
            continue
        # A service cell may only change by showing the account row's new status.
        assert before[(service, cls, layer)][-1] == "via-account", (service, layer)
        assert after[(service, cls, layer)][-1] == "via-account", (service, layer)
        assert after[(service, cls, layer)][0] == after[(ACCOUNT_ROW, "abstracted", layer)][0]
    moved = {layer for service, _cls, layer in changed if service == ACCOUNT_ROW}
    assert {"identity-directory", "logging-detection"} <= moved
    gaps_before = {(g.cell.service, g.cell.layer.value) for g in bare.gaps}
    gaps_after = {(g.cell.service, g.cell.layer.value) for g in configured.gaps}
    assert (ACCOUNT_ROW, "logging-detection") in gaps_before - gaps_after
    assert all(g.kind == GapKind.GAP for g in configured.gaps)
