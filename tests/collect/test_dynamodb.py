"""DynamoDB: tables with their settings and the Application Auto Scaling of provisioned ones."""

from __future__ import annotations

from typing import Any

import boto3
from moto import mock_aws

from ..stubs import ACCOUNT, REGION
from .conftest import (
    by_name,
    collect,
    judge,
)

_TABLE_KEY: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
}


_UNITS = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}


@mock_aws
def test_tables_carry_their_arn_and_point_in_time_recovery() -> None:
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    inv, _ = collect({"dynamodb"})
    table = by_name(inv, "dynamodb.table")["orders"]
    assert table.arn == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"
    pitr = table.config["ContinuousBackups"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "DISABLED"
    assert inv.complete


@mock_aws
def test_on_demand_tables_make_no_auto_scaling_read() -> None:
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(TableName="orders", BillingMode="PAY_PER_REQUEST", **_TABLE_KEY)
    inv, target = collect({"dynamodb"})
    table = by_name(inv, "dynamodb.table")["orders"]
    assert table.config["AutoScaling"] is None and "AutoScaling" not in table.unreadable
    assert target.stats.calls[("application-autoscaling", "DescribeScalableTargets")] == 0
    assert target.stats.calls[("dynamodb", "DescribeTable")] == 1
    assert judge("data.dynamodb.table-capacity-scales", table) == "pass"


@mock_aws
def test_provisioned_tables_get_the_scaling_of_the_table_and_each_index() -> None:
    ddb = boto3.client("dynamodb", region_name=REGION)
    index = {
        "IndexName": "by-who",
        "KeySchema": [{"AttributeName": "who", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
        "ProvisionedThroughput": _UNITS,
    }
    ddb.create_table(
        TableName="audit",
        ProvisionedThroughput=_UNITS,
        GlobalSecondaryIndexes=[index],
        KeySchema=_TABLE_KEY["KeySchema"],
        AttributeDefinitions=[
            *_TABLE_KEY["AttributeDefinitions"],
            {"AttributeName": "who", "AttributeType": "S"},
        ],
    )
    ddb.create_table(TableName="sessions", ProvisionedThroughput=_UNITS, **_TABLE_KEY)
    scaling = boto3.client("application-autoscaling", region_name=REGION)
    for resource, dimension in [
        ("table/audit", "dynamodb:table:ReadCapacityUnits"),
        ("table/audit", "dynamodb:table:WriteCapacityUnits"),
        ("table/audit/index/by-who", "dynamodb:index:ReadCapacityUnits"),
    ]:
        scaling.register_scalable_target(
            ServiceNamespace="dynamodb",
            ResourceId=resource,
            ScalableDimension=dimension,
            MinCapacity=1,
            MaxCapacity=10,
        )
    inv, target = collect({"dynamodb"})
    tables = by_name(inv, "dynamodb.table")
    assert sorted(
        (t["Index"] or "", t["ScalableDimension"]) for t in tables["audit"].config["AutoScaling"]
    ) == [
        ("", "dynamodb:table:ReadCapacityUnits"),
        ("", "dynamodb:table:WriteCapacityUnits"),
        ("by-who", "dynamodb:index:ReadCapacityUnits"),
    ]
    assert tables["sessions"].config["AutoScaling"] == []
    # The index's writes are not scaled; the other table has no target at all.
    assert judge("data.dynamodb.table-capacity-scales", tables["audit"]) == "fail"
    assert judge("data.dynamodb.table-capacity-scales", tables["sessions"]) == "fail"
    assert tables["audit"].config["Table"]["GlobalSecondaryIndexes"][0]["IndexName"] == "by-who"
    assert target.stats.calls[("application-autoscaling", "DescribeScalableTargets")] == 1
    assert target.stats.calls[("dynamodb", "DescribeTable")] == 2
    assert inv.complete
