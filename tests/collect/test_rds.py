"""RDS: instances, and manual snapshots with who may restore them."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws

from ..stubs import ACCOUNT, REGION
from .conftest import (
    by_name,
    collect,
)


@mock_aws
def test_instances_carry_their_exposure_and_backups() -> None:
    rds = boto3.client("rds", region_name=REGION)
    rds.create_db_instance(
        DBInstanceIdentifier="db",
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        MasterUsername="admin",
        MasterUserPassword="unit-test-password",
        PubliclyAccessible=True,
        BackupRetentionPeriod=3,
    )
    inv, _ = collect({"rds"})
    db = by_name(inv, "rds.instance")["db"]
    assert (db.config["PubliclyAccessible"], db.config["BackupRetentionPeriod"]) == (True, 3)
    assert db.arn == f"arn:aws:rds:{REGION}:{ACCOUNT}:db:db"
    assert "unit-test-password" not in json.dumps(db.config)
    assert inv.complete


@mock_aws
def test_rds_lists_manual_snapshots_with_who_may_restore_them() -> None:
    rds = boto3.client("rds", region_name=REGION)
    rds.create_db_instance(
        DBInstanceIdentifier="db",
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        MasterUsername="owner",
        MasterUserPassword="unit-test-password",
    )
    rds.create_db_snapshot(DBInstanceIdentifier="db", DBSnapshotIdentifier="export")
    rds.modify_db_snapshot_attribute(
        DBSnapshotIdentifier="export", AttributeName="restore", ValuesToAdd=["all"]
    )
    rds.create_db_cluster(
        DBClusterIdentifier="aurora",
        Engine="aurora-mysql",
        MasterUsername="owner",
        MasterUserPassword="unit-test-password",
    )
    rds.create_db_cluster_snapshot(DBClusterIdentifier="aurora", DBClusterSnapshotIdentifier="c")
    rds.modify_db_cluster_snapshot_attribute(
        DBClusterSnapshotIdentifier="c", AttributeName="restore", ValuesToAdd=["210987654321"]
    )
    rds.create_event_subscription(
        SubscriptionName="ops",
        SnsTopicArn=f"arn:aws:sns:{REGION}:{ACCOUNT}:ops",
        SourceType="db-instance",
        Enabled=True,
    )
    inv, target = collect({"rds"})
    # moto keeps an automated snapshot of the instance too: automated ones are not listed.
    snapshots = by_name(inv, "rds.snapshot")
    assert list(snapshots) == ["export"]
    assert snapshots["export"].config["Attributes"] == [
        {"AttributeName": "restore", "AttributeValues": ["all"]}
    ]
    assert snapshots["export"].arn == f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:export"
    cluster_snapshot = by_name(inv, "rds.cluster-snapshot")["c"]
    assert cluster_snapshot.config["Attributes"][0]["AttributeValues"] == ["210987654321"]
    # One attribute read per manual snapshot.
    assert target.stats.calls[("rds", "DescribeDBSnapshotAttributes")] == 1
    assert target.stats.calls[("rds", "DescribeDBClusterSnapshotAttributes")] == 1
    # The region's subscriptions are one account fact, read in one call.
    (events,) = (r for r in inv.resources if r.type == "rds.event-subscriptions")
    assert events.account_fact and events.id == f"{ACCOUNT}/{REGION}"
    assert [s["CustSubscriptionId"] for s in events.config["Subscriptions"]] == ["ops"]
    assert target.stats.calls[("rds", "DescribeEventSubscriptions")] == 1
    assert inv.complete
